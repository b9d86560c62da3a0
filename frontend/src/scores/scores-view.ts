// The Scores tab: one series at one step, from its score histograms (PerClassWriter(...,
// scores=True)). ROC or PR curves of a few classes (overlaid, with the train/validation
// counterpart dashed), for binary and multilabel runs precision / recall / F1 against a
// threshold the user drags (with the confusion counts there), a reliability diagram (all
// predictions or one class's), the most over- and under-confident classes, and every class's
// AP, AUROC, ECE, best F1 and top-k accuracy in a sortable table.
import { h, setChildren } from "../ui/dom";
import { field, segmented } from "../ui/widgets";
import { StepSlider } from "../ui/step-slider";
import { sortHeader } from "../ui/sort-header";
import { currentTheme, themeColors } from "../ui/theme";
import { withAlpha } from "../ui/colors";
import { cacheKey } from "../lib/keys";
import { formatCount, formatMetric, formatPercent } from "../lib/format";

import { Keyed } from "../data/keyed";
import { counterpartSeries, seriesLabel, type Series } from "../data/series";
import type { ScoreClass, ScoresResponse } from "../data/types";
import { shownMask } from "../state/selection";
import type { ReliabilityScope, ScoreCurve, ScoreKey } from "../state/view-state";
import type { View, ViewContext } from "../view-contract";
import { CurveChart, type ChartLine, type HoverInfo } from "./curve-chart";
import { ReliabilityChart } from "./reliability-chart";
import { bestF1, countsAt, expectedError, reliabilityBars } from "./score-curves";
import {
  CURVE_AXES,
  curvePoints,
  focusClass,
  MAX_SHOWN,
  nextScoreSort,
  shownClasses,
  tableRows,
  tableValue,
  thresholdLines,
  togglePick,
} from "./scores-model";

const percent = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? "—" : formatPercent(v);

const DEFAULT_THRESHOLD = 0.5;
const COUNTERPART_DASH = [6, 4];
const THRESHOLD_COLORS = { precision: "#1f77b4", recall: "#2ca02c", f1: "#d62728" };

export class ScoresView implements View {
  readonly id = "scores";
  readonly label = "Scores";
  readonly element: HTMLElement;
  readonly settings = null;
  private ctx: ViewContext | null = null;
  private slider: StepSlider;
  private curveSeg;
  private reliabilitySeg;
  private compareBox: HTMLInputElement;
  private compareLabel: HTMLLabelElement;
  private status: HTMLElement;
  private note: HTMLElement;
  private chart: CurveChart;
  private legend: HTMLElement;
  private thresholdBox: HTMLElement;
  private reliability: ReliabilityChart;
  private reliabilityNote: HTMLElement;
  private confidence: HTMLElement;
  private tableBox: HTMLElement;
  private message: HTMLElement;
  private body: HTMLElement;
  private main = new Keyed<ScoresResponse>();
  private other = new Keyed<ScoresResponse>();
  private lastRefresh = -1;
  private tableKey = "";

  constructor() {
    this.slider = new StepSlider("scores", (step) => this.ctx?.setState({ step }));
    this.curveSeg = segmented<ScoreCurve>(
      "scores-curve",
      [
        { value: "roc", label: "ROC", title: "True against false positive rate" },
        { value: "pr", label: "PR", title: "Precision against recall (average precision's steps)" },
        {
          value: "threshold",
          label: "Threshold",
          title: "Precision, recall and F1 against the threshold; drag it (binary and multilabel)",
        },
      ],
      (v) => this.ctx?.setState({ scoresCurve: v }),
    );
    this.reliabilitySeg = segmented<ReliabilityScope>(
      "scores-reliability",
      [
        { value: "overall", label: "All", title: "Every prediction (per label, or top label)" },
        { value: "class", label: "Class", title: "The focused class's predictions" },
      ],
      (v) => this.ctx?.setState({ scoresReliability: v }),
    );
    this.compareBox = h("input", {
      attrs: { type: "checkbox", "data-control": "scores-compare" },
      on: { change: () => this.ctx?.setState({ scoresCompare: this.compareBox.checked }) },
    });
    this.compareLabel = h("label", { class: "pc-check" }, this.compareBox, " Compare");
    this.status = h("span", {
      class: "pc-status pc-view-status",
      attrs: { "data-role": "scores-status", "aria-live": "polite" },
    });
    this.note = h("div", { class: "pc-card-note", attrs: { "data-role": "scores-note" } });
    this.chart = new CurveChart("scores-chart", {
      describe: (hover) => this.describe(hover),
      drag: (x) => this.dragTo(x),
    });
    this.legend = h("div", { class: "pc-score-legend", attrs: { "data-role": "scores-legend" } });
    this.thresholdBox = h("div", {
      class: "pc-score-counts",
      attrs: { "data-role": "scores-threshold", hidden: true },
    });
    this.reliability = new ReliabilityChart("scores-reliability");
    this.reliabilityNote = h("div", {
      class: "pc-score-ece",
      attrs: { "data-role": "scores-ece" },
    });
    this.confidence = h("div", {
      class: "pc-score-confidence",
      attrs: { "data-role": "scores-confidence" },
    });
    this.tableBox = h("div", { class: "pc-table-box", attrs: { "data-role": "scores-table" } });
    this.message = h("div", {
      class: "pc-message",
      attrs: { "data-role": "scores-message", hidden: true },
    });
    this.body = h(
      "div",
      { class: "pc-score-body" },
      h(
        "div",
        { class: "pc-score-row" },
        h(
          "div",
          { class: "pc-score-panel pc-score-curves" },
          h("div", { class: "pc-score-title" }, field(null, this.curveSeg.el)),
          this.chart.element,
          this.legend,
          this.thresholdBox,
        ),
        h(
          "div",
          { class: "pc-score-panel pc-score-reliability" },
          h(
            "div",
            { class: "pc-score-title" },
            h("span", null, "Reliability "),
            this.reliabilitySeg.el,
          ),
          this.reliability.element,
          this.reliabilityNote,
        ),
      ),
      this.confidence,
      this.tableBox,
      h(
        "div",
        { class: "pc-hint" },
        `Click a class (table, legend, lists) to draw or remove its curves (up to ${MAX_SHOWN}); the first drawn is the focused class. Bounds (±) are the most the histogram's bins can be off from the exact values.`,
      ),
    );
    this.element = h(
      "div",
      { class: "pc-card pc-card-table", attrs: { "data-view": "scores" } },
      h(
        "div",
        { class: "pc-card-toolbar" },
        this.slider.element,
        this.compareLabel,
        h("span", { class: "pc-spacer" }),
        this.status,
      ),
      this.note,
      this.message,
      this.body,
    );
  }

  update(ctx: ViewContext): void {
    this.ctx = ctx;
    if (ctx.refreshId !== this.lastRefresh) {
      if (this.lastRefresh !== -1) {
        this.main.key = null;
        this.other.key = null;
      }
      this.lastRefresh = ctx.refreshId;
    }
    const series = ctx.series;
    if (!series || !ctx.run) {
      this.main.reset();
      this.showMessage(
        "No series of this class set records score histograms. Create the writer with scores=True (or PerClassCallback(..., scores=True)) to see PR and ROC curves, thresholds and calibration.",
      );
      return;
    }
    const s = ctx.state;
    const shown = this.shown();
    this.main.load(
      cacheKey(series.key, s.step, shown, this.lastRefresh),
      () => ctx.api.scores(series.run, series.name, s.step, shown),
      () => this.render(),
    );
    const counterpart = this.counterpart();
    if (counterpart) {
      this.other.load(
        cacheKey(counterpart.key, s.step, shown, this.lastRefresh),
        () => ctx.api.scores(counterpart.run, counterpart.name, s.step, shown),
        () => this.render(),
      );
    } else this.other.reset();
    this.render();
  }

  /** the classes drawn */
  private shown(): number[] {
    const ctx = this.ctx!;
    const task = ctx.series?.info.task ?? null;
    return shownClasses(ctx.classNames, ctx.state.scoresClasses, ctx.selected, ctx.worst, task);
  }

  /** the train/validation counterpart drawn dashed beside the series, when asked and present */
  private counterpart(): Series | null {
    const ctx = this.ctx!;
    if (!ctx.series) return null;
    const other = counterpartSeries(
      ctx.series,
      ctx.group.filter((x) => x.info.kinds.includes("scores")),
    );
    this.compareLabel.hidden = other === null;
    if (other) this.compareLabel.title = `Draw ${seriesLabel(other)} dashed beside it`;
    return other && ctx.state.scoresCompare ? other : null;
  }

  private showMessage(text: string): void {
    this.message.textContent = text;
    this.message.hidden = false;
    this.body.hidden = true;
    this.note.hidden = true;
    this.slider.set([], null, true);
  }

  private render(): void {
    const ctx = this.ctx;
    if (!ctx || !ctx.series) return;
    const s = ctx.state;
    const r = this.main.data;
    this.status.textContent = this.main.loading ? `Loading step ${s.step ?? "(latest)"}…` : "";
    this.compareBox.checked = s.scoresCompare;
    if (!r) {
      const err = this.main.error;
      this.showMessage(
        err ? `Could not load the score histograms: ${err}` : "Loading the score histograms…",
      );
      return;
    }
    this.message.hidden = true;
    this.body.hidden = false;
    this.slider.set(r.steps, r.step, s.step === null);
    const binary = r.task === "binary";
    const perLabel = binary || r.task === "multilabel";
    const curve: ScoreCurve = !perLabel && s.scoresCurve === "threshold" ? "roc" : s.scoresCurve;
    this.curveSeg.set(curve, { threshold: !perLabel });
    const shown = r.classes.map((c) => c.class);
    const focus = focusClass(r.class_names, s.scoresFocus, shown);
    this.renderNote(r, shown);
    this.renderChart(r, curve, focus);
    this.renderReliability(r, focus);
    this.renderConfidence(r);
    this.renderTable(r, shown);
  }

  private renderNote(r: ScoresResponse, shown: number[]): void {
    const ctx = this.ctx!;
    const names = shown.map((i) => r.class_names[i]);
    // picks of another class set (the series changed) do not count: its classes are shown
    const picked = ctx.state.scoresClasses.some((n) => r.class_names.includes(n));
    const other = this.other.data;
    const bits = [
      `Step ${r.step} of ${seriesLabel(ctx.series!)}`,
      other
        ? `dashed: step ${other.step} of ${seriesLabel({ run: other.run, name: other.name })}`
        : null,
      names.length
        ? `${picked ? "Classes picked" : "Classes"}: ${names.join(", ")}`
        : "No class drawn: tick classes in the sidebar or click one below",
      r.top_k ? `top-${r.top_k} accuracy recorded` : null,
    ].filter(Boolean);
    this.note.hidden = false;
    setChildren(
      this.note,
      bits.join(" · "),
      picked
        ? h(
            "button",
            {
              class: "pc-score-auto",
              attrs: { type: "button", "data-role": "scores-auto" },
              on: { click: () => ctx.setState({ scoresClasses: [], scoresFocus: null }) },
            },
            "Back to the sidebar's classes",
          )
        : null,
    );
  }

  private classColor(i: number): string {
    const ctx = this.ctx!;
    return ctx.classColors[i] ?? themeColors().text;
  }

  /** one line per class drawn: the series solid, its counterpart dashed */
  private lines(r: ScoresResponse, other: ScoresResponse | null, curve: ScoreCurve): ChartLine[] {
    const out: ChartLine[] = [];
    const add = (answer: ScoresResponse, dash: number[]) => {
      const series = seriesLabel({ run: answer.run, name: answer.name });
      for (const c of answer.classes)
        out.push({
          key: `${series}|${c.class}`,
          label: `${answer.class_names[c.class]} (${series})`,
          points: curvePoints(curve, c),
          color: this.classColor(c.class),
          dash,
          width: dash.length ? 1.5 : 2,
        });
    };
    add(r, []);
    if (other) add(other, COUNTERPART_DASH);
    return out;
  }

  private renderChart(r: ScoresResponse, curve: ScoreCurve, focus: number | null): void {
    const ctx = this.ctx!;
    const other =
      this.other.data && this.other.data.class_names.length === r.class_names.length
        ? this.other.data
        : null;
    const axes = CURVE_AXES[curve];
    const threshold = ctx.state.scoresThreshold ?? DEFAULT_THRESHOLD;
    const focused = r.classes.find((c) => c.class === focus) ?? null;
    let lines: ChartLine[];
    const guides: { x: number; color: string }[] = [];
    if (curve === "threshold") {
      lines = focused
        ? thresholdLines(focused).map((l) => ({
            ...l,
            color: THRESHOLD_COLORS[l.key as keyof typeof THRESHOLD_COLORS],
            dash: [],
            width: 2,
          }))
        : [];
      const best = focused ? bestF1(focused) : null;
      if (best) guides.push({ x: best.threshold, color: THRESHOLD_COLORS.f1 });
    } else lines = this.lines(r, other, curve);
    this.chart.draw({
      lines,
      xLabel: axes.x,
      yLabel: axes.y,
      diagonal: curve === "roc",
      marker: curve === "threshold" && focused ? threshold : null,
      guides,
      empty:
        focused || r.classes.length
          ? "No positives, or no negatives, at this step"
          : "No class drawn",
    });
    this.renderLegend(r, other, curve, focus);
    this.thresholdBox.hidden = curve !== "threshold" || !focused;
    if (curve === "threshold" && focused) this.renderCounts(r, focused, threshold);
  }

  private renderLegend(
    r: ScoresResponse,
    other: ScoresResponse | null,
    curve: ScoreCurve,
    focus: number | null,
  ): void {
    const ctx = this.ctx!;
    const t = r.table;
    const bound = (v: number | null, b: number | null) =>
      v === null ? "—" : `${formatMetric(v)}${b ? ` ±${formatMetric(b, b < 0.001 ? 4 : 3)}` : ""}`;
    const entry = (i: number) => {
      const mine = other?.table;
      const compare = mine
        ? ` · ${seriesLabel({ run: other!.run, name: other!.name })}: AP ${formatMetric(mine.ap[i])}, AUROC ${formatMetric(mine.auroc[i])}`
        : "";
      return h(
        "button",
        {
          class: `pc-score-key${i === focus ? " pc-active" : ""}`,
          title: `Focus ${r.class_names[i]} (reliability and threshold panels)`,
          attrs: { type: "button", "data-class": r.class_names[i] },
          on: { click: () => ctx.setState({ scoresFocus: r.class_names[i] }) },
        },
        h("span", { class: "pc-swatch", attrs: { style: `background:${this.classColor(i)}` } }),
        h("span", { class: "pc-score-key-name" }, r.class_names[i]),
        ` AP ${bound(t.ap[i], t.ap_bound[i])} · AUROC ${bound(t.auroc[i], t.auroc_bound[i])} · ${formatCount(t.positives[i])} positives${compare}`,
      );
    };
    if (curve === "threshold") {
      setChildren(
        this.legend,
        ...(["precision", "recall", "f1"] as const).map((k) =>
          h(
            "span",
            { class: "pc-score-key" },
            h("span", {
              class: "pc-swatch",
              attrs: { style: `background:${THRESHOLD_COLORS[k]}` },
            }),
            k === "f1" ? "F1 (dotted: its best threshold)" : k[0].toUpperCase() + k.slice(1),
          ),
        ),
        ...r.classes.map((c) => entry(c.class)),
      );
      return;
    }
    setChildren(this.legend, ...r.classes.map((c) => entry(c.class)));
  }

  private renderCounts(r: ScoresResponse, c: ScoreClass, threshold: number): void {
    const k = countsAt(c, threshold);
    const best = bestF1(c);
    const cell = (label: string, value: string, role: string, title: string) =>
      h(
        "div",
        { class: "pc-score-count", title, attrs: { "data-role": role } },
        h("span", { class: "pc-stat-label" }, label),
        h("span", { class: "pc-stat-value" }, value),
      );
    setChildren(
      this.thresholdBox,
      h(
        "div",
        { class: "pc-score-counts-title", attrs: { "data-role": "scores-threshold-title" } },
        `${r.class_names[c.class]}: predicted positive when p ≥ ${formatMetric(k.threshold ?? threshold, 4)}`,
        k.threshold !== null && Math.abs(k.threshold - threshold) > 1e-9
          ? h(
              "span",
              { class: "pc-muted" },
              ` (the first bin edge at or above ${formatMetric(threshold)} with scores: counts are exact at bin edges)`,
            )
          : null,
      ),
      h(
        "div",
        { class: "pc-score-grid" },
        cell("TP", formatCount(k.tp), "count-tp", "Positives predicted positive"),
        cell("FP", formatCount(k.fp), "count-fp", "Negatives predicted positive"),
        cell("FN", formatCount(k.fn), "count-fn", "Positives predicted negative"),
        cell("TN", formatCount(k.tn), "count-tn", "Negatives predicted negative"),
        cell("Precision", formatMetric(k.precision), "count-precision", "TP / (TP + FP)"),
        cell("Recall", formatMetric(k.recall), "count-recall", "TP / (TP + FN)"),
        cell("F1", formatMetric(k.f1), "count-f1", "2TP / (2TP + FP + FN)"),
        cell(
          "Best F1",
          best ? `${formatMetric(best.f1)} at ${formatMetric(best.threshold, 4)}` : "—",
          "count-best",
          "The highest F1 over thresholds, and the (highest) threshold reaching it",
        ),
      ),
      best
        ? h(
            "button",
            {
              class: "pc-button",
              attrs: { type: "button", "data-role": "scores-best" },
              on: { click: () => this.ctx?.setState({ scoresThreshold: best.threshold }) },
            },
            "Set to the best-F1 threshold",
          )
        : null,
    );
  }

  private renderReliability(r: ScoresResponse, focus: number | null): void {
    const ctx = this.ctx!;
    const scope = ctx.state.scoresReliability;
    this.reliabilitySeg.set(scope, { class: focus === null });
    const focused = r.classes.find((c) => c.class === focus) ?? null;
    const useClass = scope === "class" && focused !== null;
    const diagram = useClass ? focused!.reliability : r.overall.reliability;
    this.reliability.draw(reliabilityBars(diagram));
    const ece = useClass ? expectedError(diagram) : r.overall.ece;
    const what = useClass
      ? r.task === "multiclass"
        ? `predictions of ${r.class_names[focus!]} (top label)`
        : `${r.class_names[focus!]}'s probability`
      : r.task === "multiclass"
        ? "every prediction (top label)"
        : "every label's probability";
    const signed = useClass ? r.table.signed_error[focus!] : r.overall.signed_error;
    this.reliabilityNote.textContent = `ECE ${percent(ece)} over ${what}; ${
      signed === null
        ? ""
        : signed > 0
          ? `over-confident by ${percent(signed)}`
          : `under-confident by ${percent(-signed)}`
    }. Bars: accuracy per confidence bin; red: confidence above accuracy, blue: below.`;
  }

  private renderConfidence(r: ScoresResponse): void {
    const ctx = this.ctx!;
    const chip = (i: number) =>
      h(
        "button",
        {
          class: "pc-chip",
          title: `Draw ${r.class_names[i]}`,
          attrs: { type: "button", "data-class": r.class_names[i] },
          on: { click: () => this.toggle(r, i) },
        },
        `${r.class_names[i]} ${percent(r.table.signed_error[i])}`,
      );
    const list = (label: string, role: string, classes: number[], title: string) =>
      h(
        "div",
        { class: "pc-score-list", attrs: { "data-role": role }, title },
        h("span", { class: "pc-stat-label" }, label),
        ...(classes.length ? classes.map(chip) : [h("span", { class: "pc-muted" }, "none")]),
      );
    setChildren(
      this.confidence,
      list(
        "Most over-confident",
        "scores-overconfident",
        r.overconfident,
        "Mean confidence above accuracy by the most",
      ),
      list(
        "Most under-confident",
        "scores-underconfident",
        r.underconfident,
        "Mean confidence below accuracy by the most",
      ),
    );
    void ctx;
  }

  /** The dragged threshold, snapped to the bin edge whose counts it shows (counts are exact at
   * bin edges only); the state is saved without re-rendering the tab, only this view redraws. */
  private dragTo(x: number): void {
    const ctx = this.ctx;
    const r = this.main.data;
    if (!ctx || !r) return;
    const focus = focusClass(
      r.class_names,
      ctx.state.scoresFocus,
      r.classes.map((c) => c.class),
    );
    const c = r.classes.find((k) => k.class === focus);
    const snapped = c ? countsAt(c, x).threshold : null;
    const threshold = snapped !== null && Number.isFinite(snapped) ? snapped : x;
    if (threshold === ctx.state.scoresThreshold) return;
    ctx.setState({ scoresThreshold: threshold }, { rerender: false });
    // only the chart and the counts change: a drag frame redraws one class, not the tab
    this.renderChart(r, "threshold", focus);
  }

  private toggle(r: ScoresResponse, i: number): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const shown = r.classes.map((c) => c.class);
    ctx.setState({ scoresClasses: togglePick(r.class_names, shown, i) });
  }

  private renderTable(r: ScoresResponse, shown: number[]): void {
    const ctx = this.ctx!;
    const sort = ctx.state.scoresSort;
    const visible = shownMask(ctx, r.class_names);
    const key = cacheKey(this.main.key, sort, visible, shown, currentTheme());
    if (key === this.tableKey) return;
    this.tableKey = key;
    const perLabel = r.task !== "multiclass";
    const columns: { key: ScoreKey; label: string; title: string; num: boolean }[] = [
      { key: "index", label: "#", title: "Class index", num: true },
      { key: "name", label: "Class", title: "Class name", num: false },
      {
        key: "positives",
        label: "Positives",
        title: "Samples of the class at this step",
        num: true,
      },
      {
        key: "ap",
        label: "AP",
        title: "Average precision (scikit-learn's, within ± of the histogram)",
        num: true,
      },
      { key: "auroc", label: "AUROC", title: "Area under the ROC curve (within ±)", num: true },
      {
        key: "ece",
        label: "ECE",
        title: "Expected calibration error over 16 confidence bins",
        num: true,
      },
      {
        key: "gap",
        label: "Conf. gap",
        title: "Mean confidence minus accuracy: over-confident above 0",
        num: true,
      },
      ...(perLabel
        ? [
            {
              key: "f1" as ScoreKey,
              label: "Best F1",
              title: "The highest F1 over thresholds, at its threshold",
              num: true,
            },
          ]
        : []),
      ...(r.table.top_k_accuracy
        ? [
            {
              key: "topk" as ScoreKey,
              label: `Top-${r.top_k}`,
              title: `Top-${r.top_k} accuracy`,
              num: true,
            },
          ]
        : []),
    ];
    const head = h(
      "tr",
      null,
      ...columns.map((c) =>
        sortHeader(c, sort, (k) => ctx.setState({ scoresSort: nextScoreSort(sort, k) })),
      ),
    );
    const avg = (label: string, kind: "macro" | "weighted") =>
      h(
        "tr",
        { class: "pc-avg-row", attrs: { "data-role": `scores-${kind}` } },
        h("td", null),
        h("td", { class: "pc-name-col" }, label),
        h("td", null),
        ...(["ap", "auroc", "ece"] as const).map((m) => {
          const v = r.table.averages[m]?.[kind] ?? null;
          return h("td", { class: "pc-num-col" }, m === "ece" ? percent(v) : formatMetric(v));
        }),
        h("td", null),
        ...(perLabel
          ? [
              h(
                "td",
                { class: "pc-num-col" },
                formatMetric(r.table.averages.best_f1?.[kind] ?? null),
              ),
            ]
          : []),
        ...(r.table.top_k_accuracy
          ? [
              h(
                "td",
                { class: "pc-num-col" },
                formatMetric(r.table.averages.top_k_accuracy?.[kind] ?? null),
              ),
            ]
          : []),
      );
    const rows = tableRows(r, sort, visible);
    const body = h("tbody");
    const frag = document.createDocumentFragment();
    for (const i of rows) {
      const value = (k: ScoreKey) => tableValue(r, k, i) as number | null;
      const t = r.table;
      frag.appendChild(
        h(
          "tr",
          {
            class: shown.includes(i) ? "pc-row-shown" : "",
            title: `${shown.includes(i) ? "Remove" : "Draw"} ${r.class_names[i]}`,
            attrs: { "data-class": r.class_names[i] },
            on: { click: () => this.toggle(r, i) },
          },
          h("td", { class: "pc-num-col pc-muted" }, String(i)),
          h(
            "td",
            { class: "pc-name-col", title: r.class_names[i] },
            shown.includes(i)
              ? h("span", {
                  class: "pc-swatch",
                  attrs: { style: `background:${this.classColor(i)}` },
                })
              : null,
            r.class_names[i],
          ),
          h("td", { class: "pc-num-col" }, formatCount(value("positives"))),
          barCell(value("ap"), t.ap_bound[i]),
          barCell(value("auroc"), t.auroc_bound[i]),
          h("td", { class: "pc-num-col" }, percent(value("ece"))),
          gapCell(value("gap")),
          ...(perLabel
            ? [
                h(
                  "td",
                  { class: "pc-num-col" },
                  value("f1") === null
                    ? "—"
                    : `${formatMetric(value("f1"))} @ ${formatMetric(t.best_threshold?.[i] ?? null, 3)}`,
                ),
              ]
            : []),
          ...(t.top_k_accuracy ? [barCell(value("topk"), null)] : []),
        ),
      );
    }
    body.appendChild(frag);
    setChildren(
      this.tableBox,
      h(
        "table",
        { class: "pc-table", attrs: { "data-role": "scores-table" } },
        h("thead", null, head, avg("Macro average", "macro"), avg("Weighted average", "weighted")),
        body,
      ),
    );
  }

  private describe(hover: HoverInfo): string[] | null {
    const r = this.main.data;
    const ctx = this.ctx;
    if (!r || !ctx) return null;
    const answer = hover.line.key.startsWith(`${seriesLabel(ctx.series!)}|`)
      ? r
      : (this.other.data ?? r);
    if (ctx.state.scoresCurve === "threshold") {
      return [
        `${hover.line.label} ${formatMetric(hover.point.y)}`,
        `threshold ${formatMetric(hover.point.x, 4)}`,
      ];
    }
    const c = answer.classes.find((x) => hover.line.key.endsWith(`|${x.class}`));
    if (!c) return null;
    const i = hover.point.index;
    const t = c.thresholds[i];
    const tp = c.tp[i];
    const fp = c.fp[i];
    return [
      hover.line.label,
      `threshold ${t === null ? "above every score" : `≥ ${formatMetric(t, 4)}`}`,
      `TP ${formatCount(tp)} · FP ${formatCount(fp)} · FN ${formatCount(c.positives - tp)} · TN ${formatCount(c.negatives - fp)}`,
      ctx.state.scoresCurve === "pr"
        ? `precision ${formatMetric(hover.point.y)} · recall ${formatMetric(hover.point.x)}`
        : `TPR ${formatMetric(hover.point.y)} · FPR ${formatMetric(hover.point.x)}`,
    ];
  }

  destroy(): void {
    this.chart.destroy();
    this.reliability.destroy();
  }
}

/** A 0..1 metric with a light bar behind it, and its bound. */
function barCell(v: number | null, bound: number | null): HTMLElement {
  const text =
    v === null
      ? "—"
      : `${formatMetric(v)}${bound ? ` ±${formatMetric(bound, bound < 0.001 ? 4 : 3)}` : ""}`;
  const td = h("td", { class: "pc-num-col pc-bar-cell" }, text);
  if (v !== null && Number.isFinite(v)) {
    const pct = Math.max(0, Math.min(1, v)) * 100;
    td.style.backgroundImage = `linear-gradient(to right, var(--pc-bar) ${pct.toFixed(1)}%, transparent ${pct.toFixed(1)}%)`;
  }
  return td;
}

/** The confidence gap: red when over-confident, blue when under. */
function gapCell(v: number | null): HTMLElement {
  const td = h(
    "td",
    { class: "pc-num-col" },
    v === null ? "—" : `${v > 0 ? "+" : ""}${percent(v)}`,
  );
  if (v !== null && Math.abs(v) > 0.005)
    td.style.color = v > 0 ? withAlpha("#d62728", 0.95) : withAlpha("#1f77b4", 0.95);
  return td;
}
