// The sidebar's class list: a filter, All / None / Only matching / Only worst, and one row per
// class (ticked, its colour, its flags, its rank among the worst and its latest value).
import { h, setChildren } from "../ui/dom";
import { nonfiniteBadge, nonfiniteOutputsBadge, swatch } from "../ui/widgets";
import type { ClassRows } from "./sidebar-rows";

export interface ClassActions {
  filter(text: string): void;
  all(): void;
  none(): void;
  onlyMatching(): void;
  onlyWorst(): void;
  toggle(name: string, on: boolean): void;
}

export class ClassPanel {
  readonly element: HTMLElement;
  private search: HTMLInputElement;
  private count: HTMLElement;
  private list: HTMLElement;
  /** what the numbers beside the classes are */
  private valueHeading: HTMLElement;
  /** what the rows were built from: rebuilding 1000 rows on every slider move is wasted work */
  private drawnKey = "";

  constructor(private readonly on: ClassActions) {
    this.search = h("input", {
      class: "pc-search",
      attrs: {
        type: "search",
        placeholder: "Filter classes",
        "data-control": "class-search",
        "aria-label": "Filter classes",
      },
      on: { input: () => on.filter(this.search.value) },
    });
    this.count = h("span", { class: "pc-count", attrs: { "data-role": "class-count" } });
    const linkBtn = (label: string, role: string, title: string, fn: () => void) =>
      h(
        "button",
        {
          class: "pc-linkbtn",
          title,
          attrs: { type: "button", "data-role": role },
          on: { click: fn },
        },
        label,
      );
    const actions = h(
      "div",
      { class: "pc-class-actions" },
      linkBtn("All", "select-all", "Show every class", () => on.all()),
      linkBtn("None", "select-none", "Hide every class", () => on.none()),
      linkBtn("Only matching", "select-filtered", "Show only the classes matching the filter", () =>
        on.onlyMatching(),
      ),
      linkBtn("Only worst", "select-worst", "Show only the highlighted worst classes", () =>
        on.onlyWorst(),
      ),
    );
    this.list = h("div", {
      class: "pc-class-list",
      attrs: { "data-role": "classes", role: "list" },
    });
    this.valueHeading = h("div", {
      class: "pc-class-heading",
      attrs: { "data-role": "class-value-heading" },
    });
    this.element = h(
      "section",
      { class: "pc-section pc-classes" },
      h("div", { class: "pc-section-title" }, "Classes", this.count),
      this.search,
      actions,
      this.valueHeading,
      this.list,
    );
  }

  /** The filter's text, unless the user is typing in it. */
  syncFilter(text: string): void {
    if (document.activeElement !== this.search) this.search.value = text;
  }

  /** Lists the rows; nothing is rebuilt while `key` (what they were made from) is the same. */
  render(key: string, make: () => ClassRows): void {
    if (key === this.drawnKey) return;
    this.drawnKey = key;
    const c = make();
    this.count.textContent = c.count;
    this.valueHeading.textContent = c.valueHeading ?? "";
    this.valueHeading.title = c.valueTitle;
    this.valueHeading.hidden = c.valueHeading === null || !c.rows.length;
    const frag = document.createDocumentFragment();
    for (const r of c.rows) {
      const n = r.name;
      const box = h("input", { attrs: { type: "checkbox", "aria-label": `Show class ${n}` } });
      box.checked = r.selected;
      box.addEventListener("change", () => this.on.toggle(n, box.checked));
      const flag = r.flag;
      frag.appendChild(
        h(
          "label",
          {
            class: r.rank !== undefined ? "pc-class pc-worst" : "pc-class",
            title: n,
            attrs: { "data-class": n, role: "listitem" },
          },
          box,
          swatch(r.swatch),
          h("span", { class: "pc-class-name" }, n),
          flag?.loss
            ? nonfiniteBadge(
                flag.loss,
                flag.bySeries.filter((b) => b.loss).map((b) => `${b.label}: ${b.loss}`),
              )
            : null,
          flag?.outputs
            ? nonfiniteOutputsBadge(
                flag.outputs,
                flag.bySeries.filter((b) => b.outputs).map((b) => `${b.label}: ${b.outputs}`),
              )
            : null,
          r.rank !== undefined
            ? h("span", { class: "pc-rank", title: `#${r.rank + 1} worst` }, `#${r.rank + 1}`)
            : null,
          r.value !== null
            ? h("span", { class: "pc-class-value", title: c.valueTitle }, r.value)
            : null,
        ),
      );
    }
    setChildren(
      this.list,
      frag,
      !c.rows.length ? h("div", { class: "pc-empty-list" }, c.empty) : null,
    );
  }
}
