import { describe, expect, it } from "vitest";
import {
  classOrder,
  ConfusionModel,
  csvCell,
  matrixCsv,
  positions,
  topCells,
  visibleOrder,
} from "../src/confusion/matrix";
import { labelStats } from "../src/confusion/label-stats";

// rows = true, cols = predicted
//        a  b  c
//   a  [ 5, 3, 0 ]
//   b  [ 1, 8, 1 ]
//   c  [ 0, 0, 0 ]   (no samples of c)
const M = new Float64Array([5, 3, 0, 1, 8, 1, 0, 0, 0]);
const names = ["a", "b", "c"];

describe("ConfusionModel", () => {
  const m = new ConfusionModel(M, 3);

  it("sums rows and columns", () => {
    expect([...m.rowSums]).toEqual([8, 10, 0]);
    expect([...m.colSums]).toEqual([6, 11, 1]);
    expect(m.total).toBe(18);
    expect(m.correct).toBe(13);
  });

  it("normalises by row (recall) and by column (precision); 0/0 is NaN, not 0", () => {
    expect(m.value(0, 1, "counts")).toBe(3);
    expect(m.value(0, 0, "row")).toBeCloseTo(5 / 8, 12);
    expect(m.value(1, 1, "col")).toBeCloseTo(8 / 11, 12);
    expect(m.value(2, 0, "row")).toBeNaN();
    expect(m.value(2, 2, "col")).toBe(0); // column c has a prediction, none of it correct
    const rows = m.values("row");
    expect(rows[0] + rows[1] + rows[2]).toBeCloseTo(1, 6);
    expect(Number.isNaN(rows[6]) && Number.isNaN(rows[8])).toBe(true);
    const cols = m.values("col");
    expect(cols[0] + cols[3] + cols[6]).toBeCloseTo(1, 6);
    expect(m.values("row")).toBe(rows); // cached
  });

  it("maximum over all cells or the mistakes only", () => {
    expect(m.maxValue("counts", false)).toBe(8);
    expect(m.maxValue("counts", true)).toBe(3);
    expect(m.maxValue("row", true)).toBeCloseTo(3 / 8, 6);
  });

  it("cell details for the tooltip", () => {
    expect(m.cell(0, 1)).toEqual({
      count: 3,
      rowTotal: 8,
      colTotal: 11,
      ofRow: 3 / 8,
      ofCol: 3 / 11,
    });
    expect(m.cell(2, 0).ofRow).toBeNaN();
  });

  it("error rates, top mistakes, a class's row and column", () => {
    expect(m.errorRate(0)).toBeCloseTo(3 / 8, 12);
    expect(m.errorRate(2)).toBeNaN();
    expect(m.topOffDiagonal(2)).toEqual([
      { true: 0, pred: 1, count: 3 },
      { true: 1, pred: 0, count: 1 },
    ]);
    expect(m.rowTop(1, 5)).toEqual([
      { cls: 0, count: 1 },
      { cls: 2, count: 1 },
    ]);
    expect(m.colTop(1, 5)).toEqual([{ cls: 0, count: 3 }]);
  });

  it("top cells of a big matrix match a full sort", () => {
    const n = 300;
    const vals = new Float64Array(n * n);
    for (let k = 0; k < vals.length; k++) vals[k] = (k * 7919) % 1013;
    const top = topCells(
      vals,
      n,
      25,
      (i, j) => i !== j,
      (v) => v,
    );
    const all: { true: number; pred: number; count: number }[] = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (i !== j && vals[i * n + j] > 0) all.push({ true: i, pred: j, count: vals[i * n + j] });
    all.sort((a, b) => b.count - a.count || a.true - b.true || a.pred - b.pred);
    expect(top).toEqual(all.slice(0, 25));
    expect(topCells(new Float64Array([0, -5, 2, 0]), 2, 3, () => true, Math.abs)).toEqual([
      { true: 0, pred: 1, count: -5 },
      { true: 1, pred: 0, count: 2 },
    ]);
  });
});

describe("class orders", () => {
  const m = new ConfusionModel(M, 3);
  it("index, name (natural), error (worst first, no samples last), cluster", () => {
    expect([...classOrder("index", names, m, null)]).toEqual([0, 1, 2]);
    expect([...classOrder("name", ["c10", "c2", "B"], null, null)]).toEqual([2, 1, 0]);
    expect([...classOrder("error", names, m, null)]).toEqual([0, 1, 2]);
    const m2 = new ConfusionModel(new Float64Array([9, 1, 0, 5, 5, 0, 0, 0, 0]), 3);
    expect([...classOrder("error", names, m2, null)]).toEqual([1, 0, 2]);
    expect([...classOrder("cluster", names, m, [2, 0, 1])]).toEqual([2, 0, 1]);
    // a cluster order of the wrong size never scrambles the picture
    expect([...classOrder("cluster", names, m, [1, 0])]).toEqual([0, 1, 2]);
  });

  it("restricts to shown classes and maps classes to positions", () => {
    const ord = visibleOrder(Int32Array.from([2, 0, 1]), [true, false, true]);
    expect([...ord]).toEqual([2, 0]);
    expect([...positions(ord, 3)]).toEqual([1, -1, 0]);
  });
});

describe("CSV", () => {
  it("quotes and defuses spreadsheet formulas", () => {
    expect(csvCell("cat")).toBe("cat");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("-x,y")).toBe(`"'-x,y"`);
    expect(csvCell(0.25)).toBe("0.25");
    expect(csvCell(NaN)).toBe("");
  });

  it("writes the matrix in the display order", () => {
    const text = matrixCsv(["a", "b,c"], new Float64Array([1, 2, 3, 4]), 2, [1, 0]);
    expect(text).toBe('true \\ predicted,"b,c",a\r\n"b,c",4,3\r\na,2,1\r\n');
  });
});

describe("multilabel", () => {
  it("per-label counts and metrics; 0/0 is null", () => {
    const st = labelStats(new Float64Array([50, 3, 7, 40, 10, 0, 0, 0]));
    expect(st[0]).toMatchObject({ tn: 50, fp: 3, fn: 7, tp: 40, support: 47 });
    expect(st[0].precision).toBeCloseTo(40 / 43, 12);
    expect(st[0].recall).toBeCloseTo(40 / 47, 12);
    expect(st[0].f1).toBeCloseTo(80 / 90, 12);
    expect(st[1]).toMatchObject({ precision: null, recall: null, f1: null, support: 0 });
  });
});
