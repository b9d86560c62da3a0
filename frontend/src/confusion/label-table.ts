// A multilabel run's matrices: one row per label with its 2x2 matrix drawn small, its counts
// and its precision, recall and F1, sortable by any column; a label's FP or FN count opens the
// gallery of those kept mistakes.
import { h, setChildren } from "../ui/dom";
import { nextSort } from "../state/view-state";
import { sortHeader } from "../ui/sort-header";
import { ColorScale } from "../ui/color-scale";
import type { ThemeColors } from "../ui/theme";
import { formatCount, formatMetric, formatShare } from "../lib/format";
import { sortIndices } from "../lib/sorting";
import type { ConfusionData } from "../data/types";
import type { GalleryScope, GalleryState, Sort, TableKey } from "../state/view-state";
import { labelStats, type LabelStats } from "./label-stats";

const COLUMNS: { key: TableKey; label: string; title: string; num: boolean }[] = [
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

export interface LabelTableActions {
  sort(next: Sort<TableKey>): void;
  openGallery(scope: GalleryScope): void;
}

export class LabelTable {
  readonly element: HTMLElement;

  constructor(private readonly on: LabelTableActions) {
    this.element = h("div", {
      class: "pc-table-box",
      attrs: { "data-role": "label-table", hidden: true },
    });
  }

  /** The shares' colour scale (the view's legend shows it). */
  static scale(colors: ThemeColors): ColorScale {
    return new ColorScale({
      kind: "sequential",
      min: 0,
      max: 1,
      log: false,
      eps: 1,
      stops: colors.blues,
      missing: colors.missing,
    });
  }

  /** The table of the labels `shown` (by label index), sorted; `gallery`: the open gallery. */
  render(
    cm: ConfusionData,
    shown: readonly boolean[],
    sort: Sort<TableKey>,
    gallery: GalleryState | null,
    scale: ColorScale,
  ): void {
    const stats = labelStats(cm.labels!);
    const rows = stats.filter((st) => shown[st.label]);
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
    const onSort = (k: TableKey) => this.on.sort(nextSort(sort, k));
    const head = h(
      "tr",
      null,
      ...COLUMNS.slice(0, 2).map((c) => sortHeader(c, sort, onSort)),
      h(
        "th",
        {
          class: "pc-center-col",
          title:
            "The 2x2 matrix, rows = true (no, yes), columns = predicted (no, yes); colour = share of the row",
        },
        "Matrix",
      ),
      ...COLUMNS.slice(2).map((c) => sortHeader(c, sort, onSort)),
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
        mini.appendChild(
          h("span", {
            class: "pc-mini-cell",
            title: `${labels[k]} ${formatCount(v)} (${formatShare(share)} of the row)`,
            style: { background: scale.css(share) },
          }),
        );
      });
      frag.appendChild(
        h(
          "tr",
          { attrs: { "data-label": cm.class_names[st.label] } },
          h("td", { class: "pc-num-col pc-muted" }, String(st.label)),
          h(
            "td",
            { class: "pc-name-col", title: cm.class_names[st.label] },
            cm.class_names[st.label],
          ),
          h("td", { class: "pc-center-col" }, mini),
          h("td", { class: "pc-num-col" }, formatCount(st.tp)),
          h("td", { class: "pc-num-col" }, this.errorButton(cm, gallery, st.label, "fp", st.fp)),
          h("td", { class: "pc-num-col" }, this.errorButton(cm, gallery, st.label, "fn", st.fn)),
          h("td", { class: "pc-num-col" }, formatCount(st.tn)),
          h("td", { class: "pc-num-col" }, formatMetric(st.precision)),
          h("td", { class: "pc-num-col" }, formatMetric(st.recall)),
          h("td", { class: "pc-num-col" }, formatMetric(st.f1)),
          h("td", { class: "pc-num-col" }, formatCount(st.support)),
        ),
      );
    }
    body.appendChild(frag);
    setChildren(
      this.element,
      h(
        "table",
        { class: "pc-table", attrs: { "data-role": "labels" } },
        h("thead", null, head),
        body,
      ),
    );
  }

  /** A label's FP or FN count that opens the gallery of those kept mistakes. */
  private errorButton(
    cm: ConfusionData,
    g: GalleryState | null,
    label: number,
    error: "fp" | "fn",
    count: number,
  ): HTMLElement {
    const what = error === "fp" ? "false positives" : "false negatives";
    const open = g?.scope.kind === "label" && g.scope.label === label && g.scope.error === error;
    return h(
      "button",
      {
        class: open ? "pc-count-btn pc-active" : "pc-count-btn",
        title: `Show the kept ${what} of ${cm.class_names[label]} at step ${cm.step}`,
        attrs: {
          type: "button",
          "data-role": `label-${error}`,
          "data-label": label,
          "aria-pressed": String(open),
        },
        on: { click: () => this.on.openGallery({ kind: "label", label, error }) },
      },
      formatCount(count),
    );
  }
}
