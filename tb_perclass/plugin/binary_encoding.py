"""A compact binary answer for responses dominated by large numeric matrices (the `curves`
route at hundreds of classes and thousands of steps).

Writing millions of numbers as JSON text costs seconds in Python and the browser; the raw
bytes cost milliseconds and are not recompressed (TensorBoard gzips textual media types only).
Counts travel in the smallest type that holds them, so 1000 classes x 5000 steps of a
validation set's counts take a byte each. Layout, little-endian:

    uint32  header length N
    N bytes UTF-8 JSON header, padded with spaces so that 4 + N is a multiple of 8: the
            answer's other fields, plus "arrays": [[key, rows, columns, type], ...] in the order
            of the data below; type is "f4" (float32, NaN for null), "f8" (float64, NaN for
            null; counts beyond 2**32), "u1", "u2" or "u4" (unsigned integers)
    each array's data, row-major, padded with zero bytes to a multiple of 8 bytes

`encode_columns` sends 1-D columns of their own dtypes (the data map's 8-bit coordinates and
32-bit ids) in a framing of its own: a uint32 header length, the JSON header padded to a
multiple of 4 bytes with "columns": [[key, dtype, length], ...] (dtype "u8" or "u32"), each
column's data padded to a multiple of 4 bytes.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from tb_perclass.plugin import json_encoding

MEDIA_TYPE = "application/octet-stream"
_TYPES = {
    np.dtype(np.float32): "f4",
    np.dtype(np.float64): "f8",
    np.dtype(np.uint8): "u1",
    np.dtype(np.uint16): "u2",
    np.dtype(np.uint32): "u4",
}


def encode(answer: dict[str, Any]) -> bytes:
    """Moves every 2-D array of `answer` into the data; the rest goes into the header."""
    header: dict[str, Any] = {}
    shapes: list[list[Any]] = []
    data: list[bytes] = []
    for key, value in answer.items():
        if isinstance(value, np.ndarray) and value.ndim == 2:
            if value.dtype not in _TYPES:  # other integers (int64, uint64): exact to 2**53
                value = value.astype(np.float64)
            raw = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()
            shapes.append([key, *value.shape, _TYPES[value.dtype]])
            data.append(raw + b"\0" * (-len(raw) % 8))
        else:
            header[key] = value
    header["arrays"] = shapes
    text = json_encoding.dumps(header).encode("utf-8")
    text += b" " * (-(len(text) + 4) % 8)  # each array 8-byte aligned for a typed-array view
    return b"".join([struct.pack("<I", len(text)), text, *data])


_COLUMN_DTYPES = {"u8": "<u1", "u32": "<u4"}


def encode_columns(header: dict[str, Any], columns: dict[str, tuple[str, np.ndarray]]) -> bytes:
    """`header` as JSON, then each (dtype, 1-D array) of `columns` as raw little-endian data."""
    described, data = [], []
    for key, (dtype, values) in columns.items():
        raw = np.ascontiguousarray(values, dtype=_COLUMN_DTYPES[dtype]).tobytes()
        described.append([key, dtype, len(values)])
        data.append(raw + b"\0" * (-len(raw) % 4))
    text = json_encoding.dumps({**header, "columns": described}).encode("utf-8")
    text += b" " * (-len(text) % 4)
    return b"".join([struct.pack("<I", len(text)), text, *data])
