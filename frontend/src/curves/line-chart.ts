// The line chart: uPlot for the lines, axes, zoom and cursor; an overlay canvas for the
// hovered line; mean labels drawn in a draw hook. The view talks to it only through
// LineChart (chart-model.ts), so DOM tests can swap in a fake (happy-dom has no canvas).
import uPlot from "uplot";
import type { ChartFactory } from "./chart-model";
import { fitLabelMargin, spreadApart } from "./label-spread";
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

export const uplotChart: ChartFactory = (container, opts, width, height) => {
  const m = opts.model;
  // the theme's colours when the chart is built: a theme switch rebuilds the chart
  const colors = themeColors();
  const index = new LineIndex(
    m.xs,
    m.lines.map((l) => l.values),
  );
  const data = [m.xs, ...m.lines.map((l) => l.values)] as unknown as uPlot.AlignedData;
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
      const y = u.valToPos(line.values[i] as number, "y");
      if (!started) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
      started = true;
    }
    ctx.stroke();
    const v = line.values[hovered.index];
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
      const y = u.valToPos(line.values[i] as number, "y", true);
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
      ...m.lines.map((l): uPlot.Series => ({
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
