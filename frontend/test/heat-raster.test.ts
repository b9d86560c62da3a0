import { describe, expect, it } from "vitest";
import {
  axisMap,
  cellToPixel,
  pixelToCell,
  renderHeatmap,
  type CellSource,
} from "../src/ui/heat-raster";
import { ColorScale, DIAGONAL_RGB, MISSING_RGB, BLUES, BLUE_RED } from "../src/ui/color-scale";

const seq = (max: number) =>
  new ColorScale({ kind: "sequential", min: 0, max, log: false, eps: 1, stops: BLUES });
const ident = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

function src(values: number[], n: number, extra: Partial<CellSource> = {}): CellSource {
  return {
    values,
    stride: n,
    rowIdx: ident(n),
    colIdx: ident(n),
    maskDiagonal: false,
    pool: "max",
    ...extra,
  };
}

function px(out: Uint8ClampedArray, W: number, x: number, y: number): number[] {
  const p = (y * W + x) * 4;
  return [out[p], out[p + 1], out[p + 2], out[p + 3]];
}

describe("axis mapping", () => {
  it("upscaled: every pixel covers one cell, cells are floor or ceil of pixels/cells wide", () => {
    const m = axisMap(10, 0, 3);
    const widths = [0, 0, 0];
    for (let p = 0; p < 10; p++) {
      expect(m.to[p] - m.from[p]).toBe(1);
      widths[m.from[p]]++;
    }
    expect(widths.every((w) => w === 3 || w === 4)).toBe(true);
    expect(widths.reduce((a, b) => a + b)).toBe(10);
  });

  it("downscaled: the pixels cover every cell exactly once (1000 cells on 700 px)", () => {
    const m = axisMap(700, 0, 1000);
    const seen = new Uint8Array(1000);
    for (let p = 0; p < 700; p++) {
      expect(m.to[p]).toBeGreaterThan(m.from[p]);
      for (let c = m.from[p]; c < m.to[p]; c++) seen[c]++;
    }
    expect([...seen].every((s) => s === 1)).toBe(true);
  });

  it("a window starts at its first cell", () => {
    const m = axisMap(4, 10, 2);
    expect([...m.from]).toEqual([10, 10, 11, 11]);
  });

  it("pixel -> cell and cell -> first pixel agree with the rasteriser", () => {
    for (const [pixels, count] of [
      [10, 3],
      [700, 1000],
      [613, 21],
      [5, 5],
    ]) {
      const m = axisMap(pixels, 0, count);
      for (let p = 0; p < pixels; p++) expect(pixelToCell(p, pixels, 0, count)).toBe(m.from[p]);
      for (let c = 0; c < count; c++) {
        const first = cellToPixel(c, pixels, 0, count);
        if (first < pixels && count <= pixels) expect(m.from[first]).toBe(c);
      }
    }
    expect(pixelToCell(-3, 100, 5, 10)).toBe(5);
    expect(pixelToCell(1e6, 100, 5, 10)).toBe(14);
  });
});

describe("renderHeatmap", () => {
  it("draws pixel-exact cells when zoomed in (3x3 cells on 6x6 px)", () => {
    const n = 3;
    const values = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const out = new Uint8ClampedArray(6 * 6 * 4);
    const scale = seq(8);
    renderHeatmap(out, 6, 6, src(values, n), { r0: 0, r1: 3, c0: 0, c1: 3 }, scale);
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 6; x++) {
        const v = values[Math.floor(y / 2) * n + Math.floor(x / 2)];
        expect(px(out, 6, x, y)).toEqual([...scale.rgb(v), 255]);
      }
    }
  });

  it("keeps a single confusion visible when 1000 classes share 500 px (max pooling)", () => {
    const n = 1000;
    const values = new Float32Array(n * n);
    values[123 * n + 877] = 1;
    const out = new Uint8ClampedArray(500 * 500 * 4);
    const scale = seq(1);
    const reads = renderHeatmap(
      out,
      500,
      500,
      src(values as unknown as number[], n),
      { r0: 0, r1: n, c0: 0, c1: n },
      scale,
    );
    expect(reads).toBe(n * n);
    const hot = [...scale.rgb(1), 255];
    let hits = 0;
    for (let y = 0; y < 500; y++)
      for (let x = 0; x < 500; x++) if (px(out, 500, x, y).join() === hot.join()) hits++;
    expect(hits).toBe(1);
    expect(px(out, 500, Math.floor(877 / 2), Math.floor(123 / 2))).toEqual(hot);
  });

  it("follows the display order (rowIdx/colIdx) and the window", () => {
    const values = [1, 2, 3, 4];
    const out = new Uint8ClampedArray(1 * 1 * 4);
    const scale = seq(4);
    // display row 0 = data row 1, display col 0 = data col 0 -> value 3
    renderHeatmap(
      out,
      1,
      1,
      src(values, 2, { rowIdx: [1, 0], colIdx: [0, 1] }),
      { r0: 0, r1: 1, c0: 0, c1: 1 },
      scale,
    );
    expect(px(out, 1, 0, 0)).toEqual([...scale.rgb(3), 255]);
  });

  it("greys a masked diagonal, shows missing values, pools min and max |v|", () => {
    const scale = seq(10);
    const out = new Uint8ClampedArray(2 * 2 * 4);
    renderHeatmap(
      out,
      2,
      2,
      src([9, NaN, 0, 5], 2, { maskDiagonal: true }),
      { r0: 0, r1: 2, c0: 0, c1: 2 },
      scale,
    );
    expect(px(out, 2, 0, 0).slice(0, 3)).toEqual(DIAGONAL_RGB);
    expect(px(out, 2, 1, 0).slice(0, 3)).toEqual(MISSING_RGB);
    expect(px(out, 2, 0, 1).slice(0, 3)).toEqual(scale.rgb(0));
    // a pixel over a masked diagonal and empty neighbours shows the diagonal
    const one = new Uint8ClampedArray(4);
    renderHeatmap(
      one,
      1,
      1,
      src([9, 0, 0, 7], 2, { maskDiagonal: true }),
      { r0: 0, r1: 2, c0: 0, c1: 2 },
      scale,
    );
    expect([...one.slice(0, 3)]).toEqual(DIAGONAL_RGB);
    renderHeatmap(
      one,
      1,
      1,
      src([9, 3, 0, 7], 2, { maskDiagonal: true }),
      { r0: 0, r1: 2, c0: 0, c1: 2 },
      scale,
    );
    expect([...one.slice(0, 3)]).toEqual(scale.rgb(3));
    renderHeatmap(
      one,
      1,
      1,
      src([9, 3, 2, 7], 2, { pool: "min" }),
      { r0: 0, r1: 2, c0: 0, c1: 2 },
      scale,
    );
    expect([...one.slice(0, 3)]).toEqual(scale.rgb(2));
    const div = new ColorScale({
      kind: "diverging",
      min: -10,
      max: 10,
      log: false,
      eps: 1,
      stops: BLUE_RED,
    });
    renderHeatmap(
      one,
      1,
      1,
      src([1, -8, 5, 0], 2, { pool: "maxabs" }),
      { r0: 0, r1: 2, c0: 0, c1: 2 },
      div,
    );
    expect([...one.slice(0, 3)]).toEqual(div.rgb(-8));
  });
});
