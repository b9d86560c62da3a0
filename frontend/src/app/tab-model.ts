// What the tab shows, derived from the tags, the loaded curves and the view state: the class
// set and its series, the view in the main area, the classes and which are ticked, the metric,
// the worst classes and everyone's colours, the facts of the series shown. Pure.
import type { CurvesResponse, RunCurves, TagsResponse } from "../data/types";
import { seriesLabel, splitOfSeries, type Series, type SeriesGroup } from "../data/series";
import { unionClassNames } from "../data/class-names";
import { metricById, metricForTask, type MetricDef } from "../data/metrics";
import { classFlags, seriesFacts, type ClassFlag, type SeriesFactsOf } from "../data/facts";
import { latestValues, worstN } from "../curves/ranking";
import { effectiveWorstN, type ViewState } from "../state/view-state";
import { selectionPredicate } from "../state/selection";
import { assignDashes, classColors, runColor } from "../ui/colors";
import type { Theme } from "../ui/theme";
import { pickSeries } from "./series-pick";
import { activeView, hasConfusion, showsInConfusionTab, type ActiveView } from "./tabs";

export interface TabModel {
  /** every series of the tags route (the one-series views list them all, by group) */
  everySeries: Series[];
  groups: SeriesGroup[];
  group: SeriesGroup | null;
  /** the group's series, in display order */
  series: Series[];
  /** the group's series the user has ticked */
  selectedSeries: Series[];
  seriesColors: Map<string, string>;
  seriesDashes: Map<string, number>;
  classNames: string[];
  selected: boolean[];
  loaded: RunCurves[];
  /** key of the series that ranks the classes; null: the mean of the series shown (lines) */
  rankSeries: string | null;
  /** what ranks the classes, after "latest loss": "in exp/validation", "mean of the 4 runs shown" */
  rankText: string | null;
  latest: (number | null)[];
  worst: number[];
  classColors: string[];
  /** the facts of the series shown: the ticked ones (lines), else the one-series views' one */
  shownFacts: SeriesFactsOf[];
  /** per class name, over shownFacts */
  flags: Map<string, ClassFlag>;
  metric: MetricDef;
  /** keys of the group's series that have confusion matrices */
  confusionSeries: string[];
  /** keys of the group's series the Confusion tab can show: a matrix, or kept samples without one (confusion=False) */
  gallerySeries: string[];
  active: ActiveView;
  /** the series of the one-series views */
  focus: Series | null;
  /** the group's task */
  task: string | null;
}

export interface TabInput {
  tags: TagsResponse;
  /** loaded curves by series key */
  curves: ReadonlyMap<string, CurvesResponse>;
  state: ViewState;
  theme: Theme;
}

export function deriveTab({ tags, curves, state: s, theme }: TabInput): TabModel {
  const { everySeries, groups, group, series, focus } = pickSeries(tags, s);
  const seriesColors = new Map(everySeries.map((x, i) => [x.key, runColor(i, theme)]));
  const byKey = new Map(series.map((x) => [x.key, x]));
  const seriesDashes = assignDashes(
    series.map((x) => x.key),
    (key) => splitOfSeries(byKey.get(key)!),
  );
  const selectedSeries = series.filter((x) => !s.deselectedSeries.includes(x.key));
  const loaded: RunCurves[] = selectedSeries
    .filter((x) => curves.has(x.key))
    .map((x) => ({
      key: x.key,
      run: x.run,
      name: x.name,
      label: seriesLabel(x),
      curves: curves.get(x.key)!,
    }));
  const union = unionClassNames([
    group?.classNames ?? [],
    ...loaded.map((rc) => rc.curves.class_names),
  ]);
  const confusionSeries = series.filter((x) => hasConfusion(x.info)).map((x) => x.key);
  const gallerySeries = series.filter((x) => showsInConfusionTab(x.info)).map((x) => x.key);
  const active = activeView(s, union.length, focus);
  // the one-series views list that series' own classes
  const focusCurves = focus ? curves.get(focus.key) : undefined;
  let classNames = union;
  if (active !== "lines" && focus !== null) {
    const own = focusCurves?.class_names ?? focus.info.class_names;
    if (own.length) classNames = own;
  }
  const pred = selectionPredicate(s.classes);
  const selected = classNames.map(pred);
  // precision/recall/F1 need tp/fp/fn: without them in any loaded series, show the loss
  let metric = metricById(s.metric);
  if (loaded.length && !loaded.some((rc) => metric.available(rc.curves)))
    metric = metricById("loss");
  const task = group?.task ?? null;
  metric = metricForTask(metric, task);
  // the lines rank over every series shown (the mean of their latest values) unless the user
  // picked one; the one-series views by their series
  const picked = active === "lines" ? loaded.find((rc) => rc.key === s.rankSeries) : undefined;
  const ranking: { key: string; label: string; curves: CurvesResponse }[] =
    active !== "lines"
      ? focus && focusCurves
        ? [{ key: focus.key, label: seriesLabel(focus), curves: focusCurves }]
        : []
      : picked
        ? [picked]
        : loaded;
  const rankSeries = active !== "lines" || picked ? (ranking[0]?.key ?? null) : null;
  const latest = latestOf(
    ranking.map((x) => x.curves),
    classNames,
    metric,
  );
  const rankText =
    ranking.length > 1
      ? `mean of the ${ranking.length} runs shown`
      : ranking.length === 1
        ? `in ${ranking[0].label}`
        : null;
  const n = effectiveWorstN(s, classNames.length);
  const worst = worstN(latest, n, metric.higherIsBetter, (i) => selected[i]);
  // facts are the series' own: the one-series views show only their series' facts
  const shownFacts: SeriesFactsOf[] = (
    active === "lines"
      ? loaded
      : focus && focusCurves
        ? [{ key: focus.key, label: seriesLabel(focus), curves: focusCurves }]
        : []
  ).map((x) => ({
    key: x.key,
    label: x.label,
    classNames: x.curves.class_names,
    facts: seriesFacts(x.curves),
  }));
  return {
    everySeries,
    groups,
    group,
    series,
    selectedSeries,
    seriesColors,
    seriesDashes,
    classNames,
    selected,
    loaded,
    rankSeries,
    rankText,
    latest,
    worst,
    classColors: classColors(classNames.length, worst, theme),
    shownFacts,
    flags: classFlags(shownFacts),
    metric,
    confusionSeries,
    gallerySeries,
    active,
    focus,
    task,
  };
}

/** Each class's latest value of the metric, averaged over the series that rank the classes
 * (each series' own latest value; by name: a series may list the classes in another order);
 * null where no series has one. */
function latestOf(
  ranking: readonly CurvesResponse[],
  classNames: readonly string[],
  metric: MetricDef,
): (number | null)[] {
  const sum = new Float64Array(classNames.length);
  const count = new Int32Array(classNames.length);
  const index = new Map(classNames.map((n, i) => [n, i]));
  for (const c of ranking) {
    const values = latestValues(metric.extract(c), c.class_names.length);
    c.class_names.forEach((n, k) => {
      const i = index.get(n);
      const v = values[k];
      if (i === undefined || v === null) return;
      sum[i] += v;
      count[i]++;
    });
  }
  return classNames.map((_, i) => (count[i] ? sum[i] / count[i] : null));
}
