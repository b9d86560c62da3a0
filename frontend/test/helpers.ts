import { Grid } from "../src/data/grid";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import type { Api } from "../src/data/api";
import { ApiError } from "../src/data/api";
import {
  parseConfusion,
  parseCurves,
  parseDiff,
  parseHistory,
  parseOrder,
  parsePairs,
  parseReport,
  parseSamples,
  parseTags,
} from "../src/data/answers";
import { App } from "../src/app/app";
import type { ChartFactory, ChartOptions } from "../src/curves/chart-model";
import { DEFAULT_NAME, seriesKey } from "../src/state/series-key";
import { seriesLabel } from "../src/data/series";
import type {
  RunCurves,
  ConfusionData,
  CurvesResponse,
  DataMap,
  DiffData,
  DynamicsCounts,
  DynamicsList,
  DynamicsListKind,
  PairsResponse,
  ReportResponse,
  SampleFilter,
  SampleHistory,
  SampleOrder,
  SamplesResponse,
  ScoresResponse,
  TagsResponse,
} from "../src/data/types";

const here = dirname(fileURLToPath(import.meta.url));

export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(join(here, "fixtures", name), "utf8"));
}

export const tagsFixture = () => parseTags(fixture("tags.json"));
export const trainCurves = () => parseCurves(fixture("curves_train.json"));
export const validationCurves = () => parseCurves(fixture("curves_validation.json"));

export const confusionFixture = () => parseConfusion(fixture("confusion_validation.json"));
export const sparseStep3Fixture = () =>
  parseConfusion(fixture("confusion_validation_step3_sparse.json"));
export const pairsFixture = () => parsePairs(fixture("pairs_validation.json"));
export const diffFixture = () => parseDiff(fixture("diff_validation_7_0.json"));
export const reportFixture = () => parseReport(fixture("report_validation.json"));
export const orderFixture = () => parseOrder(fixture("order_validation.json"));

type ByStep<T> = T | ((step: number | null) => T);

/** An Api serving in-memory data, by "run|name" or by run (any name); `fail` maps "tags", a run,
 * or "<route>:<run>" to an error message (answered as a 400/404 would be). */
export class FakeApi implements Api {
  calls: string[] = [];
  fail = new Map<string, string>();
  confusionData: Record<string, ByStep<ConfusionData>> = {};
  pairsData: Record<string, ByStep<PairsResponse>> = {};
  reportData: Record<string, ByStep<ReportResponse>> = {};
  scoresData: Record<string, ByStep<ScoresResponse>> = {};
  diffData: Record<string, DiffData> = {};
  orderData: Record<string, number[]> = {};
  /** raw `samples` answers (as the server sends them, unfiltered) per run and step */
  samplesData: Record<string, Record<string, unknown>> = {};
  /** `steps` answers per run and kind */
  stepsData: Record<string, Record<string, number[]>> = {};
  /** raw `sample_history` answers per run and id */
  historyData: Record<string, Record<string, unknown>> = {};
  /** text samples by blob URL */
  textData: Record<string, string> = {};
  /** dynamics answers per run */
  dynamicsData: Record<string, DynamicsCounts> = {};
  dataMapData: Record<string, ByStep<DataMap>> = {};
  /** every entry of a list per run and list kind; served filtered and cut like the route */
  dynamicsListData: Record<string, Record<string, DynamicsList>> = {};
  constructor(
    public tagsData: TagsResponse,
    public curvesData: Record<string, CurvesResponse>,
  ) {}

  private pick<T>(
    route: string,
    table: Record<string, ByStep<T>>,
    run: string,
    step: number | null,
    name?: string,
  ): T {
    const f = this.fail.get(`${route}:${run}`) ?? this.fail.get(route);
    if (f) throw new ApiError(f, 400);
    const v = table[`${run}|${name}`] ?? table[run];
    if (v === undefined) throw new ApiError(`Not found: no ${route} data for run '${run}'`, 404);
    const out = typeof v === "function" ? (v as (s: number | null) => T)(step) : v;
    return structuredClone(out);
  }
  async confusion(run: string, name: string, step: number | null): Promise<ConfusionData> {
    this.calls.push(`confusion:${run}:${name}:${step ?? "latest"}`);
    return this.pick("confusion", this.confusionData, run, step, name);
  }
  async pairs(run: string, name: string, step: number | null, limit = 20): Promise<PairsResponse> {
    this.calls.push(`pairs:${run}:${name}:${step ?? "latest"}:${limit}`);
    return this.pick("pairs", this.pairsData, run, step, name);
  }
  async report(run: string, name: string, step: number | null): Promise<ReportResponse> {
    this.calls.push(`report:${run}:${name}:${step ?? "latest"}`);
    return this.pick("report", this.reportData, run, step, name);
  }
  async scores(
    run: string,
    name: string,
    step: number | null,
    classes: number[],
  ): Promise<ScoresResponse> {
    this.calls.push(`scores:${run}:${name}:${step ?? "latest"}:${classes.join(",")}`);
    const all = this.pick("scores", this.scoresData, run, step, name);
    return { ...all, classes: all.classes.filter((c) => classes.includes(c.class)) };
  }
  async diff(
    run: string,
    name: string,
    step: number,
    baseRun: string,
    baseStep: number,
    _limit?: number,
    baseName: string = name,
  ): Promise<DiffData> {
    const other = baseName !== name ? `:${baseName}` : "";
    this.calls.push(`diff:${run}:${name}:${step}:${baseRun}:${baseStep}${other}`);
    const answer = this.pick(
      "diff",
      { [run]: this.diffData[`${run}@${step}|${baseRun}@${baseStep}`] ?? this.diffData[run] },
      run,
      step,
    );
    return { ...answer, run, step, base_run: baseRun, base_name: baseName, base_step: baseStep };
  }
  async order(run: string, name: string, step: number | null, by: string): Promise<number[]> {
    this.calls.push(`order:${run}:${name}:${step ?? "latest"}:${by}`);
    return this.pick("order", this.orderData, run, step, name);
  }
  async steps(run: string, name: string, kind: string): Promise<number[]> {
    this.calls.push(`steps:${run}:${name}:${kind}`);
    const f = this.fail.get(`steps:${run}`);
    if (f) throw new ApiError(f, 400);
    const steps = this.stepsData[run]?.[kind];
    if (!steps)
      throw new ApiError(
        `Not found: no per-class ${kind} data for run '${run}' and name '${name}'; the tags route lists what exists`,
        404,
      );
    return [...steps];
  }
  async samples(
    run: string,
    name: string,
    step: number | null,
    filter: SampleFilter,
    order: SampleOrder,
  ): Promise<SamplesResponse> {
    this.calls.push(
      `samples:${run}:${name}:${step ?? "latest"}:${JSON.stringify(filter)}:${order}`,
    );
    const f = this.fail.get(`samples:${run}`) ?? this.fail.get("samples");
    if (f) throw new ApiError(f, 400);
    return parseSamples(serveSamples(run, name, this.samplesData[run], step, filter, order));
  }
  async sampleHistory(run: string, name: string, id: string): Promise<SampleHistory> {
    this.calls.push(`history:${run}:${name}:${id}`);
    const raw = this.historyData[run]?.[id];
    const steps = Object.keys(this.samplesData[run] ?? {})
      .map(Number)
      .sort((a, b) => a - b);
    return parseHistory(raw ?? { id, steps, first_step: null, history: [] });
  }
  async dynamics(run: string, name: string): Promise<DynamicsCounts> {
    this.calls.push(`dynamics:${run}:${name}`);
    return this.pick("dynamics", this.dynamicsData, run, null, name);
  }
  async dataMap(run: string, name: string, step: number | null): Promise<DataMap> {
    this.calls.push(`data_map:${run}:${name}:${step ?? "latest"}`);
    const f = this.fail.get(`data_map:${run}`) ?? this.fail.get("data_map");
    if (f) throw new ApiError(f, 404);
    const v = this.dataMapData[run];
    if (v === undefined) throw new ApiError(`Not found: no data map for run '${run}'`, 404);
    return typeof v === "function" ? v(step) : v; // typed arrays: not cloned
  }
  async dynamicsList(
    run: string,
    name: string,
    step: number | null,
    list: DynamicsListKind,
    label: number | null,
    limit: number,
  ): Promise<DynamicsList> {
    this.calls.push(
      `dynamics_samples:${run}:${name}:${step ?? "latest"}:${list}:${label}:${limit}`,
    );
    const all = this.dynamicsListData[run]?.[list];
    if (!all) throw new ApiError(`Not found: no dynamics snapshot for run '${run}'`, 404);
    const chosen = all.samples.filter((s) => label === null || s.label === label);
    return structuredClone({
      ...all,
      label,
      total: chosen.length,
      samples: chosen.slice(0, limit),
    });
  }
  async text(url: string): Promise<string> {
    this.calls.push(`text:${url}`);
    const t = this.textData[url];
    if (t === undefined) throw new ApiError(`Not found: ${url}`, 404);
    return t;
  }
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
    return cloneCurves(c);
  }
}

/** A deep copy of curves, its Grids still Grids (structuredClone drops their class). */
export function cloneCurves(c: CurvesResponse): CurvesResponse {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(c))
    copy[key] =
      value instanceof Grid
        ? new Grid(value.rows, value.cols, value.data ? value.data.slice() : null)
        : structuredClone(value);
  return copy as unknown as CurvesResponse;
}

/** What the samples route answers (tb_perclass/plugin/reader.py `samples`): the step's entries
 * (the latest step when `step` is null; 404 when it has none) matching every filter, by score
 * as stored or by loss (missing losses last). Checked against captured answers in
 * samples.test.ts. */
export function serveSamples(
  run: string,
  name: string,
  byStep: Record<string, unknown> | undefined,
  step: number | null,
  filter: SampleFilter,
  order: SampleOrder,
): unknown {
  if (!byStep)
    throw new ApiError(
      `Not found: no per-class samples data for run '${run}' and name '${name}'; the tags route lists what exists`,
      404,
    );
  const steps = Object.keys(byStep)
    .map(Number)
    .sort((a, b) => a - b);
  const at = step ?? steps[steps.length - 1];
  const raw = byStep[String(at)] as { samples: Record<string, unknown>[] } | undefined;
  if (!raw)
    throw new ApiError(
      `Not found: run '${run}' has no kept samples at step ${step}; it has ${steps.length} steps from ${steps[0]} to ${steps[steps.length - 1]}`,
      404,
    );
  let entries = raw.samples.filter((e) =>
    Object.entries(filter).every(([k, v]) => v === undefined || e[k] === v),
  );
  if (order === "loss") {
    const loss = (e: Record<string, unknown>) => (typeof e.loss === "number" ? e.loss : -Infinity);
    entries = [...entries].sort((a, b) => loss(b) - loss(a));
  }
  return structuredClone({ ...raw, samples: entries });
}

interface SamplesRuns {
  tags: unknown;
  curves: Record<string, unknown>;
  report: Record<string, unknown>;
  confusion: Record<string, Record<string, unknown>>;
  samples: Record<string, Record<string, unknown>>;
  steps: Record<string, Record<string, { steps?: number[] }>>;
  history: Record<string, Record<string, unknown>>;
  filtered: Record<string, { query: Record<string, number | string>; answer: unknown }>;
  errors: Record<string, { status: number; message: string }>;
  text_blobs: Record<string, string>;
}

/** Route answers captured from the real backend by fixtures/capture_samples.py: runs "val"
 * (8x8 digit images with ids, 3 steps, a hostile class name), "plain" (no inputs), "text"
 * (hostile texts), "ml" (multilabel), "reg" (regression). */
export const samplesRuns = (): SamplesRuns => fixture("samples_runs.json") as SamplesRuns;

/** An Api over the captured runs. */
export function samplesApi(): FakeApi {
  const raw = samplesRuns();
  const curves: Record<string, CurvesResponse> = {};
  for (const [run, c] of Object.entries(raw.curves)) curves[run] = parseCurves(c);
  const api = new FakeApi(parseTags(raw.tags), curves);
  for (const [run, bySteps] of Object.entries(raw.confusion)) {
    const parsed = Object.fromEntries(
      Object.entries(bySteps).map(([s, c]) => [s, parseConfusion(c)]),
    );
    const steps = Object.keys(parsed)
      .map(Number)
      .sort((a, b) => a - b);
    api.confusionData[run] = (step) => {
      const at = step ?? steps[steps.length - 1];
      const c = parsed[String(at)];
      if (!c)
        throw new ApiError(`Not found: run '${run}' has no confusion matrix at step ${step}`, 404);
      return c;
    };
    api.pairsData[run] = { step: steps[steps.length - 1], steps, history_steps: steps, pairs: [] };
  }
  for (const [run, rep] of Object.entries(raw.report)) api.reportData[run] = parseReport(rep);
  api.samplesData = raw.samples;
  for (const [run, kinds] of Object.entries(raw.steps)) {
    for (const [kind, answer] of Object.entries(kinds))
      if (answer.steps) (api.stepsData[run] ??= {})[kind] = answer.steps;
  }
  api.historyData = raw.history;
  api.textData = raw.text_blobs;
  return api;
}

export function defaultApi(): FakeApi {
  return new FakeApi(tagsFixture(), { train: trainCurves(), validation: validationCurves() });
}

/** The default fixtures with confusion data for the validation run (and train, same shape). */
export function confusionApi(): FakeApi {
  const tags = tagsFixture();
  for (const run of Object.keys(tags)) tags[run].perclass.kinds = ["stats", "confusion"];
  const api = new FakeApi(tags, {
    train: trainCurves(),
    validation: parseCurves(fixture("curves_validation_confusion.json")),
  });
  const latest = confusionFixture();
  const step3 = sparseStep3Fixture();
  const at = (step: number | null) => {
    if (step === null || step === latest.step) return latest;
    if (step === 3) return step3;
    throw new ApiError(
      `step ${step} not found: this run has confusion matrices at steps 0 to 7`,
      404,
    );
  };
  api.confusionData = { validation: at, train: at };
  api.pairsData = { validation: pairsFixture(), train: pairsFixture() };
  api.reportData = { validation: reportFixture(), train: reportFixture() };
  api.diffData = { validation: diffFixture() };
  api.orderData = { validation: orderFixture(), train: orderFixture() };
  api.stepsData = {
    validation: { confusion: pairsFixture().steps },
    train: { confusion: pairsFixture().steps },
  };
  return api;
}

/** A synthetic n-class confusion matrix: class i mostly right, some confused with i+1. */
export function synthConfusion(
  n: number,
  step = 0,
  steps: number[] = [step],
  names?: string[],
): ConfusionData {
  const counts = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    counts[i * n + i] = 20 + (i % 7);
    counts[i * n + ((i + 1) % n)] = i % 5;
    if (i % 97 === 0) counts[i * n + ((i * 31 + 7) % n)] += 9;
  }
  const class_names =
    names ?? Array.from({ length: n }, (_, i) => `class_${String(i).padStart(4, "0")}`);
  let total = 0;
  for (const v of counts) total += v;
  return {
    run: "",
    name: "perclass",
    task: "multiclass",
    step,
    steps,
    class_names,
    total,
    counts,
    n,
    labels: null,
    encoding: "sparse",
  };
}

/** Records the options of every chart created; happy-dom has no canvas. */
export function fakeChart(): { factory: ChartFactory; charts: ChartOptions[]; destroyed: number } {
  const rec = {
    charts: [] as ChartOptions[],
    destroyed: 0,
    factory: null as unknown as ChartFactory,
  };
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
export function synthCurves(
  C: number,
  S: number,
  names?: string[],
  stepOffset = 0,
): CurvesResponse {
  const class_names = names ?? Array.from({ length: C }, (_, i) => `class_${i}`);
  const steps = Array.from({ length: S }, (_, s) => s + stepOffset);
  const grid = (f: (s: number, c: number) => number | null) =>
    Grid.of(steps.length, class_names.length, f);
  return {
    steps,
    wall_times: steps.map((_, s) => 1000 + s * 60),
    class_names,
    loss: grid((s, c) => (c + 1) / (s + 1)),
    count: grid(() => 10),
    correct: grid((s, c) => Math.min(10, Math.round((10 * (s + 1)) / (S * (c + 1))))),
    accuracy: grid((s, c) => Math.min(1, (s + 1) / (S * (c + 1)))),
    nonfinite: grid(() => 0),
    nonfinite_outputs: grid(() => 0),
    invalid_targets: steps.map(() => 0),
    ignored: steps.map(() => 0),
    skipped: [],
  };
}

/** A series' curves as the app hands them to the views (series.ts: key, run, name, label). */
export function seriesCurves(run: string, curves: CurvesResponse, name = DEFAULT_NAME): RunCurves {
  return { key: seriesKey(run, name), run, name, label: seriesLabel({ run, name }), curves };
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

/** Starts the tab on document.body as the views' tests need it: a fake chart, no periodic
 * refresh, no step debounce. The app joins `started`, which the test's afterEach stops. */
export async function startApp(
  started: App[],
  api: Api,
  storage: MemoryStorage = new MemoryStorage(),
  linkWindow: FakeWindow | null = null,
): Promise<{ app: App; chart: ReturnType<typeof fakeChart> }> {
  const chart = fakeChart();
  const app = new App(document.body, {
    api,
    storage,
    chartFactory: chart.factory,
    refreshMs: 3_600_000,
    stepDebounceMs: 0,
    linkWindow: linkWindow as unknown as Window,
  });
  started.push(app);
  await app.start();
  await flush();
  return { app, chart };
}

/** A stand-in for TensorBoard's window: location + history.replaceState + hashchange. */
export class FakeWindow {
  location = { hash: "#perclass", pathname: "/", search: "" };
  replaced: string[] = [];
  listeners: (() => void)[] = [];
  history = {
    state: { tb: 1 },
    replaceState: (_s: unknown, _t: string, url: string) => {
      this.replaced.push(url);
      this.location.hash = url.slice(url.indexOf("#"));
    },
  };
  addEventListener(_ev: string, fn: () => void) {
    this.listeners.push(fn);
  }
  removeEventListener(_ev: string, fn: () => void) {
    this.listeners = this.listeners.filter((f) => f !== fn);
  }
  /** what the user does by pasting a link into the address bar of an open TensorBoard */
  navigate(hash: string) {
    this.location.hash = hash;
    this.listeners.forEach((f) => f());
  }
}
