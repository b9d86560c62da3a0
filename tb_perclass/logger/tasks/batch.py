"""The common form every task turns a batch into (`Batch`), and the checks the tasks share.

Each task turns a batch into the same `Batch` of elements: samples for multiclass, binary and
regression, (sample, label) pairs for multilabel. Each element has a row (its class or label), a
confusion cell, whether it was predicted correctly, a loss and the output value its prediction
was made from, so one state update serves all tasks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from tb_perclass.logger import losses as loss_functions
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.spec import TaskSpec


@dataclasses.dataclass
class Batch:
    size: int  # number of elements
    rows: Any  # int64 [N]: class or label; spec.invalid_row / spec.ignored_row when routed away
    cells: Any  # int64 [N]: predicted class, or 2 * target + prediction (multilabel)
    correct: Any  # bool [N]: prediction equals target (counted only where `decided_by` is finite)
    losses: Any  # float [N], possibly non-finite
    # float [N]: the output each prediction was made from: the row's maximum (multiclass), the
    # score (binary, multilabel) or the predicted value (regression). Where it is NaN or
    # infinite the prediction means nothing: the element counts for its class, never as
    # correct, and stays out of the confusion counts and the kept samples.
    decided_by: Any
    # Probability of the predicted outcome [N]; only computed when samples are kept.
    confidence: Any | None = None


def shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check_scores(ops: ArrayOps, outputs: Any) -> None:
    if not ops.is_floating(outputs):
        raise TypeError(
            f"outputs has dtype {ops.dtype_name(outputs)}; pass the model's scores (logits, or "
            "probabilities with from_logits=False), not predicted labels"
        )


def check_columns(shape: tuple[int, ...], expected: int | None, unit: str, units: str) -> None:
    """`unit`/`units`: what a column is, in the singular and the plural ("class", "classes")."""
    if expected is not None and shape[1] != expected:
        raise ValueError(
            f"outputs has {shape[1]} columns (shape {shape_text(shape)}) but this writer has "
            f"{expected} {units} (from class_names/num_classes); the model's outputs and "
            f"class_names must have one entry per {unit}"
        )


def check_batch_sizes(out_shape: tuple[int, ...], target_shape: tuple[int, ...]) -> None:
    if target_shape[0] != out_shape[0]:
        raise ValueError(
            f"outputs has {out_shape[0]} samples (shape {shape_text(out_shape)}) but targets has "
            f"{target_shape[0]} (shape {shape_text(target_shape)}); pass the targets of the "
            "same batch"
        )


def check_losses(ops: ArrayOps, losses: Any, expected: tuple[int, ...], example: str) -> None:
    shape = ops.shape(losses)
    if len(shape) == 0:
        raise ValueError(
            f"losses is a single value (shape ()); pass one loss per sample, e.g. {example} in "
            "PyTorch or a Keras loss created with reduction=None"
        )
    if shape != expected:
        per = "sample" if len(expected) == 1 else "sample and label"
        raise ValueError(
            f"losses has shape {shape_text(shape)} but the batch has {expected[0]} samples: "
            f"pass one loss per {per}, shape {shape_text(expected)}"
            + (" (squeeze the last axis)" if shape == expected + (1,) else "")
            + f", e.g. {example}"
        )
    if not ops.is_floating(losses):
        raise TypeError(f"losses has dtype {ops.dtype_name(losses)}; pass floating-point losses")


def computed_losses(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    expected: tuple[int, ...],
    spec: TaskSpec,
    builtin: Callable[[], Any],
) -> Any:
    """The per-sample losses when `update()` got none: the user's loss (checked to give one
    value per sample, or element, of shape `expected`), or `builtin()`, one of `losses`."""
    if not callable(spec.loss):
        return builtin()
    losses = spec.loss(outputs, targets)
    name = loss_functions.display_name(spec.loss)
    shape = ops.shape(losses) if hasattr(losses, "shape") else ()
    if tuple(shape) != tuple(expected):
        per = "sample" if len(expected) == 1 else "sample and label"
        raise ValueError(
            f"loss={name} returned shape {shape_text(shape)}; a per-class curve needs one value "
            f"per {per}, shape {shape_text(expected)}: do not average over the batch (PyTorch: "
            "reduction='none'; Keras: reduction=None)"
            + ("" if len(expected) == 1 else ", nor over the labels")
        )
    return losses
