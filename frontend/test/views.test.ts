// DOM tests of the Confusion, Report and class-by-step heatmap views inside the app, against
// the route fixtures (happy-dom has no canvas: layout, hit-testing, text and state are tested;
// the pixels are tested in heatmap.test.ts and in the browser tests).
import { Grid } from "../src/data/grid";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../src/app/app";
import { STORAGE_KEY } from "../src/state/saved-state";
import { parseConfusion, parseReport } from "../src/data/answers";
import { decodeLink, encodeLink, LINK_KEY, parseHash } from "../src/state/url-state";
import { defaultState } from "../src/state/view-state";
import type { ConfusionView } from "../src/confusion/confusion-view";
import type { ClassHeatmapView } from "../src/class-heatmap/class-heatmap-view";
import type { ConfusionData, PairsResponse, ReportResponse } from "../src/data/types";
import {
  confusionApi,
  FakeApi,
  FakeWindow,
  fixture,
  flush,
  MemoryStorage,
  synthConfusion,
  synthCurves,
  trainCurves,
  startApp,
} from "./helpers";

const EVIL = "<img src=x onerror=alert(1)>";
let apps: App[] = [];

async function mount(
  api: FakeApi = confusionApi(),
  storage = new MemoryStorage(),
  linkWindow: FakeWindow | null = null,
) {
  const { app, chart } = await startApp(apps, api, storage, linkWindow);
  return { app, api, storage, chart };
}

const $ = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];
const cmView = (app: App) =>
  (app as unknown as { views: { confusion: ConfusionView } }).views.confusion;
const heatView = (app: App) =>
  (app as unknown as { views: { heatmap: ClassHeatmapView } }).views.heatmap;

async function openTab(id: string) {
  $(`[data-role=view-tab][data-value=${id}]`)!.click();
  await flush();
}

function select(sel: string, value: string) {
  const s = $<HTMLSelectElement>(sel)!;
  s.value = value;
  s.dispatchEvent(new Event("change"));
}

beforeEach(() => document.body.replaceChildren());
afterEach(() => {
  apps.forEach((a) => a.stop());
  apps = [];
});

describe("the Confusion view", () => {
  it("loads the latest matrix of the validation run, lists the most-confused pairs, hovers a cell", async () => {
    const { app, api } = await mount();
    expect($("[data-role=view-tab][data-value=confusion]")!.hasAttribute("disabled")).toBe(false);
    await openTab("confusion");
    expect(api.calls).toContain("confusion:validation:perclass:latest");
    expect(api.calls).toContain("pairs:validation:perclass:7:20");
    // the run is chosen with radio buttons in the sidebar
    expect($<HTMLInputElement>("[data-run-choice=validation]")!.checked).toBe(true);
    expect($("[data-role=heat]")!.getAttribute("data-rows")).toBe("0,4");
    expect($("[data-role=cm-step-label]")!.textContent).toBe("7 of 0–7");
    const pairs = $$("[data-role=pairs] [data-role=pair]");
    expect(pairs[0].textContent).toContain("cat");
    expect(pairs[0].textContent).toContain("dog");
    expect(pairs[0].querySelector(".pc-pair-count")!.textContent).toBe("4");
    expect(pairs[0].querySelector("svg polyline")).not.toBeNull();
    cmView(app).hoverClasses(0, 1);
    const tip = $("[data-role=cm-tooltip]")!;
    expect(tip.hidden).toBe(false);
    expect($("[data-role=tooltip-true]")!.textContent).toBe("cat");
    expect($("[data-role=tooltip-pred]")!.textContent).toBe("dog");
    expect($("[data-role=tooltip-count]")!.textContent).toContain("4");
    expect($("[data-role=tooltip-row-share]")!.textContent).toBe("Of row40.0% of 10 true");
    expect($("[data-role=tooltip-col-share]")!.textContent).toBe("Of column28.6% of 14 predicted");
    expect(app.state.view).toBe("confusion");
  });

  it("moves through steps with the slider, and shows the server's message for a missing step", async () => {
    const { app, api } = await mount();
    await openTab("confusion");
    const range = $<HTMLInputElement>("[data-control=cm-step]")!;
    range.value = "3";
    range.dispatchEvent(new Event("input"));
    await flush();
    expect(api.calls).toContain("confusion:validation:perclass:3");
    expect(app.state.step).toBe(3);
    expect($("[data-role=cm-step-label]")!.textContent).toBe("3 of 0–7");
    expect($("[data-role=heat]")!.style.visibility).toBe("");
    app.setState({ step: 5 });
    await flush();
    const msg = $("[data-role=cm-message]")!;
    expect(msg.hidden).toBe(false);
    expect(msg.textContent).toContain(
      "step 5 not found: this run has confusion matrices at steps 0 to 7",
    );
    expect($("[data-role=heat]")!.style.visibility).toBe("hidden");
    $("[data-role=cm-message-action]")!.click();
    await flush();
    expect(app.state.step).toBeNull();
    expect($("[data-role=cm-message]")!.hidden).toBe(true);
  });

  it("normalises by row or column (the CSV carries what is shown)", async () => {
    const { app } = await mount();
    await openTab("confusion");
    expect(cmView(app).csvText()!.split("\r\n")[1]).toBe("cat,6,4,0,0");
    $("[data-control=normalization] [data-value=row]")!.click();
    await flush();
    expect(app.state.norm).toBe("row");
    expect(cmView(app).csvText()!.split("\r\n")[1]).toBe(
      "cat,0.6000000238418579,0.4000000059604645,0,0",
    );
    $("[data-control=normalization] [data-value=col]")!.click();
    await flush();
    const col = cmView(app).csvText()!.split("\r\n")[1].split(",").map(Number);
    expect(col[1]).toBeCloseTo(6 / 7, 6);
    expect($("[data-role=cm-legend]")!.textContent).toContain("Share of the predicted class");
  });

  it("reorders classes: by name, by error, clustered (from the server)", async () => {
    const { app, api } = await mount();
    await openTab("confusion");
    const firstColumn = () =>
      cmView(app)
        .csvText()!
        .trim()
        .split("\r\n")
        .slice(1)
        .map((l) => l.split(",")[0]);
    select("[data-control=order]", "name");
    await flush();
    expect(firstColumn()).toEqual(["bird", "cat", "dog", "fish"]);
    select("[data-control=order]", "error");
    await flush();
    expect(firstColumn()[0]).toBe("cat"); // 40% wrong
    select("[data-control=order]", "cluster");
    await flush();
    expect(api.calls).toContain("order:validation:perclass:7:cluster");
    expect(firstColumn()).toEqual(["dog", "cat", "fish", "bird"]);
  });

  it("disables the clustered order with the server's reason when it cannot cluster", async () => {
    const api = confusionApi();
    api.fail.set(
      "order",
      "Invalid argument: the clustered order needs SciPy, which is not installed on the TensorBoard server",
    );
    await mount(api);
    await openTab("confusion");
    const opt = $<HTMLOptionElement>("[data-control=order] option[value=cluster]")!;
    expect(opt.disabled).toBe(true);
    expect(opt.title).toContain("needs SciPy");
    expect($("[data-role=order-hint]")!.textContent).toContain("needs SciPy");
  });

  it("compares two steps: diverging picture, biggest changes, before/after in the tooltip", async () => {
    const { app, api } = await mount();
    await openTab("confusion");
    $<HTMLInputElement>("[data-control=compare]")!.click();
    await flush();
    expect(api.calls).toContain("diff:validation:perclass:7:validation:0");
    const changes = $$("[data-role=changes] [data-role=change]");
    expect(changes.length).toBeGreaterThan(0);
    expect(changes[0].textContent).toMatch(/→.*\+\d/);
    expect($("[data-role=cm-legend]")!.textContent).toContain(
      "better (more correct, fewer mistakes)",
    );
    // each change says whether it is better or worse: more on the diagonal, fewer off it
    for (const row of changes) {
      const delta = row.querySelector<HTMLElement>(".pc-delta")!;
      const gain = delta.textContent!.startsWith("+");
      const onDiagonal = row.dataset.true === row.dataset.pred;
      const better = onDiagonal ? gain : !gain;
      expect(delta.className).toContain(better ? "pc-better" : "pc-worse");
      expect(delta.title).toMatch(better ? /better$/ : /worse$/);
    }
    cmView(app).hoverClasses(3, 3);
    expect($("[data-role=tooltip-delta]")!.textContent).toContain("since validation @ 0");
    // the normalisations do not apply to a diff of counts
    expect($<HTMLButtonElement>("[data-control=normalization] [data-value=row]")!.disabled).toBe(
      true,
    );
    expect($<HTMLSelectElement>("[data-control=compare-step]")!.value).toBe("0");
  });

  it("compares with another run at the same step by default, listed by the steps route", async () => {
    const { api } = await mount();
    await openTab("confusion");
    $<HTMLInputElement>("[data-control=compare]")!.click();
    await flush();
    // picking the other run keeps no step of this one: both at step 7, the shown step
    const run = $<HTMLSelectElement>("[data-control=compare-run]")!;
    run.value = "train";
    run.dispatchEvent(new Event("change"));
    await flush();
    expect(api.calls).toContain("steps:train:perclass:confusion");
    expect(api.calls.some((c) => c.startsWith("pairs:train:"))).toBe(false);
    expect(api.calls).toContain("diff:validation:perclass:7:train:7");
    expect(api.calls).not.toContain("diff:validation:perclass:7:train:0");
    const step = $<HTMLSelectElement>("[data-control=compare-step]")!;
    expect([...step.options].map((o) => o.value)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    expect(step.value).toBe("7");
    // a step picked by hand stays
    step.value = "2";
    step.dispatchEvent(new Event("change"));
    await flush();
    expect(api.calls).toContain("diff:validation:perclass:7:train:2");
  });

  it("shows the server's refusal of a diff, never a picture", async () => {
    const api = confusionApi();
    api.fail.set(
      "diff",
      "Invalid argument: runs 'validation' and 'other' have different classes; a diff needs the same classes in the same order",
    );
    const { app } = await mount(api);
    await openTab("confusion");
    app.setState({ diff: { on: true, baseSeries: "train", baseStep: 0 } });
    await flush();
    const msg = $("[data-role=cm-message]")!;
    expect(msg.hidden).toBe(false);
    expect(msg.textContent).toContain(
      "Cannot compare: Invalid argument: runs 'validation' and 'other' have different classes",
    );
    expect($("[data-role=heat]")!.style.visibility).toBe("hidden");
    expect($$("[data-role=change]").length).toBe(0);
  });

  it("finds a class: highlight, its top confusions, zoom at 1000 classes", async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `class_${String(i).padStart(4, "0")}`);
    const info = {
      kinds: ["stats", "confusion"],
      task: "multiclass",
      class_names: names,
      num_classes: 1000,
      loss: "",
    };
    const api = new FakeApi({ big: { perclass: info } }, { big: synthCurves(1000, 3, names) });
    api.confusionData = { big: synthConfusion(1000, 2, [0, 1, 2], names) };
    api.pairsData = {
      big: {
        step: 2,
        steps: [0, 1, 2],
        history_steps: [0, 1, 2],
        pairs: [{ true: 0, pred: 1, count: 9, history: [1, 5, 9] }],
      },
    };
    api.orderData = { big: Array.from({ length: 1000 }, (_, i) => 999 - i) };
    const { app } = await mount(api);
    await openTab("confusion");
    expect($("[data-role=heat]")!.getAttribute("data-rows")).toBe("0,1000");
    expect($("[data-role=heat]")!.getAttribute("data-labels")).toBe("off");
    const find = $<HTMLInputElement>("[data-control=class-find]")!;
    find.value = "0500";
    find.dispatchEvent(new Event("input"));
    expect(
      $$("[data-role=class-find-list] [data-class-index]").map(
        (e) => e.querySelector(".pc-finder-name")!.textContent,
      ),
    ).toEqual(["class_0500"]);
    find.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await flush();
    expect(app.state.focus).toBe("class_0500");
    expect(app.state.cmZoom).toEqual({ r0: 490, r1: 511, c0: 490, c1: 511 });
    expect($("[data-role=heat]")!.getAttribute("data-rows")).toBe("490,511");
    expect($("[data-role=focus-name]")!.textContent).toBe("class_0500");
    expect($("[data-role=focus]")!.textContent).toContain("Predicted as");
    expect($("[data-role=zoom-info]")!.textContent).toBe("rows 491–511, columns 491–511 of 1000");
    // a click on a pair zooms to its cell
    $("[data-role=pair]")!.click();
    await flush();
    expect(app.state.cmZoom).toEqual({ r0: 0, r1: 21, c0: 0, c1: 21 });
    $("[data-role=zoom-reset]")!.click();
    expect(app.state.cmZoom).toBeNull();
  });

  it("only classes ticked on the left are in the matrix", async () => {
    const { app } = await mount();
    await openTab("confusion");
    const row = $("[data-class=dog] input") as HTMLInputElement;
    row.checked = false;
    row.dispatchEvent(new Event("change"));
    await flush();
    expect($("[data-role=heat]")!.getAttribute("data-rows")).toBe("0,3");
    expect(cmView(app).csvText()!.split("\r\n")[0]).toBe("true \\ predicted,cat,bird,fish");
  });

  it("shows a multilabel run as per-label 2x2 matrices in a sortable table", async () => {
    const ml = parseConfusion(fixture("confusion_multilabel.json"));
    const info = {
      kinds: ["stats", "confusion"],
      task: "multilabel",
      class_names: ml.class_names,
      num_classes: 3,
      loss: "",
    };
    const api = new FakeApi({ ml: { perclass: info } }, { ml: synthCurves(3, 3, ml.class_names) });
    api.confusionData = { ml };
    const { app } = await mount(api);
    await openTab("confusion");
    const rows = $$("[data-role=labels] tbody tr");
    expect(rows.map((r) => r.getAttribute("data-label"))).toEqual(["person", "car", "<b>tree</b>"]);
    expect(document.querySelector("[data-role=labels] b")).toBeNull();
    expect(rows[0].textContent).toContain("0.930"); // precision 40/43
    expect(rows[2].textContent).toContain("—"); // no positives: undefined, not 0
    expect(rows[0].querySelectorAll(".pc-mini-cell").length).toBe(4);
    $("[data-role=labels] th[data-sort=fn] button")!.click();
    await flush();
    expect(app.state.labelSort).toEqual({ key: "fn", desc: true });
    expect($$("[data-role=labels] tbody tr").map((r) => r.getAttribute("data-label"))).toEqual([
      "person",
      "car",
      "<b>tree</b>",
    ]);
    $("[data-role=labels] th[data-sort=precision] button")!.click();
    await flush();
    // ascending, undefined last
    expect($$("[data-role=labels] tbody tr").map((r) => r.getAttribute("data-label"))).toEqual([
      "person",
      "car",
      "<b>tree</b>",
    ]);
    expect($("[data-role=label-table]")!.hidden).toBe(false);
    expect($("[data-role=matrix]")!.hidden).toBe(true);
  });

  it("is disabled for runs without confusion matrices", async () => {
    const api = confusionApi();
    for (const r of Object.keys(api.tagsData)) api.tagsData[r].perclass.kinds = ["stats"];
    await mount(api);
    const tab = $<HTMLButtonElement>("[data-role=view-tab][data-value=confusion]")!;
    expect(tab.disabled).toBe(true);
    expect(tab.title).toContain("No run of this class set has confusion matrices");
  });
});

describe("hostile class names stay text", () => {
  it("in the pairs list, tooltip, finder, focus panel and report table", async () => {
    const api = confusionApi();
    const names = ["cat", EVIL, "bird", "<b>fish</b>"];
    for (const r of Object.keys(api.tagsData)) api.tagsData[r].perclass.class_names = names;
    const cm = api.confusionData.validation as (s: number | null) => ConfusionData;
    api.confusionData = { validation: (s) => ({ ...cm(s), class_names: names }) };
    api.pairsData = { validation: { ...(api.pairsData.validation as PairsResponse) } };
    api.reportData = {
      validation: { ...(api.reportData.validation as ReportResponse), class_names: names },
    };
    const { app } = await mount(api);
    await openTab("confusion");
    const pair = $("[data-role=pair]")!;
    expect(pair.textContent).toContain(EVIL);
    cmView(app).hoverClasses(0, 1);
    expect($("[data-role=tooltip-pred]")!.textContent).toBe(EVIL);
    const find = $<HTMLInputElement>("[data-control=class-find]")!;
    find.value = "img";
    find.dispatchEvent(new Event("input"));
    expect($("[data-role=class-find-list] .pc-finder-name")!.textContent).toBe(EVIL);
    find.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await flush();
    expect($("[data-role=focus-name]")!.textContent).toBe(EVIL);
    await openTab("report");
    expect($$("[data-role=report] tbody .pc-name-col").map((e) => e.textContent)).toContain(EVIL);
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("b")).toBeNull();
  });
});

describe("the Report view", () => {
  it("lists per-class metrics with averages, sorts by any column, links the CSV", async () => {
    const { app, api } = await mount();
    await openTab("report");
    expect(api.calls).toContain("report:validation:perclass:latest");
    const names = () => $$("[data-role=report] tbody tr").map((r) => r.getAttribute("data-class"));
    expect(names()).toEqual(["cat", "dog", "bird", "fish"]);
    expect($("[data-role=macro-row]")!.textContent).toContain("Macro average");
    expect($("[data-role=weighted-row]")!.textContent).toContain("Weighted average");
    expect($("[data-role=report-accuracy]")!.textContent).toBe("Accuracy0.875");
    // the fixture's loss of bird is undefined: a dash, and last whichever the direction
    expect($("[data-role=report] tr[data-class=bird]")!.textContent).toContain("—");
    $("[data-role=report] th[data-sort=loss] button")!.click();
    await flush();
    expect(app.state.reportSort).toEqual({ key: "loss", desc: true });
    expect(names()).toEqual(["cat", "dog", "fish", "bird"]);
    $("[data-role=report] th[data-sort=loss] button")!.click();
    await flush();
    expect(names()).toEqual(["fish", "dog", "cat", "bird"]);
    $("[data-role=report] th[data-sort=recall] button")!.click();
    await flush();
    expect(names()[0]).toBe("cat");
    expect($("[data-role=report] th[data-sort=recall]")!.getAttribute("aria-sort")).toBe(
      "ascending",
    );
    const csv = $<HTMLAnchorElement>("[data-role=report-csv]")!;
    expect(csv.getAttribute("href")).toBe("report?run=validation&name=perclass&step=7&format=csv");
    expect(csv.getAttribute("download")).toBe("report_validation_perclass_step7.csv");
  });

  it("counts a multilabel run's samples once and its labels' positives apart", async () => {
    const labels = ["even", "at least five", "round"];
    const info = {
      kinds: ["stats", "confusion"],
      task: "multilabel",
      class_names: labels,
      num_classes: 3,
      loss: "",
    };
    const api = new FakeApi({ ml: { perclass: info } }, { ml: synthCurves(3, 3, labels) });
    const raw = {
      ...(fixture("report_validation.json") as object),
      class_names: labels,
      support: [200, 224, 200],
      macro: { precision: 0.9, recall: 0.88, f1: 0.89, support: 624 },
      weighted: { precision: 0.9, recall: 0.88, f1: 0.89, support: 624 },
      accuracy: 0.891,
      samples: 450,
    };
    api.reportData = { ml: parseReport(raw) };
    await mount(api);
    await openTab("report");
    const text = (role: string) => $(`[data-role=${role}]`)!.textContent;
    expect(text("report-accuracy")).toBe("Label accuracy0.891");
    expect(text("report-support")).toBe("Samples450");
    expect(text("report-positives")).toBe("Positives624");
    expect($("[data-role=report] th[data-sort=support]")!.textContent).toContain("Positives");
  });

  it("shares the step with the matrix and shows route errors", async () => {
    const api = confusionApi();
    api.fail.set("report", "Not found: step 9 not found; steps 0 to 7 exist");
    const { app } = await mount(api);
    app.setState({ step: 3 });
    await openTab("report");
    expect(api.calls).toContain("report:validation:perclass:3");
    expect($("[data-role=report-message]")!.textContent).toContain("steps 0 to 7 exist");
  });
});

describe("the class-by-step heatmap", () => {
  function bigApi(n = 60) {
    const names = Array.from({ length: n }, (_, i) => `c${i}`);
    const info = {
      kinds: ["stats"],
      task: "multiclass",
      class_names: names,
      num_classes: n,
      loss: "cross_entropy",
    };
    const train = synthCurves(n, 10, names);
    const val = synthCurves(n, 10, names);
    // validation loses accuracy on class 7 only: the biggest train/validation gap
    val.accuracy = Grid.of(10, n, (s, c) => (c === 7 ? 0 : val.accuracy.at(s, c)));
    return new FakeApi(
      { "exp/train": { perclass: info }, "exp/validation": { perclass: info } },
      { "exp/train": train, "exp/validation": val },
    );
  }

  it("is the default above 50 classes, one row per class, sortable by the train/validation gap", async () => {
    const { app } = await mount(bigApi());
    expect($("[data-view=heatmap]")).not.toBeNull();
    expect(
      $("[data-control=curves-mode] [data-value=heatmap]")!.classList.contains("pc-active"),
    ).toBe(true);
    expect($<HTMLInputElement>("[data-run-choice='exp/validation']")!.checked).toBe(true);
    expect($("[data-role=heat]")!.getAttribute("data-rows")).toBe("0,60");
    expect($("[data-role=heat]")!.getAttribute("data-cols")).toBe("0,10");
    $("[data-control=metric] [data-value=accuracy]")!.click();
    await flush();
    expect($<HTMLOptionElement>("[data-control=heat-sort] option[value=gap]")!.disabled).toBe(
      false,
    );
    select("[data-control=heat-sort]", "gap");
    await flush();
    expect(heatView(app).rowOrder[0]).toBe(7);
    heatView(app).hoverClass(7, 9);
    const tip = $("[data-role=heat-tooltip]")!;
    expect(tip.hidden).toBe(false);
    expect($("[data-role=heat-tooltip-class]")!.textContent).toBe("c7");
    expect(tip.textContent).toContain("exp/train"); // the counterpart's value at the same step
    // lines on request
    $("[data-control=curves-mode] [data-value=lines]")!.click();
    await flush();
    expect(app.state.curvesMode).toBe("lines");
    expect($("[data-view=curves]")).not.toBeNull();
  });

  it("says in its legend what a cell without a value is", async () => {
    const api = bigApi();
    const val = api.curvesData["exp/validation"];
    // class 3 had no samples at step 4: no loss there
    val.loss.set(4, 3, null);
    await mount(api);
    expect($("[data-role=heat-legend]")!.textContent).toContain(
      "no value (no samples at that step)",
    );
    const full = bigApi();
    document.body.replaceChildren();
    await mount(full);
    expect($("[data-role=heat-legend]")!.textContent).not.toContain("no value");
  });

  it("sorts by final value worst first, reversible", async () => {
    const { app } = await mount(bigApi());
    // loss of class c at step s = (c + 1) / (s + 1): the highest final loss is the last class
    expect(heatView(app).rowOrder[0]).toBe(59);
    $("[data-control=heat-sort-dir]")!.click();
    await flush();
    expect(heatView(app).rowOrder[0]).toBe(0);
    expect(app.state.heatSort).toEqual({ key: "final", reverse: true });
  });
});

describe("precision, recall and F1 in the curves view", () => {
  it("are offered when a run has tp/fp/fn", async () => {
    const { chart } = await mount();
    const recall = $<HTMLButtonElement>("[data-control=metric] [data-value=recall]")!;
    expect(recall.disabled).toBe(false);
    recall.click();
    await flush();
    const opts = chart.charts[chart.charts.length - 1];
    expect(opts.yLabel).toBe("Recall");
    // validation has a step without a matrix: a gap, not a zero
    const line = opts.model.lines.find((l) => l.run === "validation" && l.label === "cat")!;
    expect(line.raw.at(1)).toBeNull();
  });

  it("are disabled without them", async () => {
    const api = new FakeApi(confusionApi().tagsData, {
      train: trainCurves(),
      validation: trainCurves(),
    });
    await mount(api);
    expect($<HTMLButtonElement>("[data-control=metric] [data-value=f1]")!.disabled).toBe(true);
  });
});

describe("view state", () => {
  it("survives a reload (localStorage): view, step, normalisation, zoom, focus, sort", async () => {
    const storage = new MemoryStorage();
    const first = await mount(confusionApi(), storage);
    await openTab("confusion");
    first.app.setState({
      step: 3,
      norm: "row",
      order: "name",
      cmZoom: { r0: 1, r1: 3, c0: 0, c1: 2 },
      focus: "dog",
      reportSort: { key: "f1", desc: true },
    });
    await flush();
    first.app.stop();
    document.body.replaceChildren();
    const second = await mount(confusionApi(), storage);
    expect(second.app.state).toMatchObject({
      view: "confusion",
      step: 3,
      norm: "row",
      order: "name",
      focus: "dog",
    });
    expect(second.api.calls).toContain("confusion:validation:perclass:3");
    expect($("[data-role=heat]")!.getAttribute("data-rows")).toBe("1,3");
    expect($("[data-role=focus-name]")!.textContent).toBe("dog");
    expect(JSON.parse(storage.getItem(STORAGE_KEY)!).reportSort).toEqual({ key: "f1", desc: true });
  });

  it("goes into TensorBoard's URL, and a link opens the same view", async () => {
    const win = new FakeWindow();
    win.location.hash = "#perclass&_smoothingWeight=0.6";
    const first = await mount(confusionApi(), new MemoryStorage(), win);
    await openTab("confusion");
    first.app.setState({ step: 3, norm: "col" });
    const { tab, params } = parseHash(win.location.hash);
    expect(tab).toBe("perclass");
    expect(params.get("_smoothingWeight")).toBe("0.6");
    const linked = decodeLink(params.get(LINK_KEY)!, defaultState())!;
    expect(linked).toMatchObject({ view: "confusion", step: 3, norm: "col" });
    first.app.stop();
    document.body.replaceChildren();
    // another browser: empty storage, same link
    const win2 = new FakeWindow();
    win2.location.hash = win.location.hash;
    const second = await mount(confusionApi(), new MemoryStorage(), win2);
    expect(second.app.state).toMatchObject({ view: "confusion", step: 3, norm: "col" });
    expect($("[data-role=view-tab][data-value=confusion]")!.classList.contains("pc-active")).toBe(
      true,
    );
    // a link pasted into the open tab applies at once
    const s = defaultState();
    s.view = "report";
    win2.navigate(`#perclass&pcv=${encodeLink(s)}`);
    await flush();
    expect(second.app.state.view).toBe("report");
    expect($("[data-view=report]")).not.toBeNull();
  });
});
