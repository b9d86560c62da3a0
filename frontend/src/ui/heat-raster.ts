// The heatmap rasteriser: a window of a (reordered) matrix -> RGBA pixels, pure (no DOM).
//
// Every output pixel covers the cells [from, to) of each axis. When the window has more cells
// than pixels (1000 classes on 700 px) a pixel covers 1-2 cells and shows the most extreme of
// them ("max", "min" or "maxabs" pooling) so that a single confusion is never dropped; when it
// has fewer, a cell covers a whole number of pixels (floor or ceil of pixels/cells): crisp,
// pixel-exact cells without any image smoothing.

type Rgb = readonly [number, number, number];

export type Pool = "max" | "min" | "maxabs";

export interface AxisMap {
  /** first cell (display position) of each pixel */
  from: Int32Array;
  /** one past the last cell of each pixel */
  to: Int32Array;
}

/** Cells covered by each of `pixels` pixels for the window [start, start + count). */
export function axisMap(pixels: number, start: number, count: number): AxisMap {
  const from = new Int32Array(pixels);
  const to = new Int32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const a = Math.floor((p * count) / pixels);
    const b = Math.floor(((p + 1) * count) / pixels);
    from[p] = start + a;
    to[p] = start + Math.max(a + 1, b);
  }
  return { from, to };
}

/** The cell (display position) under pixel `p` (may be fractional: CSS px at a dpr). */
export function pixelToCell(p: number, pixels: number, start: number, count: number): number {
  const q = Math.min(Math.max(Math.floor((p * count) / pixels), 0), count - 1);
  return start + q;
}

/** First pixel of cell `cell` (the pixel after the last one when cell = start + count). */
export function cellToPixel(cell: number, pixels: number, start: number, count: number): number {
  return Math.ceil(((cell - start) * pixels) / count - 1e-9);
}

export interface CellSource {
  /** values, row-major with `stride` columns, indexed by DATA row/column */
  values: ArrayLike<number>;
  stride: number;
  /** data row of each display row; data column of each display column */
  rowIdx: ArrayLike<number>;
  colIdx: ArrayLike<number>;
  /** cells whose data row equals their data column are drawn in the scale's diagonal colour */
  maskDiagonal: boolean;
  pool: Pool;
}

export interface LutScale {
  lut: Uint8ClampedArray;
  /** 0..255, or -1 for no value */
  index(v: number): number;
  /** colours of cells without a value and of the masked diagonal */
  missingRgb: Rgb;
  diagonalRgb: Rgb;
}

export interface Window {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/**
 * Writes the window `win` (display positions, half-open) of `src` into `out`, a W x H RGBA
 * buffer (ImageData.data). Returns the number of cells read.
 */
export function renderHeatmap(
  out: Uint8ClampedArray,
  W: number,
  H: number,
  src: CellSource,
  win: Window,
  scale: LutScale,
): number {
  const xm = axisMap(W, win.c0, win.c1 - win.c0);
  const ym = axisMap(H, win.r0, win.r1 - win.r0);
  const { values, stride, rowIdx, colIdx, maskDiagonal, pool } = src;
  const lut = scale.lut;
  const missing = scale.missingRgb;
  const diagonal = scale.diagonalRgb;
  const mode = pool === "max" ? 0 : pool === "min" ? 1 : 2;
  let reads = 0;
  const line = W * 4;
  let prevFrom = -1;
  let prevTo = -1;
  for (let y = 0; y < H; y++) {
    const rf = ym.from[y];
    const rt = ym.to[y];
    const o = y * line;
    if (rf === prevFrom && rt === prevTo) {
      out.copyWithin(o, o - line, o);
      continue;
    }
    prevFrom = rf;
    prevTo = rt;
    let pcf = -1;
    let pct = -1;
    let cr = 0;
    let cg = 0;
    let cb = 0;
    for (let x = 0; x < W; x++) {
      const cf = xm.from[x];
      const ct = xm.to[x];
      if (cf !== pcf || ct !== pct) {
        pcf = cf;
        pct = ct;
        let found = false;
        let diag = false;
        let best = 0;
        let key = 0;
        for (let r = rf; r < rt; r++) {
          const ri = rowIdx[r];
          const base = ri * stride;
          for (let c = cf; c < ct; c++) {
            const ci = colIdx[c];
            reads++;
            if (maskDiagonal && ri === ci) {
              diag = true;
              continue;
            }
            const v = values[base + ci];
            if (v !== v) continue; // NaN: no value
            const k = mode === 0 ? v : mode === 1 ? -v : v < 0 ? -v : v;
            if (!found || k > key) {
              found = true;
              key = k;
              best = v;
            }
          }
        }
        let rgb: Rgb | null = null;
        let i = -1;
        if (found) i = scale.index(best);
        if (diag && (!found || best === 0)) i = -1; // the diagonal shows through empty neighbours
        if (i >= 0) {
          cr = lut[i * 4];
          cg = lut[i * 4 + 1];
          cb = lut[i * 4 + 2];
        } else {
          rgb = diag ? diagonal : missing;
          cr = rgb[0];
          cg = rgb[1];
          cb = rgb[2];
        }
      }
      const p = o + x * 4;
      out[p] = cr;
      out[p + 1] = cg;
      out[p + 2] = cb;
      out[p + 3] = 255;
    }
  }
  return reads;
}
