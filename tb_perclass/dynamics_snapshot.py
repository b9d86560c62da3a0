"""The compact per-sample snapshot of training dynamics written at `write()` (prototype).

A snapshot is self-contained (every visited sample's statistics so far, not the changes since
the last one), so a reader needs only the latest, TensorBoard may keep just that one, and a run
restarted with another dataset size never mixes two. It has three parts:

- the data map: per sample, the given label and confidence, variability and correctness
  quantised to 8 bits (a 500-pixel chart shows no difference); every sample when there are at
  most `MAP_POINTS`, else a fixed pseudo-random subset of that many (ids chosen by a hash, so
  the same samples at every step);
- the entries: full-precision statistics of the likely label errors (mean margin below 0,
  lowest first, at most `MAX_ERRORS`) and of the most forgotten samples (at most
  `MAX_FORGOTTEN`), for the ranked lists and the CSV;
- a JSON header saying what is where.

Prototype of phase A of issue 17: its place in the package follows the restructure.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from tb_perclass.stats.dynamics import SampleDynamics

VERSION = 1
MAP_POINTS = 100_000
MAX_ERRORS = 10_000
MAX_FORGOTTEN = 1_000
_HASH = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: ids spread evenly over [0, 2**64)

ENTRY_COLUMNS = (
    ("id", "<u4"),
    ("label", None),  # the label dtype: the narrowest that holds every class
    ("preferred", None),
    ("visits", "<u2"),  # saturating
    ("forgets", "<u2"),  # saturating
    ("confidence", "<f4"),
    ("variability", "<f4"),
    ("correctness", "<f4"),
    ("margin", "<f4"),
)


def label_dtype(num_classes: int) -> str:
    return "<u1" if num_classes <= 255 else "<u2" if num_classes <= 65_535 else "<u4"


def map_ids(size: int, limit: int = MAP_POINTS) -> np.ndarray | None:
    """The ids of the map's samples: None (all of them) up to `limit`, else a stable subset of
    about `limit` ids, the same for every snapshot of a dataset of this size."""
    if size <= limit:
        return None
    ids = np.arange(size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        hashed = ids * _HASH
    threshold = np.uint64(int(limit / size * 2**64))
    return np.flatnonzero(hashed < threshold).astype(np.uint32)


def _quantise(values: np.ndarray, scale: float) -> np.ndarray:
    """[0, 1 / scale] -> 0..254 (255: never visited)."""
    q = np.rint(np.clip(values * scale, 0, 1) * 254)
    return np.where(np.isnan(values), 255, q).astype(np.uint8)


def encode(dynamics: SampleDynamics, num_classes: int) -> tuple[dict[str, Any], list[bytes]]:
    """The header and the binary blobs of one snapshot."""
    size = len(dynamics.visits)
    if size >= 2**32:
        raise ValueError(f"a dataset of {size} samples: at most 2**32 - 1 can be tracked")
    labels = label_dtype(num_classes)
    subset = map_ids(size)
    pick = slice(None) if subset is None else subset
    map_columns = [
        ("label", labels, np.maximum(dynamics.label[pick], 0).astype(labels)),
        ("confidence", "<u1", _quantise(dynamics.confidence[pick], 1.0)),
        ("variability", "<u1", _quantise(dynamics.variability[pick], 2.0)),  # at most 0.5
        ("correctness", "<u1", _quantise(dynamics.correctness[pick], 1.0)),
    ]
    if subset is not None:
        map_columns.insert(0, ("id", "<u4", subset))
    errors = np.flatnonzero(dynamics.margin < 0)
    errors = errors[np.lexsort((errors, dynamics.margin[errors]))][:MAX_ERRORS]
    forgotten = np.flatnonzero(dynamics.forgets > 0)
    forgotten = forgotten[np.lexsort((dynamics.margin[forgotten], -dynamics.forgets[forgotten]))][:MAX_FORGOTTEN]
    entries = np.union1d(errors, forgotten)
    entry_values = {
        "id": entries,
        "label": dynamics.label[entries],
        "preferred": dynamics.preferred[entries],
        "visits": np.minimum(dynamics.visits[entries], 65_535),
        "forgets": np.minimum(dynamics.forgets[entries], 65_535),
        "confidence": dynamics.confidence[entries],
        "variability": dynamics.variability[entries],
        "correctness": dynamics.correctness[entries],
        "margin": dynamics.margin[entries],
    }
    entry_columns = [(name, dtype or labels, entry_values[name].astype(dtype or labels)) for name, dtype in ENTRY_COLUMNS]
    header = {
        "version": VERSION,
        "size": size,
        "visited": int(np.count_nonzero(dynamics.visits)),
        "map": {"count": len(map_columns[0][2]), "ids": "all" if subset is None else "subset",
                "columns": [[name, dtype] for name, dtype, _ in map_columns]},
        "entries": {"count": len(entries), "errors": len(errors), "forgotten": len(forgotten),
                    "columns": [[name, dtype] for name, dtype, _ in entry_columns]},
        "invalid_visits": dynamics.invalid_visits,
        "skipped_visits": dynamics.skipped_visits,
        "duplicates": dynamics.duplicates,
    }
    blobs = [
        b"".join(np.ascontiguousarray(values).tobytes() for _, _, values in map_columns),
        b"".join(np.ascontiguousarray(values).tobytes() for _, _, values in entry_columns),
    ]
    return header, blobs


def decode_columns(section: dict[str, Any], blob: bytes) -> dict[str, np.ndarray]:
    """A section's columns from its blob (columns stored one after another)."""
    count, offset, result = section["count"], 0, {}
    for name, dtype in section["columns"]:
        width = np.dtype(dtype).itemsize * count
        result[name] = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
        offset += width
    if offset != len(blob):
        raise ValueError(f"a dynamics section of {len(blob)} bytes; its header describes {offset}")
    return result


def serialized_size(header: dict[str, Any], blobs: list[bytes]) -> int:
    return len(json.dumps(header).encode()) + sum(len(b) for b in blobs)
