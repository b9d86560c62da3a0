// Colours and line styles. Class = hue, series = dash pattern (and a TensorBoard-like run
// colour, used for the series swatch and when colouring by run).
import { themeColors, type Theme } from "./theme";

/** TensorBoard's run palette. */
export const RUN_COLORS = [
  "#ff7043",
  "#0077bb",
  "#cc3311",
  "#33bbee",
  "#ee3377",
  "#009988",
  "#bbbbbb",
  "#425066",
  "#12b5cb",
  "#e52592",
  "#f9ab00",
  "#9334e6",
  "#7cb342",
  "#e8710a",
];

/** A categorical palette for up to 10 classes (Tableau 10, readable on white). */
export const CLASS_COLORS_10 = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#79706e",
];

/** TensorBoard's dark-mode variants of its run colours (its palette's darkHex): only slate
 * changes, it would vanish on a dark page. */
const DARK_RUN_COLORS: Record<string, string> = { "#425066": "#8e98a3" };

/** Grey for lines outside the highlight: fainter the more lines there are (white on dark). */
export function greyFor(numLines: number, theme: Theme = "light"): string {
  const alpha =
    numLines <= 20
      ? 0.2
      : numLines <= 60
        ? 0.13
        : numLines <= 250
          ? 0.085
          : numLines <= 800
            ? 0.05
            : 0.03;
  return `rgba(${themeColors(theme).fadedLine}, ${alpha})`;
}
/** The mean line in a theme (near-black on light, near-white on dark). */
export function meanColor(theme: Theme = "light"): string {
  return themeColors(theme).meanLine;
}
/** The mean line's colour in DOM samples (legend, tooltip): follows the theme by itself. */
export const MEAN_COLOR_CSS = "var(--pc-mean-line)";

export function classColor(index: number, numClasses: number, theme: Theme = "light"): string {
  if (numClasses <= CLASS_COLORS_10.length) return CLASS_COLORS_10[index % CLASS_COLORS_10.length];
  // golden-angle hues: neighbours differ, any subset stays varied; lighter on a dark page
  const hue = (index * 137.508) % 360;
  const light = theme === "dark" ? (index % 2 === 0 ? 58 : 68) : index % 2 === 0 ? 42 : 52;
  return `hsl(${hue.toFixed(1)}, 70%, ${light}%)`;
}

/**
 * Colours of all classes: up to 10 classes the categorical palette by index; past that,
 * golden-angle hues, except that the highlighted (worst) classes take the categorical
 * palette by rank so that the few coloured lines are clearly different.
 */
export function classColors(
  numClasses: number,
  worst: readonly number[],
  theme: Theme = "light",
): string[] {
  const out = Array.from({ length: numClasses }, (_, i) => classColor(i, numClasses, theme));
  if (numClasses > CLASS_COLORS_10.length) {
    worst.forEach((g, r) => {
      if (g < numClasses) out[g] = CLASS_COLORS_10[r % CLASS_COLORS_10.length];
    });
  }
  return out;
}

export function runColor(index: number, theme: Theme = "light"): string {
  const color = RUN_COLORS[index % RUN_COLORS.length];
  return theme === "dark" ? (DARK_RUN_COLORS[color] ?? color) : color;
}

export interface DashStyle {
  /** canvas dash pattern in CSS px; [] = solid */
  dash: number[];
  label: string;
}

/** The series' line patterns, most distinct first: sixteen series overlaid never share one. */
export const DASHES: readonly DashStyle[] = [
  { dash: [], label: "solid" },
  { dash: [7, 4], label: "dashed" },
  { dash: [1.5, 3], label: "dotted" },
  { dash: [9, 3, 2, 3], label: "dash-dot" },
  { dash: [14, 5], label: "long dash" },
  { dash: [4, 2, 1, 2, 1, 2], label: "dash-dot-dot" },
  { dash: [1.5, 7], label: "sparse dots" },
  { dash: [3, 3], label: "short dash" },
  { dash: [16, 3, 2, 3], label: "long dash-dot" },
  { dash: [16, 3, 2, 3, 2, 3], label: "long dash-dot-dot" },
  { dash: [7, 3, 7, 3, 2, 3], label: "dash-dash-dot" },
  { dash: [16, 3, 6, 3], label: "long-short dash" },
  { dash: [5, 2, 5, 2, 5, 8], label: "triple dash" },
  { dash: [26, 5], label: "very long dash" },
  { dash: [16, 3, 2, 3, 2, 3, 2, 3], label: "long dash-dot-dot-dot" },
  { dash: [2, 2, 2, 8], label: "double dot" },
];

/**
 * A dash pattern per series key, by its split (data/series.ts splitOfSeries): train solid,
 * validation dashed, test dotted; clashes (two train series of two experiments) and other series
 * take the next free pattern, so that no two series share one while there are patterns left
 * (DASHES: sixteen).
 */
export function assignDashes(
  runs: readonly string[],
  split: (key: string) => "train" | "validation" | "test" | null,
): Map<string, number> {
  const preferred = (r: string) => {
    const s = split(r);
    return s === "train" ? 0 : s === "validation" ? 1 : s === "test" ? 2 : -1;
  };
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const r of runs) {
    const p = preferred(r);
    if (p >= 0 && !used.has(p)) {
      out.set(r, p);
      used.add(p);
    }
  }
  for (const r of runs) {
    if (out.has(r)) continue;
    let d = 0;
    while (used.has(d) && d < DASHES.length) d++;
    if (d >= DASHES.length) d = out.size % DASHES.length; // more series than patterns
    out.set(r, d);
    used.add(d);
  }
  return out;
}

/** Same hue with an alpha, for CSS colours of the forms this module produces. */
export function withAlpha(color: string, alpha: number): string {
  if (color.startsWith("#") && color.length === 7) {
    const r = parseInt(color.slice(1, 3), 16);
    const g = parseInt(color.slice(3, 5), 16);
    const b = parseInt(color.slice(5, 7), 16);
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  if (color.startsWith("hsl(")) return color.replace(/^hsl\((.*)\)$/, `hsla($1, ${alpha})`);
  return color;
}
