// The metrics the curves view (lines and heatmap) can plot. Each metric says how to read its
// [steps][classes] matrix and which direction is "worse". Precision, recall and F1 derive from
// the tp/fp/fn counts the backend sends for runs with confusion data; AP, AUROC, ECE and top-k
// accuracy come with runs that record score histograms (scores=True).
import type { CurvesResponse, Matrix } from "./types";
import { Grid } from "./grid";
import { formatMetric, formatNumber, formatPercent } from "../lib/format";
import type { MetricId } from "../state/view-state";
import { f1Of, precisionOf, recallOf, type Counts } from "../lib/rates";

export interface MetricDef {
  id: MetricId;
  label: string;
  /** true: a lower value is worse (accuracy); false: a higher value is worse (loss). */
  higherIsBetter: boolean;
  /** whether the log-scale toggle applies. */
  allowLog: boolean;
  /** the metric's possible range: the y axis never pads past it */
  bounds?: [number, number];
  /** whether a run's curves carry what this metric needs */
  available(c: CurvesResponse): boolean;
  extract(c: CurvesResponse): Matrix;
  format(v: number): string;
}

const derivedCache = new WeakMap<CurvesResponse, Partial<Record<MetricId, Matrix>>>();

/** A [steps][classes] grid computed from tp/fp/fn once per curves object (float32). */
function derived(c: CurvesResponse, id: MetricId, f: (k: Counts) => number | null): Matrix {
  let cache = derivedCache.get(c);
  if (!cache) derivedCache.set(c, (cache = {}));
  const hit = cache[id];
  if (hit) return hit;
  const S = c.steps.length;
  const C = c.class_names.length;
  const out = new Float32Array(S * C).fill(NaN);
  const { tp, fp, fn } = c;
  if (tp && fp && fn) {
    const counts: Counts = { tp: null, fp: null, fn: null };
    for (let s = 0; s < S; s++) {
      for (let k = 0; k < C; k++) {
        counts.tp = tp.at(s, k);
        counts.fp = fp.at(s, k);
        counts.fn = fn.at(s, k);
        out[s * C + k] = f(counts) ?? NaN;
      }
    }
  }
  const grid = new Grid(S, C, out);
  cache[id] = grid;
  return grid;
}

const hasCounts = (c: CurvesResponse) => !!c.tp && !!c.fp && !!c.fn;
const hasScores = (c: CurvesResponse) => !!c.ap && !!c.auroc && !!c.ece;
const noMatrix: Matrix = Grid.zeros(0, 0);

export const METRICS: readonly MetricDef[] = [
  {
    id: "loss",
    label: "Loss",
    higherIsBetter: false,
    allowLog: true,
    available: () => true,
    extract: (c) => c.loss,
    format: formatNumber,
  },
  {
    id: "accuracy",
    label: "Accuracy",
    higherIsBetter: true,
    allowLog: false,
    bounds: [0, 1],
    available: () => true,
    extract: (c) => c.accuracy,
    format: formatPercent,
  },
  {
    id: "precision",
    label: "Precision",
    higherIsBetter: true,
    allowLog: false,
    bounds: [0, 1],
    available: hasCounts,
    extract: (c) => derived(c, "precision", precisionOf),
    format: formatPercent,
  },
  {
    id: "recall",
    label: "Recall",
    higherIsBetter: true,
    allowLog: false,
    bounds: [0, 1],
    available: hasCounts,
    extract: (c) => derived(c, "recall", recallOf),
    format: formatPercent,
  },
  {
    id: "f1",
    label: "F1",
    higherIsBetter: true,
    allowLog: false,
    bounds: [0, 1],
    available: hasCounts,
    extract: (c) => derived(c, "f1", f1Of),
    format: formatPercent,
  },
  {
    id: "ap",
    label: "AP",
    higherIsBetter: true,
    allowLog: false,
    bounds: [0, 1],
    available: hasScores,
    extract: (c) => c.ap ?? noMatrix,
    format: (v) => formatMetric(v),
  },
  {
    id: "auroc",
    label: "AUROC",
    higherIsBetter: true,
    allowLog: false,
    bounds: [0, 1],
    available: hasScores,
    extract: (c) => c.auroc ?? noMatrix,
    format: (v) => formatMetric(v),
  },
  {
    id: "ece",
    label: "ECE",
    higherIsBetter: false,
    allowLog: false,
    bounds: [0, 1],
    available: hasScores,
    extract: (c) => c.ece ?? noMatrix,
    format: formatPercent,
  },
  {
    id: "topk",
    label: "Top-k acc.",
    higherIsBetter: true,
    allowLog: false,
    bounds: [0, 1],
    available: (c) => !!c.top_k_accuracy,
    extract: (c) => c.top_k_accuracy ?? noMatrix,
    format: formatPercent,
  },
];

/** What each score metric means, for titles. */
export const METRIC_TITLES: Partial<Record<MetricId, string>> = {
  ap: "Average precision per class (one-vs-rest), from the score histograms",
  auroc: "Area under the ROC curve per class (one-vs-rest), from the score histograms",
  ece: "Expected calibration error per class: mean |confidence - accuracy| over 16 confidence bins",
  topk: "Share of the class's samples whose class is among the k highest outputs",
};

export function metricById(id: string): MetricDef {
  return METRICS.find((m) => m.id === id) ?? METRICS[0];
}

/** Regression runs bin targets and predictions into ranges: their "accuracy" is the share of
 * predictions that fall in the target's range. */
export const IN_RANGE_LABEL = "In-range rate";
export const IN_RANGE_TITLE = "Share of samples whose prediction falls in the target's range";

/** The metric as named for a task (accuracy of a regression run: the in-range rate). */
export function metricForTask(m: MetricDef, task: string | null | undefined): MetricDef {
  return task === "regression" && m.id === "accuracy" ? { ...m, label: IN_RANGE_LABEL } : m;
}
