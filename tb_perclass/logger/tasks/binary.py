"""task='binary': one score per sample, (B,) or (B, 1), positive when sigmoid(score) (or the
probability) exceeds the threshold; targets 0/1 of shape (B,) (integers, bools or floats; -1
for negatives too with a hinge loss). The target handling and the thresholded prediction serve
`multilabel` as well, which is a binary task per label."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from tb_perclass.logger import losses as loss_functions
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.tasks.batch import (
    Batch,
    check_batch_sizes,
    check_losses,
    check_scores,
    computed_losses,
    shape_text,
)

LOSS_EXAMPLE = "F.binary_cross_entropy_with_logits(..., reduction='none')"


def infer_num_classes(ops: ArrayOps, outputs: Any) -> int:
    return 2


def check(ops: ArrayOps, outputs: Any, targets: Any, losses: Any, spec: TaskSpec) -> None:
    """Shapes and dtypes: free on any device."""
    out_shape = ops.shape(outputs)
    if not _one_per_sample(out_shape):
        hint = (
            " Two or more columns of class scores are task='multiclass'."
            if len(out_shape) == 2
            else ""
        )
        raise ValueError(
            f"outputs for task='binary' must have one score per sample, shape (batch,) or "
            f"(batch, 1); got shape {shape_text(out_shape)}.{hint}"
        )
    check_scores(ops, outputs)
    target_shape = ops.shape(targets)
    if not _one_per_sample(target_shape):
        raise ValueError(
            f"targets for task='binary' must be 0/1 of shape (batch,); got shape "
            f"{shape_text(target_shape)}"
        )
    check_batch_sizes(out_shape, target_shape[:1])
    if losses is not None:
        check_losses(ops, losses, out_shape[:1], LOSS_EXAMPLE)


def _one_per_sample(shape: tuple[int, ...]) -> bool:
    return len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)


def to_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any | None,
    spec: TaskSpec,
    with_confidence: bool,
) -> Batch:
    """The checked batch as elements, one per sample."""
    out_shape = ops.shape(outputs)
    scores = ops.reshape(outputs, (-1,)) if len(out_shape) == 2 else outputs
    if len(ops.shape(targets)) == 2:
        targets = ops.reshape(targets, (-1,))
    size = out_shape[0]
    targets_seen = binary_targets(ops, targets, spec)
    rows = route(ops, ops.to_index(targets_seen.positive), targets_seen, spec)
    if losses is None:
        losses = computed_losses(
            ops,
            outputs,
            targets,
            (size,),
            spec,
            lambda: loss_functions.binary_loss(
                spec.loss, ops, scores, targets_seen.positive, from_logits=spec.from_logits
            ),
        )
    predicted = predict_positive(ops, scores, spec)
    return Batch(
        size=size,
        rows=rows,
        cells=ops.to_index(predicted),
        correct=ops.equal(predicted, targets_seen.positive),
        losses=losses,
        decided_by=scores,
        confidence=confidence(ops, scores, predicted, spec) if with_confidence else None,
    )


@dataclasses.dataclass
class BinaryTargets:
    positive: Any  # bool: target is 1
    binary: Any  # bool: target is 0 or 1
    ignored: Any | None  # bool: target is ignore_index (None without one)


def binary_targets(ops: ArrayOps, targets: Any, spec: TaskSpec) -> BinaryTargets:
    """Which flat targets are 1, which are 0 or 1, which are ignored; on the host, a target that
    is none of these is refused now (on an accelerator, `route` sends it to the invalid row)."""
    if not (ops.is_integer(targets) or ops.is_floating(targets) or ops.is_bool(targets)):
        raise TypeError(f"targets has dtype {ops.dtype_name(targets)}; pass 0/1 targets")
    positive = ops.equal(targets, 1)
    negative = ops.equal(targets, 0)
    if spec.loss in loss_functions.HINGES:  # hinge targets may be given as 1 / -1
        negative = ops.logical_or(negative, ops.equal(targets, -1))
    binary = ops.logical_or(negative, positive)
    ignored = None if spec.ignore_index is None else ops.equal(targets, spec.ignore_index)
    if ops.is_on_host(targets):
        allowed = binary if ignored is None else ops.logical_or(binary, ignored)
        if not ops.all_true(allowed):
            raise ValueError(
                "targets holds values other than 0 and 1"
                + ("" if ignored is None else f" (and ignore_index={spec.ignore_index})")
                + f", e.g. {ops.first_where_false(allowed, targets)!r}: targets of "
                f"task={spec.task!r} must be 0 or 1"
                + (" (or -1 for a hinge loss)" if spec.loss in loss_functions.HINGES else "")
                + " (class indices are task='multiclass'); nothing from this batch was recorded"
            )
    return BinaryTargets(positive=positive, binary=binary, ignored=ignored)


def route(ops: ArrayOps, rows: Any, seen: BinaryTargets, spec: TaskSpec) -> Any:
    """Rows of elements with a 0/1 target; the others go to the invalid or the ignored row."""
    rows = ops.where(seen.binary, rows, spec.invalid_row)
    if seen.ignored is not None:
        rows = ops.where(seen.ignored, spec.ignored_row, rows)
    return rows


def confidence(ops: ArrayOps, scores: Any, predicted: Any, spec: TaskSpec) -> Any:
    """Probability of the predicted outcome: p when predicted positive, 1 - p otherwise."""
    probability = ops.sigmoid(scores) if spec.from_logits else scores
    return ops.where(predicted, probability, 1.0 - probability)


def predict_positive(ops: ArrayOps, scores: Any, spec: TaskSpec) -> Any:
    """scores > threshold, in logit space when the scores are logits. Per-label thresholds
    broadcast along the last axis of (B, L) scores."""
    thresholds = spec.threshold
    if spec.from_logits:
        thresholds = tuple(math.log(t / (1.0 - t)) for t in thresholds)
    if len(thresholds) == 1:
        return ops.greater(scores, thresholds[0])
    return ops.greater(scores, ops.constant(thresholds, like=scores))
