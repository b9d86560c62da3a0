// DOM tests of series (series.ts: (run, name) pairs) in the whole tab: the two ways of
// organising a logdir give the same tab; facts are keyed by series; multi-head runs are
// grouped by class set; malformed steps the plugin skipped are shown per series.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../src/app/app";
import { decodeLink, LINK_KEY, parseHash } from "../src/state/url-state";
import { defaultState } from "../src/state/view-state";
import { seriesKey } from "../src/state/series-key";
import type { CurvesResponse, TagInfo } from "../src/data/types";
import {
  confusionFixture,
  diffFixture,
  FakeApi,
  FakeWindow,
  flush,
  MemoryStorage,
  pairsFixture,
  reportFixture,
  startApp,
  synthCurves,
  type fakeChart,
} from "./helpers";

const CLASSES = ["cat", "dog", "bird", "fish"];
const EVIL = "<img src=x onerror=alert(1)>";
let apps: App[] = [];

const info = (classNames = CLASSES, task = "multiclass"): TagInfo => ({
  kinds: ["stats", "confusion"],
  task,
  class_names: classNames,
  num_classes: classNames.length,
  loss: "cross_entropy",
});

/** Curves over steps 0..7 (the confusion fixtures' steps). */
const curves = (names = CLASSES) => synthCurves(names.length, 8, names);

type Layout = "runs" | "names";

/** One experiment's train and validation series: Keras-style runs `exp/train` and
 * `exp/validation` (default name), or one run `exp` with names `train` and `validation`. */
function experimentApi(
  layout: Layout,
  train: CurvesResponse = curves(),
  validation: CurvesResponse = curves(),
): FakeApi {
  const api =
    layout === "runs"
      ? new FakeApi(
          { "exp/train": { perclass: info() }, "exp/validation": { perclass: info() } },
          { "exp/train": train, "exp/validation": validation },
        )
      : new FakeApi(
          { exp: { train: info(), validation: info() } },
          { "exp|train": train, "exp|validation": validation },
        );
  const runs = layout === "runs" ? ["exp/train", "exp/validation"] : ["exp"];
  for (const run of runs) {
    api.confusionData[run] = () => confusionFixture();
    api.pairsData[run] = pairsFixture();
    api.reportData[run] = reportFixture();
    (api.stepsData[run] ??= {}).confusion = pairsFixture().steps;
  }
  return api;
}

/** Which series a layout's validation series is. */
const VALIDATION = {
  runs: { run: "exp/validation", name: "perclass", label: "exp/validation" },
  names: { run: "exp", name: "validation", label: "exp · validation" },
};
const TRAIN = {
  runs: { run: "exp/train", name: "perclass", label: "exp/train" },
  names: { run: "exp", name: "train", label: "exp · train" },
};

async function mount(
  api: FakeApi,
  storage = new MemoryStorage(),
  linkWindow: FakeWindow | null = null,
) {
  const { app, chart } = await startApp(apps, api, storage, linkWindow);
  (app as unknown as { view: { flush?: () => void } }).view.flush?.();
  return { app, api, chart };
}

const $ = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];
const lastChart = (chart: ReturnType<typeof fakeChart>) => chart.charts[chart.charts.length - 1];

async function openTab(id: string) {
  $(`[data-role=view-tab][data-value=${id}]`)!.click();
  await flush();
}

async function pickSeries(s: { run: string; name: string }) {
  const radio = $<HTMLInputElement>(`[data-run-choice="${s.run}"][data-name="${s.name}"]`)!;
  radio.checked = true;
  radio.dispatchEvent(new Event("change"));
  await flush();
}

beforeEach(() => document.body.replaceChildren());
afterEach(() => {
  apps.forEach((a) => a.stop());
  apps = [];
});

describe("series are (run, name) pairs", () => {
  it("gives both ways of organising a logdir the same tab: two series overlaid, train solid, validation dashed", async () => {
    const seen: Record<Layout, unknown> = { runs: null, names: null };
    for (const layout of ["runs", "names"] as const) {
      document.body.replaceChildren();
      const { api, chart } = await mount(experimentApi(layout));
      const opts = lastChart(chart);
      const means = opts.model.lines.filter((l) => l.kind === "mean");
      const rows = $$("[data-role=runs] [data-series-row]");
      seen[layout] = {
        labels: rows.map((r) => r.querySelector(".pc-run-name")!.textContent),
        dashes: rows.map((r) => r.getAttribute("data-dash")),
        legend: $$("[data-role=legend] [data-dash]").map((e) => [
          e.textContent,
          e.getAttribute("data-dash"),
        ]),
        classLines: opts.model.lines.filter((l) => l.kind === "class").length,
        meanDashes: means.map((l) => l.dash.length > 0),
        meanLabels: means.map((_, k) => opts.meanLabel(opts.model.lines.indexOf(means[k]))),
        rankedBy: $<HTMLSelectElement>("[data-control=rank-run]")!.selectedOptions[0].textContent,
        groupsShown: !$("[data-role=groups]")!.hidden,
        curvesCalls: api.calls.filter((c) => c.startsWith("curves:")),
      };
    }
    expect(seen.runs).toEqual({
      labels: ["exp/train", "exp/validation"],
      dashes: ["solid", "dashed"],
      legend: [
        ["exp/train", "solid"],
        ["exp/validation", "dashed"],
      ],
      classLines: 8,
      meanDashes: [false, true],
      meanLabels: ["mean · train", "mean · validation"],
      rankedBy: "mean of the runs shown",
      groupsShown: false,
      curvesCalls: ["curves:exp/train:perclass", "curves:exp/validation:perclass"],
    });
    expect(seen.names).toEqual({
      labels: ["exp · train", "exp · validation"],
      dashes: ["solid", "dashed"],
      legend: [
        ["exp · train", "solid"],
        ["exp · validation", "dashed"],
      ],
      classLines: 8,
      meanDashes: [false, true],
      meanLabels: ["mean · train", "mean · validation"],
      rankedBy: "mean of the runs shown",
      groupsShown: false,
      curvesCalls: ["curves:exp:train", "curves:exp:validation"],
    });
  });

  it("asks every per-step route for the series' run and name, and keeps the series in links", async () => {
    const win = new FakeWindow();
    const { app, api } = await mount(experimentApi("names"), new MemoryStorage(), win);
    await openTab("confusion");
    // the validation series by default, as the validation run
    expect($<HTMLInputElement>('[data-run-choice="exp"][data-name="validation"]')!.checked).toBe(
      true,
    );
    expect(api.calls).toContain("confusion:exp:validation:latest");
    expect(api.calls).toContain("pairs:exp:validation:7:20");
    await pickSeries(TRAIN.names);
    expect(api.calls).toContain("confusion:exp:train:latest");
    expect($("[data-role=title]")!.textContent).toContain("exp · train");
    await openTab("report");
    expect(api.calls).toContain("report:exp:train:latest");
    expect($("[data-role=report-csv]")!.getAttribute("href")).toBe(
      "report?run=exp&name=train&step=7&format=csv",
    );
    expect($("[data-role=report-csv]")!.getAttribute("download")).toBe(
      "report_exp_train_step7.csv",
    );
    const token = parseHash(win.location.hash).params.get(LINK_KEY)!;
    expect(decodeLink(token, defaultState())).toMatchObject({
      view: "report",
      series: seriesKey("exp", "train"),
    });
    // the link opens the same series
    app.stop();
    document.body.replaceChildren();
    const other = new FakeWindow();
    other.location.hash = win.location.hash;
    const second = await mount(experimentApi("names"), new MemoryStorage(), other);
    expect($<HTMLInputElement>('[data-run-choice="exp"][data-name="train"]')!.checked).toBe(true);
    expect(second.api.calls).toContain("report:exp:train:latest");
  });
});

describe("facts belong to their series", () => {
  /** Only the validation series has non-finite losses (class bird, steps 2 and 3). */
  function withNonfinite(layout: Layout): FakeApi {
    const validation = curves();
    validation.nonfinite.set(2, 2, 2);
    validation.nonfinite.set(3, 2, 1);
    return experimentApi(layout, curves(), validation);
  }

  for (const layout of ["runs", "names"] as const) {
    it(`flags only the series with non-finite losses (${layout})`, async () => {
      const { app } = await mount(withNonfinite(layout));
      const val = VALIDATION[layout];
      // both series shown: one notice, naming the validation series; bird's badge names it too
      const notices = $$("[data-role=nonfinite-notice]");
      expect(notices.length).toBe(1);
      expect(notices[0].textContent).toContain(`${val.label}: 1 class has non-finite`);
      expect(notices[0].textContent).toContain("3 at steps 2, 3");
      expect([notices[0].getAttribute("data-run"), notices[0].getAttribute("data-name")]).toEqual([
        val.run,
        val.name,
      ]);
      expect($$("[data-role=classes] .pc-badge").length).toBe(1);
      expect($("[data-class=bird] .pc-badge")!.title).toContain(`${val.label}: 3`);
      // only the train series ticked: nothing is flagged
      app.setState({ deselectedSeries: [seriesKey(val.run, val.name)] });
      await flush();
      expect($$("[data-role=nonfinite-notice]").length).toBe(0);
      expect($$("[data-role=classes] .pc-badge").length).toBe(0);
      app.setState({ deselectedSeries: [] });
      await flush();
      // the one-series views: the train series' matrix is clean, the validation one's is not
      await openTab("confusion");
      expect($$("[data-role=nonfinite-notice]").length).toBe(1);
      await pickSeries(TRAIN[layout]);
      expect($$("[data-role=nonfinite-notice]").length).toBe(0);
      expect($$("[data-role=classes] .pc-badge").length).toBe(0);
      await openTab("report");
      expect($$("[data-role=nonfinite-notice]").length).toBe(0);
      await pickSeries(val);
      expect($$("[data-role=nonfinite-notice]").length).toBe(1);
      expect($("[data-class=bird] .pc-badge")).not.toBeNull();
    });
  }

  it("shows non-finite outputs, invalid targets and ignored elements: notices, badges, and what the matrix and report leave out", async () => {
    const validation = curves();
    validation.nonfinite_outputs.set(7, 0, 2); // step 7, the fixtures' latest step
    validation.nonfinite_outputs.set(5, 1, 1);
    validation.invalid_targets[7] = 3;
    validation.ignored[6] = 4;
    await mount(experimentApi("runs", curves(), validation));
    const outputs = $$("[data-role=nonfinite-outputs-notice]");
    expect(outputs.map((n) => n.getAttribute("data-run"))).toEqual(["exp/validation"]);
    expect(outputs[0].textContent).toContain(
      "exp/validation: 3 samples had non-finite (NaN/Inf) outputs at steps 5 and 7 (true classes cat and dog)",
    );
    const noClass = $$("[data-role=no-class-notice]");
    expect(noClass.length).toBe(1);
    expect(noClass[0].textContent).toContain(
      "3 elements with an invalid target (at step 7) and 4 elements skipped by ignore_index (at step 6)",
    );
    expect(noClass[0].classList.contains("pc-notice-warn")).toBe(true);
    expect(
      $("[data-class=cat] [data-nonfinite-outputs]")!.getAttribute("data-nonfinite-outputs"),
    ).toBe("2");
    expect($("[data-class=cat] [data-nonfinite-outputs]")!.title).toContain("exp/validation: 2");
    expect($("[data-class=bird] [data-nonfinite-outputs]")).toBeNull();
    await openTab("confusion");
    const line = $("[data-view=confusion] [data-role=outside-matrix]")!;
    expect(line.hidden).toBe(false);
    expect(line.textContent).toBe(
      "5 elements of step 7 are not in this matrix: 2 with non-finite (NaN/Inf) outputs and 3 with an invalid target.",
    );
    await openTab("report");
    expect($("[data-view=report] [data-role=outside-matrix]")!.textContent).toMatch(
      /^5 elements of step 7 are not in this report/,
    );
    // the train series left nothing out
    await pickSeries(TRAIN.runs);
    expect($("[data-view=report] [data-role=outside-matrix]")!.hidden).toBe(true);
    expect($$("[data-role=nonfinite-outputs-notice]").length).toBe(0);
  });
});

describe("class sets", () => {
  /** A two-head model: 4 classes (default name) and a binary head "aux", train and validation runs. */
  function multiHeadApi(): FakeApi {
    const aux = info(["no", "yes"], "binary");
    const api = new FakeApi(
      { "exp/train": { perclass: info(), aux }, "exp/validation": { perclass: info(), aux } },
      {
        "exp/train|perclass": curves(),
        "exp/validation|perclass": curves(),
        "exp/train|aux": curves(["no", "yes"]),
        "exp/validation|aux": curves(["no", "yes"]),
      },
    );
    for (const run of ["exp/train", "exp/validation"]) {
      api.confusionData[`${run}|perclass`] = () => confusionFixture();
      api.confusionData[`${run}|aux`] = () => ({
        ...confusionFixture(),
        class_names: ["no", "yes"],
        n: 2,
        counts: new Float64Array([5, 1, 2, 7]),
      });
      api.pairsData[run] = { ...pairsFixture(), pairs: [] };
    }
    return api;
  }

  it("never mixes series of other class sets; the picker switches between them", async () => {
    const { api, chart } = await mount(multiHeadApi());
    expect($("[data-role=groups]")!.hidden).toBe(false);
    const options = $$("[data-control=group] [data-role=group-option]");
    expect(options.map((o) => [o.title, o.getAttribute("aria-checked")])).toEqual([
      ["4 classes: cat, dog, bird, fish (2 runs)", "true"],
      ["aux · binary · 2 classes: no, yes (2 runs)", "false"],
    ]);
    expect($$("[data-role=classes] .pc-class-name").map((e) => e.textContent)).toEqual(CLASSES);
    expect(
      lastChart(chart)
        .model.lines.filter((l) => l.kind === "class")
        .every((l) => CLASSES.includes(l.label)),
    ).toBe(true);
    expect(api.calls.filter((c) => c.startsWith("curves:"))).toEqual([
      "curves:exp/train:perclass",
      "curves:exp/validation:perclass",
    ]);
    options[1].click(); // one click
    await flush();
    (apps[0] as unknown as { view: { flush?: () => void } }).view.flush?.();
    expect($$("[data-role=classes] .pc-class-name").map((e) => e.textContent)).toEqual([
      "no",
      "yes",
    ]);
    expect($$("[data-role=runs] .pc-run-name").map((e) => e.textContent)).toEqual([
      "exp/train · aux",
      "exp/validation · aux",
    ]);
    expect(
      new Set(
        lastChart(chart)
          .model.lines.filter((l) => l.kind === "class")
          .map((l) => l.label),
      ),
    ).toEqual(new Set(["no", "yes"]));
  });

  it("lists every series in the one-series views, by class set; picking one of another set switches to it", async () => {
    const { api } = await mount(multiHeadApi());
    await openTab("confusion");
    expect($$("[data-role=run-group]").map((e) => e.textContent)).toEqual([
      "4 classes",
      "aux · binary · 2 classes",
    ]);
    expect(
      $$("[data-run-choice]").map(
        (e) => `${e.getAttribute("data-run-choice")}|${e.getAttribute("data-name")}`,
      ),
    ).toEqual([
      "exp/train|perclass",
      "exp/validation|perclass",
      "exp/train|aux",
      "exp/validation|aux",
    ]);
    await pickSeries({ run: "exp/validation", name: "aux" });
    expect(api.calls).toContain("confusion:exp/validation:aux:latest");
    expect($$("[data-role=classes] .pc-class-name").map((e) => e.textContent)).toEqual([
      "no",
      "yes",
    ]);
    expect($("[data-control=group] [aria-checked=true]")!.textContent).toMatch(/^aux · binary/);
    expect($("[data-role=title]")!.textContent).toContain("exp/validation · aux");
  });

  it("compares a matrix with any series of its class set, of another name too", async () => {
    const api = experimentApi("names");
    api.tagsData.exp2 = { train: info(), validation: info() };
    api.curvesData["exp2|validation"] = curves();
    api.curvesData["exp2|train"] = curves();
    api.confusionData.exp2 = () => confusionFixture();
    api.stepsData.exp = { confusion: pairsFixture().steps };
    api.stepsData.exp2 = { confusion: pairsFixture().steps };
    api.diffData.exp = diffFixture();
    const { app } = await mount(api);
    await openTab("confusion");
    await pickSeries(VALIDATION.names);
    app.setState({ diff: { on: true, baseSeries: null, baseStep: null } });
    await flush();
    const sel = $<HTMLSelectElement>("[data-control=compare-run]")!;
    expect([...sel.options].map((o) => o.textContent)).toEqual([
      "exp · train",
      "exp · validation (itself)",
      "exp2 · train",
      "exp2 · validation",
    ]);
    expect($("[data-role=compare-note]")).toBeNull();
    // the train series of the same run: another name, its steps and the diff ask for it
    sel.value = seriesKey("exp", "train");
    sel.dispatchEvent(new Event("change"));
    await flush();
    expect(api.calls).toContain("steps:exp:train:confusion");
    expect(api.calls).toContain("diff:exp:validation:7:exp:7:train");
    expect($("[data-role=changes]")!.closest("section, div")!.textContent).toContain(
      "exp · validation @ 7 vs exp · train @ 7",
    );
    expect($("[data-role=cm-message]")!.hidden).toBe(true);
    expect($("[data-role=cm-legend]")!.textContent).toContain(
      "Change: exp · validation @ 7 minus exp · train @ 7",
    );
  });
});

describe("malformed steps the plugin skipped", () => {
  it("shows them per series as text, and lets the user dismiss them", async () => {
    const validation = curves();
    validation.skipped = [{ step: 3, kind: "stats", reason: EVIL }];
    const api = experimentApi("names", curves(), validation);
    const { app } = await mount(api);
    const notice = () => $$("[data-role=skipped-notice]");
    expect(notice().length).toBe(1);
    expect(notice()[0].getAttribute("data-name")).toBe("validation");
    expect(notice()[0].textContent).toContain(
      `Skipped malformed data of exp · validation: stats at step 3 (${EVIL})`,
    );
    expect(document.querySelector("img")).toBeNull();
    // an answer of a per-step route adds its own
    api.confusionData["exp|validation"] = () => ({
      ...confusionFixture(),
      skipped: [{ step: 5, kind: "confusion", reason: "cells out of range" }],
    });
    await openTab("confusion");
    expect(notice()[0].textContent).toContain("confusion at step 5 (cells out of range)");
    notice()[0].querySelector<HTMLElement>("[data-role=dismiss-skipped]")!.click();
    expect(notice().length).toBe(0);
    // the same steps again: still dismissed; a new one: back
    await app.refresh();
    expect(notice().length).toBe(0);
    api.curvesData["exp|validation"].skipped = [{ step: 4, kind: "stats", reason: "dtype string" }];
    await app.refresh();
    expect(notice().length).toBe(1);
    expect(notice()[0].textContent).toContain("stats at step 4 (dtype string)");
    expect(notice()[0].textContent).not.toContain("step 3");
    // another series shown: its own notices only
    await pickSeries(TRAIN.names);
    expect(notice().length).toBe(0);
  });
});
