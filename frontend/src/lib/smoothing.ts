// TensorBoard's scalar smoothing: a debiased exponential moving average.
// Same semantics as the Scalars dashboard: weight in [0, 1), non-finite/missing points
// are passed through (and do not update the average), a constant series is not smoothed.

export const MAX_SMOOTHING = 0.999;

export function clampSmoothing(w: number): number {
  if (!Number.isFinite(w) || w <= 0) return 0;
  return Math.min(w, MAX_SMOOTHING);
}

export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = clampSmoothing(weight);
  if (w === 0) return values.slice();
  const first = values.find((v) => v !== null && Number.isFinite(v));
  const isConstant = values.every((v) => v === null || !Number.isFinite(v) || v === first);
  if (isConstant) return values.slice();
  const out: (number | null)[] = new Array(values.length);
  let last = 0;
  let numAccum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * w + (1 - w) * v;
    numAccum++;
    const debias = 1 - Math.pow(w, numAccum);
    out[i] = last / debias;
  }
  return out;
}
