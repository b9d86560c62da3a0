"""One step of a `confusion` tag at a time: what the confusion, pairs, diff and order routes read.

Version 3 writes each step's counts as one blob (`sparse_counts` bytes) in a blob sequence, so
a step is read with `read_blob` without touching the others: the tag's index (steps, wall
times, blob keys) comes from `read_blob_sequences`, which returns keys only, and each decoded
step is cached on its own (about 100 KB at 12k nonzero cells). Reading several steps (the
history of the most-confused pairs) fetches them concurrently: the data server answers each
call after a fixed stall of tens of milliseconds, which concurrent calls overlap.

Versions 1 and 2 wrote confusion counts as tensors, dense [C, C] / [L, 2, 2] or int64 COO
triplets [nnz, 3], readable only all steps at once: they are read once, kept compact (the same
sparse bytes per step) if they fit the cache, and decoded step by step from there.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from typing import Any, Callable, Sequence

import numpy as np

from tb_perclass import metadata, sparse_counts
from tb_perclass.metadata import PerClassMetadata
from tb_perclass.plugin.byte_cache import ByteBudgetCache
from tb_perclass.plugin.stats_table import smallest_unsigned

# Concurrent read_blob calls when a request needs many steps.
READ_WORKERS = 8


@dataclasses.dataclass(frozen=True, eq=False)
class Counts:
    """One step's nonzero cells: sorted linear indices (true * width + cell) and their counts."""

    cells: np.ndarray  # int32 (int64 beyond 2**31 cells)
    counts: np.ndarray  # the smallest unsigned dtype that holds them
    width: int

    @property
    def nbytes(self) -> int:
        return self.cells.nbytes + self.counts.nbytes

    @classmethod
    def from_bytes(cls, data: bytes) -> "Counts":
        cells, counts, width = sparse_counts.decode(data)
        index_type = np.int32 if (len(cells) == 0 or cells[-1] < 2**31) else np.int64
        return cls(cells.astype(index_type), smallest_unsigned(counts), width)

    def counts_of(self, cells: np.ndarray) -> np.ndarray:
        """The counts of the given linear cells (0 where a cell is empty)."""
        if len(self.cells) == 0:
            return np.zeros(len(cells), dtype=np.int64)
        where = np.minimum(np.searchsorted(self.cells, cells), len(self.cells) - 1)
        return np.where(self.cells[where] == cells, self.counts[where].astype(np.int64), 0)

    def dense(self, rows: int) -> np.ndarray:
        matrix = np.zeros(rows * self.width, dtype=np.int64)
        matrix[self.cells] = self.counts
        return matrix.reshape(rows, self.width)


@dataclasses.dataclass(frozen=True, eq=False)
class BlobIndex:
    """A version-3 tag's steps and the blob key of each step's counts."""

    steps: np.ndarray
    wall_times: np.ndarray
    keys: tuple[str, ...]

    @property
    def nbytes(self) -> int:
        return self.steps.nbytes + self.wall_times.nbytes + sum(len(k) + 49 for k in self.keys)

    @classmethod
    def decode(cls, data: Sequence[Any]) -> "BlobIndex":
        points = [d for d in data if len(d.values) >= 1]
        return cls(
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            keys=tuple(d.values[0].blob_key for d in points),
        )


@dataclasses.dataclass(frozen=True, eq=False)
class LegacySteps:
    """Every step of a version-1/2 tag, each step's counts as `sparse_counts` bytes."""

    steps: np.ndarray
    wall_times: np.ndarray
    blobs: tuple[bytes, ...]

    @property
    def nbytes(self) -> int:
        return self.steps.nbytes + self.wall_times.nbytes + sum(len(b) + 33 for b in self.blobs)

    @classmethod
    def decode(cls, meta: PerClassMetadata, data: Sequence[Any]) -> "LegacySteps":
        steps, wall_times, blobs = [], [], []
        for datum in data:
            encoded = legacy_step_bytes(meta, datum.numpy)
            if encoded is None:
                continue
            steps.append(datum.step)
            wall_times.append(datum.wall_time)
            blobs.append(encoded)
        return cls(
            np.array(steps, dtype=np.int64), np.array(wall_times, dtype=np.float64), tuple(blobs)
        )


def confusion_width(meta: PerClassMetadata) -> int:
    return 4 if meta.task == metadata.TASK_MULTILABEL else meta.num_classes


def legacy_step_bytes(meta: PerClassMetadata, array: np.ndarray) -> bytes | None:
    """A version-1/2 confusion tensor (dense, or int64 COO [nnz, 3]) as sparse bytes; None for a
    malformed step (wrong shape, negative counts, cells outside the matrix)."""
    classes, width = meta.num_classes, confusion_width(meta)
    if array.dtype == object and array.size == 1 and isinstance(array.reshape(-1)[0], bytes):
        return array.reshape(-1)[0]  # a version-3 step under a tag a version-2 writer began
    if array.dtype.kind not in "iu":
        return None
    array = array.astype(np.int64, copy=False)
    if meta.extra.get("encoding") == metadata.ENCODING_COO:
        if array.ndim != 2 or array.shape[1] != 3 or (array < 0).any():
            return None
        true, predicted, counts = array.T
        if (true >= classes).any() or (predicted >= width).any():
            return None
        cells = true * width + predicted
        # a cell listed twice is summed, as a dense matrix would hold it
        cells, inverse = np.unique(cells, return_inverse=True)
        totals = np.bincount(inverse, counts, len(cells)).astype(np.int64)
        nonzero = totals > 0
        return sparse_counts.encode(cells[nonzero], totals[nonzero], width)
    expected = (classes, 2, 2) if meta.task == metadata.TASK_MULTILABEL else (classes, classes)
    if array.shape != expected or (array < 0).any():
        return None
    return sparse_counts.encode_dense(array)


@dataclasses.dataclass(frozen=True, eq=False)
class History:
    """The nonzero cells of a fixed sample of a tag's steps, for the most-confused pairs'
    history: each step's sorted cells (int32 where they fit) and counts, concatenated."""

    positions: np.ndarray  # the sampled positions, increasing
    offsets: np.ndarray  # int64 [len(positions) + 1]: step k's cells are [offsets[k], offsets[k+1])
    cells: np.ndarray
    counts: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.positions, self.offsets, self.cells, self.counts))

    @classmethod
    def of(cls, positions: Sequence[int], steps: Sequence[Counts]) -> "History":
        sizes = [len(c.cells) for c in steps]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        cells = np.concatenate([c.cells for c in steps]) if steps else np.zeros(0, np.int32)
        counts = np.concatenate([c.counts for c in steps]) if steps else np.zeros(0, np.uint8)
        return cls(np.asarray(positions, dtype=np.int64), offsets, cells, smallest_unsigned(counts))

    def counts_of(self, cells: np.ndarray) -> np.ndarray:
        """int64 [len(cells), len(positions)]: each cell's count at each sampled step."""
        result = np.zeros((len(cells), len(self.positions)), dtype=np.int64)
        cells = np.asarray(cells, dtype=self.cells.dtype)
        for k in range(len(self.positions)):
            have = self.cells[self.offsets[k] : self.offsets[k + 1]]
            if len(have) == 0:
                continue
            where = np.minimum(np.searchsorted(have, cells), len(have) - 1)
            hit = have[where] == cells
            result[hit, k] = self.counts[self.offsets[k] + where[hit]]
        return result


def history_positions(size: int, points: int) -> np.ndarray:
    """All positions when there are at most `points`, else `points` evenly spread ones from the
    first to the last: the same sample whatever step the user looks at."""
    if size <= points:
        return np.arange(size)
    return np.unique(np.round(np.linspace(0, size - 1, points)).astype(np.int64))


@dataclasses.dataclass(frozen=True)
class StepBytes:
    data: bytes

    @property
    def nbytes(self) -> int:
        return len(self.data) + 33  # the bytes object's header


class ConfusionSteps:
    """Reads single steps of one confusion tag through a data provider, with a shared cache."""

    def __init__(
        self,
        cache: ByteBudgetCache,
        cache_key: tuple,
        steps: np.ndarray,
        wall_times: np.ndarray,
        read_step: Callable[[int], bytes],
    ):
        self._cache = cache
        self._key = cache_key
        self.steps = steps
        self.wall_times = wall_times
        self._read_step = read_step

    def counts(self, position: int) -> Counts:
        """One step decoded (kept decoded: the step the user looks at)."""
        return self._cache.get(
            self._step_key(position, "counts"), None, lambda: Counts.from_bytes(self.raw(position).data)
        )

    def raw(self, position: int) -> "StepBytes":
        """One step's compressed bytes (kept as they are: 1.5 bytes a cell)."""
        return self._cache.get(
            self._step_key(position, "bytes"), None, lambda: StepBytes(self._read_step(position))
        )

    def history(self, points: int) -> History:
        """The cells of `points` evenly spread steps (all steps if fewer), read concurrently the
        first time and then kept as one `History` until the tag changes."""
        positions = history_positions(len(self.steps), points)
        key = (*self._key, "history", points, len(self.steps), float(self.wall_times[-1]) if len(self.steps) else 0.0)

        def load() -> History:
            with concurrent.futures.ThreadPoolExecutor(min(READ_WORKERS, max(len(positions), 1))) as pool:
                raw = list(pool.map(self._read_step, positions.tolist()))
            return History.of(positions, [Counts.from_bytes(data) for data in raw])

        return self._cache.get(key, None, load)

    def _step_key(self, position: int, form: str) -> tuple:
        # A step's bytes never change: rewritten steps differ in wall time.
        return (*self._key, int(self.steps[position]), float(self.wall_times[position]), form)
