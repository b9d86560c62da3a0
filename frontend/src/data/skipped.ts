// Malformed steps the plugin skipped. Every route answer built from a series' data lists them in
// `skipped`: [{"step", "kind": "stats"|"confusion"|"samples"|"scores", "reason"}] (empty normally, absent
// from an older plugin). The tab gathers them per series (per compared pair for a diff) and
// shows each source in a compact notice the user can dismiss; reasons are shown as text only.
import type { Api } from "./api";
import type { Skip } from "./types";
import { stepList } from "../lib/format";
import { seriesLabel } from "./series";
import { cacheKey } from "../lib/keys";

/** Groups of (kind, reason) a notice lists before "and N more". */
const MAX_GROUPS = 3;

export interface SkippedGroup {
  kind: string;
  reason: string;
  /** ascending */
  steps: number[];
}

/** Entries of one kind and reason together, in order of first appearance. */
export function summarizeSkipped(list: readonly Skip[]): SkippedGroup[] {
  const groups = new Map<string, SkippedGroup>();
  for (const e of list) {
    const id = cacheKey(e.kind, e.reason);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { kind: e.kind, reason: e.reason, steps: [] }));
    if (!g.steps.includes(e.step)) g.steps.push(e.step);
  }
  for (const g of groups.values()) g.steps.sort((a, b) => a - b);
  return [...groups.values()];
}

/** Where a list came from: a series, or a series compared with another series (diff). */
export interface SkipSource {
  run: string;
  name: string;
  baseRun?: string;
  /** the base series' name (default: `name`) */
  baseName?: string;
}

export function sourceLabel(source: SkipSource): string {
  const label = seriesLabel(source);
  const base = { run: source.baseRun ?? source.run, name: source.baseName ?? source.name };
  return source.baseRun !== undefined && (base.run !== source.run || base.name !== source.name)
    ? `${label} (compared with ${seriesLabel(base)})`
    : label;
}

/** The notice's text: which series, which steps of which kind, and why. */
export function skippedText(source: SkipSource, list: readonly Skip[]): string {
  const groups = summarizeSkipped(list);
  const parts = groups
    .slice(0, MAX_GROUPS)
    .map((g) => `${g.kind} at ${stepList(g.steps)}${g.reason ? ` (${g.reason})` : ""}`);
  const more = groups.length - MAX_GROUPS;
  if (more > 0) parts.push(`${more} more`);
  return `Skipped malformed data of ${sourceLabel(source)}: ${parts.join("; ")}. The other steps are shown.`;
}

const entryId = (e: Skip) => cacheKey(e.kind, e.step, e.reason);
const sourceId = (s: SkipSource) =>
  cacheKey(s.run, s.name, s.baseRun ?? null, s.baseName ?? s.name);

/** What the plugin skipped, per source, and what the user dismissed. Steps skipped once stay
 * listed (event files only grow); a dismissed entry comes back only if it is new. */
export class SkippedLog {
  private sources = new Map<string, { source: SkipSource; entries: Map<string, Skip> }>();
  private dismissed = new Set<string>();

  /** Records an answer's list; true when it brought an entry not known before. */
  add(source: SkipSource, list: readonly Skip[]): boolean {
    if (!list.length) return false;
    const id = sourceId(source);
    let rec = this.sources.get(id);
    if (!rec) this.sources.set(id, (rec = { source, entries: new Map() }));
    let added = false;
    for (const e of list) {
      const k = entryId(e);
      if (!rec.entries.has(k)) {
        rec.entries.set(k, e);
        added = true;
      }
    }
    return added;
  }

  /** Sources with entries the user has not dismissed, and those entries. */
  pending(): { id: string; source: SkipSource; entries: Skip[] }[] {
    const out: { id: string; source: SkipSource; entries: Skip[] }[] = [];
    for (const [id, rec] of this.sources) {
      const entries = [...rec.entries.values()].filter(
        (e) => !this.dismissed.has(cacheKey(id, entryId(e))),
      );
      if (entries.length) out.push({ id, source: rec.source, entries });
    }
    return out;
  }

  /** Hides what a source's notice lists now. */
  dismiss(id: string): void {
    const rec = this.sources.get(id);
    if (rec) for (const e of rec.entries.values()) this.dismissed.add(cacheKey(id, entryId(e)));
  }
}

/** The same Api, telling `report` the skipped steps of every answer that lists some. */
export function reportingSkipped(
  api: Api,
  report: (source: SkipSource, list: Skip[]) => void,
): Api {
  const tell = <T extends { skipped?: Skip[] }>(source: SkipSource, answer: T): T => {
    if (answer.skipped?.length) report(source, answer.skipped);
    return answer;
  };
  return {
    tags: () => api.tags(),
    curves: async (run, name) => tell({ run, name }, await api.curves(run, name)),
    confusion: async (run, name, step) => tell({ run, name }, await api.confusion(run, name, step)),
    pairs: async (run, name, step, limit) =>
      tell({ run, name }, await api.pairs(run, name, step, limit)),
    diff: async (run, name, step, baseRun, baseStep, limit, baseName) =>
      tell(
        { run, name, baseRun, baseName: baseName ?? name },
        await api.diff(run, name, step, baseRun, baseStep, limit, baseName),
      ),
    report: async (run, name, step) => tell({ run, name }, await api.report(run, name, step)),
    scores: async (run, name, step, classes) =>
      tell({ run, name }, await api.scores(run, name, step, classes)),
    order: (run, name, step, by) => api.order(run, name, step, by),
    steps: (run, name, kind) => api.steps(run, name, kind),
    samples: async (run, name, step, filter, order) =>
      tell({ run, name }, await api.samples(run, name, step, filter, order)),
    sampleHistory: async (run, name, id) =>
      tell({ run, name }, await api.sampleHistory(run, name, id)),
    text: (url) => api.text(url),
    dynamics: async (run, name) => tell({ run, name }, await api.dynamics(run, name)),
    dataMap: async (run, name, step) => tell({ run, name }, await api.dataMap(run, name, step)),
    dynamicsList: async (run, name, step, list, label, limit) =>
      tell({ run, name }, await api.dynamicsList(run, name, step, list, label, limit)),
  };
}
