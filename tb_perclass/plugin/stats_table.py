"""Every step of a `stats` tag as one compact table: what the curves route serves and the report
route reads, decoded once from the data provider.

A table holds per class and step the float32 mean loss and the counts in the smallest unsigned
type that holds them; arrays that are zero at every step (non-finite losses and outputs, in a
healthy run) are not held at all. At 1000 classes x 5000 steps of a validation set that is
about 45 MB, the size of the curves answer, instead of the 200 MB of float64 a decoded
version-2 series took.

Steps of any version decode into the same table, detected per step (TensorBoard keeps the first
metadata of a tag, so a run resumed by a newer writer mixes versions):
  version 3   a DT_STRING scalar of `packed_arrays` (loss, count, correct, nonfinite,
              nonfinite_outputs, and tp, fp, fn when the writer recorded confusion counts;
              elements = [invalid targets, ignored])
  version 2   float64 [5, C + 2]
  version 1   float64 [4, C]
A step of another shape or that does not unpack is skipped (and counted in `skipped`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from tb_perclass import metadata, packed_arrays
from tb_perclass.metadata import PerClassMetadata

# The per-class count arrays of a table, in the order the curves answer lists them.
COUNTS = ("count", "correct", "nonfinite", "nonfinite_outputs", "tp", "fp", "fn")
# Present only when the writer recorded confusion counts (version 3), all three or none.
TRUE_FALSE = ("tp", "fp", "fn")
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
    has_true_false: bool  # tp, fp, fn were recorded (zero arrays among them are absent)
    skipped: int = 0  # steps that could not be decoded

    @property
    def nbytes(self) -> int:
        arrays = [self.steps, self.wall_times, self.loss, self.invalid_targets, self.ignored]
        return sum(a.nbytes for a in arrays) + sum(a.nbytes for a in self.counts.values())

    @property
    def num_classes(self) -> int:
        return self.meta.num_classes

    def count(self, name: str, position: int | None = None) -> np.ndarray:
        """A count array ([S, C], or [C] at one position), zeros when it is not held."""
        values = self.counts.get(name)
        shape = (len(self.steps), self.num_classes) if position is None else (self.num_classes,)
        if values is None:
            return np.zeros(shape, dtype=np.uint8)
        return values if position is None else values[position]

    @classmethod
    def decode(cls, meta: PerClassMetadata, data: Sequence[Any]) -> "StatsTable":
        """From the data provider's `TensorDatum`s of one stats tag."""
        classes = meta.num_classes
        legacy_shapes = {(len(metadata.STATS_ROWS_V1), classes), metadata.stats_shape(classes)}
        packed, packed_at, legacy, legacy_at = [], [], [], []
        for position, datum in enumerate(data):
            array = datum.numpy
            if array.dtype == object and array.size == 1 and isinstance(array.item(), bytes):
                packed.append(array.item())
                packed_at.append(position)
            elif array.dtype.kind == "f" and array.shape in legacy_shapes:
                legacy.append(array)
                legacy_at.append(position)
        # Parts of the table, each (positions, arrays stacked over those positions).
        parts = [
            ([packed_at[i] for i in group], arrays)
            for group, arrays in packed_arrays.unpack_many(packed, skip_malformed=True)
            if _packed_layout_ok(arrays, classes)
        ]
        if legacy:
            parts.append(_legacy_part(legacy, legacy_at, classes))
        del packed, legacy
        # Version 1 and 2 kept TP/FP/FN in the confusion matrices only: all steps or none.
        true_false = bool(parts) and all(all(n in a for n in TRUE_FALSE) for _, a in parts)
        positions = np.concatenate([np.asarray(p, dtype=np.int64) for p, _ in parts]) if parts else np.zeros(0, np.int64)
        order = np.argsort(positions, kind="stable")
        keep = positions[order]

        def column(name: str, dtype=None) -> np.ndarray | None:
            pieces = [arrays.get(name) for _, arrays in parts]
            if all(p is None for p in pieces):
                return None
            if len(parts) == 1:
                joined = pieces[0]
            else:
                shape = next(p for p in pieces if p is not None).shape[1:]
                kind = np.result_type(*[p.dtype for p in pieces if p is not None])
                joined = np.concatenate(
                    [p if p is not None else np.zeros((len(at), *shape), kind) for (at, _), p in zip(parts, pieces)]
                )
            joined = joined[order] if not np.array_equal(order, np.arange(len(order))) else joined
            return joined if dtype is None else joined.astype(dtype, copy=False)

        loss = column("loss", np.float32)
        held = {}
        for name in COUNTS:
            if name in TRUE_FALSE and not true_false:
                continue
            values = column(name)
            if values is not None and values.any():
                held[name] = smallest_unsigned(values)
        elements = column("elements")
        if elements is None:
            elements = np.zeros((len(keep), 2), dtype=np.int64)
        return cls(
            meta=meta,
            steps=np.array([data[i].step for i in keep], dtype=np.int64),
            wall_times=np.array([data[i].wall_time for i in keep], dtype=np.float64),
            loss=np.ascontiguousarray(loss if loss is not None else np.zeros((0, classes), np.float32)),
            counts=held,
            invalid_targets=elements[:, 0].astype(np.int64),
            ignored=elements[:, 1].astype(np.int64),
            has_true_false=true_false,
            skipped=len(data) - len(keep),
        )


def _packed_layout_ok(arrays: dict[str, np.ndarray], classes: int) -> bool:
    loss = arrays.get("loss")
    if loss is None or loss.ndim != 2 or loss.shape[1] != classes or loss.dtype.kind != "f":
        return False
    steps = len(loss)
    for name in COUNTS:
        values = arrays.get(name)
        if values is not None and (values.shape != (steps, classes) or values.dtype.kind != "u"):
            return False
    found = arrays.get("elements")
    return found is None or (found.shape == (steps, 2) and found.dtype.kind == "u")


def _legacy_part(legacy, positions, classes) -> tuple[list[int], dict[str, np.ndarray]]:
    """Version-1 and -2 float64 tensors as a table part; steps with non-finite or negative
    counts are left out."""
    kept, rows = [], {name: [] for name in ("loss", *metadata.STATS_ROWS[1:], "elements")}
    count_row = metadata.STATS_ROWS.index("count")
    for array, position in zip(legacy, positions):
        values = np.asarray(array, dtype=np.float64)
        counts = values[1:]
        if not np.isfinite(counts).all() or (counts < 0).any():
            continue
        kept.append(position)
        rows["loss"].append(values[0, :classes])
        for row, name in enumerate(metadata.STATS_ROWS[1:], start=1):
            rows[name].append(values[row, :classes] if row < len(values) else np.zeros(classes))
        extra = values[count_row, classes:] if values.shape[1] > classes else np.zeros(2)
        rows["elements"].append(extra)
    arrays = {"loss": np.array(rows["loss"], dtype=np.float32).reshape(-1, classes)}
    for name in (*metadata.STATS_ROWS[1:], "elements"):
        width = 2 if name == "elements" else classes
        arrays[name] = np.rint(np.array(rows[name]).reshape(-1, width)).astype(np.uint64)
    return kept, arrays
