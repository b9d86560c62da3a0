// A canvas heatmap with class labels, zoom and hover, shared by the confusion matrix and the
// class-by-step heatmap. One canvas holds the cells (rasterised by heat-raster.ts into ImageData,
// never one DOM node per cell), the grid, the cell values when cells are big, the labels and
// the axis titles; an overlay canvas holds the hover outline, the focused row/column and the
// drag rectangle. Text is drawn with fillText: data never becomes HTML.
//
// Mouse: wheel zooms around the pointer, drag draws a rectangle to zoom into, shift+drag pans,
// double-click resets. Keyboard (when focused): arrows pan, + and - zoom, 0 resets. Where things
// go: heat-layout.ts; how the view moves: heat-navigation.ts.
import { h } from "./dom";
import { cellToPixel, renderHeatmap } from "./heat-raster";
import { measured } from "../lib/perf";
import { clampView, fullView, isFull, rectView, type Viewport } from "../lib/zoom";
import { draggedViewport, keyViewport, wheelViewport } from "./heat-navigation";
import { themeColors } from "./theme";
import {
  bandRect,
  cellAt,
  cellCenter,
  computeLayout,
  fitText,
  FONT,
  MAX_COL_LABEL,
  rowLabelAt,
  TITLE_FONT,
  type HeatHandlers,
  type HeatSpec,
  type Layout,
  type Marks,
} from "./heat-layout";

export class HeatCanvas {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private overlay: HTMLCanvasElement;
  private spec: HeatSpec | null = null;
  private vp: Viewport = { r0: 0, r1: 1, c0: 0, c1: 1 };
  private marks: Marks = {};
  private layout: Layout | null = null;
  private hover: { r: number; c: number } | null = null;
  private drag: {
    x0: number;
    y0: number;
    x1: number;
    y1: number;
    pan: boolean;
    vp: Viewport;
  } | null = null;
  private resizeObs: ResizeObserver | null = null;
  private image: ImageData | null = null;
  /** how long the last draw took (cells + labels), ms */
  lastDrawMs = 0;
  /** how long the last rasterisation of the cells alone took, ms */
  lastRasterMs = 0;

  constructor(private readonly handlers: HeatHandlers) {
    this.canvas = h("canvas", { class: "pc-heat-canvas", attrs: { "data-role": "heat-canvas" } });
    this.overlay = h("canvas", {
      class: "pc-heat-overlay",
      attrs: {
        "data-role": "heat-overlay",
        tabindex: 0,
        "aria-label": "Heatmap: wheel to zoom, drag a rectangle to zoom in, double-click to reset",
      },
    });
    // sized by its box, never by its canvases (no resize feedback loop, whatever the CSS)
    this.element = h(
      "div",
      {
        class: "pc-heat",
        attrs: { "data-role": "heat" },
        style: { position: "absolute", inset: "0", overflow: "hidden" },
      },
      this.canvas,
      this.overlay,
    );
    this.overlay.addEventListener("mousemove", (e) => this.onMove(e));
    this.overlay.addEventListener("mouseleave", () => {
      if (!this.drag) this.setHover(null);
    });
    this.overlay.addEventListener("mousedown", (e) => this.onDown(e));
    this.overlay.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    this.overlay.addEventListener("dblclick", () => this.commit(null));
    this.overlay.addEventListener("keydown", (e) => this.onKey(e));
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObs = new ResizeObserver(() => this.draw());
      this.resizeObs.observe(this.element);
    }
  }

  /** Shows `spec` through `viewport` (null = everything). */
  set(spec: HeatSpec, viewport: Viewport | null): void {
    this.spec = spec;
    this.vp = viewport
      ? clampView(viewport, spec.nRows, spec.nCols)
      : fullView(spec.nRows, spec.nCols);
    this.draw();
  }

  setMarks(marks: Marks): void {
    this.marks = marks;
    this.drawOverlay();
  }

  get viewport(): Viewport {
    return this.vp;
  }

  /** The plot area, CSS px relative to the component (tests, tools). */
  get plotRect(): Layout["plot"] | null {
    return this.layout?.plot ?? null;
  }

  /** Centre of a cell in CSS px relative to the component, or null when it is out of view. */
  cellCenter(r: number, c: number): { x: number; y: number } | null {
    return this.layout ? cellCenter(this.layout, this.vp, r, c) : null;
  }

  destroy(): void {
    this.resizeObs?.disconnect();
  }

  /** Gives the keyboard focus to the heatmap (its keys pan and zoom). */
  focus(): void {
    this.overlay.focus({ preventScroll: true });
  }

  /** The display row whose label is under a point, or null (no labels drawn, or elsewhere). */
  rowLabelAt(x: number, y: number): number | null {
    return this.layout ? rowLabelAt(this.layout, this.vp, x, y) : null;
  }

  private dpr(): number {
    return (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  }

  private measureWith(ctx: CanvasRenderingContext2D | null): (s: string) => number {
    if (ctx) {
      ctx.font = FONT;
      return (s) => ctx.measureText(s).width;
    }
    return (s) => s.length * 6.2;
  }

  /** Redraws the cells, labels and overlay at the component's current size. */
  draw(): void {
    const spec = this.spec;
    if (!spec) return;
    const t0 = now();
    const rect = this.element.getBoundingClientRect();
    const width = Math.max(120, Math.floor(rect.width || 600));
    const height = Math.max(120, Math.floor(rect.height || 400));
    const dpr = this.dpr();
    const ctx = this.canvas.getContext("2d");
    const measure = this.measureWith(ctx);
    const v = this.vp;
    const rows = v.r1 - v.r0;
    const cols = v.c1 - v.c0;
    // the longest labels in view (only measured when few enough to be drawn)
    let longestRow = 0;
    let longestCol = 0;
    if (rows <= 200)
      for (let r = v.r0; r < v.r1; r++)
        longestRow = Math.max(longestRow, measure(spec.rowLabel(r)));
    if (cols <= 200 && spec.colLabelStyle === "names")
      for (let c = v.c0; c < v.c1; c++)
        longestCol = Math.max(longestCol, measure(spec.colLabel(c)));
    const L = computeLayout(width, height, spec, rows, cols, longestRow, longestCol);
    this.layout = L;
    for (const cv of [this.canvas, this.overlay]) {
      if (cv.width !== Math.round(width * dpr)) cv.width = Math.round(width * dpr);
      if (cv.height !== Math.round(height * dpr)) cv.height = Math.round(height * dpr);
      cv.style.width = `${width}px`;
      cv.style.height = `${height}px`;
    }
    this.element.setAttribute("data-rows", `${v.r0},${v.r1}`);
    this.element.setAttribute("data-cols", `${v.c0},${v.c1}`);
    this.element.setAttribute("data-labels", L.rowLabels ? "on" : "off");
    // the plot area in CSS px inside the component (tests and tools hover cells with it)
    this.element.setAttribute("data-plot", `${L.plot.x},${L.plot.y},${L.plot.w},${L.plot.h}`);
    if (!ctx) return; // no canvas (DOM tests): layout and hit-testing still work
    // the theme's colours now: a theme switch redraws
    const colors = themeColors();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = colors.background;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    // cells: device pixels, one ImageData for the plot area
    const px = Math.round(L.plot.x * dpr);
    const py = Math.round(L.plot.y * dpr);
    const pw = Math.max(1, Math.round(L.plot.w * dpr));
    const ph = Math.max(1, Math.round(L.plot.h * dpr));
    if (!this.image || this.image.width !== pw || this.image.height !== ph)
      this.image = ctx.createImageData(pw, ph);
    const tr = now();
    const image = this.image;
    measured("draw:heat-cells", () =>
      renderHeatmap(image.data, pw, ph, spec.source, v, spec.scale),
    );
    this.lastRasterMs = now() - tr;
    ctx.putImageData(this.image, px, py);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const cw = L.plot.w / cols;
    const ch = L.plot.h / rows;
    // grid lines between big cells
    if (cw >= 8 && ch >= 8 && rows * cols <= 40000) {
      ctx.fillStyle = colors.backgroundSoft;
      for (let c = v.c0 + 1; c < v.c1; c++) {
        const x = cellToPixel(c, pw, v.c0, cols) / dpr;
        ctx.fillRect(L.plot.x + x - 0.5, L.plot.y, 1, L.plot.h);
      }
      for (let r = v.r0 + 1; r < v.r1; r++) {
        const y = cellToPixel(r, ph, v.r0, rows) / dpr;
        ctx.fillRect(L.plot.x, L.plot.y + y - 0.5, L.plot.w, 1);
      }
    }
    // values inside big cells
    if (spec.cellText && cw >= 26 && ch >= 15 && rows * cols <= 2500) {
      ctx.font = ch >= 22 && cw >= 40 ? "12px Roboto, sans-serif" : FONT;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (let r = v.r0; r < v.r1; r++) {
        for (let c = v.c0; c < v.c1; c++) {
          const text = spec.cellText(r, c);
          if (!text) continue;
          if (ctx.measureText(text).width > cw - 4) continue;
          const x0 = L.plot.x + cellToPixel(c, pw, v.c0, cols) / dpr;
          const x1 = L.plot.x + cellToPixel(c + 1, pw, v.c0, cols) / dpr;
          const y0 = L.plot.y + cellToPixel(r, ph, v.r0, rows) / dpr;
          const y1 = L.plot.y + cellToPixel(r + 1, ph, v.r0, rows) / dpr;
          const val =
            spec.source.values[spec.source.rowIdx[r] * spec.source.stride + spec.source.colIdx[c]];
          const diag = spec.source.maskDiagonal && spec.source.rowIdx[r] === spec.source.colIdx[c];
          ctx.fillStyle = diag ? colors.diagonalText : spec.scale.textColor(val);
          ctx.fillText(text, (x0 + x1) / 2, (y0 + y1) / 2 + 0.5);
        }
      }
    }
    ctx.strokeStyle = colors.frame;
    ctx.lineWidth = 1;
    ctx.strokeRect(L.plot.x - 0.5, L.plot.y - 0.5, L.plot.w + 1, L.plot.h + 1);
    this.drawLabels(ctx, spec, L, measure);
    this.lastDrawMs = now() - t0;
    this.element.setAttribute("data-draw-ms", this.lastDrawMs.toFixed(2));
    this.drawOverlay();
  }

  private drawLabels(
    ctx: CanvasRenderingContext2D,
    spec: HeatSpec,
    L: Layout,
    measure: (s: string) => number,
  ): void {
    const v = this.vp;
    const rows = v.r1 - v.r0;
    const cols = v.c1 - v.c0;
    const cw = L.plot.w / cols;
    const ch = L.plot.h / rows;
    const colors = themeColors();
    ctx.font = FONT;
    ctx.fillStyle = colors.text;
    if (L.rowLabels) {
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      for (let r = v.r0; r < v.r1; r++) {
        const y = L.plot.y + (r - v.r0 + 0.5) * ch;
        ctx.fillText(fitText(measure, spec.rowLabel(r), L.labelWidth), L.plot.x - 5, y);
      }
    }
    const bottom = L.plot.y + L.plot.h;
    if (spec.colLabelStyle === "names" && L.colLabels && !L.colRotated) {
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      for (let c = v.c0; c < v.c1; c++) {
        const x = L.plot.x + (c - v.c0 + 0.5) * cw;
        ctx.fillText(fitText(measure, spec.colLabel(c), cw - 4), x, bottom + 4);
      }
    } else if (spec.colLabelStyle === "names" && L.colLabels) {
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      const maxLen = MAX_COL_LABEL / Math.SQRT1_2 - 14;
      for (let c = v.c0; c < v.c1; c++) {
        const x = L.plot.x + (c - v.c0 + 0.5) * cw;
        ctx.save();
        ctx.translate(x, bottom + 5);
        ctx.rotate(-Math.PI / 4);
        ctx.fillText(fitText(measure, spec.colLabel(c), maxLen), 0, 0);
        ctx.restore();
      }
    } else if (spec.colLabelStyle === "ticks") {
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      const every = Math.max(1, Math.ceil(64 / cw));
      let lastRight = -Infinity;
      for (let c = v.c0; c < v.c1; c++) {
        const last = c === v.c1 - 1;
        if ((c - v.c0) % every !== 0 && !last) continue;
        const x = L.plot.x + (c - v.c0 + 0.5) * cw;
        const text = spec.colLabel(c);
        const w = measure(text);
        // the last column is labelled too, unless it would crowd its neighbour
        if (x - w / 2 < lastRight + (last && (c - v.c0) % every !== 0 ? 24 : 6)) continue;
        ctx.fillRect(x - 0.5, bottom, 1, 3);
        ctx.fillText(text, x, bottom + 4);
        lastRight = x + w / 2;
      }
    }
    // axis titles
    ctx.font = TITLE_FONT;
    ctx.fillStyle = colors.title;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(fitText(measure, spec.colTitle, L.plot.w), L.plot.x + L.plot.w / 2, L.height - 2);
    ctx.save();
    ctx.translate(12, L.plot.y + L.plot.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(fitText(measure, spec.rowTitle, L.plot.h), 0, 0);
    ctx.restore();
  }

  private drawOverlay(): void {
    const L = this.layout;
    const ctx = this.overlay.getContext("2d");
    if (!L || !ctx) return;
    const dpr = this.dpr();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const v = this.vp;
    const inRows = (r: number) => r >= v.r0 && r < v.r1;
    const inCols = (c: number) => c >= v.c0 && c < v.c1;
    const { row, col, cell } = this.marks;
    const colors = themeColors();
    ctx.lineWidth = 2;
    ctx.strokeStyle = colors.focus;
    if (row !== null && row !== undefined && inRows(row)) {
      const [x, y, w, hh] = bandRect(L, this.vp, row, row + 1, v.c0, v.c1);
      ctx.fillStyle = colors.focusFill;
      ctx.fillRect(x, y, w, hh);
      ctx.strokeRect(x, y, w, Math.max(hh, 1));
    }
    if (col !== null && col !== undefined && inCols(col)) {
      const [x, y, w, hh] = bandRect(L, this.vp, v.r0, v.r1, col, col + 1);
      ctx.fillStyle = colors.focusFill;
      ctx.fillRect(x, y, w, hh);
      ctx.strokeRect(x, y, Math.max(w, 1), hh);
    }
    const outline = (r: number, c: number, color: string) => {
      if (!inRows(r) || !inCols(c)) return;
      const [x, y, w, hh] = bandRect(L, this.vp, r, r + 1, c, c + 1);
      const pad = w < 6 || hh < 6 ? 3 : 0;
      ctx.strokeStyle = colors.outlineHalo;
      ctx.lineWidth = 3;
      ctx.strokeRect(x - pad, y - pad, w + 2 * pad, hh + 2 * pad);
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.strokeRect(x - pad, y - pad, w + 2 * pad, hh + 2 * pad);
    };
    if (cell) outline(cell[0], cell[1], colors.focus);
    if (this.hover) outline(this.hover.r, this.hover.c, colors.hoverOutline);
    if (this.drag && !this.drag.pan) {
      const d = this.drag;
      ctx.fillStyle = colors.focusFill;
      ctx.strokeStyle = colors.focus;
      ctx.lineWidth = 1;
      const x = Math.min(d.x0, d.x1);
      const y = Math.min(d.y0, d.y1);
      ctx.fillRect(x, y, Math.abs(d.x1 - d.x0), Math.abs(d.y1 - d.y0));
      ctx.strokeRect(x + 0.5, y + 0.5, Math.abs(d.x1 - d.x0), Math.abs(d.y1 - d.y0));
    }
  }

  /** The cell under a point (CSS px relative to the component), or null outside the plot. */
  cellAt(x: number, y: number, clampToPlot = false): { r: number; c: number } | null {
    return this.layout ? cellAt(this.layout, this.vp, x, y, this.dpr(), clampToPlot) : null;
  }

  private point(e: MouseEvent): { x: number; y: number } {
    const b = this.overlay.getBoundingClientRect();
    return { x: e.clientX - b.left, y: e.clientY - b.top };
  }

  /** Hover a cell by display position (tests and the side lists use it too). */
  setHover(cell: { r: number; c: number } | null, at?: { x: number; y: number }): void {
    const same =
      (cell === null && this.hover === null) ||
      (cell && this.hover && cell.r === this.hover.r && cell.c === this.hover.c);
    this.hover = cell;
    if (!same) this.drawOverlay();
    if (!cell) {
      this.handlers.onHover(null);
      return;
    }
    const p = at ?? this.cellCenter(cell.r, cell.c) ?? { x: 0, y: 0 };
    this.handlers.onHover({ r: cell.r, c: cell.c, x: p.x, y: p.y });
  }

  private onMove(e: MouseEvent): void {
    const p = this.point(e);
    if (this.drag) {
      this.drag.x1 = p.x;
      this.drag.y1 = p.y;
      if (this.drag.pan) this.panBy(this.drag);
      else this.drawOverlay();
      return;
    }
    this.setHover(this.cellAt(p.x, p.y), p);
    if (this.handlers.onRowLabelClick)
      this.overlay.style.cursor = this.rowLabelAt(p.x, p.y) !== null ? "pointer" : "";
  }

  private panBy(d: { x0: number; y0: number; x1: number; y1: number; vp: Viewport }): void {
    const L = this.layout;
    const spec = this.spec;
    if (!L || !spec) return;
    const next = draggedViewport(d.vp, L.plot, d.x1 - d.x0, d.y1 - d.y0, spec.nRows, spec.nCols);
    if (next.r0 !== this.vp.r0 || next.c0 !== this.vp.c0) {
      this.vp = next;
      this.draw();
    }
  }

  private onDown(e: MouseEvent): void {
    if (e.button !== 0 || !this.layout) return;
    const p = this.point(e);
    if (!this.cellAt(p.x, p.y)) {
      const r = this.handlers.onRowLabelClick ? this.rowLabelAt(p.x, p.y) : null;
      if (r !== null) {
        e.preventDefault();
        this.handlers.onRowLabelClick!(r);
      }
      return;
    }
    e.preventDefault();
    this.overlay.focus({ preventScroll: true });
    this.drag = { x0: p.x, y0: p.y, x1: p.x, y1: p.y, pan: e.shiftKey, vp: { ...this.vp } };
    const up = (ev: MouseEvent) => {
      window.removeEventListener("mouseup", up);
      window.removeEventListener("mousemove", move);
      const d = this.drag;
      this.drag = null;
      if (!d) return;
      const q = this.point(ev);
      d.x1 = q.x;
      d.y1 = q.y;
      const moved = Math.abs(d.x1 - d.x0) > 4 || Math.abs(d.y1 - d.y0) > 4;
      if (d.pan) {
        this.commit(this.vp);
        return;
      }
      if (!moved) {
        this.drawOverlay();
        const cell = this.cellAt(d.x0, d.y0);
        if (cell) this.handlers.onClick?.(cell.r, cell.c);
        return;
      }
      const a = this.cellAt(d.x0, d.y0, true);
      const b = this.cellAt(d.x1, d.y1, true);
      if (a && b && this.spec) this.commit(rectView(a, b, this.spec.nRows, this.spec.nCols));
      else this.drawOverlay();
    };
    const move = (ev: MouseEvent) => {
      if (ev.target !== this.overlay) this.onMove(ev);
    };
    window.addEventListener("mouseup", up);
    window.addEventListener("mousemove", move);
  }

  private onWheel(e: WheelEvent): void {
    const spec = this.spec;
    const L = this.layout;
    if (!spec || !L) return;
    const p = this.point(e);
    const cell = this.cellAt(p.x, p.y);
    if (!cell) return;
    e.preventDefault();
    this.commit(wheelViewport(e.deltaY, L.plot, this.vp, p.x, p.y, spec.nRows, spec.nCols));
    this.setHover(this.cellAt(p.x, p.y), p);
  }

  private onKey(e: KeyboardEvent): void {
    const spec = this.spec;
    if (!spec) return;
    const next = keyViewport(e.key, this.vp, spec.nRows, spec.nCols);
    if (next === undefined) return;
    e.preventDefault();
    this.commit(next);
  }

  /** Applies a new viewport and tells the owner (null when it shows everything). */
  private commit(vp: Viewport | null): void {
    const spec = this.spec;
    if (!spec) return;
    const next = vp ? clampView(vp, spec.nRows, spec.nCols) : fullView(spec.nRows, spec.nCols);
    const changed =
      next.r0 !== this.vp.r0 ||
      next.r1 !== this.vp.r1 ||
      next.c0 !== this.vp.c0 ||
      next.c1 !== this.vp.c1;
    this.vp = next;
    if (changed) this.draw();
    this.handlers.onViewport(isFull(next, spec.nRows, spec.nCols) ? null : next);
  }
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}
