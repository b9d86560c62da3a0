// Small shared visual pieces (built with createElement/createElementNS only).
import { h } from "./dom";

const SVG = "http://www.w3.org/2000/svg";

/** A short line sample with a dash pattern, as drawn in the chart. */
export function dashSample(
  color: string,
  dash: readonly number[],
  width = 2,
  length = 28,
): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", String(length));
  svg.setAttribute("height", "10");
  svg.setAttribute("viewBox", `0 0 ${length} 10`);
  svg.setAttribute("class", "pc-dash");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(SVG, "line");
  line.setAttribute("x1", "1");
  line.setAttribute("x2", String(length - 1));
  line.setAttribute("y1", "5");
  line.setAttribute("y2", "5");
  // a style, not the stroke attribute: the colour may be a var(--pc-...) that follows the theme
  line.style.stroke = color;
  line.setAttribute("stroke-width", String(width));
  if (dash.length) line.setAttribute("stroke-dasharray", dash.join(" "));
  svg.appendChild(line);
  return svg;
}

export function swatch(color: string): HTMLSpanElement {
  return h("span", { class: "pc-swatch", style: { background: color } });
}

/** `bySeries`: "series label: count" per series with any (the badge's title names them). */
const perSeries = (bySeries: readonly string[]) =>
  bySeries.length ? ` (${bySeries.join(", ")})` : "";

export function nonfiniteBadge(count: number, bySeries: readonly string[] = []): HTMLSpanElement {
  return h(
    "span",
    {
      class: "pc-badge",
      title: `${count} non-finite (NaN/Inf) per-sample loss${count === 1 ? "" : "es"}${perSeries(bySeries)}, kept out of the mean loss`,
      attrs: { "data-nonfinite": count },
    },
    "⚠ NaN",
  );
}

export function nonfiniteOutputsBadge(
  count: number,
  bySeries: readonly string[] = [],
): HTMLSpanElement {
  return h(
    "span",
    {
      class: "pc-badge",
      title: `${count} sample${count === 1 ? "" : "s"} with non-finite (NaN/Inf) outputs${perSeries(bySeries)}: not in the confusion matrix, never counted correct`,
      attrs: { "data-nonfinite-outputs": count },
    },
    "⚠ NaN out",
  );
}

export interface SegOption<T extends string> {
  value: T;
  label: string;
  disabled?: boolean;
  title?: string;
}

/** A segmented button group; returns the element and a setter for the active value. */
export function segmented<T extends string>(
  name: string,
  options: SegOption<T>[],
  onChange: (v: T) => void,
): { el: HTMLElement; set: (v: T, disabled?: Partial<Record<T, boolean>>) => void } {
  const buttons = options.map((o) =>
    h(
      "button",
      {
        attrs: { type: "button", "data-value": o.value },
        title: o.title,
        on: { click: () => onChange(o.value) },
      },
      o.label,
    ),
  );
  const el = h(
    "div",
    { class: "pc-seg", attrs: { role: "group", "aria-label": name, "data-control": name } },
    ...buttons,
  );
  return {
    el,
    set(v, disabled) {
      buttons.forEach((b, i) => {
        const val = options[i].value;
        b.classList.toggle("pc-active", val === v);
        b.setAttribute("aria-pressed", String(val === v));
        b.disabled = !!disabled?.[val] || !!options[i].disabled;
      });
    },
  };
}

/** A labelled group of controls in a settings section. */
export function field(label: string | null, ...controls: Node[]): HTMLElement {
  return h(
    "div",
    { class: "pc-field" },
    label ? h("span", { class: "pc-label" }, label) : null,
    ...controls,
  );
}
