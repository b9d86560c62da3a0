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
