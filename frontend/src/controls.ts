// Controls shared by the matrix, report and heatmap views: a step slider, a colour legend
// and a searchable class finder (the axis labels' stand-in at hundreds of classes).
import { h, setChildren } from "./dom";
import type { ColorScale, Rgb } from "./colorscale";

/** Step slider over the steps that have a matrix; the last position follows new steps. */
export class StepSlider {
  readonly element: HTMLElement;
  private range: HTMLInputElement;
  private label: HTMLElement;
  private prev: HTMLButtonElement;
  private next: HTMLButtonElement;
  private latest: HTMLButtonElement;
  private steps: number[] = [];

  constructor(
    role: string,
    private readonly onChange: (step: number | null) => void,
  ) {
    this.range = h("input", {
      class: "pc-slider pc-step-range",
      attrs: { type: "range", min: 0, max: 0, step: 1, value: 0, "data-control": `${role}-step`, "aria-label": "Step" },
      on: { input: () => this.pick(Number(this.range.value)) },
    });
    this.label = h("span", { class: "pc-step-label", attrs: { "data-role": `${role}-step-label`, "aria-live": "polite" } });
    const btn = (text: string, title: string, fn: () => void, role2: string) =>
      h("button", { class: "pc-iconbtn", title, attrs: { type: "button", "data-role": role2 }, on: { click: fn } }, text);
    this.prev = btn("‹", "Previous step", () => this.pick(Number(this.range.value) - 1), `${role}-step-prev`);
    this.next = btn("›", "Next step", () => this.pick(Number(this.range.value) + 1), `${role}-step-next`);
    this.latest = h(
      "button",
      { class: "pc-linkbtn", title: "Show the latest step and follow new ones", attrs: { type: "button", "data-role": `${role}-step-latest` }, on: { click: () => this.onChange(null) } },
      "Latest",
    );
    this.element = h("div", { class: "pc-step" }, h("span", { class: "pc-label-inline" }, "Step"), this.prev, this.range, this.next, this.label, this.latest);
  }

  private pick(i: number): void {
    if (!this.steps.length) return;
    const k = Math.min(Math.max(i, 0), this.steps.length - 1);
    this.range.value = String(k);
    this.onChange(k === this.steps.length - 1 ? null : this.steps[k]);
  }

  /** `current`: the step shown; `following`: the view follows the latest step. */
  set(steps: number[], current: number | null, following: boolean): void {
    this.steps = steps;
    const idx = current === null ? steps.length - 1 : steps.indexOf(current);
    this.range.max = String(Math.max(0, steps.length - 1));
    if (document.activeElement !== this.range && idx >= 0) this.range.value = String(idx);
    this.range.disabled = steps.length <= 1;
    this.prev.disabled = idx <= 0;
    this.next.disabled = idx < 0 || idx >= steps.length - 1;
    const first = steps[0];
    const last = steps[steps.length - 1];
    const range = steps.length ? ` of ${first}–${last}` : "";
    this.label.textContent = current === null ? "–" : `${current}${range}`;
    this.latest.hidden = following;
    this.element.classList.toggle("pc-following", following);
  }
}

const LEGEND_WIDTH = 200;

/** Tick labels that do not overlap on a bar `width` px wide (about 6 px per character): the
 * first starts at its tick, the last ends at its tick, the others are centred on theirs. */
export function legendTicks(
  scale: ColorScale,
  format: (v: number) => string,
  width: number,
): { pos: number; text: string; align: "start" | "center" | "end" }[] {
  const ticks = scale.ticks(5).sort((a, b) => a.pos - b.pos);
  if (!ticks.length) return [];
  const items = ticks.map((t, k) => {
    const text = format(t.value);
    const w = text.length * 6 + 6;
    const x = t.pos * width;
    const align: "start" | "center" | "end" = k === 0 ? "start" : k === ticks.length - 1 ? "end" : "center";
    const left = align === "start" ? x : align === "end" ? x - w : x - w / 2;
    return { pos: t.pos, text, align, left, right: left + w };
  });
  const first = items[0];
  const last = items.length > 1 ? items[items.length - 1] : null;
  const kept = [first];
  for (const it of items.slice(1, -1)) {
    if (it.left >= kept[kept.length - 1].right && (!last || it.right <= last.left)) kept.push(it);
  }
  if (last && last.left >= first.right) kept.push(last);
  return kept.map(({ pos, text, align }) => ({ pos, text, align }));
}

/** A horizontal colour bar with tick labels. */
export class Legend {
  readonly element: HTMLElement;
  private bar: HTMLCanvasElement;
  private ticks: HTMLElement;
  private title: HTMLElement;
  private extras: HTMLElement;

  constructor(role = "legend") {
    this.bar = h("canvas", { class: "pc-legend-bar", attrs: { width: 256, height: 1 } });
    this.ticks = h("div", { class: "pc-legend-ticks" });
    this.title = h("span", { class: "pc-legend-title" });
    this.extras = h("span", { class: "pc-legend-extras" });
    this.element = h(
      "div",
      { class: "pc-colorbar", attrs: { "data-role": role } },
      this.title,
      h("div", { class: "pc-legend-scale" }, this.bar, this.ticks),
      this.extras,
    );
  }

  set(scale: ColorScale, title: string, format: (v: number) => string, extras: { label: string; rgb: Rgb }[] = []): void {
    this.title.textContent = title;
    const ctx = this.bar.getContext("2d");
    if (ctx) {
      const img = ctx.createImageData(256, 1);
      img.data.set(scale.lut);
      ctx.putImageData(img, 0, 0);
    }
    setChildren(
      this.ticks,
      ...legendTicks(scale, format, LEGEND_WIDTH).map((t) => h("span", { class: `pc-legend-tick pc-tick-${t.align}`, style: { left: `${(t.pos * 100).toFixed(2)}%` } }, t.text)),
    );
    setChildren(
      this.extras,
      ...extras.map((e) =>
        h("span", { class: "pc-legend-extra" }, h("span", { class: "pc-swatch", style: { background: `rgb(${e.rgb.join(", ")})` } }), e.label),
      ),
    );
  }
}

/** Matches for a class search: names starting with the query first, then containing it. */
export function findClasses(names: readonly string[], query: string, limit = 50): { matches: number[]; total: number } {
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
      attrs: { type: "search", placeholder, autocomplete: "off", "data-control": role, "aria-label": placeholder, role: "combobox", "aria-expanded": "false" },
      on: {
        input: () => this.update(),
        focus: () => this.update(),
        keydown: (e) => this.onKey(e),
        blur: () => setTimeout(() => this.close(), 150),
      },
    });
    this.list = h("div", { class: "pc-finder-list", attrs: { role: "listbox", "data-role": `${role}-list`, hidden: true } });
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
    else if (total > matches.length) rows.push(h("div", { class: "pc-finder-empty" }, `${total - matches.length} more: type more of the name`));
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
    this.active = (this.active + (e.key === "ArrowDown" ? 1 : -1) + this.matches.length) % this.matches.length;
    [...this.list.querySelectorAll(".pc-finder-item")].forEach((el, k) => el.classList.toggle("pc-active", k === this.active));
  }

  private pick(i: number): void {
    this.input.value = this.names[i];
    this.close();
    this.onPick(i);
  }
}
