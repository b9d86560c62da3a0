// Light or dark, as TensorBoard is. TensorBoard marks dark mode with a `dark-mode` class on its
// own <body> (its DarkModeSupporter component runs document.body.classList.toggle("dark-mode", on)
// whenever the toggle in its top bar or the OS preference changes the setting). The tab lives in a
// same-origin iframe, so it watches that class on window.parent.document.body and mirrors it as
// one class, `pc-dark`, on its own <html>: styles.css switches its custom properties on that
// class, and canvas code asks themeColors() each time it draws. Opened outside TensorBoard (no
// reachable parent), the tab follows the OS's prefers-color-scheme instead.
import {
  BLUE_RED,
  BLUES,
  DARK_BLUE_RED,
  DARK_BLUES,
  DARK_DIAGONAL_RGB,
  DARK_MISSING_RGB,
  DIAGONAL_RGB,
  MISSING_RGB,
  type Rgb,
} from "./color-scale";

export type Theme = "light" | "dark";

/** The class TensorBoard toggles on its <body>. */
export const TENSORBOARD_DARK_CLASS = "dark-mode";
/** The class this tab sets on its <html> in dark mode. */
export const DARK_CLASS = "pc-dark";

/** Colours the canvases draw with (CSS can not reach into a canvas). */
export interface ThemeColors {
  /** behind the cells and labels: the card's background */
  background: string;
  /** labels and tick text */
  text: string;
  /** axis titles */
  title: string;
  /** the frame around the heatmap's cells */
  frame: string;
  /** the background, nearly opaque: lines between big heatmap cells, the halo behind chart labels */
  backgroundSoft: string;
  /** cell text on the masked diagonal */
  diagonalText: string;
  /** the outline of the hovered cell, and the halo that keeps it visible on any cell colour */
  hoverOutline: string;
  outlineHalo: string;
  /** the focused class / selected pair, and the zoom rectangle */
  focus: string;
  focusFill: string;
  /** chart axes, tick labels and grid */
  axis: string;
  grid: string;
  /** the bold mean-over-classes line */
  meanLine: string;
  /** rgb of the faded lines outside the highlight (an alpha is added per line count) */
  fadedLine: string;
  /** cell colours: sequential counts/shares, diverging diffs; the masked diagonal; no value */
  blues: readonly string[];
  blueRed: readonly string[];
  diagonal: Rgb;
  missing: Rgb;
}

export const LIGHT_COLORS: ThemeColors = {
  background: "#fff",
  text: "rgba(0, 0, 0, 0.7)",
  title: "rgba(0, 0, 0, 0.6)",
  frame: "rgba(0, 0, 0, 0.25)",
  backgroundSoft: "rgba(255, 255, 255, 0.9)",
  diagonalText: "rgba(0, 0, 0, 0.6)",
  hoverOutline: "rgba(0, 0, 0, 0.85)",
  outlineHalo: "#fff",
  focus: "#f57c00",
  focusFill: "rgba(245, 124, 0, 0.12)",
  axis: "rgba(0, 0, 0, 0.6)",
  grid: "rgba(0, 0, 0, 0.07)",
  meanLine: "rgba(0, 0, 0, 0.87)",
  fadedLine: "0, 0, 0",
  blues: BLUES,
  blueRed: BLUE_RED,
  diagonal: DIAGONAL_RGB,
  missing: MISSING_RGB,
};

/** TensorBoard's dark palette: page #303030, borders #555, text white at 87 / 70 %. */
export const DARK_COLORS: ThemeColors = {
  background: "#303030",
  text: "rgba(255, 255, 255, 0.7)",
  title: "rgba(255, 255, 255, 0.6)",
  frame: "rgba(255, 255, 255, 0.25)",
  backgroundSoft: "rgba(48, 48, 48, 0.9)",
  diagonalText: "rgba(255, 255, 255, 0.75)",
  hoverOutline: "rgba(255, 255, 255, 0.9)",
  outlineHalo: "#000",
  focus: "#f57c00",
  focusFill: "rgba(245, 124, 0, 0.18)",
  axis: "rgba(255, 255, 255, 0.7)",
  grid: "rgba(255, 255, 255, 0.1)",
  meanLine: "rgba(255, 255, 255, 0.87)",
  fadedLine: "255, 255, 255",
  blues: DARK_BLUES,
  blueRed: DARK_BLUE_RED,
  diagonal: DARK_DIAGONAL_RGB,
  missing: DARK_MISSING_RGB,
};

/** The theme this document shows now (its <html> class). */
export function currentTheme(doc: Document | undefined = globalThis.document): Theme {
  return doc?.documentElement?.classList.contains(DARK_CLASS) ? "dark" : "light";
}

export function themeColors(theme: Theme = currentTheme()): ThemeColors {
  return theme === "dark" ? DARK_COLORS : LIGHT_COLORS;
}

/** TensorBoard's <body> when this window is its (same-origin) iframe; null when there is no
 * parent or it can not be read (another origin throws). */
export function parentBody(win: Window): HTMLElement | null {
  try {
    if (!win.parent || win.parent === win) return null;
    return win.parent.document.body ?? null;
  } catch {
    return null;
  }
}

function prefersDark(win: Window): MediaQueryList | null {
  try {
    return typeof win.matchMedia === "function"
      ? win.matchMedia("(prefers-color-scheme: dark)")
      : null;
  } catch {
    return null;
  }
}

/** TensorBoard's theme when the parent is reachable, else the OS preference. */
export function detectTheme(win: Window): Theme {
  const body = parentBody(win);
  if (body) return body.classList.contains(TENSORBOARD_DARK_CLASS) ? "dark" : "light";
  return prefersDark(win)?.matches ? "dark" : "light";
}

/** Sets the root class; true when the theme changed. */
export function applyTheme(doc: Document, theme: Theme): boolean {
  if (currentTheme(doc) === theme) return false;
  doc.documentElement.classList.toggle(DARK_CLASS, theme === "dark");
  return true;
}

/**
 * Applies the theme now and keeps following it: a MutationObserver on TensorBoard's <body>
 * class (the toggle re-themes the tab without a reload), or the OS preference when there is no
 * TensorBoard around. `onChange` runs after each switch (to redraw the canvases). Returns a
 * function that stops following.
 */
export function followTheme(win: Window, onChange: (theme: Theme) => void): () => void {
  const doc = win.document;
  applyTheme(doc, detectTheme(win));
  const sync = () => {
    const theme = detectTheme(win);
    if (applyTheme(doc, theme)) onChange(theme);
  };
  const body = parentBody(win);
  if (body && typeof MutationObserver !== "undefined") {
    const observer = new MutationObserver(sync);
    observer.observe(body, { attributes: true, attributeFilter: ["class"] });
    return () => observer.disconnect();
  }
  const query = prefersDark(win);
  if (query && typeof query.addEventListener === "function") {
    query.addEventListener("change", sync);
    return () => query.removeEventListener("change", sync);
  }
  return () => {};
}
