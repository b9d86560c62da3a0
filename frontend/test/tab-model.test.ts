// @vitest-environment node
// The tab's view-model without a DOM: which series it shows and loads, what the main area and the
// sidebar show, what the toolbar and the notices say.
import { describe, expect, it } from "vitest";
import { pickSeries, seriesToLoad } from "../src/app/series-pick";
import { deriveTab, type TabInput } from "../src/app/tab-model";
import { activeView, tabOf } from "../src/app/tabs";
import { statusText, tabButtons, tabTitle } from "../src/app/toolbar-text";
import { classRows, groupRows, seriesChoices, seriesToggles } from "../src/app/sidebar-rows";
import { noticeList } from "../src/app/notice-list";
import type { CurvesResponse, TagInfo, TagsResponse } from "../src/data/types";
import { defaultState, type ViewState } from "../src/state/view-state";
import { synthCurves } from "./helpers";

const CLASSES = ["cat", "dog", "bird", "fish"];
const info = (kinds: string[], classNames = CLASSES, task = "multiclass"): TagInfo => ({
  kinds,
  task,
  class_names: classNames,
  num_classes: classNames.length,
  loss: "cross_entropy",
});

/** exp/train and exp/validation (stats + confusion), a samples-only run and a binary head. */
function tags(): TagsResponse {
  return {
    "exp/train": { perclass: info(["stats", "confusion"]) },
    "exp/validation": { perclass: info(["stats", "confusion"]) },
    "exp/kept": { perclass: info(["samples"]) },
    aux: { perclass: info(["stats"], ["no", "yes"], "binary") },
  };
}

const state = (patch: Partial<ViewState> = {}): ViewState => ({ ...defaultState(), ...patch });

function input(
  patch: Partial<ViewState> = {},
  curves: Record<string, CurvesResponse> = {
    "exp/train": synthCurves(4, 5, CLASSES),
    "exp/validation": synthCurves(4, 5, CLASSES),
  },
): TabInput {
  return {
    tags: tags(),
    curves: new Map(Object.entries(curves)),
    state: state(patch),
    theme: "light",
  };
}

describe("which series the tab shows and loads", () => {
  it("opens on the class set with the most series, a validation series for the one-series views", () => {
    const p = pickSeries(tags(), state({ view: "confusion" }));
    expect(p.groups.map((g) => g.series.map((s) => s.key))).toEqual([
      ["exp/kept", "exp/train", "exp/validation"],
      ["aux"],
    ]);
    expect(p.group!.series.map((s) => s.key)).toEqual(["exp/kept", "exp/train", "exp/validation"]);
    expect(p.focus!.key).toBe("exp/validation");
  });

  it("the picked series decides the class set; the report picks among the series with matrices", () => {
    expect(pickSeries(tags(), state({ series: "aux" })).group!.task).toBe("binary");
    expect(pickSeries(tags(), state({ view: "report", series: "exp/kept" })).focus!.key).toBe(
      "exp/validation",
    );
    expect(pickSeries(tags(), state({ view: "confusion", series: "exp/kept" })).focus!.key).toBe(
      "exp/kept",
    );
  });

  it("loads the ticked series in the lines, also the shown one elsewhere, never a series without stats", () => {
    const keys = (s: Partial<ViewState>) => seriesToLoad(tags(), state(s)).map((x) => x.key);
    expect(keys({})).toEqual(["exp/train", "exp/validation"]);
    expect(keys({ deselectedSeries: ["exp/validation"] })).toEqual(["exp/train"]);
    expect(keys({ view: "report", deselectedSeries: ["exp/validation"] })).toEqual([
      "exp/train",
      "exp/validation",
    ]);
    // the heatmap also loads the train/validation counterpart for the gap
    expect(
      keys({ curvesMode: "heatmap", deselectedSeries: ["exp/train", "exp/validation"] }),
    ).toEqual(["exp/train", "exp/validation"]);
    expect(
      keys({
        view: "confusion",
        series: "exp/kept",
        deselectedSeries: ["exp/train", "exp/validation"],
      }),
    ).toEqual([]);
  });
});

describe("what the tab shows", () => {
  it("the view in the main area", () => {
    const d = deriveTab(input());
    expect(d.active).toBe("lines");
    expect(deriveTab(input({ curvesMode: "heatmap" })).active).toBe("heatmap");
    expect(deriveTab(input({ view: "confusion", series: "exp/kept" })).active).toBe("mistakes");
    expect(deriveTab(input({ view: "confusion" })).active).toBe("confusion");
    expect(activeView(state({ view: "curves" }), 51, null)).toBe("heatmap"); // auto: past 50 classes
    expect(activeView(state({ view: "curves" }), 50, null)).toBe("lines");
    expect(
      ["lines", "heatmap", "confusion", "mistakes", "report"].map((a) => tabOf(a as never)),
    ).toEqual(["curves", "curves", "confusion", "confusion", "report"]);
  });

  it("the worst classes by their latest value, mean over the series shown, and their colours", () => {
    // synthCurves: loss of class c at step s = (c + 1) / (s + 1): the last classes are the worst;
    // the train series ends two steps later, lower
    const d = deriveTab(
      input(
        { worstN: 2 },
        {
          "exp/train": synthCurves(4, 7, CLASSES),
          "exp/validation": synthCurves(4, 5, CLASSES),
        },
      ),
    );
    expect(d.rankSeries).toBeNull();
    expect(d.rankText).toBe("mean of the 2 runs shown");
    const mean = (c: number) => ((c + 1) / 7 + (c + 1) / 5) / 2;
    expect(d.latest.map((v) => v!.toFixed(6))).toEqual([0, 1, 2, 3].map((c) => mean(c).toFixed(6)));
    expect(d.worst).toEqual([3, 2]);
    // one series picked to rank; the one-series views rank by their series
    const picked = deriveTab(input({ worstN: 2, rankSeries: "exp/validation" }));
    expect([picked.rankSeries, picked.rankText]).toEqual(["exp/validation", "in exp/validation"]);
    expect(picked.latest).toEqual([1 / 5, 2 / 5, 3 / 5, 4 / 5]);
    const gone = deriveTab(input({ rankSeries: "exp/gone" }));
    expect([gone.rankSeries, gone.rankText]).toEqual([null, "mean of the 2 runs shown"]);
    const heat = deriveTab(input({ curvesMode: "heatmap", series: "exp/train" }));
    expect([heat.rankSeries, heat.rankText]).toEqual(["exp/train", "in exp/train"]);
    expect(d.classColors).toHaveLength(4);
    expect(d.classColors).toHaveLength(4);
    const acc = deriveTab(
      input({ worstN: 1, metric: "accuracy", classes: { mode: "exclude", names: ["fish"] } }),
    );
    expect(acc.selected).toEqual([true, true, true, false]);
    expect(acc.worst).toEqual([2]); // a hidden class is never highlighted
  });

  it("precision, recall and F1 fall back to the loss without confusion counts", () => {
    expect(deriveTab(input({ metric: "f1" })).metric.id).toBe("loss");
  });

  it("one-series views list their series' own classes and show only its facts", () => {
    const own = ["cat", "dog", "bird", "fish", "frog"];
    const curves = {
      "exp/train": synthCurves(4, 5, CLASSES),
      "exp/validation": synthCurves(5, 5, own),
    };
    curves["exp/train"].nonfinite.set(2, 1, 3);
    const lines = deriveTab(input({}, curves));
    expect(lines.classNames).toEqual(own); // the union over the ticked series
    expect(lines.shownFacts.map((f) => f.key)).toEqual(["exp/train", "exp/validation"]);
    expect(lines.flags.get("dog")!.loss).toBe(3);
    const report = deriveTab(input({ view: "report" }, curves));
    expect(report.classNames).toEqual(own);
    expect(report.shownFacts.map((f) => f.key)).toEqual(["exp/validation"]);
    expect(report.flags.size).toBe(0);
  });

  it("series colours over every series, dash patterns by split within the class set", () => {
    const d = deriveTab(input());
    expect([...d.seriesColors.keys()]).toEqual(["aux", "exp/kept", "exp/train", "exp/validation"]);
    expect(d.seriesDashes.get("exp/train")).toBe(0);
    expect(d.seriesDashes.get("exp/validation")).toBe(1);
  });
});

describe("what the toolbar and the sidebar say", () => {
  it("tab buttons: a tab no series can be shown in is disabled, with why", () => {
    const d = deriveTab(input());
    expect(tabButtons(d, "curves").map((b) => [b.id, b.disabled, b.active])).toEqual([
      ["curves", false, true],
      ["confusion", false, false],
      ["report", false, false],
      ["scores", true, false],
      ["dynamics", true, false],
    ]);
    const tracked = {
      series: [{ info: info(["stats", "dynamics", "dynamics_samples"]) }],
      confusionSeries: [],
    };
    const dynamics = tabButtons(tracked, "curves")[4];
    expect(dynamics.disabled).toBe(false);
    expect(tabButtons(d, "curves")[4].title).toContain("track_samples");
    const samplesOnly = { series: [{ info: info(["stats", "samples"]) }], confusionSeries: [] };
    const [, confusion, report, scores] = tabButtons(samplesOnly, "curves");
    expect(scores.disabled).toBe(true);
    expect(scores.title).toContain("scores=True");
    expect(confusion.disabled).toBe(false);
    expect(confusion.title).toContain("confusion=False");
    expect(report.disabled).toBe(true);
    expect(report.title).toContain("No run of this class set has confusion matrices");
  });

  it("the title names the view, then the class set or the series shown", () => {
    expect(tabTitle(deriveTab(input()))).toEqual({ main: "Per-class loss", sub: " · 4 classes" });
    // the class count says how many the selection on the left shows
    const some = deriveTab(input({ classes: { mode: "include", names: ["cat", "dog"] } }));
    expect(tabTitle(some).sub).toBe(" · 4 classes · 2 shown");
    expect(tabTitle(deriveTab(input({ view: "report" })))).toEqual({
      main: "Per-class report",
      sub: " · exp/validation · 4 classes",
    });
    expect(tabTitle(deriveTab(input({ view: "confusion", series: "exp/kept" }))).main).toBe(
      "Misclassified samples",
    );
    expect(statusText(true, new Date(2024, 0, 1, 9, 5, 7))).toBe("Loading…");
    expect(statusText(false, new Date(2024, 0, 1, 9, 5, 7))).toBe("Last loaded 09:05:07");
    expect(statusText(false, null)).toBe("");
  });

  it("the series list: checkboxes in the lines, radio buttons elsewhere with the ones the tab cannot show disabled", () => {
    const lines = seriesToggles(
      deriveTab(input({ deselectedSeries: ["exp/train"] })),
      new Map([["exp/validation", "boom"]]),
    );
    expect(lines.count).toBe("2 of 3 shown");
    expect(lines.rows.map((r) => [r.label, r.on, r.dash.label, r.error, r.noCurves])).toEqual([
      ["exp/kept", true, "dotted", undefined, true], // no split: the next free pattern
      ["exp/train", false, "solid", undefined, false],
      ["exp/validation", true, "dashed", "boom", false],
    ]);
    const groups = seriesChoices(deriveTab(input({ view: "report" })));
    expect(groups.map((g) => g.title)).toEqual(["4 classes", "binary · 2 classes"]);
    const rows = groups[0].rows;
    expect(rows.map((r) => [r.label, r.ok, r.checked])).toEqual([
      ["exp/kept", false, false],
      ["exp/train", true, false],
      ["exp/validation", true, true],
    ]);
    expect(rows[0].title).toBe("exp/kept: no confusion matrices");
    const kept = seriesChoices(deriveTab(input({ view: "confusion" })))[0].rows[0];
    expect([kept.ok, kept.samplesOnly, kept.title]).toEqual([
      true,
      true,
      "exp/kept: kept samples only (confusion=False)",
    ]);
  });

  it("the series list: a filter, one-click picks of all, none, the matching runs or one split", () => {
    const d = deriveTab(input({ deselectedSeries: ["exp/train"] }));
    const t = seriesToggles(d, new Map(), "VAL");
    expect(t.count).toBe("2 of 3 shown · 1 match");
    expect(t.rows.map((r) => r.label)).toEqual(["exp/validation"]);
    expect(t.picks.map((p) => [p.role, p.keys, p.current])).toEqual([
      ["series-all", ["exp/kept", "exp/train", "exp/validation"], false],
      ["series-none", [], false],
      ["series-matching", ["exp/validation"], false],
      ["series-split-train", ["exp/train"], false],
      ["series-split-validation", ["exp/validation"], false],
    ]);
    expect(seriesToggles(d, new Map(), "zebra").empty).toBe("No run matches the filter.");
    // no filter: no "Only matching"; the picks say which one is what is shown
    const all = seriesToggles(deriveTab(input()), new Map());
    expect(all.picks.map((p) => p.role)).not.toContain("series-matching");
    expect(all.picks.find((p) => p.role === "series-all")!.current).toBe(true);
    // the one-series views: the filter keeps the shown series and drops empty class sets
    const choices = seriesChoices(deriveTab(input({ view: "report" })), "train");
    expect(choices.map((g) => g.rows.map((r) => r.label))).toEqual([
      ["exp/train", "exp/validation"],
    ]);
  });

  it("the class set list: the default first, one row per set with its series count", () => {
    const d = deriveTab(input());
    expect(groupRows(d.groups, d.group).map((g) => [g.title, g.count, g.selected])).toEqual([
      ["4 classes", "3", true],
      ["binary · 2 classes", "1", false],
    ]);
    expect(groupRows(d.groups, d.group)[1].label).toBe("binary · 2 classes: no, yes (1 run)");
  });

  it("the class list: filter, ranks, faded swatches outside the highlight, values", () => {
    const d = deriveTab(input({ worstN: 1 }));
    const all = classRows(d, "", "class");
    expect(all.count).toBe("4 of 4 shown");
    expect(all.rows.map((r) => [r.name, r.rank, r.value])).toEqual([
      ["cat", undefined, "0.2"],
      ["dog", undefined, "0.4"],
      ["bird", undefined, "0.6"],
      ["fish", 0, "0.8"],
    ]);
    expect(all.rows[0].swatch).toBe("var(--pc-faded-swatch)");
    expect(all.rows[3].swatch).toBe(d.classColors[3]);
    expect(all.valueTitle).toBe("latest loss, mean of the 2 runs shown");
    expect(all.valueHeading).toBe("latest loss, mean of the 2 runs shown");
    const filtered = classRows(d, "i", "run");
    expect(filtered.count).toBe("4 of 4 shown · 2 match");
    expect(filtered.rows.map((r) => r.name)).toEqual(["bird", "fish"]);
    expect(filtered.rows[1].swatch).toBe("var(--pc-class-swatch)");
    expect(classRows(d, "zebra", "class").empty).toBe("No class matches the filter.");
  });

  it("notices: a series' curves error while it is ticked, skipped steps only of the series shown", () => {
    const d = deriveTab(input());
    const skipped = [
      {
        id: "a",
        source: { run: "exp/validation", name: "perclass" },
        entries: [{ step: 3, kind: "stats", reason: "bad" }],
      },
      {
        id: "b",
        source: { run: "aux", name: "perclass" },
        entries: [{ step: 1, kind: "stats", reason: "bad" }],
      },
    ];
    const list = noticeList(
      d,
      null,
      new Map([
        ["exp/train", "boom"],
        ["aux", "not shown"],
      ]),
      skipped,
    );
    expect(list.map((n) => [n.kind, n.role, n.dismiss])).toEqual([
      ["error", undefined, undefined],
      ["warn", "skipped-notice", "a"],
    ]);
    expect(list[0].text).toBe("exp/train: boom");
    expect(list[1].series).toEqual({ run: "exp/validation", name: "perclass" });
    expect(noticeList(null, "down", new Map(), skipped).map((n) => n.text)).toEqual([
      "Could not load the per-class data: down",
    ]);
  });
});
