import { describe, expect, it } from "vitest";
import {
  centerOn,
  clampView,
  fullView,
  isFull,
  pan,
  parseViewport,
  rectView,
  zoomAt,
} from "../src/lib/zoom";

describe("zoom maths", () => {
  it("zooms in around the anchor and keeps it under the pointer", () => {
    const v = zoomAt(fullView(1000, 1000), 0.8, 250, 750, 1000, 1000);
    expect(v.r1 - v.r0).toBe(800);
    expect(v.c1 - v.c0).toBe(800);
    // the anchor keeps its relative position: 25% of the rows above it, 75% of the columns left of it
    expect((250 - v.r0) / (v.r1 - v.r0)).toBeCloseTo(0.25, 2);
    expect((750 - v.c0) / (v.c1 - v.c0)).toBeCloseTo(0.75, 2);
  });

  it("every wheel step changes the span by at least one cell, down to one cell", () => {
    let v = fullView(3, 3);
    v = zoomAt(v, 0.8, 1.5, 1.5, 3, 3);
    expect(v.r1 - v.r0).toBe(2);
    v = zoomAt(v, 0.8, 1.5, 1.5, 3, 3);
    expect(v.r1 - v.r0).toBe(1);
    v = zoomAt(v, 0.8, 1.5, 1.5, 3, 3);
    expect(v.r1 - v.r0).toBe(1);
    v = zoomAt(v, 1.25, 1.5, 1.5, 3, 3);
    expect(v.r1 - v.r0).toBe(2);
    for (let k = 0; k < 5; k++) v = zoomAt(v, 1.25, 0, 0, 3, 3);
    expect(isFull(v, 3, 3)).toBe(true);
  });

  it("a drag rectangle spans its corner cells in any direction", () => {
    expect(rectView({ r: 9, c: 2 }, { r: 4, c: 7 }, 20, 20)).toEqual({
      r0: 4,
      r1: 10,
      c0: 2,
      c1: 8,
    });
    expect(rectView({ r: 3, c: 3 }, { r: 3, c: 3 }, 20, 20)).toEqual({
      r0: 3,
      r1: 4,
      c0: 3,
      c1: 4,
    });
  });

  it("centres on a class, clamped at the edges", () => {
    expect(centerOn(500, 500, 21, 1000, 1000)).toEqual({ r0: 490, r1: 511, c0: 490, c1: 511 });
    expect(centerOn(3, 3, 21, 1000, 1000)).toEqual({ r0: 0, r1: 21, c0: 0, c1: 21 });
    expect(centerOn(999, 999, 21, 1000, 1000)).toEqual({ r0: 979, r1: 1000, c0: 979, c1: 1000 });
    expect(centerOn(2, 2, 21, 5, 5)).toEqual({ r0: 0, r1: 5, c0: 0, c1: 5 });
  });

  it("pans inside the matrix and clamps bad viewports", () => {
    expect(pan({ r0: 0, r1: 10, c0: 0, c1: 10 }, -5, 995, 1000, 1000)).toEqual({
      r0: 0,
      r1: 10,
      c0: 990,
      c1: 1000,
    });
    expect(clampView({ r0: -5, r1: 3, c0: 8, c1: 50 }, 10, 10)).toEqual({
      r0: 0,
      r1: 8,
      c0: 0,
      c1: 10,
    });
    expect(clampView({ r0: 50, r1: 60, c0: 0, c1: 5 }, 10, 10)).toEqual({
      r0: 0,
      r1: 10,
      c0: 0,
      c1: 5,
    });
  });

  it("parses a saved viewport, refusing garbage", () => {
    expect(parseViewport({ r0: 1, r1: 5, c0: 0, c1: 2 })).toEqual({ r0: 1, r1: 5, c0: 0, c1: 2 });
    expect(parseViewport({ r0: 5, r1: 1, c0: 0, c1: 2 })).toBeNull();
    expect(parseViewport({ r0: 0.5, r1: 1, c0: 0, c1: 2 })).toBeNull();
    expect(parseViewport("x")).toBeNull();
    expect(parseViewport(null)).toBeNull();
  });
});
