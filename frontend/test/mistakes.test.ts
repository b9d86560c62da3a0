// DOM tests of the Confusion tab for a run that keeps samples but records no confusion matrix
// (PerClassWriter(..., confusion=False)): the gallery alone, over route answers captured from
// the real backend (fixtures/capture_samples.py, run "noconf": 8x8 digits with ids, 3 steps,
// samples_per_cell=2, max_samples=8, a hostile class name).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../src/app/app";
import { defaultState } from "../src/state/view-state";
import { decodeLink, LINK_KEY, parseHash } from "../src/state/url-state";
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
let apps: App[] = [];

type Kept = {
  step: number;
  steps: number[];
  class_names: string[];
  samples: { true: number; pred: number; id: number; loss: number; blob: string }[];
};
const kept = (step: number) => samplesRuns().samples.noconf[String(step)] as Kept;

async function mount(
  api: FakeApi = samplesApi(),
  run: string | null = "noconf",
  linkWindow: FakeWindow | null = null,
  storage = new MemoryStorage(),
) {
  const { app } = await startApp(apps, api, storage, linkWindow);
  if (run !== null) {
    app.setState({ view: "confusion", series: run });
    await flush();
  }
  return { app, api, storage };
}

/** The captured runs with only those named left in the tags route. */
function apiWithRuns(...runs: string[]): FakeApi {
  const api = samplesApi();
  for (const r of Object.keys(api.tagsData)) if (!runs.includes(r)) delete api.tagsData[r];
  return api;
}

const $ = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];
const samples = () => $$("[data-role=gallery] [data-role=sample]");
const ids = () => samples().map((el) => el.getAttribute("data-key"));
const selectedIndex = () =>
  samples().findIndex((el) => el.getAttribute("aria-selected") === "true");
const key = (k: string, target: Element = document.activeElement!) =>
  target.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
const tab = (view: string) => $<HTMLButtonElement>(`[data-role=view-tab][data-value=${view}]`)!;

async function findClass(text: string) {
  const input = $<HTMLInputElement>("[data-control=samples-class-find]")!;
  input.focus();
  input.value = text;
  input.dispatchEvent(new Event("input"));
  key("Enter", input);
  input.blur();
  await flush();
}

async function moveSlider(index: number) {
  const range = $<HTMLInputElement>("[data-control=samples-step]")!;
  range.value = String(index);
  range.dispatchEvent(new Event("input"));
  await flush();
}

beforeEach(() => document.body.replaceChildren());
afterEach(() => {
  apps.forEach((a) => a.stop());
  apps = [];
});

describe("a run with samples but no confusion matrix", () => {
  it("opens the Confusion tab on the most confident mistakes overall at the latest step, with no matrix", async () => {
    const { api } = await mount(apiWithRuns("noconf"));
    expect(tab("confusion").disabled).toBe(false);
    expect(tab("confusion").title).toContain("confusion=False");
    expect(tab("report").disabled).toBe(true); // the report needs the matrix
    expect($("[data-view=mistakes]")).not.toBeNull();
    expect($("[data-view=confusion]")).toBeNull();
    expect($("[data-role=heat-canvas]")).toBeNull();
    expect(api.calls.some((c) => c.startsWith("confusion:noconf"))).toBe(false);
    expect(api.calls).toContain("samples:noconf:perclass:latest:{}:score");
    expect($("[data-role=title]")!.textContent).toContain("Misclassified samples");
    const note = $("[data-role=no-confusion-note]")!.textContent!;
    expect(note).toContain("records no confusion matrix");
    expect(note).toContain("confusion=False");
    expect(note).toContain("no cells to click");
    expect($("[data-role=gallery-title]")!.textContent).toBe("Most confident mistakes");
    expect($("[data-role=gallery-step]")!.getAttribute("data-step")).toBe("2");
    // without a matrix the count of mistakes is unknown: only what was kept
    expect($("[data-role=gallery-step]")!.textContent).toBe(
      "Step 2 · 8 kept · follows the step slider",
    );
    expect(ids()).toEqual(kept(2).samples.map((s) => `id:${s.id}`));
    expect(samples()[0].querySelector("[data-role=sample-img]")!.getAttribute("src")).toBe(
      kept(2).samples[0].blob,
    );
    // the gallery is the view: nothing to close it into
    expect($("[data-role=gallery-close]")!.closest("[hidden]")).not.toBeNull();
  });

  it("the step slider runs over the samples route's steps and the gallery follows it", async () => {
    const { app, api } = await mount();
    expect($("[data-role=samples-step-label]")!.textContent).toBe("2 of 0–2");
    expect($<HTMLInputElement>("[data-control=samples-step]")!.max).toBe(
      String(kept(2).steps.length - 1),
    );
    await moveSlider(0);
    expect(app.state.step).toBe(0);
    expect(api.calls).toContain("samples:noconf:perclass:0:{}:score");
    expect($("[data-role=gallery-step]")!.getAttribute("data-step")).toBe("0");
    expect(ids()).toEqual(kept(0).samples.map((s) => `id:${s.id}`));
    expect($("[data-role=samples-step-label]")!.textContent).toBe("0 of 0–2");
    $("[data-role=samples-step-latest]")!.click();
    await flush();
    expect(app.state.step).toBeNull();
    expect(ids()).toEqual(kept(2).samples.map((s) => `id:${s.id}`));
  });

  it("a step this run did not keep samples at (a link, another run's step) offers the nearest", async () => {
    const { app } = await mount(samplesApi(), null);
    app.setState({ view: "confusion", series: "noconf", step: 9 });
    await flush();
    const empty = $("[data-role=gallery-empty]")!;
    expect(empty.getAttribute("data-reason")).toBe("no-step");
    expect(empty.textContent).toContain("No samples were kept at step 9.");
    // the slider still knows the run's steps (from the steps route, the refusal lists none)
    expect($("[data-role=samples-step-label]")!.textContent).toBe("9 of 0–2");
    $("[data-role=gallery-goto-step]")!.click();
    await flush();
    expect(app.state.step).toBeNull(); // step 2 is the latest: follow new steps
    expect(ids()).toEqual(kept(2).samples.map((s) => `id:${s.id}`));
  });

  it("the class finder narrows to one true class, the breadcrumb widens back to all mistakes", async () => {
    const { app, api } = await mount();
    await findClass("two");
    expect(app.state.gallery?.scope).toEqual({ kind: "class", true: 2 });
    expect(api.calls).toContain('samples:noconf:perclass:latest:{"true":2}:score');
    expect($("[data-role=gallery-title]")!.textContent).toBe("All mistakes of true two");
    const mine = kept(2).samples.filter((s) => s.true === 2);
    expect(ids()).toEqual(mine.map((s) => `id:${s.id}`));
    expect(new Set($$("[data-role=sample-true]").map((e) => e.textContent))).toEqual(
      new Set(["two"]),
    );
    expect($<HTMLInputElement>("[data-control=samples-class-find]")!.value).toBe("two");
    const crumb = $$("[data-role=gallery-scope]").find(
      (b) => b.getAttribute("data-scope") === "overall",
    )!;
    expect(crumb.textContent).toBe("All mistakes");
    crumb.click();
    await flush();
    expect(app.state.gallery?.scope).toEqual({ kind: "overall" });
    expect(samples().length).toBe(kept(2).samples.length);
    expect($<HTMLInputElement>("[data-control=samples-class-find]")!.value).toBe("");
    // emptying the class box also goes back to every mistake
    await findClass("one");
    expect(app.state.gallery?.scope).toEqual({ kind: "class", true: 1 });
    const input = $<HTMLInputElement>("[data-control=samples-class-find]")!;
    input.value = "";
    input.dispatchEvent(new Event("search"));
    await flush();
    expect(app.state.gallery?.scope).toEqual({ kind: "overall" });
    expect(ids()).toEqual(kept(2).samples.map((s) => `id:${s.id}`));
  });

  it("a class with nothing kept says so without a count, and class names stay text", async () => {
    const { app } = await mount();
    await moveSlider(0);
    await findClass("three");
    expect(app.state.gallery?.scope).toEqual({ kind: "class", true: 3 });
    expect($("[data-role=gallery-title]")!.textContent).toBe(
      `All mistakes of true ${HOSTILE_CLASS}`,
    );
    const empty = $("[data-role=gallery-empty]")!;
    expect(empty.getAttribute("data-reason")).toBe("none-kept");
    expect(empty.textContent).toBe(
      `All mistakes of true ${HOSTILE_CLASS}: no sample was kept at step 0. ` +
        "This run keeps only the 2 most confident mistakes of each cell (samples_per_cell=2) and at most 8 in all at each step (max_samples=8).",
    );
    expect($("[data-role=gallery-step]")!.textContent).not.toContain("mistakes");
    expect($("[data-view=mistakes] b")).toBeNull();
    expect(document.querySelector("script")).toBeNull();
  });

  it("sorts by loss and keeps the keyboard navigation; Escape does not close the view", async () => {
    const { app, api } = await mount();
    $("[data-control=gallery-sort] [data-value=loss]")!.click();
    await flush();
    expect(api.calls).toContain("samples:noconf:perclass:latest:{}:loss");
    expect($("[data-role=gallery-title]")!.textContent).toBe("Highest-loss mistakes");
    const byLoss = [...kept(2).samples].sort((a, b) => b.loss - a.loss);
    expect(ids()).toEqual(byLoss.map((s) => `id:${s.id}`));
    samples()[0].focus();
    key("ArrowRight");
    expect(selectedIndex()).toBe(1);
    key("Escape");
    await flush();
    expect(app.state.gallery).not.toBeNull();
    expect($("[data-role=gallery]")).not.toBeNull();
    key("Enter", samples()[1]);
    await flush();
    expect(app.state.gallery?.large).toBe(true);
    expect($("[data-role=sample-large]")!.hidden).toBe(false);
    expect($("[data-role=large-id]")!.textContent).toContain(String(byLoss[1].id));
  });

  it("the view state (run, step, scope, sort) goes into the link and a link opens it", async () => {
    const win = new FakeWindow();
    const { app } = await mount(samplesApi(), "noconf", win);
    await moveSlider(1);
    await findClass("zero");
    const token = parseHash(win.location.hash).params.get(LINK_KEY)!;
    const linked = decodeLink(token, defaultState())!;
    expect(linked).toMatchObject({
      view: "confusion",
      series: "noconf",
      step: 1,
      gallery: { scope: { kind: "class", true: 0 } },
    });
    expect(app.state.step).toBe(1);

    document.body.replaceChildren();
    const other = new FakeWindow();
    other.location.hash = win.location.hash;
    const { api } = await mount(samplesApi(), null, other);
    expect($("[data-view=mistakes]")).not.toBeNull();
    expect(api.calls).toContain('samples:noconf:perclass:1:{"true":0}:score');
    expect(ids()).toEqual(
      kept(1)
        .samples.filter((s) => s.true === 0)
        .map((s) => `id:${s.id}`),
    );
    expect($<HTMLInputElement>("[data-control=samples-class-find]")!.value).toBe("zero");
  });
});

describe("runs with a matrix, and runs with neither", () => {
  it("the run list marks the samples-only run; a run with a matrix still shows its matrix", async () => {
    const { app } = await mount();
    const label = $("[data-run-choice=noconf]")!.closest("label")!;
    expect(label.querySelector("[data-role=samples-only]")!.textContent).toBe("samples");
    expect(label.classList.contains("pc-disabled")).toBe(false);
    expect(
      $("[data-run-choice=val]")!.closest("label")!.querySelector("[data-role=samples-only]"),
    ).toBeNull();
    app.setState({ series: "val" });
    await flush();
    expect($("[data-view=mistakes]")).toBeNull();
    expect($("[data-view=confusion] [data-role=matrix]")).not.toBeNull();
    expect($("[data-role=gallery]")).toBeNull(); // closed until a cell is clicked, as before
    expect($("[data-role=title]")!.textContent).toContain("Confusion matrix");
  });

  it("the report skips the samples-only run", async () => {
    const { app } = await mount();
    app.setState({ view: "report" });
    await flush();
    expect($<HTMLInputElement>("[data-run-choice=noconf]")!.disabled).toBe(true);
    expect($<HTMLInputElement>("[data-run-choice=val]")!.checked).toBe(true);
  });

  it("a tag whose runs have neither matrices nor samples keeps the Confusion tab disabled", async () => {
    const api = apiWithRuns("noconf", "plain");
    for (const info of Object.values(api.tagsData)) info.perclass.kinds = ["stats"];
    await mount(api, null);
    expect(tab("confusion").disabled).toBe(true);
    expect(tab("confusion").title).toContain("or kept samples");
    expect(tab("report").disabled).toBe(true);
  });

  it("a series with kept samples but no per-class stats (no curves) is never asked for curves: no error notice", async () => {
    const api = apiWithRuns("noconf");
    api.tagsData.noconf.perclass.kinds = ["samples"];
    delete api.curvesData.noconf;
    await mount(api);
    expect($("[data-view=mistakes]")).not.toBeNull();
    expect(api.calls.some((c) => c.startsWith("curves:noconf"))).toBe(false);
    expect($("[data-role=notices]")!.textContent).toBe("");
    expect(samples().length).toBeGreaterThan(0);
    // the Curves tab lists it, with nothing to draw and nothing to complain about
    tab("curves").click();
    await flush();
    expect(api.calls.some((c) => c.startsWith("curves:noconf"))).toBe(false);
    expect($("[data-role=notices]")!.textContent).toBe("");
  });
});
