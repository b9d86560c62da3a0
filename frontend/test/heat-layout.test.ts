// @vitest-environment node
// A heatmap's geometry and navigation without a DOM: where the plot goes, which cell or label is
// under a point, how keys, the wheel and a drag move the view.
import { describe, expect, it } from "vitest";
import { cellAt, cellCenter, computeLayout, fitText, rowLabelAt } from "../src/ui/heat-layout";
import { draggedViewport, keyViewport, wheelViewport } from "../src/ui/heat-navigation";

const full = { r0: 0, r1: 10, c0: 0, c1: 10 };

describe("heatmap geometry", () => {
  it("square cells with room for the labels; no labels when the cells are too small", () => {
    const L = computeLayout(600, 400, { square: true, colLabelStyle: "names" }, 10, 10, 40, 40);
    expect(L.rowLabels && L.colLabels).toBe(true);
    expect(L.plot.w).toBe(L.plot.h); // square
    const dense = computeLayout(
      600,
      400,
      { square: true, colLabelStyle: "names" },
      1000,
      1000,
      40,
      40,
    );
    expect([dense.rowLabels, dense.colLabels]).toEqual([false, false]);
    expect(dense.plot.w).toBeGreaterThan(L.plot.w); // the labels' room goes to the cells
  });

  it("finds the cell and the row label under a point", () => {
    const L = computeLayout(600, 400, { square: true, colLabelStyle: "names" }, 10, 10, 40, 40);
    const c = cellCenter(L, full, 3, 7)!;
    expect(cellAt(L, full, c.x, c.y, 1)).toEqual({ r: 3, c: 7 });
    expect(cellAt(L, full, L.plot.x - 5, c.y, 1)).toBeNull();
    expect(cellAt(L, full, L.plot.x - 5, c.y, 1, true)).toEqual({ r: 3, c: 0 });
    expect(rowLabelAt(L, full, L.plot.x - 10, c.y)).toBe(3);
    expect(cellCenter(L, { r0: 5, r1: 10, c0: 0, c1: 10 }, 3, 7)).toBeNull(); // out of view
  });

  it("cuts a label to the room it has", () => {
    const measure = (s: string) => s.length * 10;
    expect(fitText(measure, "elephant", 100)).toBe("elephant");
    expect(fitText(measure, "elephant", 50)).toBe("elep…");
    expect(fitText(measure, "elephant", 5)).toBe("");
  });
});

describe("heatmap navigation", () => {
  it("keys pan by a fifth of the view, zoom around its middle, 0 shows all", () => {
    const v = { r0: 10, r1: 20, c0: 10, c1: 20 };
    expect(keyViewport("ArrowDown", v, 100, 100)).toEqual({ r0: 12, r1: 22, c0: 10, c1: 20 });
    expect(keyViewport("ArrowLeft", v, 100, 100)).toEqual({ r0: 10, r1: 20, c0: 8, c1: 18 });
    expect(keyViewport("+", v, 100, 100)).toEqual({ r0: 11, r1: 19, c0: 11, c1: 19 });
    expect(keyViewport("0", v, 100, 100)).toBeNull();
    expect(keyViewport("x", v, 100, 100)).toBeUndefined();
  });

  it("the wheel keeps the cell under the pointer; a drag pans by whole cells", () => {
    const plot = { x: 0, y: 0, w: 100, h: 100 };
    const zoomed = wheelViewport(-1, plot, full, 5, 5, 10, 10);
    expect(zoomed.r1 - zoomed.r0).toBe(8);
    expect(zoomed.r0).toBe(0); // the pointer's corner stays put
    const out = wheelViewport(1, plot, { r0: 2, r1: 6, c0: 2, c1: 6 }, 50, 50, 10, 10);
    expect(out.r1 - out.r0).toBe(5); // out by a quarter, at least a cell
    expect(draggedViewport({ r0: 4, r1: 6, c0: 4, c1: 6 }, plot, -100, 0, 10, 10)).toEqual({
      r0: 4,
      r1: 6,
      c0: 6,
      c1: 8,
    });
  });
});
