// The tab's view state: what the user chose. Persisted in localStorage (validated on load,
// so a stale or hand-edited entry never breaks the tab) and kept across self-refreshes.
import { clampSmoothing } from "./smoothing";
import type { ClassSelection } from "./selection";
import { METRICS, type MetricId } from "./metrics";

export const STORAGE_KEY = "tb-perclass.viewState.v1";

export type XAxis = "step" | "relative";
export type ColorBy = "class" | "run";
export type ViewId = "curves";

export interface ViewState {
  view: ViewId;
  /** the logger's tag prefix ("perclass" by default); null = pick automatically */
  name: string | null;
  /** runs the user unticked (new runs appear ticked, as in TensorBoard) */
  deselectedRuns: string[];
  metric: MetricId;
  xAxis: XAxis;
  logScale: boolean;
  smoothing: number;
  /** how many worst classes to colour; null = automatic (0 up to 10 classes, else 5) */
  worstN: number | null;
  /** run whose latest values rank the classes; null = automatic (validation-like run) */
  rankRun: string | null;
  colorBy: ColorBy;
  classFilter: string;
  classes: ClassSelection;
  /** x range the user zoomed to, null = everything */
  zoom: [number, number] | null;
  autoRefresh: boolean;
}

export function defaultState(): ViewState {
  return {
    view: "curves",
    name: null,
    deselectedRuns: [],
    metric: "loss",
    xAxis: "step",
    logScale: false,
    smoothing: 0,
    worstN: null,
    rankRun: null,
    colorBy: "class",
    classFilter: "",
    classes: { mode: "exclude", names: [] },
    zoom: null,
    autoRefresh: true,
  };
}

const isStr = (v: unknown): v is string => typeof v === "string";
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Reads a state from untrusted JSON: every invalid field falls back to its default. */
export function parseState(raw: unknown): ViewState {
  const s = defaultState();
  if (!raw || typeof raw !== "object") return s;
  const o = raw as Record<string, unknown>;
  if (o.view === "curves") s.view = o.view;
  if (o.name === null || isStr(o.name)) s.name = o.name;
  if (isStrArray(o.deselectedRuns)) s.deselectedRuns = o.deselectedRuns;
  if (isStr(o.metric) && METRICS.some((m) => m.id === o.metric)) s.metric = o.metric as MetricId;
  if (o.xAxis === "step" || o.xAxis === "relative") s.xAxis = o.xAxis;
  if (typeof o.logScale === "boolean") s.logScale = o.logScale;
  if (isNum(o.smoothing)) s.smoothing = clampSmoothing(o.smoothing);
  if (o.worstN === null || (isNum(o.worstN) && o.worstN >= 0)) {
    s.worstN = o.worstN === null ? null : Math.min(Math.floor(o.worstN), 1000);
  }
  if (o.rankRun === null || isStr(o.rankRun)) s.rankRun = o.rankRun;
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
