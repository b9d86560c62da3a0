// Hover lookup: which line is nearest to the cursor, and its nearest data point.
// Lines may have gaps (null) where a run has no point at an x; a line is interpolated
// between its neighbouring points, as it is drawn (spanGaps).

import type { LineValues } from "./line-values";

/** Positions of the values of each line (NaN: no point), for binary search. Lines without a
 * gap (the usual case) share one array of every position. */
export class LineIndex {
  readonly present: Int32Array[];
  readonly lines: readonly Float64Array[];
  constructor(
    readonly xs: readonly number[],
    lines: readonly LineValues[],
  ) {
    this.lines = lines.map((l) => l.data);
    let every: Int32Array | null = null;
    this.present = lines.map((l) => {
      const vals = l.data;
      const n = l.presentCount();
      if (n === vals.length) {
        if (!every || every.length !== n) every = Int32Array.from({ length: n }, (_, i) => i);
        return every;
      }
      const idx = new Int32Array(n);
      for (let i = 0, j = 0; i < vals.length; i++) if (vals[i] === vals[i]) idx[j++] = i;
      return idx;
    });
  }
}

export interface Hit {
  line: number;
  /** index into xs of the line's data point nearest the cursor in x */
  index: number;
  /** vertical distance in px between the cursor and the line */
  distance: number;
}

/** Last position in `arr` whose xs value is <= x, or -1. */
function lastAtOrBefore(arr: Int32Array, xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = arr.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (xs[arr[mid]] <= x) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/**
 * The line nearest to the cursor. `xVal` is the cursor's x in data units, `yPx` its y in
 * pixels; `toPx` maps (x, y) data values to pixels. Lines whose x range does not cover the
 * cursor count by the distance to their nearest end point. Returns null when no line is
 * within `maxDistance` px.
 */
export function nearestLine(
  index: LineIndex,
  xVal: number,
  xPx: number,
  yPx: number,
  toPx: { x: (v: number) => number; y: (v: number) => number },
  maxDistance = 24,
  include?: (line: number) => boolean,
): Hit | null {
  const { xs, lines, present } = index;
  let best: Hit | null = null;
  for (let l = 0; l < lines.length; l++) {
    if (include && !include(l)) continue;
    const p = present[l];
    if (p.length === 0) continue;
    const vals = lines[l];
    const a = lastAtOrBefore(p, xs, xVal);
    let dist: number;
    let index: number;
    if (a === -1 || a === p.length - 1) {
      // cursor before the first or after the last point: distance to that end point
      const i = a === -1 ? p[0] : p[p.length - 1];
      const dx = toPx.x(xs[i]) - xPx;
      const dy = toPx.y(vals[i]) - yPx;
      dist = Math.hypot(dx, dy);
      index = i;
    } else {
      const i0 = p[a];
      const i1 = p[a + 1];
      const x0 = xs[i0];
      const x1 = xs[i1];
      const t = x1 === x0 ? 0 : (xVal - x0) / (x1 - x0);
      const y0 = toPx.y(vals[i0]);
      const y1 = toPx.y(vals[i1]);
      dist = Math.abs(y0 + t * (y1 - y0) - yPx);
      index = t < 0.5 ? i0 : i1;
    }
    if (dist <= maxDistance && (best === null || dist <= best.distance))
      best = { line: l, index, distance: dist };
  }
  return best;
}
