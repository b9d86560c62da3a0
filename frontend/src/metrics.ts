// The metrics the curves view can plot. Add precision/recall/F1 here later: each metric
// says how to read its [steps][classes] matrix and which direction is "worse".
import type { CurvesResponse, Matrix } from "./types";

export type MetricId = "loss" | "accuracy";

export interface MetricDef {
  id: MetricId;
  label: string;
  /** true: a lower value is worse (accuracy); false: a higher value is worse (loss). */
  higherIsBetter: boolean;
  /** whether the log-scale toggle applies. */
  allowLog: boolean;
  /** the metric's possible range: the y axis never pads past it */
  bounds?: [number, number];
  extract(c: CurvesResponse): Matrix;
  format(v: number): string;
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

export const METRICS: readonly MetricDef[] = [
  {
    id: "loss",
    label: "Loss",
    higherIsBetter: false,
    allowLog: true,
    extract: (c) => c.loss,
    format: formatNumber,
  },
  {
    id: "accuracy",
    label: "Accuracy",
    higherIsBetter: true,
    allowLog: false,
    bounds: [0, 1],
    extract: (c) => c.accuracy,
    format: (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : String(v)),
  },
];

export function metricById(id: string): MetricDef {
  return METRICS.find((m) => m.id === id) ?? METRICS[0];
}
