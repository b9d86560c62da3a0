import { Grid } from "../src/data/grid";
import { describe, expect, it } from "vitest";
import {
  BULK_LINES,
  buildChartModel,
  bulkLines,
  rowMean,
  timeUnit,
  type ShapeInput,
} from "../src/curves/chart-model";
import { LineIndex, nearestLine } from "../src/curves/nearest-line";
import { metricById } from "../src/data/metrics";
import { assignDashes, classColors } from "../src/ui/colors";
import { splitOf } from "../src/data/series";
import { seriesCurves, synthCurves, trainCurves, validationCurves } from "./helpers";

function input(over: Partial<ShapeInput> = {}): ShapeInput {
  const runs = over.runs ?? [
    seriesCurves("exp/train", synthCurves(3, 4)),
    seriesCurves("exp/validation", synthCurves(3, 2, undefined, 1)),
  ];
  const names = runs[0].curves.class_names;
  return {
    runs,
    classNames: names,
    selected: names.map(() => true),
    metric: metricById("loss"),
    smoothing: 0,
    xAxis: "step",
    logScale: false,
    highlighted: [],
    colorBy: "class",
    classColors: classColors(names.length, over.highlighted ?? []),
    seriesColors: new Map(runs.map((r, i) => [r.key, ["#111111", "#222222"][i] ?? "#333333"])),
    seriesDashes: assignDashes(
      runs.map((r) => r.key),
      splitOf,
    ),
    showMean: true,
    ...over,
  };
}

describe("buildChartModel", () => {
  it("aligns runs with different steps on one x array", () => {
    const m = buildChartModel(input());
    expect(m.xs).toEqual([0, 1, 2, 3]);
    const val = m.lines.find((l) => l.run === "exp/validation" && l.label === "class_1")!;
    // validation has steps 1, 2: its own step index s gives loss (c+1)/(s+1)
    expect(val.values.toArray()).toEqual([null, 2, 1, null]);
    expect(m.runs[1].stepAt).toEqual([null, 1, 2, null]);
  });

  it("marks the points of a line of one point (a single-step run), which draws no path", () => {
    const m = buildChartModel(
      input({
        runs: [
          seriesCurves("exp/train", synthCurves(3, 4)),
          seriesCurves("single", synthCurves(3, 1)),
        ],
      }),
    );
    const single = m.lines.filter((l) => l.run === "single");
    expect(single.length).toBe(4); // three classes and the mean
    expect(single.every((l) => l.markers)).toBe(true);
    expect(m.lines.filter((l) => l.run === "exp/train").some((l) => l.markers)).toBe(false);
  });

  it("has one line per run and selected class plus a mean per run", () => {
    const inp = input();
    inp.selected = [true, false, true];
    const m = buildChartModel(inp);
    expect(m.lines.filter((l) => l.kind === "class").length).toBe(4);
    expect(m.lines.filter((l) => l.kind === "class").some((l) => l.label === "class_1")).toBe(
      false,
    );
    const means = m.lines.filter((l) => l.kind === "mean");
    expect(means.map((l) => l.run)).toEqual(["exp/train", "exp/validation"]);
    // mean over ALL classes (a stable reference), not only the shown ones
    expect(means[0].values.at(0)).toBeCloseTo((1 + 2 + 3) / 3, 12);
    // mean lines are drawn last (on top)
    expect(m.lines[m.lines.length - 1].kind).toBe("mean");
  });

  it("train is solid and validation dashed", () => {
    const m = buildChartModel(input());
    expect(m.lines.find((l) => l.run === "exp/train")!.dash).toEqual([]);
    expect(m.lines.find((l) => l.run === "exp/validation")!.dash.length).toBeGreaterThan(0);
  });

  it("greys out all but the highlighted classes, worst drawn last", () => {
    const m = buildChartModel(input({ highlighted: [2, 0] }));
    const cls = m.lines.filter((l) => l.kind === "class");
    expect(cls.filter((l) => l.grey).every((l) => l.classIndex === 1)).toBe(true);
    expect(
      cls
        .filter((l) => l.highlighted)
        .map((l) => l.classIndex)
        .sort(),
    ).toEqual([0, 0, 2, 2]);
    const lastClass = cls[cls.length - 1];
    expect(lastClass.classIndex).toBe(2);
    const grey = cls.find((l) => l.grey)!;
    expect(grey.color).toMatch(/^rgba\(0, 0, 0/);
    expect(grey.baseColor).not.toBe(grey.color);
    expect(cls.indexOf(grey)).toBeLessThan(cls.findIndex((l) => l.highlighted));
  });

  it("colours by run when asked", () => {
    const m = buildChartModel(input({ colorBy: "run" }));
    expect(m.lines.find((l) => l.run === "exp/train" && l.kind === "class")!.color).toBe("#111111");
  });

  it("drops non-positive values on a log scale and keeps nulls as gaps", () => {
    const c = synthCurves(2, 3);
    c.loss.set(1, 0, 0);
    c.loss.set(2, 1, null);
    const m = buildChartModel(input({ runs: [seriesCurves("r", c)], logScale: true }));
    const l0 = m.lines.find((l) => l.label === "class_0")!;
    const l1 = m.lines.find((l) => l.label === "class_1")!;
    expect(l0.values.at(1)).toBeNull();
    expect(l1.values.at(2)).toBeNull();
  });

  it("smooths each line and keeps the raw values", () => {
    const m = buildChartModel(
      input({ smoothing: 0.9, runs: [seriesCurves("r", synthCurves(1, 5))] }),
    );
    const l = m.lines.find((x) => x.kind === "class")!;
    expect(l.raw.toArray()).toEqual([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]);
    expect(l.values.at(0)).toBeCloseTo(1, 12);
    expect(l.values.at(4)! > l.raw.at(4)!).toBe(true);
  });

  it("uses relative wall time in a readable unit", () => {
    const m = buildChartModel(
      input({ xAxis: "relative", runs: [seriesCurves("r", synthCurves(1, 4))] }),
    );
    // wall times 60 s apart: 3 minutes in total -> minutes
    expect(m.xLabel).toMatch(/minutes/);
    expect(m.xs).toEqual([0, 1, 2, 3]);
    expect(timeUnit(10).seconds).toBe(1);
    expect(timeUnit(3 * 3600).seconds).toBe(3600);
  });

  it("reads accuracy from the accuracy matrix", () => {
    const m = buildChartModel(
      input({ metric: metricById("accuracy"), runs: [seriesCurves("r", synthCurves(1, 2))] }),
    );
    expect(m.lines[0].raw.toArray()).toEqual([0.5, 1]);
  });

  it("works on the real backend's answers", () => {
    const runs = [
      seriesCurves("train", trainCurves()),
      seriesCurves("validation", validationCurves()),
    ];
    const m = buildChartModel(input({ runs }));
    expect(m.xs.length).toBe(8);
    expect(m.lines.filter((l) => l.kind === "class").length).toBe(8);
    const bird = m.lines.find((l) => l.label === "bird" && l.run === "train")!;
    expect(bird.nonfiniteTotal).toBeGreaterThan(0);
    expect(bird.raw.at(3)).toBeNull(); // no finite sample at that step
  });

  it("rowMean ignores missing values", () => {
    expect(rowMean(Grid.fromRows([[1, null, 3]], 3), 0)).toBe(2);
    expect(rowMean(Grid.fromRows([[null]], 1), 0)).toBeNull();
  });

  it("keeps every value of every line at 1000 classes: what a hover reads is the grid's value", () => {
    const c = synthCurves(1000, 300);
    c.loss.set(137, 421, 7.25); // a spike at one step of one class
    const run = seriesCurves("r", c);
    const m = buildChartModel(input({ runs: [run], highlighted: [3, 1, 4] }));
    const lines = m.lines.filter((l) => l.kind === "class");
    expect(lines.length).toBe(1000);
    for (const l of lines) {
      expect(l.values.length).toBe(300);
      for (let s = 0; s < 300; s += 7) expect(l.values.at(s)).toBe(c.loss.at(s, l.classIndex));
    }
    const spiky = lines.find((l) => l.classIndex === 421)!;
    expect(spiky.values.at(137)).toBe(7.25);
    // hovering at the spike finds that line and that step, with the exact value
    const index = new LineIndex(
      m.xs,
      m.lines.map((l) => l.values),
    );
    const id = { x: (v: number) => v, y: (v: number) => v };
    const hit = nearestLine(index, 137, 137, 7.25, id, 0.01)!;
    expect(m.lines[hit.line]).toBe(spiky);
    expect(m.lines[hit.line].values.at(hit.index)).toBe(7.25);
  });

  it("draws the class lines outside the highlight as pixels only when there are many", () => {
    const many = buildChartModel(
      input({ runs: [seriesCurves("r", synthCurves(BULK_LINES + 10, 5))], highlighted: [2, 0] }),
    );
    const bulk = bulkLines(many.lines);
    many.lines.forEach((l, i) => expect(bulk[i]).toBe(l.kind === "class" && !l.highlighted));
    expect(bulk.filter(Boolean).length).toBe(BULK_LINES + 8);
    const few = buildChartModel(
      input({ runs: [seriesCurves("r", synthCurves(BULK_LINES, 5))], highlighted: [2] }),
    );
    expect(bulkLines(few.lines).some(Boolean)).toBe(false);
    // a line of one point is a marker, never pixels
    const single = buildChartModel(
      input({ runs: [seriesCurves("r", synthCurves(BULK_LINES + 10, 1))] }),
    );
    expect(bulkLines(single.lines).some(Boolean)).toBe(false);
  });
});
