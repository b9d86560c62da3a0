// Precision, recall and F1 from true/false positive and false negative counts: the one place
// the tab computes them (the curves' metrics, the multilabel table). 0/0 is undefined (null). Pure.

export type Counts = {
  tp: number | null | undefined;
  fp: number | null | undefined;
  fn: number | null | undefined;
};

/** tp / (tp + fp); null when undefined (0/0 or missing counts), never 0 for 0/0. */
export function precisionOf({ tp, fp }: Counts): number | null {
  if (tp == null || fp == null) return null;
  const d = tp + fp;
  return d > 0 ? tp / d : null;
}

/** tp / (tp + fn); null when undefined. */
export function recallOf({ tp, fn }: Counts): number | null {
  if (tp == null || fn == null) return null;
  const d = tp + fn;
  return d > 0 ? tp / d : null;
}

/** 2tp / (2tp + fp + fn); null when undefined. */
export function f1Of({ tp, fp, fn }: Counts): number | null {
  if (tp == null || fp == null || fn == null) return null;
  const d = 2 * tp + fp + fn;
  return d > 0 ? (2 * tp) / d : null;
}
