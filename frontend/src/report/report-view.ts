// The per-class report of one run at one step: precision, recall, F1, support and loss per
// class, macro and weighted averages, accuracy; sortable by any column; CSV from the server.
import { h, setChildren } from "../ui/dom";
import { reportCsvUrl } from "../data/routes";
import { safeFilename } from "../ui/download";
import type { ReportResponse, ReportScores } from "../data/types";
import { StepSlider } from "../ui/step-slider";
import { cacheKey } from "../lib/keys";
import { Keyed } from "../data/keyed";
import { formatCount, formatMetric, formatNumber } from "../lib/format";
import { IN_RANGE_LABEL, IN_RANGE_TITLE } from "../data/metrics";
import { sortIndices } from "../lib/sorting";
import type { ReportKey } from "../state/view-state";
import { nextSort } from "../state/view-state";
import { sortHeader } from "../ui/sort-header";
import type { View, ViewContext } from "../view-contract";
import { shownMask } from "../state/selection";
import { outsideMatrixAt, outsideText } from "../data/facts";

type Col = { key: ReportKey; label: string; title: string; num: boolean };

const COLUMNS: Col[] = [
  { key: "index", label: "#", title: "Class index", num: true },
  { key: "name", label: "Class", title: "Class name", num: false },
  {
    key: "precision",
    label: "Precision",
    title: "Of the samples predicted as this class, the share that is this class: TP / (TP + FP)",
    num: true,
  },
  {
    key: "recall",
    label: "Recall",
    title: "Of this class's samples, the share predicted as this class: TP / (TP + FN)",
    num: true,
  },
  {
    key: "f1",
    label: "F1",
    title: "Harmonic mean of precision and recall: 2TP / (2TP + FP + FN)",
    num: true,
  },
  {
    key: "support",
    label: "Support",
    title: "Number of samples of this class at this step",
    num: true,
  },
  {
    key: "loss",
    label: "Loss",
    title: "Mean per-sample loss of this class at this step",
    num: true,
  },
];

/** A multilabel run's support: the samples that have the label. */
const POSITIVES: Col = {
  key: "support",
  label: "Positives",
  title: "Samples that have this label at this step (true yes)",
  num: true,
};

type ScoreCol = Col & { key: "ap" | "auroc" | "ece" | "topk"; field: keyof ReportScores };

/** Columns from the score histograms, shown when the run records them (scores=True). */
function scoreColumns(scores: ReportScores | undefined): ScoreCol[] {
  if (!scores) return [];
  const cols: ScoreCol[] = [
    { key: "ap", field: "ap", label: "AP", title: "Average precision (one-vs-rest)", num: true },
    { key: "auroc", field: "auroc", label: "AUROC", title: "Area under the ROC curve", num: true },
    {
      key: "ece",
      field: "ece",
      label: "ECE",
      title: "Expected calibration error over 16 confidence bins",
      num: true,
    },
  ];
  if (scores.top_k_accuracy)
    cols.push({
      key: "topk",
      field: "top_k_accuracy",
      label: `Top-${scores.top_k}`,
      title: `Share of the class's samples whose class is among the ${scores.top_k} highest outputs`,
      num: true,
    });
  return cols;
}

const scoreAverageKey = (c: ScoreCol) => (c.key === "topk" ? "top_k_accuracy" : c.key);

export class ReportView implements View {
  readonly id = "report";
  readonly label = "Report";
  readonly element: HTMLElement;
  readonly settings = null;
  private ctx: ViewContext | null = null;
  private slider: StepSlider;
  private csv: HTMLAnchorElement;
  private summary: HTMLElement;
  private tableBox: HTMLElement;
  private status: HTMLElement;
  /** how many of the step's elements the report's counts leave out */
  private outside: HTMLElement;
  private data = new Keyed<ReportResponse>();
  private lastRefresh = -1;
  private drawnKey = "";

  constructor() {
    this.slider = new StepSlider("report", (step) => this.ctx?.setState({ step }));
    this.csv = h(
      "a",
      {
        class: "pc-button pc-link-button",
        title: "Download this report (this step, all classes) as CSV",
        attrs: { "data-role": "report-csv", download: "" },
      },
      "Download CSV",
    );
    this.status = h("span", {
      class: "pc-status pc-view-status",
      attrs: { "data-role": "report-status", "aria-live": "polite" },
    });
    this.summary = h("div", {
      class: "pc-report-summary",
      attrs: { "data-role": "report-summary" },
    });
    this.tableBox = h("div", { class: "pc-table-box", attrs: { "data-role": "report-table" } });
    this.outside = h("div", {
      class: "pc-card-note",
      attrs: { "data-role": "outside-matrix", role: "note", hidden: true },
    });
    this.element = h(
      "div",
      { class: "pc-card pc-card-table", attrs: { "data-view": "report" } },
      h(
        "div",
        { class: "pc-card-toolbar" },
        this.slider.element,
        h("span", { class: "pc-spacer" }),
        this.status,
        this.csv,
      ),
      this.outside,
      this.summary,
      this.tableBox,
      h(
        "div",
        { class: "pc-hint" },
        "Click a column to sort by it (again to reverse). “—”: undefined (no samples, or nothing predicted as the class).",
      ),
    );
  }

  update(ctx: ViewContext): void {
    this.ctx = ctx;
    if (ctx.refreshId !== this.lastRefresh) {
      if (this.lastRefresh !== -1) this.data.key = null;
      this.lastRefresh = ctx.refreshId;
    }
    const run = ctx.run;
    if (!run) {
      this.data.reset();
      setChildren(
        this.tableBox,
        h(
          "div",
          { class: "pc-message", attrs: { "data-role": "report-message" } },
          "No run of this class set has confusion matrices, so there is no report: the report's precision and recall come from them.",
        ),
      );
      this.summary.replaceChildren();
      this.outside.hidden = true;
      this.slider.set([], null, true);
      return;
    }
    const s = ctx.state;
    const key = cacheKey(run, ctx.name, s.step, this.lastRefresh);
    const d = this.data.data;
    if (d && (this.dataRun !== run || this.dataName !== ctx.name)) this.data.data = null;
    this.data.load(
      key,
      () =>
        ctx.api.report(run, ctx.name, s.step).then((r) => {
          this.dataRun = run;
          this.dataName = ctx.name;
          return r;
        }),
      () => this.render(),
    );
    this.render();
  }

  private dataRun: string | null = null;
  private dataName: string | null = null;

  /** the task of the run shown: regression ranges read as classes (accuracy is the in-range
   * rate); multilabel labels have their own support (positives) and accuracy (per decision) */
  private get task(): string | null {
    const ctx = this.ctx;
    return ctx?.run ? (ctx.tags[ctx.run]?.[ctx.name]?.task ?? null) : null;
  }

  private render(): void {
    const ctx = this.ctx;
    if (!ctx || !ctx.run) return;
    const s = ctx.state;
    this.status.textContent = this.data.loading ? `Loading step ${s.step ?? "(latest)"}…` : "";
    const r = this.data.data;
    this.csv.href = reportCsvUrl(ctx.run, ctx.name, r?.step ?? s.step);
    // a file that says what it is: the run, the name and the step
    const step = r?.step ?? s.step;
    this.csv.download = `${safeFilename("report", ctx.run, ctx.name, step === null ? "latest" : `step${step}`)}.csv`;
    const text =
      r && ctx.series
        ? outsideText(outsideMatrixAt(ctx.curvesOf(ctx.series.key), r.step), r.step, "report")
        : null;
    this.outside.textContent = text ?? "";
    this.outside.hidden = text === null;
    if (!r) {
      this.slider.set([], null, s.step === null);
      this.summary.replaceChildren();
      this.drawnKey = "";
      const err = this.data.error;
      setChildren(
        this.tableBox,
        h(
          "div",
          { class: "pc-message", attrs: { "data-role": "report-message" } },
          err ? `Could not load the report: ${err}` : "Loading the report…",
          err && s.step !== null
            ? h(
                "div",
                null,
                h(
                  "button",
                  {
                    class: "pc-button pc-row-gap",
                    attrs: { type: "button" },
                    on: { click: () => ctx.setState({ step: null }) },
                  },
                  "Show the latest step",
                ),
              )
            : null,
        ),
      );
      return;
    }
    this.slider.set(r.steps, r.step, s.step === null);
    const shown = shownMask(ctx, r.class_names);
    const key = cacheKey(
      r.step,
      r.class_names.length,
      s.reportSort,
      shown,
      ctx.run,
      this.data.key,
      this.task,
    );
    if (key === this.drawnKey) return;
    this.drawnKey = key;
    this.renderSummary(r, shown);
    this.renderTable(ctx, r, shown);
  }

  private renderSummary(r: ReportResponse, shown: boolean[]): void {
    const numShown = shown.filter(Boolean).length;
    const C = r.class_names.length;
    const item = (label: string, value: string, title: string, role: string) =>
      h(
        "span",
        { class: "pc-stat", title, attrs: { "data-role": role } },
        h("span", { class: "pc-stat-label" }, label),
        h("span", { class: "pc-stat-value" }, value),
      );
    const avg = (a: ReportResponse["macro"]) =>
      `P ${formatMetric(a.precision)} · R ${formatMetric(a.recall)} · F1 ${formatMetric(a.f1)}`;
    setChildren(
      this.summary,
      item("Step", String(r.step), "The step of this report", "report-step"),
      accuracyItem(this.task, r.accuracy, item),
      item(
        "Macro average",
        avg(r.macro),
        "Unweighted mean over classes (classes with an undefined value are left out)",
        "report-macro",
      ),
      item(
        "Weighted average",
        avg(r.weighted),
        "Mean over classes weighted by their support",
        "report-weighted",
      ),
      ...sampleItems(this.task, r, item),
      numShown < C
        ? h(
            "span",
            { class: "pc-stat pc-muted", attrs: { "data-role": "report-filtered" } },
            `Showing ${numShown} of ${C} classes (selection on the left); averages are over all classes.`,
          )
        : null,
    );
  }

  private renderTable(ctx: ViewContext, r: ReportResponse, shown: boolean[]): void {
    const sort = ctx.state.reportSort;
    const rows = r.class_names.map((_, i) => i).filter((i) => shown[i]);
    const key = (i: number): number | string | null => {
      switch (sort.key) {
        case "index":
          return i;
        case "name":
          return r.class_names[i];
        case "precision":
        case "recall":
        case "f1":
        case "support":
        case "loss":
          return r[sort.key][i];
        case "ap":
        case "auroc":
        case "ece":
          return r.scores?.[sort.key][i] ?? null;
        case "topk":
          return r.scores?.top_k_accuracy?.[i] ?? null;
        default:
          return i;
      }
    };
    const order = sortIndices(rows.length, (k) => key(rows[k]), sort.desc).map((k) => rows[k]);
    const columns =
      this.task === "multilabel"
        ? COLUMNS.map((c) => (c.key === "support" ? POSITIVES : c))
        : COLUMNS;
    const extra = scoreColumns(r.scores);
    const head = h(
      "tr",
      null,
      ...[...columns, ...extra].map((c) =>
        sortHeader(c, sort, (k) => ctx.setState({ reportSort: nextSort(sort, k) })),
      ),
    );
    const scoreCells = (i: number) =>
      extra.map((c) => {
        const v = (r.scores![c.field] as (number | null)[] | undefined)?.[i] ?? null;
        return c.key === "ece" ? h("td", { class: "pc-num-col" }, formatMetric(v)) : metricCell(v);
      });
    const scoreAverages = (kind: "macro" | "weighted") =>
      extra.map((c) =>
        h(
          "td",
          { class: "pc-num-col" },
          formatMetric(r.scores!.averages[scoreAverageKey(c)]?.[kind] ?? null),
        ),
      );
    const avgRow = (label: string, a: ReportResponse["macro"], role: string) =>
      h(
        "tr",
        { class: "pc-avg-row", attrs: { "data-role": role } },
        h("td", null),
        h("td", { class: "pc-name-col" }, label),
        metricCell(a.precision),
        metricCell(a.recall),
        metricCell(a.f1),
        h("td", { class: "pc-num-col" }, formatCount(a.support)),
        h("td", null),
        ...scoreAverages(role === "macro-row" ? "macro" : "weighted"),
      );
    const body = h("tbody");
    const frag = document.createDocumentFragment();
    for (const i of order) {
      const loss = r.loss[i];
      frag.appendChild(
        h(
          "tr",
          { attrs: { "data-class": r.class_names[i] } },
          h("td", { class: "pc-num-col pc-muted" }, String(i)),
          h("td", { class: "pc-name-col", title: r.class_names[i] }, r.class_names[i]),
          metricCell(r.precision[i]),
          metricCell(r.recall[i]),
          metricCell(r.f1[i]),
          h("td", { class: "pc-num-col" }, formatCount(r.support[i])),
          h("td", { class: "pc-num-col" }, loss === null ? "—" : formatNumber(loss)),
          ...scoreCells(i),
        ),
      );
    }
    body.appendChild(frag);
    setChildren(
      this.tableBox,
      h(
        "table",
        { class: "pc-table", attrs: { "data-role": "report" } },
        h(
          "thead",
          null,
          head,
          avgRow("Macro average", r.macro, "macro-row"),
          avgRow("Weighted average", r.weighted, "weighted-row"),
        ),
        body,
      ),
    );
  }

  destroy(): void {}
}

type StatItem = (label: string, value: string, title: string, role: string) => HTMLElement;

/** The accuracy in the task's words: the in-range rate of a regression run; per yes/no
 * decision for a multilabel run (a sample with 3 labels makes 3 decisions). */
function accuracyItem(task: string | null, accuracy: number | null, item: StatItem): HTMLElement {
  if (task === "regression")
    return item(IN_RANGE_LABEL, formatMetric(accuracy), IN_RANGE_TITLE, "report-accuracy");
  if (task === "multilabel")
    return item(
      "Label accuracy",
      formatMetric(accuracy),
      "Share of the yes/no decisions (one per sample and label) that were right: 1 − Hamming loss. Exact-match accuracy (every label of a sample right) is not recorded",
      "report-accuracy",
    );
  return item(
    "Accuracy",
    formatMetric(accuracy),
    "Share of all samples predicted correctly",
    "report-accuracy",
  );
}

/** How many samples the report counts; a multilabel run's support is its labels' positives,
 * which count a sample once per positive label: said apart. */
function sampleItems(task: string | null, r: ReportResponse, item: StatItem): HTMLElement[] {
  const support = r.macro.support ?? r.weighted.support;
  if (task !== "multilabel")
    return [
      item("Samples", formatCount(r.samples ?? support), "Samples at this step", "report-support"),
    ];
  const out: HTMLElement[] = [];
  if (r.samples !== null)
    out.push(item("Samples", formatCount(r.samples), "Samples at this step", "report-support"));
  out.push(
    item(
      "Positives",
      formatCount(support),
      "Positive labels summed over the labels (the support column): a sample counts once per label it has",
      "report-positives",
    ),
  );
  return out;
}

/** A 0..1 metric with a light bar behind it. */
function metricCell(v: number | null): HTMLElement {
  const td = h("td", { class: "pc-num-col pc-bar-cell" }, formatMetric(v));
  if (v !== null && Number.isFinite(v)) {
    const pct = Math.max(0, Math.min(1, v)) * 100;
    td.style.backgroundImage = `linear-gradient(to right, var(--pc-bar) ${pct.toFixed(1)}%, transparent ${pct.toFixed(1)}%)`;
  }
  return td;
}
