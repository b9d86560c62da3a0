// The large view of one kept mistake, over the matrix and the gallery: the sample bigger, its
// outcome, score, loss, id and size, and its history across steps (click a step to show it);
// or, when the step moved and the selected sample is not kept there, where it was kept.
import { h, setChildren } from "../ui/dom";
import { Keyed } from "../data/keyed";
import type { HistoryEntry, Sample, SampleHistory, SamplesResponse } from "../data/types";
import type { Api } from "../data/api";
import type { GalleryScope, GalleryState } from "../state/view-state";
import { cacheKey, keyStartsWith } from "../lib/keys";
import {
  formatId,
  formatLoss,
  formatScore,
  historySummary,
  isMultilabel,
  LARGE_PX,
  outcome,
  sampleKey,
  wording,
} from "./sample-info";
import { displaySize, type SampleMedia } from "./sample-media";

const PNG = "image/png";

/** What the large view is given by the gallery (gallery-context.ts: the gallery's own context). */
export interface LargeContext {
  api: Api;
  run: string;
  name: string;
  task: string;
  classNames: string[];
  refreshId: number;
  state: GalleryState;
  setGallery(next: GalleryState | null, opts?: { rerender?: boolean }): void;
  setStep(step: number | null): void;
}

/** The samples shown in the gallery and which one is selected. */
export interface LargeSubject {
  data: SamplesResponse;
  shown: readonly Sample[];
  sel: number;
}

export interface LargeActions {
  /** select the k-th sample shown */
  select(k: number, focus: boolean): void;
  /** back to the gallery */
  close(): void;
  /** an answer came in (a sample's history): render again */
  changed(): void;
}

export class SampleLarge {
  readonly element: HTMLElement;
  private history = new Keyed<SampleHistory>();
  /** what the view was last drawn from */
  private drawnKey = "";

  constructor(
    private readonly media: SampleMedia,
    private readonly on: LargeActions,
    onKey: (e: KeyboardEvent) => void,
  ) {
    this.element = h("div", {
      class: "pc-lightbox",
      attrs: {
        "data-role": "sample-large",
        role: "dialog",
        "aria-label": "Sample",
        tabindex: -1,
        hidden: true,
      },
      on: { keydown: onKey },
    });
  }

  hide(): void {
    this.element.hidden = true;
    this.drawnKey = "";
  }

  /** The large view of the selected sample, `v.sel` of the samples shown. */
  render(ctx: LargeContext, v: LargeSubject): void {
    const data = v.data;
    const smp = v.shown[v.sel];
    const names = data.class_names.length ? data.class_names : ctx.classNames;
    const task = data.task || ctx.task;
    const words = wording(task);
    const o = outcome(smp, names, task);
    if (smp.id !== null) {
      const id = String(smp.id);
      this.history.load(
        cacheKey(ctx.run, ctx.name, id, ctx.refreshId),
        () => ctx.api.sampleHistory(ctx.run, ctx.name, id),
        this.on.changed,
      );
    }
    const key = cacheKey(
      "sample",
      smp.blob,
      sampleKey(smp),
      v.sel,
      v.shown.length,
      this.historySignature(ctx, smp.id),
    );
    const wasHidden = this.element.hidden;
    this.element.hidden = false;
    if (key === this.drawnKey) return;
    const hadFocus = this.element.contains(document.activeElement);
    this.drawnKey = key;
    this.element.setAttribute("aria-label", `Sample: ${o.headline}`);
    const rect = this.element.getBoundingClientRect();
    const box =
      rect.width > 0 && rect.height > 0
        ? Math.max(128, Math.min(512, Math.floor(Math.min(rect.height - 80, rect.width * 0.5))))
        : LARGE_PX;
    const nav = (label: string, title: string, role: string, delta: number) =>
      h(
        "button",
        {
          class: "pc-iconbtn",
          title,
          attrs: {
            type: "button",
            "data-role": role,
            disabled: v.sel + delta < 0 || v.sel + delta >= v.shown.length,
          },
          on: { click: () => this.on.select(v.sel + delta, false) },
        },
        label,
      );
    const row = (k: string, v: Node | string, role: string, title?: string) =>
      h(
        "div",
        { class: "pc-large-row", attrs: { "data-role": role }, title },
        h("span", { class: "pc-large-key" }, k),
        h("span", { class: "pc-large-value" }, v),
      );
    const ml = isMultilabel(task);
    const size = smp.media === PNG ? displaySize(smp.width, smp.height, box) : null;
    const info = h(
      "div",
      { class: "pc-large-info" },
      ml
        ? row("Label", o.trueText, "large-true")
        : row(cap(words.trueWord), o.trueText, "large-true"),
      ml
        ? row(
            "Outcome",
            `${o.error === "fp" ? "false positive" : "false negative"}: predicted ${o.predText}`,
            "large-pred",
          )
        : row(cap(words.predWord), o.predText, "large-pred"),
      row(cap(words.scoreWord), formatScore(smp.score, task), "large-score", words.scoreTitle),
      row("Loss", formatLoss(smp.loss), "large-loss", "Per-sample loss"),
      row("Id", smp.id !== null ? formatId(smp.id) : "— (no sample_ids given)", "large-id"),
      row("Step", String(data.step), "large-step"),
      size
        ? row(
            "Size",
            `${smp.width} × ${smp.height} px${size.scale !== 1 ? `, shown ×${Number(size.scale.toFixed(2))}${size.pixelated ? " (pixelated)" : ""}` : ""}`,
            "large-size",
          )
        : null,
      this.historyBlock(ctx, smp.id, names, task, data.step),
    );
    setChildren(
      this.element,
      h(
        "div",
        { class: "pc-large-head" },
        h(
          "span",
          { class: "pc-large-title", attrs: { "data-role": "large-title" }, title: o.headline },
          o.headline,
        ),
        h("span", { class: "pc-status" }, `${v.sel + 1} of ${v.shown.length} · step ${data.step}`),
        h("span", { class: "pc-spacer" }),
        nav("‹", "Previous sample (←)", "large-prev", -1),
        nav("›", "Next sample (→)", "large-next", 1),
        h(
          "button",
          {
            class: "pc-button",
            title: "Back to the gallery (Enter or Escape)",
            attrs: { type: "button", "data-role": "large-close" },
            on: { click: () => this.on.close() },
          },
          "Close",
        ),
      ),
      h(
        "div",
        { class: "pc-large-body" },
        this.media.element((url) => ctx.api.text(url), smp, box, o.headline, true),
        info,
      ),
    );
    if (wasHidden || hadFocus) this.element.focus({ preventScroll: true });
  }

  /** The loaded history of a sample id (kept while a refresh reloads it), or why there is none. */
  private historyOf(
    ctx: LargeContext,
    id: string | number | null,
  ): { data: SampleHistory | null; error: string | null } {
    if (id === null) return { data: null, error: null };
    const mine = keyStartsWith(this.history.key, ctx.run, ctx.name, String(id));
    return mine
      ? { data: this.history.data, error: this.history.error }
      : { data: null, error: null };
  }

  private historySignature(ctx: LargeContext, id: string | number | null): string {
    const { data, error } = this.historyOf(ctx, id);
    return data ? cacheKey(data.history, data.steps.length) : cacheKey(error);
  }

  /** The large view when the selected sample is not among the kept mistakes shown (the step
   * moved): says so, with its history to go to a step where it was kept. */
  /** `scope`: the gallery's scope in words. */
  renderNotHere(ctx: LargeContext, data: SamplesResponse, scope: string): void {
    const key = ctx.state.selected ?? "";
    const id = key.startsWith("id:") ? key.slice(3) : null;
    if (id !== null)
      this.history.load(
        cacheKey(ctx.run, ctx.name, id, ctx.refreshId),
        () => ctx.api.sampleHistory(ctx.run, ctx.name, id),
        this.on.changed,
      );
    const sig = cacheKey(
      "missing",
      key,
      data.step,
      ctx.state.scope,
      this.historySignature(ctx, id),
    );
    const wasHidden = this.element.hidden;
    this.element.hidden = false;
    if (sig === this.drawnKey) return;
    this.drawnKey = sig;
    const names = data.class_names.length ? data.class_names : ctx.classNames;
    const task = data.task || ctx.task;
    const what = id !== null ? `Sample ${id}` : "The selected sample";
    setChildren(
      this.element,
      h(
        "div",
        { class: "pc-large-head" },
        h(
          "span",
          { class: "pc-large-title", attrs: { "data-role": "large-title" } },
          `${what} at step ${data.step}`,
        ),
        h("span", { class: "pc-spacer" }),
        h(
          "button",
          {
            class: "pc-button",
            attrs: { type: "button", "data-role": "large-close" },
            on: { click: () => this.on.close() },
          },
          "Close",
        ),
      ),
      h(
        "div",
        { class: "pc-large-info", attrs: { "data-role": "large-missing" } },
        h("p", null, `${what} is not among the kept mistakes of ${scope} at step ${data.step}.`),
        this.historyBlock(ctx, id, names, task, data.step),
      ),
    );
    if (wasHidden) this.element.focus({ preventScroll: true });
  }

  /** Shows a step of the sample's history, in a scope that holds the sample at that step. */
  private goToHistory(ctx: LargeContext, e: HistoryEntry): void {
    const sc = ctx.state.scope;
    let next: GalleryScope = sc;
    const err = e.true === 0 && e.pred === 1 ? "fp" : "fn";
    if (sc.kind === "cell" && (sc.true !== e.true || sc.pred !== e.pred))
      next = { kind: "cell", true: e.true, pred: e.pred };
    else if (sc.kind === "class" && sc.true !== e.true) next = { kind: "class", true: e.true };
    else if (
      sc.kind === "label" &&
      e.label !== null &&
      (sc.label !== e.label || (sc.error !== "all" && sc.error !== err))
    )
      next = { kind: "label", label: e.label, error: sc.error === "all" ? "all" : err };
    if (next !== sc) {
      ctx.state = { ...ctx.state, scope: next };
      ctx.setGallery(ctx.state, { rerender: false });
    }
    ctx.setStep(e.step);
  }

  private historyBlock(
    ctx: LargeContext,
    id: string | number | null,
    names: readonly string[],
    task: string,
    step: number,
  ): HTMLElement {
    const box = h(
      "div",
      { class: "pc-history", attrs: { "data-role": "sample-history" } },
      h("div", { class: "pc-focus-head" }, "Across steps"),
    );
    if (id === null) {
      box.appendChild(
        h(
          "div",
          { class: "pc-muted" },
          "This sample has no id: pass sample_ids= to update() to follow samples across steps.",
        ),
      );
      return box;
    }
    const hist = this.historyOf(ctx, id);
    if (!hist.data) {
      box.appendChild(
        hist.error
          ? h("div", { class: "pc-error-text" }, `Could not load its history: ${hist.error}`)
          : h("div", { class: "pc-muted" }, "Loading its history…"),
      );
      return box;
    }
    const entries = hist.data.history;
    const sum = historySummary(entries);
    const words = wording(task);
    box.appendChild(
      h(
        "div",
        {
          class: "pc-history-first",
          attrs: { "data-role": "history-first", "data-step": sum.first ?? "" },
        },
        sum.first === null
          ? "Never kept as a mistake."
          : `First kept as a mistake at step ${sum.first}`,
      ),
    );
    if (sum.first !== null) {
      const total = hist.data.steps.length;
      const moved = sum.moved
        ? `moved between cells ${sum.moves.length} time${sum.moves.length === 1 ? "" : "s"} (at step ${sum.moves.join(", ")})`
        : "always in the same cell";
      box.appendChild(
        h(
          "div",
          { class: "pc-muted", attrs: { "data-role": "history-summary" } },
          `Kept at ${sum.kept} of ${total} step${total === 1 ? "" : "s"} with samples; ${moved}.`,
        ),
      );
    }
    const table = h(
      "table",
      { class: "pc-table pc-history-table", attrs: { "data-role": "history" } },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", { class: "pc-num-col" }, "Step"),
          h(
            "th",
            { class: "pc-name-col" },
            isMultilabel(task) ? "Label: outcome" : `${cap(words.trueWord)} → ${words.predWord}`,
          ),
          h("th", { class: "pc-num-col" }, cap(words.scoreWord)),
          h("th", { class: "pc-num-col" }, "Loss"),
        ),
      ),
    );
    const tbody = h("tbody");
    let prev: HistoryEntry | null = null;
    for (const e of entries) {
      const o = outcome(e, names, task);
      const movedHere =
        prev !== null && (prev.true !== e.true || prev.pred !== e.pred || prev.label !== e.label);
      const tr = h(
        "tr",
        {
          class:
            `${e.step === step ? "pc-current " : ""}${movedHere ? "pc-moved" : ""}`.trim() ||
            undefined,
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
        h(
          "td",
          { class: "pc-name-col", title: o.headline },
          o.headline,
          movedHere
            ? h(
                "span",
                { class: "pc-moved-mark", title: "In another cell than at the previous kept step" },
                " ↻",
              )
            : null,
        ),
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

  focus(): void {
    this.element.focus({ preventScroll: true });
  }
}

function cap(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
