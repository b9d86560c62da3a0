// Series: what the tab overlays, picks and flags. A series is one (run, name) pair of the
// `tags` route, so that the two ways of organising a logdir give the same tab: Keras-style
// runs (`exp/train`, `exp/validation`, each with the default name) and one run with one
// PerClassWriter per split (`name="train"`, `name="validation"`). Series with the same task
// and class names are compatible and overlaid; the others form other groups. Pure.
import type { TagInfo, TagsResponse } from "./types";
import { comparePaths } from "../lib/sorting";
import { cacheKey } from "../lib/keys";
import { DEFAULT_NAME, seriesKey } from "../state/series-key";

export type Split = "train" | "validation" | "test";

/** A series has curves when it logged per-class stats (it may keep samples alone). */
export const hasCurves = (info: TagInfo | undefined) => !!info?.kinds.includes("stats");

/** The split a run name (or a writer's name) ends with, by the Keras convention (`exp1/train`,
 * `exp1/validation`). */
export function splitOf(run: string): Split | null {
  const last = run.split("/").pop()!.toLowerCase();
  if (/^(train|training)$/.test(last)) return "train";
  if (/^(validation|val|valid|eval|evaluation|dev)$/.test(last)) return "validation";
  if (/^(test|testing)$/.test(last)) return "test";
  return null;
}

export interface SeriesRef {
  run: string;
  name: string;
}

export interface Series extends SeriesRef {
  /** seriesKey(run, name): the identity of the series in maps, the view state and links */
  key: string;
  info: TagInfo;
}

/** Every (run, name) of the tags route, by run (natural order, path part by part), then name
 * (default first). */
export function allSeries(tags: TagsResponse): Series[] {
  const out: Series[] = [];
  for (const run of Object.keys(tags).sort(comparePaths)) {
    const names = Object.keys(tags[run] ?? {}).sort((a, b) =>
      a === DEFAULT_NAME ? -1 : b === DEFAULT_NAME ? 1 : comparePaths(a, b),
    );
    for (const name of names)
      out.push({ key: seriesKey(run, name), run, name, info: tags[run][name] });
  }
  return out;
}

const parentPath = (path: string): string =>
  path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";

/** The split of a series, from the last path part of its name (when not the default), else of
 * its run: `exp · validation` and `exp/validation` are both validation. */
export function splitOfSeries(s: SeriesRef): Split | null {
  return (s.name !== DEFAULT_NAME ? splitOf(s.name) : null) ?? splitOf(s.run);
}

/** What a series' split belongs to: the series with the split taken out of the part that
 * carries it (its name, else its run). Train and validation of one experiment share it. */
function experimentOf(s: SeriesRef): string {
  if (s.name !== DEFAULT_NAME && splitOf(s.name)) return cacheKey(s.run, parentPath(s.name));
  return cacheKey(parentPath(s.run), s.name);
}

/** A series' label: the run for the default name, "run · name" otherwise (the name alone for
 * the logdir's root run "."). */
export function seriesLabel(s: SeriesRef): string {
  if (s.name === DEFAULT_NAME) return s.run;
  if (s.run === "." || s.run === "") return s.name;
  return `${s.run} · ${s.name}`;
}

/** A run's name shortened for a chart label: the part that differs from the others. */
export function shortRun(run: string, all: readonly string[]): string {
  const parts = run.split("/");
  for (let k = 1; k <= parts.length; k++) {
    const tail = parts.slice(-k).join("/");
    if (all.filter((r) => r === tail || r.endsWith("/" + tail)).length <= 1) return tail;
  }
  return run;
}

/** Short labels for series shown together (chart annotations): the name alone when they share
 * one run, the shortened run when they share one name (with that name when there is one run);
 * the full labels when both differ or the short ones collide. */
export function compactLabels(
  series: readonly (SeriesRef & { key: string })[],
): Map<string, string> {
  const runs = [...new Set(series.map((s) => s.run))];
  const names = new Set(series.map((s) => s.name));
  const out = new Map<string, string>();
  for (const s of series) {
    let label: string;
    if (runs.length === 1 && s.name !== DEFAULT_NAME) label = s.name;
    else if (names.size === 1) label = shortRun(s.run, runs);
    else label = seriesLabel(s);
    out.set(s.key, label);
  }
  if (new Set(out.values()).size < out.size) for (const s of series) out.set(s.key, seriesLabel(s));
  return out;
}

/** Compatible series: one task, one list of class names. */
export interface SeriesGroup {
  /** groupId(task, class names): stable across refreshes, kept in the view state */
  id: string;
  task: string;
  classNames: string[];
  series: Series[];
}

/** A compact id of a (task, class names) pair (a hash, so that links stay short at 1000 classes). */
export function groupId(task: string, classNames: readonly string[]): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b9;
  const text = JSON.stringify(classNames);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
  }
  return `${task}:${classNames.length}:${(h1 >>> 0).toString(36)}${(h2 >>> 0).toString(36)}`;
}

/** Groups series by (task, class names), the group shown by default first (groupRank). */
export function groupSeries(series: readonly Series[]): SeriesGroup[] {
  const groups = new Map<string, SeriesGroup>();
  for (const s of series) {
    const id = groupId(s.info.task, s.info.class_names);
    let g = groups.get(id);
    if (!g)
      groups.set(id, (g = { id, task: s.info.task, classNames: s.info.class_names, series: [] }));
    g.series.push(s);
  }
  return [...groups.values()].sort(groupRank);
}

/** The order of class sets: multiclass first (the main task of a model; a binary or multilabel
 * head beside it is an auxiliary one), then the most series (most to overlay), then the most
 * classes (a model's main head), then the order of their first series. */
export function groupRank(a: SeriesGroup, b: SeriesGroup): number {
  const main = (g: SeriesGroup) => (g.task === "multiclass" ? 0 : 1);
  return (
    main(a) - main(b) ||
    b.series.length - a.series.length ||
    b.classNames.length - a.classNames.length
  );
}

/** The group shown: the user's pick while it exists, else the first in groupRank's order. */
export function chooseGroup(
  groups: readonly SeriesGroup[],
  wanted: string | null,
): SeriesGroup | null {
  const picked = groups.find((g) => g.id === wanted);
  if (picked) return picked;
  return [...groups].sort(groupRank)[0] ?? null;
}

const unitWord = (task: string, n: number) =>
  (task === "regression" ? "range" : task === "multilabel" ? "label" : "class") +
  (n === 1 ? "" : task === "regression" || task === "multilabel" ? "s" : "es");

/** A group in short: the names that tell it apart (not the default, not a split), the task when
 * it is not multiclass, the class count ("head_b · 3 classes", "binary · 2 classes"). */
export function groupTitle(g: SeriesGroup): string {
  const names = [
    ...new Set(
      g.series.map((s) =>
        s.name !== DEFAULT_NAME && splitOf(s.name) ? parentPath(s.name) : s.name,
      ),
    ),
  ].filter((n) => n !== "" && n !== DEFAULT_NAME);
  const n = g.classNames.length;
  return [...names, g.task !== "multiclass" ? g.task : null, `${n} ${unitWord(g.task, n)}`]
    .filter((p): p is string => !!p)
    .join(" · ");
}

/** The group's entry in the group picker: its title and its first class names. */
export function groupLabel(g: SeriesGroup): string {
  const head = groupTitle(g);
  let preview = "";
  for (const c of g.classNames) {
    const next = preview ? `${preview}, ${c}` : c;
    if (next.length > 40) {
      preview = preview ? `${preview}, …` : `${c.slice(0, 39)}…`;
      break;
    }
    preview = next;
  }
  return preview ? `${head}: ${preview}` : head;
}

/** The series that ranks the classes (and the one-series views' default): the user's pick,
 * else a validation series, else a test one, else the first. */
export function chooseRankSeries<T extends SeriesRef & { key: string }>(
  series: readonly T[],
  wanted: string | null,
): T | null {
  return (
    series.find((s) => s.key === wanted) ??
    series.find((s) => splitOfSeries(s) === "validation") ??
    series.find((s) => splitOfSeries(s) === "test") ??
    series[0] ??
    null
  );
}

/** The series to compare a series with for the train/validation gap: the same experiment, the
 * other split (validation or test for train, train otherwise). Null when there is none. */
export function counterpartSeries<T extends SeriesRef & { key: string }>(
  s: T,
  candidates: readonly T[],
): T | null {
  const split = splitOfSeries(s);
  if (split === null) return null;
  const base = experimentOf(s);
  const want = split === "train" ? ["validation", "test"] : ["train"];
  for (const w of want) {
    const hit = candidates.find(
      (c) => c.key !== s.key && splitOfSeries(c) === w && experimentOf(c) === base,
    );
    if (hit) return hit;
  }
  return null;
}
