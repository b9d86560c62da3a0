// How the wheel, the keys and a shift+drag move a heatmap's viewport. Pure.
import { pan, zoomAt, type Viewport } from "../lib/zoom";

/** The plot area in CSS px (heat-layout.ts Layout.plot). */
type Plot = { x: number; y: number; w: number; h: number };

/** The viewport after a key: arrows pan by a fifth of the view, + and - zoom around its middle,
 * 0 shows everything (null); undefined for any other key. */
export function keyViewport(
  key: string,
  v: Viewport,
  nRows: number,
  nCols: number,
): Viewport | null | undefined {
  const stepR = Math.max(1, Math.round((v.r1 - v.r0) / 5));
  const stepC = Math.max(1, Math.round((v.c1 - v.c0) / 5));
  const mid = () => [(v.r0 + v.r1) / 2, (v.c0 + v.c1) / 2] as const;
  switch (key) {
    case "ArrowUp":
      return pan(v, -stepR, 0, nRows, nCols);
    case "ArrowDown":
      return pan(v, stepR, 0, nRows, nCols);
    case "ArrowLeft":
      return pan(v, 0, -stepC, nRows, nCols);
    case "ArrowRight":
      return pan(v, 0, stepC, nRows, nCols);
    case "+":
    case "=":
      return zoomAt(v, 0.8, ...mid(), nRows, nCols);
    case "-":
      return zoomAt(v, 1.25, ...mid(), nRows, nCols);
    case "0":
      return null;
    default:
      return undefined;
  }
}

/** The viewport after a wheel step (deltaY > 0: out) with the pointer at (x, y) in the plot:
 * the cell under the pointer stays where it is. */
export function wheelViewport(
  deltaY: number,
  plot: Plot,
  v: Viewport,
  x: number,
  y: number,
  nRows: number,
  nCols: number,
): Viewport {
  // fractional anchor: the pointer's exact position in cells
  const ar = v.r0 + ((y - plot.y) / plot.h) * (v.r1 - v.r0);
  const ac = v.c0 + ((x - plot.x) / plot.w) * (v.c1 - v.c0);
  return zoomAt(v, deltaY > 0 ? 1.25 : 0.8, ar, ac, nRows, nCols);
}

/** The viewport of a pan by drag: `start` moved by whole cells, as far as the pointer went. */
export function draggedViewport(
  start: Viewport,
  plot: Plot,
  dx: number,
  dy: number,
  nRows: number,
  nCols: number,
): Viewport {
  const cw = plot.w / (start.c1 - start.c0);
  const ch = plot.h / (start.r1 - start.r0);
  return pan(start, -Math.round(dy / ch), -Math.round(dx / cw), nRows, nCols);
}
