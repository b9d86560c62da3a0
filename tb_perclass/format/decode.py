"""The summaries of any version back as NumPy arrays, for readers outside the plugin (scripts,
tests, a notebook reading event files with TensorBoard's own loaders). The plugin checks every
step it reads (`tb_perclass/plugin/validation.py`); these trust their input.

    from tensorboard.util import tensor_util
    array = tensor_util.make_ndarray(value.tensor)
    stats = decode.stats(array, num_classes)      # float64 [5, C + 2], + "tp"/"fp"/"fn"
    matrix = decode.confusion(array, meta)        # [C, C] or [L, 2, 2] int64
    columns = decode.scores(array)                # int64 vector (format/score_tensor.py)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_perclass.format import metadata, packed_arrays, sparse_counts


def stats(array: np.ndarray, num_classes: int) -> dict[str, Any]:
    """A `stats` step as {"matrix": float64 [5, C + 2] (`metadata.stats_shape`: the rows of
    `metadata.STATS_ROWS`, then the invalid and ignored elements in the count row), "tp", "fp",
    "fn": int64 [C] or None}, from a version-3 record or a version-1/2 tensor."""
    array = np.asarray(array)
    matrix = np.zeros(metadata.stats_shape(num_classes))
    if array.dtype == object:
        record = packed_arrays.unpack(array.reshape(-1)[0])
        matrix[0, :num_classes] = record["loss"]
        for row, name in enumerate(metadata.STATS_COUNTS, start=1):
            if name in record:
                matrix[row, :num_classes] = record[name]
        if metadata.STATS_ELEMENTS in record:
            matrix[metadata.STATS_ROWS.index("count"), num_classes:] = record["elements"]
        true_false = {n: record.get(n) for n in metadata.STATS_TRUE_FALSE}
        return {
            "matrix": matrix,
            **{n: None if v is None else v.astype(np.int64) for n, v in true_false.items()},
        }
    matrix[: array.shape[0], : array.shape[1]] = array  # version 1: [4, C]
    return {"matrix": matrix, "tp": None, "fp": None, "fn": None}


def confusion(array: Any, meta: metadata.PerClassMetadata) -> np.ndarray:
    """A `confusion` step as int64 [C, C] (rows true, columns predicted) or [L, 2, 2]
    (multilabel), from a version-3 blob (the bytes, or the blob sequence's [1] string tensor)
    or a version-1/2 dense or COO tensor."""
    shape = (
        (meta.num_classes, 2, 2)
        if meta.task == metadata.TASK_MULTILABEL
        else (meta.num_classes, meta.num_classes)
    )
    if isinstance(array, bytes) or np.asarray(array).dtype == object:
        blob = array if isinstance(array, bytes) else np.asarray(array).reshape(-1)[0]
        cells, counts, _ = sparse_counts.decode(blob)
        dense = np.zeros(int(np.prod(shape)), dtype=np.int64)
        dense[cells] = counts
        return dense.reshape(shape)
    array = np.asarray(array, dtype=np.int64)
    if meta.extra.get("encoding") == metadata.ENCODING_COO:
        dense = np.zeros(shape[:1] + (int(np.prod(shape[1:])),), dtype=np.int64)
        np.add.at(dense, (array[:, 0], array[:, 1]), array[:, 2])
        return dense.reshape(shape)
    return array.reshape(shape)


def scores(array: Any) -> np.ndarray:
    """A `scores` step as the int64 vector `score_tensor.parse` reads, from a version-4 packed
    record (the bytes, or the DT_STRING scalar) or a version-3 int64 tensor."""
    if isinstance(array, bytes) or np.asarray(array).dtype == object:
        record = array if isinstance(array, bytes) else np.asarray(array).reshape(-1)[0]
        return packed_arrays.unpack(record)[metadata.SCORES_COLUMNS].astype(np.int64)
    return np.asarray(array, dtype=np.int64).reshape(-1)
