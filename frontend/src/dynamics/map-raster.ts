// The data-map rasteriser: up to a few hundred thousand points -> RGBA pixels, pure (no DOM).
//
// Points arrive quantised to 8 bits per axis (0..254; 255 = never visited, not drawn), as the
// dynamics snapshot stores them. Each point is drawn as a small square, alpha-blended so that
// dense regions read as dense, with a deterministic jitter inside its quantisation bin so that
// the 8-bit grid never shows as stripes. Points are drawn in the order given: the caller puts
// the ones that must stay visible (the rarely-correct samples) last. A bucket grid answers
// "which point is under the pointer" in O(points nearby).

export const UNSEEN = 255;
const LEVELS = 254;

export interface MapPoints {
  count: number;
  /** horizontal coordinate per point, 0..254 (255: not drawn) */
  x: Uint8Array;
  /** vertical coordinate per point, 0..254 (0 at the bottom) */
  y: Uint8Array;
  /** colour index per point, 0..254, into a 256-entry RGBA lookup table */
  colour: Uint8Array;
}

export interface Plot {
  width: number;
  height: number;
  /** side of a point's square in pixels */
  size: number;
  /** alpha of one point, 0..1 */
  alpha: number;
}

/** A jitter in [0, 1) per point index (an integer hash: the same every render). */
export function jitter(index: number, axis: 0 | 1): number {
  let h = (index * 2 + axis + 1) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** The pixel column of a quantised coordinate `q` (with its jitter), in [0, width). */
export function toPixelX(q: number, index: number, width: number): number {
  return Math.min(width - 1, Math.floor(((q + jitter(index, 0)) / (LEVELS + 1)) * width));
}

/** The pixel row (0 at the top) of a quantised coordinate `q`, in [0, height). */
export function toPixelY(q: number, index: number, height: number): number {
  const up = Math.min(height - 1, Math.floor(((q + jitter(index, 1)) / (LEVELS + 1)) * height));
  return height - 1 - up;
}

/**
 * Draws `order` (point indices; all points in index order when null) into `out`, an RGBA
 * buffer of plot.width x plot.height already holding the background.
 */
export function renderScatter(
  points: MapPoints,
  order: Uint32Array | null,
  plot: Plot,
  lut: Uint8ClampedArray,
  out: Uint8ClampedArray,
): number {
  const { width, height, size } = plot;
  const a = Math.round(plot.alpha * 256);
  const keep = 256 - a;
  const total = order ? order.length : points.count;
  let drawn = 0;
  for (let k = 0; k < total; k++) {
    const i = order ? order[k] : k;
    const qx = points.x[i];
    const qy = points.y[i];
    if (qx === UNSEEN || qy === UNSEEN) continue;
    drawn++;
    const px = toPixelX(qx, i, width);
    const py = toPixelY(qy, i, height);
    const c = points.colour[i] * 4;
    const r = lut[c] * a;
    const g = lut[c + 1] * a;
    const b = lut[c + 2] * a;
    const x0 = Math.max(0, px - (size >> 1));
    const y0 = Math.max(0, py - (size >> 1));
    const x1 = Math.min(width, x0 + size);
    const y1 = Math.min(height, y0 + size);
    for (let y = y0; y < y1; y++) {
      let o = (y * width + x0) * 4;
      for (let x = x0; x < x1; x++, o += 4) {
        out[o] = (out[o] * keep + r) >> 8;
        out[o + 1] = (out[o + 1] * keep + g) >> 8;
        out[o + 2] = (out[o + 2] * keep + b) >> 8;
        out[o + 3] = 255;
      }
    }
  }
  return drawn;
}

/** Point indices sorted so that low colour indices (drawn last) stay on top. */
export function drawOrder(points: MapPoints, subset: Uint32Array | null): Uint32Array {
  const source = subset ?? Uint32Array.from({ length: points.count }, (_, i) => i);
  // Counting sort by colour, descending: O(n), stable.
  const counts = new Uint32Array(257);
  for (const i of source) counts[LEVELS + 1 - points.colour[i]]++;
  for (let v = 1; v < 257; v++) counts[v] += counts[v - 1];
  const out = new Uint32Array(source.length);
  for (let k = source.length - 1; k >= 0; k--) {
    const i = source[k];
    out[--counts[LEVELS + 1 - points.colour[i]]] = i;
  }
  return out;
}

/** Which drawn point is nearest a pixel: a grid of `cell`-pixel buckets over the plot. */
export class HitGrid {
  private readonly cols: number;
  private readonly rows: number;
  /** bucket b holds items[start[b] .. start[b + 1]) */
  private readonly start: Uint32Array;
  private readonly items: Uint32Array;
  private readonly itemX: Uint16Array;
  private readonly itemY: Uint16Array;

  constructor(
    points: MapPoints,
    order: Uint32Array | null,
    plot: Plot,
    private readonly cell = 8,
  ) {
    this.cols = Math.max(1, Math.ceil(plot.width / cell));
    this.rows = Math.max(1, Math.ceil(plot.height / cell));
    const total = order ? order.length : points.count;
    const bucket = new Int32Array(total).fill(-1);
    const xs = new Uint16Array(total);
    const ys = new Uint16Array(total);
    const counts = new Uint32Array(this.cols * this.rows + 1);
    for (let k = 0; k < total; k++) {
      const i = order ? order[k] : k;
      if (points.x[i] === UNSEEN || points.y[i] === UNSEEN) continue;
      xs[k] = toPixelX(points.x[i], i, plot.width);
      ys[k] = toPixelY(points.y[i], i, plot.height);
      bucket[k] = Math.floor(ys[k] / cell) * this.cols + Math.floor(xs[k] / cell);
      counts[bucket[k] + 1]++;
    }
    for (let b = 1; b < counts.length; b++) counts[b] += counts[b - 1];
    this.start = counts;
    const used = counts[counts.length - 1];
    this.items = new Uint32Array(used);
    this.itemX = new Uint16Array(used);
    this.itemY = new Uint16Array(used);
    const fill = counts.slice(0, -1);
    // In drawing order, so that of two points at one distance the one drawn on top wins.
    for (let k = 0; k < total; k++) {
      if (bucket[k] < 0) continue;
      const s = fill[bucket[k]]++;
      this.items[s] = order ? order[k] : k;
      this.itemX[s] = xs[k];
      this.itemY[s] = ys[k];
    }
  }

  /** The index of the point nearest (x, y) within `radius` pixels, or -1. */
  nearest(x: number, y: number, radius = 6): number {
    const c0 = Math.max(0, Math.floor((x - radius) / this.cell));
    const c1 = Math.min(this.cols - 1, Math.floor((x + radius) / this.cell));
    const r0 = Math.max(0, Math.floor((y - radius) / this.cell));
    const r1 = Math.min(this.rows - 1, Math.floor((y + radius) / this.cell));
    let best = -1;
    let bestDistance = radius * radius;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const b = r * this.cols + c;
        for (let s = this.start[b]; s < this.start[b + 1]; s++) {
          const dx = this.itemX[s] - x;
          const dy = this.itemY[s] - y;
          const d = dx * dx + dy * dy;
          if (d <= bestDistance) {
            bestDistance = d;
            best = this.items[s];
          }
        }
      }
    }
    return best;
  }
}
