// The Api over HTTP: relative GETs of the plugin's routes (curves in their binary layout), the
// server's message on an error, every answer validated (answers.ts).
import { ApiError, type Api } from "./api";
import {
  decodeBinaryAnswer,
  parseConfusion,
  parseCurves,
  parseDataMap,
  parseDiff,
  parseDynamicsCounts,
  parseDynamicsList,
  parseHistory,
  parseOrder,
  parsePairs,
  parseReport,
  parseSamples,
  parseScores,
  parseSteps,
  parseTags,
} from "./answers";
import {
  confusionUrl,
  curvesUrl,
  dataMapUrl,
  dynamicsListUrl,
  dynamicsUrl,
  routeUrl,
  samplesUrl,
  scoresUrl,
} from "./routes";

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

async function failure(res: Response): Promise<ApiError> {
  let msg = "";
  try {
    msg = (await res.text()).trim();
  } catch {
    // ignore
  }
  if (msg.length > 500) msg = msg.slice(0, 500) + "…";
  return new ApiError(msg || `HTTP ${res.status} ${res.statusText}`, res.status);
}

/** GET that resolves only to a 2xx answer: the server's message on 4xx/5xx, a clear error when
 * TensorBoard cannot be reached. */
async function getOk(fetchImpl: FetchLike, url: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetchImpl(url, init);
  } catch (e) {
    throw new ApiError(
      `Could not reach TensorBoard (${(e as Error).message || "network error"}).`,
      0,
    );
  }
  if (!res.ok) throw await failure(res);
  return res;
}

/** GET a text resource (a text sample): the server's message on 4xx, as the JSON routes. */
async function getText(fetchImpl: FetchLike, url: string): Promise<string> {
  return await (await getOk(fetchImpl, url)).text();
}

async function getBinary(fetchImpl: FetchLike, url: string): Promise<ArrayBuffer> {
  return await (await getOk(fetchImpl, url, { cache: "no-store" })).arrayBuffer();
}

async function getJson(fetchImpl: FetchLike, url: string): Promise<unknown> {
  const res = await getOk(fetchImpl, url, {
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  try {
    return await res.json();
  } catch {
    throw new ApiError(
      `The server's answer to ${url.split("?")[0]} is not valid JSON.`,
      res.status,
    );
  }
}

export function httpApi(fetchImpl: FetchLike = (u, i) => fetch(u, i)): Api {
  return {
    tags: async () => parseTags(await getJson(fetchImpl, "tags")),
    curves: async (run, name) =>
      parseCurves(decodeBinaryAnswer(await getBinary(fetchImpl, curvesUrl(run, name)), "curves")),
    confusion: async (run, name, step) =>
      parseConfusion(await getJson(fetchImpl, confusionUrl(run, name, step))),
    pairs: async (run, name, step, limit = 20) =>
      parsePairs(await getJson(fetchImpl, routeUrl("pairs", { run, name, step, limit }))),
    diff: async (run, name, step, baseRun, baseStep, limit = 20, baseName = name) =>
      parseDiff(
        await getJson(
          fetchImpl,
          routeUrl("diff", {
            run,
            name,
            step,
            base_run: baseRun,
            // only when it differs: the route of an older plugin knows no base_name
            base_name: baseName !== name ? baseName : null,
            base_step: baseStep,
            limit,
          }),
        ),
      ),
    report: async (run, name, step) =>
      parseReport(await getJson(fetchImpl, routeUrl("report", { run, name, step }))),
    scores: async (run, name, step, classes) =>
      parseScores(await getJson(fetchImpl, scoresUrl(run, name, step, classes))),
    order: async (run, name, step, by) =>
      parseOrder(await getJson(fetchImpl, routeUrl("order", { run, name, step, by }))),
    steps: async (run, name, kind) =>
      parseSteps(await getJson(fetchImpl, routeUrl("steps", { run, name, kind }))),
    samples: async (run, name, step, filter, order) =>
      parseSamples(await getJson(fetchImpl, samplesUrl(run, name, step, filter, order))),
    sampleHistory: async (run, name, id) =>
      parseHistory(await getJson(fetchImpl, routeUrl("sample_history", { run, name, id }))),
    text: (url) => getText(fetchImpl, url),
    dynamics: async (run, name) =>
      parseDynamicsCounts(
        decodeBinaryAnswer(await getBinary(fetchImpl, dynamicsUrl(run, name)), "dynamics"),
      ),
    dataMap: async (run, name, step) =>
      parseDataMap(await getBinary(fetchImpl, dataMapUrl(run, name, step))),
    dynamicsList: async (run, name, step, list, label, limit) =>
      parseDynamicsList(
        await getJson(fetchImpl, dynamicsListUrl(run, name, step, list, label, limit)),
      ),
  };
}
