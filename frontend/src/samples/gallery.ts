// The misclassified-samples gallery of the Confusion view: the kept mistakes of one cell, of
// one true class, of one label (multilabel), or the most confident overall, at the step the
// matrix shows (a run without a matrix: the step of the mistakes view's own slider).
// Thumbnails (small images scaled up pixelated, large ones fitted; texts as text), keyboard
// navigation; the large view (sample-large.ts) with the sample's history across steps.
//
// Everything from the data goes in as text (textContent) or attributes: a text sample is
// fetched from its blob URL as text and never parsed as HTML.
import { h, setChildren } from "../ui/dom";
import { segmented } from "../ui/widgets";
import { Keyed } from "../data/keyed";
import type { Sample, SamplesResponse } from "../data/types";
import type { GalleryScope, GallerySort, GalleryState } from "../state/view-state";
import { cacheKey, keyStartsWith, type KeyPart } from "../lib/keys";
import type { GalleryContext } from "./gallery-context";
import {
  crumbText,
  emptyMessage,
  KEPT_RULE,
  keptText,
  scopeFilter,
  scopeId,
  scopeTitle,
  widerScopes,
} from "./scopes";
import {
  describeSteps,
  formatId,
  formatLoss,
  formatScore,
  GRID_COLUMNS,
  gridColumns,
  isMultilabel,
  moveIndex,
  nearestStep,
  outcome,
  SAMPLES_SNIPPET,
  sampleKey,
  THUMB_PX,
  wording,
} from "./sample-info";
import { SampleMedia } from "./sample-media";
import { SampleLarge } from "./sample-large";

const HINT = "Arrow keys move the selection · Enter or a click opens the larger view";

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
  private media = new SampleMedia();
  private large: SampleLarge;
  private drawnKey = "";
  private crumbsKey = "";
  private items: HTMLElement[] = [];
  private shown: Sample[] = [];
  private sel = 0;
  /** opened by a click elsewhere (a cell): take the keyboard focus once the samples are shown,
   * so that the arrow keys and Enter the hint names work at once */
  private focusPending = false;

  constructor() {
    this.crumbs = h("nav", {
      class: "pc-crumbs",
      attrs: { "data-role": "gallery-scopes", "aria-label": "Scope" },
    });
    const close = h(
      "button",
      {
        class: "pc-linkbtn pc-gallery-close",
        title: "Close the samples (Escape)",
        attrs: { type: "button", "data-role": "gallery-close", "aria-label": "Close the samples" },
        on: { click: () => this.close() },
      },
      "✕",
    );
    this.head = h(
      "div",
      { class: "pc-side-title pc-gallery-head" },
      h("span", null, "Misclassified samples"),
      close,
    );
    this.title = h("div", { class: "pc-gallery-title", attrs: { "data-role": "gallery-title" } });
    this.sub = h("div", {
      class: "pc-side-sub",
      attrs: { "data-role": "gallery-step", "aria-live": "polite" },
    });
    this.sortSeg = segmented<GallerySort>(
      "gallery-sort",
      [
        { value: "score", label: "Most confident" },
        { value: "loss", label: "Highest loss" },
      ],
      (v) => this.set({ sort: v, selected: null }, true),
    );
    this.sortSeg.el.classList.add("pc-seg-compact");
    this.sortRow = h(
      "div",
      { class: "pc-row pc-gallery-sort" },
      h("span", { class: "pc-label-inline" }, "Sort"),
      this.sortSeg.el,
    );
    this.body = h("div", { class: "pc-gallery-body" });
    this.hint = h("div", { class: "pc-hint-small pc-gallery-hint" }, `${HINT} · Escape closes`);
    this.element = h(
      "section",
      {
        class: "pc-gallery",
        attrs: { "data-role": "gallery", "aria-label": "Misclassified samples", tabindex: -1 },
        on: { keydown: (e) => this.onKey(e) },
      },
      this.head,
      this.crumbs,
      this.title,
      this.sub,
      this.sortRow,
      this.body,
      this.hint,
    );
    this.large = new SampleLarge(
      this.media,
      {
        select: (k, focus) => this.select(k, focus),
        close: () => this.openLarge(false),
        changed: () => this.renderLarge(),
      },
      (e) => this.onLargeKey(e),
    );
    this.lightbox = this.large.element;
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

  /** The next samples shown take the keyboard focus (the gallery was opened by a click). */
  focusWhenShown(): void {
    this.focusPending = true;
  }

  /** Hands the focus over when asked to (focusWhenShown), once there is something to focus. */
  private takeFocus(): void {
    if (!this.focusPending || !this.element.isConnected) return;
    this.focusPending = false;
    if (this.items.length) this.applySelection(true);
    else this.element.focus({ preventScroll: true });
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
        () =>
          ctx.api.samples(
            ctx.run,
            ctx.name,
            ctx.step,
            scopeFilter(ctx.state.scope),
            ctx.state.sort,
          ),
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
          h(
            "button",
            {
              class: "pc-linkbtn pc-crumb",
              attrs: { type: "button", "data-role": "gallery-scope", "data-scope": w.kind },
              on: { click: () => this.setScope(w) },
            },
            crumbText(w, names, ctx.task),
          ),
          h("span", { class: "pc-crumb-sep", attrs: { "aria-hidden": "true" } }, "›"),
        ]),
        h(
          "span",
          { class: "pc-crumb pc-crumb-current", attrs: { "aria-current": "true" } },
          crumbText(s.scope, names, ctx.task),
        ),
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
          {
            class: "pc-gallery-empty",
            attrs: { "data-role": "gallery-empty", "data-reason": "no-samples" },
          },
          h(
            "p",
            null,
            "This run keeps no samples. Pass inputs= to update() to keep misclassified samples:",
          ),
          h("pre", { class: "pc-code pc-code-small" }, SAMPLES_SNIPPET),
          h(
            "p",
            { class: "pc-muted" },
            `Each step then keeps the most confident mistakes (images as PNG, or texts), with their ids if you pass sample_ids=. ${KEPT_RULE}`,
          ),
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
    if (loading && !fresh)
      parts.push(ctx.step === null ? "loading the latest step…" : `loading step ${ctx.step}…`);
    let capTitle: string | null = null;
    if (data && !(loading && !fresh)) {
      const kept = keptText(s.scope, data.samples.length, ctx.mistakes, data);
      parts.push(kept.text);
      capTitle = kept.title;
    }
    parts.push("follows the step slider");
    this.sub.textContent = parts.join(" · ");
    this.sub.title = capTitle ?? "";
    this.sub.setAttribute("data-step", String(shownStep ?? ""));
    if (!sameBase || (!fresh && !data)) {
      if (this.list.error && fresh) this.renderError(ctx, this.list.error);
      else {
        this.showBody(
          cacheKey("loading"),
          h("div", { class: "pc-side-empty" }, "Loading samples…"),
        );
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
        h(
          "div",
          {
            class: "pc-gallery-empty",
            attrs: { "data-role": "gallery-empty", "data-reason": "none-kept" },
          },
          h("p", null, emptyMessage(s.scope, names, ctx.task, data.step, ctx.mistakes, data)),
        ),
      );
      this.takeFocus();
      this.renderLarge();
      return;
    }
    // the grid is rebuilt only for another answer; the selection moves without a rebuild
    const gridKey = cacheKey(
      "grid",
      data.step,
      data.task,
      names,
      data.samples.map((x) => [x.blob, x.id]),
    );
    if (gridKey !== this.drawnKey) this.showBody(gridKey, this.grid(ctx, data));
    this.applySelection(false);
    this.takeFocus();
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
        h(
          "p",
          { class: "pc-muted" },
          steps.length
            ? `This run kept samples at ${describeSteps(steps)}: update() got inputs= at those steps only.`
            : "This run has not kept any samples yet.",
        ),
      );
      if (nearest !== null) {
        children.push(
          h(
            "button",
            {
              class: "pc-button",
              attrs: { type: "button", "data-role": "gallery-goto-step", "data-step": nearest },
              on: { click: () => ctx.setStep(nearest) },
            },
            `Show step ${nearest}`,
          ),
        );
      }
    } else
      children.push(h("p", { class: "pc-error-text" }, `Could not load the samples: ${error}`));
    this.showBody(
      cacheKey("error", this.list.key, error, steps),
      h(
        "div",
        {
          class: "pc-gallery-empty",
          attrs: { "data-role": "gallery-empty", "data-reason": missing ? "no-step" : "error" },
        },
        ...children,
      ),
    );
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
              {
                class: "pc-sample-classes pc-sample-ml",
                attrs: { "data-role": "sample-classes" },
                title: o.headline,
              },
              h(
                "span",
                { class: "pc-sample-label", attrs: { "data-role": "sample-label" } },
                `label ${o.trueText}:`,
              ),
              h(
                "span",
                { class: "pc-sample-outcome", attrs: { "data-role": "sample-outcome" } },
                o.error === "fp" ? "false positive" : "false negative",
              ),
            )
          : h(
              "div",
              {
                class: "pc-sample-classes",
                attrs: { "data-role": "sample-classes" },
                title: `${words.trueWord} ${o.trueText}, ${words.predWord} ${o.predText}`,
              },
              h(
                "span",
                { class: "pc-sample-true", attrs: { "data-role": "sample-true" } },
                o.trueText,
              ),
              // the arrow goes with the predicted class when that moves to a line of its own
              h(
                "span",
                { class: "pc-sample-to" },
                h("span", { class: "pc-pair-arrow" }, " → "),
                h(
                  "span",
                  { class: "pc-sample-pred", attrs: { "data-role": "sample-pred" } },
                  o.predText,
                ),
              ),
            ),
        h(
          "div",
          { class: "pc-sample-nums" },
          h(
            "span",
            { attrs: { "data-role": "sample-score" }, title: words.scoreTitle },
            `${words.scoreWord === "error" ? "err" : "p"} ${formatScore(smp.score, task)}`,
          ),
          h(
            "span",
            { attrs: { "data-role": "sample-loss" }, title: "Per-sample loss" },
            `loss ${formatLoss(smp.loss)}`,
          ),
        ),
        smp.id !== null
          ? h(
              "div",
              {
                class: "pc-sample-id",
                attrs: { "data-role": "sample-id" },
                title: `id ${formatId(smp.id)}`,
              },
              `id ${formatId(smp.id)}`,
            )
          : null,
      );
      const item = h(
        "div",
        {
          class: "pc-sample",
          attrs: {
            role: "option",
            "aria-selected": "false",
            tabindex: -1,
            "data-role": "sample",
            "data-index": smp.index,
            "data-key": sampleKey(smp),
            "aria-label": `${o.headline}${smp.id !== null ? `, id ${formatId(smp.id)}` : ""}`,
          },
          on: {
            click: () => {
              this.select(k, true);
              this.openLarge(true);
            },
          },
        },
        this.media.element((url) => ctx.api.text(url), smp, THUMB_PX, o.headline, false),
        caption,
      );
      return item;
    });
    return h(
      "div",
      {
        class: allText ? "pc-gallery-grid pc-gallery-texts" : "pc-gallery-grid",
        attrs: {
          role: "listbox",
          "data-role": "gallery-grid",
          "aria-label": scopeTitle(ctx.state.scope, names, task, ctx.state.sort),
        },
      },
      ...this.items,
    );
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
    return gridColumns(
      this.items.map((el) => el.offsetTop),
      fallback,
    );
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
    if (
      e.key === "Escape" ||
      (e.key === "Enter" &&
        !(target instanceof HTMLButtonElement) &&
        !target?.closest("[data-role=history-row]"))
    ) {
      e.preventDefault();
      e.stopPropagation();
      this.openLarge(false);
      return;
    }
    const next = moveIndex(
      this.sel,
      e.key,
      this.items.length,
      e.key === "ArrowUp" || e.key === "ArrowDown" ? this.columns() : 1,
    );
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
    ctx.state = {
      ...ctx.state,
      large: on,
      selected: on && current ? sampleKey(current) : ctx.state.selected,
    };
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
      this.large.hide();
      return;
    }
    if (this.selectedIndex() < 0) {
      const names = data.class_names.length ? data.class_names : ctx.classNames;
      this.large.renderNotHere(
        ctx,
        data,
        scopeTitle(ctx.state.scope, names, data.task || ctx.task),
      );
      return;
    }
    this.large.render(ctx, { data, shown: this.shown, sel: this.sel });
  }

  /** Focuses the selected sample (or the panel). */
  focus(): void {
    (this.items[this.sel] ?? this.element).focus?.({ preventScroll: true });
  }

  destroy(): void {
    this.lightbox.remove();
  }
}
