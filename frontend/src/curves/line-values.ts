// The values of a chart line aligned to the chart's x positions, held in one typed array (a
// line of 5000 steps is one Float64Array, not 5000 boxed numbers), and lazy columns of a grid
// read one value at a time (a tooltip's counts). Pure.
import type { Grid } from "../data/grid";

export type Value = number | null;

/** Values by x position, read one at a time (tooltips, hover). */
export interface ValueColumn {
  readonly length: number;
  /** the value at x position `i`; null where there is none */
  at(i: number): Value;
}

/** A line's values: NaN where the line has no point (a gap, or a value the scale cannot show). */
export class LineValues implements ValueColumn {
  /** `present`: how many points the line has, when the maker counted them (-1: not known) */
  constructor(
    readonly data: Float64Array,
    private present = -1,
  ) {}

  static from(values: readonly Value[]): LineValues {
    const data = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = values[i] ?? NaN;
    return new LineValues(data);
  }

  get length(): number {
    return this.data.length;
  }

  at(i: number): Value {
    const v = this.data[i];
    return v === v && v !== undefined ? v : null;
  }

  toArray(): Value[] {
    return Array.from(this.data, (v) => (v === v ? v : null));
  }

  /** How many points the line has (counted once). */
  presentCount(): number {
    if (this.present < 0) {
      let n = 0;
      for (let i = 0; i < this.data.length; i++) if (this.data[i] === this.data[i]) n++;
      this.present = n;
    }
    return this.present;
  }
}

/** Column `col` of a grid at each x position (`rowAt[i]`: the grid row there, -1: none). */
export class GridColumn implements ValueColumn {
  constructor(
    private readonly grid: Grid,
    private readonly col: number,
    private readonly rowAt: Int32Array,
  ) {}

  get length(): number {
    return this.rowAt.length;
  }

  at(i: number): Value {
    const s = this.rowAt[i];
    return s === undefined || s < 0 ? null : this.grid.at(s, this.col);
  }
}
