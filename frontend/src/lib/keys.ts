// The one way keys are built: what a cached answer, a loaded list or a drawn picture was made
// from. A key is its parts as JSON, so parts never run into each other whatever characters
// run, tag and class names hold; null stands for "the latest step".

/** Anything JSON can write: text, numbers, flags, null, lists and plain objects of them. */
export type KeyPart = string | number | boolean | null | undefined | object;

/** The key of these parts. */
export function cacheKey(...parts: KeyPart[]): string {
  return JSON.stringify(parts);
}

/** Whether `key` was made by cacheKey from these leading parts, and maybe more (an answer of
 * the same run and step at any refresh). */
export function keyStartsWith(key: string | null, ...parts: KeyPart[]): boolean {
  if (key === null) return false;
  const head = JSON.stringify(parts);
  return key.startsWith(parts.length ? head.slice(0, -1) + "," : "[");
}

/** A cheap fingerprint of a class order (which classes, in which order): a draw key's part that
 * stays short at 1000 classes. */
export function orderHash(order: ArrayLike<number>): string {
  let h1 = 0x811c9dc5;
  let h2 = 0;
  for (let i = 0; i < order.length; i++) {
    h1 = Math.imul(h1 ^ order[i], 0x01000193);
    h2 = (h2 + (order[i] + 1) * (i + 1)) | 0;
  }
  return `${order.length}:${(h1 >>> 0).toString(36)}:${(h2 >>> 0).toString(36)}`;
}
