"""Per-class loss statistics (the `stats` kind): state, update and compute as pure functions.

The state is one table of shape (C + 3, 5) on the data's device. Row c holds, for class (or
label) c, [sum of finite losses, element count, correct predictions, count of non-finite
losses, count of elements with finite outputs]; row C collects elements with invalid targets
seen on an accelerator and row C + 1 those with `ignore_index` (see `batches`); row C + 2 holds
the counts of `output_kind` checks. One scatter-add of an (N, 5) block per batch updates
everything, and `write()` reads the table back in one transfer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tb_perclass import metadata
from tb_perclass.stats.arrays import ArrayOps
from tb_perclass.stats import output_kind
from tb_perclass.stats.batches import Batch, TaskSpec

_LOSS_SUM, _COUNT, _CORRECT, _NONFINITE, _FINITE_OUTPUTS = range(5)
COLUMNS = 5


def table_shape(spec: TaskSpec) -> tuple[int, int]:
    """The element rows of `spec` (classes, invalid, ignored), then the check row."""
    return (spec.rows + 1, COLUMNS)


def new_table(ops: ArrayOps, spec: TaskSpec, like: Any) -> Any:
    return ops.zeros(table_shape(spec), like=like)


def update_table(ops: ArrayOps, table: Any, batch: Batch) -> tuple[Any, Any]:
    """Adds a batch; returns the table and each element's weight in the confusion counts: 1,
    or 0 where its outputs were not finite (so its meaningless prediction counts nowhere)."""
    # Each element's row: [finite loss or 0, 1, correct and finite, non-finite loss, finite].
    values, finite_outputs = ops.stats_columns(batch.losses, batch.correct, batch.decided_by)
    return ops.scatter_add_rows(table, batch.rows, values), finite_outputs


def add_output_checks(ops: ArrayOps, table: Any, outputs: Any, spec: TaskSpec) -> Any:
    """Counts `output_kind` evidence about a batch's outputs into the check row."""
    checked, suspicious = output_kind.evidence(ops, outputs, spec)
    return ops.count_into(table, spec.checks_row, [checked, suspicious])


def output_checks(host_table: np.ndarray, spec: TaskSpec) -> tuple[int, int]:
    """(checked, suspicious) from a table read back to the host."""
    row = host_table[spec.checks_row]
    return int(row[output_kind.CHECKED]), int(row[output_kind.SUSPICIOUS])


@dataclasses.dataclass(frozen=True)
class PerClassStats:
    """One step's per-class statistics, on the host. Arrays have one entry per class (or label,
    for multilabel tasks); `confusion` is the step's matrix when the writer records one."""

    loss: np.ndarray  # mean of the finite per-sample losses; NaN where there were none
    count: np.ndarray
    correct: np.ndarray
    nonfinite: np.ndarray
    # Samples whose outputs were NaN or infinite (None: zeros); never correct, not in confusion.
    nonfinite_outputs: np.ndarray | None = None
    invalid_targets: int = 0  # elements whose target was invalid, counted for no class
    ignored: int = 0  # elements skipped by ignore_index
    confusion: np.ndarray | None = None  # [C, C] (true x predicted) or [L, 2, 2]

    def __post_init__(self) -> None:
        if self.nonfinite_outputs is None:
            object.__setattr__(self, "nonfinite_outputs", np.zeros_like(self.count))

    @property
    def accuracy(self) -> np.ndarray:
        return accuracy(self.correct, self.count)

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def as_matrix(self) -> np.ndarray:
        """The float64 tensor of the `stats` summary, [5, C + 2] (`metadata.stats_shape`)."""
        rows = np.stack(
            [self.loss, self.count, self.correct, self.nonfinite, self.nonfinite_outputs]
        ).astype(np.float64)
        extra = np.zeros((len(rows), len(metadata.STATS_EXTRA_COLUMNS)))
        extra[_COUNT] = [self.invalid_targets, self.ignored]
        return np.concatenate([rows, extra], axis=1)

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> "PerClassStats":
        """From a `stats` tensor of either layout: [5, C + 2] (version 2) or [4, C] (version 1)."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.ndim == 2 and matrix.shape[0] == len(metadata.STATS_ROWS_V1):
            return cls(loss=matrix[0], count=matrix[1], correct=matrix[2], nonfinite=matrix[3])
        extra = len(metadata.STATS_EXTRA_COLUMNS)
        if matrix.ndim != 2 or matrix.shape[0] != len(metadata.STATS_ROWS) or matrix.shape[1] <= extra:
            raise ValueError(f"a stats tensor has shape [5, C + 2] or [4, C]; got {matrix.shape}")
        classes = matrix[:, :-extra]
        return cls(
            loss=classes[0],
            count=classes[1],
            correct=classes[2],
            nonfinite=classes[3],
            nonfinite_outputs=classes[4],
            invalid_targets=int(matrix[_COUNT, -extra]),
            ignored=int(matrix[_COUNT, -extra + 1]),
        )


def accuracy(correct: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Top-1 accuracy, elementwise for arrays of any shape; NaN where a class had no samples."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, correct / np.maximum(count, 1), np.nan)


def compute_stats(host_table: np.ndarray, spec: TaskSpec) -> PerClassStats:
    """Per-class statistics from a state table read back to the host, with the number of
    elements whose target was invalid (outside [0, C), or not 0/1) and of those ignored."""
    classes = host_table[: spec.num_classes].astype(np.float64)
    finite_count = classes[:, _COUNT] - classes[:, _NONFINITE]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite_count > 0, classes[:, _LOSS_SUM] / finite_count, np.nan)
    stats = PerClassStats(
        loss=mean,
        count=classes[:, _COUNT].copy(),
        correct=classes[:, _CORRECT].copy(),
        nonfinite=classes[:, _NONFINITE].copy(),
        nonfinite_outputs=classes[:, _COUNT] - classes[:, _FINITE_OUTPUTS],
        invalid_targets=int(host_table[spec.invalid_row, _COUNT]),
        ignored=int(host_table[spec.ignored_row, _COUNT]),
    )
    return stats
