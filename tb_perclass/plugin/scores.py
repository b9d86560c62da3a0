"""The answers built from `scores` series (writers with scores=True): the Scores view's step
(every class's AP, AUROC, calibration and best-F1 threshold; the chosen classes' curves and
reliability), and the per-class series over the steps that the curves, heatmap and report use.

Curves are sent as sweeps: the confusion counts at each threshold where they change, from the
highest down (`score_tensor.Sweep`); ROC, PR, precision / recall / F1 against the threshold and
the counts at a dragged threshold all follow from them in the browser.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tensorboard import errors

from tb_perclass.format import metadata, metrics
from tb_perclass.format.score_tensor import ScoreColumns
from tb_perclass.plugin.reader import PerClassReader, listed, step_position
from tb_perclass.plugin.series import ScoresSeries, per_class, position_of
from tb_perclass.plugin.stats_table import StatsTable

MAX_CLASSES = 64  # curves per request
RANKED = 10  # most over- and under-confident classes listed
REPORT_COLUMNS = ("ap", "auroc", "ece", "top_k_accuracy")
# A step's per-class table ([C] each): these for every task, then best_f1 and best_threshold
# (binary, multilabel) and top_k_accuracy (multiclass with top-k).
EVERY_TASK_COLUMNS = (
    "ap",
    "ap_bound",
    "auroc",
    "auroc_bound",
    "ece",
    "signed_error",
    "positives",
    "negatives",
)
TABLE_COLUMNS = (*EVERY_TASK_COLUMNS, "best_f1", "best_threshold", "top_k_accuracy")


def step_answer(
    reader: PerClassReader,
    ctx: Any,
    experiment_id: str,
    run: str,
    name: str,
    step: int | None,
    classes: list[int],
) -> dict[str, Any]:
    series: ScoresSeries = reader.series(ctx, experiment_id, run, name, metadata.KIND_SCORES)
    meta = series.meta
    position = step_position(series, run, step, "score histograms")
    found_step = int(series.steps[position])
    for c in classes:
        if not 0 <= c < meta.num_classes:
            raise errors.InvalidArgumentError(
                f"classes has {c}; run {run!r} name {name!r} has {meta.num_classes} classes"
            )
    if len(classes) > MAX_CLASSES:
        raise errors.InvalidArgumentError(
            f"classes lists {len(classes)} classes; ask for at most {MAX_CLASSES} at a time"
        )
    columns = series.columns(position)
    values = per_class(series.meta, columns)
    stats, skipped = reader.companion(ctx, experiment_id, run, name, series, metadata.KIND_STATS)
    table = _table(series, columns, values, _count_at(stats, found_step))
    calibration = columns.calibration()
    overall = calibration.overall()
    signed = np.nan_to_num(values["signed_error"], nan=0.0)
    has_predictions = calibration.count.sum(-1) > 0
    if meta.task == metadata.TASK_BINARY:
        has_predictions = np.r_[has_predictions, has_predictions]
    order = np.argsort(-signed, kind="stable")
    return {
        "run": run,
        "name": name,
        "task": meta.task,
        "step": found_step,
        "steps": series.steps,
        "class_names": list(meta.class_names),
        "top_k": series.top_k,
        "calibration_bins": metadata.SCORE_CALIBRATION_BINS,
        "table": table,
        "overconfident": [int(c) for c in order if has_predictions[c] and signed[c] > 0][:RANKED],
        "underconfident": [int(c) for c in order[::-1] if has_predictions[c] and signed[c] < 0][
            :RANKED
        ],
        "overall": {
            "ece": float(overall.expected_error()),
            "signed_error": float(overall.signed_error()),
            "reliability": _reliability(overall),
        },
        "classes": [_class_detail(meta, columns, calibration, c) for c in classes],
        "skipped": listed(series.skipped + skipped),
    }


def every_step(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str
) -> list[tuple[int, dict[str, Any]]]:
    """Every step's per-class table (what `step_answer` serves as `table`: [C] columns and
    their averages), in step order, for `tb_perclass.analysis`."""
    series: ScoresSeries = reader.series(ctx, experiment_id, run, name, metadata.KIND_SCORES)
    stats, _ = reader.companion(ctx, experiment_id, run, name, series, metadata.KIND_STATS)
    return [
        (int(step), _step_table(series, i, _count_at(stats, int(step))))
        for i, step in enumerate(series.steps)
    ]


def _step_table(series: ScoresSeries, position: int, count: np.ndarray | None) -> dict:
    columns = series.columns(position)
    return _table(series, columns, per_class(series.meta, columns), count)


def _count_at(stats: StatsTable | None, step: int) -> np.ndarray | None:
    at = None if stats is None else position_of(stats.steps, step)
    return None if at is None else stats.count("count", at).astype(np.float64)


def _table(
    series: ScoresSeries,
    columns: ScoreColumns,
    values: dict[str, np.ndarray],
    count: np.ndarray | None,
) -> dict[str, Any]:
    """Every class's values at the step, [C] each, with macro and weighted averages (weighted
    by positives, as scikit-learn's `average="weighted"`; undefined values left out)."""
    table = {key: values[key] for key in EVERY_TASK_COLUMNS}
    if series.meta.task != metadata.TASK_MULTICLASS:
        f1, threshold = columns.best_f1()
        if series.meta.task == metadata.TASK_BINARY:  # the negative class: 1 - the positive's
            f1, threshold = _binary_negative_f1(columns, f1, threshold)
        table["best_f1"], table["best_threshold"] = f1, threshold
    if "top_k_hits" in values:
        table["top_k_accuracy"] = (
            metrics.accuracy(values["top_k_hits"], count) if count is not None else None
        )
    support = values["positives"]
    averages = {}
    for key in ("ap", "auroc", "ece", "top_k_accuracy", "best_f1"):
        column = table.get(key)
        if column is None:
            continue
        defined = np.isfinite(column)
        weights = support[defined]
        averages[key] = {
            "macro": float(column[defined].mean()) if defined.any() else None,
            "weighted": (
                float(np.average(column[defined], weights=weights)) if weights.sum() > 0 else None
            ),
        }
    table["averages"] = averages
    return table


def _binary_negative_f1(columns: ScoreColumns, f1: np.ndarray, threshold: np.ndarray):
    counts = columns.sweep(0)
    positives, negatives = counts.tp[-1], counts.fp[-1]
    # Predicting "negative" for p < t: TP = negatives below t, FP = positives below t.
    tp, fp = negatives - counts.fp, positives - counts.tp
    if negatives == 0:
        return np.r_[np.nan, f1], np.r_[np.nan, threshold]
    scores = 2 * tp / (tp + fp + negatives)
    best = len(scores) - 1 - int(np.argmax(scores[::-1]))  # ties: the highest threshold on 1 - p
    at = counts.thresholds[best]
    return np.r_[scores[best], f1], np.r_[1.0 - at if np.isfinite(at) else 0.0, threshold]


def _reliability(calibration: Any) -> dict[str, Any]:
    return {
        "count": calibration.count.astype(np.int64),
        "accuracy": calibration.accuracy,
        "confidence": calibration.confidence,
    }


def _class_detail(meta, columns: ScoreColumns, calibration: Any, c: int) -> dict[str, Any]:
    """One class's sweep (counts at each threshold) and reliability."""
    binary = meta.task == metadata.TASK_BINARY
    row = 0 if binary else c
    counts = columns.sweep(row)
    positives, negatives = int(counts.tp[-1]), int(counts.fp[-1])
    thresholds, tp, fp = counts.thresholds, counts.tp, counts.fp
    reliability = _reliability(
        type(calibration)(
            calibration.count[row], calibration.correct[row], calibration.confidence_sum[row]
        )
    )
    if binary and c == 0:
        # The negative class ranks by 1 - p: its predictions at each point are the
        # complement of the positive class's, walked the other way (nothing first, then the
        # scores below each threshold, then everything).
        tp, fp = (negatives - fp)[::-1], (positives - tp)[::-1]
        thresholds = np.r_[np.inf, 1.0 - thresholds[::-1][1:-1], 0.0]
        positives, negatives = negatives, positives
        reliability = {
            "count": reliability["count"][::-1],
            "accuracy": 1.0 - reliability["accuracy"][::-1],
            "confidence": 1.0 - reliability["confidence"][::-1],
        }
    return {
        "class": c,
        "positives": positives,
        "negatives": negatives,
        # Thresholds on the class's probability; the first is above every score (None: inf).
        "thresholds": [None if not np.isfinite(t) else float(t) for t in thresholds],
        "tp": tp,
        "fp": fp,
        "exact_thresholds": meta.task != metadata.TASK_MULTICLASS,
        "reliability": reliability,
    }


def report_columns(series: ScoresSeries, position: int, count: np.ndarray | None) -> dict:
    """The report's score columns at one step: AP, AUROC, ECE and top-k accuracy per class
    ([C]; top-k with the stats' counts at that step), their macro and weighted averages."""
    table = _step_table(series, position, count)
    result = {key: table[key] for key in REPORT_COLUMNS if table.get(key) is not None}
    result["averages"] = {key: table["averages"][key] for key in result}
    result["top_k"] = series.top_k
    return result


def series_over_steps(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str, stats: StatsTable
) -> tuple[dict[str, np.ndarray], tuple]:
    """AP, AUROC, ECE and top-k accuracy per class, [S, C] aligned with the stats steps
    (NaN where a step has no score histograms), and `top_k` (its k, 0 without), for the curves
    route; and the skipped steps of the scores series. Empty when the series has no scores."""
    series, skipped = reader.companion(ctx, experiment_id, run, name, stats, metadata.KIND_SCORES)
    if series is None or not len(series.steps):
        return {}, skipped
    over = series.over_steps
    positions = {int(step): i for i, step in enumerate(series.steps)}
    rows = [positions.get(int(step)) for step in stats.steps]
    have = np.array([row is not None for row in rows], dtype=bool)
    taken = np.array([row for row in rows if row is not None], dtype=np.int64)
    shape = (len(stats.steps), stats.meta.num_classes)
    result: dict[str, Any] = {"top_k": series.top_k}
    # float32 as the series keeps them: rates in [0, 1], sent to the tab as float32.
    for key in ("ap", "auroc", "ece"):
        aligned = np.full(shape, np.nan, dtype=np.float32)
        aligned[have] = over[key][taken]
        result[key] = aligned
    if "top_k_hits" in over:
        aligned = np.full(shape, np.nan, dtype=np.float32)
        count = stats.count("count")[have].astype(np.float64)
        aligned[have] = metrics.accuracy(over["top_k_hits"][taken], count)
        result["top_k_accuracy"] = aligned
    return result, skipped
