"""The `scores` summary: one step's score histograms as a compact int64 tensor, both ways.

Most of the (NUM_BINS x classes) cells of a step are empty, so only nonempty cells are
written, column by column, as varints (TensorProto.int64_val: one byte below 128, two below
16384). All values are non-negative integers:

    [n_0 .. n_{L-1}]                  nonempty score bins per class / label
    [gap] [negatives] [positives]     one entry per nonempty bin, class by class, ascending;
                                      gap = bin - previous bin of the class - 1
    [offsets]                         binary / multilabel only: per bin, the sum over its
                                      elements of (p - lower edge) / bin width, in 1/65536ths
    multiclass, reliability of the top label (per predicted class and calibration bin):
    [m] [class gap] [bin] [count] [correct] [offsets]   m nonempty cells, ascending
                                      (class gap = class - previous class; offsets as above,
                                      over the calibration bin's width)
    multiclass with top_k: [hits_0 .. hits_{C-1}]   samples whose class ranked in the top k

Multiclass histograms are written with `score_metrics.merge_negative_runs`: per class, the
negatives of each run of bins without positives sit in the run's lowest nonempty bin. ROC and
PR curves, AUROC, average precision and their bounds are those of the full histogram; counts at
a threshold are exact at every stored bin. A class has as many stored bins as about twice its
positives, instead of the ~100 bins its negatives spread over.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tb_perclass import score_bins, score_metrics

OFFSET_UNITS = 1 << 8


@dataclasses.dataclass(frozen=True)
class ScoreCounts:
    """One step's score histograms on the host, ascending bins of `score_bins`.

    positives/negatives: [L, NUM_BINS] per class (multiclass), label (multilabel) or for the
    positive class (binary, L = 1). Binary and multilabel: `sums` [L, NUM_BINS] the sums of
    the probabilities per bin (both targets). Multiclass: `top` the top-label reliability
    [C, CALIBRATION_BINS, 3] (count, correct, confidence sum) per predicted class; `top_k` the
    per-class count of samples whose class ranked in the top k (None when not recorded).
    """

    positives: np.ndarray
    negatives: np.ndarray
    sums: np.ndarray | None = None
    top: np.ndarray | None = None
    top_k: np.ndarray | None = None


def _offsets(sums: np.ndarray, counts: np.ndarray, low: np.ndarray, width: np.ndarray):
    relative = (sums - counts * low) / width
    return np.clip(np.rint(relative * OFFSET_UNITS), 0, counts * OFFSET_UNITS).astype(np.int64)


def _sums(offsets: np.ndarray, counts: np.ndarray, low: np.ndarray, width: np.ndarray):
    return counts * low + offsets / OFFSET_UNITS * width


def _cells(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nonempty cells of [rows, bins] tables: per-row counts, gaps and flat positions."""
    rows, bins = np.nonzero(table)
    per_row = np.bincount(rows, minlength=table.shape[0])
    previous = np.where(np.r_[True, rows[1:] != rows[:-1]], -1, np.r_[0, bins[:-1]])
    return per_row, bins - previous - 1, (rows, bins)


def _uncells(per_row: np.ndarray, gaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(len(per_row)), per_row)
    steps = gaps + 1
    total = np.cumsum(steps)
    starts = np.cumsum(per_row) - per_row  # first cell of each row
    before = np.zeros(len(per_row), dtype=np.int64)
    nonempty = per_row > 0
    before[nonempty] = (total - steps)[starts[nonempty]]
    return rows, total - before[rows] - 1


def _ranking_rows(positives: np.ndarray, negatives: np.ndarray):
    """Per class, from its bins with positives b_1 < ... < b_m: the negatives strictly between
    b_(j-1) and b_j (below b_1 for j = 1), and those above b_m (all, without positives)."""
    rows, bins = np.nonzero(positives)
    cumulative = np.cumsum(negatives, axis=1)  # negatives in bins <= b
    upto = cumulative[rows, bins]
    first = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, bool)
    previous = np.where(first, 0, np.r_[0, upto[:-1]])
    below = upto - negatives[rows, bins] - previous
    total = cumulative[:, -1]
    last = np.r_[rows[1:] != rows[:-1], True] if len(rows) else np.zeros(0, bool)
    above = total.copy()
    above[rows[last]] = total[rows[last]] - upto[last]
    return below, above


def encode(counts: ScoreCounts, ranking: bool) -> np.ndarray:
    """The tensor of a step. `ranking`: multiclass form (per class only the bins holding
    positives, with the negatives between them); else every nonempty bin (binary, multilabel)."""
    positives = np.rint(counts.positives).astype(np.int64)
    negatives = np.rint(counts.negatives).astype(np.int64)
    if ranking:
        below, above = _ranking_rows(positives, negatives)
        per_row, gaps, where = _cells(positives)
        parts = [per_row, gaps, positives[where], negatives[where], below, above]
    else:
        per_row, gaps, where = _cells(positives + negatives)
        parts = [per_row, gaps, negatives[where], positives[where]]
    if counts.sums is not None:
        edges = score_bins.edges()
        total = (positives + negatives)[where]
        bins = where[1]
        parts.append(_offsets(counts.sums[where], total, edges[bins], np.diff(edges)[bins]))
    if counts.top is not None:
        top = counts.top
        _, _, (rows, bins) = _cells(np.rint(top[..., 0]))
        width = 1.0 / score_bins.CALIBRATION_BINS
        count = np.rint(top[rows, bins, 0]).astype(np.int64)
        parts += [
            [len(rows)], np.diff(np.r_[0, rows]), bins, count,
            np.rint(top[rows, bins, 1]).astype(np.int64),
            _offsets(top[rows, bins, 2], count, bins * width, np.full(len(rows), width)),
        ]  # fmt: skip
    if counts.top_k is not None:
        parts.append(np.rint(counts.top_k).astype(np.int64))
    return np.concatenate([np.asarray(p, dtype=np.int64) for p in parts])


def decode(
    values: np.ndarray, labels: int, *, ranking: bool, sums: bool, top: bool, top_k: bool
) -> ScoreCounts:
    """Inverse of `encode` for `labels` classes/labels; raises ValueError on a malformed
    tensor (wrong length, negative or out-of-range values). In the ranking form, negatives
    between two bins with positives come back in the bin just below the upper one (the curves
    and metrics do not depend on where in between they are)."""
    values = np.asarray(values, dtype=np.int64).ravel()
    if (values < 0).any():
        raise ValueError("a scores tensor holds non-negative integers")
    position = 0

    def take(count: int) -> np.ndarray:
        nonlocal position
        if count < 0 or position + count > len(values):
            raise ValueError(f"scores tensor of {len(values)} values is too short")
        part = values[position : position + count]
        position += count
        return part

    per_row = take(labels)
    cells = int(per_row.sum())
    gaps = take(cells)
    rows, bins = _uncells(per_row, gaps)
    if (bins >= score_bins.NUM_BINS).any():
        raise ValueError("scores tensor has a bin past the last")
    shape = (labels, score_bins.NUM_BINS)
    pos = np.zeros(shape)
    neg = np.zeros(shape)
    if ranking:
        positives, negatives, below, above = take(cells), take(cells), take(cells), take(labels)
        pos[rows, bins], neg[rows, bins] = positives, negatives
        np.add.at(neg, (rows, np.maximum(bins - 1, 0)), below)
        neg[:, -1] += above
    else:
        negatives, positives = take(cells), take(cells)
        pos[rows, bins], neg[rows, bins] = positives, negatives
    result = {"positives": pos, "negatives": neg}
    if sums:
        edges = score_bins.edges()
        total = pos[rows, bins] + neg[rows, bins]
        table = np.zeros(shape)
        table[rows, bins] = _sums(take(cells), total, edges[bins], np.diff(edges)[bins])
        result["sums"] = table
    if top:
        m = int(take(1)[0])
        class_gap, cal_bin, count, correct, offsets = (take(m) for _ in range(5))
        classes = np.cumsum(class_gap)
        if m and (classes[-1] >= labels or cal_bin.max() >= score_bins.CALIBRATION_BINS):
            raise ValueError("scores tensor has a reliability cell out of range")
        width = 1.0 / score_bins.CALIBRATION_BINS
        table = np.zeros((labels, score_bins.CALIBRATION_BINS, 3))
        table[classes, cal_bin, 0] = count
        table[classes, cal_bin, 1] = correct
        table[classes, cal_bin, 2] = _sums(offsets, count, cal_bin * width, width)
        result["top"] = table
    if top_k:
        result["top_k"] = take(labels).astype(np.float64)
    if position != len(values):
        raise ValueError(f"scores tensor has {len(values) - position} values too many")
    return ScoreCounts(**result)


@dataclasses.dataclass(frozen=True)
class RankingMetrics:
    """Per class: AUROC, AP and their bounds, positives and negatives (NaN where undefined)."""

    auroc: np.ndarray
    auroc_bound: np.ndarray
    average_precision: np.ndarray
    average_precision_bound: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray


def _suffix(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Sums over the later entries of the same class (rows grouped by class), inclusive."""
    total = np.cumsum(values[::-1])[::-1]
    after_class = np.r_[total, 0][last + 1]  # the sum from the next class on
    return total - np.repeat(after_class, last - first + 1)


def ranking_metrics(values: np.ndarray, labels: int, *, ranking: bool) -> RankingMetrics:
    """AUROC, AP and bounds per class straight from a `scores` tensor's columns, without
    expanding to [labels, NUM_BINS] (O(stored bins): about a millisecond a step at C=1000).

    Rows are the stored bins of a class, ascending: P positives and N negatives in the bin, R
    negatives below it down to the previous row (ranking form; 0 in the full form), and A
    negatives above the class's top row."""
    values = np.asarray(values, dtype=np.int64).ravel()
    per_row = values[:labels]
    cells = int(per_row.sum())
    start = labels + cells  # after the gaps
    if ranking:
        pos, neg, below = (values[start + i * cells : start + (i + 1) * cells] for i in range(3))
        above = values[start + 3 * cells : start + 3 * cells + labels].astype(np.float64)
    else:
        neg, pos = (values[start + i * cells : start + (i + 1) * cells] for i in range(2))
        below = np.zeros(cells, dtype=np.int64)
        above = np.zeros(labels)
    pos, neg, below = (a.astype(np.float64) for a in (pos, neg, below))
    rows = np.repeat(np.arange(labels), per_row)
    ends = np.cumsum(per_row)
    nonempty = per_row > 0
    first, last = (ends - per_row)[nonempty], ends[nonempty] - 1
    tp_at = _suffix(pos, first, last)  # positives in this row or above
    tp_above = tp_at - pos
    neg_above_runs = _suffix(neg + below, first, last) - neg - below  # rows above this one
    fp_at = above[rows] + neg_above_runs + neg  # negatives at or above this row's bin
    total_pos = np.bincount(rows, weights=pos, minlength=labels)
    total_neg = np.bincount(rows, weights=neg + below, minlength=labels) + above
    with np.errstate(invalid="ignore", divide="ignore"):
        pairs = total_pos * total_neg
        wins = np.bincount(rows, weights=neg * (tp_above + pos / 2) + below * tp_at, minlength=labels)
        ties = np.bincount(rows, weights=pos * neg, minlength=labels)
        has = pos > 0
        precision = np.where(has, tp_at / np.maximum(tp_at + fp_at, 1), 0.0)
        best = np.where(has, tp_at / np.maximum(tp_at + fp_at - neg, 1), 0.0)
        worst = np.where(has, (tp_above + 1) / (tp_above + 1 + fp_at), 0.0)
        ap = np.bincount(rows, weights=pos * precision, minlength=labels) / total_pos
        spread = np.bincount(rows, weights=pos * (best - worst), minlength=labels) / total_pos
        return RankingMetrics(
            auroc=wins / pairs, auroc_bound=ties / (2 * pairs), average_precision=ap,
            average_precision_bound=spread, positives=total_pos, negatives=total_neg,
        )  # fmt: skip
