"""Reads tb-perclass data through TensorBoard's data provider and returns plain Python/NumPy data.

The only module of the plugin that talks to the data provider, so that it works the same on the
Rust data server (`--load_fast=true`, the default) and the Python multiplexer
(`--load_fast=false`). It never opens an event file itself. Decoded series are cached (see
`series`) so that a request for one step costs O(that step), not O(all steps).
"""

from __future__ import annotations

import dataclasses
import logging
import urllib.parse
from typing import Any

import numpy as np
from tensorboard import errors
from tensorboard.data import provider

from tb_perclass import metadata, report
from tb_perclass.plugin.series import (
    ConfusionSeries,
    SamplesSeries,
    SeriesCache,
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
                    if parsed is not None:
                        name, _ = metadata.split_tag(tag)
                        found.setdefault((run, name), {})[parsed.kind] = parsed
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

    def steps(self, ctx: Any, experiment_id: str, run: str, name: str, kind: str) -> np.ndarray:
        """The steps at which (run, name) has data of `kind` (from the cached series)."""
        if kind not in metadata.KINDS:
            raise errors.InvalidArgumentError(f"kind={kind!r}; use one of {', '.join(metadata.KINDS)}")
        return self._series(ctx, experiment_id, run, name, kind).steps

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
        matrices = self._optional_series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
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
            "changes": [
                {"true": int(rows[i]), "pred": int(cols[i]), "before": int(count_before[i]),
                 "after": int(count_after[i]), "delta": int(delta[i])}
                for i in top
            ],  # fmt: skip
        }

    def report(
        self, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
    ) -> tuple[report.ClassificationReport, int, np.ndarray]:
        """The classification report at `step`, its step, and all steps with a matrix."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
        position = _position(series, run, step)
        found_step = int(series.steps[position])
        loss = None
        stats = self._optional_series(ctx, experiment_id, run, name, metadata.KIND_STATS)
        at = None if stats is None else position_of(stats.steps, found_step)
        if at is not None:
            loss = stats.values[at, 0, :]
        return series.report(position, loss), found_step, series.steps

    def order(
        self, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
    ) -> np.ndarray:
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
        return reverse_cuthill_mckee((links + links.T).tocsr(), symmetric_mode=True)

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
        """The kept mistakes at `step` (latest by default) matching `filters` (true, pred,
        label), most confident first or by loss."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_SAMPLES)
        position = _step_position(series, run, step, "kept samples")
        entries = [
            dict(entry)
            for entry in self._manifest(ctx, series, position)
            if all(entry.get(key) == value for key, value in filters.items())
        ]
        if order == "loss":
            entries.sort(key=lambda e: -(e["loss"] if e.get("loss") is not None else -np.inf))
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
        }

    def blob(
        self, ctx: Any, experiment_id: str, run: str, name: str, step: int, index: int
    ) -> tuple[bytes, str]:
        """The bytes of one kept sample and the media type to serve them as."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_SAMPLES)
        position = _step_position(series, run, step, "kept samples")
        entry = next(
            (e for e in self._manifest(ctx, series, position) if e.get("index") == index), None
        )
        keys = series.keys[position]
        if entry is None or not 1 <= index < len(keys):
            raise errors.NotFoundError(
                f"run {run!r} has no sample {index} at step {step}; it kept {len(keys) - 1}"
            )
        media_type = _SERVED_MEDIA.get(entry.get("media"))
        if media_type is None:
            raise errors.NotFoundError(f"sample {index} has an unknown media type")
        return self._provider.read_blob(ctx, blob_key=keys[index]), media_type

    def sample_history(
        self, ctx: Any, experiment_id: str, run: str, name: str, sample_id: str
    ) -> dict[str, Any]:
        """Where a sample (by id) was kept as a mistake, step by step."""
        series = self._series(ctx, experiment_id, run, name, metadata.KIND_SAMPLES)
        history = []
        for position, step in enumerate(series.steps):
            for entry in self._manifest(ctx, series, position):
                if str(entry.get("id")) == sample_id:
                    found = {k: entry.get(k) for k in ("true", "pred", "label", "score", "loss")}
                    history.append({"step": int(step), **found})
        return {
            "run": run,
            "name": name,
            "id": sample_id,
            "steps": series.steps,
            "first_step": history[0]["step"] if history else None,
            "history": history,
        }

    def _manifest(self, ctx: Any, series: SamplesSeries, position: int) -> list:
        return series.manifest(position, lambda key: self._provider.read_blob(ctx, blob_key=key))

    # --- series access ---------------------------------------------------------------------

    def _series(self, ctx: Any, experiment_id: str, run: str, name: str, kind: str) -> Any:
        found = self._optional_series(ctx, experiment_id, run, name, kind)
        if found is None:
            raise errors.NotFoundError(
                f"no per-class {kind} data for run {run!r} and name {name!r}; the tags route "
                "lists what exists"
            )
        return found

    def _optional_series(
        self, ctx: Any, experiment_id: str, run: str, name: str, kind: str
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
        parsed = None if time_series is None else _parse(run, tag, time_series.plugin_content)
        if parsed is None or parsed.kind != kind:
            return None

        def load():
            data = read_series(
                ctx,
                experiment_id=experiment_id,
                plugin_name=metadata.PLUGIN_NAME,
                downsample=ALL_STEPS,
                run_tag_filter=run_tag_filter,
            )
            return _DECODERS[kind].decode(parsed, data.get(run, {}).get(tag, []))

        version = (time_series.max_step, time_series.max_wall_time)
        return self._cache.get((experiment_id, run, tag), version, load)


def _position(series: ConfusionSeries, run: str, step: int | None) -> int:
    return _step_position(series, run, step, "confusion matrix")


def _step_position(series: Any, run: str, step: int | None, what: str) -> int:
    position = position_of(series.steps, step)
    if position is None:
        steps = series.steps
        available = (
            f"it has {len(steps)} steps from {steps.min()} to {steps.max()}"
            if len(steps)
            else "it has none"
        )
        raise errors.NotFoundError(f"run {run!r} has no {what} at step {step}; {available}")
    return position


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
        logger.warning("skipping run %r tag %r: %s", run, tag, error)
        return None
