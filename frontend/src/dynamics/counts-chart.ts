// The counts over the steps: easy, ambiguous and hard-to-learn samples, likely label errors and
// forgotten samples of a class (or all), as lines on a canvas with a legend and a hover readout
// of the nearest step. A handful of lines over at most a few thousand steps: a canvas of its
// own is simpler than a chart library here.
import { h, setChildren } from "../ui/dom";
import { themeColors, currentTheme } from "../ui/theme";
import { niceTicks } from "../ui/color-scale";
import { placeTooltip } from "../ui/tooltip";
import { formatCount } from "../lib/format";
import { cacheKey } from "../lib/keys";
import type { CountSeries } from "./dynamics-model";

export const COUNT_LINES: {
  key: keyof CountSeries;
  label: string;
  color: string;
  dash: number[];
}[] = [
  { key: "easy", label: "Easy to learn", color: "#2c7fb8", dash: [] },
  { key: "ambiguous", label: "Ambiguous", color: "#e6a100", dash: [] },
  { key: "hard", label: "Hard to learn", color: "#d7301f", dash: [] },
  { key: "likelyErrors", label: "Likely label errors", color: "#7b3294", dash: [6, 3] },
  { key: "forgotten", label: "Forgotten ≥ 1×", color: "#888888", dash: [2, 3] },
];

const PAD = { left: 52, right: 12, top: 10, bottom: 30 };
const HEIGHT = 300;
const FONT = "11px Roboto, sans-serif";

export class CountsChart {
  readonly element: HTMLElement;
  private canvas: HTMLCanvasElement;
  private tooltip: HTMLElement;
  private series: CountSeries | null = null;
  private plot = { x: PAD.left, y: PAD.top, w: 0, h: 0 };
  private drawnKey = "";

  constructor() {
    this.canvas = h("canvas", {
      class: "pc-counts-canvas",
      attrs: { "data-role": "dynamics-counts", "aria-label": "Counts over the steps" },
      on: { mousemove: (e) => this.hover(e), mouseleave: () => (this.tooltip.hidden = true) },
    });
    this.tooltip = h("div", {
      class: "pc-tooltip",
      attrs: { "data-role": "counts-tooltip", hidden: true },
    });
    const legend = h(
      "div",
      { class: "pc-legend pc-counts-legend" },
      ...COUNT_LINES.map((line) =>
        h(
          "span",
          { class: "pc-legend-item" },
          h("span", {
            class: "pc-count-swatch",
            style: {
              "border-top": `2px ${line.dash.length ? "dashed" : "solid"} ${line.color}`,
            },
          }),
          line.label,
        ),
      ),
    );
    this.element = h("div", { class: "pc-counts-box" }, legend, this.canvas, this.tooltip);
  }

  draw(series: CountSeries, refreshKey: string): void {
    const width = Math.max(280, Math.floor(this.element.clientWidth || 420));
    const key = cacheKey(refreshKey, width, currentTheme());
    if (key === this.drawnKey && this.series === series) return;
    this.drawnKey = key;
    this.series = series;
    const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
    this.canvas.width = width * dpr;
    this.canvas.height = HEIGHT * dpr;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${HEIGHT}px`;
    this.plot = {
      x: PAD.left,
      y: PAD.top,
      w: width - PAD.left - PAD.right,
      h: HEIGHT - PAD.top - PAD.bottom,
    };
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const colors = themeColors();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = colors.background;
    ctx.fillRect(0, 0, width, HEIGHT);
    const { x, y, w, h: ph } = this.plot;
    const steps = series.steps;
    const top = Math.max(1, ...series.visited);
    const first = steps[0] ?? 0;
    const last = steps[steps.length - 1] ?? 1;
    const span = last - first || 1;
    const toX = (step: number) => (steps.length < 2 ? x + w / 2 : x + ((step - first) / span) * w);
    const toY = (v: number) => y + ph - (v / top) * ph;
    ctx.font = FONT;
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.axis;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of niceTicks(0, top, 5)) {
      ctx.beginPath();
      ctx.moveTo(x, toY(t) + 0.5);
      ctx.lineTo(x + w, toY(t) + 0.5);
      ctx.stroke();
      ctx.fillText(formatCount(t), x - 6, toY(t));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    // Steps are integers: no tick between two of them.
    for (const t of niceTicks(first, last, Math.max(2, Math.floor(w / 80))))
      if (t >= first && t <= last && Number.isInteger(t))
        ctx.fillText(String(t), toX(t), y + ph + 4);
    ctx.fillText("step", x + w / 2, y + ph + 16);
    ctx.strokeStyle = colors.frame;
    ctx.strokeRect(x - 0.5, y - 0.5, w + 1, ph + 1);
    for (const line of COUNT_LINES) {
      const values = series[line.key] as number[];
      ctx.strokeStyle = line.color;
      ctx.fillStyle = line.color;
      ctx.lineWidth = 1.75;
      ctx.setLineDash(line.dash);
      ctx.beginPath();
      values.forEach((v, i) =>
        i ? ctx.lineTo(toX(steps[i]), toY(v)) : ctx.moveTo(toX(steps[i]), toY(v)),
      );
      ctx.stroke();
      if (steps.length === 1) ctx.fillRect(toX(steps[0]) - 2, toY(values[0]) - 2, 4, 4);
    }
    ctx.setLineDash([]);
  }

  private hover(e: MouseEvent): void {
    const series = this.series;
    if (!series || !series.steps.length) return;
    const rect = this.canvas.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const steps = series.steps;
    const first = steps[0];
    const span = steps[steps.length - 1] - first || 1;
    const at = first + ((px - this.plot.x) / Math.max(1, this.plot.w)) * span;
    let i = 0;
    for (let k = 1; k < steps.length; k++)
      if (Math.abs(steps[k] - at) < Math.abs(steps[i] - at)) i = k;
    setChildren(
      this.tooltip,
      h("div", { class: "pc-tooltip-title" }, h("span", null, `Step ${steps[i]}`)),
      h("div", { class: "pc-tooltip-row" }, `Visited ${formatCount(series.visited[i])}`),
      ...COUNT_LINES.map((line) =>
        h(
          "div",
          { class: "pc-tooltip-row" },
          `${line.label}: ${formatCount((series[line.key] as number[])[i])}`,
        ),
      ),
    );
    placeTooltip(this.tooltip, this.element, px, e.clientY - rect.top, 12, {
      width: 180,
      height: 120,
    });
  }
}
