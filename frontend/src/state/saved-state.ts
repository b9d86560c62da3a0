// The view state read from untrusted JSON (localStorage, a link: every invalid field falls back
// to its default, so a stale or hand-edited entry never breaks the tab) and saved to localStorage.
import { clampSmoothing } from "../lib/smoothing";
import { parseViewport } from "../lib/zoom";
import { DEFAULT_NAME, seriesKey } from "./series-key";
import {
  defaultState,
  HEAT_SORTS,
  LABEL_ERRORS,
  METRIC_IDS,
  NORMS,
  ORDERS,
  RELIABILITY_SCOPES,
  REPORT_KEYS,
  SCORE_CURVES,
  SCORE_KEYS,
  TABLE_KEYS,
  VIEW_IDS,
  DYNAMICS_LISTS,
  type GalleryScope,
  type GalleryState,
  type Sort,
  type ViewState,
} from "./view-state";

export const STORAGE_KEY = "tb-perclass.viewState.v1";

const isStr = (v: unknown): v is string => typeof v === "string";
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const oneOf = <T extends string>(v: unknown, options: readonly T[]): v is T =>
  isStr(v) && (options as readonly string[]).includes(v);
const isStep = (v: unknown): v is number => isNum(v) && Number.isInteger(v);

const isIndex = (v: unknown): v is number => isStep(v) && v >= 0;

/** A gallery state from untrusted JSON, or null (closed) when it is not one. */
export function parseGallery(v: unknown): GalleryState | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  const sc = o.scope as Record<string, unknown> | null;
  if (!sc || typeof sc !== "object") return null;
  let scope: GalleryScope;
  if (sc.kind === "cell" && isIndex(sc.true) && isIndex(sc.pred))
    scope = { kind: "cell", true: sc.true, pred: sc.pred };
  else if (sc.kind === "class" && isIndex(sc.true)) scope = { kind: "class", true: sc.true };
  else if (sc.kind === "overall") scope = { kind: "overall" };
  else if (sc.kind === "label" && isIndex(sc.label) && oneOf(sc.error, LABEL_ERRORS))
    scope = { kind: "label", label: sc.label, error: sc.error };
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
  if (o && typeof o === "object" && oneOf(o.key, keys) && typeof o.desc === "boolean")
    return { key: o.key, desc: o.desc };
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
  const legacy = (run: unknown): string | null | undefined =>
    isStr(run) ? seriesKey(run, legacyName) : run === null ? null : undefined;
  if (isStrArray(o.deselectedSeries)) s.deselectedSeries = o.deselectedSeries;
  else if (isStrArray(o.deselectedRuns))
    s.deselectedSeries = o.deselectedRuns.map((r) => seriesKey(r, legacyName));
  if (isStr(o.seriesFilter)) s.seriesFilter = o.seriesFilter;
  if (o.settingsOpen === null || typeof o.settingsOpen === "boolean")
    s.settingsOpen = o.settingsOpen;
  if (oneOf(o.metric, METRIC_IDS)) s.metric = o.metric;
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
  if (
    Array.isArray(o.zoom) &&
    o.zoom.length === 2 &&
    isNum(o.zoom[0]) &&
    isNum(o.zoom[1]) &&
    o.zoom[0] < o.zoom[1]
  ) {
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
      baseSeries: isStr(d.baseSeries)
        ? d.baseSeries
        : isStr(d.baseRun)
          ? seriesKey(d.baseRun, legacyName)
          : null,
      baseStep: isStep(d.baseStep) ? d.baseStep : null,
    };
  }
  s.reportSort = parseSort(o.reportSort, REPORT_KEYS, s.reportSort);
  s.labelSort = parseSort(o.labelSort, TABLE_KEYS, s.labelSort);
  const hs = o.heatSort as Record<string, unknown> | null;
  if (hs && typeof hs === "object" && oneOf(hs.key, HEAT_SORTS) && typeof hs.reverse === "boolean")
    s.heatSort = { key: hs.key, reverse: hs.reverse };
  s.heatZoom = parseViewport(o.heatZoom);
  s.gallery = parseGallery(o.gallery);
  if (oneOf(o.scoresCurve, SCORE_CURVES)) s.scoresCurve = o.scoresCurve;
  if (isStrArray(o.scoresClasses)) s.scoresClasses = o.scoresClasses.slice(0, 64);
  if (o.scoresFocus === null || isStr(o.scoresFocus)) s.scoresFocus = o.scoresFocus;
  if (o.scoresThreshold === null || (isNum(o.scoresThreshold) && o.scoresThreshold >= 0))
    s.scoresThreshold = o.scoresThreshold === null ? null : Math.min(1, o.scoresThreshold);
  if (typeof o.scoresCompare === "boolean") s.scoresCompare = o.scoresCompare;
  if (oneOf(o.scoresReliability, RELIABILITY_SCOPES)) s.scoresReliability = o.scoresReliability;
  s.scoresSort = parseSort(o.scoresSort, SCORE_KEYS, s.scoresSort);
  if (o.dynamicsStep === null || isStep(o.dynamicsStep)) s.dynamicsStep = o.dynamicsStep;
  if (o.dynamicsClass === null || isStr(o.dynamicsClass)) s.dynamicsClass = o.dynamicsClass;
  if (oneOf(o.dynamicsList, DYNAMICS_LISTS)) s.dynamicsList = o.dynamicsList;
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
