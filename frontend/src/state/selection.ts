// Which classes are shown, by name. Stored as whichever list is shorter:
// "all except these" (new classes appear) or "only these".

export interface ClassSelection {
  mode: "exclude" | "include";
  names: string[];
}

export const ALL: ClassSelection = { mode: "exclude", names: [] };

export function isSelected(sel: ClassSelection, name: string): boolean {
  const listed = sel.names.includes(name);
  return sel.mode === "exclude" ? !listed : listed;
}

/** A fast membership test for many lookups. */
export function selectionPredicate(sel: ClassSelection): (name: string) => boolean {
  const set = new Set(sel.names);
  return sel.mode === "exclude" ? (n) => !set.has(n) : (n) => set.has(n);
}

/** Normalises to the shorter representation relative to `allNames`. */
export function normalize(sel: ClassSelection, allNames: readonly string[]): ClassSelection {
  const pred = selectionPredicate(sel);
  const selected = allNames.filter(pred);
  const excluded = allNames.filter((n) => !pred(n));
  if (excluded.length <= selected.length) return { mode: "exclude", names: excluded };
  return { mode: "include", names: selected };
}

export function selectAll(): ClassSelection {
  return { mode: "exclude", names: [] };
}

export function selectNone(): ClassSelection {
  return { mode: "include", names: [] };
}

export function selectOnly(names: readonly string[]): ClassSelection {
  return { mode: "include", names: [...names] };
}

export function setSelected(
  sel: ClassSelection,
  name: string,
  on: boolean,
  allNames: readonly string[],
): ClassSelection {
  const pred = selectionPredicate(sel);
  const selected = allNames.filter((n) => (n === name ? on : pred(n)));
  return normalize({ mode: "include", names: selected }, allNames);
}

/** Substring match, case-insensitive; an empty query matches everything. */
export function matchesFilter(name: string, query: string): boolean {
  const q = query.trim().toLowerCase();
  return q === "" || name.toLowerCase().includes(q);
}

/** Shown / hidden classes by name (the sidebar's selection), for a run's own class list. */
export function shownMask(
  ctx: { classNames: readonly string[]; selected: readonly boolean[] },
  names: readonly string[],
): boolean[] {
  const sel = new Map<string, boolean>();
  ctx.classNames.forEach((n, i) => sel.set(n, ctx.selected[i]));
  return names.map((n) => sel.get(n) ?? true);
}
