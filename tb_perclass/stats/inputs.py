"""Checking and normalising one batch of `update()` arguments into labels, predictions and losses.

Every check here reads only shapes and dtypes, which costs nothing on any device. The one check
that needs values (labels inside [0, C)) is done at once when the labels are in host memory and
deferred otherwise: on an accelerator, out-of-range labels are routed to a spare row of the state
table and reported by `write()`, so `update()` never waits for the device.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tb_perclass.stats import losses as loss_functions
from tb_perclass.stats.arrays import ArrayOps


@dataclasses.dataclass
class Batch:
    size: int
    rows: Any  # int64 [B]: the label, or num_classes for a label outside [0, C) (accelerators only)
    correct: Any  # bool [B]: top-1 prediction equals the label
    losses: Any  # float [B]: per-sample loss, possibly non-finite


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def infer_num_classes(ops: ArrayOps, outputs: Any) -> int:
    """The class count implied by multiclass outputs, for writers created without one."""
    shape = ops.shape(outputs)
    _check_multiclass_outputs(ops, outputs, shape, num_classes=None)
    return shape[1]


def _check_multiclass_outputs(
    ops: ArrayOps, outputs: Any, shape: tuple[int, ...], num_classes: int | None
) -> None:
    if len(shape) != 2 or shape[1] < 2:
        hint = (
            " For one output per sample (a binary classifier) use task='binary'."
            if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)
            else " Flatten extra axes first, e.g. outputs.reshape(-1, num_classes) (and the "
            "targets alike)."
        )
        raise ValueError(
            f"outputs must have shape (batch, num_classes) with num_classes >= 2 for "
            f"task='multiclass'; got shape {_shape_text(shape)}.{hint}"
        )
    if not ops.is_floating(outputs):
        raise TypeError(
            f"outputs has dtype {ops.dtype_name(outputs)}; pass the model's scores (logits, or "
            "probabilities with from_logits=False) of shape (batch, num_classes), not predicted "
            "labels"
        )
    if num_classes is not None and shape[1] != num_classes:
        raise ValueError(
            f"outputs has {shape[1]} columns (shape {_shape_text(shape)}) but this writer has "
            f"{num_classes} classes (from class_names/num_classes); the model's outputs and "
            "class_names must have one entry per class"
        )


def multiclass_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any | None,
    *,
    num_classes: int,
    from_logits: bool,
) -> Batch:
    """Validates a multiclass batch and returns what the per-class state needs.

    `targets` are class indices of shape (B,) (any integer dtype) or one-hot / soft target rows
    of shape (B, C). Without `losses`, the per-sample cross-entropy is computed from `outputs`.
    """
    out_shape = ops.shape(outputs)
    _check_multiclass_outputs(ops, outputs, out_shape, num_classes)
    size = out_shape[0]
    target_shape = ops.shape(targets)

    if len(target_shape) == 1:
        if not ops.is_integer(targets):
            raise TypeError(
                f"targets has dtype {ops.dtype_name(targets)} and shape "
                f"{_shape_text(target_shape)}; class-index targets must be integers (e.g. "
                "targets.long() in PyTorch, tf.cast(targets, tf.int64), "
                "targets.astype(np.int64)), or pass one-hot rows of shape (batch, num_classes)"
            )
        distributions = None
        labels = ops.to_index(targets)
    elif len(target_shape) == 2:
        if target_shape[1] != num_classes:
            raise ValueError(
                f"targets has shape {_shape_text(target_shape)}: one-hot targets need "
                f"{num_classes} columns, one per class (the outputs have {num_classes}); for "
                "class indices pass a 1-D array of shape (batch,)"
            )
        distributions = targets
        labels = ops.argmax_rows(targets)
    else:
        raise ValueError(
            f"targets must be class indices of shape (batch,) or one-hot rows of shape "
            f"(batch, {num_classes}); got shape {_shape_text(target_shape)}"
        )
    if target_shape[0] != size:
        raise ValueError(
            f"outputs has {size} samples (shape {_shape_text(out_shape)}) but targets has "
            f"{target_shape[0]} (shape {_shape_text(target_shape)}); pass the targets of the "
            "same batch"
        )
    if losses is not None:
        _check_losses(ops, losses, size)

    if ops.is_on_host(labels):
        if size:
            _check_labels_now(ops, labels, num_classes)
        rows = gather_index = labels
    else:
        # Labels below 0 clip to -1 and above C-1 to C; modulo C+1 sends both to the spare row C.
        rows = ops.clip(labels, -1, num_classes) % (num_classes + 1)
        gather_index = ops.clip(labels, 0, num_classes - 1)

    if losses is None:
        if distributions is not None:
            losses = loss_functions.cross_entropy_from_distributions(
                ops, outputs, distributions, from_logits=from_logits
            )
        else:
            losses = loss_functions.cross_entropy_from_labels(
                ops, outputs, gather_index, from_logits=from_logits
            )
    correct = ops.equal(ops.argmax_rows(outputs), labels)
    return Batch(size=size, rows=rows, correct=correct, losses=losses)


def _check_losses(ops: ArrayOps, losses: Any, size: int) -> None:
    shape = ops.shape(losses)
    if len(shape) == 0:
        raise ValueError(
            "losses is a single value (shape ()); pass one loss per sample, e.g. "
            "F.cross_entropy(logits, targets, reduction='none') in PyTorch or a Keras loss "
            "created with reduction=None"
        )
    if shape != (size,):
        raise ValueError(
            f"losses has shape {_shape_text(shape)} but the batch has {size} samples; pass one "
            f"loss per sample, shape ({size},)"
            + (" (squeeze the last axis)" if shape == (size, 1) else "")
        )
    if not ops.is_floating(losses):
        raise TypeError(f"losses has dtype {ops.dtype_name(losses)}; pass floating-point losses")


def _check_labels_now(ops: ArrayOps, labels: Any, num_classes: int) -> None:
    low, high = ops.min_max(labels)
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise ValueError(
            f"targets contains label {bad}, outside [0, {num_classes}): this writer has "
            f"{num_classes} classes. Fix the labels, or create the writer with class_names (or "
            "num_classes) covering every label; nothing from this batch was recorded"
        )
