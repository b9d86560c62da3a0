import { Grid } from "../src/data/grid";
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/data/api";
import { curvesUrl, reportCsvUrl, routeUrl } from "../src/data/routes";
import {
  decodeBinaryAnswer,
  parseConfusion,
  parseCurves,
  parseDiff,
  parseOrder,
  parsePairs,
  parseReport,
  parseTags,
} from "../src/data/answers";
import { httpApi } from "../src/data/http-api";
import { fixture } from "./helpers";

function respond(
  status: number,
  body: string | ArrayBuffer,
  contentType = "application/json",
): Response {
  return new Response(body, { status, headers: { "Content-Type": contentType } });
}

/** The curves route's binary layout (tb_perclass/plugin/binary_encoding.py), written here
 * independently: uint32 header length, JSON header space-padded to 8 bytes with the length,
 * each [steps][classes] array as float32 (NaN for null), 8-byte aligned. */
function encodeBinary(answer: Record<string, unknown>): ArrayBuffer {
  const header: Record<string, unknown> = {};
  const arrays: [string, number, number, string][] = [];
  const blocks: Float32Array[] = [];
  for (const [key, value] of Object.entries(answer)) {
    if (Array.isArray(value) && Array.isArray(value[0])) {
      const rows = value as ((number | null)[] | null)[];
      const columns = Math.max(...rows.map((r) => r?.length ?? 0));
      arrays.push([key, rows.length, columns, "f4"]);
      const block = new Float32Array(rows.length * columns + ((rows.length * columns) % 2));
      rows.forEach((row, s) => {
        for (let c = 0; c < columns; c++) block[s * columns + c] = row?.[c] ?? NaN;
      });
      blocks.push(block);
    } else header[key] = value;
  }
  const text = new TextEncoder().encode(JSON.stringify({ ...header, arrays }));
  const headerLength = Math.ceil((text.length + 4) / 8) * 8 - 4;
  const size = blocks.reduce((n, b) => n + b.byteLength, 0);
  const out = new ArrayBuffer(4 + headerLength + size);
  new DataView(out).setUint32(0, headerLength, true);
  new Uint8Array(out, 4, headerLength).fill(32).set(text);
  let offset = 4 + headerLength;
  for (const block of blocks) {
    new Float32Array(out, offset, block.length).set(block);
    offset += block.byteLength;
  }
  return out;
}

describe("api", () => {
  it("uses relative urls (works under the iframe's <base> and --path_prefix)", async () => {
    const urls: string[] = [];
    const api = httpApi(async (u) => {
      urls.push(u);
      return u === "tags"
        ? respond(200, JSON.stringify(fixture("tags.json")))
        : respond(
            200,
            encodeBinary(fixture("curves_train.json") as Record<string, unknown>),
            "application/octet-stream",
          );
    });
    await api.tags();
    await api.curves("exp 1/train&x", "perclass");
    expect(urls).toEqual(["tags", "curves?run=exp%201%2Ftrain%26x&name=perclass&format=binary"]);
    expect(curvesUrl("a", "b/c")).toBe("curves?run=a&name=b%2Fc&format=binary");
  });

  it("decodes the binary curves to what the JSON route says", async () => {
    const json = fixture("curves_validation_confusion.json") as Record<string, unknown>;
    const hostile = {
      ...json,
      class_names: (json.class_names as string[]).map((c, i) => (i === 0 ? "<b>é✓</b>" : c)),
    };
    const api = httpApi(async () =>
      respond(200, encodeBinary(hostile), "application/octet-stream"),
    );
    const fromBinary = await api.curves("validation", "perclass");
    const fromJson = parseCurves(hostile);
    expect(fromBinary.class_names[0]).toBe("<b>é✓</b>"); // multi-byte UTF-8 in the header
    expect(fromBinary.steps).toEqual(fromJson.steps);
    const missing = (g: Grid) => g.data!.some((v) => Number.isNaN(v));
    for (const key of ["loss", "count", "accuracy", "nonfinite", "tp", "fp", "fn"] as const) {
      const a = fromBinary[key]!;
      const b = fromJson[key]!;
      expect([a.rows, a.cols]).toEqual([b.rows, b.cols]);
      for (let s = 0; s < a.rows; s++)
        for (let c = 0; c < a.cols; c++) {
          const expected = b.at(s, c);
          if (expected === null) expect(a.at(s, c)).toBeNull();
          else expect(a.at(s, c)).toBeCloseTo(expected, 5);
        }
    }
    expect(missing(fromJson.loss) || missing(fromJson.tp!)).toBe(true);
    expect(() => decodeBinaryAnswer(new ArrayBuffer(2), "curves")).toThrow(/too short/);
    const truncated = encodeBinary(hostile).slice(0, 200);
    expect(() => decodeBinaryAnswer(truncated, "curves")).toThrow(
      /Malformed answer from the curves route/,
    );
  });

  it("turns a 400/404 plain-text answer into an error carrying the message", async () => {
    const api = httpApi(async () =>
      respond(404, "Not found: no per-class stats for run 'x'", "text/plain"),
    );
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
    expect([c.loss.row(0), c.loss.row(1)]).toEqual([
      [1, null],
      [null, 2],
    ]);
    expect(c.class_names).toEqual(["a #0", "a #1"]);
    expect([c.nonfinite.row(0), c.nonfinite.row(1)]).toEqual([
      [0, 0],
      [0, 0],
    ]); // absent: zero
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

describe("api: confusion-matrix routes", () => {
  it("builds relative urls with encoded parameters", async () => {
    const urls: string[] = [];
    const api = httpApi(async (u) => {
      urls.push(u);
      const route = u.split("?")[0];
      const body =
        route === "confusion"
          ? fixture("confusion_validation.json")
          : route === "pairs"
            ? fixture("pairs_validation.json")
            : route === "diff"
              ? fixture("diff_validation_7_0.json")
              : route === "report"
                ? fixture("report_validation.json")
                : fixture("order_validation.json");
      return respond(200, JSON.stringify(body));
    });
    await api.confusion("exp 1/val&x", "perclass", null);
    await api.confusion("v", "p", 7);
    await api.pairs("v", "p", 3, 5);
    await api.diff("v", "p", 7, "exp/train", 0);
    await api.diff("v", "p", 7, "v", 0, 40, "head/b");
    await api.diff("v", "p", 7, "w", 0, 40, "p");
    await api.report("v", "p", null);
    await api.order("v", "p", null, "cluster");
    expect(urls).toEqual([
      "confusion?run=exp%201%2Fval%26x&name=perclass",
      "confusion?run=v&name=p&step=7&nearest=earlier",
      "pairs?run=v&name=p&step=3&limit=5",
      "diff?run=v&name=p&step=7&base_run=exp%2Ftrain&base_step=0&limit=20",
      // another series' name only when it differs (an older plugin knows no base_name)
      "diff?run=v&name=p&step=7&base_run=v&base_name=head%2Fb&base_step=0&limit=40",
      "diff?run=v&name=p&step=7&base_run=w&base_step=0&limit=40",
      "report?run=v&name=p",
      "order?run=v&name=p&by=cluster",
    ]);
    expect(reportCsvUrl("a/b", "perclass", 4)).toBe(
      "report?run=a%2Fb&name=perclass&step=4&format=csv",
    );
    expect(routeUrl("x", { a: null, b: undefined })).toBe("x");
  });

  it("decodes dense and sparse matrices to the same counts", () => {
    const dense = parseConfusion(fixture("confusion_validation.json"));
    expect(dense.n).toBe(4);
    expect(dense.step).toBe(7);
    expect(dense.steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...dense.counts.slice(0, 4)]).toEqual([6, 4, 0, 0]);
    const raw = fixture("confusion_validation_step3_sparse.json") as Record<string, number[]>;
    const sparse = parseConfusion(raw);
    const again = parseConfusion({
      ...raw,
      rows: undefined,
      cols: undefined,
      counts: undefined,
      matrix: [
        [6, 4, 0, 0],
        [2, 6, 2, 0],
        [0, 0, 6, 4],
        [0, 0, 2, 8],
      ],
    });
    expect([...sparse.counts]).toEqual([...again.counts]);
    expect(sparse.encoding).toBe("sparse");
  });

  it("keeps the step asked for when the answer is an earlier step's matrix", () => {
    const raw = fixture("confusion_validation.json") as Record<string, unknown>;
    expect(parseConfusion(raw).requested_step).toBeNull();
    expect(parseConfusion({ ...raw, requested_step: 7 }).requested_step).toBeNull();
    const earlier = parseConfusion({ ...raw, requested_step: 9 });
    expect([earlier.step, earlier.requested_step]).toEqual([7, 9]);
  });

  it("decodes multilabel 2x2 matrices as [tn, fp, fn, tp] per label", () => {
    const ml = parseConfusion(fixture("confusion_multilabel.json"));
    expect(ml.task).toBe("multilabel");
    expect([...ml.labels!.slice(0, 4)]).toEqual([50, 3, 7, 40]);
    expect(ml.class_names[2]).toBe("<b>tree</b>");
  });

  it("refuses malformed matrices instead of drawing a wrong picture", () => {
    const base = { step: 1, steps: [1], class_names: ["a", "b"] };
    expect(() => parseConfusion({ ...base, matrix: [[1, 2]] })).toThrow(/2 classes/);
    expect(() => parseConfusion({ ...base, matrix: [[1, 2], [3]] })).toThrow(/row 1/);
    expect(() => parseConfusion({ ...base, rows: [0, 5], cols: [0, 1], counts: [1, 1] })).toThrow(
      /outside/,
    );
    expect(() => parseConfusion({ ...base, rows: [0], cols: [0, 1], counts: [1] })).toThrow(
      /differ in length/,
    );
    expect(() => parseConfusion({ ...base })).toThrow(/neither/);
    expect(() => parseConfusion({ class_names: [] })).toThrow(/no step/);
    expect(() =>
      parseConfusion({
        ...base,
        matrices: [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      }),
    ).toThrow(/one 2x2/);
  });

  it("parses pairs, diff, report (0/0 stays null), order (a permutation)", () => {
    const p = parsePairs(fixture("pairs_validation.json"));
    expect(p.pairs[0]).toMatchObject({ true: 0, pred: 1, count: 4 });
    expect(p.pairs[0].history.length).toBe(8);
    expect(p.history_steps).toEqual(p.steps); // a short series: its history is at every step
    const sampled = parsePairs({
      step: 4000,
      steps: Array.from({ length: 5000 }, (_, i) => i),
      history_steps: [0, 2500, 4000, 4999],
      pairs: [{ true: 0, pred: 1, count: 3, history: [0, 1, 3, 2] }],
    });
    expect(sampled.history_steps.indexOf(sampled.step)).toBe(2);
    expect(() =>
      parsePairs({
        steps: [0, 1],
        history_steps: [1],
        pairs: [{ true: 0, pred: 1, history: [1, 2] }],
      }),
    ).toThrow(/one count per history step/);
    const d = parseDiff(fixture("diff_validation_7_0.json"));
    expect(d.n).toBe(4);
    expect(d.deltas[0]).toBe(3);
    expect(d.changes[0]).toMatchObject({ before: expect.any(Number), after: expect.any(Number) });
    const r = parseReport({
      ...(fixture("report_validation.json") as object),
      precision: [null, 1, "NaN", 0.5],
    });
    expect(r.precision).toEqual([null, 1, null, 0.5]);
    expect(r.loss[2]).toBeNull();
    expect(parseOrder({ order: [2, 0, 1] })).toEqual([2, 0, 1]);
    expect(() => parseOrder({ order: [0, 0, 1] })).toThrow(/permutation/);
    expect(() => parseOrder({ order: [0, 1] }, 3)).toThrow(/2 entries/);
  });

  it("passes the server's refusal (400 text) through", async () => {
    const api = httpApi(async () =>
      respond(400, "Invalid argument: the runs have different classes (10 vs 12)", "text/plain"),
    );
    await expect(api.diff("a", "p", 1, "b", 0)).rejects.toThrow(/different classes \(10 vs 12\)/);
  });

  it("reads the non-finite outputs and the per-step invalid and ignored elements, also from the binary layout", async () => {
    const json = fixture("curves_train.json") as Record<string, unknown>;
    const S = (json.steps as number[]).length;
    const C = (json.class_names as string[]).length;
    const answer = {
      ...json,
      nonfinite_outputs: Array.from({ length: S }, (_, s) =>
        Array.from({ length: C }, (_, c) => (s === 2 && c === 1 ? 3 : 0)),
      ),
      // 1-D arrays travel in the JSON header, as lists (binary_encoding.py moves 2-D arrays only)
      invalid_targets: Array.from({ length: S }, (_, s) => (s === 2 ? 5 : 0)),
      ignored: Array.from({ length: S }, () => 1),
      skipped: [{ step: 9, kind: "stats", reason: "a stats tensor of dtype string" }],
    };
    const api = httpApi(async () => respond(200, encodeBinary(answer), "application/octet-stream"));
    for (const c of [await api.curves("train", "perclass"), parseCurves(answer)]) {
      expect(c.nonfinite_outputs.at(2, 1)).toBe(3);
      expect([...c.nonfinite_outputs.data!].reduce((a, v) => a + v, 0)).toBe(3);
      expect(c.invalid_targets[2]).toBe(5);
      expect(c.ignored).toEqual(new Array(S).fill(1));
      expect(c.skipped).toEqual([
        { step: 9, kind: "stats", reason: "a stats tensor of dtype string" },
      ]);
    }
    // an older plugin sends none of them: zeros, nothing skipped
    const old = parseCurves(json);
    expect(old.invalid_targets).toEqual(new Array(S).fill(0));
    expect(old.ignored).toEqual(new Array(S).fill(0));
    expect(old.nonfinite_outputs.rows).toBe(S);
    expect(old.skipped).toEqual([]);
    expect(() => parseCurves({ ...json, invalid_targets: [1] })).toThrow(/invalid_targets/);
  });

  it("reads the skipped steps of every per-step answer, dropping malformed entries", () => {
    const skipped = [
      { step: 3, kind: "confusion", reason: "<img src=x onerror=alert(1)>" },
      { step: "4", kind: "confusion", reason: "not a step" },
      null,
      { step: 5, kind: 7, reason: "x".repeat(1000) },
    ];
    const expected = [
      { step: 3, kind: "confusion", reason: "<img src=x onerror=alert(1)>" },
      { step: 5, kind: "data", reason: "x".repeat(300) + "…" },
    ];
    expect(
      parseConfusion({ ...(fixture("confusion_validation.json") as object), skipped }).skipped,
    ).toEqual(expected);
    expect(
      parseReport({ ...(fixture("report_validation.json") as object), skipped }).skipped,
    ).toEqual(expected);
    expect(
      parsePairs({ ...(fixture("pairs_validation.json") as object), skipped }).skipped,
    ).toEqual(expected);
    expect(
      parseDiff({ ...(fixture("diff_validation_7_0.json") as object), skipped }).skipped,
    ).toEqual(expected);
    expect(parseConfusion(fixture("confusion_validation.json")).skipped).toEqual([]);
    expect(
      parseReport({ ...(fixture("report_validation.json") as object), skipped: "all" }).skipped,
    ).toEqual([]);
  });

  it("reads tp/fp/fn into the curves when present", () => {
    const c = parseCurves(fixture("curves_validation_confusion.json"));
    expect(c.tp!.cols).toBe(4);
    expect(c.tp!.row(1)).toEqual([null, null, null, null]); // a step without a matrix
    expect(parseCurves(fixture("curves_train.json")).tp).toBeUndefined();
  });
});
