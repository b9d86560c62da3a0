import { Grid } from "../src/data/grid";
import { describe, expect, it } from "vitest";
import {
  classHeat,
  defaultDesc,
  gapOf,
  heatOrder,
  summarize,
} from "../src/class-heatmap/class-heat";
import { sortIndices } from "../src/lib/sorting";

describe("class-by-step heatmap data", () => {
  // 3 steps x 2 classes
  const matrix = [
    [0.5, 0.9],
    [null, 0.8],
    [0.7, 0.4],
  ];

  it("transposes [steps][classes] into classes x steps, NaN for missing", () => {
    const h = classHeat(Grid.fromRows(matrix, 2), 2);
    expect(h.classes).toBe(2);
    expect(h.steps).toBe(3);
    expect(
      [...h.values.slice(0, 3)].map((v) => (Number.isNaN(v) ? null : Number(v.toFixed(3)))),
    ).toEqual([0.5, null, 0.7]);
    expect(Number(h.values[5].toFixed(3))).toBe(0.4);
    expect(h.min).toBeCloseTo(0.4, 6);
    expect(h.max).toBeCloseTo(0.9, 6);
    expect(h.missing).toBe(1);
  });

  it("summaries: first, final, trend and least-squares slope over the steps", () => {
    const h = classHeat(Grid.fromRows(matrix, 2), 2);
    const a = summarize(h.values, 0, [0, 10, 20]);
    expect(a.first).toBeCloseTo(0.5, 6);
    expect(a.final).toBeCloseTo(0.7, 6);
    expect(a.trend).toBeCloseTo(0.2, 6);
    expect(a.slope).toBeCloseTo(0.01, 6); // two points: (0, .5), (20, .7)
    const b = summarize(h.values, 1, [0, 10, 20]);
    expect(b.slope).toBeCloseTo(-0.025, 6);
    const empty = summarize(new Float32Array([NaN, NaN]), 0, [0, 1]);
    expect(empty).toEqual({ first: null, final: null, trend: null, slope: null });
  });

  it("gap: how much worse held-out data does (positive = overfitting)", () => {
    expect(gapOf(0.9, 0.6, true)).toBeCloseTo(0.3, 12);
    expect(gapOf(0.2, 0.5, false)).toBeCloseTo(0.3, 12);
    expect(gapOf(null, 0.5, true)).toBeNull();
  });

  it("orders rows worst first by default, missing values last", () => {
    const stats = [
      { first: 0.9, final: 0.9, trend: 0, slope: 0 },
      { first: 0.5, final: 0.2, trend: -0.3, slope: -0.1 },
      { first: null, final: null, trend: null, slope: null },
      { first: 0.1, final: 0.6, trend: 0.5, slope: 0.2 },
    ];
    const cls = [0, 1, 2, 3];
    const names = ["d", "c", "b", "a"];
    // recall: lowest final first
    expect(
      heatOrder(
        "final",
        defaultDesc("final", true),
        cls,
        names,
        (c) => stats[c],
        () => null,
      ),
    ).toEqual([1, 3, 0, 2]);
    // loss: highest final first
    expect(
      heatOrder(
        "final",
        defaultDesc("final", false),
        cls,
        names,
        (c) => stats[c],
        () => null,
      ),
    ).toEqual([0, 3, 1, 2]);
    expect(
      heatOrder(
        "trend",
        defaultDesc("trend", true),
        cls,
        names,
        (c) => stats[c],
        () => null,
      ),
    ).toEqual([1, 0, 3, 2]);
    expect(
      heatOrder(
        "name",
        false,
        cls,
        names,
        (c) => stats[c],
        () => null,
      ),
    ).toEqual([3, 2, 1, 0]);
    expect(
      heatOrder(
        "gap",
        true,
        cls,
        names,
        (c) => stats[c],
        (c) => [0.1, null, 0.3, -0.2][c],
      ),
    ).toEqual([2, 0, 3, 1]);
    expect(
      heatOrder(
        "index",
        false,
        [3, 1],
        names,
        (c) => stats[c],
        () => null,
      ),
    ).toEqual([1, 3]);
  });
});

describe("sorting", () => {
  it("numbers and text, both directions, missing always last, stable", () => {
    const v = [3, null, 1, NaN, 3, 2];
    expect(sortIndices(6, (i) => v[i], false)).toEqual([2, 5, 0, 4, 1, 3]);
    expect(sortIndices(6, (i) => v[i], true)).toEqual([0, 4, 5, 2, 1, 3]);
    const t = ["b10", "b2", "A"];
    expect(sortIndices(3, (i) => t[i], false)).toEqual([2, 1, 0]);
  });
});
