// @vitest-environment node
// What the Confusion view shows, without a DOM: the class order, the matrix, a difference or a
// message, the cells' colours and texts, the legend, the tooltip, the comparison's choices.
import { describe, expect, it } from "vitest";
import { ConfusionModel } from "../src/confusion/matrix";
import {
  cellTooltip,
  changeIsBetter,
  changeWords,
  matrixLegend,
  matrixOrder,
  matrixShows,
  matrixSpec,
  mistakesIn,
  worseness,
  zoomText,
  type DiffStatus,
} from "../src/confusion/matrix-display";
import {
  baseSeriesOf,
  baseStepOptions,
  defaultBaseStep,
  diffBases,
  diffLabels,
} from "../src/confusion/compare";
import { seriesLabel, type Series } from "../src/data/series";
import type { ConfusionData, DiffData } from "../src/data/types";
import { DARK_COLORS, LIGHT_COLORS } from "../src/ui/theme";

const NAMES = ["cat", "dog", "bird"];
// rows = true, columns = predicted
const COUNTS = [8, 2, 0, 1, 6, 3, 0, 0, 0];
const cm = (over: Partial<ConfusionData> = {}): ConfusionData => ({
  run: "exp/validation",
  name: "perclass",
  task: "multiclass",
  step: 7,
  steps: [0, 3, 7],
  class_names: NAMES,
  total: 20,
  counts: Float64Array.from(COUNTS),
  n: 3,
  labels: null,
  encoding: "dense",
  ...over,
});
const model = () => new ConfusionModel(Float64Array.from(COUNTS), 3);
const diff = (over: Partial<DiffData> = {}): DiffData => ({
  run: "exp/validation",
  step: 7,
  base_run: "exp/train",
  base_name: "perclass",
  base_step: 0,
  class_names: NAMES,
  n: 3,
  deltas: Float64Array.from([2, -1, 0, 0, 4, 0, 0, 0, 0]),
  changes: [],
  ...over,
});
const status = (over: Partial<DiffStatus> = {}): DiffStatus => ({
  answered: true,
  data: diff(),
  error: null,
  baseStepsError: null,
  ...over,
});

describe("the matrix's class order", () => {
  it("orders the shown classes and maps classes back to display positions", () => {
    const o = matrixOrder("name", NAMES, model(), [true, true, true], null);
    expect([...o.order]).toEqual([2, 0, 1]); // bird, cat, dog
    expect([...o.pos]).toEqual([1, 2, 0]);
    const hidden = matrixOrder("index", NAMES, model(), [true, false, true], null);
    expect([...hidden.order]).toEqual([0, 2]);
    expect([...hidden.pos]).toEqual([0, -1, 1]);
  });

  it("waits for the clustered order in index order, then takes it", () => {
    expect(matrixOrder("cluster", NAMES, model(), [true, true, true], null)).toMatchObject({
      clusterOk: false,
    });
    expect([...matrixOrder("cluster", NAMES, model(), [true, true, true], null).order]).toEqual([
      0, 1, 2,
    ]);
    const c = matrixOrder("cluster", NAMES, model(), [true, true, true], [1, 2, 0]);
    expect(c.clusterOk).toBe(true);
    expect([...c.order]).toEqual([1, 2, 0]);
  });

  it("the error order puts the worst recall first, classes without samples last", () => {
    expect([...matrixOrder("error", NAMES, model(), [true, true, true], null).order]).toEqual([
      1, 0, 2,
    ]);
  });
});

describe("what the matrix area shows", () => {
  it("the matrix, or a message, and where the gallery goes meanwhile", () => {
    expect(matrixShows(3, 3, false, status())).toEqual({ draw: true, diff: null });
    expect(matrixShows(0, 3, false, status())).toMatchObject({
      draw: false,
      side: "galleryOrNothing",
    });
    expect(matrixShows(3, 3, true, status())).toEqual({ draw: true, diff: diff() });
    expect(matrixShows(3, 3, true, status({ error: "no such step", data: null }))).toEqual({
      draw: false,
      message: "Cannot compare: no such step",
      side: "panel",
    });
    expect(matrixShows(3, 3, true, status({ answered: false, baseStepsError: "no run" }))).toEqual({
      draw: false,
      message: "Cannot compare: no run",
      side: "gallery",
    });
    expect(matrixShows(3, 3, true, status({ answered: false }))).toEqual({
      draw: false,
      message: "Computing the difference…",
      side: "gallery",
    });
    expect(matrixShows(3, 4, true, status())).toMatchObject({
      draw: false,
      message: "Cannot compare: the two matrices have different classes.",
    });
  });

  it("cells: counts or shares with their texts, a difference on a diverging scale", () => {
    const order = Int32Array.from([0, 1, 2]);
    const counts = matrixSpec(
      cm(),
      model(),
      null,
      order,
      { norm: "counts", log: false, errorsOnly: false },
      LIGHT_COLORS,
    );
    expect([counts.nRows, counts.nCols, counts.square, counts.source.pool]).toEqual([
      3,
      3,
      true,
      "max",
    ]);
    expect(counts.cellText!(0, 1)).toBe("2");
    expect(counts.cellText!(2, 2)).toBeNull(); // an empty cell stays blank
    expect([counts.rowTitle, counts.colTitle, counts.rowLabel(2)]).toEqual([
      "True class",
      "Predicted class",
      "bird",
    ]);
    expect(counts.scale.spec.max).toBe(8);
    const rows = matrixSpec(
      cm(),
      model(),
      null,
      order,
      { norm: "row", log: true, errorsOnly: true },
      LIGHT_COLORS,
    );
    expect(rows.cellText!(0, 0)).toBe("80%");
    expect(rows.source.maskDiagonal).toBe(true);
    expect(rows.scale.spec.max).toBeCloseTo(0.3); // the largest off-diagonal share
    const d = matrixSpec(
      cm(),
      model(),
      diff(),
      order,
      { norm: "counts", log: false, errorsOnly: false },
      DARK_COLORS,
    );
    expect(d.scale.spec.kind).toBe("diverging");
    expect([d.scale.spec.min, d.scale.spec.max]).toEqual([-4, 4]);
    expect(d.cellText!(0, 1)).toBe("−1");
    expect(d.cellText!(0, 2)).toBeNull(); // unchanged
    expect(d.scale.spec.stops).toBe(DARK_COLORS.blueRed);
    const reg = matrixSpec(
      cm({ task: "regression" }),
      model(),
      null,
      order,
      { norm: "counts", log: false, errorsOnly: false },
      LIGHT_COLORS,
    );
    expect([reg.rowTitle, reg.colTitle]).toEqual(["Target range", "Predicted range"]);
  });

  it("the legend says what the colours are", () => {
    const order = Int32Array.from([0, 1, 2]);
    const look = { norm: "col" as const, log: true, errorsOnly: true };
    const spec = matrixSpec(cm(), model(), null, order, look, LIGHT_COLORS);
    const l = matrixLegend(spec.scale, null, null, look);
    expect(l.title).toBe("Share of the predicted class (column) · log scale");
    expect(l.extras.map((e) => e.label)).toEqual(["no samples", "diagonal (correct)"]);
    const diffSpec = matrixSpec(
      cm(),
      model(),
      diff(),
      order,
      { ...look, norm: "counts" },
      LIGHT_COLORS,
    );
    const dl = matrixLegend(diffSpec.scale, diff(), diffLabels(diff(), "perclass"), {
      ...look,
      norm: "counts",
      errorsOnly: false,
    });
    expect(dl.title).toBe("Change: exp/validation @ 7 minus exp/train @ 0 · log scale");
    expect([dl.format(3), dl.format(-3), dl.format(0)]).toEqual(["3", "3", "0"]);
    expect(dl.extras.map((e) => e.label)).toEqual([
      "better (more correct, fewer mistakes)",
      "worse",
    ]);
    // blue for better, red for worse
    const [better, worse] = dl.extras.map((e) => e.rgb);
    expect(better[2]).toBeGreaterThan(better[0]);
    expect(worse[0]).toBeGreaterThan(worse[2]);
  });

  it("colours a diff by better or worse: more on the diagonal, fewer off it, is better", () => {
    // deltas: zero->zero +2 (more correct), zero->dog -1 (one mistake fewer), dog->dog +4
    const d = diff();
    expect([...worseness(d.deltas, 3)]).toEqual([-2, -1, 0, 0, -4, 0, 0, 0, 0]);
    const order = Int32Array.from([0, 1, 2]);
    const spec = matrixSpec(
      cm(),
      model(),
      d,
      order,
      { norm: "counts", log: false, errorsOnly: false },
      LIGHT_COLORS,
    );
    // both improvements take the "better" (blue, low) end; the cells still read the raw changes
    expect(spec.source.values[0]).toBeLessThan(0);
    expect(spec.source.values[1]).toBeLessThan(0);
    expect(spec.cellText!(0, 0)).toBe("+2");
    expect(spec.cellText!(0, 1)).toBe("−1");
    expect([changeIsBetter(0, 0, 2), changeIsBetter(0, 1, -1), changeIsBetter(0, 1, 1)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(changeWords(0, 1, -1)).toBe("1 fewer mistake: better");
    expect(changeWords(1, 1, -3)).toBe("3 fewer correct: worse");
  });

  it("the tooltip of a cell, with the change since the base", () => {
    const lines = cellTooltip(model(), NAMES, 1, 2, null, "");
    expect(lines.map((l) => [l.key, l.value])).toEqual([
      ["True", "dog"],
      ["Predicted", "bird"],
      ["Count", "3"],
      ["Of row", "30.0% of 10 true"],
      ["Of column", "100.0% of 3 predicted"],
    ]);
    expect(cellTooltip(model(), NAMES, 0, 0, null, "")[2].value).toBe("8 (correct)");
    const changed = cellTooltip(model(), NAMES, 1, 1, diff(), "exp/train");
    expect(changed[5]).toEqual({
      key: "Change",
      value: "2 → 6 (+4, better) since exp/train @ 0",
      role: "tooltip-delta",
    });
  });

  it("the zoom readout and the mistakes in a gallery's scope", () => {
    expect(zoomText({ r0: 0, r1: 3, c0: 0, c1: 3 }, 3)).toEqual({ full: true, text: "3 × 3" });
    expect(zoomText({ r0: 1, r1: 3, c0: 0, c1: 2 }, 3)).toEqual({
      full: false,
      text: "rows 2–3, columns 1–2 of 3",
    });
    expect(mistakesIn(cm(), model(), { kind: "overall" })).toBe(6);
    expect(mistakesIn(cm(), model(), { kind: "class", true: 1 })).toBe(4);
    expect(mistakesIn(cm(), model(), { kind: "cell", true: 0, pred: 1 })).toBe(2);
    expect(mistakesIn(cm(), model(), { kind: "cell", true: 0, pred: 0 })).toBe(0);
    const ml = cm({
      task: "multilabel",
      counts: new Float64Array(0),
      labels: Float64Array.from([5, 1, 2, 3, 4, 0, 6, 1]),
      n: 2,
    });
    expect(mistakesIn(ml, null, { kind: "label", label: 0, error: "fp" })).toBe(1);
    expect(mistakesIn(ml, null, { kind: "label", label: 1, error: "all" })).toBe(6);
    expect(mistakesIn(ml, null, { kind: "overall" })).toBe(9);
  });
});

describe("comparing with another step or run", () => {
  const info = (kinds: string[]) => ({
    kinds,
    task: "multiclass",
    class_names: NAMES,
    num_classes: 3,
    loss: "",
  });
  const s = (run: string, name: string, kinds = ["stats", "confusion"]): Series => ({
    key: name === "perclass" ? run : `${run}\u0000${name}`,
    run,
    name,
    info: info(kinds),
  });
  const group = [
    s("exp/train", "perclass"),
    s("exp/validation", "perclass"),
    s("exp/kept", "perclass", ["samples"]),
    s("exp", "head_b"),
  ];

  it("offers every series of the class set with matrices, whatever its name", () => {
    expect(diffBases(group).map((x) => seriesLabel(x))).toEqual([
      "exp/train",
      "exp/validation",
      "exp · head_b",
    ]);
    const bases = diffBases(group);
    const shown = { run: "exp/validation", name: "perclass" };
    expect(baseSeriesOf(bases, "exp\u0000head_b", shown)).toEqual({ run: "exp", name: "head_b" });
    expect(baseSeriesOf(bases, "exp/train", shown)).toEqual({ run: "exp/train", name: "perclass" });
    expect(baseSeriesOf(bases, null, shown)).toEqual(shown);
    expect(baseSeriesOf(bases, "gone", shown)).toEqual(shown);
    // the labels take the base's name from the answer
    expect(
      diffLabels({ run: "exp/validation", base_run: "exp", base_name: "head_b" }, "perclass"),
    ).toEqual(["exp/validation", "exp · head_b"]);
  });

  it("the base steps: the first by default, a picked step the run does not have is kept and marked", () => {
    expect(baseStepOptions([0, 3, 7], null).map((o) => [o.label, o.selected])).toEqual([
      ["0", true],
      ["3", false],
      ["7", false],
    ]);
    expect(baseStepOptions([0, 3], 5).map((o) => [o.label, o.selected])).toEqual([
      ["0", false],
      ["3", false],
      ["5 (not in run)", true],
    ]);
    expect(baseStepOptions([], null)).toEqual([]);
  });

  it("compares with another run at the same step (else its latest), with its own run since the start", () => {
    // the final model against the other run's first step would read as a huge improvement
    expect(defaultBaseStep([0, 1, 2, 14], 14, false)).toBe(14);
    expect(defaultBaseStep([0, 5, 10], 14, false)).toBe(10);
    expect(defaultBaseStep([0, 5, 10], 14, true)).toBe(0);
    expect(defaultBaseStep([], 3, false)).toBeUndefined();
    expect(
      baseStepOptions([0, 7, 14], null, defaultBaseStep([0, 7, 14], 14, false)).find(
        (o) => o.selected,
      )!.step,
    ).toBe(14);
  });
});
