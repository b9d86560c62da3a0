// The gallery's pure logic, and the samples routes' answers as the frontend reads them
// (fixtures captured from the real backend by fixtures/capture_samples.py).
import { describe, expect, it } from "vitest";
import { parseHistory, parseSamples, parseSteps } from "../src/data/answers";
import { safeBlobUrl, samplesUrl } from "../src/data/routes";
import {
  classScope,
  noConfusionNote,
  scopeClass,
  emptyMessage,
  keptText,
  KEPT_RULE,
  scopeFilter,
  scopeFits,
  scopeTitle,
  widerScopes,
} from "../src/samples/scopes";
import {
  describeSteps,
  formatScore,
  gridColumns,
  historySummary,
  moveIndex,
  nearestStep,
  outcome,
  sampleKey,
  wording,
} from "../src/samples/sample-info";
import { displaySize } from "../src/samples/sample-media";
import { defaultState } from "../src/state/view-state";
import { deserializeState, parseGallery, serializeState } from "../src/state/saved-state";
import { decodeLink, encodeLink } from "../src/state/url-state";
import { samplesRuns, serveSamples } from "./helpers";
import type { SampleFilter, SampleOrder } from "../src/data/types";

const runs = samplesRuns();
const DIGITS = ["zero", "one", "two", "<b>three</b>"];

describe("the samples route as read by the tab", () => {
  it("parses a captured answer: entries with classes, score, loss, id, media and a relative blob url", () => {
    const r = parseSamples(runs.samples.val["2"]);
    expect(r.run).toBe("val");
    expect(r.step).toBe(2);
    expect(r.steps).toEqual([0, 1, 2]);
    expect(r.class_names).toEqual(DIGITS);
    expect(r.samples.length).toBeGreaterThan(3);
    expect(r.samples.length).toBeLessThanOrEqual(8); // max_samples
    const first = r.samples[0];
    expect(first.media).toBe("image/png");
    expect([first.width, first.height]).toEqual([8, 8]);
    expect(first.blob).toMatch(/^blob\?run=val&name=perclass&step=2&index=1&v=/);
    expect(typeof first.id).toBe("number");
    expect(first.label).toBeNull();
    const scores = r.samples.map((s) => s.score!);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it("keeps multilabel labels and 0/1 outcomes, regression errors", () => {
    const ml = parseSamples(runs.samples.ml["1"]);
    expect(ml.task).toBe("multilabel");
    for (const s of ml.samples) {
      expect(s.label).not.toBeNull();
      expect([0, 1]).toContain(s.true);
      expect(s.pred).toBe(1 - s.true);
    }
    const reg = parseSamples(runs.samples.reg["0"]);
    expect(reg.task).toBe("regression");
    expect(reg.class_names).toEqual(["< 0", "[0, 1)", "[1, 2)", ">= 2"]);
    expect(reg.samples[0].score!).toBeGreaterThan(1); // |prediction - target|, not a probability
  });

  it("never uses a blob url that is not a relative url of the blob route", () => {
    expect(safeBlobUrl("blob?run=a&name=b&step=1&index=2&v=1.5", "a", "b", 1, 2)).toBe(
      "blob?run=a&name=b&step=1&index=2&v=1.5",
    );
    for (const bad of [
      "javascript:alert(1)",
      "https://evil.example/x.png",
      "//evil/x",
      "blob?x=<script>",
      "data:image/png;base64,AAAA",
      42,
      null,
    ]) {
      expect(safeBlobUrl(bad, "r/1", "n", 3, 4)).toBe("blob?run=r%2F1&name=n&step=3&index=4");
    }
    const raw = structuredClone(runs.samples.val["0"]) as { samples: Record<string, unknown>[] };
    raw.samples[0].blob = "javascript:alert(1)";
    raw.samples[1].true = "x"; // malformed: dropped
    const r = parseSamples(raw);
    expect(r.samples[0].blob.startsWith("blob?run=val")).toBe(true);
    expect(r.samples.length).toBe(raw.samples.length - 1);
  });

  it("builds relative urls for the samples route", () => {
    expect(samplesUrl("a b", "perclass", 3, { true: 1, pred: 2 }, "score")).toBe(
      "samples?run=a%20b&name=perclass&step=3&true=1&pred=2",
    );
    expect(samplesUrl("r", "n", null, { label: 0, true: 0, pred: 1 }, "loss")).toBe(
      "samples?run=r&name=n&true=0&pred=1&label=0&order=loss",
    );
  });

  it("reads the steps and sample_history routes", () => {
    expect(parseSteps(runs.steps.val.samples)).toEqual([0, 1, 2]);
    const id = Object.keys(runs.history.val).find((k) => k !== "nobody")!;
    const h = parseHistory(runs.history.val[id]);
    expect(h.id).toBe(id);
    expect(h.first_step).toBe(h.history[0].step);
    expect(parseHistory(runs.history.val.nobody)).toMatchObject({ first_step: null, history: [] });
  });

  it("the test double filters and sorts as the real route does", () => {
    for (const [run, c] of [
      ["val", runs.filtered.cell],
      ["val", runs.filtered.class],
      ["ml", runs.filtered.label],
    ] as const) {
      const q = c.query as Record<string, number | string>;
      const filter: SampleFilter = {};
      for (const k of ["true", "pred", "label"] as const)
        if (q[k] !== undefined) filter[k] = Number(q[k]);
      const served = serveSamples(
        run,
        "perclass",
        runs.samples[run],
        Number(q.step),
        filter,
        (q.order ?? "score") as SampleOrder,
      );
      expect(served).toEqual(c.answer);
    }
  });
});

describe("scopes", () => {
  it("map to the route's filters", () => {
    expect(scopeFilter({ kind: "cell", true: 2, pred: 0 })).toEqual({ true: 2, pred: 0 });
    expect(scopeFilter({ kind: "class", true: 3 })).toEqual({ true: 3 });
    expect(scopeFilter({ kind: "overall" })).toEqual({});
    expect(scopeFilter({ kind: "label", label: 1, error: "fp" })).toEqual({
      label: 1,
      true: 0,
      pred: 1,
    });
    expect(scopeFilter({ kind: "label", label: 1, error: "fn" })).toEqual({
      label: 1,
      true: 1,
      pred: 0,
    });
    expect(scopeFilter({ kind: "label", label: 1, error: "all" })).toEqual({ label: 1 });
  });

  it("fit a task and a class count", () => {
    expect(scopeFits({ kind: "cell", true: 3, pred: 1 }, "multiclass", 4)).toBe(true);
    expect(scopeFits({ kind: "cell", true: 4, pred: 1 }, "multiclass", 4)).toBe(false);
    expect(scopeFits({ kind: "cell", true: 0, pred: 1 }, "multilabel", 4)).toBe(false);
    expect(scopeFits({ kind: "label", label: 2, error: "fn" }, "multilabel", 3)).toBe(true);
    expect(scopeFits({ kind: "label", label: 2, error: "fn" }, "multiclass", 3)).toBe(false);
    expect(scopeFits({ kind: "overall" }, "regression", 1)).toBe(true);
  });

  it("have titles and wider scopes (breadcrumbs), names as given", () => {
    expect(scopeTitle({ kind: "cell", true: 3, pred: 0 }, DIGITS, "multiclass")).toBe(
      "<b>three</b> → zero",
    );
    expect(scopeTitle({ kind: "class", true: 1 }, DIGITS, "multiclass")).toBe(
      "All mistakes of true one",
    );
    expect(scopeTitle({ kind: "class", true: 1 }, ["< 0", "[0, 1)"], "regression")).toBe(
      "All mistakes with target in [0, 1)",
    );
    expect(scopeTitle({ kind: "overall" }, DIGITS, "multiclass")).toBe("Most confident mistakes");
    expect(scopeTitle({ kind: "overall" }, DIGITS, "multiclass", "loss")).toBe(
      "Highest-loss mistakes",
    );
    expect(scopeTitle({ kind: "overall" }, DIGITS, "regression")).toBe("Largest errors");
    expect(scopeTitle({ kind: "label", label: 0, error: "fn" }, ["car"], "multilabel")).toBe(
      "Label car: false negatives",
    );
    expect(widerScopes({ kind: "cell", true: 1, pred: 2 })).toEqual([
      { kind: "overall" },
      { kind: "class", true: 1 },
    ]);
    expect(widerScopes({ kind: "label", label: 1, error: "fp" })).toEqual([
      { kind: "overall" },
      { kind: "label", label: 1, error: "all" },
    ]);
    expect(widerScopes({ kind: "overall" })).toEqual([]);
  });
});

describe("a sample in words", () => {
  it("multiclass: true → predicted", () => {
    expect(outcome({ true: 3, pred: 1, label: null }, DIGITS, "multiclass")).toMatchObject({
      headline: "<b>three</b> → one",
      trueText: "<b>three</b>",
      predText: "one",
      error: null,
    });
  });

  it("multilabel: label L: false positive / false negative", () => {
    const names = ["person", "car", "<b>tree</b>"];
    expect(outcome({ true: 0, pred: 1, label: 2 }, names, "multilabel")).toMatchObject({
      headline: "label <b>tree</b>: false positive",
      error: "fp",
    });
    expect(outcome({ true: 1, pred: 0, label: 0 }, names, "multilabel")).toMatchObject({
      headline: "label person: false negative",
      error: "fn",
    });
  });

  it("regression: target and predicted ranges, the score is the error", () => {
    const w = wording("regression");
    expect([w.trueWord, w.predWord, w.scoreWord, w.sortScore]).toEqual([
      "target range",
      "predicted range",
      "error",
      "Largest error",
    ]);
    expect(formatScore(1.808265209197998, "regression")).toBe("1.808");
    expect(formatScore(0.957453503860339, "multiclass")).toBe("0.957");
    expect(formatScore(null, "multiclass")).toBe("—");
  });

  it("keys: the id when there is one (it survives a step change), else the position", () => {
    expect(sampleKey({ id: 185, index: 3 })).toBe("id:185");
    expect(sampleKey({ id: "doc-1", index: 3 })).toBe("id:doc-1");
    expect(sampleKey({ id: null, index: 3 })).toBe("#3");
  });
});

describe("thumbnails", () => {
  it("scale small images up by a whole factor, pixelated, to at least 64 px", () => {
    expect(displaySize(8, 8, 96)).toEqual({ width: 96, height: 96, scale: 12, pixelated: true });
    expect(displaySize(28, 28, 96)).toEqual({ width: 84, height: 84, scale: 3, pixelated: true });
    expect(displaySize(8, 4, 96)).toMatchObject({ width: 96, height: 48, pixelated: true });
  });

  it("fit large images into the box, smooth", () => {
    expect(displaySize(256, 128, 96)).toEqual({
      width: 96,
      height: 48,
      scale: 0.375,
      pixelated: false,
    });
    expect(displaySize(60, 60, 96)).toMatchObject({
      width: 60,
      height: 60,
      scale: 1,
      pixelated: false,
    });
    expect(displaySize(0, 0, 96)).toMatchObject({ width: 96, pixelated: false });
  });
});

describe("keyboard", () => {
  it("moves through a wrapped grid", () => {
    expect(moveIndex(0, "ArrowRight", 7, 4)).toBe(1);
    expect(moveIndex(6, "ArrowRight", 7, 4)).toBe(6);
    expect(moveIndex(0, "ArrowLeft", 7, 4)).toBe(0);
    expect(moveIndex(1, "ArrowDown", 7, 4)).toBe(5);
    expect(moveIndex(3, "ArrowDown", 7, 4)).toBe(3); // no item below
    expect(moveIndex(5, "ArrowUp", 7, 4)).toBe(1);
    expect(moveIndex(2, "Home", 7, 4)).toBe(0);
    expect(moveIndex(2, "End", 7, 4)).toBe(6);
    expect(moveIndex(2, "a", 7, 4)).toBeNull();
    expect(moveIndex(0, "ArrowRight", 0, 4)).toBeNull();
  });

  it("reads the columns from the items' rows", () => {
    expect(gridColumns([10, 10, 10, 130, 130], 4)).toBe(3);
    expect(gridColumns([0, 0, 0, 0, 0, 0], 4)).toBe(4); // no layout (tests): the fallback
    expect(gridColumns([10], 4)).toBe(1);
  });
});

describe("a sample's history", () => {
  it("says when it was first kept and whether it moved between cells", () => {
    const id = Object.keys(runs.history.val).find((k) => k !== "nobody")!;
    const h = parseHistory(runs.history.val[id]);
    const s = historySummary(h.history);
    expect(s.first).toBe(h.first_step);
    expect(s.kept).toBe(h.history.length);
    const cells = new Set(h.history.map((e) => `${e.true}:${e.pred}`));
    expect(s.cells).toBe(cells.size);
    expect(s.moved).toBe(cells.size > 1);
    expect(historySummary([])).toEqual({ first: null, kept: 0, cells: 0, moved: false, moves: [] });
    expect(
      historySummary([
        { step: 4, true: 1, pred: 2, label: null, score: 0.9, loss: 1 },
        { step: 1, true: 1, pred: 0, label: null, score: 0.8, loss: 1 },
        { step: 6, true: 1, pred: 2, label: null, score: 0.9, loss: 1 },
      ]),
    ).toEqual({ first: 1, kept: 3, cells: 2, moved: true, moves: [4] });
  });

  it("finds the nearest step with samples", () => {
    expect(nearestStep([0, 2, 8], 4)).toBe(2);
    expect(nearestStep([0, 2, 8], 5)).toBe(8); // a tie: the later one
    expect(nearestStep([0, 2, 8], 6)).toBe(8);
    expect(nearestStep([0, 2], 1)).toBe(2);
    expect(nearestStep([0, 2], null)).toBe(2);
    expect(nearestStep([], 1)).toBeNull();
    expect(describeSteps([0, 1, 2])).toBe("3 steps (0–2)");
    expect(describeSteps([5])).toBe("1 step (5)");
  });
});

describe("what was kept", () => {
  const caps = { samples_per_cell: 4, max_samples: 96 };
  const cell = { kind: "cell" as const, true: 8, pred: 1 };

  it("names the cap that held a scope's other mistakes back", () => {
    // a full cell: its own cap
    expect(keptText(cell, 4, 19, caps).text).toBe("4 kept of 19 mistakes (samples_per_cell=4)");
    // a cell below its cap: the step's, filled by more confident mistakes of other cells
    expect(keptText(cell, 2, 19, caps).text).toBe("2 kept of 19 mistakes (max_samples=96)");
    expect(keptText({ kind: "overall" }, 96, 140, caps).text).toBe(
      "96 kept of 140 mistakes (max_samples=96)",
    );
    expect(keptText({ kind: "class", true: 3 }, 12, 30, caps).text).toBe(
      "12 kept of 30 mistakes (samples_per_cell=4 per cell, max_samples=96 per step)",
    );
    expect(keptText(cell, 2, 19, caps).title).toContain("samples_per_cell=4");
    // runs written before the caps were recorded
    expect(keptText(cell, 8, 19, { samples_per_cell: null, max_samples: null }).text).toBe(
      "8 kept of 19 mistakes (the run's caps: samples_per_cell, max_samples)",
    );
  });

  it("says only the count when every mistake was kept or the count is unknown", () => {
    expect(keptText(cell, 3, 3, caps)).toEqual({ text: "3 kept", title: null });
    expect(keptText(cell, 3, null, caps)).toEqual({ text: "3 kept", title: null });
  });
});

describe("empty states", () => {
  it("say why nothing is shown", () => {
    expect(emptyMessage({ kind: "cell", true: 1, pred: 1 }, DIGITS, "multiclass", 2, 9)).toContain(
      "correct predictions",
    );
    expect(emptyMessage({ kind: "cell", true: 1, pred: 2 }, DIGITS, "multiclass", 2, 0)).toBe(
      "No true one was predicted as two at step 2.",
    );
    const kept = emptyMessage({ kind: "cell", true: 1, pred: 2 }, DIGITS, "multiclass", 2, 5);
    expect(kept).toContain("had 5 mistakes at step 2, but no sample was kept");
    expect(kept).toContain(KEPT_RULE);
    expect(KEPT_RULE).toContain("k most confident mistakes of each cell");
    // with the run's own caps the rule names them instead of the defaults
    const own = emptyMessage({ kind: "cell", true: 1, pred: 2 }, DIGITS, "multiclass", 2, 5, {
      samples_per_cell: 1,
      max_samples: 1000,
    });
    expect(own).toContain(
      "keeps only the 1 most confident mistake of each cell (samples_per_cell=1) and at most 1,000 in all",
    );
    expect(own).not.toContain("by default");
    expect(
      emptyMessage({ kind: "label", label: 0, error: "fp" }, ["car"], "multilabel", 1, 0),
    ).toBe("Label car has no false positives at step 1.");
    expect(emptyMessage({ kind: "overall" }, DIGITS, "multiclass", 3, null)).toContain(
      "no sample was kept at step 3",
    );
  });
});

describe("gallery state", () => {
  it("is validated when read back", () => {
    expect(
      parseGallery({
        scope: { kind: "cell", true: 1, pred: 2 },
        sort: "loss",
        selected: "id:5",
        large: true,
      }),
    ).toEqual({
      scope: { kind: "cell", true: 1, pred: 2 },
      sort: "loss",
      selected: "id:5",
      large: true,
    });
    expect(parseGallery({ scope: { kind: "cell", true: -1, pred: 2 } })).toBeNull();
    expect(parseGallery({ scope: { kind: "label", label: 1, error: "tp" } })).toBeNull();
    expect(parseGallery({ scope: { kind: "warp" } })).toBeNull();
    expect(parseGallery("x")).toBeNull();
    expect(parseGallery({ scope: { kind: "overall" }, sort: "random", selected: 7 })).toEqual({
      scope: { kind: "overall" },
      sort: "score",
      selected: null,
      large: false,
    });
  });

  it("persists in localStorage and travels in links", () => {
    const s = defaultState();
    s.view = "confusion";
    s.gallery = {
      scope: { kind: "class", true: 3 },
      sort: "loss",
      selected: "id:<b>x</b>",
      large: true,
    };
    expect(deserializeState(serializeState(s)).gallery).toEqual(s.gallery);
    const back = decodeLink(encodeLink(s), defaultState());
    expect(back?.gallery).toEqual(s.gallery);
    expect(decodeLink(encodeLink(defaultState()), s)?.gallery).toBeNull();
  });
});

describe("scopes of a run without a confusion matrix", () => {
  it("a picked class narrows to its true class, or to its label in a multilabel run", () => {
    expect(classScope("multiclass", 3)).toEqual({ kind: "class", true: 3 });
    expect(classScope("regression", 1)).toEqual({ kind: "class", true: 1 });
    expect(classScope("multilabel", 2)).toEqual({ kind: "label", label: 2, error: "all" });
    expect(scopeClass({ kind: "overall" })).toBeNull();
    expect(scopeClass({ kind: "class", true: 4 })).toBe(4);
    expect(scopeClass({ kind: "label", label: 5, error: "fp" })).toBe(5);
  });

  it("the note names confusion=False and the task's word for a class", () => {
    expect(noConfusionNote("multiclass")).toContain("confusion=False");
    expect(noConfusionNote("multiclass")).toContain("one true class");
    expect(noConfusionNote("regression")).toContain("one target range");
    expect(noConfusionNote("multilabel")).toContain("one label");
  });
});
