"""Reads tb-perclass data through TensorBoard's data provider: the runs and names that have
data (`heads`), and each (run, name, kind) as a decoded, cached series.

The only module of the plugin that talks to the data provider, so that it works the same on the
Rust data server (`--load_fast=true`, the default) and the Python multiplexer
(`--load_fast=false`). It never opens an event file itself. Decoded series are cached (see
`series`) so that a request for one step costs O(that step), not O(all steps). The answers of
the routes are built from these series by one module per view (`curves`, `confusion`,
`report`, `samples`).

Answers built from series data carry `skipped`: the steps left out of the series they used, each
with its kind and the reason (`series.Skipped`, listed by `listed`), so that a damaged step is
named, not hidden.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

from tensorboard import errors
from tensorboard.data import provider

from tb_perclass.format import metadata
from tb_perclass.plugin.series import (
    ConfusionSeries,
    SamplesSeries,
    ScoresSeries,
    SeriesCache,
    Skipped,
    StatsSeries,
    position_of,
)

logger = logging.getLogger(__name__)

# `downsample` is required by the data provider and 0 returns nothing; every step is wanted.
ALL_STEPS = 1_000_000

_DECODERS = {
    metadata.KIND_STATS: StatsSeries,
    metadata.KIND_CONFUSION: ConfusionSeries,
    metadata.KIND_SAMPLES: SamplesSeries,
    metadata.KIND_SCORES: ScoresSeries,
}
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

    def steps(self, ctx: Any, experiment_id: str, run: str, name: str, kind: str) -> dict[str, Any]:
        """The steps at which (run, name) has data of `kind` (from the cached series)."""
        if kind not in metadata.KINDS:
            raise errors.InvalidArgumentError(
                f"kind={kind!r}; use one of {', '.join(metadata.KINDS)}"
            )
        series = self.series(ctx, experiment_id, run, name, kind)
        return {"steps": series.steps, "skipped": listed(series.skipped)}

    # --- series ----------------------------------------------------------------------------

    def series(self, ctx: Any, experiment_id: str, run: str, name: str, kind: str) -> Any:
        """The decoded series of (run, name, kind); 404 saying why when there is none."""
        found = self._optional_series(ctx, experiment_id, run, name, kind, required=True)
        if found is None:
            raise errors.NotFoundError(
                f"no per-class {kind} data for run {run!r} and name {name!r}; the tags route "
                "lists what exists"
            )
        return found

    def companion(
        self, ctx: Any, experiment_id: str, run: str, name: str, primary: Any, kind: str
    ) -> tuple[Any | None, tuple[Skipped, ...]]:
        """The series of another kind logged with `primary` (same run and name) and its skipped
        steps, when its task and classes are the same; otherwise None, and all its steps as
        skipped (a hand-made or damaged file can give the two kinds different classes)."""
        other = self._optional_series(ctx, experiment_id, run, name, kind)
        if other is None:
            return None, ()
        if (other.meta.task, other.meta.class_names) == (
            primary.meta.task,
            primary.meta.class_names,
        ):
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

    def manifest(
        self, ctx: Any, series: SamplesSeries, position: int
    ) -> list[dict[str, Any]] | Skipped:
        """The checked entries of one step's samples manifest, or why that step is skipped."""
        return series.manifest(position, lambda key: self.read_blob(ctx, key))

    def read_blob(self, ctx: Any, blob_key: str) -> Any:
        return self._provider.read_blob(ctx, blob_key=blob_key)


def listed(skipped: Iterable[Skipped]) -> list[dict[str, Any]]:
    """The `skipped` entries of an answer."""
    return [entry.as_dict() for entry in skipped]


def step_position(series: Any, run: str, step: int | None, what: str) -> int:
    """The position of `step` (the latest when None) in `series`; 404 saying why when absent."""
    position = position_of(series.steps, step)
    if position is None:
        raise errors.NotFoundError(missing(series, run, step, what))
    return position


def missing(series: Any, run: str, step: int | None, what: str) -> str:
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
        return (
            f"run {run!r} has no readable {what} at step {step}: it was skipped because "
            f"{reasons[-1]}"
        )
    steps = series.steps
    available = (
        f"it has {len(steps)} steps from {steps.min()} to {steps.max()}"
        if len(steps)
        else "it has none"
    )
    return f"run {run!r} has no {what} at step {step}; {available}"


def _parse(run: str, tag: str, content: bytes) -> metadata.PerClassMetadata | None:
    try:
        return metadata.parse_plugin_content(content)
    except ValueError as error:
        if (run, tag) not in _WARNED:  # the tags route asks on every reload of the tab
            _WARNED.add((run, tag))
            logger.warning("skipping run %r tag %r: %s", run, tag, error)
        return None


_WARNED: set[tuple[str, str]] = set()
