"""Pure functions that turn per-class results (NumPy arrays) into TensorBoard `Summary` protos.

Anyone with their own event writer can log tb-perclass data with these; `PerClassWriter` uses
them too. Nothing here touches a framework or a file.

What a step costs matters: TensorBoard keeps every step of these tags in memory, on both of its
loading paths, as the bytes written here (docs/data-contract.md, "Sizing"). So `stats` is one
packed record (`packed_arrays`: small counts take a byte or less) and `confusion` one
`sparse_counts` blob of its nonzero cells (about 1.5 bytes each) per step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

from tb_perclass.format import metadata, packed_arrays, score_tensor, sparse_counts
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
    """The float64 [5, C + 2] matrix of a step's statistics (`metadata.stats_shape`): the
    `stats` tensor of version 2, and `PerClassStats.as_matrix()`.

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


def stats_record(
    *,
    loss: np.ndarray,
    count: np.ndarray,
    correct: np.ndarray,
    nonfinite: np.ndarray,
    nonfinite_outputs: np.ndarray | None = None,
    invalid_targets: int = 0,
    ignored: int = 0,
    tp: np.ndarray | None = None,
    fp: np.ndarray | None = None,
    fn: np.ndarray | None = None,
    num_classes: int | None = None,
) -> dict[str, np.ndarray]:
    """The named arrays of a version-3 `stats` record (`metadata.STATS_COUNTS` and friends).

    Per class: `loss` (float32: the mean finite per-sample loss, NaN where there was none) and
    the counts of `stats_tensor`, plus `tp`, `fp`, `fn` (true and false positives and false
    negatives of the step's confusion counts; all three or none) so that curves and reports need
    no confusion matrix; `elements` = [invalid_targets, ignored]. Counts must be whole numbers
    >= 0; each is stored in the smallest unsigned dtype that holds it."""
    matrix = stats_tensor(
        loss=loss,
        count=count,
        correct=correct,
        nonfinite=nonfinite,
        nonfinite_outputs=nonfinite_outputs,
        invalid_targets=invalid_targets,
        ignored=ignored,
        num_classes=num_classes,
    )
    classes = matrix.shape[1] - len(metadata.STATS_EXTRA_COLUMNS)
    record = {"loss": matrix[0, :classes].astype(np.float32)}
    for row, name in enumerate(metadata.STATS_COUNTS, start=1):
        record[name] = _counts(matrix[row, :classes], name)
    given = [a is not None for a in (tp, fp, fn)]
    if any(given) and not all(given):
        raise ValueError("tp, fp and fn come together (the step's confusion counts), or not at all")
    if all(given):
        for name, values in zip(metadata.STATS_TRUE_FALSE, (tp, fp, fn)):
            values = np.asarray(values)
            if values.shape != (classes,):
                raise ValueError(f"{name} has shape {values.shape}; expected ({classes},)")
            record[name] = _counts(values, name)
    count_row = metadata.STATS_ROWS.index("count")
    record[metadata.STATS_ELEMENTS] = _counts(matrix[count_row, classes:], "elements")
    return record


def stats_pb(
    name: str,
    *,
    class_names: Sequence[str],
    task: str = metadata.TASK_MULTICLASS,
    loss_name: str = "cross_entropy",
    **fields: Any,
) -> summary_pb2.Summary:
    """A `stats` summary under `<name>/stats`: a DT_STRING scalar holding the packed
    `stats_record` of `fields` (`loss`, `count`, `correct`, `nonfinite` and optionally
    `nonfinite_outputs`, `invalid_targets`, `ignored`, `tp`, `fp`, `fn`, as `stats_record`
    takes them), one value per class name: about 6 bytes a class at 1000 classes."""
    metadata.validate_name(name)
    record = stats_record(**fields, num_classes=len(class_names))
    return _summary(
        name,
        metadata.KIND_STATS,
        _bytes_tensor([packed_arrays.pack(record)], shape=[]),
        task=task,
        class_names=class_names,
        loss_name=loss_name,
        description="Per-class statistics: a packed record of loss, count, correct, nonfinite, "
        "nonfinite_outputs[, tp, fp, fn] per class and the step's invalid and ignored elements",
    )


def _counts(values: np.ndarray, argument: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if not (np.all(values >= 0) and np.all(values == np.rint(values)) and np.all(values < 2**64)):
        raise ValueError(f"{argument} holds counts: whole numbers >= 0")
    top = float(values.max(initial=0))
    dtype = next(d for d in (np.uint8, np.uint16, np.uint32, np.uint64) if top <= np.iinfo(d).max)
    return values.astype(dtype)


def _smallest_unsigned(values: np.ndarray) -> np.ndarray:
    """Non-negative integers in the smallest of uint8/16/32/64 that holds them."""
    top = int(values.max(initial=0))
    dtype = next(d for d in (np.uint8, np.uint16, np.uint32, np.uint64) if top <= np.iinfo(d).max)
    return values.astype(dtype)


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
    """A `confusion` summary under `<name>/confusion`: a one-blob sequence holding the
    `sparse_counts` bytes of `matrix`'s nonzero cells (the plugin reads one step at a time).

    `matrix` holds counts: [C, C] with rows = true class and columns = predicted class
    (multiclass, binary), or [C, 2, 2] = [label][true][predicted] (multilabel; the cells of a
    row are TN, FP, FN, TP).
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
    return _summary(
        name,
        metadata.KIND_CONFUSION,
        _bytes_tensor([sparse_counts.encode_dense(matrix)], shape=[1]),
        task=task,
        class_names=class_names,
        loss_name=loss_name,
        description="Confusion counts (rows: true class, columns: predicted class), the "
        "nonzero cells as sparse_counts bytes",
        encoding=metadata.ENCODING_SPARSE,
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
    return _summary(
        name,
        metadata.KIND_SAMPLES,
        _string_tensor([header, *blobs]),
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
    binary and multilabel: the probability sums) as the vector of `score_tensor.encode`, in
    the smallest unsigned dtype, packed (`packed_arrays`, one array `columns`) into a DT_STRING
    scalar: TensorBoard keeps these bytes, where it kept 8 bytes a value of an int64 tensor.
    Binary histograms are of the positive class (one row)."""
    metadata.validate_name(name)
    rows = 1 if task == metadata.TASK_BINARY else len(class_names)
    tensor = score_tensor.encode(counts, rows=rows, task=task, top_k=top_k)
    record = {metadata.SCORES_COLUMNS: _smallest_unsigned(tensor)}
    return _summary(
        name,
        metadata.KIND_SCORES,
        _bytes_tensor([packed_arrays.pack(record)], shape=[]),
        task=task,
        class_names=class_names,
        loss_name=loss_name,
        description="Score histograms per class (PR/ROC, AP, AUROC, calibration, top-k)",
        **metadata.score_fields(task, top_k),
    )


def dynamics_tensor(
    counts: np.ndarray,
    *,
    dataset_size: int,
    invalid_id_visits: int = 0,
    repeated_ids: int = 0,
    skipped_visits: int = 0,
) -> np.ndarray:
    """The int64 [6, C + 4] tensor of a `dynamics` summary (`metadata.dynamics_shape`):
    `counts` [6, C] in the order of `metadata.DYNAMICS_ROWS`, then the four cumulative columns
    of `metadata.DYNAMICS_EXTRA_COLUMNS` in the first row."""
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != len(metadata.DYNAMICS_ROWS):
        raise ValueError(
            f"dynamics counts have shape {counts.shape}; expected ({len(metadata.DYNAMICS_ROWS)}, "
            "C), the rows of metadata.DYNAMICS_ROWS"
        )
    if not np.issubdtype(counts.dtype, np.integer) or (counts < 0).any():
        raise ValueError("dynamics counts are non-negative integers")
    extra = np.zeros((len(metadata.DYNAMICS_ROWS), len(metadata.DYNAMICS_EXTRA_COLUMNS)), np.int64)
    extra[0] = [
        int(_count(value, argument))
        for value, argument in (
            (dataset_size, "dataset_size"),
            (invalid_id_visits, "invalid_id_visits"),
            (repeated_ids, "repeated_ids"),
            (skipped_visits, "skipped_visits"),
        )
    ]
    return np.concatenate([counts.astype(np.int64), extra], axis=1)


def dynamics_pb(
    name: str,
    tensor: np.ndarray,
    *,
    class_names: Sequence[str],
    task: str = metadata.TASK_MULTICLASS,
    loss_name: str = "cross_entropy",
) -> summary_pb2.Summary:
    """A `dynamics` summary under `<name>/dynamics`: the tensor of `dynamics_tensor`."""
    metadata.validate_name(name)
    tensor = np.asarray(tensor)
    if tensor.shape != metadata.dynamics_shape(len(class_names)):
        raise ValueError(
            f"a dynamics tensor of {len(class_names)} classes has shape "
            f"{metadata.dynamics_shape(len(class_names))}; got {tensor.shape}"
        )
    return _summary(
        name,
        metadata.KIND_DYNAMICS,
        _int64_tensor(tensor),
        task=task,
        class_names=class_names,
        loss_name=loss_name,
        description="Per-class counts of tracked samples [visited, easy, ambiguous, hard, "
        "likely_errors, forgotten] x [classes..., dataset_size, invalid_id_visits, repeated_ids, "
        "skipped_visits]",
    )


def dynamics_samples_pb(
    name: str,
    header: bytes,
    blobs: Sequence[bytes],
    *,
    class_names: Sequence[str],
    task: str = metadata.TASK_MULTICLASS,
    loss_name: str = "cross_entropy",
) -> summary_pb2.Summary:
    """A `dynamics_samples` snapshot under `<name>/dynamics_samples` (plugin name
    `metadata.SNAPSHOT_PLUGIN_NAME`): a blob sequence of the header and the elements made by
    `tb_perclass.format.dynamics.encode`."""
    metadata.validate_name(name)
    return _summary(
        name,
        metadata.KIND_DYNAMICS_SAMPLES,
        _string_tensor([header, *blobs]),
        task=task,
        class_names=class_names,
        loss_name=loss_name,
        description="Per-sample training dynamics: a JSON header, the data map, the listed "
        "samples, their thumbnails",
    )


def _string_tensor(elements: Sequence[bytes]) -> tensor_pb2.TensorProto:
    return _bytes_tensor(elements, shape=[len(elements)])


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


def _bytes_tensor(values: Sequence[bytes], shape: Sequence[int]) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in shape]
        ),
        string_val=list(values),
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
