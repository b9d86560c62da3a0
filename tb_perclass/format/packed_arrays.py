"""Named NumPy arrays packed into compact, self-describing bytes (a step of `stats`, say).

TensorBoard keeps every step of a tb-perclass tag in memory (its reservoir), on both loading
paths, as the bytes the summary carries. A float64 `stats` tensor of 1000 classes costs 40 KiB a
step there; its counts are small integers and its non-finite rows are nearly always zero. Packed
here, a step costs what its information needs: each array's bytes are split into byte planes
(all first bytes, then all second bytes, ...), so the zero high bytes of small counts and the
zero rows become long runs, and the whole is deflated (zlib).

Layout:

    magic b"PCA1" | uint32 LE header length | header (UTF-8 JSON) | zlib(byte planes of each array)

The header is {"arrays": [[name, dtype, shape], ...]} in body order; dtypes are little-endian
NumPy type strings from a fixed set. Arrays are named, so a reader takes the ones it knows and a
later version can add arrays without breaking older readers of the others.
"""

from __future__ import annotations

import functools
import json
import math
import struct
import zlib
from collections.abc import Mapping

import numpy as np

MAGIC = b"PCA1"
DTYPES = ("<f4", "<f8", "<u1", "<u2", "<u4", "<u8", "<i1", "<i2", "<i4", "<i8")
_LEVEL = 1  # zlib level: 6 saves about 3% on these data and takes twice as long
_MAX_HEADER = 1 << 20


def pack(arrays: Mapping[str, np.ndarray], level: int = _LEVEL) -> bytes:
    entries, planes = [], []
    for name, array in arrays.items():
        array = np.asarray(array)
        dtype = array.dtype.newbyteorder("<").str.replace("|", "<")
        if dtype not in DTYPES:
            raise ValueError(f"array {name!r} has dtype {array.dtype}; pack one of {DTYPES}")
        array = np.ascontiguousarray(array, dtype=dtype)
        entries.append([str(name), dtype, list(array.shape)])
        planes.append(array.view(np.uint8).reshape(-1, array.itemsize).T.tobytes())
    header = json.dumps({"arrays": entries}, separators=(",", ":")).encode("utf-8")
    return b"".join(
        [MAGIC, struct.pack("<I", len(header)), header, zlib.compress(b"".join(planes), level)]
    )


def unpack(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of `pack`'s bytes; ValueError names what is wrong with malformed bytes."""
    entries, body = _split(data)
    return {name: stacked[0] for name, stacked in _arrays(entries, [body]).items()}


def unpack_many(
    blobs: list[bytes], skip_malformed: bool = False, problems: dict[int, str] | None = None
) -> list[tuple[list[int], dict[str, np.ndarray]]]:
    """Many packed steps at once: groups of (positions in `blobs`, arrays stacked on a new first
    axis), one group per distinct header (usually one). Byte planes are turned back into arrays
    for a whole group in one NumPy pass, so decoding 5000 steps costs mostly their inflating
    (once each: there is no separate check). A malformed blob raises ValueError naming its
    position, or is left out of every group with `skip_malformed`, or with `problems` (a dict)
    left out and recorded there: position -> what is wrong."""
    groups: dict[bytes, tuple[list, list[int], list[bytes]]] = {}
    for position, blob in enumerate(blobs):
        try:
            entries, body = _split(blob)
        except ValueError as error:
            if problems is not None:
                problems[position] = str(error)
                continue
            if skip_malformed:
                continue
            raise ValueError(f"step {position}: {error}") from None
        key = bytes(blob[8 : 8 + struct.unpack_from("<I", blob, 4)[0]])
        group = groups.setdefault(key, (entries, [], []))
        group[1].append(position)
        group[2].append(body)
    return [(positions, _arrays(entries, bodies)) for entries, positions, bodies in groups.values()]


def check(data: bytes) -> None:
    """Raises ValueError naming what is wrong with `data`, if it is not packed arrays."""
    _split(data)


def _split(data: bytes) -> tuple[list[tuple[str, str, tuple[int, ...]]], bytes]:
    if not isinstance(data, (bytes, bytearray, memoryview)) or bytes(data[:4]) != MAGIC:
        raise ValueError("not tb-perclass packed arrays (bad magic)")
    if len(data) < 8:
        raise ValueError("packed arrays cut short in their header")
    (length,) = struct.unpack_from("<I", data, 4)
    if length > _MAX_HEADER or 8 + length > len(data):
        raise ValueError(f"packed arrays announce a {length}-byte header in {len(data)} bytes")
    entries, size = _header(bytes(data[8 : 8 + length]))
    inflate = zlib.decompressobj()
    try:  # never more than the header announces (a small file cannot inflate to gigabytes)
        body = inflate.decompress(bytes(data[8 + length :]), size + 1)
    except zlib.error as error:
        raise ValueError(f"packed arrays' body does not inflate: {error}") from None
    if len(body) != size or not inflate.eof:
        raise ValueError("packed arrays' body does not match their header")
    return entries, body


@functools.lru_cache(maxsize=64)
def _header(raw: bytes) -> tuple[list[tuple[str, str, tuple[int, ...]]], int]:
    """The entries of a header and the body's size they announce. Every step of a tag has the
    same header: parsed once."""
    try:
        header = json.loads(raw.decode("utf-8"))
        entries = [(str(n), str(d), tuple(int(x) for x in s)) for n, d, s in header["arrays"]]
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"packed arrays have a malformed header: {error}") from None
    for name, dtype, shape in entries:
        if dtype not in DTYPES or any(d < 0 for d in shape):
            raise ValueError(f"array {name!r} has dtype {dtype!r} or shape {shape} not allowed")
    size = sum(np.dtype(d).itemsize * math.prod(s) for _, d, s in entries)
    return entries, size


def _arrays(entries, bodies: list[bytes]) -> dict[str, np.ndarray]:
    steps = len(bodies)
    joined = np.frombuffer(b"".join(bodies), dtype=np.uint8).reshape(steps, -1)
    result, offset = {}, 0
    for name, dtype, shape in entries:
        itemsize = np.dtype(dtype).itemsize
        count = int(np.prod(shape, dtype=np.int64))
        planes = joined[:, offset : offset + count * itemsize].reshape(steps, itemsize, count)
        values = np.ascontiguousarray(planes.transpose(0, 2, 1)).view(dtype)
        result[name] = values.reshape((steps, *shape))
        offset += count * itemsize
    return result
