// A searchable class finder: the axis labels' stand-in at hundreds of classes.
import { h, setChildren } from "./dom";

/** Matches for a class search: names starting with the query first, then containing it. */
export function findClasses(
  names: readonly string[],
  query: string,
  limit = 50,
): { matches: number[]; total: number } {
  const q = query.trim().toLowerCase();
  if (!q) return { matches: [], total: 0 };
  const starts: number[] = [];
  const contains: number[] = [];
  names.forEach((n, i) => {
    const l = n.toLowerCase();
    const at = l.indexOf(q);
    if (at === 0) starts.push(i);
    else if (at > 0) contains.push(i);
  });
  const all = [...starts, ...contains];
  return { matches: all.slice(0, limit), total: all.length };
}

/** A search box with a drop-down of matching classes; picking one calls onPick(class index). */
export class ClassFinder {
  readonly element: HTMLElement;
  readonly input: HTMLInputElement;
  private list: HTMLElement;
  private names: string[] = [];
  private matches: number[] = [];
  private active = -1;
  private note: (i: number) => string | null = () => null;

  constructor(
    role: string,
    private readonly onPick: (index: number) => void,
    placeholder = "Find a class…",
  ) {
    this.input = h("input", {
      class: "pc-search pc-finder-input",
      attrs: {
        type: "search",
        placeholder,
        autocomplete: "off",
        "data-control": role,
        "aria-label": placeholder,
        role: "combobox",
        "aria-expanded": "false",
      },
      on: {
        input: () => this.update(),
        focus: () => this.update(),
        keydown: (e) => this.onKey(e),
        blur: () => setTimeout(() => this.close(), 150),
      },
    });
    this.list = h("div", {
      class: "pc-finder-list",
      attrs: { role: "listbox", "data-role": `${role}-list`, hidden: true },
    });
    this.element = h("div", { class: "pc-finder" }, this.input, this.list);
  }

  setNames(names: string[], note?: (i: number) => string | null): void {
    this.names = names;
    if (note) this.note = note;
    if (!this.list.hidden) this.update();
  }

  private close(): void {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
  }

  update(): void {
    const { matches, total } = findClasses(this.names, this.input.value);
    this.matches = matches;
    this.active = matches.length ? 0 : -1;
    if (!this.input.value.trim()) {
      this.close();
      return;
    }
    const rows: Node[] = matches.map((i, k) => {
      const note = this.note(i);
      return h(
        "div",
        {
          class: k === this.active ? "pc-finder-item pc-active" : "pc-finder-item",
          attrs: { role: "option", "data-class-index": i },
          title: this.names[i],
          on: {
            mousedown: (e) => {
              e.preventDefault();
              this.pick(i);
            },
          },
        },
        h("span", { class: "pc-finder-name" }, this.names[i]),
        note ? h("span", { class: "pc-finder-note" }, note) : null,
      );
    });
    if (!matches.length) rows.push(h("div", { class: "pc-finder-empty" }, "No class matches."));
    else if (total > matches.length)
      rows.push(
        h(
          "div",
          { class: "pc-finder-empty" },
          `${total - matches.length} more: type more of the name`,
        ),
      );
    setChildren(this.list, ...rows);
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === "Escape") {
      this.close();
      return;
    }
    if (e.key === "Enter") {
      e.preventDefault();
      if (this.active >= 0) this.pick(this.matches[this.active]);
      return;
    }
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    if (!this.matches.length) return;
    this.active =
      (this.active + (e.key === "ArrowDown" ? 1 : -1) + this.matches.length) % this.matches.length;
    [...this.list.querySelectorAll(".pc-finder-item")].forEach((el, k) =>
      el.classList.toggle("pc-active", k === this.active),
    );
  }

  private pick(i: number): void {
    this.input.value = this.names[i];
    this.close();
    this.onPick(i);
  }
}
