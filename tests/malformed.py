"""Event files holding per-class summaries this version would never write: other dtypes,
shapes and byte sizes, impossible counts, broken manifests, odd metadata, flipped bytes.

Each run mixes good steps with bad ones, so that a test can check that the bad step is skipped
(and named) while the good ones are still served.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.util import tensor_util

from tb_perclass.format import metadata, summary
from tb_perclass.logger import sinks

NAME = "perclass"


def write_events(run_dir: str, steps: Iterable[tuple[int, summary_pb2.Summary]]) -> str:
    """Writes one event per (step, summary), in order, with wall time = step + 1; returns the
    event file's path."""
    sink = sinks.EventFileSink(run_dir)
    for step, value in steps:
        sink.write(value, step, float(step + 1))
    sink.close()
    (filename,) = [f for f in os.listdir(run_dir) if "tfevents" in f]
    return os.path.join(run_dir, filename)


def with_tensor(
    kind: str,
    class_names: Sequence[str],
    tensor: tensor_pb2.TensorProto,
    *,
    task: str = metadata.TASK_MULTICLASS,
    content: bytes | None = None,
    **extra: Any,
) -> summary_pb2.Summary:
    """A `<NAME>/<kind>` summary with this version's metadata (or the raw `content`) around
    any tensor."""
    summary_metadata = metadata.create_summary_metadata(
        kind=kind, task=task, class_names=class_names, loss="cross_entropy", **extra
    )
    if content is not None:
        summary_metadata.plugin_data.content = content
    if kind == metadata.KIND_CONFUSION and tensor.dtype != types_pb2.DT_STRING:
        summary_metadata.data_class = summary_pb2.DATA_CLASS_TENSOR  # as versions 1 and 2 wrote
    result = summary_pb2.Summary()
    result.value.add(tag=metadata.tag_for(NAME, kind), metadata=summary_metadata, tensor=tensor)
    return result


def good_stats(class_names: Sequence[str], seed: int = 0, **changes: Any) -> summary_pb2.Summary:
    """A valid stats summary: 10 samples per class, `changes` replacing rows."""
    rng = np.random.default_rng(seed)
    size = len(class_names)
    rows = dict(
        loss=rng.uniform(0.1, 2.0, size),
        count=np.full(size, 10.0),
        correct=rng.integers(0, 10, size).astype(np.float64),
        nonfinite=np.zeros(size),
        nonfinite_outputs=np.zeros(size),
    )
    rows.update(changes)
    return summary.stats_pb(NAME, class_names=class_names, **rows)


def legacy_stats(class_names: Sequence[str], **rows: Any) -> summary_pb2.Summary:
    """A stats summary as version 2 wrote it: the float64 [5, C + 2] tensor of `rows` (any
    values, impossible counts included), with version-2 metadata."""
    tensor = summary.stats_tensor(**rows, num_classes=len(class_names))
    result = stats_array(class_names, tensor)
    for value in result.value:
        as_version(value.metadata, 2)
    return result


def stats_array(class_names: Sequence[str], array: np.ndarray) -> summary_pb2.Summary:
    """A stats summary holding exactly `array` (any shape and dtype TensorBoard can store)."""
    return with_tensor(metadata.KIND_STATS, class_names, tensor_util.make_tensor_proto(array))


def string_tensor(shape: Sequence[int], text: bytes = b"oops") -> tensor_pb2.TensorProto:
    """A DT_STRING tensor of `shape`, every element `text`."""
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=_shape(shape),
        string_val=[text] * int(np.prod(shape)),
    )


def double_tensor_bytes(shape: Sequence[int], content: bytes) -> tensor_pb2.TensorProto:
    """A DT_DOUBLE tensor of `shape` whose raw `tensor_content` is `content` (any length)."""
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_DOUBLE, tensor_shape=_shape(shape), tensor_content=content
    )


def good_confusion(class_names: Sequence[str], seed: int = 0) -> summary_pb2.Summary:
    """A valid confusion summary as this version writes it (one sparse blob)."""
    return summary.confusion_pb(NAME, _good_matrix(len(class_names), seed), class_names=class_names)


def good_legacy_confusion(class_names: Sequence[str], seed: int = 0) -> summary_pb2.Summary:
    """A valid confusion summary as version 2 wrote it: a tensor, dense up to 64 classes, COO
    triplets beyond."""
    matrix = _good_matrix(len(class_names), seed)
    if len(class_names) <= metadata.DENSE_MAX_CLASSES:
        return confusion_tensor(class_names, tensor_util.make_tensor_proto(matrix))
    true, predicted = np.nonzero(matrix)
    return confusion_tensor(
        class_names, coo(np.stack([true, predicted, matrix[true, predicted]], 1))
    )


def _good_matrix(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 5, (size, size)) + 20 * np.eye(size, dtype=np.int64)


def confusion_tensor(
    class_names: Sequence[str], tensor: tensor_pb2.TensorProto, **extra: Any
) -> summary_pb2.Summary:
    """A confusion summary as version 2 wrote them: a tensor (data class TENSOR), with the
    encoding version 2 chose from the class count."""
    encoding = metadata.legacy_confusion_encoding(metadata.TASK_MULTICLASS, len(class_names))
    result = with_tensor(
        metadata.KIND_CONFUSION,
        class_names,
        tensor,
        encoding=extra.pop("encoding", encoding),
        **extra,
    )
    for value in result.value:
        as_version(value.metadata, 2)
    return result


def as_version(summary_metadata: summary_pb2.SummaryMetadata, version: int) -> None:
    """Turns this version's metadata into what `version` wrote (version 2: confusion tags are
    tensors)."""
    content = json.loads(summary_metadata.plugin_data.content)
    content["version"] = version
    summary_metadata.plugin_data.content = json.dumps(content).encode()
    if version < 3:
        summary_metadata.data_class = summary_pb2.DATA_CLASS_TENSOR


def blob_confusion(class_names: Sequence[str], blob: bytes) -> summary_pb2.Summary:
    """A version-3 confusion summary whose one blob is `blob` (any bytes)."""
    return with_tensor(
        metadata.KIND_CONFUSION,
        class_names,
        string_tensor([1], blob),
        encoding=metadata.ENCODING_SPARSE,
    )


def coo(triplets: Sequence[Sequence[int]]) -> tensor_pb2.TensorProto:
    array = np.asarray(triplets, dtype=np.int64).reshape(-1, 3)
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_INT64,
        tensor_shape=_shape(array.shape),
        int64_val=array.ravel().tolist(),
    )


def samples_summary(
    class_names: Sequence[str], manifest: bytes, blobs: Sequence[bytes]
) -> summary_pb2.Summary:
    """A samples summary whose element 0 is the raw `manifest` bytes."""
    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=_shape([len(blobs) + 1]),
        string_val=[manifest, *blobs],
    )
    return with_tensor(
        metadata.KIND_SAMPLES, class_names, tensor, samples_per_cell=8, max_samples=256
    )


def manifest_entry(index: int, sample_id: Any, true: int = 1, pred: int = 0) -> dict[str, Any]:
    return {
        "index": index,
        "true": true,
        "pred": pred,
        "score": 0.9,
        "loss": 2.5,
        "id": sample_id,
        "media": "text/plain",
        "width": 0,
        "height": 0,
    }


def good_samples(class_names: Sequence[str], ids: Sequence[Any]) -> summary_pb2.Summary:
    manifest = [manifest_entry(i + 1, sample_id) for i, sample_id in enumerate(ids)]
    return samples_summary(
        class_names,
        json.dumps(manifest).encode(),
        [f"text of {sample_id}".encode() for sample_id in ids],
    )


def flip_bytes(path: str, needle: bytes) -> None:
    """Flips the bits of the first byte of `needle` in the file (its record's CRC no longer
    matches): what a bad disk or a careless copy leaves behind."""
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    at = data.find(needle)
    assert at >= 0, needle
    data[at] ^= 0xFF
    with open(path, "wb") as handle:
        handle.write(bytes(data))


def _shape(shape: Sequence[int]) -> tensor_shape_pb2.TensorShapeProto:
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(d)) for d in shape]
    )
