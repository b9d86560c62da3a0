// The Per-Class tab: loads data, owns the view state and the sidebar, and hands the
// main area to a view. Refreshes itself (TensorBoard's reload does not reach plugin iframes).
import { h, setChildren } from "./dom";
import type { Api } from "./api";
import type { ChartFactory } from "./chart";
import type { CurvesResponse, RunCurves, Skip, TagInfo, TagsResponse } from "./types";
import {
  effectiveCurvesMode,
  effectiveWorstN,
  HEATMAP_THRESHOLD,
  loadState,
  saveState,
  type KeyValueStore,
  type ViewId,
  type ViewState,
} from "./state";
import { IN_RANGE_TITLE, METRICS, metricById, metricForTask, type MetricDef } from "./metrics";
import { latestValues, worstN } from "./ranking";
import {
  matchesFilter,
  normalize,
  selectAll,
  selectionPredicate,
  selectNone,
  selectOnly,
  setSelected,
} from "./selection";
import { unionClassNames } from "./runs";
import {
  allSeries,
  chooseGroup,
  chooseRankSeries,
  counterpartSeries,
  DEFAULT_NAME,
  groupId,
  groupLabel,
  groupSeries,
  groupTitle,
  seriesKey,
  seriesLabel,
  splitOfSeries,
  type Series,
  type SeriesGroup,
} from "./series";
import { classFlags, factNotices, seriesFacts, type ClassFlag, type SeriesFactsOf } from "./facts";
import { reportingSkipped, SkippedLog, skippedText, type SkipSource } from "./skipped";
import { assignDashes, classColors, DASHES, runColor } from "./colors";
import { clampSmoothing } from "./smoothing";
import { dashSample, nonfiniteBadge, nonfiniteOutputsBadge, segmented, swatch } from "./widgets";
import { CurvesView } from "./views/curves";
import { ClassHeatmapView } from "./views/classheat";
import { ConfusionView } from "./views/confusion";
import { MistakesView } from "./views/mistakes";
import { ReportView } from "./views/report";
import type { View, ViewContext } from "./views/view";
import { decodeLink, LinkSync } from "./urlstate";
import { currentTheme } from "./theme";

export const REFRESH_SECONDS = 30;

export interface AppDeps {
  api: Api;
  storage: KeyValueStore | null;
  chartFactory: ChartFactory;
  refreshMs?: number;
  now?: () => Date;
  /** TensorBoard's window, whose URL hash carries the view state for links (null: none) */
  linkWindow?: Window | null;
  /** wait after the last step-slider move before loading that step (ms) */
  stepDebounceMs?: number;
  /** wait for the state to settle before writing it into the URL (ms) */
  linkDelayMs?: number;
}

/** "mistakes": the Confusion tab of a run that keeps samples but records no matrix */
type ActiveView = "lines" | "heatmap" | "confusion" | "mistakes" | "report";

const VIEW_TABS: { id: ViewId; label: string; title: string }[] = [
  { id: "curves", label: "Curves", title: "Per-class learning curves (lines, or a class-by-step heatmap)" },
  { id: "confusion", label: "Confusion", title: "Confusion matrix at a step, most-confused pairs, diffs" },
  { id: "report", label: "Report", title: "Precision, recall, F1, support and loss per class at a step" },
];

export const EMPTY_SNIPPET = `from tb_perclass import PerClassWriter

pc = PerClassWriter("runs/exp1/train", class_names=CLASSES)
for epoch in range(epochs):
    for x, y in train_loader:
        logits = model(x)
        ...
        pc.update(logits, y)      # per-class loss and accuracy, accumulated
    pc.write(step=epoch)          # one summary per step, then reset`;

interface Derived {
  /** every series of the tags route (the one-series views list them all, by group) */
  everySeries: Series[];
  groups: SeriesGroup[];
  group: SeriesGroup | null;
  /** the group's series, in display order */
  series: Series[];
  /** the group's series the user has ticked */
  selectedSeries: Series[];
  seriesColors: Map<string, string>;
  seriesDashes: Map<string, number>;
  classNames: string[];
  selected: boolean[];
  loaded: RunCurves[];
  /** key of the series that ranks the classes */
  rankSeries: string | null;
  latest: (number | null)[];
  worst: number[];
  classColors: string[];
  /** the facts of the series shown: the ticked ones (lines), else the one-series views' one */
  shownFacts: SeriesFactsOf[];
  /** per class name, over shownFacts */
  flags: Map<string, ClassFlag>;
  metric: MetricDef;
  /** keys of the group's series that have confusion matrices */
  confusionSeries: string[];
  /** keys of the group's series the Confusion tab can show: a matrix, or kept samples without one (confusion=False) */
  gallerySeries: string[];
  active: ActiveView;
  /** the series of the one-series views */
  focus: Series | null;
  /** the group's task */
  task: string | null;
}

/** Which series the tags offer and which of them the state picks (before any curves load). */
interface Picked {
  everySeries: Series[];
  groups: SeriesGroup[];
  group: SeriesGroup | null;
  series: Series[];
  focus: Series | null;
}

export class App {
  state: ViewState;
  private tags: TagsResponse | null = null;
  /** curves by series key */
  private curves = new Map<string, CurvesResponse>();
  /** curves route errors by series key */
  private runErrors = new Map<string, string>();
  private skipped = new SkippedLog();
  /** deps.api, reporting the malformed steps its answers list */
  private readonly api: Api;
  private loadError: string | null = null;
  private lastLoaded: Date | null = null;
  private loading = false;
  private token = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private derived: Derived | null = null;
  private dataVersion = 0;
  private classListKey = "";
  private refreshId = 0;
  private view: View;
  private views: Record<ActiveView, View>;
  private link: LinkSync;
  private readonly refreshMs: number;
  private readonly now: () => Date;

  // layout
  readonly root: HTMLElement;
  private sidebar: HTMLElement;
  private main: HTMLElement;
  private titleEl: HTMLElement;
  private statusEl: HTMLElement;
  private reloadBtn: HTMLButtonElement;
  private autoBox: HTMLInputElement;
  private notices: HTMLElement;
  private viewBox: HTMLElement;
  private tabs: HTMLElement;
  private settingsBox: HTMLElement;
  private curvesSettings: HTMLElement;
  private modeSeg;
  private curvesOnlyFields: HTMLElement[] = [];
  // sidebar controls
  private metricSeg;
  private xSeg;
  private colorSeg;
  private smoothRange: HTMLInputElement;
  private smoothNum: HTMLInputElement;
  private logBox: HTMLInputElement;
  private logLabel: HTMLElement;
  private worstNum: HTMLInputElement;
  private rankSelect: HTMLSelectElement;
  private groupSection: HTMLElement;
  private groupSelect: HTMLSelectElement;
  private runsSection: HTMLElement;
  private runList: HTMLElement;
  private runsCount: HTMLElement;
  private classSection: HTMLElement;
  private search: HTMLInputElement;
  private classCount: HTMLElement;
  private classList: HTMLElement;

  constructor(
    container: HTMLElement,
    private readonly deps: AppDeps,
  ) {
    this.state = loadState(deps.storage);
    this.api = reportingSkipped(deps.api, (source, list) => this.onSkipped(source, list));
    // a link (TensorBoard's URL hash) wins over what this browser last showed
    this.link = new LinkSync(deps.linkWindow ?? null, deps.linkDelayMs ?? 0);
    const token = this.link.read();
    const linked = token ? decodeLink(token, this.state) : null;
    if (linked) {
      this.state = linked;
      saveState(deps.storage, this.state);
    }
    this.refreshMs = deps.refreshMs ?? REFRESH_SECONDS * 1000;
    this.now = deps.now ?? (() => new Date());

    // toolbar
    this.titleEl = h("div", { class: "pc-title", attrs: { "data-role": "title" } }, "Per-Class");
    this.statusEl = h("span", { class: "pc-status", attrs: { "data-role": "status", "aria-live": "polite" } }, "Loading…");
    this.reloadBtn = h(
      "button",
      { class: "pc-button", title: "Reload data now", attrs: { type: "button", "data-role": "reload" }, on: { click: () => void this.refresh() } },
      "⟳ Reload",
    );
    this.autoBox = h("input", {
      attrs: { type: "checkbox", "data-role": "auto-refresh" },
      on: { change: () => this.setState({ autoRefresh: this.autoBox.checked }, { rerender: false }) },
    });
    const autoLabel = h(
      "label",
      { class: "pc-check pc-status", title: `Reload every ${REFRESH_SECONDS} s while this tab is visible` },
      this.autoBox,
      `Auto-refresh (${REFRESH_SECONDS} s)`,
    );
    this.tabs = h("nav", { class: "pc-tabs", attrs: { role: "tablist", "data-role": "view-tabs" } });
    const toolbar = h("div", { class: "pc-toolbar" }, this.tabs, this.titleEl, h("div", { class: "pc-spacer" }), this.statusEl, autoLabel, this.reloadBtn);
    this.notices = h("div", { class: "pc-notices", attrs: { "data-role": "notices" } });
    this.viewBox = h("div", { class: "pc-view" });
    this.main = h("main", { class: "pc-main" }, toolbar, this.notices, this.viewBox);

    // settings
    this.metricSeg = segmented(
      "metric",
      METRICS.map((m) => ({ value: m.id, label: m.label })),
      (v) => this.setState({ metric: v }),
    );
    this.metricSeg.el.classList.add("pc-seg-compact");
    this.smoothRange = h("input", {
      class: "pc-slider",
      attrs: { type: "range", min: 0, max: 0.999, step: 0.001, "data-control": "smoothing", "aria-label": "Smoothing" },
      on: { input: () => this.setSmoothing(Number(this.smoothRange.value)) },
    });
    this.smoothNum = h("input", {
      class: "pc-num",
      attrs: { type: "number", min: 0, max: 0.999, step: 0.01, "aria-label": "Smoothing value" },
      on: { change: () => this.setSmoothing(Number(this.smoothNum.value)) },
    });
    this.xSeg = segmented(
      "x-axis",
      [
        { value: "step", label: "Step" },
        { value: "relative", label: "Relative", title: "Wall time since each run's first step" },
      ],
      (v) => this.setState({ xAxis: v, zoom: null }),
    );
    this.logBox = h("input", {
      attrs: { type: "checkbox", "data-control": "log-scale" },
      on: { change: () => this.setState({ logScale: this.logBox.checked }) },
    });
    this.logLabel = h("label", { class: "pc-check" }, this.logBox, "Log scale (loss)");
    this.worstNum = h("input", {
      class: "pc-num",
      attrs: { type: "number", min: 0, max: 100, step: 1, "data-control": "worst-n", "aria-label": "Number of worst classes to highlight" },
      on: {
        change: () => {
          const n = Math.max(0, Math.min(100, Math.floor(Number(this.worstNum.value) || 0)));
          this.setState({ worstN: n });
        },
      },
    });
    this.rankSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "rank-run", "aria-label": "Series that ranks the classes" },
      on: { change: () => this.setState({ rankSeries: this.rankSelect.value || null }) },
    });
    this.colorSeg = segmented(
      "color-by",
      [
        { value: "class", label: "Class" },
        { value: "run", label: "Run" },
      ],
      (v) => this.setState({ colorBy: v }),
    );
    this.modeSeg = segmented(
      "curves-mode",
      [
        { value: "lines", label: "Lines", title: "One line per class and run" },
        { value: "heatmap", label: "Heatmap", title: `One row per class, one column per step (the default above ${HEATMAP_THRESHOLD} classes)` },
      ],
      (v) => this.setState({ curvesMode: v }),
    );
    const xField = field("Horizontal axis", this.xSeg.el);
    const worstField = field(
      "Highlight worst classes",
      h("div", { class: "pc-row" }, this.worstNum, h("span", { class: "pc-hint-inline" }, "ranked by their latest value in")),
      h("div", { class: "pc-row pc-row-gap" }, this.rankSelect),
    );
    const colorField = field("Colour lines by", this.colorSeg.el);
    this.curvesOnlyFields = [xField, worstField, colorField];
    this.curvesSettings = h(
      "section",
      { class: "pc-section", attrs: { "data-role": "settings" } },
      h("div", { class: "pc-section-title" }, "Settings"),
      field("Show as", this.modeSeg.el),
      field("Metric", this.metricSeg.el),
      field("Smoothing", h("div", { class: "pc-row" }, this.smoothRange, this.smoothNum)),
      xField,
      field(null, this.logLabel),
      worstField,
      colorField,
    );
    this.settingsBox = h("div", { class: "pc-settings-box" }, this.curvesSettings);

    this.groupSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "group", "aria-label": "Class set" },
      on: { change: () => this.setState({ group: this.groupSelect.value, zoom: null }) },
    });
    this.groupSection = h(
      "section",
      {
        class: "pc-section",
        title: "Series (run and name) with the same task and classes are overlaid; the others are another class set",
        attrs: { "data-role": "groups" },
      },
      h("div", { class: "pc-section-title" }, "Class set"),
      this.groupSelect,
    );

    this.runsCount = h("span", { class: "pc-count" });
    this.runList = h("div", { class: "pc-run-list", attrs: { "data-role": "runs" } });
    this.runsSection = h(
      "section",
      { class: "pc-section" },
      h("div", { class: "pc-section-title" }, "Runs", this.runsCount),
      this.runList,
    );

    this.search = h("input", {
      class: "pc-search",
      attrs: { type: "search", placeholder: "Filter classes", "data-control": "class-search", "aria-label": "Filter classes" },
      on: {
        input: () => {
          this.state.classFilter = this.search.value;
          this.persist();
          this.renderClassList();
        },
      },
    });
    this.classCount = h("span", { class: "pc-count", attrs: { "data-role": "class-count" } });
    const linkBtn = (label: string, role: string, title: string, fn: () => void) =>
      h("button", { class: "pc-linkbtn", title, attrs: { type: "button", "data-role": role }, on: { click: fn } }, label);
    const actions = h(
      "div",
      { class: "pc-class-actions" },
      linkBtn("All", "select-all", "Show every class", () => this.setClasses(selectAll())),
      linkBtn("None", "select-none", "Hide every class", () => this.setClasses(selectNone())),
      linkBtn("Only matching", "select-filtered", "Show only the classes matching the filter", () =>
        this.setClasses(selectOnly(this.filteredClasses())),
      ),
      linkBtn("Only worst", "select-worst", "Show only the highlighted worst classes", () => {
        const d = this.derived;
        if (d) this.setClasses(selectOnly(d.worst.map((g) => d.classNames[g])));
      }),
    );
    this.classList = h("div", { class: "pc-class-list", attrs: { "data-role": "classes", role: "list" } });
    this.classSection = h(
      "section",
      { class: "pc-section pc-classes" },
      h("div", { class: "pc-section-title" }, "Classes", this.classCount),
      this.search,
      actions,
      this.classList,
    );

    this.sidebar = h(
      "aside",
      { class: "pc-sidebar", attrs: { "data-role": "sidebar" } },
      // what is shown first (class set, series), then how: with several series and class sets the
      // list would otherwise scroll out of view below the settings
      h("div", { class: "pc-sidebar-top" }, this.groupSection, this.runsSection, this.settingsBox),
      this.classSection,
    );
    this.root = h("div", { class: "pc-root" }, this.sidebar, this.main);
    container.appendChild(this.root);

    this.views = {
      lines: new CurvesView(deps.chartFactory),
      heatmap: new ClassHeatmapView(),
      confusion: new ConfusionView({ debounceMs: deps.stepDebounceMs }),
      mistakes: new MistakesView(),
      report: new ReportView(),
    };
    this.view = this.views.lines;
    this.syncControls();
    this.sidebar.hidden = true;
    setChildren(this.viewBox, h("div", { class: "pc-loading" }, "Loading per-class data…"));
  }

  /** First load, then the periodic refresh. */
  async start(): Promise<void> {
    await this.refresh();
    this.link.listen((token) => {
      const next = decodeLink(token, this.state);
      if (!next) return;
      this.state = next;
      saveState(this.deps.storage, this.state);
      void this.loadMissing();
      this.render();
    });
    this.timer = setInterval(() => {
      const hidden = typeof document !== "undefined" && document.visibilityState === "hidden";
      if (this.state.autoRefresh && !hidden && !this.loading) void this.refresh();
    }, this.refreshMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.link.stop();
    for (const v of Object.values(this.views)) v.destroy();
  }

  /** Reloads tags and the shown series' curves; keeps the view state. */
  async refresh(): Promise<void> {
    const token = ++this.token;
    this.loading = true;
    this.renderStatus();
    try {
      const tags = await this.deps.api.tags();
      if (token !== this.token) return;
      this.tags = tags;
      this.loadError = null;
      const wanted = this.seriesToLoad(tags);
      // curves of series no longer shown would go stale: they are fetched again when needed
      const keep = new Set(wanted.map((s) => s.key));
      for (const key of [...this.curves.keys()]) if (!keep.has(key)) this.curves.delete(key);
      for (const key of [...this.runErrors.keys()]) if (!keep.has(key)) this.runErrors.delete(key);
      await this.fetchCurves(wanted, token);
      if (token !== this.token) return;
      this.lastLoaded = this.now();
      this.refreshId++;
    } catch (e) {
      if (token !== this.token) return;
      this.loadError = (e as Error).message || String(e);
    } finally {
      if (token === this.token) this.loading = false;
    }
    this.render();
  }

  private async fetchCurves(series: Series[], token: number): Promise<void> {
    await Promise.all(
      series.map(async (s) => {
        try {
          const c = await this.api.curves(s.run, s.name);
          if (token !== this.token) return;
          this.curves.set(s.key, c);
          this.dataVersion++;
          this.runErrors.delete(s.key);
        } catch (e) {
          if (token !== this.token) return;
          this.runErrors.set(s.key, (e as Error).message || String(e));
        }
      }),
    );
  }

  /** Loads the curves of newly ticked series (or another group) without a full refresh. */
  private async loadMissing(): Promise<void> {
    if (!this.tags) return;
    const missing = this.seriesToLoad(this.tags).filter((s) => !this.curves.has(s.key) && !this.runErrors.has(s.key));
    if (!missing.length) return;
    const token = this.token;
    await this.fetchCurves(missing, token);
    if (token === this.token) this.render();
  }

  /** The series the tags offer, the group shown and the one-series views' series. */
  private pick(tags: TagsResponse): Picked {
    const everySeries = allSeries(tags);
    const groups = groupSeries(everySeries);
    // no group picked yet: the one of the series picked (a link, or a state from before groups)
    const focused = everySeries.find((x) => x.key === this.state.series);
    const group = chooseGroup(groups, this.state.group ?? (focused ? groupId(focused.info.task, focused.info.class_names) : null));
    const series = group?.series ?? [];
    return { everySeries, groups, group, series, focus: this.chooseFocus(series) };
  }

  /** The series whose curves are needed: the ticked ones; in the one-series views also their
   * series (its facts: non-finite values, elements outside the matrix) and, for the heatmap's
   * gap, its train/validation counterpart. */
  private seriesToLoad(tags: TagsResponse): Series[] {
    const { group, series, focus } = this.pick(tags);
    const want = new Set(series.filter((s) => !this.state.deselectedSeries.includes(s.key)).map((s) => s.key));
    const lines = this.state.view === "curves" && effectiveCurvesMode(this.state, group?.classNames.length ?? 0) === "lines";
    if (focus && !lines) {
      want.add(focus.key);
      const other = this.state.view === "curves" ? counterpartSeries(focus, series) : null;
      if (other) want.add(other.key);
    }
    return series.filter((s) => want.has(s.key));
  }

  /** The series of the one-series views: the user's pick, else a validation series, else the
   * first; for the report only series with confusion matrices qualify, for the Confusion tab
   * also series that keep samples without a matrix (their gallery stands alone). */
  private chooseFocus(series: Series[]): Series | null {
    const view = this.state.view;
    return chooseRankSeries(
      series.filter((s) => eligibleFor(view, s.info)),
      this.state.series,
    );
  }

  /** An answer listed malformed steps: show them (once; the user may dismiss them). */
  private onSkipped(source: SkipSource, list: Skip[]): void {
    if (this.skipped.add(source, list) && this.derived) this.renderNotices();
  }

  setState(patch: Partial<ViewState>, opts: { rerender?: boolean } = {}): void {
    Object.assign(this.state, patch);
    this.persist();
    if (opts.rerender === false) return;
    if ("group" in patch || "deselectedSeries" in patch || "series" in patch || "view" in patch || "curvesMode" in patch) void this.loadMissing();
    this.render();
  }

  private setSmoothing(v: number): void {
    this.setState({ smoothing: clampSmoothing(v) });
  }

  private setClasses(sel: ViewState["classes"]): void {
    const d = this.derived;
    this.setState({ classes: d ? normalize(sel, d.classNames) : sel });
  }

  private persist(): void {
    saveState(this.deps.storage, this.state);
    this.link.write(this.state);
  }

  private filteredClasses(): string[] {
    const d = this.derived;
    if (!d) return [];
    return d.classNames.filter((n) => matchesFilter(n, this.state.classFilter));
  }

  private derive(): Derived | null {
    const tags = this.tags;
    if (!tags) return null;
    const s = this.state;
    const { everySeries, groups, group, series, focus } = this.pick(tags);
    const theme = currentTheme();
    const seriesColors = new Map(everySeries.map((x, i) => [x.key, runColor(i, theme)]));
    const byKey = new Map(series.map((x) => [x.key, x]));
    const seriesDashes = assignDashes(
      series.map((x) => x.key),
      (key) => splitOfSeries(byKey.get(key)!),
    );
    const selectedSeries = series.filter((x) => !s.deselectedSeries.includes(x.key));
    const loaded: RunCurves[] = selectedSeries
      .filter((x) => this.curves.has(x.key))
      .map((x) => ({ key: x.key, run: x.run, name: x.name, label: seriesLabel(x), curves: this.curves.get(x.key)! }));
    const union = unionClassNames([group?.classNames ?? [], ...loaded.map((rc) => rc.curves.class_names)]);
    const confusionSeries = series.filter((x) => hasConfusion(x.info)).map((x) => x.key);
    const gallerySeries = series.filter((x) => showsInConfusionTab(x.info)).map((x) => x.key);
    const samplesOnly = focus !== null && !hasConfusion(focus.info);
    const active: ActiveView =
      s.view === "curves" ? effectiveCurvesMode(s, union.length) : s.view === "confusion" ? (samplesOnly ? "mistakes" : "confusion") : "report";
    // the one-series views list that series' own classes
    const focusCurves = focus ? this.curves.get(focus.key) : undefined;
    let classNames = union;
    if (active !== "lines" && focus !== null) {
      const own = focusCurves?.class_names ?? focus.info.class_names;
      if (own.length) classNames = own;
    }
    const pred = selectionPredicate(s.classes);
    const selected = classNames.map(pred);
    // precision/recall/F1 need tp/fp/fn: without them in any loaded series, show the loss
    let metric = metricById(s.metric);
    if (loaded.length && !loaded.some((rc) => metric.available(rc.curves))) metric = metricById("loss");
    const task = group?.task ?? null;
    metric = metricForTask(metric, task);
    const rankSeries = active !== "lines" && focus !== null && focusCurves ? focus.key : chooseRankSeries(loaded, s.rankSeries)?.key ?? null;
    let latest: (number | null)[] = classNames.map(() => null);
    const rankCurves = rankSeries !== null ? this.curves.get(rankSeries) : undefined;
    if (rankCurves) {
      const perSeries = latestValues(metric.extract(rankCurves), rankCurves.class_names.length);
      const at = new Map(rankCurves.class_names.map((n, k) => [n, k]));
      latest = classNames.map((n) => {
        const k = at.get(n);
        return k === undefined ? null : perSeries[k];
      });
    }
    const n = effectiveWorstN(s, classNames.length);
    const worst = worstN(latest, n, metric.higherIsBetter, (i) => selected[i]);
    // facts are the series' own: the one-series views show only their series' facts
    const shownFacts: SeriesFactsOf[] = (
      active === "lines" ? loaded : focus && focusCurves ? [{ key: focus.key, label: seriesLabel(focus), curves: focusCurves }] : []
    ).map((x) => ({ key: x.key, label: x.label, classNames: x.curves.class_names, facts: seriesFacts(x.curves) }));
    return {
      everySeries,
      groups,
      group,
      series,
      selectedSeries,
      seriesColors,
      seriesDashes,
      classNames,
      selected,
      loaded,
      rankSeries,
      latest,
      worst,
      classColors: classColors(classNames.length, worst, theme),
      shownFacts,
      flags: classFlags(shownFacts),
      metric,
      confusionSeries,
      gallerySeries,
      active,
      focus,
      task,
    };
  }

  /** The page switched between light and dark: redraw, as the canvases and the run and class
   * colours take the theme's colours when drawn (the CSS follows by itself). */
  retheme(): void {
    if (this.tags) this.render();
  }

  /** Re-renders everything from the state and the loaded data. */
  render(): void {
    this.derived = this.derive();
    this.syncControls();
    this.renderStatus();
    this.renderNotices();
    const d = this.derived;
    if (!d) {
      // nothing loaded yet (first load failed): the notice says why
      this.sidebar.hidden = true;
      if (this.loadError) setChildren(this.viewBox, h("div", { class: "pc-message" }, "The per-class data could not be loaded."));
      return;
    }
    if (d.group === null) {
      this.sidebar.hidden = true;
      this.renderEmpty();
      return;
    }
    this.sidebar.hidden = false;
    this.renderTabs(d);
    this.renderTitle(d);
    this.renderGroups(d);
    this.renderRuns(d);
    this.renderClassList();
    this.view = this.views[d.active];
    const settings = d.active === "lines" || d.active === "heatmap" ? this.curvesSettings : this.view.settings;
    this.settingsBox.hidden = settings === null;
    if (settings && settings.parentNode !== this.settingsBox) setChildren(this.settingsBox, settings);
    if (this.view.element.parentNode !== this.viewBox) setChildren(this.viewBox, this.view.element);
    this.view.update(this.viewContext(d));
  }

  private renderTabs(d: Derived): void {
    const s = this.state;
    setChildren(
      this.tabs,
      ...VIEW_TABS.map((t) => {
        const eligible = t.id === "curves" ? d.series : t.id === "confusion" ? d.gallerySeries : d.confusionSeries;
        const disabled = eligible.length === 0;
        const active = s.view === t.id;
        return h(
          "button",
          {
            class: active ? "pc-tab pc-active" : "pc-tab",
            title: disabled ? tabDisabledTitle(t.id) : t.id === "confusion" && d.confusionSeries.length === 0 ? SAMPLES_ONLY_TAB_TITLE : t.title,
            attrs: { type: "button", role: "tab", "aria-selected": String(active), "data-role": "view-tab", "data-value": t.id, disabled },
            on: { click: () => this.setState({ view: t.id }) },
          },
          t.label,
        );
      }),
    );
  }

  private viewContext(d: Derived): ViewContext {
    const rank = d.rankSeries !== null ? d.series.find((x) => x.key === d.rankSeries) : undefined;
    return {
      state: this.state,
      api: this.api,
      tags: this.tags!,
      group: d.series,
      series: d.focus,
      run: d.focus?.run ?? null,
      name: d.focus?.name ?? d.series[0]?.name ?? DEFAULT_NAME,
      curvesOf: (key) => this.curves.get(key),
      refreshId: this.refreshId,
      info: d.series[0]?.info,
      runs: d.loaded,
      classNames: d.classNames,
      selected: d.selected,
      metric: d.metric,
      worst: d.worst,
      classColors: d.classColors,
      latest: d.latest,
      rankLabel: rank ? seriesLabel(rank) : null,
      seriesColors: d.seriesColors,
      seriesDashes: d.seriesDashes,
      setState: (patch, opts) => this.setState(patch, opts),
    };
  }

  private syncControls(): void {
    const s = this.state;
    const d0 = this.derived;
    const metric = d0?.metric ?? metricById(s.metric);
    const anyCounts = !!d0 && d0.loaded.some((rc) => !!rc.curves.tp);
    this.metricSeg.set(metric.id, { precision: !anyCounts, recall: !anyCounts, f1: !anyCounts });
    const accuracyBtn = this.metricSeg.el.querySelector<HTMLElement>("[data-value=accuracy]");
    if (accuracyBtn) {
      const regression = d0?.task === "regression";
      accuracyBtn.textContent = metricForTask(metricById("accuracy"), d0?.task).label;
      accuracyBtn.title = regression ? IN_RANGE_TITLE : "";
    }
    const mode = effectiveCurvesMode(s, d0?.classNames.length ?? 0);
    this.modeSeg.set(mode);
    for (const f of this.curvesOnlyFields) f.hidden = mode === "heatmap";
    this.xSeg.set(s.xAxis);
    this.colorSeg.set(s.colorBy);
    if (document.activeElement !== this.smoothRange) this.smoothRange.value = String(s.smoothing);
    if (document.activeElement !== this.smoothNum) this.smoothNum.value = String(s.smoothing);
    this.logBox.checked = s.logScale;
    this.logBox.disabled = !metric.allowLog;
    this.logLabel.classList.toggle("pc-disabled", !metric.allowLog);
    this.logLabel.title = metric.allowLog ? (mode === "heatmap" ? "Logarithmic colour scale" : "Logarithmic y axis") : `Log scale applies to the loss, not to ${metric.label.toLowerCase()}`;
    this.autoBox.checked = s.autoRefresh;
    const d = this.derived;
    if (document.activeElement !== this.worstNum) this.worstNum.value = String(effectiveWorstN(s, d?.classNames.length ?? 0));
    if (document.activeElement !== this.search) this.search.value = s.classFilter;
    if (d) {
      setChildren(
        this.rankSelect,
        ...d.loaded.map((rc) => {
          const o = h("option", { attrs: { value: rc.key } }, rc.label);
          o.selected = rc.key === d.rankSeries;
          return o;
        }),
      );
      this.rankSelect.disabled = d.loaded.length === 0;
    }
  }

  private renderStatus(): void {
    const parts: string[] = [];
    if (this.loading) parts.push("Loading…");
    else if (this.lastLoaded) parts.push(`Last loaded ${formatTime(this.lastLoaded)}`);
    this.statusEl.textContent = parts.join(" ");
    this.reloadBtn.disabled = this.loading;
  }

  private renderNotices(): void {
    const items: Node[] = [];
    if (this.loadError) {
      items.push(notice("error", `Could not load the per-class data: ${this.loadError}`));
    }
    const d = this.derived;
    if (d) {
      for (const x of d.selectedSeries) {
        const err = this.runErrors.get(x.key);
        if (err) items.push(notice("error", `${seriesLabel(x)}: ${err}`));
      }
      for (const f of factNotices(d.shownFacts)) {
        const el = notice(f.kind, f.text, f.role);
        const x = d.series.find((y) => y.key === f.series);
        if (x) {
          el.setAttribute("data-run", x.run);
          el.setAttribute("data-name", x.name);
        }
        items.push(el);
      }
    }
    // like the facts, only the series shown (another series' notice returns with it)
    const shown = new Set(d ? (d.active === "lines" ? d.selectedSeries : d.focus ? [d.focus] : []).map((x) => x.key) : []);
    for (const p of this.skipped.pending().filter((q) => shown.has(seriesKey(q.source.run, q.source.name)))) {
      const el = notice("warn", skippedText(p.source, p.entries), "skipped-notice");
      el.setAttribute("data-run", p.source.run);
      el.setAttribute("data-name", p.source.name);
      el.classList.add("pc-notice-dismissible");
      el.appendChild(
        h(
          "button",
          {
            class: "pc-linkbtn pc-notice-dismiss",
            title: "Dismiss (it comes back if more steps are skipped)",
            attrs: { type: "button", "data-role": "dismiss-skipped", "aria-label": "Dismiss" },
            on: {
              click: () => {
                this.skipped.dismiss(p.id);
                this.renderNotices();
              },
            },
          },
          "✕",
        ),
      );
      items.push(el);
    }
    setChildren(this.notices, ...items);
  }

  private renderTitle(d: Derived): void {
    const metric = d.metric;
    const main =
      d.active === "confusion"
        ? "Confusion matrix"
        : d.active === "mistakes"
          ? "Misclassified samples"
          : d.active === "report"
            ? "Per-class report"
            : `Per-class ${metric.label.toLowerCase()}`;
    const n = d.classNames.length;
    const classes = `${n} class${n === 1 ? "" : "es"}`;
    // the lines: the class set when there are several; the one-series views: their series
    const parts =
      d.active !== "lines" && d.focus ? [seriesLabel(d.focus), classes] : [d.groups.length > 1 && d.group ? groupTitle(d.group) : classes];
    setChildren(this.titleEl, main, h("span", { class: "pc-title-sub" }, ` · ${parts.join(" · ")}`));
  }

  private renderGroups(d: Derived): void {
    this.groupSection.hidden = d.groups.length <= 1;
    setChildren(
      this.groupSelect,
      ...d.groups.map((g) => {
        const o = h("option", { title: g.classNames.slice(0, 50).join(", "), attrs: { value: g.id } }, groupLabel(g));
        o.selected = g === d.group;
        return o;
      }),
    );
  }

  private renderRuns(d: Derived): void {
    if (d.active !== "lines") {
      this.renderRunChoice(d);
      return;
    }
    const keys = d.series.map((x) => x.key);
    this.runsCount.textContent = `${d.selectedSeries.length} of ${d.series.length}`;
    const rows: Node[] = [];
    if (d.series.length > 1) {
      const allOn = d.selectedSeries.length === d.series.length;
      rows.push(
        h(
          "div",
          { class: "pc-class-actions", style: { margin: "0 0 4px" } },
          h(
            "button",
            {
              class: "pc-linkbtn",
              attrs: { type: "button", "data-role": "toggle-runs" },
              on: {
                click: () =>
                  this.setState({
                    deselectedSeries: allOn ? [...keys] : this.state.deselectedSeries.filter((k) => !keys.includes(k)),
                  }),
              },
            },
            allOn ? "Hide all runs" : "Show all runs",
          ),
        ),
      );
    }
    for (const x of d.series) {
      const on = d.selectedSeries.includes(x);
      const label = seriesLabel(x);
      const color = d.seriesColors.get(x.key) ?? "#425066";
      const dash = DASHES[d.seriesDashes.get(x.key) ?? 0] ?? DASHES[0];
      const box = h("input", {
        attrs: { type: "checkbox", "data-run": x.run, "data-name": x.name, "aria-label": `Show ${label}` },
        style: { "accent-color": color },
        on: {
          change: () => {
            const rest = this.state.deselectedSeries.filter((k) => k !== x.key);
            this.setState({ deselectedSeries: box.checked ? rest : [...rest, x.key] });
          },
        },
      });
      box.checked = on;
      const err = this.runErrors.get(x.key);
      rows.push(
        h(
          "label",
          { class: "pc-run", title: `${label} (${dash.label} lines)`, attrs: { "data-series-row": "", "data-dash": dash.label } },
          box,
          swatch(color),
          dashSample("var(--pc-run-line)", dash.dash, 2, 24),
          h("span", { class: "pc-run-name" }, label),
          err ? h("span", { class: "pc-run-error", title: err }, "⚠") : null,
        ),
      );
    }
    setChildren(this.runList, ...rows);
  }

  /** One series for the matrix, report and heatmap: radio buttons over every series (one
   * series is shown, so nothing is mixed), under their class sets when there are several;
   * picking one of another class set switches to that set. */
  private renderRunChoice(d: Derived): void {
    const tab = d.active === "heatmap" ? "curves" : d.active === "report" ? "report" : "confusion";
    this.runsCount.textContent = "one run";
    const rows: Node[] = [];
    for (const g of d.groups) {
      if (d.groups.length > 1) rows.push(h("div", { class: "pc-run-group", title: groupLabel(g), attrs: { "data-role": "run-group" } }, groupTitle(g)));
      for (const x of g.series) {
        const ok = eligibleFor(tab, x.info);
        const label = seriesLabel(x);
        // in the Confusion tab a series without a matrix still shows its kept samples: say so
        const samplesOnly = ok && tab === "confusion" && !hasConfusion(x.info);
        const color = d.seriesColors.get(x.key) ?? "#425066";
        const radio = h("input", {
          attrs: { type: "radio", name: "pc-run-choice", "data-run-choice": x.run, "data-name": x.name, "aria-label": `Show ${label}`, disabled: !ok },
          style: { "accent-color": color },
          on: { change: () => radio.checked && this.setState({ series: x.key, group: groupId(x.info.task, x.info.class_names) }) },
        });
        radio.checked = x === d.focus;
        rows.push(
          h(
            "label",
            {
              class: ok ? "pc-run" : "pc-run pc-disabled",
              title: !ok ? `${label}: no confusion matrices${tab === "confusion" ? " or kept samples" : ""}` : samplesOnly ? `${label}: kept samples only (confusion=False)` : label,
            },
            radio,
            swatch(color),
            h("span", { class: "pc-run-name" }, label),
            samplesOnly ? h("span", { class: "pc-run-note", attrs: { "data-role": "samples-only" } }, "samples") : null,
          ),
        );
      }
    }
    setChildren(this.runList, ...rows);
  }

  private renderClassList(): void {
    const d = this.derived;
    if (!d) return;
    const metric = d.metric;
    const query = this.state.classFilter;
    // rebuilding 1000 rows on every slider move is wasted work: skip when nothing listed changed
    const key = JSON.stringify([
      this.dataVersion,
      d.group?.id,
      d.active,
      d.focus?.key,
      d.selectedSeries.map((x) => x.key),
      d.rankSeries,
      d.worst,
      query,
      metric.id,
      this.state.classes,
      this.state.colorBy,
      currentTheme(),
    ]);
    if (key === this.classListKey) return;
    this.classListKey = key;
    const shown = d.classNames.map((n, i) => ({ n, i })).filter(({ n }) => matchesFilter(n, query));
    const numSelected = d.selected.filter(Boolean).length;
    this.classCount.textContent =
      `${numSelected} of ${d.classNames.length} shown` + (query.trim() ? ` · ${shown.length} match` : "");
    const worstRank = new Map(d.worst.map((g, r) => [g, r]));
    const rankLabel = d.loaded.find((rc) => rc.key === d.rankSeries)?.label ?? d.rankSeries;
    const rows: Node[] = [];
    const frag = document.createDocumentFragment();
    for (const { n, i } of shown) {
      const box = h("input", { attrs: { type: "checkbox", "aria-label": `Show class ${n}` } });
      box.checked = d.selected[i];
      box.addEventListener("change", () => {
        this.setClasses(setSelected(this.state.classes, n, box.checked, d.classNames));
      });
      const v = d.latest[i];
      const flag = d.flags.get(n);
      const rank = worstRank.get(i);
      const row = h(
        "label",
        { class: rank !== undefined ? "pc-class pc-worst" : "pc-class", title: n, attrs: { "data-class": n, role: "listitem" } },
        box,
        swatch(
          d.worst.length && rank === undefined
            ? "var(--pc-faded-swatch)"
            : this.state.colorBy === "run"
              ? "var(--pc-class-swatch)"
              : d.classColors[i],
        ),
        h("span", { class: "pc-class-name" }, n),
        flag?.loss ? nonfiniteBadge(flag.loss, flag.bySeries.filter((b) => b.loss).map((b) => `${b.label}: ${b.loss}`)) : null,
        flag?.outputs ? nonfiniteOutputsBadge(flag.outputs, flag.bySeries.filter((b) => b.outputs).map((b) => `${b.label}: ${b.outputs}`)) : null,
        rank !== undefined ? h("span", { class: "pc-rank", title: `#${rank + 1} worst` }, `#${rank + 1}`) : null,
        v !== null && v !== undefined ? h("span", { class: "pc-class-value", title: `latest ${metric.label.toLowerCase()} in ${rankLabel}` }, metric.format(v)) : null,
      );
      frag.appendChild(row);
    }
    rows.push(frag);
    if (!shown.length) rows.push(h("div", { class: "pc-empty-list" }, d.classNames.length ? "No class matches the filter." : "No classes yet."));
    setChildren(this.classList, ...rows);
  }

  private renderEmpty(): void {
    setChildren(this.titleEl, "Per-class");
    setChildren(
      this.viewBox,
      h(
        "div",
        { class: "pc-empty", attrs: { "data-role": "empty-state" } },
        h("h2", null, "No per-class data was found"),
        h(
          "p",
          null,
          "This tab shows loss and accuracy per class, written by the tb_perclass logger. Log them from your training loop, for example in PyTorch:",
        ),
        h("pre", { class: "pc-code" }, EMPTY_SNIPPET),
        h("p", null, "then point TensorBoard at the log directory:"),
        h("pre", { class: "pc-code" }, "tensorboard --logdir runs"),
        h(
          "p",
          null,
          "Runs follow the Keras convention: write training and validation statistics to separate run directories (runs/exp1/train, runs/exp1/validation) and this tab overlays them. " +
            `It refreshes itself every ${REFRESH_SECONDS} seconds, so new runs appear here on their own.`,
        ),
      ),
    );
  }
}

const hasConfusion = (info: TagInfo | undefined) => !!info?.kinds.includes("confusion");
/** The Confusion tab shows a series' matrix, or its kept samples alone when it has no matrix. */
const showsInConfusionTab = (info: TagInfo | undefined) => hasConfusion(info) || !!info?.kinds.includes("samples");
/** Whether a view can show a series: the report needs matrices, the Confusion tab matrices or samples. */
const eligibleFor = (view: ViewId, info: TagInfo | undefined) => (view === "curves" ? true : view === "confusion" ? showsInConfusionTab(info) : hasConfusion(info));

const SAMPLES_ONLY_TAB_TITLE =
  "Misclassified samples at a step: the series of this class set keep samples but record no confusion matrix (confusion=False)";

function tabDisabledTitle(view: ViewId): string {
  const matrices = "confusion matrices (written by PerClassWriter.write() by default)";
  return view === "confusion" ? `No run of this class set has ${matrices} or kept samples (update(..., inputs=x)).` : `No run of this class set has ${matrices}.`;
}

function field(label: string | null, ...controls: Node[]): HTMLElement {
  return h("div", { class: "pc-field" }, label ? h("span", { class: "pc-label" }, label) : null, ...controls);
}

function notice(kind: "error" | "warn" | "info", text: string, role?: string): HTMLElement {
  return h("div", { class: `pc-notice pc-notice-${kind}`, attrs: { role: kind === "error" ? "alert" : "status", "data-role": role ?? `notice-${kind}` } }, text);
}

function formatTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
