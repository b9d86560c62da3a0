import { describe, expect, it } from "vitest";
import { defaultState, effectiveCurvesMode, effectiveWorstN } from "../src/state/view-state";
import {
  deserializeState,
  loadState,
  parseState,
  saveState,
  serializeState,
  STORAGE_KEY,
} from "../src/state/saved-state";
import { MemoryStorage } from "./helpers";

describe("view state (de)serialization", () => {
  it("round-trips", () => {
    const s = defaultState();
    s.group = "multiclass:3:abc";
    s.deselectedSeries = ["exp1/train", "exp1\u0000validation"];
    s.metric = "accuracy";
    s.xAxis = "relative";
    s.logScale = true;
    s.smoothing = 0.6;
    s.worstN = 7;
    s.rankSeries = "exp1/validation";
    s.colorBy = "run";
    s.classFilter = "cat";
    s.seriesFilter = "lr_0.1";
    s.settingsOpen = false;
    s.classes = { mode: "include", names: ["cat", "<b>dog</b>"] };
    s.zoom = [3, 40];
    s.autoRefresh = false;
    s.view = "confusion";
    s.curvesMode = "heatmap";
    s.series = "exp1/validation";
    s.step = 42;
    s.norm = "col";
    s.order = "error";
    s.logColor = false;
    s.errorsOnly = true;
    s.cmZoom = { r0: 1, r1: 22, c0: 3, c1: 24 };
    s.focus = "dog";
    s.diff = { on: true, baseSeries: "exp1/train", baseStep: 0 };
    s.reportSort = { key: "f1", desc: true };
    s.labelSort = { key: "fn", desc: true };
    s.heatSort = { key: "slope", reverse: true };
    s.heatZoom = { r0: 0, r1: 41, c0: 0, c1: 100 };
    s.metric = "recall";
    expect(deserializeState(serializeState(s))).toEqual(s);
  });

  it("reads states and links saved before series: runs of one name become that name's series", () => {
    const old = parseState({
      name: "head",
      run: "exp/val",
      deselectedRuns: ["exp/train"],
      rankRun: "exp/val",
      diff: { on: true, baseRun: "exp/train", baseStep: 2 },
    });
    expect(old.series).toBe("exp/val\u0000head");
    expect(old.deselectedSeries).toEqual(["exp/train\u0000head"]);
    expect(old.rankSeries).toBe("exp/val\u0000head");
    expect(old.diff).toEqual({ on: true, baseSeries: "exp/train\u0000head", baseStep: 2 });
    expect(old.group).toBeNull();
    // the default name: the keys are the runs, as before
    const plain = parseState({ run: "exp/val", deselectedRuns: ["exp/train"] });
    expect([plain.series, plain.deselectedSeries]).toEqual(["exp/val", ["exp/train"]]);
    // the new fields win
    expect(parseState({ run: "a", series: "b" }).series).toBe("b");
  });

  it("falls back to defaults on garbage", () => {
    expect(deserializeState(null)).toEqual(defaultState());
    expect(deserializeState("{not json")).toEqual(defaultState());
    expect(deserializeState("42")).toEqual(defaultState());
    const s = parseState({
      metric: "f1-of-the-future",
      smoothing: 7,
      xAxis: "sideways",
      zoom: [5, 1],
      classes: { mode: "maybe", names: [1] },
      worstN: -3,
      deselectedSeries: "train",
    });
    expect(s.metric).toBe("loss");
    expect(s.smoothing).toBe(0.999);
    expect(s.xAxis).toBe("step");
    expect(s.zoom).toBeNull();
    expect(s.classes).toEqual({ mode: "exclude", names: [] });
    expect(s.worstN).toBeNull();
    expect(s.deselectedSeries).toEqual([]);
    const t = parseState({
      view: "samples",
      step: 1.5,
      norm: "sideways",
      order: "random",
      cmZoom: { r0: 3, r1: 1, c0: 0, c1: 1 },
      diff: { on: "yes", baseSeries: 3, baseStep: "x" },
      reportSort: { key: "evil", desc: true },
      heatSort: { key: "gap" },
      curvesMode: "3d",
    });
    expect(t.view).toBe("curves");
    expect(t.step).toBeNull();
    expect(t.norm).toBe("counts");
    expect(t.order).toBe("index");
    expect(t.cmZoom).toBeNull();
    expect(t.diff).toEqual({ on: false, baseSeries: null, baseStep: null });
    expect(t.reportSort).toEqual({ key: "index", desc: false });
    expect(t.heatSort).toEqual({ key: "final", reverse: false });
    expect(t.curvesMode).toBe("auto");
  });

  it("curves show as a heatmap past the threshold unless the user chose", () => {
    const s = defaultState();
    expect(effectiveCurvesMode(s, 50)).toBe("lines");
    expect(effectiveCurvesMode(s, 51)).toBe("heatmap");
    s.curvesMode = "lines";
    expect(effectiveCurvesMode(s, 1000)).toBe("lines");
  });

  it("loads and saves through a store and survives a broken one", () => {
    const st = new MemoryStorage();
    const s = defaultState();
    s.smoothing = 0.3;
    saveState(st, s);
    expect(st.getItem(STORAGE_KEY)).toContain("0.3");
    expect(loadState(st).smoothing).toBe(0.3);
    const broken = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("full");
      },
    };
    expect(loadState(broken)).toEqual(defaultState());
    expect(() => saveState(broken, s)).not.toThrow();
    expect(loadState(null)).toEqual(defaultState());
  });

  it("worst N is automatic until the user sets it", () => {
    const s = defaultState();
    // a handful of classes all in colour; of 6 to 10 the 3 worst (the digits demo's three and
    // eight stand out), of more the 5 worst
    expect([2, 5, 6, 10, 11, 100].map((n) => effectiveWorstN(s, n))).toEqual([0, 0, 3, 3, 5, 5]);
    s.worstN = 1;
    expect(effectiveWorstN(s, 10)).toBe(1);
  });
});
