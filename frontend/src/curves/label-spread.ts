// Placement of text labels along one axis without overlaps (e.g. the mean lines' end labels,
// which collide when two runs end at nearly the same value), and the margin they are drawn in.

/**
 * Moves positions apart so that neighbours are at least `gap` apart, staying within
 * [low, high] when there is room, and moving each as little as this greedy pass allows.
 * Returns the new positions in the input order.
 */
export function spreadApart(positions: number[], gap: number, low: number, high: number): number[] {
  const order = positions.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const placed = order.map(([p]) => Math.min(Math.max(p, low), high));
  for (let k = 1; k < placed.length; k++) {
    placed[k] = Math.max(placed[k], placed[k - 1] + gap);
  }
  // Pushed past the bottom edge: shift the stack back up, as far as the top edge allows.
  const overflow = placed.length ? placed[placed.length - 1] - high : 0;
  if (overflow > 0) {
    for (let k = placed.length - 1; k >= 0; k--) {
      const limit = k === placed.length - 1 ? high : placed[k + 1] - gap;
      placed[k] = Math.max(low, Math.min(placed[k], limit));
    }
  }
  const result = new Array<number>(positions.length);
  order.forEach(([, i], k) => (result[i] = placed[k]));
  return result;
}

/** The right margin of a chart for end labels: as wide as the longest label plus `pad`, at most
 * `maxWidth`; labels too long for it are cut with an ellipsis. `measure` gives a text's width. */
export function fitLabelMargin(
  texts: readonly string[],
  measure: (text: string) => number,
  maxWidth: number,
  pad: number,
): { width: number; texts: string[] } {
  if (!texts.length) return { width: 0, texts: [] };
  const room = Math.max(0, maxWidth - pad);
  const fitted = texts.map((t) => {
    if (measure(t) <= room) return t;
    let k = t.length;
    while (k > 1 && measure(`${t.slice(0, k)}…`) > room) k--;
    return `${t.slice(0, k)}…`;
  });
  const widest = Math.max(...fitted.map(measure));
  return { width: Math.ceil(Math.min(widest, room) + pad), texts: fitted };
}
