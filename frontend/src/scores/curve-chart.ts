// A canvas chart of curves on [0, 1] x [0, 1] (ROC, PR, precision/recall/F1 against the
// threshold): axes, grid, polylines with their colour and dash, an optional diagonal, a hover
// readout of the nearest point and an optional vertical marker the user drags. Drawing one class
// is a few thousand line segments at most: well under a millisecond; a drag redraws the chart
// once per animation frame.
import { h } from "../ui/dom";
import { themeColors } from "../ui/theme";
import { placeTooltip } from "../ui/tooltip";
import type { CurvePoint } from "./score-curves";

export interface ChartLine {
  key: string;
  label: string;
  points: CurvePoint[];
  color: string;
  dash: number[];
  width: number;
}

export interface ChartSpec {
  lines: ChartLine[];
  xLabel: string;
  yLabel: string;
  /** the chance line of a ROC curve */
  diagonal: boolean;
  /** a vertical line the user can drag (the threshold), in data units; null: none */
  marker: number | null;
  /** dotted vertical lines (the best-F1 thresholds), in data units */
  guides: { x: number; color: string }[];
  /** the message drawn instead when there is nothing to draw */
  empty: string;
}

export interface HoverInfo {
  line: ChartLine;
  point: CurvePoint;
}

const PAD = { left: 44, right: 12, top: 10, bottom: 34 };

export class CurveChart {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private tooltip: HTMLElement;
  private spec: ChartSpec | null = null;
  private dragging = false;
  private frame = 0;
  private pendingDrag: number | null = null;
  private resizeObs: ResizeObserver | null = null;

  constructor(
    role: string,
    private readonly events: {
      /** tooltip text of the nearest point (null: no tooltip) */
      describe?: (hover: HoverInfo) => string[] | null;
      /** the marker moved to x (data units), once per animation frame while dragging */
      drag?: (x: number) => void;
    } = {},
  ) {
    this.canvas = h("canvas", {
      class: "pc-curve-canvas",
      attrs: { "data-role": role, role: "img", "aria-label": role },
    });
    this.tooltip = h("div", { class: "pc-tooltip pc-curve-tooltip", attrs: { hidden: true } });
    this.element = h("div", { class: "pc-curve-box" }, this.canvas, this.tooltip);
    this.canvas.addEventListener("pointermove", (e) => this.onMove(e));
    this.canvas.addEventListener("pointerleave", () => {
      if (!this.dragging) this.tooltip.hidden = true;
    });
    this.canvas.addEventListener("pointerdown", (e) => this.onDown(e));
    this.canvas.addEventListener("pointerup", (e) => this.onUp(e));
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObs = new ResizeObserver(() => this.redraw());
      this.resizeObs.observe(this.element);
    }
  }

  draw(spec: ChartSpec): void {
    this.spec = spec;
    this.redraw();
  }

  /** pixel geometry of the plot area */
  private geometry() {
    const width = Math.max(160, this.element.clientWidth || 360);
    const height = Math.max(160, Math.min(width * 0.75, 420));
    return {
      width,
      height,
      x0: PAD.left,
      y0: PAD.top,
      w: width - PAD.left - PAD.right,
      h: height - PAD.top - PAD.bottom,
    };
  }

  private toPixel(g: ReturnType<CurveChart["geometry"]>, x: number, y: number): [number, number] {
    return [g.x0 + x * g.w, g.y0 + (1 - y) * g.h];
  }

  redraw(): void {
    const started = performance.now();
    this.paint();
    // how long the last draw took (read by the browser tests and bench/scores_draw.py)
    this.canvas.dataset.drawMs = (performance.now() - started).toFixed(2);
  }

  private paint(): void {
    const spec = this.spec;
    const ctx = this.canvas.getContext("2d");
    if (!spec || !ctx) return;
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
    // grid and ticks
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.axis;
    ctx.lineWidth = 1;
    for (let i = 0; i <= 5; i++) {
      const v = i / 5;
      const [px] = this.toPixel(g, v, 0);
      const [, py] = this.toPixel(g, 0, v);
      ctx.beginPath();
      ctx.moveTo(px + 0.5, g.y0);
      ctx.lineTo(px + 0.5, g.y0 + g.h);
      ctx.moveTo(g.x0, py + 0.5);
      ctx.lineTo(g.x0 + g.w, py + 0.5);
      ctx.stroke();
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(v.toFixed(1), px, g.y0 + g.h + 4);
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      ctx.fillText(v.toFixed(1), g.x0 - 5, py);
    }
    ctx.strokeStyle = colors.axis;
    ctx.strokeRect(g.x0 + 0.5, g.y0 + 0.5, g.w, g.h);
    ctx.fillStyle = colors.title;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(spec.xLabel, g.x0 + g.w / 2, g.height - 2);
    ctx.save();
    ctx.translate(11, g.y0 + g.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(spec.yLabel, 0, 0);
    ctx.restore();
    if (spec.diagonal) {
      ctx.strokeStyle = colors.grid;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(...this.toPixel(g, 0, 0));
      ctx.lineTo(...this.toPixel(g, 1, 1));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (!spec.lines.some((l) => l.points.length)) {
      ctx.fillStyle = colors.text;
      ctx.textBaseline = "middle";
      ctx.fillText(spec.empty, g.x0 + g.w / 2, g.y0 + g.h / 2);
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(g.x0, g.y0 - 2, g.w + 2, g.h + 4);
    ctx.clip();
    for (const line of spec.lines) {
      if (!line.points.length) continue;
      ctx.strokeStyle = line.color;
      ctx.lineWidth = line.width;
      ctx.setLineDash(line.dash);
      ctx.beginPath();
      line.points.forEach((p, i) => {
        const [px, py] = this.toPixel(g, p.x, p.y);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.stroke();
    }
    ctx.setLineDash([1, 3]);
    ctx.lineWidth = 1.5;
    for (const guide of spec.guides) {
      const [px] = this.toPixel(g, guide.x, 0);
      ctx.strokeStyle = guide.color;
      ctx.beginPath();
      ctx.moveTo(px, g.y0);
      ctx.lineTo(px, g.y0 + g.h);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.restore();
    if (spec.marker !== null) {
      const [px] = this.toPixel(g, spec.marker, 0);
      ctx.strokeStyle = colors.focus;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(px, g.y0);
      ctx.lineTo(px, g.y0 + g.h);
      ctx.stroke();
      ctx.fillStyle = colors.focus;
      ctx.beginPath();
      ctx.moveTo(px - 5, g.y0);
      ctx.lineTo(px + 5, g.y0);
      ctx.lineTo(px, g.y0 + 7);
      ctx.fill();
    }
  }

  /** data coordinates of a pointer event */
  private dataOf(e: PointerEvent): { x: number; y: number; px: number; py: number } {
    const rect = this.canvas.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    const g = this.geometry();
    return { x: (px - g.x0) / g.w, y: 1 - (py - g.y0) / g.h, px, py };
  }

  private nearMarker(px: number): boolean {
    const spec = this.spec;
    if (!spec || spec.marker === null) return false;
    const g = this.geometry();
    return Math.abs(g.x0 + spec.marker * g.w - px) <= 8;
  }

  private onDown(e: PointerEvent): void {
    const { x, px } = this.dataOf(e);
    if (!this.events.drag || !this.spec || this.spec.marker === null) return;
    if (!this.nearMarker(px) && (x < 0 || x > 1)) return;
    this.dragging = true;
    this.canvas.setPointerCapture?.(e.pointerId);
    this.moveMarker(x);
  }

  private onUp(e: PointerEvent): void {
    if (!this.dragging) return;
    this.dragging = false;
    this.canvas.releasePointerCapture?.(e.pointerId);
  }

  private moveMarker(x: number): void {
    this.pendingDrag = Math.min(1, Math.max(0, x));
    if (this.frame) return;
    const run = () => {
      this.frame = 0;
      if (this.pendingDrag !== null && this.events.drag) this.events.drag(this.pendingDrag);
      this.pendingDrag = null;
    };
    if (typeof requestAnimationFrame === "undefined") run();
    else this.frame = requestAnimationFrame(run);
  }

  private onMove(e: PointerEvent): void {
    const spec = this.spec;
    if (!spec) return;
    const { x, y, px, py } = this.dataOf(e);
    if (this.dragging) {
      this.moveMarker(x);
      return;
    }
    this.canvas.style.cursor = this.nearMarker(px) ? "ew-resize" : "crosshair";
    let best: HoverInfo | null = null;
    let bestDistance = 0.05 ** 2;
    for (const line of spec.lines)
      for (const point of line.points) {
        const d = (point.x - x) ** 2 + (point.y - y) ** 2;
        if (d < bestDistance) {
          bestDistance = d;
          best = { line, point };
        }
      }
    const text = best && this.events.describe ? this.events.describe(best) : null;
    if (!text) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.replaceChildren(...text.map((t) => h("div", null, t)));
    placeTooltip(this.tooltip, this.element, px, py, 12, { width: 180, height: 60 });
  }

  destroy(): void {
    this.resizeObs?.disconnect();
    if (this.frame && typeof cancelAnimationFrame !== "undefined") cancelAnimationFrame(this.frame);
  }
}
