// @vitest-environment node
import { describe, expect, it } from "vitest";
import {
  ColumnSpans,
  LineRaster,
  columnsOf,
  pixelCentre,
  reduceToColumns,
  type RasterLine,
  type YMap,
} from "../src/curves/line-raster";

/** x positions of n points spread over `width` px, on pixel centres as the chart puts them. */
function spread(n: number, width: number, from = 0, to = n - 1): Float64Array {
  return Float64Array.from({ length: n }, (_, i) =>
    pixelCentre(((i - from) / (to - from)) * width),
  );
}

function randomWalk(n: number, seed: number): Float64Array {
  let s = seed;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const out = new Float64Array(n);
  let v = 0.5;
  for (let i = 0; i < n; i++) {
    v = Math.min(1, Math.max(0, v + (rnd() - 0.5) * 0.2));
    out[i] = v;
  }
  return out;
}

/**
 * The reference: every segment between consecutive points (gaps spanned), walked column by
 * column, its y range in each column it crosses; what a canvas stroke of the full line covers.
 */
function reference(xPx: Float64Array, values: Float64Array, y: YMap, height: number, W: number) {
  const pix = (v: number) => Math.round(((y.max - v) * height) / (y.max - y.min)) + 0.5;
  const lo = new Map<number, number>();
  const hi = new Map<number, number>();
  const add = (c: number, a: number, b: number) => {
    if (c < 0 || c >= W) return;
    lo.set(c, Math.min(lo.get(c) ?? Infinity, a, b));
    hi.set(c, Math.max(hi.get(c) ?? -Infinity, a, b));
  };
  const pts: [number, number][] = [];
  values.forEach((v, i) => {
    if (Number.isFinite(v)) pts.push([xPx[i], pix(v)]);
  });
  if (pts.length === 1) add(Math.floor(pts[0][0]), pts[0][1], pts[0][1]);
  for (let p = 1; p < pts.length; p++) {
    const [x0, y0] = pts[p - 1];
    const [x1, y1] = pts[p];
    if (x1 === x0) {
      add(Math.floor(x0), y0, y1);
      continue;
    }
    const slope = (y1 - y0) / (x1 - x0);
    for (let c = Math.floor(x0); c <= Math.floor(x1); c++) {
      const xa = Math.max(x0, c);
      const xb = Math.min(x1, c + 1);
      add(c, y0 + (xa - x0) * slope, y0 + (xb - x0) * slope);
    }
  }
  return { lo, hi };
}

function reduce(xPx: Float64Array, values: Float64Array, y: YMap, height: number, W: number) {
  const out = new ColumnSpans(W);
  const n = values.length;
  reduceToColumns(xPx, columnsOf(xPx, 0, n - 1), values, 0, n - 1, y, height, out);
  return out;
}

function expectSameSpans(
  got: ColumnSpans,
  want: { lo: Map<number, number>; hi: Map<number, number> },
): void {
  const cols = [...want.lo.keys()].sort((a, b) => a - b);
  expect(got.first).toBe(cols[0]);
  expect(got.last).toBe(cols[cols.length - 1]);
  expect(got.last - got.first + 1).toBe(cols.length);
  for (const c of cols) {
    expect(got.lo[c]).toBeCloseTo(want.lo.get(c)!, 9);
    expect(got.hi[c]).toBeCloseTo(want.hi.get(c)!, 9);
  }
}

const Y: YMap = { min: 0, max: 1, log: false };

describe("reduceToColumns (a line -> its span in each pixel column)", () => {
  it("covers in every column exactly what the full line covers (5000 points on 97 px)", () => {
    const values = randomWalk(5000, 7);
    const xPx = spread(5000, 97);
    const got = reduce(xPx, values, Y, 200, 97);
    expectSameSpans(got, reference(xPx, values, Y, 200, 97));
  });

  it("keeps a one-step spike among 5000 flat points", () => {
    const values = new Float64Array(5000).fill(0.25);
    values[3171] = 0.9;
    const xPx = spread(5000, 300);
    const got = reduce(xPx, values, Y, 100, 300);
    const c = Math.floor(xPx[3171]);
    const spike = Math.round((1 - 0.9) * 100) + 0.5;
    expect(got.lo[c]).toBe(spike);
    // elsewhere the line stays flat at its value's pixel
    expect(got.lo[c - 3]).toBe(got.hi[c - 3]);
    expect(got.hi[c - 3]).toBe(Math.round(0.75 * 100) + 0.5);
  });

  it("spans gaps and columns between sparse points, as the drawn line does", () => {
    const values = Float64Array.from([0.1, NaN, 0.8, 0.3, NaN, NaN, 0.6, 0.2, 0.9, 0.5]);
    const xPx = spread(10, 300);
    const got = reduce(xPx, values, Y, 100, 301);
    expectSameSpans(got, reference(xPx, values, Y, 100, 301));
  });

  it("clips to the raster when zoomed in (points left and right of it)", () => {
    const values = randomWalk(400, 3);
    // points 100..300 span the 120 px window; the others fall outside it
    const xPx = spread(400, 120, 100, 300);
    const got = new ColumnSpans(120);
    reduceToColumns(xPx, columnsOf(xPx, 99, 301), values, 99, 301, Y, 80, got);
    const want = reference(xPx.subarray(99, 302), values.subarray(99, 302), Y, 80, 120);
    expectSameSpans(got, want);
    expect(got.first).toBe(0);
    expect(got.last).toBe(119);
  });

  it("maps values on a log scale", () => {
    const values = Float64Array.from([1, 10, 100, 1000]);
    const xPx = spread(4, 30);
    const got = reduce(xPx, values, { min: 1, max: 1000, log: true }, 90, 31);
    // one decade is 30 px: the points sit at 90.5, 60.5, 30.5, 0.5
    expect(got.hi[0]).toBeCloseTo(90.5, 9);
    expect(got.lo[30]).toBeCloseTo(0.5, 9);
    // a decade per 10 columns: 3 px per column
    expect(got.hi[10] - got.lo[10]).toBeCloseTo(3, 9);
  });
});

function line(values: number[], color: [number, number, number, number], dash: number[] = []) {
  return { values: Float64Array.from(values), color, width: 1, dash } as RasterLine;
}

function pixelsOf(raster: LineRaster): Uint8ClampedArray {
  const out = new Uint8ClampedArray(raster.width * raster.height * 4);
  raster.writeRgba8(out);
  return out;
}

function pixel(px: Uint8ClampedArray, width: number, x: number, y: number): number[] {
  const i = (y * width + x) * 4;
  return [px[i], px[i + 1], px[i + 2], px[i + 3]];
}

describe("LineRaster", () => {
  const W = 40;
  const H = 20;
  const xPx = spread(5, W - 1);
  // 0.5 on a [0, 1] scale 20 px high: row 10
  const flat = [0.5, 0.5, 0.5, 0.5, 0.5];

  it("draws a line in its colour and alpha, nothing elsewhere", () => {
    const r = new LineRaster(W, H);
    r.drawLines(xPx, 0, 4, Y, [line(flat, [1, 0, 0, 0.5])]);
    const px = pixelsOf(r);
    expect(pixel(px, W, 20, 10)).toEqual([255, 0, 0, 128]);
    expect(pixel(px, W, 20, 9)[3]).toBe(0);
    expect(pixel(px, W, 20, 11)[3]).toBe(0);
  });

  it("blends lines over each other as source-over does, each line once per pixel", () => {
    const r = new LineRaster(W, H);
    // the second line zigzags inside column 20's row 10 range: still one layer there
    r.drawLines(xPx, 0, 4, Y, [line(flat, [0, 0, 1, 0.5]), line(flat, [0, 0, 1, 0.5])]);
    expect(pixel(pixelsOf(r), W, 20, 10)).toEqual([0, 0, 255, 191]); // 1 - 0.5^2 = 0.75
    const many = new LineRaster(W, H);
    many.drawLines(
      xPx,
      0,
      4,
      Y,
      Array.from({ length: 1000 }, () => line(flat, [0, 0, 0, 0.03])),
    );
    // 1000 faint lines: 1 - 0.97^1000, opaque
    expect(pixel(pixelsOf(many), W, 5, 10)[3]).toBe(255);
  });

  it("draws lines of different colours in order, the last on top (source-over)", () => {
    const r = new LineRaster(W, H);
    r.drawLines(xPx, 0, 4, Y, [line(flat, [1, 0, 0, 0.5]), line(flat, [0, 0, 1, 0.5])]);
    // blue over red: 0.5 blue + 0.25 red of 0.75 alpha
    expect(pixel(pixelsOf(r), W, 20, 10)).toEqual([85, 0, 170, 191]);
    const swapped = new LineRaster(W, H);
    swapped.drawLines(xPx, 0, 4, Y, [line(flat, [0, 0, 1, 0.5]), line(flat, [1, 0, 0, 0.5])]);
    expect(pixel(pixelsOf(swapped), W, 20, 10)).toEqual([170, 0, 85, 191]);
  });

  it("shows only the front lines where they hide the ones behind", () => {
    const r = new LineRaster(W, H);
    const behind = Array.from({ length: 500 }, (_, k) =>
      line(flat, [k % 2, 0.5, (k + 1) % 2, 0.6]),
    );
    // 20 opaque-ish green lines in front hide the 500 behind them
    const front = Array.from({ length: 20 }, () => line(flat, [0, 1, 0, 0.6]));
    r.drawLines(xPx, 0, 4, Y, [...behind, ...front]);
    expect(pixel(pixelsOf(r), W, 20, 10)).toEqual([0, 255, 0, 255]);
  });

  it("covers the whole span of a steep line in a column, and antialiases its ends", () => {
    const r = new LineRaster(W, H);
    const steep = line([0, 1, 1, 1, 1], [0, 0, 0, 1]);
    r.drawLines(spread(5, 4), 0, 4, Y, [steep]);
    const px = pixelsOf(r);
    // from the bottom (row 19.5 -> 20) up to the top in columns 0..1: every row painted
    for (let row = 0; row < H; row++) {
      const inColumn = Math.max(pixel(px, W, 0, row)[3], pixel(px, W, 1, row)[3]);
      expect(inColumn).toBeGreaterThan(0);
    }
    expect(pixel(px, W, 3, 5)[3]).toBe(0);
  });

  it("leaves the gaps of a dashed line", () => {
    const r = new LineRaster(W, H);
    r.drawLines(spread(5, W - 1), 0, 4, Y, [line(flat, [0, 0, 0, 1], [4, 4])]);
    const px = pixelsOf(r);
    const drawn = Array.from({ length: W }, (_, x) => (pixel(px, W, x, 10)[3] > 0 ? 1 : 0));
    expect(drawn.slice(0, 16).join("")).toBe("1111000011110000");
  });
});
