"""One step of a `confusion` tag at a time: what the confusion, pairs, diff and order routes read.

Version 3 writes each step's counts as one blob (`sparse_counts` bytes) of a blob sequence, so a
step is read with `read_blob` without touching the others: the tag's index (steps, wall times,
blob keys) comes from `read_blob_sequences`, which returns keys only, and each decoded step is
cached on its own (about 5 bytes a nonzero cell). A step is checked when it is first read
(`validation.confusion_blob`; reading every step up front would cost a read per step): a bad one
is remembered and listed in `skipped` from then on, as samples manifests are.

The most-confused pairs' history reads a fixed sample of steps (`history_positions`: every step
up to `HISTORY_POINTS`, else that many evenly spread ones): the tab draws it as an 80-pixel
sparkline. The sample is read concurrently once (the data server answers each call after a
fixed stall of tens of milliseconds, which concurrent calls overlap) and kept as one `History`.

Versions 1 and 2 wrote confusion counts as tensors, readable only all steps at once: they are
read once, checked (`validation.confusion_cells`) and kept compact (the same sparse bytes per
step, with each step's TP/FP/FN for the curves) while they fit the cache.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
from tensorboard import errors

from tb_perclass.format import metadata, metrics, sparse_counts
from tb_perclass.format.metadata import PerClassMetadata
from tb_perclass.plugin import validation
from tb_perclass.plugin.byte_cache import ByteBudgetCache
from tb_perclass.plugin.series import Skipped, _checked, keyed_steps, last_write_per_step
from tb_perclass.plugin.stats_table import smallest_unsigned

# Concurrent read_blob calls when a request needs many steps.
READ_WORKERS = 8
# Steps in a pairs history: every step up to this many, else this many evenly spread.
HISTORY_POINTS = 200


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
    def of(cls, cells: np.ndarray, counts: np.ndarray, width: int) -> Counts:
        index_type = np.int32 if (len(cells) == 0 or cells[-1] < 2**31) else np.int64
        return cls(cells.astype(index_type), smallest_unsigned(counts), width)

    def counts_of(self, cells: np.ndarray) -> np.ndarray:
        """int64 counts of the given linear cells (0 where a cell is empty)."""
        if len(self.cells) == 0:
            return np.zeros(len(cells), dtype=np.int64)
        where = np.minimum(np.searchsorted(self.cells, cells), len(self.cells) - 1)
        return np.where(self.cells[where] == cells, self.counts[where].astype(np.int64), 0)

    def wide(self) -> tuple[np.ndarray, np.ndarray]:
        """(cells, counts) as int64."""
        return self.cells.astype(np.int64), self.counts.astype(np.int64)

    def dense(self, meta: PerClassMetadata) -> np.ndarray:
        """[C, C], or [L, 2, 2] for multilabel."""
        matrix = np.zeros(meta.num_classes * self.width, dtype=np.int64)
        matrix[self.cells] = self.counts
        if meta.task == metadata.TASK_MULTILABEL:
            return matrix.reshape(meta.num_classes, 2, 2)
        return matrix.reshape(meta.num_classes, self.width)


@dataclasses.dataclass(frozen=True, eq=False)
class History:
    """The nonzero cells of a sample of a tag's steps, concatenated: step k's are
    `cells[offsets[k]:offsets[k + 1]]` (sorted) with their `counts`."""

    positions: np.ndarray  # the sampled positions, increasing
    offsets: np.ndarray  # int64 [len(positions) + 1]
    cells: np.ndarray
    counts: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.positions, self.offsets, self.cells, self.counts))

    @classmethod
    def of(cls, positions: Sequence[int], steps: Sequence[Counts]) -> History:
        sizes = [len(c.cells) for c in steps]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        cells = np.concatenate([c.cells for c in steps]) if steps else np.zeros(0, np.int32)
        counts = np.concatenate([c.counts for c in steps]) if steps else np.zeros(0, np.uint8)
        return cls(np.asarray(positions, dtype=np.int64), offsets, cells, smallest_unsigned(counts))

    def counts_of(self, cells: np.ndarray) -> np.ndarray:
        """int64 [len(cells), len(positions)]: each cell's count at each sampled step."""
        result = np.zeros((len(cells), len(self.positions)), dtype=np.int64)
        cells = np.asarray(cells).astype(self.cells.dtype)
        for k in range(len(self.positions)):
            have = self.cells[self.offsets[k] : self.offsets[k + 1]]
            if len(have) == 0:
                continue
            where = np.minimum(np.searchsorted(have, cells), len(have) - 1)
            hit = have[where] == cells
            result[hit, k] = self.counts[self.offsets[k] + where[hit]]
        return result


def history_positions(size: int, points: int = HISTORY_POINTS) -> np.ndarray:
    """Every position when there are at most `points`, else `points` evenly spread ones from the
    first to the last: the same sample whatever step the user looks at."""
    if size <= points:
        return np.arange(size)
    return np.unique(np.round(np.linspace(0, size - 1, points)).astype(np.int64))


@dataclasses.dataclass(eq=False)
class BlobIndex:
    """A version-3 tag: its steps, the blob key of each step's counts, and the steps found bad
    so far (by position)."""

    meta: PerClassMetadata
    steps: np.ndarray
    wall_times: np.ndarray
    keys: tuple[str, ...]
    structural_skips: tuple[Skipped, ...] = ()
    bad: dict[int, Skipped] = dataclasses.field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return self.steps.nbytes + self.wall_times.nbytes + sum(len(k) + 49 for k in self.keys)

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        found = sorted(dict(self.bad).values(), key=lambda s: s.step)
        return (*self.structural_skips, *found)

    @classmethod
    def decode(
        cls, meta: PerClassMetadata, data: list, skipped: Sequence[Skipped] = ()
    ) -> BlobIndex:
        def key(datum: Any) -> str:
            if len(datum.values) != 1:
                raise validation.Malformed(
                    f"confusion record holds {len(datum.values)} blobs; version 3 writes one"
                )
            return datum.values[0].blob_key

        steps, wall_times, keys, bad = keyed_steps(metadata.KIND_CONFUSION, data, key)
        return cls(meta, steps, wall_times, keys, structural_skips=(*skipped, *bad))


@dataclasses.dataclass(frozen=True, eq=False)
class LegacySteps:
    """Every step of a version-1/2 tag: its counts as `sparse_counts` bytes, and its TP, FP, FN
    per class (for the curves, which version 3 reads from the stats)."""

    meta: PerClassMetadata
    steps: np.ndarray
    wall_times: np.ndarray
    blobs: tuple[bytes, ...]
    true_false: tuple[np.ndarray, np.ndarray, np.ndarray]  # [S, C] each
    skipped: tuple[Skipped, ...] = ()

    @property
    def nbytes(self) -> int:
        arrays = (self.steps, self.wall_times, *self.true_false)
        return sum(a.nbytes for a in arrays) + sum(len(b) + 33 for b in self.blobs)

    @classmethod
    def decode(
        cls, meta: PerClassMetadata, data: list, skipped: Sequence[Skipped] = ()
    ) -> LegacySteps:
        width = metrics.confusion_width(meta.task, meta.num_classes)
        points, cells, bad = _checked(
            metadata.KIND_CONFUSION,
            last_write_per_step(data),
            lambda d: _legacy_cells(d.numpy, meta, width),
        )
        per_step = [metrics.true_false_counts(c, k, meta.task, meta.num_classes) for c, k in cells]
        shape = (0, meta.num_classes)
        true_false = tuple(
            smallest_unsigned(np.stack(column)) if per_step else np.zeros(shape, np.uint8)
            for column in zip(*per_step)
        ) or tuple(np.zeros(shape, np.uint8) for _ in range(3))
        return cls(
            meta=meta,
            steps=np.array([d.step for d in points], dtype=np.int64),
            wall_times=np.array([d.wall_time for d in points], dtype=np.float64),
            blobs=tuple(sparse_counts.encode(c, k, width) for c, k in cells),
            true_false=true_false,  # type: ignore[arg-type]
            skipped=(*skipped, *bad),
        )


def _legacy_cells(array: np.ndarray, meta: PerClassMetadata, width: int):
    # A version-3 blob under a tag a version-2 writer began (TensorBoard keeps the first
    # metadata, so the tag stays a tensor tag).
    if array.dtype == object and array.size == 1:
        return validation.confusion_blob(array.reshape(-1)[0], meta, width)
    return validation.confusion_cells(array, meta, width)


class ConfusionSteps:
    """The confusion tag of one (run, name) as the routes read it: `steps`, `skipped`, one step's
    `counts`, a `history` sample. Over a `BlobIndex` (version 3) or `LegacySteps`."""

    def __init__(
        self,
        source: BlobIndex | LegacySteps,
        cache: ByteBudgetCache,
        cache_key: Hashable,
        read_blob: Callable[[str], bytes],
    ):
        self.meta = source.meta
        self.steps = source.steps
        self.wall_times = source.wall_times
        self.width = metrics.confusion_width(self.meta.task, self.meta.num_classes)
        self._source = source
        self._cache = cache
        self._key = cache_key
        self._read_blob = read_blob

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        return self._source.skipped

    @property
    def legacy(self) -> LegacySteps | None:
        return self._source if isinstance(self._source, LegacySteps) else None

    def counts(self, position: int) -> Counts:
        """The counts at `position`; a bad step (found now or before) answers 404 saying why."""
        found = self._counts(position)
        if isinstance(found, Skipped):
            raise errors.NotFoundError(
                f"no readable confusion matrix at step {found.step}: it was skipped because "
                f"{found.reason}"
            )
        return found

    def history(self, points: int = HISTORY_POINTS) -> History:
        """The cells of the sampled steps (bad ones left out), read concurrently the first time
        and then kept as one entry until the tag changes."""
        positions = history_positions(len(self.steps), points).tolist()
        last = float(self.wall_times[-1]) if len(self.steps) else 0.0
        key = (self._key, "history", points, len(self.steps), last)

        def load() -> History:
            if len(positions) > 1 and isinstance(self._source, BlobIndex):
                with concurrent.futures.ThreadPoolExecutor(READ_WORKERS) as pool:
                    found = list(pool.map(self._decoded, positions))
            else:
                found = [self._decoded(p) for p in positions]
            good = [(p, c) for p, c in zip(positions, found) if isinstance(c, Counts)]
            return History.of([p for p, _ in good], [c for _, c in good])

        return self._cache.get(key, None, load)

    def _step_key(self, position: int) -> tuple:
        # A step's bytes never change: a step written again has another wall time.
        return (self._key, int(self.steps[position]), float(self.wall_times[position]))

    def _counts(self, position: int) -> Counts | Skipped:
        known = self._known_bad(position)
        if known is not None:
            return known
        try:
            return self._cache.get(self._step_key(position), None, lambda: self._load(position))
        except validation.Malformed as error:
            return self._mark_bad(position, error)

    def _decoded(self, position: int) -> Counts | Skipped:
        """A step for the history: from the cache when the user looked at it, else decoded
        without being kept on its own (the history keeps it)."""
        cached = self._cache.peek(self._step_key(position), None)
        if cached is not None:
            return cached
        known = self._known_bad(position)
        if known is not None:
            return known
        try:
            return self._load(position)
        except validation.Malformed as error:
            return self._mark_bad(position, error)

    def _known_bad(self, position: int) -> Skipped | None:
        source = self._source
        return source.bad.get(position) if isinstance(source, BlobIndex) else None

    def _mark_bad(self, position: int, error: validation.Malformed) -> Skipped:
        found = Skipped(int(self.steps[position]), metadata.KIND_CONFUSION, str(error))
        if isinstance(self._source, BlobIndex):
            self._source.bad[position] = found
        return found

    def _load(self, position: int) -> Counts:
        source = self._source
        if isinstance(source, LegacySteps):
            cells, counts, _ = sparse_counts.decode(source.blobs[position])
        else:
            try:
                data = self._read_blob(source.keys[position])
            except errors.NotFoundError as error:
                raise validation.Malformed(f"confusion blob cannot be read ({error})") from None
            cells, counts = validation.confusion_blob(data, self.meta, self.width)
        return Counts.of(cells, counts, self.width)
