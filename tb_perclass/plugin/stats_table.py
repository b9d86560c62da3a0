"""Every step of a `stats` tag as one compact table: what the curves route serves and the report
route reads, decoded once from the data provider.

A table holds per class and step the float32 mean loss and each count in the smallest unsigned
type that holds it; a count that is zero at every step (non-finite losses and outputs in a
healthy run) is not held at all. At 1000 classes x 5000 steps of a validation set that is about
45 MB, the size of the curves answer, where a decoded float64 series took 200 MB.

Steps of any version decode into the same table, detected per step (TensorBoard keeps the first
metadata of a tag, so a run resumed by a newer writer mixes versions):
  version 3   a DT_STRING scalar: a packed record (`validation.stats_records`), with `tp`, `fp`,
              `fn` when the writer recorded confusion counts
  version 2   float64 [5, C + 2]; version 1 float64 [4, C] (`validation.stats_table`)
A step that breaks the contract is left out and listed in `skipped`, with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tb_perclass.format import metadata
from tb_perclass.format.metadata import PerClassMetadata
from tb_perclass.plugin import validation
from tb_perclass.plugin.series import Skipped, last_write_per_step

# The per-class counts a table may hold, in the order the curves answer lists them.
COUNTS = (*metadata.STATS_COUNTS, *metadata.STATS_TRUE_FALSE)
_UNSIGNED = (np.uint8, np.uint16, np.uint32, np.uint64)


def smallest_unsigned(values: np.ndarray) -> np.ndarray:
    """Non-negative integer `values` in the smallest unsigned dtype that holds them."""
    top = int(values.max(initial=0))
    dtype = next(d for d in _UNSIGNED if top <= np.iinfo(d).max)
    return values.astype(dtype, copy=False)


@dataclasses.dataclass(frozen=True, eq=False)
class StatsTable:
    meta: PerClassMetadata
    steps: np.ndarray  # int64 [S]
    wall_times: np.ndarray  # float64 [S]
    loss: np.ndarray  # float32 [S, C]; NaN where a class had no finite loss
    counts: dict[str, np.ndarray]  # name -> unsigned [S, C]; absent: zero at every step
    invalid_targets: np.ndarray  # int64 [S]
    ignored: np.ndarray  # int64 [S]
    has_true_false: bool  # every step has tp, fp, fn (version 3 with confusion counts)
    skipped: tuple[Skipped, ...] = ()

    @property
    def nbytes(self) -> int:
        arrays = [self.steps, self.wall_times, self.loss, self.invalid_targets, self.ignored]
        return sum(a.nbytes for a in arrays) + sum(a.nbytes for a in self.counts.values())

    def count(self, name: str, position: int | None = None) -> np.ndarray:
        """A count ([S, C], or [C] at one position), zeros when it is not held."""
        values = self.counts.get(name)
        if values is None:
            classes = self.meta.num_classes
            return np.zeros((len(self.steps), classes) if position is None else classes, np.uint8)
        return values if position is None else values[position]

    @classmethod
    def decode(
        cls, meta: PerClassMetadata, data: list, skipped: Sequence[Skipped] = ()
    ) -> StatsTable:
        """From the data provider's `TensorDatum`s of one stats tag (one per step is kept: the
        last write, `last_write_per_step`)."""
        data = last_write_per_step(data)
        classes = meta.num_classes
        strings = {i for i, d in enumerate(data) if d.numpy.dtype == object}
        problems = {
            i: f"stats tensor holds strings in shape {list(data[i].numpy.shape)}; a stats step "
            "is one packed record (a string scalar, version 3) or numbers (versions 1 and 2)"
            for i in strings
            if data[i].numpy.size != 1
        }
        packed_at = [i for i in sorted(strings) if i not in problems]
        legacy_at = [i for i in range(len(data)) if i not in strings]
        blobs = [data[i].numpy.reshape(-1)[0] for i in packed_at]
        groups, packed_problems = validation.stats_records(blobs, classes)
        parts = [([packed_at[i] for i in positions], arrays) for positions, arrays in groups]
        problems.update((packed_at[i], reason) for i, reason in packed_problems.items())
        if legacy_at:
            part, legacy_problems = _legacy_part([data[i].numpy for i in legacy_at], classes)
            problems.update((legacy_at[i], reason) for i, reason in legacy_problems.items())
            kept = [legacy_at[i] for i in part[0]]
            if kept:
                parts.append((kept, part[1]))
        bad = [
            Skipped(int(data[i].step), metadata.KIND_STATS, problems[i]) for i in sorted(problems)
        ]
        return cls._from_parts(meta, data, parts, (*skipped, *bad))

    @classmethod
    def _from_parts(cls, meta, data, parts, skipped) -> StatsTable:
        classes = meta.num_classes
        positions = np.concatenate([np.asarray(p, np.int64) for p, _ in parts] or [np.zeros(0)])
        order = np.argsort(positions, kind="stable")
        keep = positions[order].astype(np.int64)
        # Versions 1 and 2 kept TP/FP/FN in the confusion matrices only: all steps or none.
        true_false = bool(parts) and all(
            all(n in arrays for n in metadata.STATS_TRUE_FALSE) for _, arrays in parts
        )

        def column(name: str, width: int) -> np.ndarray | None:
            pieces = [arrays.get(name) for _, arrays in parts]
            if all(p is None for p in pieces):
                return None
            if len(parts) == 1:
                joined = pieces[0]
            else:
                kind = np.result_type(*[p.dtype for p in pieces if p is not None])
                joined = np.concatenate(
                    [
                        p if p is not None else np.zeros((len(at), width), kind)
                        for (at, _), p in zip(parts, pieces)
                    ]
                )
                joined = joined[order]
            return joined

        loss = column("loss", classes)
        held = {}
        for name in COUNTS:
            if name in metadata.STATS_TRUE_FALSE and not true_false:
                continue
            values = column(name, classes)
            if values is not None and values.any():
                held[name] = smallest_unsigned(values)
        elements = column(metadata.STATS_ELEMENTS, len(metadata.STATS_EXTRA_COLUMNS))
        if elements is None:
            elements = np.zeros((len(keep), len(metadata.STATS_EXTRA_COLUMNS)), np.int64)
        return cls(
            meta=meta,
            steps=np.array([data[i].step for i in keep], dtype=np.int64),
            wall_times=np.array([data[i].wall_time for i in keep], dtype=np.float64),
            loss=np.ascontiguousarray(
                np.zeros((0, classes), np.float32) if loss is None else loss, dtype=np.float32
            ),
            counts=held,
            invalid_targets=elements[:, 0].astype(np.int64),
            ignored=elements[:, 1].astype(np.int64),
            has_true_false=true_false,
            skipped=tuple(skipped),
        )


def _legacy_part(
    arrays: list[np.ndarray], classes: int
) -> tuple[tuple[list[int], dict[str, np.ndarray]], dict[int, str]]:
    """Version-1/2 stats tensors as a table part (positions into `arrays`, the arrays of the
    good steps), and why each bad step was left out."""
    values, problems = validation.stats_table(arrays, classes)
    kept = [i for i in range(len(arrays)) if i not in problems]
    values = values[kept]
    part = {"loss": values[:, 0, :classes].astype(np.float32)}
    for row, name in enumerate(metadata.STATS_COUNTS, start=1):
        part[name] = smallest_unsigned(np.rint(values[:, row, :classes]).astype(np.uint64))
    count_row = metadata.STATS_ROWS.index("count")
    part[metadata.STATS_ELEMENTS] = np.rint(values[:, count_row, classes:]).astype(np.uint64)
    return (kept, part), problems
