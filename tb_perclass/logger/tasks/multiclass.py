"""task='multiclass': outputs (B, C), the prediction is the argmax; targets are class indices
(B,) of any integer dtype, or one-hot / soft target rows (B, C)."""

from __future__ import annotations

from typing import Any

from tb_perclass.logger import losses as loss_functions
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.tasks.batch import (
    Batch,
    check_batch_sizes,
    check_columns,
    check_losses,
    check_scores,
    computed_losses,
    shape_text,
)

LOSS_EXAMPLE = "F.cross_entropy(logits, targets, reduction='none')"


def check_outputs(ops: ArrayOps, outputs: Any, num_classes: int | None) -> tuple[int, ...]:
    """The outputs' shape, once it is (batch, num_classes) with at least 2 classes."""
    shape = ops.shape(outputs)
    if len(shape) != 2 or shape[1] < 2:
        hint = (
            " For one output per sample (a binary classifier) use task='binary'."
            if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)
            else " Flatten extra axes first, e.g. outputs.reshape(-1, num_classes) (and the "
            "targets alike)."
        )
        raise ValueError(
            f"outputs must have shape (batch, num_classes) with num_classes >= 2 for "
            f"task='multiclass'; got shape {shape_text(shape)}.{hint}"
        )
    check_scores(ops, outputs)
    check_columns(shape, num_classes, "class", "classes")
    return shape


def infer_num_classes(ops: ArrayOps, outputs: Any) -> int:
    return check_outputs(ops, outputs, None)[1]


def check(ops: ArrayOps, outputs: Any, targets: Any, losses: Any, spec: TaskSpec) -> None:
    """Shapes and dtypes: free on any device."""
    num_classes = spec.num_classes
    out_shape = check_outputs(ops, outputs, num_classes)
    target_shape = ops.shape(targets)
    if len(target_shape) == 1:
        if not ops.is_integer(targets):
            raise TypeError(
                f"targets has dtype {ops.dtype_name(targets)} and shape "
                f"{shape_text(target_shape)}; class-index targets must be integers (e.g. "
                "targets.long() in PyTorch, tf.cast(targets, tf.int64), "
                "targets.astype(np.int64)), or pass one-hot rows of shape (batch, num_classes)"
            )
    elif len(target_shape) == 2:
        if target_shape[1] != num_classes:
            raise ValueError(
                f"targets has shape {shape_text(target_shape)}: one-hot targets need "
                f"{num_classes} columns, one per class (the outputs have {num_classes}); for "
                "class indices pass a 1-D array of shape (batch,)"
            )
    else:
        raise ValueError(
            f"targets must be class indices of shape (batch,) or one-hot rows of shape "
            f"(batch, {num_classes}); got shape {shape_text(target_shape)}"
        )
    check_batch_sizes(out_shape, target_shape)
    if losses is not None:
        check_losses(ops, losses, out_shape[:1], LOSS_EXAMPLE)


def to_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any | None,
    spec: TaskSpec,
    with_confidence: bool,
) -> Batch:
    """The checked batch as elements, one per sample. Target values are checked here when they
    are in host memory; on an accelerator an invalid one goes to the invalid row instead.
    Without `losses`, the per-sample loss of `spec.loss` is computed."""
    num_classes = spec.num_classes
    size = ops.shape(outputs)[0]
    if len(ops.shape(targets)) == 1:
        distributions = None
        labels = ops.to_index(targets)
    else:
        distributions = targets
        labels = ops.argmax_rows(targets)
    if ops.is_on_host(labels):
        if size:
            _check_labels_now(ops, labels, num_classes, spec.ignore_index)
        rows, gather_index = labels, labels
        if spec.ignore_index is not None:
            rows = ops.where(ops.equal(labels, spec.ignore_index), spec.ignored_row, labels)
            gather_index = ops.clip(labels, 0, num_classes - 1)
    else:
        # Labels below 0 clip to -1 and above C-1 to C; modulo C+1 sends both to the invalid row.
        rows = ops.clip(labels, -1, num_classes) % (num_classes + 1)
        if spec.ignore_index is not None:
            rows = ops.where(ops.equal(labels, spec.ignore_index), spec.ignored_row, rows)
        gather_index = ops.clip(labels, 0, num_classes - 1)

    if losses is None:
        losses = computed_losses(
            ops,
            outputs,
            targets,
            (size,),
            spec,
            lambda: loss_functions.multiclass_loss(
                spec.loss, ops, outputs, gather_index, distributions, from_logits=spec.from_logits
            ),
        )
    top, predictions = ops.max_rows(outputs)
    confidence = None
    if with_confidence:
        # Probability of the predicted class: softmax of the top logit, or the normalised
        # probability.
        confidence = (
            ops.exp(top - ops.logsumexp_rows(outputs))
            if spec.from_logits
            else top / ops.sum_rows(outputs)
        )
    return Batch(
        size=size,
        rows=rows,
        cells=predictions,
        correct=ops.equal(predictions, labels),
        losses=losses,
        # The row's maximum is finite unless an output is NaN or +inf, or all are -inf: -inf
        # alone is a masked class (a common idiom) and leaves the argmax meaningful.
        decided_by=top,
        confidence=confidence,
    )


def _check_labels_now(
    ops: ArrayOps, labels: Any, num_classes: int, ignore_index: int | None
) -> None:
    low, high = ops.min_max(labels)
    if 0 <= low and high < num_classes:
        return
    if ignore_index is not None:  # rare path: look again without the ignored samples
        kept = ops.where(ops.equal(labels, ignore_index), 0, labels)
        low, high = ops.min_max(kept)
        if 0 <= low and high < num_classes:
            return
    bad = low if low < 0 else high
    raise ValueError(
        f"targets contains label {bad}, outside [0, {num_classes}): this writer has "
        f"{num_classes} classes. Fix the labels, create the writer with class_names (or "
        "num_classes) covering every label, or pass ignore_index for labels to skip; nothing "
        "from this batch was recorded"
    )
