// @vitest-environment node
import { describe, expect, it } from "vitest";
import {
  drawOrder,
  HitGrid,
  renderScatter,
  toPixelX,
  toPixelY,
  UNSEEN,
  type MapPoints,
} from "../src/dynamics/map-raster";

function lut(): Uint8ClampedArray {
  // colour index i -> (i, 255 - i, 0)
  const out = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) out.set([i, 255 - i, 0, 255], i * 4);
  return out;
}

function points(xs: number[], ys: number[], colours: number[]): MapPoints {
  return {
    count: xs.length,
    x: Uint8Array.from(xs),
    y: Uint8Array.from(ys),
    colour: Uint8Array.from(colours),
  };
}

describe("data-map scatter", () => {
  it("puts a point where its coordinates say, confidence up", () => {
    const width = 100;
    const height = 50;
    expect(toPixelX(0, 7, width)).toBeLessThan(1);
    expect(toPixelX(254, 7, width)).toBeGreaterThanOrEqual(99);
    expect(toPixelY(0, 7, height)).toBe(49); // low confidence at the bottom
    expect(toPixelY(254, 7, height)).toBe(0);
  });

  it("blends point colours over the background and skips unvisited samples", () => {
    const plot = { width: 20, height: 20, size: 2, alpha: 1 };
    const out = new Uint8ClampedArray(20 * 20 * 4).fill(255);
    const p = points([127, UNSEEN], [127, 3], [200, 0]);
    expect(renderScatter(p, null, plot, lut(), out)).toBe(1);
    const x = toPixelX(127, 0, 20);
    const y = toPixelY(127, 0, 20);
    const o = (y * 20 + x) * 4;
    expect(Array.from(out.slice(o, o + 3))).toEqual([200, 55, 0]);
    const painted = [];
    for (let i = 0; i < out.length; i += 4) if (out[i + 2] !== 255) painted.push(i / 4);
    expect(painted.length).toBe(4); // one 2x2 square; the unvisited one drew nothing
  });

  it("draws low colour indices last, so rarely-correct samples stay visible", () => {
    const p = points([1, 2, 3, 4], [1, 2, 3, 4], [254, 0, 100, 254]);
    expect(Array.from(drawOrder(p, null))).toEqual([0, 3, 2, 1]);
    expect(Array.from(drawOrder(p, Uint32Array.from([1, 2])))).toEqual([2, 1]);
  });

  it("finds the point under the pointer among 100k", () => {
    const n = 100_000;
    const xs = new Uint8Array(n);
    const ys = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = (i * 37) % 255;
      ys[i] = (i * 91) % 255;
    }
    const p: MapPoints = { count: n, x: xs, y: ys, colour: new Uint8Array(n) };
    const plot = { width: 500, height: 400, size: 2, alpha: 0.5 };
    const grid = new HitGrid(p, null, plot);
    const target = 4242;
    const x = toPixelX(xs[target], target, 500);
    const y = toPixelY(ys[target], target, 400);
    const hit = grid.nearest(x, y, 0.5);
    expect(toPixelX(xs[hit], hit, 500)).toBe(x);
    expect(toPixelY(ys[hit], hit, 400)).toBe(y);
    expect(grid.nearest(-50, -50)).toBe(-1);
  });
});
