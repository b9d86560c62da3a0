// The tabs of the toolbar: what each is called, which series it can show, which view shows it
// and what its title says. A new tab: its id in state/view-state.ts (ViewId, VIEW_IDS), an entry
// in TABS, and its View in the app's views (app.ts). Pure.
import type { TagInfo } from "../data/types";
import { effectiveCurvesMode, type ViewId, type ViewState } from "../state/view-state";

export const hasConfusion = (info: TagInfo | undefined) => !!info?.kinds.includes("confusion");
/** The Confusion tab shows a series' matrix, or its kept samples alone when it has no matrix. */
/** The Dynamics tab shows series whose writer tracked samples (track_samples=...). */
export const hasDynamics = (info: TagInfo | undefined) => !!info?.kinds.includes("dynamics");
export const showsInConfusionTab = (info: TagInfo | undefined) =>
  hasConfusion(info) || !!info?.kinds.includes("samples");
export const hasScores = (info: TagInfo | undefined) => !!info?.kinds.includes("scores");

const MATRICES = "confusion matrices (written by PerClassWriter.write() by default)";

export interface TabDef {
  id: ViewId;
  label: string;
  /** the button's title */
  title: string;
  /** the button's title when no series of the class set can be shown */
  disabledTitle: string;
  /** the button's title when the series it can show have no confusion matrix (null: `title`) */
  withoutMatrixTitle: string | null;
  /** whether the tab can show a series */
  shows(info: TagInfo | undefined): boolean;
  /** why a series the tab cannot show is greyed out in the run list */
  cannotShow: string;
}

export const TABS: readonly TabDef[] = [
  {
    id: "curves",
    label: "Curves",
    title: "Per-class learning curves (lines, or a class-by-step heatmap)",
    disabledTitle: `No run of this class set has ${MATRICES}.`,
    withoutMatrixTitle: null,
    shows: () => true,
    cannotShow: "no confusion matrices",
  },
  {
    id: "confusion",
    label: "Confusion",
    title: "Confusion matrix at a step, most-confused pairs, diffs",
    disabledTitle: `No run of this class set has ${MATRICES} or kept samples (update(..., inputs=x)).`,
    withoutMatrixTitle:
      "Misclassified samples at a step: the series of this class set keep samples but record no confusion matrix (confusion=False)",
    shows: showsInConfusionTab,
    cannotShow: "no confusion matrices or kept samples",
  },
  {
    id: "report",
    label: "Report",
    title: "Precision, recall, F1, support and loss per class at a step",
    disabledTitle: `No run of this class set has ${MATRICES}.`,
    withoutMatrixTitle: null,
    shows: hasConfusion,
    cannotShow: "no confusion matrices",
  },
  {
    id: "scores",
    label: "Scores",
    title:
      "PR and ROC curves, thresholds and calibration per class at a step (from score histograms)",
    disabledTitle:
      "No run of this class set records score histograms: create the writer with scores=True.",
    withoutMatrixTitle: null,
    shows: hasScores,
    cannotShow: "no score histograms (scores=True)",
  },
  {
    id: "dynamics",
    label: "Dynamics",
    title:
      "Training dynamics per sample: data map, easy / ambiguous / hard-to-learn counts, likely label errors, forgotten samples",
    disabledTitle:
      "No run of this class set tracked samples (PerClassWriter(..., track_samples=len(train_set)) with sample_ids= in update()).",
    withoutMatrixTitle: null,
    shows: hasDynamics,
    cannotShow: "no tracked samples",
  },
];

export function tabDef(id: ViewId): TabDef {
  return TABS.find((t) => t.id === id) ?? TABS[0];
}

/** What the main area shows: the tab's view, except that the Curves tab shows lines or the
 * class-by-step heatmap, and the Confusion tab of a series that keeps samples without a matrix
 * (confusion=False) its samples alone ("mistakes"). Only "lines" overlays several series. */
export type ActiveView = Exclude<ViewId, "curves"> | "lines" | "heatmap" | "mistakes";

export function activeView(
  state: ViewState,
  numClasses: number,
  focus: { info: TagInfo } | null,
): ActiveView {
  if (state.view === "curves") return effectiveCurvesMode(state, numClasses);
  if (state.view === "confusion")
    return focus !== null && !hasConfusion(focus.info) ? "mistakes" : "confusion";
  return state.view;
}

/** The tab a view belongs to. */
export function tabOf(active: ActiveView): ViewId {
  return active === "lines" || active === "heatmap"
    ? "curves"
    : active === "mistakes"
      ? "confusion"
      : active;
}

/** The title's first words: what the view shows. */
export function viewHeading(active: ActiveView, metric: { label: string }): string {
  switch (active) {
    case "confusion":
      return "Confusion matrix";
    case "mistakes":
      return "Misclassified samples";
    case "report":
      return "Per-class report";
    case "scores":
      return "Per-class scores";
    case "dynamics":
      return "Training dynamics";
    default:
      return `Per-class ${metric.label.toLowerCase()}`;
  }
}
