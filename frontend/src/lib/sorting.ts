// Sorting of table rows and heatmap rows: by a numeric or text key, ascending or descending,
// missing values (null/NaN) always last, ties in their original order; text in natural order. Pure.

/** Natural order: "exp2" before "exp10", "train" before "validation". */
export function compareNatural(a: string, b: string): number {
  return (
    a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" }) ||
    (a < b ? -1 : a > b ? 1 : 0)
  );
}

/** Natural order of slash-separated paths, part by part, so that an experiment's runs stay
 * together: "sweep/lr_0.01/train", "sweep/lr_0.01/validation", "sweep/lr_0.1/train" (a plain
 * natural order takes "0.01" and "0.1" for equal numbers and interleaves the two experiments). */
export function comparePaths(a: string, b: string): number {
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const d = compareNatural(pa[i], pb[i]);
    if (d) return d;
  }
  return pa.length - pb.length;
}

export type SortKey = number | string | null | undefined;

const missing = (v: SortKey) =>
  v === null || v === undefined || (typeof v === "number" && Number.isNaN(v));

/** Indices 0..n-1 ordered by key(i). */
export function sortIndices(n: number, key: (i: number) => SortKey, desc: boolean): number[] {
  const keys = Array.from({ length: n }, (_, i) => key(i));
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => {
    const ka = keys[a];
    const kb = keys[b];
    const ma = missing(ka);
    const mb = missing(kb);
    if (ma || mb) return ma === mb ? a - b : ma ? 1 : -1;
    let d: number;
    if (typeof ka === "string" || typeof kb === "string")
      d = compareNatural(String(ka), String(kb));
    else d = (ka as number) - (kb as number);
    return (desc ? -d : d) || a - b;
  });
  return idx;
}
