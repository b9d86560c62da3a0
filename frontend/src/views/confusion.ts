// The confusion matrix of one run at one step: canvas heatmap (counts, row- or
// column-normalised), step slider, class orders (index, name, error, clustered), zoom, class
// finder, hover tooltip, most-confused pairs with their trend, diff against another step or
// run, CSV/PNG downloads; per-label 2x2 tables for multilabel runs. A click on a cell (or on
// a row's class name, the focused class's button, a label's FP/FN count) opens the gallery of
// its kept mistakes at the step shown.
import { h, placeTooltip, setChildren } from "../dom";
import type { ConfusionData, DiffData, PairsResponse } from "../types";
import { classOrder, ConfusionModel, labelStats, matrixCsv, positions, visibleOrder, type LabelStats, type Norm, type Order } from "../confusion";
import { ColorScale, type Rgb } from "../colorscale";
import { currentTheme, themeColors } from "../theme";
import { HeatCanvas, type HeatHit, type HeatSpec } from "../heatcanvas";
import { ClassFinder, Legend, StepSlider } from "../controls";
import { Keyed, Lru } from "../keyed";
import { centerOn, type Viewport } from "../zoom";
import { compactCount, compactShare, formatCount, formatMetric, formatShare, signed } from "../format";
import { sparkBox } from "../sparkline";
import { downloadCanvas, downloadText, safeFilename } from "../download";
import { sortIndices } from "../sorting";
import type { GalleryScope, GalleryState, Sort, TableKey, ViewState } from "../state";
import { scopeFits } from "../samples";
import { SamplesGallery } from "./gallery";
import { segmented } from "../widgets";
import { shownMask, type View, type ViewContext } from "./view";
import { seriesLabel, type Series } from "../series";
import { outsideMatrixAt, outsideText } from "../facts";

/** How many cells a class search or a click on a pair zooms to. */
export const FOCUS_SPAN = 21;
const PAIRS_LIMIT = 20;
const MATRIX_HINT = "Wheel to zoom, drag a rectangle to zoom in, shift+drag to pan, double-click to reset. Hover a cell for its counts; click it (or a row's class name) for its misclassified samples.";

export interface ConfusionViewOptions {
  /** wait this long after the last slider move before loading a step (ms) */
  debounceMs?: number;
}

/** A cache key from parts (NUL cannot occur in run or tag names). */
const k = (...parts: (string | number | null)[]) => parts.map((p) => (p === null ? "latest" : String(p))).join("\u0000");
const startsKey = (key: string | null, ...parts: (string | number | null)[]) => key !== null && key.startsWith(k(...parts) + "\u0000");

export class ConfusionView implements View {
  readonly id = "confusion";
  readonly label = "Confusion";
  readonly element: HTMLElement;
  readonly settings: HTMLElement;
  private ctx: ViewContext | null = null;
  // controls
  private slider: StepSlider;
  private finder: ClassFinder;
  private normSeg;
  private orderSelect: HTMLSelectElement;
  private orderHint: HTMLElement;
  private logBox: HTMLInputElement;
  private errorsBox: HTMLInputElement;
  private compareBox: HTMLInputElement;
  private baseRunSelect: HTMLSelectElement;
  private baseStepSelect: HTMLSelectElement;
  private compareFields: HTMLElement;
  private compareNote: HTMLElement;
  /** how many of the step's elements the matrix leaves out (non-finite outputs, invalid targets, ignored) */
  private outside: HTMLElement;
  private resetBtn: HTMLButtonElement;
  private csvBtn: HTMLButtonElement;
  private pngBtn: HTMLButtonElement;
  private status: HTMLElement;
  private zoomInfo: HTMLElement;
  // main area
  private heat: HeatCanvas;
  private heatBox: HTMLElement;
  private tooltip: HTMLElement;
  private message: HTMLElement;
  private side: HTMLElement;
  private legend: Legend;
  private body: HTMLElement;
  private labelBox: HTMLElement;
  private hint: HTMLElement;
  private matrixFields: HTMLElement;
  private labelNote: HTMLElement;
  // data
  private cm = new Keyed<ConfusionData>();
  private cmCache = new Lru<ConfusionData>(8);
  private model: ConfusionModel | null = null;
  private modelOf: ConfusionData | null = null;
  private pairs = new Keyed<PairsResponse>();
  private diff = new Keyed<DiffData>();
  private baseSteps = new Keyed<number[]>();
  private cluster = new Keyed<number[]>();
  /** the answer of the cluster-order route when it refused (no SciPy): disables the option */
  private clusterUnavailable: string | null = null;
  private clusterProbed = "";
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastRefresh = -1;
  // what is drawn
  private order: Int32Array = new Int32Array(0);
  private pos: Int32Array = new Int32Array(0);
  private drawnKey = "";
  private showingDiff = false;
  private pinned: [number, number] | null = null;
  private readonly debounceMs: number;
  private gallery: SamplesGallery;
  private galleryBtn: HTMLButtonElement;

  constructor(opts: ConfusionViewOptions = {}) {
    this.debounceMs = opts.debounceMs ?? 80;
    this.slider = new StepSlider("cm", (step) => this.ctx?.setState({ step }));
    this.finder = new ClassFinder("class-find", (i) => this.focusClass(i), "Find a class…");
    this.resetBtn = h("button", { class: "pc-button", title: "Show the whole matrix (double-click it, or press 0)", attrs: { type: "button", "data-role": "zoom-reset" }, on: { click: () => this.resetZoom() } }, "Reset zoom");
    this.csvBtn = h("button", { class: "pc-button", title: "Download the matrix as shown (values, order, classes) as CSV", attrs: { type: "button", "data-role": "matrix-csv" }, on: { click: () => this.downloadCsv() } }, "CSV");
    this.pngBtn = h("button", { class: "pc-button", title: "Download the picture as PNG", attrs: { type: "button", "data-role": "matrix-png" }, on: { click: () => this.downloadPng() } }, "PNG");
    this.status = h("span", { class: "pc-status pc-view-status", attrs: { "data-role": "cm-status", "aria-live": "polite" } });
    this.zoomInfo = h("span", { class: "pc-status", attrs: { "data-role": "zoom-info" } });
    this.galleryBtn = h(
      "button",
      { class: "pc-button", title: "Browse the most confident mistakes of this step (click a cell for one cell's)", attrs: { type: "button", "data-role": "open-gallery", "aria-pressed": "false" }, on: { click: () => this.toggleGallery() } },
      "Mistakes",
    );
    const toolbar = h(
      "div",
      { class: "pc-card-toolbar" },
      this.slider.element,
      this.finder.element,
      this.resetBtn,
      this.galleryBtn,
      h("span", { class: "pc-downloads" }, h("span", { class: "pc-label-inline" }, "Download"), this.csvBtn, this.pngBtn),
    );
    this.tooltip = h("div", { class: "pc-tooltip", attrs: { hidden: true, "data-role": "cm-tooltip", role: "tooltip" } });
    this.message = h("div", { class: "pc-message pc-overlay-message", attrs: { "data-role": "cm-message", hidden: true } });
    this.heat = new HeatCanvas({
      onViewport: (vp) => this.onViewport(vp),
      onHover: (hit) => this.onHover(hit),
      onClick: (r, c) => this.onClickCell(r, c),
      onRowLabelClick: (r) => this.onClickRowLabel(r),
    });
    this.heatBox = h("div", { class: "pc-heat-box", attrs: { "data-role": "matrix" } }, this.heat.element, this.tooltip, this.message);
    this.side = h("aside", { class: "pc-side", attrs: { "data-role": "cm-side" } });
    this.labelBox = h("div", { class: "pc-table-box", attrs: { "data-role": "label-table", hidden: true } });
    this.gallery = new SamplesGallery();
    this.body = h("div", { class: "pc-card-body" }, this.heatBox, this.labelBox, this.side, this.gallery.lightbox);
    this.legend = new Legend("cm-legend");
    this.hint = h("span", { class: "pc-hint-text" }, MATRIX_HINT);
    const footer = h("div", { class: "pc-card-footer" }, this.legend.element, this.zoomInfo, h("span", { class: "pc-spacer" }), this.status);
    this.outside = h("div", { class: "pc-card-note", attrs: { "data-role": "outside-matrix", role: "note", hidden: true } });
    this.element = h("div", { class: "pc-card pc-card-matrix", attrs: { "data-view": "confusion" } }, toolbar, this.outside, this.body, footer, h("div", { class: "pc-hint" }, this.hint));

    // sidebar settings
    this.normSeg = segmented<Norm>(
      "normalization",
      [
        { value: "counts", label: "Counts", title: "Number of samples in each cell" },
        { value: "row", label: "Row %", title: "Share of each true class (row-normalised: the diagonal is the recall)" },
        { value: "col", label: "Column %", title: "Share of each predicted class (column-normalised: the diagonal is the precision)" },
      ],
      (v) => this.ctx?.setState({ norm: v }),
    );
    this.orderSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "order", "aria-label": "Class order" },
      on: { change: () => this.setOrder(this.orderSelect.value as Order) },
    });
    for (const [v, label] of [
      ["index", "Class index"],
      ["name", "Class name"],
      ["error", "Error rate (worst first)"],
      ["cluster", "Clustered (confused classes together)"],
    ] as const) {
      this.orderSelect.appendChild(h("option", { attrs: { value: v } }, label));
    }
    this.orderHint = h("div", { class: "pc-hint-small", attrs: { "data-role": "order-hint" } });
    this.logBox = h("input", { attrs: { type: "checkbox", "data-control": "cm-log" }, on: { change: () => this.ctx?.setState({ logColor: this.logBox.checked }) } });
    this.errorsBox = h("input", { attrs: { type: "checkbox", "data-control": "cm-errors-only" }, on: { change: () => this.ctx?.setState({ errorsOnly: this.errorsBox.checked }) } });
    this.compareBox = h("input", {
      attrs: { type: "checkbox", "data-control": "compare" },
      on: { change: () => this.ctx && this.ctx.setState({ diff: { ...this.ctx.state.diff, on: this.compareBox.checked } }) },
    });
    this.baseRunSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "compare-run", "aria-label": "Run to compare with" },
      on: { change: () => this.ctx && this.ctx.setState({ diff: { on: true, baseSeries: this.baseRunSelect.value, baseStep: null } }) },
    });
    this.compareNote = h("div", { class: "pc-hint-small", attrs: { "data-role": "compare-note", hidden: true } });
    this.baseStepSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "compare-step", "aria-label": "Step to compare with" },
      on: { change: () => this.ctx && this.ctx.setState({ diff: { ...this.ctx.state.diff, on: true, baseStep: Number(this.baseStepSelect.value) } }) },
    });
    this.compareFields = h(
      "div",
      { class: "pc-compare" },
      h("div", { class: "pc-row" }, h("span", { class: "pc-hint-inline pc-fixed" }, "run"), this.baseRunSelect),
      h("div", { class: "pc-row pc-row-gap" }, h("span", { class: "pc-hint-inline pc-fixed" }, "step"), this.baseStepSelect),
      this.compareNote,
    );
    this.labelNote = h(
      "div",
      { class: "pc-hint-small", attrs: { hidden: true } },
      "A multilabel run has one 2×2 matrix per label (true no/yes × predicted no/yes): the table lists them with each label's precision, recall and F1. Sort it by any column.",
    );
    this.matrixFields = h(
      "div",
      null,
      field("Show", this.normSeg.el),
      field("Order classes by", this.orderSelect, this.orderHint),
      field("Colour scale", h("label", { class: "pc-check", title: "Logarithmic colours: small counts stay visible next to a large diagonal" }, this.logBox, "Log scale"),
        h("label", { class: "pc-check pc-row-gap", title: "Colours span the off-diagonal cells only; the diagonal is grey" }, this.errorsBox, "Errors only (grey diagonal)")),
      field("Compare", h("label", { class: "pc-check", title: "Show this step minus another step or run, in counts" }, this.compareBox, "Difference to another step or run"), this.compareFields),
    );
    this.settings = h(
      "section",
      { class: "pc-section", attrs: { "data-role": "settings" } },
      h("div", { class: "pc-section-title" }, "Matrix"),
      this.matrixFields,
      this.labelNote,
    );
  }

  // ---- data -------------------------------------------------------------------------------

  update(ctx: ViewContext): void {
    this.ctx = ctx;
    if (ctx.refreshId !== this.lastRefresh) {
      // a refresh: the latest step may have moved, more steps may exist
      if (this.lastRefresh !== -1) {
        this.cmCache.clear(); // cached steps carry the old list of steps
        this.cm.key = null;
        this.pairs.key = null;
        this.baseSteps.key = null;
        this.diff.key = null;
      }
      this.lastRefresh = ctx.refreshId;
    }
    this.syncSettings(ctx);
    const run = ctx.run;
    if (!run) {
      this.cm.reset();
      this.showMessage("No run of this class set has confusion matrices. The logger writes them with each write() (PerClassWriter, on by default); a run logged before that has none.");
      this.render();
      return;
    }
    const s = ctx.state;
    const key = k(run, ctx.name, s.step);
    // another run or tag: never show the old one's picture meanwhile
    if (this.cm.data && (this.cm.data.run !== run || this.cm.data.name !== ctx.name)) {
      this.cm.data = null;
      this.cm.error = null;
    }
    this.requestMatrix(run, ctx.name, s.step, key);
    this.requestDependents();
    this.render();
  }

  private requestMatrix(run: string, name: string, step: number | null, key: string): void {
    if (key === this.cm.pending || (key === this.cm.key && !this.cm.pending)) return;
    const cached = step !== null ? this.cmCache.get(key) : undefined;
    if (cached) {
      this.cm.pending = null;
      this.cm.key = key;
      this.cm.data = cached;
      this.cm.error = null;
      return;
    }
    const go = () => {
      this.timer = null;
      this.cm.load(
        key,
        // stamped with what was asked for: the picture is never attributed to another run
        () => this.ctx!.api.confusion(run, name, step).then((d) => ({ ...d, run, name })),
        () => {
          if (this.cm.data) this.cmCache.set(k(run, name, this.cm.data.step), this.cm.data);
          this.requestDependents();
          this.render();
        },
      );
      this.render();
    };
    if (this.timer) clearTimeout(this.timer);
    // a slider drag: wait for it to pause; anything else loads at once
    const sameRun = this.cm.data !== null && this.cm.data.run === run && this.cm.data.name === name;
    if (sameRun && this.debounceMs > 0) {
      this.cm.pending = key; // shows "loading" and keeps older answers out
      this.timer = setTimeout(() => {
        this.cm.pending = null;
        go();
      }, this.debounceMs);
    } else go();
  }

  /** Loads what depends on the matrix: pairs, cluster order, the diff. */
  private requestDependents(): void {
    const ctx = this.ctx;
    const cm = this.cm.data;
    if (!ctx || !cm || cm.task === "multilabel") return;
    const run = cm.run;
    const name = ctx.name;
    const s = ctx.state;
    const rerender = () => this.render();
    // an answer may unlock the next request (the base run's steps -> the diff)
    const chain = () => {
      this.requestDependents();
      this.render();
    };
    this.pairs.load(k(run, name, cm.step, this.lastRefresh), () => ctx.api.pairs(run, name, cm.step, PAIRS_LIMIT), rerender);
    // the clustered order of this step; or, once per run, a probe of the route so that the
    // option can say why it is unavailable (no SciPy on the server) before anyone picks it
    const onCluster = () => {
      this.clusterUnavailable = this.cluster.error;
      this.render();
    };
    if (s.order === "cluster") this.cluster.load(k(run, name, cm.step), () => ctx.api.order(run, name, cm.step, "cluster"), onCluster);
    else if (this.clusterProbed !== k(run, name)) {
      this.clusterProbed = k(run, name);
      this.cluster.load(k(run, name, "probe"), () => ctx.api.order(run, name, null, "cluster"), onCluster);
    }
    if (s.diff.on) {
      const baseRun = this.baseRun(ctx);
      let steps: number[] | null = null;
      if (baseRun === run) steps = cm.steps;
      else {
        this.baseSteps.load(k(baseRun, name, this.lastRefresh), () => ctx.api.steps(baseRun, name, "confusion"), chain);
        steps = startsKey(this.baseSteps.key, baseRun, name) ? this.baseSteps.data : null;
      }
      if (steps) {
        const baseStep = s.diff.baseStep ?? steps[0];
        if (baseStep !== undefined) {
          this.diff.load(k(run, name, cm.step, baseRun, baseStep, this.lastRefresh), () => ctx.api.diff(run, name, cm.step, baseRun, baseStep, 2 * PAIRS_LIMIT), rerender);
        }
      }
    }
  }

  /** The run of the series to compare with: the diff route compares two runs of one name. */
  private baseRun(ctx: ViewContext): string {
    const base = this.diffBases(ctx).find((x) => x.key === ctx.state.diff.baseSeries);
    return base ? base.run : ctx.run!;
  }

  /** The series a diff can compare with: the group's series of the shown series' name that
   * have confusion matrices (the diff route takes one name for both). */
  private diffBases(ctx: ViewContext): Series[] {
    return ctx.group.filter((x) => x.name === ctx.name && x.info.kinds.includes("confusion"));
  }

  /** The labels of a diff's two series (runs of the shown series' name). */
  private diffLabels(diff: DiffData): [string, string] {
    const name = this.ctx?.name ?? "";
    return [seriesLabel({ run: diff.run, name }), seriesLabel({ run: diff.base_run, name })];
  }

  private getModel(cm: ConfusionData): ConfusionModel {
    if (this.modelOf !== cm || !this.model) {
      this.model = new ConfusionModel(cm.counts, cm.n);
      this.modelOf = cm;
    }
    return this.model;
  }

  // ---- settings ---------------------------------------------------------------------------

  private syncSettings(ctx: ViewContext): void {
    const s = ctx.state;
    const diffOn = s.diff.on;
    this.normSeg.set(s.norm, diffOn ? { counts: false, row: true, col: true } : undefined);
    this.orderSelect.value = s.order;
    const clusterOpt = this.orderSelect.querySelector<HTMLOptionElement>("option[value=cluster]")!;
    clusterOpt.disabled = this.clusterUnavailable !== null;
    clusterOpt.title = this.clusterUnavailable ?? "Reverse Cuthill-McKee on the symmetrised off-diagonal counts: classes confused with each other sit together";
    this.orderSelect.title = this.clusterUnavailable && s.order !== "cluster" ? "" : "";
    this.orderHint.textContent = this.clusterUnavailable ? `Clustered order unavailable: ${this.clusterUnavailable}` : "";
    this.logBox.checked = s.logColor;
    this.errorsBox.checked = s.errorsOnly;
    this.compareBox.checked = diffOn;
    this.compareFields.hidden = !diffOn;
    const bases = ctx.run ? this.diffBases(ctx) : [];
    const baseRun = ctx.run ? this.baseRun(ctx) : "";
    setChildren(
      this.baseRunSelect,
      ...bases.map((x) => {
        const label = seriesLabel(x);
        const o = h("option", { attrs: { value: x.key } }, x.run === ctx.run ? `${label} (same run)` : label);
        o.selected = x.run === baseRun;
        return o;
      }),
    );
    // series of another name in this class set: the diff route cannot compare across names
    const others = ctx.group.filter((x) => x.name !== ctx.name && x.info.kinds.includes("confusion")).map((x) => seriesLabel(x));
    this.compareNote.textContent = others.length
      ? `A difference compares series of one name (“${ctx.name}”); ${others.length === 1 ? `${others[0]} has` : `${others.length} series of this class set have`} another name.`
      : "";
    this.compareNote.title = others.join(", ");
    this.compareNote.hidden = !others.length;
    const cm = this.cm.data;
    const steps = baseRun === ctx.run ? cm?.steps ?? [] : startsKey(this.baseSteps.key, baseRun, ctx.name) ? this.baseSteps.data ?? [] : [];
    const baseStep = s.diff.baseStep ?? steps[0];
    setChildren(
      this.baseStepSelect,
      ...steps.map((st) => {
        const o = h("option", { attrs: { value: st } }, String(st));
        o.selected = st === baseStep;
        return o;
      }),
    );
    if (baseStep !== undefined && !steps.includes(baseStep)) {
      const o = h("option", { attrs: { value: baseStep } }, `${baseStep} (not in run)`);
      o.selected = true;
      this.baseStepSelect.appendChild(o);
    }
  }

  private setOrder(order: Order): void {
    const ctx = this.ctx;
    if (!ctx) return;
    ctx.setState({ order, cmZoom: null });
    // keep the focused class in view in the new order
    if (ctx.state.focus) this.refocus();
  }

  // ---- rendering --------------------------------------------------------------------------

  private showMessage(text: string, action?: { label: string; run: () => void }): void {
    setChildren(
      this.message,
      h("div", null, text),
      action ? h("button", { class: "pc-button pc-row-gap", attrs: { type: "button", "data-role": "cm-message-action" }, on: { click: action.run } }, action.label) : null,
    );
    this.message.hidden = false;
    this.heat.element.style.visibility = "hidden";
    // no picture: no legend or zoom readout that could describe another one
    this.legend.element.hidden = true;
    this.zoomInfo.hidden = true;
    this.hideTooltip();
  }

  private hideMessage(): void {
    this.message.hidden = true;
    this.heat.element.style.visibility = "";
    this.legend.element.hidden = false;
    this.zoomInfo.hidden = false;
  }

  private render(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const s = ctx.state;
    this.syncSettings(ctx);
    const cm = this.cm.data;
    this.status.textContent = this.cm.loading ? `Loading step ${s.step ?? "(latest)"}…` : "";
    this.renderOutside(ctx, cm);
    if (!ctx.run) return;
    if (!cm) {
      this.slider.set([], null, s.step === null);
      this.side.replaceChildren();
      this.gallery.lightbox.hidden = true;
      if (this.cm.error) {
        this.showMessage(
          `Could not load the confusion matrix: ${this.cm.error}`,
          s.step !== null ? { label: "Show the latest step", run: () => ctx.setState({ step: null }) } : undefined,
        );
      } else this.showMessage("Loading the confusion matrix…");
      this.drawnKey = "";
      return;
    }
    this.slider.set(cm.steps, cm.step, s.step === null);
    const names = cm.class_names;
    this.finder.setNames(names, (i) => {
      if (cm.task === "multilabel") return null;
      const e = this.getModel(cm).errorRate(i);
      return Number.isNaN(e) ? null : `${(e * 100).toFixed(0)}% wrong`;
    });
    const multilabel = cm.task === "multilabel";
    this.matrixFields.hidden = multilabel;
    this.labelNote.hidden = !multilabel;
    this.csvBtn.hidden = multilabel;
    this.pngBtn.hidden = multilabel;
    this.csvBtn.parentElement!.hidden = multilabel;
    if (multilabel) {
      this.renderLabels(ctx, cm);
      this.renderGallery(ctx, cm);
      return;
    }
    this.hint.textContent = MATRIX_HINT;
    this.labelBox.hidden = true;
    this.heatBox.hidden = false;
    this.side.hidden = false;
    this.resetBtn.hidden = false;
    const model = this.getModel(cm);
    const shown = shownMask(ctx, names);
    const clusterOk = s.order === "cluster" && !!this.cluster.data && this.cluster.key === k(cm.run, ctx.name, cm.step) && this.cluster.data.length === cm.n;
    const base = classOrder(s.order === "cluster" && !clusterOk ? "index" : s.order, names, model, clusterOk ? this.cluster.data : null);
    this.order = visibleOrder(base, shown);
    this.pos = positions(this.order, cm.n);
    let note = "";
    if (s.order === "cluster" && !clusterOk) note = this.cluster.loading ? "Clustering…" : this.clusterUnavailable ? `Clustered order unavailable: ${this.clusterUnavailable}` : "";
    if (note) this.status.textContent = [this.status.textContent, note].filter(Boolean).join(" · ");
    if (this.order.length === 0) {
      this.showMessage("No class selected. Tick classes on the left, or use “All”.");
      if (!this.renderGallery(ctx, cm)) this.side.replaceChildren();
      this.drawnKey = "";
      return;
    }
    // the diff: a refusal is shown as such, never as a picture
    this.showingDiff = false;
    let diff: DiffData | null = null;
    if (s.diff.on) {
      if (startsKey(this.diff.key, cm.run, ctx.name, cm.step) && !this.diff.loading) {
        if (this.diff.error) {
          this.showMessage(`Cannot compare: ${this.diff.error}`);
          this.renderSide(ctx, cm, model, null);
          this.drawnKey = "";
          return;
        }
        diff = this.diff.data;
      } else if (this.baseSteps.error && this.baseRun(ctx) !== ctx.run) {
        this.showMessage(`Cannot compare: ${this.baseSteps.error}`);
        this.renderGallery(ctx, cm);
        this.drawnKey = "";
        return;
      } else {
        this.showMessage("Computing the difference…");
        this.renderGallery(ctx, cm);
        this.drawnKey = "";
        return;
      }
      if (diff && diff.n !== cm.n) {
        this.showMessage("Cannot compare: the two matrices have different classes.");
        this.renderGallery(ctx, cm);
        this.drawnKey = "";
        return;
      }
      this.showingDiff = !!diff;
    }
    this.hideMessage();
    const key = [cm.run, cm.step, cm.n, s.norm, s.order, s.logColor, s.errorsOnly, diff ? `${diff.base_run}@${diff.base_step}` : "", orderHash(this.order), clusterOk ? 1 : 0, ctx.refreshId, currentTheme()].join("|");
    const spec = this.spec(cm, model, diff, s.norm, s.logColor, s.errorsOnly);
    if (key !== this.drawnKey) {
      this.drawnKey = key;
      this.heat.set(spec, s.cmZoom);
      this.legendFor(spec.scale, diff, s.norm, s.errorsOnly);
    }
    this.updateMarks();
    this.renderZoomInfo();
    this.renderSide(ctx, cm, model, diff);
  }

  /** The line saying how many of the step's elements are in no cell (from the series' curves). */
  private renderOutside(ctx: ViewContext, cm: ConfusionData | null): void {
    const curves = cm && ctx.series ? ctx.curvesOf(ctx.series.key) : undefined;
    const text = cm ? outsideText(outsideMatrixAt(curves, cm.step), cm.step, "matrix") : null;
    this.outside.textContent = text ?? "";
    this.outside.hidden = text === null;
  }

  private spec(cm: ConfusionData, model: ConfusionModel, diff: DiffData | null, norm: Norm, log: boolean, errorsOnly: boolean): HeatSpec {
    const names = cm.class_names;
    // a regression run's classes are target ranges
    const rowWord = cm.task === "regression" ? "Target range" : "True class";
    const colWord = cm.task === "regression" ? "Predicted range" : "Predicted class";
    const order = this.order;
    const n = cm.n;
    let values: ArrayLike<number>;
    let scale: ColorScale;
    let cellText: (r: number, c: number) => string | null;
    const colors = themeColors();
    const cellColors = { missing: colors.missing, diagonal: colors.diagonal };
    if (diff) {
      values = diff.deltas;
      let m = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) if (!errorsOnly || i !== j) m = Math.max(m, Math.abs(diff.deltas[i * n + j]));
      }
      scale = new ColorScale({ kind: "diverging", min: -Math.max(m, 1), max: Math.max(m, 1), log, eps: 1, stops: colors.blueRed, ...cellColors });
      cellText = (r, c) => {
        const v = diff.deltas[order[r] * n + order[c]];
        return v ? signed(v) : null; // unchanged cells stay blank
      };
    } else {
      const vals = model.values(norm);
      values = vals;
      const max = model.maxValue(norm, errorsOnly);
      const top = norm === "counts" ? Math.max(max, 1) : errorsOnly ? Math.max(max, 1e-6) : 1;
      scale = new ColorScale({ kind: "sequential", min: 0, max: top, log, eps: norm === "counts" ? 1 : 1e-3, stops: colors.blues, ...cellColors });
      cellText = (r, c) => {
        const v = vals[order[r] * n + order[c]];
        if (!Number.isFinite(v) || v === 0) return null; // empty cells stay blank
        return norm === "counts" ? compactCount(v) : compactShare(v);
      };
    }
    return {
      nRows: order.length,
      nCols: order.length,
      source: { values, stride: n, rowIdx: order, colIdx: order, maskDiagonal: errorsOnly, pool: diff ? "maxabs" : "max" },
      scale,
      rowLabel: (r) => names[order[r]],
      colLabel: (c) => names[order[c]],
      rowTitle: order.length > 40 ? `${rowWord} (${order.length}: hover, or find one above)` : rowWord,
      colTitle: order.length > 40 ? `${colWord} (${order.length})` : colWord,
      colLabelStyle: "names",
      square: true,
      cellText,
    };
  }

  private legendFor(scale: ColorScale, diff: DiffData | null, norm: Norm, errorsOnly: boolean): void {
    const extras: { label: string; rgb: Rgb }[] = [];
    let title: string;
    let fmt: (v: number) => string;
    if (diff) {
      const [a, b] = this.diffLabels(diff);
      title = `Δ count: ${a} @ ${diff.step} minus ${b} @ ${diff.base_step}`;
      fmt = (v) => signed(v);
    } else if (norm === "counts") {
      title = "Samples";
      fmt = (v) => compactCount(v);
    } else {
      title = norm === "row" ? "Share of the true class (row)" : "Share of the predicted class (column)";
      fmt = (v) => compactShare(v);
      extras.push({ label: "no samples", rgb: scale.missingRgb });
    }
    if (scale.spec.log) title += " · log scale";
    if (errorsOnly) extras.push({ label: "diagonal (correct)", rgb: scale.diagonalRgb });
    this.legend.set(scale, title, fmt, extras);
  }

  private updateMarks(): void {
    const ctx = this.ctx;
    const cm = this.cm.data;
    if (!ctx || !cm) return;
    const f = ctx.state.focus !== null ? cm.class_names.indexOf(ctx.state.focus) : -1;
    const p = f >= 0 ? this.pos[f] : -1;
    // the open gallery's cell, else the cell last clicked or pointed at in a list
    let cell = this.pinned;
    const g = this.galleryState(ctx, cm);
    if (g) {
      cell = null;
      if (g.scope.kind === "cell") {
        const r = this.pos[g.scope.true];
        const c = this.pos[g.scope.pred];
        if (r >= 0 && c >= 0) cell = [r, c];
      }
    }
    this.heat.setMarks({ row: p >= 0 ? p : null, col: p >= 0 ? p : null, cell });
  }

  // ---- the samples gallery ------------------------------------------------------------------

  /** The gallery's state when it is open and fits this matrix (task, classes), else null. */
  private galleryState(ctx: ViewContext, cm: ConfusionData): GalleryState | null {
    const g = ctx.state.gallery;
    return g && scopeFits(g.scope, cm.task, cm.n) ? g : null;
  }

  /** Puts the gallery into the side panel when it is open; false when it is not. */
  private renderGallery(ctx: ViewContext, cm: ConfusionData): boolean {
    const g = this.galleryState(ctx, cm);
    this.galleryBtn.setAttribute("aria-pressed", String(g?.scope.kind === "overall"));
    this.galleryBtn.classList.toggle("pc-active", g?.scope.kind === "overall");
    this.side.classList.toggle("pc-side-gallery", !!g);
    if (!g) {
      this.gallery.lightbox.hidden = true;
      return false;
    }
    this.side.hidden = false;
    if (this.side.childNodes.length !== 1 || this.side.firstChild !== this.gallery.element) setChildren(this.side, this.gallery.element);
    const info = ctx.tags[cm.run]?.[ctx.name];
    const last = cm.steps[cm.steps.length - 1];
    this.gallery.update({
      api: ctx.api,
      run: cm.run,
      name: ctx.name,
      task: cm.task,
      classNames: cm.class_names,
      step: cm.step,
      hasSamples: !!info?.kinds.includes("samples"),
      refreshId: this.lastRefresh,
      state: g,
      mistakes: this.mistakesIn(cm, g.scope),
      setGallery: (next, opts) => {
        ctx.setState({ gallery: next }, opts);
        if (next === null) this.heat.focus();
      },
      // the latest step follows new steps, as the slider's last position does
      setStep: (step) => ctx.setState({ step: step !== null && step === last ? null : step }),
    });
    return true;
  }

  /** The matrix's count of mistakes in a scope (what the gallery's empty states say). */
  private mistakesIn(cm: ConfusionData, scope: GalleryScope): number | null {
    if (cm.task === "multilabel") {
      const L = cm.labels;
      if (!L) return null;
      if (scope.kind === "label") {
        const fp = L[scope.label * 4 + 1];
        const fn = L[scope.label * 4 + 2];
        return scope.error === "fp" ? fp : scope.error === "fn" ? fn : fp + fn;
      }
      if (scope.kind !== "overall") return null;
      let total = 0;
      for (let l = 0; l < cm.n; l++) total += L[l * 4 + 1] + L[l * 4 + 2];
      return total;
    }
    const m = this.getModel(cm);
    switch (scope.kind) {
      case "cell":
        return scope.true === scope.pred ? 0 : m.count(scope.true, scope.pred);
      case "class":
        return m.rowSums[scope.true] - m.count(scope.true, scope.true);
      case "overall":
        return m.total - m.correct;
      default:
        return null;
    }
  }

  /** Opens the gallery on a scope (keeping the sort the user chose last). */
  openGallery(scope: GalleryScope, patch: Partial<ViewState> = {}): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const sort = ctx.state.gallery?.sort ?? "score";
    ctx.setState({ ...patch, gallery: { scope, sort, selected: null, large: false } });
  }

  private toggleGallery(): void {
    const g = this.ctx?.state.gallery;
    if (g && g.scope.kind === "overall") this.ctx?.setState({ gallery: null });
    else this.openGallery({ kind: "overall" });
  }

  private onClickRowLabel(r: number): void {
    const cm = this.cm.data;
    const i = this.order[r];
    if (!cm || i === undefined || cm.task === "multilabel") return;
    this.pinned = null;
    this.openGallery({ kind: "class", true: i }, { focus: cm.class_names[i] });
  }

  private renderZoomInfo(): void {
    const v = this.heat.viewport;
    const n = this.order.length;
    const full = v.r0 === 0 && v.c0 === 0 && v.r1 === n && v.c1 === n;
    this.zoomInfo.textContent = full ? `${n} × ${n}` : `rows ${v.r0 + 1}–${v.r1}, columns ${v.c0 + 1}–${v.c1} of ${n}`;
    this.resetBtn.disabled = full;
  }

  // ---- side panel: focused class, pairs or changes ------------------------------------------

  private renderSide(ctx: ViewContext, cm: ConfusionData, model: ConfusionModel, diff: DiffData | null): void {
    if (this.renderGallery(ctx, cm)) return;
    const names = cm.class_names;
    const parts: Node[] = [];
    const f = ctx.state.focus !== null ? names.indexOf(ctx.state.focus) : -1;
    if (f >= 0) parts.push(this.focusPanel(ctx, cm, model, f));
    if (ctx.state.diff.on) {
      parts.push(h("div", { class: "pc-side-title" }, ctx.state.errorsOnly ? "Biggest changes in mistakes" : "Biggest changes"));
      if (!diff) parts.push(h("div", { class: "pc-side-empty" }, this.diff.error ? "No comparison: see the message." : "Loading…"));
      else {
        const [a, b] = this.diffLabels(diff);
        parts.push(h("div", { class: "pc-side-sub" }, `${a} @ ${diff.step} vs ${b} @ ${diff.base_step}`));
        const changes = diff.changes.filter((c) => !ctx.state.errorsOnly || c.true !== c.pred).slice(0, PAIRS_LIMIT);
        if (!changes.length) parts.push(h("div", { class: "pc-side-empty", attrs: { "data-role": "no-changes" } }, ctx.state.errorsOnly ? "No mistake changed." : "No cell changed."));
        const list = h("ol", { class: "pc-pairs", attrs: { "data-role": "changes" } });
        for (const c of changes) {
          list.appendChild(
            this.pairRow(names, c.true, c.pred, [
              h("span", { class: "pc-pair-count" }, `${formatCount(c.before)} → ${formatCount(c.after)}`),
              h("span", { class: c.delta > 0 ? "pc-delta pc-up" : "pc-delta pc-down" }, signed(c.delta)),
            ], "change"),
          );
        }
        parts.push(list);
      }
    } else {
      const pairs = this.pairs.data;
      const fresh = startsKey(this.pairs.key, cm.run, ctx.name, cm.step);
      parts.push(h("div", { class: "pc-side-title" }, `Most confused at step ${cm.step}`));
      if (this.pairs.error && fresh) parts.push(h("div", { class: "pc-side-empty pc-error-text" }, this.pairs.error));
      else if (!pairs || !fresh) parts.push(h("div", { class: "pc-side-empty" }, "Loading…"));
      else if (!pairs.pairs.length) parts.push(h("div", { class: "pc-side-empty", attrs: { "data-role": "no-pairs" } }, "No mistakes at this step."));
      else {
        parts.push(h("div", { class: "pc-side-sub" }, `true → predicted · count · trend over ${pairs.steps.length} steps`));
        const mark = pairs.steps.indexOf(cm.step);
        const list = h("ol", { class: "pc-pairs", attrs: { "data-role": "pairs" } });
        for (const p of pairs.pairs) {
          const share = model.cell(p.true, p.pred).ofRow;
          list.appendChild(
            this.pairRow(names, p.true, p.pred, [
              h("span", { class: "pc-pair-count", title: `${formatShare(share)} of true ${names[p.true] ?? p.true}` }, formatCount(p.count)),
              sparkBox(p.history, mark, `count of ${names[p.true] ?? p.true} → ${names[p.pred] ?? p.pred} at each step (dot: step ${cm.step})`),
            ], "pair"),
          );
        }
        parts.push(list);
      }
    }
    setChildren(this.side, ...parts);
  }

  private pairRow(names: readonly string[], t: number, p: number, extra: Node[], role: string): HTMLElement {
    const tn = names[t] ?? String(t);
    const pn = names[p] ?? String(p);
    return h(
      "li",
      {
        class: "pc-pair",
        title: `${tn} predicted as ${pn}: click to zoom to the cell`,
        attrs: { "data-role": role, "data-true": t, "data-pred": p, tabindex: 0 },
        on: {
          mouseenter: () => this.pinCell(t, p),
          mouseleave: () => this.pinCell(null, null),
          click: () => this.zoomToCell(t, p),
          keydown: (e) => {
            if (e.key === "Enter") this.zoomToCell(t, p);
          },
        },
      },
      h(
        "span",
        { class: "pc-pair-names" },
        h("span", { class: "pc-pair-true" }, tn),
        " ",
        h("span", { class: "pc-pair-then" }, h("span", { class: "pc-pair-arrow" }, "→ "), h("span", { class: "pc-pair-pred" }, pn)),
      ),
      ...extra,
    );
  }

  private focusPanel(ctx: ViewContext, cm: ConfusionData, model: ConfusionModel, f: number): HTMLElement {
    const names = cm.class_names;
    const row = model.rowSums[f];
    const col = model.colSums[f];
    const diag = model.count(f, f);
    const item = (cls: number, count: number, t: number, p: number, total: number) =>
      h(
        "li",
        { class: "pc-pair", attrs: { "data-true": t, "data-pred": p, tabindex: 0 }, on: { click: () => this.zoomToCell(t, p), mouseenter: () => this.pinCell(t, p), mouseleave: () => this.pinCell(null, null) } },
        h("span", { class: "pc-pair-names" }, names[cls]),
        h("span", { class: "pc-pair-count", title: `${formatShare(total > 0 ? count / total : NaN)}` }, formatCount(count)),
      );
    const rowTop = model.rowTop(f, 5);
    const colTop = model.colTop(f, 5);
    return h(
      "div",
      { class: "pc-focus", attrs: { "data-role": "focus" } },
      h(
        "div",
        { class: "pc-side-title" },
        h("span", { class: "pc-focus-name", attrs: { "data-role": "focus-name" } }, names[f]),
        h("button", { class: "pc-linkbtn pc-focus-clear", title: "Clear the highlight", attrs: { type: "button", "data-role": "focus-clear" }, on: { click: () => ctx.setState({ focus: null }) } }, "✕"),
      ),
      h(
        "div",
        { class: "pc-side-sub" },
        `recall ${formatShare(row > 0 ? diag / row : NaN)} (${formatCount(diag)} of ${formatCount(row)}) · precision ${formatShare(col > 0 ? diag / col : NaN)}`,
      ),
      h("div", { class: "pc-focus-head" }, "Predicted as"),
      rowTop.length ? h("ol", { class: "pc-pairs pc-pairs-small" }, ...rowTop.map((x) => item(x.cls, x.count, f, x.cls, row))) : h("div", { class: "pc-side-empty" }, "never wrong"),
      h("div", { class: "pc-focus-head" }, "Mistaken for it"),
      colTop.length ? h("ol", { class: "pc-pairs pc-pairs-small" }, ...colTop.map((x) => item(x.cls, x.count, x.cls, f, col))) : h("div", { class: "pc-side-empty" }, "never"),
      h(
        "button",
        {
          class: "pc-button pc-focus-samples",
          title: `The kept mistakes of true ${names[f]} at step ${cm.step}`,
          attrs: { type: "button", "data-role": "focus-samples" },
          on: { click: () => this.openGallery({ kind: "class", true: f }) },
        },
        "Misclassified samples",
      ),
    );
  }

  // ---- multilabel -------------------------------------------------------------------------

  private renderLabels(ctx: ViewContext, cm: ConfusionData): void {
    this.hideMessage();
    this.heatBox.hidden = true;
    this.side.hidden = true;
    this.labelBox.hidden = false;
    this.resetBtn.hidden = true;
    this.zoomInfo.textContent = `${cm.n} labels`;
    this.drawnKey = "";
    const stats = labelStats(cm.labels!);
    const shown = shownMask(ctx, cm.class_names);
    const rows = stats.filter((st) => shown[st.label]);
    const sort = ctx.state.labelSort;
    const key = (st: LabelStats): number | string | null => {
      switch (sort.key) {
        case "name":
          return cm.class_names[st.label];
        case "index":
          return st.label;
        case "loss":
          return null;
        default:
          return st[sort.key];
      }
    };
    const order = sortIndices(rows.length, (i) => key(rows[i]), sort.desc).map((i) => rows[i]);
    const scale = new ColorScale({ kind: "sequential", min: 0, max: 1, log: false, eps: 1, stops: themeColors().blues, missing: themeColors().missing });
    this.legend.set(scale, "Matrix cells: share of their row (true no / true yes)", (v) => compactShare(v));
    this.hint.textContent = "Each label's 2×2 matrix: rows = true (no, yes), columns = predicted (no, yes). Click a column header to sort.";
    const cols: { key: TableKey; label: string; title: string; num: boolean }[] = [
      { key: "index", label: "#", title: "Label index", num: true },
      { key: "name", label: "Label", title: "Label name", num: false },
      { key: "tp", label: "TP", title: "True positives", num: true },
      { key: "fp", label: "FP", title: "False positives", num: true },
      { key: "fn", label: "FN", title: "False negatives", num: true },
      { key: "tn", label: "TN", title: "True negatives", num: true },
      { key: "precision", label: "Precision", title: "TP / (TP + FP)", num: true },
      { key: "recall", label: "Recall", title: "TP / (TP + FN)", num: true },
      { key: "f1", label: "F1", title: "2TP / (2TP + FP + FN)", num: true },
      { key: "support", label: "Support", title: "Samples with the label (TP + FN)", num: true },
    ];
    const head = h(
      "tr",
      null,
      ...cols.slice(0, 2).map((c) => sortHeader(c, sort, (k) => ctx.setState({ labelSort: nextSort(sort, k) }))),
      h("th", { class: "pc-center-col", title: "The 2x2 matrix, rows = true (no, yes), columns = predicted (no, yes); colour = share of the row" }, "Matrix"),
      ...cols.slice(2).map((c) => sortHeader(c, sort, (k) => ctx.setState({ labelSort: nextSort(sort, k) }))),
    );
    const body = h("tbody");
    const frag = document.createDocumentFragment();
    for (const st of order) {
      const mini = h("span", { class: "pc-mini" });
      const cells: [number, number][] = [
        [st.tn, st.tn + st.fp],
        [st.fp, st.tn + st.fp],
        [st.fn, st.fn + st.tp],
        [st.tp, st.fn + st.tp],
      ];
      const labels = ["TN", "FP", "FN", "TP"];
      cells.forEach(([v, tot], k) => {
        const share = tot > 0 ? v / tot : NaN;
        mini.appendChild(h("span", { class: "pc-mini-cell", title: `${labels[k]} ${formatCount(v)} (${formatShare(share)} of the row)`, style: { background: scale.css(share) } }));
      });
      frag.appendChild(
        h(
          "tr",
          { attrs: { "data-label": cm.class_names[st.label] } },
          h("td", { class: "pc-num-col pc-muted" }, String(st.label)),
          h("td", { class: "pc-name-col", title: cm.class_names[st.label] }, cm.class_names[st.label]),
          h("td", { class: "pc-center-col" }, mini),
          h("td", { class: "pc-num-col" }, formatCount(st.tp)),
          h("td", { class: "pc-num-col" }, this.labelErrorButton(cm, st.label, "fp", st.fp)),
          h("td", { class: "pc-num-col" }, this.labelErrorButton(cm, st.label, "fn", st.fn)),
          h("td", { class: "pc-num-col" }, formatCount(st.tn)),
          h("td", { class: "pc-num-col" }, formatMetric(st.precision)),
          h("td", { class: "pc-num-col" }, formatMetric(st.recall)),
          h("td", { class: "pc-num-col" }, formatMetric(st.f1)),
          h("td", { class: "pc-num-col" }, formatCount(st.support)),
        ),
      );
    }
    body.appendChild(frag);
    setChildren(this.labelBox, h("table", { class: "pc-table", attrs: { "data-role": "labels" } }, h("thead", null, head), body));
  }

  /** A label's FP or FN count that opens the gallery of those kept mistakes. */
  private labelErrorButton(cm: ConfusionData, label: number, error: "fp" | "fn", count: number): HTMLElement {
    const what = error === "fp" ? "false positives" : "false negatives";
    const g = this.ctx?.state.gallery;
    const open = g?.scope.kind === "label" && g.scope.label === label && g.scope.error === error;
    return h(
      "button",
      {
        class: open ? "pc-count-btn pc-active" : "pc-count-btn",
        title: `Show the kept ${what} of ${cm.class_names[label]} at step ${cm.step}`,
        attrs: { type: "button", "data-role": `label-${error}`, "data-label": label, "aria-pressed": String(open) },
        on: { click: () => this.openGallery({ kind: "label", label, error }) },
      },
      formatCount(count),
    );
  }

  // ---- interaction ------------------------------------------------------------------------

  private onViewport(vp: Viewport | null): void {
    this.ctx?.setState({ cmZoom: vp }, { rerender: false });
    this.renderZoomInfo();
    this.hideTooltip();
  }

  private resetZoom(): void {
    this.ctx?.setState({ cmZoom: null }, { rerender: false });
    const cm = this.cm.data;
    if (cm && this.ctx) {
      this.drawnKey = "";
      this.render();
    }
  }

  /** Highlights a class and zooms so that its row and column are in view around the diagonal. */
  focusClass(i: number): void {
    const ctx = this.ctx;
    const cm = this.cm.data;
    if (!ctx || !cm) return;
    const name = cm.class_names[i];
    if (cm.task === "multilabel") {
      ctx.setState({ focus: name });
      this.labelBox.querySelector(`tr[data-label="${cssEscape(name)}"]`)?.scrollIntoView({ block: "center" });
      return;
    }
    const p = this.pos[i];
    if (p === undefined || p < 0) {
      this.status.textContent = `${name} is hidden by the class selection on the left.`;
      ctx.setState({ focus: name });
      return;
    }
    const n = this.order.length;
    const vp = n > FOCUS_SPAN ? centerOn(p, p, FOCUS_SPAN, n, n) : null;
    this.drawnKey = "";
    ctx.setState({ focus: name, cmZoom: vp });
  }

  /** After a reorder: centre the zoom on the focused class again. */
  private refocus(): void {
    const ctx = this.ctx;
    const cm = this.cm.data;
    if (!ctx || !cm || ctx.state.focus === null) return;
    const i = cm.class_names.indexOf(ctx.state.focus);
    if (i >= 0) this.focusClass(i);
  }

  private zoomToCell(t: number, p: number): void {
    const ctx = this.ctx;
    const cm = this.cm.data;
    if (!ctx || !cm) return;
    const r = this.pos[t];
    const c = this.pos[p];
    if (r === undefined || c === undefined || r < 0 || c < 0) {
      this.status.textContent = "That cell's classes are hidden by the class selection on the left.";
      return;
    }
    const n = this.order.length;
    const vp = n > FOCUS_SPAN ? centerOnCell(r, c, FOCUS_SPAN, n) : null;
    this.pinned = [r, c];
    this.drawnKey = "";
    ctx.setState({ cmZoom: vp });
    this.heat.setHover({ r, c });
  }

  private pinCell(t: number | null, p: number | null): void {
    if (t === null || p === null) this.pinned = null;
    else {
      const r = this.pos[t];
      const c = this.pos[p];
      this.pinned = r >= 0 && c >= 0 ? [r, c] : null;
    }
    this.updateMarks();
  }

  private onClickCell(r: number, c: number): void {
    // a click on a cell highlights its true class (row) and opens its kept mistakes; on the
    // diagonal (correct predictions, never kept) those of its whole true class
    const cm = this.cm.data;
    if (!cm || !this.ctx) return;
    const i = this.order[r];
    const j = this.order[c];
    if (i === undefined || j === undefined) return;
    this.pinned = [r, c];
    this.openGallery(i === j ? { kind: "class", true: i } : { kind: "cell", true: i, pred: j }, { focus: cm.class_names[i] });
  }

  /** Clicks a cell by class indices (tests). */
  clickClasses(t: number, p: number): void {
    const r = this.pos[t];
    const c = this.pos[p];
    if (r >= 0 && c >= 0) this.onClickCell(r, c);
  }

  /** Fills the tooltip for a hovered cell (display positions); public for tests. */
  onHover(hit: HeatHit | null): void {
    const ctx = this.ctx;
    const cm = this.cm.data;
    if (!hit || !ctx || !cm || !this.model) {
      this.hideTooltip();
      return;
    }
    const i = this.order[hit.r];
    const j = this.order[hit.c];
    if (i === undefined || j === undefined) {
      this.hideTooltip();
      return;
    }
    const names = cm.class_names;
    const info = this.model.cell(i, j);
    const rows: Node[] = [
      h("div", { class: "pc-tooltip-row" }, h("span", { class: "pc-tooltip-key" }, "True"), h("span", { class: "pc-tooltip-name", attrs: { "data-role": "tooltip-true" } }, names[i])),
      h("div", { class: "pc-tooltip-row" }, h("span", { class: "pc-tooltip-key" }, "Predicted"), h("span", { class: "pc-tooltip-name", attrs: { "data-role": "tooltip-pred" } }, names[j])),
      h("div", { class: "pc-tooltip-row", attrs: { "data-role": "tooltip-count" } }, h("span", { class: "pc-tooltip-key" }, "Count"), `${formatCount(info.count)}${i === j ? " (correct)" : ""}`),
      h("div", { class: "pc-tooltip-row", attrs: { "data-role": "tooltip-row-share" } }, h("span", { class: "pc-tooltip-key" }, "Of row"), `${formatShare(info.ofRow)} of ${formatCount(info.rowTotal)} true`),
      h("div", { class: "pc-tooltip-row", attrs: { "data-role": "tooltip-col-share" } }, h("span", { class: "pc-tooltip-key" }, "Of column"), `${formatShare(info.ofCol)} of ${formatCount(info.colTotal)} predicted`),
    ];
    const diff = this.showingDiff ? this.diff.data : null;
    if (diff) {
      const d = diff.deltas[i * diff.n + j];
      rows.push(
        h(
          "div",
          { class: "pc-tooltip-row", attrs: { "data-role": "tooltip-delta" } },
          h("span", { class: "pc-tooltip-key" }, "Change"),
          `${formatCount(info.count - d)} → ${formatCount(info.count)} (${signed(d)}) since ${this.diffLabels(diff)[1]} @ ${diff.base_step}`,
        ),
      );
    }
    setChildren(this.tooltip, h("div", { class: "pc-tooltip-title" }, `Step ${cm.step}`), ...rows);
    placeTooltip(this.tooltip, this.heatBox, hit.x, hit.y, 16, { width: 240, height: 120 });
  }

  private hideTooltip(): void {
    this.tooltip.hidden = true;
  }

  /** Hover a cell by class indices (tests). */
  hoverClasses(t: number, p: number): void {
    const r = this.pos[t];
    const c = this.pos[p];
    if (r >= 0 && c >= 0) this.heat.setHover({ r, c });
  }

  get canvas(): HeatCanvas {
    return this.heat;
  }

  private currentValues(): { values: ArrayLike<number>; what: string } | null {
    const ctx = this.ctx;
    const cm = this.cm.data;
    if (!ctx || !cm || !this.model) return null;
    if (this.showingDiff && this.diff.data) return { values: this.diff.data.deltas, what: `diff_vs_${this.diff.data.base_run}_step${this.diff.data.base_step}` };
    const norm = ctx.state.norm;
    return { values: norm === "counts" ? cm.counts : this.model.values(norm), what: norm === "counts" ? "counts" : norm === "row" ? "row_share" : "column_share" };
  }

  /** The CSV text of the matrix as shown (tests use it). */
  csvText(): string | null {
    const cm = this.cm.data;
    const cur = this.currentValues();
    if (!cm || !cur) return null;
    return matrixCsv(cm.class_names, cur.values, cm.n, this.order);
  }

  private downloadCsv(): void {
    const cm = this.cm.data;
    const cur = this.currentValues();
    const text = this.csvText();
    if (!cm || !cur || text === null) return;
    downloadText(text, `${safeFilename("confusion", cm.run, this.ctx?.name ?? "", `step${cm.step}`, cur.what)}.csv`);
  }

  private downloadPng(): void {
    const cm = this.cm.data;
    if (!cm) return;
    downloadCanvas(this.heat.canvas, `${safeFilename("confusion", cm.run, this.ctx?.name ?? "", `step${cm.step}`)}.png`);
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.cm.pending = null;
      const ctx = this.ctx;
      if (ctx?.run) this.requestMatrix(ctx.run, ctx.name, ctx.state.step, k(ctx.run, ctx.name, ctx.state.step));
    }
  }

  destroy(): void {
    if (this.timer) clearTimeout(this.timer);
    this.heat.destroy();
    this.gallery.destroy();
  }
}

/** A cheap fingerprint of a class order (which classes, in which order). */
export function orderHash(order: ArrayLike<number>): string {
  let h1 = 0x811c9dc5;
  let h2 = 0;
  for (let i = 0; i < order.length; i++) {
    h1 = Math.imul(h1 ^ order[i], 0x01000193);
    h2 = (h2 + (order[i] + 1) * (i + 1)) | 0;
  }
  return `${order.length}:${(h1 >>> 0).toString(36)}:${(h2 >>> 0).toString(36)}`;
}

function centerOnCell(r: number, c: number, span: number, n: number): Viewport {
  const a = centerOn(r, r, span, n, n);
  const b = centerOn(c, c, span, n, n);
  return { r0: a.r0, r1: a.r1, c0: b.c0, c1: b.c1 };
}

function field(label: string | null, ...controls: Node[]): HTMLElement {
  return h("div", { class: "pc-field" }, label ? h("span", { class: "pc-label" }, label) : null, ...controls);
}

function cssEscape(s: string): string {
  return typeof CSS !== "undefined" && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, "\\$&");
}

/** A sortable column header. */
export function sortHeader(
  col: { key: TableKey; label: string; title: string; num: boolean },
  sort: Sort<TableKey>,
  onSort: (k: TableKey) => void,
): HTMLElement {
  const active = sort.key === col.key;
  const arrow = active ? (sort.desc ? " ▼" : " ▲") : "";
  return h(
    "th",
    {
      class: `${col.num ? "pc-num-col" : "pc-name-col"}${active ? " pc-sorted" : ""}`,
      title: `${col.title}. Click to sort.`,
      attrs: { "data-sort": col.key, "aria-sort": active ? (sort.desc ? "descending" : "ascending") : "none" },
    },
    h("button", { class: "pc-th-btn", attrs: { type: "button" }, on: { click: () => onSort(col.key) } }, col.label + arrow),
  );
}

/** Clicking the sorted column flips it; another column sorts by it (metrics worst first). */
export function nextSort(cur: Sort<TableKey>, key: TableKey): Sort<TableKey> {
  if (cur.key === key) return { key, desc: !cur.desc };
  const ascFirst: TableKey[] = ["index", "name", "precision", "recall", "f1", "tn", "tp"];
  return { key, desc: !ascFirst.includes(key) };
}
