import { describe, expect, it } from "vitest";
import {
  BLUE_RED,
  BLUES,
  buildLut,
  ColorScale,
  hexToRgb,
  logTicks,
  niceTicks,
} from "../src/ui/color-scale";

describe("colour scales", () => {
  it("LUT ends at the first and last stops", () => {
    const lut = buildLut(BLUES);
    expect([...lut.slice(0, 3)]).toEqual(hexToRgb(BLUES[0]));
    expect([...lut.slice(255 * 4, 255 * 4 + 3)]).toEqual(hexToRgb(BLUES[BLUES.length - 1]));
    expect(lut.length).toBe(1024);
  });

  it("linear sequential: 0 -> 0, max -> 255, clamped, NaN -> -1", () => {
    const s = new ColorScale({
      kind: "sequential",
      min: 0,
      max: 10,
      log: false,
      eps: 1,
      stops: BLUES,
    });
    expect(s.index(0)).toBe(0);
    expect(s.index(10)).toBe(255);
    expect(s.index(5)).toBe(128);
    expect(s.index(50)).toBe(255);
    expect(s.index(-1)).toBe(0);
    expect(s.index(NaN)).toBe(-1);
  });

  it("symlog keeps small counts visible next to a large diagonal", () => {
    const lin = new ColorScale({
      kind: "sequential",
      min: 0,
      max: 1000,
      log: false,
      eps: 1,
      stops: BLUES,
    });
    const log = new ColorScale({
      kind: "sequential",
      min: 0,
      max: 1000,
      log: true,
      eps: 1,
      stops: BLUES,
    });
    expect(lin.t(1)).toBeCloseTo(0.001, 6);
    expect(log.t(1)).toBeCloseTo(Math.log(2) / Math.log(1001), 9);
    expect(log.t(1)).toBeGreaterThan(0.09);
    expect(log.t(0)).toBe(0);
    expect(log.t(1000)).toBeCloseTo(1, 12);
  });

  it("diverging: 0 in the middle, symmetric", () => {
    const d = new ColorScale({
      kind: "diverging",
      min: -4,
      max: 4,
      log: false,
      eps: 1,
      stops: BLUE_RED,
    });
    expect(d.t(0)).toBe(0.5);
    expect(d.t(4)).toBe(1);
    expect(d.t(-4)).toBe(0);
    expect(d.t(-2) + d.t(2)).toBeCloseTo(1, 12);
    expect(d.t(100)).toBe(1);
    // zero is (within a LUT step of) the white middle stop
    d.rgb(0).forEach((ch) => expect(Math.abs(ch - 247)).toBeLessThanOrEqual(1));
  });

  it("ticks: round values in range; symlog ticks are powers of ten", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(niceTicks(0, 59, 5)).toEqual([0, 20, 40]);
    expect(logTicks(5000, 1, 5)).toEqual([0, 1, 10, 100, 1000]);
    expect(logTicks(0.9, 1e-3, 5)).toEqual([0, 0.001, 0.01, 0.1]);
    const d = new ColorScale({
      kind: "diverging",
      min: -50,
      max: 50,
      log: true,
      eps: 1,
      stops: BLUE_RED,
    });
    expect(d.ticks().map((t) => t.value)).toEqual([-10, -1, 0, 1, 10]);
  });

  it("text colour contrasts with the cell", () => {
    const s = new ColorScale({
      kind: "sequential",
      min: 0,
      max: 1,
      log: false,
      eps: 1,
      stops: BLUES,
    });
    expect(s.textColor(0)).toMatch(/rgba\(0, 0, 0/);
    expect(s.textColor(1)).toBe("#fff");
  });
});
