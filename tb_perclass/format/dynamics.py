"""Training dynamics per sample: the statistics, the data-map regions, the likely-label-error
rule, and the layout of the `dynamics_samples` snapshot (docs/data-contract.md).

Per sample, over the visits of training batches: the confidence (mean probability of the given
label), the variability (its standard deviation) and the correctness (fraction of visits
predicted right) place it on a data map (Swayamdipta et al. 2020); the mean margin (probability
of the given label minus the largest other one) ranks likely label errors, most negative first
(the probability form of the area under the margin, Pleiss et al. 2020); forgetting events are
right -> wrong transitions between visits (Toneva et al. 2019).

A snapshot is self-contained: every tracked sample's statistics so far, never the changes since
the previous one, so a reader needs only the latest and a run restarted with another dataset
size never mixes two. It is a blob sequence:

- element 0: a JSON header (`HEADER_FIELDS`);
- element 1: the data map, zlib-compressed columns one after another: [id u32 when the map is a
  subset], label, then confidence, variability (x2: it is at most 0.5) and correctness quantised
  to 0..254 (255: never visited). Every sample when there are at most `MAP_POINTS`, else a fixed
  pseudo-random subset of about that many (chosen by a hash of the id: the same samples at every
  step);
- element 2: the entries, zlib-compressed columns (`ENTRY_COLUMNS`) at full precision: the likely
  label errors (mean margin below 0, lowest first, at most `MAX_ERRORS`) and the most forgotten
  samples (at most `MAX_FORGOTTEN`), for the ranked lists and their CSV;
- elements 3..: the thumbnails (PNG) or texts of listed samples whose inputs were seen, as the
  header's `media` list says.

Imports NumPy and the standard library only.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

VERSION = 1

# Data-map regions, by confidence (the mean probability of the given label): easy to learn at
# 2/3 and above, hard to learn below 1/3, ambiguous between (the model is unsure, or changes its
# mind: only there can the variability be high). Bands of confidence rather than a variability
# cut, because a sample that is learned during training (p from 0.1 to 1) has a variability of
# about 0.2-0.3 from that alone: measured on digits, a variability cut at 0.2 called 75% of the
# clean samples ambiguous after 20 epochs.
EASY_CONFIDENCE = 2 / 3
HARD_CONFIDENCE = 1 / 3
REGIONS = ("easy", "ambiguous", "hard")
UNVISITED = -1

MAP_POINTS = 100_000
MAX_ERRORS = 10_000
MAX_FORGOTTEN = 1_000
QUANTISED_LEVELS = 254
NOT_VISITED = 255
_HASH = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: ids spread evenly over [0, 2**64)

# The entries' columns; None is the label dtype (the narrowest holding every class).
ENTRY_COLUMNS = (
    ("id", "<u4"),
    ("label", None),
    ("preferred", None),
    ("visits", "<u4"),
    ("forgets", "<u4"),
    ("confidence", "<f4"),
    ("variability", "<f4"),
    ("correctness", "<f4"),
    ("margin", "<f4"),
)
HEADER_FIELDS = (
    "version",  # this layout's version
    "size",  # the dataset size N: ids are in [0, N)
    "visited",  # samples visited at least once
    "visits",  # visits counted (ids in range, countable)
    "map",  # {"count", "subset": bool, "columns": [[name, dtype], ...]}
    "entries",  # {"count", "errors", "forgotten", "columns": [[name, dtype], ...]}
    "media",  # [{"id", "index", "media", "width", "height"}]: thumbnails and texts
    "invalid_visits",  # visits whose id was outside [0, N), counted nowhere else
    "skipped_visits",  # visits with an ignored or invalid target or NaN outputs
    "repeated_ids",  # ids that came twice or more in one batch (each occurrence counted)
)
MAX_SIZE = 2**32 - 1


def label_dtype(num_classes: int) -> str:
    return "<u1" if num_classes <= 255 else "<u2" if num_classes <= 65_535 else "<u4"


def regions(confidence: np.ndarray) -> np.ndarray:
    """0 easy, 1 ambiguous, 2 hard, -1 never visited (NaN confidence)."""
    with np.errstate(invalid="ignore"):
        region = np.where(
            confidence >= EASY_CONFIDENCE, 0, np.where(confidence < HARD_CONFIDENCE, 2, 1)
        )
    return np.where(np.isnan(confidence), UNVISITED, region)


def likely_errors(margin: np.ndarray) -> np.ndarray:
    """Whether each sample is a likely label error: on average over its visits the model gave
    another label more probability than the given one (NaN, never visited: no)."""
    with np.errstate(invalid="ignore"):
        return margin < 0


def map_ids(size: int, limit: int = MAP_POINTS) -> np.ndarray | None:
    """The ids on the map: None (all of them) up to `limit`, else a subset of about `limit`
    ids, the same for every snapshot of a dataset of this size."""
    if size <= limit:
        return None
    with np.errstate(over="ignore"):
        hashed = np.arange(size, dtype=np.uint64) * _HASH
    return np.flatnonzero(hashed < np.uint64(int(limit / size * 2**64))).astype(np.uint32)


def quantise(values: np.ndarray, high: float) -> np.ndarray:
    """[0, high] -> 0..254; NaN (never visited) -> 255."""
    with np.errstate(invalid="ignore"):
        q = np.rint(np.clip(values / high, 0, 1) * QUANTISED_LEVELS)
    return np.where(np.isnan(values), NOT_VISITED, q).astype(np.uint8)


def encode(
    *,
    size: int,
    num_classes: int,
    visits: np.ndarray,
    confidence: np.ndarray,
    variability: np.ndarray,
    correctness: np.ndarray,
    margin: np.ndarray,
    forgets: np.ndarray,
    label: np.ndarray,
    preferred: np.ndarray,
    media: Sequence[tuple[int, str, int, int, bytes]] = (),
    invalid_visits: int = 0,
    skipped_visits: int = 0,
    repeated_ids: int = 0,
) -> tuple[bytes, list[bytes]]:
    """The header (JSON bytes) and the other elements of a snapshot, from per-sample arrays of
    length `size` (NaN statistics and label -1 where a sample was never visited). `media`:
    (id, media type, width, height, bytes) of listed samples' thumbnails or texts."""
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"a dataset of {size} samples; 1 to {MAX_SIZE} can be tracked")
    labels = label_dtype(num_classes)
    subset = map_ids(size)
    pick = slice(None) if subset is None else subset
    map_columns = [
        ("label", labels, np.maximum(label[pick], 0)),
        ("confidence", "u1", quantise(confidence[pick], 1.0)),
        ("variability", "u1", quantise(variability[pick], 0.5)),
        ("correctness", "u1", quantise(correctness[pick], 1.0)),
    ]
    if subset is not None:
        map_columns.insert(0, ("id", "<u4", subset))
    errors = np.flatnonzero(likely_errors(margin))
    errors = errors[np.lexsort((errors, margin[errors]))][:MAX_ERRORS]
    forgotten = np.flatnonzero(forgets > 0)
    forgotten = forgotten[np.lexsort((forgotten, margin[forgotten], -forgets[forgotten]))]
    forgotten = forgotten[:MAX_FORGOTTEN]
    entries = np.union1d(errors, forgotten)
    values = {
        "id": entries,
        "label": label[entries],
        "preferred": preferred[entries],
        "visits": visits[entries],
        "forgets": forgets[entries],
        "confidence": confidence[entries],
        "variability": variability[entries],
        "correctness": correctness[entries],
        "margin": margin[entries],
    }
    entry_columns = [(name, dtype or labels, values[name]) for name, dtype in ENTRY_COLUMNS]
    listed = set(entries.tolist())
    kept_media = [m for m in media if m[0] in listed]
    header = {
        "version": VERSION,
        "size": int(size),
        "visited": int(np.count_nonzero(visits)),
        "visits": int(np.sum(visits)),
        "map": _section(len(map_columns[0][2]), map_columns, subset=subset is not None),
        "entries": _section(
            len(entries), entry_columns, errors=len(errors), forgotten=len(forgotten)
        ),
        "media": [
            {"id": int(sample), "index": 3 + i, "media": kind, "width": width, "height": height}
            for i, (sample, kind, width, height, _) in enumerate(kept_media)
        ],
        "invalid_visits": int(invalid_visits),
        "skipped_visits": int(skipped_visits),
        "repeated_ids": int(repeated_ids),
    }
    blobs = [_pack(map_columns), _pack(entry_columns), *(m[4] for m in kept_media)]
    return json.dumps(header, separators=(",", ":")).encode("utf-8"), blobs


def _section(count: int, columns: list, **extra: Any) -> dict[str, Any]:
    return {"count": int(count), **extra, "columns": [[n, np.dtype(d).str] for n, d, _ in columns]}


def _pack(columns: list) -> bytes:
    raw = b"".join(np.ascontiguousarray(v, dtype=d).tobytes() for _, d, v in columns)
    return zlib.compress(raw, 1)


def unpack(section: dict[str, Any], blob: bytes) -> dict[str, np.ndarray]:
    """A section's columns from its compressed element; ValueError when they do not match the
    header (never decompresses more than the header announces)."""
    count = section["count"]
    widths = [
        (name, np.dtype(dtype), np.dtype(dtype).itemsize * count)
        for name, dtype in section["columns"]
    ]
    expected = sum(width for _, _, width in widths)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(blob, expected + 1)
    except zlib.error as error:
        raise ValueError(f"a section does not decompress ({error})") from None
    if len(raw) != expected or inflater.unconsumed_tail:
        raise ValueError(
            f"a section holds {len(raw)}{'+' if inflater.unconsumed_tail else ''} bytes; its "
            f"header describes {expected}"
        )
    result, offset = {}, 0
    for name, dtype, width in widths:
        result[name] = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
        offset += width
    return result
