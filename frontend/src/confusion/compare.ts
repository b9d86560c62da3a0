// The matrix's difference to another step or series: which series it can compare with (any
// series of its class set with matrices, whatever its name: the diff route takes the base's
// name), the series compared with, the steps offered, and the words of the comparison. Pure.
import { seriesLabel, type Series, type SeriesRef } from "../data/series";
import type { DiffData } from "../data/types";

/** The series a diff can compare with: the class set's series that have confusion matrices
 * (one task, one list of classes: what the diff route needs). */
export function diffBases(group: readonly Series[]): Series[] {
  return group.filter((x) => x.info.kinds.includes("confusion"));
}

/** The series to compare with (`baseSeries`, a series key; else the shown series itself). */
export function baseSeriesOf(
  bases: readonly Series[],
  baseSeries: string | null,
  shown: SeriesRef,
): SeriesRef {
  const base = bases.find((x) => x.key === baseSeries);
  return base ? { run: base.run, name: base.name } : { run: shown.run, name: shown.name };
}

/** Whether two references name one series. */
export const sameSeries = (a: SeriesRef, b: SeriesRef) => a.run === b.run && a.name === b.name;

/** The step compared with when the user picked none: in the matrix's own run, its first step
 * (what changed since the start); in another run, the step shown if that run has it (the two
 * runs at the same point of training), else that run's latest. Undefined without steps. */
export function defaultBaseStep(
  steps: readonly number[],
  shownStep: number,
  sameRun: boolean,
): number | undefined {
  if (sameRun) return steps[0];
  return steps.includes(shownStep) ? shownStep : steps[steps.length - 1];
}

/** The steps the base step picker offers, the one picked first (the user's, else `fallback`:
 * defaultBaseStep), and the picked step again when the base run does not have it. */
export function baseStepOptions(
  steps: readonly number[],
  picked: number | null,
  fallback: number | undefined = steps[0],
): { step: number; label: string; selected: boolean }[] {
  const baseStep = picked ?? fallback;
  const out = steps.map((st) => ({ step: st, label: String(st), selected: st === baseStep }));
  if (baseStep !== undefined && !steps.includes(baseStep))
    out.push({ step: baseStep, label: `${baseStep} (not in run)`, selected: true });
  return out;
}

/** The labels of a diff's two series (the base's name from the answer, else the shown one's). */
export function diffLabels(
  diff: Pick<DiffData, "run" | "base_run" | "base_name">,
  name: string,
): [string, string] {
  return [
    seriesLabel({ run: diff.run, name }),
    seriesLabel({ run: diff.base_run, name: diff.base_name || name }),
  ];
}
