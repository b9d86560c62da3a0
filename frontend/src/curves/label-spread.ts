// Placement of text labels along one axis without overlaps (e.g. the mean lines' end labels,
// which collide when two runs end at nearly the same value).

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
