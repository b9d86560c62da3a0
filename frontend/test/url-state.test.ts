import { describe, expect, it } from "vitest";
import {
  decodeLink,
  encodeLink,
  hashWith,
  LINK_KEY,
  LinkSync,
  linkFields,
  MAX_CLASSES_CHARS,
  parseHash,
} from "../src/state/url-state";
import { defaultState } from "../src/state/view-state";
import { FakeWindow } from "./helpers";

describe("TensorBoard's hash format", () => {
  it("parses the tab and key=value pairs as tf_storage does", () => {
    const { tab, params } = parseHash("#perclass&tagFilter=a%26b&_smoothingWeight=0.6&bad=x=y");
    expect(tab).toBe("perclass");
    expect(params.get("tagFilter")).toBe("a&b");
    expect(params.get("_smoothingWeight")).toBe("0.6");
    expect(params.has("bad")).toBe(false);
    expect(parseHash("")).toEqual({ tab: null, params: new Map() });
  });

  it("sets one key and keeps TensorBoard's own", () => {
    expect(hashWith("#perclass&tagFilter=x", LINK_KEY, "abc")).toBe(
      "#perclass&tagFilter=x&pcv=abc",
    );
    expect(hashWith("#perclass&pcv=old&x=1", LINK_KEY, "new")).toBe("#perclass&pcv=new&x=1");
    expect(hashWith("#perclass&pcv=old", LINK_KEY, null)).toBe("#perclass");
  });
});

describe("link state", () => {
  it("round-trips the view state (text of any kind) through a URL-safe token", () => {
    const s = defaultState();
    s.view = "confusion";
    s.series = "exp 1/välidation&<b>\u0000head";
    s.step = 120;
    s.norm = "row";
    s.order = "cluster";
    s.cmZoom = { r0: 10, r1: 31, c0: 12, c1: 33 };
    s.focus = "<img src=x onerror=alert(1)>";
    s.diff = { on: true, baseSeries: "exp1/train", baseStep: 3 };
    s.reportSort = { key: "f1", desc: false };
    s.heatSort = { key: "gap", reverse: true };
    s.classes = { mode: "exclude", names: ["cat"] };
    const token = encodeLink(s);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeLink(token, defaultState())).toEqual(s);
  });

  it("carries only what differs from the defaults; auto-refresh and the settings' fold stay local", () => {
    const s = defaultState();
    s.autoRefresh = false;
    s.settingsOpen = true;
    expect(linkFields(s)).toEqual({});
    s.seriesFilter = "torch";
    expect(linkFields(s)).toEqual({ seriesFilter: "torch" });
    const local = defaultState();
    local.autoRefresh = false;
    local.settingsOpen = false;
    const back = decodeLink(encodeLink(defaultState()), local)!;
    expect(back.autoRefresh).toBe(false);
    expect(back.settingsOpen).toBe(false);
  });

  it("leaves long class selections to localStorage", () => {
    const s = defaultState();
    s.classes = { mode: "include", names: Array.from({ length: 400 }, (_, i) => `class_${i}`) };
    const f = linkFields(s);
    expect(f.classes).toBeUndefined();
    expect(f.classesOmitted).toBe(true);
    expect(JSON.stringify(s.classes).length).toBeGreaterThan(MAX_CLASSES_CHARS);
    const local = defaultState();
    local.classes = { mode: "include", names: ["kept"] };
    expect(decodeLink(encodeLink(s), local)!.classes).toEqual(local.classes);
  });

  it("refuses garbage tokens and fixes invalid fields", () => {
    expect(decodeLink("%%%", defaultState())).toBeNull();
    expect(decodeLink(btoa("[1,2]"), defaultState())).toBeNull();
    const t = btoa(JSON.stringify({ view: "nope", step: "x", norm: "row" })).replace(/=+$/, "");
    const s = decodeLink(t, defaultState())!;
    expect(s.view).toBe("curves");
    expect(s.step).toBeNull();
    expect(s.norm).toBe("row");
  });
});

describe("LinkSync", () => {
  it("writes the state into the parent's hash with replaceState, only on the Per-Class tab", () => {
    const win = new FakeWindow();
    win.location.hash = "#perclass&tagFilter=x";
    const sync = new LinkSync(win as unknown as Window);
    const s = defaultState();
    s.view = "report";
    sync.write(s);
    expect(win.replaced.length).toBe(1);
    const { tab, params } = parseHash(win.location.hash);
    expect(tab).toBe("perclass");
    expect(params.get("tagFilter")).toBe("x");
    expect(decodeLink(params.get(LINK_KEY)!, defaultState())!.view).toBe("report");
    sync.write(s); // unchanged: no history churn
    expect(win.replaced.length).toBe(1);
    win.location.hash = "#scalars";
    s.view = "confusion";
    sync.write(s);
    expect(win.replaced.length).toBe(1);
    win.location.hash = "#perclass&pcv=zz";
    sync.write(defaultState()); // back to defaults: the key goes away
    expect(win.location.hash).toBe("#perclass");
  });

  it("reads a link, and hears a pasted one", () => {
    const win = new FakeWindow();
    const s = defaultState();
    s.view = "confusion";
    win.location.hash = `#perclass&pcv=${encodeLink(s)}`;
    const sync = new LinkSync(win as unknown as Window);
    expect(decodeLink(sync.read()!, defaultState())!.view).toBe("confusion");
    const heard: string[] = [];
    sync.listen((t) => heard.push(t));
    s.view = "report";
    win.navigate(`#perclass&pcv=${encodeLink(s)}`);
    expect(heard.length).toBe(1);
    win.navigate(`#scalars&pcv=${encodeLink(defaultState())}`);
    expect(heard.length).toBe(1);
    sync.stop();
    expect(win.listeners.length).toBe(0);
  });

  it("does nothing without a reachable parent", () => {
    const throwing = {
      get location(): Location {
        throw new DOMException("cross-origin", "SecurityError");
      },
    };
    const sync = new LinkSync(throwing as unknown as Window);
    expect(sync.read()).toBeNull();
    expect(() => sync.write(defaultState())).not.toThrow();
    expect(new LinkSync(null).read()).toBeNull();
  });
});

describe("LinkSync with a delay", () => {
  it("writes once after a burst of changes, the last state", async () => {
    const win = new FakeWindow();
    const sync = new LinkSync(win as unknown as Window, 20);
    const s = defaultState();
    for (let step = 0; step < 50; step++) {
      s.step = step;
      sync.write(s);
    }
    expect(win.replaced.length).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(win.replaced.length).toBe(1);
    expect(
      decodeLink(parseHash(win.location.hash).params.get(LINK_KEY)!, defaultState())!.step,
    ).toBe(49);
    sync.stop();
  });
});
