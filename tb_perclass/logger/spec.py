"""What a writer records (`TaskSpec`), and every check of the arguments that say it.

`PerClassWriter`, the Keras callback and the Lightning callback (through the writer) build their
specification here, so each argument is checked once, in one place, with one message: the task,
the classes, `from_logits`, thresholds, `ignore_index`, the loss, regression bins, the tag name,
`confusion_every`, the options of the kept samples and those of a URL logdir. A check that
needs the class count runs when the count is known: at construction when class names or a
count are given, else at the first batch (`TaskSpec.with_num_classes`).
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tb_perclass.format import dynamics as dynamics_layout
from tb_perclass.format import metadata
from tb_perclass.logger import losses
from tb_perclass.logger.samples import media

BINARY_CLASS_NAMES = ("negative", "positive")
DEFAULT_THRESHOLD = 0.5
DEFAULT_TOP_K = 5  # top-k accuracy with scores=True (multiclass with more than 5 classes)


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What a writer records: the task, its classes (or labels, or target ranges) and how a
    prediction and a loss are made from the outputs. Build it with `task_spec`, which checks
    every field; `class_names` is None until the first batch when neither names nor a count
    were given."""

    task: str
    class_names: tuple[str, ...] | None
    from_logits: bool = True
    threshold: tuple[float, ...] = (DEFAULT_THRESHOLD,)  # probability; one, or one per label
    ignore_index: int | None = None
    loss: str | Callable[[Any, Any], Any] = losses.CROSS_ENTROPY  # a name, or the user's
    bins: tuple[float, ...] = ()  # regression: the edges between target ranges
    scores: bool = False  # score histograms (PR/ROC, AP, AUROC, calibration): `score_state`
    top_k: int | None = None  # multiclass with scores: k of top-k accuracy (0: not recorded;
    # None: the default, resolved once the class count is known)

    @property
    def num_classes(self) -> int:
        """Classes (multiclass), 2 (binary), labels (multilabel) or target ranges (regression)."""
        return len(self.class_names)

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

    def with_num_classes(self, num_classes: int, source: str) -> TaskSpec:
        """The spec of a writer made without a class count, once a batch says it (`source`
        names where it came from): the checks that needed the count run now."""
        num_classes = _check_num_classes(num_classes, source)
        _check_counted(self.task, num_classes, self.threshold, self.ignore_index)
        return dataclasses.replace(
            self,
            class_names=tuple(str(i) for i in range(num_classes)),
            top_k=_resolve_top_k(self.top_k, self.scores, self.task, num_classes),
        )


def task_spec(
    *,
    task: str = metadata.TASK_MULTICLASS,
    class_names: Sequence[str] | None = None,
    num_classes: int | None = None,
    from_logits: bool = True,
    threshold: float | Sequence[float] | None = None,
    ignore_index: int | None = None,
    loss: str | Callable[[Any, Any], Any] | None = None,
    bins: Sequence[float] | None = None,
    scores: bool = False,
    top_k: int | None = None,
) -> TaskSpec:
    """The checked specification of a writer's arguments (see `PerClassWriter`)."""
    if task not in metadata.TASKS:
        raise ValueError(f"task={task!r}; pass one of {', '.join(map(repr, metadata.TASKS))}")
    if task == metadata.TASK_BINARY:
        class_names, num_classes = _binary_class_names(class_names, num_classes)
    edges: tuple[float, ...] = ()
    if task == metadata.TASK_REGRESSION:
        if bins is None:
            raise ValueError(
                "task='regression' needs bins=[...], the edges between the target ranges "
                "whose curves you want, e.g. bins=[0, 1, 5, 10]"
            )
        edges = _check_bins(bins)
        class_names = class_names or bin_names(edges)
        if len(class_names) != len(edges) + 1:
            raise ValueError(
                f"{len(edges)} bin edges make {len(edges) + 1} target ranges; got "
                f"{len(class_names)} class_names"
            )
    elif bins is not None:
        raise ValueError("bins is for task='regression'")
    resolved_loss = losses.resolve(task, loss)
    names = _check_class_names(class_names, num_classes)
    thresholds = _check_threshold(task, threshold)
    if ignore_index is not None:
        ignore_index = operator.index(ignore_index)
    scores = _check_scores(task, scores, top_k)
    if names is not None:
        _check_counted(task, len(names), thresholds, ignore_index)
        top_k = _resolve_top_k(top_k, scores, task, len(names))
    return TaskSpec(
        task=task,
        class_names=names,
        from_logits=bool(from_logits),
        threshold=thresholds,
        ignore_index=ignore_index,
        loss=resolved_loss,
        bins=edges,
        scores=scores,
        top_k=top_k,
    )


@dataclasses.dataclass(frozen=True)
class SampleOptions:
    """How misclassified samples are kept and shown: per step at most `per_cell` per confusion
    cell and `total` in all; images read with `layout` (None: inferred), mapped by
    `denormalize` and downscaled to `max_side`."""

    per_cell: int = 8
    total: int = 256
    layout: str | None = None
    denormalize: Callable[[Any], Any] | None = None
    max_side: int = media.DEFAULT_MAX_SIDE


def sample_options(
    *,
    samples_per_cell: int = 8,
    max_samples: int = 256,
    layout: str | None = None,
    denormalize: Callable[[Any], Any] | None = None,
    max_image_side: int = media.DEFAULT_MAX_SIDE,
) -> SampleOptions:
    """The checked options of the kept samples."""
    per_cell = check_positive(samples_per_cell, "samples_per_cell")
    total = check_positive(max_samples, "max_samples")
    if layout is not None and layout not in media.LAYOUTS:
        raise ValueError(f"layout={layout!r}; pass one of {', '.join(media.LAYOUTS)}")
    return SampleOptions(
        per_cell=per_cell,
        total=total,
        layout=layout,
        denormalize=denormalize,
        max_side=check_positive(max_image_side, "max_image_side"),
    )


@dataclasses.dataclass(frozen=True)
class RemoteOptions:
    """How a URL logdir is written (logger/remote.py): the options fsspec gets for the
    filesystem (credentials, endpoint...) and the size at which a new event file object starts
    (None: the default)."""

    storage_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    segment_bytes: int | None = None

    @property
    def given(self) -> bool:
        return bool(self.storage_options) or self.segment_bytes is not None


def remote_options(
    *, storage_options: Mapping[str, Any] | None = None, segment_bytes: int | None = None
) -> RemoteOptions:
    """The checked options of a URL logdir (whether the logdir is a URL is the sink's call)."""
    if storage_options is not None and not isinstance(storage_options, Mapping):
        raise TypeError(
            f"storage_options is {type(storage_options).__name__}; pass a dict of fsspec "
            "options, e.g. {'profile': 'training'} for s3://, {'token': 'anon'} for gs://"
        )
    if segment_bytes is not None:
        segment_bytes = check_positive(segment_bytes, "segment_bytes")
    return RemoteOptions(dict(storage_options or {}), segment_bytes)


def check_confusion_every(confusion_every: Any, confusion: bool) -> int:
    """`confusion_every`: write the confusion summary with every N-th `write()` only (1: every
    write). A positive integer; above 1 only while confusion counts are recorded."""
    try:
        if isinstance(confusion_every, bool):
            raise TypeError
        confusion_every = operator.index(confusion_every)
    except TypeError:
        raise TypeError(
            f"confusion_every={confusion_every!r}; pass a positive integer N to write the "
            "confusion matrix at every N-th write() (1: at every write)"
        ) from None
    if confusion_every < 1:
        raise ValueError(
            f"confusion_every={confusion_every}; it must be at least 1 (1: the confusion matrix "
            "at every write(); turn it off with confusion=False)"
        )
    if confusion_every > 1 and not confusion:
        raise ValueError(
            f"confusion_every={confusion_every} with confusion=False: no confusion matrix is "
            "recorded; drop confusion_every, or record the matrix (confusion=True)"
        )
    return confusion_every


TRACKED_TASKS = (metadata.TASK_MULTICLASS, metadata.TASK_BINARY)


def check_track_samples(track_samples: Any, task: str) -> int | None:
    """`track_samples`: None (off), or the dataset size, the ids then being dataset indices in
    [0, track_samples). Per-sample tracking needs one given label per sample: multiclass and
    binary tasks."""
    if track_samples is None or track_samples is False:
        return None
    if isinstance(track_samples, bool):
        raise TypeError(
            "track_samples=True; pass the dataset size, e.g. track_samples=len(train_set): the "
            "state holds one entry per sample"
        )
    try:
        size = operator.index(track_samples)
    except TypeError:
        raise TypeError(
            f"track_samples={track_samples!r}; pass the dataset size as an integer, e.g. "
            "track_samples=len(train_set)"
        ) from None
    if not 1 <= size <= dynamics_layout.MAX_SIZE:
        raise ValueError(
            f"track_samples={size}; pass the dataset size, 1 to {dynamics_layout.MAX_SIZE}"
        )
    if task not in TRACKED_TASKS:
        raise ValueError(
            f"track_samples is for task='multiclass' or 'binary' (one given label per sample); "
            f"task={task!r} is not tracked per sample"
        )
    return size


def check_name(name: str) -> str:
    """The tag prefix `<name>/<kind>`: the data contract's rule (`metadata.validate_name`)."""
    return metadata.validate_name(name)


def check_positive(value: int, argument: str) -> int:
    value = operator.index(value)
    if value < 1:
        raise ValueError(f"{argument}={value}; it must be at least 1")
    return value


def bin_names(edges: Sequence[float]) -> tuple[str, ...]:
    """Display names of the target ranges that `edges` delimit: below, between, above."""
    text = [f"{e:g}" for e in edges]
    inner = [f"[{a}, {b})" for a, b in zip(text, text[1:])]
    return (f"< {text[0]}", *inner, f">= {text[-1]}")


# --- the checks ------------------------------------------------------------------------------


def _binary_class_names(
    class_names: Sequence[str] | None, num_classes: int | None
) -> tuple[Sequence[str], int]:
    if num_classes not in (None, 2):
        raise ValueError(
            f"task='binary' has 2 classes (negative, positive); got num_classes={num_classes}"
        )
    if class_names is not None and len(class_names) != 2:
        raise ValueError(
            f"task='binary' takes 2 class names (negative, positive); got {len(class_names)}"
        )
    return class_names or BINARY_CLASS_NAMES, 2


def _check_class_names(
    class_names: Sequence[str] | None, num_classes: int | None
) -> tuple[str, ...] | None:
    if num_classes is not None:
        num_classes = _check_num_classes(operator.index(num_classes), "num_classes")
    if class_names is None:
        return None if num_classes is None else tuple(str(i) for i in range(num_classes))
    if isinstance(class_names, (str, bytes)):
        raise TypeError(
            "class_names must be a sequence of names, e.g. ['cat', 'dog'], not a string"
        )
    names = tuple(str(n) for n in class_names)
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(
            f"class_names has {len(names)} names but num_classes={num_classes}; pass one name "
            "per class (or only one of the two arguments)"
        )
    if len(names) < 2:
        raise ValueError(
            f"class_names has {len(names)} name(s); a classifier has at least 2 classes"
        )
    seen: dict[str, int] = {}
    for index, class_name in enumerate(names):
        if class_name in seen:
            raise ValueError(
                f"class_names has {class_name!r} at positions {seen[class_name]} and {index}; "
                "names must be unique"
            )
        seen[class_name] = index
    metadata.check_class_names(names, "class_names")  # what the reader accepts
    return names


def _check_num_classes(num_classes: int, source: str) -> int:
    """A class count a summary can hold (`source` says where it came from)."""
    if num_classes < 2:
        raise ValueError(f"{source}={num_classes}; a classifier has at least 2 classes")
    if num_classes > metadata.MAX_CLASSES:
        raise ValueError(
            f"{source}={num_classes}; a summary holds at most {metadata.MAX_CLASSES} classes "
            "(what TensorBoard's Per-Class tab reads)"
        )
    return num_classes


def _check_threshold(task: str, threshold: Any) -> tuple[float, ...]:
    """Thresholds are probabilities in (0, 1): one, or (multilabel) one per label."""
    if task in (metadata.TASK_MULTICLASS, metadata.TASK_REGRESSION):
        if threshold is not None:
            raise ValueError(
                f"threshold is for task='binary' or 'multilabel'; task={task!r} predicts "
                + ("the argmax of the outputs" if task == metadata.TASK_MULTICLASS else "bins")
            )
        return (DEFAULT_THRESHOLD,)
    values = (DEFAULT_THRESHOLD,) if threshold is None else _as_floats(threshold)
    if not values or not all(0.0 < t < 1.0 for t in values):
        raise ValueError(
            f"threshold={threshold!r}: thresholds are probabilities strictly between 0 and 1 "
            "(applied to sigmoid(outputs) when from_logits=True)"
        )
    if len(values) > 1 and task == metadata.TASK_BINARY:
        raise ValueError(f"task='binary' takes one threshold; got {len(values)}")
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


def _check_counted(
    task: str, num_classes: int, threshold: tuple[float, ...], ignore_index: int | None
) -> None:
    """The checks that need the class count: one threshold per label, and an ignore_index that
    is no real target."""
    if len(threshold) > 1 and len(threshold) != num_classes:
        raise ValueError(
            f"threshold has {len(threshold)} values but there are {num_classes} labels; pass "
            "one threshold, or one per label"
        )
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


def _check_scores(task: str, scores: Any, top_k: Any) -> bool:
    """scores=True records score histograms: any task with class scores; top_k goes with it."""
    if not isinstance(scores, bool):
        raise TypeError(f"scores={scores!r}; pass True to record PR/ROC curves and calibration")
    if scores and task == metadata.TASK_REGRESSION:
        raise ValueError(
            "scores=True records the class probabilities of a classifier; task='regression' has "
            "none (its per-range curves need no scores)"
        )
    if top_k is None:
        return scores
    if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 0:
        raise ValueError(f"top_k={top_k!r}; pass a positive integer k (0: no top-k accuracy)")
    if top_k and not (scores and task == metadata.TASK_MULTICLASS):
        raise ValueError(
            f"top_k={top_k} is the k of top-k accuracy, recorded with scores=True for "
            f"task='multiclass'" + (f"; this writer has task={task!r}" if scores else "")
        )
    return scores


def _resolve_top_k(top_k: int | None, scores: bool, task: str, num_classes: int) -> int:
    """The k recorded, once the class count is known: the default 5 when there are more than 5
    classes (below, every sample would be in the top 5), an explicit k below the count."""
    if not scores or task != metadata.TASK_MULTICLASS:
        return 0
    if top_k is None:
        return DEFAULT_TOP_K if num_classes > DEFAULT_TOP_K else 0
    if top_k >= num_classes:
        raise ValueError(
            f"top_k={top_k} but there are {num_classes} classes: every sample's class would be "
            f"among the top {top_k}; pass a k below {num_classes} (or top_k=0)"
        )
    return top_k


def _check_bins(bins: Any) -> tuple[float, ...]:
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
