// Colour scales for the heatmaps: value -> index into a 256-colour lookup table (LUT).
// Sequential (counts, rates, metrics) and diverging (diffs, centred on 0), linear or
// "symlog" (log1p(v / eps), so 0 stays 0 and small counts stay visible next to a big
// diagonal). Pure: no DOM.

export type Rgb = [number, number, number];

/** ColorBrewer Blues: the classic confusion-matrix ramp, white for 0. */
export const BLUES = [
  "#f7fbff",
  "#deebf7",
  "#c6dbef",
  "#9ecae1",
  "#6baed6",
  "#4292c6",
  "#2171b5",
  "#08519c",
  "#08306b",
];
/** ColorBrewer RdBu reversed: blue = decrease, white = 0, red = increase. */
export const BLUE_RED = [
  "#053061",
  "#2166ac",
  "#4393c3",
  "#92c5de",
  "#d1e5f0",
  "#f7f7f7",
  "#fddbc7",
  "#f4a582",
  "#d6604d",
  "#b2182b",
  "#67001f",
];
/** Blues for a dark page: 0 sits just off the background and bigger values get lighter, so
 * empty cells do not glare and the busy cells still stand out. */
export const DARK_BLUES = [
  "#2c333d",
  "#0d3a6b",
  "#0f4f8e",
  "#1866ab",
  "#2f80c4",
  "#4f9bd6",
  "#7db8e3",
  "#b0d4ee",
  "#e3f0fa",
];
/** RdBu for a dark page: a dark middle (0 near the background), changes light up either way. */
export const DARK_BLUE_RED = [
  "#d1e5f0",
  "#92c5de",
  "#4f9bd6",
  "#2b72b0",
  "#1d4a75",
  "#363636",
  "#7a2e25",
  "#b8392b",
  "#d6604d",
  "#f4a582",
  "#fddbc7",
];
/** viridis (perceptually uniform), for the class-by-step heatmap. */
export const VIRIDIS = [
  "#440154",
  "#482878",
  "#3e4989",
  "#31688e",
  "#26828e",
  "#1f9e89",
  "#35b779",
  "#6ece58",
  "#b5de2b",
  "#fde725",
];

/** Cells without a value (e.g. a row-normalised row with no samples). */
export const MISSING_RGB: Rgb = [236, 236, 236];
/** Masked diagonal ("errors only"). */
export const DIAGONAL_RGB: Rgb = [205, 205, 205];
/** The same two on a dark page: greys just above the background, the diagonal lighter. */
export const DARK_MISSING_RGB: Rgb = [66, 66, 66];
export const DARK_DIAGONAL_RGB: Rgb = [100, 100, 100];

export function hexToRgb(hex: string): Rgb {
  const h = hex.replace("#", "");
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

/** 256 RGBA entries interpolated linearly between evenly spaced stops. */
export function buildLut(stops: readonly string[], size = 256): Uint8ClampedArray {
  const rgb = stops.map(hexToRgb);
  const out = new Uint8ClampedArray(size * 4);
  for (let i = 0; i < size; i++) {
    const t = (i / (size - 1)) * (rgb.length - 1);
    const k = Math.min(Math.floor(t), rgb.length - 2);
    const f = t - k;
    for (let ch = 0; ch < 3; ch++)
      out[i * 4 + ch] = Math.round(rgb[k][ch] + (rgb[k + 1][ch] - rgb[k][ch]) * f);
    out[i * 4 + 3] = 255;
  }
  return out;
}

const lutCache = new Map<string, Uint8ClampedArray>();
export function lutFor(stops: readonly string[]): Uint8ClampedArray {
  const key = stops.join();
  let lut = lutCache.get(key);
  if (!lut) lutCache.set(key, (lut = buildLut(stops)));
  return lut;
}

export interface ScaleSpec {
  kind: "sequential" | "diverging";
  /** sequential: [min, max]; diverging: max |value| (min is -max) */
  min: number;
  max: number;
  log: boolean;
  /** symlog knee: values much smaller than eps are ~linear; 1 for counts, 1e-3 for rates */
  eps: number;
  stops: readonly string[];
  /** colours of cells without a value and of the masked diagonal (default: the light ones) */
  missing?: Rgb;
  diagonal?: Rgb;
}

export class ColorScale {
  readonly lut: Uint8ClampedArray;
  readonly missingRgb: Rgb;
  readonly diagonalRgb: Rgb;
  private readonly fmax: number;
  constructor(readonly spec: ScaleSpec) {
    this.lut = lutFor(spec.stops);
    this.missingRgb = spec.missing ?? MISSING_RGB;
    this.diagonalRgb = spec.diagonal ?? DIAGONAL_RGB;
    const span = spec.kind === "diverging" ? Math.abs(spec.max) : spec.max - spec.min;
    this.fmax = this.f(span) || 1;
  }

  private f(x: number): number {
    return this.spec.log ? Math.log1p(x / this.spec.eps) : x;
  }

  /** Position of a value on the scale, 0..1 (clamped); NaN for a missing value. */
  t(v: number): number {
    if (!Number.isFinite(v)) return NaN;
    const s = this.spec;
    if (s.kind === "diverging") {
      const a = Math.min(Math.abs(v), Math.abs(s.max));
      return 0.5 + (0.5 * Math.sign(v) * this.f(a)) / this.fmax;
    }
    const x = Math.min(Math.max(v - s.min, 0), s.max - s.min);
    return this.f(x) / this.fmax;
  }

  /** LUT index 0..255, or -1 for a missing value. */
  index(v: number): number {
    const t = this.t(v);
    if (Number.isNaN(t)) return -1;
    return Math.round(Math.min(Math.max(t, 0), 1) * 255);
  }

  rgb(v: number): Rgb {
    const i = this.index(v);
    if (i < 0) return this.missingRgb;
    return [this.lut[i * 4], this.lut[i * 4 + 1], this.lut[i * 4 + 2]];
  }

  /** A CSS colour for a value. */
  css(v: number): string {
    const [r, g, b] = this.rgb(v);
    return `rgb(${r}, ${g}, ${b})`;
  }

  /** Legend ticks: values and their 0..1 positions. */
  ticks(count = 5): { value: number; pos: number }[] {
    const s = this.spec;
    let values: number[];
    if (s.kind === "diverging") {
      const m = Math.abs(s.max);
      const half = s.log ? logTicks(m, s.eps, 3) : niceTicks(0, m, 3);
      values = [
        ...half
          .filter((v) => v > 0)
          .map((v) => -v)
          .reverse(),
        0,
        ...half.filter((v) => v > 0),
      ];
    } else {
      values = s.log
        ? logTicks(s.max - s.min, s.eps, count).map((v) => v + s.min)
        : niceTicks(s.min, s.max, count);
    }
    return values
      .map((value) => ({ value, pos: this.t(value) }))
      .filter((x) => x.pos >= -1e-9 && x.pos <= 1 + 1e-9);
  }

  /** Black or white text, whichever reads better on the colour of `v`. */
  textColor(v: number): string {
    const [r, g, b] = this.rgb(v);
    return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "rgba(0, 0, 0, 0.87)" : "#fff";
  }
}

/** "Nice" round tick values covering [min, max] (about `count` of them). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max <= min) return [min];
  const raw = (max - min) / Math.max(1, count - 1);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  const first = Math.ceil(min / step - 1e-9) * step;
  for (let v = first; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Ticks for a symlog scale: 0 and powers of ten up to max (fewer when there are many). */
export function logTicks(max: number, eps: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const out = [0];
  const lo = Math.ceil(Math.log10(eps));
  const hi = Math.floor(Math.log10(max) + 1e-9);
  const pows: number[] = [];
  for (let e = lo; e <= hi; e++) pows.push(Math.pow(10, e));
  const every = Math.max(1, Math.ceil(pows.length / Math.max(1, count - 1)));
  for (let k = pows.length - 1; k >= 0; k -= every)
    out.splice(1, 0, Number(pows[k].toPrecision(12)));
  return out;
}
