"""Per-class precision, recall, F1 and support from confusion counts, as pure NumPy functions.

Semantics are scikit-learn's `precision_recall_fscore_support(..., zero_division=np.nan)`: a
ratio whose denominator is zero is undefined (NaN, shown as "—" and serialised as null) rather
than silently 0, F1 is 2 TP / (2 TP + FP + FN), and undefined values are left out of the macro
and weighted averages.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Sequence

import numpy as np

from tb_perclass import metadata


def true_false_counts(matrix: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(TP, FP, FN) per class from a [C, C] matrix (rows true) or, multilabel, per label from
    [L, 2, 2] = [label][true][predicted]. Works on stacks of matrices ([S, ...]) too."""
    matrix = np.asarray(matrix)
    if task == metadata.TASK_MULTILABEL:
        return matrix[..., 1, 1], matrix[..., 0, 1], matrix[..., 1, 0]
    tp = np.diagonal(matrix, axis1=-2, axis2=-1)
    return tp, matrix.sum(axis=-2) - tp, matrix.sum(axis=-1) - tp


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
    accuracy: float  # top-1 accuracy over all samples; NaN for multilabel

    def as_dict(self) -> dict[str, object]:
        """What the report route answers (and `tb-perclass report --format json` prints) for
        the report: per-class arrays, accuracy, then the macro and weighted averages."""
        return {
            "class_names": list(self.class_names),
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
            "loss": self.loss,
            "accuracy": self.accuracy,
            **self.averages(),
        }

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
    matrix: np.ndarray, task: str, class_names: Sequence[str], loss: np.ndarray | None = None
) -> ClassificationReport:
    tp, fp, fn = true_false_counts(matrix, task)
    total = np.asarray(matrix).sum()
    accuracy = (
        float("nan")
        if task == metadata.TASK_MULTILABEL or total == 0
        else float(tp.sum() / total)
    )
    return ClassificationReport(
        class_names=tuple(class_names),
        **ratios_from_counts(tp, fp, fn),
        support=(tp + fn).astype(np.int64),
        loss=np.full(len(tp), np.nan) if loss is None else np.asarray(loss, dtype=np.float64),
        accuracy=accuracy,
    )


REPORT_COLUMNS = ("class", "precision", "recall", "f1", "support", "loss")


def report_rows(report: ClassificationReport) -> list[list[str | int]]:
    """The report as rows of REPORT_COLUMNS: one per class, then the macro and weighted
    averages; numbers as text ("" where undefined), class names safe for spreadsheets."""
    rows: list[list[str | int]] = []
    for i, name in enumerate(report.class_names):
        rows.append(
            [
                spreadsheet_safe(name),
                _number(report.precision[i]),
                _number(report.recall[i]),
                _number(report.f1[i]),
                int(report.support[i]),
                _number(report.loss[i]),
            ]
        )
    for average, row in report.averages().items():
        rows.append(
            [f"{average} avg", *(_number(row[m]) for m in ("precision", "recall", "f1")),
             row["support"], ""]
        )  # fmt: skip
    return rows


def report_csv(report: ClassificationReport) -> str:
    """The report as CSV: one row per class, then the macro and weighted averages."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(report_rows(report))
    return out.getvalue()


def _number(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.6g}"


def spreadsheet_safe(text: str) -> str:
    # A cell starting with = + - @ (or a tab/CR) is run as a formula by spreadsheet programs.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
