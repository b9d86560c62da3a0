// The data map: variability (x) against confidence (y) of every tracked sample on one canvas,
// coloured by correctness, with the regions' boundaries, axes, a correctness legend and a hover
// tooltip (the nearest point). The points are rasterised into ImageData (map-raster.ts), so
// 100k points draw in milliseconds; labels are drawn with fillText (never HTML).
import { h } from "../ui/dom";
import { themeColors, currentTheme } from "../ui/theme";
import { hexToRgb, lutFor } from "../ui/color-scale";
import { placeTooltip } from "../ui/tooltip";
import type { DataMap } from "../data/types";
import { cacheKey } from "../lib/keys";
import { HitGrid, renderScatter, toPixelX, toPixelY } from "./map-raster";
import { CORRECTNESS_STOPS, mapSelection, pointValues } from "./dynamics-model";

const PAD = { left: 46, right: 14, top: 10, bottom: 38 };
const HEIGHT = 360;
const FONT = "11px Roboto, sans-serif";

export class MapPanel {
  readonly element: HTMLElement;
  private canvas: HTMLCanvasElement;
  private tooltip: HTMLElement;
  private grid: HitGrid | null = null;
  private map: DataMap | null = null;
  private plot = { x: PAD.left, y: PAD.top, w: 0, h: 0 };
  private drawnKey = "";
  /** points drawn by the last render (tests read it: happy-dom has no canvas) */
  drawn = 0;

  constructor(private readonly regions: () => { easy: number; hard: number }) {
    this.canvas = h("canvas", {
      class: "pc-map-canvas",
      attrs: { "data-role": "data-map", "aria-label": "Data map" },
      on: {
        mousemove: (e) => this.hover(e),
        mouseleave: () => (this.tooltip.hidden = true),
      },
    });
    this.tooltip = h("div", {
      class: "pc-tooltip",
      attrs: { "data-role": "map-tooltip", hidden: true },
    });
    const ramp = h("span", {
      class: "pc-map-ramp",
      style: { background: `linear-gradient(to right, ${CORRECTNESS_STOPS.join(", ")})` },
    });
    this.element = h(
      "div",
      { class: "pc-map-box" },
      this.canvas,
      this.tooltip,
      h(
        "div",
        { class: "pc-map-legend", attrs: { "data-role": "map-legend" } },
        h("span", null, "Correct in: none of its visits"),
        ramp,
        h("span", null, "all"),
      ),
    );
  }

  /** Draws the points of class `label` (all when null); skipped when nothing changed. */
  draw(map: DataMap, label: number | null): void {
    const width = Math.max(320, Math.floor(this.element.clientWidth || 560));
    const key = cacheKey(map.run, map.name, map.step, label, width, currentTheme());
    if (key === this.drawnKey && this.map === map) return;
    this.drawnKey = key;
    this.map = map;
    const started = performance.now();
    const { points, order, shown } = mapSelection(map, label);
    this.drawn = shown;
    const plot = {
      x: PAD.left,
      y: PAD.top,
      w: width - PAD.left - PAD.right,
      h: HEIGHT - PAD.top - PAD.bottom,
    };
    this.plot = plot;
    const size = order.length > 20_000 ? 1 : order.length > 2000 ? 2 : 3;
    const shape = {
      width: plot.w,
      height: plot.h,
      size,
      alpha: order.length > 20_000 ? 0.45 : 0.8,
    };
    this.grid = new HitGrid(points, order, shape);
    const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
    this.canvas.width = width * dpr;
    this.canvas.height = HEIGHT * dpr;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${HEIGHT}px`;
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return; // no canvas (tests): the hit grid still answers hovers
    const colors = themeColors();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = colors.background;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    // The points at CSS-pixel resolution, then scaled: the grid and the image agree.
    const image = ctx.createImageData(plot.w, plot.h);
    const [r, g, b] = hexToRgb(colors.background.length === 4 ? "#ffffff" : colors.background);
    for (let i = 0; i < image.data.length; i += 4) {
      image.data[i] = r;
      image.data[i + 1] = g;
      image.data[i + 2] = b;
      image.data[i + 3] = 255;
    }
    renderScatter(points, order, shape, lutFor(CORRECTNESS_STOPS), image.data);
    const layer = document.createElement("canvas");
    layer.width = plot.w;
    layer.height = plot.h;
    layer.getContext("2d")?.putImageData(image, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(layer, plot.x, plot.y);
    this.drawFrame(ctx, colors);
    // How long the points took (selection, order, raster, hover grid): read by the browser tests.
    this.canvas.dataset.drawMs = (performance.now() - started).toFixed(1);
    this.canvas.dataset.points = String(shown);
  }

  private drawFrame(ctx: CanvasRenderingContext2D, colors: ReturnType<typeof themeColors>): void {
    const { x, y, w, h: ph } = this.plot;
    const toX = (variability: number) => x + (variability / 0.5) * w;
    const toY = (confidence: number) => y + ph - confidence * ph;
    ctx.strokeStyle = colors.frame;
    ctx.lineWidth = 1;
    ctx.strokeRect(x - 0.5, y - 0.5, w + 1, ph + 1);
    ctx.font = FONT;
    ctx.fillStyle = colors.axis;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const v of [0, 0.1, 0.2, 0.3, 0.4, 0.5]) ctx.fillText(v.toFixed(1), toX(v), y + ph + 4);
    ctx.fillText("variability (std of p(given label) over the visits)", x + w / 2, y + ph + 20);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const c of [0, 0.25, 0.5, 0.75, 1]) ctx.fillText(c.toFixed(2), x - 6, toY(c));
    ctx.save();
    ctx.translate(12, y + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText("confidence (mean p(given label))", 0, 0);
    ctx.restore();
    // The regions: bands of confidence (easy above the upper line, hard below the lower).
    const bounds = this.regions();
    ctx.setLineDash([4, 4]);
    ctx.strokeStyle = colors.axis;
    ctx.beginPath();
    for (const c of [bounds.easy, bounds.hard]) {
      ctx.moveTo(x, Math.round(toY(c)) + 0.5);
      ctx.lineTo(x + w, Math.round(toY(c)) + 0.5);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = colors.title;
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText("easy to learn", x + w - 6, toY(bounds.easy) - 3);
    ctx.fillText("ambiguous", x + w - 6, toY(bounds.hard) - 3);
    ctx.textBaseline = "top";
    ctx.fillText("hard to learn", x + w - 6, toY(bounds.hard) + 3);
  }

  /** The point nearest the pointer, or -1. */
  pointAt(px: number, py: number): number {
    if (!this.grid) return -1;
    return this.grid.nearest(px - this.plot.x, py - this.plot.y);
  }

  private hover(e: MouseEvent): void {
    const map = this.map;
    if (!map) return;
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const i = this.pointAt(x, y);
    if (i < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const p = pointValues(map, i);
    this.tooltip.replaceChildren(
      h("div", { class: "pc-tooltip-title" }, h("span", null, `Sample ${p.id}`)),
      h("div", { class: "pc-tooltip-row" }, `Given label: ${map.class_names[p.label]}`),
      h("div", { class: "pc-tooltip-row" }, `Confidence ${p.confidence.toFixed(2)}`),
      h("div", { class: "pc-tooltip-row" }, `Variability ${p.variability.toFixed(3)}`),
      h(
        "div",
        { class: "pc-tooltip-row" },
        `Correct in ${(p.correctness * 100).toFixed(0)}% of visits`,
      ),
    );
    placeTooltip(this.tooltip, this.element, x, y, 12, { width: 180, height: 90 });
  }
}

/** Where a map point of `map` is drawn, in the panel's CSS pixels (tests, e2e). */
export function pointPixel(map: DataMap, i: number, width: number): { x: number; y: number } {
  const w = width - PAD.left - PAD.right;
  const ph = HEIGHT - PAD.top - PAD.bottom;
  return {
    x: PAD.left + toPixelX(map.variability[i], i, w),
    y: PAD.top + toPixelY(map.confidence[i], i, ph),
  };
}
