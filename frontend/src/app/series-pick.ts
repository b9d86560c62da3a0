// Which series the tab shows and which it loads: the class set (group) shown, the series of the
// one-series views (matrix, report, heatmap) and the series whose curves are needed. Pure.
import type { TagsResponse } from "../data/types";
import {
  allSeries,
  chooseGroup,
  chooseRankSeries,
  counterpartSeries,
  groupId,
  groupSeries,
  hasCurves,
  type Series,
  type SeriesGroup,
} from "../data/series";
import { effectiveCurvesMode, type ViewState } from "../state/view-state";
import { tabDef } from "./tabs";

/** Which series the tags offer and which of them the state picks (before any curves load). */
export interface SeriesPick {
  /** every series of the tags route (the one-series views list them all, by group) */
  everySeries: Series[];
  groups: SeriesGroup[];
  group: SeriesGroup | null;
  /** the group's series, in display order */
  series: Series[];
  /** the series of the one-series views */
  focus: Series | null;
}

/** The series the tags offer, the group shown and the one-series views' series. */
export function pickSeries(tags: TagsResponse, state: ViewState): SeriesPick {
  const everySeries = allSeries(tags);
  const groups = groupSeries(everySeries);
  // no group picked yet: the one of the series picked (a link, or a state from before groups)
  const focused = everySeries.find((x) => x.key === state.series);
  const group = chooseGroup(
    groups,
    state.group ?? (focused ? groupId(focused.info.task, focused.info.class_names) : null),
  );
  const series = group?.series ?? [];
  return { everySeries, groups, group, series, focus: chooseFocus(series, state) };
}

/** The series of the one-series views: the user's pick, else a validation series, else the
 * first, among those the tab can show (the report: series with confusion matrices; the
 * Confusion tab: also series that keep samples without a matrix, whose gallery stands alone). */
function chooseFocus(series: Series[], state: ViewState): Series | null {
  const tab = tabDef(state.view);
  return chooseRankSeries(
    series.filter((s) => tab.shows(s.info)),
    state.series,
  );
}

/** The series whose curves are needed: the ticked ones; in the one-series views also their
 * series (its facts: non-finite values, elements outside the matrix) and, for the heatmap's
 * gap, its train/validation counterpart. Only series with per-class stats have curves (a
 * series may keep samples alone). */
export function seriesToLoad(tags: TagsResponse, state: ViewState): Series[] {
  const { group, series, focus } = pickSeries(tags, state);
  const want = new Set(
    series.filter((s) => !state.deselectedSeries.includes(s.key)).map((s) => s.key),
  );
  const lines =
    state.view === "curves" &&
    effectiveCurvesMode(state, group?.classNames.length ?? 0) === "lines";
  if (focus && !lines) {
    want.add(focus.key);
    const other = state.view === "curves" ? counterpartSeries(focus, series) : null;
    if (other) want.add(other.key);
  }
  return series.filter((s) => want.has(s.key) && hasCurves(s.info));
}
