"""The score bins of tb-perclass: which predicted probabilities share a bin.

PR and ROC curves, average precision, AUROC and calibration are computed from per-class
histograms of predicted probabilities, so the bins fix how exact they are. The bins are read
from the bits of the probability as a float32, which costs one shift per score on any device:

- below 1/2, a probability p falls in bin `key(p) - LOW_KEY`, where `key(p)` is the float32
  bit pattern of p shifted right by `SHIFT`: its exponent and the top `SUB_BITS` bits of its
  mantissa. Each octave [2^-e, 2^-e+1) is split into `2**SUB_BITS` = 32 equal bins; everything
  below 2^`FLOOR_EXPONENT` (2^-20, about 1e-6) shares the lowest bin;
- at and above 1/2 the same bins are mirrored on q = 1 - p, so the bins get finer towards 1
  exactly as they do towards 0 (1 - p is exact in float32 for p >= 1/2).

That is `NUM_BINS` = 1218 bins, ascending in p. A bin's width relative to the distance from the
nearer end (p, or 1 - p) is between 1/64 and 1/32 (0.016 to 0.03 in log-odds); the widest bins,
next to 1/2, are 1/128 wide. `bench/score_bins_accuracy.py` compares this family with uniform and
log-odds bins. Every multiple of 1/16 is an edge, so reliability diagrams use
`CALIBRATION_BINS` = 16 equal-width bins exactly.

This module is plain Python and NumPy: the logger computes keys on the device with the same
constants (`logger/arrays`), readers turn bin indices back into probability intervals with
`edges()`.
"""

from __future__ import annotations

import functools

import numpy as np

from tb_perclass.format import metadata

SUB_BITS = metadata.SCORE_BINS["sub_bits"]  # 5: 32 bins per octave
SHIFT = 23 - SUB_BITS  # float32 has 23 mantissa bits
FLOOR_EXPONENT = metadata.SCORE_BINS["floor_exponent"]  # -20
# Keys: the float32 bits of p >> SHIFT. LOW_KEY collects everything below FLOOR (and 0).
LOW_KEY = ((127 + FLOOR_EXPONENT) << SUB_BITS) - 1
HALF_KEY = 126 << SUB_BITS  # key of 1/2
HALF_BINS = HALF_KEY - LOW_KEY  # bins below 1/2; as many at and above it
NUM_BINS = 2 * HALF_BINS
# An index past the last bin, for excluded elements (ignored or invalid targets, non-finite
# outputs): the key of `EXCLUDED_VALUE`, which the logger writes in place of their scores.
EXCLUDED_BIN = NUM_BINS
# The logger's histograms give each class (or label) NUM_BINS + 1 neighbouring cells: its bins,
# then the spare bin of excluded elements.
CELLS_PER_COLUMN = NUM_BINS + 1
EXCLUDED_KEY = LOW_KEY + EXCLUDED_BIN
EXCLUDED_VALUE = float(np.array([EXCLUDED_KEY << SHIFT], dtype=np.int32).view(np.float32)[0])
CALIBRATION_BINS = metadata.SCORE_CALIBRATION_BINS  # 16
# The clamp of the keys of (1 - p, p) for a top score (see `top_bin`).
TOP_KEY_BOUNDS = (HALF_KEY - 1, HALF_KEY)


def top_bin(p_key, q_key):
    """The bin of a probability p from the keys of p and of q = 1 - p, clamped to
    [LOW_KEY, HALF_KEY] and [LOW_KEY, HALF_KEY - 1] (`TOP_KEY_BOUNDS`). Below 1/2 the key of q is
    pinned at HALF_KEY - 1 and this is key(p) - LOW_KEY; at and above 1/2 the key of p is pinned
    at HALF_KEY and this is the mirrored bin of q. Works on arrays of any library."""
    return p_key - q_key + (HALF_BINS - 1)


def _float32_of_key(keys: np.ndarray) -> np.ndarray:
    return (np.asarray(keys, dtype=np.int32) << SHIFT).view(np.float32).astype(np.float64)


@functools.lru_cache(maxsize=1)
def edges() -> np.ndarray:
    """float64 [NUM_BINS + 1]: bin b holds probabilities from edges[b] to edges[b + 1].

    Below 1/2 a bin includes its lower edge, above 1/2 its upper edge (1/2 itself is in the
    first bin above 1/2). The last edge is 1.
    """
    lower = _float32_of_key(np.arange(LOW_KEY, HALF_KEY + 1))
    lower[0] = 0.0  # the lowest bin reaches down to 0
    upper = 1.0 - lower[::-1]  # mirrored: 1/2, ..., 1 - 2^-24, 1
    values = np.concatenate([lower, upper[1:]])
    values.setflags(write=False)
    return values


def bin_of(probabilities: np.ndarray) -> np.ndarray:
    """Host reference of the logger's binning: the bin index of each probability in [0, 1]."""
    p = np.asarray(probabilities, dtype=np.float32)
    upper = p >= 0.5
    q = np.where(upper, np.float32(1.0) - p, p).astype(np.float32)
    keys = np.clip(q.view(np.int32) >> SHIFT, LOW_KEY, HALF_KEY - 1) - LOW_KEY
    return np.where(upper, NUM_BINS - 1 - keys, keys).astype(np.int64)


def calibration_bin_of_bin() -> np.ndarray:
    """int64 [NUM_BINS]: the equal-width calibration bin (of `CALIBRATION_BINS`) holding each
    score bin; exact because every multiple of 1 / CALIBRATION_BINS is a score-bin edge."""
    lows = edges()[:-1]
    return np.minimum((lows * CALIBRATION_BINS + 1e-9).astype(np.int64), CALIBRATION_BINS - 1)
