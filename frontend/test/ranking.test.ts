import { Grid } from "../src/data/grid";
import { describe, expect, it } from "vitest";
import { latestValues, worstN } from "../src/curves/ranking";

describe("latestValues", () => {
  it("takes each class's latest finite value", () => {
    const m = [
      [1, 2, 3],
      [4, null, 6],
      [7, null, null],
    ];
    expect(latestValues(Grid.fromRows(m, 3), 3)).toEqual([7, 2, 6]);
  });
  it("gives null for a class that never had a value", () => {
    expect(latestValues(Grid.fromRows([[null, 1]], 2), 2)).toEqual([null, 1]);
    expect(latestValues(Grid.fromRows([], 2), 2)).toEqual([null, null]);
  });
});

describe("worstN", () => {
  const loss = [0.5, 2.0, null, 1.0, 2.0];
  it("ranks highest loss first, ties by class index", () => {
    expect(worstN(loss, 3, false)).toEqual([1, 4, 3]);
  });
  it("ranks lowest accuracy first", () => {
    expect(worstN([0.9, 0.1, 0.5], 2, true)).toEqual([1, 2]);
  });
  it("skips missing values and ineligible classes", () => {
    expect(worstN(loss, 10, false)).toEqual([1, 4, 3, 0]);
    expect(worstN(loss, 2, false, (i) => i !== 1)).toEqual([4, 3]);
  });
  it("returns nothing for n <= 0", () => {
    expect(worstN(loss, 0, false)).toEqual([]);
  });
});
