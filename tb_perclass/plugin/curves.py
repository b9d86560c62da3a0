"""The curves route's answer: every step of one series' per-class statistics, in one request.

Loss, count, accuracy and the non-finite counts per class and step from the `stats` series, plus
TP/FP/FN per class and step (for the precision, recall and F1 curves the tab draws) when the
series records confusion counts, and AP, AUROC, ECE and top-k accuracy when it records score
histograms (`scores`). `format=binary` sends the same answer through
`binary_encoding`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_perclass.format import metadata, metrics
from tb_perclass.plugin import scores
from tb_perclass.plugin.reader import PerClassReader, listed


def answer(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str
) -> dict[str, Any]:
    stats = reader.series(ctx, experiment_id, run, name, metadata.KIND_STATS)
    values = stats.values
    result = {
        "run": run,
        "name": name,
        "task": stats.meta.task,
        "loss_name": stats.meta.loss,
        "class_names": list(stats.meta.class_names),
        "steps": stats.steps,
        "wall_times": stats.wall_times,
        "loss": values[:, 0, :],
        "count": values[:, 1, :].astype(np.int64),
        "accuracy": metrics.accuracy(values[:, 2, :], values[:, 1, :]),
        "nonfinite": values[:, 3, :].astype(np.int64),
        "nonfinite_outputs": values[:, 4, :].astype(np.int64),
        "invalid_targets": stats.invalid_targets.astype(np.int64),
        "ignored": stats.ignored.astype(np.int64),
    }
    matrices, skipped = reader.companion(
        ctx, experiment_id, run, name, stats, metadata.KIND_CONFUSION
    )
    by_scores, scores_skipped = scores.series_over_steps(
        reader, ctx, experiment_id, run, name, stats
    )
    result.update(by_scores)
    result["skipped"] = listed(stats.skipped + skipped + scores_skipped)
    if matrices is not None:
        # Aligned with the stats steps; NaN (null) where a step has no confusion counts.
        positions = {int(step): i for i, step in enumerate(matrices.steps)}
        for key, counts in zip(("tp", "fp", "fn"), matrices.true_false_counts):
            aligned = np.full(values.shape[::2], np.nan)
            for row, step in enumerate(stats.steps):
                if int(step) in positions:
                    aligned[row] = counts[positions[int(step)]]
            result[key] = aligned
    return result
