import { describe, expect, it } from "vitest";
import { f1Of, precisionOf, recallOf } from "../src/lib/rates";
import { metricById } from "../src/data/metrics";
import { parseCurves } from "../src/data/answers";
import { fixture } from "./helpers";

describe("precision, recall and F1 from tp/fp/fn", () => {
  it("computes them; 0/0 and missing counts are undefined (null), never 0", () => {
    expect(precisionOf({ tp: 3, fp: 1, fn: 0 })).toBe(0.75);
    expect(recallOf({ tp: 3, fp: 0, fn: 3 })).toBe(0.5);
    expect(f1Of({ tp: 2, fp: 1, fn: 1 })).toBeCloseTo(4 / 6, 12);
    expect(precisionOf({ tp: 0, fp: 0, fn: 5 })).toBeNull();
    expect(recallOf({ tp: 0, fp: 4, fn: 0 })).toBeNull();
    expect(f1Of({ tp: 0, fp: 0, fn: 0 })).toBeNull();
    expect(precisionOf({ tp: 0, fp: 2, fn: 0 })).toBe(0);
    expect(recallOf({ tp: null, fp: 1, fn: 1 })).toBeNull();
  });

  it("derives [steps][classes] matrices from the curves, null at steps without a matrix", () => {
    const c = parseCurves(fixture("curves_validation_confusion.json"));
    const recall = metricById("recall");
    expect(recall.available(c)).toBe(true);
    const m = recall.extract(c);
    expect(m.rows).toBe(c.steps.length);
    expect(m.row(1)).toEqual([null, null, null, null]);
    const k = 0;
    const s = 7;
    const tp = c.tp!.at(s, k)!;
    expect(m.at(s, k)).toBeCloseTo(tp / (tp + c.fn!.at(s, k)!), 6);
    expect(recall.extract(c)).toBe(m); // cached per curves object
    const plain = parseCurves(fixture("curves_train.json"));
    expect(recall.available(plain)).toBe(false);
    expect(metricById("loss").available(plain)).toBe(true);
    expect(metricById("f1").format(0.5)).toBe("50.0%");
  });
});
