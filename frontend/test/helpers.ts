import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import type { Api } from "../src/api";
import { ApiError, parseCurves, parseTags } from "../src/api";
import type { ChartFactory, ChartOptions } from "../src/chart";
import type { CurvesResponse, TagsResponse } from "../src/types";

const here = dirname(fileURLToPath(import.meta.url));

export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(join(here, "fixtures", name), "utf8"));
}

export const tagsFixture = () => parseTags(fixture("tags.json"));
export const trainCurves = () => parseCurves(fixture("curves_train.json"));
export const validationCurves = () => parseCurves(fixture("curves_validation.json"));

/** An Api serving in-memory data; `fail` maps "tags" or a run to an error message. */
export class FakeApi implements Api {
  calls: string[] = [];
  fail = new Map<string, string>();
  constructor(
    public tagsData: TagsResponse,
    public curvesData: Record<string, CurvesResponse>,
  ) {}
  async tags(): Promise<TagsResponse> {
    this.calls.push("tags");
    const f = this.fail.get("tags");
    if (f) throw new ApiError(f, 500);
    return structuredClone(this.tagsData);
  }
  async curves(run: string, name: string): Promise<CurvesResponse> {
    this.calls.push(`curves:${run}:${name}`);
    const f = this.fail.get(run);
    if (f) throw new ApiError(f, 404);
    const c = this.curvesData[`${run}|${name}`] ?? this.curvesData[run];
    if (!c) throw new ApiError(`Not found: ${run}`, 404);
    return structuredClone(c);
  }
}

export function defaultApi(): FakeApi {
  return new FakeApi(tagsFixture(), { train: trainCurves(), validation: validationCurves() });
}

/** Records the options of every chart created; happy-dom has no canvas. */
export function fakeChart(): { factory: ChartFactory; charts: ChartOptions[]; destroyed: number } {
  const rec = { charts: [] as ChartOptions[], destroyed: 0, factory: null as unknown as ChartFactory };
  rec.factory = (container, opts) => {
    rec.charts.push(opts);
    const el = document.createElement("div");
    el.className = "fake-chart";
    el.setAttribute("data-lines", String(opts.model.lines.length));
    container.appendChild(el);
    return {
      resize() {},
      destroy() {
        rec.destroyed++;
        el.remove();
      },
    };
  };
  return rec;
}

export class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string): string | null {
    return this.data.has(k) ? this.data.get(k)! : null;
  }
  setItem(k: string, v: string): void {
    this.data.set(k, v);
  }
}

/** Synthetic curves: C classes x S steps; loss of class c at step s = (c + 1) / (s + 1). */
export function synthCurves(C: number, S: number, names?: string[], stepOffset = 0): CurvesResponse {
  const class_names = names ?? Array.from({ length: C }, (_, i) => `class_${i}`);
  const steps = Array.from({ length: S }, (_, s) => s + stepOffset);
  const grid = (f: (s: number, c: number) => number | null) =>
    steps.map((_, s) => class_names.map((_, c) => f(s, c)));
  return {
    steps,
    wall_times: steps.map((_, s) => 1000 + s * 60),
    class_names,
    loss: grid((s, c) => (c + 1) / (s + 1)),
    count: grid(() => 10),
    accuracy: grid((s, c) => Math.min(1, (s + 1) / (S * (c + 1)))),
    nonfinite: grid(() => 0),
  };
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}
