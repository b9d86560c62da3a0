// The geometry of a heatmap: what it shows (HeatSpec), where the plot and the labels go in a
// box of a given size, and which cell or label is under a point. Pure: no DOM.
import { pixelToCell, type CellSource } from "./heat-raster";
import type { ColorScale } from "./color-scale";
import type { Viewport } from "../lib/zoom";

export interface HeatSpec {
  nRows: number;
  nCols: number;
  source: CellSource;
  scale: ColorScale;
  /** label of a display row / column */
  rowLabel(r: number): string;
  colLabel(c: number): string;
  rowTitle: string;
  colTitle: string;
  /** "names": class names, rotated; "ticks": thinned numbers (steps) */
  colLabelStyle: "names" | "ticks";
  /** square cells (a confusion matrix) or fill the area */
  square: boolean;
  /** text drawn inside a cell when it is big enough (null = none) */
  cellText?: (r: number, c: number) => string | null;
}

export interface Marks {
  /** display positions of a highlighted row / column (the focused class) */
  row?: number | null;
  col?: number | null;
  /** a highlighted cell (e.g. the pair under the pointer in the side list) */
  cell?: [number, number] | null;
}

export interface HeatHit {
  r: number;
  c: number;
  /** pointer position relative to the component, CSS px */
  x: number;
  y: number;
}

export interface HeatHandlers {
  onViewport(vp: Viewport | null): void;
  onHover(hit: HeatHit | null): void;
  onClick?(r: number, c: number): void;
  /** a click on a row's label (display row) */
  onRowLabelClick?(r: number): void;
}

export interface Layout {
  width: number;
  height: number;
  plot: { x: number; y: number; w: number; h: number };
  rowLabels: boolean;
  colLabels: boolean;
  /** column names rotated 45 degrees (false: horizontal, they fit) */
  colRotated: boolean;
  labelWidth: number;
}

/** The labels' and the axis titles' fonts. */
export const FONT = "11px Roboto, sans-serif";
export const TITLE_FONT = "500 11px Roboto, sans-serif";
const LABEL_MIN_PX = 11;
const MAX_ROW_LABEL = 170;
/** The longest a rotated column label gets (CSS px). */
export const MAX_COL_LABEL = 120;

/** Text cut to `max` px with an ellipsis. */
export function fitText(measure: (s: string) => number, text: string, max: number): string {
  if (measure(text) <= max) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (measure(text.slice(0, mid) + "…") <= max) lo = mid;
    else hi = mid - 1;
  }
  return lo > 0 ? text.slice(0, lo) + "…" : "";
}

/** Where the plot goes and which labels fit, for a container of width x height CSS px. */
export function computeLayout(
  width: number,
  height: number,
  spec: Pick<HeatSpec, "square" | "colLabelStyle">,
  rows: number,
  cols: number,
  longestRow: number,
  longestCol: number,
): Layout {
  const titleW = 18;
  const pad = 6;
  const rowLabelW = Math.min(MAX_ROW_LABEL, Math.ceil(longestRow) + 8);
  const rotatedH = Math.min(MAX_COL_LABEL, Math.ceil(longestCol * Math.SQRT1_2) + 14);
  let colLabelH = spec.colLabelStyle === "ticks" ? 18 : rotatedH;
  let rotated = spec.colLabelStyle === "names";
  const place = (withRow: boolean, withCol: boolean) => {
    const left = titleW + (withRow ? rowLabelW : 4);
    const bottom = titleW + (withCol ? colLabelH : 4);
    let w = Math.max(20, width - left - pad - (withCol && rotated ? 24 : 0));
    let hh = Math.max(20, height - pad - bottom);
    if (spec.square) {
      // cells as square as the window allows
      const side = Math.min(w / cols, hh / rows);
      w = Math.max(20, Math.floor(side * cols));
      hh = Math.max(20, Math.floor(side * rows));
    }
    return { x: left, y: pad, w: Math.floor(w), h: Math.floor(hh) };
  };
  let plot = place(true, true);
  const rowLabels = plot.h / rows >= LABEL_MIN_PX;
  const colLabels = spec.colLabelStyle === "ticks" || plot.w / cols >= LABEL_MIN_PX;
  if (!rowLabels || !colLabels) plot = place(rowLabels, colLabels);
  if (rotated && colLabels && plot.w / cols >= longestCol + 10) {
    // the names fit side by side: horizontal labels, and the room they free goes to the cells
    rotated = false;
    colLabelH = 18;
    const wider = place(rowLabels, colLabels);
    if (wider.w / cols >= longestCol + 10) plot = wider;
    else {
      rotated = true;
      colLabelH = rotatedH;
    }
  }
  return {
    width,
    height,
    plot,
    rowLabels,
    colLabels,
    colRotated: rotated,
    labelWidth: rowLabelW - 8,
  };
}

/** Centre of a cell in CSS px relative to the component, or null when it is out of view. */
export function cellCenter(
  L: Layout,
  v: Viewport,
  r: number,
  c: number,
): { x: number; y: number } | null {
  if (r < v.r0 || r >= v.r1 || c < v.c0 || c >= v.c1) return null;
  const cw = L.plot.w / (v.c1 - v.c0);
  const ch = L.plot.h / (v.r1 - v.r0);
  return { x: L.plot.x + (c - v.c0 + 0.5) * cw, y: L.plot.y + (r - v.r0 + 0.5) * ch };
}

/** The display row whose label is under a point, or null (no labels drawn, or elsewhere). */
export function rowLabelAt(L: Layout, v: Viewport, x: number, y: number): number | null {
  if (
    !L.rowLabels ||
    x >= L.plot.x ||
    x < L.plot.x - L.labelWidth - 8 ||
    y < L.plot.y ||
    y >= L.plot.y + L.plot.h
  )
    return null;
  const r = v.r0 + Math.floor(((y - L.plot.y) / L.plot.h) * (v.r1 - v.r0));
  return r >= v.r0 && r < v.r1 ? r : null;
}

/** The rectangle (x, y, width, height in CSS px) of the cells [r0, r1) x [c0, c1), cut to the view. */
export function bandRect(
  L: Layout,
  v: Viewport,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
): [number, number, number, number] {
  const cw = L.plot.w / (v.c1 - v.c0);
  const ch = L.plot.h / (v.r1 - v.r0);
  const x0 = L.plot.x + (Math.max(c0, v.c0) - v.c0) * cw;
  const x1 = L.plot.x + (Math.min(c1, v.c1) - v.c0) * cw;
  const y0 = L.plot.y + (Math.max(r0, v.r0) - v.r0) * ch;
  const y1 = L.plot.y + (Math.min(r1, v.r1) - v.r0) * ch;
  return [x0, y0, x1 - x0, y1 - y0];
}

/** The cell under a point (CSS px relative to the component; `dpr` device pixels per CSS px, as
 * the cells are drawn), or null outside the plot; `clampToPlot` takes the nearest cell instead. */
export function cellAt(
  L: Layout,
  v: Viewport,
  x: number,
  y: number,
  dpr: number,
  clampToPlot = false,
): { r: number; c: number } | null {
  let px = x - L.plot.x;
  let py = y - L.plot.y;
  if (clampToPlot) {
    px = Math.min(Math.max(px, 0), L.plot.w - 0.01);
    py = Math.min(Math.max(py, 0), L.plot.h - 0.01);
  } else if (px < 0 || py < 0 || px >= L.plot.w || py >= L.plot.h) return null;
  const pw = Math.max(1, Math.round(L.plot.w * dpr));
  const ph = Math.max(1, Math.round(L.plot.h * dpr));
  return {
    r: pixelToCell(py * dpr, ph, v.r0, v.r1 - v.r0),
    c: pixelToCell(px * dpr, pw, v.c0, v.c1 - v.c0),
  };
}
