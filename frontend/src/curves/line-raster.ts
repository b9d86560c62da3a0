// Many thin lines drawn into pixels in one pass each, for the line chart's background layer
// (the hundreds of faded class lines at 1000 classes). A canvas stroke of 1000 lines x 5000
// points takes about a second in a software-rendered browser; here each line is first reduced
// to what one pixel column shows of it (the span from its lowest to its highest point in that
// column: every local extreme is kept, nothing is averaged away), and each column's span is
// added to per-pixel sums in constant time, antialiased at its ends (LineRaster). Only the
// pixels change: the values a tooltip shows are read from the full data, never from here.
// Pure: no DOM (the chart puts the pixels on its canvas).

/** Where a line's values land on the raster: y in device px from the raster's top. */
export interface YMap {
  /** the scale's value range shown, top (max) to bottom (min) */
  min: number;
  max: number;
  /** a log10 scale (the values must be positive) */
  log: boolean;
}

/** A colour with its alpha, channels in [0, 1]. */
export type Rgba = readonly [number, number, number, number];

/** What one pixel column shows of a line: the span [lo, hi] (device px, y down) it covers. */
export class ColumnSpans {
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  /** the first and last column the line touches (last < first: none) */
  first = 0;
  last = -1;
  constructor(readonly width: number) {
    this.lo = new Float64Array(width);
    this.hi = new Float64Array(width);
  }
}

/** A pixel position on uPlot's grid: its vertices sit on pixel centres (pxAlign). */
export function pixelCentre(pos: number): number {
  return Math.round(pos) + 0.5;
}

/** The pixel column of each x position (`xPx`: device px from the raster's left). */
export function columnsOf(xPx: Float64Array, i0: number, i1: number): Int32Array {
  const out = new Int32Array(xPx.length);
  for (let i = i0; i <= i1; i++) out[i] = Math.floor(xPx[i]);
  return out;
}

/**
 * Reduces the points `i0..i1` of a line (x positions `xPx` in device px from the raster's left,
 * in pixel columns `cols` (columnsOf), values `values`, NaN = no point: the line goes straight
 * on to the next point) to its span in each pixel column of `out`: the lowest and the highest
 * of its points there and of where it enters and leaves the column. Columns outside
 * [0, width) are left out. A point inside its column costs two comparisons: values are mapped
 * to pixels per column, not per point.
 */
export function reduceToColumns(
  xPx: Float64Array,
  cols: Int32Array,
  values: Float64Array,
  i0: number,
  i1: number,
  y: YMap,
  height: number,
  out: ColumnSpans,
): void {
  const W = out.width;
  const { lo, hi } = out;
  const log = y.log;
  const top = log ? Math.log10(y.max) : y.max;
  const bottom = log ? Math.log10(y.min) : y.min;
  const scale = height / (top - bottom || 1);
  // (no closures over the loop's variables: they would live on the heap, slowing every point)
  let first = W;
  let last = -1;
  // the column reduced last, waiting for where the line leaves it: its span so far
  let pc = -1;
  let pLo = 0;
  let pHi = 0;
  // the last point of that column (x, pixel y); px NaN: none yet
  let px = NaN;
  let py = 0;
  let i = i0;
  while (i <= i1) {
    const v0 = values[i];
    if (v0 - v0 !== 0 || (log && v0 <= 0)) {
      i++;
      continue;
    }
    // the points of this column: their lowest, highest and last value
    const c = cols[i];
    const x0 = xPx[i];
    let vLo = v0;
    let vHi = v0;
    let vLast = v0;
    let xLast = x0;
    let j = i + 1;
    for (; j <= i1 && cols[j] === c; j++) {
      const v = values[j];
      if (v - v !== 0 || (log && v <= 0)) continue;
      if (v < vLo) vLo = v;
      else if (v > vHi) vHi = v;
      vLast = v;
      xLast = xPx[j];
    }
    // values to pixels (vertices on pixel centres, as uPlot puts them); y grows downwards
    const yFirst = Math.round((top - (log ? Math.log10(v0) : v0)) * scale) + 0.5;
    const yLast = Math.round((top - (log ? Math.log10(vLast) : vLast)) * scale) + 0.5;
    let cLo = Math.round((top - (log ? Math.log10(vHi) : vHi)) * scale) + 0.5;
    let cHi = Math.round((top - (log ? Math.log10(vLo) : vLo)) * scale) + 0.5;
    if (px === px) {
      // the segment from the previous column's last point: where it leaves that column, the
      // columns it crosses whole, where it enters this one
      const slope = (yFirst - py) / (x0 - px);
      if (pc >= 0 && pc < W) {
        const exit = py + (pc + 1 - px) * slope;
        lo[pc] = exit < pLo ? exit : pLo;
        hi[pc] = exit > pHi ? exit : pHi;
        if (pc < first) first = pc;
        last = pc;
      }
      const from = pc + 1 > 0 ? pc + 1 : 0;
      const to = c - 1 < W - 1 ? c - 1 : W - 1;
      for (let cc = from; cc <= to; cc++) {
        const ya = py + (cc - px) * slope;
        const yb = py + (cc + 1 - px) * slope;
        lo[cc] = ya < yb ? ya : yb;
        hi[cc] = ya < yb ? yb : ya;
        if (cc < first) first = cc;
        last = cc;
      }
      const entry = py + (c - px) * slope;
      if (entry < cLo) cLo = entry;
      if (entry > cHi) cHi = entry;
    }
    pc = c;
    pLo = cLo;
    pHi = cHi;
    px = xLast;
    py = yLast;
    i = j;
    if (c >= W) break;
  }
  if (px === px && pc >= 0 && pc < W) {
    lo[pc] = pLo;
    hi[pc] = pHi;
    if (pc < first) first = pc;
    last = pc;
  }
  out.first = first;
  out.last = last;
}

/** A line for LineRaster: its values by x position (NaN: no point), colour, width and dash
 * pattern (device px). */
export interface RasterLine {
  values: Float64Array;
  color: Rgba;
  width: number;
  dash: readonly number[];
}

/**
 * The pixels of many lines, each blended once where it passes. Lines add to per-pixel sums from
 * which the picture follows at the end: the opacity as source-over gives it (1 - the product of
 * (1 - a) over the lines there: exact in any order) and, when the lines differ in colour, the
 * colour as the alpha-weighted mean of theirs (a blend where lines of different colours cross,
 * not whichever was drawn last). A column's span adds in constant time whatever its height (a
 * difference between its first and its last row, summed down the column at the end): a noisy
 * line spanning 100 px in every column costs what a flat one does.
 */
export class LineRaster {
  /** channels per pixel: the opacity (sum of -ln(1 - a)); with colours, sum of a, a x r, g, b */
  private ch = 1;
  /** the differences down each column of the rows wholly covered, (height + 1) x width x ch */
  private runs = new Float32Array(0);
  /** the end pixels partly covered, added as they are, height x width x ch */
  private dots = new Float32Array(0);
  private color: Rgba = [0, 0, 0, 0];
  private readonly spans: ColumnSpans;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.spans = new ColumnSpans(width);
  }

  /**
   * Draws `lines` (each pixel a line covers once, as a canvas stroke of it would), their
   * points `i0..i1` at x positions `xPx` (device px from the raster's left), over nothing.
   */
  drawLines(
    xPx: Float64Array,
    i0: number,
    i1: number,
    y: YMap,
    lines: readonly RasterLine[],
  ): void {
    const colors = new Set(lines.map((l) => l.color.slice(0, 3).join(",")));
    this.ch = colors.size > 1 ? 5 : 1;
    this.color = lines.length ? lines[0].color : [0, 0, 0, 0];
    const n = this.width * this.height * this.ch;
    if (this.dots.length !== n) {
      this.dots = new Float32Array(n);
      this.runs = new Float32Array(n + this.width * this.ch);
    } else {
      this.dots.fill(0);
      this.runs.fill(0);
    }
    const cols = columnsOf(xPx, i0, i1);
    for (const l of lines) this.drawLine(xPx, cols, i0, i1, y, l);
  }

  private drawLine(
    xPx: Float64Array,
    cols: Int32Array,
    i0: number,
    i1: number,
    y: YMap,
    line: RasterLine,
  ): void {
    const spans = this.spans;
    reduceToColumns(xPx, cols, line.values, i0, i1, y, this.height, spans);
    const [r, g, b, alpha] = line.color;
    if (alpha <= 0) return;
    const W = this.width;
    const H = this.height;
    const ch = this.ch;
    const runs = this.runs;
    const dots = this.dots;
    // what a whole pixel of this line adds; a part of a pixel adds that share of it
    const opacity = -Math.log1p(-Math.min(alpha, 0.999));
    const add = [opacity, alpha, alpha * r, alpha * g, alpha * b];
    const half = line.width / 2;
    const dash = line.dash;
    let period = 0;
    for (const d of dash) period += d;
    let along = 0;
    let prevMid = NaN;
    for (let c = spans.first; c <= spans.last; c++) {
      const lo = spans.lo[c];
      const hi = spans.hi[c];
      if (period > 0) {
        // the length drawn so far decides whether this column is in a dash or a gap
        const mid = (lo + hi) / 2;
        along += prevMid === prevMid ? Math.max(1, Math.abs(mid - prevMid), hi - lo) : 0;
        prevMid = mid;
        let t = along % period;
        let on = true;
        for (const d of dash) {
          if (t < d) break;
          t -= d;
          on = !on;
        }
        if (!on) continue;
      }
      const top = lo - half > 0 ? lo - half : 0;
      const bottom = hi + half < H ? hi + half : H;
      if (bottom <= top) continue;
      const r0 = Math.floor(top);
      const r1 = Math.ceil(bottom) - 1;
      // the end pixels by the share of their height covered (antialiased), the rows between whole
      const topShare = r0 === r1 ? bottom - top : r0 + 1 - top;
      const bottomShare = bottom - r1;
      const i = (r0 * W + c) * ch;
      const j = (r1 * W + c) * ch;
      if (ch === 1) {
        dots[i] += opacity * topShare;
        if (r1 > r0) dots[j] += opacity * bottomShare;
        if (r1 > r0 + 1) {
          runs[i + W] += opacity;
          runs[j] -= opacity;
        }
        continue;
      }
      for (let k = 0; k < ch; k++) dots[i + k] += add[k] * topShare;
      if (r1 > r0) for (let k = 0; k < ch; k++) dots[j + k] += add[k] * bottomShare;
      if (r1 > r0 + 1) {
        for (let k = 0; k < ch; k++) {
          runs[i + W * ch + k] += add[k];
          runs[j + k] -= add[k];
        }
      }
    }
  }

  /** The picture as straight (not premultiplied) 8-bit RGBA, e.g. an ImageData's data. */
  writeRgba8(out: Uint8ClampedArray): void {
    const W = this.width;
    const ch = this.ch;
    const { runs, dots } = this;
    const acc = new Float64Array(W * ch);
    const one = this.color.map((v) => v * 255);
    for (let row = 0; row < this.height; row++) {
      for (let c = 0; c < W; c++) {
        const k = c * ch;
        const i = (row * W + c) * ch;
        const o = (acc[k] += runs[i]) + dots[i];
        const p = (row * W + c) * 4;
        let red = one[0];
        let green = one[1];
        let blue = one[2];
        if (ch > 1) {
          // every sum runs on down its column, drawn here or not
          const w = (acc[k + 1] += runs[i + 1]) + dots[i + 1];
          const scale = w > 1e-9 ? 255 / w : 0;
          red = ((acc[k + 2] += runs[i + 2]) + dots[i + 2]) * scale;
          green = ((acc[k + 3] += runs[i + 3]) + dots[i + 3]) * scale;
          blue = ((acc[k + 4] += runs[i + 4]) + dots[i + 4]) * scale;
        }
        if (o <= 1e-6) {
          out[p] = out[p + 1] = out[p + 2] = out[p + 3] = 0;
          continue;
        }
        out[p] = red;
        out[p + 1] = green;
        out[p + 2] = blue;
        out[p + 3] = (1 - Math.exp(-o)) * 255;
      }
    }
  }
}
