// What the sidebar's lists hold: the series (ticked in the lines, one picked in the one-series
// views) and the classes (ticked, coloured, flagged, ranked, with their latest value). Pure.
import {
  groupLabel,
  groupTitle,
  hasCurves,
  seriesLabel,
  splitOfSeries,
  type Series,
  type SeriesGroup,
} from "../data/series";
import type { ClassFlag } from "../data/facts";
import { matchesFilter } from "../state/selection";
import type { ColorBy } from "../state/view-state";
import { DASHES, type DashStyle } from "../ui/colors";
import { rankPhrase } from "../curves/ranking";
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
  /** it keeps samples but has no per-class stats: no lines to draw */
  noCurves: boolean;
}

/** A one-click selection of the series list: the series it shows (every other series of the
 * class set is hidden). */
export interface SeriesPick {
  role: string;
  label: string;
  title: string;
  keys: string[];
  /** what it would show is what is shown already */
  current: boolean;
}

export interface SeriesToggles {
  count: string;
  /** the rows the filter lets through */
  rows: SeriesToggle[];
  picks: SeriesPick[];
  /** the text when the filter lets no row through */
  empty: string | null;
}

export function seriesToggles(
  d: {
    series: readonly Series[];
    selectedSeries: readonly Series[];
    seriesColors: ReadonlyMap<string, string>;
    seriesDashes: ReadonlyMap<string, number>;
  },
  errors: ReadonlyMap<string, string>,
  query = "",
): SeriesToggles {
  const shown = d.series.filter((x) => matchesFilter(seriesLabel(x), query));
  const filtering = query.trim() !== "";
  return {
    count:
      `${d.selectedSeries.length} of ${d.series.length} shown` +
      (filtering ? ` · ${shown.length} match` : ""),
    rows: shown.map((x) => ({
      series: x,
      label: seriesLabel(x),
      color: d.seriesColors.get(x.key) ?? NO_COLOR,
      dash: DASHES[d.seriesDashes.get(x.key) ?? 0] ?? DASHES[0],
      on: d.selectedSeries.includes(x),
      error: errors.get(x.key),
      noCurves: !hasCurves(x.info),
    })),
    picks: d.series.length > 1 ? seriesPicks(d.series, d.selectedSeries, shown, filtering) : [],
    empty: shown.length ? null : "No run matches the filter.",
  };
}

/** The one-click selections: all, none, the series matching the filter, each split (when the
 * class set has more than one). */
function seriesPicks(
  series: readonly Series[],
  selected: readonly Series[],
  matching: readonly Series[],
  filtering: boolean,
): SeriesPick[] {
  const on = new Set(selected.map((x) => x.key));
  const pick = (role: string, label: string, title: string, keys: string[]): SeriesPick => ({
    role,
    label,
    title,
    keys,
    current: keys.length === on.size && keys.every((k) => on.has(k)),
  });
  const out = [
    pick(
      "series-all",
      "All",
      "Show every run of this class set",
      series.map((x) => x.key),
    ),
    pick("series-none", "None", "Hide every run", []),
  ];
  if (filtering)
    out.push(
      pick(
        "series-matching",
        "Only matching",
        "Show only the runs matching the filter",
        matching.map((x) => x.key),
      ),
    );
  const splits = new Map<string, string[]>();
  for (const x of series) {
    const split = splitOfSeries(x);
    if (split) splits.set(split, [...(splits.get(split) ?? []), x.key]);
  }
  if (splits.size > 1)
    for (const [split, keys] of splits)
      out.push(pick(`series-split-${split}`, `Only ${split}`, `Show only the ${split} runs`, keys));
  return out;
}

/** A class set of the class set list. */
export interface GroupRow {
  id: string;
  title: string;
  /** its title and first class names (the row's tooltip) */
  label: string;
  count: string;
  selected: boolean;
}

export function groupRows(groups: readonly SeriesGroup[], shown: SeriesGroup | null): GroupRow[] {
  return groups.map((g) => ({
    id: g.id,
    title: groupTitle(g),
    label: `${groupLabel(g)} (${g.series.length} run${g.series.length === 1 ? "" : "s"})`,
    count: String(g.series.length),
    selected: g === shown,
  }));
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

/** Every series the filter lets through (and the one shown), under its class set's title when
 * there are several (one series is shown, so nothing is mixed; picking one of another class set
 * switches to that set). */
export function seriesChoices(
  d: {
    groups: readonly SeriesGroup[];
    seriesColors: ReadonlyMap<string, string>;
    focus: Series | null;
    active: ActiveView;
  },
  query = "",
): { title: string | null; label: string; rows: SeriesChoice[] }[] {
  const tab = tabOf(d.active);
  const def = tabDef(tab);
  const matching = (g: SeriesGroup) =>
    g.series.filter((x) => x === d.focus || matchesFilter(seriesLabel(x), query));
  return d.groups
    .filter((g) => matching(g).length > 0)
    .map((g) => ({
      title: d.groups.length > 1 ? groupTitle(g) : null,
      label: groupLabel(g),
      rows: matching(g).map((x) => {
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
  /** the heading over the values (null: no class has one) */
  valueHeading: string | null;
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
    rankText: string | null;
  },
  query: string,
  colorBy: ColorBy,
): ClassRows {
  const metric = d.metric;
  const shown = d.classNames.map((n, i) => ({ n, i })).filter(({ n }) => matchesFilter(n, query));
  const numSelected = d.selected.filter(Boolean).length;
  const worstRank = new Map(d.worst.map((g, r) => [g, r]));
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
    valueTitle: d.rankText ? rankPhrase(metric, d.rankText) : "",
    valueHeading: d.latest.some((v) => v !== null)
      ? `latest ${metric.label.toLowerCase()}${d.rankText ? `, ${d.rankText.replace(/^in /, "")}` : ""}`
      : null,
  };
}
