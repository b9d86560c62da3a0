import { describe, expect, it } from "vitest";
import { ApiError, curvesUrl, httpApi, parseCurves, parseTags } from "../src/api";
import { fixture } from "./helpers";

function respond(status: number, body: string, contentType = "application/json"): Response {
  return new Response(body, { status, headers: { "Content-Type": contentType } });
}

describe("api", () => {
  it("uses relative urls (works under the iframe's <base> and --path_prefix)", async () => {
    const urls: string[] = [];
    const api = httpApi(async (u) => {
      urls.push(u);
      return respond(200, JSON.stringify(u === "tags" ? fixture("tags.json") : fixture("curves_train.json")));
    });
    await api.tags();
    await api.curves("exp 1/train&x", "perclass");
    expect(urls).toEqual(["tags", "curves?run=exp%201%2Ftrain%26x&name=perclass"]);
    expect(curvesUrl("a", "b/c")).toBe("curves?run=a&name=b%2Fc");
  });

  it("turns a 400/404 plain-text answer into an error carrying the message", async () => {
    const api = httpApi(async () => respond(404, "Not found: no per-class stats for run 'x'", "text/plain"));
    await expect(api.curves("x", "perclass")).rejects.toThrow(/no per-class stats for run 'x'/);
    await expect(api.curves("x", "perclass")).rejects.toBeInstanceOf(ApiError);
  });

  it("reports network failures and bad JSON", async () => {
    const down = httpApi(async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(down.tags()).rejects.toThrow(/Could not reach TensorBoard/);
    const bad = httpApi(async () => respond(200, "<html>"));
    await expect(bad.tags()).rejects.toThrow(/not valid JSON/);
  });

  it("validates the curves shape and maps non-numbers to null", () => {
    const c = parseCurves({
      steps: [0, 1],
      wall_times: [5, 6],
      class_names: ["a", "a"],
      loss: [
        [1, "NaN"],
        [null, 2],
      ],
      accuracy: [
        [0.5, 1],
        [1, 1],
      ],
    });
    expect(c.loss).toEqual([
      [1, null],
      [null, 2],
    ]);
    expect(c.class_names).toEqual(["a #0", "a #1"]);
    expect(c.nonfinite).toEqual([[], []]);
    expect(() => parseCurves({ steps: [0], loss: [] })).toThrow(/one row per step/);
    expect(() => parseCurves([])).toThrow(/Malformed/);
  });

  it("parses the tags of the real backend and drops malformed entries", () => {
    const t = parseTags(fixture("tags.json"));
    expect(Object.keys(t)).toEqual(["train", "validation"]);
    expect(t.train.perclass.class_names).toEqual(["cat", "dog", "bird", "fish"]);
    expect(parseTags({ r: { n: 3 }, q: 4 })).toEqual({});
  });
});
