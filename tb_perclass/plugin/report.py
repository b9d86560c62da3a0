"""The report route's answer: precision, recall, F1, support and loss per class at one step
(`metrics.classification_report` over the step's confusion counts, the loss from the stats at
that step), as JSON or as a CSV download that spreadsheet programs and `pandas.read_csv` read as
it is."""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any

import numpy as np

from tb_perclass.format import metadata, metrics
from tb_perclass.plugin.reader import PerClassReader, listed, step_position
from tb_perclass.plugin.series import position_of


@dataclasses.dataclass(frozen=True)
class ReportAt:
    """The classification report of one step, and what the report route lists with it."""

    report: metrics.ClassificationReport
    step: int
    steps: np.ndarray
    skipped: list[dict[str, Any]]


def at_step(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
) -> ReportAt:
    """The classification report at `step` (the latest by default), with the loss per class
    at that step when the stats have it."""
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
    position = step_position(series, run, step, "confusion matrix")
    found_step = int(series.steps[position])
    loss = None
    stats, skipped = reader.companion(ctx, experiment_id, run, name, series, metadata.KIND_STATS)
    at = None if stats is None else position_of(stats.steps, found_step)
    if at is not None:
        loss = stats.values[at, 0, :]
    return ReportAt(
        report=series.report(position, loss),
        step=found_step,
        steps=series.steps,
        skipped=listed(series.skipped + skipped),
    )


def as_json(found: ReportAt, run: str, name: str) -> dict[str, Any]:
    """The report route's JSON answer (undefined values become null when serialised)."""
    result = found.report
    return {
        "run": run,
        "name": name,
        "step": found.step,
        "steps": found.steps,
        "class_names": list(result.class_names),
        "precision": result.precision,
        "recall": result.recall,
        "f1": result.f1,
        "support": result.support,
        "loss": result.loss,
        "accuracy": result.accuracy,
        **result.averages(),
        "skipped": found.skipped,
    }


CSV_COLUMNS = ("class", "precision", "recall", "f1", "support", "loss")


def as_csv(report: metrics.ClassificationReport) -> str:
    """The report as CSV: one row per class, then the macro and weighted averages."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(report))
    return out.getvalue()


def csv_rows(report: metrics.ClassificationReport) -> list[list[str | int]]:
    """The CSV rows (of CSV_COLUMNS) of a report: numbers as text ("" where undefined), class
    names safe for spreadsheets; `tb-perclass report --format csv` writes the same rows."""
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
            [
                f"{average} avg",
                *(_number(row[m]) for m in ("precision", "recall", "f1")),
                row["support"],
                "",
            ]
        )
    return rows


def _number(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.6g}"


def spreadsheet_safe(text: str) -> str:
    """`text` as a spreadsheet shows it: a cell starting with = + - @ (or a tab/CR) would be
    run as a formula, so it gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
