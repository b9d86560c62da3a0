// Runs and names from the `tags` route.
import type { TagInfo, TagsResponse } from "./types";
import { splitOf } from "./colors";

/** Natural order: "exp2" before "exp10", "train" before "validation". */
export function compareNatural(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" }) || (a < b ? -1 : a > b ? 1 : 0);
}

export function allRuns(tags: TagsResponse): string[] {
  return Object.keys(tags).sort(compareNatural);
}

/** Names (tag prefixes) across all runs, the default `perclass` first. */
export function allNames(tags: TagsResponse): string[] {
  const names = new Set<string>();
  for (const run of Object.keys(tags)) for (const n of Object.keys(tags[run] ?? {})) names.add(n);
  return [...names].sort((a, b) => (a === "perclass" ? -1 : b === "perclass" ? 1 : compareNatural(a, b)));
}

export function chooseName(tags: TagsResponse, wanted: string | null): string | null {
  const names = allNames(tags);
  if (wanted !== null && names.includes(wanted)) return wanted;
  return names[0] ?? null;
}

export function runsWithName(tags: TagsResponse, name: string): string[] {
  return allRuns(tags).filter((r) => tags[r] && Object.prototype.hasOwnProperty.call(tags[r], name));
}

export function tagInfo(tags: TagsResponse, run: string, name: string): TagInfo | undefined {
  return tags[run]?.[name];
}

/** The run whose latest values rank the classes: the user's choice, else a validation run. */
export function chooseRankRun(selectedRuns: readonly string[], wanted: string | null): string | null {
  if (wanted !== null && selectedRuns.includes(wanted)) return wanted;
  return (
    selectedRuns.find((r) => splitOf(r) === "validation") ??
    selectedRuns.find((r) => splitOf(r) === "test") ??
    selectedRuns[0] ??
    null
  );
}

/**
 * The class list for a name: the union of the runs' class names in order of first
 * appearance (runs of one experiment share them; this also copes with runs that differ).
 */
export function unionClassNames(lists: readonly (readonly string[])[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const list of lists) {
    for (const n of list) {
      if (!seen.has(n)) {
        seen.add(n);
        out.push(n);
      }
    }
  }
  return out;
}

/** Display names unique within one run: a repeated class name gets " #index". */
export function uniqueClassNames(names: readonly string[]): string[] {
  const count = new Map<string, number>();
  for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  return names.map((n, i) => ((count.get(n) ?? 0) > 1 ? `${n} #${i}` : n));
}
