// A [steps][classes] table of numbers in one typed array: what the curves route sends per
// metric. At 1000 classes x 5000 steps a nested JS array would be 5 million boxed numbers per
// metric; a Grid is the route's own bytes (a count in one byte), read in place. Pure.

/** The typed arrays a Grid holds: the binary curves layout's types (data/answers.ts). */
export type NumberArray = Float32Array | Float64Array | Uint8Array | Uint16Array | Uint32Array;

export class Grid {
  private values: NumberArray | null;

  /**
   * `rows` steps x `cols` classes, row-major in `data`; NaN (floats) is "no value". `data`
   * null: zero everywhere (a count the route left out as zero at every step).
   */
  constructor(
    readonly rows: number,
    readonly cols: number,
    data: NumberArray | null,
  ) {
    if (data && data.length !== rows * cols) throw new Error(`grid data is not ${rows}x${cols}`);
    this.values = data;
  }

  /** The values, row-major (null: zero everywhere): for loops over the whole grid. */
  get data(): NumberArray | null {
    return this.values;
  }

  static zeros(rows: number, cols: number): Grid {
    return new Grid(rows, cols, null);
  }

  /** From rows of numbers (null: no value), e.g. a JSON answer; a short row is padded with
   * no value. */
  static fromRows(rows: readonly (readonly (number | null | undefined)[])[], cols: number): Grid {
    const data = new Float64Array(rows.length * cols).fill(NaN);
    rows.forEach((row, s) => {
      for (let k = 0; k < cols && k < row.length; k++) {
        const v = row[k];
        if (typeof v === "number" && Number.isFinite(v)) data[s * cols + k] = v;
      }
    });
    return new Grid(rows.length, cols, data);
  }

  /** A grid of `f(s, k)` (null: no value). */
  static of(rows: number, cols: number, f: (s: number, k: number) => number | null): Grid {
    const data = new Float64Array(rows * cols);
    for (let s = 0; s < rows; s++)
      for (let k = 0; k < cols; k++) data[s * cols + k] = f(s, k) ?? NaN;
    return new Grid(rows, cols, data);
  }

  /** The value at step row `s`, class `k`; null where there is none (or outside the grid). */
  at(s: number, k: number): number | null {
    if (s < 0 || s >= this.rows || k < 0 || k >= this.cols) return null;
    if (!this.data) return 0;
    const v = this.data[s * this.cols + k];
    return Number.isNaN(v) ? null : v;
  }

  /** Row `s` as numbers and nulls (a copy: for small uses, not hot loops). */
  row(s: number): (number | null)[] {
    return Array.from({ length: this.cols }, (_, k) => this.at(s, k));
  }

  /** Sets one value (null: no value); the data becomes float64 first unless it is float. */
  set(s: number, k: number, v: number | null): void {
    const data = this.values;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) {
      this.values = data ? Float64Array.from(data) : new Float64Array(this.rows * this.cols);
    }
    (this.values as NumberArray)[s * this.cols + k] = v ?? NaN;
  }

  /** Whether any value is non-zero (and not missing). */
  any(): boolean {
    if (!this.data) return false;
    for (let i = 0; i < this.data.length; i++) {
      const v = this.data[i];
      if (v !== 0 && !Number.isNaN(v)) return true;
    }
    return false;
  }
}
