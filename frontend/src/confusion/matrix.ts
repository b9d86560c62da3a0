// Confusion-matrix logic: normalisation, class orders, cell details, top cells, CSV. Pure.
import { compareNatural } from "../lib/sorting";
import type { Norm, Order } from "../state/view-state";

/** How many most-confused pairs (and biggest changes of a difference) the side panel lists. */
export const PAIRS_LIMIT = 20;

export interface CellInfo {
  count: number;
  /** count / row total (share of the true class's samples); NaN when the row is empty */
  ofRow: number;
  /** count / column total (share of the predicted class's predictions); NaN when empty */
  ofCol: number;
  rowTotal: number;
  colTotal: number;
}

/** A dense C x C count matrix (rows = true class, columns = predicted) and its totals. */
export class ConfusionModel {
  readonly rowSums: Float64Array;
  readonly colSums: Float64Array;
  readonly total: number;
  readonly correct: number;
  private cache = new Map<string, Float32Array>();

  constructor(
    readonly counts: Float64Array,
    readonly n: number,
  ) {
    this.rowSums = new Float64Array(n);
    this.colSums = new Float64Array(n);
    let total = 0;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const base = i * n;
      let s = 0;
      for (let j = 0; j < n; j++) {
        const v = counts[base + j];
        if (v === 0) continue;
        s += v;
        this.colSums[j] += v;
      }
      this.rowSums[i] = s;
      total += s;
      correct += counts[base + i];
    }
    this.total = total;
    this.correct = correct;
  }

  count(i: number, j: number): number {
    return this.counts[i * this.n + j];
  }

  /** The value shown for a cell: the count, or its share of its row or column (NaN for 0/0). */
  value(i: number, j: number, norm: Norm): number {
    const v = this.counts[i * this.n + j];
    if (norm === "counts") return v;
    const d = norm === "row" ? this.rowSums[i] : this.colSums[j];
    return d > 0 ? v / d : NaN;
  }

  /** Every cell's value for `norm`, row-major (cached). */
  values(norm: Norm): Float32Array {
    const hit = this.cache.get(norm);
    if (hit) return hit;
    const n = this.n;
    const out = new Float32Array(n * n);
    if (norm === "counts") out.set(this.counts);
    else if (norm === "row") {
      for (let i = 0; i < n; i++) {
        const d = this.rowSums[i];
        const base = i * n;
        if (d > 0) for (let j = 0; j < n; j++) out[base + j] = this.counts[base + j] / d;
        else out.fill(NaN, base, base + n);
      }
    } else {
      const inv = new Float64Array(n);
      for (let j = 0; j < n; j++) inv[j] = this.colSums[j] > 0 ? 1 / this.colSums[j] : NaN;
      for (let i = 0; i < n; i++) {
        const base = i * n;
        for (let j = 0; j < n; j++) out[base + j] = this.counts[base + j] * inv[j];
      }
    }
    this.cache.set(norm, out);
    return out;
  }

  /** The largest value (over all cells, or the off-diagonal ones only); 0 when empty. */
  maxValue(norm: Norm, offDiagonalOnly: boolean): number {
    const vals = this.values(norm);
    const n = this.n;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const base = i * n;
      for (let j = 0; j < n; j++) {
        if (offDiagonalOnly && i === j) continue;
        const v = vals[base + j];
        if (v > m) m = v;
      }
    }
    return m;
  }

  cell(i: number, j: number): CellInfo {
    const count = this.count(i, j);
    const rowTotal = this.rowSums[i];
    const colTotal = this.colSums[j];
    return {
      count,
      rowTotal,
      colTotal,
      ofRow: rowTotal > 0 ? count / rowTotal : NaN,
      ofCol: colTotal > 0 ? count / colTotal : NaN,
    };
  }

  /** 1 - recall of class i: the share of its samples predicted as something else (NaN if none). */
  errorRate(i: number): number {
    const d = this.rowSums[i];
    return d > 0 ? 1 - this.counts[i * this.n + i] / d : NaN;
  }

  /** The k largest off-diagonal cells, descending (ties by position). */
  topOffDiagonal(
    k: number,
    filter?: (i: number, j: number) => boolean,
  ): { true: number; pred: number; count: number }[] {
    return topCells(
      this.counts,
      this.n,
      k,
      (i, j) => i !== j && (!filter || filter(i, j)),
      (v) => v,
    );
  }

  /** Where class i's samples went (its row, off the diagonal), largest first. */
  rowTop(i: number, k: number): { cls: number; count: number }[] {
    return topInLine(this.n, k, (j) => (j === i ? 0 : this.counts[i * this.n + j]));
  }

  /** Which true classes were predicted as class j (its column, off the diagonal), largest first. */
  colTop(j: number, k: number): { cls: number; count: number }[] {
    return topInLine(this.n, k, (i) => (i === j ? 0 : this.counts[i * this.n + j]));
  }
}

function topInLine(
  n: number,
  k: number,
  at: (x: number) => number,
): { cls: number; count: number }[] {
  const out: { cls: number; count: number }[] = [];
  for (let x = 0; x < n; x++) {
    const v = at(x);
    if (v > 0) out.push({ cls: x, count: v });
  }
  out.sort((a, b) => b.count - a.count || a.cls - b.cls);
  return out.slice(0, k);
}

/** The k cells with the largest key(value) among those passing `keep`, descending. */
export function topCells(
  values: ArrayLike<number>,
  n: number,
  k: number,
  keep: (i: number, j: number) => boolean,
  key: (v: number) => number,
): { true: number; pred: number; count: number }[] {
  const best: { true: number; pred: number; count: number; key: number }[] = [];
  let floor = -Infinity;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = values[i * n + j];
      if (!v) continue;
      const kv = key(v);
      if (!(kv > 0) || (best.length >= k && kv <= floor) || !keep(i, j)) continue;
      best.push({ true: i, pred: j, count: v, key: kv });
      if (best.length > k * 4 + 16) {
        best.sort((a, b) => b.key - a.key || a.true - b.true || a.pred - b.pred);
        best.length = k;
        floor = best[k - 1].key;
      }
    }
  }
  best.sort((a, b) => b.key - a.key || a.true - b.true || a.pred - b.pred);
  return best.slice(0, k).map(({ true: t, pred, count }) => ({ true: t, pred, count }));
}

/**
 * The display order of the classes: display position -> class index. `error` puts the classes
 * with the highest error rate first (classes without samples last); `cluster` uses the
 * backend's permutation (index order when it is missing or does not fit).
 */
export function classOrder(
  order: Order,
  names: readonly string[],
  model: ConfusionModel | null,
  cluster: readonly number[] | null,
): Int32Array {
  const n = names.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  if (order === "name") idx.sort((a, b) => compareNatural(names[a], names[b]) || a - b);
  else if (order === "error" && model && model.n === n) {
    const err = idx.map((i) => model.errorRate(i));
    idx.sort((a, b) => {
      const ea = err[a];
      const eb = err[b];
      if (Number.isNaN(ea) !== Number.isNaN(eb)) return Number.isNaN(ea) ? 1 : -1;
      return (Number.isNaN(ea) ? 0 : eb - ea) || a - b;
    });
  } else if (order === "cluster" && cluster && cluster.length === n)
    return Int32Array.from(cluster);
  return Int32Array.from(idx);
}

/** The order restricted to the shown classes (a mask over class indices). */
export function visibleOrder(order: Int32Array, shown: readonly boolean[] | null): Int32Array {
  if (!shown) return order;
  return order.filter((i) => shown[i] !== false);
}

/** Class index -> display position (-1 when not shown). */
export function positions(order: Int32Array, n: number): Int32Array {
  const pos = new Int32Array(n).fill(-1);
  order.forEach((c, p) => (pos[c] = p));
  return pos;
}

/** A cell of a CSV file: quoted when needed; text that a spreadsheet would run as a formula is
 * prefixed with a quote. */
export function csvCell(v: string | number): string {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The matrix as CSV: a header of predicted classes, one row per true class (in `order`). */
export function matrixCsv(
  names: readonly string[],
  values: ArrayLike<number>,
  n: number,
  order?: ArrayLike<number>,
): string {
  const ord = order ?? Array.from({ length: n }, (_, i) => i);
  const lines: string[] = [];
  const head = ["true \\ predicted"];
  for (let p = 0; p < ord.length; p++) head.push(csvCell(names[ord[p]]));
  lines.push(head.join(","));
  for (let a = 0; a < ord.length; a++) {
    const i = ord[a];
    const row = [csvCell(names[i])];
    for (let b = 0; b < ord.length; b++) row.push(csvCell(values[i * n + ord[b]]));
    lines.push(row.join(","));
  }
  return lines.join("\r\n") + "\r\n";
}
