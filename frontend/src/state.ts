// The tab's view state: what the user chose. Persisted in localStorage (validated on load,
// so a stale or hand-edited entry never breaks the tab), kept across self-refreshes, and
// mirrored into TensorBoard's URL hash for links (see urlstate.ts).
import { clampSmoothing } from "./smoothing";
import type { ClassSelection } from "./selection";
import { METRICS, type MetricId } from "./metrics";
import type { Norm, Order } from "./confusion";
import type { HeatSortKey } from "./classheat";
import { parseViewport, type Viewport } from "./zoom";
import { DEFAULT_NAME, seriesKey } from "./series";

export const STORAGE_KEY = "tb-perclass.viewState.v1";

export type XAxis = "step" | "relative";
export type ColorBy = "class" | "run";
export type ViewId = "curves" | "confusion" | "report";
export type CurvesMode = "auto" | "lines" | "heatmap";
export type TableKey = "index" | "name" | "precision" | "recall" | "f1" | "support" | "loss" | "tp" | "fp" | "fn" | "tn";

export const VIEW_IDS: readonly ViewId[] = ["curves", "confusion", "report"];
export const NORMS: readonly Norm[] = ["counts", "row", "col"];
export const ORDERS: readonly Order[] = ["index", "name", "error", "cluster"];
export const HEAT_SORTS: readonly HeatSortKey[] = ["index", "name", "final", "trend", "slope", "gap"];
export const TABLE_KEYS: readonly TableKey[] = ["index", "name", "precision", "recall", "f1", "support", "loss", "tp", "fp", "fn", "tn"];
/** Above this many classes the curves area shows the class-by-step heatmap by default. */
export const HEATMAP_THRESHOLD = 50;

export interface Sort<K extends string> {
  key: K;
  desc: boolean;
}

export interface DiffState {
  on: boolean;
  /** series (key) to compare with, of the same name; null = the matrix's own series */
  baseSeries: string | null;
  /** step to compare with; null = the base series' first step */
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
  /** the selected sample (samples.ts sampleKey: its id, else its position); null = the first */
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
  metric: MetricId;
  xAxis: XAxis;
  logScale: boolean;
  smoothing: number;
  /** how many worst classes to colour; null = automatic (0 up to 10 classes, else 5) */
  worstN: number | null;
  /** series whose latest values rank the classes; null = automatic (a validation series) */
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
  reportSort: Sort<TableKey>;
  labelSort: Sort<TableKey>;
  /** heatmap rows: a key, in its natural order (worst first for values, trends and gaps;
   * index or A-Z for index and name), or reversed */
  heatSort: { key: HeatSortKey; reverse: boolean };
  /** class-by-step heatmap zoom (rows = display positions of classes, columns = step indices) */
  heatZoom: Viewport | null;
  /** the misclassified-samples gallery of the Confusion view; null = closed */
  gallery: GalleryState | null;
}

export function defaultState(): ViewState {
  return {
    view: "curves",
    group: null,
    deselectedSeries: [],
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
  };
}

const isStr = (v: unknown): v is string => typeof v === "string";
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const oneOf = <T extends string>(v: unknown, options: readonly T[]): v is T => isStr(v) && (options as readonly string[]).includes(v);
const isStep = (v: unknown): v is number => isNum(v) && Number.isInteger(v);

const isIndex = (v: unknown): v is number => isStep(v) && v >= 0;

/** A gallery state from untrusted JSON, or null (closed) when it is not one. */
export function parseGallery(v: unknown): GalleryState | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  const sc = o.scope as Record<string, unknown> | null;
  if (!sc || typeof sc !== "object") return null;
  let scope: GalleryScope;
  if (sc.kind === "cell" && isIndex(sc.true) && isIndex(sc.pred)) scope = { kind: "cell", true: sc.true, pred: sc.pred };
  else if (sc.kind === "class" && isIndex(sc.true)) scope = { kind: "class", true: sc.true };
  else if (sc.kind === "overall") scope = { kind: "overall" };
  else if (sc.kind === "label" && isIndex(sc.label) && oneOf(sc.error, LABEL_ERRORS)) scope = { kind: "label", label: sc.label, error: sc.error };
  else return null;
  return {
    scope,
    sort: o.sort === "loss" ? "loss" : "score",
    selected: isStr(o.selected) && o.selected.length <= 500 ? o.selected : null,
    large: o.large === true,
  };
}

function parseSort<K extends string>(v: unknown, keys: readonly K[], fallback: Sort<K>): Sort<K> {
  const o = v as Record<string, unknown> | null;
  if (o && typeof o === "object" && oneOf(o.key, keys) && typeof o.desc === "boolean") return { key: o.key, desc: o.desc };
  return fallback;
}

/** Reads a state from untrusted JSON: every invalid field falls back to its default. */
export function parseState(raw: unknown): ViewState {
  const s = defaultState();
  if (!raw || typeof raw !== "object") return s;
  const o = raw as Record<string, unknown>;
  if (oneOf(o.view, VIEW_IDS)) s.view = o.view;
  if (o.group === null || isStr(o.group)) s.group = o.group;
  // states saved before series named runs, with one name for all of them
  const legacyName = isStr(o.name) ? o.name : DEFAULT_NAME;
  const legacy = (run: unknown): string | null | undefined => (isStr(run) ? seriesKey(run, legacyName) : run === null ? null : undefined);
  if (isStrArray(o.deselectedSeries)) s.deselectedSeries = o.deselectedSeries;
  else if (isStrArray(o.deselectedRuns)) s.deselectedSeries = o.deselectedRuns.map((r) => seriesKey(r, legacyName));
  if (isStr(o.metric) && METRICS.some((m) => m.id === o.metric)) s.metric = o.metric as MetricId;
  if (o.xAxis === "step" || o.xAxis === "relative") s.xAxis = o.xAxis;
  if (typeof o.logScale === "boolean") s.logScale = o.logScale;
  if (isNum(o.smoothing)) s.smoothing = clampSmoothing(o.smoothing);
  if (o.worstN === null || (isNum(o.worstN) && o.worstN >= 0)) {
    s.worstN = o.worstN === null ? null : Math.min(Math.floor(o.worstN), 1000);
  }
  const rank = "rankSeries" in o ? o.rankSeries : legacy(o.rankRun);
  if (rank === null || isStr(rank)) s.rankSeries = rank;
  if (o.colorBy === "class" || o.colorBy === "run") s.colorBy = o.colorBy;
  if (isStr(o.classFilter)) s.classFilter = o.classFilter;
  const c = o.classes as Record<string, unknown> | undefined;
  if (c && (c.mode === "include" || c.mode === "exclude") && isStrArray(c.names)) {
    s.classes = { mode: c.mode, names: c.names };
  }
  if (Array.isArray(o.zoom) && o.zoom.length === 2 && isNum(o.zoom[0]) && isNum(o.zoom[1]) && o.zoom[0] < o.zoom[1]) {
    s.zoom = [o.zoom[0], o.zoom[1]];
  }
  if (typeof o.autoRefresh === "boolean") s.autoRefresh = o.autoRefresh;
  if (oneOf(o.curvesMode, ["auto", "lines", "heatmap"] as const)) s.curvesMode = o.curvesMode;
  const focus = "series" in o ? o.series : legacy(o.run);
  if (focus === null || isStr(focus)) s.series = focus;
  if (o.step === null || isStep(o.step)) s.step = o.step;
  if (oneOf(o.norm, NORMS)) s.norm = o.norm;
  if (oneOf(o.order, ORDERS)) s.order = o.order;
  if (typeof o.logColor === "boolean") s.logColor = o.logColor;
  if (typeof o.errorsOnly === "boolean") s.errorsOnly = o.errorsOnly;
  s.cmZoom = parseViewport(o.cmZoom);
  if (o.focus === null || isStr(o.focus)) s.focus = o.focus;
  const d = o.diff as Record<string, unknown> | undefined;
  if (d && typeof d === "object") {
    s.diff = {
      on: typeof d.on === "boolean" ? d.on : false,
      baseSeries: isStr(d.baseSeries) ? d.baseSeries : isStr(d.baseRun) ? seriesKey(d.baseRun, legacyName) : null,
      baseStep: isStep(d.baseStep) ? d.baseStep : null,
    };
  }
  s.reportSort = parseSort(o.reportSort, TABLE_KEYS, s.reportSort);
  s.labelSort = parseSort(o.labelSort, TABLE_KEYS, s.labelSort);
  const hs = o.heatSort as Record<string, unknown> | null;
  if (hs && typeof hs === "object" && oneOf(hs.key, HEAT_SORTS) && typeof hs.reverse === "boolean") s.heatSort = { key: hs.key, reverse: hs.reverse };
  s.heatZoom = parseViewport(o.heatZoom);
  s.gallery = parseGallery(o.gallery);
  return s;
}

export function serializeState(s: ViewState): string {
  return JSON.stringify(s);
}

export function deserializeState(text: string | null): ViewState {
  if (!text) return defaultState();
  try {
    return parseState(JSON.parse(text));
  } catch {
    return defaultState();
  }
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function loadState(store: KeyValueStore | null): ViewState {
  if (!store) return defaultState();
  try {
    return deserializeState(store.getItem(STORAGE_KEY));
  } catch {
    return defaultState();
  }
}

export function saveState(store: KeyValueStore | null, s: ViewState): void {
  if (!store) return;
  try {
    store.setItem(STORAGE_KEY, serializeState(s));
  } catch {
    // storage full or disabled: the state just does not persist
  }
}

/** The worst-N count actually used. */
export function effectiveWorstN(s: ViewState, numClasses: number): number {
  if (s.worstN !== null) return s.worstN;
  return numClasses > 10 ? 5 : 0;
}

/** Lines or heatmap, with "auto" resolved for a class count. */
export function effectiveCurvesMode(s: ViewState, numClasses: number): "lines" | "heatmap" {
  if (s.curvesMode !== "auto") return s.curvesMode;
  return numClasses > HEATMAP_THRESHOLD ? "heatmap" : "lines";
}
