// Pure logic of the gallery about one sample: its key, its outcome in the words of its task, its
// numbers for display, how big it is drawn, how the arrow keys move the selection, what its
// history across steps says.
import type { HistoryEntry, Sample } from "../data/types";
import { DASH, formatNumber } from "../lib/format";

/** Thumbnails fit this box (CSS px); small images are scaled up to fill it, pixelated. */
export const THUMB_PX = 96;
/** The large view's box when the page cannot measure it. */
export const LARGE_PX = 384;
/** Columns of the thumbnail grid when the page cannot measure them. */
export const GRID_COLUMNS = 4;

export const SAMPLES_SNIPPET = "pc.update(logits, y, inputs=x, sample_ids=ids)";

export const isMultilabel = (task: string) => task === "multilabel";
export const isRegression = (task: string) => task === "regression";

/** A key for a sample that survives a change of step when the sample has an id. */
export function sampleKey(s: Pick<Sample, "id" | "index">): string {
  return s.id !== null && s.id !== undefined ? `id:${String(s.id)}` : `#${s.index}`;
}

/** The words of a task: what a row and a column are, what the score means. */
export interface Wording {
  /** "true class" / "target range" / "label" */
  trueWord: string;
  predWord: string;
  /** the score's name: "confidence" (the predicted probability) or "error" (regression) */
  scoreWord: string;
  scoreTitle: string;
  /** the sort button of the score */
  sortScore: string;
}

export function wording(task: string): Wording {
  if (isRegression(task)) {
    return {
      trueWord: "target range",
      predWord: "predicted range",
      scoreWord: "error",
      scoreTitle: "Absolute error |prediction − target|: the largest errors are kept",
      sortScore: "Largest error",
    };
  }
  if (isMultilabel(task)) {
    return {
      trueWord: "label",
      predWord: "prediction",
      scoreWord: "confidence",
      scoreTitle:
        "Predicted probability of the wrong outcome (present for a false positive, absent for a false negative)",
      sortScore: "Most confident",
    };
  }
  return {
    trueWord: "true class",
    predWord: "predicted class",
    scoreWord: "confidence",
    scoreTitle: "Predicted probability of the (wrong) predicted class",
    sortScore: "Most confident",
  };
}

/** A class's name, or #index when the run lists fewer names. */
export const nameOf = (names: readonly string[], i: number) => names[i] ?? `#${i}`;

export function labelErrorText(error: "fp" | "fn" | "all", plural = true): string {
  if (error === "fp") return plural ? "false positives" : "false positive";
  if (error === "fn") return plural ? "false negatives" : "false negative";
  return plural ? "mistakes" : "mistake";
}

export interface Outcome {
  /** one line: "zero → one", or "label car: false positive" */
  headline: string;
  /** what it is (true class, target range; multilabel: the label) */
  trueText: string;
  /** what was predicted (predicted class or range; multilabel: the wrong outcome) */
  predText: string;
  /** multilabel: "fp" or "fn"; otherwise null */
  error: "fp" | "fn" | null;
}

/** A sample's outcome in words, for its task. */
export function outcome(
  s: Pick<Sample, "true" | "pred" | "label">,
  names: readonly string[],
  task: string,
): Outcome {
  if (isMultilabel(task) || s.label !== null) {
    const label = nameOf(names, s.label ?? 0);
    const error = s.pred === 1 && s.true === 0 ? "fp" : "fn";
    const what = labelErrorText(error, false);
    return {
      headline: `label ${label}: ${what}`,
      trueText: label,
      predText:
        error === "fp" ? "present, but the label is absent" : "absent, but the label is present",
      error,
    };
  }
  const t = nameOf(names, s.true);
  const p = nameOf(names, s.pred);
  return { headline: `${t} → ${p}`, trueText: t, predText: p, error: null };
}

/** The score for display: a probability with 3 decimals, or a regression error. */
export function formatScore(score: number | null, task: string): string {
  if (score === null || !Number.isFinite(score)) return DASH;
  return isRegression(task) ? formatNumber(score) : score.toFixed(3);
}

export function formatLoss(loss: number | null): string {
  return loss === null || !Number.isFinite(loss) ? DASH : formatNumber(loss);
}

export function formatId(id: string | number | null): string {
  return id === null ? "" : String(id);
}

/** The selection after a key in a grid of `count` items, `columns` wide; null for other keys. */
export function moveIndex(
  index: number,
  key: string,
  count: number,
  columns: number,
): number | null {
  if (count <= 0) return null;
  const cols = Math.max(1, Math.floor(columns));
  const i = Math.min(Math.max(index, 0), count - 1);
  const clamp = (k: number) => Math.min(Math.max(k, 0), count - 1);
  switch (key) {
    case "ArrowRight":
      return clamp(i + 1);
    case "ArrowLeft":
      return clamp(i - 1);
    case "ArrowDown":
      return i + cols < count ? i + cols : i;
    case "ArrowUp":
      return i - cols >= 0 ? i - cols : i;
    case "Home":
      return 0;
    case "End":
      return count - 1;
    case "PageDown":
      return clamp(i + cols * 3);
    case "PageUp":
      return clamp(i - cols * 3);
    default:
      return null;
  }
}

/** Columns of a wrapped grid from its items' offsets (the first row's items); `fallback`
 * when the page has no layout (all items at 0). */
export function gridColumns(tops: readonly number[], fallback: number): number {
  if (tops.length <= 1) return 1;
  if (tops.every((t) => t === 0)) return fallback;
  let n = 1;
  while (n < tops.length && tops[n] === tops[0]) n++;
  return n;
}

export interface HistorySummary {
  /** the first step the sample was kept as a mistake (null: never) */
  first: number | null;
  /** the number of steps it was kept at */
  kept: number;
  /** distinct (true, predicted) cells (label and outcome, multilabel) it was kept in */
  cells: number;
  /** whether the predicted class (or the label/outcome) changed between kept steps */
  moved: boolean;
  /** steps at which the cell differs from the previous kept step */
  moves: number[];
}

const cellOf = (e: Pick<HistoryEntry, "true" | "pred" | "label">) =>
  `${e.label ?? ""}:${e.true}:${e.pred}`;

export function historySummary(history: readonly HistoryEntry[]): HistorySummary {
  const sorted = [...history].sort((a, b) => a.step - b.step);
  const cells = new Set(sorted.map(cellOf));
  const moves: number[] = [];
  for (let k = 1; k < sorted.length; k++)
    if (cellOf(sorted[k]) !== cellOf(sorted[k - 1])) moves.push(sorted[k].step);
  return {
    first: sorted.length ? sorted[0].step : null,
    kept: sorted.length,
    cells: cells.size,
    moved: moves.length > 0,
    moves,
  };
}

/** The step of `steps` nearest to `step` (the later one on a tie); null when there is none. */
export function nearestStep(steps: readonly number[], step: number | null): number | null {
  if (!steps.length) return null;
  if (step === null) return steps[steps.length - 1];
  let best = steps[0];
  for (const s of steps)
    if (
      Math.abs(s - step) < Math.abs(best - step) ||
      (Math.abs(s - step) === Math.abs(best - step) && s > best)
    )
      best = s;
  return best;
}

/** "3 steps (0–2)" / "1 step (5)". */
export function describeSteps(steps: readonly number[]): string {
  if (!steps.length) return "no step";
  const n = steps.length;
  const range = n === 1 ? `${steps[0]}` : `${steps[0]}–${steps[n - 1]}`;
  return `${n} step${n === 1 ? "" : "s"} (${range})`;
}
