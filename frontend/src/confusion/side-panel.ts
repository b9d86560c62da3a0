// The panel beside the matrix: the focused class (where its samples went, what was mistaken for
// it), then the most-confused pairs with their trend, or the biggest changes of a difference.
// A pair points at its cell (hover) and zooms to it (click, Enter). The gallery takes the panel
// when it is open (the view puts it there).
import { h, setChildren } from "../ui/dom";
import { sparkBox } from "../ui/sparkline";
import { formatCount, formatShare, signed } from "../lib/format";
import { changeIsBetter, changeWords } from "./matrix-display";
import type { DiffData, PairsResponse } from "../data/types";
import type { GalleryScope } from "../state/view-state";
import { PAIRS_LIMIT, type ConfusionModel } from "./matrix";

export interface SideActions {
  /** zoom to the cell (true t, predicted p) and mark it */
  zoomToCell(t: number, p: number): void;
  /** mark a cell while a list row is pointed at (null: none) */
  pinCell(t: number | null, p: number | null): void;
  openGallery(scope: GalleryScope): void;
  clearFocus(): void;
}

export interface SideInput {
  names: readonly string[];
  step: number;
  model: ConfusionModel;
  /** the focused class (-1: none) */
  focus: number;
  errorsOnly: boolean;
  /** the difference shown: its answer (null while loading or refused), why it is missing, and
   * the labels of its two series */
  diff: { data: DiffData | null; error: string | null; labels: [string, string] | null } | null;
  /** the pairs answer when it is for this matrix (fresh), and its error */
  pairs: { data: PairsResponse | null; error: string | null; fresh: boolean };
}

export class SidePanel {
  readonly element: HTMLElement;

  constructor(private readonly on: SideActions) {
    this.element = h("aside", { class: "pc-side", attrs: { "data-role": "cm-side" } });
  }

  render(x: SideInput): void {
    const parts: Node[] = [];
    if (x.focus >= 0) parts.push(this.focusPanel(x, x.focus));
    if (x.diff) parts.push(...this.changes(x, x.diff));
    else parts.push(...this.pairs(x));
    setChildren(this.element, ...parts);
  }

  private changes(x: SideInput, diff: NonNullable<SideInput["diff"]>): Node[] {
    const parts: Node[] = [
      h(
        "div",
        { class: "pc-side-title" },
        x.errorsOnly ? "Biggest changes in mistakes" : "Biggest changes",
      ),
    ];
    const d = diff.data;
    if (!d || !diff.labels) {
      parts.push(
        h(
          "div",
          { class: "pc-side-empty" },
          diff.error ? "No comparison: see the message." : "Loading…",
        ),
      );
      return parts;
    }
    const [a, b] = diff.labels;
    parts.push(h("div", { class: "pc-side-sub" }, `${a} @ ${d.step} vs ${b} @ ${d.base_step}`));
    const changes = d.changes
      .filter((c) => !x.errorsOnly || c.true !== c.pred)
      .slice(0, PAIRS_LIMIT);
    if (!changes.length)
      parts.push(
        h(
          "div",
          { class: "pc-side-empty", attrs: { "data-role": "no-changes" } },
          x.errorsOnly ? "No mistake changed." : "No cell changed.",
        ),
      );
    const list = h("ol", { class: "pc-pairs", attrs: { "data-role": "changes" } });
    for (const c of changes) {
      list.appendChild(
        this.pairRow(
          x.names,
          c.true,
          c.pred,
          [
            h(
              "span",
              { class: "pc-pair-count" },
              `${formatCount(c.before)} → ${formatCount(c.after)}`,
            ),
            h(
              "span",
              {
                class: changeIsBetter(c.true, c.pred, c.delta)
                  ? "pc-delta pc-better"
                  : "pc-delta pc-worse",
                title: changeWords(c.true, c.pred, c.delta),
              },
              signed(c.delta),
            ),
          ],
          "change",
        ),
      );
    }
    parts.push(list);
    return parts;
  }

  private pairs(x: SideInput): Node[] {
    const names = x.names;
    const { data, error, fresh } = x.pairs;
    const parts: Node[] = [h("div", { class: "pc-side-title" }, `Most confused at step ${x.step}`)];
    if (error && fresh) parts.push(h("div", { class: "pc-side-empty pc-error-text" }, error));
    else if (!data || !fresh) parts.push(h("div", { class: "pc-side-empty" }, "Loading…"));
    else if (!data.pairs.length)
      parts.push(
        h(
          "div",
          { class: "pc-side-empty", attrs: { "data-role": "no-pairs" } },
          "No mistakes at this step.",
        ),
      );
    else {
      parts.push(
        h(
          "div",
          { class: "pc-side-sub" },
          data.history_steps.length < data.steps.length
            ? `true → predicted · count · trend over ${data.steps.length} steps (at ${data.history_steps.length} of them)`
            : `true → predicted · count · trend over ${data.steps.length} steps`,
        ),
      );
      const mark = data.history_steps.indexOf(x.step);
      const list = h("ol", { class: "pc-pairs", attrs: { "data-role": "pairs" } });
      for (const p of data.pairs) {
        const share = x.model.cell(p.true, p.pred).ofRow;
        list.appendChild(
          this.pairRow(
            names,
            p.true,
            p.pred,
            [
              h(
                "span",
                {
                  class: "pc-pair-count",
                  title: `${formatShare(share)} of true ${names[p.true] ?? p.true}`,
                },
                formatCount(p.count),
              ),
              sparkBox(
                p.history,
                mark,
                `count of ${names[p.true] ?? p.true} → ${names[p.pred] ?? p.pred} at each step (dot: step ${x.step})`,
              ),
            ],
            "pair",
          ),
        );
      }
      parts.push(list);
    }
    return parts;
  }

  private pairRow(
    names: readonly string[],
    t: number,
    p: number,
    extra: Node[],
    role: string,
  ): HTMLElement {
    const tn = names[t] ?? String(t);
    const pn = names[p] ?? String(p);
    return h(
      "li",
      {
        class: "pc-pair",
        title: `${tn} predicted as ${pn}: click to zoom to the cell`,
        attrs: { "data-role": role, "data-true": t, "data-pred": p, tabindex: 0 },
        on: {
          mouseenter: () => this.on.pinCell(t, p),
          mouseleave: () => this.on.pinCell(null, null),
          click: () => this.on.zoomToCell(t, p),
          keydown: (e) => {
            if (e.key === "Enter") this.on.zoomToCell(t, p);
          },
        },
      },
      h(
        "span",
        { class: "pc-pair-names" },
        h("span", { class: "pc-pair-true" }, tn),
        " ",
        h(
          "span",
          { class: "pc-pair-then" },
          h("span", { class: "pc-pair-arrow" }, "→ "),
          h("span", { class: "pc-pair-pred" }, pn),
        ),
      ),
      ...extra,
    );
  }

  private focusPanel(x: SideInput, f: number): HTMLElement {
    const { names, model } = x;
    const row = model.rowSums[f];
    const col = model.colSums[f];
    const diag = model.count(f, f);
    const item = (cls: number, count: number, t: number, p: number, total: number) =>
      h(
        "li",
        {
          class: "pc-pair",
          attrs: { "data-true": t, "data-pred": p, tabindex: 0 },
          on: {
            click: () => this.on.zoomToCell(t, p),
            mouseenter: () => this.on.pinCell(t, p),
            mouseleave: () => this.on.pinCell(null, null),
          },
        },
        h("span", { class: "pc-pair-names" }, names[cls]),
        h(
          "span",
          { class: "pc-pair-count", title: `${formatShare(total > 0 ? count / total : NaN)}` },
          formatCount(count),
        ),
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
        h(
          "button",
          {
            class: "pc-linkbtn pc-focus-clear",
            title: "Clear the highlight",
            attrs: { type: "button", "data-role": "focus-clear" },
            on: { click: () => this.on.clearFocus() },
          },
          "✕",
        ),
      ),
      h(
        "div",
        { class: "pc-side-sub" },
        `recall ${formatShare(row > 0 ? diag / row : NaN)} (${formatCount(diag)} of ${formatCount(row)}) · precision ${formatShare(col > 0 ? diag / col : NaN)}`,
      ),
      h("div", { class: "pc-focus-head" }, "Predicted as"),
      rowTop.length
        ? h(
            "ol",
            { class: "pc-pairs pc-pairs-small" },
            ...rowTop.map((t) => item(t.cls, t.count, f, t.cls, row)),
          )
        : h("div", { class: "pc-side-empty" }, "never wrong"),
      h("div", { class: "pc-focus-head" }, "Mistaken for it"),
      colTop.length
        ? h(
            "ol",
            { class: "pc-pairs pc-pairs-small" },
            ...colTop.map((t) => item(t.cls, t.count, t.cls, f, col)),
          )
        : h("div", { class: "pc-side-empty" }, "never"),
      h(
        "button",
        {
          class: "pc-button pc-focus-samples",
          title: `The kept mistakes of true ${names[f]} at step ${x.step}`,
          attrs: { type: "button", "data-role": "focus-samples" },
          on: { click: () => this.on.openGallery({ kind: "class", true: f }) },
        },
        "Misclassified samples",
      ),
    );
  }
}
