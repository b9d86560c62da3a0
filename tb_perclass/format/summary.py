"""Pure functions that turn per-class results (NumPy arrays) into TensorBoard `Summary` protos.

Anyone with their own event writer can log tb-perclass data with these; `PerClassWriter` uses
them too. Nothing here touches a framework or a file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.util import tensor_util

from tb_perclass.format import metadata, score_tensor
from tb_perclass.format.score_tensor import ScoreCounts


def stats_tensor(
    *,
    loss: np.ndarray,
    count: np.ndarray,
    correct: np.ndarray,
    nonfinite: np.ndarray,
    nonfinite_outputs: np.ndarray | None = None,
    invalid_targets: int = 0,
    ignored: int = 0,
    num_classes: int | None = None,
) -> np.ndarray:
    """The float64 [5, C + 2] tensor of a `stats` summary (`metadata.stats_shape`).

    Rows (`metadata.STATS_ROWS`), per class: `loss` the mean finite per-sample loss (NaN where
    there was none), `count` the samples, `correct` the correct top-1 predictions, `nonfinite`
    the per-sample losses that were NaN or infinite (kept out of `loss`) and `nonfinite_outputs`
    the samples whose outputs were NaN or infinite (kept out of `correct` and of the confusion
    counts; zeros when not given). The two last columns (`metadata.STATS_EXTRA_COLUMNS`) hold,
    in the `count` row, the step's elements with an invalid target and those skipped by
    `ignore_index`; every other row is 0 there. Every row must have `num_classes` entries
    (default: as many as `count`).
    """
    if num_classes is None:
        num_classes = len(np.asarray(count))
    if nonfinite_outputs is None:
        nonfinite_outputs = np.zeros(num_classes)
    rows = [
        np.asarray(r, dtype=np.float64)
        for r in (loss, count, correct, nonfinite, nonfinite_outputs)
    ]
    for row_name, row in zip(metadata.STATS_ROWS, rows):
        if row.shape != (num_classes,):
            raise ValueError(
                f"{row_name} has shape {row.shape}; expected ({num_classes},), one value per "
                "class name"
            )
    extra = np.zeros((len(rows), len(metadata.STATS_EXTRA_COLUMNS)))
    extra[metadata.STATS_ROWS.index("count")] = [
        _count(invalid_targets, "invalid_targets"),
        _count(ignored, "ignored"),
    ]
    return np.concatenate([np.stack(rows), extra], axis=1)


def stats_pb(
    name: str,
    *,
    loss: np.ndarray,
    count: np.ndarray,
    correct: np.ndarray,
    nonfinite: np.ndarray,
    class_names: Sequence[str],
    nonfinite_outputs: np.ndarray | None = None,
    invalid_targets: int = 0,
    ignored: int = 0,
    task: str = metadata.TASK_MULTICLASS,
    loss_name: str = "cross_entropy",
) -> summary_pb2.Summary:
    """A `stats` summary under `<name>/stats`: the tensor of `stats_tensor`, one column per
    class name (and the two of the step's elements counted for no class)."""
    metadata.validate_name(name)
    tensor = stats_tensor(
        loss=loss,
        count=count,
        correct=correct,
        nonfinite=nonfinite,
        nonfinite_outputs=nonfinite_outputs,
        invalid_targets=invalid_targets,
        ignored=ignored,
        num_classes=len(class_names),
    )
    return _summary(
        name,
        metadata.KIND_STATS,
        tensor_util.make_tensor_proto(tensor),
        task=task,
        class_names=class_names,
        loss_name=loss_name,
        description="Per-class statistics [loss, count, correct, nonfinite, nonfinite_outputs] "
        "x [classes..., invalid_targets, ignored]",
    )


def _count(value: int, argument: str) -> float:
    number = float(value)
    if not (number >= 0 and number == int(number)):
        raise ValueError(f"{argument}={value!r}; it counts elements, a non-negative integer")
    return number


def confusion_pb(
    name: str,
    matrix: np.ndarray,
    *,
    class_names: Sequence[str],
    task: str = metadata.TASK_MULTICLASS,
    loss_name: str = "cross_entropy",
) -> summary_pb2.Summary:
    """A `confusion` summary under `<name>/confusion`.

    `matrix` holds counts: [C, C] with rows = true class and columns = predicted class
    (multiclass, binary), or [C, 2, 2] = [label][true][predicted] (multilabel). It is written
    dense, or as int64 COO triplets [nnz, 3] of (true, predicted, count) for large C; the
    metadata's "encoding" says which (see `metadata.confusion_encoding`).
    """
    metadata.validate_name(name)
    matrix = np.asarray(matrix)
    num_classes = len(class_names)
    expected = (num_classes, 2, 2) if task == metadata.TASK_MULTILABEL else (num_classes,) * 2
    if matrix.shape != expected:
        raise ValueError(
            f"a {task} confusion matrix of {num_classes} classes has shape {expected}; got "
            f"{matrix.shape}"
        )
    if not np.issubdtype(matrix.dtype, np.integer) or (matrix < 0).any():
        raise ValueError("a confusion matrix holds non-negative integer counts")
    encoding = metadata.confusion_encoding(task, num_classes)
    if encoding == metadata.ENCODING_COO:
        true, predicted = np.nonzero(matrix)
        tensor = _int64_tensor(np.stack([true, predicted, matrix[true, predicted]], axis=1))
    else:
        tensor = _int64_tensor(matrix)
    return _summary(
        name,
        metadata.KIND_CONFUSION,
        tensor,
        task=task,
        class_names=class_names,
        loss_name=loss_name,
        description="Confusion counts (rows: true class, columns: predicted class)",
        encoding=encoding,
    )


def samples_pb(
    name: str,
    manifest: Sequence[dict],
    blobs: Sequence[bytes],
    *,
    class_names: Sequence[str],
    task: str = metadata.TASK_MULTICLASS,
    loss_name: str = "cross_entropy",
    samples_per_cell: int,
    max_samples: int,
) -> summary_pb2.Summary:
    """A `samples` summary under `<name>/samples`: a blob sequence whose element 0 is the JSON
    manifest (one entry per sample: index, true, pred, [label,] score, loss, id, media, width,
    height) and elements 1..n the encoded samples (PNG images or UTF-8 text). The metadata
    carries the selection caps so that a reader can say why a cell shows fewer samples."""
    metadata.validate_name(name)
    if len(manifest) != len(blobs):
        raise ValueError(f"{len(manifest)} manifest entries for {len(blobs)} blobs")
    header = json.dumps(list(manifest), separators=(",", ":"), allow_nan=False).encode("utf-8")
    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(blobs) + 1)]
        ),
        string_val=[header, *blobs],
    )
    return _summary(
        name,
        metadata.KIND_SAMPLES,
        tensor,
        task=task,
        class_names=class_names,
        loss_name=loss_name,
        description="Misclassified samples: a JSON manifest, then one encoded sample each",
        samples_per_cell=int(samples_per_cell),
        max_samples=int(max_samples),
    )


def scores_pb(
    name: str,
    counts: ScoreCounts,
    *,
    class_names: Sequence[str],
    task: str = metadata.TASK_MULTICLASS,
    loss_name: str = "cross_entropy",
    top_k: int = 0,
) -> summary_pb2.Summary:
    """A `scores` summary under `<name>/scores`: one step's score histograms
    (`score_tensor.ScoreCounts`: per class and score bin of `score_bins`, positives and
    negatives; multiclass: the top-label reliability and, when `top_k` > 0, the top-k hits;
    binary and multilabel: the probability sums) as an int64 vector of varints, in the layout
    of `score_tensor.encode`. Binary histograms are of the positive class (one row)."""
    metadata.validate_name(name)
    rows = 1 if task == metadata.TASK_BINARY else len(class_names)
    tensor = score_tensor.encode(counts, rows=rows, task=task, top_k=top_k)
    return _summary(
        name,
        metadata.KIND_SCORES,
        _int64_tensor(tensor),
        task=task,
        class_names=class_names,
        loss_name=loss_name,
        description="Score histograms per class (PR/ROC, AP, AUROC, calibration, top-k)",
        **metadata.score_fields(task, top_k),
    )


def _int64_tensor(array: np.ndarray) -> tensor_pb2.TensorProto:
    # Packed varints (int64_val) rather than raw tensor_content: small counts and indices take
    # one to three bytes instead of eight.
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_INT64,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in array.shape]
        ),
        int64_val=np.asarray(array, dtype=np.int64).ravel().tolist(),
    )


def _summary(
    name: str,
    kind: str,
    tensor: tensor_pb2.TensorProto,
    *,
    task: str,
    class_names: Sequence[str],
    loss_name: str,
    description: str,
    **extra: Any,
) -> summary_pb2.Summary:
    summary_metadata = metadata.create_summary_metadata(
        kind=kind,
        task=task,
        class_names=class_names,
        loss=loss_name,
        description=description,
        **extra,
    )
    summary = summary_pb2.Summary()
    summary.value.add(tag=metadata.tag_for(name, kind), metadata=summary_metadata, tensor=tensor)
    return summary
