// Sortable table headers (the report and the multilabel table): a column header that sorts by
// its column, and what a click on it does to the sort.
import { h } from "./dom";
import type { Sort, TableKey } from "../state/view-state";

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
