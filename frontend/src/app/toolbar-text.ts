// What the toolbar says: each tab button (enabled or not, its title), the title over the main
// area, the status line. Pure.
import { groupTitle, seriesLabel, type SeriesGroup, type SeriesRef } from "../data/series";
import type { TagInfo } from "../data/types";
import type { ViewId } from "../state/view-state";
import { TABS, viewHeading, type ActiveView } from "./tabs";

export interface TabButton {
  id: ViewId;
  label: string;
  title: string;
  disabled: boolean;
  active: boolean;
}

/** The tab buttons: a tab none of the class set's series can be shown in is disabled. */
export function tabButtons(
  d: { series: readonly { info: TagInfo }[]; confusionSeries: readonly string[] },
  view: ViewId,
): TabButton[] {
  return TABS.map((t) => {
    const disabled = !d.series.some((x) => t.shows(x.info));
    const title = disabled
      ? t.disabledTitle
      : t.withoutMatrixTitle !== null && d.confusionSeries.length === 0
        ? t.withoutMatrixTitle
        : t.title;
    return { id: t.id, label: t.label, title, disabled, active: view === t.id };
  });
}

/** The title: what the view shows, then the class set (the lines, when there are several) or
 * the series shown and its class count (the one-series views), and how many classes the
 * selection on the left shows when it hides some. */
export function tabTitle(d: {
  active: ActiveView;
  metric: { label: string };
  classNames: readonly string[];
  selected: readonly boolean[];
  focus: SeriesRef | null;
  groups: readonly SeriesGroup[];
  group: SeriesGroup | null;
}): { main: string; sub: string } {
  const n = d.classNames.length;
  const shown = d.selected.filter(Boolean).length;
  const classes = `${n} class${n === 1 ? "" : "es"}`;
  const parts =
    d.active !== "lines" && d.focus
      ? [seriesLabel(d.focus), classes]
      : [d.groups.length > 1 && d.group ? groupTitle(d.group) : classes];
  if (shown < n) parts.push(`${shown} shown`);
  return { main: viewHeading(d.active, d.metric), sub: ` · ${parts.join(" · ")}` };
}

/** "Loading…", or when the data was last loaded. */
export function statusText(loading: boolean, lastLoaded: Date | null): string {
  if (loading) return "Loading…";
  return lastLoaded ? `Last loaded ${formatTime(lastLoaded)}` : "";
}

function formatTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
