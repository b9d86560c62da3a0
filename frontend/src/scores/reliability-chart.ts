// A reliability diagram on a canvas: per equal-width confidence bin, a bar up to the share of
// its predictions that were right, the gap to the bin's mean confidence shaded (red: more
// confident than right, blue: less), the diagonal of perfect calibration, and the bin counts as
// a strip of bars below. Hovering a bin tells its numbers.
import { h } from "../ui/dom";
import { themeColors } from "../ui/theme";
import { placeTooltip } from "../ui/tooltip";
import { formatCount, formatMetric } from "../lib/format";
import type { ReliabilityBar } from "./score-curves";

const PAD = { left: 44, right: 10, top: 10, bottom: 30 };
const STRIP = 36; // height of the counts strip
const OVER = "rgba(220, 60, 50, 0.45)";
const UNDER = "rgba(50, 110, 220, 0.45)";

export class ReliabilityChart {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private tooltip: HTMLElement;
  private bars: ReliabilityBar[] = [];
  private resizeObs: ResizeObserver | null = null;

  constructor(role: string) {
    this.canvas = h("canvas", {
      class: "pc-curve-canvas",
      attrs: { "data-role": role, role: "img", "aria-label": "reliability diagram" },
    });
    this.tooltip = h("div", { class: "pc-tooltip pc-curve-tooltip", attrs: { hidden: true } });
    this.element = h("div", { class: "pc-curve-box" }, this.canvas, this.tooltip);
    this.canvas.addEventListener("pointermove", (e) => this.onMove(e));
    this.canvas.addEventListener("pointerleave", () => (this.tooltip.hidden = true));
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObs = new ResizeObserver(() => this.redraw());
      this.resizeObs.observe(this.element);
    }
  }

  draw(bars: ReliabilityBar[]): void {
    this.bars = bars;
    this.redraw();
  }

  private geometry() {
    const width = Math.max(160, this.element.clientWidth || 300);
    const height = Math.max(180, Math.min(width * 0.8, 360));
    const h = height - PAD.top - PAD.bottom - STRIP;
    return { width, height, x0: PAD.left, y0: PAD.top, w: width - PAD.left - PAD.right, h };
  }

  redraw(): void {
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const g = this.geometry();
    const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
    this.canvas.width = Math.round(g.width * dpr);
    this.canvas.height = Math.round(g.height * dpr);
    this.canvas.style.width = `${g.width}px`;
    this.canvas.style.height = `${g.height}px`;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const colors = themeColors();
    ctx.clearRect(0, 0, g.width, g.height);
    ctx.font = "11px system-ui, sans-serif";
    const px = (v: number) => g.x0 + v * g.w;
    const py = (v: number) => g.y0 + (1 - v) * g.h;
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.axis;
    for (let i = 0; i <= 4; i++) {
      const v = i / 4;
      ctx.beginPath();
      ctx.moveTo(g.x0, py(v) + 0.5);
      ctx.lineTo(g.x0 + g.w, py(v) + 0.5);
      ctx.stroke();
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      ctx.fillText(v.toFixed(2), g.x0 - 5, py(v));
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(v.toFixed(2), px(v), g.y0 + g.h + STRIP + 4);
    }
    for (const bar of this.bars) {
      if (bar.count === 0 || bar.accuracy === null) continue;
      const left = px(bar.low) + 1;
      const width = Math.max(1, px(bar.high) - px(bar.low) - 2);
      ctx.fillStyle = colors.focusFill;
      ctx.fillRect(left, py(bar.accuracy), width, py(0) - py(bar.accuracy));
      ctx.strokeStyle = colors.focus;
      ctx.strokeRect(left + 0.5, py(bar.accuracy) + 0.5, width - 1, py(0) - py(bar.accuracy));
      if (bar.confidence !== null) {
        const top = Math.max(bar.confidence, bar.accuracy);
        const bottom = Math.min(bar.confidence, bar.accuracy);
        ctx.fillStyle = bar.confidence > bar.accuracy ? OVER : UNDER;
        ctx.fillRect(left, py(top), width, py(bottom) - py(top));
      }
    }
    ctx.strokeStyle = colors.axis;
    ctx.setLineDash([4, 4]);
    ctx.beginPath();
    ctx.moveTo(px(0), py(0));
    ctx.lineTo(px(1), py(1));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.strokeRect(g.x0 + 0.5, g.y0 + 0.5, g.w, g.h);
    // the counts strip, on a square-root scale so that small bins stay visible
    const most = Math.max(1, ...this.bars.map((b) => b.count));
    const stripTop = g.y0 + g.h + 4;
    ctx.fillStyle = colors.axis;
    for (const bar of this.bars) {
      if (!bar.count) continue;
      const height = Math.max(1, Math.sqrt(bar.count / most) * (STRIP - 8));
      ctx.fillRect(
        px(bar.low) + 1,
        stripTop + STRIP - 8 - height,
        px(bar.high) - px(bar.low) - 2,
        height,
      );
    }
    ctx.fillStyle = colors.title;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText("Confidence", g.x0 + g.w / 2, g.height - 1);
    ctx.save();
    ctx.translate(11, g.y0 + g.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText("Accuracy", 0, 0);
    ctx.restore();
  }

  private onMove(e: PointerEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const g = this.geometry();
    const v = (x - g.x0) / g.w;
    const bar = this.bars.find((b) => v >= b.low && v < b.high);
    if (!bar || v < 0 || v > 1) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.replaceChildren(
      h("div", null, `Confidence ${formatMetric(bar.low, 3)}–${formatMetric(bar.high, 3)}`),
      h("div", null, `${formatCount(bar.count)} predictions`),
      h("div", null, `Accuracy ${formatMetric(bar.accuracy)}`),
      h("div", null, `Mean confidence ${formatMetric(bar.confidence)}`),
    );
    placeTooltip(this.tooltip, this.element, x, y, 12, { width: 170, height: 70 });
  }

  destroy(): void {
    this.resizeObs?.disconnect();
  }
}
