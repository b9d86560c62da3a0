import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("source hygiene", () => {
  it("never parses strings as HTML and never evaluates code", () => {
    const banned =
      /\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|DOMParser/;
    const offenders = files(src).filter((f) => banned.test(readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });

  it("fetches only relative urls", () => {
    const absolute = /fetch\(\s*["'`](\/|https?:)/;
    expect(files(src).filter((f) => absolute.test(readFileSync(f, "utf8")))).toEqual([]);
  });
});
