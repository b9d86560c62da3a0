// Data shaping for the curves view: the series' [steps][classes] matrices -> one aligned
// x array and one line per (series, selected class), plus a mean-over-classes line per series,
// each with its style; and the interface of the chart that draws them (line-chart.ts: uPlot; the
// DOM tests: a fake). A series is a (run, name) pair (data/series.ts). Pure: no DOM, no uPlot.
import type { RunCurves } from "../data/types";
import type { Grid } from "../data/grid";
import type { MetricDef } from "../data/metrics";
import type { ColorBy, XAxis } from "../state/view-state";
import { smoothValues } from "../lib/smoothing";
import { GridColumn, LineValues, type Value, type ValueColumn } from "./line-values";
import { DASHES, greyFor, meanColor, withAlpha } from "../ui/colors";
import type { Theme } from "../ui/theme";

export type { Value } from "./line-values";

export interface LineModel {
  kind: "class" | "mean";
  /** the series' key (series.ts), run and label */
  series: string;
  run: string;
  seriesLabel: string;
  /** index into ChartModel.runs */
  runIndex: number;
  /** global class index; -1 for the mean line */
  classIndex: number;
  label: string;
  /** plotted (smoothed) values aligned to ChartModel.xs: what is drawn and hovered */
  values: LineValues;
  /** unsmoothed values aligned to ChartModel.xs (the same object when not smoothed) */
  raw: LineValues;
  /** non-finite per-sample loss counts aligned to xs (class lines only), read on hover */
  nonfinite: ValueColumn | null;
  /** total non-finite losses of this class over all steps of this series */
  nonfiniteTotal: number;
  /** samples of this class with non-finite outputs aligned to xs (class lines only) */
  nonfiniteOutputs: ValueColumn | null;
  highlighted: boolean;
  grey: boolean;
  color: string;
  /** the line's own colour (also for a greyed line): used when it is hovered */
  baseColor: string;
  width: number;
  dash: number[];
  /** draw its points as markers: a line of one point (a single step) draws no path */
  markers: boolean;
}

export interface RunAxis {
  /** the series' key */
  series: string;
  /** the step at each x position, null where the run has no point */
  stepAt: Value[];
}

export interface ChartModel {
  xs: number[];
  xLabel: string;
  /** seconds per x unit for relative time; 0 for steps */
  xUnitSeconds: number;
  runs: RunAxis[];
  lines: LineModel[];
}

export interface ShapeInput {
  runs: readonly RunCurves[];
  classNames: readonly string[];
  /** per global class: shown or not */
  selected: readonly boolean[];
  metric: MetricDef;
  smoothing: number;
  xAxis: XAxis;
  logScale: boolean;
  /** global class indices drawn in colour (the worst N, worst first); empty = all in colour */
  highlighted: readonly number[];
  colorBy: ColorBy;
  /** colour of each global class (see colors.classColors) */
  classColors: readonly string[];
  /** per series key */
  seriesColors: ReadonlyMap<string, string>;
  seriesDashes: ReadonlyMap<string, number>;
  showMean: boolean;
  /** the page's theme: the faded and mean lines are dark on light, light on dark (default light) */
  theme?: Theme;
}

/** Relative-time unit: hours past 2 h, minutes past 2 min, else seconds. */
export function timeUnit(maxSeconds: number): { seconds: number; label: string } {
  if (maxSeconds >= 7200) return { seconds: 3600, label: "Relative time (hours)" };
  if (maxSeconds >= 120) return { seconds: 60, label: "Relative time (minutes)" };
  return { seconds: 1, label: "Relative time (seconds)" };
}

function runXs(rc: RunCurves, xAxis: XAxis, unit: number): number[] {
  const c = rc.curves;
  if (xAxis === "step") return c.steps.slice();
  const t0 = c.wall_times.length ? c.wall_times[0] : 0;
  return c.wall_times.map((t) => (t - t0) / unit);
}

/** The mean over classes of step row `s` of a grid (finite values only). */
export function rowMean(grid: Grid, s: number): Value {
  if (s < 0 || s >= grid.rows || grid.cols === 0) return null;
  const data = grid.data;
  if (!data) return 0;
  let sum = 0;
  let n = 0;
  for (let i = s * grid.cols, end = i + grid.cols; i < end; i++) {
    const v = data[i];
    if (v - v === 0) {
      sum += v;
      n++;
    }
  }
  return n ? sum / n : null;
}

export function lineWidths(numShown: number): {
  normal: number;
  highlighted: number;
  grey: number;
  mean: number;
} {
  return {
    normal: numShown <= 12 ? 1.6 : numShown <= 40 ? 1.25 : 1,
    highlighted: 2.25,
    grey: 1,
    mean: 2.75,
  };
}

export function buildChartModel(inp: ShapeInput): ChartModel {
  let unit = { seconds: 0, label: "Step" };
  if (inp.xAxis === "relative") {
    let maxRel = 0;
    for (const rc of inp.runs) {
      const w = rc.curves.wall_times;
      if (w.length) maxRel = Math.max(maxRel, w[w.length - 1] - w[0]);
    }
    unit = timeUnit(maxRel);
  }
  const perRunXs = inp.runs.map((rc) => runXs(rc, inp.xAxis, unit.seconds || 1));
  const xset = new Set<number>();
  for (const xs of perRunXs) for (const x of xs) if (Number.isFinite(x)) xset.add(x);
  const xs = [...xset].sort((a, b) => a - b);
  const pos = new Map<number, number>();
  xs.forEach((x, i) => pos.set(x, i));

  const numShown = inp.selected.filter(Boolean).length;
  const widths = lineWidths(numShown);
  const rank = new Map<number, number>();
  inp.highlighted.forEach((g, r) => rank.set(g, r));
  const anyHighlight = rank.size > 0;
  const fadeNormal = !anyHighlight && numShown > 40;
  const grey = greyFor(numShown * inp.runs.length, inp.theme);
  const mean = meanColor(inp.theme);

  const runs: RunAxis[] = [];
  const greyLines: LineModel[] = [];
  const normal: LineModel[] = [];
  const high: LineModel[] = [];
  const means: LineModel[] = [];
  const classIndex = new Map<string, number>();
  inp.classNames.forEach((n, i) => classIndex.set(n, i));

  inp.runs.forEach((rc, runIndex) => {
    const c = rc.curves;
    const xsRun = perRunXs[runIndex];
    const S = xsRun.length;
    const X = xs.length;
    // the x position of each of the run's steps, and the run's step row at each x position
    const at = new Int32Array(S).fill(-1);
    const rowAt = new Int32Array(X).fill(-1);
    const stepAt: Value[] = new Array(X).fill(null);
    for (let s = 0; s < S; s++) {
      const p = pos.get(xsRun[s]);
      if (p === undefined) continue;
      at[s] = p;
      rowAt[p] = s;
      stepAt[p] = c.steps[s];
    }
    runs.push({ series: rc.key, stepAt });
    const matrix = inp.metric.extract(c);
    const dash = DASHES[inp.seriesDashes.get(rc.key) ?? 0]?.dash ?? [];
    const runColor = inp.seriesColors.get(rc.key) ?? "#425066";
    const logScale = inp.logScale;
    // smoothing keeps the points where they are: the same count
    const withSmoothing = (raw: LineValues) =>
      inp.smoothing > 0
        ? new LineValues(smoothValues(raw.data, inp.smoothing), raw.presentCount())
        : raw;

    // the shown classes' values, one typed array per line (a column of the [steps][classes]
    // grid); NaN where there is no point or the scale cannot show the value
    const cols: number[] = [];
    const globals: number[] = [];
    c.class_names.forEach((name, k) => {
      const g = classIndex.get(name);
      if (g !== undefined && inp.selected[g]) {
        cols.push(k);
        globals.push(g);
      }
    });
    const data = matrix.data;
    const C = matrix.cols;
    const rows = Math.min(S, matrix.rows);
    // one run (or runs on the same steps): its steps are the x axis, every position written
    const identity = rows === X && at.every((p, s) => p === s);
    const raws = cols.map((k) => {
      const out = new Float64Array(X);
      if (!identity) out.fill(NaN);
      let present = 0;
      for (let s = 0, i = k; s < rows; s++, i += C) {
        const p = at[s];
        if (p < 0) continue;
        const v = data ? data[i] : 0;
        // finite (v - v is NaN for NaN and the infinities), and positive on a log scale
        if (v - v === 0 && !(logScale && v <= 0)) {
          out[p] = v;
          present++;
        } else out[p] = NaN;
      }
      return new LineValues(out, present);
    });
    const nonfiniteData = c.nonfinite.data;

    cols.forEach((k, j) => {
      const g = globals[j];
      const name = c.class_names[k];
      let nfTotal = 0;
      if (nonfiniteData)
        for (let s = 0, i = k; s < c.nonfinite.rows; s++, i += c.nonfinite.cols) {
          const n = nonfiniteData[i];
          if (n > 0) nfTotal += n;
        }
      const isHigh = rank.has(g);
      const isGrey = anyHighlight && !isHigh;
      const base = inp.colorBy === "run" ? runColor : (inp.classColors[g] ?? "#425066");
      const raw = raws[j];
      const line: LineModel = {
        kind: "class",
        series: rc.key,
        run: rc.run,
        seriesLabel: rc.label,
        runIndex,
        classIndex: g,
        label: name,
        values: withSmoothing(raw),
        raw,
        nonfinite: new GridColumn(c.nonfinite, k, rowAt),
        nonfiniteTotal: nfTotal,
        nonfiniteOutputs: new GridColumn(c.nonfinite_outputs, k, rowAt),
        highlighted: isHigh,
        grey: isGrey,
        color: isGrey ? grey : fadeNormal ? withAlpha(base, 0.6) : base,
        baseColor: base,
        width: isHigh ? widths.highlighted : isGrey ? widths.grey : widths.normal,
        dash,
        markers: false,
      };
      (isHigh ? high : isGrey ? greyLines : normal).push(line);
    });

    if (inp.showMean) {
      const meanRaw = new Float64Array(X).fill(NaN);
      for (let s = 0; s < S; s++) {
        const p = at[s];
        const v = p < 0 ? null : rowMean(matrix, s);
        if (p >= 0 && v !== null && !(logScale && v <= 0)) meanRaw[p] = v;
      }
      const raw = new LineValues(meanRaw);
      means.push({
        kind: "mean",
        series: rc.key,
        run: rc.run,
        seriesLabel: rc.label,
        runIndex,
        classIndex: -1,
        label: "mean of classes",
        values: withSmoothing(raw),
        raw,
        nonfinite: null,
        nonfiniteTotal: 0,
        nonfiniteOutputs: null,
        highlighted: false,
        grey: false,
        color: mean,
        baseColor: mean,
        width: widths.mean,
        dash,
        markers: false,
      });
    }
  });

  // the worst class is drawn last, on top
  high.sort((a, b) => (rank.get(b.classIndex) ?? 0) - (rank.get(a.classIndex) ?? 0));
  const lines = [...greyLines, ...normal, ...high, ...means];
  for (const l of lines) l.markers = l.values.presentCount() === 1;
  return {
    xs,
    xLabel: unit.label,
    xUnitSeconds: unit.seconds,
    runs,
    lines,
  };
}

/** More class lines outside the highlight than this are drawn as pixels (line-raster.ts). */
export const BULK_LINES = 40;

/**
 * Which lines the chart draws in its pixel layer, under the others: the class lines outside
 * the highlight (faded or grey, 1 px at that count) when there are more than BULK_LINES of
 * them; a line of one point stays a marker. The highlighted and mean lines stay paths.
 */
export function bulkLines(lines: readonly LineModel[]): boolean[] {
  const candidate = lines.map((l) => l.kind === "class" && !l.highlighted && !l.markers);
  const n = candidate.filter(Boolean).length;
  return n > BULK_LINES ? candidate : lines.map(() => false);
}

export interface HoverHit {
  /** index into model.lines */
  line: number;
  /** index into model.xs */
  index: number;
  /** cursor position in CSS px relative to the chart container */
  left: number;
  top: number;
}

export interface ChartOptions {
  model: ChartModel;
  logScale: boolean;
  /** the y axis never pads past these (e.g. [0, 1] for accuracy) */
  yBounds?: [number, number];
  zoom: [number, number] | null;
  yLabel: string;
  formatY: (v: number) => string;
  formatX: (v: number) => string;
  /** text drawn in the chart's right margin at each mean line's end, by line index; null = none */
  meanLabel: (line: number) => string | null;
  onZoom: (range: [number, number] | null) => void;
  onHover: (hit: HoverHit | null) => void;
}

export interface LineChart {
  resize(width: number, height: number): void;
  destroy(): void;
}

export type ChartFactory = (
  container: HTMLElement,
  opts: ChartOptions,
  width: number,
  height: number,
) => LineChart;
