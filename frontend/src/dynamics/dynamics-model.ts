// What the Dynamics view shows, derived from the routes' answers: the data map's points of a
// class (or all), drawn rarely-correct last; the counts of easy, ambiguous and hard-to-learn
// samples over the steps for a class (or summed); the ranked lists' rows in words. Pure.
import type { DataMap, DynamicsCounts, ListedSample } from "../data/types";
import { drawOrder, type MapPoints } from "./map-raster";
import { formatCount, formatShare } from "../lib/format";

/** Correctness colours, 0 (never right) to 1 (always right): red, amber, teal, blue. */
export const CORRECTNESS_STOPS = ["#d7301f", "#fc8d59", "#fdcc8a", "#7fcdbb", "#2c7fb8"];

export const REGION_NAMES = ["easy", "ambiguous", "hard"] as const;
export const REGION_LABELS: Record<(typeof REGION_NAMES)[number], string> = {
  easy: "Easy to learn",
  ambiguous: "Ambiguous",
  hard: "Hard to learn",
};

/** The class index of a class name in a list, null for none or an unknown name. */
export function classIndex(classNames: readonly string[], name: string | null): number | null {
  if (name === null) return null;
  const i = classNames.indexOf(name);
  return i < 0 ? null : i;
}

/** The map's points of a class (all when null), in drawing order (rarely-correct on top),
 * and how many of them were visited. Cached per answer and class. */
export function mapSelection(
  map: DataMap,
  label: number | null,
): { points: MapPoints; order: Uint32Array; shown: number } {
  const cache = selections.get(map) ?? new Map<number | null, ReturnType<typeof mapSelection>>();
  selections.set(map, cache);
  const hit = cache.get(label);
  if (hit) return hit;
  const points: MapPoints = {
    count: map.count,
    x: map.variability,
    y: map.confidence,
    colour: map.correctness,
  };
  let subset: Uint32Array | null = null;
  if (label !== null) {
    const picked: number[] = [];
    for (let i = 0; i < map.count; i++) if (map.label[i] === label) picked.push(i);
    subset = Uint32Array.from(picked);
  }
  const visible = (subset ?? null) === null ? allIndices(map.count) : subset!;
  const seen = visible.filter((i) => map.confidence[i] !== 255);
  const result = { points, order: drawOrder(points, Uint32Array.from(seen)), shown: seen.length };
  cache.set(label, result);
  return result;
}

const selections = new WeakMap<DataMap, Map<number | null, ReturnType<typeof mapSelection>>>();

function allIndices(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** One map point's values, back from 8 bits. */
export function pointValues(
  map: DataMap,
  i: number,
): { id: number; label: number; confidence: number; variability: number; correctness: number } {
  return {
    id: map.id[i],
    label: map.label[i],
    confidence: map.confidence[i] / 254,
    variability: (map.variability[i] / 254) * 0.5,
    correctness: map.correctness[i] / 254,
  };
}

export interface CountSeries {
  steps: number[];
  visited: number[];
  easy: number[];
  ambiguous: number[];
  hard: number[];
  likelyErrors: number[];
  forgotten: number[];
}

/** The counts over the steps of one class, or of all classes summed. */
export function countSeries(counts: DynamicsCounts, label: number | null): CountSeries {
  const pick = (m: number[][]) =>
    m.map((row) => (label === null ? row.reduce((a, b) => a + b, 0) : (row[label] ?? 0)));
  return {
    steps: counts.steps,
    visited: pick(counts.visited),
    easy: pick(counts.easy),
    ambiguous: pick(counts.ambiguous),
    hard: pick(counts.hard),
    likelyErrors: pick(counts.likely_errors),
    forgotten: pick(counts.forgotten),
  };
}

/** The latest counts in words: "1,234 visited: 900 easy (73%), ...". */
export function latestCountsText(series: CountSeries): string {
  const last = series.steps.length - 1;
  if (last < 0) return "No counts yet.";
  const visited = series.visited[last];
  const part = (n: number, what: string) =>
    `${formatCount(n)} ${what} (${formatShare(visited ? n / visited : null)})`;
  return (
    `${formatCount(visited)} visited at step ${series.steps[last]}: ` +
    [
      part(series.easy[last], "easy"),
      part(series.ambiguous[last], "ambiguous"),
      part(series.hard[last], "hard to learn"),
      part(series.likelyErrors[last], "likely label errors"),
      part(series.forgotten[last], "forgotten at least once"),
    ].join(", ")
  );
}

/** A listed sample's evidence, in words. */
export function evidenceText(s: ListedSample, classNames: readonly string[]): string {
  const right = Math.round(s.correctness * s.visits);
  return (
    `mean p(${classNames[s.label]}) ${s.confidence.toFixed(3)}, margin ${s.margin.toFixed(3)} ` +
    `(the model prefers ${classNames[s.preferred]}), right in ${right} of ${s.visits} visits, ` +
    `forgotten ${s.forgets}×`
  );
}

/** "Correct k / n": how often a listed sample was predicted right. */
export function correctText(s: ListedSample): string {
  return `${Math.round(s.correctness * s.visits)} / ${s.visits}`;
}

/** What the map shows, in words. */
export function mapCaption(map: DataMap, shown: number, label: number | null): string {
  const scope = label === null ? "all classes" : `class ${map.class_names[label]}`;
  const sampled = map.subset
    ? ` (the map holds a fixed subset of ${formatCount(map.count)} of the ${formatCount(map.size)} samples; counts and lists use all)`
    : "";
  return `${formatCount(shown)} samples of ${scope} at step ${map.step}${sampled}.`;
}
