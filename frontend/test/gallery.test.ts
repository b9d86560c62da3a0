// DOM tests of the misclassified-samples gallery inside the app, over route answers captured
// from the real backend (fixtures/capture_samples.py): runs "val" (8x8 digits with ids, a
// hostile class name), "plain" (no inputs), "text" (hostile texts), "ml" (multilabel), "reg"
// (regression). happy-dom loads no images: sources, sizes and classes are checked here, the
// decoded pixels in the browser tests.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../src/app/app";
import { STORAGE_KEY } from "../src/state/saved-state";
import type { ConfusionView } from "../src/confusion/confusion-view";
import { decodeLink, LINK_KEY, parseHash } from "../src/state/url-state";
import { defaultState } from "../src/state/view-state";
import { SAMPLES_SNIPPET } from "../src/samples/sample-info";
import {
  FakeWindow,
  flush,
  MemoryStorage,
  samplesApi,
  samplesRuns,
  startApp,
  type FakeApi,
} from "./helpers";

const HOSTILE_CLASS = "<b>three</b>";
const HOSTILE_TEXT = "<script>alert(1)</script>";
let apps: App[] = [];

async function mount(
  api: FakeApi = samplesApi(),
  run = "val",
  storage = new MemoryStorage(),
  linkWindow: FakeWindow | null = null,
) {
  const { app } = await startApp(apps, api, storage, linkWindow);
  app.setState({ view: "confusion", series: run });
  await flush();
  return { app, api, storage };
}

const $ = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];
const cmView = (app: App) =>
  (app as unknown as { views: { confusion: ConfusionView } }).views.confusion;
const samples = () => $$("[data-role=gallery] [data-role=sample]");
const selectedIndex = () =>
  samples().findIndex((el) => el.getAttribute("aria-selected") === "true");
const key = (k: string, target: Element = document.activeElement!) =>
  target.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
const latest = (run = "val") => {
  const byStep = samplesRuns().samples[run];
  const last = Math.max(...Object.keys(byStep).map(Number));
  return byStep[String(last)] as {
    step: number;
    samples: { true: number; pred: number; id: number | string; loss: number; blob: string }[];
  };
};

beforeEach(() => document.body.replaceChildren());
afterEach(() => {
  apps.forEach((a) => a.stop());
  apps = [];
});

describe("the gallery of a confusion cell", () => {
  it("opens on a click: the cell's kept mistakes with classes, score, loss, id and a pixelated image", async () => {
    const { app, api } = await mount();
    const first = latest().samples[0];
    const inCell = latest().samples.filter((s) => s.true === first.true && s.pred === first.pred);
    cmView(app).clickClasses(first.true, first.pred);
    await flush();
    expect(app.state.gallery).toEqual({
      scope: { kind: "cell", true: first.true, pred: first.pred },
      sort: "score",
      selected: null,
      large: false,
    });
    expect(api.calls).toContain(
      `samples:val:perclass:2:${JSON.stringify({ true: first.true, pred: first.pred })}:score`,
    );
    expect($("[data-role=gallery-step]")!.textContent).toContain("Step 2");
    expect($("[data-role=gallery-step]")!.textContent).toContain("follows the step slider");
    const items = samples();
    expect(items.length).toBe(inCell.length);
    const names = samplesRuns().samples.val["2"] as { class_names: string[] };
    expect(items[0].querySelector("[data-role=sample-true]")!.textContent).toBe(
      names.class_names[first.true],
    );
    expect(items[0].querySelector("[data-role=sample-pred]")!.textContent).toBe(
      names.class_names[first.pred],
    );
    // the caption: the two names in parts of their own (a long true class wraps over its own
    // lines, the predicted class and its arrow over theirs), the full names in its title
    const caption = items[0].querySelector<HTMLElement>("[data-role=sample-classes]")!;
    const [trueName, predName] = [first.true, first.pred].map((c) => names.class_names[c]);
    expect(caption.textContent).toBe(`${trueName} → ${predName}`);
    expect(caption.title).toBe(`true class ${trueName}, predicted class ${predName}`);
    expect([...caption.children].map((e) => e.className)).toEqual([
      "pc-sample-true",
      "pc-sample-to",
    ]);
    expect(caption.querySelector(".pc-sample-to [data-role=sample-pred]")).not.toBeNull();
    expect(items[0].querySelector("[data-role=sample-score]")!.textContent).toMatch(/^p 0\.\d{3}$/);
    expect(items[0].querySelector("[data-role=sample-loss]")!.textContent).toMatch(/^loss \d/);
    expect(items[0].querySelector("[data-role=sample-id]")!.textContent).toBe(`id ${first.id}`);
    const img = items[0].querySelector<HTMLImageElement>("[data-role=sample-img]")!;
    expect(img.getAttribute("src")).toBe(first.blob);
    expect(img.classList.contains("pc-pixelated")).toBe(true);
    expect(img.style.width).toBe("96px"); // 8 px shown 12x
    expect(img.getAttribute("data-scale")).toBe("12.00");
    // the matrix marks the cell; the side list of pairs made room for the gallery
    expect($("[data-role=pairs]")).toBeNull();
  });

  it("shows hostile class names as text", async () => {
    const { app } = await mount();
    cmView(app).clickClasses(3, 2); // "<b>three</b>" → two
    await flush();
    expect($("[data-role=gallery-title]")!.textContent).toBe(`${HOSTILE_CLASS} → two`);
    for (const el of $$("[data-role=sample-true]")) expect(el.textContent).toBe(HOSTILE_CLASS);
    expect($("[data-role=gallery] b")).toBeNull();
    expect(document.querySelector("script")).toBeNull();
  });

  it("a diagonal cell (correct predictions, never kept) opens its true class's mistakes", async () => {
    const { app, api } = await mount();
    cmView(app).clickClasses(1, 1);
    await flush();
    expect(app.state.gallery?.scope).toEqual({ kind: "class", true: 1 });
    expect(api.calls).toContain(`samples:val:perclass:2:{"true":1}:score`);
    for (const el of $$("[data-role=sample-true]")) expect(el.textContent).toBe("one");
  });

  it("says so when a cell kept nothing at this step: only the k most confident per cell are kept", async () => {
    const api = samplesApi();
    const { app } = await mount(api);
    const kept = new Set(latest().samples.map((s) => `${s.true}:${s.pred}`));
    // a cell with mistakes in the matrix but none kept
    const cm = samplesRuns().confusion.val["2"] as { matrix: number[][] };
    let cell: [number, number] | null = null;
    cm.matrix.forEach((row, t) =>
      row.forEach((c, p) =>
        t !== p && c > 0 && !kept.has(`${t}:${p}`) && !cell ? (cell = [t, p]) : null,
      ),
    );
    let zero: [number, number] | null = null;
    cm.matrix.forEach((row, t) =>
      row.forEach((c, p) => (t !== p && c === 0 && !zero ? (zero = [t, p]) : null)),
    );
    if (cell) {
      cmView(app).clickClasses(...(cell as [number, number]));
      await flush();
      const empty = $("[data-role=gallery-empty]")!;
      expect(empty.getAttribute("data-reason")).toBe("none-kept");
      expect(empty.textContent).toContain("no sample was kept");
      // the run's own caps (samples_per_cell=2, max_samples=8), not the defaults
      expect(empty.textContent).toContain(
        "keeps only the 2 most confident mistakes of each cell (samples_per_cell=2) and at most 8 in all",
      );
    }
    if (zero) {
      cmView(app).clickClasses(...(zero as [number, number]));
      await flush();
      expect($("[data-role=gallery-empty]")!.textContent).toMatch(
        /^No true .* was predicted as .* at step 2\.$/,
      );
    }
    expect(cell || zero).toBeTruthy();
  });
});

describe("after a click on a cell", () => {
  /** A cell of the latest step with more mistakes than were kept, and how many were kept. */
  function cappedCell(): { cell: [number, number]; kept: number; count: number } {
    const cm = samplesRuns().confusion.val["2"] as { matrix: number[][] };
    const keptIn = (t: number, p: number) =>
      latest().samples.filter((s) => s.true === t && s.pred === p).length;
    for (const [t, row] of cm.matrix.entries())
      for (const [p, count] of row.entries())
        if (t !== p && keptIn(t, p) > 0 && count > keptIn(t, p))
          return { cell: [t, p], kept: keptIn(t, p), count };
    throw new Error("the fixture has no cell with more mistakes than kept samples");
  }

  it("names the cap that kept fewer samples than the cell has", async () => {
    const { app } = await mount();
    const { cell, kept, count } = cappedCell();
    cmView(app).clickClasses(...cell);
    await flush();
    const sub = $("[data-role=gallery-step]")!;
    expect(sub.textContent).toContain(`${kept} kept of ${count} mistakes (`);
    expect(sub.textContent).toMatch(/\((samples_per_cell=2|max_samples=8)\)/);
    expect(sub.title).toContain("samples_per_cell=2");
  });

  it("hands the keyboard to the samples: the arrows and Enter work at once", async () => {
    const { app } = await mount();
    const first = latest().samples[0];
    cmView(app).clickClasses(first.true, first.pred);
    await flush();
    expect(document.activeElement).toBe(samples()[0]);
    if (samples().length > 1) {
      key("ArrowRight");
      expect(selectedIndex()).toBe(1);
    }
    key("Enter");
    await flush();
    expect($("[data-role=sample-large]")!.hidden).toBe(false);
  });

  it("hides the cell's tooltip until the pointer moves to another cell", async () => {
    const { app } = await mount();
    const first = latest().samples[0];
    const view = cmView(app);
    view.hoverClasses(first.true, first.pred);
    const tip = $("[data-role=cm-tooltip]")!;
    expect(tip.hidden).toBe(false);
    view.clickClasses(first.true, first.pred);
    await flush();
    expect(tip.hidden).toBe(true);
    view.hoverClasses(first.true, first.pred); // the pointer still on the clicked cell
    expect(tip.hidden).toBe(true);
    view.hoverClasses(first.pred, first.true);
    expect(tip.hidden).toBe(false);
  });
});

describe("keyboard navigation", () => {
  it("arrows move the selection, Enter opens and closes the large view, Escape closes the panel", async () => {
    const { app, storage } = await mount();
    $("[data-role=open-gallery]")!.click();
    await flush();
    expect(app.state.gallery?.scope).toEqual({ kind: "overall" });
    const n = samples().length;
    expect(n).toBeGreaterThan(4);
    expect(selectedIndex()).toBe(0);
    samples()[0].focus();
    key("ArrowRight");
    expect(selectedIndex()).toBe(1);
    expect(document.activeElement).toBe(samples()[1]);
    expect(samples()[1].tabIndex).toBe(0);
    expect(samples()[0].tabIndex).toBe(-1);
    key("ArrowDown"); // 4 columns when the page has no layout
    expect(selectedIndex()).toBe(5);
    key("ArrowLeft");
    expect(selectedIndex()).toBe(4);
    key("End");
    expect(selectedIndex()).toBe(n - 1);
    key("Home");
    expect(selectedIndex()).toBe(0);
    key("ArrowRight");
    // the selection is part of the view state (by id: it survives a change of step)
    const second = latest().samples[1];
    expect(app.state.gallery?.selected).toBe(`id:${second.id}`);
    expect(JSON.parse(storage.getItem(STORAGE_KEY)!).gallery.selected).toBe(`id:${second.id}`);

    key("Enter");
    await flush();
    const large = $("[data-role=sample-large]")!;
    expect(large.hidden).toBe(false);
    expect(document.activeElement).toBe(large);
    expect(app.state.gallery?.large).toBe(true);
    expect($("[data-role=large-id]")!.textContent).toContain(String(second.id));
    const img = $<HTMLImageElement>("[data-role=large-img]")!;
    expect(img.getAttribute("src")).toBe(second.blob);
    expect(img.classList.contains("pc-pixelated")).toBe(true);
    expect(parseInt(img.style.width)).toBeGreaterThanOrEqual(256);
    key("ArrowRight", large);
    expect(selectedIndex()).toBe(2);
    expect($("[data-role=large-id]")!.textContent).toContain(String(latest().samples[2].id));
    key("Enter", large);
    expect(large.hidden).toBe(true);
    expect(document.activeElement).toBe(samples()[2]);
    key("Enter");
    expect(large.hidden).toBe(false);
    key("Escape", large); // closes the large view only
    expect(large.hidden).toBe(true);
    expect(app.state.gallery).not.toBeNull();
    key("Escape");
    await flush();
    expect(app.state.gallery).toBeNull();
    expect($("[data-role=gallery]")).toBeNull();
    expect($("[data-role=pairs], [data-role=no-pairs]")).not.toBeNull();
  });

  it("a click on a thumbnail selects it and opens the large view; its buttons page through", async () => {
    const { app } = await mount();
    $("[data-role=open-gallery]")!.click();
    await flush();
    samples()[3].click();
    await flush();
    expect(selectedIndex()).toBe(3);
    expect(app.state.gallery?.large).toBe(true);
    $("[data-role=large-prev]")!.click();
    expect(selectedIndex()).toBe(2);
    $("[data-role=large-close]")!.click();
    expect($("[data-role=sample-large]")!.hidden).toBe(true);
  });
});

describe("the gallery follows the step slider", () => {
  it("reloads the scope at the slider's step and keeps the selected sample when it is kept there", async () => {
    const { app, api } = await mount();
    $("[data-role=open-gallery]")!.click();
    await flush();
    // select a sample kept at steps 1 and 2 (by id)
    const id = Object.keys(samplesRuns().history.val).find((k) => k !== "nobody")!;
    const at2 = samples().findIndex((el) => el.getAttribute("data-key") === `id:${id}`);
    expect(at2).toBeGreaterThanOrEqual(0);
    samples()[at2].click();
    await flush();
    const range = $<HTMLInputElement>("[data-control=cm-step]")!;
    range.value = "1";
    range.dispatchEvent(new Event("input"));
    await flush();
    expect(app.state.step).toBe(1);
    expect(api.calls).toContain("samples:val:perclass:1:{}:score");
    expect($("[data-role=gallery-step]")!.getAttribute("data-step")).toBe("1");
    expect($("[data-role=gallery-step]")!.textContent).toContain("Step 1");
    const at1 = samples().findIndex((el) => el.getAttribute("data-key") === `id:${id}`);
    expect(selectedIndex()).toBe(at1);
    expect($("[data-role=large-step]")!.textContent).toContain("1");
    // its history: first kept at step 1, and where it moved
    const first = $("[data-role=history-first]")!;
    expect(first.textContent).toBe("First kept as a mistake at step 1");
    expect($$("[data-role=history-row]").map((r) => r.getAttribute("data-step"))).toEqual([
      "1",
      "2",
    ]);
    expect($("[data-role=history-summary]")!.textContent).toContain("moved between cells");
    expect($("[data-role=sample-history]")!.textContent).toContain(
      "Only kept mistakes are recorded",
    );
    // a step of the history: the slider moves there
    $$("[data-role=history-row]")[1].click();
    await flush();
    expect(app.state.step).toBeNull(); // step 2 is the latest: follow it
    expect($("[data-role=gallery-step]")!.getAttribute("data-step")).toBe("2");
  });

  it("a step without kept samples says so and offers the nearest one", async () => {
    const api = samplesApi();
    delete api.samplesData.val["1"];
    api.stepsData.val.samples = [0, 2];
    const { app } = await mount(api);
    app.setState({
      step: 1,
      gallery: { scope: { kind: "overall" }, sort: "score", selected: null, large: false },
    });
    await flush();
    const empty = $("[data-role=gallery-empty]")!;
    expect(empty.getAttribute("data-reason")).toBe("no-step");
    expect(empty.textContent).toContain("No samples were kept at step 1.");
    expect(empty.textContent).toContain("2 steps (0–2)");
    $("[data-role=gallery-goto-step]")!.click();
    await flush();
    expect(app.state.step).toBeNull();
    expect(samples().length).toBeGreaterThan(0);
  });

  it("shows the server's message when the samples route refuses", async () => {
    const api = samplesApi();
    api.fail.set("samples:val", "order='x'; use score or loss");
    const { app } = await mount(api);
    $("[data-role=open-gallery]")!.click();
    await flush();
    const empty = $("[data-role=gallery-empty]")!;
    expect(empty.getAttribute("data-reason")).toBe("error");
    expect(empty.textContent).toBe("Could not load the samples: order='x'; use score or loss");
    expect(app.state.gallery).not.toBeNull();
  });
});

describe("scopes", () => {
  it("row labels, the focused class's button and the breadcrumbs open wider or narrower scopes", async () => {
    const { app, api } = await mount();
    const heat = cmView(app).canvas;
    const plot = heat.plotRect!;
    expect(heat.rowLabelAt(plot.x - 10, plot.y + plot.h * (2.5 / 4))).toBe(2);
    const overlay = $("[data-view=confusion] [data-role=heat-overlay]")!;
    overlay.dispatchEvent(
      new MouseEvent("mousedown", {
        clientX: plot.x - 10,
        clientY: plot.y + plot.h * (2.5 / 4),
        button: 0,
        bubbles: true,
      }),
    );
    await flush();
    expect(app.state.gallery?.scope).toEqual({ kind: "class", true: 2 });
    expect(app.state.focus).toBe("two");
    expect($("[data-role=gallery-title]")!.textContent).toBe("All mistakes of true two");
    // breadcrumbs: All mistakes › true two
    $("[data-role=gallery-scope][data-scope=overall]")!.click();
    await flush();
    expect(app.state.gallery?.scope).toEqual({ kind: "overall" });
    $("[data-role=gallery-close]")!.click();
    await flush();
    // the focused class's panel has a button for its mistakes
    $("[data-role=focus-samples]")!.click();
    await flush();
    expect(app.state.gallery?.scope).toEqual({ kind: "class", true: 2 });
    expect(api.calls).toContain(`samples:val:perclass:2:{"true":2}:score`);
  });

  it("sorts by loss on request", async () => {
    const { app, api } = await mount();
    $("[data-role=open-gallery]")!.click();
    await flush();
    $("[data-control=gallery-sort] [data-value=loss]")!.click();
    await flush();
    expect(app.state.gallery?.sort).toBe("loss");
    expect(api.calls).toContain("samples:val:perclass:2:{}:loss");
    const losses = $$("[data-role=sample-loss]").map((e) =>
      Number(e.textContent!.replace("loss ", "")),
    );
    expect(losses).toEqual([...losses].sort((a, b) => b - a));
    expect($("[data-role=gallery-title]")!.textContent).toBe("Highest-loss mistakes");
  });
});

describe("empty states and other tasks", () => {
  it("a run that keeps no samples explains how to keep them", async () => {
    const { api } = await mount(samplesApi(), "plain");
    $("[data-role=open-gallery]")!.click();
    await flush();
    const empty = $("[data-role=gallery-empty]")!;
    expect(empty.getAttribute("data-reason")).toBe("no-samples");
    expect(empty.textContent).toContain(
      "pass inputs= to update() to keep misclassified samples".replace("pass", "Pass"),
    );
    expect(empty.querySelector("pre")!.textContent).toBe(SAMPLES_SNIPPET);
    expect(SAMPLES_SNIPPET).toBe("pc.update(logits, y, inputs=x, sample_ids=ids)");
    expect(api.calls.some((c) => c.startsWith("samples:plain"))).toBe(false);
  });

  it("text samples are fetched as text and shown literally", async () => {
    const { api } = await mount(samplesApi(), "text");
    $("[data-role=open-gallery]")!.click();
    await flush();
    const texts = $$("[data-role=sample-text]").map((e) => e.textContent);
    expect(texts).toContain(HOSTILE_TEXT);
    expect(document.querySelector("script")).toBeNull();
    expect(api.calls.some((c) => c.startsWith("text:blob?run=text&"))).toBe(true);
    expect($("[data-role=gallery-grid]")!.classList.contains("pc-gallery-texts")).toBe(true);
    const k = texts.indexOf(HOSTILE_TEXT);
    samples()[k].click();
    await flush();
    expect($("[data-role=large-text]")!.textContent).toBe(HOSTILE_TEXT);
    expect($("[data-role=large-id]")!.textContent).toMatch(/doc-\d+/);
    // a long text is cut in the thumbnail, whole in the large view
    const long = texts.findIndex((t) => t!.startsWith("a long review"));
    if (long >= 0) {
      samples()[long].click();
      await flush();
      expect($("[data-role=large-text]")!.textContent).toBe("a long review ".repeat(30));
    }
  });

  it("multilabel: a label's FP count opens its false positives, shown as label L: false positive", async () => {
    const { app, api } = await mount(samplesApi(), "ml");
    const fp = $$("[data-role=label-fp]");
    expect(fp.length).toBe(3);
    fp[0].click();
    await flush();
    expect(app.state.gallery?.scope).toEqual({ kind: "label", label: 0, error: "fp" });
    expect(api.calls).toContain(
      `samples:ml:perclass:1:${JSON.stringify({ label: 0, true: 0, pred: 1 })}:score`,
    );
    expect($("[data-role=gallery-title]")!.textContent).toBe("Label person: false positives");
    const labels = $$("[data-role=sample-classes]").map((e) => e.textContent);
    expect(labels.length).toBeGreaterThan(0);
    for (const l of labels) expect(l).toBe("label person:false positive");
    // FN of the hostile label, as text
    $$("[data-role=label-fn]")[2].click();
    await flush();
    expect($("[data-role=gallery-title]")!.textContent).toBe("Label <b>tree</b>: false negatives");
    for (const l of $$("[data-role=sample-label]"))
      expect(l.textContent).toBe("label <b>tree</b>:");
    for (const l of $$("[data-role=sample-outcome]")) expect(l.textContent).toBe("false negative");
    expect($("[data-role=gallery] b")).toBeNull();
    samples()[0]?.click();
    await flush();
    if (samples().length)
      expect($("[data-role=large-pred]")!.textContent).toContain("false negative");
  });

  it("regression: target ranges, errors as the score, the in-range rate for accuracy", async () => {
    const { app } = await mount(samplesApi(), "reg");
    $("[data-role=open-gallery]")!.click();
    await flush();
    expect($("[data-role=gallery-title]")!.textContent).toBe("Largest errors");
    expect($("[data-control=gallery-sort] [data-value=score]")!.textContent).toBe("Largest error");
    expect($("[data-role=sample-score]")!.textContent).toMatch(/^err \d/);
    expect($("[data-role=sample-true]")!.textContent).toMatch(/^(< 0|\[0, 1\)|\[1, 2\)|>= 2)$/);
    samples()[0].click();
    await flush();
    expect($("[data-role=large-true]")!.textContent).toMatch(/^Target range/);
    expect($("[data-role=large-score]")!.textContent).toMatch(/^Error/);
    // the report names the accuracy of a regression run for what it is
    app.setState({ view: "report" });
    await flush();
    expect($("[data-role=report-accuracy]")!.textContent).toMatch(/^In-range rate/);
  });
});

describe("regression runs in the other views", () => {
  it("name accuracy the in-range rate", async () => {
    const api = samplesApi();
    for (const run of Object.keys(api.tagsData)) if (run !== "reg") delete api.tagsData[run];
    const { app } = await mount(api, "reg");
    app.setState({ view: "curves", metric: "accuracy" });
    await flush();
    const btn = $("[data-control=metric] [data-value=accuracy]")!;
    expect(btn.textContent).toBe("In-range rate");
    expect(btn.title).toContain("prediction falls in the target's range");
    expect($("[data-role=title]")!.textContent).toContain("Per-class in-range rate");
    app.setState({ metric: "loss" });
    await flush();
    expect($("[data-role=title]")!.textContent).toContain("Per-class loss");
  });
});

describe("view state", () => {
  it("the open gallery (scope, sort, selection, large view) survives a reload and goes into links", async () => {
    const storage = new MemoryStorage();
    const win = new FakeWindow();
    const { app } = await mount(samplesApi(), "val", storage, win);
    cmView(app).clickClasses(3, 2);
    await flush();
    samples()[0].click();
    await flush();
    const saved = app.state.gallery!;
    expect(saved.large).toBe(true);
    const token = parseHash(win.location.hash).params.get(LINK_KEY)!;
    expect(decodeLink(token, defaultState())!.gallery).toEqual(saved);
    app.stop();
    document.body.replaceChildren();
    const { app: again } = await startApp(apps, samplesApi(), storage);
    expect(again.state.gallery).toEqual(saved);
    expect($("[data-role=gallery-title]")!.textContent).toBe(`${HOSTILE_CLASS} → two`);
    expect($("[data-role=sample-large]")!.hidden).toBe(false);
    expect(selectedIndex()).toBe(0);
  });
});
