// Data shaping for the curves view: the series' [steps][classes] matrices -> one aligned
// x array and one line per (series, selected class), plus a mean-over-classes line per series,
// each with its style; and the interface of the chart that draws them (line-chart.ts: uPlot; the
// DOM tests: a fake). A series is a (run, name) pair (data/series.ts). Pure: no DOM, no uPlot.
import type { RunCurves } from "../data/types";
import type { Grid } from "../data/grid";
import type { MetricDef } from "../data/metrics";
import type { ColorBy, XAxis } from "../state/view-state";
import { smooth } from "../lib/smoothing";
import { DASHES, greyFor, meanColor, withAlpha } from "../ui/colors";
import type { Theme } from "../ui/theme";

export type Value = number | null;

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
  /** plotted (smoothed) values aligned to ChartModel.xs */
  values: Value[];
  /** unsmoothed values aligned to ChartModel.xs */
  raw: Value[];
  /** non-finite per-sample loss counts aligned to xs (class lines only) */
  nonfinite: Value[] | null;
  /** total non-finite losses of this class over all steps of this series */
  nonfiniteTotal: number;
  /** samples of this class with non-finite outputs aligned to xs (class lines only) */
  nonfiniteOutputs: Value[] | null;
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

/** Mean over classes of the finite values in one row. */
/** The mean over classes of step row `s` of a grid (values that are there only). */
export function rowMean(grid: Grid, s: number): Value {
  let sum = 0;
  let n = 0;
  for (let k = 0; k < grid.cols; k++) {
    const v = grid.at(s, k);
    if (v !== null && Number.isFinite(v)) {
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
    const at = xsRun.map((x) => pos.get(x));
    const stepAt: Value[] = new Array(xs.length).fill(null);
    xsRun.forEach((_, s) => {
      const p = at[s];
      if (p !== undefined) stepAt[p] = c.steps[s];
    });
    runs.push({ series: rc.key, stepAt });
    const matrix = inp.metric.extract(c);
    const dash = DASHES[inp.seriesDashes.get(rc.key) ?? 0]?.dash ?? [];
    const runColor = inp.seriesColors.get(rc.key) ?? "#425066";
    const clean = (v: Value | undefined): Value => {
      if (v === null || v === undefined || !Number.isFinite(v)) return null;
      if (inp.logScale && v <= 0) return null;
      return v;
    };
    // one run (or runs on the same steps): its steps are the x axis, nothing to move
    const identity = S === xs.length && at.every((p, s) => p === s);
    const align = (vals: Value[]): Value[] => {
      if (identity) return vals;
      const out: Value[] = new Array(xs.length).fill(null);
      for (let s = 0; s < S; s++) {
        const p = at[s];
        if (p !== undefined) out[p] = vals[s];
      }
      return out;
    };

    c.class_names.forEach((name, k) => {
      const g = classIndex.get(name);
      if (g === undefined || !inp.selected[g]) return;
      const rawRun: Value[] = new Array(S);
      const nfRun: Value[] = new Array(S);
      const nfOutRun: Value[] = new Array(S);
      let nfTotal = 0;
      for (let s = 0; s < S; s++) {
        rawRun[s] = clean(matrix.at(s, k) ?? undefined);
        const nf = c.nonfinite.at(s, k);
        nfRun[s] = nf;
        if (nf) nfTotal += nf;
        nfOutRun[s] = c.nonfinite_outputs.at(s, k);
      }
      const isHigh = rank.has(g);
      const isGrey = anyHighlight && !isHigh;
      const base = inp.colorBy === "run" ? runColor : (inp.classColors[g] ?? "#425066");
      const line: LineModel = {
        kind: "class",
        series: rc.key,
        run: rc.run,
        seriesLabel: rc.label,
        runIndex,
        classIndex: g,
        label: name,
        values: align(smooth(rawRun, inp.smoothing)),
        raw: align(rawRun),
        nonfinite: align(nfRun),
        nonfiniteTotal: nfTotal,
        nonfiniteOutputs: align(nfOutRun),
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
      const meanRaw: Value[] = new Array(S);
      for (let s = 0; s < S; s++) meanRaw[s] = clean(rowMean(matrix, s) ?? undefined);
      means.push({
        kind: "mean",
        series: rc.key,
        run: rc.run,
        seriesLabel: rc.label,
        runIndex,
        classIndex: -1,
        label: "mean of classes",
        values: align(smooth(meanRaw, inp.smoothing)),
        raw: align(meanRaw),
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
  for (const l of lines) l.markers = presentCount(l.values) === 1;
  return {
    xs,
    xLabel: unit.label,
    xUnitSeconds: unit.seconds,
    runs,
    lines,
  };
}

function presentCount(values: readonly Value[]): number {
  let n = 0;
  for (const v of values) if (v !== null) n++;
  return n;
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
