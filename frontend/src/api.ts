// The plugin's routes, fetched with RELATIVE urls: the tab's document has
// <base href="plugin/perclass/">, so this also works under --path_prefix.
import type { CurvesResponse, Matrix, TagsResponse } from "./types";
import { uniqueClassNames } from "./runs";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Api {
  tags(): Promise<TagsResponse>;
  curves(run: string, name: string): Promise<CurvesResponse>;
}

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export function curvesUrl(run: string, name: string): string {
  return `curves?run=${encodeURIComponent(run)}&name=${encodeURIComponent(name)}`;
}

async function getJson(fetchImpl: FetchLike, url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetchImpl(url, { cache: "no-store", headers: { Accept: "application/json" } });
  } catch (e) {
    throw new ApiError(`Could not reach TensorBoard (${(e as Error).message || "network error"}).`, 0);
  }
  if (!res.ok) {
    let msg = "";
    try {
      msg = (await res.text()).trim();
    } catch {
      // ignore
    }
    if (msg.length > 500) msg = msg.slice(0, 500) + "…";
    throw new ApiError(msg || `HTTP ${res.status} ${res.statusText}`, res.status);
  }
  try {
    return await res.json();
  } catch {
    throw new ApiError(`The server's answer to ${url.split("?")[0]} is not valid JSON.`, res.status);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** Validates the `tags` answer and drops malformed entries instead of crashing on them. */
export function parseTags(raw: unknown): TagsResponse {
  if (!isObj(raw)) throw new ApiError("Malformed answer from the tags route.", 200);
  const out: TagsResponse = {};
  for (const [run, names] of Object.entries(raw)) {
    if (!isObj(names)) continue;
    for (const [name, info] of Object.entries(names)) {
      if (!isObj(info)) continue;
      const classNames = Array.isArray(info.class_names) ? info.class_names.map((c) => String(c)) : [];
      (out[run] ??= {})[name] = {
        kinds: Array.isArray(info.kinds) ? info.kinds.map(String) : [],
        task: typeof info.task === "string" ? info.task : "multiclass",
        class_names: uniqueClassNames(classNames),
        num_classes: typeof info.num_classes === "number" ? info.num_classes : classNames.length,
        loss: typeof info.loss === "string" ? info.loss : "",
      };
    }
  }
  return out;
}

function matrix(v: unknown, steps: number, what: string): Matrix {
  if (v === undefined) return Array.from({ length: steps }, () => []);
  if (!Array.isArray(v) || v.length !== steps) throw new ApiError(`Malformed curves: "${what}" does not have one row per step.`, 200);
  return v.map((row) =>
    Array.isArray(row) ? row.map((x) => (typeof x === "number" && Number.isFinite(x) ? x : null)) : [],
  );
}

/** Validates the `curves` answer; class names made unique per run. */
export function parseCurves(raw: unknown): CurvesResponse {
  if (!isObj(raw) || !Array.isArray(raw.steps)) throw new ApiError("Malformed answer from the curves route.", 200);
  const steps = raw.steps.map(Number);
  const S = steps.length;
  const wall = Array.isArray(raw.wall_times) && raw.wall_times.length === S ? raw.wall_times.map(Number) : steps.map(() => 0);
  const names = Array.isArray(raw.class_names) ? raw.class_names.map((c) => String(c)) : [];
  return {
    steps,
    wall_times: wall,
    class_names: uniqueClassNames(names),
    loss: matrix(raw.loss, S, "loss"),
    count: matrix(raw.count, S, "count"),
    accuracy: matrix(raw.accuracy, S, "accuracy"),
    nonfinite: matrix(raw.nonfinite, S, "nonfinite"),
  };
}

export function httpApi(fetchImpl: FetchLike = (u, i) => fetch(u, i)): Api {
  return {
    tags: async () => parseTags(await getJson(fetchImpl, "tags")),
    curves: async (run, name) => parseCurves(await getJson(fetchImpl, curvesUrl(run, name))),
  };
}
