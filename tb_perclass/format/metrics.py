"""Per-class metrics from counts, as pure NumPy functions: one definition for the writer's
results and the plugin's answers.

Semantics are scikit-learn's `precision_recall_fscore_support(..., zero_division=np.nan)`: a
ratio whose denominator is zero is undefined (NaN, shown as "—" and serialised as null) rather
than silently 0, F1 is 2 TP / (2 TP + FP + FN), and undefined values are left out of the macro
and weighted averages. Accuracy is likewise NaN for a class without samples.

Confusion counts come as the nonzero cells of one step: linear indices `true * width + cell`
and their counts, `width` being the class count (the cell is the predicted class) or, for
multilabel, 4 (the cell is TN, FP, FN, TP of the row's label), as the plugin decodes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tb_perclass.format import metadata

# The cell codes of a multilabel row: 2 * target + prediction.
_TN, _FP, _FN, _TP = range(4)


def accuracy(correct: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Top-1 accuracy, elementwise for arrays of any shape; NaN where a class had no samples."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, correct / np.maximum(count, 1), np.nan)


def confusion_width(task: str, num_classes: int) -> int:
    """Cells per row of a confusion step: the predicted classes, or TN/FP/FN/TP per label."""
    return 4 if task == metadata.TASK_MULTILABEL else num_classes


def true_false_counts(
    cells: np.ndarray, counts: np.ndarray, task: str, num_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(TP, FP, FN), int64 [C] each, from one step's nonzero confusion cells."""
    rows, cols = np.divmod(cells, confusion_width(task, num_classes))
    if task == metadata.TASK_MULTILABEL:
        return tuple(  # type: ignore[return-value]
            _per_class(rows[cols == code], counts[cols == code], num_classes)
            for code in (_TP, _FP, _FN)
        )
    diagonal = rows == cols
    tp = _per_class(rows[diagonal], counts[diagonal], num_classes)
    return (
        tp,
        _per_class(cols, counts, num_classes) - tp,
        _per_class(rows, counts, num_classes) - tp,
    )


def _per_class(classes: np.ndarray, counts: np.ndarray, num_classes: int) -> np.ndarray:
    return np.bincount(classes, counts, num_classes).astype(np.int64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


RATIOS = ("precision", "recall", "f1")


def ratios_from_counts(tp, fp, fn) -> dict[str, np.ndarray]:
    """Precision, recall and F1 from TP, FP and FN (arrays of any matching shape, e.g. [S, C];
    NaN counts, for a step without confusion counts, give NaN)."""
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


@dataclasses.dataclass(frozen=True)
class ClassificationReport:
    class_names: tuple[str, ...]
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # samples whose true class is c (multilabel: positives of label c)
    loss: np.ndarray  # mean loss per class at the same step; NaN where unknown
    # Top-1 accuracy over all samples; multilabel: the share of right yes/no decisions (one per
    # sample and label: 1 - Hamming loss); NaN without samples.
    accuracy: float
    # The samples counted at the step: each once (a multilabel sample has a decision per label,
    # so the labels' support, its positives, may sum to more or less).
    samples: int

    def averages(self) -> dict[str, dict[str, float]]:
        support = self.support.astype(np.float64)
        result = {}
        for average in ("macro", "weighted"):
            row = {}
            for metric in ("precision", "recall", "f1"):
                values = getattr(self, metric)
                defined = ~np.isnan(values)
                if not defined.any():
                    row[metric] = float("nan")
                elif average == "macro":
                    row[metric] = float(values[defined].mean())
                else:
                    weights = support[defined]
                    row[metric] = (
                        float(np.average(values[defined], weights=weights))
                        if weights.sum() > 0
                        else float("nan")
                    )
            row["support"] = int(self.support.sum())
            result[average] = row
        return result


def classification_report(
    cells: np.ndarray,
    counts: np.ndarray,
    task: str,
    class_names: Sequence[str],
    loss: np.ndarray | None = None,
) -> ClassificationReport:
    """Precision, recall, F1 and support per class from one step's nonzero confusion cells."""
    tp, fp, fn = true_false_counts(cells, counts, task, len(class_names))
    return report_from_counts(
        tp, fp, fn, task, class_names, loss, decisions=int(np.asarray(counts).sum())
    )


def report_from_counts(
    tp: np.ndarray,
    fp: np.ndarray,
    fn: np.ndarray,
    task: str,
    class_names: Sequence[str],
    loss: np.ndarray | None = None,
    decisions: int | None = None,
) -> ClassificationReport:
    """Precision, recall, F1 and support per class from one step's TP, FP and FN (what a
    version-3 stats record holds); the same report as `classification_report` of the step's
    confusion cells. `decisions`: the elements counted at the step (multilabel: one yes/no
    decision per sample and label; its accuracy and sample count need them, TN not being among
    the counts); by default TP + FN summed over the classes (each element once, in its true
    class's row)."""
    tp, fp, fn = (np.asarray(a, dtype=np.int64) for a in (tp, fp, fn))
    multilabel = task == metadata.TASK_MULTILABEL
    if decisions is None:
        decisions = 0 if multilabel else int(tp.sum() + fn.sum())
    right = decisions - int(fp.sum() + fn.sum()) if multilabel else int(tp.sum())
    samples = decisions // len(class_names) if multilabel else decisions
    return ClassificationReport(
        class_names=tuple(class_names),
        **ratios_from_counts(tp, fp, fn),
        support=(tp + fn).astype(np.int64),
        loss=np.full(len(tp), np.nan) if loss is None else np.asarray(loss, dtype=np.float64),
        accuracy=float(right / decisions) if decisions else float("nan"),
        samples=samples,
    )
