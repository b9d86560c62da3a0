// The notices over the main area: a failed load, the curves a series could not load, each shown
// series' facts (non-finite values, elements counted for no class) and the malformed steps the
// plugin skipped in them (dismissible). Only the series shown have notices: another series'
// notice comes back with it. Pure.
import type { Skip } from "../data/types";
import { factNotices, type SeriesFactsOf } from "../data/facts";
import { seriesKey } from "../state/series-key";
import { seriesLabel, type Series } from "../data/series";
import { skippedText, type SkipSource } from "../data/skipped";
import type { ActiveView } from "./tabs";

export interface Notice {
  kind: "error" | "warn" | "info";
  text: string;
  /** data-role of the notice (default: notice-<kind>) */
  role?: string;
  /** the series it is about */
  series?: { run: string; name: string };
  /** the skipped log's id of what it lists: the notice can be dismissed */
  dismiss?: string;
}

export function noticeList(
  d: {
    selectedSeries: readonly Series[];
    shownFacts: readonly SeriesFactsOf[];
    series: readonly Series[];
    active: ActiveView;
    focus: Series | null;
  } | null,
  loadError: string | null,
  curvesErrors: ReadonlyMap<string, string>,
  skipped: readonly { id: string; source: SkipSource; entries: Skip[] }[],
): Notice[] {
  const items: Notice[] = [];
  if (loadError)
    items.push({ kind: "error", text: `Could not load the per-class data: ${loadError}` });
  if (d) {
    for (const x of d.selectedSeries) {
      const err = curvesErrors.get(x.key);
      if (err) items.push({ kind: "error", text: `${seriesLabel(x)}: ${err}` });
    }
    for (const f of factNotices(d.shownFacts)) {
      const x = d.series.find((y) => y.key === f.series);
      items.push({
        kind: f.kind,
        text: f.text,
        role: f.role,
        series: x ? { run: x.run, name: x.name } : undefined,
      });
    }
  }
  const shown = new Set(
    d ? (d.active === "lines" ? d.selectedSeries : d.focus ? [d.focus] : []).map((x) => x.key) : [],
  );
  for (const p of skipped.filter((q) => shown.has(seriesKey(q.source.run, q.source.name)))) {
    items.push({
      kind: "warn",
      text: skippedText(p.source, p.entries),
      role: "skipped-notice",
      series: { run: p.source.run, name: p.source.name },
      dismiss: p.id,
    });
  }
  return items;
}
