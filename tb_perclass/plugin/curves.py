"""The curves route's answer: every step of one series' per-class statistics, in one request.

From the series' `StatsTable`: loss, and the counts per class and step (count, correct, the
non-finite counts, and TP/FP/FN for the precision, recall and F1 curves when the series records
confusion counts). Version 3 stats carry TP/FP/FN themselves; for versions 1 and 2 they come from
the confusion tensors, aligned with the stats steps (null where a step has none). AP, AUROC, ECE
and top-k accuracy come from the score histograms when the series records them (`scores`).

`format=binary` (what the tab fetches) sends the counts as they are held, in their smallest
unsigned types, and leaves out the ones that are zero at every step (`binary_encoding`); the tab
derives accuracy and the rates. The JSON answer keeps its documented fields (accuracy included).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_perclass.format import metadata, metrics
from tb_perclass.plugin import scores
from tb_perclass.plugin.reader import PerClassReader, listed
from tb_perclass.plugin.stats_table import StatsTable

_COUNTS = ("count", "correct", "nonfinite", "nonfinite_outputs")
# The score series (`scores.series_over_steps`): rates in [0, 1], sent as float32 when binary.
_RATES = ("ap", "auroc", "ece", "top_k_accuracy")


def answer(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str
) -> dict[str, Any]:
    """The answer with the arrays as held: loss float32 [S, C], counts unsigned [S, C] (or None
    when zero at every step), tp/fp/fn when known."""
    stats: StatsTable = reader.series(ctx, experiment_id, run, name, metadata.KIND_STATS)
    result: dict[str, Any] = {
        "run": run,
        "name": name,
        "task": stats.meta.task,
        "loss_name": stats.meta.loss,
        "class_names": list(stats.meta.class_names),
        "steps": stats.steps,
        "wall_times": stats.wall_times,
        "loss": stats.loss,
        **{key: stats.counts.get(key) for key in _COUNTS},
        "invalid_targets": stats.invalid_targets,
        "ignored": stats.ignored,
    }
    by_scores, skipped = scores.series_over_steps(reader, ctx, experiment_id, run, name, stats)
    result.update(by_scores)
    skipped = stats.skipped + skipped
    if stats.has_true_false:
        for key in metadata.STATS_TRUE_FALSE:
            result[key] = stats.counts.get(key)
        result["true_false"] = True
    else:
        result["true_false"] = False
        confusion, confusion_skipped = reader.companion(
            ctx, experiment_id, run, name, stats, metadata.KIND_CONFUSION
        )
        skipped += confusion_skipped
        legacy = None if confusion is None else confusion.legacy
        if legacy is not None and len(legacy.steps):
            result.update(_aligned_true_false(stats, legacy))
            result["true_false"] = True
    result["skipped"] = listed(skipped)
    return result


def _aligned_true_false(stats: StatsTable, legacy: Any) -> dict[str, np.ndarray]:
    """Version-1/2 TP/FP/FN (from the confusion tensors) on the stats steps: float64 [S, C],
    NaN (null) where a step has no confusion counts."""
    where = np.searchsorted(legacy.steps, stats.steps)
    where = np.minimum(where, len(legacy.steps) - 1)
    found = legacy.steps[where] == stats.steps
    aligned = {}
    for key, counts in zip(metadata.STATS_TRUE_FALSE, legacy.true_false):
        values = np.full((len(stats.steps), stats.meta.num_classes), np.nan)
        values[found] = counts[where[found]]
        aligned[key] = values
    return aligned


def as_json(found: dict[str, Any]) -> dict[str, Any]:
    """The JSON answer: every count as integers (zeros where not held), `accuracy` =
    correct / count (null without samples), tp/fp/fn only when known."""
    shape = found["loss"].shape
    counts = {
        key: np.zeros(shape, np.int64) if found[key] is None else found[key].astype(np.int64)
        for key in _COUNTS
    }
    result = {key: value for key, value in found.items() if key not in (*_COUNTS, "true_false")}
    result.update(counts)
    result["accuracy"] = metrics.accuracy(counts["correct"], counts["count"])
    for key in metadata.STATS_TRUE_FALSE:
        if key in found:
            value = found[key]
            result[key] = np.zeros(shape, np.int64) if value is None else value
    return result


def as_binary(found: dict[str, Any]) -> dict[str, Any]:
    """What `binary_encoding` sends: the held arrays, and the names of those zero at every step
    (`zeros`: the tab reads them as zeros)."""
    result = {key: value for key, value in found.items() if value is not None}
    result["zeros"] = [key for key, value in found.items() if value is None]
    for key in _RATES:  # float32 is ample for a drawn rate; float64 would double the answer
        if key in result:
            result[key] = result[key].astype(np.float32)
    return result
