"""Checking and normalising one batch of `update()` arguments, for every task.

Each task turns a batch into the same `Batch` of elements: samples for multiclass and binary,
(sample, label) pairs for multilabel. Each element has a row (its class or label), a confusion
cell, whether it was predicted correctly, a loss and the output value its prediction was made
from, so one state update serves all tasks.

Checks that read only shapes and dtypes are free on any device and happen at once. Checks that
need values (labels in range, targets in {0, 1}) happen at once when the data is in host memory;
on an accelerator, offending elements are routed to a spare row of the state instead and
reported by `write()`, so `update()` never waits for the device.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

from tb_perclass import metadata
from tb_perclass.stats import losses as loss_functions
from tb_perclass.stats.arrays import ArrayOps


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What a writer records: fixed at the first batch."""

    task: str
    num_classes: int  # classes (multiclass), 2 (binary), labels (multilabel), bins (regression)
    from_logits: bool = True
    threshold: tuple[float, ...] = (0.5,)  # probability; one value, or one per label
    ignore_index: int | None = None
    loss: Any = None  # a name of `losses`, or the user's callable(outputs, targets)
    bins: tuple[float, ...] = ()  # regression: the edges between target ranges

    def __post_init__(self) -> None:
        object.__setattr__(self, "loss", loss_functions.resolve(self.task, self.loss))

    @property
    def invalid_row(self) -> int:
        return self.num_classes

    @property
    def ignored_row(self) -> int:
        return self.num_classes + 1

    @property
    def rows(self) -> int:
        """Rows elements go to: one per class or label, then the invalid and the ignored row."""
        return self.num_classes + 2

    @property
    def checks_row(self) -> int:
        """The stats table's row after those: counts about the outputs (`output_kind`)."""
        return self.num_classes + 2

    @property
    def confusion_width(self) -> int:
        """Cells per row of the confusion state: predicted classes, or TN/FP/FN/TP per label."""
        return 4 if self.task == metadata.TASK_MULTILABEL else self.num_classes


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


def check_threshold(task: str, threshold: Any, num_labels: int | None) -> tuple[float, ...]:
    """Thresholds are probabilities in (0, 1): one, or (multilabel) one per label."""
    if task in (metadata.TASK_MULTICLASS, metadata.TASK_REGRESSION):
        if threshold is not None:
            raise ValueError(
                f"threshold is for task='binary' or 'multilabel'; task={task!r} predicts "
                + ("the argmax of the outputs" if task == metadata.TASK_MULTICLASS else "bins")
            )
        return (0.5,)
    values = (0.5,) if threshold is None else _as_floats(threshold)
    if not values or not all(0.0 < t < 1.0 for t in values):
        raise ValueError(
            f"threshold={threshold!r}: thresholds are probabilities strictly between 0 and 1 "
            "(applied to sigmoid(outputs) when from_logits=True)"
        )
    if len(values) > 1:
        if task == metadata.TASK_BINARY:
            raise ValueError(f"task='binary' takes one threshold; got {len(values)}")
        if num_labels is not None and len(values) != num_labels:
            raise ValueError(
                f"threshold has {len(values)} values but there are {num_labels} labels; pass one "
                "threshold, or one per label"
            )
    return values


def _as_floats(threshold: Any) -> tuple[float, ...]:
    if isinstance(threshold, (int, float)):
        return (float(threshold),)
    try:
        return tuple(float(t) for t in threshold)
    except TypeError:
        raise TypeError(
            f"threshold must be a number or a sequence of numbers; got {threshold!r}"
        ) from None


def check_ignore_index(ignore_index: int | None, task: str, num_classes: int) -> None:
    if ignore_index is None:
        return
    real = range(num_classes) if task == metadata.TASK_MULTICLASS else range(2)
    if ignore_index in real:
        what = "a class index" if task == metadata.TASK_MULTICLASS else "a target value"
        raise ValueError(
            f"ignore_index={ignore_index} is {what} (valid targets are {real.start}.."
            f"{real.stop - 1}), so those samples could not be counted; pick a value outside, "
            "e.g. ignore_index=-100"
        )


def infer_num_classes(ops: ArrayOps, outputs: Any, task: str) -> int:
    """The class (or label) count implied by the outputs, for writers created without one."""
    shape = ops.shape(outputs)
    if task == metadata.TASK_BINARY:
        return 2
    if task == metadata.TASK_REGRESSION:
        raise ValueError("task='regression' needs bins=[...], the edges between target ranges")
    if task == metadata.TASK_MULTICLASS:
        _check_multiclass_outputs(ops, outputs, shape, num_classes=None)
    else:
        _check_multilabel_outputs(ops, outputs, shape, num_labels=None)
    return shape[1]


def format_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any,
    spec: TaskSpec,
    with_confidence: bool = False,
) -> Batch:
    if spec.task == metadata.TASK_MULTICLASS:
        return multiclass_batch(ops, outputs, targets, losses, spec, with_confidence)
    if spec.task == metadata.TASK_BINARY:
        return binary_batch(ops, outputs, targets, losses, spec, with_confidence)
    if spec.task == metadata.TASK_REGRESSION:
        return regression_batch(ops, outputs, targets, losses, spec, with_confidence)
    return multilabel_batch(ops, outputs, targets, losses, spec, with_confidence)


# --- multiclass ----------------------------------------------------------------------------


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
            f"task='multiclass'; got shape {shape_text(shape)}.{hint}"
        )
    _check_scores(ops, outputs)
    _check_columns(shape, num_classes, "classes")


def _check_columns(shape: tuple[int, ...], expected: int | None, unit: str) -> None:
    if expected is not None and shape[1] != expected:
        raise ValueError(
            f"outputs has {shape[1]} columns (shape {shape_text(shape)}) but this writer has "
            f"{expected} {unit} (from class_names/num_classes); the model's outputs and "
            f"class_names must have one entry per {unit[:-1]}"
        )


def _check_scores(ops: ArrayOps, outputs: Any) -> None:
    if not ops.is_floating(outputs):
        raise TypeError(
            f"outputs has dtype {ops.dtype_name(outputs)}; pass the model's scores (logits, or "
            "probabilities with from_logits=False), not predicted labels"
        )


def multiclass_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any | None,
    spec: TaskSpec,
    with_confidence: bool = False,
) -> Batch:
    """`targets` are class indices of shape (B,) (any integer dtype) or one-hot / soft target
    rows of shape (B, C). Without `losses`, the per-sample cross-entropy is computed."""
    num_classes = spec.num_classes
    out_shape = ops.shape(outputs)
    _check_multiclass_outputs(ops, outputs, out_shape, num_classes)
    size = out_shape[0]
    target_shape = ops.shape(targets)
    if len(target_shape) == 1:
        if not ops.is_integer(targets):
            raise TypeError(
                f"targets has dtype {ops.dtype_name(targets)} and shape "
                f"{shape_text(target_shape)}; class-index targets must be integers (e.g. "
                "targets.long() in PyTorch, tf.cast(targets, tf.int64), "
                "targets.astype(np.int64)), or pass one-hot rows of shape (batch, num_classes)"
            )
        distributions = None
        labels = ops.to_index(targets)
    elif len(target_shape) == 2:
        if target_shape[1] != num_classes:
            raise ValueError(
                f"targets has shape {shape_text(target_shape)}: one-hot targets need "
                f"{num_classes} columns, one per class (the outputs have {num_classes}); for "
                "class indices pass a 1-D array of shape (batch,)"
            )
        distributions = targets
        labels = ops.argmax_rows(targets)
    else:
        raise ValueError(
            f"targets must be class indices of shape (batch,) or one-hot rows of shape "
            f"(batch, {num_classes}); got shape {shape_text(target_shape)}"
        )
    _check_batch_sizes(out_shape, target_shape)
    if losses is not None:
        _check_losses(ops, losses, (size,), "F.cross_entropy(logits, targets, reduction='none')")

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
        losses = _user_loss(ops, outputs, targets, (size,), spec) if callable(spec.loss) else (
            loss_functions.multiclass_loss(
                spec.loss, ops, outputs, gather_index, distributions, from_logits=spec.from_logits
            )
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


# --- binary --------------------------------------------------------------------------------


def binary_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any | None,
    spec: TaskSpec,
    with_confidence: bool = False,
) -> Batch:
    """One score per sample, shape (B,) or (B, 1); targets 0/1 of shape (B,) (integers, bools or
    floats). Predicted positive when sigmoid(score) (or the probability) exceeds the threshold."""
    out_shape = ops.shape(outputs)
    if not (len(out_shape) == 1 or (len(out_shape) == 2 and out_shape[1] == 1)):
        hint = (
            " Two or more columns of class scores are task='multiclass'."
            if len(out_shape) == 2
            else ""
        )
        raise ValueError(
            f"outputs for task='binary' must have one score per sample, shape (batch,) or "
            f"(batch, 1); got shape {shape_text(out_shape)}.{hint}"
        )
    _check_scores(ops, outputs)
    scores = ops.reshape(outputs, (-1,)) if len(out_shape) == 2 else outputs
    target_shape = ops.shape(targets)
    if len(target_shape) == 2 and target_shape[1] == 1:
        targets = ops.reshape(targets, (-1,))
        target_shape = target_shape[:1]
    if len(target_shape) != 1:
        raise ValueError(
            f"targets for task='binary' must be 0/1 of shape (batch,); got shape "
            f"{shape_text(target_shape)}"
        )
    _check_batch_sizes(out_shape, target_shape)
    size = out_shape[0]
    if losses is not None:
        _check_losses(
            ops, losses, (size,), "F.binary_cross_entropy_with_logits(..., reduction='none')"
        )
    targets_seen = _binary_targets(ops, targets, spec)
    rows = _route(ops, ops.to_index(targets_seen.positive), targets_seen, spec)
    if losses is None:
        losses = _user_loss(ops, outputs, targets, (size,), spec) if callable(spec.loss) else (
            loss_functions.binary_loss(
                spec.loss, ops, scores, targets_seen.positive, from_logits=spec.from_logits
            )
        )
    predicted = _predict_positive(ops, scores, spec)
    return Batch(
        size=size,
        rows=rows,
        cells=ops.to_index(predicted),
        correct=ops.equal(predicted, targets_seen.positive),
        losses=losses,
        decided_by=scores,
        confidence=_binary_confidence(ops, scores, predicted, spec) if with_confidence else None,
    )


@dataclasses.dataclass
class _BinaryTargets:
    positive: Any  # bool: target is 1
    binary: Any  # bool: target is 0 or 1
    ignored: Any | None  # bool: target is ignore_index (None without one)


def _binary_targets(ops: ArrayOps, targets: Any, spec: TaskSpec) -> _BinaryTargets:
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
    return _BinaryTargets(positive=positive, binary=binary, ignored=ignored)


def _route(ops: ArrayOps, rows: Any, seen: _BinaryTargets, spec: TaskSpec) -> Any:
    """Rows of elements with a 0/1 target; the others go to the invalid or the ignored row."""
    rows = ops.where(seen.binary, rows, spec.invalid_row)
    if seen.ignored is not None:
        rows = ops.where(seen.ignored, spec.ignored_row, rows)
    return rows


def _binary_confidence(ops: ArrayOps, scores: Any, predicted: Any, spec: TaskSpec) -> Any:
    """Probability of the predicted outcome: p when predicted positive, 1 - p otherwise."""
    probability = ops.sigmoid(scores) if spec.from_logits else scores
    return ops.where(predicted, probability, 1.0 - probability)


def _predict_positive(ops: ArrayOps, scores: Any, spec: TaskSpec) -> Any:
    """scores > threshold, in logit space when the scores are logits. Per-label thresholds
    broadcast along the last axis of (B, L) scores."""
    thresholds = spec.threshold
    if spec.from_logits:
        thresholds = tuple(math.log(t / (1.0 - t)) for t in thresholds)
    if len(thresholds) == 1:
        return ops.greater(scores, thresholds[0])
    return ops.greater(scores, ops.constant(thresholds, like=scores))


# --- multilabel ----------------------------------------------------------------------------


def _check_multilabel_outputs(
    ops: ArrayOps, outputs: Any, shape: tuple[int, ...], num_labels: int | None
) -> None:
    if len(shape) != 2:
        raise ValueError(
            f"outputs for task='multilabel' must have shape (batch, num_labels); got shape "
            f"{shape_text(shape)}"
        )
    _check_scores(ops, outputs)
    _check_columns(shape, num_labels, "labels")


def multilabel_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any | None,
    spec: TaskSpec,
    with_confidence: bool = False,
) -> Batch:
    """Scores and 0/1 targets of shape (B, L); each (sample, label) pair is one element, with
    the label as its row and 2 * target + prediction (TN, FP, FN, TP) as its confusion cell."""
    num_labels = spec.num_classes
    out_shape = ops.shape(outputs)
    _check_multilabel_outputs(ops, outputs, out_shape, num_labels)
    target_shape = ops.shape(targets)
    if target_shape != out_shape:
        raise ValueError(
            f"targets for task='multilabel' must have the outputs' shape "
            f"{shape_text(out_shape)}, one 0/1 per sample and label; got shape "
            f"{shape_text(target_shape)}"
        )
    if losses is not None:
        _check_losses(
            ops, losses, out_shape,
            "F.binary_cross_entropy_with_logits(..., reduction='none'), one per sample and label",
        )  # fmt: skip
    batch = out_shape[0]
    num_elements = None if batch is None else batch * num_labels  # None: tracing a graph
    targets_seen = _binary_targets(ops, ops.reshape(targets, (-1,)), spec)
    rows = _route(ops, ops.tiled_range(num_labels, batch, like=outputs), targets_seen, spec)
    flat_scores = ops.reshape(outputs, (-1,))
    if losses is None and not callable(spec.loss):
        losses = loss_functions.binary_loss(
            spec.loss, ops, flat_scores, targets_seen.positive, from_logits=spec.from_logits
        )
    else:
        if losses is None:
            losses = _user_loss(ops, outputs, targets, out_shape, spec)
        losses = ops.reshape(losses, (-1,))
    predicted = ops.reshape(_predict_positive(ops, outputs, spec), (-1,))
    cells = ops.to_index(targets_seen.positive) * 2 + ops.to_index(predicted)
    return Batch(
        size=num_elements,
        rows=rows,
        cells=cells,
        correct=ops.equal(predicted, targets_seen.positive),
        losses=losses,
        decided_by=flat_scores,
        confidence=(
            _binary_confidence(ops, flat_scores, predicted, spec) if with_confidence else None
        ),
    )


# --- regression ----------------------------------------------------------------------------


def regression_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any | None,
    spec: TaskSpec,
    with_confidence: bool = False,
) -> Batch:
    """Scalar predictions and targets, (B,) or (B, 1); the row is the target's bin, the cell the
    prediction's bin, and a prediction is correct when it falls in the target's bin."""
    out_shape, target_shape = ops.shape(outputs), ops.shape(targets)
    for argument, shape in (("outputs", out_shape), ("targets", target_shape)):
        if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            raise ValueError(
                f"{argument} for task='regression' must hold one value per sample, shape "
                f"(batch,) or (batch, 1); got shape {shape_text(shape)}"
            )
    _check_batch_sizes(out_shape, target_shape)
    _check_scores(ops, outputs)
    if not ops.is_floating(targets) and not ops.is_integer(targets):
        raise TypeError(f"targets has dtype {ops.dtype_name(targets)}; pass numeric targets")
    size = out_shape[0]
    predicted = ops.reshape(outputs, (-1,))
    values = ops.reshape(targets, (-1,))
    if losses is not None:
        _check_losses(ops, losses, (size,), "F.mse_loss(outputs, targets, reduction='none')")
    elif callable(spec.loss):
        losses = _user_loss(ops, outputs, targets, (size,), spec)
    else:
        losses = loss_functions.regression_loss(spec.loss, ops, predicted, values)
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
        confidence=ops.abs(predicted - ops.cast_like(values, predicted)) if with_confidence else None,
    )


def bin_names(edges: Sequence[float]) -> tuple[str, ...]:
    """Display names of the target ranges that `edges` delimit: below, between, above."""
    text = [f"{e:g}" for e in edges]
    inner = [f"[{a}, {b})" for a, b in zip(text, text[1:])]
    return (f"< {text[0]}", *inner, f">= {text[-1]}")


def check_bins(bins: Any) -> tuple[float, ...]:
    try:
        edges = tuple(float(b) for b in bins)
    except TypeError:
        raise TypeError(f"bins must be a sequence of numbers; got {bins!r}") from None
    if not edges or any(not math.isfinite(e) for e in edges) or list(edges) != sorted(set(edges)):
        raise ValueError(
            f"bins={list(bins)!r}: pass finite, strictly increasing edges between target ranges, "
            "e.g. bins=[0, 1, 5, 10]"
        )
    return edges


# --- shared --------------------------------------------------------------------------------


def _user_loss(
    ops: ArrayOps, outputs: Any, targets: Any, expected: tuple[int, ...], spec: TaskSpec
) -> Any:
    """Calls the user's loss and checks that it gave one value per sample (or element)."""
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



def _check_batch_sizes(out_shape: tuple[int, ...], target_shape: tuple[int, ...]) -> None:
    if target_shape[0] != out_shape[0]:
        raise ValueError(
            f"outputs has {out_shape[0]} samples (shape {shape_text(out_shape)}) but targets has "
            f"{target_shape[0]} (shape {shape_text(target_shape)}); pass the targets of the "
            "same batch"
        )


def _check_losses(ops: ArrayOps, losses: Any, expected: tuple[int, ...], example: str) -> None:
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
