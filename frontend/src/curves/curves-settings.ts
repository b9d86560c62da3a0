// The Curves tab's settings in the sidebar (lines and class-by-step heatmap alike): lines or
// heatmap, metric, smoothing, horizontal axis, log scale, worst classes and the series that
// ranks them, colour by class or run.
import { h, setChildren } from "../ui/dom";
import { field, segmented } from "../ui/widgets";
import {
  IN_RANGE_TITLE,
  METRICS,
  METRIC_TITLES,
  metricById,
  metricForTask,
  type MetricDef,
} from "../data/metrics";
import type { RunCurves } from "../data/types";
import { clampSmoothing } from "../lib/smoothing";
import {
  effectiveCurvesMode,
  effectiveWorstN,
  HEATMAP_THRESHOLD,
  type ViewState,
} from "../state/view-state";

/** What the settings show besides the state: the tab's metric, task, classes and loaded series. */
export interface CurvesSettingsInput {
  metric: MetricDef;
  task: string | null;
  classNames: readonly string[];
  /** the ticked series with loaded curves (the ranking series is one of them) */
  loaded: readonly RunCurves[];
  /** the series the user picked to rank the classes; null: the mean of the series shown */
  rankSeries: string | null;
}

export class CurvesSettings {
  readonly element: HTMLElement;
  private modeSeg;
  private metricSeg;
  private xSeg;
  private colorSeg;
  private smoothRange: HTMLInputElement;
  private smoothNum: HTMLInputElement;
  private logBox: HTMLInputElement;
  private logLabel: HTMLElement;
  private worstNum: HTMLInputElement;
  private rankSelect: HTMLSelectElement;
  /** hidden with the heatmap: they are about lines */
  private linesOnly: HTMLElement[];

  constructor(setState: (patch: Partial<ViewState>) => void) {
    const setSmoothing = (v: number) => setState({ smoothing: clampSmoothing(v) });
    this.metricSeg = segmented(
      "metric",
      METRICS.map((m) => ({ value: m.id, label: m.label, title: METRIC_TITLES[m.id] })),
      (v) => setState({ metric: v }),
    );
    this.metricSeg.el.classList.add("pc-seg-compact", "pc-seg-wrap");
    this.smoothRange = h("input", {
      class: "pc-slider",
      attrs: {
        type: "range",
        min: 0,
        max: 0.999,
        step: 0.001,
        "data-control": "smoothing",
        "aria-label": "Smoothing",
      },
      on: { input: () => setSmoothing(Number(this.smoothRange.value)) },
    });
    this.smoothNum = h("input", {
      class: "pc-num",
      attrs: { type: "number", min: 0, max: 0.999, step: 0.01, "aria-label": "Smoothing value" },
      on: { change: () => setSmoothing(Number(this.smoothNum.value)) },
    });
    this.xSeg = segmented(
      "x-axis",
      [
        { value: "step", label: "Step" },
        { value: "relative", label: "Relative", title: "Wall time since each run's first step" },
      ],
      (v) => setState({ xAxis: v, zoom: null }),
    );
    this.logBox = h("input", {
      attrs: { type: "checkbox", "data-control": "log-scale" },
      on: { change: () => setState({ logScale: this.logBox.checked }) },
    });
    this.logLabel = h("label", { class: "pc-check" }, this.logBox, "Log scale (loss)");
    this.worstNum = h("input", {
      class: "pc-num",
      attrs: {
        type: "number",
        min: 0,
        max: 100,
        step: 1,
        "data-control": "worst-n",
        "aria-label": "Number of worst classes to highlight",
      },
      on: {
        change: () => {
          const n = Math.max(0, Math.min(100, Math.floor(Number(this.worstNum.value) || 0)));
          setState({ worstN: n });
        },
      },
    });
    this.rankSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "rank-run", "aria-label": "Series that ranks the classes" },
      on: { change: () => setState({ rankSeries: this.rankSelect.value || null }) },
    });
    this.colorSeg = segmented(
      "color-by",
      [
        { value: "class", label: "Class" },
        { value: "run", label: "Run" },
      ],
      (v) => setState({ colorBy: v }),
    );
    this.modeSeg = segmented(
      "curves-mode",
      [
        { value: "lines", label: "Lines", title: "One line per class and run" },
        {
          value: "heatmap",
          label: "Heatmap",
          title: `One row per class, one column per step (the default above ${HEATMAP_THRESHOLD} classes)`,
        },
      ],
      (v) => setState({ curvesMode: v }),
    );
    const xField = field("Horizontal axis", this.xSeg.el);
    const worstField = field(
      "Highlight worst classes",
      h(
        "div",
        { class: "pc-row" },
        this.worstNum,
        h("span", { class: "pc-hint-inline" }, "ranked by their latest value:"),
      ),
      h("div", { class: "pc-row pc-row-gap" }, this.rankSelect),
    );
    const colorField = field("Colour lines by", this.colorSeg.el);
    this.linesOnly = [xField, worstField, colorField];
    this.element = h(
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
  }

  /** Shows the state; `d` is null before the first load. A control being edited keeps its text. */
  sync(s: ViewState, d: CurvesSettingsInput | null): void {
    const metric = d?.metric ?? metricById(s.metric);
    // precision, recall and F1 need a series with confusion data (tp/fp/fn); AP, AUROC, ECE
    // and top-k accuracy one with score histograms
    const unavailable = Object.fromEntries(
      METRICS.map((m) => [m.id, !d || !d.loaded.some((rc) => m.available(rc.curves))]),
    );
    this.metricSeg.set(metric.id, { ...unavailable, loss: false, accuracy: false });
    const topk = this.metricSeg.el.querySelector<HTMLElement>("[data-value=topk]");
    const k = d?.loaded.find((rc) => rc.curves.top_k)?.curves.top_k;
    if (topk) topk.textContent = k ? `Top-${k} acc.` : "Top-k acc.";
    const accuracyBtn = this.metricSeg.el.querySelector<HTMLElement>("[data-value=accuracy]");
    if (accuracyBtn) {
      const regression = d?.task === "regression";
      accuracyBtn.textContent = metricForTask(metricById("accuracy"), d?.task).label;
      accuracyBtn.title = regression ? IN_RANGE_TITLE : "";
    }
    const mode = effectiveCurvesMode(s, d?.classNames.length ?? 0);
    this.modeSeg.set(mode);
    for (const f of this.linesOnly) f.hidden = mode === "heatmap";
    this.xSeg.set(s.xAxis);
    this.colorSeg.set(s.colorBy);
    if (document.activeElement !== this.smoothRange) this.smoothRange.value = String(s.smoothing);
    if (document.activeElement !== this.smoothNum) this.smoothNum.value = String(s.smoothing);
    this.logBox.checked = s.logScale;
    this.logBox.disabled = !metric.allowLog;
    this.logLabel.classList.toggle("pc-disabled", !metric.allowLog);
    this.logLabel.title = metric.allowLog
      ? mode === "heatmap"
        ? "Logarithmic colour scale"
        : "Logarithmic y axis"
      : `Log scale applies to the loss, not to ${metric.label.toLowerCase()}`;
    if (document.activeElement !== this.worstNum)
      this.worstNum.value = String(effectiveWorstN(s, d?.classNames.length ?? 0));
    if (d) {
      const mean = h("option", { attrs: { value: "" } }, "mean of the runs shown");
      mean.selected = d.rankSeries === null;
      setChildren(
        this.rankSelect,
        mean,
        ...d.loaded.map((rc) => {
          const o = h("option", { attrs: { value: rc.key } }, `in ${rc.label}`);
          o.selected = rc.key === d.rankSeries;
          return o;
        }),
      );
      this.rankSelect.disabled = d.loaded.length === 0;
    }
  }
}
