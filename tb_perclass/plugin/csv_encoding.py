"""The report route's CSV download: one row per class, then the macro and weighted averages,
in a form spreadsheet programs and `pandas.read_csv` read as it is."""

from __future__ import annotations

import csv
import io

import numpy as np

from tb_perclass.format.metrics import ClassificationReport


def report_csv(report: ClassificationReport) -> str:
    """The report as CSV: one row per class, then the macro and weighted averages."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["class", "precision", "recall", "f1", "support", "loss"])
    for i, name in enumerate(report.class_names):
        writer.writerow(
            [
                _spreadsheet_safe(name),
                _number(report.precision[i]),
                _number(report.recall[i]),
                _number(report.f1[i]),
                int(report.support[i]),
                _number(report.loss[i]),
            ]
        )
    for average, row in report.averages().items():
        writer.writerow(
            [
                f"{average} avg",
                *(_number(row[m]) for m in ("precision", "recall", "f1")),
                row["support"],
                "",
            ]
        )
    return out.getvalue()


def _number(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.6g}"


def _spreadsheet_safe(text: str) -> str:
    # A cell starting with = + - @ (or a tab/CR) is run as a formula by spreadsheet programs.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
