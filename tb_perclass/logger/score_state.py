"""Score histograms on the device (`PerClassWriter(scores=True)`): new, update, read back.

They feed the `scores` summary (`format/score_tensor.py`): PR and ROC curves, average
precision, AUROC, thresholds, calibration and top-k accuracy per class. The state is fixed in
size and lives on the data's device; a batch costs a few elementwise passes over its scores and
one scatter-add, and never reads back from the device (on an accelerator, elements to leave out
are routed to a spare bin instead of being checked).

Per class (multiclass: one-vs-rest; binary: the positive class; multilabel: per label) it
counts, in every bin of `format/score_bins.py`, the elements whose probability for the class
fell in the bin: all elements, and the class's positives. An element is a sample, or for
multilabel a (sample, label) pair; elements with an invalid or ignored target or non-finite
outputs count nowhere.

- `counts`: int32 W x (NUM_BINS + 1) cells, twice: multiclass all elements then positives,
  binary and multilabel negatives then positives. Each column's bins are neighbours
  (cell = column * CELLS_PER_COLUMN + bin): a row's scores hit cells at increasing addresses,
  which a CPU's prefetcher follows (at 256 x 1000 scores the binning and scatter-add take
  5-20 % less time than with bin-major cells). Bin NUM_BINS takes the left-out elements.
- multiclass `top`: the reliability of the top label, (C + 2) x CALIBRATION_BINS rows of
  [count, correct, sum of confidences] per predicted class (row C takes left-out samples).
- multiclass `top_k` (when `spec.top_k`): per class row (as the stats table's rows), the
  samples whose class ranked among the k highest outputs.
- binary and multilabel `sums`: the sums of the probabilities, in the cells of `counts`, so
  that reliability per label is exact.

Multiclass scores are softmax probabilities binned by their float32 bits; at most one score of
a row can reach 1/2 (its top score, the argmax the batch has already), and only that one is
binned on 1 - p.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_perclass.format import metadata, score_bins
from tb_perclass.format.score_tensor import ScoreCounts
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.tasks.batch import Batch

_COLUMN = score_bins.CELLS_PER_COLUMN  # bins, and the bin of left-out elements
_CAL = score_bins.CALIBRATION_BINS
# The calibration bin of each score bin (and of the spare bin, which only left-out rows reach).
_CALIBRATION_OF_BIN = np.append(score_bins.calibration_bin_of_bin(), 0).astype(np.int64)


def width(spec: TaskSpec) -> int:
    """Histogram columns: classes (multiclass), 1 (binary: the positive class), labels."""
    return 1 if spec.task == metadata.TASK_BINARY else spec.num_classes


def shapes(spec: TaskSpec) -> dict[str, tuple[tuple[int, ...], str]]:
    """Every state array of `spec`: name -> (shape, dtype name). Keras builds its variables
    from this; `new` builds the same arrays."""
    columns = width(spec)
    result = {"counts": ((2 * _COLUMN * columns,), "int32")}
    if spec.task == metadata.TASK_MULTICLASS:
        result["top"] = (((columns + 2) * _CAL, 3), "float64")
        if spec.top_k:
            result["top_k"] = ((spec.rows,), "float64")
    else:
        result["sums"] = ((2 * _COLUMN * columns,), "float64")
    return result


def new(ops: ArrayOps, spec: TaskSpec, like: Any) -> dict[str, Any]:
    arrays = {}
    for name, (shape, dtype) in shapes(spec).items():
        arrays[name] = (
            ops.zeros_counts(shape[0], like) if dtype == "int32" else ops.zeros(shape, like)
        )
    return arrays


def update(
    ops: ArrayOps, state: dict[str, Any], outputs: Any, batch: Batch, spec: TaskSpec
) -> dict[str, Any]:
    """Adds a checked batch (`outputs` as given to `update()`, prepared); returns the state
    (a library may update it in place or return new arrays)."""
    if spec.task == metadata.TASK_MULTICLASS:
        return _update_multiclass(ops, state, outputs, batch, spec)
    return _update_per_label(ops, state, outputs, batch, spec)


def _left_out(ops: ArrayOps, rows: Any, valid_rows: int, scores: Any, spec: TaskSpec) -> Any:
    """The elements to leave out (invalid or ignored target, non-finite score), or None when
    the data is on the host and there are none: then no pass over the scores is spent."""
    host = ops.is_on_host(scores)
    # On the host the task refused invalid targets already; only ignored ones can be there.
    if host and spec.ignore_index is None and ops.all_finite(scores):
        return None
    excluded = ops.logical_or(
        ops.greater(rows, valid_rows - 1), ops.logical_not(ops.is_finite(scores))
    )
    if host and ops.all_true(ops.logical_not(excluded)):
        return None
    return excluded


def _update_multiclass(
    ops: ArrayOps, state: dict[str, Any], outputs: Any, batch: Batch, spec: TaskSpec
) -> dict[str, Any]:
    classes = spec.num_classes
    probabilities = ops.score_probabilities(outputs, spec.from_logits)
    predicted = batch.cells
    top = ops.take_rows(probabilities, predicted)  # before the buffer turns into bin indices
    excluded = _left_out(ops, batch.rows, classes, top, spec)
    if excluded is not None:
        probabilities = ops.exclude_score_rows(probabilities, excluded)
    index = ops.score_bin_index(probabilities, classes)  # (B, C): class * _COLUMN + bin
    top_bin = ops.top_score_bins(top)
    if excluded is not None:
        top_bin = ops.where(excluded, score_bins.EXCLUDED_BIN, top_bin)
    index = ops.set_columns(index, predicted, ops.combine_index(predicted, top_bin, _COLUMN))
    labels = batch.rows if excluded is None else ops.clip(batch.rows, 0, classes - 1)
    # Every score in the first region, the target's once more in the positives region.
    state["counts"] = ops.add_score_counts(state["counts"], index, labels, _COLUMN * classes)
    if excluded is not None:  # the reliability of left-out rows goes to the spare row C
        predicted = ops.where(excluded, classes, predicted)
    reliability_rows = ops.combine_index(predicted, ops.lookup(_CALIBRATION_OF_BIN, top_bin), _CAL)
    # [1, correct, confidence]: a row with a non-finite top score is a left-out row, whose
    # count goes to the spare row C with the rest of it.
    values = ops.reliability_columns(batch.correct, top)
    state["top"] = ops.scatter_add_rows(state["top"], reliability_rows, values)
    if spec.top_k:
        hits = ops.top_k_hits(outputs, labels, spec.top_k, like=state["top_k"])
        rows = batch.rows if excluded is None else ops.where(excluded, spec.invalid_row, batch.rows)
        state["top_k"] = ops.scatter_add_rows(state["top_k"], rows, hits)
    return state


def _update_per_label(
    ops: ArrayOps, state: dict[str, Any], outputs: Any, batch: Batch, spec: TaskSpec
) -> dict[str, Any]:
    columns = width(spec)
    scores = ops.reshape(outputs, (-1,))
    bins, probability = ops.label_score_bins(scores, spec.from_logits)
    if spec.task == metadata.TASK_BINARY:  # rows are the targets 0 / 1, one column
        index, positive, valid_rows = bins, batch.rows, 2
    else:  # rows are the labels, cells 2 * target + prediction
        index = ops.combine_index(batch.rows, bins, _COLUMN)
        positive, valid_rows = ops.greater(batch.cells, 1), columns
    index = index + ops.to_index(positive) * (_COLUMN * columns)
    excluded = _left_out(ops, batch.rows, valid_rows, scores, spec)
    if excluded is not None:
        index = ops.where(excluded, score_bins.EXCLUDED_BIN, index)  # column 0's spare bin
    state["counts"] = ops.add_counts(state["counts"], index)
    state["sums"] = ops.add_counts(state["sums"], index, probability)
    return state


def read(ops: ArrayOps, state: dict[str, Any], spec: TaskSpec) -> ScoreCounts:
    """The state on the host as the step's `ScoreCounts` (one transfer per array)."""
    return counts_of({name: np.asarray(ops.to_numpy(array)) for name, array in state.items()}, spec)


def counts_of(host: dict[str, np.ndarray], spec: TaskSpec) -> ScoreCounts:
    """`ScoreCounts` from the state's arrays already on the host (Keras reads its variables)."""
    columns = width(spec)
    first, positives = _regions(host["counts"], columns)
    if spec.task == metadata.TASK_MULTICLASS:
        top = host["top"].reshape(columns + 2, _CAL, 3)[:columns]
        top_k = host.get("top_k")
        return ScoreCounts(
            positives=positives,
            negatives=first - positives,  # the first region counts all elements
            top=top,
            top_k=None if top_k is None else top_k[:columns],
        )
    negative_sums, positive_sums = _regions(host["sums"], columns)
    return ScoreCounts(positives=positives, negatives=first, sums=negative_sums + positive_sums)


def _regions(flat: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    table = flat.reshape(2, columns, _COLUMN)[:, :, : score_bins.NUM_BINS]  # drop the spare bin
    return table[0].astype(np.float64), table[1].astype(np.float64)


def reset(ops: ArrayOps, state: dict[str, Any]) -> dict[str, Any]:
    return {name: ops.reset(array) for name, array in state.items()}
