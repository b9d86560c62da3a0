// What the sidebar's lists hold: the series (ticked in the lines, one picked in the one-series
// views) and the classes (ticked, coloured, flagged, ranked, with their latest value). Pure.
import { groupLabel, groupTitle, seriesLabel, type Series, type SeriesGroup } from "../data/series";
import type { ClassFlag } from "../data/facts";
import type { RunCurves } from "../data/types";
import { matchesFilter } from "../state/selection";
import type { ColorBy } from "../state/view-state";
import { DASHES, type DashStyle } from "../ui/colors";
import { hasConfusion, tabDef, tabOf, type ActiveView } from "./tabs";

/** A series' swatch when it has no colour of its own. */
const NO_COLOR = "#425066";

/** A series of the lines: a checkbox with its colour and dash pattern. */
export interface SeriesToggle {
  series: Series;
  label: string;
  color: string;
  dash: DashStyle;
  on: boolean;
  /** why its curves could not be loaded */
  error: string | undefined;
}

export interface SeriesToggles {
  count: string;
  /** the group's series keys, for "Show all" / "Hide all" (offered for more than one series) */
  keys: string[];
  allOn: boolean;
  rows: SeriesToggle[];
}

export function seriesToggles(
  d: {
    series: readonly Series[];
    selectedSeries: readonly Series[];
    seriesColors: ReadonlyMap<string, string>;
    seriesDashes: ReadonlyMap<string, number>;
  },
  errors: ReadonlyMap<string, string>,
): SeriesToggles {
  return {
    count: `${d.selectedSeries.length} of ${d.series.length}`,
    keys: d.series.map((x) => x.key),
    allOn: d.selectedSeries.length === d.series.length,
    rows: d.series.map((x) => ({
      series: x,
      label: seriesLabel(x),
      color: d.seriesColors.get(x.key) ?? NO_COLOR,
      dash: DASHES[d.seriesDashes.get(x.key) ?? 0] ?? DASHES[0],
      on: d.selectedSeries.includes(x),
      error: errors.get(x.key),
    })),
  };
}

/** A series of the one-series views: a radio button, disabled when the tab cannot show it. */
export interface SeriesChoice {
  series: Series;
  label: string;
  color: string;
  ok: boolean;
  /** the Confusion tab shows its kept samples alone (it has no matrix) */
  samplesOnly: boolean;
  title: string;
  checked: boolean;
}

/** Every series, under its class set's title when there are several (one series is shown, so
 * nothing is mixed; picking one of another class set switches to that set). */
export function seriesChoices(d: {
  groups: readonly SeriesGroup[];
  seriesColors: ReadonlyMap<string, string>;
  focus: Series | null;
  active: ActiveView;
}): { title: string | null; label: string; rows: SeriesChoice[] }[] {
  const tab = tabOf(d.active);
  const def = tabDef(tab);
  return d.groups.map((g) => ({
    title: d.groups.length > 1 ? groupTitle(g) : null,
    label: groupLabel(g),
    rows: g.series.map((x) => {
      const ok = def.shows(x.info);
      const label = seriesLabel(x);
      const samplesOnly = ok && tab === "confusion" && !hasConfusion(x.info);
      return {
        series: x,
        label,
        color: d.seriesColors.get(x.key) ?? NO_COLOR,
        ok,
        samplesOnly,
        title: !ok
          ? `${label}: ${def.cannotShow}`
          : samplesOnly
            ? `${label}: kept samples only (confusion=False)`
            : label,
        checked: x === d.focus,
      };
    }),
  }));
}

/** A class of the class list. */
export interface ClassRow {
  name: string;
  index: number;
  selected: boolean;
  swatch: string;
  flag: ClassFlag | undefined;
  /** its place among the worst classes (0: the worst); undefined when not among them */
  rank: number | undefined;
  /** its latest value in the ranking series, formatted; null when it has none */
  value: string | null;
}

export interface ClassRows {
  count: string;
  rows: ClassRow[];
  /** the text when no row is listed */
  empty: string;
  /** what a value is (the rows' value title) */
  valueTitle: string;
}

export function classRows(
  d: {
    classNames: readonly string[];
    selected: readonly boolean[];
    worst: readonly number[];
    latest: readonly (number | null)[];
    flags: ReadonlyMap<string, ClassFlag>;
    classColors: readonly string[];
    metric: { label: string; format(v: number): string };
    loaded: readonly RunCurves[];
    rankSeries: string | null;
  },
  query: string,
  colorBy: ColorBy,
): ClassRows {
  const metric = d.metric;
  const shown = d.classNames.map((n, i) => ({ n, i })).filter(({ n }) => matchesFilter(n, query));
  const numSelected = d.selected.filter(Boolean).length;
  const worstRank = new Map(d.worst.map((g, r) => [g, r]));
  const rankLabel = d.loaded.find((rc) => rc.key === d.rankSeries)?.label ?? d.rankSeries;
  return {
    count:
      `${numSelected} of ${d.classNames.length} shown` +
      (query.trim() ? ` · ${shown.length} match` : ""),
    rows: shown.map(({ n, i }) => {
      const rank = worstRank.get(i);
      const v = d.latest[i];
      return {
        name: n,
        index: i,
        selected: d.selected[i],
        swatch:
          d.worst.length && rank === undefined
            ? "var(--pc-faded-swatch)"
            : colorBy === "run"
              ? "var(--pc-class-swatch)"
              : d.classColors[i],
        flag: d.flags.get(n),
        rank,
        value: v !== null && v !== undefined ? metric.format(v) : null,
      };
    }),
    empty: d.classNames.length ? "No class matches the filter." : "No classes yet.",
    valueTitle: `latest ${metric.label.toLowerCase()} in ${rankLabel}`,
  };
}
