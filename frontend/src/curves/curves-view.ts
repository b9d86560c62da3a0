// Per-class learning curves: one line per (series, class), class = hue, series = dash pattern
// (train solid, validation dashed), a bold mean-over-classes line per series, worst-N
// highlight, hover tooltip, zoom. A series is a (run, name) pair (series.ts).
import { h, setChildren } from "../ui/dom";
import { placeTooltip } from "../ui/tooltip";
import type { ChartFactory, HoverHit, LineChart } from "./chart-model";
import { buildChartModel, type ChartModel, type LineModel } from "./chart-model";
import { measured } from "../lib/perf";
import { formatNumber } from "../lib/format";
import { DASHES, MEAN_COLOR_CSS } from "../ui/colors";
import { currentTheme } from "../ui/theme";
import { dashSample, nonfiniteBadge, swatch } from "../ui/widgets";
import { compactLabels, hasCurves, seriesLabel } from "../data/series";
import { rankPhrase } from "./ranking";
import type { View, ViewContext } from "../view-contract";
import { cacheKey } from "../lib/keys";

export function formatStep(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return formatNumber(v);
}

export class CurvesView implements View {
  readonly id = "curves";
  readonly label = "Curves";
  readonly settings = null;
  readonly element: HTMLElement;
  private legend: HTMLElement;
  private chartBox: HTMLElement;
  private tooltip: HTMLElement;
  private hint: HTMLElement;
  /** names the ticked series that keep samples but have no per-class stats (no lines) */
  private note: HTMLElement;
  private chart: LineChart | null = null;
  private model: ChartModel | null = null;
  private ctx: ViewContext | null = null;
  private resizeObs: ResizeObserver | null = null;
  private lastSize = { w: 0, h: 0 };
  private pending = 0;
  /** what the current chart was drawn from; an identical update (a refresh that brought no
   * new steps) keeps the chart, so a hover or a drag in progress is not interrupted */
  private drawnKey = "";

  constructor(private readonly chartFactory: ChartFactory) {
    this.legend = h("div", { class: "pc-legend", attrs: { "data-role": "legend" } });
    this.tooltip = h("div", {
      class: "pc-tooltip",
      attrs: { hidden: true, "data-role": "tooltip", role: "tooltip" },
    });
    this.chartBox = h("div", { class: "pc-chart", attrs: { "data-role": "chart" } });
    this.note = h("div", {
      class: "pc-card-note",
      attrs: { "data-role": "samples-only-note", role: "note", hidden: true },
    });
    this.hint = h(
      "div",
      { class: "pc-hint" },
      "Drag across the chart to zoom in, double-click to zoom out. Hover a line for its class and value.",
    );
    this.element = h(
      "div",
      { class: "pc-card", attrs: { "data-view": "curves" } },
      this.legend,
      this.note,
      this.chartBox,
      this.hint,
    );
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObs = new ResizeObserver(() => this.onResize());
      this.resizeObs.observe(this.chartBox);
    }
  }

  update(ctx: ViewContext): void {
    this.ctx = ctx;
    const s = ctx.state;
    const numSelected = ctx.selected.filter(Boolean).length;
    this.renderLegend(ctx);
    const noCurves = ctx.group.filter(
      (x) => !hasCurves(x.info) && !s.deselectedSeries.includes(x.key),
    );
    const who = noCurves.map((x) => seriesLabel(x)).join(", ");
    const only = noCurves.length === 1 ? `${who} keeps` : `${who} keep`;
    this.note.textContent = noCurves.length
      ? `${only} misclassified samples but no per-class stats, so no lines here: see the Confusion tab.`
      : "";
    this.note.hidden = noCurves.length === 0 || ctx.runs.length === 0;
    if (ctx.runs.length === 0) {
      this.showMessage(
        noCurves.length
          ? `${only} misclassified samples but no per-class stats: no curves to draw. Their mistakes are in the Confusion tab; tick a run with stats to plot its curves.`
          : "No run selected. Tick a run on the left to plot its per-class curves.",
      );
      return;
    }
    if (numSelected === 0) {
      this.showMessage("No class selected. Tick classes on the left, or use “All”.");
      return;
    }
    this.model = measured("model:lines", () =>
      buildChartModel({
        runs: ctx.runs,
        classNames: ctx.classNames,
        selected: ctx.selected,
        metric: ctx.metric,
        smoothing: s.smoothing,
        xAxis: s.xAxis,
        logScale: s.logScale && ctx.metric.allowLog,
        highlighted: ctx.worst,
        colorBy: s.colorBy,
        classColors: ctx.classColors,
        seriesColors: ctx.seriesColors,
        seriesDashes: ctx.seriesDashes,
        showMean: true,
        theme: currentTheme(),
      }),
    );
    if (this.model.xs.length === 0) {
      this.showMessage(
        "The selected runs have no steps yet. This tab refreshes itself; new steps appear as they are written.",
      );
      return;
    }
    const key = drawKey(ctx);
    if (this.chart && key === this.drawnKey) return;
    this.drawnKey = key;
    this.scheduleChart();
  }

  private showMessage(text: string): void {
    this.destroyChart();
    this.drawnKey = "";
    this.model = null;
    setChildren(
      this.chartBox,
      h("div", { class: "pc-message", attrs: { "data-role": "message" } }, text),
      this.tooltip,
    );
    this.hideTooltip();
  }

  /** Coalesces bursts of updates (slider drags) into one redraw per frame. */
  private scheduleChart(): void {
    if (typeof requestAnimationFrame === "undefined") {
      this.drawChart();
      return;
    }
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.drawChart();
    });
  }

  /** Draws a pending update right away (tests). */
  flush(): void {
    if (!this.pending) return;
    cancelAnimationFrame(this.pending);
    this.pending = 0;
    this.drawChart();
  }

  private drawChart(): void {
    const ctx = this.ctx;
    const model = this.model;
    if (!ctx || !model) return;
    this.destroyChart();
    setChildren(this.chartBox, this.tooltip);
    this.hideTooltip();
    const { w, h: hgt } = this.size();
    // the chart is built at this size: the resize observer's report of it is no resize
    this.lastSize = { w, h: hgt };
    const runCount = ctx.runs.length;
    const short = compactLabels(ctx.runs);
    const metric = ctx.metric;
    const isPercent = metric.bounds?.[1] === 1;
    this.chart = measured("draw:lines", () =>
      this.chartFactory(
        this.chartBox,
        {
          model,
          logScale: ctx.state.logScale && metric.allowLog,
          yBounds: metric.bounds,
          zoom: ctx.state.zoom,
          yLabel: this.yLabel(ctx),
          formatY: (v) => (isPercent ? `${formatNumber(v * 100)}%` : formatNumber(v)),
          formatX: (v) => formatStep(v),
          meanLabel: (li) => {
            const l = model.lines[li];
            return runCount > 1 ? `mean · ${short.get(l.series) ?? l.seriesLabel}` : "mean";
          },
          onZoom: (zoom) => {
            const cur = ctx.state.zoom;
            const same =
              (zoom === null && cur === null) ||
              (zoom && cur && zoom[0] === cur[0] && zoom[1] === cur[1]);
            if (!same) ctx.setState({ zoom }, { rerender: false });
          },
          onHover: (hit) => this.onHover(hit),
        },
        w,
        hgt,
      ),
    );
  }

  private yLabel(ctx: ViewContext): string {
    const m = ctx.metric;
    const loss = ctx.info?.loss;
    let label = m.id === "loss" && loss ? `${m.label} (${loss})` : m.label;
    if (ctx.state.smoothing > 0) label += ", smoothed";
    return label;
  }

  private size(): { w: number; h: number } {
    const r = this.chartBox.getBoundingClientRect();
    return { w: Math.max(200, Math.floor(r.width)), h: Math.max(160, Math.floor(r.height)) };
  }

  private onResize(): void {
    const { w, h: hgt } = this.size();
    if (w === this.lastSize.w && hgt === this.lastSize.h) return;
    this.lastSize = { w, h: hgt };
    this.chart?.resize(w, hgt);
  }

  private destroyChart(): void {
    if (this.chart) {
      this.chart.destroy();
      this.chart = null;
    }
  }

  private hideTooltip(): void {
    this.tooltip.hidden = true;
  }

  /** Fills and places the tooltip for a hovered point (public for tests). */
  onHover(hit: HoverHit | null): void {
    const model = this.model;
    const ctx = this.ctx;
    if (!hit || !model || !ctx) {
      this.hideTooltip();
      return;
    }
    const line = model.lines[hit.line];
    if (!line) {
      this.hideTooltip();
      return;
    }
    setChildren(this.tooltip, ...this.tooltipContent(ctx, model, line, hit.index));
    placeTooltip(this.tooltip, this.chartBox, hit.left, hit.top, 14, { width: 200, height: 80 });
  }

  private tooltipContent(ctx: ViewContext, model: ChartModel, line: LineModel, i: number): Node[] {
    const metric = ctx.metric;
    const fmt = (v: number | null) => (v === null ? "–" : metric.format(v));
    const step = model.runs[line.runIndex]?.stepAt[i];
    const nodes: Node[] = [];
    const title = h("div", { class: "pc-tooltip-title", attrs: { "data-role": "tooltip-class" } });
    if (line.kind === "mean") {
      title.append(
        dashSample(MEAN_COLOR_CSS, line.dash, 3, 22),
        h("span", null, "Mean over classes"),
      );
    } else {
      title.append(swatch(line.baseColor), h("span", null, line.label));
      if (line.nonfiniteTotal > 0) title.append(nonfiniteBadge(line.nonfiniteTotal));
    }
    nodes.push(title);
    const runColor = ctx.seriesColors.get(line.series) ?? "#425066";
    nodes.push(
      h(
        "div",
        { class: "pc-tooltip-row" },
        dashSample(runColor, line.dash, 2, 22),
        h("span", { class: "pc-run-name" }, line.seriesLabel),
      ),
    );
    const xText =
      model.xUnitSeconds > 0
        ? `Step ${step ?? "–"} · ${formatNumber(model.xs[i])} ${unitName(model.xUnitSeconds)}`
        : `Step ${step ?? formatStep(model.xs[i])}`;
    nodes.push(h("div", { class: "pc-tooltip-row" }, xText));
    const v = line.values.at(i);
    const raw = line.raw.at(i);
    const valueText =
      ctx.state.smoothing > 0
        ? `${metric.label}: ${fmt(v)} (raw ${fmt(raw)})`
        : `${metric.label}: ${fmt(raw)}`;
    nodes.push(
      h("div", { class: "pc-tooltip-row", attrs: { "data-role": "tooltip-value" } }, valueText),
    );
    if (line.kind === "class") {
      const latest = ctx.latest[line.classIndex];
      const rank = ctx.worst.indexOf(line.classIndex);
      if (rank >= 0 && ctx.rankLabel) {
        nodes.push(
          h(
            "div",
            { class: "pc-tooltip-row" },
            `#${rank + 1} worst by ${rankPhrase(metric, ctx.rankLabel)}${latest !== null && latest !== undefined ? ` (${fmt(latest)})` : ""}`,
          ),
        );
      }
      // the same class in the other series at this step (train/validation gap at a glance)
      if (model.xUnitSeconds === 0) {
        for (const other of model.lines) {
          if (
            other.kind !== "class" ||
            other.classIndex !== line.classIndex ||
            other.series === line.series
          )
            continue;
          const ov = other.values.at(i);
          if (ov === null) continue;
          const oc = ctx.seriesColors.get(other.series) ?? "#425066";
          nodes.push(
            h(
              "div",
              { class: "pc-tooltip-row pc-tooltip-other", attrs: { "data-role": "tooltip-other" } },
              dashSample(oc, other.dash, 2, 22),
              h("span", { class: "pc-run-name" }, other.seriesLabel),
              h("span", { class: "pc-tooltip-other-value" }, fmt(ov)),
            ),
          );
        }
      }
      const nf = line.nonfinite?.at(i);
      if (nf) {
        nodes.push(
          h(
            "div",
            { class: "pc-tooltip-row pc-tooltip-warn" },
            `⚠ ${nf} non-finite loss${nf === 1 ? "" : "es"} at this step (kept out of the mean)`,
          ),
        );
      } else if (line.nonfiniteTotal > 0) {
        nodes.push(
          h(
            "div",
            { class: "pc-tooltip-row pc-tooltip-warn" },
            `⚠ ${line.nonfiniteTotal} non-finite loss${line.nonfiniteTotal === 1 ? "" : "es"} at other steps`,
          ),
        );
      }
      const nfOut = line.nonfiniteOutputs?.at(i);
      if (nfOut) {
        nodes.push(
          h(
            "div",
            {
              class: "pc-tooltip-row pc-tooltip-warn",
              attrs: { "data-role": "tooltip-nonfinite-outputs" },
            },
            `⚠ ${nfOut} sample${nfOut === 1 ? "" : "s"} with non-finite outputs at this step (not in the confusion matrix)`,
          ),
        );
      }
    }
    return nodes;
  }

  private renderLegend(ctx: ViewContext): void {
    const items: Node[] = [];
    const rows: Node[] = [];
    for (const rc of ctx.runs) {
      const dash = DASHES[ctx.seriesDashes.get(rc.key) ?? 0] ?? DASHES[0];
      items.push(
        h(
          "span",
          {
            class: "pc-legend-item",
            title: `Lines of ${rc.label} (${dash.label})`,
            attrs: { "data-run": rc.run, "data-name": rc.name, "data-dash": dash.label },
          },
          dashSample("var(--pc-legend-line)", dash.dash, 2),
          h("span", { class: "pc-run-name" }, rc.label),
        ),
      );
    }
    if (ctx.runs.length) {
      items.push(
        h(
          "span",
          {
            class: "pc-legend-item",
            title: "Mean of the per-class values over all classes (macro average), one per series",
          },
          dashSample(MEAN_COLOR_CSS, [], 3),
          h("span", null, "mean of classes"),
        ),
      );
    }
    if (ctx.worst.length && ctx.rankLabel) {
      const chips: Node[] = [
        h(
          "span",
          { class: "pc-legend-label" },
          `Worst ${ctx.worst.length} by ${rankPhrase(ctx.metric, ctx.rankLabel)}:`,
        ),
      ];
      for (const g of ctx.worst) {
        const v = ctx.latest[g];
        chips.push(
          h(
            "span",
            { class: "pc-chip", attrs: { "data-role": "worst" }, title: ctx.classNames[g] },
            swatch(ctx.state.colorBy === "run" ? "var(--pc-class-swatch)" : ctx.classColors[g]),
            h("span", null, ctx.classNames[g]),
            v !== null && v !== undefined
              ? h("span", { class: "pc-chip-value" }, ctx.metric.format(v))
              : null,
          ),
        );
      }
      rows.push(
        h(
          "div",
          { class: "pc-legend-row pc-legend-worst", attrs: { "data-role": "legend-worst" } },
          ...chips,
        ),
      );
    }
    setChildren(
      this.legend,
      items.length
        ? h(
            "div",
            { class: "pc-legend-row pc-legend-series", attrs: { "data-role": "legend-series" } },
            ...items,
          )
        : null,
      ...rows,
    );
  }

  destroy(): void {
    if (this.pending) cancelAnimationFrame(this.pending);
    this.resizeObs?.disconnect();
    this.destroyChart();
  }
}

/** Everything the chart depends on, compactly (data by its size and last point). The zoom is
 * not part of it: the chart itself holds the zoom the user dragged. */
function drawKey(ctx: ViewContext): string {
  const s = ctx.state;
  const runs = ctx.runs.map((r) => {
    const c = r.curves;
    const n = c.steps.length;
    return [r.key, n, c.steps[n - 1], c.wall_times[n - 1], c.class_names.length];
  });
  let sel = "";
  for (const b of ctx.selected) sel += b ? "1" : "0";
  return cacheKey(
    runs,
    s.metric,
    s.xAxis,
    s.logScale,
    s.smoothing,
    s.colorBy,
    ctx.worst,
    ctx.classColors.length,
    ctx.seriesColors.size,
    [...ctx.seriesDashes.entries()],
    ctx.info?.loss,
    sel,
    // the chart's colours are the theme's: a switch rebuilds it
    currentTheme(),
  );
}

function unitName(seconds: number): string {
  return seconds === 3600 ? "h" : seconds === 60 ? "min" : "s";
}
