// The Dynamics view inside the whole tab (happy-dom: no canvas; the drawing is tested in
// map-raster.test.ts and in the browser tests): what it loads, lists and links, hostile names
// as text, the class and list choices in the state.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../src/app/app";
import type { DynamicsCounts, DynamicsList, TagsResponse } from "../src/data/types";
import { FakeApi, flush, startApp, synthCurves } from "./helpers";
import { dataMap } from "./dynamics-fixtures";

const EVIL = "<img src=x onerror=alert(1)>";
const NAMES = [EVIL, "dog"];
let apps: App[] = [];
const $ = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];

function api(): FakeApi {
  const tags: TagsResponse = {
    "noisy/train": {
      perclass: {
        kinds: ["stats", "dynamics", "dynamics_samples"],
        task: "multiclass",
        class_names: NAMES,
        num_classes: 2,
        loss: "cross_entropy",
      },
    },
  };
  const fake = new FakeApi(tags, { "noisy/train": synthCurves(2, 4, NAMES) });
  const rows = (k: number[][]) => k;
  fake.dynamicsData["noisy/train"] = {
    run: "noisy/train",
    name: "perclass",
    task: "multiclass",
    class_names: NAMES,
    steps: [0, 1],
    visited: rows([
      [3, 2],
      [3, 2],
    ]),
    easy: rows([
      [0, 0],
      [2, 1],
    ]),
    ambiguous: rows([
      [1, 1],
      [0, 0],
    ]),
    hard: rows([
      [2, 1],
      [1, 1],
    ]),
    likely_errors: rows([
      [2, 1],
      [1, 1],
    ]),
    forgotten: rows([
      [0, 0],
      [1, 0],
    ]),
    dataset_size: [5, 5],
    invalid_id_visits: [0, 2],
    repeated_ids: [0, 0],
    skipped_visits: [0, 0],
    regions: { easy_confidence: 2 / 3, hard_confidence: 1 / 3 },
    snapshot_steps: [0, 1],
    skipped: [],
  } satisfies DynamicsCounts;
  fake.dataMapData["noisy/train"] = { ...dataMap(), class_names: NAMES };
  const entry = (id: number, label: number, margin: number, forgets = 0) => ({
    id,
    label,
    preferred: 1 - label,
    visits: 2,
    forgets,
    confidence: 0.1,
    variability: 0.05,
    correctness: 0,
    margin,
    media: null,
    mediaType: null,
  });
  const list = (kind: "errors" | "forgotten", samples: ReturnType<typeof entry>[]) =>
    ({
      run: "noisy/train",
      name: "perclass",
      step: 1,
      steps: [0, 1],
      class_names: NAMES,
      list: kind,
      label: null,
      total: samples.length,
      offset: 0,
      cap: 10000,
      capped: false,
      samples,
      skipped: [],
    }) satisfies DynamicsList;
  fake.dynamicsListData["noisy/train"] = {
    errors: list("errors", [entry(3, 0, -0.8), entry(1, 1, -0.5)]),
    forgotten: list("forgotten", [entry(1, 1, -0.5, 1)]),
  };
  return fake;
}

async function openDynamics(fake = api()) {
  const { app } = await startApp(apps, fake);
  $(`[data-role=view-tab][data-value=dynamics]`)!.click();
  await flush();
  return { app, fake };
}

beforeEach(() => document.body.replaceChildren());
afterEach(() => {
  apps.forEach((a) => a.stop());
  apps = [];
});

describe("the Dynamics view", () => {
  it("loads counts, map and the ranked list; names stay text; the CSV is the route's", async () => {
    const { fake } = await openDynamics();
    expect(fake.calls).toContain("dynamics:noisy/train:perclass");
    expect(fake.calls).toContain("data_map:noisy/train:perclass:latest");
    expect(fake.calls).toContain("dynamics_samples:noisy/train:perclass:latest:errors:null:50");
    const rows = $$("[data-role=dynamics-list] tbody tr");
    expect(rows.map((r) => r.getAttribute("data-id"))).toEqual(["3", "1"]);
    expect(rows[0].textContent).toContain(EVIL); // as text
    expect(document.querySelector("[data-role=dynamics-list] img[src=x]")).toBeNull();
    expect($("[data-role=dynamics-facts]")!.textContent).toContain(
      "2 visits had sample_ids outside [0, 5)",
    );
    expect($("[data-role=map-caption]")!.textContent).toBe("4 samples of all classes at step 3.");
    expect($("[data-role=counts-caption]")!.textContent).toContain("5 visited at step 1");
    expect($<HTMLAnchorElement>("[data-role=dynamics-csv]")!.getAttribute("href")).toBe(
      "dynamics_samples?run=noisy%2Ftrain&name=perclass&step=3&list=errors&format=csv",
    );
  });

  it("follows the class picked and the list chosen, in the state", async () => {
    const { app, fake } = await openDynamics();
    const pick = $<HTMLSelectElement>("[data-control=dynamics-class]")!;
    expect([...pick.options].map((o) => o.textContent)).toEqual(["All classes", EVIL, "dog"]);
    pick.value = "dog";
    pick.dispatchEvent(new Event("change"));
    await flush();
    expect(app.state.dynamicsClass).toBe("dog");
    expect(fake.calls).toContain("dynamics_samples:noisy/train:perclass:latest:errors:1:50");
    expect($$("[data-role=dynamics-list] tbody tr").map((r) => r.getAttribute("data-id"))).toEqual([
      "1",
    ]);
    expect($("[data-role=map-caption]")!.textContent).toBe("2 samples of class dog at step 3.");
    $("[data-control=dynamics-list] [data-value=forgotten]")!.click();
    await flush();
    expect(app.state.dynamicsList).toBe("forgotten");
    expect($("[data-role=list-caption]")!.textContent).toContain("forgotten at least once");
  });
});
