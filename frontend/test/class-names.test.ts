import { describe, expect, it } from "vitest";
import { unionClassNames, uniqueClassNames } from "../src/data/class-names";
import { metricById } from "../src/data/metrics";
import { formatNumber } from "../src/lib/format";

describe("runs", () => {
  it("unions class names in order and disambiguates repeats", () => {
    expect(
      unionClassNames([
        ["a", "b"],
        ["b", "c"],
      ]),
    ).toEqual(["a", "b", "c"]);
    expect(uniqueClassNames(["x", "y", "x"])).toEqual(["x #0", "y", "x #2"]);
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
