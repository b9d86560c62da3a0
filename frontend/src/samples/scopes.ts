// Pure logic of the gallery's scopes (one cell, one true class, one label's errors, or the
// most confident mistakes overall): which filter a scope asks the samples route for, whether it
// fits a run, how it is named (title, breadcrumbs), and why it may show no sample.
import type { GalleryScope, GallerySort } from "../state/view-state";
import type { SampleFilter } from "../data/types";
import { isMultilabel, isRegression, labelErrorText, nameOf, wording } from "./sample-info";

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

/** A scope in words, e.g. "zero → one", "All mistakes of true zero". */
export function scopeTitle(
  scope: GalleryScope,
  names: readonly string[],
  task: string,
  sort: GallerySort = "score",
): string {
  switch (scope.kind) {
    case "cell":
      return `${nameOf(names, scope.true)} → ${nameOf(names, scope.pred)}`;
    case "class":
      return isRegression(task)
        ? `All mistakes with target in ${nameOf(names, scope.true)}`
        : `All mistakes of true ${nameOf(names, scope.true)}`;
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
      return scope.error === "all"
        ? [{ kind: "overall" }]
        : [{ kind: "overall" }, { kind: "label", label: scope.label, error: "all" }];
  }
}

/** A short name for a scope as a breadcrumb. */
export function crumbText(scope: GalleryScope, names: readonly string[], task: string): string {
  switch (scope.kind) {
    case "overall":
      return "All mistakes";
    case "class":
      return isRegression(task)
        ? `target ${nameOf(names, scope.true)}`
        : `true ${nameOf(names, scope.true)}`;
    case "cell":
      return `${nameOf(names, scope.true)} → ${nameOf(names, scope.pred)}`;
    case "label":
      return scope.error === "all"
        ? `label ${nameOf(names, scope.label)}`
        : labelErrorText(scope.error);
  }
}

/** Defaults of PerClassWriter (samples_per_cell, max_samples), for the empty states. */
export const DEFAULT_PER_CELL = 8;
export const DEFAULT_MAX_SAMPLES = 256;

export const KEPT_RULE =
  `Only the k most confident mistakes of each cell are kept (k = samples_per_cell, ${DEFAULT_PER_CELL} by default), ` +
  `and at most max_samples (${DEFAULT_MAX_SAMPLES} by default) at each step.`;

/** The selection rule with the run's own caps when the run recorded them. */
export function keptRule(
  caps: { samples_per_cell: number | null; max_samples: number | null } | null,
): string {
  const perCell = caps?.samples_per_cell;
  const total = caps?.max_samples;
  if (!perCell || !total) return KEPT_RULE;
  const mistakes = (n: number) =>
    `${n.toLocaleString("en-US")} most confident mistake${n === 1 ? "" : "s"}`;
  return `This run keeps only the ${mistakes(perCell)} of each cell (samples_per_cell=${perCell}) and at most ${total.toLocaleString("en-US")} in all at each step (max_samples=${total}).`;
}

/** How many of a scope's mistakes were kept, and which of the run's caps held the others back:
 * "4 kept of 19 mistakes (samples_per_cell=4)". A cell's own cap when it is full, else the
 * step's (max_samples: the most confident mistakes of all cells were kept first); a wider scope
 * spans many cells, so both caps. `kept` alone when every mistake was kept or the count is
 * unknown. */
export function keptText(
  scope: GalleryScope,
  kept: number,
  mistakes: number | null,
  caps: { samples_per_cell: number | null; max_samples: number | null } | null,
): { text: string; title: string | null } {
  if (mistakes === null || mistakes <= kept) return { text: `${kept} kept`, title: null };
  const perCell = caps?.samples_per_cell ?? null;
  const total = caps?.max_samples ?? null;
  const cellCap = perCell !== null ? `samples_per_cell=${perCell}` : null;
  const stepCap = total !== null ? `max_samples=${total}` : null;
  let cap: string;
  if (perCell === null && total === null) cap = "the run's caps: samples_per_cell, max_samples";
  else if (scope.kind === "cell")
    cap = perCell !== null && kept >= perCell ? cellCap! : (stepCap ?? cellCap!);
  else if (scope.kind === "overall" && total !== null && kept >= total) cap = stepCap!;
  else
    cap = [cellCap && `${cellCap} per cell`, stepCap && `${stepCap} per step`]
      .filter(Boolean)
      .join(", ");
  return {
    text: `${kept.toLocaleString("en-US")} kept of ${mistakes.toLocaleString("en-US")} mistakes (${cap})`,
    title: keptRule(caps),
  };
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
        return isRegression(task)
          ? `No target in ${n(scope.true)} was mispredicted at step ${step}.`
          : `No sample of true ${n(scope.true)} was misclassified at step ${step}.`;
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
  return isMultilabel(task)
    ? { kind: "label", label: i, error: "all" }
    : { kind: "class", true: i };
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
