// Zoom maths for the heatmaps: a viewport is a window of display positions, half-open on
// both axes, in whole cells (so cells stay pixel-exact). Pure.

export interface Viewport {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

export function fullView(nr: number, nc: number): Viewport {
  return { r0: 0, r1: nr, c0: 0, c1: nc };
}

export function isFull(v: Viewport, nr: number, nc: number): boolean {
  return v.r0 <= 0 && v.c0 <= 0 && v.r1 >= nr && v.c1 >= nc;
}

function clampAxis(a: number, b: number, n: number): [number, number] {
  let lo = Math.round(a);
  let hi = Math.round(b);
  let span = Math.min(Math.max(hi - lo, 1), n);
  if (n <= 0) return [0, 0];
  if (!Number.isFinite(lo)) lo = 0;
  if (lo < 0) lo = 0;
  if (lo + span > n) lo = n - span;
  hi = lo + span;
  span = hi - lo;
  return [lo, hi];
}

/** The viewport moved and cut to fit an nr x nc matrix (at least one cell). */
export function clampView(v: Viewport, nr: number, nc: number): Viewport {
  const [r0, r1] = clampAxis(v.r0, v.r1, nr);
  const [c0, c1] = clampAxis(v.c0, v.c1, nc);
  return { r0, r1, c0, c1 };
}

function zoomAxis(
  lo: number,
  hi: number,
  factor: number,
  anchor: number,
  n: number,
): [number, number] {
  const span = hi - lo;
  let next = Math.round(span * factor);
  if (factor < 1) next = Math.max(1, Math.min(span - 1, next));
  else if (factor > 1) next = Math.max(span + 1, next);
  next = Math.min(Math.max(next, 1), n);
  if (span <= 0) return clampAxis(0, n, n);
  const a = Math.min(Math.max(anchor, lo), hi);
  const start = a - ((a - lo) * next) / span;
  return clampAxis(start, start + next, n);
}

/**
 * Zooms by `factor` (< 1 in, > 1 out) keeping the cell under the anchor (fractional display
 * positions) where it is. Each step changes the span by at least one cell.
 */
export function zoomAt(
  v: Viewport,
  factor: number,
  anchorR: number,
  anchorC: number,
  nr: number,
  nc: number,
): Viewport {
  const [r0, r1] = zoomAxis(v.r0, v.r1, factor, anchorR, nr);
  const [c0, c1] = zoomAxis(v.c0, v.c1, factor, anchorC, nc);
  return { r0, r1, c0, c1 };
}

/** The viewport spanning the cells of a drag rectangle (corner cells included). */
export function rectView(
  a: { r: number; c: number },
  b: { r: number; c: number },
  nr: number,
  nc: number,
): Viewport {
  return clampView(
    {
      r0: Math.min(a.r, b.r),
      r1: Math.max(a.r, b.r) + 1,
      c0: Math.min(a.c, b.c),
      c1: Math.max(a.c, b.c) + 1,
    },
    nr,
    nc,
  );
}

/** A square-ish window of `span` cells centred on cell (r, c). */
export function centerOn(r: number, c: number, span: number, nr: number, nc: number): Viewport {
  const sr = Math.min(span, nr);
  const sc = Math.min(span, nc);
  const r0 = r - Math.floor((sr - 1) / 2);
  const c0 = c - Math.floor((sc - 1) / 2);
  return clampView({ r0, r1: r0 + sr, c0, c1: c0 + sc }, nr, nc);
}

/** Moves the viewport by whole cells, staying inside the matrix. */
export function pan(v: Viewport, dr: number, dc: number, nr: number, nc: number): Viewport {
  return clampView({ r0: v.r0 + dr, r1: v.r1 + dr, c0: v.c0 + dc, c1: v.c1 + dc }, nr, nc);
}

/** A viewport from untrusted data (saved state, URL), or null. */
export function parseViewport(o: unknown): Viewport | null {
  if (!o || typeof o !== "object") return null;
  const v = o as Record<string, unknown>;
  const ok = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0 && x < 1e7;
  if (![v.r0, v.r1, v.c0, v.c1].every(ok)) return null;
  const vp = { r0: v.r0 as number, r1: v.r1 as number, c0: v.c0 as number, c1: v.c1 as number };
  if (vp.r1 <= vp.r0 || vp.c1 <= vp.c0) return null;
  return vp;
}
