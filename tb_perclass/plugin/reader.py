"""Reads tb-perclass data through TensorBoard's data provider and returns plain Python/NumPy data.

The only module of the plugin that talks to the data provider, so that it works the same on the
Rust data server (`--load_fast=true`, the default) and the Python multiplexer
(`--load_fast=false`). It never opens an event file itself. Decoded series are cached (see
`series`) so that a request for one step costs O(that step), not O(all steps).

Answers built from series data carry `skipped`: the steps left out of the series they used, each
with its kind and the reason (`series.Skipped`), so that a damaged step is named, not hidden.
"""

from __future__ import annotations

import dataclasses
import logging
import urllib.parse
from typing import Any, Iterable

import numpy as np
from tensorboard import errors
from tensorboard.data import provider

from tb_perclass import metadata, report
from tb_perclass.plugin.series import (
    ConfusionSeries,
    SamplesSeries,
    SeriesCache,
    Skipped,
    StatsSeries,
    position_of,
)
from tb_perclass.stats import perclass

logger = logging.getLogger(__name__)

# `downsample` is required by the data provider and 0 returns nothing; every step is wanted.
ALL_STEPS = 1_000_000

_DECODERS = {
    metadata.KIND_STATS: StatsSeries,
    metadata.KIND_CONFUSION: ConfusionSeries,
    metadata.KIND_SAMPLES: SamplesSeries,
}
# Media types a sample blob may be served as; anything else in a manifest is refused.
_SERVED_MEDIA = {"image/png": "image/png", "text/plain": "text/plain; charset=utf-8"}
# What TensorBoard's own tensor decoding (`tensor_util.make_ndarray`, inside `read_tensors` on
# both loading paths) raises for a tensor whose bytes do not fit its dtype and shape: it fails
# for the whole tag, and the data provider has no call that reads the other steps.
_UNDECODABLE = (ValueError, TypeError, IndexError, KeyError, OverflowError, MemoryError)


@dataclasses.dataclass(frozen=True)
class Head:
    """What one run logged under one name: the kinds present and their (shared) metadata."""

    kinds: tuple[str, ...]
    task: str
    class_names: tuple[str, ...]
    loss: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kinds": list(self.kinds),
            "task": self.task,
            "class_names": list(self.class_names),
            "num_classes": len(self.class_names),
            "loss": self.loss,
        }


class PerClassReader:
    def __init__(self, data_provider: provider.DataProvider, cache: SeriesCache | None = None):
        self._provider = data_provider
        self._cache = cache or SeriesCache()

    # --- listing ---------------------------------------------------------------------------

    def heads(self, ctx: Any, experiment_id: str) -> dict[str, dict[str, Head]]:
        """Every (run, name) with tb-perclass data, keyed by run then name."""
        found: dict[tuple[str, str], dict[str, metadata.PerClassMetadata]] = {}
        listings = (
            self._provider.list_tensors(
                ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME
            ),
            self._provider.list_blob_sequences(
                ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME
            ),
        )
        for listing in listings:
            for run, tags in listing.items():
                for tag, series in tags.items():
                    parsed = _parse(run, tag, series.plugin_content)
                    name, kind = metadata.split_tag(tag)
                    if parsed is not None and parsed.kind == kind:
                        found.setdefault((run, name), {})[kind] = parsed
        result: dict[str, dict[str, Head]] = {}
        for (run, name), by_kind in sorted(found.items()):
            first = by_kind.get(metadata.KIND_STATS) or next(iter(by_kind.values()))
            result.setdefault(run, {})[name] = Head(
                kinds=tuple(k for k in metadata.KINDS if k in by_kind),
                task=first.task,
                class_names=first.class_names,
                loss=first.loss,
            )
        return result

    def steps(
        self, ctx: Any, experiment_id: str, run: str, name: str, kind: str
    ) -> dict[str, Any]:
        """The steps at which (run, name) has data of `kind` (from the cached series)."""
        if kind not in metadata.KINDS:
            raise errors.InvalidArgumentError(f"kind={kind!r}; use one of {', '.join(metadata.KINDS)}")
        series = self._series(ctx, experiment_id, run, name, kind)
        return {"steps": series.steps, "skipped": _listed(series.skipped)}

    # --- curves ----------------------------------------------------------------------------

    def curves(self, ctx: Any, experiment_id: str, run: str, name: str) -> dict[str, Any]:
        """Per-class loss, count, accuracy and non-finite counts at every step of (run, name),
        plus TP/FP/FN per class and step when the run records confusion counts."""
        stats = self._series(ctx, experiment_id, run, name, metadata.KIND_STATS)
        values = stats.values
        result = {
            "run": run,
            "name": name,
            "task": stats.meta.task,
            "loss_name": stats.meta.loss,
            "class_names": list(stats.meta.class_names),
            "steps": stats.steps,
            "wall_times": stats.wall_times,
            "loss": values[:, 0, :],
            "count": values[:, 1, :].astype(np.int64),
            "accuracy": perclass.accuracy(values[:, 2, :], values[:, 1, :]),
            "nonfinite": values[:, 3, :].astype(np.int64),
            "nonfinite_outputs": values[:, 4, :].astype(np.int64),
            "invalid_targets": stats.invalid_targets.astype(np.int64),
            "ignored": stats.ignored.astype(np.int64),
        }
        matrices, skipped = self._companion(
            ctx, experiment_id, run, name, stats, metadata.KIND_CONFUSION
        )
        result["skipped"] = _listed(stats.skipped + skipped)
        if matrices is not None:
            # Aligned with the stats steps; NaN (null) where a step has no confusion counts.
            positions = {int(step): i for i, step in enumerate(matrices.steps)}
            for key, counts in zip(("tp", "fp", "fn"), matrices.true_false_counts):
                aligned = np.full(values.shape[::2], np.nan)
                for row, step in enumerate(stats.steps):
                    if int(step) in positions:
                        aligned[row] = counts[positions[int(step)]]
                result[key] = aligned
        return result

    # --- confusion -------------------------------------------------------------------------

    def confusion(
        self, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
    ) -> dict[str, Any]:
        """The confusion counts of one step (the latest when `step` is None)."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
        position = _position(series, run, step)
        result = {
            "run": run,
            "name": name,
            "task": series.meta.task,
            "step": int(series.steps[position]),
            "steps": series.steps,
            "class_names": list(series.meta.class_names),
            "skipped": _listed(series.skipped),
        }
        counts = series.counts[position]
        if series.meta.task == metadata.TASK_MULTILABEL:
            matrices = series.matrix(position)
            # Samples counted for the label with most (labels may differ with ignore_index).
            totals = matrices.sum(axis=(1, 2))
            result.update(encoding="dense", matrices=matrices, total=int(totals.max(initial=0)))
            return result
        result["total"] = int(counts.sum())
        if series.meta.extra.get("encoding") == metadata.ENCODING_COO:
            rows, cols = np.divmod(series.cells[position], series.width)
            result.update(encoding="sparse", rows=rows, cols=cols, counts=counts)
        else:
            result.update(encoding="dense", matrix=series.matrix(position))
        return result

    def pairs(
        self, ctx: Any, experiment_id: str, run: str, name: str, step: int | None, limit: int
    ) -> dict[str, Any]:
        """The largest off-diagonal cells at `step`, each with its count at every step."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
        if series.meta.task == metadata.TASK_MULTILABEL:
            raise errors.InvalidArgumentError(
                "most-confused pairs are for multiclass and binary runs; a multilabel run has "
                "one 2x2 matrix per label (see the confusion route)"
            )
        position = _position(series, run, step)
        cells, counts = series.cells[position], series.counts[position]
        rows, cols = np.divmod(cells, series.width)
        off = rows != cols
        cells, counts = cells[off], counts[off]
        top = np.lexsort((cells, -counts))[:limit]  # by count, ties by (true, predicted)
        chosen = cells[top]
        history = np.stack([series.counts_of(s, chosen) for s in range(len(series.steps))], 1)
        true, predicted = np.divmod(chosen, series.width)
        return {
            "run": run,
            "name": name,
            "step": int(series.steps[position]),
            "steps": series.steps,
            "class_names": list(series.meta.class_names),
            "skipped": _listed(series.skipped),
            "pairs": [
                {"true": int(t), "pred": int(p), "count": int(c), "history": h}
                for t, p, c, h in zip(true, predicted, counts[top], history)
            ],
        }

    def diff(
        self,
        ctx: Any,
        experiment_id: str,
        name: str,
        run: str,
        step: int | None,
        base_run: str,
        base_step: int | None,
        limit: int,
    ) -> dict[str, Any]:
        """Counts of run@step minus base_run@base_step, nonzero cells only, and the cells that
        changed most. Both runs must have the same task and classes."""
        after = self._series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
        before = self._series(ctx, experiment_id, base_run, name, metadata.KIND_CONFUSION)
        _check_comparable(run, after.meta, base_run, before.meta)
        a, b = _position(after, run, step), _position(before, base_run, base_step)
        cells = np.union1d(after.cells[a], before.cells[b])
        count_after, count_before = after.counts_of(a, cells), before.counts_of(b, cells)
        delta = count_after - count_before
        changed = delta != 0
        cells, delta = cells[changed], delta[changed]
        count_after, count_before = count_after[changed], count_before[changed]
        rows, cols = np.divmod(cells, after.width)
        top = np.lexsort((cells, -np.abs(delta)))[:limit]
        return {
            "name": name,
            "task": after.meta.task,
            "run": run,
            "step": int(after.steps[a]),
            "base_run": base_run,
            "base_step": int(before.steps[b]),
            "class_names": list(after.meta.class_names),
            "rows": rows,
            "cols": cols,
            "deltas": delta,
            "skipped": _listed(
                after.skipped
                if base_run == run
                else _of_run(run, after.skipped) + _of_run(base_run, before.skipped)
            ),
            "changes": [
                {"true": int(rows[i]), "pred": int(cols[i]), "before": int(count_before[i]),
                 "after": int(count_after[i]), "delta": int(delta[i])}
                for i in top
            ],  # fmt: skip
        }

    def report(
        self, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
    ) -> ReportAt:
        """The classification report at `step` (the latest by default), with the loss per class
        at that step when the stats have it."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
        position = _position(series, run, step)
        found_step = int(series.steps[position])
        loss = None
        stats, skipped = self._companion(
            ctx, experiment_id, run, name, series, metadata.KIND_STATS
        )
        at = None if stats is None else position_of(stats.steps, found_step)
        if at is not None:
            loss = stats.values[at, 0, :]
        return ReportAt(
            report=series.report(position, loss),
            step=found_step,
            steps=series.steps,
            skipped=_listed(series.skipped + skipped),
        )

    def order(
        self, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
    ) -> dict[str, Any]:
        """Classes ordered so that classes confused with each other sit together: reverse
        Cuthill-McKee (SciPy) on the symmetrised off-diagonal counts at `step`."""
        try:
            from scipy.sparse import csr_matrix
            from scipy.sparse.csgraph import reverse_cuthill_mckee
        except ImportError:
            raise errors.InvalidArgumentError(
                "the clustered class order needs SciPy in TensorBoard's environment: "
                "pip install scipy"
            ) from None
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
        if series.meta.task == metadata.TASK_MULTILABEL:
            raise errors.InvalidArgumentError("a clustered order needs a multiclass matrix")
        position = _position(series, run, step)
        rows, cols = np.divmod(series.cells[position], series.width)
        off = rows != cols
        size = series.meta.num_classes
        links = csr_matrix((series.counts[position][off], (rows[off], cols[off])), (size, size))
        order = reverse_cuthill_mckee((links + links.T).tocsr(), symmetric_mode=True)
        return {"order": order, "skipped": _listed(series.skipped)}

    # --- samples ---------------------------------------------------------------------------

    def samples(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        name: str,
        step: int | None,
        filters: dict[str, int],
        order: str,
    ) -> dict[str, Any]:
        """The kept mistakes at `step` (the latest readable one by default) matching `filters`
        (true, pred, label), most confident first or by loss."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_SAMPLES)
        position, manifest = self._readable_samples(ctx, series, run, step)
        entries = [
            dict(entry)
            for entry in manifest
            if all(entry.get(key) == value for key, value in filters.items())
        ]
        if order == "loss":
            entries.sort(key=lambda e: -(e["loss"] if e["loss"] is not None else -np.inf))
        found_step = int(series.steps[position])
        version = repr(float(series.wall_times[position]))
        for entry in entries:
            entry["blob"] = "blob?" + urllib.parse.urlencode(
                {"run": run, "name": name, "step": found_step, "index": entry["index"], "v": version}
            )
        return {
            "run": run,
            "name": name,
            "task": series.meta.task,
            "step": found_step,
            "steps": series.steps,
            "class_names": list(series.meta.class_names),
            # The writer's caps (absent from summaries written before they were recorded).
            "samples_per_cell": series.meta.extra.get("samples_per_cell"),
            "max_samples": series.meta.extra.get("max_samples"),
            "samples": entries,
            "skipped": _listed(series.skipped),
        }

    def blob(
        self, ctx: Any, experiment_id: str, run: str, name: str, step: int, index: int
    ) -> tuple[bytes, str]:
        """The bytes of one kept sample and the media type to serve them as."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_SAMPLES)
        position, manifest = self._readable_samples(ctx, series, run, step)
        entry = next((e for e in manifest if e["index"] == index), None)
        if entry is None:
            raise errors.NotFoundError(
                f"run {run!r} has no sample {index} at step {step}; it kept {len(manifest)}"
            )
        media_type = _SERVED_MEDIA.get(entry["media"])
        if media_type is None:
            raise errors.NotFoundError(f"sample {index} has an unknown media type")
        data = self._provider.read_blob(ctx, blob_key=series.keys[position][index])
        if not isinstance(data, bytes):  # checked manifest, but a sample of another dtype
            raise errors.NotFoundError(f"sample {index} at step {step} is not stored as bytes")
        return data, media_type

    def sample_history(
        self, ctx: Any, experiment_id: str, run: str, name: str, sample_id: str
    ) -> dict[str, Any]:
        """Where a sample (by id) was kept as a mistake, step by step (every step's manifest is
        read; a bad one is skipped, not fatal)."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_SAMPLES)
        history = []
        for position, step in enumerate(series.steps):
            manifest = self._manifest(ctx, series, position)
            if isinstance(manifest, Skipped):
                continue
            for entry in manifest:
                if entry["id"] is not None and str(entry["id"]) == sample_id:
                    found = {k: entry.get(k) for k in ("true", "pred", "label", "score", "loss")}
                    history.append({"step": int(step), **found})
        return {
            "run": run,
            "name": name,
            "id": sample_id,
            "steps": series.steps,
            "first_step": history[0]["step"] if history else None,
            "history": history,
            "skipped": _listed(series.skipped),
        }

    def _readable_samples(
        self, ctx: Any, series: SamplesSeries, run: str, step: int | None
    ) -> tuple[int, list[dict[str, Any]]]:
        """The position and manifest of `step`, or of the latest step whose manifest is
        readable when `step` is None."""
        if step is None:
            for position in reversed(range(len(series.steps))):
                manifest = self._manifest(ctx, series, position)
                if not isinstance(manifest, Skipped):
                    return position, manifest
            raise errors.NotFoundError(_missing(series, run, None, "kept samples"))
        position = _step_position(series, run, step, "kept samples")
        manifest = self._manifest(ctx, series, position)
        if isinstance(manifest, Skipped):
            raise errors.NotFoundError(_missing(series, run, step, "kept samples"))
        return position, manifest

    def _manifest(
        self, ctx: Any, series: SamplesSeries, position: int
    ) -> list[dict[str, Any]] | Skipped:
        return series.manifest(position, lambda key: self._provider.read_blob(ctx, blob_key=key))

    # --- series access ---------------------------------------------------------------------

    def _series(self, ctx: Any, experiment_id: str, run: str, name: str, kind: str) -> Any:
        found = self._optional_series(ctx, experiment_id, run, name, kind, required=True)
        if found is None:
            raise errors.NotFoundError(
                f"no per-class {kind} data for run {run!r} and name {name!r}; the tags route "
                "lists what exists"
            )
        return found

    def _companion(
        self, ctx: Any, experiment_id: str, run: str, name: str, primary: Any, kind: str
    ) -> tuple[Any | None, tuple[Skipped, ...]]:
        """The series of another kind logged with `primary` (same run and name) and its skipped
        steps, when its task and classes are the same; otherwise None, and all its steps as
        skipped (a hand-made or damaged file can give the two kinds different classes)."""
        other = self._optional_series(ctx, experiment_id, run, name, kind)
        if other is None:
            return None, ()
        if (other.meta.task, other.meta.class_names) == (primary.meta.task, primary.meta.class_names):
            return other, other.skipped
        named = " named differently" if other.meta.num_classes == primary.meta.num_classes else ""
        reason = (
            f"the {kind} data has task {other.meta.task!r} and {other.meta.num_classes} classes "
            f"but the {primary.meta.kind} data has {primary.meta.task!r} and "
            f"{primary.meta.num_classes}{named}; the two are not combined"
        )
        return None, other.skipped + tuple(Skipped(int(step), kind, reason) for step in other.steps)

    def _optional_series(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        name: str,
        kind: str,
        required: bool = False,
    ) -> Any | None:
        tag = metadata.tag_for(name, kind)
        run_tag_filter = provider.RunTagFilter(runs=[run], tags=[tag])
        blobs = kind == metadata.KIND_SAMPLES
        list_series = self._provider.list_blob_sequences if blobs else self._provider.list_tensors
        read_series = self._provider.read_blob_sequences if blobs else self._provider.read_tensors
        listing = list_series(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PLUGIN_NAME,
            run_tag_filter=run_tag_filter,
        )
        time_series = listing.get(run, {}).get(tag)
        if time_series is None:
            return None
        try:
            parsed = metadata.parse_plugin_content(time_series.plugin_content)
        except ValueError as error:
            if required:
                raise errors.NotFoundError(
                    f"run {run!r} has tag {tag!r}, but this version cannot read its metadata: "
                    f"{error}"
                ) from None
            return None
        if parsed.kind != kind:
            if required:
                raise errors.NotFoundError(
                    f"run {run!r} has tag {tag!r}, but its metadata says kind {parsed.kind!r}"
                )
            return None

        def load():
            try:
                data = read_series(
                    ctx,
                    experiment_id=experiment_id,
                    plugin_name=metadata.PLUGIN_NAME,
                    downsample=ALL_STEPS,
                    run_tag_filter=run_tag_filter,
                )
            except _UNDECODABLE as error:
                reason = (
                    f"TensorBoard cannot decode tag {tag!r} ({type(error).__name__}: {error}), so "
                    f"none of its steps can be read (its last is step {time_series.max_step}); "
                    "rewrite or remove the damaged event file"
                )
                logger.warning("run %r: %s", run, reason)
                skipped = Skipped(int(time_series.max_step), kind, reason)
                return _DECODERS[kind].decode(parsed, [], [skipped])
            return _DECODERS[kind].decode(parsed, data.get(run, {}).get(tag, []))

        version = (time_series.max_step, time_series.max_wall_time)
        return self._cache.get((experiment_id, run, tag), version, load)


@dataclasses.dataclass(frozen=True)
class ReportAt:
    """The classification report of one step, and what the report route lists with it."""

    report: report.ClassificationReport
    step: int
    steps: np.ndarray
    skipped: list[dict[str, Any]]


def _listed(skipped: Iterable[Skipped]) -> list[dict[str, Any]]:
    return [entry.as_dict() for entry in skipped]


def _of_run(run: str, skipped: Iterable[Skipped]) -> tuple[Skipped, ...]:
    """`skipped` of one of two runs in an answer, the run named in each reason."""
    return tuple(dataclasses.replace(s, reason=f"run {run!r}: {s.reason}") for s in skipped)


def _position(series: ConfusionSeries, run: str, step: int | None) -> int:
    return _step_position(series, run, step, "confusion matrix")


def _step_position(series: Any, run: str, step: int | None, what: str) -> int:
    position = position_of(series.steps, step)
    if position is None:
        raise errors.NotFoundError(_missing(series, run, step, what))
    return position


def _missing(series: Any, run: str, step: int | None, what: str) -> str:
    """Why `run` has no (readable) `what` at `step`, or at all when `step` is None."""
    skipped = series.skipped
    if step is None:
        if not skipped:
            return f"run {run!r} has no {what}"
        last = skipped[-1]
        return (
            f"run {run!r} has no readable {what}: {len(skipped)} steps were skipped, the last "
            f"(step {last.step}) because {last.reason}"
        )
    reasons = [s.reason for s in skipped if s.step == step]
    if reasons:
        return f"run {run!r} has no readable {what} at step {step}: it was skipped because {reasons[-1]}"
    steps = series.steps
    available = f"it has {len(steps)} steps from {steps.min()} to {steps.max()}" if len(steps) else "it has none"
    return f"run {run!r} has no {what} at step {step}; {available}"


def _check_comparable(
    run: str, meta: metadata.PerClassMetadata, base_run: str, base: metadata.PerClassMetadata
) -> None:
    if meta.task != base.task:
        raise errors.InvalidArgumentError(
            f"run {run!r} is {meta.task} and run {base_run!r} is {base.task}; a diff needs two "
            "runs of one task"
        )
    if meta.class_names != base.class_names:
        if meta.num_classes != base.num_classes:
            detail = f"{meta.num_classes} classes against {base.num_classes}"
        else:
            i = next(i for i, (x, y) in enumerate(zip(meta.class_names, base.class_names)) if x != y)
            detail = f"class {i} is {meta.class_names[i]!r} in one and {base.class_names[i]!r} in the other"
        raise errors.InvalidArgumentError(
            f"runs {run!r} and {base_run!r} have different classes ({detail}); a diff needs the "
            "same classes in the same order"
        )


def _parse(run: str, tag: str, content: bytes) -> metadata.PerClassMetadata | None:
    try:
        return metadata.parse_plugin_content(content)
    except ValueError as error:
        if (run, tag) not in _WARNED:  # the tags route asks on every reload of the tab
            _WARNED.add((run, tag))
            logger.warning("skipping run %r tag %r: %s", run, tag, error)
        return None


_WARNED: set[tuple[str, str]] = set()
