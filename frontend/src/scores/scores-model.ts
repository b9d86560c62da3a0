// What the Scores view shows, derived from the state and the answers: the classes whose curves
// are drawn, the class of the reliability and threshold panels, the table's rows, the lines of
// the chart. Pure.
import type { ScoreClass, ScoresResponse } from "../data/types";
import type { ScoreCurve, ScoreKey, Sort } from "../state/view-state";
import { sortIndices } from "../lib/sorting";
import { prPoints, rocPoints, thresholdCurves, type CurvePoint } from "./score-curves";

/** Classes drawn at once: more would be unreadable (and the route sends 64 at most). */
export const MAX_SHOWN = 8;

/** The classes whose curves are drawn: the user's picks in this view; else the classes ticked
 * in the sidebar when there are few; else the highlighted worst of them; else the first three.
 * A binary run shows its positive class unless told otherwise. */
export function shownClasses(
  classNames: readonly string[],
  picks: readonly string[],
  selected: readonly boolean[],
  worst: readonly number[],
  task: string | null,
): number[] {
  const at = new Map(classNames.map((n, i) => [n, i]));
  const picked = picks.map((n) => at.get(n)).filter((i): i is number => i !== undefined);
  if (picked.length) return picked.slice(0, MAX_SHOWN);
  if (task === "binary" && classNames.length === 2) return [1];
  const ticked = classNames.map((_, i) => i).filter((i) => selected[i]);
  if (ticked.length <= MAX_SHOWN) return ticked;
  const worstTicked = worst.filter((i) => selected[i]).slice(0, MAX_SHOWN);
  return worstTicked.length ? worstTicked : ticked.slice(0, 3);
}

/** The class of the reliability diagram and the threshold panel: the user's focus when it is
 * drawn, else the first class drawn. */
export function focusClass(
  classNames: readonly string[],
  focus: string | null,
  shown: readonly number[],
): number | null {
  const i = focus === null ? -1 : classNames.indexOf(focus);
  if (i >= 0 && shown.includes(i)) return i;
  return shown.length ? shown[0] : null;
}

/** The classes listed after a click on a class: added to, or removed from, what is drawn. */
export function togglePick(
  classNames: readonly string[],
  shown: readonly number[],
  clicked: number,
): string[] {
  const next = shown.includes(clicked)
    ? shown.filter((i) => i !== clicked)
    : [...shown, clicked].slice(-MAX_SHOWN);
  return next.map((i) => classNames[i]);
}

export function curvePoints(kind: ScoreCurve, c: ScoreClass): CurvePoint[] {
  return kind === "pr" ? prPoints(c) : rocPoints(c);
}

export const CURVE_AXES: Record<ScoreCurve, { x: string; y: string }> = {
  roc: { x: "False positive rate", y: "True positive rate" },
  pr: { x: "Recall", y: "Precision" },
  threshold: { x: "Threshold (probability)", y: "Precision · Recall · F1" },
};

/** The threshold view's three lines of one class. */
export function thresholdLines(c: ScoreClass) {
  const curves = thresholdCurves(c);
  return [
    { key: "precision", label: "Precision", points: curves.precision },
    { key: "recall", label: "Recall", points: curves.recall },
    { key: "f1", label: "F1", points: curves.f1 },
  ];
}

/** The value of a table column for class i (null: undefined). */
export function tableValue(r: ScoresResponse, key: ScoreKey, i: number): number | string | null {
  const t = r.table;
  switch (key) {
    case "index":
      return i;
    case "name":
      return r.class_names[i];
    case "positives":
      return t.positives[i];
    case "ap":
      return t.ap[i];
    case "auroc":
      return t.auroc[i];
    case "ece":
      return t.ece[i];
    case "gap":
      return t.signed_error[i];
    case "f1":
      return t.best_f1?.[i] ?? null;
    case "topk":
      return t.top_k_accuracy?.[i] ?? null;
  }
}

/** The table's rows (classes shown in the sidebar), sorted; undefined values last. */
export function tableRows(r: ScoresResponse, sort: Sort<ScoreKey>, shown: boolean[]): number[] {
  const rows = r.class_names.map((_, i) => i).filter((i) => shown[i] ?? true);
  return sortIndices(rows.length, (k) => tableValue(r, sort.key, rows[k]), sort.desc).map(
    (k) => rows[k],
  );
}

/** Clicking the sorted column flips it; another column sorts by it, worst first. */
export function nextScoreSort(cur: Sort<ScoreKey>, key: ScoreKey): Sort<ScoreKey> {
  if (cur.key === key) return { key, desc: !cur.desc };
  const ascFirst: ScoreKey[] = ["index", "name", "ap", "auroc", "f1", "topk"];
  return { key, desc: !ascFirst.includes(key) };
}
