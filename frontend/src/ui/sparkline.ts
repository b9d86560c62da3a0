// A tiny trend line (SVG, built with createElementNS) for the most-confused pairs.
import { h } from "./dom";

const SVG = "http://www.w3.org/2000/svg";

export interface SparkScale {
  x(i: number): number;
  y(v: number): number;
}

/** Maps index -> [0, width] and value -> [height - pad, pad] (0 always in range). */
export function sparkScale(
  values: readonly (number | null)[],
  width: number,
  height: number,
  pad = 2,
): SparkScale | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (!finite.length) return null;
  const max = Math.max(...finite);
  const min = Math.min(0, ...finite);
  const span = max - min || 1;
  const n = values.length;
  return {
    x: (i) => (n <= 1 ? width / 2 : (i / (n - 1)) * width),
    y: (v) => height - pad - ((v - min) / span) * (height - 2 * pad),
  };
}

/** SVG polyline point lists; a missing value splits the line. */
export function sparkPoints(
  values: readonly (number | null)[],
  width: number,
  height: number,
  pad = 2,
): string[] {
  const s = sparkScale(values, width, height, pad);
  if (!s) return [];
  const lines: string[] = [];
  let cur: string[] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (cur.length) lines.push(cur.join(" "));
      cur = [];
      return;
    }
    cur.push(`${s.x(i).toFixed(1)},${s.y(v).toFixed(1)}`);
  });
  if (cur.length) lines.push(cur.join(" "));
  return lines;
}

function el(name: string, attrs: Record<string, string>): SVGElement {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** A sparkline with a dot at index `mark` (the current step). */
export function sparkline(
  values: readonly (number | null)[],
  mark: number,
  width = 80,
  height = 20,
  color = "#f57c00",
): SVGSVGElement {
  const svg = el("svg", {
    width: String(width),
    height: String(height),
    viewBox: `0 0 ${width} ${height}`,
    class: "pc-spark",
    "aria-hidden": "true",
  }) as SVGSVGElement;
  const s = sparkScale(values, width, height);
  for (const pts of sparkPoints(values, width, height)) {
    if (pts.includes(" "))
      svg.appendChild(
        el("polyline", {
          points: pts,
          fill: "none",
          stroke: "rgba(0, 0, 0, 0.55)",
          "stroke-width": "1.25",
          class: "pc-spark-line",
        }),
      );
    else {
      const [cx, cy] = pts.split(",");
      svg.appendChild(
        el("circle", { cx, cy, r: "1.2", fill: "rgba(0, 0, 0, 0.55)", class: "pc-spark-dot" }),
      );
    }
  }
  const v = values[mark];
  if (s && v !== null && v !== undefined && Number.isFinite(v)) {
    svg.appendChild(
      el("circle", { cx: s.x(mark).toFixed(1), cy: s.y(v).toFixed(1), r: "2.5", fill: color }),
    );
  }
  return svg;
}

/** A sparkline in a span that carries a title. */
export function sparkBox(
  values: readonly (number | null)[],
  mark: number,
  title: string,
): HTMLElement {
  return h("span", { class: "pc-spark-box", title }, sparkline(values, mark));
}
