import { describe, expect, it } from "vitest";
import {
  assignDashes,
  classColor,
  classColors,
  CLASS_COLORS_10,
  DASHES,
  withAlpha,
} from "../src/ui/colors";
import { splitOf } from "../src/data/series";

describe("colours and dashes", () => {
  it("recognises Keras-style split names", () => {
    expect(splitOf("exp1/train")).toBe("train");
    expect(splitOf("exp1/validation")).toBe("validation");
    expect(splitOf("val")).toBe("validation");
    expect(splitOf("exp1/test")).toBe("test");
    expect(splitOf("exp1/other")).toBeNull();
  });

  it("gives train solid and validation dashed, and distinct patterns on clashes", () => {
    const d = assignDashes(["a/train", "a/validation", "b/train", "b/validation"], splitOf);
    expect(d.get("a/train")).toBe(0);
    expect(d.get("a/validation")).toBe(1);
    expect(new Set(d.values()).size).toBe(4);
  });

  it("never repeats a pattern among 16 series overlaid, and every pattern differs", () => {
    const runs: string[] = [];
    for (let e = 0; e < 7; e++) runs.push(`exp${e}/train`, `exp${e}/validation`);
    runs.push("single", "other/test");
    const d = assignDashes(runs, splitOf);
    expect(new Set(d.values()).size).toBe(16);
    expect(new Set(DASHES.map((x) => JSON.stringify(x.dash))).size).toBe(DASHES.length);
    expect(new Set(DASHES.map((x) => x.label)).size).toBe(DASHES.length);
  });

  it("uses a categorical palette up to 10 classes, and for the worst ones past that", () => {
    expect(classColor(3, 10)).toBe(CLASS_COLORS_10[3]);
    expect(classColor(3, 100)).toMatch(/^hsl/);
    const cs = classColors(100, [42, 7]);
    expect(cs[42]).toBe(CLASS_COLORS_10[0]);
    expect(cs[7]).toBe(CLASS_COLORS_10[1]);
    expect(new Set(classColors(100, [])).size).toBeGreaterThan(90);
  });

  it("adds alpha", () => {
    expect(withAlpha("#ff0000", 0.5)).toBe("rgba(255, 0, 0, 0.5)");
    expect(withAlpha("hsl(10, 50%, 40%)", 0.5)).toBe("hsla(10, 50%, 40%, 0.5)");
  });
});
