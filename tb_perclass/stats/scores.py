"""Score histograms (PR/ROC curves, AP, AUROC, calibration, top-k): state, update and compute.

The state is fixed in size and lives on the data's device; one batch costs a few elementwise
passes over its scores and one scatter-add, never a read back to the host (on accelerators,
rows to leave out are routed to a spare bin instead of being dropped).

Per class (multiclass: one-vs-rest; binary: the positive class; multilabel: per label) it
counts, for every score bin of `tb_perclass.score_bins`, the elements whose probability for
that class fell in the bin, separately for the class's positives and the others. Multiclass
adds the reliability of the top label (per predicted class and equal-width confidence bin:
count, correct, sum of confidences) and the per-class count of samples whose class is among
the `top_k` highest scores. Binary and multilabel add the sum of the probabilities per bin, so
that per-label reliability is exact too.

Multiclass layout. Scores are softmax probabilities, binned by their float32 bits; at most one
score of a row can exceed 1/2 (its top score), and only that one is re-binned on 1 - p. `counts`
holds two regions of (NUM_BINS + 1) x C cells, bin-major (cell = bin * C + class, so a row's
scores that share a bin hit neighbouring cells): all elements, then positives. Bin NUM_BINS
takes the rows left out. `top` is the reliability table [(C + 1) x CALIBRATION_BINS, 3],
`top_k` holds C + 2 counts (rows as in the stats table).

Binary and multilabel layout: elements are (sample, label) pairs; `counts` and `sums` hold two
regions of (NUM_BINS + 1) x L cells: negatives, then positives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_perclass import metadata, score_bins
from tb_perclass.score_summary import ScoreCounts
from tb_perclass.stats.arrays import ArrayOps
from tb_perclass.stats.batches import Batch, TaskSpec
from tb_perclass.stats.score_kernels import kernels_for

_REGION = score_bins.NUM_BINS + 1  # bins plus the bin of left-out elements
_CAL = score_bins.CALIBRATION_BINS
# Calibration bin of each score bin (and of the spare bin, which only left-out rows reach).
_CALIBRATION_OF_BIN = np.append(score_bins.calibration_bin_of_bin(), 0).astype(np.int64)


def labels_of(spec: TaskSpec) -> int:
    """Histogram columns: classes (multiclass), 1 (binary: the positive class), labels."""
    return 1 if spec.task == metadata.TASK_BINARY else spec.num_classes


def new_state(ops: ArrayOps, spec: TaskSpec, like: Any, top_k: int | None) -> dict[str, Any]:
    kernels = kernels_for(ops)
    width = labels_of(spec)
    state = {"counts": kernels.zeros_counts(2 * _REGION * width, like=like)}
    if spec.task == metadata.TASK_MULTICLASS:
        state["top"] = ops.zeros(((width + 2) * _CAL, 3), like=like)
        if top_k is not None:
            state["top_k"] = ops.zeros((spec.rows,), like=like)
    else:
        state["sums"] = ops.zeros((2 * _REGION * width,), like=like)
    return state


def update_state(
    ops: ArrayOps, state: dict[str, Any], outputs: Any, batch: Batch, spec: TaskSpec,
    top_k: int | None,
) -> dict[str, Any]:  # fmt: skip
    if spec.task == metadata.TASK_MULTICLASS:
        return _update_multiclass(ops, state, outputs, batch, spec, top_k)
    if spec.task in (metadata.TASK_BINARY, metadata.TASK_MULTILABEL):
        return _update_per_label(ops, state, outputs, batch, spec)
    raise ValueError(f"score histograms need class scores; task={spec.task!r} has none")


def _excluded(ops: ArrayOps, rows: Any, valid_rows: int, scores: Any, spec: TaskSpec):
    """Elements to leave out (invalid or ignored target, non-finite score), or None when the
    data is on the host and there are none: then no pass over the scores is spent on them."""
    kernels = kernels_for(ops)
    host = ops.is_on_host(scores)
    # On the host, format_batch refused invalid targets: only ignored ones can be there.
    if host and spec.ignore_index is None and kernels.all_finite(scores):
        return None
    nonfinite = ops.logical_not(ops.equal(ops.finite_or_zero(scores), scores))
    excluded = ops.logical_or(ops.greater(rows, valid_rows - 1), nonfinite)
    if host and ops.all_true(ops.logical_not(excluded)):
        return None
    return excluded


def _update_multiclass(
    ops: ArrayOps, state: dict[str, Any], outputs: Any, batch: Batch, spec: TaskSpec,
    top_k: int | None,
) -> dict[str, Any]:  # fmt: skip
    kernels = kernels_for(ops)
    classes = spec.num_classes
    probabilities = kernels.probabilities(outputs, spec.from_logits)
    predicted = batch.cells
    top = ops.take_rows(probabilities, predicted)  # read before the buffer becomes bin keys
    excluded = _excluded(ops, batch.rows, classes, top, spec)
    if excluded is not None:
        probabilities = kernels.exclude_rows(probabilities, excluded)
    index = kernels.bin_index(probabilities, classes)  # (B, C): bin * C + class
    # Only a row's top score can reach 1/2; it alone is binned on 1 - p above 1/2.
    top_bin = kernels.top_bins(top)
    if excluded is not None:
        top_bin = ops.where(excluded, score_bins.EXCLUDED_BIN, top_bin)
    index = kernels.set_at(index, predicted, ops.combine_index(top_bin, predicted, classes))
    counts = kernels.add_counts(state["counts"], index)
    labels = batch.rows if excluded is None else ops.clip(batch.rows, 0, classes - 1)
    positive = ops.take_rows(index, labels) + _REGION * classes
    state["counts"] = kernels.add_counts(counts, positive)
    # Top-label reliability per predicted class; left-out rows go to the spare class row C.
    if excluded is not None:
        predicted = ops.where(excluded, classes, predicted)
    reliability_row = ops.combine_index(
        predicted, kernels.lookup(_CALIBRATION_OF_BIN, top_bin), _CAL
    )
    values = ops.stack_columns([ops.ones_like(top), batch.correct, top])
    state["top"] = ops.scatter_add_rows(state["top"], reliability_row, values)
    if top_k is not None:
        hits = kernels.top_k_hits(outputs, labels, top_k, like=state["top_k"])
        rows = batch.rows if excluded is None else ops.where(excluded, spec.invalid_row, batch.rows)
        state["top_k"] = ops.scatter_add_rows(state["top_k"], rows, hits)
    return state


def _update_per_label(
    ops: ArrayOps, state: dict[str, Any], outputs: Any, batch: Batch, spec: TaskSpec
) -> dict[str, Any]:
    kernels = kernels_for(ops)
    width = labels_of(spec)
    scores = ops.reshape(outputs, (-1,))
    bins, probability = kernels.label_bins(scores, spec.from_logits)
    if spec.task == metadata.TASK_BINARY:
        label, positive, valid_rows = 0, batch.rows, 2
    else:
        label, positive, valid_rows = batch.rows, ops.greater(batch.cells, 1), width
    index = bins * width + label + ops.to_index(positive) * (_REGION * width)
    excluded = _excluded(ops, batch.rows, valid_rows, scores, spec)
    if excluded is not None:
        index = ops.where(excluded, score_bins.EXCLUDED_BIN * width, index)
    state["counts"] = kernels.add_counts(state["counts"], index)
    state["sums"] = kernels.add_counts(state["sums"], index, probability)
    return state


def _regions(flat: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    table = flat.reshape(2, _REGION, width)[:, : score_bins.NUM_BINS]  # drop left-out bin
    return table[0].T.copy(), table[1].T.copy()


def compute_counts(ops: ArrayOps, state: dict[str, Any], spec: TaskSpec) -> ScoreCounts:
    width = labels_of(spec)
    first, positives = _regions(np.asarray(ops.to_numpy(state["counts"])), width)
    if spec.task == metadata.TASK_MULTICLASS:
        top = np.asarray(ops.to_numpy(state["top"])).reshape(width + 2, _CAL, 3)[:width]
        top_k = state.get("top_k")
        return ScoreCounts(
            positives=positives,
            negatives=first - positives,  # the first region counts all elements
            top=top,
            top_k=None if top_k is None else np.asarray(ops.to_numpy(top_k))[:width],
        )
    negative_sums, positive_sums = _regions(np.asarray(ops.to_numpy(state["sums"])), width)
    return ScoreCounts(positives=positives, negatives=first, sums=negative_sums + positive_sums)


def reset_state(ops: ArrayOps, state: dict[str, Any]) -> dict[str, Any]:
    return {name: ops.reset(value) for name, value in state.items()}
