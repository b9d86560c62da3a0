import { describe, expect, it } from "vitest";
import {
  isSelected,
  matchesFilter,
  normalize,
  selectAll,
  selectNone,
  selectOnly,
  setSelected,
} from "../src/state/selection";

const all = ["a", "b", "c", "d"];

describe("class selection", () => {
  it("all / none / only", () => {
    expect(all.filter((n) => isSelected(selectAll(), n))).toEqual(all);
    expect(all.filter((n) => isSelected(selectNone(), n))).toEqual([]);
    expect(all.filter((n) => isSelected(selectOnly(["b", "d"]), n))).toEqual(["b", "d"]);
  });

  it("stores the shorter list", () => {
    expect(setSelected(selectAll(), "b", false, all)).toEqual({ mode: "exclude", names: ["b"] });
    expect(setSelected(selectNone(), "c", true, all)).toEqual({ mode: "include", names: ["c"] });
    expect(normalize(selectOnly(["a", "b", "c"]), all)).toEqual({ mode: "exclude", names: ["d"] });
  });

  it("new classes appear when the selection excludes", () => {
    const sel = setSelected(selectAll(), "a", false, all);
    expect(isSelected(sel, "e")).toBe(true);
  });

  it("filters by case-insensitive substring", () => {
    expect(matchesFilter("Tabby Cat", "cat")).toBe(true);
    expect(matchesFilter("dog", "cat")).toBe(false);
    expect(matchesFilter("dog", "  ")).toBe(true);
  });
});
