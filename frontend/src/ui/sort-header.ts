// Sortable table headers (the report and the multilabel table): a column header that shows
// whether the table is sorted by it and sorts by it on a click.
import { h } from "./dom";

/** A sortable column header. */
export function sortHeader<K extends string>(
  col: { key: K; label: string; title: string; num: boolean },
  sort: { key: K; desc: boolean },
  onSort: (k: K) => void,
): HTMLElement {
  const active = sort.key === col.key;
  const arrow = active ? (sort.desc ? " ▼" : " ▲") : "";
  return h(
    "th",
    {
      class: `${col.num ? "pc-num-col" : "pc-name-col"}${active ? " pc-sorted" : ""}`,
      title: `${col.title}. Click to sort.`,
      attrs: {
        "data-sort": col.key,
        "aria-sort": active ? (sort.desc ? "descending" : "ascending") : "none",
      },
    },
    h(
      "button",
      { class: "pc-th-btn", attrs: { type: "button" }, on: { click: () => onSort(col.key) } },
      col.label + arrow,
    ),
  );
}
