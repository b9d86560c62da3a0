"""A writer's state on the data's device, as pure functions: new, update, read back, compute.

Two arrays hold everything `stats` and `confusion` summaries need, so that a batch costs two
scatter-adds and no C x C work, and `write()` reads the state back in one transfer each:

- The statistics table, shape (C + 3, 5). Row c holds, for class (or label) c, [sum of finite
  losses, element count, correct predictions, count of non-finite losses, count of elements
  with finite outputs]; row C collects elements with invalid targets seen on an accelerator and
  row C + 1 those with `ignore_index` (see `tasks`); row C + 2 holds the counts of
  `output_kind` checks.
- The confusion counts, a flat vector of (C + 2) x K cells, K being the number of confusion
  cells per row: the predicted class (multiclass, binary, regression: K = C) or TN, FP, FN, TP
  (multilabel: K = 4, one row per label). Rows C and C + 1 take the elements routed away as
  invalid or ignored, exactly as in the table. Only the nonzero cells are read back.

`compute` turns what was read back into the host-side `PerClassStats` a write returns.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tb_perclass.format import metadata, metrics, summary
from tb_perclass.format.score_tensor import ScoreCounts
from tb_perclass.logger import output_kind
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.tasks.batch import Batch

_LOSS_SUM, _COUNT, _CORRECT, _NONFINITE, _FINITE_OUTPUTS = range(5)
COLUMNS = 5

# A dense C x C state above this many cells (8 bytes each) needs confusion=False.
MAX_CELLS = 25_000_000


def table_shape(spec: TaskSpec) -> tuple[int, int]:
    """The element rows of `spec` (classes, invalid, ignored), then the check row."""
    return (spec.rows + 1, COLUMNS)


def confusion_size(spec: TaskSpec) -> int:
    """The cells of the flat confusion state; refused above `MAX_CELLS`."""
    cells = spec.rows * spec.confusion_width
    if cells > MAX_CELLS:
        raise ValueError(
            f"a confusion matrix of {spec.num_classes} classes needs {cells * 8 / 2**20:.0f} MiB "
            "of device memory; create the writer with confusion=False to record per-class "
            "statistics only"
        )
    return cells


def new_table(ops: ArrayOps, spec: TaskSpec, like: Any) -> Any:
    return ops.zeros(table_shape(spec), like=like)


def new_confusion(ops: ArrayOps, spec: TaskSpec, like: Any) -> Any:
    return ops.zeros((confusion_size(spec),), like=like)


def update(
    ops: ArrayOps, table: Any, confusion: Any | None, batch: Batch, spec: TaskSpec
) -> tuple[Any, Any]:
    """Adds a batch to the table and, when recorded, the confusion counts; returns both (a
    library may update them in place or return new arrays).

    Each element adds [finite loss or 0, 1, correct and finite, non-finite loss, finite] to its
    table row, and its weight to its confusion cell: 1, or 0 where its outputs were not finite
    (so its meaningless prediction counts nowhere); weights rather than a routing keep it one
    scatter-add."""
    values, finite_outputs = ops.stats_columns(batch.losses, batch.correct, batch.decided_by)
    table = ops.scatter_add_rows(table, batch.rows, values)
    if confusion is not None:
        flat = ops.combine_index(batch.rows, batch.cells, spec.confusion_width)
        confusion = ops.scatter_add_rows(confusion, flat, finite_outputs)
    return table, confusion


def add_output_checks(ops: ArrayOps, table: Any, outputs: Any, spec: TaskSpec) -> Any:
    """Counts `output_kind` evidence about a batch's outputs into the check row."""
    checked, suspicious = output_kind.evidence(ops, outputs, spec)
    return ops.count_into(table, spec.checks_row, [checked, suspicious])


@dataclasses.dataclass(frozen=True)
class HostState:
    """The state read back to the host: the table, the confusion state's nonzero cells (flat
    indices and counts; None when no confusion counts are recorded), and the score histograms
    (`score_state`; None unless recorded)."""

    table: np.ndarray
    cells: np.ndarray | None = None
    counts: np.ndarray | None = None
    scores: ScoreCounts | None = None

    def with_scores(self, scores: ScoreCounts) -> HostState:
        return dataclasses.replace(self, scores=scores)

    @classmethod
    def from_dense(cls, table: np.ndarray, confusion: np.ndarray | None) -> HostState:
        """From a table and a whole confusion state already on the host (Keras' variables)."""
        if confusion is None:
            return cls(table)
        nonzero = np.flatnonzero(confusion)
        return cls(table, nonzero, confusion[nonzero])

    def output_checks(self, spec: TaskSpec) -> tuple[int, int]:
        """(checked, suspicious): the `output_kind` counts of the check row."""
        row = self.table[spec.checks_row]
        return int(row[output_kind.CHECKED]), int(row[output_kind.SUSPICIOUS])


def read(ops: ArrayOps, table: Any, confusion: Any | None) -> HostState:
    """The state on the host: the table in one transfer, only the nonzero confusion cells."""
    host_table = ops.to_numpy(table)
    if confusion is None:
        return HostState(host_table)
    cells, counts = ops.nonzero_entries(confusion)
    return HostState(host_table, np.asarray(cells, dtype=np.int64), np.asarray(counts))


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
    # True and false positives and false negatives per class, from the confusion counts (None
    # when none are recorded): the stats summary carries them, so that the plugin's curves and
    # reports need no confusion matrix.
    tp: np.ndarray | None = None
    fp: np.ndarray | None = None
    fn: np.ndarray | None = None
    # The step's score histograms (writers with scores=True): AP, AUROC, calibration, top-k.
    scores: ScoreCounts | None = None

    def __post_init__(self) -> None:
        if self.nonfinite_outputs is None:
            object.__setattr__(self, "nonfinite_outputs", np.zeros_like(self.count))

    @property
    def accuracy(self) -> np.ndarray:
        return metrics.accuracy(self.correct, self.count)

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def summary_fields(self) -> dict[str, Any]:
        """The fields of the `stats` summary, as `summary.stats_pb` takes them."""
        fields = self._matrix_fields()
        if self.tp is not None:
            fields.update(tp=self.tp, fp=self.fp, fn=self.fn)
        return fields

    def _matrix_fields(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "count": self.count,
            "correct": self.correct,
            "nonfinite": self.nonfinite,
            "nonfinite_outputs": self.nonfinite_outputs,
            "invalid_targets": self.invalid_targets,
            "ignored": self.ignored,
        }

    def as_matrix(self) -> np.ndarray:
        """The statistics as one float64 [5, C + 2] matrix (`metadata.stats_shape`: the rows of
        `metadata.STATS_ROWS`, then the invalid and ignored elements in the count row)."""
        return summary.stats_tensor(**self._matrix_fields())


def compute(host: HostState, spec: TaskSpec) -> PerClassStats:
    """Per-class statistics from the state read back, with the number of elements whose target
    was invalid (outside [0, C), or not 0/1) and of those ignored, and the confusion matrix."""
    classes = host.table[: spec.num_classes].astype(np.float64)
    finite_count = classes[:, _COUNT] - classes[:, _NONFINITE]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite_count > 0, classes[:, _LOSS_SUM] / finite_count, np.nan)
    true_false: dict[str, Any] = {}
    if host.cells is not None:
        kept = host.cells < spec.num_classes * spec.confusion_width  # not the invalid/ignored rows
        counts = np.rint(host.counts[kept]).astype(np.int64)
        tp, fp, fn = metrics.true_false_counts(
            host.cells[kept], counts, spec.task, spec.num_classes
        )
        true_false = {"tp": tp, "fp": fp, "fn": fn}
    return PerClassStats(
        loss=mean,
        count=classes[:, _COUNT].copy(),
        correct=classes[:, _CORRECT].copy(),
        nonfinite=classes[:, _NONFINITE].copy(),
        nonfinite_outputs=classes[:, _COUNT] - classes[:, _FINITE_OUTPUTS],
        invalid_targets=int(host.table[spec.invalid_row, _COUNT]),
        ignored=int(host.table[spec.ignored_row, _COUNT]),
        confusion=None if host.cells is None else confusion_matrix(host.cells, host.counts, spec),
        **true_false,
        scores=host.scores,
    )


def confusion_matrix(cells: np.ndarray, counts: np.ndarray, spec: TaskSpec) -> np.ndarray:
    """The confusion matrix from the nonzero cells of a flat state: int64 [C, C] (rows true,
    columns predicted), or [L, 2, 2] ([label][true][predicted]) for multilabel."""
    width = spec.confusion_width
    rows, cols = np.divmod(cells, width)
    kept = rows < spec.num_classes  # drop the invalid and ignored rows
    matrix = np.zeros((spec.num_classes, width), dtype=np.int64)
    matrix[rows[kept], cols[kept]] = np.rint(counts[kept]).astype(np.int64)
    if spec.task == metadata.TASK_MULTILABEL:
        return matrix.reshape(spec.num_classes, 2, 2)
    return matrix
