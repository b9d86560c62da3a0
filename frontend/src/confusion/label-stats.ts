// A multilabel run's per-label 2x2 counts and their precision, recall and F1. Pure.
import { f1Of, precisionOf, recallOf } from "../lib/rates";

export interface LabelStats {
  label: number;
  tn: number;
  fp: number;
  fn: number;
  tp: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
}

/** Per-label counts and metrics of a multilabel run (labels = C*4 [tn, fp, fn, tp]). */
export function labelStats(labels: Float64Array): LabelStats[] {
  const out: LabelStats[] = [];
  for (let k = 0; k < labels.length / 4; k++) {
    const tn = labels[k * 4];
    const fp = labels[k * 4 + 1];
    const fn = labels[k * 4 + 2];
    const tp = labels[k * 4 + 3];
    out.push({
      label: k,
      tn,
      fp,
      fn,
      tp,
      precision: precisionOf({ tp, fp, fn }),
      recall: recallOf({ tp, fp, fn }),
      f1: f1Of({ tp, fp, fn }),
      support: tp + fn,
    });
  }
  return out;
}
