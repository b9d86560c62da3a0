"""Per-sample losses computed from a batch's outputs, written once over `ArrayOps`.

Used when `update()` is not given `losses=`. Each function returns one loss per sample, on the
outputs' device, and follows the conventions of the frameworks' own losses so the curves match
what the training loop optimises:

- from logits: log-softmax, exactly as `torch.nn.functional.cross_entropy` and
  `keras.losses.*_crossentropy(from_logits=True)`;
- from probabilities: each row renormalised to sum to 1, then clipped to [1e-7, 1 - 1e-7] before
  the log, as Keras does (so a probability of 0 for the true class gives a large, finite loss).
"""

from __future__ import annotations

from typing import Any

from tb_perclass.stats.arrays import ArrayOps

PROBABILITY_EPSILON = 1e-7

CROSS_ENTROPY = "cross_entropy"
BINARY_CROSS_ENTROPY = "binary_cross_entropy"


def log_probabilities(ops: ArrayOps, outputs: Any, *, from_logits: bool) -> Any:
    if from_logits:
        return ops.log_softmax_rows(outputs)
    normalised = outputs / ops.sum_rows(outputs, keepdims=True)
    return ops.log(ops.clip(normalised, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON))


def cross_entropy_from_labels(ops: ArrayOps, outputs: Any, labels: Any, *, from_logits: bool) -> Any:
    """Sparse categorical cross-entropy: `labels` are class indices, valid for gathering."""
    if from_logits:  # the library's fused kernel: fewer ops in the per-batch path
        return ops.softmax_cross_entropy(outputs, labels)
    return -ops.take_rows(log_probabilities(ops, outputs, from_logits=False), labels)


def cross_entropy_from_distributions(
    ops: ArrayOps, outputs: Any, targets: Any, *, from_logits: bool
) -> Any:
    """Categorical cross-entropy against one-hot or soft (e.g. label-smoothed) target rows."""
    log_probs = log_probabilities(ops, outputs, from_logits=from_logits)
    return -ops.sum_rows(ops.cast_like(targets, log_probs) * log_probs)


def binary_cross_entropy(ops: ArrayOps, scores: Any, targets: Any, *, from_logits: bool) -> Any:
    """Per-element binary cross-entropy of one score against a 0/1 (float) target."""
    if from_logits:
        return ops.sigmoid_cross_entropy(scores, targets)
    probabilities = ops.clip(scores, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON)
    targets = ops.cast_like(targets, probabilities)
    return -(targets * ops.log(probabilities) + (1.0 - targets) * ops.log(1.0 - probabilities))
