// The Per-Class tab: loads data, owns the view state and the sidebar, and hands the
// main area to a view. Refreshes itself (TensorBoard's reload does not reach plugin iframes).
import { h, setChildren } from "./dom";
import type { Api } from "./api";
import type { ChartFactory } from "./chart";
import type { CurvesResponse, RunCurves, TagInfo, TagsResponse } from "./types";
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
import { allNames, chooseName, chooseRankRun, runsWithName, tagInfo, unionClassNames, allRuns } from "./runs";
import { assignDashes, classColors, DASHES, runColor } from "./colors";
import { nonfiniteByClass } from "./shaping";
import { clampSmoothing } from "./smoothing";
import { dashSample, nonfiniteBadge, segmented, swatch } from "./widgets";
import { CurvesView } from "./views/curves";
import { ClassHeatmapView } from "./views/classheat";
import { ConfusionView } from "./views/confusion";
import { MistakesView } from "./views/mistakes";
import { ReportView } from "./views/report";
import type { View, ViewContext } from "./views/view";
import { counterpartRun } from "./classheat";
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
  names: string[];
  name: string | null;
  runs: string[];
  selectedRuns: string[];
  runColors: Map<string, string>;
  runDashes: Map<string, number>;
  classNames: string[];
  selected: boolean[];
  loaded: RunCurves[];
  rankRun: string | null;
  latest: (number | null)[];
  worst: number[];
  classColors: string[];
  nonfinite: Map<string, number>;
  metric: MetricDef;
  /** runs that have confusion matrices for this name */
  confusionRuns: string[];
  /** runs the Confusion tab can show: a matrix, or kept samples without one (confusion=False) */
  galleryRuns: string[];
  active: ActiveView;
  /** the run of the one-run views */
  focusRun: string | null;
  /** the task shared by the tag's runs (null when they differ) */
  task: string | null;
}

export class App {
  state: ViewState;
  private tags: TagsResponse | null = null;
  private curves = new Map<string, CurvesResponse>();
  private curvesName: string | null = null;
  private runErrors = new Map<string, string>();
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
  private nameSection: HTMLElement;
  private nameSelect: HTMLSelectElement;
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
      attrs: { "data-control": "rank-run", "aria-label": "Run that ranks the classes" },
      on: { change: () => this.setState({ rankRun: this.rankSelect.value || null }) },
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

    this.nameSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "name", "aria-label": "Tag" },
      on: { change: () => this.setState({ name: this.nameSelect.value, zoom: null }) },
    });
    this.nameSection = h(
      "section",
      { class: "pc-section", attrs: { "data-role": "names" } },
      h("div", { class: "pc-section-title" }, "Tag"),
      this.nameSelect,
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
      h("div", { class: "pc-sidebar-top" }, this.settingsBox, this.nameSection, this.runsSection),
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

  /** Reloads tags and the selected runs' curves; keeps the view state. */
  async refresh(): Promise<void> {
    const token = ++this.token;
    this.loading = true;
    this.renderStatus();
    try {
      const tags = await this.deps.api.tags();
      if (token !== this.token) return;
      this.tags = tags;
      this.loadError = null;
      const name = chooseName(tags, this.state.name);
      if (name !== this.curvesName) {
        this.curves.clear();
        this.runErrors.clear();
        this.curvesName = name;
      }
      if (name !== null) {
        await this.fetchCurves(this.runsToLoad(tags, name), name, token);
        if (token !== this.token) return;
      }
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

  private async fetchCurves(runs: string[], name: string, token: number): Promise<void> {
    await Promise.all(
      runs.map(async (run) => {
        try {
          const c = await this.deps.api.curves(run, name);
          if (token !== this.token || name !== this.curvesName) return;
          this.curves.set(run, c);
          this.dataVersion++;
          this.runErrors.delete(run);
        } catch (e) {
          if (token !== this.token) return;
          this.runErrors.set(run, (e as Error).message || String(e));
        }
      }),
    );
  }

  /** Loads curves of newly ticked runs (or a new tag) without a full refresh. */
  private async loadMissing(): Promise<void> {
    if (!this.tags) return;
    const name = chooseName(this.tags, this.state.name);
    if (name === null) return;
    if (name !== this.curvesName) {
      void this.refresh();
      return;
    }
    const missing = this.runsToLoad(this.tags, name).filter((r) => !this.curves.has(r) && !this.runErrors.has(r));
    if (!missing.length) return;
    const token = this.token;
    await this.fetchCurves(missing, name, token);
    if (token === this.token) this.render();
  }

  /** The runs whose curves are needed: the ticked ones, plus the one-run views' run and its
   * train/validation counterpart (for the heatmap's gap). */
  private runsToLoad(tags: TagsResponse, name: string): string[] {
    const runs = runsWithName(tags, name);
    const want = new Set(runs.filter((r) => !this.state.deselectedRuns.includes(r)));
    const numClasses = Math.max(0, ...runs.map((r) => tagInfo(tags, r, name)?.class_names.length ?? 0));
    const heatmap = this.state.view === "curves" && effectiveCurvesMode(this.state, numClasses) === "heatmap";
    const focus = heatmap ? this.chooseFocusRun(tags, name, runs) : null;
    if (focus) {
      want.add(focus);
      const other = counterpartRun(focus, runs);
      if (other) want.add(other);
    }
    return runs.filter((r) => want.has(r));
  }

  /** The run of the one-run views: the user's pick, else a validation run, else the first;
   * for the report only runs with confusion matrices qualify, for the Confusion tab also runs
   * that keep samples without a matrix (their gallery stands alone). */
  private chooseFocusRun(tags: TagsResponse, name: string, runs: string[]): string | null {
    const view = this.state.view;
    const eligible = view === "curves" ? runs : runs.filter((r) => (view === "confusion" ? showsInConfusionTab : hasConfusion)(tagInfo(tags, r, name)));
    return chooseRankRun(eligible, this.state.run);
  }

  setState(patch: Partial<ViewState>, opts: { rerender?: boolean } = {}): void {
    Object.assign(this.state, patch);
    this.persist();
    if (opts.rerender === false) return;
    if ("name" in patch || "deselectedRuns" in patch || "run" in patch || "view" in patch || "curvesMode" in patch) void this.loadMissing();
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
    const names = allNames(tags);
    const name = chooseName(tags, s.name);
    const everyRun = allRuns(tags);
    const theme = currentTheme();
    const runColors = new Map(everyRun.map((r, i) => [r, runColor(i, theme)]));
    const runs = name === null ? [] : runsWithName(tags, name);
    const selectedRuns = runs.filter((r) => !s.deselectedRuns.includes(r));
    const runDashes = assignDashes(runs);
    const loaded: RunCurves[] = selectedRuns.filter((r) => this.curves.has(r)).map((r) => ({ run: r, curves: this.curves.get(r)! }));
    const union = unionClassNames([
      ...loaded.map((rc) => rc.curves.class_names),
      ...runs.map((r) => (name !== null ? tagInfo(tags, r, name)?.class_names ?? [] : [])),
    ]);
    const confusionRuns = name === null ? [] : runs.filter((r) => hasConfusion(tagInfo(tags, r, name)));
    const galleryRuns = name === null ? [] : runs.filter((r) => showsInConfusionTab(tagInfo(tags, r, name)));
    const focusRun = name === null ? null : this.chooseFocusRun(tags, name, runs);
    const samplesOnly = focusRun !== null && name !== null && !hasConfusion(tagInfo(tags, focusRun, name));
    const active: ActiveView =
      s.view === "curves" ? effectiveCurvesMode(s, union.length) : s.view === "confusion" ? (samplesOnly ? "mistakes" : "confusion") : "report";
    // the one-run views list that run's own classes
    let classNames = union;
    if (active !== "lines" && focusRun !== null && name !== null) {
      const own = this.curves.get(focusRun)?.class_names ?? tagInfo(tags, focusRun, name)?.class_names;
      if (own && own.length) classNames = own;
    }
    const pred = selectionPredicate(s.classes);
    const selected = classNames.map(pred);
    // precision/recall/F1 need tp/fp/fn: without them in any loaded run, show the loss
    let metric = metricById(s.metric);
    if (loaded.length && !loaded.some((rc) => metric.available(rc.curves))) metric = metricById("loss");
    // the one-run views: that run's task; the lines: the task all runs share (none when mixed)
    const tasks = new Set((active !== "lines" && focusRun !== null ? [focusRun] : runs).map((r) => (name !== null ? tagInfo(tags, r, name)?.task : undefined)));
    const task = tasks.size === 1 ? [...tasks][0] ?? null : null;
    metric = metricForTask(metric, task);
    const rankRun =
      active !== "lines" && focusRun !== null && this.curves.has(focusRun)
        ? focusRun
        : chooseRankRun(
            loaded.map((rc) => rc.run),
            s.rankRun,
          );
    let latest: (number | null)[] = classNames.map(() => null);
    const rankCurves = rankRun !== null ? this.curves.get(rankRun) : undefined;
    if (rankCurves) {
      const perRun = latestValues(metric.extract(rankCurves), rankCurves.class_names.length);
      const at = new Map(rankCurves.class_names.map((n, k) => [n, k]));
      latest = classNames.map((n) => {
        const k = at.get(n);
        return k === undefined ? null : perRun[k];
      });
    }
    const n = effectiveWorstN(s, classNames.length);
    const worst = worstN(latest, n, metric.higherIsBetter, (i) => selected[i]);
    return {
      names,
      name,
      runs,
      selectedRuns,
      runColors,
      runDashes,
      classNames,
      selected,
      loaded,
      rankRun,
      latest,
      worst,
      classColors: classColors(classNames.length, worst, theme),
      nonfinite: nonfiniteByClass(loaded),
      metric,
      confusionRuns,
      galleryRuns,
      active,
      focusRun,
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
    if (d.name === null) {
      this.sidebar.hidden = true;
      this.renderEmpty();
      return;
    }
    this.sidebar.hidden = false;
    this.renderTabs(d);
    this.renderTitle(d);
    this.renderNames(d);
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
        const eligible = t.id === "curves" ? d.runs : t.id === "confusion" ? d.galleryRuns : d.confusionRuns;
        const disabled = eligible.length === 0;
        const active = s.view === t.id;
        return h(
          "button",
          {
            class: active ? "pc-tab pc-active" : "pc-tab",
            title: disabled ? tabDisabledTitle(t.id) : t.id === "confusion" && d.confusionRuns.length === 0 ? SAMPLES_ONLY_TAB_TITLE : t.title,
            attrs: { type: "button", role: "tab", "aria-selected": String(active), "data-role": "view-tab", "data-value": t.id, disabled },
            on: { click: () => this.setState({ view: t.id }) },
          },
          t.label,
        );
      }),
    );
  }

  private viewContext(d: Derived): ViewContext {
    return {
      state: this.state,
      api: this.deps.api,
      tags: this.tags!,
      allRuns: d.runs,
      run: d.focusRun,
      curvesOf: (run) => this.curves.get(run),
      refreshId: this.refreshId,
      name: d.name!,
      info: d.runs.length ? tagInfo(this.tags!, d.runs[0], d.name!) : undefined,
      runs: d.loaded,
      classNames: d.classNames,
      selected: d.selected,
      metric: d.metric,
      worst: d.worst,
      classColors: d.classColors,
      latest: d.latest,
      rankRun: d.rankRun,
      runColors: d.runColors,
      runDashes: d.runDashes,
      nonfinite: d.nonfinite,
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
      const runs = d.loaded.map((rc) => rc.run);
      setChildren(
        this.rankSelect,
        ...runs.map((r) => {
          const o = h("option", { attrs: { value: r } }, r);
          o.selected = r === d.rankRun;
          return o;
        }),
      );
      this.rankSelect.disabled = runs.length === 0;
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
      for (const run of d.selectedRuns) {
        const err = this.runErrors.get(run);
        if (err) items.push(notice("error", `Run ${run}: ${err}`));
      }
      const flagged = [...d.nonfinite.keys()].filter((n) => d.classNames.includes(n));
      if (flagged.length) {
        const total = flagged.reduce((a, n) => a + (d.nonfinite.get(n) ?? 0), 0);
        items.push(
          notice(
            "warn",
            `⚠ ${flagged.length} class${flagged.length === 1 ? " has" : "es have"} non-finite (NaN/Inf) per-sample losses ` +
              `(${total} in total over the selected runs). They are kept out of the mean loss and marked ⚠ NaN in the class list.`,
            "nonfinite-notice",
          ),
        );
      }
    }
    setChildren(this.notices, ...items);
  }

  private renderTitle(d: Derived): void {
    const metric = d.metric;
    const sub = d.names.length > 1 || d.name !== "perclass" ? ` · ${d.name}` : "";
    const main =
      d.active === "confusion"
        ? "Confusion matrix"
        : d.active === "mistakes"
          ? "Misclassified samples"
          : d.active === "report"
            ? "Per-class report"
            : `Per-class ${metric.label.toLowerCase()}`;
    const run = d.active !== "lines" && d.focusRun ? ` · ${d.focusRun}` : "";
    setChildren(
      this.titleEl,
      main,
      h("span", { class: "pc-title-sub" }, `${sub}${run} · ${d.classNames.length} class${d.classNames.length === 1 ? "" : "es"}`),
    );
  }

  private renderNames(d: Derived): void {
    this.nameSection.hidden = d.names.length <= 1;
    setChildren(
      this.nameSelect,
      ...d.names.map((n) => {
        const o = h("option", { attrs: { value: n } }, n);
        o.selected = n === d.name;
        return o;
      }),
    );
  }

  private renderRuns(d: Derived): void {
    if (d.active !== "lines") {
      this.renderRunChoice(d);
      return;
    }
    this.runsCount.textContent = `${d.selectedRuns.length} of ${d.runs.length}`;
    const rows: Node[] = [];
    if (d.runs.length > 1) {
      const allOn = d.selectedRuns.length === d.runs.length;
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
                    deselectedRuns: allOn ? [...d.runs] : this.state.deselectedRuns.filter((r) => !d.runs.includes(r)),
                  }),
              },
            },
            allOn ? "Hide all runs" : "Show all runs",
          ),
        ),
      );
    }
    for (const run of d.runs) {
      const on = d.selectedRuns.includes(run);
      const color = d.runColors.get(run) ?? "#425066";
      const box = h("input", {
        attrs: { type: "checkbox", "data-run": run, "aria-label": `Show run ${run}` },
        style: { "accent-color": color },
        on: {
          change: () => {
            const rest = this.state.deselectedRuns.filter((r) => r !== run);
            this.setState({ deselectedRuns: box.checked ? rest : [...rest, run] });
          },
        },
      });
      box.checked = on;
      const err = this.runErrors.get(run);
      rows.push(
        h(
          "label",
          { class: "pc-run", title: run },
          box,
          swatch(color),
          dashSample("var(--pc-run-line)", DASHES[d.runDashes.get(run) ?? 0]?.dash ?? [], 2, 24),
          h("span", { class: "pc-run-name" }, run),
          err ? h("span", { class: "pc-run-error", title: err }, "⚠") : null,
        ),
      );
    }
    setChildren(this.runList, ...rows);
  }

  /** One run for the matrix, report and heatmap: radio buttons. */
  private renderRunChoice(d: Derived): void {
    const tab = d.active === "heatmap" ? "curves" : d.active === "report" ? "report" : "confusion";
    const eligible = tab === "curves" ? d.runs : tab === "confusion" ? d.galleryRuns : d.confusionRuns;
    this.runsCount.textContent = "one run";
    const rows: Node[] = [];
    for (const run of d.runs) {
      const ok = eligible.includes(run);
      // in the Confusion tab a run without a matrix still shows its kept samples: say so
      const samplesOnly = ok && tab === "confusion" && !d.confusionRuns.includes(run);
      const color = d.runColors.get(run) ?? "#425066";
      const radio = h("input", {
        attrs: { type: "radio", name: "pc-run-choice", "data-run-choice": run, "aria-label": `Show run ${run}`, disabled: !ok },
        style: { "accent-color": color },
        on: { change: () => radio.checked && this.setState({ run }) },
      });
      radio.checked = run === d.focusRun;
      rows.push(
        h(
          "label",
          {
            class: ok ? "pc-run" : "pc-run pc-disabled",
            title: !ok ? `${run}: no confusion matrices${tab === "confusion" ? " or kept samples" : ""}` : samplesOnly ? `${run}: kept samples only (confusion=False)` : run,
          },
          radio,
          swatch(color),
          h("span", { class: "pc-run-name" }, run),
          samplesOnly ? h("span", { class: "pc-run-note", attrs: { "data-role": "samples-only" } }, "samples") : null,
        ),
      );
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
      d.name,
      d.selectedRuns,
      d.rankRun,
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
    const rows: Node[] = [];
    const frag = document.createDocumentFragment();
    for (const { n, i } of shown) {
      const box = h("input", { attrs: { type: "checkbox", "aria-label": `Show class ${n}` } });
      box.checked = d.selected[i];
      box.addEventListener("change", () => {
        this.setClasses(setSelected(this.state.classes, n, box.checked, d.classNames));
      });
      const v = d.latest[i];
      const nf = d.nonfinite.get(n) ?? 0;
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
        nf ? nonfiniteBadge(nf) : null,
        rank !== undefined ? h("span", { class: "pc-rank", title: `#${rank + 1} worst` }, `#${rank + 1}`) : null,
        v !== null && v !== undefined ? h("span", { class: "pc-class-value", title: `latest ${metric.label.toLowerCase()} in ${d.rankRun}` }, metric.format(v)) : null,
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
/** The Confusion tab shows a run's matrix, or its kept samples alone when it has no matrix. */
const showsInConfusionTab = (info: TagInfo | undefined) => hasConfusion(info) || !!info?.kinds.includes("samples");

const SAMPLES_ONLY_TAB_TITLE =
  "Misclassified samples at a step: this tag's runs keep samples but record no confusion matrix (confusion=False)";

function tabDisabledTitle(view: ViewId): string {
  const matrices = "confusion matrices (written by PerClassWriter.write() by default)";
  return view === "confusion" ? `No run of this tag has ${matrices} or kept samples (update(..., inputs=x)).` : `No run of this tag has ${matrices}.`;
}

function field(label: string | null, ...controls: Node[]): HTMLElement {
  return h("div", { class: "pc-field" }, label ? h("span", { class: "pc-label" }, label) : null, ...controls);
}

function notice(kind: "error" | "warn", text: string, role?: string): HTMLElement {
  return h("div", { class: `pc-notice pc-notice-${kind}`, attrs: { role: kind === "error" ? "alert" : "status", "data-role": role ?? `notice-${kind}` } }, text);
}

function formatTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
