"""Per-sample losses computed from a batch's outputs, written once over `ArrayOps`.

Used when `update()` is not given `losses=`. Every function returns one loss per element (per
sample; per sample and label for multilabel) on the outputs' device, following the definitions
of the frameworks' own losses so the curves match what the training loop optimises:

- cross-entropy from logits: log-softmax, as `torch.nn.functional.cross_entropy` and
  `keras.losses.*_crossentropy(from_logits=True)`; from probabilities: rows renormalised, then
  clipped to [1e-7, 1 - 1e-7] before the log, as Keras does;
- KL divergence: sum of t * (log t - log p) over classes, with 0 where t = 0 (as
  `torch.nn.functional.kl_div`; Keras clips t at 1e-7, which differs by about 1e-6);
- binary cross-entropy: as `binary_cross_entropy_with_logits`, or Keras' clipped form for
  probabilities;
- hinge and squared hinge: max(0, 1 - s * score) (squared), s = +1 / -1 for positive /
  negative targets, which may be given as 1/0 or 1/-1 (Keras' `hinge`, per element);
- MSE, MAE and MSLE (Keras: log(max(x, 1e-7) + 1)) for regression, averaged over the output's
  trailing axis.

A user's own loss is any callable `loss(outputs, targets)` returning one value per element.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tb_perclass.format import metadata
from tb_perclass.logger.arrays import ArrayOps

PROBABILITY_EPSILON = 1e-7

CROSS_ENTROPY = "cross_entropy"
KL_DIVERGENCE = "kl_divergence"
BINARY_CROSS_ENTROPY = "binary_cross_entropy"
HINGE = "hinge"
SQUARED_HINGE = "squared_hinge"
MSE, MAE, MSLE = "mse", "mae", "msle"

# The losses each task can compute; the first is its default.
TASK_LOSSES = {
    metadata.TASK_MULTICLASS: (CROSS_ENTROPY, KL_DIVERGENCE),
    metadata.TASK_BINARY: (BINARY_CROSS_ENTROPY, HINGE, SQUARED_HINGE),
    metadata.TASK_MULTILABEL: (BINARY_CROSS_ENTROPY, HINGE, SQUARED_HINGE),
    metadata.TASK_REGRESSION: (MSE, MAE, MSLE),
}
HINGES = (HINGE, SQUARED_HINGE)

# Other names for the same losses (Keras' and PyTorch's spellings).
ALIASES = {
    "categorical_crossentropy": CROSS_ENTROPY,
    "sparse_categorical_crossentropy": CROSS_ENTROPY,
    "crossentropy": CROSS_ENTROPY,
    "kl_div": KL_DIVERGENCE,
    "kld": KL_DIVERGENCE,
    "binary_crossentropy": BINARY_CROSS_ENTROPY,
    "bce": BINARY_CROSS_ENTROPY,
    "mean_squared_error": MSE,
    "mean_absolute_error": MAE,
    "mean_squared_logarithmic_error": MSLE,
}


def resolve(task: str, loss: str | Callable | None) -> str | Callable:
    """The loss a writer of `task` computes: a known name, or the user's callable."""
    if loss is None:
        return TASK_LOSSES[task][0]
    if callable(loss):
        return loss
    if not isinstance(loss, str):
        raise TypeError(f"loss={loss!r}; pass a loss name or a callable(outputs, targets)")
    name = ALIASES.get(loss.lower(), loss.lower())
    if name not in TASK_LOSSES[task]:
        raise ValueError(
            f"loss={loss!r} is not a per-sample loss of task={task!r}; use one of "
            f"{', '.join(TASK_LOSSES[task])}, or pass losses= to update() or a callable"
        )
    return name


def display_name(loss: str | Callable) -> str:
    return loss if isinstance(loss, str) else getattr(loss, "__name__", type(loss).__name__)


# --- multiclass ----------------------------------------------------------------------------


def log_probabilities(ops: ArrayOps, outputs: Any, *, from_logits: bool) -> Any:
    if from_logits:
        return ops.log_softmax_rows(outputs)
    normalised = outputs / ops.sum_rows(outputs, keepdims=True)
    return ops.log(ops.clip(normalised, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON))


def multiclass_loss(
    name: str,
    ops: ArrayOps,
    outputs: Any,
    labels: Any,
    distributions: Any | None,
    *,
    from_logits: bool,
) -> Any:
    """`labels` are valid class indices; `distributions` the (B, C) target rows if given."""
    if name == KL_DIVERGENCE:
        if distributions is None:
            raise ValueError(
                "loss='kl_divergence' compares distributions: pass targets of shape "
                "(batch, num_classes), e.g. soft labels, not class indices"
            )
        log_probs = log_probabilities(ops, outputs, from_logits=from_logits)
        targets = ops.cast_like(distributions, log_probs)
        log_targets = ops.log(ops.clip(targets, PROBABILITY_EPSILON, 1.0))
        return ops.sum_rows(targets * (log_targets - log_probs))
    if distributions is not None:
        log_probs = log_probabilities(ops, outputs, from_logits=from_logits)
        return -ops.sum_rows(ops.cast_like(distributions, log_probs) * log_probs)
    if from_logits:  # the library's fused kernel: fewer ops in the per-batch path
        return ops.softmax_cross_entropy(outputs, labels)
    return -ops.take_rows(log_probabilities(ops, outputs, from_logits=False), labels)


# --- binary and multilabel -----------------------------------------------------------------


def binary_loss(name: str, ops: ArrayOps, scores: Any, positive: Any, *, from_logits: bool) -> Any:
    """Per-element loss of one score against a target given as a positive mask."""
    if name in HINGES:
        signed = ops.cast_like(ops.to_float(positive), scores) * 2.0 - 1.0
        margin = ops.maximum(1.0 - signed * scores, 0.0)
        return margin * margin if name == SQUARED_HINGE else margin
    targets = ops.to_float(positive)
    if from_logits:
        return ops.sigmoid_cross_entropy(scores, targets)
    probabilities = ops.clip(scores, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON)
    targets = ops.cast_like(targets, probabilities)
    return -(targets * ops.log(probabilities) + (1.0 - targets) * ops.log(1.0 - probabilities))


# --- regression ----------------------------------------------------------------------------


def regression_loss(name: str, ops: ArrayOps, outputs: Any, targets: Any) -> Any:
    """Per-sample error of (B,) or (B, D) outputs, averaged over D."""
    targets = ops.cast_like(targets, outputs)
    if name == MSLE:
        outputs = ops.log1p(ops.maximum(outputs, PROBABILITY_EPSILON))
        targets = ops.log1p(ops.maximum(targets, PROBABILITY_EPSILON))
    error = outputs - targets
    error = ops.abs(error) if name == MAE else error * error
    return error if len(ops.shape(error)) == 1 else ops.mean_rows(error)
