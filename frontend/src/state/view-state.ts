// The tab's view state: what the user chose, its choices and their defaults. Persisted in
// localStorage and mirrored into TensorBoard's URL hash for links (saved-state.ts reads it back
// from either, url-state.ts writes the links), kept across self-refreshes.
import type { ClassSelection } from "./selection";
import type { Viewport } from "../lib/zoom";

export type XAxis = "step" | "relative";
export type ColorBy = "class" | "run";
export type ViewId = "curves" | "confusion" | "report" | "scores" | "dynamics";
export type CurvesMode = "auto" | "lines" | "heatmap";
/** What the curves plot (data/metrics.ts defines each). */
export type MetricId =
  "loss" | "accuracy" | "precision" | "recall" | "f1" | "ap" | "auroc" | "ece" | "topk";
/** The matrix's cells: counts, or shares of their row or column. */
export type Norm = "counts" | "row" | "col";
/** The matrix's class order; "cluster" is the backend's order (confused classes together). */
export type Order = "index" | "name" | "error" | "cluster";
/** What the class-by-step heatmap's rows are sorted by. */
export type HeatSortKey = "index" | "name" | "final" | "trend" | "slope" | "gap";
export type TableKey =
  "index" | "name" | "precision" | "recall" | "f1" | "support" | "loss" | "tp" | "fp" | "fn" | "tn";
/** The report's columns: the table's, and those from score histograms. */
export type ReportKey = TableKey | "ap" | "auroc" | "ece" | "topk";

export const VIEW_IDS: readonly ViewId[] = ["curves", "confusion", "report", "scores", "dynamics"];
/** The Dynamics view's ranked lists. */
export type DynamicsListId = "errors" | "forgotten";
export const DYNAMICS_LISTS: readonly DynamicsListId[] = ["errors", "forgotten"];
/** The Scores view's chart: ROC, PR, or precision / recall / F1 against the threshold. */
export type ScoreCurve = "roc" | "pr" | "threshold";
export const SCORE_CURVES: readonly ScoreCurve[] = ["roc", "pr", "threshold"];
/** The Scores view's reliability diagram: all predictions, or the focused class's. */
export type ReliabilityScope = "overall" | "class";
export const RELIABILITY_SCOPES: readonly ReliabilityScope[] = ["overall", "class"];
/** The Scores view's table columns. */
export type ScoreKey =
  "index" | "name" | "positives" | "ap" | "auroc" | "ece" | "gap" | "f1" | "topk";
export const SCORE_KEYS: readonly ScoreKey[] = [
  "index",
  "name",
  "positives",
  "ap",
  "auroc",
  "ece",
  "gap",
  "f1",
  "topk",
];
export const METRIC_IDS: readonly MetricId[] = [
  "loss",
  "accuracy",
  "precision",
  "recall",
  "f1",
  "ap",
  "auroc",
  "ece",
  "topk",
];
export const NORMS: readonly Norm[] = ["counts", "row", "col"];
export const ORDERS: readonly Order[] = ["index", "name", "error", "cluster"];
export const HEAT_SORTS: readonly HeatSortKey[] = [
  "index",
  "name",
  "final",
  "trend",
  "slope",
  "gap",
];
export const TABLE_KEYS: readonly TableKey[] = [
  "index",
  "name",
  "precision",
  "recall",
  "f1",
  "support",
  "loss",
  "tp",
  "fp",
  "fn",
  "tn",
];
export const REPORT_KEYS: readonly ReportKey[] = [...TABLE_KEYS, "ap", "auroc", "ece", "topk"];
/** Above this many classes the curves area shows the class-by-step heatmap by default. */
export const HEATMAP_THRESHOLD = 50;

export interface Sort<K extends string> {
  key: K;
  desc: boolean;
}

/** Clicking the sorted column flips it; another column sorts by it (metrics worst first). */
export function nextSort<K extends ReportKey>(cur: Sort<K>, key: K): Sort<K> {
  if (cur.key === key) return { key, desc: !cur.desc };
  const ascFirst: ReportKey[] = [
    "index",
    "name",
    "precision",
    "recall",
    "f1",
    "tn",
    "tp",
    "ap",
    "auroc",
    "topk",
  ];
  return { key, desc: !ascFirst.includes(key) };
}

export interface DiffState {
  on: boolean;
  /** series (key) to compare with, of the same name; null = the matrix's own series */
  baseSeries: string | null;
  /** step to compare with; null = automatic (compare.ts defaultBaseStep: the first step of the
   * matrix's own series; of another series the step shown, else its latest) */
  baseStep: number | null;
}

/** Which kept mistakes the gallery shows: one confusion cell, every mistake of one true class,
 * the most confident mistakes overall, or one label's (multilabel) false positives / negatives. */
export type GalleryScope =
  | { kind: "cell"; true: number; pred: number }
  | { kind: "class"; true: number }
  | { kind: "overall" }
  | { kind: "label"; label: number; error: LabelError };
export type LabelError = "fp" | "fn" | "all";
export const LABEL_ERRORS: readonly LabelError[] = ["fp", "fn", "all"];
export type GallerySort = "score" | "loss";

export interface GalleryState {
  scope: GalleryScope;
  sort: GallerySort;
  /** the selected sample (samples/sample-info.ts sampleKey: its id, else its position); null = the first */
  selected: string | null;
  /** the large view of the selected sample is open */
  large: boolean;
}

export interface ViewState {
  view: ViewId;
  /** the group of compatible series shown (series.ts groupId); null = pick automatically.
   * Series (series.ts) are (run, name) pairs and are named by their key everywhere below. */
  group: string | null;
  /** series the user unticked (new series appear ticked, as runs in TensorBoard) */
  deselectedSeries: string[];
  /** the series list's filter text */
  seriesFilter: string;
  /** the sidebar's settings section open; null = automatic (closed when the series list is long) */
  settingsOpen: boolean | null;
  metric: MetricId;
  xAxis: XAxis;
  logScale: boolean;
  smoothing: number;
  /** how many worst classes to colour; null = automatic (autoWorstN) */
  worstN: number | null;
  /** series whose latest values rank the classes; null = the mean over the series shown */
  rankSeries: string | null;
  colorBy: ColorBy;
  classFilter: string;
  classes: ClassSelection;
  /** x range the user zoomed to, null = everything */
  zoom: [number, number] | null;
  autoRefresh: boolean;
  /** lines or the class-by-step heatmap in the curves area; auto = heatmap past HEATMAP_THRESHOLD classes */
  curvesMode: CurvesMode;
  /** the series of the one-series views (confusion, report, heatmap); null = automatic */
  series: string | null;
  /** the step of the confusion matrix and report; null = the latest (follows new steps) */
  step: number | null;
  norm: Norm;
  order: Order;
  /** log (symlog) colour scale for the matrix */
  logColor: boolean;
  /** colour scale over the off-diagonal cells only, diagonal greyed */
  errorsOnly: boolean;
  /** matrix zoom in display positions; null = whole matrix */
  cmZoom: Viewport | null;
  /** the class the user looked up (highlighted row and column) */
  focus: string | null;
  diff: DiffState;
  reportSort: Sort<ReportKey>;
  labelSort: Sort<TableKey>;
  /** heatmap rows: a key, in its natural order (worst first for values, trends and gaps;
   * index or A-Z for index and name), or reversed */
  heatSort: { key: HeatSortKey; reverse: boolean };
  /** class-by-step heatmap zoom (rows = display positions of classes, columns = step indices) */
  heatZoom: Viewport | null;
  /** the misclassified-samples gallery of the Confusion view; null = closed */
  gallery: GalleryState | null;
  /** Scores view: the chart shown */
  scoresCurve: ScoreCurve;
  /** Scores view: classes picked to draw (names); empty = automatic (scores-model.ts) */
  scoresClasses: string[];
  /** Scores view: the class of the reliability and threshold panels; null = the first drawn */
  scoresFocus: string | null;
  /** Scores view: the threshold dragged in the threshold chart (a probability); null = 0.5 */
  scoresThreshold: number | null;
  /** Scores view: overlay the train/validation counterpart of the series */
  scoresCompare: boolean;
  scoresReliability: ReliabilityScope;
  scoresSort: Sort<ScoreKey>;
  /** the Dynamics view's snapshot step; null = the latest (follows new snapshots) */
  dynamicsStep: number | null;
  /** the class (name) the Dynamics view shows; null = all classes */
  dynamicsClass: string | null;
  /** which ranked list the Dynamics view shows */
  dynamicsList: DynamicsListId;
}

export function defaultState(): ViewState {
  return {
    view: "curves",
    group: null,
    deselectedSeries: [],
    seriesFilter: "",
    settingsOpen: null,
    metric: "loss",
    xAxis: "step",
    logScale: false,
    smoothing: 0,
    worstN: null,
    rankSeries: null,
    colorBy: "class",
    classFilter: "",
    classes: { mode: "exclude", names: [] },
    zoom: null,
    autoRefresh: true,
    curvesMode: "auto",
    series: null,
    step: null,
    norm: "counts",
    order: "index",
    logColor: true,
    errorsOnly: false,
    cmZoom: null,
    focus: null,
    diff: { on: false, baseSeries: null, baseStep: null },
    reportSort: { key: "index", desc: false },
    labelSort: { key: "index", desc: false },
    heatSort: { key: "final", reverse: false },
    heatZoom: null,
    gallery: null,
    scoresCurve: "roc",
    scoresClasses: [],
    scoresFocus: null,
    scoresThreshold: null,
    scoresCompare: true,
    scoresReliability: "overall",
    scoresSort: { key: "ap", desc: false },
    dynamicsStep: null,
    dynamicsClass: null,
    dynamicsList: "errors",
  };
}

/** How many worst classes the tab highlights by default: none of a handful (every line stays
 * in colour), 3 of 6 to 10 (the few that lag stand out from the greyed rest), 5 of more. */
export function autoWorstN(numClasses: number): number {
  return numClasses > 10 ? 5 : numClasses >= 6 ? 3 : 0;
}

/** The worst-N count actually used. */
export function effectiveWorstN(s: ViewState, numClasses: number): number {
  return s.worstN ?? autoWorstN(numClasses);
}

/** Past this many rows in the series list the settings section starts closed (auto). */
export const LONG_SERIES_LIST = 8;

/** Whether the sidebar's settings section is open, with "auto" resolved for the series list's
 * length: closed when the list is long, so that its rows stay in view. */
export function effectiveSettingsOpen(s: ViewState, seriesRows: number): boolean {
  return s.settingsOpen ?? seriesRows <= LONG_SERIES_LIST;
}

/** Lines or heatmap, with "auto" resolved for a class count. */
export function effectiveCurvesMode(s: ViewState, numClasses: number): "lines" | "heatmap" {
  if (s.curvesMode !== "auto") return s.curvesMode;
  return numClasses > HEATMAP_THRESHOLD ? "heatmap" : "lines";
}
