// Per-series facts from the curves route: what a series' numbers leave out, and at which steps.
// Non-finite per-sample losses (kept out of the mean loss), samples with non-finite outputs
// (never correct, not in the confusion counts), elements with an invalid target and elements
// skipped by ignore_index (both counted for no class). Every fact belongs to one series (a
// (run, name) pair): a notice names it, and a class's badge counts only the series shown. Pure.
import type { CurvesResponse, Matrix } from "./types";
import { stepList } from "../lib/format";

export interface ClassCounts {
  /** per class, in the curves' class order */
  byClass: number[];
  total: number;
  /** the steps with any, ascending */
  steps: number[];
}

export interface StepCounts {
  total: number;
  /** the steps with any, ascending */
  steps: number[];
}

export interface SeriesFacts {
  nonfiniteLoss: ClassCounts;
  nonfiniteOutputs: ClassCounts;
  invalidTargets: StepCounts;
  ignored: StepCounts;
}

function classCounts(m: Matrix, numClasses: number, steps: readonly number[]): ClassCounts {
  const byClass = new Array<number>(numClasses).fill(0);
  const withAny: number[] = [];
  let total = 0;
  const data = m.data; // null: zero everywhere (the usual case: nothing to scan)
  const C = Math.min(numClasses, m.cols);
  for (let s = 0; data && s < m.rows; s++) {
    let here = 0;
    for (let k = 0; k < C; k++) {
      const v = data[s * m.cols + k];
      if (v) {
        byClass[k] += v;
        here += v;
      }
    }
    if (here) withAny.push(steps[s]);
    total += here;
  }
  return { byClass, total, steps: withAny.sort((a, b) => a - b) };
}

function stepCounts(v: readonly number[], steps: readonly number[]): StepCounts {
  let total = 0;
  const withAny: number[] = [];
  v.forEach((x, s) => {
    if (x) {
      total += x;
      withAny.push(steps[s]);
    }
  });
  return { total, steps: withAny.sort((a, b) => a - b) };
}

// one scan per answer: a render (a slider drag) must not walk 1000 classes x 500 steps again
const cache = new WeakMap<CurvesResponse, SeriesFacts>();

export function seriesFacts(c: CurvesResponse): SeriesFacts {
  let f = cache.get(c);
  if (!f) {
    const C = c.class_names.length;
    f = {
      nonfiniteLoss: classCounts(c.nonfinite, C, c.steps),
      nonfiniteOutputs: classCounts(c.nonfinite_outputs, C, c.steps),
      invalidTargets: stepCounts(c.invalid_targets, c.steps),
      ignored: stepCounts(c.ignored, c.steps),
    };
    cache.set(c, f);
  }
  return f;
}

/** A series' facts with what a notice needs to name it. */
export interface SeriesFactsOf {
  key: string;
  label: string;
  classNames: readonly string[];
  facts: SeriesFacts;
}

export interface FactNotice {
  /** data-role of the notice */
  role: "nonfinite-notice" | "nonfinite-outputs-notice" | "no-class-notice";
  kind: "warn" | "info";
  /** the series' key */
  series: string;
  text: string;
}

const plural = (n: number, one: string, many: string) =>
  `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** "cat", "cat and dog", "cat, dog, bird and 4 more" */
function someNames(names: readonly string[], max = 3): string {
  if (names.length <= max)
    return names.length <= 1
      ? names.join("")
      : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

const withAny = (c: ClassCounts, names: readonly string[]) =>
  names.filter((_, k) => c.byClass[k] > 0);

/** The notices of each series, in the order given: non-finite losses, non-finite outputs,
 * elements counted for no class (a warning for invalid targets; ignore_index alone is what the
 * user asked for, so only noted). */
export function factNotices(items: readonly SeriesFactsOf[]): FactNotice[] {
  const out: FactNotice[] = [];
  for (const { key, label, classNames, facts } of items) {
    const loss = facts.nonfiniteLoss;
    if (loss.total > 0) {
      const n = withAny(loss, classNames).length;
      out.push({
        role: "nonfinite-notice",
        kind: "warn",
        series: key,
        text:
          `⚠ ${label}: ${plural(n, "class has", "classes have")} non-finite (NaN/Inf) per-sample losses ` +
          `(${loss.total.toLocaleString("en-US")} at ${stepList(loss.steps)}). They are kept out of the mean loss and marked ⚠ NaN in the class list.`,
      });
    }
    const outputs = facts.nonfiniteOutputs;
    if (outputs.total > 0) {
      const classes = withAny(outputs, classNames);
      out.push({
        role: "nonfinite-outputs-notice",
        kind: "warn",
        series: key,
        text:
          `⚠ ${label}: ${plural(outputs.total, "sample", "samples")} had non-finite (NaN/Inf) outputs at ${stepList(outputs.steps)} ` +
          `(true ${classes.length === 1 ? "class" : "classes"} ${someNames(classes)}). They are not in the confusion matrix and never count as correct; ` +
          `their classes are marked ⚠ NaN out in the class list.`,
      });
    }
    const invalid = facts.invalidTargets;
    const ignored = facts.ignored;
    if (invalid.total > 0 || ignored.total > 0) {
      const parts: string[] = [];
      if (invalid.total > 0)
        parts.push(
          `${plural(invalid.total, "element", "elements")} with an invalid target (at ${stepList(invalid.steps)})`,
        );
      if (ignored.total > 0)
        parts.push(
          `${plural(ignored.total, "element", "elements")} skipped by ignore_index (at ${stepList(ignored.steps)})`,
        );
      out.push({
        role: "no-class-notice",
        kind: invalid.total > 0 ? "warn" : "info",
        series: key,
        text:
          `${invalid.total > 0 ? "⚠ " : ""}${label}: ${parts.join(" and ")} ${invalid.total + ignored.total === 1 ? "was" : "were"} counted for no class: ` +
          `in no class's curves and not in the confusion matrix.`,
      });
    }
  }
  return out;
}

/** A class's flags over the series shown, with each series' share (for the badge's title). */
export interface ClassFlag {
  loss: number;
  outputs: number;
  bySeries: { label: string; loss: number; outputs: number }[];
}

export function classFlags(items: readonly SeriesFactsOf[]): Map<string, ClassFlag> {
  const out = new Map<string, ClassFlag>();
  for (const { label, classNames, facts } of items) {
    classNames.forEach((name, k) => {
      const loss = facts.nonfiniteLoss.byClass[k] ?? 0;
      const outputs = facts.nonfiniteOutputs.byClass[k] ?? 0;
      if (!loss && !outputs) return;
      let f = out.get(name);
      if (!f) out.set(name, (f = { loss: 0, outputs: 0, bySeries: [] }));
      f.loss += loss;
      f.outputs += outputs;
      f.bySeries.push({ label, loss, outputs });
    });
  }
  return out;
}

/** Elements of one step that are in no cell of the confusion matrix. */
export interface OutsideMatrix {
  nonfiniteOutputs: number;
  invalidTargets: number;
  ignored: number;
  total: number;
}

/** What the curves say about a step (null when they do not have it yet). */
export function outsideMatrixAt(c: CurvesResponse | undefined, step: number): OutsideMatrix | null {
  const s = c ? c.steps.indexOf(step) : -1;
  if (!c || s < 0) return null;
  let nonfiniteOutputs = 0;
  for (const v of c.nonfinite_outputs.row(s)) nonfiniteOutputs += v ?? 0;
  const invalidTargets = c.invalid_targets[s] ?? 0;
  const ignored = c.ignored[s] ?? 0;
  return {
    nonfiniteOutputs,
    invalidTargets,
    ignored,
    total: nonfiniteOutputs + invalidTargets + ignored,
  };
}

/** The line under a matrix or report: how many of the step's elements it leaves out, and why. */
export function outsideText(
  o: OutsideMatrix | null,
  step: number,
  where: "matrix" | "report",
): string | null {
  if (!o || o.total <= 0) return null;
  const parts: string[] = [];
  if (o.nonfiniteOutputs)
    parts.push(`${o.nonfiniteOutputs.toLocaleString("en-US")} with non-finite (NaN/Inf) outputs`);
  if (o.invalidTargets)
    parts.push(`${o.invalidTargets.toLocaleString("en-US")} with an invalid target`);
  if (o.ignored) parts.push(`${o.ignored.toLocaleString("en-US")} skipped by ignore_index`);
  const list =
    parts.length === 1
      ? parts[0]
      : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
  const what =
    where === "matrix"
      ? "are not in this matrix"
      : "are not in this report (its counts come from the confusion matrix)";
  return `${plural(o.total, "element", "elements")} of step ${step} ${o.total === 1 ? what.replace("are not", "is not") : what}: ${list}.`;
}
