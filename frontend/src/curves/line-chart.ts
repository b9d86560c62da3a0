// The line chart: uPlot for the axes, zoom, cursor and the few lines in front (highlighted,
// means); the many class lines behind them (1000 at 1000 classes) drawn as pixels in one pass
// each (line-raster.ts) under uPlot's series, after its grid; an overlay canvas for the hovered
// line; mean labels drawn in a draw hook. The view talks to it only through LineChart
// (chart-model.ts), so DOM tests can swap in a fake (happy-dom has no canvas).
import uPlot from "uplot";
import { bulkLines, type ChartFactory } from "./chart-model";
import { fitLabelMargin, spreadApart } from "./label-spread";
import { LineRaster, pixelCentre, type Rgba } from "./line-raster";
import type { LineValues } from "./line-values";
import { LineIndex, nearestLine } from "./nearest-line";
import { themeColors } from "../ui/theme";

const FONT = "11px Roboto, sans-serif";

/** Tick spacings for a step axis: whole steps only. */
const STEP_INCRS: number[] = [];
for (let mag = 1; mag <= 1e12; mag *= 10) STEP_INCRS.push(mag, 2 * mag, 5 * mag);

function axisSize(self: uPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  const axis = self.axes[axisIdx] as uPlot.Axis & { _size?: number };
  if (cycleNum > 1 && axis._size) return axis._size;
  let size = 8 + 4; // tick + gap
  const longest = (values ?? []).reduce((acc, v) => (v && v.length > acc.length ? v : acc), "");
  if (longest) {
    self.ctx.font = FONT;
    size += self.ctx.measureText(longest).width;
  }
  return Math.ceil(size) + (axisIdx === 1 ? 22 : 0);
}

/** A CSS colour as channels in [0, 1], as the canvas reads it. */
const rgbaCache = new Map<string, Rgba>();
function parseColor(color: string): Rgba {
  const known = rgbaCache.get(color);
  if (known) return known;
  const ctx = document.createElement("canvas").getContext("2d");
  let out: Rgba = [0, 0, 0, 1];
  if (ctx) {
    ctx.fillStyle = "#000000";
    ctx.fillStyle = color;
    const norm = String(ctx.fillStyle);
    const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(norm);
    const rgba = /^rgba?\(([^)]*)\)$/.exec(norm);
    const byte = (t: string) => parseInt(t, 16) / 255;
    if (hex) out = [byte(hex[1]), byte(hex[2]), byte(hex[3]), 1];
    else if (rgba) {
      const p = rgba[1].split(",").map((t) => parseFloat(t));
      out = [p[0] / 255, p[1] / 255, p[2] / 255, p.length > 3 ? p[3] : 1];
    }
  }
  rgbaCache.set(color, out);
  return out;
}

/** A line's values as uPlot takes them: the typed array itself, or nulls for its gaps. */
function uplotValues(values: LineValues): Float64Array | (number | null)[] {
  return values.presentCount() === values.length ? values.data : values.toArray();
}

/** The lowest and the highest value of `lines` at each x (null: none has a point there). */
function envelope(lines: readonly LineValues[], n: number): [(number | null)[], (number | null)[]] {
  const lo = new Float64Array(n).fill(Infinity);
  const hi = new Float64Array(n).fill(-Infinity);
  for (const l of lines) {
    const d = l.data;
    for (let i = 0; i < n; i++) {
      const v = d[i];
      if (v < lo[i]) lo[i] = v;
      if (v > hi[i]) hi[i] = v;
    }
  }
  const toNull = (a: Float64Array) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
  return [toNull(lo), toNull(hi)];
}

/** The first index of sorted `xs` whose value is >= x (xs.length: none). */
function firstAtOrAfter(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const uplotChart: ChartFactory = (container, opts, width, height) => {
  const m = opts.model;
  // the theme's colours when the chart is built: a theme switch rebuilds the chart
  const colors = themeColors();
  const index = new LineIndex(
    m.xs,
    m.lines.map((l) => l.values),
  );
  // the class lines behind the highlight: pixels; the others: uPlot series, in the same order
  const inBulk = bulkLines(m.lines);
  const bulk = m.lines.filter((_, i) => inBulk[i]);
  const paths = m.lines.filter((_, i) => !inBulk[i]);
  // two series that draw nothing give uPlot the bulk lines' range at every x: its y range
  // (zoomed too) is the one of all lines, as when it drew them all
  const bounds = bulk.length
    ? envelope(
        bulk.map((l) => l.values),
        m.xs.length,
      )
    : [];
  // how many lines the pixel layer draws, readable by tests and tools
  container.setAttribute("data-bulk-lines", String(bulk.length));
  const data = [
    m.xs,
    ...paths.map((l) => uplotValues(l.values)),
    ...bounds,
  ] as unknown as uPlot.AlignedData;
  const dpr = () => window.devicePixelRatio || 1;
  let ready = false;
  let overlay: HTMLCanvasElement | null = null;
  let hovered: { line: number; index: number } | null = null;
  let drawStart = -1;
  const full = m.xs.length ? ([m.xs[0], m.xs[m.xs.length - 1]] as [number, number]) : null;

  const drawOverlay = (u: uPlot) => {
    if (!overlay) return;
    const w = u.over.clientWidth;
    const hgt = u.over.clientHeight;
    const r = dpr();
    if (overlay.width !== Math.round(w * r) || overlay.height !== Math.round(hgt * r)) {
      overlay.width = Math.round(w * r);
      overlay.height = Math.round(hgt * r);
    }
    const ctx = overlay.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    if (!hovered) return;
    const line = m.lines[hovered.line];
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, w, hgt);
    ctx.clip();
    ctx.strokeStyle = line.baseColor;
    ctx.lineWidth = Math.max(line.width + 1.5, 2.5);
    ctx.setLineDash(line.dash);
    ctx.lineJoin = "round";
    ctx.beginPath();
    let started = false;
    for (const i of index.present[hovered.line]) {
      const x = u.valToPos(m.xs[i], "x");
      const y = u.valToPos(line.values.data[i], "y");
      if (!started) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
      started = true;
    }
    ctx.stroke();
    const v = line.values.at(hovered.index);
    if (v !== null) {
      ctx.setLineDash([]);
      ctx.fillStyle = line.baseColor;
      ctx.strokeStyle = colors.background;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(u.valToPos(m.xs[hovered.index], "x"), u.valToPos(v, "y"), 4, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
    }
    ctx.restore();
  };

  // the mean lines' labels sit in a margin right of the plot, never over the lines: each at the
  // height of its line's last visible value, pushed apart when they meet, joined to it by a tick
  const LABEL_FONT = "bold 11px Roboto, sans-serif";
  const LABEL_PAD = 14;
  const meanLines = m.lines.map((l, li) => (l.kind === "mean" ? li : -1)).filter((li) => li >= 0);
  const rawLabels = meanLines.map((li) => opts.meanLabel(li));
  const labelled = meanLines.filter((_, k) => rawLabels[k]);
  const measureCtx = document.createElement("canvas").getContext("2d");
  const measure = (t: string) => {
    if (!measureCtx) return t.length * 7;
    measureCtx.font = LABEL_FONT;
    return measureCtx.measureText(t).width;
  };
  const margin = fitLabelMargin(
    rawLabels.filter((t): t is string => !!t),
    measure,
    Math.max(90, Math.floor(width * 0.22)),
    LABEL_PAD,
  );

  const drawMeanLabels = (u: uPlot) => {
    const ctx = u.ctx;
    const r = dpr();
    const xMin = u.scales.x.min ?? -Infinity;
    const xMax = u.scales.x.max ?? Infinity;
    const right = u.bbox.left + u.bbox.width;
    ctx.save();
    ctx.font = `bold ${Math.round(11 * r)}px Roboto, sans-serif`;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    const labels: { text: string; y: number; color: string }[] = [];
    labelled.forEach((li, k) => {
      const line = m.lines[li];
      const pres = index.present[li];
      let i = -1;
      for (let p = pres.length - 1; p >= 0; p--) {
        const x = m.xs[pres[p]];
        if (x <= xMax && x >= xMin) {
          i = pres[p];
          break;
        }
      }
      if (i < 0) return;
      const y = u.valToPos(line.values.data[i], "y", true);
      if (Number.isFinite(y)) labels.push({ text: margin.texts[k], y, color: line.color });
    });
    const ys = spreadApart(
      labels.map((l) => l.y),
      13 * r,
      u.bbox.top + 6 * r,
      u.bbox.top + u.bbox.height - 6 * r,
    );
    const x = right + 8 * r;
    const drawn: { text: string; x: number; y: number; width: number }[] = [];
    labels.forEach((l, k) => {
      ctx.strokeStyle = l.color;
      ctx.lineWidth = r;
      ctx.beginPath();
      ctx.moveTo(right + r, l.y);
      ctx.lineTo(x - 2 * r, ys[k]);
      ctx.stroke();
      ctx.fillStyle = l.color;
      ctx.fillText(l.text, x, ys[k]);
      drawn.push({
        text: l.text,
        x: x / r,
        y: ys[k] / r,
        width: ctx.measureText(l.text).width / r,
      });
    });
    ctx.restore();
    // where the labels went and where the plot is, in CSS px, readable by tests and tools
    container.setAttribute("data-mean-labels", JSON.stringify(drawn));
    container.setAttribute(
      "data-plot",
      [u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height]
        .map((v) => Math.round(v / r))
        .join(","),
    );
  };

  // the bulk layer: rasterised for the plot's size and scales, kept while they stay the same
  const bulkCanvas = document.createElement("canvas");
  let bulkRaster: LineRaster | null = null;
  let bulkKey = "";
  const drawBulk = (u: uPlot) => {
    if (!bulk.length) return;
    const { x, y } = u.scales;
    if (x.min == null || x.max == null || y.min == null || y.max == null) return;
    const left = Math.round(u.bbox.left);
    const top = Math.round(u.bbox.top);
    const W = Math.round(u.bbox.width);
    const H = Math.round(u.bbox.height);
    if (W <= 0 || H <= 0) return;
    const key = [W, H, x.min, x.max, y.min, y.max, y.distr].join(",");
    const bctx = bulkCanvas.getContext("2d");
    if (!bctx) return;
    if (key !== bulkKey) {
      bulkKey = key;
      const r = dpr();
      const xMin = x.min;
      const span = x.max - x.min || 1;
      // the points from the last one left of the window to the first one right of it
      const i0 = Math.max(0, firstAtOrAfter(m.xs, x.min) - 1);
      const i1 = Math.min(m.xs.length - 1, firstAtOrAfter(m.xs, x.max));
      const xPx = new Float64Array(m.xs.length);
      for (let i = i0; i <= i1; i++) xPx[i] = pixelCentre(((m.xs[i] - xMin) / span) * W);
      if (!bulkRaster || bulkRaster.width !== W || bulkRaster.height !== H)
        bulkRaster = new LineRaster(W, H);
      bulkRaster.drawLines(
        xPx,
        i0,
        i1,
        { min: y.min, max: y.max, log: y.distr === 3 },
        bulk.map((l) => ({
          values: l.values.data,
          color: parseColor(l.color),
          width: l.width * r,
          dash: l.dash.map((d) => d * r),
        })),
      );
      bulkCanvas.width = W;
      bulkCanvas.height = H;
      const img = bctx.createImageData(W, H);
      bulkRaster.writeRgba8(img.data);
      bctx.putImageData(img, 0, 0);
    }
    u.ctx.save();
    u.ctx.setTransform(1, 0, 0, 1, 0, 0);
    u.ctx.drawImage(bulkCanvas, left, top);
    u.ctx.restore();
  };

  const uopts: uPlot.Options = {
    width,
    height,
    legend: { show: false },
    padding: [12, Math.max(16, margin.width), 0, 0],
    cursor: {
      x: true,
      y: false,
      points: { show: false },
      drag: { x: true, y: false, setScale: true },
      dataIdx: (_u, _s, closest) => closest,
      focus: { prox: -1 },
    },
    select: { show: true, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      // one step alone sits in the middle of a short axis (uPlot would span 0 to 100 from it)
      x: {
        time: false,
        range: (_u, min, max) =>
          min == null || max == null ? [0, 1] : min === max ? [min - 1, max + 1] : [min, max],
      },
      y: opts.logScale
        ? { distr: 3, log: 10 }
        : {
            distr: 1,
            range: (_u, min, max) => {
              if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max))
                return [0, 1];
              const span = max - min || Math.abs(max) || 1;
              let lo = min - span * 0.05;
              let hi = max + span * 0.05;
              if (min >= 0 && lo < 0) lo = 0;
              if (opts.yBounds) {
                lo = Math.max(lo, opts.yBounds[0]);
                hi = Math.min(hi, opts.yBounds[1]);
              }
              return [lo, hi];
            },
          },
    },
    axes: [
      {
        font: FONT,
        labelFont: FONT,
        stroke: colors.axis,
        label: m.xLabel,
        labelSize: 18,
        incrs: m.xUnitSeconds === 0 ? STEP_INCRS : undefined,
        grid: { stroke: colors.grid, width: 1 },
        ticks: { stroke: colors.grid, width: 1, size: 4 },
        values: (_u, splits) => splits.map((v) => (v == null ? "" : opts.formatX(v))),
      },
      {
        font: FONT,
        labelFont: FONT,
        stroke: colors.axis,
        label: opts.yLabel,
        labelSize: 18,
        grid: { stroke: colors.grid, width: 1 },
        ticks: { stroke: colors.grid, width: 1, size: 4 },
        size: axisSize,
        values: (_u, splits) => splits.map((v) => (v == null ? "" : opts.formatY(v))),
      },
    ],
    series: [
      {},
      ...paths.map((l): uPlot.Series => ({
        label: l.label,
        stroke: l.color,
        width: l.width,
        dash: l.dash.length ? l.dash : undefined,
        spanGaps: true,
        // a line of one point (a run with a single step) is a marker, else it draws nothing
        points: l.markers
          ? { show: true, size: Math.max(6, l.width * 3), width: 1, stroke: l.color, fill: l.color }
          : { show: false },
      })),
      ...bounds.map((): uPlot.Series => ({
        label: "",
        paths: () => null,
        points: { show: false },
      })),
    ],
    hooks: {
      ready: [
        (u) => {
          overlay = document.createElement("canvas");
          overlay.className = "pc-hover-layer";
          u.over.appendChild(overlay);
          ready = true;
        },
      ],
      drawClear: [
        () => {
          drawStart = performance.now();
        },
      ],
      drawAxes: [drawBulk],
      draw: [
        (u) => {
          drawMeanLabels(u);
          drawOverlay(u);
          // uPlot draws in a microtask after the constructor: its own canvas pass, timed here
          if (drawStart >= 0)
            performance.measure("perclass:draw:lines-canvas", { start: drawStart });
          drawStart = -1;
        },
      ],
      setScale: [
        (u, key) => {
          if (key !== "x") return;
          const min = u.scales.x.min;
          const max = u.scales.x.max;
          if (min == null || max == null) return;
          // the visible x range, readable by tests and tools
          container.setAttribute("data-x-range", `${min},${max}`);
          if (!ready || !full) return;
          opts.onZoom(min <= full[0] && max >= full[1] ? null : [min, max]);
        },
      ],
      setCursor: [
        (u) => {
          const left = u.cursor.left ?? -1;
          const top = u.cursor.top ?? -1;
          let hit = null;
          if (left >= 0 && top >= 0 && m.xs.length) {
            const xVal = u.posToVal(left, "x");
            hit = nearestLine(index, xVal, left, top, {
              x: (v) => u.valToPos(v, "x"),
              y: (v) => u.valToPos(v, "y"),
            });
          }
          const changed =
            (hit === null) !== (hovered === null) ||
            (hit !== null &&
              hovered !== null &&
              (hit.line !== hovered.line || hit.index !== hovered.index));
          hovered = hit ? { line: hit.line, index: hit.index } : null;
          if (changed) drawOverlay(u);
          const ob = u.over.getBoundingClientRect();
          const cb = container.getBoundingClientRect();
          opts.onHover(
            hit
              ? {
                  line: hit.line,
                  index: hit.index,
                  left: left + ob.left - cb.left,
                  top: top + ob.top - cb.top,
                }
              : null,
          );
        },
      ],
    },
  };

  const u = new uPlot(uopts, data, container);
  if (opts.zoom && full) {
    const [a, b] = opts.zoom;
    // a zoom outside the data (e.g. saved for another logdir) is dropped
    if (b > full[0] && a < full[1])
      u.setScale("x", { min: Math.max(a, full[0]), max: Math.min(b, full[1]) });
    else opts.onZoom(null);
  }

  return {
    resize(w, hgt) {
      u.setSize({ width: w, height: hgt });
    },
    destroy() {
      u.destroy();
    },
  };
};
