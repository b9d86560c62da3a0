// Class lists: a group's class names, and display names unique within one run.

/**
 * The class list of a group: the union of the series' class names in order of first
 * appearance (a group's series share them; this also copes with curves that differ).
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
