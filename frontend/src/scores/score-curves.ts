// The curves of one class at one step, from its sweep (the `scores` route's counts at each
// threshold where they change, highest threshold first): ROC and PR points, precision / recall
// / F1 against the threshold, the counts at any threshold, the best F1. Pure.
import type { Reliability, ScoreClass } from "../data/types";

export interface CurvePoint {
  x: number;
  y: number;
  /** the point of the sweep it comes from */
  index: number;
}

/** ROC: false positive rate against true positive rate, one point per threshold, from (0, 0)
 * (nothing predicted positive) to (1, 1). Empty without positives or without negatives. */
export function rocPoints(c: ScoreClass): CurvePoint[] {
  if (c.positives <= 0 || c.negatives <= 0) return [];
  return c.tp.map((tp, i) => ({ x: c.fp[i] / c.negatives, y: tp / c.positives, index: i }));
}

/** PR as the step curve average precision sums over (scikit-learn's, without interpolation):
 * each threshold's precision holds from the previous recall up to its own. Empty without
 * positives. */
export function prPoints(c: ScoreClass): CurvePoint[] {
  if (c.positives <= 0) return [];
  const out: CurvePoint[] = [];
  let recall = 0;
  for (let i = 1; i < c.tp.length; i++) {
    const predicted = c.tp[i] + c.fp[i];
    if (predicted === 0) continue;
    const precision = c.tp[i] / predicted;
    const next = c.tp[i] / c.positives;
    if (out.length === 0) out.push({ x: 0, y: precision, index: i });
    else out.push({ x: recall, y: precision, index: i });
    out.push({ x: next, y: precision, index: i });
    recall = next;
  }
  return out;
}

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export function countsOf(c: ScoreClass, index: number): Counts {
  const tp = c.tp[index];
  const fp = c.fp[index];
  const fn = c.positives - tp;
  const tn = c.negatives - fp;
  return {
    tp,
    fp,
    fn,
    tn,
    precision: tp + fp > 0 ? tp / (tp + fp) : null,
    recall: c.positives > 0 ? tp / c.positives : null,
    f1: 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : null,
  };
}

/** The sweep point in force at threshold t (predicted positive: score >= t): the last point
 * whose threshold is at least t (thresholds fall along the sweep). Binary search: O(log n) per
 * drag frame. Points without a threshold (multiclass runs of negatives between bins) are
 * skipped: their threshold is only known to lie between their neighbours'. */
export function pointAt(c: ScoreClass, t: number): number {
  const th = c.thresholds;
  let lo = 0;
  let hi = th.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = th[mid] ?? Infinity;
    if (v >= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export function countsAt(c: ScoreClass, t: number): Counts & { threshold: number | null } {
  const i = pointAt(c, t);
  return { ...countsOf(c, i), threshold: c.thresholds[i] ?? null };
}

export interface ThresholdCurves {
  /** per sweep point with a finite threshold: x = the threshold */
  precision: CurvePoint[];
  recall: CurvePoint[];
  f1: CurvePoint[];
}

/** Precision, recall and F1 against the threshold, as steps: a point's values hold from its
 * threshold up to the next higher one. */
export function thresholdCurves(c: ScoreClass): ThresholdCurves {
  const out: ThresholdCurves = { precision: [], recall: [], f1: [] };
  let upper = 1;
  for (let i = 1; i < c.thresholds.length; i++) {
    const t = c.thresholds[i];
    if (t === null || !Number.isFinite(t)) continue;
    const k = countsOf(c, i);
    for (const key of ["precision", "recall", "f1"] as const) {
      const v = k[key];
      if (v === null) continue;
      out[key].push({ x: upper, y: v, index: i }, { x: t, y: v, index: i });
    }
    upper = t;
  }
  return out;
}

/** The point with the highest F1 (ties: the highest threshold); null without positives. */
export function bestF1(c: ScoreClass): { index: number; f1: number; threshold: number } | null {
  let best: { index: number; f1: number; threshold: number } | null = null;
  for (let i = 1; i < c.tp.length; i++) {
    const t = c.thresholds[i];
    const f1 = countsOf(c, i).f1;
    if (f1 === null || t === null) continue;
    if (best === null || f1 > best.f1) best = { index: i, f1, threshold: t };
  }
  return best;
}

export interface ReliabilityBar {
  /** the bin's range of confidence */
  low: number;
  high: number;
  count: number;
  accuracy: number | null;
  confidence: number | null;
}

/** The bars of a reliability diagram over equal-width bins of [0, 1]. */
export function reliabilityBars(r: Reliability): ReliabilityBar[] {
  const n = r.count.length;
  return r.count.map((count, i) => ({
    low: i / n,
    high: (i + 1) / n,
    count,
    accuracy: r.accuracy[i],
    confidence: r.confidence[i],
  }));
}

/** Expected calibration error of a diagram: sum over bins of |confidence - accuracy| weighted
 * by the bin's share; null without predictions. */
export function expectedError(r: Reliability): number | null {
  const total = r.count.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let sum = 0;
  r.count.forEach((n, i) => {
    const a = r.accuracy[i];
    const c = r.confidence[i];
    if (n > 0 && a !== null && c !== null) sum += n * Math.abs(c - a);
  });
  return sum / total;
}
