// Number and text formatting for the curves, matrix, report and tooltips. Undefined values
// (0/0) show as "—". Pure.

export const DASH = "—";

/** A metric value: 4 significant digits, exponent form when very large or small. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** A 0..1 rate as a percentage with one decimal. */
export const formatPercent = (v: number): string =>
  Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : String(v);

export function formatCount(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return Math.round(v).toLocaleString("en-US");
}

/** Short counts for cells: 999, 1.2k, 35k, 1.2M. */
export function compactCount(v: number): string {
  const a = Math.abs(v);
  const sign = v < 0 ? "−" : "";
  if (a < 1000) return sign + String(Math.round(a));
  if (a < 1e4) return sign + (a / 1e3).toFixed(1).replace(/\.0$/, "") + "k";
  if (a < 1e6) return sign + Math.round(a / 1e3) + "k";
  return sign + (a / 1e6).toFixed(1).replace(/\.0$/, "") + "M";
}

export function formatShare(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return `${(v * 100).toFixed(digits)}%`;
}

/** Short shares for cells: 83%, 4.2%, 0. */
export function compactShare(v: number): string {
  if (!Number.isFinite(v)) return "";
  if (v === 0) return "0";
  const p = v * 100;
  return p >= 9.95 ? `${Math.round(p)}%` : p >= 0.095 ? `${p.toFixed(1)}%` : "<0.1%";
}

export function signed(v: number): string {
  if (!Number.isFinite(v)) return DASH;
  return v > 0 ? `+${formatCount(v)}` : v < 0 ? `−${formatCount(-v)}` : "0";
}

export function formatMetric(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return v.toFixed(digits);
}

/** Steps as a short phrase: "step 3", "steps 3–5, 9 and 12"; past `maxRanges` runs of
 * consecutive steps, the first ones and "… (N steps)". `steps` ascending. */
export function stepList(steps: readonly number[], maxRanges = 4): string {
  if (!steps.length) return "no step";
  if (steps.length === 1) return `step ${steps[0]}`;
  const ranges: string[] = [];
  let start = steps[0];
  let prev = steps[0];
  const close = () =>
    ranges.push(
      start === prev
        ? String(start)
        : prev === start + 1
          ? `${start}, ${prev}`
          : `${start}–${prev}`,
    );
  for (const s of steps.slice(1)) {
    if (s === prev + 1) prev = s;
    else {
      close();
      start = prev = s;
    }
  }
  close();
  if (ranges.length > maxRanges)
    return `steps ${ranges.slice(0, maxRanges).join(", ")}, … (${steps.length} steps)`;
  return `steps ${ranges.length === 1 ? ranges[0] : `${ranges.slice(0, -1).join(", ")} and ${ranges[ranges.length - 1]}`}`;
}
