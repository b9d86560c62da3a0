import { describe, expect, it } from "vitest";
import {
  classFlags,
  factNotices,
  outsideMatrixAt,
  outsideText,
  seriesFacts,
  type SeriesFactsOf,
} from "../src/data/facts";
import { stepList } from "../src/lib/format";
import { synthCurves } from "./helpers";

/** Curves of classes a, b, c over steps 0..5 with what a writer counts apart. */
function curves() {
  const c = synthCurves(3, 6, ["a", "b", "c"]);
  c.nonfinite.set(2, 1, 2);
  c.nonfinite.set(3, 1, 1);
  c.nonfinite_outputs.set(4, 0, 3);
  c.nonfinite_outputs.set(4, 2, 1);
  c.nonfinite_outputs.set(5, 2, 1);
  c.invalid_targets[4] = 5;
  c.ignored = [7, 7, 7, 7, 7, 7];
  return c;
}

const of = (key: string, c = curves()): SeriesFactsOf => ({
  key,
  label: key,
  classNames: c.class_names,
  facts: seriesFacts(c),
});

describe("per-series facts", () => {
  it("counts per class and per step, with the steps that have any", () => {
    const f = seriesFacts(curves());
    expect(f.nonfiniteLoss).toEqual({ byClass: [0, 3, 0], total: 3, steps: [2, 3] });
    expect(f.nonfiniteOutputs).toEqual({ byClass: [3, 0, 2], total: 5, steps: [4, 5] });
    expect(f.invalidTargets).toEqual({ total: 5, steps: [4] });
    expect(f.ignored).toEqual({ total: 42, steps: [0, 1, 2, 3, 4, 5] });
    const clean = seriesFacts(synthCurves(3, 6));
    expect([
      clean.nonfiniteLoss.total,
      clean.nonfiniteOutputs.total,
      clean.invalidTargets.total,
      clean.ignored.total,
    ]).toEqual([0, 0, 0, 0]);
  });

  it("computes once per answer", () => {
    const c = curves();
    expect(seriesFacts(c)).toBe(seriesFacts(c));
  });

  it("writes one notice per fact and series, naming the series, the count, the steps and the meaning", () => {
    const notices = factNotices([
      of("exp · validation"),
      of("exp · train", synthCurves(3, 6, ["a", "b", "c"])),
    ]);
    expect(notices.map((n) => [n.role, n.kind, n.series])).toEqual([
      ["nonfinite-notice", "warn", "exp · validation"],
      ["nonfinite-outputs-notice", "warn", "exp · validation"],
      ["no-class-notice", "warn", "exp · validation"],
    ]);
    expect(notices[0].text).toBe(
      "⚠ exp · validation: 1 class has non-finite (NaN/Inf) per-sample losses (3 at steps 2, 3). They are kept out of the mean loss and marked ⚠ NaN in the class list.",
    );
    expect(notices[1].text).toContain(
      "5 samples had non-finite (NaN/Inf) outputs at steps 4, 5 (true classes a and c)",
    );
    expect(notices[1].text).toContain("not in the confusion matrix");
    expect(notices[2].text).toBe(
      "⚠ exp · validation: 5 elements with an invalid target (at step 4) and 42 elements skipped by ignore_index (at steps 0–5) were counted for no class: in no class's curves and not in the confusion matrix.",
    );
  });

  it("only notes ignore_index alone (the user asked for it)", () => {
    const c = synthCurves(2, 3, ["a", "b"]);
    c.ignored = [0, 4, 0];
    const [n] = factNotices([of("run", c)]);
    expect(n.kind).toBe("info");
    expect(n.text).toBe(
      "run: 4 elements skipped by ignore_index (at step 1) were counted for no class: in no class's curves and not in the confusion matrix.",
    );
  });

  it("flags classes over the series given, with each series' share", () => {
    const clean = synthCurves(3, 6, ["a", "b", "c"]);
    const flags = classFlags([of("val"), of("train", clean)]);
    expect([...flags.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(flags.get("b")).toEqual({
      loss: 3,
      outputs: 0,
      bySeries: [{ label: "val", loss: 3, outputs: 0 }],
    });
    expect(flags.get("a")!.outputs).toBe(3);
    // the clean series alone flags nothing
    expect(classFlags([of("train", clean)]).size).toBe(0);
  });

  it("says how many elements of a step are outside the matrix, and why", () => {
    const c = curves();
    expect(outsideMatrixAt(c, 4)).toEqual({
      nonfiniteOutputs: 4,
      invalidTargets: 5,
      ignored: 7,
      total: 16,
    });
    expect(outsideMatrixAt(c, 99)).toBeNull();
    expect(outsideMatrixAt(undefined, 4)).toBeNull();
    expect(outsideText(outsideMatrixAt(c, 4), 4, "matrix")).toBe(
      "16 elements of step 4 are not in this matrix: 4 with non-finite (NaN/Inf) outputs, 5 with an invalid target and 7 skipped by ignore_index.",
    );
    expect(outsideText(outsideMatrixAt(c, 0), 0, "report")).toBe(
      "7 elements of step 0 are not in this report (its counts come from the confusion matrix): 7 skipped by ignore_index.",
    );
    const one = synthCurves(1, 1);
    one.invalid_targets = [1];
    expect(outsideText(outsideMatrixAt(one, 0), 0, "matrix")).toBe(
      "1 element of step 0 is not in this matrix: 1 with an invalid target.",
    );
    expect(outsideText(outsideMatrixAt(synthCurves(2, 2), 1), 1, "matrix")).toBeNull();
  });
});

describe("step lists", () => {
  it("joins runs of consecutive steps and shortens long lists", () => {
    expect(stepList([])).toBe("no step");
    expect(stepList([7])).toBe("step 7");
    expect(stepList([3, 4])).toBe("steps 3, 4");
    expect(stepList([3, 4, 5, 9, 12])).toBe("steps 3–5, 9 and 12");
    expect(stepList([0, 2, 4, 6, 8, 10])).toBe("steps 0, 2, 4, 6, … (6 steps)");
  });
});
