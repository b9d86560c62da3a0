// The plugin's route URLs, RELATIVE: the tab's document has <base href="plugin/perclass/">, so
// they also work under --path_prefix.
import type { SampleFilter, SampleOrder } from "./types";

/** A relative route URL with its query (null/undefined parameters are left out). */
export function routeUrl(
  route: string,
  params: Record<string, string | number | null | undefined>,
): string {
  const q = Object.entries(params)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
  return q ? `${route}?${q}` : route;
}

/** The tab fetches curves in the route's binary layout: at 1000 classes x 500 steps the JSON
 * text costs the server about a second to write and gzip, the float32 bytes milliseconds. */
export function curvesUrl(run: string, name: string): string {
  return routeUrl("curves", { run, name, format: "binary" });
}

/** A step without a matrix (a writer with `confusion_every` writes one every N-th step) gets
 * the latest matrix before it; the answer's `requested_step` says which step was asked for. */
export function confusionUrl(run: string, name: string, step: number | null): string {
  return routeUrl("confusion", { run, name, step, nearest: step === null ? null : "earlier" });
}

export function scoresUrl(
  run: string,
  name: string,
  step: number | null,
  classes: readonly number[],
): string {
  return routeUrl("scores", {
    run,
    name,
    step,
    classes: classes.length ? classes.join(",") : null,
  });
}

/** The report as CSV (the server sends it as an attachment): for a download link. */
export function reportCsvUrl(run: string, name: string, step: number | null): string {
  return routeUrl("report", { run, name, step, format: "csv" });
}

export function samplesUrl(
  run: string,
  name: string,
  step: number | null,
  filter: SampleFilter,
  order: SampleOrder,
): string {
  return routeUrl("samples", {
    run,
    name,
    step,
    true: filter.true,
    pred: filter.pred,
    label: filter.label,
    order: order === "score" ? null : order,
  });
}

/** The blob URL of a manifest entry when it is what the server makes (a relative URL of the
 * blob route); otherwise one built from the entry. Nothing else ever becomes an image source. */
export function safeBlobUrl(
  raw: unknown,
  run: string,
  name: string,
  step: number,
  index: number,
): string {
  if (typeof raw === "string" && /^blob\?[A-Za-z0-9_.~%&=+\-]*$/.test(raw)) return raw;
  return routeUrl("blob", { run, name, step, index });
}

/** The tab fetches the dynamics counts in the binary layout, as the curves. */
export function dynamicsUrl(run: string, name: string): string {
  return routeUrl("dynamics", { run, name, format: "binary" });
}

export function dataMapUrl(run: string, name: string, step: number | null): string {
  return routeUrl("data_map", { run, name, step });
}

export function dynamicsListUrl(
  run: string,
  name: string,
  step: number | null,
  list: string,
  label: number | null,
  limit: number | null,
  format: "json" | "csv" = "json",
): string {
  return routeUrl("dynamics_samples", {
    run,
    name,
    step,
    list,
    class: label,
    limit,
    format: format === "csv" ? "csv" : null,
  });
}

/** A listed sample's thumbnail URL when it is what the server makes (a relative URL of the
 * dynamics_media route); null otherwise: nothing else ever becomes an image source. */
export function safeMediaUrl(raw: unknown): string | null {
  return typeof raw === "string" && /^dynamics_media\?[A-Za-z0-9_.~%&=+\-]*$/.test(raw)
    ? raw
    : null;
}
