import { describe, expect, it } from "vitest";
import { clampSmoothing, smooth } from "../src/lib/smoothing";

/** TensorBoard's reference implementation (scalar card / vz_line_chart), transcribed. */
function tbSmooth(values: number[], w: number): number[] {
  let last = values.length > 0 ? 0 : NaN;
  let numAccum = 0;
  const isConstant = values.every((v) => v === values[0]);
  return values.map((v) => {
    if (isConstant || !Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    numAccum++;
    const debias = w === 1 ? 1 : 1 - Math.pow(w, numAccum);
    return last / debias;
  });
}

describe("smooth (TensorBoard's debiased EMA)", () => {
  it("is the identity at weight 0", () => {
    expect(smooth([3, 1, null, 2], 0)).toEqual([3, 1, null, 2]);
  });

  it("matches TensorBoard's formula", () => {
    const vals = [1, 4, 2, 8, 5, 7, 3, 0.5];
    for (const w of [0.1, 0.6, 0.9, 0.999]) {
      const got = smooth(vals, w) as number[];
      const want = tbSmooth(vals, w);
      got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 12));
    }
  });

  it("is debiased: the first point is kept as is", () => {
    expect(smooth([5, 1, 1], 0.9)[0]).toBeCloseTo(5, 12);
  });

  it("keeps gaps and does not let them update the average", () => {
    const out = smooth([2, null, 4], 0.5);
    expect(out[1]).toBeNull();
    // second accumulated point: last = 0.5*1 + 0.5*4 = 2.5 (after 2 -> 1), debias 1 - 0.25
    expect(out[2]).toBeCloseTo((0.5 * (0.5 * 2) + 0.5 * 4) / 0.75, 12);
  });

  it("leaves a constant series alone", () => {
    expect(smooth([0.5, 0.5, 0.5], 0.9)).toEqual([0.5, 0.5, 0.5]);
  });

  it("clamps the weight to [0, 0.999]", () => {
    expect(clampSmoothing(-1)).toBe(0);
    expect(clampSmoothing(NaN)).toBe(0);
    expect(clampSmoothing(1)).toBe(0.999);
    expect(clampSmoothing(0.6)).toBe(0.6);
    const out = smooth([1, 2, 3], 5) as number[];
    expect(out.every(Number.isFinite)).toBe(true);
  });
});
