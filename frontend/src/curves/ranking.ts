// "Worst N classes": rank classes by the latest value of a metric (in one series, or the mean of
// the series shown).
import type { Matrix } from "../data/types";

/** Per class, its value at the latest step where it has a finite value (null if none). */
export function latestValues(matrix: Matrix, numClasses: number): (number | null)[] {
  const out: (number | null)[] = new Array(numClasses).fill(null);
  let missing = numClasses;
  for (let s = matrix.rows - 1; s >= 0 && missing > 0; s--) {
    for (let c = 0; c < numClasses; c++) {
      if (out[c] !== null) continue;
      const v = matrix.at(s, c);
      if (v !== null && Number.isFinite(v)) {
        out[c] = v;
        missing--;
      }
    }
  }
  return out;
}

/**
 * Indices of the `n` worst classes, worst first. Classes with no value, or not eligible,
 * are never picked. Ties keep class order.
 */
export function worstN(
  values: readonly (number | null)[],
  n: number,
  higherIsBetter: boolean,
  eligible?: (i: number) => boolean,
): number[] {
  if (n <= 0) return [];
  const idx: number[] = [];
  values.forEach((v, i) => {
    if (v !== null && Number.isFinite(v) && (!eligible || eligible(i))) idx.push(i);
  });
  idx.sort((a, b) => {
    const va = values[a] as number;
    const vb = values[b] as number;
    const d = higherIsBetter ? va - vb : vb - va;
    return d !== 0 ? d : a - b;
  });
  return idx.slice(0, n);
}

/** What ranks the classes, in words: "latest loss in exp/validation", "latest loss, mean of the
 * 4 runs shown" (`rankText` as the tab model words it). */
export function rankPhrase(metric: { label: string }, rankText: string): string {
  const what = `latest ${metric.label.toLowerCase()}`;
  return rankText.startsWith("in ") ? `${what} ${rankText}` : `${what}, ${rankText}`;
}
