// The Dynamics tab: per-sample training dynamics of one series (a writer with track_samples).
// A snapshot step slider, a class picker (all classes or one), the data map, the counts of
// easy / ambiguous / hard-to-learn samples over the steps, and the ranked list of likely label
// errors or most forgotten samples with a CSV download of the whole list.
import { h, setChildren } from "../ui/dom";
import { StepSlider } from "../ui/step-slider";
import { segmented } from "../ui/widgets";
import { Keyed } from "../data/keyed";
import { cacheKey } from "../lib/keys";
import { formatCount } from "../lib/format";
import { dynamicsListUrl } from "../data/routes";
import type { DataMap, DynamicsCounts, DynamicsList } from "../data/types";
import type { DynamicsListId } from "../state/view-state";
import type { View, ViewContext } from "../view-contract";
import { MapPanel } from "./map-panel";
import { CountsChart } from "./counts-chart";
import { SampleList } from "./sample-list";
import { classIndex, countSeries, latestCountsText, mapCaption } from "./dynamics-model";

const PAGE = 50;

export class DynamicsView implements View {
  readonly id = "dynamics";
  readonly label = "Dynamics";
  readonly element: HTMLElement;
  readonly settings = null;
  private ctx: ViewContext | null = null;
  private slider: StepSlider;
  private classPick: HTMLSelectElement;
  private listPick: ReturnType<typeof segmented<DynamicsListId>>;
  private csv: HTMLAnchorElement;
  private status: HTMLElement;
  private facts: HTMLElement;
  private mapCaption: HTMLElement;
  private countsCaption: HTMLElement;
  private mapPanel: MapPanel;
  private chart = new CountsChart();
  private list: SampleList;
  private counts = new Keyed<DynamicsCounts>();
  private map = new Keyed<DataMap>();
  private ranked = new Keyed<DynamicsList>();
  private limit = PAGE;
  private lastRefresh = -1;
  private texts = new Map<string, Promise<string>>();

  constructor() {
    this.slider = new StepSlider("dynamics", (step) => this.ctx?.setState({ dynamicsStep: step }));
    this.classPick = h("select", {
      class: "pc-select",
      attrs: { "data-control": "dynamics-class", "aria-label": "Class" },
      on: {
        change: () => {
          this.limit = PAGE;
          this.ctx?.setState({ dynamicsClass: this.classPick.value || null });
        },
      },
    });
    this.listPick = segmented<DynamicsListId>(
      "dynamics-list",
      [
        { value: "errors", label: "Likely label errors", title: "Lowest mean margin first" },
        { value: "forgotten", label: "Most forgotten", title: "Most forgetting events first" },
      ],
      (v) => {
        this.limit = PAGE;
        this.ctx?.setState({ dynamicsList: v });
      },
    );
    this.csv = h(
      "a",
      {
        class: "pc-button pc-link-button",
        title: "Download the whole ranked list (this class or all) as CSV",
        attrs: { "data-role": "dynamics-csv", download: "" },
      },
      "Download CSV",
    );
    this.status = h("span", {
      class: "pc-status pc-view-status",
      attrs: { "data-role": "dynamics-status", "aria-live": "polite" },
    });
    this.facts = h("div", { class: "pc-card-note", attrs: { "data-role": "dynamics-facts" } });
    this.mapCaption = h("div", { class: "pc-hint", attrs: { "data-role": "map-caption" } });
    this.countsCaption = h("div", { class: "pc-hint", attrs: { "data-role": "counts-caption" } });
    this.mapPanel = new MapPanel(() => {
      const r = this.counts.data?.regions;
      return { easy: r?.easy_confidence ?? 2 / 3, hard: r?.hard_confidence ?? 1 / 3 };
    });
    this.list = new SampleList(
      () => {
        this.limit += PAGE;
        this.loadList();
      },
      (url) => {
        let text = this.texts.get(url);
        if (!text) this.texts.set(url, (text = this.ctx!.api.text(url)));
        return text;
      },
    );
    this.element = h(
      "div",
      { class: "pc-card pc-card-table pc-dynamics", attrs: { "data-view": "dynamics" } },
      h(
        "div",
        { class: "pc-card-toolbar" },
        this.slider.element,
        h("label", { class: "pc-field-inline" }, "Class ", this.classPick),
        h("span", { class: "pc-spacer" }),
        this.status,
      ),
      this.facts,
      h(
        "div",
        { class: "pc-dynamics-scroll" },
        h(
          "div",
          { class: "pc-dynamics-top" },
          h(
            "div",
            { class: "pc-dynamics-panel" },
            h("div", { class: "pc-panel-title" }, "Data map"),
            this.mapPanel.element,
            this.mapCaption,
          ),
          h(
            "div",
            { class: "pc-dynamics-panel" },
            h(
              "div",
              { class: "pc-panel-title" },
              "Easy, ambiguous and hard-to-learn samples over the steps",
            ),
            this.chart.element,
            this.countsCaption,
          ),
        ),
        h(
          "div",
          { class: "pc-dynamics-panel" },
          h(
            "div",
            { class: "pc-card-toolbar" },
            this.listPick.el,
            h("span", { class: "pc-spacer" }),
            this.csv,
          ),
          this.list.element,
        ),
      ),
    );
  }

  update(ctx: ViewContext): void {
    this.ctx = ctx;
    if (ctx.refreshId !== this.lastRefresh) {
      if (this.lastRefresh !== -1) {
        this.counts.key = null;
        this.map.key = null;
        this.ranked.key = null;
      }
      this.lastRefresh = ctx.refreshId;
    }
    const run = ctx.run;
    if (!run) {
      setChildren(
        this.facts,
        "No run of this class set tracked samples: create its writer with track_samples=len(train_set) and pass sample_ids= (dataset indices) to update().",
      );
      return;
    }
    const name = ctx.name;
    this.counts.load(
      cacheKey(run, name, this.lastRefresh),
      () => ctx.api.dynamics(run, name),
      () => this.render(),
    );
    const s = ctx.state;
    this.map.load(
      cacheKey(run, name, s.dynamicsStep, this.lastRefresh),
      () => ctx.api.dataMap(run, name, s.dynamicsStep),
      () => this.render(),
    );
    this.loadList();
    this.render();
  }

  private shownClass(): number | null {
    const ctx = this.ctx;
    return ctx ? classIndex(ctx.classNames, ctx.state.dynamicsClass) : null;
  }

  private loadList(): void {
    const ctx = this.ctx;
    if (!ctx?.run) return;
    const run = ctx.run;
    const name = ctx.name;
    const s = ctx.state;
    const label = this.shownClass();
    const key = cacheKey(
      run,
      name,
      s.dynamicsStep,
      s.dynamicsList,
      label,
      this.limit,
      this.lastRefresh,
    );
    this.ranked.load(
      key,
      () => ctx.api.dynamicsList(run, name, s.dynamicsStep, s.dynamicsList, label, this.limit),
      () => this.render(),
    );
  }

  private render(): void {
    const ctx = this.ctx;
    if (!ctx?.run) return;
    const s = ctx.state;
    const label = this.shownClass();
    const names = ctx.classNames;
    if (
      this.classPick.options.length !== names.length + 1 ||
      this.classPick.dataset.names !== names.join("\u0000")
    ) {
      this.classPick.dataset.names = names.join("\u0000");
      setChildren(
        this.classPick,
        h("option", { attrs: { value: "" } }, "All classes"),
        ...names.map((n) => h("option", { attrs: { value: n } }, n)),
      );
    }
    this.classPick.value = label === null ? "" : names[label];
    this.listPick.set(s.dynamicsList);
    this.csv.href = dynamicsListUrl(
      ctx.run,
      ctx.name,
      this.map.data?.step ?? s.dynamicsStep,
      s.dynamicsList,
      label,
      null,
      "csv",
    );
    const loading = this.counts.loading || this.map.loading || this.ranked.loading;
    this.status.textContent = loading ? "Loading…" : "";
    const counts = this.counts.data;
    if (counts) {
      const series = countSeries(counts, label);
      this.chart.draw(
        series,
        cacheKey(ctx.run, ctx.name, label, counts.steps.length, this.lastRefresh),
      );
      this.countsCaption.textContent = latestCountsText(series);
      this.slider.set(
        counts.snapshot_steps,
        this.map.data?.step ?? s.dynamicsStep,
        s.dynamicsStep === null,
      );
      setChildren(this.facts, ...this.factLines(counts));
    } else if (this.counts.error) {
      this.countsCaption.textContent = `Could not load the counts: ${this.counts.error}`;
    }
    const map = this.map.data;
    if (map) {
      this.mapPanel.draw(map, label);
      this.mapCaption.textContent = mapCaption(map, this.mapPanel.drawn, label);
    } else {
      this.mapCaption.textContent = this.map.error
        ? `Could not load the data map: ${this.map.error}`
        : "Loading the data map…";
    }
    const err = this.ranked.error;
    this.list.render(this.ranked.data, err ? `Could not load the list: ${err}` : null);
  }

  private factLines(counts: DynamicsCounts): string[] {
    const last = counts.steps.length - 1;
    if (last < 0) return [];
    const size = counts.dataset_size[last];
    const visited = counts.visited[last].reduce((a, b) => a + b, 0);
    const lines = [
      `Tracking ${formatCount(size)} samples; ${formatCount(visited)} visited so far.`,
    ];
    const invalid = counts.invalid_id_visits[last];
    if (invalid)
      lines.push(
        ` ${formatCount(invalid)} visits had sample_ids outside [0, ${formatCount(size)}) and count for no sample.`,
      );
    const repeated = counts.repeated_ids[last];
    if (repeated)
      lines.push(
        ` ${formatCount(repeated)} ids came twice or more within a batch (each occurrence counted).`,
      );
    return lines;
  }

  flush(): void {
    this.render();
  }

  destroy(): void {
    this.counts.reset();
    this.map.reset();
    this.ranked.reset();
  }
}
