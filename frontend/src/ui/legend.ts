// The colour legend of the heatmaps: a colour bar with tick labels that never overlap.
import { h, setChildren } from "./dom";
import type { ColorScale, Rgb } from "./color-scale";

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
    const align: "start" | "center" | "end" =
      k === 0 ? "start" : k === ticks.length - 1 ? "end" : "center";
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

  set(
    scale: ColorScale,
    title: string,
    format: (v: number) => string,
    extras: { label: string; rgb: Rgb }[] = [],
  ): void {
    this.title.textContent = title;
    const ctx = this.bar.getContext("2d");
    if (ctx) {
      const img = ctx.createImageData(256, 1);
      img.data.set(scale.lut);
      ctx.putImageData(img, 0, 0);
    }
    setChildren(
      this.ticks,
      ...legendTicks(scale, format, LEGEND_WIDTH).map((t) =>
        h(
          "span",
          {
            class: `pc-legend-tick pc-tick-${t.align}`,
            style: { left: `${(t.pos * 100).toFixed(2)}%` },
          },
          t.text,
        ),
      ),
    );
    setChildren(
      this.extras,
      ...extras.map((e) =>
        h(
          "span",
          { class: "pc-legend-extra" },
          h("span", { class: "pc-swatch", style: { background: `rgb(${e.rgb.join(", ")})` } }),
          e.label,
        ),
      ),
    );
  }
}
