// Pure logic of the misclassified-samples gallery: which filter a scope asks the server for,
// how a sample and a scope are described (multiclass, multilabel, regression), how big a
// thumbnail is drawn, how the arrow keys move the selection, what a sample's history says.
import type { GalleryScope, GallerySort } from "../state/view-state";
import type { HistoryEntry, Sample, SampleFilter } from "../data/types";
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

/** The samples route's filter for a scope. */
export function scopeFilter(scope: GalleryScope): SampleFilter {
  switch (scope.kind) {
    case "cell":
      return { true: scope.true, pred: scope.pred };
    case "class":
      return { true: scope.true };
    case "overall":
      return {};
    case "label":
      if (scope.error === "fp") return { label: scope.label, true: 0, pred: 1 };
      if (scope.error === "fn") return { label: scope.label, true: 1, pred: 0 };
      return { label: scope.label };
  }
}

/** Whether a scope can be shown for a run of this task with n classes (labels). */
export function scopeFits(scope: GalleryScope, task: string, n: number): boolean {
  const ml = isMultilabel(task);
  switch (scope.kind) {
    case "overall":
      return true;
    case "cell":
      return !ml && scope.true < n && scope.pred < n;
    case "class":
      return !ml && scope.true < n;
    case "label":
      return ml && scope.label < n;
  }
}

export const scopeId = (scope: GalleryScope): string => JSON.stringify(scope);

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
      scoreTitle: "Predicted probability of the wrong outcome (present for a false positive, absent for a false negative)",
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

const nameOf = (names: readonly string[], i: number) => names[i] ?? `#${i}`;

export function labelErrorText(error: "fp" | "fn" | "all", plural = true): string {
  if (error === "fp") return plural ? "false positives" : "false positive";
  if (error === "fn") return plural ? "false negatives" : "false negative";
  return plural ? "mistakes" : "mistake";
}

/** A scope in words, e.g. "zero → one", "All mistakes of true zero". */
export function scopeTitle(scope: GalleryScope, names: readonly string[], task: string, sort: GallerySort = "score"): string {
  switch (scope.kind) {
    case "cell":
      return `${nameOf(names, scope.true)} → ${nameOf(names, scope.pred)}`;
    case "class":
      return isRegression(task) ? `All mistakes with target in ${nameOf(names, scope.true)}` : `All mistakes of true ${nameOf(names, scope.true)}`;
    case "overall":
      if (sort === "loss") return "Highest-loss mistakes";
      return isRegression(task) ? "Largest errors" : "Most confident mistakes";
    case "label":
      return `Label ${nameOf(names, scope.label)}: ${labelErrorText(scope.error)}`;
  }
}

/** The wider scopes of a scope, widest first (the gallery's breadcrumbs). */
export function widerScopes(scope: GalleryScope): GalleryScope[] {
  switch (scope.kind) {
    case "overall":
      return [];
    case "class":
      return [{ kind: "overall" }];
    case "cell":
      return [{ kind: "overall" }, { kind: "class", true: scope.true }];
    case "label":
      return scope.error === "all" ? [{ kind: "overall" }] : [{ kind: "overall" }, { kind: "label", label: scope.label, error: "all" }];
  }
}

/** A short name for a scope as a breadcrumb. */
export function crumbText(scope: GalleryScope, names: readonly string[], task: string): string {
  switch (scope.kind) {
    case "overall":
      return "All mistakes";
    case "class":
      return isRegression(task) ? `target ${nameOf(names, scope.true)}` : `true ${nameOf(names, scope.true)}`;
    case "cell":
      return `${nameOf(names, scope.true)} → ${nameOf(names, scope.pred)}`;
    case "label":
      return scope.error === "all" ? `label ${nameOf(names, scope.label)}` : labelErrorText(scope.error);
  }
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
export function outcome(s: Pick<Sample, "true" | "pred" | "label">, names: readonly string[], task: string): Outcome {
  if (isMultilabel(task) || s.label !== null) {
    const label = nameOf(names, s.label ?? 0);
    const error = s.pred === 1 && s.true === 0 ? "fp" : "fn";
    const what = labelErrorText(error, false);
    return {
      headline: `label ${label}: ${what}`,
      trueText: label,
      predText: error === "fp" ? "present, but the label is absent" : "absent, but the label is present",
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

/** How big an image of w x h pixels is drawn in a box of `box` CSS px: small images grow by
 * a whole factor (pixelated, so that each pixel stays a crisp square), large ones shrink to fit
 * (smooth). */
export function displaySize(w: number, h: number, box: number): { width: number; height: number; scale: number; pixelated: boolean } {
  const side = Math.max(w, h);
  if (!(side > 0) || !(box > 0)) return { width: box, height: box, scale: 1, pixelated: false };
  let scale = side <= box ? Math.floor(box / side) : box / side;
  if (!(scale > 0)) scale = box / side;
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)), scale, pixelated: scale >= 2 };
}

/** The selection after a key in a grid of `count` items, `columns` wide; null for other keys. */
export function moveIndex(index: number, key: string, count: number, columns: number): number | null {
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

const cellOf = (e: Pick<HistoryEntry, "true" | "pred" | "label">) => `${e.label ?? ""}:${e.true}:${e.pred}`;

export function historySummary(history: readonly HistoryEntry[]): HistorySummary {
  const sorted = [...history].sort((a, b) => a.step - b.step);
  const cells = new Set(sorted.map(cellOf));
  const moves: number[] = [];
  for (let k = 1; k < sorted.length; k++) if (cellOf(sorted[k]) !== cellOf(sorted[k - 1])) moves.push(sorted[k].step);
  return { first: sorted.length ? sorted[0].step : null, kept: sorted.length, cells: cells.size, moved: moves.length > 0, moves };
}

/** The step of `steps` nearest to `step` (the later one on a tie); null when there is none. */
export function nearestStep(steps: readonly number[], step: number | null): number | null {
  if (!steps.length) return null;
  if (step === null) return steps[steps.length - 1];
  let best = steps[0];
  for (const s of steps) if (Math.abs(s - step) < Math.abs(best - step) || (Math.abs(s - step) === Math.abs(best - step) && s > best)) best = s;
  return best;
}

/** "3 steps (0–2)" / "1 step (5)". */
export function describeSteps(steps: readonly number[]): string {
  if (!steps.length) return "no step";
  const n = steps.length;
  const range = n === 1 ? `${steps[0]}` : `${steps[0]}–${steps[n - 1]}`;
  return `${n} step${n === 1 ? "" : "s"} (${range})`;
}

/** Defaults of PerClassWriter (samples_per_cell, max_samples), for the empty states. */
export const DEFAULT_PER_CELL = 8;
export const DEFAULT_MAX_SAMPLES = 256;

export const KEPT_RULE =
  `Only the k most confident mistakes of each cell are kept (k = samples_per_cell, ${DEFAULT_PER_CELL} by default), ` +
  `and at most max_samples (${DEFAULT_MAX_SAMPLES} by default) at each step.`;

/** The selection rule with the run's own caps when the run recorded them. */
export function keptRule(caps: { samples_per_cell: number | null; max_samples: number | null } | null): string {
  const perCell = caps?.samples_per_cell;
  const total = caps?.max_samples;
  if (!perCell || !total) return KEPT_RULE;
  const mistakes = (n: number) => `${n.toLocaleString("en-US")} most confident mistake${n === 1 ? "" : "s"}`;
  return `This run keeps only the ${mistakes(perCell)} of each cell (samples_per_cell=${perCell}) and at most ${total.toLocaleString("en-US")} in all at each step (max_samples=${total}).`;
}

/** Why a scope shows no kept sample at a step; `mistakes` is the matrix's count in the scope
 * at that step (null when unknown), `caps` the run's selection caps. */
export function emptyMessage(
  scope: GalleryScope,
  names: readonly string[],
  task: string,
  step: number,
  mistakes: number | null,
  caps: { samples_per_cell: number | null; max_samples: number | null } | null = null,
): string {
  const n = (i: number) => nameOf(names, i);
  const count = (m: number) => `${m.toLocaleString("en-US")} mistake${m === 1 ? "" : "s"}`;
  if (scope.kind === "cell" && scope.true === scope.pred) {
    return `${n(scope.true)} → ${n(scope.pred)} holds the correct predictions, and only mistakes are kept. Pick a cell off the diagonal.`;
  }
  if (mistakes === 0) {
    switch (scope.kind) {
      case "cell":
        return isRegression(task)
          ? `No target in ${n(scope.true)} was predicted in ${n(scope.pred)} at step ${step}.`
          : `No true ${n(scope.true)} was predicted as ${n(scope.pred)} at step ${step}.`;
      case "class":
        return isRegression(task) ? `No target in ${n(scope.true)} was mispredicted at step ${step}.` : `No sample of true ${n(scope.true)} was misclassified at step ${step}.`;
      case "overall":
        return `No mistakes at step ${step}.`;
      case "label":
        return `Label ${n(scope.label)} has no ${labelErrorText(scope.error)} at step ${step}.`;
    }
  }
  const what = scopeTitle(scope, names, task);
  const had = mistakes === null ? "" : ` had ${count(mistakes)} at step ${step}, but`;
  return `${what}:${had} no sample was kept${mistakes === null ? ` at step ${step}` : ""}. ${keptRule(caps)}`;
}

/** The scope of one class's kept mistakes: those of a true class (target range), or of a
 * label (multilabel). */
export function classScope(task: string, i: number): GalleryScope {
  return isMultilabel(task) ? { kind: "label", label: i, error: "all" } : { kind: "class", true: i };
}

/** The class (label) a scope narrows to; null for the overall scope. */
export function scopeClass(scope: GalleryScope): number | null {
  switch (scope.kind) {
    case "overall":
      return null;
    case "label":
      return scope.label;
    default:
      return scope.true;
  }
}

/** Why a run with kept samples shows no matrix, and how its mistakes are browsed instead. */
export function noConfusionNote(task: string): string {
  const what = wording(task).trueWord;
  return (
    "This run records no confusion matrix (PerClassWriter(..., confusion=False)), so there are no cells to click " +
    `and mistake counts are unknown. Browse its kept mistakes here: the most confident overall, or those of one ${what} (find it above).`
  );
}
