// The class-by-step heatmap: one row per class, one column per step, of the chosen metric in
// one run; rows sortable by final value, trend, slope or train/validation gap. The overview
// that replaces unreadable spaghetti plots at hundreds of classes.
import { h, setChildren } from "../ui/dom";
import { placeTooltip } from "../ui/tooltip";
import type { CurvesResponse } from "../data/types";
import {
  classHeat,
  defaultDesc,
  gapOf,
  heatOrder,
  missingLabel,
  summarize,
  type ClassHeat,
  type ClassSummary,
} from "./class-heat";
import { measured } from "../lib/perf";
import type { HeatSortKey } from "../state/view-state";
import { counterpartSeries, seriesLabel, splitOfSeries, type Series } from "../data/series";
import { ColorScale, VIRIDIS } from "../ui/color-scale";
import { currentTheme, themeColors } from "../ui/theme";
import { HeatCanvas } from "../ui/heat-canvas";
import type { HeatHit } from "../ui/heat-layout";
import { ClassFinder } from "../ui/class-finder";
import { Legend } from "../ui/legend";
import { centerOn, type Viewport } from "../lib/zoom";
import { DASH } from "../lib/format";
import type { MetricDef } from "../data/metrics";
import type { View, ViewContext } from "../view-contract";
import { shownMask } from "../state/selection";
import { cacheKey, orderHash } from "../lib/keys";

const SORTS: { key: HeatSortKey; label: string; title: string }[] = [
  { key: "final", label: "Final value", title: "The class's latest value" },
  { key: "trend", label: "Trend (last − first)", title: "Latest value minus first value" },
  { key: "slope", label: "Slope", title: "Least-squares slope of the value over the steps" },
  {
    key: "gap",
    label: "Train/validation gap",
    title: "How much worse the held-out run is than the training run at the latest step",
  },
  { key: "index", label: "Class index", title: "The classes' own order" },
  { key: "name", label: "Class name", title: "Alphabetical" },
];

interface Prepared {
  curves: CurvesResponse;
  metric: MetricDef;
  smoothing: number;
  heat: ClassHeat;
  stats: ClassSummary[];
}

export class ClassHeatmapView implements View {
  readonly id = "heatmap";
  readonly label = "Curves";
  readonly settings = null;
  readonly element: HTMLElement;
  private ctx: ViewContext | null = null;
  private heat: HeatCanvas;
  private heatBox: HTMLElement;
  private tooltip: HTMLElement;
  private message: HTMLElement;
  private legend: Legend;
  private sortSelect: HTMLSelectElement;
  private dirBtn: HTMLButtonElement;
  private finder: ClassFinder;
  private resetBtn: HTMLButtonElement;
  private info: HTMLElement;
  private runLabel: HTMLElement;
  private prepared: Prepared | null = null;
  private other: Prepared | null = null;
  /** the train/validation counterpart of the series shown (its curves are `other`) */
  private otherSeries: Series | null = null;
  private order: number[] = [];
  private names: string[] = [];
  private drawnKey = "";

  constructor() {
    this.sortSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "heat-sort", "aria-label": "Sort rows by" },
      on: { change: () => this.setSort(this.sortSelect.value as HeatSortKey) },
    });
    for (const s of SORTS)
      this.sortSelect.appendChild(
        h("option", { attrs: { value: s.key }, title: s.title }, s.label),
      );
    this.dirBtn = h("button", {
      class: "pc-button",
      attrs: { type: "button", "data-control": "heat-sort-dir" },
      on: {
        click: () =>
          this.ctx &&
          this.ctx.setState({
            heatSort: { ...this.ctx.state.heatSort, reverse: !this.ctx.state.heatSort.reverse },
            heatZoom: null,
          }),
      },
    });
    this.finder = new ClassFinder("heat-find", (i) => this.focusClass(i), "Find a class…");
    this.resetBtn = h(
      "button",
      {
        class: "pc-button",
        title: "Show all classes and steps",
        attrs: { type: "button", "data-role": "heat-zoom-reset" },
        on: { click: () => this.resetZoom() },
      },
      "Reset zoom",
    );
    this.runLabel = h("span", { class: "pc-run-label", attrs: { "data-role": "heat-run" } });
    this.tooltip = h("div", {
      class: "pc-tooltip",
      attrs: { hidden: true, "data-role": "heat-tooltip", role: "tooltip" },
    });
    this.message = h("div", {
      class: "pc-message pc-overlay-message",
      attrs: { "data-role": "heat-message", hidden: true },
    });
    this.heat = new HeatCanvas({
      onViewport: (vp) => {
        this.ctx?.setState({ heatZoom: vp }, { rerender: false });
        this.renderInfo();
        this.tooltip.hidden = true;
      },
      onHover: (hit) => this.onHover(hit),
      onClick: (r) => {
        const c = this.order[r];
        if (c !== undefined && this.ctx) this.ctx.setState({ focus: this.names[c] });
      },
    });
    this.heatBox = h(
      "div",
      { class: "pc-heat-box", attrs: { "data-role": "class-heatmap" } },
      this.heat.element,
      this.tooltip,
      this.message,
    );
    this.legend = new Legend("heat-legend");
    this.info = h("span", { class: "pc-status", attrs: { "data-role": "heat-info" } });
    this.element = h(
      "div",
      { class: "pc-card pc-card-matrix", attrs: { "data-view": "heatmap" } },
      h(
        "div",
        { class: "pc-card-toolbar" },
        this.runLabel,
        h("span", { class: "pc-label-inline" }, "Sort rows by"),
        this.sortSelect,
        this.dirBtn,
        this.finder.element,
        this.resetBtn,
      ),
      h("div", { class: "pc-card-body" }, this.heatBox),
      h("div", { class: "pc-card-footer" }, this.legend.element, this.info),
      h(
        "div",
        { class: "pc-hint" },
        "One row per class, one column per step. Wheel to zoom, drag a rectangle to zoom in, double-click to reset; hover for values.",
      ),
    );
  }

  private prepare(
    curves: CurvesResponse,
    metric: MetricDef,
    smoothing: number,
    cached: Prepared | null,
  ): Prepared {
    if (
      cached &&
      cached.curves === curves &&
      cached.metric === metric &&
      cached.smoothing === smoothing
    )
      return cached;
    const C = curves.class_names.length;
    const heat = measured("model:heatmap", () => classHeat(metric.extract(curves), C, smoothing));
    const stats = Array.from({ length: C }, (_, c) => summarize(heat.values, c, curves.steps));
    return { curves, metric, smoothing, heat, stats };
  }

  private showMessage(text: string): void {
    setChildren(this.message, text);
    this.message.hidden = false;
    this.heat.element.style.visibility = "hidden";
    this.tooltip.hidden = true;
    this.drawnKey = "";
  }

  update(ctx: ViewContext): void {
    this.ctx = ctx;
    const s = ctx.state;
    const series = ctx.series;
    const run = series ? seriesLabel(series) : null;
    this.sortSelect.value = s.heatSort.key;
    const textual = s.heatSort.key === "index" || s.heatSort.key === "name";
    this.dirBtn.textContent = textual
      ? s.heatSort.reverse
        ? "Z → A"
        : "A → Z"
      : s.heatSort.reverse
        ? "Best first"
        : "Worst first";
    this.dirBtn.title = "Reverse the order";
    this.runLabel.textContent = run ?? "";
    this.runLabel.title = run ? `${run} (pick another on the left)` : "";
    if (!series || !run) return this.showMessage("No run selected. Pick a run on the left.");
    const curves = ctx.curvesOf(series.key);
    if (!curves) return this.showMessage("Loading the run's curves…");
    const metric = ctx.metric;
    if (!metric.available(curves)) {
      return this.showMessage(
        `${metric.label} needs the run's confusion data (true/false positives); this run has none. Pick loss or accuracy.`,
      );
    }
    if (!curves.steps.length)
      return this.showMessage(
        "The run has no steps yet. This tab refreshes itself; new steps appear as they are written.",
      );
    const smoothing = s.smoothing;
    this.prepared = this.prepare(curves, metric, smoothing, this.prepared);
    const p = this.prepared;
    const names = curves.class_names;
    this.names = names;
    // the train/validation counterpart for the gap
    const otherSeries = counterpartSeries(series, ctx.group);
    const otherCurves = otherSeries ? ctx.curvesOf(otherSeries.key) : undefined;
    this.other =
      otherCurves && metric.available(otherCurves)
        ? this.prepare(otherCurves, metric, smoothing, this.other)
        : null;
    this.otherSeries = this.other ? otherSeries : null;
    const other = otherSeries ? seriesLabel(otherSeries) : "";
    const isTrain = splitOfSeries(series) === "train";
    const gapOpt = this.sortSelect.querySelector<HTMLOptionElement>("option[value=gap]")!;
    gapOpt.disabled = !this.other;
    gapOpt.title = this.other
      ? `${isTrain ? other : run} minus ${isTrain ? run : other}, at each one's latest step`
      : `Needs a train and a validation series of the same experiment (e.g. runs exp/train and exp/validation, or names train and validation of one run); ${run} has no counterpart loaded.`;
    const gaps = this.gaps(isTrain, names, metric);
    const shown = shownMask(ctx, names);
    const classes = names.map((_, i) => i).filter((i) => shown[i]);
    if (!classes.length)
      return this.showMessage("No class selected. Tick classes on the left, or use “All”.");
    const sortKey = s.heatSort.key === "gap" && !this.other ? "final" : s.heatSort.key;
    const desc = defaultDesc(sortKey, metric.higherIsBetter) !== s.heatSort.reverse;
    this.order = heatOrder(
      sortKey,
      desc,
      classes,
      names,
      (c) => p.stats[c],
      (c) => gaps[c],
    );
    this.finder.setNames(names, (i) => {
      const v = p.stats[i].final;
      return v === null ? null : metric.format(v);
    });
    this.message.hidden = true;
    this.heat.element.style.visibility = "";
    const bounded = !!metric.bounds;
    const log = s.logScale && metric.allowLog && !bounded;
    const min = bounded ? metric.bounds![0] : Math.min(0, p.heat.min);
    const max = bounded ? metric.bounds![1] : p.heat.max;
    const scale = new ColorScale({
      kind: "sequential",
      min,
      max: max > min ? max : min + 1,
      log,
      eps: Math.max((max - min) / 100, 1e-9),
      // dark = bad for every metric
      stops: metric.higherIsBetter ? VIRIDIS : [...VIRIDIS].reverse(),
      missing: themeColors().missing,
    });
    const steps = curves.steps;
    const key = cacheKey(
      series.key,
      metric.id,
      smoothing,
      log,
      steps.length,
      steps[steps.length - 1],
      p.heat.missing,
      orderHash(this.order),
      sortKey,
      desc,
      ctx.refreshId,
      currentTheme(),
    );
    if (key !== this.drawnKey) {
      this.drawnKey = key;
      const identity = Int32Array.from({ length: steps.length }, (_, i) => i);
      this.heat.set(
        {
          nRows: this.order.length,
          nCols: steps.length,
          source: {
            values: p.heat.values,
            stride: steps.length,
            rowIdx: this.order,
            colIdx: identity,
            maskDiagonal: false,
            pool: metric.higherIsBetter ? "min" : "max",
          },
          scale,
          rowLabel: (r) => names[this.order[r]],
          colLabel: (c) => String(steps[c]),
          rowTitle:
            this.order.length > 40
              ? `Class (${this.order.length}, by ${SORTS.find((x) => x.key === sortKey)?.label.toLowerCase()}${textual ? "" : desc === defaultDesc(sortKey, metric.higherIsBetter) ? ", worst first" : ", best first"})`
              : "Class",
          colTitle: "Step",
          colLabelStyle: "ticks",
          square: false,
        },
        s.heatZoom,
      );
      this.legend.set(
        scale,
        `${metric.label}${smoothing > 0 ? " (smoothed)" : ""}${log ? " · log scale" : ""}`,
        (v) => metric.format(v),
        p.heat.missing > 0 ? [{ label: missingLabel(metric.id), rgb: scale.missingRgb }] : [],
      );
    }
    const f = s.focus !== null ? names.indexOf(s.focus) : -1;
    const fr = f >= 0 ? this.order.indexOf(f) : -1;
    this.heat.setMarks({ row: fr >= 0 ? fr : null });
    this.renderInfo();
  }

  /** Per class (by this series' index): the train/validation gap at the latest values. */
  private gaps(isTrain: boolean, names: readonly string[], metric: MetricDef): (number | null)[] {
    const p = this.prepared;
    const o = this.other;
    if (!p || !o) return names.map(() => null);
    const otherAt = new Map(o.curves.class_names.map((n, i) => [n, i]));
    return names.map((n, c) => {
      const k = otherAt.get(n);
      if (k === undefined) return null;
      const mine = p.stats[c].final;
      const theirs = o.stats[k].final;
      return isTrain
        ? gapOf(mine, theirs, metric.higherIsBetter)
        : gapOf(theirs, mine, metric.higherIsBetter);
    });
  }

  private setSort(key: HeatSortKey): void {
    const ctx = this.ctx;
    if (!ctx) return;
    ctx.setState({ heatSort: { key, reverse: false }, heatZoom: null });
  }

  private renderInfo(): void {
    const v = this.heat.viewport;
    const n = this.order.length;
    const S = this.prepared?.curves.steps.length ?? 0;
    const full = v.r0 === 0 && v.r1 === n && v.c0 === 0 && v.c1 === S;
    this.info.textContent = full
      ? `${n} classes × ${S} steps`
      : `classes ${v.r0 + 1}–${v.r1} of ${n}, steps ${this.prepared?.curves.steps[v.c0] ?? ""}–${this.prepared?.curves.steps[v.c1 - 1] ?? ""}`;
    this.resetBtn.disabled = full;
  }

  private resetZoom(): void {
    this.ctx?.setState({ heatZoom: null });
    this.drawnKey = "";
    if (this.ctx) this.update(this.ctx);
  }

  focusClass(i: number): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const r = this.order.indexOf(i);
    const S = this.prepared?.curves.steps.length ?? 1;
    this.drawnKey = "";
    if (r < 0) {
      ctx.setState({ focus: this.names[i] });
      return;
    }
    const n = this.order.length;
    const rows = n > 41 ? centerOn(r, 0, 41, n, S) : null;
    const vp: Viewport | null = rows ? { r0: rows.r0, r1: rows.r1, c0: 0, c1: S } : null;
    ctx.setState({ focus: this.names[i], heatZoom: vp });
  }

  /** Tooltip for a hovered cell; public for tests. */
  onHover(hit: HeatHit | null): void {
    const ctx = this.ctx;
    const p = this.prepared;
    if (!hit || !ctx || !p) {
      this.tooltip.hidden = true;
      return;
    }
    const c = this.order[hit.r];
    const S = p.curves.steps.length;
    if (c === undefined || hit.c >= S) {
      this.tooltip.hidden = true;
      return;
    }
    const metric = p.metric;
    const v = p.heat.values[c * S + hit.c];
    const step = p.curves.steps[hit.c];
    const fmt = (x: number | null | undefined) =>
      x === null || x === undefined || !Number.isFinite(x) ? DASH : metric.format(x);
    const st = p.stats[c];
    const rows: Node[] = [
      h(
        "div",
        { class: "pc-tooltip-title", attrs: { "data-role": "heat-tooltip-class" } },
        p.curves.class_names[c],
      ),
      h(
        "div",
        { class: "pc-tooltip-row" },
        h("span", { class: "pc-run-name" }, ctx.series ? seriesLabel(ctx.series) : ""),
        `· step ${step}`,
      ),
      h(
        "div",
        { class: "pc-tooltip-row", attrs: { "data-role": "heat-tooltip-value" } },
        `${metric.label}: ${fmt(v)}`,
      ),
    ];
    const o = this.other;
    if (o) {
      const k = o.curves.class_names.indexOf(p.curves.class_names[c]);
      const s2 = o.curves.steps.indexOf(step);
      if (k >= 0 && s2 >= 0) {
        const ov = o.heat.values[k * o.curves.steps.length + s2];
        rows.push(
          h(
            "div",
            { class: "pc-tooltip-row pc-tooltip-other" },
            h(
              "span",
              { class: "pc-run-name" },
              this.otherSeries ? seriesLabel(this.otherSeries) : "",
            ),
            h("span", { class: "pc-tooltip-other-value" }, fmt(ov)),
          ),
        );
      }
    }
    rows.push(
      h(
        "div",
        { class: "pc-tooltip-row pc-tooltip-other" },
        `final ${fmt(st.final)} · trend ${st.trend === null ? DASH : (st.trend > 0 ? "+" : "") + metric.format(st.trend)}`,
      ),
    );
    rows.push(
      h(
        "div",
        { class: "pc-tooltip-row pc-tooltip-other" },
        `row ${hit.r + 1} of ${this.order.length}`,
      ),
    );
    setChildren(this.tooltip, ...rows);
    placeTooltip(this.tooltip, this.heatBox, hit.x, hit.y, 16, { width: 220, height: 100 });
  }

  /** Hover the cell of class `c` at step index `s` (tests). */
  hoverClass(c: number, s: number): void {
    const r = this.order.indexOf(c);
    if (r >= 0) this.heat.setHover({ r, c: s });
  }

  get rowOrder(): readonly number[] {
    return this.order;
  }

  get canvas(): HeatCanvas {
    return this.heat;
  }

  destroy(): void {
    this.heat.destroy();
  }
}
