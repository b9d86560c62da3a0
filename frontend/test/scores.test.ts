// @vitest-environment node
// The Scores view's pure parts: curves from a sweep, counts at a threshold, reliability, which
// classes are drawn, the table's order; the scores answer's validation (real answers captured
// by fixtures/capture_scores.py).
import { describe, expect, it } from "vitest";
import { parseCurves, parseReport, parseScores } from "../src/data/answers";
import { metricById } from "../src/data/metrics";
import type { ScoreClass } from "../src/data/types";
import {
  bestF1,
  countsAt,
  expectedError,
  pointAt,
  prPoints,
  reliabilityBars,
  rocPoints,
  thresholdCurves,
} from "../src/scores/score-curves";
import {
  focusClass,
  nextScoreSort,
  shownClasses,
  tableRows,
  togglePick,
} from "../src/scores/scores-model";
import { fixture } from "./helpers";

/** 3 positives and 4 negatives at thresholds 0.9, 0.6, 0.3, 0.1 (highest first). */
function sweep(): ScoreClass {
  return {
    class: 0,
    positives: 3,
    negatives: 4,
    thresholds: [null, 0.9, 0.6, 0.3, 0.1],
    tp: [0, 2, 2, 3, 3],
    fp: [0, 0, 1, 3, 4],
    exact_thresholds: true,
    reliability: {
      count: [1, 0, 2, 4],
      accuracy: [0, null, 0.5, 0.5],
      confidence: [0.1, null, 0.6, 0.9],
    },
  };
}

describe("curves from a sweep", () => {
  it("ROC goes from (0, 0) to (1, 1) through each threshold's rates", () => {
    expect(rocPoints(sweep()).map((p) => [p.x, p.y])).toEqual([
      [0, 0],
      [0, 2 / 3],
      [0.25, 2 / 3],
      [0.75, 1],
      [1, 1],
    ]);
  });

  it("PR is the step curve whose area is the average precision", () => {
    const points = prPoints(sweep());
    // AP = sum of (recall increase) x precision over the thresholds
    let area = 0;
    for (let i = 1; i < points.length; i++) area += (points[i].x - points[i - 1].x) * points[i].y;
    const ap = (2 / 3) * 1 + 0 * (2 / 3) + (1 / 3) * (3 / 6) + 0;
    expect(area).toBeCloseTo(ap, 12);
    expect(points[0]).toMatchObject({ x: 0, y: 1 });
  });

  it("counts at a threshold are those of the last point at or above it (binary search)", () => {
    // (scores >= t of the bins whose lower edge is at or above t: exact at bin edges)
    const c = sweep();
    expect(pointAt(c, 0.95)).toBe(0);
    expect(pointAt(c, 0.9)).toBe(1);
    expect(pointAt(c, 0.7)).toBe(1); // the bin from 0.6 may hold scores below 0.7
    expect(pointAt(c, 0.6)).toBe(2);
    expect(pointAt(c, 0.0)).toBe(4);
    expect(countsAt(c, 0.5)).toEqual({
      tp: 2,
      fp: 1,
      fn: 1,
      tn: 3,
      precision: 2 / 3,
      recall: 2 / 3,
      f1: 4 / 6,
      threshold: 0.6,
    });
    const best = bestF1(c)!;
    expect(best.threshold).toBe(0.9);
    expect(best.f1).toBeCloseTo(4 / 5);
  });

  it("precision, recall and F1 against the threshold are steps from 1 down", () => {
    const curves = thresholdCurves(sweep());
    expect(curves.recall.map((p) => [p.x, p.y])).toEqual([
      [1, 2 / 3],
      [0.9, 2 / 3],
      [0.9, 2 / 3],
      [0.6, 2 / 3],
      [0.6, 1],
      [0.3, 1],
      [0.3, 1],
      [0.1, 1],
    ]);
  });

  it("the reliability diagram's bars and its ECE", () => {
    const bars = reliabilityBars(sweep().reliability);
    expect(bars.map((b) => [b.low, b.high])).toEqual([
      [0, 0.25],
      [0.25, 0.5],
      [0.5, 0.75],
      [0.75, 1],
    ]);
    expect(expectedError(sweep().reliability)).toBeCloseTo((0.1 + 2 * 0.1 + 4 * 0.4) / 7);
    expect(expectedError({ count: [0, 0], accuracy: [null, null], confidence: [null, null] })).toBe(
      null,
    );
  });
});

describe("which classes are drawn", () => {
  const names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
  const all = names.map(() => true);

  it("picks first, then the sidebar's few ticked classes, else its worst, else three", () => {
    expect(shownClasses(names, ["c", "x", "a"], all, [], "multiclass")).toEqual([2, 0]);
    const few = names.map((_, i) => i < 4);
    expect(shownClasses(names, [], few, [], "multiclass")).toEqual([0, 1, 2, 3]);
    expect(shownClasses(names, [], all, [7, 3], "multiclass")).toEqual([7, 3]);
    expect(shownClasses(names, [], all, [], "multiclass")).toEqual([0, 1, 2]);
    expect(shownClasses(["negative", "positive"], [], [true, true], [], "binary")).toEqual([1]);
  });

  it("a click adds or removes a class; the focus stays on a drawn class", () => {
    expect(togglePick(names, [0, 2], 2)).toEqual(["a"]);
    expect(togglePick(names, [0, 2], 5)).toEqual(["a", "c", "f"]);
    expect(focusClass(names, "c", [0, 2])).toBe(2);
    expect(focusClass(names, "d", [0, 2])).toBe(0);
    expect(focusClass(names, null, [])).toBe(null);
  });
});

describe("the scores answer", () => {
  it("reads a real answer: every class's table, the asked classes' sweeps and reliability", () => {
    const r = parseScores(fixture("scores_validation.json"));
    expect(r.class_names).toContain("<b>bird</b>");
    expect(r.task).toBe("multiclass");
    expect(r.table.ap).toHaveLength(7);
    expect(r.classes.map((c) => c.class)).toEqual([0, 2]);
    for (const c of r.classes) {
      expect(c.tp[c.tp.length - 1]).toBe(c.positives);
      expect(c.fp[c.fp.length - 1]).toBe(c.negatives);
      expect(c.thresholds[0]).toBe(null);
      expect(c.reliability.count).toHaveLength(r.calibration_bins);
    }
    expect(r.overconfident.every((i) => (r.table.signed_error[i] ?? 0) > 0)).toBe(true);
    expect(r.table.top_k_accuracy).toHaveLength(7);
    // the table's AP is the PR curve's area
    const c = r.classes[0];
    const points = prPoints(c);
    let area = 0;
    for (let i = 1; i < points.length; i++) area += (points[i].x - points[i - 1].x) * points[i].y;
    expect(area).toBeCloseTo(r.table.ap[c.class]!, 10);
  });

  it("a multilabel answer has best-F1 thresholds; a malformed class is left out", () => {
    const raw = fixture("scores_multilabel.json") as Record<string, unknown>;
    const r = parseScores(raw);
    expect(r.table.best_f1).toHaveLength(4);
    const bad = structuredClone(raw) as { classes: { tp: unknown[] }[] };
    bad.classes[0].tp = bad.classes[0].tp.slice(1);
    expect(parseScores(bad).classes.map((c) => c.class)).toEqual([1]);
    expect(() => parseScores({ table: {}, overall: { reliability: { count: [1] } } })).toThrow(
      /reliability/,
    );
  });

  it("curves and report carry AP, AUROC, ECE and top-k accuracy", () => {
    const curves = parseCurves(fixture("scores_curves_validation.json"));
    expect(curves.top_k).toBe(5);
    expect(metricById("ap").available(curves)).toBe(true);
    expect(metricById("topk").extract(curves).row(2)).toHaveLength(7);
    const report = parseReport(fixture("scores_report_validation.json"));
    expect(report.scores!.ap).toHaveLength(7);
    expect(report.scores!.averages.ap.macro).not.toBe(null);
  });

  it("the table sorts by a column, undefined values last, worst first on a new column", () => {
    const r = parseScores(fixture("scores_validation.json"));
    const rows = tableRows(
      r,
      { key: "ap", desc: false },
      r.class_names.map(() => true),
    );
    const ap = rows.map((i) => r.table.ap[i]!);
    expect([...ap].sort((a, b) => a - b)).toEqual(ap);
    expect(nextScoreSort({ key: "ap", desc: false }, "ece")).toEqual({ key: "ece", desc: true });
    expect(nextScoreSort({ key: "ap", desc: false }, "ap")).toEqual({ key: "ap", desc: true });
  });
});
