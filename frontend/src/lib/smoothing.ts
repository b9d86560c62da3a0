// TensorBoard's scalar smoothing: a debiased exponential moving average.
// Same semantics as the Scalars dashboard: weight in [0, 1), non-finite/missing points
// are passed through (and do not update the average), a constant series is not smoothed.

export const MAX_SMOOTHING = 0.999;

export function clampSmoothing(w: number): number {
  if (!Number.isFinite(w) || w <= 0) return 0;
  return Math.min(w, MAX_SMOOTHING);
}

/** Smooths a typed array (NaN, ±Infinity: no point, passed through); a new array. */
export function smoothValues(values: Float64Array, weight: number): Float64Array {
  const w = clampSmoothing(weight);
  const out = Float64Array.from(values);
  if (w === 0) return out;
  let first = NaN;
  let isConstant = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (first !== first) first = v;
    else if (v !== first) {
      isConstant = false;
      break;
    }
  }
  if (isConstant) return out;
  let last = 0;
  let numAccum = 0;
  let wPow = 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    last = last * w + (1 - w) * v;
    numAccum++;
    wPow *= w;
    out[i] = last / (1 - wPow);
  }
  return out;
}

/** Smooths numbers and nulls (null and non-finite values are passed through as they are). */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  const typed = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) typed[i] = values[i] ?? NaN;
  const smoothed = smoothValues(typed, weight);
  return values.map((v, i) => (v === null || !Number.isFinite(v) ? v : smoothed[i]));
}
