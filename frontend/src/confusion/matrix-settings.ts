// The Confusion tab's settings in the sidebar: counts or shares, the class order, the colour
// scale, and the difference to another step or run; for a multilabel run, a note instead.
import { h, setChildren } from "../ui/dom";
import { field, segmented } from "../ui/widgets";
import { seriesLabel, type Series, type SeriesRef } from "../data/series";
import { sameSeries } from "./compare";
import type { DiffState, Norm, Order, ViewState } from "../state/view-state";

export interface MatrixSettingsActions {
  setState(patch: Partial<ViewState>): void;
  /** another class order (the view keeps the focused class in view) */
  order(order: Order): void;
}

/** What the settings show: the state, and what the matrix and the loaded answers say. */
export interface MatrixSettingsInput {
  state: ViewState;
  /** why the clustered order is unavailable (no SciPy on the server); null when it is not */
  clusterUnavailable: string | null;
  /** the series the difference can compare with, the series shown and the one compared with */
  bases: readonly Series[];
  shown: SeriesRef | null;
  base: SeriesRef | null;
  /** the base step picker's options */
  baseSteps: readonly { step: number; label: string; selected: boolean }[];
}

export class MatrixSettings {
  readonly element: HTMLElement;
  private normSeg;
  private orderSelect: HTMLSelectElement;
  private orderHint: HTMLElement;
  private logBox: HTMLInputElement;
  private errorsBox: HTMLInputElement;
  private compareBox: HTMLInputElement;
  private baseRunSelect: HTMLSelectElement;
  private baseStepSelect: HTMLSelectElement;
  private compareFields: HTMLElement;
  private matrixFields: HTMLElement;
  private labelNote: HTMLElement;
  /** the diff settings last shown (a change keeps what is not changed) */
  private diff: DiffState = { on: false, baseSeries: null, baseStep: null };

  constructor(on: MatrixSettingsActions) {
    this.normSeg = segmented<Norm>(
      "normalization",
      [
        { value: "counts", label: "Counts", title: "Number of samples in each cell" },
        {
          value: "row",
          label: "Row %",
          title: "Share of each true class (row-normalised: the diagonal is the recall)",
        },
        {
          value: "col",
          label: "Column %",
          title: "Share of each predicted class (column-normalised: the diagonal is the precision)",
        },
      ],
      (v) => on.setState({ norm: v }),
    );
    this.orderSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "order", "aria-label": "Class order" },
      on: { change: () => on.order(this.orderSelect.value as Order) },
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
    this.logBox = h("input", {
      attrs: { type: "checkbox", "data-control": "cm-log" },
      on: { change: () => on.setState({ logColor: this.logBox.checked }) },
    });
    this.errorsBox = h("input", {
      attrs: { type: "checkbox", "data-control": "cm-errors-only" },
      on: { change: () => on.setState({ errorsOnly: this.errorsBox.checked }) },
    });
    this.compareBox = h("input", {
      attrs: { type: "checkbox", "data-control": "compare" },
      on: { change: () => on.setState({ diff: { ...this.diff, on: this.compareBox.checked } }) },
    });
    this.baseRunSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "compare-run", "aria-label": "Series to compare with" },
      on: {
        change: () =>
          on.setState({ diff: { on: true, baseSeries: this.baseRunSelect.value, baseStep: null } }),
      },
    });
    this.baseStepSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "compare-step", "aria-label": "Step to compare with" },
      on: {
        change: () =>
          on.setState({
            diff: { ...this.diff, on: true, baseStep: Number(this.baseStepSelect.value) },
          }),
      },
    });
    this.compareFields = h(
      "div",
      { class: "pc-compare" },
      h(
        "div",
        { class: "pc-row" },
        h("span", { class: "pc-hint-inline pc-fixed" }, "run"),
        this.baseRunSelect,
      ),
      h(
        "div",
        { class: "pc-row pc-row-gap" },
        h("span", { class: "pc-hint-inline pc-fixed" }, "step"),
        this.baseStepSelect,
      ),
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
      field(
        "Colour scale",
        h(
          "label",
          {
            class: "pc-check",
            title: "Logarithmic colours: small counts stay visible next to a large diagonal",
          },
          this.logBox,
          "Log scale",
        ),
        h(
          "label",
          {
            class: "pc-check pc-row-gap",
            title: "Colours span the off-diagonal cells only; the diagonal is grey",
          },
          this.errorsBox,
          "Errors only (grey diagonal)",
        ),
      ),
      field(
        "Compare",
        h(
          "label",
          { class: "pc-check", title: "Show this step minus another step or run, in counts" },
          this.compareBox,
          "Difference to another step or run",
        ),
        this.compareFields,
      ),
    );
    this.element = h(
      "section",
      { class: "pc-section", attrs: { "data-role": "settings" } },
      h("div", { class: "pc-section-title" }, "Matrix"),
      this.matrixFields,
      this.labelNote,
    );
  }

  sync(x: MatrixSettingsInput): void {
    const s = x.state;
    this.diff = s.diff;
    const diffOn = s.diff.on;
    // a difference is in counts
    this.normSeg.set(s.norm, diffOn ? { counts: false, row: true, col: true } : undefined);
    this.orderSelect.value = s.order;
    const clusterOpt = this.orderSelect.querySelector<HTMLOptionElement>("option[value=cluster]")!;
    clusterOpt.disabled = x.clusterUnavailable !== null;
    clusterOpt.title =
      x.clusterUnavailable ??
      "Reverse Cuthill-McKee on the symmetrised off-diagonal counts: classes confused with each other sit together";
    this.orderSelect.title = "";
    this.orderHint.textContent = x.clusterUnavailable
      ? `Clustered order unavailable: ${x.clusterUnavailable}`
      : "";
    this.logBox.checked = s.logColor;
    this.errorsBox.checked = s.errorsOnly;
    this.compareBox.checked = diffOn;
    this.compareFields.hidden = !diffOn;
    const isShown = (b: SeriesRef) => !!x.shown && sameSeries(b, x.shown);
    setChildren(
      this.baseRunSelect,
      ...x.bases.map((b) =>
        h(
          "option",
          { attrs: { value: b.key } },
          isShown(b) ? `${seriesLabel(b)} (itself)` : seriesLabel(b),
        ),
      ),
    );
    const baseKey = x.base && x.bases.find((b) => sameSeries(b, x.base!))?.key;
    if (baseKey) this.baseRunSelect.value = baseKey;
    setChildren(
      this.baseStepSelect,
      ...x.baseSteps.map((b) => h("option", { attrs: { value: b.step } }, b.label)),
    );
    // the value, not each option's flag: an option flagged before it is in the list can lose it
    const picked = x.baseSteps.find((b) => b.selected);
    if (picked) this.baseStepSelect.value = String(picked.step);
  }

  /** A multilabel run has no matrix to set: a note instead. */
  setMultilabel(on: boolean): void {
    this.matrixFields.hidden = on;
    this.labelNote.hidden = !on;
  }
}
