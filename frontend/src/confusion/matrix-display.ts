// What the matrix area shows, from the matrix, the settings and the loaded answers: the class
// order, whether it draws the counts, a difference or a message instead, the heatmap's cells,
// colours and legend, the hovered cell's tooltip, the zoom readout, and the count of mistakes in
// a gallery's scope. Pure: no DOM.
import type { ConfusionData, DiffData } from "../data/types";
import { compactCount, compactShare, formatCount, formatShare, signed } from "../lib/format";
import type { GalleryScope, Norm, Order } from "../state/view-state";
import { ColorScale, type Rgb } from "../ui/color-scale";
import type { HeatSpec } from "../ui/heat-layout";
import type { ThemeColors } from "../ui/theme";
import type { Viewport } from "../lib/zoom";
import { classOrder, positions, visibleOrder, type ConfusionModel } from "./matrix";

/** The display order of the shown classes (display position -> class) and its inverse. The
 * clustered order waits for its answer: the index order meanwhile. */
export function matrixOrder(
  order: Order,
  names: readonly string[],
  model: ConfusionModel,
  shown: readonly boolean[],
  cluster: readonly number[] | null,
): { order: Int32Array; pos: Int32Array; clusterOk: boolean } {
  const clusterOk = order === "cluster" && cluster !== null;
  const base = classOrder(
    order === "cluster" && !clusterOk ? "index" : order,
    names,
    model,
    clusterOk ? cluster : null,
  );
  const shownOrder = visibleOrder(base, shown);
  return { order: shownOrder, pos: positions(shownOrder, names.length), clusterOk };
}

/** Where the difference to the base stands. */
export interface DiffStatus {
  /** the diff answer is for this matrix and not reloading */
  answered: boolean;
  data: DiffData | null;
  error: string | null;
  /** the base run's steps could not be loaded (another run than the matrix's) */
  baseStepsError: string | null;
}

/** What the matrix area shows: the matrix (with a difference, or null), or a message; with a
 * message the side panel shows the gallery alone ("gallery"), its usual content ("panel") or,
 * without an open gallery, nothing ("galleryOrNothing"). A refusal is never drawn as a picture. */
export type MatrixShows =
  | { draw: true; diff: DiffData | null }
  | { draw: false; message: string; side: "gallery" | "galleryOrNothing" | "panel" };

export function matrixShows(
  shownClasses: number,
  n: number,
  diffOn: boolean,
  d: DiffStatus,
): MatrixShows {
  if (shownClasses === 0)
    return {
      draw: false,
      message: "No class selected. Tick classes on the left, or use “All”.",
      side: "galleryOrNothing",
    };
  if (!diffOn) return { draw: true, diff: null };
  if (d.answered && d.error)
    return { draw: false, message: `Cannot compare: ${d.error}`, side: "panel" };
  if (!d.answered && d.baseStepsError)
    return { draw: false, message: `Cannot compare: ${d.baseStepsError}`, side: "gallery" };
  if (!d.answered) return { draw: false, message: "Computing the difference…", side: "gallery" };
  if (d.data && d.data.n !== n)
    return {
      draw: false,
      message: "Cannot compare: the two matrices have different classes.",
      side: "gallery",
    };
  return { draw: true, diff: d.data };
}

export interface MatrixLook {
  norm: Norm;
  log: boolean;
  errorsOnly: boolean;
}

/** Whether a cell's change is an improvement: more correct predictions (the diagonal), or
 * fewer mistakes (off it). */
export function changeIsBetter(trueClass: number, pred: number, delta: number): boolean {
  return trueClass === pred ? delta > 0 : delta < 0;
}

/** A cell's change in words: "3 more correct", "2 fewer mistakes". */
export function changeWords(trueClass: number, pred: number, delta: number): string {
  const n = formatCount(Math.abs(delta));
  if (trueClass === pred)
    return `${n} ${delta > 0 ? "more" : "fewer"} correct: ${delta > 0 ? "better" : "worse"}`;
  return `${n} ${delta > 0 ? "more" : "fewer"} mistake${Math.abs(delta) === 1 ? "" : "s"}: ${delta > 0 ? "worse" : "better"}`;
}

/** The deltas signed as worse-than-before (> 0) or better (< 0): a gain on the diagonal is an
 * improvement, a gain off it a regression. What the diff's colours show. */
export function worseness(deltas: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const d = deltas[i * n + j];
      out[i * n + j] = i === j ? 0 - d : d; // 0 - d: no negative zero
    }
  }
  return out;
}

/** The heatmap of the matrix (or of its difference) in the display order. */
export function matrixSpec(
  cm: ConfusionData,
  model: ConfusionModel,
  diff: DiffData | null,
  order: Int32Array,
  look: MatrixLook,
  colors: ThemeColors,
): HeatSpec {
  const { norm, log, errorsOnly } = look;
  const names = cm.class_names;
  // a regression run's classes are target ranges
  const rowWord = cm.task === "regression" ? "Target range" : "True class";
  const colWord = cm.task === "regression" ? "Predicted range" : "Predicted class";
  const n = cm.n;
  let values: ArrayLike<number>;
  let scale: ColorScale;
  let cellText: (r: number, c: number) => string | null;
  const cellColors = { missing: colors.missing, diagonal: colors.diagonal };
  if (diff) {
    // coloured by better or worse, not by up or down: more on the diagonal is better, more off
    // it is worse (blue better, red worse; the cells' numbers stay the signed changes)
    values = worseness(diff.deltas, n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++)
        if (!errorsOnly || i !== j) m = Math.max(m, Math.abs(diff.deltas[i * n + j]));
    }
    scale = new ColorScale({
      kind: "diverging",
      min: -Math.max(m, 1),
      max: Math.max(m, 1),
      log,
      eps: 1,
      stops: colors.blueRed,
      ...cellColors,
    });
    cellText = (r, c) => {
      const v = diff.deltas[order[r] * n + order[c]];
      return v ? signed(v) : null; // unchanged cells stay blank
    };
  } else {
    const vals = model.values(norm);
    values = vals;
    const max = model.maxValue(norm, errorsOnly);
    const top = norm === "counts" ? Math.max(max, 1) : errorsOnly ? Math.max(max, 1e-6) : 1;
    scale = new ColorScale({
      kind: "sequential",
      min: 0,
      max: top,
      log,
      eps: norm === "counts" ? 1 : 1e-3,
      stops: colors.blues,
      ...cellColors,
    });
    cellText = (r, c) => {
      const v = vals[order[r] * n + order[c]];
      if (!Number.isFinite(v) || v === 0) return null; // empty cells stay blank
      return norm === "counts" ? compactCount(v) : compactShare(v);
    };
  }
  return {
    nRows: order.length,
    nCols: order.length,
    source: {
      values,
      stride: n,
      rowIdx: order,
      colIdx: order,
      maskDiagonal: errorsOnly,
      pool: diff ? "maxabs" : "max",
    },
    scale,
    rowLabel: (r) => names[order[r]],
    colLabel: (c) => names[order[c]],
    rowTitle:
      order.length > 40 ? `${rowWord} (${order.length}: hover, or find one above)` : rowWord,
    colTitle: order.length > 40 ? `${colWord} (${order.length})` : colWord,
    colLabelStyle: "names",
    square: true,
    cellText,
  };
}

/** The legend of a matrix's colours: its title, how a value reads, and the extra swatches. */
export function matrixLegend(
  scale: ColorScale,
  diff: DiffData | null,
  diffLabels: [string, string] | null,
  look: MatrixLook,
): { title: string; format: (v: number) => string; extras: { label: string; rgb: Rgb }[] } {
  const extras: { label: string; rgb: Rgb }[] = [];
  let title: string;
  let format: (v: number) => string;
  if (diff && diffLabels) {
    const [a, b] = diffLabels;
    title = `Change: ${a} @ ${diff.step} minus ${b} @ ${diff.base_step}`;
    // the colours are worseness (a gain on the diagonal is better): the ticks are the sizes of
    // the changes, the swatches say which side is which
    format = (v) => compactCount(Math.abs(v));
    extras.push(
      { label: "better (more correct, fewer mistakes)", rgb: scale.rgb(scale.spec.min) },
      { label: "worse", rgb: scale.rgb(scale.spec.max) },
    );
  } else if (look.norm === "counts") {
    title = "Samples";
    format = (v) => compactCount(v);
  } else {
    title =
      look.norm === "row"
        ? "Share of the true class (row)"
        : "Share of the predicted class (column)";
    format = (v) => compactShare(v);
    extras.push({ label: "no samples", rgb: scale.missingRgb });
  }
  if (scale.spec.log) title += " · log scale";
  if (look.errorsOnly) extras.push({ label: "diagonal (correct)", rgb: scale.diagonalRgb });
  return { title, format, extras };
}

/** A line of the hovered cell's tooltip: a key and its value; `nameRole` marks a class name. */
export interface TooltipLine {
  key: string;
  value: string;
  role?: string;
  nameRole?: string;
}

/** The tooltip of cell (true i, predicted j): the classes, the count and its shares, and with a
 * difference the change since the base. */
export function cellTooltip(
  model: ConfusionModel,
  names: readonly string[],
  i: number,
  j: number,
  diff: DiffData | null,
  baseLabel: string,
): TooltipLine[] {
  const info = model.cell(i, j);
  const lines: TooltipLine[] = [
    { key: "True", value: names[i], nameRole: "tooltip-true" },
    { key: "Predicted", value: names[j], nameRole: "tooltip-pred" },
    {
      key: "Count",
      value: `${formatCount(info.count)}${i === j ? " (correct)" : ""}`,
      role: "tooltip-count",
    },
    {
      key: "Of row",
      value: `${formatShare(info.ofRow)} of ${formatCount(info.rowTotal)} true`,
      role: "tooltip-row-share",
    },
    {
      key: "Of column",
      value: `${formatShare(info.ofCol)} of ${formatCount(info.colTotal)} predicted`,
      role: "tooltip-col-share",
    },
  ];
  if (diff) {
    const d = diff.deltas[i * diff.n + j];
    lines.push({
      key: "Change",
      value: `${formatCount(info.count - d)} → ${formatCount(info.count)} (${signed(d)}${d ? `, ${changeIsBetter(i, j, d) ? "better" : "worse"}` : ""}) since ${baseLabel} @ ${diff.base_step}`,
      role: "tooltip-delta",
    });
  }
  return lines;
}

/** The zoom readout: the whole matrix, or the rows and columns in view. */
export function zoomText(v: Viewport, n: number): { text: string; full: boolean } {
  const full = v.r0 === 0 && v.c0 === 0 && v.r1 === n && v.c1 === n;
  return {
    full,
    text: full ? `${n} × ${n}` : `rows ${v.r0 + 1}–${v.r1}, columns ${v.c0 + 1}–${v.c1} of ${n}`,
  };
}

/** The matrix's count of mistakes in a gallery's scope (what the gallery's empty states say);
 * null when the matrix cannot tell. */
export function mistakesIn(
  cm: ConfusionData,
  model: ConfusionModel | null,
  scope: GalleryScope,
): number | null {
  if (cm.task === "multilabel") {
    const L = cm.labels;
    if (!L) return null;
    if (scope.kind === "label") {
      const fp = L[scope.label * 4 + 1];
      const fn = L[scope.label * 4 + 2];
      return scope.error === "fp" ? fp : scope.error === "fn" ? fn : fp + fn;
    }
    if (scope.kind !== "overall") return null;
    let total = 0;
    for (let l = 0; l < cm.n; l++) total += L[l * 4 + 1] + L[l * 4 + 2];
    return total;
  }
  if (!model) return null;
  switch (scope.kind) {
    case "cell":
      return scope.true === scope.pred ? 0 : model.count(scope.true, scope.pred);
    case "class":
      return model.rowSums[scope.true] - model.count(scope.true, scope.true);
    case "overall":
      return model.total - model.correct;
    default:
      return null;
  }
}
