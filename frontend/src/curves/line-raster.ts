// Many thin lines drawn into pixels in one pass each, for the line chart's background layer
// (the hundreds of faded class lines at 1000 classes). A canvas stroke of 1000 lines x 5000
// points takes about a second in a software-rendered browser; here each line is first reduced
// to what one pixel column shows of it (the span from its lowest to its highest point in that
// column: every local extreme is kept, nothing is averaged away), and each column's span is
// blended into the picture as source-over would, antialiased at its ends (LineRaster). Only
// the pixels change: the values a tooltip shows are read from the full data, never from here.
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

/** A pixel whose light through the lines in front is below this shows nothing behind it. */
const OPAQUE = 1 / 1024;

/**
 * The pixels of many lines drawn in order, each over the ones before (source-over), each pixel
 * a line covers blended once, as canvas strokes of the lines would be.
 *
 * Lines of one colour (the faded lines behind a highlight) add to per-pixel sums: the opacity
 * of source-over is 1 - the product of (1 - a) over the lines there, the same in any order, and
 * a column's span adds in constant time whatever its height (a difference between its first
 * and its last row, summed down the column at the end): a noisy line spanning 100 px in every
 * column costs what a flat one does. Lines of many colours (every class in its colour) are
 * blended front to back, the last line first: a pixel stops taking colour once the lines in
 * front of it hide what is behind, and its rows are skipped from then on, so each pixel is
 * visited a few times at most whatever the number of lines.
 */
export class LineRaster {
  private readonly spans: ColumnSpans;
  // one colour: the differences down each column of -ln(1 - a) of the rows wholly covered
  // ((height + 1) x width), and of the end pixels partly covered, added as they are
  private runs = new Float32Array(0);
  private dots = new Float32Array(0);
  private color: Rgba = [0, 0, 0, 0];
  // many colours, column-major: the light let through (1 = nothing drawn), the colour taken
  // (premultiplied, 3 per pixel), the next row still taking colour at or below each row
  private light = new Float32Array(0);
  private taken = new Float32Array(0);
  private next = new Int32Array(0);
  private many = false;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.spans = new ColumnSpans(width);
  }

  /**
   * Draws `lines` in order over nothing, their points `i0..i1` at x positions `xPx` (device px
   * from the raster's left).
   */
  drawLines(
    xPx: Float64Array,
    i0: number,
    i1: number,
    y: YMap,
    lines: readonly RasterLine[],
  ): void {
    const W = this.width;
    const H = this.height;
    const colors = new Set(lines.map((l) => l.color.slice(0, 3).join(",")));
    this.many = colors.size > 1;
    this.color = lines.length ? lines[0].color : [0, 0, 0, 0];
    if (this.many) {
      if (this.light.length !== W * H) {
        this.light = new Float32Array(W * H);
        this.taken = new Float32Array(W * H * 3);
        this.next = new Int32Array(W * (H + 1));
      } else this.taken.fill(0);
      this.light.fill(1);
      for (let c = 0, k = 0; c < W; c++) for (let r = 0; r <= H; r++) this.next[k++] = r;
    } else {
      if (this.dots.length !== W * H) {
        this.dots = new Float32Array(W * H);
        this.runs = new Float32Array(W * (H + 1));
      } else {
        this.dots.fill(0);
        this.runs.fill(0);
      }
    }
    const cols = columnsOf(xPx, i0, i1);
    if (this.many)
      for (let l = lines.length - 1; l >= 0; l--) this.drawLine(xPx, cols, i0, i1, y, lines[l]);
    else for (const l of lines) this.drawLine(xPx, cols, i0, i1, y, l);
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
    const { runs, dots, light, taken, next, many } = this;
    // what a whole pixel of this line adds to the sums; a part of a pixel adds that share of it
    const opacity = -Math.log1p(-Math.min(alpha, 0.999));
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
      if (!many) {
        dots[r0 * W + c] += opacity * topShare;
        if (r1 > r0) dots[r1 * W + c] += opacity * bottomShare;
        if (r1 > r0 + 1) {
          runs[(r0 + 1) * W + c] += opacity;
          runs[r1 * W + c] -= opacity;
        }
        continue;
      }
      // front to back over the rows of this column that still take colour
      const base = c * H;
      const nb = c * (H + 1);
      let row = r0;
      for (;;) {
        // the first row at or below `row` not yet hidden (path halving keeps the hops short)
        while (next[nb + row] !== row) {
          const skip = next[nb + next[nb + row]];
          next[nb + row] = skip;
          row = skip;
        }
        if (row > r1) break;
        const a = alpha * (row === r0 ? topShare : row === r1 ? bottomShare : 1);
        const k = base + row;
        const w = light[k] * a;
        taken[3 * k] += w * r;
        taken[3 * k + 1] += w * g;
        taken[3 * k + 2] += w * b;
        light[k] -= w;
        if (light[k] < OPAQUE) next[nb + row] = row + 1;
        row++;
      }
    }
  }

  /** The picture as straight (not premultiplied) 8-bit RGBA, e.g. an ImageData's data. */
  writeRgba8(out: Uint8ClampedArray): void {
    const W = this.width;
    const H = this.height;
    if (this.many) {
      const { light, taken } = this;
      for (let c = 0; c < W; c++) {
        for (let row = 0; row < H; row++) {
          const k = c * H + row;
          const p = (row * W + c) * 4;
          const a = 1 - light[k];
          if (a <= 1e-6) {
            out[p] = out[p + 1] = out[p + 2] = out[p + 3] = 0;
            continue;
          }
          const scale = 255 / a;
          out[p] = taken[3 * k] * scale;
          out[p + 1] = taken[3 * k + 1] * scale;
          out[p + 2] = taken[3 * k + 2] * scale;
          out[p + 3] = a * 255;
        }
      }
      return;
    }
    const { runs, dots } = this;
    const acc = new Float64Array(W);
    const [r, g, b] = this.color.map((v) => v * 255);
    for (let row = 0; row < H; row++) {
      for (let c = 0; c < W; c++) {
        const i = row * W + c;
        const o = (acc[c] += runs[i]) + dots[i];
        const p = i * 4;
        if (o <= 1e-6) {
          out[p] = out[p + 1] = out[p + 2] = out[p + 3] = 0;
          continue;
        }
        out[p] = r;
        out[p + 1] = g;
        out[p + 2] = b;
        out[p + 3] = (1 - Math.exp(-o)) * 255;
      }
    }
  }
}
