// What a view of the main area implements (View) and what the app gives it at each render
// (ViewContext): lines, class-by-step heatmap, confusion matrix, samples, report. The app owns
// the tags, the curves, the sidebar and the state; a view renders what it is given, loads its
// own per-step data through ctx.api and changes the state through ctx.setState.
import type { ViewState } from "./state/view-state";
import type { CurvesResponse, RunCurves, TagInfo, TagsResponse } from "./data/types";
import type { MetricDef } from "./data/metrics";
import type { Api } from "./data/api";
import type { Series } from "./data/series";

export interface ViewContext {
  state: ViewState;
  api: Api;
  tags: TagsResponse;
  /** the shown group's series (series.ts: (run, name) pairs with the same task and classes), in display order */
  group: Series[];
  /** the series of the one-series views (matrix, report, heatmap); null when there is none */
  series: Series | null;
  /** that series' run and name (what the per-step routes take); `name` is the group's first
   * series' name when there is no such series */
  run: string | null;
  name: string;
  /** the tags' entry of the group's first series (task, loss) */
  info: TagInfo | undefined;
  /** ticked series of the group with loaded curves, in display order */
  runs: RunCurves[];
  /** loaded curves of a series, by key (any series the app loaded) */
  curvesOf(key: string): CurvesResponse | undefined;
  classNames: string[];
  selected: boolean[];
  metric: MetricDef;
  /** worst classes (global indices), worst first; empty when the highlight is off */
  worst: number[];
  /** colour of each class */
  classColors: string[];
  /** latest metric value per class in the ranking series (the mean of the series shown, or one) */
  latest: (number | null)[];
  /** what ranks the classes, after "latest loss": "in exp/validation", "mean of the 4 runs shown" */
  rankLabel: string | null;
  /** colour and dash pattern (index into colors.DASHES) per series key */
  seriesColors: Map<string, string>;
  seriesDashes: Map<string, number>;
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
