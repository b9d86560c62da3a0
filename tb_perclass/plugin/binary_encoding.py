"""A compact binary answer for responses dominated by large numeric matrices (the `curves`
route at hundreds of classes and steps).

Writing a million floats as JSON text costs about half a second in Python, and TensorBoard then
gzips the text; the raw float32 bytes cost milliseconds and are not recompressed (TensorBoard
gzips textual media types only). Layout, little-endian:

    uint32  header length N
    N bytes UTF-8 JSON header, padded with spaces to a multiple of 4 bytes: the answer's other
            fields, plus "arrays": [[key, rows, columns], ...] in the order of the data below
    float32 data of each array, row-major, NaN where the JSON answer has null

Float32 keeps 7 significant digits, and counts exact up to 2**24 per class and step.

`encode_columns` sends 1-D columns of their own dtypes (the data map's 8-bit coordinates and
32-bit ids) in the same framing: the header's "columns": [[key, dtype, length], ...] (dtype
"u8" or "u32"), each column's data padded to a multiple of 4 bytes.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from tb_perclass.plugin import json_encoding

MEDIA_TYPE = "application/octet-stream"


def encode(answer: dict[str, Any]) -> bytes:
    """Moves every 2-D array of `answer` into float32 data; the rest goes into the header."""
    header: dict[str, Any] = {}
    shapes: list[list[Any]] = []
    data: list[bytes] = []
    for key, value in answer.items():
        if isinstance(value, np.ndarray) and value.ndim == 2:
            shapes.append([key, *value.shape])
            data.append(np.ascontiguousarray(value, dtype="<f4").tobytes())
        else:
            header[key] = value
    header["arrays"] = shapes
    text = json_encoding.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 4)  # float32 data aligned for a Float32Array view
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
