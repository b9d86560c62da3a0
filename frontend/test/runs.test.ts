import { describe, expect, it } from "vitest";
import { allNames, allRuns, chooseName, chooseRankRun, runsWithName, unionClassNames, uniqueClassNames } from "../src/runs";
import { formatNumber, metricById } from "../src/metrics";
import { shortRun } from "../src/views/curves";
import type { TagsResponse } from "../src/types";

const info = { kinds: ["stats"], task: "multiclass", class_names: ["a", "b"], num_classes: 2, loss: "" };
const tags: TagsResponse = {
  "exp10/train": { perclass: info },
  "exp2/validation": { perclass: info, head2: info },
  "exp2/train": { perclass: info },
  other: { head2: info },
};

describe("runs and names", () => {
  it("orders runs naturally", () => {
    expect(allRuns(tags)).toEqual(["exp2/train", "exp2/validation", "exp10/train", "other"]);
  });
  it("lists names with perclass first and picks a valid one", () => {
    expect(allNames(tags)).toEqual(["perclass", "head2"]);
    expect(chooseName(tags, "head2")).toBe("head2");
    expect(chooseName(tags, "gone")).toBe("perclass");
    expect(chooseName({}, null)).toBeNull();
    expect(runsWithName(tags, "head2")).toEqual(["exp2/validation", "other"]);
  });
  it("ranks by a validation run unless told otherwise", () => {
    expect(chooseRankRun(["exp2/train", "exp2/validation"], null)).toBe("exp2/validation");
    expect(chooseRankRun(["exp2/train", "exp2/validation"], "exp2/train")).toBe("exp2/train");
    expect(chooseRankRun(["a", "b"], "gone")).toBe("a");
    expect(chooseRankRun([], null)).toBeNull();
  });
  it("unions class names in order and disambiguates repeats", () => {
    expect(unionClassNames([["a", "b"], ["b", "c"]])).toEqual(["a", "b", "c"]);
    expect(uniqueClassNames(["x", "y", "x"])).toEqual(["x #0", "y", "x #2"]);
  });
  it("shortens run names to the part that differs", () => {
    expect(shortRun("exp1/train", ["exp1/train", "exp1/validation"])).toBe("train");
    expect(shortRun("a/train", ["a/train", "b/train"])).toBe("a/train");
  });
});

describe("number formatting", () => {
  it("keeps four significant digits and switches to exponents at the extremes", () => {
    expect(formatNumber(0.123456)).toBe("0.1235");
    expect(formatNumber(2)).toBe("2");
    expect(formatNumber(1234567)).toBe("1.235e+6");
    expect(formatNumber(0.00001234)).toBe("1.234e-5");
    expect(metricById("accuracy").format(0.4567)).toBe("45.7%");
    expect(metricById("nope").id).toBe("loss");
  });
});
