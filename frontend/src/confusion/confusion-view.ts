// The confusion matrix of one run at one step: canvas heatmap (counts, row- or
// column-normalised), step slider, class orders (index, name, error, clustered), zoom, class
// finder, hover tooltip, most-confused pairs with their trend, diff against another step or
// run, CSV/PNG downloads; per-label 2x2 tables for multilabel runs. A click on a cell (or on
// a row's class name, the focused class's button, a label's FP/FN count) opens the gallery of
// its kept mistakes at the step shown.
//
// The view wires the pieces: matrix-data.ts loads, matrix-display.ts and compare.ts derive what
// is shown, matrix-panel.ts, side-panel.ts, label-table.ts and matrix-settings.ts draw it.
import { cssEscape, h, setChildren } from "../ui/dom";
import { themeColors, currentTheme } from "../ui/theme";
import type { HeatHit } from "../ui/heat-layout";
import type { HeatCanvas } from "../ui/heat-canvas";
import { centerOn, type Viewport } from "../lib/zoom";
import { downloadCanvas, downloadText, safeFilename } from "../ui/download";
import { compactShare } from "../lib/format";
import { cacheKey, orderHash } from "../lib/keys";
import type { ConfusionData, DiffData } from "../data/types";
import { outsideMatrixAt, outsideText } from "../data/facts";
import type { GalleryScope, GalleryState, Order, ViewState } from "../state/view-state";
import { shownMask } from "../state/selection";
import { scopeFits } from "../samples/scopes";
import { SamplesGallery } from "../samples/gallery";
import type { View, ViewContext } from "../view-contract";
import { matrixCsv, type ConfusionModel } from "./matrix";
import { MatrixData } from "./matrix-data";
import {
  cellTooltip,
  matrixLegend,
  matrixOrder,
  matrixShows,
  matrixSpec,
  mistakesIn,
  zoomText,
  type MatrixLook,
} from "./matrix-display";
import {
  baseSeriesOf,
  baseStepOptions,
  defaultBaseStep,
  diffBases,
  diffLabels,
  sameSeries,
} from "./compare";
import { MatrixPanel } from "./matrix-panel";
import { SidePanel } from "./side-panel";
import { LabelTable } from "./label-table";
import { MatrixSettings } from "./matrix-settings";
import { MatrixToolbar } from "./matrix-toolbar";
import { composeMatrixPng, pngText } from "./matrix-png";
import { seriesLabel, type SeriesRef } from "../data/series";
import type { ColorScale } from "../ui/color-scale";

/** How many cells a class search or a click on a pair zooms to. */
export const FOCUS_SPAN = 21;
const MATRIX_HINT =
  "Wheel to zoom, drag a rectangle to zoom in, shift+drag to pan, double-click to reset. Hover a cell for its counts; click it (or a row's class name) for its misclassified samples.";

export interface ConfusionViewOptions {
  /** wait this long after the last slider move before loading a step (ms) */
  debounceMs?: number;
}

export class ConfusionView implements View {
  readonly id = "confusion";
  readonly label = "Confusion";
  readonly element: HTMLElement;
  readonly settings: HTMLElement;
  private ctx: ViewContext | null = null;
  private data: MatrixData;
  // controls
  private toolbar: MatrixToolbar;
  private status: HTMLElement;
  /** how many of the step's elements the matrix leaves out (non-finite outputs, invalid targets, ignored) */
  private outside: HTMLElement;
  private hint: HTMLElement;
  // panels
  private matrix: MatrixPanel;
  private side: SidePanel;
  private labels: LabelTable;
  private matrixSettings: MatrixSettings;
  private gallery: SamplesGallery;
  // what is drawn
  private order: Int32Array = new Int32Array(0);
  private pos: Int32Array = new Int32Array(0);
  private drawnKey = "";
  private showingDiff = false;
  private pinned: [number, number] | null = null;
  /** the cell just clicked: its tooltip stays hidden until the pointer leaves it (the gallery
   * opens beside it and the tooltip would cover the matrix's axis) */
  private clickedCell: string | null = null;
  /** the colour scale and legend of the picture drawn: the PNG download draws them too */
  private drawnLegend:
    (ReturnType<typeof matrixLegend> & { scale: ColorScale; look: MatrixLook }) | null = null;

  constructor(opts: ConfusionViewOptions = {}) {
    this.data = new MatrixData(opts.debounceMs ?? 80);
    this.toolbar = new MatrixToolbar({
      step: (step) => this.ctx?.setState({ step }),
      findClass: (i) => this.focusClass(i),
      resetZoom: () => this.resetZoom(),
      toggleGallery: () => this.toggleGallery(),
      downloadCsv: () => this.downloadCsv(),
      downloadPng: () => this.downloadPng(),
    });
    this.status = h("span", {
      class: "pc-status pc-view-status",
      attrs: { "data-role": "cm-status", "aria-live": "polite" },
    });
    this.matrix = new MatrixPanel({
      onViewport: (vp) => this.onViewport(vp),
      onHover: (hit) => this.onHover(hit),
      onClick: (r, c) => this.onClickCell(r, c),
      onRowLabelClick: (r) => this.onClickRowLabel(r),
    });
    this.side = new SidePanel({
      zoomToCell: (t, p) => this.zoomToCell(t, p),
      pinCell: (t, p) => this.pinCell(t, p),
      openGallery: (scope) => this.openGallery(scope),
      clearFocus: () => this.ctx?.setState({ focus: null }),
    });
    this.labels = new LabelTable({
      sort: (next) => this.ctx?.setState({ labelSort: next }),
      openGallery: (scope) => this.openGallery(scope),
    });
    this.gallery = new SamplesGallery();
    const body = h(
      "div",
      { class: "pc-card-body" },
      this.matrix.box,
      this.labels.element,
      this.side.element,
      this.gallery.lightbox,
    );
    this.hint = h("span", { class: "pc-hint-text" }, MATRIX_HINT);
    const footer = h(
      "div",
      { class: "pc-card-footer" },
      this.matrix.legend.element,
      this.matrix.zoomInfo,
      h("span", { class: "pc-spacer" }),
      this.status,
    );
    this.outside = h("div", {
      class: "pc-card-note",
      attrs: { "data-role": "outside-matrix", role: "note", hidden: true },
    });
    this.element = h(
      "div",
      { class: "pc-card pc-card-matrix", attrs: { "data-view": "confusion" } },
      this.toolbar.element,
      this.outside,
      body,
      footer,
      h("div", { class: "pc-hint" }, this.hint),
    );
    this.matrixSettings = new MatrixSettings({
      setState: (patch) => this.ctx?.setState(patch),
      order: (order) => this.setOrder(order),
    });
    this.settings = this.matrixSettings.element;
  }

  // ---- data -------------------------------------------------------------------------------

  update(ctx: ViewContext): void {
    this.ctx = ctx;
    this.data.refreshed(ctx.refreshId);
    this.syncSettings(ctx);
    const run = ctx.run;
    if (!run) {
      this.data.cm.reset();
      this.matrix.showMessage(
        "No run of this class set has confusion matrices. The logger writes them with each write() (PerClassWriter, on by default); a run logged before that has none.",
      );
      this.render();
      return;
    }
    this.data.forgetOtherThan(run, ctx.name);
    this.requestMatrix(ctx, run);
    this.requestDependents();
    this.render();
  }

  private requestMatrix(ctx: ViewContext, run: string): void {
    this.data.requestMatrix(ctx.api, run, ctx.name, ctx.state.step, {
      changed: () => this.render(),
      loaded: () => {
        this.requestDependents();
        this.render();
      },
    });
  }

  /** Loads what depends on the matrix: pairs, cluster order, the diff. */
  private requestDependents(): void {
    const ctx = this.ctx;
    const cm = this.data.cm.data;
    if (!ctx || !cm || cm.task === "multilabel") return;
    this.data.requestDependents(ctx.api, cm, ctx.name, ctx.state, this.baseSeries(ctx), {
      changed: () => this.render(),
      // an answer may unlock the next request (the base run's steps -> the diff)
      again: () => {
        this.requestDependents();
        this.render();
      },
    });
  }

  /** The series to compare with (any of the class set's series with matrices). */
  private baseSeries(ctx: ViewContext): SeriesRef {
    return baseSeriesOf(diffBases(ctx.group), ctx.state.diff.baseSeries, {
      run: ctx.run!,
      name: ctx.name,
    });
  }

  // ---- settings ---------------------------------------------------------------------------

  private syncSettings(ctx: ViewContext): void {
    const bases = ctx.run ? diffBases(ctx.group) : [];
    const shown = ctx.run ? { run: ctx.run, name: ctx.name } : null;
    const base = shown ? this.baseSeries(ctx) : null;
    const own = !shown || !base || sameSeries(shown, base);
    const cm = this.data.cm.data;
    const steps = own ? (cm?.steps ?? []) : (this.data.baseStepsOf(base!) ?? []);
    this.matrixSettings.sync({
      state: ctx.state,
      clusterUnavailable: this.data.clusterUnavailable,
      bases,
      shown,
      base,
      baseSteps: baseStepOptions(
        steps,
        ctx.state.diff.baseStep,
        cm ? defaultBaseStep(steps, cm.step, own) : steps[0],
      ),
    });
  }

  private setOrder(order: Order): void {
    const ctx = this.ctx;
    if (!ctx) return;
    ctx.setState({ order, cmZoom: null });
    // keep the focused class in view in the new order
    if (ctx.state.focus) this.refocus();
  }

  // ---- rendering --------------------------------------------------------------------------

  private render(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const s = ctx.state;
    this.syncSettings(ctx);
    const cm = this.data.cm.data;
    this.status.textContent = this.data.cm.loading ? `Loading step ${s.step ?? "(latest)"}…` : "";
    this.renderOutside(ctx, cm);
    if (!ctx.run) return;
    if (!cm) {
      this.toolbar.slider.set([], null, s.step === null);
      this.side.element.replaceChildren();
      this.gallery.lightbox.hidden = true;
      if (this.data.cm.error) {
        this.matrix.showMessage(
          `Could not load the confusion matrix: ${this.data.cm.error}`,
          s.step !== null
            ? { label: "Show the latest step", run: () => ctx.setState({ step: null }) }
            : undefined,
        );
      } else this.matrix.showMessage("Loading the confusion matrix…");
      this.drawnKey = "";
      return;
    }
    this.toolbar.slider.set(cm.steps, cm.step, s.step === null);
    const names = cm.class_names;
    this.toolbar.finder.setNames(names, (i) => {
      if (cm.task === "multilabel") return null;
      const e = this.data.modelOfMatrix(cm).errorRate(i);
      return Number.isNaN(e) ? null : `${(e * 100).toFixed(0)}% wrong`;
    });
    const multilabel = cm.task === "multilabel";
    this.matrixSettings.setMultilabel(multilabel);
    this.toolbar.setMultilabel(multilabel);
    if (multilabel) {
      this.renderLabels(ctx, cm);
      this.renderGallery(ctx, cm);
      return;
    }
    this.hint.textContent = MATRIX_HINT;
    this.labels.element.hidden = true;
    this.matrix.box.hidden = false;
    this.side.element.hidden = false;
    this.toolbar.resetBtn.hidden = false;
    const model = this.data.modelOfMatrix(cm);
    const cluster = this.data.clusterOf(cm, ctx.name);
    const shown = matrixOrder(s.order, names, model, shownMask(ctx, names), cluster);
    this.order = shown.order;
    this.pos = shown.pos;
    let note =
      cm.requested_step != null
        ? `Step ${cm.requested_step} has no matrix (written every few steps): showing step ${cm.step}`
        : "";
    if (!note && s.order === "cluster" && !shown.clusterOk) {
      note = this.data.cluster.loading
        ? "Clustering…"
        : this.data.clusterUnavailable
          ? `Clustered order unavailable: ${this.data.clusterUnavailable}`
          : "";
    }
    if (note) this.status.textContent = [this.status.textContent, note].filter(Boolean).join(" · ");
    const base = this.baseSeries(ctx);
    const diffAnswered = this.data.diffFresh(cm, ctx.name) && !this.data.diff.loading;
    const shows = matrixShows(this.order.length, cm.n, s.diff.on, {
      answered: diffAnswered,
      data: this.data.diff.data,
      error: this.data.diff.error,
      baseStepsError: !sameSeries(base, { run: ctx.run, name: ctx.name })
        ? this.data.baseSteps.error
        : null,
    });
    // the diff: a refusal is shown as such, never as a picture
    if (this.order.length) this.showingDiff = false;
    if (!shows.draw) {
      this.matrix.showMessage(shows.message);
      if (shows.side === "panel") this.renderSide(ctx, cm, model, null);
      else if (!this.renderGallery(ctx, cm) && shows.side === "galleryOrNothing")
        this.side.element.replaceChildren();
      this.drawnKey = "";
      return;
    }
    const diff = shows.diff;
    this.showingDiff = !!diff;
    this.matrix.hideMessage();
    const look: MatrixLook = { norm: s.norm, log: s.logColor, errorsOnly: s.errorsOnly };
    const key = cacheKey(
      cm.run,
      cm.step,
      cm.n,
      look,
      s.order,
      diff ? [diff.base_run, diff.base_step] : null,
      orderHash(this.order),
      shown.clusterOk,
      ctx.refreshId,
      currentTheme(),
    );
    if (key !== this.drawnKey) {
      this.drawnKey = key;
      const spec = matrixSpec(cm, model, diff, this.order, look, themeColors());
      this.matrix.heat.set(spec, s.cmZoom);
      const legend = matrixLegend(spec.scale, diff, diff ? diffLabels(diff, ctx.name) : null, look);
      this.matrix.legend.set(spec.scale, legend.title, legend.format, legend.extras);
      this.drawnLegend = { scale: spec.scale, look, ...legend };
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

  /** A multilabel run: the table of its labels' 2x2 matrices. */
  private renderLabels(ctx: ViewContext, cm: ConfusionData): void {
    this.matrix.hideMessage();
    this.matrix.box.hidden = true;
    this.side.element.hidden = true;
    this.labels.element.hidden = false;
    this.toolbar.resetBtn.hidden = true;
    this.matrix.zoomInfo.textContent = `${cm.n} labels`;
    this.drawnKey = "";
    const scale = LabelTable.scale(themeColors());
    this.matrix.legend.set(scale, "Matrix cells: share of their row (true no / true yes)", (v) =>
      compactShare(v),
    );
    this.hint.textContent =
      "Each label's 2×2 matrix: rows = true (no, yes), columns = predicted (no, yes). Click a column header to sort.";
    this.labels.render(
      cm,
      shownMask(ctx, cm.class_names),
      ctx.state.labelSort,
      ctx.state.gallery,
      scale,
    );
  }

  /** The side panel (unless the gallery takes it): the focused class, then pairs or changes. */
  private renderSide(
    ctx: ViewContext,
    cm: ConfusionData,
    model: ConfusionModel,
    diff: DiffData | null,
  ): void {
    if (this.renderGallery(ctx, cm)) return;
    const s = ctx.state;
    this.side.render({
      names: cm.class_names,
      step: cm.step,
      model,
      focus: s.focus !== null ? cm.class_names.indexOf(s.focus) : -1,
      errorsOnly: s.errorsOnly,
      diff: s.diff.on
        ? {
            data: diff,
            error: this.data.diff.error,
            labels: diff ? diffLabels(diff, ctx.name) : null,
          }
        : null,
      pairs: {
        data: this.data.pairs.data,
        error: this.data.pairs.error,
        fresh: this.data.pairsFresh(cm, ctx.name),
      },
    });
  }

  private updateMarks(): void {
    const ctx = this.ctx;
    const cm = this.data.cm.data;
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
    this.matrix.heat.setMarks({ row: p >= 0 ? p : null, col: p >= 0 ? p : null, cell });
  }

  private renderZoomInfo(): void {
    const z = zoomText(this.matrix.heat.viewport, this.order.length);
    this.matrix.zoomInfo.textContent = z.text;
    this.toolbar.resetBtn.disabled = z.full;
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
    const side = this.side.element;
    this.toolbar.setGalleryOpen(g?.scope.kind === "overall");
    side.classList.toggle("pc-side-gallery", !!g);
    if (!g) {
      this.gallery.lightbox.hidden = true;
      return false;
    }
    side.hidden = false;
    if (side.childNodes.length !== 1 || side.firstChild !== this.gallery.element)
      setChildren(side, this.gallery.element);
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
      refreshId: this.data.refreshId,
      state: g,
      mistakes: mistakesIn(
        cm,
        cm.task === "multilabel" ? null : this.data.modelOfMatrix(cm),
        g.scope,
      ),
      setGallery: (next, opts) => {
        ctx.setState({ gallery: next }, opts);
        if (next === null) this.matrix.heat.focus();
      },
      // the latest step follows new steps, as the slider's last position does
      setStep: (step) => ctx.setState({ step: step !== null && step === last ? null : step }),
    });
    return true;
  }

  /** Opens the gallery on a scope (keeping the sort the user chose last); its samples take the
   * keyboard focus once shown. */
  openGallery(scope: GalleryScope, patch: Partial<ViewState> = {}): void {
    const ctx = this.ctx;
    if (!ctx) return;
    this.gallery.focusWhenShown();
    const sort = ctx.state.gallery?.sort ?? "score";
    ctx.setState({ ...patch, gallery: { scope, sort, selected: null, large: false } });
  }

  private toggleGallery(): void {
    const g = this.ctx?.state.gallery;
    if (g && g.scope.kind === "overall") this.ctx?.setState({ gallery: null });
    else this.openGallery({ kind: "overall" });
  }

  // ---- interaction ------------------------------------------------------------------------

  private onViewport(vp: Viewport | null): void {
    this.ctx?.setState({ cmZoom: vp }, { rerender: false });
    this.renderZoomInfo();
    this.matrix.hideTooltip();
  }

  private resetZoom(): void {
    this.ctx?.setState({ cmZoom: null }, { rerender: false });
    if (this.data.cm.data && this.ctx) {
      this.drawnKey = "";
      this.render();
    }
  }

  /** Highlights a class and zooms so that its row and column are in view around the diagonal. */
  focusClass(i: number): void {
    const ctx = this.ctx;
    const cm = this.data.cm.data;
    if (!ctx || !cm) return;
    const name = cm.class_names[i];
    if (cm.task === "multilabel") {
      ctx.setState({ focus: name });
      this.labels.element
        .querySelector(`tr[data-label="${cssEscape(name)}"]`)
        ?.scrollIntoView({ block: "center" });
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
    const cm = this.data.cm.data;
    if (!ctx || !cm || ctx.state.focus === null) return;
    const i = cm.class_names.indexOf(ctx.state.focus);
    if (i >= 0) this.focusClass(i);
  }

  private zoomToCell(t: number, p: number): void {
    const ctx = this.ctx;
    const cm = this.data.cm.data;
    if (!ctx || !cm) return;
    const r = this.pos[t];
    const c = this.pos[p];
    if (r === undefined || c === undefined || r < 0 || c < 0) {
      this.status.textContent =
        "That cell's classes are hidden by the class selection on the left.";
      return;
    }
    const n = this.order.length;
    const vp = n > FOCUS_SPAN ? centerOnCell(r, c, FOCUS_SPAN, n) : null;
    this.pinned = [r, c];
    this.drawnKey = "";
    ctx.setState({ cmZoom: vp });
    this.matrix.heat.setHover({ r, c });
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
    const cm = this.data.cm.data;
    if (!cm || !this.ctx) return;
    const i = this.order[r];
    const j = this.order[c];
    if (i === undefined || j === undefined) return;
    this.pinned = [r, c];
    this.clickedCell = `${r},${c}`;
    this.matrix.hideTooltip();
    this.openGallery(i === j ? { kind: "class", true: i } : { kind: "cell", true: i, pred: j }, {
      focus: cm.class_names[i],
    });
  }

  private onClickRowLabel(r: number): void {
    const cm = this.data.cm.data;
    const i = this.order[r];
    if (!cm || i === undefined || cm.task === "multilabel") return;
    this.pinned = null;
    this.openGallery({ kind: "class", true: i }, { focus: cm.class_names[i] });
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
    const cm = this.data.cm.data;
    const model = this.data.currentModel;
    const i = hit ? this.order[hit.r] : undefined;
    const j = hit ? this.order[hit.c] : undefined;
    const cell = hit ? `${hit.r},${hit.c}` : null;
    if (cell !== this.clickedCell) this.clickedCell = null;
    if (!hit || !ctx || !cm || !model || i === undefined || j === undefined || this.clickedCell) {
      this.matrix.hideTooltip();
      return;
    }
    const diff = this.showingDiff ? this.data.diff.data : null;
    const lines = cellTooltip(
      model,
      cm.class_names,
      i,
      j,
      diff,
      diff ? diffLabels(diff, ctx.name)[1] : "",
    );
    this.matrix.showTooltip(`Step ${cm.step}`, lines, hit);
  }

  /** Hover a cell by class indices (tests). */
  hoverClasses(t: number, p: number): void {
    const r = this.pos[t];
    const c = this.pos[p];
    if (r >= 0 && c >= 0) this.matrix.heat.setHover({ r, c });
  }

  get canvas(): HeatCanvas {
    return this.matrix.heat;
  }

  // ---- downloads ----------------------------------------------------------------------------

  private currentValues(): { values: ArrayLike<number>; what: string } | null {
    const ctx = this.ctx;
    const cm = this.data.cm.data;
    const model = this.data.currentModel;
    if (!ctx || !cm || !model) return null;
    const diff = this.data.diff.data;
    if (this.showingDiff && diff)
      return { values: diff.deltas, what: `diff_vs_${diff.base_run}_step${diff.base_step}` };
    const norm = ctx.state.norm;
    return {
      values: norm === "counts" ? cm.counts : model.values(norm),
      what: norm === "counts" ? "counts" : norm === "row" ? "row_share" : "column_share",
    };
  }

  /** The CSV text of the matrix as shown (tests use it). */
  csvText(): string | null {
    const cm = this.data.cm.data;
    const cur = this.currentValues();
    if (!cm || !cur) return null;
    return matrixCsv(cm.class_names, cur.values, cm.n, this.order);
  }

  private downloadCsv(): void {
    const cm = this.data.cm.data;
    const cur = this.currentValues();
    const text = this.csvText();
    if (!cm || !cur || text === null) return;
    downloadText(
      text,
      `${safeFilename("confusion", cm.run, this.ctx?.name ?? "", `step${cm.step}`, cur.what)}.csv`,
    );
  }

  /** The matrix as drawn, with a title (series, step, what the cells are) and its colour bar. */
  pngCanvas(): HTMLCanvasElement | null {
    const cm = this.data.cm.data;
    const ctx = this.ctx;
    const legend = this.drawnLegend;
    if (!cm || !ctx || !legend) return null;
    const diff = this.showingDiff ? this.data.diff.data : null;
    const base = diff ? `${diffLabels(diff, ctx.name)[1]} @ ${diff.base_step}` : null;
    const zoom = zoomText(this.matrix.heat.viewport, this.order.length);
    const text = pngText({
      series: seriesLabel({ run: cm.run, name: ctx.name }),
      step: cm.step,
      classes: this.order.length,
      look: legend.look,
      base,
      zoom: zoom.full ? null : zoom.text,
      legendTitle: legend.title,
    });
    return composeMatrixPng(
      this.matrix.heat.canvas,
      legend.scale,
      legend.format,
      legend.extras,
      text,
      themeColors(),
    );
  }

  private downloadPng(): void {
    const cm = this.data.cm.data;
    const cur = this.currentValues();
    if (!cm || !cur) return;
    downloadCanvas(
      this.pngCanvas() ?? this.matrix.heat.canvas,
      `${safeFilename("confusion", cm.run, this.ctx?.name ?? "", `step${cm.step}`, cur.what)}.png`,
    );
  }

  flush(): void {
    if (!this.data.flushPending()) return;
    const ctx = this.ctx;
    if (ctx?.run) this.requestMatrix(ctx, ctx.run);
  }

  destroy(): void {
    this.data.destroy();
    this.matrix.heat.destroy();
    this.gallery.destroy();
  }
}

function centerOnCell(r: number, c: number, span: number, n: number): Viewport {
  const a = centerOn(r, r, span, n, n);
  const b = centerOn(c, c, span, n, n);
  return { r0: a.r0, r1: a.r1, c0: b.c0, c1: b.c1 };
}
