"""Decoded time series of one (run, tag), and the cache that keeps them between requests.

TensorBoard's data provider has no "read step s": it returns every step of a tag. Decoding a
whole series per request would make the confusion route cost O(steps x nonzeros) each time, so
each series is decoded once into compact arrays and reused until the data provider reports a
newer last step or wall time for it (new data arriving while a run trains).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import json
import threading
from typing import Any, Callable, Hashable

import numpy as np

from tb_perclass import metadata, report
from tb_perclass.metadata import PerClassMetadata


def position_of(steps: np.ndarray, step: int | None) -> int | None:
    """Index of `step` in a series' steps (the latest when None; the last write of a step
    written twice), or None if the series has no such step."""
    if len(steps) == 0:
        return None
    if step is None:
        return len(steps) - 1
    found = np.flatnonzero(steps == step)
    return int(found[-1]) if len(found) else None


@dataclasses.dataclass(frozen=True)
class StatsSeries:
    meta: PerClassMetadata
    steps: np.ndarray  # int64 [S]
    wall_times: np.ndarray  # float64 [S]
    values: np.ndarray  # float64 [S, 5, C]: the rows of metadata.STATS_ROWS
    invalid_targets: np.ndarray  # float64 [S]: elements with an invalid target, per step
    ignored: np.ndarray  # float64 [S]: elements skipped by ignore_index, per step

    @property
    def nbytes(self) -> int:
        return sum(
            a.nbytes
            for a in (self.values, self.steps, self.wall_times, self.invalid_targets, self.ignored)
        )

    @classmethod
    def decode(cls, meta: PerClassMetadata, data: list) -> "StatsSeries":
        # Version 1 wrote [4, C] (no non-finite-outputs row, no extra columns): read as zeros.
        num_classes, extra = meta.num_classes, len(metadata.STATS_EXTRA_COLUMNS)
        v1 = (len(metadata.STATS_ROWS_V1), num_classes)
        v2 = metadata.stats_shape(num_classes)
        points = [d for d in data if d.numpy.shape in (v1, v2)]
        rows = len(metadata.STATS_ROWS)
        values = np.zeros((len(points), rows, num_classes + extra))
        for i, point in enumerate(points):
            array = np.asarray(point.numpy, dtype=np.float64)
            values[i, : array.shape[0], : array.shape[1]] = array
        count = metadata.STATS_ROWS.index("count")
        return cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            values=np.ascontiguousarray(values[:, :, :num_classes]),
            invalid_targets=values[:, count, num_classes],
            ignored=values[:, count, num_classes + 1],
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

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.cells) + sum(c.nbytes for c in self.counts)

    @classmethod
    def decode(cls, meta: PerClassMetadata, data: list) -> "ConfusionSeries":
        num_classes = meta.num_classes
        multilabel = meta.task == metadata.TASK_MULTILABEL
        width = 4 if multilabel else num_classes
        coo = meta.extra.get("encoding") == metadata.ENCODING_COO
        steps, wall_times, cells, counts = [], [], [], []
        for datum in data:
            array = np.asarray(datum.numpy, dtype=np.int64)
            if coo:
                if array.ndim != 2 or array.shape[1] != 3:
                    continue
                index = array[:, 0] * width + array[:, 1]
                order = np.argsort(index, kind="stable")
                index, values = index[order], array[order, 2]
            else:
                expected = (num_classes, 2, 2) if multilabel else (num_classes, num_classes)
                if array.shape != expected:
                    continue
                flat = array.reshape(-1)
                index = np.flatnonzero(flat)
                values = flat[index]
            steps.append(datum.step)
            wall_times.append(datum.wall_time)
            cells.append(index)
            counts.append(values)
        return cls(
            meta=meta,
            steps=np.array(steps, dtype=np.int64),
            wall_times=np.array(wall_times, dtype=np.float64),
            width=width,
            cells=tuple(cells),
            counts=tuple(counts),
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
        """(TP, FP, FN), each [S, C], for precision / recall / F1 curves."""
        num_classes = self.meta.num_classes
        shape = (len(self.steps), num_classes)
        tp, fp, fn = (np.zeros(shape, dtype=np.int64) for _ in range(3))
        for s, (cells, counts) in enumerate(zip(self.cells, self.counts)):
            rows, cols = np.divmod(cells, self.width)
            if self.meta.task == metadata.TASK_MULTILABEL:
                for target, code in ((tp, 3), (fp, 1), (fn, 2)):
                    chosen = cols == code
                    target[s] = np.bincount(rows[chosen], counts[chosen], num_classes)
            else:
                diagonal = rows == cols
                tp[s] = np.bincount(rows[diagonal], counts[diagonal], num_classes)
                fp[s] = np.bincount(cols, counts, num_classes) - tp[s]
                fn[s] = np.bincount(rows, counts, num_classes) - tp[s]
        return tp, fp, fn

    def report(self, position: int, loss: np.ndarray | None) -> report.ClassificationReport:
        return report.classification_report(
            self.matrix(position), self.meta.task, self.meta.class_names, loss
        )


@dataclasses.dataclass(eq=False)
class SamplesSeries:
    """Each step's blob keys (element 0 the manifest, then one per sample); manifests are read
    lazily through `read_blob` and kept (a few KiB each)."""

    meta: PerClassMetadata
    steps: np.ndarray
    wall_times: np.ndarray
    keys: tuple[tuple[str, ...], ...]
    manifests: dict[int, list] = dataclasses.field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(len(k) for keys in self.keys for k in keys) + 4096 * len(self.manifests)

    @classmethod
    def decode(cls, meta: PerClassMetadata, data: list) -> "SamplesSeries":
        points = [d for d in data if len(d.values) >= 1]
        return cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            keys=tuple(tuple(ref.blob_key for ref in d.values) for d in points),
        )

    def manifest(self, position: int, read_blob: Callable[[str], bytes]) -> list:
        if position not in self.manifests:
            entries = json.loads(read_blob(self.keys[position][0]))
            self.manifests[position] = entries if isinstance(entries, list) else []
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
