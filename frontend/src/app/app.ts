// The Per-Class tab: owns the view state (persisted, mirrored into links) and the loaded data,
// lays out the sidebar and the main area, and hands the main area to the active view. What it
// shows is derived by tab-model.ts; the panels only draw it. Refreshes itself (TensorBoard's
// reload does not reach plugin iframes).
import { h, setChildren } from "../ui/dom";
import { currentTheme } from "../ui/theme";
import type { Api } from "../data/api";
import type { Skip } from "../data/types";
import { DEFAULT_NAME } from "../state/series-key";
import { groupId } from "../data/series";
import { reportingSkipped, SkippedLog, type SkipSource } from "../data/skipped";
import { effectiveSettingsOpen, type ViewState } from "../state/view-state";
import { loadState, saveState, type KeyValueStore } from "../state/saved-state";
import { decodeLink, LinkSync } from "../state/url-state";
import {
  matchesFilter,
  normalize,
  selectAll,
  selectNone,
  selectOnly,
  setSelected,
} from "../state/selection";
import { cacheKey } from "../lib/keys";
import type { ChartFactory } from "../curves/chart-model";
import { CurvesSettings } from "../curves/curves-settings";
import { CurvesView } from "../curves/curves-view";
import { ClassHeatmapView } from "../class-heatmap/class-heatmap-view";
import { ConfusionView } from "../confusion/confusion-view";
import { MistakesView } from "../samples/mistakes-view";
import { ReportView } from "../report/report-view";
import { DynamicsView } from "../dynamics/dynamics-view";
import { ScoresView } from "../scores/scores-view";
import type { View, ViewContext } from "../view-contract";
import type { ActiveView } from "./tabs";
import { seriesToLoad } from "./series-pick";
import { deriveTab, type TabModel } from "./tab-model";
import { statusText, tabButtons, tabTitle } from "./toolbar-text";
import { classRows, groupRows, seriesChoices, seriesToggles } from "./sidebar-rows";
import { noticeList } from "./notice-list";
import { REFRESH_SECONDS, TabData } from "./tab-data";
import { Toolbar } from "./toolbar";
import { NoticesPanel } from "./notices";
import { SeriesPanel } from "./series-panel";
import { ClassPanel } from "./class-panel";
import { emptyState } from "./empty-state";

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

export class App {
  state: ViewState;
  readonly root: HTMLElement;
  private data: TabData;
  private skipped = new SkippedLog();
  /** deps.api, reporting the malformed steps its answers list */
  private readonly api: Api;
  private timer: ReturnType<typeof setInterval> | null = null;
  private derived: TabModel | null = null;
  private view: View;
  private views: Record<ActiveView, View>;
  private link: LinkSync;
  private readonly refreshMs: number;
  // layout
  private sidebar: HTMLElement;
  private viewBox: HTMLElement;
  private settingsBox: HTMLElement;
  /** the settings' fold: a header that opens and closes them, and what it opens */
  private settingsHead: HTMLElement;
  private settingsTitle = h("span", { class: "pc-settings-title" });
  private settingsBody: HTMLElement;
  private toolbar: Toolbar;
  private notices: NoticesPanel;
  private seriesPanel: SeriesPanel;
  private curvesSettings: CurvesSettings;
  private classPanel: ClassPanel;

  constructor(
    container: HTMLElement,
    private readonly deps: AppDeps,
  ) {
    this.state = loadState(deps.storage);
    this.api = reportingSkipped(deps.api, (source, list) => this.onSkipped(source, list));
    this.data = new TabData(deps.api, this.api, deps.now ?? (() => new Date()));
    // a link (TensorBoard's URL hash) wins over what this browser last showed
    this.link = new LinkSync(deps.linkWindow ?? null, deps.linkDelayMs ?? 0);
    const token = this.link.read();
    const linked = token ? decodeLink(token, this.state) : null;
    if (linked) {
      this.state = linked;
      saveState(deps.storage, this.state);
    }
    this.refreshMs = deps.refreshMs ?? REFRESH_SECONDS * 1000;

    this.toolbar = new Toolbar({
      tab: (view) => this.setState({ view }),
      reload: () => void this.refresh(),
      autoRefresh: (on) => this.setState({ autoRefresh: on }, { rerender: false }),
    });
    this.notices = new NoticesPanel((id) => {
      this.skipped.dismiss(id);
      this.renderNotices();
    });
    this.viewBox = h("div", { class: "pc-view" });
    const main = h(
      "main",
      { class: "pc-main" },
      this.toolbar.element,
      this.notices.element,
      this.viewBox,
    );

    this.curvesSettings = new CurvesSettings((patch) => this.setState(patch));
    this.settingsHead = h(
      "button",
      {
        class: "pc-settings-head",
        attrs: { type: "button", "data-role": "settings-toggle", "aria-expanded": "true" },
        on: {
          click: () =>
            this.setState({
              settingsOpen: this.settingsHead.getAttribute("aria-expanded") !== "true",
            }),
        },
      },
      h("span", { class: "pc-settings-chevron", attrs: { "aria-hidden": "true" } }),
      this.settingsTitle,
    );
    this.settingsBody = h("div", { class: "pc-settings-body" }, this.curvesSettings.element);
    this.settingsBox = h(
      "div",
      { class: "pc-settings-box", attrs: { "data-role": "settings-box" } },
      this.settingsHead,
      this.settingsBody,
    );
    this.seriesPanel = new SeriesPanel({
      group: (id) => this.setState({ group: id, zoom: null }),
      showOnly: (keys) => {
        const group = this.derived?.series.map((x) => x.key) ?? [];
        this.setState({
          deselectedSeries: [
            ...this.state.deselectedSeries.filter((k) => !group.includes(k)),
            ...group.filter((k) => !keys.includes(k)),
          ],
        });
      },
      filter: (text) => this.setState({ seriesFilter: text }),
      toggle: (key, on) => {
        const rest = this.state.deselectedSeries.filter((k) => k !== key);
        this.setState({ deselectedSeries: on ? rest : [...rest, key] });
      },
      choose: (x) =>
        this.setState({ series: x.key, group: groupId(x.info.task, x.info.class_names) }),
    });
    this.classPanel = new ClassPanel({
      filter: (text) => {
        this.state.classFilter = text;
        this.persist();
        this.renderClassList();
      },
      all: () => this.setClasses(selectAll()),
      none: () => this.setClasses(selectNone()),
      onlyMatching: () => {
        const d = this.derived;
        this.setClasses(
          selectOnly(d ? d.classNames.filter((n) => matchesFilter(n, this.state.classFilter)) : []),
        );
      },
      onlyWorst: () => {
        const d = this.derived;
        if (d) this.setClasses(selectOnly(d.worst.map((g) => d.classNames[g])));
      },
      toggle: (name, on) => {
        const d = this.derived;
        if (d) this.setClasses(setSelected(this.state.classes, name, on, d.classNames));
      },
    });
    this.sidebar = h(
      "aside",
      { class: "pc-sidebar", attrs: { "data-role": "sidebar" } },
      // what is shown first (class set, series), then how: with several series and class sets the
      // list would otherwise scroll out of view below the settings
      h(
        "div",
        { class: "pc-sidebar-top" },
        this.seriesPanel.groupSection,
        this.seriesPanel.runsSection,
        this.settingsBox,
      ),
      this.classPanel.element,
    );
    this.root = h("div", { class: "pc-root" }, this.sidebar, main);
    container.appendChild(this.root);

    this.views = {
      lines: new CurvesView(deps.chartFactory),
      heatmap: new ClassHeatmapView(),
      confusion: new ConfusionView({ debounceMs: deps.stepDebounceMs }),
      mistakes: new MistakesView(),
      report: new ReportView(),
      scores: new ScoresView(),
      dynamics: new DynamicsView(),
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
      if (this.state.autoRefresh && !hidden && !this.data.loading) void this.refresh();
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
    const current = await this.data.refresh(
      (tags) => seriesToLoad(tags, this.state),
      () => this.renderStatus(),
    );
    if (current) this.render();
  }

  /** Loads the curves of newly ticked series (or another group) without a full refresh. */
  private async loadMissing(): Promise<void> {
    const tags = this.data.tags;
    if (tags && (await this.data.loadMissing(seriesToLoad(tags, this.state)))) this.render();
  }

  /** An answer listed malformed steps: show them (once; the user may dismiss them). */
  private onSkipped(source: SkipSource, list: Skip[]): void {
    if (this.skipped.add(source, list) && this.derived) this.renderNotices();
  }

  setState(patch: Partial<ViewState>, opts: { rerender?: boolean } = {}): void {
    Object.assign(this.state, patch);
    this.persist();
    if (opts.rerender === false) return;
    if (
      "group" in patch ||
      "deselectedSeries" in patch ||
      "series" in patch ||
      "view" in patch ||
      "curvesMode" in patch
    )
      void this.loadMissing();
    this.render();
  }

  private setClasses(sel: ViewState["classes"]): void {
    const d = this.derived;
    this.setState({ classes: d ? normalize(sel, d.classNames) : sel });
  }

  private persist(): void {
    saveState(this.deps.storage, this.state);
    this.link.write(this.state);
  }

  /** The page switched between light and dark: redraw, as the canvases and the run and class
   * colours take the theme's colours when drawn (the CSS follows by itself). */
  retheme(): void {
    if (this.data.tags) this.render();
  }

  /** Re-renders everything from the state and the loaded data. */
  render(): void {
    const tags = this.data.tags;
    this.derived = tags
      ? deriveTab({ tags, curves: this.data.curves, state: this.state, theme: currentTheme() })
      : null;
    this.syncControls();
    this.renderStatus();
    this.renderNotices();
    const d = this.derived;
    if (!d) {
      // nothing loaded yet (first load failed): the notice says why
      this.sidebar.hidden = true;
      if (this.data.loadError)
        setChildren(
          this.viewBox,
          h("div", { class: "pc-message" }, "The per-class data could not be loaded."),
        );
      return;
    }
    if (d.group === null) {
      this.sidebar.hidden = true;
      this.toolbar.setTitle("Per-class");
      setChildren(this.viewBox, emptyState());
      return;
    }
    this.sidebar.hidden = false;
    this.toolbar.setTabs(tabButtons(d, this.state.view));
    const title = tabTitle(d);
    this.toolbar.setTitle(title.main, title.sub);
    this.seriesPanel.renderGroups(groupRows(d.groups, d.group));
    const filter = this.state.seriesFilter;
    const listed = d.active === "lines" ? d.series.length : d.everySeries.length;
    if (d.active === "lines")
      this.seriesPanel.renderToggles(
        seriesToggles(d, this.data.curvesErrors, filter),
        filter,
        listed,
      );
    else this.seriesPanel.renderChoices(seriesChoices(d, filter), filter, listed);
    this.renderClassList();
    this.view = this.views[d.active];
    const settings =
      d.active === "lines" || d.active === "heatmap"
        ? this.curvesSettings.element
        : this.view.settings;
    this.renderSettingsBox(settings, listed + (d.active === "lines" ? 0 : d.groups.length));
    if (this.view.element.parentNode !== this.viewBox) setChildren(this.viewBox, this.view.element);
    this.view.update(this.viewContext(d));
  }

  /** The view's settings under a header that folds them (closed by default when the series
   * list is long, so that it stays in view); the header takes the settings' own title. */
  private renderSettingsBox(settings: HTMLElement | null, seriesRows: number): void {
    this.settingsBox.hidden = settings === null;
    if (!settings) return;
    if (settings.parentNode !== this.settingsBody) setChildren(this.settingsBody, settings);
    const open = effectiveSettingsOpen(this.state, seriesRows);
    this.settingsTitle.textContent =
      settings.querySelector(".pc-section-title")?.textContent ?? "Settings";
    this.settingsHead.setAttribute("aria-expanded", String(open));
    this.settingsBody.hidden = !open;
  }

  private viewContext(d: TabModel): ViewContext {
    return {
      state: this.state,
      api: this.api,
      tags: this.data.tags!,
      group: d.series,
      series: d.focus,
      run: d.focus?.run ?? null,
      name: d.focus?.name ?? d.series[0]?.name ?? DEFAULT_NAME,
      curvesOf: (key) => this.data.curves.get(key),
      refreshId: this.data.refreshId,
      info: d.series[0]?.info,
      runs: d.loaded,
      classNames: d.classNames,
      selected: d.selected,
      metric: d.metric,
      worst: d.worst,
      classColors: d.classColors,
      latest: d.latest,
      rankLabel: d.rankText,
      seriesColors: d.seriesColors,
      seriesDashes: d.seriesDashes,
      setState: (patch, opts) => this.setState(patch, opts),
    };
  }

  private syncControls(): void {
    this.curvesSettings.sync(this.state, this.derived);
    this.toolbar.setAutoRefresh(this.state.autoRefresh);
    this.classPanel.syncFilter(this.state.classFilter);
  }

  private renderStatus(): void {
    this.toolbar.setStatus(statusText(this.data.loading, this.data.lastLoaded), this.data.loading);
  }

  private renderNotices(): void {
    this.notices.render(
      noticeList(this.derived, this.data.loadError, this.data.curvesErrors, this.skipped.pending()),
    );
  }

  private renderClassList(): void {
    const d = this.derived;
    if (!d) return;
    const s = this.state;
    const key = cacheKey(
      this.data.version,
      d.group?.id,
      d.active,
      d.focus?.key,
      d.selectedSeries.map((x) => x.key),
      d.rankSeries,
      d.worst,
      s.classFilter,
      d.metric.id,
      s.classes,
      s.colorBy,
      currentTheme(),
    );
    this.classPanel.render(key, () => classRows(d, s.classFilter, s.colorBy));
  }
}
