// Named timings of the tab's heavy steps (building a chart's lines, rasterising a heatmap) as
// performance measures "perclass:<name>": visible in the browser's performance panel and read
// by bench/tab_draw.py, which checks the draw times on a long run. Costs nothing measurable.

/** Runs `work` and records its duration as the measure `perclass:<name>`. */
export function measured<T>(name: string, work: () => T): T {
  const perf = typeof performance !== "undefined" ? performance : null;
  if (!perf || typeof perf.measure !== "function") return work();
  const start = perf.now();
  try {
    return work();
  } finally {
    try {
      perf.measure(`perclass:${name}`, { start, end: perf.now() });
    } catch {
      // an older browser without measure options: no measure, same result
    }
  }
}
