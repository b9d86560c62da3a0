"""Ranking and calibration metrics of one step, from per-class score histograms.

Inputs are counts per class and score bin (`tb_perclass.score_bins`), in ascending score order:
`positives[c, b]` elements of class c (its positives) whose score for c fell in bin b, and
`negatives[c, b]` the other elements. Everything is vectorised over classes; a class without
positives or without negatives gets NaN where a metric is undefined.

Exactness. A histogram knows the order of two scores unless they share a bin, so:

- AUROC is the Mann-Whitney statistic with pairs in one bin counted 1/2 (the trapezoid rule
  between bin edges), and differs from scikit-learn's `roc_auc_score` on the raw scores by at
  most `auroc_bound` = sum_b P_b N_b / (2 P N);
- average precision follows scikit-learn's `average_precision_score` (sum over thresholds of
  recall increase times precision, no interpolation) with each bin taken as one tied score,
  and differs from it on the raw scores by at most `average_precision_bound`: inside a bin a
  positive's precision lies between the one it has when it ranks first among the bin's scores
  and the one it has when it ranks last.
"""

from __future__ import annotations

import dataclasses

import numpy as np


def _tails(counts: np.ndarray) -> np.ndarray:
    """[..., K + 1]: counts in bins >= b, for b = 0..K (the last is 0)."""
    tails = np.cumsum(counts[..., ::-1], axis=-1)[..., ::-1]
    return np.concatenate([tails, np.zeros(tails.shape[:-1] + (1,))], axis=-1)


def _as_counts(positives, negatives) -> tuple[np.ndarray, np.ndarray]:
    pos = np.asarray(positives, dtype=np.float64)
    neg = np.asarray(negatives, dtype=np.float64)
    if pos.shape != neg.shape:
        raise ValueError(f"positives {pos.shape} and negatives {neg.shape} differ in shape")
    return pos, neg


def auroc(positives, negatives) -> np.ndarray:
    pos, neg = _as_counts(positives, negatives)
    above = _tails(pos)[..., 1:]  # positives in higher bins
    total_pos, total_neg = pos.sum(-1), neg.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (neg * (above + pos / 2)).sum(-1) / (total_pos * total_neg)


def auroc_bound(positives, negatives) -> np.ndarray:
    pos, neg = _as_counts(positives, negatives)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * neg).sum(-1) / (2 * pos.sum(-1) * neg.sum(-1))


def _precision_terms(pos: np.ndarray, neg: np.ndarray):
    tp, fp = _tails(pos), _tails(neg)
    return tp[..., :-1], fp[..., :-1], tp[..., 1:], fp[..., 1:]


def average_precision(positives, negatives) -> np.ndarray:
    pos, neg = _as_counts(positives, negatives)
    tp, fp, _, _ = _precision_terms(pos, neg)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(pos > 0, tp / np.maximum(tp + fp, 1), 0.0)
        return (pos * precision).sum(-1) / pos.sum(-1)


def average_precision_bound(positives, negatives) -> np.ndarray:
    pos, neg = _as_counts(positives, negatives)
    tp, fp, tp_above, fp_above = _precision_terms(pos, neg)
    with np.errstate(invalid="ignore", divide="ignore"):
        best = tp / np.maximum(tp + fp_above, 1)  # the bin's positives rank first in it
        worst = (tp_above + 1) / (tp_above + 1 + fp)  # one positive ranks last in it
        spread = np.where(pos > 0, best - worst, 0.0)
        return (pos * spread).sum(-1) / pos.sum(-1)


@dataclasses.dataclass(frozen=True)
class Sweep:
    """Confusion counts per class at each threshold: predicted positive when the score is in
    bin b or above, for b = K-1 down to 0 (index 0 is 'nothing predicted positive')."""

    tp: np.ndarray  # [..., K + 1]
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray
    thresholds: np.ndarray  # [K + 1] lower edge of the lowest included bin (inf: none)

    @property
    def precision(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.tp + self.fp > 0, self.tp / (self.tp + self.fp), np.nan)

    @property
    def recall(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.tp / (self.tp + self.fn)

    @property
    def fpr(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.fp / (self.fp + self.tn)

    @property
    def f1(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            denominator = 2 * self.tp + self.fp + self.fn
            return np.where(denominator > 0, 2 * self.tp / denominator, np.nan)


def sweep(positives, negatives, edges: np.ndarray) -> Sweep:
    """Counts at every bin edge, from the highest threshold down (ROC and PR curve points)."""
    pos, neg = _as_counts(positives, negatives)
    tp = _tails(pos)[..., ::-1]  # index i: the top i bins predicted positive
    fp = _tails(neg)[..., ::-1]
    total_pos, total_neg = tp[..., -1:], fp[..., -1:]
    lows = np.asarray(edges, dtype=np.float64)[:-1]
    thresholds = np.concatenate([[np.inf], lows[::-1]])
    return Sweep(tp=tp, fp=fp, fn=total_pos - tp, tn=total_neg - fp, thresholds=thresholds)


def best_f1(positives, negatives, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the highest F1 over thresholds and the threshold reaching it (NaN without
    positives). Ties go to the higher threshold."""
    counts = sweep(positives, negatives, edges)
    f1 = np.nan_to_num(counts.f1, nan=-1.0)
    best = np.argmax(f1, axis=-1)
    value = np.take_along_axis(f1, best[..., None], axis=-1)[..., 0]
    threshold = counts.thresholds[best]
    missing = (value < 0) | (counts.tp[..., -1] == 0)  # no positives: no F1 to maximise
    return np.where(missing, np.nan, value), np.where(missing, np.nan, threshold)


def merge_negative_runs(positives, negatives) -> tuple[np.ndarray, np.ndarray]:
    """The smallest histograms with the same ROC and PR curves, AUROC, average precision and
    bounds: the negatives of each run of bins without positives move to the run's lowest
    nonempty bin. Thresholds stay exact at every bin left nonempty; between them the counts
    are only known to lie between their neighbours'."""
    pos, neg = _as_counts(positives, negatives)
    flat_pos = pos.reshape(-1, pos.shape[-1])
    flat_neg = neg.reshape(-1, neg.shape[-1])
    merged = np.zeros_like(flat_neg)
    # Run id: the number of positive bins at or above each bin, so a run shares one id with
    # the positive bin right above it; positive bins keep their own negatives.
    run = np.cumsum((flat_pos > 0)[:, ::-1], axis=1)[:, ::-1]
    for row in range(flat_pos.shape[0]):
        has_pos = flat_pos[row] > 0
        merged[row, has_pos] = flat_neg[row, has_pos]
        free = ~has_pos & (flat_neg[row] > 0)
        if not free.any():
            continue
        bins = np.flatnonzero(free)
        ids = run[row, bins]
        starts = np.r_[0, np.flatnonzero(np.diff(ids)) + 1]
        merged[row, bins[starts]] = np.add.reduceat(flat_neg[row, bins], starts)
    return pos, merged.reshape(neg.shape)


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Reliability per class over equal-width confidence bins: [..., CALIBRATION_BINS]."""

    count: np.ndarray
    correct: np.ndarray  # positives (per label) or correct predictions (top label)
    confidence_sum: np.ndarray

    @property
    def accuracy(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.correct / self.count, np.nan)

    @property
    def confidence(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.confidence_sum / self.count, np.nan)

    def expected_error(self) -> np.ndarray:
        """ECE: sum over bins of |confidence - accuracy| weighted by the bin's share."""
        gap = np.abs(self.confidence_sum - self.correct)  # = count * |conf - acc|
        with np.errstate(invalid="ignore", divide="ignore"):
            return gap.sum(-1) / self.count.sum(-1)

    def signed_error(self) -> np.ndarray:
        """Mean confidence minus accuracy: > 0 over-confident, < 0 under-confident."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.confidence_sum - self.correct).sum(-1) / self.count.sum(-1)

    def overall(self) -> Calibration:
        return Calibration(self.count.sum(0), self.correct.sum(0), self.confidence_sum.sum(0))
