"""Confidence intervals for per-class proportions and their differences, as pure NumPy functions.

Per-class recall, precision and accuracy are proportions k / n of a class's samples (recall:
TP / (TP + FN)), and their n is often small: a class with 12 validation samples moves in steps of
0.083. The intervals here say how far such a proportion can move by sampling alone:

- `wilson`: the Wilson score interval of one proportion (Wilson 1927). Unlike the Wald interval
  p +- z sqrt(p (1 - p) / n), it does not collapse to zero width at p = 0 or 1 (a recall of
  12/12 is not certain), and its coverage stays close to nominal down to n of about 5.
- `difference`: an interval for p2 - p1 from the two single intervals by "method of variance
  estimates recovery" (MOVER, Zou & Donner 2008). With Wilson intervals it is Newcombe's hybrid
  score interval (Newcombe 1998, method 10), the one his comparison of eleven methods
  recommends; with the Wilson interval of the Jaccard ratio mapped through a monotone function
  it gives an interval for a difference of F1 scores.

Both assume independent binomial counts. See `compare` for why that is conservative when two
models are scored on the same validation set.
"""

from __future__ import annotations

import statistics

import numpy as np


def z_value(confidence: float) -> float:
    """The two-sided standard normal quantile of `confidence` (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r}; pass a level between 0 and 1, e.g. 0.95")
    return statistics.NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson(successes, trials, z: float) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval (low, high) of successes / trials; NaN where trials == 0."""
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = n + z2
        centre = (k + z2 / 2.0) / denominator
        spread = z * np.sqrt(np.maximum(k * (n - k) / n, 0.0) + z2 / 4.0) / denominator
    defined = n > 0
    low = np.where(defined, np.clip(centre - spread, 0.0, 1.0), np.nan)
    high = np.where(defined, np.clip(centre + spread, 0.0, 1.0), np.nan)
    return low, high


def difference(
    first: np.ndarray,
    first_low: np.ndarray,
    first_high: np.ndarray,
    second: np.ndarray,
    second_low: np.ndarray,
    second_high: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The MOVER interval (low, high) of second - first from each value's own interval.

    low = d - sqrt((second - second_low)^2 + (first_high - first)^2), and symmetrically for
    high: each side of the difference takes the uncertainty of the side of each value that moves
    it that way."""
    change = second - first
    low = change - np.sqrt((second - second_low) ** 2 + (first_high - first) ** 2)
    high = change + np.sqrt((second_high - second) ** 2 + (first - first_low) ** 2)
    return low, high


def newcombe(
    first_successes, first_trials, second_successes, second_trials, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for second / second_trials - first / first_trials."""
    first = _ratio(first_successes, first_trials)
    second = _ratio(second_successes, second_trials)
    return difference(
        first,
        *wilson(first_successes, first_trials, z),
        second,
        *wilson(second_successes, second_trials, z),
    )


def _ratio(successes, trials) -> np.ndarray:
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, k / np.maximum(n, 1.0), np.nan)
