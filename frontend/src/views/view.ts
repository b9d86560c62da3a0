// A view of the main area (curves now; confusion matrix, report and samples later).
// The app owns data loading and the sidebar; a view renders what it is given.
import type { ViewState } from "../state";
import type { RunCurves, TagInfo } from "../types";
import type { MetricDef } from "../metrics";

export interface ViewContext {
  state: ViewState;
  /** the selected tag prefix */
  name: string;
  info: TagInfo | undefined;
  /** selected runs with loaded data, in display order */
  runs: RunCurves[];
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
  /** ask the app to change the state (persisted, re-rendered) */
  setState: (patch: Partial<ViewState>, opts?: { rerender?: boolean }) => void;
}

export interface View {
  readonly id: string;
  readonly label: string;
  readonly element: HTMLElement;
  update(ctx: ViewContext): void;
  destroy(): void;
}
