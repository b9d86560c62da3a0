"""What every decoded series shares, and the samples series.

Every series holds one value per step, in step order: the last one written at that step (see
`last_write_per_step`). Every step is checked as it is decoded (`validation`): a step that breaks
the data contract is left out of the series and listed in its `skipped`, with the reason, and the
others are served. The stats and confusion series are `stats_table.StatsTable` and
`confusion_steps.ConfusionSteps`; the reader keeps them in its `byte_cache`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from tensorboard import errors

from tb_perclass.format import metadata, score_metrics
from tb_perclass.format.metadata import PerClassMetadata
from tb_perclass.format.score_tensor import ScoreColumns
from tb_perclass.plugin import validation


def last_write_per_step(data: Sequence[Any]) -> list[Any]:
    """The data points of a tag in step order, one per step: the last one written at that step.

    The two loading paths differ in what they hand over when a run writes a step again or goes
    back to a lower step (a run resumed from an earlier checkpoint). The data server keeps the last
    value of a repeated step and takes a lower step as a restart, dropping the values above it;
    the Python multiplexer (`--load_fast=false`) passes every value on, in file order. Without
    this, that path would draw curves backwards and count a step twice. With it both paths agree
    on a repeated step; after a restart the multiplexer path still shows the earlier values
    above the restart step until the run writes those steps again. Blob sequences (samples)
    arrive one per step on both paths already: the multiplexer keeps the first write there, as
    its `read_blob` finds a blob by step.
    """
    if all(a.step < b.step for a, b in zip(data, data[1:])):
        return list(data)  # the usual case, and always on the data server
    latest = {int(datum.step): datum for datum in data}  # later writes replace earlier ones
    return [latest[step] for step in sorted(latest)]


def position_of(steps: np.ndarray, step: int | None) -> int | None:
    """Index of `step` in a series' steps (the latest when None), or None if the series has no
    such step."""
    if len(steps) == 0:
        return None
    if step is None:
        return len(steps) - 1
    found = np.flatnonzero(steps == step)
    return int(found[0]) if len(found) else None


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A step left out of a series, and why: an entry of a route answer's `skipped` list."""

    step: int
    kind: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "kind": self.kind, "reason": self.reason}


def _checked(
    kind: str, data: Iterable[Any], check: Callable[[Any], Any]
) -> tuple[list[Any], list[Any], list[Skipped]]:
    """The data points `check` accepts, what it returned for each, and the rest as Skipped."""
    kept, values, skipped = [], [], []
    for datum in data:
        try:
            values.append(check(datum))
        except validation.Malformed as error:
            skipped.append(Skipped(int(datum.step), kind, str(error)))
        else:
            kept.append(datum)
    return kept, values, skipped


def keyed_steps(
    kind: str, data: Sequence[Any], keys_of: Callable[[Any], Any]
) -> tuple[np.ndarray, np.ndarray, tuple[Any, ...], list[Skipped]]:
    """The steps, wall times and blob keys (`keys_of` each data point) of a blob-sequence tag,
    one per step, and the points `keys_of` finds malformed."""
    points, keys, bad = _checked(kind, last_write_per_step(data), keys_of)
    steps = np.array([d.step for d in points], dtype=np.int64)
    return steps, np.array([d.wall_time for d in points], dtype=np.float64), tuple(keys), bad


# The per-class values the curves route takes over the steps (`ScoresSeries.over_steps`).
OVER_STEPS = ("ap", "auroc", "ece", "top_k_hits")


@dataclasses.dataclass(frozen=True, eq=False)
class ScoresSeries:
    """Every step's score histograms as checked columns (`score_tensor.ScoreColumns`), and
    per-class series over the steps computed from them once (AP, AUROC, ECE, top-k hits).

    Binary tags hold the positive class's histograms (one row); its series and answers are
    given for both classes: the negative class ranks by 1 - p, so it has the same AUROC and
    ECE, and its own AP."""

    meta: PerClassMetadata
    steps: np.ndarray
    wall_times: np.ndarray
    columns: tuple[ScoreColumns, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def nbytes(self) -> int:
        """What the series holds: each step's columns (`ScoreColumns.nbytes`), the series over
        the steps (computed when decoded, so that the size does not grow once cached), steps and
        wall times."""
        over = self.__dict__.get("over_steps", {})
        return (
            sum(c.nbytes for c in self.columns)
            + sum(a.nbytes for a in over.values())
            + self.steps.nbytes
            + self.wall_times.nbytes
        )

    @property
    def top_k(self) -> int:
        return int(self.meta.extra.get("top_k", 0))

    @classmethod
    def decode(
        cls, meta: PerClassMetadata, data: list, skipped: Sequence[Skipped] = ()
    ) -> ScoresSeries:
        points, columns, bad = _checked(
            metadata.KIND_SCORES,
            last_write_per_step(data),
            lambda d: validation.score_columns(d.numpy, meta),
        )
        series = cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            columns=tuple(columns),
            skipped=(*skipped, *bad),
        )
        series.over_steps  # noqa: B018 - computed now, so that `nbytes` is final when cached
        return series

    def per_class(self, position: int) -> dict[str, np.ndarray]:
        """One step's per-class values, [C] each: ap, ap_bound, auroc, auroc_bound, ece,
        signed_error (mean confidence - accuracy), positives, negatives, and top_k_hits when
        recorded."""
        columns = self.columns[position]
        ranked = columns.metrics
        calibration = columns.calibration()
        values = {
            "ap": ranked.average_precision,
            "ap_bound": ranked.average_precision_bound,
            "auroc": ranked.auroc,
            "auroc_bound": ranked.auroc_bound,
            "ece": calibration.expected_error(),
            "signed_error": calibration.signed_error(),
            "positives": ranked.positives,
            "negatives": ranked.negatives,
        }
        if self.meta.task == metadata.TASK_BINARY:
            values = _both_binary_classes(columns, values)
        if columns.top_k is not None:
            values["top_k_hits"] = columns.top_k.astype(np.float64)
        return values

    @functools.cached_property
    def over_steps(self) -> dict[str, np.ndarray]:
        """What the curves draw of `per_class` at every step, [S, C] each: ap, auroc, ece and
        top_k_hits when recorded (empty without steps)."""
        per_step = [self.per_class(i) for i in range(len(self.steps))]
        if not per_step:
            return {}
        keys = [key for key in OVER_STEPS if key in per_step[0]]
        return {key: np.stack([values[key] for values in per_step]) for key in keys}


def _both_binary_classes(columns: ScoreColumns, positive: dict[str, np.ndarray]) -> dict:
    """Binary: the positive class's values, and the negative class's (it ranks by 1 - p: the
    histograms reversed, positives and negatives swapped)."""
    counts = columns.counts()
    neg, pos = counts.positives[:, ::-1], counts.negatives[:, ::-1]
    negative = {
        "ap": score_metrics.average_precision(pos, neg),
        "ap_bound": score_metrics.average_precision_bound(pos, neg),
        "signed_error": -positive["signed_error"],  # (1 - conf) - (1 - acc)
        "positives": pos.sum(-1),
        "negatives": neg.sum(-1),
    }
    return {
        key: np.concatenate([negative.get(key, value), value]) for key, value in positive.items()
    }


@dataclasses.dataclass(eq=False)
class SamplesSeries:
    """Each step's blob keys (element 0 the manifest, then one per sample). Manifests are read
    through `read_blob` and checked when a step is first asked for (reading every one up front
    would cost a data-server round trip per step), then kept (a few KiB each), bad ones too."""

    meta: PerClassMetadata
    steps: np.ndarray
    wall_times: np.ndarray
    keys: tuple[tuple[str, ...], ...]
    structural_skips: tuple[Skipped, ...] = ()
    manifests: dict[int, list[dict[str, Any]] | Skipped] = dataclasses.field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(len(k) for keys in self.keys for k in keys) + 4096 * len(self.manifests)

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        """Steps without a manifest, and the manifests found bad so far."""
        bad = (m for m in list(self.manifests.values()) if isinstance(m, Skipped))
        return (*self.structural_skips, *sorted(bad, key=lambda s: s.step))

    @classmethod
    def decode(
        cls, meta: PerClassMetadata, data: list, skipped: Sequence[Skipped] = ()
    ) -> SamplesSeries:
        def keys(datum: Any) -> tuple[str, ...]:
            if not datum.values:
                raise validation.Malformed(
                    "samples record has no manifest (an empty blob sequence)"
                )
            return tuple(ref.blob_key for ref in datum.values)

        steps, wall_times, blob_keys, bad = keyed_steps(metadata.KIND_SAMPLES, data, keys)
        return cls(meta, steps, wall_times, blob_keys, structural_skips=(*skipped, *bad))

    def manifest(
        self, position: int, read_blob: Callable[[str], bytes]
    ) -> list[dict[str, Any]] | Skipped:
        """The checked entries of one step's manifest, or why that step is skipped."""
        if position not in self.manifests:
            keys = self.keys[position]
            try:
                entries: Any = validation.manifest_entries(
                    read_blob(keys[0]), self.meta, len(keys) - 1
                )
            except validation.Malformed as error:
                entries = Skipped(int(self.steps[position]), metadata.KIND_SAMPLES, str(error))
            except errors.NotFoundError as error:
                reason = f"samples manifest cannot be read ({error})"
                entries = Skipped(int(self.steps[position]), metadata.KIND_SAMPLES, reason)
            self.manifests[position] = entries
        return self.manifests[position]


@dataclasses.dataclass(frozen=True)
class DynamicsSeries:
    """Each step's counts of tracked samples, int64 [S, 6, C + 4] (`metadata.DYNAMICS_ROWS`,
    then the extra columns in the first row)."""

    meta: PerClassMetadata
    steps: np.ndarray
    wall_times: np.ndarray
    values: np.ndarray
    skipped: tuple[Skipped, ...] = ()

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.steps.nbytes + self.wall_times.nbytes

    @classmethod
    def decode(
        cls, meta: PerClassMetadata, data: list, skipped: Sequence[Skipped] = ()
    ) -> DynamicsSeries:
        points, values, bad = _checked(
            metadata.KIND_DYNAMICS,
            last_write_per_step(data),
            lambda d: validation.dynamics_counts(d.numpy, meta.num_classes),
        )
        shape = (0, *metadata.dynamics_shape(meta.num_classes))
        return cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            values=np.stack(values) if values else np.zeros(shape, dtype=np.int64),
            skipped=(*skipped, *bad),
        )


@dataclasses.dataclass(eq=False)
class DynamicsSamplesSeries:
    """Each kept snapshot's blob keys (element 0 the header, 1 the map, 2 the entries, then
    thumbnails). TensorBoard keeps only the last few snapshots (`metadata.SNAPSHOTS_KEPT`).
    A header is read and checked when its step is first asked for, and kept; its sections are
    decoded per request (the answers cache what they derive)."""

    meta: PerClassMetadata
    steps: np.ndarray
    wall_times: np.ndarray
    keys: tuple[tuple[str, ...], ...]
    structural_skips: tuple[Skipped, ...] = ()
    headers: dict[int, dict[str, Any] | Skipped] = dataclasses.field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(len(k) for keys in self.keys for k in keys) + 4096 * len(self.headers)

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        bad = (h for h in list(self.headers.values()) if isinstance(h, Skipped))
        return (*self.structural_skips, *sorted(bad, key=lambda s: s.step))

    @classmethod
    def decode(
        cls, meta: PerClassMetadata, data: list, skipped: Sequence[Skipped] = ()
    ) -> DynamicsSamplesSeries:
        def keys(datum: Any) -> tuple[str, ...]:
            if len(datum.values) < 3:
                raise validation.Malformed(
                    f"dynamics snapshot has {len(datum.values)} elements; a header, the map and "
                    "the entries take 3"
                )
            return tuple(ref.blob_key for ref in datum.values)

        points, blob_keys, bad = _checked(
            metadata.KIND_DYNAMICS_SAMPLES, last_write_per_step(data), keys
        )
        return cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            keys=tuple(blob_keys),
            structural_skips=(*skipped, *bad),
        )

    def header(self, position: int, read_blob: Callable[[str], bytes]) -> dict[str, Any] | Skipped:
        """The checked header of one snapshot, or why that step is skipped."""
        if position not in self.headers:
            keys = self.keys[position]
            step = int(self.steps[position])
            try:
                found: Any = validation.snapshot_header(read_blob(keys[0]), self.meta, len(keys))
            except validation.Malformed as error:
                found = Skipped(step, metadata.KIND_DYNAMICS_SAMPLES, str(error))
            except errors.NotFoundError as error:
                reason = f"dynamics snapshot header cannot be read ({error})"
                found = Skipped(step, metadata.KIND_DYNAMICS_SAMPLES, reason)
            self.headers[position] = found
        return self.headers[position]
