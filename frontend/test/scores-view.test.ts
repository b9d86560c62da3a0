// The Scores view inside the whole tab (happy-dom, FakeApi with real answers captured by
// fixtures/capture_scores.py; no canvas here: text, state and requests are tested, the pixels
// in tests/test_browser_e2e.py).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { App } from "../src/app/app";
import { parseCurves, parseReport, parseScores, parseTags } from "../src/data/answers";
import type { ScoresView } from "../src/scores/scores-view";
import { FakeApi, fixture, flush, startApp, synthCurves } from "./helpers";

let apps: App[] = [];
const $ = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];

function api(): FakeApi {
  const curves = parseCurves(fixture("scores_curves_validation.json"));
  const fake = new FakeApi(parseTags(fixture("scores_tags.json")), {
    "exp/validation": curves,
    "exp/train": curves,
    tags: synthCurves(4, 2, ["0", "1", "2", "3"]),
  });
  fake.scoresData = {
    "exp/validation": parseScores(fixture("scores_validation.json")),
    "exp/train": parseScores(fixture("scores_train.json")),
    tags: parseScores(fixture("scores_multilabel.json")),
  };
  fake.reportData = { "exp/validation": parseReport(fixture("scores_report_validation.json")) };
  return fake;
}

async function openScores() {
  const fake = api();
  const { app } = await startApp(apps, fake);
  $("[data-role=view-tab][data-value=scores]")!.click();
  await flush();
  return { app, fake };
}

const view = (app: App) => (app as unknown as { views: { scores: ScoresView } }).views.scores;

beforeEach(() => document.body.replaceChildren());
afterEach(() => {
  apps.forEach((a) => a.stop());
  apps = [];
});

describe("the Scores view", () => {
  it("shows the validation series' classes, its train counterpart, the table and the lists", async () => {
    const { app, fake } = await openScores();
    expect(app.state.view).toBe("scores");
    // the sidebar ticks 7 classes: all drawn would be 7 <= 8
    expect(fake.calls).toContain("scores:exp/validation:perclass:latest:0,1,2,3,4,5,6");
    expect(fake.calls).toContain("scores:exp/train:perclass:latest:0,1,2,3,4,5,6");
    const rows = $$("[data-role=scores-table] tbody tr");
    expect(rows).toHaveLength(7);
    // a hostile class name is text, never markup
    expect($("[data-role=scores-table] b")).toBe(null);
    expect(rows.some((r) => r.textContent!.includes("<b>bird</b>"))).toBe(true);
    expect($("[data-role=scores-macro]")!.textContent).toContain("Macro average");
    expect($("[data-role=scores-note]")!.textContent).toContain("dashed: step 2 of exp/train");
    expect($$("[data-role=scores-legend] [data-class]").map((e) => e.dataset.class)).toEqual([
      "cat",
      "<b>bird</b>",
    ]);
    expect(
      $<HTMLButtonElement>("[data-control=scores-curve] [data-value=threshold]")!.disabled,
    ).toBe(true);
    expect($("[data-role=scores-ece]")!.textContent).toMatch(/^ECE \d/);
    expect($("[data-role=scores-table] thead")!.textContent).toContain("Top-5");
  });

  it("a click on a row draws or removes that class; back to the sidebar's classes", async () => {
    const { app, fake } = await openScores();
    $$("[data-role=scores-table] tbody tr")
      .find((r) => r.dataset.class === "dog")!
      .click();
    await flush();
    expect(app.state.scoresClasses).toEqual(["cat", "<b>bird</b>", "dog"]);
    expect(fake.calls).toContain("scores:exp/validation:perclass:latest:0,2,1");
    $("[data-role=scores-auto]")!.click();
    await flush();
    expect(app.state.scoresClasses).toEqual([]);
  });

  it("the compare switch drops the counterpart; the legend focuses a class", async () => {
    const { app, fake } = await openScores();
    const box = $<HTMLInputElement>("[data-control=scores-compare]")!;
    box.checked = false;
    box.dispatchEvent(new Event("change"));
    await flush();
    expect(app.state.scoresCompare).toBe(false);
    expect($("[data-role=scores-note]")!.textContent).not.toContain("dashed");
    $<HTMLElement>("[data-role=scores-legend] [data-class='<b>bird</b>']")!.click();
    await flush();
    expect(app.state.scoresFocus).toBe("<b>bird</b>");
    expect(fake.calls.filter((c) => c.startsWith("scores:")).length).toBeGreaterThan(1);
  });

  it("multilabel: the threshold view, its counts, a drag snapped to a bin edge", async () => {
    const { app } = await openScores();
    $<HTMLInputElement>("[data-run-choice='tags']")!.click();
    await flush();
    $("[data-control=scores-curve] [data-value=threshold]")!.click();
    await flush();
    const box = $("[data-role=scores-threshold]")!;
    expect(box.hidden).toBe(false);
    expect($("[data-role=count-tp]")!.textContent).toMatch(/^TP\d/);
    expect($("[data-role=count-best]")!.textContent).toContain(" at ");
    (view(app) as unknown as { dragTo(x: number): void }).dragTo(0.7);
    const t = app.state.scoresThreshold!;
    expect(t).toBeGreaterThanOrEqual(0.7);
    expect(box.textContent).toContain(`p ≥ ${t.toFixed(4)}`);
    $("[data-role=scores-best]")!.click();
    await flush();
    expect(app.state.scoresThreshold).not.toBe(t);
  });

  it("the report lists AP, AUROC, ECE and top-k accuracy with their averages", async () => {
    const { app } = await openScores();
    app.setState({ view: "report" });
    await flush();
    const head = $("[data-role=report] thead tr")!.textContent!;
    expect(head).toContain("AP");
    expect(head).toContain("AUROC");
    expect(head).toContain("Top-5");
    expect($("[data-role=macro-row]")!.children.length).toBe(
      $("[data-role=report] thead tr")!.children.length,
    );
  });
});
