// The misclassified-samples gallery of the Confusion view: the kept mistakes of one cell, of
// one true class, of one label (multilabel), or the most confident overall, at the step the
// matrix shows (a run without a matrix: the step of the mistakes view's own slider).
// Thumbnails (small images scaled up pixelated, large ones fitted; texts as text), keyboard
// navigation, a large view with the sample's history across steps.
//
// Everything from the data goes in as text (textContent) or attributes: a text sample is
// fetched from its blob URL as text and never parsed as HTML.
import { h, setChildren } from "../ui/dom";
import type { Api } from "../data/api";
import { Keyed, Lru } from "../data/keyed";
import type { GalleryScope, GallerySort, GalleryState } from "../state/view-state";
import type { HistoryEntry, Sample, SampleHistory, SamplesResponse } from "../data/types";
import {
  crumbText,
  describeSteps,
  displaySize,
  emptyMessage,
  formatId,
  formatLoss,
  formatScore,
  GRID_COLUMNS,
  gridColumns,
  historySummary,
  isMultilabel,
  KEPT_RULE,
  LARGE_PX,
  moveIndex,
  nearestStep,
  outcome,
  SAMPLES_SNIPPET,
  sampleKey,
  scopeFilter,
  scopeId,
  scopeTitle,
  THUMB_PX,
  widerScopes,
  wording,
} from "./scopes";
import { segmented } from "../ui/widgets";
import { cacheKey, keyStartsWith, type KeyPart } from "../lib/keys";

export interface GalleryContext {
  api: Api;
  run: string;
  name: string;
  task: string;
  classNames: string[];
  /** the step the matrix shows: the gallery follows it; null = the latest step with kept
   * samples (a run without a matrix: the samples route resolves it) */
  step: number | null;
  /** the run keeps samples (the tags route lists "samples" among its kinds) */
  hasSamples: boolean;
  refreshId: number;
  state: GalleryState;
  /** the matrix's count of mistakes in the scope at this step; null when unknown */
  mistakes: number | null;
  /** changes the gallery's state (null closes it) */
  setGallery(next: GalleryState | null, opts?: { rerender?: boolean }): void;
  /** moves the step slider */
  setStep(step: number | null): void;
  /** false: the gallery is the whole view (no close button, Escape does not close it) */
  closable?: boolean;
  /** told the run's steps with kept samples whenever an answer lists them (they drive the
   * slider of a run without a matrix) */
  onSteps?(run: string, name: string, steps: number[]): void;
}

const HINT = "Arrow keys move the selection · Enter or a click opens the larger view";

const TEXT_THUMB_CHARS = 600;
const PNG = "image/png";
const TEXT = "text/plain";

export class SamplesGallery {
  readonly element: HTMLElement;
  /** the large view: the owner places it over the matrix and the gallery */
  readonly lightbox: HTMLElement;
  private ctx: GalleryContext | null = null;
  private head: HTMLElement;
  private crumbs: HTMLElement;
  private title: HTMLElement;
  private sub: HTMLElement;
  private sortSeg;
  private sortRow: HTMLElement;
  private body: HTMLElement;
  private hint: HTMLElement;
  private list = new Keyed<SamplesResponse>();
  private stepsWith = new Keyed<number[]>();
  private history = new Keyed<SampleHistory>();
  private texts = new Lru<string>(300);
  private textLoads = new Map<string, Promise<string>>();
  private drawnKey = "";
  private largeKey = "";
  private crumbsKey = "";
  private items: HTMLElement[] = [];
  private shown: Sample[] = [];
  private sel = 0;

  constructor() {
    this.crumbs = h("nav", { class: "pc-crumbs", attrs: { "data-role": "gallery-scopes", "aria-label": "Scope" } });
    const close = h(
      "button",
      { class: "pc-linkbtn pc-gallery-close", title: "Close the samples (Escape)", attrs: { type: "button", "data-role": "gallery-close", "aria-label": "Close the samples" }, on: { click: () => this.close() } },
      "✕",
    );
    this.head = h("div", { class: "pc-side-title pc-gallery-head" }, h("span", null, "Misclassified samples"), close);
    this.title = h("div", { class: "pc-gallery-title", attrs: { "data-role": "gallery-title" } });
    this.sub = h("div", { class: "pc-side-sub", attrs: { "data-role": "gallery-step", "aria-live": "polite" } });
    this.sortSeg = segmented<GallerySort>(
      "gallery-sort",
      [
        { value: "score", label: "Most confident" },
        { value: "loss", label: "Highest loss" },
      ],
      (v) => this.set({ sort: v, selected: null }, true),
    );
    this.sortSeg.el.classList.add("pc-seg-compact");
    this.sortRow = h("div", { class: "pc-row pc-gallery-sort" }, h("span", { class: "pc-label-inline" }, "Sort"), this.sortSeg.el);
    this.body = h("div", { class: "pc-gallery-body" });
    this.hint = h("div", { class: "pc-hint-small pc-gallery-hint" }, `${HINT} · Escape closes`);
    this.element = h(
      "section",
      { class: "pc-gallery", attrs: { "data-role": "gallery", "aria-label": "Misclassified samples", tabindex: -1 }, on: { keydown: (e) => this.onKey(e) } },
      this.head,
      this.crumbs,
      this.title,
      this.sub,
      this.sortRow,
      this.body,
      this.hint,
    );
    this.lightbox = h("div", {
      class: "pc-lightbox",
      attrs: { "data-role": "sample-large", role: "dialog", "aria-label": "Sample", tabindex: -1, hidden: true },
      on: { keydown: (e) => this.onLargeKey(e) },
    });
  }

  // ---- state ---------------------------------------------------------------------------------

  private set(patch: Partial<GalleryState>, rerender: boolean): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const next = { ...ctx.state, ...patch };
    ctx.state = next;
    ctx.setGallery(next, { rerender });
    if (!rerender) this.render();
  }

  private setScope(scope: GalleryScope): void {
    this.set({ scope, selected: null, large: false }, true);
  }

  close(): void {
    this.lightbox.hidden = true;
    this.ctx?.setGallery(null, { rerender: true });
  }

  private listBase(ctx: GalleryContext): KeyPart[] {
    return [ctx.run, ctx.name, scopeId(ctx.state.scope), ctx.state.sort];
  }

  /** The list's key: the latest step is its own key ("latest"), never a number's. */
  private listKey(ctx: GalleryContext): string {
    return cacheKey(...this.listBase(ctx), ctx.step, ctx.refreshId);
  }

  update(ctx: GalleryContext): void {
    this.ctx = ctx;
    const closable = ctx.closable !== false;
    this.head.hidden = !closable;
    this.hint.textContent = closable ? `${HINT} · Escape closes` : HINT;
    if (ctx.hasSamples) {
      this.list.load(
        this.listKey(ctx),
        () => ctx.api.samples(ctx.run, ctx.name, ctx.step, scopeFilter(ctx.state.scope), ctx.state.sort),
        () => {
          const data = this.list.data;
          if (data) ctx.onSteps?.(ctx.run, ctx.name, data.steps);
          this.render();
        },
      );
      this.stepsWith.load(
        cacheKey(ctx.run, ctx.name, ctx.refreshId),
        () => ctx.api.steps(ctx.run, ctx.name, "samples"),
        () => {
          // also after a refused step, whose answer lists no steps
          if (this.stepsWith.data) ctx.onSteps?.(ctx.run, ctx.name, this.stepsWith.data);
          this.render();
        },
      );
    }
    this.render();
  }

  // ---- rendering -----------------------------------------------------------------------------

  private render(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const s = ctx.state;
    const names = ctx.classNames;
    const words = wording(ctx.task);
    // rebuilt only when they change: a focused breadcrumb keeps the focus through a refresh
    const crumbsKey = cacheKey(scopeId(s.scope), ctx.task, names);
    if (crumbsKey !== this.crumbsKey) {
      this.crumbsKey = crumbsKey;
      setChildren(
        this.crumbs,
        ...widerScopes(s.scope).flatMap((w) => [
          h("button", { class: "pc-linkbtn pc-crumb", attrs: { type: "button", "data-role": "gallery-scope", "data-scope": w.kind }, on: { click: () => this.setScope(w) } }, crumbText(w, names, ctx.task)),
          h("span", { class: "pc-crumb-sep", attrs: { "aria-hidden": "true" } }, "›"),
        ]),
        h("span", { class: "pc-crumb pc-crumb-current", attrs: { "aria-current": "true" } }, crumbText(s.scope, names, ctx.task)),
      );
    }
    this.title.textContent = scopeTitle(s.scope, names, ctx.task, s.sort);
    this.title.title = this.title.textContent;
    const sortButtons = this.sortSeg.el.querySelectorAll("button");
    sortButtons[0].textContent = words.sortScore;
    sortButtons[0].title = words.scoreTitle;
    sortButtons[1].title = "Largest per-sample loss first";
    this.sortSeg.set(s.sort);
    if (!ctx.hasSamples) {
      this.sortRow.hidden = true;
      this.hint.hidden = true;
      this.sub.textContent = ctx.step === null ? "Latest step" : `Step ${ctx.step}`;
      this.showBody(
        cacheKey("nosamples"),
        h(
          "div",
          { class: "pc-gallery-empty", attrs: { "data-role": "gallery-empty", "data-reason": "no-samples" } },
          h("p", null, "This run keeps no samples. Pass inputs= to update() to keep misclassified samples:"),
          h("pre", { class: "pc-code pc-code-small" }, SAMPLES_SNIPPET),
          h("p", { class: "pc-muted" }, `Each step then keeps the most confident mistakes (images as PNG, or texts), with their ids if you pass sample_ids=. ${KEPT_RULE}`),
        ),
      );
      this.renderLarge();
      return;
    }
    this.sortRow.hidden = false;
    const wantKey = this.listKey(ctx);
    const sameBase = keyStartsWith(this.list.key, ...this.listBase(ctx));
    const data = sameBase ? this.list.data : null;
    const loading = this.list.pending !== null;
    const fresh = this.list.key === wantKey;
    const shownStep = data ? data.step : ctx.step;
    const parts = [shownStep === null ? "Latest step" : `Step ${shownStep}`];
    if (loading && !fresh) parts.push(ctx.step === null ? "loading the latest step…" : `loading step ${ctx.step}…`);
    else if (data) {
      const n = data.samples.length;
      const kept = `${n} kept`;
      parts.push(ctx.mistakes !== null && ctx.mistakes > n ? `${kept} of ${ctx.mistakes.toLocaleString("en-US")} mistakes` : kept);
    }
    parts.push("follows the step slider");
    this.sub.textContent = parts.join(" · ");
    this.sub.setAttribute("data-step", String(shownStep ?? ""));
    if (!sameBase || (!fresh && !data)) {
      if (this.list.error && fresh) this.renderError(ctx, this.list.error);
      else {
        this.showBody(cacheKey("loading"), h("div", { class: "pc-side-empty" }, "Loading samples…"));
        this.renderLarge();
      }
      return;
    }
    if (fresh && this.list.error) {
      this.renderError(ctx, this.list.error);
      return;
    }
    if (!data) return;
    this.hint.hidden = data.samples.length === 0;
    if (!data.samples.length) {
      this.showBody(
        cacheKey("empty", this.list.key, ctx.mistakes),
        h("div", { class: "pc-gallery-empty", attrs: { "data-role": "gallery-empty", "data-reason": "none-kept" } }, h("p", null, emptyMessage(s.scope, names, ctx.task, data.step, ctx.mistakes, data))),
      );
      this.renderLarge();
      return;
    }
    // the grid is rebuilt only for another answer; the selection moves without a rebuild
    const gridKey = cacheKey("grid", data.step, data.task, names, data.samples.map((x) => [x.blob, x.id]));
    if (gridKey !== this.drawnKey) this.showBody(gridKey, this.grid(ctx, data));
    this.applySelection(false);
    this.renderLarge();
  }

  private showBody(key: string, node: Node): void {
    if (key === this.drawnKey) return;
    this.drawnKey = key;
    const hadFocus = this.body.contains(document.activeElement);
    if (!keyStartsWith(key, "grid")) {
      this.items = [];
      this.shown = [];
    }
    setChildren(this.body, node);
    if (hadFocus) (this.items[this.sel] ?? this.element).focus?.({ preventScroll: true });
  }

  private renderError(ctx: GalleryContext, error: string): void {
    this.hint.hidden = true;
    const steps = this.stepsWith.data;
    const nearest = steps ? nearestStep(steps, ctx.step) : null;
    const missing = steps !== null && ctx.step !== null && !steps.includes(ctx.step);
    const children: Node[] = [];
    if (missing) {
      children.push(
        h("p", null, `No samples were kept at step ${ctx.step}.`),
        h("p", { class: "pc-muted" }, steps.length ? `This run kept samples at ${describeSteps(steps)}: update() got inputs= at those steps only.` : "This run has not kept any samples yet."),
      );
      if (nearest !== null) {
        children.push(
          h(
            "button",
            { class: "pc-button", attrs: { type: "button", "data-role": "gallery-goto-step", "data-step": nearest }, on: { click: () => ctx.setStep(nearest) } },
            `Show step ${nearest}`,
          ),
        );
      }
    } else children.push(h("p", { class: "pc-error-text" }, `Could not load the samples: ${error}`));
    this.showBody(cacheKey("error", this.list.key, error, steps), h("div", { class: "pc-gallery-empty", attrs: { "data-role": "gallery-empty", "data-reason": missing ? "no-step" : "error" } }, ...children));
    this.renderLarge();
  }

  private grid(ctx: GalleryContext, data: SamplesResponse): HTMLElement {
    const names = data.class_names.length ? data.class_names : ctx.classNames;
    const task = data.task || ctx.task;
    const words = wording(task);
    this.shown = data.samples;
    const allText = data.samples.every((x) => x.media.startsWith(TEXT));
    this.items = data.samples.map((smp, k) => {
      const o = outcome(smp, names, task);
      const caption = h(
        "div",
        { class: "pc-sample-cap" },
        isMultilabel(task)
          ? h(
              "div",
              { class: "pc-sample-classes pc-sample-ml", attrs: { "data-role": "sample-classes" }, title: o.headline },
              h("span", { class: "pc-sample-label", attrs: { "data-role": "sample-label" } }, `label ${o.trueText}:`),
              h("span", { class: "pc-sample-outcome", attrs: { "data-role": "sample-outcome" } }, o.error === "fp" ? "false positive" : "false negative"),
            )
          : h(
              "div",
              { class: "pc-sample-classes", attrs: { "data-role": "sample-classes" }, title: `${words.trueWord} ${o.trueText}, ${words.predWord} ${o.predText}` },
              h("span", { class: "pc-sample-true", attrs: { "data-role": "sample-true" } }, o.trueText),
              h("span", { class: "pc-pair-arrow" }, " → "),
              h("span", { class: "pc-sample-pred", attrs: { "data-role": "sample-pred" } }, o.predText),
            ),
        h(
          "div",
          { class: "pc-sample-nums" },
          h("span", { attrs: { "data-role": "sample-score" }, title: words.scoreTitle }, `${words.scoreWord === "error" ? "err" : "p"} ${formatScore(smp.score, task)}`),
          h("span", { attrs: { "data-role": "sample-loss" }, title: "Per-sample loss" }, `loss ${formatLoss(smp.loss)}`),
        ),
        smp.id !== null ? h("div", { class: "pc-sample-id", attrs: { "data-role": "sample-id" }, title: `id ${formatId(smp.id)}` }, `id ${formatId(smp.id)}`) : null,
      );
      const item = h(
        "div",
        {
          class: "pc-sample",
          attrs: { role: "option", "aria-selected": "false", tabindex: -1, "data-role": "sample", "data-index": smp.index, "data-key": sampleKey(smp), "aria-label": `${o.headline}${smp.id !== null ? `, id ${formatId(smp.id)}` : ""}` },
          on: {
            click: () => {
              this.select(k, true);
              this.openLarge(true);
            },
          },
        },
        this.media(smp, THUMB_PX, o.headline, false),
        caption,
      );
      return item;
    });
    return h(
      "div",
      { class: allText ? "pc-gallery-grid pc-gallery-texts" : "pc-gallery-grid", attrs: { role: "listbox", "data-role": "gallery-grid", "aria-label": scopeTitle(ctx.state.scope, names, task, ctx.state.sort) } },
      ...this.items,
    );
  }

  /** An image (scaled to `box`) or a text (fetched as text) of a sample. */
  private media(smp: Sample, box: number, alt: string, large: boolean): HTMLElement {
    if (smp.media.startsWith(TEXT)) {
      const el = h("div", { class: large ? "pc-sample-fulltext" : "pc-sample-text", attrs: { "data-role": large ? "large-text" : "sample-text" } }, "…");
      this.fillText(el, smp.blob, large ? Infinity : TEXT_THUMB_CHARS);
      return el;
    }
    if (smp.media !== PNG) return h("div", { class: "pc-sample-text pc-muted" }, `(${smp.media || "unknown media"})`);
    const size = displaySize(smp.width, smp.height, box);
    const img = h("img", {
      class: size.pixelated ? "pc-sample-img pc-pixelated" : "pc-sample-img",
      attrs: { src: smp.blob, alt, width: size.width, height: size.height, decoding: "async", draggable: "false", "data-role": large ? "large-img" : "sample-img", "data-scale": size.scale.toFixed(2) },
      style: { width: `${size.width}px`, height: `${size.height}px` },
      title: `${smp.width} × ${smp.height} px${size.scale !== 1 ? `, shown ×${Number(size.scale.toFixed(2))}` : ""}`,
    });
    img.addEventListener("error", () => img.replaceWith(h("div", { class: "pc-sample-text pc-error-text", attrs: { "data-role": "sample-broken" } }, "Could not load the image.")));
    return h("div", { class: large ? "pc-large-media" : "pc-sample-thumb", style: large ? undefined : { width: `${box}px`, height: `${box}px` } }, img);
  }

  private fillText(el: HTMLElement, url: string, max: number): void {
    const put = (text: string) => {
      el.textContent = text.length > max ? text.slice(0, max) + "…" : text;
      el.title = text.length > 300 ? text.slice(0, 300) + "…" : text;
    };
    const hit = this.texts.get(url);
    if (hit !== undefined) {
      put(hit);
      return;
    }
    const ctx = this.ctx;
    if (!ctx) return;
    let p = this.textLoads.get(url);
    if (!p) {
      p = ctx.api.text(url);
      this.textLoads.set(url, p);
      p.then(
        (t) => {
          this.texts.set(url, t);
          this.textLoads.delete(url);
        },
        () => this.textLoads.delete(url),
      );
    }
    p.then(put, (e: unknown) => {
      el.textContent = `Could not load the text: ${(e as Error)?.message || String(e)}`;
      el.classList.add("pc-error-text");
    });
  }

  // ---- selection and keys --------------------------------------------------------------------

  /** The index of the selected sample among those shown; -1 when it is not among them. */
  private selectedIndex(): number {
    const key = this.ctx?.state.selected ?? null;
    if (key === null) return 0;
    return this.shown.findIndex((x) => sampleKey(x) === key);
  }

  private applySelection(focus: boolean): void {
    this.sel = Math.min(Math.max(0, this.selectedIndex()), Math.max(0, this.items.length - 1));
    this.items.forEach((el, k) => {
      const on = k === this.sel;
      el.classList.toggle("pc-selected", on);
      el.setAttribute("aria-selected", String(on));
      el.tabIndex = on ? 0 : -1;
    });
    const el = this.items[this.sel];
    if (el && focus) {
      el.focus({ preventScroll: true });
      el.scrollIntoView?.({ block: "nearest" });
    }
  }

  /** Selects the k-th shown sample (keyboard, click). */
  select(k: number, focus: boolean): void {
    const smp = this.shown[k];
    if (!smp || !this.ctx) return;
    this.ctx.state = { ...this.ctx.state, selected: sampleKey(smp) };
    this.ctx.setGallery(this.ctx.state, { rerender: false });
    this.applySelection(focus);
    this.renderLarge();
  }

  private columns(): number {
    const fallback = this.body.querySelector(".pc-gallery-texts") ? 1 : GRID_COLUMNS;
    return gridColumns(this.items.map((el) => el.offsetTop), fallback);
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === "Escape" && this.ctx?.closable !== false) {
      e.preventDefault();
      e.stopPropagation();
      this.close();
      return;
    }
    const target = e.target as HTMLElement | null;
    if (!target || !this.body.contains(target) || !this.items.length) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.openLarge(!this.ctx?.state.large);
      return;
    }
    const next = moveIndex(this.sel, e.key, this.items.length, this.columns());
    if (next === null) return;
    e.preventDefault();
    this.select(next, true);
  }

  private onLargeKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement | null;
    if (e.key === "Escape" || (e.key === "Enter" && !(target instanceof HTMLButtonElement) && !target?.closest("[data-role=history-row]"))) {
      e.preventDefault();
      e.stopPropagation();
      this.openLarge(false);
      return;
    }
    const next = moveIndex(this.sel, e.key, this.items.length, e.key === "ArrowUp" || e.key === "ArrowDown" ? this.columns() : 1);
    if (next === null) return;
    e.preventDefault();
    this.select(next, false);
    this.lightbox.focus({ preventScroll: true });
  }

  /** Opens (or closes) the large view of the selected sample. */
  openLarge(on: boolean): void {
    const ctx = this.ctx;
    if (!ctx || (on && !this.shown.length)) return;
    const current = this.shown[this.sel];
    ctx.state = { ...ctx.state, large: on, selected: on && current ? sampleKey(current) : ctx.state.selected };
    ctx.setGallery(ctx.state, { rerender: false });
    this.renderLarge();
    if (on) this.lightbox.focus({ preventScroll: true });
    else this.applySelection(true);
  }

  // ---- the large view ------------------------------------------------------------------------

  private renderLarge(): void {
    const ctx = this.ctx;
    const data = this.list.data;
    if (!ctx || !ctx.state.large || !ctx.hasSamples || !data || !this.shown.length) {
      this.lightbox.hidden = true;
      this.largeKey = "";
      return;
    }
    if (this.selectedIndex() < 0) {
      this.renderNotHere(ctx, data);
      return;
    }
    const smp = this.shown[this.sel];
    const names = data.class_names.length ? data.class_names : ctx.classNames;
    const task = data.task || ctx.task;
    const words = wording(task);
    const o = outcome(smp, names, task);
    if (smp.id !== null) {
      const id = String(smp.id);
      this.history.load(cacheKey(ctx.run, ctx.name, id, ctx.refreshId), () => ctx.api.sampleHistory(ctx.run, ctx.name, id), () => this.renderLarge());
    }
    const key = cacheKey("sample", smp.blob, sampleKey(smp), this.sel, this.shown.length, this.historySignature(ctx, smp.id));
    const wasHidden = this.lightbox.hidden;
    this.lightbox.hidden = false;
    if (key === this.largeKey) return;
    const hadFocus = this.lightbox.contains(document.activeElement);
    this.largeKey = key;
    this.lightbox.setAttribute("aria-label", `Sample: ${o.headline}`);
    const rect = this.lightbox.getBoundingClientRect();
    const box = rect.width > 0 && rect.height > 0 ? Math.max(128, Math.min(512, Math.floor(Math.min(rect.height - 80, rect.width * 0.5)))) : LARGE_PX;
    const nav = (label: string, title: string, role: string, delta: number) =>
      h(
        "button",
        { class: "pc-iconbtn", title, attrs: { type: "button", "data-role": role, disabled: this.sel + delta < 0 || this.sel + delta >= this.shown.length }, on: { click: () => this.select(this.sel + delta, false) } },
        label,
      );
    const row = (k: string, v: Node | string, role: string, title?: string) =>
      h("div", { class: "pc-large-row", attrs: { "data-role": role }, title }, h("span", { class: "pc-large-key" }, k), h("span", { class: "pc-large-value" }, v));
    const ml = isMultilabel(task);
    const size = smp.media === PNG ? displaySize(smp.width, smp.height, box) : null;
    const info = h(
      "div",
      { class: "pc-large-info" },
      ml ? row("Label", o.trueText, "large-true") : row(cap(words.trueWord), o.trueText, "large-true"),
      ml ? row("Outcome", `${o.error === "fp" ? "false positive" : "false negative"}: predicted ${o.predText}`, "large-pred") : row(cap(words.predWord), o.predText, "large-pred"),
      row(cap(words.scoreWord), formatScore(smp.score, task), "large-score", words.scoreTitle),
      row("Loss", formatLoss(smp.loss), "large-loss", "Per-sample loss"),
      row("Id", smp.id !== null ? formatId(smp.id) : "— (no sample_ids given)", "large-id"),
      row("Step", String(data.step), "large-step"),
      size ? row("Size", `${smp.width} × ${smp.height} px${size.scale !== 1 ? `, shown ×${Number(size.scale.toFixed(2))}${size.pixelated ? " (pixelated)" : ""}` : ""}`, "large-size") : null,
      this.historyBlock(ctx, smp.id, names, task, data.step),
    );
    setChildren(
      this.lightbox,
      h(
        "div",
        { class: "pc-large-head" },
        h("span", { class: "pc-large-title", attrs: { "data-role": "large-title" }, title: o.headline }, o.headline),
        h("span", { class: "pc-status" }, `${this.sel + 1} of ${this.shown.length} · step ${data.step}`),
        h("span", { class: "pc-spacer" }),
        nav("‹", "Previous sample (←)", "large-prev", -1),
        nav("›", "Next sample (→)", "large-next", 1),
        h("button", { class: "pc-button", title: "Back to the gallery (Enter or Escape)", attrs: { type: "button", "data-role": "large-close" }, on: { click: () => this.openLarge(false) } }, "Close"),
      ),
      h("div", { class: "pc-large-body" }, this.media(smp, box, o.headline, true), info),
    );
    if (wasHidden || hadFocus) this.lightbox.focus({ preventScroll: true });
  }

  /** The loaded history of a sample id (kept while a refresh reloads it), or why there is none. */
  private historyOf(ctx: GalleryContext, id: string | number | null): { data: SampleHistory | null; error: string | null } {
    if (id === null) return { data: null, error: null };
    const mine = keyStartsWith(this.history.key, ctx.run, ctx.name, String(id));
    return mine ? { data: this.history.data, error: this.history.error } : { data: null, error: null };
  }

  private historySignature(ctx: GalleryContext, id: string | number | null): string {
    const { data, error } = this.historyOf(ctx, id);
    return data ? cacheKey(data.history, data.steps.length) : cacheKey(error);
  }

  /** The large view when the selected sample is not among the kept mistakes shown (the step
   * moved): says so, with its history to go to a step where it was kept. */
  private renderNotHere(ctx: GalleryContext, data: SamplesResponse): void {
    const key = ctx.state.selected ?? "";
    const id = key.startsWith("id:") ? key.slice(3) : null;
    if (id !== null) this.history.load(cacheKey(ctx.run, ctx.name, id, ctx.refreshId), () => ctx.api.sampleHistory(ctx.run, ctx.name, id), () => this.renderLarge());
    const sig = cacheKey("missing", key, data.step, scopeId(ctx.state.scope), this.historySignature(ctx, id));
    const wasHidden = this.lightbox.hidden;
    this.lightbox.hidden = false;
    if (sig === this.largeKey) return;
    this.largeKey = sig;
    const names = data.class_names.length ? data.class_names : ctx.classNames;
    const task = data.task || ctx.task;
    const what = id !== null ? `Sample ${id}` : "The selected sample";
    setChildren(
      this.lightbox,
      h(
        "div",
        { class: "pc-large-head" },
        h("span", { class: "pc-large-title", attrs: { "data-role": "large-title" } }, `${what} at step ${data.step}`),
        h("span", { class: "pc-spacer" }),
        h("button", { class: "pc-button", attrs: { type: "button", "data-role": "large-close" }, on: { click: () => this.openLarge(false) } }, "Close"),
      ),
      h(
        "div",
        { class: "pc-large-info", attrs: { "data-role": "large-missing" } },
        h("p", null, `${what} is not among the kept mistakes of ${scopeTitle(ctx.state.scope, names, task)} at step ${data.step}.`),
        this.historyBlock(ctx, id, names, task, data.step),
      ),
    );
    if (wasHidden) this.lightbox.focus({ preventScroll: true });
  }

  /** Shows a step of the sample's history, in a scope that holds the sample at that step. */
  private goToHistory(ctx: GalleryContext, e: HistoryEntry): void {
    const sc = ctx.state.scope;
    let next: GalleryScope = sc;
    const err = e.true === 0 && e.pred === 1 ? "fp" : "fn";
    if (sc.kind === "cell" && (sc.true !== e.true || sc.pred !== e.pred)) next = { kind: "cell", true: e.true, pred: e.pred };
    else if (sc.kind === "class" && sc.true !== e.true) next = { kind: "class", true: e.true };
    else if (sc.kind === "label" && e.label !== null && (sc.label !== e.label || (sc.error !== "all" && sc.error !== err))) next = { kind: "label", label: e.label, error: sc.error === "all" ? "all" : err };
    if (next !== sc) {
      ctx.state = { ...ctx.state, scope: next };
      ctx.setGallery(ctx.state, { rerender: false });
    }
    ctx.setStep(e.step);
  }

  private historyBlock(ctx: GalleryContext, id: string | number | null, names: readonly string[], task: string, step: number): HTMLElement {
    const box = h("div", { class: "pc-history", attrs: { "data-role": "sample-history" } }, h("div", { class: "pc-focus-head" }, "Across steps"));
    if (id === null) {
      box.appendChild(h("div", { class: "pc-muted" }, "This sample has no id: pass sample_ids= to update() to follow samples across steps."));
      return box;
    }
    const hist = this.historyOf(ctx, id);
    if (!hist.data) {
      box.appendChild(hist.error ? h("div", { class: "pc-error-text" }, `Could not load its history: ${hist.error}`) : h("div", { class: "pc-muted" }, "Loading its history…"));
      return box;
    }
    const entries = hist.data.history;
    const sum = historySummary(entries);
    const words = wording(task);
    box.appendChild(
      h("div", { class: "pc-history-first", attrs: { "data-role": "history-first", "data-step": sum.first ?? "" } }, sum.first === null ? "Never kept as a mistake." : `First kept as a mistake at step ${sum.first}`),
    );
    if (sum.first !== null) {
      const total = hist.data.steps.length;
      const moved = sum.moved ? `moved between cells ${sum.moves.length} time${sum.moves.length === 1 ? "" : "s"} (at step ${sum.moves.join(", ")})` : "always in the same cell";
      box.appendChild(h("div", { class: "pc-muted", attrs: { "data-role": "history-summary" } }, `Kept at ${sum.kept} of ${total} step${total === 1 ? "" : "s"} with samples; ${moved}.`));
    }
    const table = h(
      "table",
      { class: "pc-table pc-history-table", attrs: { "data-role": "history" } },
      h("thead", null, h("tr", null, h("th", { class: "pc-num-col" }, "Step"), h("th", { class: "pc-name-col" }, isMultilabel(task) ? "Label: outcome" : `${cap(words.trueWord)} → ${words.predWord}`), h("th", { class: "pc-num-col" }, cap(words.scoreWord)), h("th", { class: "pc-num-col" }, "Loss"))),
    );
    const tbody = h("tbody");
    let prev: HistoryEntry | null = null;
    for (const e of entries) {
      const o = outcome(e, names, task);
      const movedHere = prev !== null && (prev.true !== e.true || prev.pred !== e.pred || prev.label !== e.label);
      const tr = h(
        "tr",
        {
          class: `${e.step === step ? "pc-current " : ""}${movedHere ? "pc-moved" : ""}`.trim() || undefined,
          title: `Show step ${e.step}`,
          attrs: { "data-role": "history-row", "data-step": e.step, tabindex: 0 },
          on: {
            click: () => this.goToHistory(ctx, e),
            keydown: (ev) => {
              if (ev.key === "Enter") {
                ev.preventDefault();
                ev.stopPropagation();
                this.goToHistory(ctx, e);
              }
            },
          },
        },
        h("td", { class: "pc-num-col" }, String(e.step)),
        h("td", { class: "pc-name-col", title: o.headline }, o.headline, movedHere ? h("span", { class: "pc-moved-mark", title: "In another cell than at the previous kept step" }, " ↻") : null),
        h("td", { class: "pc-num-col" }, formatScore(e.score, task)),
        h("td", { class: "pc-num-col" }, formatLoss(e.loss)),
      );
      tbody.appendChild(tr);
      prev = e;
    }
    table.appendChild(tbody);
    if (entries.length) box.appendChild(table);
    box.appendChild(
      h(
        "div",
        { class: "pc-hint-small" },
        "Only kept mistakes are recorded: at a step missing here the sample was predicted correctly, was not among the most confident mistakes kept, or was not logged. Click a step to show it.",
      ),
    );
    return box;
  }

  /** Focuses the selected sample (or the panel). */
  focus(): void {
    (this.items[this.sel] ?? this.element).focus?.({ preventScroll: true });
  }

  destroy(): void {
    this.lightbox.remove();
  }
}

function cap(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
