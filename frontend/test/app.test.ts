import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../src/app/app";
import { EMPTY_SNIPPET } from "../src/app/empty-state";
import { STORAGE_KEY } from "../src/state/saved-state";
import { CurvesView } from "../src/curves/curves-view";
import { defaultApi, FakeApi, fakeChart, flush, MemoryStorage, synthCurves } from "./helpers";

let apps: App[] = [];

async function mount(api = defaultApi(), storage = new MemoryStorage(), refreshMs = 3_600_000) {
  const chart = fakeChart();
  const app = new App(document.body, { api, storage, chartFactory: chart.factory, refreshMs });
  apps.push(app);
  await app.start();
  await flush();
  flushView(app);
  return { app, api, storage, chart };
}

/** Draws the pending chart now (the view coalesces redraws into animation frames). */
function flushView(app: App): void {
  const view = (app as unknown as { view: { flush?: () => void } }).view;
  view.flush?.();
}

const $ = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];

beforeEach(() => {
  document.body.replaceChildren();
});
afterEach(() => {
  apps.forEach((a) => a.stop());
  apps = [];
});

describe("the Per-Class tab", () => {
  it("lists runs and classes as text and draws one line per run and class plus means", async () => {
    const { chart, api } = await mount();
    expect(api.calls).toEqual(["tags", "curves:train:perclass", "curves:validation:perclass"]);
    expect($$("[data-role=runs] .pc-run-name").map((e) => e.textContent)).toEqual([
      "train",
      "validation",
    ]);
    expect($$("[data-role=classes] .pc-class-name").map((e) => e.textContent)).toEqual([
      "cat",
      "dog",
      "bird",
      "fish",
    ]);
    const opts = chart.charts[chart.charts.length - 1];
    expect(opts.model.lines.filter((l) => l.kind === "class").length).toBe(8);
    expect(opts.model.lines.filter((l) => l.kind === "mean").length).toBe(2);
    expect(opts.yLabel).toBe("Loss (cross_entropy)");
    expect($("[data-role=status]")!.textContent).toMatch(/Last loaded \d\d:\d\d:\d\d/);
  });

  it("never interprets a class, run or tag name as HTML", async () => {
    const evil = "<img src=x onerror=alert(1)>";
    const runEvil = "<b>run</b>";
    const tagEvil = "<script>x</script>";
    const c = synthCurves(3, 4, ["cat", evil, "dog"]);
    c.nonfinite.set(1, 1, 2);
    const info = {
      kinds: ["stats"],
      task: "multiclass",
      class_names: ["cat", evil, "dog"],
      num_classes: 3,
      loss: "<i>ce</i>",
    };
    const api = new FakeApi({ [runEvil]: { [tagEvil]: info, perclass: info } }, { [runEvil]: c });
    const { app, chart } = await mount(api);
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("b")).toBeNull();
    expect(document.querySelector("i")).toBeNull();
    expect(document.querySelectorAll("script").length).toBe(0);
    const names = $$("[data-role=classes] .pc-class-name").map((e) => e.textContent);
    expect(names).toContain(evil);
    expect(document.body.textContent).toContain(evil);
    // both names have the same classes: two series of one run, labelled as text
    expect($$("[data-role=runs] .pc-run-name").map((e) => e.textContent)).toEqual([
      runEvil,
      `${runEvil} · ${tagEvil}`,
    ]);
    expect(api.calls).toContain(`curves:${runEvil}:${tagEvil}`);
    // the tooltip too
    const opts = chart.charts[chart.charts.length - 1];
    const li = opts.model.lines.findIndex((l) => l.label === evil);
    const view = (app as unknown as { view: CurvesView }).view;
    view.onHover({ line: li, index: 1, left: 10, top: 10 });
    const tip = $("[data-role=tooltip]")!;
    expect(tip.hidden).toBe(false);
    expect($("[data-role=tooltip-class]")!.textContent).toContain(evil);
    expect(tip.querySelector("img")).toBeNull();
    expect(document.querySelector("img")).toBeNull();
  });

  it("shows how to log data when there is none", async () => {
    const { chart } = await mount(new FakeApi({}, {}));
    const empty = $("[data-role=empty-state]")!;
    expect(empty).not.toBeNull();
    expect(empty.textContent).toContain("No per-class data");
    const code = [...empty.querySelectorAll("pre")].map((p) => p.textContent);
    expect(code[0]).toBe(EMPTY_SNIPPET);
    expect(code[0]).toContain("from tb_perclass import PerClassWriter");
    expect(code[0]).toContain('PerClassWriter("runs/exp1/train", class_names=CLASSES)');
    expect(code[0]).toContain("pc.update(logits, y)");
    expect(code[0]).toContain("pc.write(step=epoch)");
    expect(code[1]).toBe("tensorboard --logdir runs");
    expect($("[data-role=sidebar]")!.hidden).toBe(true);
    expect(chart.charts.length).toBe(0);
  });

  it("shows a route's error message instead of crashing", async () => {
    const api = defaultApi();
    api.fail.set("validation", "Not found: no per-class stats data for run 'validation'");
    const { chart } = await mount(api);
    expect($("[data-role=notices]")!.textContent).toContain(
      "no per-class stats data for run 'validation'",
    );
    // the other run still plots
    expect(chart.charts[chart.charts.length - 1].model.lines.some((l) => l.run === "train")).toBe(
      true,
    );
  });

  it("shows the tags error and keeps going", async () => {
    const api = defaultApi();
    api.fail.set("tags", "Invalid argument: boom");
    const { app } = await mount(api);
    expect($("[data-role=notices]")!.textContent).toContain("Invalid argument: boom");
    api.fail.delete("tags");
    await app.refresh();
    expect($("[data-role=notices]")!.textContent).not.toContain("boom");
    expect($$("[data-role=classes] .pc-class").length).toBe(4);
  });

  it("filters the class list by substring and selects only the matches", async () => {
    const { app, chart } = await mount();
    const search = $<HTMLInputElement>("[data-control=class-search]")!;
    search.value = "IR";
    search.dispatchEvent(new Event("input"));
    expect($$("[data-role=classes] .pc-class-name").map((e) => e.textContent)).toEqual(["bird"]);
    $("[data-role=select-filtered]")!.click();
    flushView(app);
    const lines = chart.charts[chart.charts.length - 1].model.lines.filter(
      (l) => l.kind === "class",
    );
    expect(new Set(lines.map((l) => l.label))).toEqual(new Set(["bird"]));
    expect($("[data-role=class-count]")!.textContent).toContain("1 of 4 shown");
  });

  it("select none shows a message, select all brings the lines back", async () => {
    const { app, chart } = await mount();
    $("[data-role=select-none]")!.click();
    flushView(app);
    expect($("[data-role=message]")!.textContent).toContain("No class selected");
    $("[data-role=select-all]")!.click();
    flushView(app);
    expect(
      chart.charts[chart.charts.length - 1].model.lines.filter((l) => l.kind === "class").length,
    ).toBe(8);
  });

  it("unticking a class checkbox removes its lines", async () => {
    const { app, chart } = await mount();
    const row = $("[data-class=dog] input") as HTMLInputElement;
    row.checked = false;
    row.dispatchEvent(new Event("change"));
    flushView(app);
    const labels = chart.charts[chart.charts.length - 1].model.lines.map((l) => l.label);
    expect(labels).not.toContain("dog");
    expect(labels).toContain("cat");
  });

  it("flags classes with non-finite losses in the list, a notice and the tooltip", async () => {
    const { app, chart } = await mount();
    const bird = $("[data-class=bird]")!;
    expect(bird.querySelector(".pc-badge")).not.toBeNull();
    expect($("[data-class=cat] .pc-badge")).toBeNull();
    expect($("[data-role=nonfinite-notice]")!.textContent).toMatch(/1 class has non-finite/);
    const opts = chart.charts[chart.charts.length - 1];
    const li = opts.model.lines.findIndex((l) => l.label === "bird" && l.run === "train");
    (app as unknown as { view: CurvesView }).view.onHover({ line: li, index: 3, left: 5, top: 5 });
    const tip = $("[data-role=tooltip]")!.textContent!;
    expect(tip).toContain("bird");
    expect(tip).toContain("train");
    expect(tip).toContain("Step 3");
    expect(tip).toMatch(/non-finite loss(es)? at this step/);
  });

  it("the tooltip shows class, run, step and value", async () => {
    const { app, chart } = await mount();
    const opts = chart.charts[chart.charts.length - 1];
    const li = opts.model.lines.findIndex((l) => l.label === "dog" && l.run === "validation");
    (app as unknown as { view: CurvesView }).view.onHover({ line: li, index: 2, left: 5, top: 5 });
    const tip = $("[data-role=tooltip]")!;
    expect($("[data-role=tooltip-class]")!.textContent).toBe("dog");
    expect(tip.textContent).toContain("validation");
    expect(tip.textContent).toContain("Step 2");
    expect($("[data-role=tooltip-value]")!.textContent).toMatch(/^Loss: 0\.607/);
    // the same class in the other run, at the same step
    const other = $("[data-role=tooltip-other]")!.textContent!;
    expect(other).toContain("train");
    expect(other).toContain("0.6711");
    (app as unknown as { view: CurvesView }).view.onHover(null);
    expect(tip.hidden).toBe(true);
  });

  it("highlights the worst N classes, over the runs shown or in one run", async () => {
    const { app, chart } = await mount();
    const n = $<HTMLInputElement>("[data-control=worst-n]")!;
    expect(n.value).toBe("0"); // automatic: off at 4 classes
    n.value = "1";
    n.dispatchEvent(new Event("change"));
    flushView(app);
    // ranked by the mean of the runs shown, unless one is picked
    const rank = $<HTMLSelectElement>("[data-control=rank-run]")!;
    expect([...rank.options].map((o) => [o.value, o.textContent])).toEqual([
      ["", "mean of the runs shown"],
      ["train", "in train"],
      ["validation", "in validation"],
    ]);
    expect(rank.value).toBe("");
    expect($("[data-role=legend-worst]")!.textContent).toMatch(
      /^Worst 1 by latest loss, mean of the 2 runs shown:/,
    );
    expect($("[data-role=class-value-heading]")!.textContent).toBe(
      "latest loss, mean of the 2 runs shown",
    );
    rank.value = "validation";
    rank.dispatchEvent(new Event("change"));
    flushView(app);
    // cat has the highest latest validation loss
    expect($("[data-role=legend-worst]")!.textContent).toMatch(
      /^Worst 1 by latest loss in validation:/,
    );
    const worst = $$("[data-role=worst]").map((e) => e.textContent);
    expect(worst.length).toBe(1);
    expect(worst[0]).toContain("cat");
    const lines = chart.charts[chart.charts.length - 1].model.lines.filter(
      (l) => l.kind === "class",
    );
    expect(lines.filter((l) => l.highlighted).map((l) => l.label)).toEqual(["cat", "cat"]);
    expect(lines.filter((l) => l.grey).length).toBe(6);
    expect($("[data-class=cat] .pc-rank")!.textContent).toBe("#1");
  });

  it("switches metric, log scale, smoothing and x axis", async () => {
    const { app, chart } = await mount();
    const last = () => chart.charts[chart.charts.length - 1];
    $<HTMLButtonElement>("[data-control=metric] [data-value=accuracy]")!.click();
    flushView(app);
    expect(last().yLabel).toBe("Accuracy");
    expect($<HTMLInputElement>("[data-control=log-scale]")!.disabled).toBe(true);
    $<HTMLButtonElement>("[data-control=metric] [data-value=loss]")!.click();
    const log = $<HTMLInputElement>("[data-control=log-scale]")!;
    log.checked = true;
    log.dispatchEvent(new Event("change"));
    flushView(app);
    expect(last().logScale).toBe(true);
    const sm = $<HTMLInputElement>("[data-control=smoothing]")!;
    sm.value = "0.6";
    sm.dispatchEvent(new Event("input"));
    flushView(app);
    expect(last().yLabel).toContain("smoothed");
    $<HTMLButtonElement>("[data-control=x-axis] [data-value=relative]")!.click();
    flushView(app);
    expect(last().model.xLabel).toMatch(/Relative time/);
  });

  it("persists the view state and restores it on reload", async () => {
    const storage = new MemoryStorage();
    const first = await mount(defaultApi(), storage);
    $<HTMLButtonElement>("[data-control=metric] [data-value=accuracy]")!.click();
    const box = $("[data-run=validation]") as HTMLInputElement;
    box.checked = false;
    box.dispatchEvent(new Event("change"));
    first.app.state.zoom = [1, 5];
    first.app.setState({ zoom: [1, 5] }, { rerender: false });
    expect(JSON.parse(storage.getItem(STORAGE_KEY)!).metric).toBe("accuracy");
    first.app.stop();
    document.body.replaceChildren();

    const second = await mount(defaultApi(), storage);
    expect(second.app.state.metric).toBe("accuracy");
    expect(second.app.state.deselectedSeries).toEqual(["validation"]);
    expect(second.api.calls).toEqual(["tags", "curves:train:perclass"]);
    const opts = second.chart.charts[second.chart.charts.length - 1];
    expect(opts.zoom).toEqual([1, 5]);
    expect(opts.model.lines.every((l) => l.run === "train")).toBe(true);
  });

  it("a refresh picks up new steps and keeps the view state", async () => {
    const api = new FakeApi(
      {
        train: {
          perclass: {
            kinds: ["stats"],
            task: "multiclass",
            class_names: ["a", "b"],
            num_classes: 2,
            loss: "",
          },
        },
      },
      { train: synthCurves(2, 3, ["a", "b"]) },
    );
    const { app, chart } = await mount(api);
    const row = $("[data-class=b] input") as HTMLInputElement;
    row.checked = false;
    row.dispatchEvent(new Event("change"));
    api.curvesData.train = synthCurves(2, 6, ["a", "b"]);
    $("[data-role=reload]")!.click();
    await flush();
    flushView(app);
    const opts = chart.charts[chart.charts.length - 1];
    expect(opts.model.xs.length).toBe(6);
    expect(opts.model.lines.filter((l) => l.kind === "class").map((l) => l.label)).toEqual(["a"]);
    expect(($("[data-class=b] input") as HTMLInputElement).checked).toBe(false);
  });

  it("offers a class set selector when a model logs heads with other classes", async () => {
    const info = (names: string[]) => ({
      kinds: ["stats"],
      task: "multiclass",
      class_names: names,
      num_classes: names.length,
      loss: "",
    });
    const api = new FakeApi(
      { train: { perclass: info(["a", "b"]), head2: info(["x", "y", "z"]) } },
      {
        "train|perclass": synthCurves(2, 3, ["a", "b"]),
        "train|head2": synthCurves(3, 3, ["x", "y", "z"]),
      },
    );
    await mount(api);
    expect($("[data-role=groups]")!.hidden).toBe(false);
    // the default first: the most classes, head2
    expect($$("[data-role=group-option]").map((o) => o.textContent)).toEqual([
      "head2 · 3 classes1",
      "2 classes1",
    ]);
    // the most classes first by default: head2
    expect($$("[data-role=classes] .pc-class-name").map((e) => e.textContent)).toEqual([
      "x",
      "y",
      "z",
    ]);
    expect(api.calls).toContain("curves:train:head2");
    expect(api.calls).not.toContain("curves:train:perclass");
    $$("[data-role=group-option]")[1].click();
    await flush();
    expect($$("[data-role=classes] .pc-class-name").map((e) => e.textContent)).toEqual(["a", "b"]);
    expect(api.calls).toContain("curves:train:perclass");
    expect($$("[data-role=runs] .pc-run-name").map((e) => e.textContent)).toEqual(["train"]);
  });

  it("stays usable with 100 classes as lines: worst 5 highlighted by default, the rest grey", async () => {
    const names = Array.from({ length: 100 }, (_, i) => `class_${i}`);
    const info = {
      kinds: ["stats"],
      task: "multiclass",
      class_names: names,
      num_classes: 100,
      loss: "cross_entropy",
    };
    const api = new FakeApi(
      { "exp/train": { perclass: info }, "exp/validation": { perclass: info } },
      { "exp/train": synthCurves(100, 20, names), "exp/validation": synthCurves(100, 20, names) },
    );
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, JSON.stringify({ curvesMode: "lines" }));
    const { chart } = await mount(api, storage);
    expect($$("[data-role=classes] .pc-class").length).toBe(100);
    const lines = chart.charts[chart.charts.length - 1].model.lines.filter(
      (l) => l.kind === "class",
    );
    expect(lines.length).toBe(200);
    expect(lines.filter((l) => l.highlighted).length).toBe(10);
    expect(new Set(lines.filter((l) => l.highlighted).map((l) => l.label))).toEqual(
      new Set(["class_99", "class_98", "class_97", "class_96", "class_95"]),
    );
  });

  it("refreshes itself periodically unless paused", async () => {
    const api = defaultApi();
    const { app } = await mount(api, new MemoryStorage(), 20);
    await new Promise((r) => setTimeout(r, 90));
    const tagsCalls = () => api.calls.filter((c) => c === "tags").length;
    expect(tagsCalls()).toBeGreaterThanOrEqual(2);
    const box = $<HTMLInputElement>("[data-role=auto-refresh]")!;
    box.checked = false;
    box.dispatchEvent(new Event("change"));
    expect(app.state.autoRefresh).toBe(false);
    await flush();
    const before = tagsCalls();
    await new Promise((r) => setTimeout(r, 90));
    expect(tagsCalls()).toBe(before);
  });

  it("keeps the chart when a refresh brings nothing new, redraws when new steps arrive", async () => {
    const { app, api, chart } = await mount();
    const created = chart.charts.length;
    await app.refresh();
    flushView(app);
    expect(chart.charts.length).toBe(created);
    const more = synthCurves(4, 12, ["cat", "dog", "bird", "fish"]);
    api.curvesData.train = more;
    await app.refresh();
    flushView(app);
    expect(chart.charts.length).toBe(created + 1);
    expect(chart.charts[chart.charts.length - 1].model.xs.length).toBe(12);
  });

  it("keeps 15 runs in view: compact rows, a filter, one-click picks, the settings folded", async () => {
    const names = ["a", "b", "c"];
    const info = {
      kinds: ["stats"],
      task: "multiclass",
      class_names: names,
      num_classes: 3,
      loss: "",
    };
    const runs: string[] = [];
    for (const exp of ["torch", "keras", "lr_0.1", "lr_0.01", "lr_0.001", "wd_1e-4", "wd_1e-3"])
      runs.push(`${exp}/train`, `${exp}/validation`);
    runs.push("single");
    const api = new FakeApi(
      Object.fromEntries(runs.map((r) => [r, { perclass: info }])),
      Object.fromEntries(runs.map((r) => [r, synthCurves(3, 4, names)])),
    );
    const storage = new MemoryStorage();
    const { app } = await mount(api, storage);
    expect($$("[data-role=runs] [data-series-row]").length).toBe(15);
    expect($<HTMLInputElement>("[data-control=series-search]")!.hidden).toBe(false);
    // a long list folds the settings so that the runs stay in view; a click opens them for good
    const toggle = $("[data-role=settings-toggle]")!;
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect(toggle.textContent).toBe("Settings");
    expect($("[data-role=settings]")!.closest<HTMLElement>(".pc-settings-body")!.hidden).toBe(true);
    toggle.click();
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(app.state.settingsOpen).toBe(true);
    // filter, then show only the matching runs in one click
    const search = $<HTMLInputElement>("[data-control=series-search]")!;
    search.value = "lr_0.0";
    search.dispatchEvent(new Event("input"));
    await flush();
    expect($$("[data-role=runs] .pc-run-name").map((e) => e.textContent)).toEqual([
      "lr_0.001/train",
      "lr_0.001/validation",
      "lr_0.01/train",
      "lr_0.01/validation",
    ]);
    expect($("[data-role=series-count]")!.textContent).toBe("15 of 15 shown · 4 match");
    $("[data-role=series-matching]")!.click();
    await flush();
    expect(app.state.deselectedSeries.length).toBe(11);
    expect(api.calls.filter((c) => c.startsWith("curves:")).length).toBe(15);
    // one split in one click
    $("[data-role=series-split-validation]")!.click();
    await flush();
    flushView(app);
    expect($("[data-role=series-count]")!.textContent).toBe("7 of 15 shown · 4 match");
    expect($$("[data-role=legend] .pc-legend-item[data-run]").map((e) => e.dataset.run)).toEqual(
      runs.filter((r) => r.endsWith("/validation")).sort(),
    );
  });

  it("says why a ticked series that keeps samples alone draws no lines", async () => {
    const names = ["a", "b"];
    const info = (kinds: string[]) => ({
      kinds,
      task: "multiclass",
      class_names: names,
      num_classes: 2,
      loss: "",
    });
    const api = new FakeApi(
      { "exp/train": { perclass: info(["stats"]) }, "exp/kept": { perclass: info(["samples"]) } },
      { "exp/train": synthCurves(2, 3, names) },
    );
    const { app } = await mount(api);
    const note = $("[data-role=samples-only-note]")!;
    expect(note.hidden).toBe(false);
    expect(note.textContent).toBe(
      "exp/kept keeps misclassified samples but no per-class stats, so no lines here: see the Confusion tab.",
    );
    expect($("[data-series-row] [data-role=samples-only]")!.textContent).toBe("samples");
    // alone, it says so instead of "no run selected"
    app.setState({ deselectedSeries: ["exp/train"] });
    await flush();
    flushView(app);
    expect($("[data-role=message]")!.textContent).toMatch(/^exp\/kept keeps misclassified samples/);
    app.setState({ deselectedSeries: ["exp/kept"] });
    await flush();
    flushView(app);
    expect(note.hidden).toBe(true);
  });

  it("fetches a series' curves again only when the tags give it a new version", async () => {
    const api = defaultApi();
    for (const byName of Object.values(api.tagsData))
      for (const info of Object.values(byName)) info.version = "12;1.5";
    const { app } = await mount(api);
    const curvesCalls = () => api.calls.filter((c) => c.startsWith("curves:")).length;
    const first = curvesCalls();
    expect(first).toBeGreaterThan(0);
    await app.refresh();
    expect(curvesCalls()).toBe(first); // same versions: the tags answer only
    const [run, byName] = Object.entries(api.tagsData)[0];
    const [name] = Object.keys(byName);
    byName[name].version = "13;2.5";
    await app.refresh();
    expect(api.calls.filter((c) => c.startsWith("curves:")).slice(first)).toEqual([
      `curves:${run}:${name}`,
    ]);
  });

  it("says so when no run is ticked", async () => {
    const { app } = await mount();
    $("[data-role=series-none]")!.click();
    await flush();
    flushView(app);
    expect($("[data-role=message]")!.textContent).toContain("No run selected");
    $("[data-role=series-all]")!.click();
    await flush();
    flushView(app);
    expect($("[data-role=message]")).toBeNull();
  });
});
