// The matrix's difference to another step or run: which series it can compare with (the diff
// route compares two runs of one name), the run compared with, the steps offered, and the
// words of the comparison. Pure.
import { seriesLabel, type Series } from "../data/series";
import type { DiffData } from "../data/types";

/** The series a diff can compare with: the group's series of the shown series' name that have
 * confusion matrices. */
export function diffBases(group: readonly Series[], name: string): Series[] {
  return group.filter((x) => x.name === name && x.info.kinds.includes("confusion"));
}

/** The run of the series to compare with (`baseSeries`, a series key; else the shown run). */
export function baseRunOf(
  bases: readonly Series[],
  baseSeries: string | null,
  run: string,
): string {
  const base = bases.find((x) => x.key === baseSeries);
  return base ? base.run : run;
}

/** Why some series of the class set are not offered: they have another name. Null when none. */
export function otherNamesNote(
  group: readonly Series[],
  name: string,
): { text: string; title: string } | null {
  const others = group
    .filter((x) => x.name !== name && x.info.kinds.includes("confusion"))
    .map((x) => seriesLabel(x));
  if (!others.length) return null;
  const who =
    others.length === 1 ? `${others[0]} has` : `${others.length} series of this class set have`;
  return {
    text: `A difference compares series of one name (“${name}”); ${who} another name.`,
    title: others.join(", "),
  };
}

/** The steps the base step picker offers, the one picked first (the user's, else the first),
 * and the picked step again when the base run does not have it. */
export function baseStepOptions(
  steps: readonly number[],
  picked: number | null,
): { step: number; label: string; selected: boolean }[] {
  const baseStep = picked ?? steps[0];
  const out = steps.map((st) => ({ step: st, label: String(st), selected: st === baseStep }));
  if (baseStep !== undefined && !steps.includes(baseStep))
    out.push({ step: baseStep, label: `${baseStep} (not in run)`, selected: true });
  return out;
}

/** The labels of a diff's two series (runs of the shown series' name). */
export function diffLabels(
  diff: Pick<DiffData, "run" | "base_run">,
  name: string,
): [string, string] {
  return [seriesLabel({ run: diff.run, name }), seriesLabel({ run: diff.base_run, name })];
}
