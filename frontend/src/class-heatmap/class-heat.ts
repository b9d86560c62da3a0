// The class-by-step heatmap's data: one row per class, one column per step, of a metric from
// the curves route; per-class summaries (final value, trend, slope, train/validation gap) to
// sort the rows by. Pure.
import type { Matrix } from "../data/types";
import { smooth } from "../lib/smoothing";
import { sortIndices } from "../lib/sorting";
import type { HeatSortKey } from "../state/view-state";

export interface ClassHeat {
  /** classes x steps, row-major; NaN where there is no value */
  values: Float32Array;
  classes: number;
  steps: number;
  min: number;
  max: number;
  /** how many cells have no value (drawn in the scale's "missing" colour) */
  missing: number;
}

/** What a cell without a value means for a metric, for the legend. */
export function missingLabel(metricId: string): string {
  if (metricId === "precision") return "no value (nothing predicted as the class)";
  if (metricId === "f1") return "no value (no samples, nothing predicted)";
  return "no value (no samples at that step)";
}

/** Transposes a [steps][classes] matrix into a classes x steps grid (optionally smoothed per class). */
export function classHeat(matrix: Matrix, numClasses: number, smoothing = 0): ClassHeat {
  const S = matrix.rows;
  const values = new Float32Array(numClasses * S).fill(NaN);
  let min = Infinity;
  let max = -Infinity;
  let missing = numClasses * S;
  const data = matrix.data;
  const stride = matrix.cols;
  const columns = Math.min(numClasses, stride);
  if (smoothing > 0) {
    for (let c = 0; c < columns; c++) {
      const series: (number | null)[] = new Array(S);
      for (let s = 0; s < S; s++) series[s] = matrix.at(s, c);
      const smoothed = smooth(series, smoothing);
      for (let s = 0; s < S; s++) {
        const v = smoothed[s];
        if (v === null || !Number.isFinite(v)) continue;
        values[c * S + s] = v;
        missing--;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
  } else {
    // the transpose alone, straight over the typed data (5 million values at 1000 x 5000)
    for (let s = 0; s < S; s++) {
      const row = s * stride;
      for (let c = 0; c < columns; c++) {
        const v = data ? data[row + c] : 0;
        if (!Number.isFinite(v)) continue;
        values[c * S + s] = v;
        missing--;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
  }
  if (min > max) {
    min = 0;
    max = 1;
  }
  return { values, classes: numClasses, steps: S, min, max, missing };
}

export interface ClassSummary {
  first: number | null;
  final: number | null;
  /** final - first */
  trend: number | null;
  /** least-squares slope of value over step */
  slope: number | null;
}

export function summarize(values: Float32Array, c: number, steps: readonly number[]): ClassSummary {
  const S = steps.length;
  let first: number | null = null;
  let final: number | null = null;
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let s = 0; s < S; s++) {
    const v = values[c * S + s];
    if (Number.isNaN(v)) continue;
    if (first === null) first = v;
    final = v;
    const x = steps[s];
    n++;
    sx += x;
    sy += v;
    sxx += x * x;
    sxy += x * v;
  }
  const den = n * sxx - sx * sx;
  const slope = n >= 2 && den !== 0 ? (n * sxy - sx * sy) / den : null;
  return {
    first,
    final,
    trend: first !== null && final !== null && n >= 2 ? final - first : null,
    slope,
  };
}

/**
 * How much worse held-out data does than training data for a class, at the latest value of
 * each: positive = validation is worse (overfitting). `train` and `held` are final values.
 */
export function gapOf(
  train: number | null,
  held: number | null,
  higherIsBetter: boolean,
): number | null {
  if (train === null || held === null) return null;
  return higherIsBetter ? train - held : held - train;
}

/** Whether a sort key puts the largest values first by default ("worst/most interesting first"). */
export function defaultDesc(key: HeatSortKey, higherIsBetter: boolean): boolean {
  switch (key) {
    case "final":
      return !higherIsBetter; // worst final value first
    case "trend":
    case "slope":
      return !higherIsBetter; // getting worse first
    case "gap":
      return true;
    default:
      return false;
  }
}

/** The row order (display position -> class) for a sort. */
export function heatOrder(
  key: HeatSortKey,
  desc: boolean,
  classes: readonly number[],
  names: readonly string[],
  stats: (c: number) => ClassSummary,
  gap: (c: number) => number | null,
): number[] {
  const k = (i: number) => {
    const c = classes[i];
    switch (key) {
      case "name":
        return names[c];
      case "final":
        return stats(c).final;
      case "trend":
        return stats(c).trend;
      case "slope":
        return stats(c).slope;
      case "gap":
        return gap(c);
      default:
        return c;
    }
  };
  return sortIndices(classes.length, k, desc).map((i) => classes[i]);
}
