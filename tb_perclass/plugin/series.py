"""Decoded time series of one (run, tag), and the cache that keeps them between requests.

TensorBoard's data provider has no "read step s": it returns every step of a tag. Decoding a
whole series per request would make the confusion route cost O(steps x nonzeros) each time, so
each series is decoded once into compact arrays and reused until the data provider reports a
newer last step or wall time for it (new data arriving while a run trains).

Every series holds one value per step, in step order: the last one written at that step (see
`last_write_per_step`). Every step is checked as it is decoded (`validation`): a step that breaks
the data contract is left out of the series and listed in its `skipped`, with the reason, and the
others are served.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
from tensorboard import errors

from tb_perclass.format import metadata, metrics, score_metrics
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


@dataclasses.dataclass(frozen=True)
class StatsSeries:
    meta: PerClassMetadata
    steps: np.ndarray  # int64 [S]
    wall_times: np.ndarray  # float64 [S]
    values: np.ndarray  # float64 [S, 5, C]: the rows of metadata.STATS_ROWS
    invalid_targets: np.ndarray  # float64 [S]: elements with an invalid target, per step
    ignored: np.ndarray  # float64 [S]: elements skipped by ignore_index, per step
    skipped: tuple[Skipped, ...] = ()

    @property
    def nbytes(self) -> int:
        return sum(
            a.nbytes
            for a in (self.values, self.steps, self.wall_times, self.invalid_targets, self.ignored)
        )

    @classmethod
    def decode(
        cls, meta: PerClassMetadata, data: list, skipped: Sequence[Skipped] = ()
    ) -> StatsSeries:
        num_classes = meta.num_classes
        data = last_write_per_step(data)
        values, problems = validation.stats_table([d.numpy for d in data], num_classes)
        bad = [
            Skipped(int(data[i].step), metadata.KIND_STATS, problems[i]) for i in sorted(problems)
        ]
        points = data
        if problems:
            kept = [i for i in range(len(data)) if i not in problems]
            points, values = [data[i] for i in kept], values[kept]
        count = metadata.STATS_ROWS.index("count")
        return cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            values=np.ascontiguousarray(values[:, :, :num_classes]),
            invalid_targets=values[:, count, num_classes],
            ignored=values[:, count, num_classes + 1],
            skipped=(*skipped, *bad),
        )


@dataclasses.dataclass(frozen=True, eq=False)
class ConfusionSeries:
    """Every step's nonzero cells as sorted linear indices (true * width + cell) and counts.

    `width` is C for multiclass and binary (the cell is the predicted class) and 4 for
    multilabel (the cell is TN, FP, FN, TP of the row's label)."""

    meta: PerClassMetadata
    steps: np.ndarray
    wall_times: np.ndarray
    width: int
    cells: tuple[np.ndarray, ...]  # per step, sorted int64 linear indices
    counts: tuple[np.ndarray, ...]  # per step, int64 counts
    skipped: tuple[Skipped, ...] = ()

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.cells) + sum(c.nbytes for c in self.counts)

    @classmethod
    def decode(
        cls, meta: PerClassMetadata, data: list, skipped: Sequence[Skipped] = ()
    ) -> ConfusionSeries:
        width = metrics.confusion_width(meta.task, meta.num_classes)
        points, cells, bad = _checked(
            metadata.KIND_CONFUSION,
            last_write_per_step(data),
            lambda d: validation.confusion_cells(d.numpy, meta, width),
        )
        return cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            width=width,
            cells=tuple(index for index, _ in cells),
            counts=tuple(counts for _, counts in cells),
            skipped=(*skipped, *bad),
        )

    def matrix(self, position: int) -> np.ndarray:
        """Dense counts: [C, C], or [L, 2, 2] for multilabel."""
        dense = np.zeros(self.meta.num_classes * self.width, dtype=np.int64)
        dense[self.cells[position]] = self.counts[position]
        if self.meta.task == metadata.TASK_MULTILABEL:
            return dense.reshape(self.meta.num_classes, 2, 2)
        return dense.reshape(self.meta.num_classes, self.width)

    def counts_of(self, position: int, cells: np.ndarray) -> np.ndarray:
        """The counts of the given linear cells at one step (0 where a cell is empty)."""
        have, values = self.cells[position], self.counts[position]
        if len(have) == 0:
            return np.zeros(len(cells), dtype=np.int64)
        where = np.minimum(np.searchsorted(have, cells), len(have) - 1)
        return np.where(have[where] == cells, values[where], 0)

    @functools.cached_property
    def true_false_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(TP, FP, FN), each int64 [S, C], for precision / recall / F1 curves."""
        task, num_classes = self.meta.task, self.meta.num_classes
        per_step = [
            metrics.true_false_counts(cells, counts, task, num_classes)
            for cells, counts in zip(self.cells, self.counts)
        ]
        if not per_step:
            empty = np.zeros((0, num_classes), dtype=np.int64)
            return empty, empty, empty
        tp, fp, fn = (np.stack(counts) for counts in zip(*per_step))
        return tp, fp, fn

    def report(self, position: int, loss: np.ndarray | None) -> metrics.ClassificationReport:
        return metrics.classification_report(
            self.cells[position], self.counts[position], self.meta.task, self.meta.class_names, loss
        )


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
        return sum(c.nbytes for c in self.columns)

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
        return cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            columns=tuple(columns),
            skipped=(*skipped, *bad),
        )

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
        """`per_class` of every step, [S, C] each (empty [0, C] without steps)."""
        per_step = [self.per_class(i) for i in range(len(self.steps))]
        if not per_step:
            return {}
        return {key: np.stack([values[key] for values in per_step]) for key in per_step[0]}


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

        points, blob_keys, bad = _checked(metadata.KIND_SAMPLES, last_write_per_step(data), keys)
        return cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            keys=tuple(blob_keys),
            structural_skips=(*skipped, *bad),
        )

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


class SeriesCache:
    """A small LRU of decoded series, bounded by their size in bytes."""

    def __init__(self, max_bytes: int = 512 * 2**20):
        self._max_bytes = max_bytes
        self._entries: collections.OrderedDict[Hashable, tuple[Hashable, Any]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable, load: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(key)
                return entry[1]
        value = load()  # outside the lock: other requests are served meanwhile
        with self._lock:
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > 1 and self._total_bytes() > self._max_bytes:
                self._entries.popitem(last=False)
        return value

    def _total_bytes(self) -> int:
        return sum(value.nbytes for _, value in self._entries.values())
