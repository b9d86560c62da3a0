import { describe, expect, it } from "vitest";
import { LineIndex, nearestLine } from "../src/curves/nearest-line";
import { LineValues } from "../src/curves/line-values";

const id = { x: (v: number) => v, y: (v: number) => v };

describe("nearestLine", () => {
  const xs = [0, 10, 20, 30];
  const lines = [
    [0, 0, 0, 0],
    [100, 100, 100, 100],
    [null, 50, null, 50], // gaps: drawn straight from x=10 to x=30
  ];
  const index = new LineIndex(
    xs,
    lines.map((l) => LineValues.from(l)),
  );

  it("picks the line closest in y at the cursor's x", () => {
    expect(nearestLine(index, 12, 12, 5, id)!.line).toBe(0);
    expect(nearestLine(index, 12, 12, 95, id)!.line).toBe(1);
  });

  it("interpolates across gaps", () => {
    const hit = nearestLine(index, 20, 20, 52, id)!;
    expect(hit.line).toBe(2);
    expect(hit.distance).toBeCloseTo(2, 12);
  });

  it("reports the data point nearest in x", () => {
    expect(nearestLine(index, 14, 14, 1, id)!.index).toBe(1);
    expect(nearestLine(index, 16, 16, 1, id)!.index).toBe(2);
    // line 2 has no point at x=20: its nearest real point is used
    expect(nearestLine(index, 24, 24, 50, id)!.index).toBe(3);
  });

  it("uses the end point outside a line's x range", () => {
    const hit = nearestLine(index, 3, 3, 50, id, 100, (l) => l === 2)!;
    expect(hit.index).toBe(1);
    expect(hit.distance).toBeCloseTo(7, 12);
  });

  it("returns null when nothing is near enough", () => {
    expect(nearestLine(index, 12, 12, 25, id, 10)).toBeNull();
    expect(nearestLine(new LineIndex([], []), 0, 0, 0, id)).toBeNull();
  });

  it("prefers the line drawn last on a tie", () => {
    const i2 = new LineIndex(
      [0, 1],
      [
        [5, 5],
        [5, 5],
      ].map((l) => LineValues.from(l)),
    );
    expect(nearestLine(i2, 0.5, 0.5, 5, id)!.line).toBe(1);
  });
});
