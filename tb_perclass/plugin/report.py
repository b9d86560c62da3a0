"""The report route's answer: precision, recall, F1, support and loss per class at one step, as
JSON or as a CSV download that spreadsheet programs and `pandas.read_csv` read as it is.

From the stats alone when they carry the step's TP/FP/FN (version 3, `metrics.report_from_counts`:
no confusion matrix is read, and every stats step has a report); otherwise from the step's
confusion counts (`metrics.classification_report`), the loss from the stats at that step."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from tb_perclass.format import metadata, metrics
from tb_perclass.plugin import scores
from tb_perclass.plugin.reader import PerClassReader, listed, step_position
from tb_perclass.plugin.series import position_of


@dataclasses.dataclass(frozen=True)
class ReportAt:
    """The classification report of one step, and what the report route lists with it."""

    report: metrics.ClassificationReport
    task: str
    step: int
    steps: np.ndarray
    skipped: list[dict[str, Any]]
    # From the score histograms at the same step (writers with scores=True): per class
    # "ap", "auroc", "ece" and "top_k_accuracy" ([C]), their "averages", and "top_k".
    scores: dict[str, Any] | None = None


def at_step(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
) -> ReportAt:
    """The classification report at `step` (the latest by default), with the loss per class
    at that step when the stats have it, and the score columns when the series records score
    histograms at that step."""
    table = reader.optional_series(ctx, experiment_id, run, name, metadata.KIND_STATS)
    if table is not None and table.has_true_false:
        position = step_position(table, run, step, "per-class counts")
        found_step = int(table.steps[position])
        tp, fp, fn = (table.count(key, position) for key in metadata.STATS_TRUE_FALSE)
        meta = table.meta
        by_scores, at, scores_skipped = _scores_at(
            reader, ctx, experiment_id, run, name, table, found_step
        )
        return ReportAt(
            report=metrics.report_from_counts(
                tp,
                fp,
                fn,
                meta.task,
                meta.class_names,
                table.loss[position].astype(np.float64),
                # multilabel: its elements (sample, label) counted, for the label accuracy
                decisions=int(table.count("count", position).sum())
                if meta.task == metadata.TASK_MULTILABEL
                else None,
            ),
            task=meta.task,
            step=found_step,
            steps=table.steps,
            skipped=listed(table.skipped + scores_skipped),
            scores=None
            if at is None
            else scores.report_columns(
                by_scores, at, table.count("count", position).astype(np.float64)
            ),
        )
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
    position = step_position(series, run, step, "confusion matrix")
    found_step = int(series.steps[position])
    loss = count = None
    stats, skipped = reader.companion(ctx, experiment_id, run, name, series, metadata.KIND_STATS)
    at = None if stats is None else position_of(stats.steps, found_step)
    if at is not None:
        loss = stats.loss[at].astype(np.float64)
        count = stats.count("count", at).astype(np.float64)
    by_scores, at, scores_skipped = _scores_at(
        reader, ctx, experiment_id, run, name, series, found_step
    )
    cells, counts = series.counts(position).wide()
    return ReportAt(
        report=metrics.classification_report(
            cells, counts, series.meta.task, series.meta.class_names, loss
        ),
        task=series.meta.task,
        step=found_step,
        steps=series.steps,
        skipped=listed(series.skipped + skipped + scores_skipped),
        scores=None if at is None else scores.report_columns(by_scores, at, count),
    )


def _scores_at(reader, ctx, experiment_id, run, name, series, step) -> tuple[Any, Any, tuple]:
    """The series' score histograms, the position of `step` in them (None: not recorded
    there), and their skipped steps."""
    by_scores, skipped = reader.companion(
        ctx, experiment_id, run, name, series, metadata.KIND_SCORES
    )
    at = None if by_scores is None else position_of(by_scores.steps, step)
    return by_scores, at, skipped


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
        "samples": result.samples,
        **result.averages(),
        **({"scores": found.scores} if found.scores is not None else {}),
        "skipped": found.skipped,
    }


def csv_filename(run: str, name: str, step: int) -> str:
    """What a downloaded report is called: the run, the name and the step, in characters any
    file system takes (as the tab names its other downloads)."""
    parts = ("report", run, name, f"step{step}")
    return (
        "_".join(p for p in (re.sub(r"[^A-Za-z0-9._-]+", "_", x).strip("_") for x in parts) if p)
        + ".csv"
    )


CSV_COLUMNS = ("class", "precision", "recall", "f1", "support", "loss")


def as_csv(found: ReportAt) -> str:
    """The report as CSV: one row per class, the macro and weighted averages, then the
    accuracy row (accuracy_row); with score histograms at the step, also AP, AUROC, ECE (and
    top-k accuracy) per class."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *score_columns(found.scores)])
    writer.writerows(csv_rows(found.report, found.task, found.scores))
    return out.getvalue()


def score_columns(by_scores: dict[str, Any] | None) -> list[str]:
    """The score columns (of `scores.REPORT_COLUMNS`) the CSV adds after CSV_COLUMNS."""
    return [] if by_scores is None else [k for k in scores.REPORT_COLUMNS if k in by_scores]


def csv_rows(
    report: metrics.ClassificationReport,
    task: str,
    by_scores: dict[str, Any] | None = None,
    keys: Sequence[str] | None = None,
) -> list[list[str | int]]:
    """The CSV rows (of CSV_COLUMNS, then the score columns `keys`, by default
    `score_columns(by_scores)`) of a report: numbers as text ("" where undefined or not
    recorded), class names safe for spreadsheets, the averages, then the accuracy row
    (accuracy_row); `tb-perclass report --format csv` writes the same rows (with the score
    columns of every series it reports)."""
    extra = score_columns(by_scores) if keys is None else list(keys)
    by_scores = by_scores or {"averages": {}}
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
                *(_number(by_scores[key][i]) if key in by_scores else "" for key in extra),
            ]
        )
    for average, row in report.averages().items():
        rows.append(
            [
                f"{average} avg",
                *(_number(row[m]) for m in ("precision", "recall", "f1")),
                row["support"],
                "",
                *(_optional(by_scores["averages"].get(key, {}).get(average)) for key in extra),
            ]
        )
    rows.append([*accuracy_row(report, task), *[""] * len(extra)])
    return rows


def accuracy_row(report: metrics.ClassificationReport, task: str) -> list[str | int]:
    """The accuracy as scikit-learn's report lays it out: the value in the f1 column, the
    samples as its support; multilabel: the label accuracy, per yes/no decision."""
    label = "label accuracy" if task == metadata.TASK_MULTILABEL else "accuracy"
    return [label, "", "", _number(report.accuracy), report.samples, ""]


def _optional(value: float | None) -> str:
    return "" if value is None else _number(value)


def _number(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.6g}"


def spreadsheet_safe(text: str) -> str:
    """`text` as a spreadsheet shows it: a cell starting with = + - @ (or a tab/CR) would be
    run as a formula, so it gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
