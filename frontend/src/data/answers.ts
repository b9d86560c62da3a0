// Validation of the routes' answers: every field checked, malformed entries dropped (never shown
// half-read), class names made unique; what a view gets is always well-formed.
import type {
  Averages,
  Change,
  ConfusionData,
  CurvesResponse,
  DataMap,
  DiffData,
  DynamicsCounts,
  DynamicsList,
  DynamicsListKind,
  ListedSample,
  Matrix,
  Pair,
  PairsResponse,
  Reliability,
  ReportResponse,
  ReportScores,
  Sample,
  ScoreAverages,
  ScoreClass,
  ScoresResponse,
  ScoresTable,
  SampleHistory,
  SamplesResponse,
  Skip,
  TagsResponse,
} from "./types";
import { ApiError } from "./api";
import { Grid } from "./grid";
import { uniqueClassNames } from "./class-names";
import { safeBlobUrl, safeMediaUrl } from "./routes";

const MAX_REASON = 300;

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

const ARRAY_TYPES = {
  f4: Float32Array,
  f8: Float64Array,
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
} as const;

/** Reads the binary layout of tb_perclass/plugin/binary_encoding.py: uint32 header length, a
 * JSON header listing [key, rows, columns, type] per array, then each array's little-endian
 * data (8-byte aligned). Returns the header's fields and each array as a Grid over the
 * answer's own bytes (no copy). */
export function decodeBinaryAnswer(buffer: ArrayBuffer, route: string): Record<string, unknown> {
  const fail = (what: string) => bad(route, what);
  if (buffer.byteLength < 4) throw fail("too short");
  const headerLength = new DataView(buffer).getUint32(0, true);
  if (4 + headerLength > buffer.byteLength || (4 + headerLength) % 8 !== 0)
    throw fail("bad header length");
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  } catch {
    throw fail("the header is not JSON");
  }
  if (!isObj(header) || !Array.isArray(header.arrays)) throw fail("no array list");
  const answer: Record<string, unknown> = { ...header };
  delete answer.arrays;
  let offset = 4 + headerLength;
  for (const entry of header.arrays) {
    if (!Array.isArray(entry) || entry.length !== 4) throw fail("bad array entry");
    const [key, rows, columns, type] = entry;
    const Kind = ARRAY_TYPES[type as keyof typeof ARRAY_TYPES];
    if (
      typeof key !== "string" ||
      !Number.isInteger(rows) ||
      !Number.isInteger(columns) ||
      rows < 0 ||
      columns < 0 ||
      !Kind
    )
      throw fail("bad array entry");
    const size = rows * columns * Kind.BYTES_PER_ELEMENT;
    if (offset + size > buffer.byteLength) throw fail(`array ${key} runs past the end`);
    answer[key] = new Grid(rows, columns, new Kind(buffer, offset, rows * columns));
    offset += size + ((8 - (size % 8)) % 8);
  }
  return answer;
}

/** The `skipped` field of an answer; malformed entries are left out, never shown half-read. */
export function parseSkipped(v: unknown): Skip[] {
  if (!Array.isArray(v)) return [];
  const out: Skip[] = [];
  for (const e of v) {
    if (!e || typeof e !== "object" || Array.isArray(e)) continue;
    const o = e as Record<string, unknown>;
    if (typeof o.step !== "number" || !Number.isInteger(o.step)) continue;
    const reason = typeof o.reason === "string" ? o.reason.trim() : "";
    out.push({
      step: o.step,
      kind: typeof o.kind === "string" && o.kind ? o.kind.slice(0, 40) : "data",
      reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason,
    });
  }
  return out;
}

/** Validates the `tags` answer and drops malformed entries instead of crashing on them. */
export function parseTags(raw: unknown): TagsResponse {
  if (!isObj(raw)) throw new ApiError("Malformed answer from the tags route.", 200);
  const out: TagsResponse = {};
  for (const [run, names] of Object.entries(raw)) {
    if (!isObj(names)) continue;
    for (const [name, info] of Object.entries(names)) {
      if (!isObj(info)) continue;
      const classNames = Array.isArray(info.class_names)
        ? info.class_names.map((c) => String(c))
        : [];
      (out[run] ??= {})[name] = {
        kinds: Array.isArray(info.kinds) ? info.kinds.map(String) : [],
        task: typeof info.task === "string" ? info.task : "multiclass",
        class_names: uniqueClassNames(classNames),
        num_classes: typeof info.num_classes === "number" ? info.num_classes : classNames.length,
        loss: typeof info.loss === "string" ? info.loss : "",
        version: typeof info.version === "string" ? info.version : "",
      };
    }
  }
  return out;
}

/** A [steps][classes] answer field: a Grid (binary answer) or rows of numbers (JSON); absent
 * or named in `zeros`: zero everywhere. */
function matrix(v: unknown, steps: number, classes: number, what: string): Matrix {
  if (v === undefined) return Grid.zeros(steps, classes);
  if (v instanceof Grid) {
    if (v.rows !== steps || v.cols !== classes)
      throw new ApiError(`Malformed curves: "${what}" is not ${steps} x ${classes}.`, 200);
    return v;
  }
  if (!Array.isArray(v) || v.length !== steps)
    throw new ApiError(`Malformed curves: "${what}" does not have one row per step.`, 200);
  return Grid.fromRows(
    v.map((row) => (Array.isArray(row) ? row.map((x) => (typeof x === "number" ? x : null)) : [])),
    classes,
  );
}

/** correct / count per class and step (no value without samples), as float32. */
function accuracyOf(correct: Grid, count: Grid): Grid {
  const out = new Float32Array(count.rows * count.cols);
  const n = count.data;
  const c = correct.data;
  for (let i = 0; i < out.length; i++) {
    const total = n ? n[i] : 0;
    out[i] = total > 0 ? (c ? c[i] : 0) / total : NaN;
  }
  return new Grid(count.rows, count.cols, out);
}

/** A per-step count ([S]; zeros when the answer has none: an older plugin). */
function perStep(v: unknown, steps: number, what: string): number[] {
  if (v === undefined) return new Array<number>(steps).fill(0);
  if (!Array.isArray(v) || v.length !== steps)
    throw new ApiError(`Malformed curves: "${what}" does not have one value per step.`, 200);
  return v.map((x) => (typeof x === "number" && Number.isFinite(x) ? x : 0));
}

/** Validates the `curves` answer; class names made unique per run. */
export function parseCurves(raw: unknown): CurvesResponse {
  if (!isObj(raw) || !Array.isArray(raw.steps))
    throw new ApiError("Malformed answer from the curves route.", 200);
  const steps = raw.steps.map(Number);
  const S = steps.length;
  const wall =
    Array.isArray(raw.wall_times) && raw.wall_times.length === S
      ? raw.wall_times.map(Number)
      : steps.map(() => 0);
  const names = Array.isArray(raw.class_names) ? raw.class_names.map((c) => String(c)) : [];
  const C = names.length;
  const zeros = new Set(Array.isArray(raw.zeros) ? raw.zeros.map(String) : []);
  const field = (key: string) => (zeros.has(key) ? Grid.zeros(S, C) : raw[key]);
  const count = matrix(field("count"), S, C, "count");
  const correct =
    raw.correct === undefined && !zeros.has("correct")
      ? null
      : matrix(field("correct"), S, C, "correct");
  const counts = ["tp", "fp", "fn"].every((k) => raw[k] !== undefined || zeros.has(k));
  return {
    steps,
    wall_times: wall,
    class_names: uniqueClassNames(names),
    loss: matrix(raw.loss, S, C, "loss"),
    count,
    correct: correct ?? Grid.zeros(S, C),
    // the binary answer sends the counts; a JSON answer (and an older plugin) the accuracy
    accuracy: correct ? accuracyOf(correct, count) : matrix(raw.accuracy, S, C, "accuracy"),
    nonfinite: matrix(field("nonfinite"), S, C, "nonfinite"),
    nonfinite_outputs: matrix(field("nonfinite_outputs"), S, C, "nonfinite_outputs"),
    invalid_targets: perStep(raw.invalid_targets, S, "invalid_targets"),
    ignored: perStep(raw.ignored, S, "ignored"),
    skipped: parseSkipped(raw.skipped),
    ...(counts
      ? {
          tp: matrix(field("tp"), S, C, "tp"),
          fp: matrix(field("fp"), S, C, "fp"),
          fn: matrix(field("fn"), S, C, "fn"),
        }
      : {}),
    ...scoreCurves(raw, S, C),
  };
}

/** The score series of a curves answer (present when the run records score histograms). */
function scoreCurves(raw: Record<string, unknown>, S: number, C: number): Partial<CurvesResponse> {
  if (raw.ap === undefined || raw.auroc === undefined || raw.ece === undefined) return {};
  const out: Partial<CurvesResponse> = {
    ap: matrix(raw.ap, S, C, "ap"),
    auroc: matrix(raw.auroc, S, C, "auroc"),
    ece: matrix(raw.ece, S, C, "ece"),
    top_k: int(raw.top_k) ?? 0,
  };
  if (raw.top_k_accuracy !== undefined && out.top_k)
    out.top_k_accuracy = matrix(raw.top_k_accuracy, S, C, "top_k_accuracy");
  return out;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const numList = (v: unknown): (number | null)[] => (Array.isArray(v) ? v.map(num) : []);
const intList = (v: unknown): number[] =>
  Array.isArray(v) ? v.map((x) => Number(x)).filter((x) => Number.isFinite(x)) : [];
const names = (v: unknown): string[] =>
  uniqueClassNames(Array.isArray(v) ? v.map((c) => String(c)) : []);

function bad(route: string, what: string): ApiError {
  return new ApiError(`Malformed answer from the ${route} route: ${what}.`, 200);
}

/** Fills a dense n x n row-major array from sparse COO triplets (cells outside [0, n) are an error). */
function fromCoo(
  route: string,
  n: number,
  rows: unknown,
  cols: unknown,
  vals: unknown,
): Float64Array {
  if (
    !Array.isArray(rows) ||
    !Array.isArray(cols) ||
    !Array.isArray(vals) ||
    rows.length !== cols.length ||
    rows.length !== vals.length
  ) {
    throw bad(route, "sparse rows, cols and values differ in length");
  }
  const out = new Float64Array(n * n);
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k];
    const j = cols[k];
    const v = vals[k];
    if (!Number.isInteger(i) || !Number.isInteger(j) || i < 0 || j < 0 || i >= n || j >= n)
      throw bad(route, `cell (${i}, ${j}) outside the ${n} classes`);
    out[i * n + j] += typeof v === "number" && Number.isFinite(v) ? v : 0;
  }
  return out;
}

/** Validates and decodes the `confusion` answer (dense, sparse or multilabel). */
export function parseConfusion(raw: unknown): ConfusionData {
  if (!isObj(raw)) throw bad("confusion", "not an object");
  const classNames = names(raw.class_names);
  const n = classNames.length;
  const task = typeof raw.task === "string" ? raw.task : "multiclass";
  const step = num(raw.step);
  if (step === null) throw bad("confusion", "no step");
  const requested = num(raw.requested_step);
  const base = {
    run: String(raw.run ?? ""),
    name: String(raw.name ?? ""),
    task,
    step,
    requested_step: requested !== null && requested !== step ? requested : null,
    steps: intList(raw.steps),
    class_names: classNames,
    total: num(raw.total) ?? 0,
    n,
    encoding: typeof raw.encoding === "string" ? raw.encoding : "dense",
    skipped: parseSkipped(raw.skipped),
  };
  if (Array.isArray(raw.matrices)) {
    if (raw.matrices.length !== n) throw bad("confusion", "one 2x2 matrix per label expected");
    const labels = new Float64Array(n * 4);
    raw.matrices.forEach((m, k) => {
      const ok =
        Array.isArray(m) && m.length === 2 && m.every((r) => Array.isArray(r) && r.length === 2);
      if (!ok) throw bad("confusion", `label ${k} is not a 2x2 matrix`);
      const mm = m as unknown[][];
      labels[k * 4] = num(mm[0][0]) ?? 0; // tn
      labels[k * 4 + 1] = num(mm[0][1]) ?? 0; // fp
      labels[k * 4 + 2] = num(mm[1][0]) ?? 0; // fn
      labels[k * 4 + 3] = num(mm[1][1]) ?? 0; // tp
    });
    return { ...base, task: "multilabel", counts: new Float64Array(0), labels };
  }
  let counts: Float64Array;
  if (Array.isArray(raw.matrix)) {
    if (raw.matrix.length !== n)
      throw bad("confusion", `the matrix has ${raw.matrix.length} rows for ${n} classes`);
    counts = new Float64Array(n * n);
    raw.matrix.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== n)
        throw bad("confusion", `row ${i} does not have ${n} columns`);
      for (let j = 0; j < n; j++) {
        const v = row[j];
        counts[i * n + j] = typeof v === "number" && Number.isFinite(v) ? v : 0;
      }
    });
  } else if (Array.isArray(raw.rows)) {
    counts = fromCoo("confusion", n, raw.rows, raw.cols, raw.counts);
  } else {
    throw bad("confusion", "neither a matrix nor sparse cells");
  }
  return { ...base, counts, labels: null };
}

export function parsePairs(raw: unknown): PairsResponse {
  if (!isObj(raw) || !Array.isArray(raw.pairs)) throw bad("pairs", "no pairs");
  const steps = intList(raw.steps);
  const pairs: Pair[] = [];
  for (const p of raw.pairs) {
    if (!isObj(p)) continue;
    const t = num(p.true);
    const q = num(p.pred);
    if (t === null || q === null) continue;
    pairs.push({ true: t, pred: q, count: num(p.count) ?? 0, history: numList(p.history) });
  }
  const historySteps = raw.history_steps === undefined ? steps : intList(raw.history_steps);
  if (pairs.some((p) => p.history.length !== historySteps.length))
    throw bad("pairs", "a history does not have one count per history step");
  return {
    step: num(raw.step) ?? NaN,
    steps,
    history_steps: historySteps,
    pairs,
    skipped: parseSkipped(raw.skipped),
  };
}

export function parseDiff(raw: unknown): DiffData {
  if (!isObj(raw)) throw bad("diff", "not an object");
  const classNames = names(raw.class_names);
  const n = classNames.length;
  const changes: Change[] = [];
  if (Array.isArray(raw.changes)) {
    for (const c of raw.changes) {
      if (!isObj(c)) continue;
      const t = num(c.true);
      const q = num(c.pred);
      if (t === null || q === null) continue;
      changes.push({
        true: t,
        pred: q,
        before: num(c.before) ?? 0,
        after: num(c.after) ?? 0,
        delta: num(c.delta) ?? 0,
      });
    }
  }
  return {
    run: String(raw.run ?? ""),
    step: num(raw.step) ?? NaN,
    base_run: String(raw.base_run ?? ""),
    base_name: String(raw.base_name ?? raw.name ?? ""),
    base_step: num(raw.base_step) ?? NaN,
    class_names: classNames,
    n,
    deltas: fromCoo("diff", n, raw.rows ?? [], raw.cols ?? [], raw.deltas ?? []),
    changes,
    skipped: parseSkipped(raw.skipped),
  };
}

function averages(v: unknown): Averages {
  const o = isObj(v) ? v : {};
  return {
    precision: num(o.precision),
    recall: num(o.recall),
    f1: num(o.f1),
    support: num(o.support),
  };
}

export function parseReport(raw: unknown): ReportResponse {
  if (!isObj(raw)) throw bad("report", "not an object");
  const classNames = names(raw.class_names);
  const C = classNames.length;
  const col = (k: string) => {
    const v = numList(raw[k]);
    if (v.length !== C) return Array.from({ length: C }, (_, i) => v[i] ?? null);
    return v;
  };
  return {
    step: num(raw.step) ?? NaN,
    steps: intList(raw.steps),
    class_names: classNames,
    precision: col("precision"),
    recall: col("recall"),
    f1: col("f1"),
    support: col("support"),
    loss: col("loss"),
    macro: averages(raw.macro),
    weighted: averages(raw.weighted),
    accuracy: num(raw.accuracy),
    samples: num(raw.samples),
    ...(isObj(raw.scores) ? { scores: reportScores(raw.scores, C) } : {}),
    skipped: parseSkipped(raw.skipped),
  };
}

/** A [C] column of numbers (nulls past a short list: never a misaligned table). */
function column(v: unknown, C: number): (number | null)[] {
  const list = numList(v);
  return Array.from({ length: C }, (_, i) => list[i] ?? null);
}

function scoreAverages(v: unknown): Record<string, ScoreAverages> {
  const out: Record<string, ScoreAverages> = {};
  if (!isObj(v)) return out;
  for (const [key, a] of Object.entries(v))
    if (isObj(a)) out[key] = { macro: num(a.macro), weighted: num(a.weighted) };
  return out;
}

function reportScores(raw: Record<string, unknown>, C: number): ReportScores {
  return {
    ap: column(raw.ap, C),
    auroc: column(raw.auroc, C),
    ece: column(raw.ece, C),
    ...(Array.isArray(raw.top_k_accuracy) ? { top_k_accuracy: column(raw.top_k_accuracy, C) } : {}),
    averages: scoreAverages(raw.averages),
    top_k: int(raw.top_k) ?? 0,
  };
}

function reliability(v: unknown, bins: number): Reliability {
  const o = isObj(v) ? v : {};
  const count = numList(o.count);
  if (count.length !== bins) throw bad("scores", "a reliability diagram without its bins");
  return {
    count: count.map((x) => x ?? 0),
    accuracy: column(o.accuracy, bins),
    confidence: column(o.confidence, bins),
  };
}

function scoreClass(v: unknown, C: number, bins: number): ScoreClass | null {
  if (!isObj(v)) return null;
  const c = int(v.class);
  const thresholds = Array.isArray(v.thresholds) ? v.thresholds.map(num) : [];
  const tp = numList(v.tp);
  const fp = numList(v.fp);
  const n = thresholds.length;
  if (c === null || c < 0 || c >= C || n === 0 || tp.length !== n || fp.length !== n) return null;
  if (tp.some((x) => x === null) || fp.some((x) => x === null)) return null;
  return {
    class: c,
    positives: num(v.positives) ?? (tp[n - 1] as number),
    negatives: num(v.negatives) ?? (fp[n - 1] as number),
    thresholds,
    tp: tp as number[],
    fp: fp as number[],
    exact_thresholds: v.exact_thresholds === true,
    reliability: reliability(v.reliability, bins),
  };
}

/** Validates the `scores` answer; a class whose curve is malformed is left out. */
export function parseScores(raw: unknown): ScoresResponse {
  if (!isObj(raw) || !isObj(raw.table) || !isObj(raw.overall)) throw bad("scores", "not an object");
  const classNames = names(raw.class_names);
  const C = classNames.length;
  const bins = int(raw.calibration_bins) ?? 16;
  const t = raw.table;
  const table: ScoresTable = {
    ap: column(t.ap, C),
    ap_bound: column(t.ap_bound, C),
    auroc: column(t.auroc, C),
    auroc_bound: column(t.auroc_bound, C),
    ece: column(t.ece, C),
    signed_error: column(t.signed_error, C),
    positives: column(t.positives, C),
    negatives: column(t.negatives, C),
    averages: scoreAverages(t.averages),
  };
  for (const key of ["best_f1", "best_threshold", "top_k_accuracy"] as const)
    if (Array.isArray(t[key])) table[key] = column(t[key], C);
  const classList = (v: unknown) =>
    intList(v).filter((c) => Number.isInteger(c) && c >= 0 && c < C);
  return {
    run: typeof raw.run === "string" ? raw.run : "",
    name: typeof raw.name === "string" ? raw.name : "",
    task: typeof raw.task === "string" ? raw.task : "multiclass",
    step: num(raw.step) ?? NaN,
    steps: intList(raw.steps),
    class_names: classNames,
    top_k: int(raw.top_k) ?? 0,
    calibration_bins: bins,
    table,
    overconfident: classList(raw.overconfident),
    underconfident: classList(raw.underconfident),
    overall: {
      ece: num(raw.overall.ece),
      signed_error: num(raw.overall.signed_error),
      reliability: reliability(raw.overall.reliability, bins),
    },
    classes: (Array.isArray(raw.classes) ? raw.classes : [])
      .map((v) => scoreClass(v, C, bins))
      .filter((v): v is ScoreClass => v !== null),
    skipped: parseSkipped(raw.skipped),
  };
}

/** A permutation of 0..n-1, or an error (a wrong answer must not scramble the picture). */
export function parseOrder(raw: unknown, n?: number): number[] {
  if (!isObj(raw) || !Array.isArray(raw.order)) throw bad("order", "no order");
  const order = raw.order.map(Number);
  const size = n ?? order.length;
  const seen = new Uint8Array(size);
  if (order.length !== size) throw bad("order", `${order.length} entries for ${size} classes`);
  for (const i of order) {
    if (!Number.isInteger(i) || i < 0 || i >= size || seen[i])
      throw bad("order", "not a permutation");
    seen[i] = 1;
  }
  return order;
}

export function parseSteps(raw: unknown): number[] {
  if (!isObj(raw) || !Array.isArray(raw.steps)) throw bad("steps", "no steps");
  return intList(raw.steps);
}

const int = (v: unknown): number | null =>
  typeof v === "number" && Number.isInteger(v) ? v : null;
const positiveInt = (v: unknown): number | null => {
  const i = int(v);
  return i !== null && i > 0 ? i : null;
};
const sampleId = (v: unknown): string | number | null =>
  typeof v === "string" || (typeof v === "number" && Number.isFinite(v)) ? v : null;

/** Validates the `samples` answer: malformed entries are dropped, never shown half-read. */
export function parseSamples(raw: unknown): SamplesResponse {
  if (!isObj(raw) || !Array.isArray(raw.samples)) throw bad("samples", "no samples");
  const step = num(raw.step);
  if (step === null) throw bad("samples", "no step");
  const run = String(raw.run ?? "");
  const name = String(raw.name ?? "");
  const samples: Sample[] = [];
  for (const e of raw.samples) {
    if (!isObj(e)) continue;
    const index = int(e.index);
    const t = int(e.true);
    const p = int(e.pred);
    if (index === null || t === null || p === null) continue;
    samples.push({
      index,
      true: t,
      pred: p,
      label: int(e.label),
      score: num(e.score),
      loss: num(e.loss),
      id: sampleId(e.id),
      media: typeof e.media === "string" ? e.media : "",
      width: Math.max(0, int(e.width) ?? 0),
      height: Math.max(0, int(e.height) ?? 0),
      blob: safeBlobUrl(e.blob, run, name, step, index),
    });
  }
  return {
    run,
    name,
    task: typeof raw.task === "string" ? raw.task : "multiclass",
    step,
    steps: intList(raw.steps),
    class_names: names(raw.class_names),
    samples_per_cell: positiveInt(raw.samples_per_cell),
    max_samples: positiveInt(raw.max_samples),
    samples,
    skipped: parseSkipped(raw.skipped),
  };
}

export function parseHistory(raw: unknown): SampleHistory {
  if (!isObj(raw) || !Array.isArray(raw.history)) throw bad("sample_history", "no history");
  const history = [];
  for (const e of raw.history) {
    if (!isObj(e)) continue;
    const step = num(e.step);
    const t = int(e.true);
    const p = int(e.pred);
    if (step === null || t === null || p === null) continue;
    history.push({
      step,
      true: t,
      pred: p,
      label: int(e.label),
      score: num(e.score),
      loss: num(e.loss),
    });
  }
  history.sort((a, b) => a.step - b.step);
  return {
    id: String(raw.id ?? ""),
    steps: intList(raw.steps),
    first_step: history.length ? history[0].step : null,
    history,
    skipped: parseSkipped(raw.skipped),
  };
}

const COUNT_ROWS = ["visited", "easy", "ambiguous", "hard", "likely_errors", "forgotten"] as const;
const EXTRA_COUNTS = [
  "dataset_size",
  "invalid_id_visits",
  "repeated_ids",
  "skipped_visits",
] as const;

/** Validates the `dynamics` answer (decoded from its binary layout). */
export function parseDynamicsCounts(raw: unknown): DynamicsCounts {
  if (!isObj(raw) || !Array.isArray(raw.steps)) throw bad("dynamics", "no steps");
  const steps = intList(raw.steps);
  const S = steps.length;
  const classNames = names(raw.class_names);
  const grid = (key: string) => {
    const v = raw[key];
    const C = classNames.length;
    const perClass =
      v instanceof Grid
        ? v.cols === C
        : Array.isArray(v) && v.every((row) => Array.isArray(row) && row.length === C);
    if (!perClass) throw bad("dynamics", `${key} does not have one count per class`);
    const m = matrix(v, S, C, key);
    return Array.from({ length: S }, (_, s) => m.row(s).map((x) => x ?? 0));
  };
  const rows = Object.fromEntries(COUNT_ROWS.map((k) => [k, grid(k)])) as Record<
    (typeof COUNT_ROWS)[number],
    number[][]
  >;
  const extra = Object.fromEntries(EXTRA_COUNTS.map((k) => [k, perStep(raw[k], S, k)])) as Record<
    (typeof EXTRA_COUNTS)[number],
    number[]
  >;
  const regions = isObj(raw.regions) ? raw.regions : {};
  return {
    run: String(raw.run ?? ""),
    name: String(raw.name ?? ""),
    task: typeof raw.task === "string" ? raw.task : "multiclass",
    class_names: classNames,
    steps,
    ...rows,
    ...extra,
    regions: {
      easy_confidence: num(regions.easy_confidence) ?? 2 / 3,
      hard_confidence: num(regions.hard_confidence) ?? 1 / 3,
    },
    snapshot_steps: intList(raw.snapshot_steps),
    skipped: parseSkipped(raw.skipped),
  };
}

const COLUMN_TYPES = { u8: Uint8Array, u32: Uint32Array } as const;

/** Reads `binary_encoding.encode_columns`: uint32 header length, a JSON header listing
 * [key, dtype, length] per column, then each column's little-endian data padded to 4 bytes. */
export function decodeColumns(
  buffer: ArrayBuffer,
  route: string,
): { header: Record<string, unknown>; columns: Record<string, Uint8Array | Uint32Array> } {
  const fail = (what: string) => bad(route, what);
  if (buffer.byteLength < 4) throw fail("too short");
  const headerLength = new DataView(buffer).getUint32(0, true);
  if (4 + headerLength > buffer.byteLength || headerLength % 4 !== 0)
    throw fail("bad header length");
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  } catch {
    throw fail("the header is not JSON");
  }
  if (!isObj(header) || !Array.isArray(header.columns)) throw fail("no column list");
  const columns: Record<string, Uint8Array | Uint32Array> = {};
  let offset = 4 + headerLength;
  for (const entry of header.columns) {
    if (!Array.isArray(entry) || entry.length !== 3) throw fail("bad column entry");
    const [key, dtype, length] = entry;
    const Type = COLUMN_TYPES[dtype as keyof typeof COLUMN_TYPES];
    if (typeof key !== "string" || !Type || !Number.isInteger(length) || length < 0)
      throw fail("bad column entry");
    const bytes = length * Type.BYTES_PER_ELEMENT;
    if (offset + bytes > buffer.byteLength) throw fail(`column ${key} runs past the end`);
    columns[key] = new Type(buffer.slice(offset, offset + bytes));
    offset += bytes + ((4 - (bytes % 4)) % 4);
  }
  return { header, columns };
}

/** Validates the `data_map` answer: every column has one value per point, labels are classes. */
export function parseDataMap(buffer: ArrayBuffer): DataMap {
  const { header, columns } = decodeColumns(buffer, "data_map");
  const step = num(header.step);
  const count = int(header.count);
  if (step === null || count === null) throw bad("data_map", "no step or count");
  const classNames = names(header.class_names);
  const column = <T extends Uint8Array | Uint32Array>(key: string, type: new () => T): T => {
    const c = columns[key];
    if (!(c instanceof type) || c.length !== count)
      throw bad("data_map", `${key} does not have one value per point`);
    return c as T;
  };
  const label = column("label", Uint32Array);
  for (const l of label) if (l >= classNames.length) throw bad("data_map", "a label is no class");
  return {
    run: String(header.run ?? ""),
    name: String(header.name ?? ""),
    step,
    steps: intList(header.steps),
    class_names: classNames,
    size: int(header.size) ?? count,
    visited: int(header.visited) ?? 0,
    count,
    subset: header.subset === true,
    invalid_visits: int(header.invalid_visits) ?? 0,
    repeated_ids: int(header.repeated_ids) ?? 0,
    id: column("id", Uint32Array),
    label,
    confidence: column("confidence", Uint8Array),
    variability: column("variability", Uint8Array),
    correctness: column("correctness", Uint8Array),
    skipped: parseSkipped(header.skipped),
  };
}

/** Validates the `dynamics_samples` answer: malformed entries are dropped. */
export function parseDynamicsList(raw: unknown): DynamicsList {
  if (!isObj(raw) || !Array.isArray(raw.samples)) throw bad("dynamics_samples", "no samples");
  const step = num(raw.step);
  if (step === null) throw bad("dynamics_samples", "no step");
  const classNames = names(raw.class_names);
  const run = String(raw.run ?? "");
  const name = String(raw.name ?? "");
  const isClass = (v: number | null): v is number => v !== null && v >= 0 && v < classNames.length;
  const samples: ListedSample[] = [];
  for (const e of raw.samples) {
    if (!isObj(e)) continue;
    const id = int(e.id);
    const label = int(e.label);
    const preferred = int(e.preferred);
    const margin = num(e.margin);
    if (id === null || !isClass(label) || !isClass(preferred) || margin === null) continue;
    const mediaType =
      e.media_type === "image/png" || e.media_type === "text/plain" ? e.media_type : null;
    samples.push({
      id,
      label,
      preferred,
      visits: Math.max(0, int(e.visits) ?? 0),
      forgets: Math.max(0, int(e.forgets) ?? 0),
      confidence: num(e.confidence) ?? NaN,
      variability: num(e.variability) ?? NaN,
      correctness: num(e.correctness) ?? NaN,
      margin,
      media: mediaType ? safeMediaUrl(e.media) : null,
      mediaType,
    });
  }
  const list: DynamicsListKind = raw.list === "forgotten" ? "forgotten" : "errors";
  return {
    run,
    name,
    step,
    steps: intList(raw.steps),
    class_names: classNames,
    list,
    label: isClass(int(raw.class)) ? int(raw.class) : null,
    total: Math.max(0, int(raw.total) ?? samples.length),
    offset: Math.max(0, int(raw.offset) ?? 0),
    cap: Math.max(0, int(raw.cap) ?? 0),
    capped: raw.capped === true,
    samples: samples.map((s) => (s.media === null ? { ...s, mediaType: null } : s)),
    skipped: parseSkipped(raw.skipped),
  };
}
