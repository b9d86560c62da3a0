// A view of the main area: curves (lines or class-by-step heatmap), confusion matrix, report.
// The app owns the tags, the curves, the sidebar and the state; a view renders what it is
// given and loads its own per-step data through ctx.api.
import type { ViewState } from "../state";
import type { CurvesResponse, RunCurves, TagInfo, TagsResponse } from "../types";
import type { MetricDef } from "../metrics";
import type { Api } from "../api";

export interface ViewContext {
  state: ViewState;
  api: Api;
  tags: TagsResponse;
  /** the selected tag prefix */
  name: string;
  info: TagInfo | undefined;
  /** selected runs with loaded data, in display order */
  runs: RunCurves[];
  /** every run with this name, in display order */
  allRuns: string[];
  /** the run of the one-run views (matrix, report, heatmap); null when there is none */
  run: string | null;
  /** loaded curves of a run (any run the app loaded) */
  curvesOf(run: string): CurvesResponse | undefined;
  classNames: string[];
  selected: boolean[];
  metric: MetricDef;
  /** worst classes (global indices), worst first; empty when the highlight is off */
  worst: number[];
  /** colour of each class */
  classColors: string[];
  /** latest metric value per class in the rank run */
  latest: (number | null)[];
  rankRun: string | null;
  runColors: Map<string, string>;
  runDashes: Map<string, number>;
  nonfinite: Map<string, number>;
  /** bumped by every refresh: views reload what may have changed */
  refreshId: number;
  /** ask the app to change the state (persisted, re-rendered) */
  setState: (patch: Partial<ViewState>, opts?: { rerender?: boolean }) => void;
}

export interface View {
  readonly id: string;
  readonly label: string;
  readonly element: HTMLElement;
  /** the view's own settings, shown in the sidebar's Settings section (null: the app's) */
  readonly settings: HTMLElement | null;
  update(ctx: ViewContext): void;
  /** draws a pending update now (tests) */
  flush?(): void;
  destroy(): void;
}

/** Shown / hidden classes by name (the sidebar's selection), for a run's own class list. */
export function shownMask(ctx: Pick<ViewContext, "classNames" | "selected">, names: readonly string[]): boolean[] {
  const sel = new Map<string, boolean>();
  ctx.classNames.forEach((n, i) => sel.set(n, ctx.selected[i]));
  return names.map((n) => sel.get(n) ?? true);
}
