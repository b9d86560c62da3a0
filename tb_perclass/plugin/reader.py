"""Reads tb-perclass data through TensorBoard's data provider: the runs and names that have
data (`heads`), and each (run, name, kind) as a decoded, cached series.

The only module of the plugin that talks to the data provider, so that it works the same on the
Rust data server (`--load_fast=true`, the default) and the Python multiplexer
(`--load_fast=false`). It never opens an event file itself. What it decodes is kept in one
cache bounded by bytes (`byte_cache`): a stats tag as a `StatsTable` (every step, read once), a
confusion tag as the index of its steps (version 3: one step per `read_blob`, `confusion_steps`)
or, for versions 1 and 2 that can only be read whole, as compact per-step bytes; so a request
for one step costs O(that step), not O(all steps). The answers of the routes are built from
these by one module per view (`curves`, `confusion`, `report`, `samples`).

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
from tb_perclass.plugin.byte_cache import ByteBudgetCache, release_free_memory
from tb_perclass.plugin.confusion_steps import BlobIndex, ConfusionSteps, LegacySteps
from tb_perclass.plugin.series import (
    DynamicsSamplesSeries,
    DynamicsSeries,
    SamplesSeries,
    ScoresSeries,
    Skipped,
    position_of,
)
from tb_perclass.plugin.stats_table import StatsTable

logger = logging.getLogger(__name__)

# `downsample` is required by the data provider and 0 returns nothing; every step is wanted.
ALL_STEPS = 1_000_000

# Where each kind's tags are listed (True: blob sequences, False: tensors) and how they decode,
# tried in order: confusion tags are blob sequences from version 3 on, tensors before.
_SOURCES = {
    metadata.KIND_STATS: ((False, StatsTable),),
    metadata.KIND_CONFUSION: ((True, BlobIndex), (False, LegacySteps)),
    metadata.KIND_SAMPLES: ((True, SamplesSeries),),
    metadata.KIND_SCORES: ((False, ScoresSeries),),
    metadata.KIND_DYNAMICS: ((metadata.KIND_DYNAMICS in metadata.BLOB_KINDS, DynamicsSeries),),
    metadata.KIND_DYNAMICS_SAMPLES: (
        (metadata.KIND_DYNAMICS_SAMPLES in metadata.BLOB_KINDS, DynamicsSamplesSeries),
    ),
}
# The plugin's cache budget when TensorBoard is not given --perclass_cache_mb.
DEFAULT_CACHE_BYTES = 256 * 2**20
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
    # Changes whenever TensorBoard has new data of the series: the last step and wall time of
    # each kind's tag (the tab fetches a series' curves again only when this changes).
    version: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kinds": list(self.kinds),
            "task": self.task,
            "class_names": list(self.class_names),
            "num_classes": len(self.class_names),
            "loss": self.loss,
            "version": self.version,
        }


class PerClassReader:
    def __init__(self, data_provider: provider.DataProvider, cache: ByteBudgetCache | None = None):
        self._provider = data_provider
        self.cache = cache or ByteBudgetCache(DEFAULT_CACHE_BYTES)

    # --- listing ---------------------------------------------------------------------------

    def heads(self, ctx: Any, experiment_id: str) -> dict[str, dict[str, Head]]:
        """Every (run, name) with tb-perclass data, keyed by run then name."""
        found: dict[tuple[str, str], dict[str, metadata.PerClassMetadata]] = {}
        versions: dict[tuple[str, str], dict[str, str]] = {}
        listings = (
            self._provider.list_tensors(
                ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME
            ),
            self._provider.list_blob_sequences(
                ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME
            ),
            self._provider.list_blob_sequences(
                ctx, experiment_id=experiment_id, plugin_name=metadata.SNAPSHOT_PLUGIN_NAME
            ),
        )
        for listing in listings:
            for run, tags in listing.items():
                for tag, series in tags.items():
                    parsed = _parse(run, tag, series.plugin_content)
                    name, kind = metadata.split_tag(tag)
                    if parsed is not None and parsed.kind == kind:
                        found.setdefault((run, name), {})[kind] = parsed
                        last = f"{kind}:{series.max_step}:{series.max_wall_time!r}"
                        versions.setdefault((run, name), {})[kind] = last
        result: dict[str, dict[str, Head]] = {}
        for (run, name), by_kind in sorted(found.items()):
            first = by_kind.get(metadata.KIND_STATS) or next(iter(by_kind.values()))
            result.setdefault(run, {})[name] = Head(
                kinds=tuple(k for k in metadata.KINDS if k in by_kind),
                task=first.task,
                class_names=first.class_names,
                loss=first.loss,
                version=";".join(v for _, v in sorted(versions[(run, name)].items())),
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

    def optional_series(
        self, ctx: Any, experiment_id: str, run: str, name: str, kind: str
    ) -> Any | None:
        """The decoded series of (run, name, kind), or None when there is none (readable)."""
        return self._optional_series(ctx, experiment_id, run, name, kind)

    def companion(
        self, ctx: Any, experiment_id: str, run: str, name: str, primary: Any, kind: str
    ) -> tuple[Any | None, tuple[Skipped, ...]]:
        """The series of another kind logged with `primary` (same run and name) and its skipped
        steps, when its task and classes are the same; otherwise None, and all its steps as
        skipped (a hand-made or damaged file can give the two kinds different classes)."""
        other = self.optional_series(ctx, experiment_id, run, name, kind)
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
        for blobs, decoder in _SOURCES[kind]:
            found = self._listed(ctx, experiment_id, run, tag, kind, blobs, required)
            if found is None:
                continue
            parsed, time_series = found
            version = (time_series.max_step, time_series.max_wall_time)
            load = self._loader(ctx, experiment_id, run, tag, blobs, parsed, decoder, time_series)
            decoded = self.cache.get((experiment_id, run, tag, decoder.__name__), version, load)
            if kind != metadata.KIND_CONFUSION:
                return decoded
            return ConfusionSteps(
                decoded, self.cache, (experiment_id, run, tag), lambda key: self.read_blob(ctx, key)
            )
        return None

    def _listed(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        kind: str,
        blobs: bool,
        required: bool,
    ) -> tuple[metadata.PerClassMetadata, Any] | None:
        """The parsed metadata and listing of `tag` among blob sequences or tensors, if there."""
        list_series = self._provider.list_blob_sequences if blobs else self._provider.list_tensors
        listing = list_series(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.plugin_name_for(kind),
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
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
        return parsed, time_series

    def _loader(self, ctx, experiment_id, run, tag, blobs, parsed, decoder, time_series):
        """Reads every step of `tag` (for a blob sequence: its keys) and decodes them."""
        read_series = self._provider.read_blob_sequences if blobs else self._provider.read_tensors

        def load():
            try:
                data = read_series(
                    ctx,
                    experiment_id=experiment_id,
                    plugin_name=metadata.plugin_name_for(parsed.kind),
                    downsample=ALL_STEPS,
                    run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
                )
            except Exception as error:
                if isinstance(error, _UNDECODABLE):
                    reason = (
                        f"TensorBoard cannot decode tag {tag!r} ({type(error).__name__}: "
                        f"{error}), so none of its steps can be read (its last is step "
                        f"{time_series.max_step}); rewrite or remove the damaged event file"
                    )
                elif _too_large(error):
                    reason = (
                        f"tag {tag!r} is too large for TensorBoard's data server, which sends "
                        "at most 256 MiB in one answer and has no call that reads part of a tag "
                        f"({_details(error)}; its last step is {time_series.max_step}); start "
                        "TensorBoard with "
                        "--load_fast=false to read it, or write fewer steps (format 3 of "
                        "tb-perclass stores a confusion step in one blob, read one at a time)"
                    )
                else:
                    raise
                logger.warning("run %r: %s", run, reason)
                skipped = Skipped(int(time_series.max_step), parsed.kind, reason)
                return decoder.decode(parsed, [], [skipped])
            decoded = decoder.decode(parsed, data.get(run, {}).get(tag, []))
            del data
            if not blobs:  # every step's tensor read and decoded: give the copies back
                release_free_memory()
            return decoded

        return load

    def manifest(
        self, ctx: Any, series: SamplesSeries, position: int
    ) -> list[dict[str, Any]] | Skipped:
        """The checked entries of one step's samples manifest, or why that step is skipped."""
        return series.manifest(position, lambda key: self.read_blob(ctx, key))

    def snapshot_header(
        self, ctx: Any, series: DynamicsSamplesSeries, position: int
    ) -> dict[str, Any] | Skipped:
        """The checked header of one dynamics snapshot, or why that step is skipped."""
        return series.header(position, lambda key: self.read_blob(ctx, key))

    def read_blob(self, ctx: Any, blob_key: str) -> Any:
        return self._provider.read_blob(ctx, blob_key=blob_key)


def _too_large(error: Exception) -> bool:
    """Whether `error` is the data server's gRPC RESOURCE_EXHAUSTED (an answer over its 256 MiB
    message cap), which TensorBoard passes on untranslated."""
    code = getattr(error, "code", None)
    try:
        status = code() if callable(code) else None
    except Exception:  # not a gRPC error after all
        return False
    return getattr(status, "name", None) == "RESOURCE_EXHAUSTED"


def _details(error: Exception) -> str:
    """The gRPC error's own words (e.g. "Received message larger than max (N vs. 268435456)")."""
    details = getattr(error, "details", None)
    try:
        text = details() if callable(details) else str(error)
    except Exception:
        text = str(error)
    return f"gRPC: {text}"[:300]


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
