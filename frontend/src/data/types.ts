// JSON shapes of the plugin's routes as the tab uses them (the routes: docs/data-contract.md).
import type { Grid } from "./grid";

export interface TagInfo {
  kinds: string[];
  task: string;
  class_names: string[];
  num_classes: number;
  loss: string;
  /** changes whenever TensorBoard has new data of the series (absent from an older plugin) */
  version?: string;
}

/** `tags` route: {run: {name: TagInfo}}. */
export type TagsResponse = Record<string, Record<string, TagInfo>>;

/** A [steps][classes] table (data/grid.ts). */
export type Matrix = Grid;

/** A malformed step the plugin skipped (listed in the `skipped` field of its answers). */
export interface Skip {
  step: number;
  /** "stats", "confusion" or "samples" */
  kind: string;
  reason: string;
}

/** `curves?run&name` route. Every matrix is a [steps][classes] Grid; NaN is no value. */
export interface CurvesResponse {
  steps: number[];
  wall_times: number[];
  class_names: string[];
  loss: Matrix;
  count: Matrix;
  /** correct predictions (accuracy = correct / count) */
  correct: Matrix;
  accuracy: Matrix;
  nonfinite: Matrix;
  /** samples whose outputs were NaN/inf, per true class (never correct, not in the confusion
   * counts); all zero from a plugin that does not send them */
  nonfinite_outputs: Matrix;
  /** elements with an invalid target (counted for no class), per step */
  invalid_targets: number[];
  /** elements skipped by ignore_index (counted for no class), per step */
  ignored: number[];
  /** per-class true/false positives and false negatives, present when the run has confusion
   * data; a row is all null at steps without a confusion matrix */
  tp?: Matrix;
  fp?: Matrix;
  fn?: Matrix;
  /** per-class average precision, AUROC, expected calibration error and top-k accuracy, present
   * when the run records score histograms (scores=True); a row is all null at steps without */
  ap?: Matrix;
  auroc?: Matrix;
  ece?: Matrix;
  top_k_accuracy?: Matrix;
  /** the k of top_k_accuracy (0 or absent: not recorded) */
  top_k?: number;
  /** malformed steps the plugin skipped (see skipped.ts; absent from an older plugin) */
  skipped?: Skip[];
  /** the tags route's version of the series when these curves were asked for */
  version?: string;
}

/** One series' curves (series.ts: a (run, name) pair). */
export interface RunCurves {
  /** series.ts seriesKey(run, name) */
  key: string;
  run: string;
  name: string;
  /** series.ts seriesLabel */
  label: string;
  curves: CurvesResponse;
}

/** `confusion?run&name[&step]`, decoded: a dense C x C count matrix (rows = true class,
 * columns = predicted), or per-label 2 x 2 matrices for a multilabel task. */
export interface ConfusionData {
  run: string;
  name: string;
  task: string;
  step: number;
  /** the step asked for when it had no matrix and `step` is the latest one before it (a
   * writer with confusion_every); null otherwise */
  requested_step?: number | null;
  /** every step of the run that has a confusion matrix, ascending */
  steps: number[];
  class_names: string[];
  total: number;
  /** C*C counts, row-major (multiclass/binary); empty for multilabel */
  counts: Float64Array;
  n: number;
  /** multilabel: C*4 counts [tn, fp, fn, tp] per label; null otherwise */
  labels: Float64Array | null;
  encoding: string;
  /** malformed steps the plugin skipped (see skipped.ts; absent from an older plugin) */
  skipped?: Skip[];
}

export interface Pair {
  true: number;
  pred: number;
  count: number;
  /** the pair's count at each of PairsResponse.history_steps */
  history: (number | null)[];
}

/** `pairs?run&name[&step][&limit]`: largest off-diagonal cells at `step`, descending. */
export interface PairsResponse {
  step: number;
  steps: number[];
  /** the steps of each pair's history: every step of a short series, else evenly spread ones
   * and `step` (an older plugin: `steps`) */
  history_steps: number[];
  pairs: Pair[];
  /** malformed steps the plugin skipped (see skipped.ts; absent from an older plugin) */
  skipped?: Skip[];
}

export interface Change {
  true: number;
  pred: number;
  before: number;
  after: number;
  delta: number;
}

/** `diff?run&name&step&base_run&base_step`: run@step minus base_run@base_step. */
export interface DiffData {
  run: string;
  step: number;
  base_run: string;
  /** the base series' name (the shown series' from an older plugin) */
  base_name: string;
  base_step: number;
  class_names: string[];
  n: number;
  /** C*C deltas, row-major */
  deltas: Float64Array;
  changes: Change[];
  /** malformed steps the plugin skipped (see skipped.ts; absent from an older plugin) */
  skipped?: Skip[];
}

export interface Averages {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number | null;
}

/** `report?run&name[&step]`: per-class metrics at one step; 0/0 is null. */
export interface ReportResponse {
  step: number;
  steps: number[];
  class_names: string[];
  precision: (number | null)[];
  recall: (number | null)[];
  f1: (number | null)[];
  support: (number | null)[];
  loss: (number | null)[];
  macro: Averages;
  weighted: Averages;
  /** share of correct predictions (multilabel: of correct yes/no decisions over all labels) */
  accuracy: number | null;
  /** the samples counted at the step (null from an older plugin); multilabel: each sample
   * once, however many labels it has (the support is per label: its positives) */
  samples: number | null;
  /** from the score histograms at the step, when the run records them (scores=True) */
  scores?: ReportScores;
  /** malformed steps the plugin skipped (see skipped.ts; absent from an older plugin) */
  skipped?: Skip[];
}

export interface ScoreAverages {
  macro: number | null;
  weighted: number | null;
}

/** The report's columns from score histograms: per class, with macro and weighted averages. */
export interface ReportScores {
  ap: (number | null)[];
  auroc: (number | null)[];
  ece: (number | null)[];
  /** absent when top-k accuracy is not recorded */
  top_k_accuracy?: (number | null)[];
  averages: Record<string, ScoreAverages>;
  top_k: number;
}

/** A reliability diagram: per equal-width confidence bin, the predictions in it, the share
 * correct (null: none) and their mean confidence. */
export interface Reliability {
  count: number[];
  accuracy: (number | null)[];
  confidence: (number | null)[];
}

/** One class's curves at a step: its confusion counts at each threshold where they change,
 * highest threshold first (the first is above every score: threshold null, nothing predicted
 * positive), and the reliability of its predictions. */
export interface ScoreClass {
  class: number;
  positives: number;
  negatives: number;
  thresholds: (number | null)[];
  tp: number[];
  fp: number[];
  /** every threshold is exact (binary, multilabel); multiclass points between two bins holding
   * positives have thresholds from the ranking's bins only */
  exact_thresholds: boolean;
  reliability: Reliability;
}

/** Every class's values at the step ([C] each, null where undefined). */
export interface ScoresTable {
  ap: (number | null)[];
  ap_bound: (number | null)[];
  auroc: (number | null)[];
  auroc_bound: (number | null)[];
  ece: (number | null)[];
  /** mean confidence minus accuracy: over-confident above 0 */
  signed_error: (number | null)[];
  positives: (number | null)[];
  negatives: (number | null)[];
  /** binary and multilabel: the highest F1 over thresholds and the threshold reaching it */
  best_f1?: (number | null)[];
  best_threshold?: (number | null)[];
  top_k_accuracy?: (number | null)[];
  averages: Record<string, ScoreAverages>;
}

/** `scores?run&name[&step][&classes]`: one step's score histograms. */
export interface ScoresResponse {
  run: string;
  name: string;
  task: string;
  step: number;
  steps: number[];
  class_names: string[];
  top_k: number;
  calibration_bins: number;
  table: ScoresTable;
  /** classes whose predictions are the most over- / under-confident, worst first */
  overconfident: number[];
  underconfident: number[];
  overall: { ece: number | null; signed_error: number | null; reliability: Reliability };
  classes: ScoreClass[];
  /** malformed steps the plugin skipped (see skipped.ts; absent from an older plugin) */
  skipped?: Skip[];
}

/** One kept mistake of the `samples` route. Multiclass, binary and regression: `true` and `pred`
 * are classes (target ranges for regression) and `label` is null; multilabel: `label` is the
 * label and `true`/`pred` its 0/1 target and prediction. */
export interface Sample {
  /** position in the step's blob sequence (1-based) */
  index: number;
  true: number;
  pred: number;
  label: number | null;
  /** probability of the (wrong) predicted outcome; regression: |prediction - target| */
  score: number | null;
  loss: number | null;
  /** the user's sample id (a dataset index or a file name), null when none was given */
  id: string | number | null;
  /** "image/png" or "text/plain" */
  media: string;
  width: number;
  height: number;
  /** relative URL of the sample's bytes (the blob route) */
  blob: string;
}

/** `samples?run&name[&step][&true][&pred][&label][&order]`: the kept mistakes of one step. */
export interface SamplesResponse {
  run: string;
  name: string;
  task: string;
  step: number;
  /** every step with kept samples */
  steps: number[];
  class_names: string[];
  /** the writer's caps per cell and per step (null in runs written before they were recorded) */
  samples_per_cell: number | null;
  max_samples: number | null;
  samples: Sample[];
  /** malformed steps the plugin skipped (see skipped.ts; absent from an older plugin) */
  skipped?: Skip[];
}

export interface HistoryEntry {
  step: number;
  true: number;
  pred: number;
  label: number | null;
  score: number | null;
  loss: number | null;
}

/** `sample_history?run&name&id`: the steps at which a sample was kept as a mistake. */
export interface SampleHistory {
  id: string;
  steps: number[];
  first_step: number | null;
  history: HistoryEntry[];
  /** malformed steps the plugin skipped (see skipped.ts; absent from an older plugin) */
  skipped?: Skip[];
}

/** What the samples route filters on. */
export interface SampleFilter {
  true?: number;
  pred?: number;
  label?: number;
}

export type SampleOrder = "score" | "loss";

/** `dynamics?run&name`: the tracked samples' per-class counts at every write ([S][C]), and
 * the steps that have a snapshot (the data map and the ranked lists). */
export interface DynamicsCounts {
  run: string;
  name: string;
  task: string;
  class_names: string[];
  steps: number[];
  visited: number[][];
  easy: number[][];
  ambiguous: number[][];
  hard: number[][];
  likely_errors: number[][];
  forgotten: number[][];
  dataset_size: number[];
  invalid_id_visits: number[];
  repeated_ids: number[];
  skipped_visits: number[];
  /** the confidence bands: easy at easy_confidence and above, hard below hard_confidence */
  regions: { easy_confidence: number; hard_confidence: number };
  snapshot_steps: number[];
  skipped: Skip[];
}

/** `data_map?run&name[&step]`: one snapshot's points, quantised to 0..254 (255: not visited)
 * over [0, 1] (confidence, correctness) and [0, 0.5] (variability). */
export interface DataMap {
  run: string;
  name: string;
  step: number;
  steps: number[];
  class_names: string[];
  size: number;
  visited: number;
  /** points on the map: every sample, or a fixed subset when there are more than 100k */
  count: number;
  subset: boolean;
  invalid_visits: number;
  repeated_ids: number;
  id: Uint32Array;
  label: Uint32Array;
  confidence: Uint8Array;
  variability: Uint8Array;
  correctness: Uint8Array;
  skipped: Skip[];
}

export type DynamicsListKind = "errors" | "forgotten";

/** One sample of a ranked list, with the evidence. */
export interface ListedSample {
  id: number;
  label: number;
  /** the other label with the largest probability at the latest visit */
  preferred: number;
  visits: number;
  forgets: number;
  confidence: number;
  variability: number;
  correctness: number;
  /** mean of p(given) - max p(other) over the visits: below 0, the model prefers another label */
  margin: number;
  /** thumbnail or text URL (the dynamics_media route), null when no inputs were seen */
  media: string | null;
  mediaType: string | null;
}

/** `dynamics_samples?run&name[&step]&list[&class][&limit][&offset]`. */
export interface DynamicsList {
  run: string;
  name: string;
  step: number;
  steps: number[];
  class_names: string[];
  list: DynamicsListKind;
  label: number | null;
  /** entries of the list (in the class) in the snapshot */
  total: number;
  offset: number;
  /** the writer keeps at most this many of the list per snapshot; capped: it had more */
  cap: number;
  capped: boolean;
  samples: ListedSample[];
  skipped: Skip[];
}
