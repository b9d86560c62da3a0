"""task='multilabel': scores and 0/1 targets of shape (B, L); each (sample, label) pair is one
element, with the label as its row and 2 * target + prediction (TN, FP, FN, TP) as its
confusion cell. Each label is a binary task (`binary`'s targets and thresholded prediction)."""

from __future__ import annotations

from typing import Any

from tb_perclass.logger import losses as loss_functions
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.tasks.batch import (
    Batch,
    check_columns,
    check_losses,
    check_scores,
    computed_losses,
    shape_text,
)
from tb_perclass.logger.tasks.binary import binary_targets, confidence, predict_positive, route

LOSS_EXAMPLE = "F.binary_cross_entropy_with_logits(..., reduction='none'), one per sample and label"


def check_outputs(ops: ArrayOps, outputs: Any, num_labels: int | None) -> tuple[int, ...]:
    """The outputs' shape, once it is (batch, num_labels)."""
    shape = ops.shape(outputs)
    if len(shape) != 2:
        raise ValueError(
            f"outputs for task='multilabel' must have shape (batch, num_labels); got shape "
            f"{shape_text(shape)}"
        )
    check_scores(ops, outputs)
    check_columns(shape, num_labels, "label", "labels")
    return shape


def infer_num_classes(ops: ArrayOps, outputs: Any) -> int:
    return check_outputs(ops, outputs, None)[1]


def check(ops: ArrayOps, outputs: Any, targets: Any, losses: Any, spec: TaskSpec) -> None:
    """Shapes and dtypes: free on any device."""
    out_shape = check_outputs(ops, outputs, spec.num_classes)
    target_shape = ops.shape(targets)
    if target_shape != out_shape:
        raise ValueError(
            f"targets for task='multilabel' must have the outputs' shape "
            f"{shape_text(out_shape)}, one 0/1 per sample and label; got shape "
            f"{shape_text(target_shape)}"
        )
    if losses is not None:
        check_losses(ops, losses, out_shape, LOSS_EXAMPLE)


def to_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any | None,
    spec: TaskSpec,
    with_confidence: bool,
) -> Batch:
    """The checked batch as elements, one per (sample, label) pair."""
    num_labels = spec.num_classes
    out_shape = ops.shape(outputs)
    batch = out_shape[0]
    num_elements = None if batch is None else batch * num_labels  # None: tracing a graph
    targets_seen = binary_targets(ops, ops.reshape(targets, (-1,)), spec)
    rows = route(ops, ops.tiled_range(num_labels, batch, like=outputs), targets_seen, spec)
    flat_scores = ops.reshape(outputs, (-1,))
    if losses is None:
        losses = computed_losses(
            ops,
            outputs,
            targets,
            out_shape,
            spec,
            lambda: loss_functions.binary_loss(
                spec.loss, ops, flat_scores, targets_seen.positive, from_logits=spec.from_logits
            ),
        )
    if len(ops.shape(losses)) != 1:  # given, or the user's: one per sample and label
        losses = ops.reshape(losses, (-1,))
    predicted = ops.reshape(predict_positive(ops, outputs, spec), (-1,))
    cells = ops.to_index(targets_seen.positive) * 2 + ops.to_index(predicted)
    return Batch(
        size=num_elements,
        rows=rows,
        cells=cells,
        correct=ops.equal(predicted, targets_seen.positive),
        losses=losses,
        decided_by=flat_scores,
        confidence=confidence(ops, flat_scores, predicted, spec) if with_confidence else None,
    )
