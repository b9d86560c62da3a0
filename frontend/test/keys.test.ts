// @vitest-environment node
import { describe, expect, it } from "vitest";
import { cacheKey, keyStartsWith, orderHash } from "../src/lib/keys";

describe("cacheKey", () => {
  it("keeps parts apart whatever they hold", () => {
    expect(cacheKey("a", "b")).not.toBe(cacheKey("a\u0000b"));
    expect(cacheKey("a,b")).not.toBe(cacheKey("a", "b"));
    expect(cacheKey("run", null)).not.toBe(cacheKey("run", "latest")); // null: the latest step
    expect(cacheKey("run", 3)).not.toBe(cacheKey("run", "3"));
    expect(cacheKey(["x", 1], { on: true })).toBe(cacheKey(["x", 1], { on: true }));
  });

  it("tells the keys made from leading parts", () => {
    const key = cacheKey("run", "perclass", 7, 2);
    expect(keyStartsWith(key, "run", "perclass", 7)).toBe(true);
    expect(keyStartsWith(key, "run", "perclass")).toBe(true);
    expect(keyStartsWith(key)).toBe(true);
    expect(keyStartsWith(key, "run", "perclass", 70)).toBe(false);
    expect(keyStartsWith(key, "ru")).toBe(false);
    expect(keyStartsWith(cacheKey("run", "perclass", null), "run", "perclass", null)).toBe(false); // the whole key is no prefix of itself
    expect(keyStartsWith(null, "run")).toBe(false);
  });

  it("fingerprints an order by its classes and their places", () => {
    expect(orderHash([0, 1, 2])).toBe(orderHash(Int32Array.from([0, 1, 2])));
    expect(orderHash([0, 1, 2])).not.toBe(orderHash([0, 2, 1]));
    expect(orderHash([0, 1])).not.toBe(orderHash([0, 1, 2]));
  });
});
