"""Compact bytes for one step's sparse counts (the nonzero cells of a confusion matrix).

A step of a 1000-class confusion matrix has about 12k nonzero cells. As int64 COO triplets in a
TensorProto they cost 24 bytes each in TensorBoard's memory (both loaders keep repeated int64
fields as 8-byte integers), 288 KiB a step. Here the cells are sorted linear indices
(row * width + column) written as LEB128 varints of their gaps, followed by the counts as
varints: about 1.5 bytes a cell, which is also what TensorBoard keeps when the bytes travel as
a blob.

Layout: the magic, then zlib-deflated unsigned LEB128 varints (deflating takes off another
third: most counts are 1 or 2, and gaps repeat):

    magic b"PCS1" | zlib(cells | width | gap_1 ... gap_n | count_1 ... count_n)

`gap_1` is the first linear index, `gap_k` the difference to the previous one (> 0: cells are
strictly increasing); counts are positive. Encoding and decoding are vectorised NumPy (no Python
loop over cells), so a step costs well under a millisecond either way.
"""

from __future__ import annotations

import zlib

import numpy as np

MAGIC = b"PCS1"
# A step of 2**20 classes with every cell filled is far below this; more is a hostile file.
MAX_INFLATED = 2**30
_MAX_BYTES = 10  # a uint64 needs at most 10 varint bytes


def varint_encode(values: np.ndarray) -> bytes:
    """Unsigned LEB128 of each value, concatenated."""
    values = np.asarray(values, dtype=np.uint64)
    if values.size == 0:
        return b""
    sizes = np.ones(len(values), dtype=np.int64)
    for k in range(1, _MAX_BYTES):
        sizes += values >= np.uint64(1) << np.uint64(7 * k)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    for k in range(int(sizes.max())):
        has = sizes > k
        part = (values[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (sizes[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[has] + k] = (part | more).astype(np.uint8)
    return out.tobytes()


def varint_decode(data: bytes | np.ndarray, count: int) -> tuple[np.ndarray, int]:
    """The first `count` varints of `data` as uint64, and the number of bytes they took.

    Raises ValueError when `data` holds fewer than `count` complete varints or one of them is
    longer than 10 bytes."""
    raw = (
        np.frombuffer(data, dtype=np.uint8)
        if isinstance(data, (bytes, bytearray, memoryview))
        else data
    )
    if count == 0:
        return np.zeros(0, dtype=np.uint64), 0
    last = np.flatnonzero(raw < 0x80)
    if len(last) < count:
        raise ValueError(f"{count} varints expected, {len(last)} complete ones found")
    last = last[:count]
    used = int(last[-1]) + 1
    starts = np.empty(count, dtype=np.int64)
    starts[0] = 0
    starts[1:] = last[:-1] + 1
    lengths = last - starts + 1
    if lengths.max() > _MAX_BYTES:
        raise ValueError("a varint is longer than 10 bytes")
    body = raw[:used].astype(np.uint64) & np.uint64(0x7F)
    offsets = np.arange(used, dtype=np.int64) - np.repeat(starts, lengths)
    shifted = body << (np.uint64(7) * offsets.astype(np.uint64))
    return np.bitwise_or.reduceat(shifted, starts), used


def encode(cells: np.ndarray, counts: np.ndarray, width: int) -> bytes:
    """Bytes of the nonzero cells: `cells` strictly increasing linear indices, `counts` > 0."""
    cells = np.asarray(cells, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    if cells.shape != counts.shape or cells.ndim != 1:
        raise ValueError(f"cells {cells.shape} and counts {counts.shape} must be 1-D and alike")
    if len(cells) and (cells[0] < 0 or (np.diff(cells) <= 0).any()):
        raise ValueError("cells must be non-negative and strictly increasing")
    if (counts <= 0).any():
        raise ValueError("only nonzero (positive) counts are stored")
    gaps = np.diff(cells, prepend=0) if len(cells) else cells
    body = b"".join(
        [varint_encode(np.array([len(cells), width])), varint_encode(gaps), varint_encode(counts)]
    )
    return MAGIC + zlib.compress(body, 1)


def encode_dense(matrix: np.ndarray) -> bytes:
    """Bytes of a non-negative integer matrix's nonzero cells (width: its last axis... flattened
    over every axis but the first, so [L, 2, 2] has width 4)."""
    matrix = np.asarray(matrix)
    width = int(np.prod(matrix.shape[1:])) if matrix.ndim > 1 else 1
    flat = matrix.reshape(-1)
    cells = np.flatnonzero(flat)
    return encode(cells, flat[cells], width)


def decode(data: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """(cells int64, counts int64, width) from `encode`'s bytes; ValueError names what is wrong."""
    if not bytes(data[: len(MAGIC)]) == MAGIC:
        raise ValueError("not tb-perclass sparse counts (bad magic)")
    inflate = zlib.decompressobj()
    try:
        body = inflate.decompress(bytes(data[len(MAGIC) :]), MAX_INFLATED)
    except zlib.error as error:
        raise ValueError(f"sparse counts do not inflate: {error}") from None
    if inflate.unconsumed_tail or not inflate.eof:
        raise ValueError(f"sparse counts inflate past {MAX_INFLATED} bytes, or are cut short")
    raw = np.frombuffer(body, dtype=np.uint8)
    if len(raw) == 0:
        raise ValueError("sparse counts are empty")
    (size, width), used = varint_decode(raw, 2)
    size, width = int(size), int(width)
    if size > len(raw):
        raise ValueError(f"{size} cells announced in {len(data)} bytes")
    gaps, gap_bytes = varint_decode(raw[used:], size)
    counts, count_bytes = varint_decode(raw[used + gap_bytes :], size)
    if used + gap_bytes + count_bytes != len(raw):
        raise ValueError("trailing bytes after the counts")
    if size and ((gaps[1:] == 0).any() or (counts == 0).any()):
        raise ValueError("cells repeat or a count is zero")
    if size and (gaps.sum(dtype=np.float64) >= 2**63 or counts.max() >= 2**63):
        raise ValueError("a cell or a count is beyond 2**63")
    return np.cumsum(gaps.astype(np.int64)), counts.astype(np.int64), width
