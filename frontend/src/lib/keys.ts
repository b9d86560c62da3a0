// Keys that say what a cached answer or a drawn picture was made from.

/** A cheap fingerprint of a class order (which classes, in which order). */
export function orderHash(order: ArrayLike<number>): string {
  let h1 = 0x811c9dc5;
  let h2 = 0;
  for (let i = 0; i < order.length; i++) {
    h1 = Math.imul(h1 ^ order[i], 0x01000193);
    h2 = (h2 + (order[i] + 1) * (i + 1)) | 0;
  }
  return `${order.length}:${(h1 >>> 0).toString(36)}:${(h2 >>> 0).toString(36)}`;
}
