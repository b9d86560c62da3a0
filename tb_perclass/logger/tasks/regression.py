"""task='regression': scalar predictions and targets, (B,) or (B, 1), grouped by the target
ranges `spec.bins` delimit. The row is the target's bin, the cell the prediction's bin, and a
prediction is correct when it falls in the target's bin."""

from __future__ import annotations

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

LOSS_EXAMPLE = "F.mse_loss(outputs, targets, reduction='none')"


def infer_num_classes(ops: ArrayOps, outputs: Any) -> int:
    raise ValueError("task='regression' needs bins=[...], the edges between target ranges")


def check(ops: ArrayOps, outputs: Any, targets: Any, losses: Any, spec: TaskSpec) -> None:
    """Shapes and dtypes: free on any device."""
    out_shape, target_shape = ops.shape(outputs), ops.shape(targets)
    for argument, shape in (("outputs", out_shape), ("targets", target_shape)):
        if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            raise ValueError(
                f"{argument} for task='regression' must hold one value per sample, shape "
                f"(batch,) or (batch, 1); got shape {shape_text(shape)}"
            )
    check_batch_sizes(out_shape, target_shape)
    check_scores(ops, outputs)
    if not ops.is_floating(targets) and not ops.is_integer(targets):
        raise TypeError(f"targets has dtype {ops.dtype_name(targets)}; pass numeric targets")
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
    """The checked batch as elements, one per sample. Non-finite targets are refused here when
    they are in host memory; on an accelerator they go to the invalid row instead."""
    size = ops.shape(outputs)[0]
    predicted = ops.reshape(outputs, (-1,))
    values = ops.reshape(targets, (-1,))
    if losses is None:
        losses = computed_losses(
            ops,
            outputs,
            targets,
            (size,),
            spec,
            lambda: loss_functions.regression_loss(spec.loss, ops, predicted, values),
        )
    rows = ops.bucketize(values, spec.bins, like=outputs)
    finite = ops.equal(ops.finite_or_zero(values), values)
    if ops.is_on_host(values) and size and not ops.all_true(finite):
        raise ValueError(
            f"targets holds non-finite values, e.g. {ops.first_where_false(finite, values)!r}; "
            "a regression target must be a number; nothing from this batch was recorded"
        )
    rows = ops.where(finite, rows, spec.invalid_row)
    cells = ops.bucketize(predicted, spec.bins, like=outputs)
    return Batch(
        size=size,
        rows=rows,
        cells=cells,
        correct=ops.equal(rows, cells),
        losses=losses,
        decided_by=predicted,
        # No probability here: a mistake's weight is its distance from the target.
        confidence=(
            ops.abs(predicted - ops.cast_like(values, predicted)) if with_confidence else None
        ),
    )
