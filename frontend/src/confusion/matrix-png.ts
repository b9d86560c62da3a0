// The matrix as a PNG that stands on its own: a title naming the series and the step, what the
// cells show, the heatmap as drawn (labels, axis titles) and its colour bar with ticks, so that
// a picture pasted into a report still says what it is. The words are pure (pngText); the
// drawing composes a new canvas from the heatmap's.
import type { ColorScale, Rgb } from "../ui/color-scale";
import { legendTicks } from "../ui/legend";
import type { ThemeColors } from "../ui/theme";
import type { MatrixLook } from "./matrix-display";

export interface MatrixPngText {
  title: string;
  subtitle: string;
  legendTitle: string;
}

/** The PNG's title and subtitle: the series and step; the cells (counts, shares, or the
 * difference to a base), the class count and the zoom when not the whole matrix. */
export function pngText(d: {
  series: string;
  step: number;
  classes: number;
  look: MatrixLook;
  /** "exp/train @ 3" when the picture is a difference */
  base: string | null;
  zoom: string | null;
  legendTitle: string;
}): MatrixPngText {
  const cells = d.base
    ? `change since ${d.base}`
    : d.look.norm === "counts"
      ? "counts"
      : d.look.norm === "row"
        ? "share of the true class (row)"
        : "share of the predicted class (column)";
  const parts = [`step ${d.step}`, `${d.classes} classes`, cells];
  if (d.zoom) parts.push(d.zoom);
  return {
    title: `Confusion matrix · ${d.series}`,
    subtitle: parts.join(" · "),
    legendTitle: d.legendTitle,
  };
}

const PAD = 16;
const BAR_WIDTH = 200;
const BAR_HEIGHT = 12;
const FONT = "Roboto, sans-serif";

/** A new canvas: the title, the heatmap canvas as drawn, the colour bar with its ticks and the
 * extra swatches. Null when the page has no 2D canvas. */
export function composeMatrixPng(
  heat: HTMLCanvasElement,
  scale: ColorScale,
  format: (v: number) => string,
  extras: readonly { label: string; rgb: Rgb }[],
  text: MatrixPngText,
  colors: ThemeColors,
): HTMLCanvasElement | null {
  // the heatmap canvas is in device pixels: draw everything else at the same ratio
  const cssWidth = heat.getBoundingClientRect().width || heat.width;
  const r = heat.width / cssWidth || 1;
  const out = document.createElement("canvas");
  const measureCtx = out.getContext("2d");
  if (!measureCtx) return null;
  const font = (px: number, bold = false) =>
    `${bold ? "bold " : ""}${Math.round(px * r)}px ${FONT}`;
  measureCtx.font = font(12);
  const extrasWidth = extras.reduce(
    (w, e) => w + (14 + 6) * r + measureCtx.measureText(e.label).width + 12 * r,
    0,
  );
  const legendWidth =
    Math.max(measureCtx.measureText(text.legendTitle).width, BAR_WIDTH * r) + extrasWidth;
  const titleHeight = (22 + 18) * r;
  const legendHeight = (18 + BAR_HEIGHT + 18) * r;
  out.width = Math.ceil(Math.max(heat.width, legendWidth) + 2 * PAD * r);
  out.height = Math.ceil(heat.height + titleHeight + legendHeight + 3 * PAD * r);
  const ctx = out.getContext("2d")!;
  ctx.fillStyle = colors.background;
  ctx.fillRect(0, 0, out.width, out.height);
  const left = PAD * r;
  let y = PAD * r;
  ctx.textBaseline = "top";
  ctx.fillStyle = colors.title;
  ctx.font = font(15, true);
  ctx.fillText(text.title, left, y);
  y += 22 * r;
  ctx.fillStyle = colors.text;
  ctx.font = font(12);
  ctx.fillText(text.subtitle, left, y);
  y += 18 * r + (PAD * r) / 2;
  ctx.drawImage(heat, left, y);
  y += heat.height + PAD * r;
  // the colour bar: its title, the LUT stretched over the bar, the ticks under it
  ctx.fillStyle = colors.text;
  ctx.font = font(12);
  ctx.fillText(text.legendTitle, left, y);
  y += 18 * r;
  const lut = scale.lut;
  const bar = BAR_WIDTH * r;
  for (let x = 0; x < bar; x++) {
    const i = Math.min(255, Math.floor((x / bar) * 256));
    ctx.fillStyle = `rgb(${lut[i * 4]}, ${lut[i * 4 + 1]}, ${lut[i * 4 + 2]})`;
    ctx.fillRect(left + x, y, 1, BAR_HEIGHT * r);
  }
  ctx.strokeStyle = colors.frame;
  ctx.lineWidth = r;
  ctx.strokeRect(left, y, bar, BAR_HEIGHT * r);
  ctx.font = font(11);
  ctx.fillStyle = colors.text;
  for (const t of legendTicks(scale, format, BAR_WIDTH)) {
    ctx.textAlign = t.align === "start" ? "left" : t.align === "end" ? "right" : "center";
    ctx.fillText(t.text, left + t.pos * bar, y + (BAR_HEIGHT + 3) * r);
  }
  ctx.textAlign = "left";
  let x = left + bar + 16 * r;
  ctx.font = font(12);
  for (const e of extras) {
    ctx.fillStyle = `rgb(${e.rgb.join(", ")})`;
    ctx.fillRect(x, y, 14 * r, BAR_HEIGHT * r);
    ctx.strokeRect(x, y, 14 * r, BAR_HEIGHT * r);
    x += (14 + 6) * r;
    ctx.fillStyle = colors.text;
    ctx.fillText(e.label, x, y);
    x += ctx.measureText(e.label).width + 12 * r;
  }
  return out;
}
