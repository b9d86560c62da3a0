import { describe, expect, it } from "vitest";
import { fitLabelMargin, spreadApart } from "../src/curves/label-spread";

describe("spreadApart", () => {
  it("keeps positions that are already far enough apart", () => {
    expect(spreadApart([10, 50, 30], 12, 0, 100)).toEqual([10, 50, 30]);
  });

  it("pushes colliding labels apart, in input order", () => {
    const out = spreadApart([40, 41, 42], 12, 0, 100);
    const sorted = [...out].sort((a, b) => a - b);
    expect(sorted[1] - sorted[0]).toBeGreaterThanOrEqual(12);
    expect(sorted[2] - sorted[1]).toBeGreaterThanOrEqual(12);
    expect(out[0]).toBe(40); // the top one stays put
  });

  it("shifts the stack back inside the bottom edge", () => {
    const out = spreadApart([95, 96, 97], 10, 0, 100);
    expect(Math.max(...out)).toBeLessThanOrEqual(100);
    const sorted = [...out].sort((a, b) => a - b);
    expect(sorted[1] - sorted[0]).toBeGreaterThanOrEqual(10);
    expect(sorted[2] - sorted[1]).toBeGreaterThanOrEqual(10);
  });
});

describe("fitLabelMargin", () => {
  const measure = (t: string) => t.length * 6;

  it("is as wide as the longest label, and cuts labels longer than the room", () => {
    expect(fitLabelMargin(["mean · a", "mean · bb"], measure, 200, 10)).toEqual({
      width: 9 * 6 + 10,
      texts: ["mean · a", "mean · bb"],
    });
    const cut = fitLabelMargin(["mean · a_very_long_run_name/validation"], measure, 100, 10);
    expect(cut.width).toBeLessThanOrEqual(100);
    expect(cut.texts[0].endsWith("…")).toBe(true);
    expect(measure(cut.texts[0])).toBeLessThanOrEqual(90);
    expect(fitLabelMargin([], measure, 100, 10)).toEqual({ width: 0, texts: [] });
  });
});
