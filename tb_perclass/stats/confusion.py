"""Confusion counts (the `confusion` kind): state, update and compute as pure functions.

The state is a flat vector of (C + 2) x K counts on the data's device, K being the number of
confusion cells per row: the predicted class (multiclass, binary: K = C) or TN, FP, FN, TP
(multilabel: K = 4, one row per label). Rows C and C + 1 take the elements routed away as
invalid or ignored, exactly as in the stats table, so a batch needs one index computation and
one scatter-add: no C x C work per batch. `write()` moves only the nonzero counts to the host.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_perclass import metadata
from tb_perclass.stats.arrays import ArrayOps
from tb_perclass.stats.batches import Batch, TaskSpec

# A dense C x C state above this many cells (8 bytes each) needs confusion=False.
MAX_CELLS = 25_000_000


def new_confusion(ops: ArrayOps, spec: TaskSpec, like: Any) -> Any:
    cells = spec.rows * spec.confusion_width
    if cells > MAX_CELLS:
        raise ValueError(
            f"a confusion matrix of {spec.num_classes} classes needs {cells * 8 / 2**20:.0f} MiB "
            "of device memory; create the writer with confusion=False to record per-class "
            "statistics only"
        )
    return ops.zeros((cells,), like=like)


def update_confusion(ops: ArrayOps, state: Any, batch: Batch, spec: TaskSpec, weights: Any) -> Any:
    """Adds each element's weight (from `perclass.update_table`: 0 where its outputs were not
    finite, else 1) to its cell: weights rather than a routing keep it one scatter-add."""
    flat = ops.combine_index(batch.rows, batch.cells, spec.confusion_width)
    return ops.scatter_add_rows(state, flat, weights)


def compute_confusion(ops: ArrayOps, state: Any, spec: TaskSpec) -> np.ndarray:
    """The step's counts on the host: int64 [C, C] (rows true, columns predicted), or [L, 2, 2]
    ([label][true][predicted]) for multilabel. Moves only the nonzero cells off the device."""
    index, counts = ops.nonzero_entries(state)
    return matrix_from_cells(np.asarray(index, dtype=np.int64), np.asarray(counts), spec)


def matrix_from_cells(index: np.ndarray, counts: np.ndarray, spec: TaskSpec) -> np.ndarray:
    """The confusion matrix from the nonzero cells of a flat state read back to the host."""
    width = spec.confusion_width
    rows, cols = np.divmod(index, width)
    kept = rows < spec.num_classes  # drop the invalid and ignored rows
    matrix = np.zeros((spec.num_classes, width), dtype=np.int64)
    matrix[rows[kept], cols[kept]] = np.rint(counts[kept]).astype(np.int64)
    if spec.task == metadata.TASK_MULTILABEL:
        return matrix.reshape(spec.num_classes, 2, 2)
    return matrix
