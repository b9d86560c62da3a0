// JSON shapes of the plugin's routes (see DESIGN.md section 4).

export interface TagInfo {
  kinds: string[];
  task: string;
  class_names: string[];
  num_classes: number;
  loss: string;
}

/** `tags` route: {run: {name: TagInfo}}. */
export type TagsResponse = Record<string, Record<string, TagInfo>>;

export type Matrix = (number | null)[][];

/** `curves?run&name` route. Every matrix is [steps][classes]; NaN arrives as null. */
export interface CurvesResponse {
  steps: number[];
  wall_times: number[];
  class_names: string[];
  loss: Matrix;
  count: Matrix;
  accuracy: Matrix;
  nonfinite: Matrix;
}

/** One run's curves for the selected name. */
export interface RunCurves {
  run: string;
  curves: CurvesResponse;
}
