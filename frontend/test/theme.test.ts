import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  applyTheme,
  currentTheme,
  DARK_CLASS,
  DARK_COLORS,
  detectTheme,
  followTheme,
  LIGHT_COLORS,
  TENSORBOARD_DARK_CLASS,
  themeColors,
} from "../src/ui/theme";
import { ColorScale, hexToRgb } from "../src/ui/color-scale";
import { renderHeatmap } from "../src/ui/heat-raster";
import { classColor, greyFor, meanColor, runColor, RUN_COLORS } from "../src/ui/colors";
import { App } from "../src/app/app";
import { defaultApi, fakeChart, flush, MemoryStorage } from "./helpers";

/** A stand-in for TensorBoard's window: its own document, whose <body> carries the class. */
function fakeTensorBoard(): { doc: Document; body: HTMLElement } {
  const doc = document.implementation.createHTMLDocument("TensorBoard");
  return { doc, body: doc.body };
}

/** A fake iframe window: `parent` is TensorBoard's window, or itself when there is none. */
function fakeFrame(opts: {
  parentDoc?: Document;
  unreachable?: boolean;
  prefersDark?: FakeQuery;
}): Window {
  const win: Record<string, unknown> = { document };
  if (opts.unreachable) {
    Object.defineProperty(win, "parent", {
      get() {
        throw new DOMException(
          "Blocked a frame from accessing a cross-origin frame",
          "SecurityError",
        );
      },
    });
  } else {
    win.parent = opts.parentDoc ? { document: opts.parentDoc } : win;
  }
  const query = opts.prefersDark ?? new FakeQuery(false);
  win.matchMedia = (q: string) => {
    expect(q).toBe("(prefers-color-scheme: dark)");
    return query;
  };
  return win as unknown as Window;
}

/** A MediaQueryList whose answer the test changes. */
class FakeQuery {
  private listeners: (() => void)[] = [];
  constructor(public matches: boolean) {}
  addEventListener(_type: string, fn: () => void): void {
    this.listeners.push(fn);
  }
  removeEventListener(_type: string, fn: () => void): void {
    this.listeners = this.listeners.filter((l) => l !== fn);
  }
  set(matches: boolean): void {
    this.matches = matches;
    this.listeners.forEach((l) => l());
  }
  get listenerCount(): number {
    return this.listeners.length;
  }
}

/** MutationObserver callbacks run as microtasks. */
const settle = () => new Promise((r) => setTimeout(r, 0));

const luminance = ([r, g, b]: number[]) => 0.299 * r + 0.587 * g + 0.114 * b;

let stops: (() => void)[] = [];
beforeEach(() => {
  document.documentElement.classList.remove(DARK_CLASS);
});
afterEach(() => {
  stops.forEach((s) => s());
  stops = [];
  document.documentElement.classList.remove(DARK_CLASS);
});

describe("theme detection", () => {
  it("reads TensorBoard's dark-mode class on the parent's body, whatever the OS prefers", () => {
    const tb = fakeTensorBoard();
    const frame = fakeFrame({ parentDoc: tb.doc, prefersDark: new FakeQuery(true) });
    expect(detectTheme(frame)).toBe("light");
    tb.body.classList.add(TENSORBOARD_DARK_CLASS);
    expect(detectTheme(frame)).toBe("dark");
  });

  it("falls back to prefers-color-scheme without a parent, or when the parent can not be read", () => {
    expect(detectTheme(fakeFrame({ prefersDark: new FakeQuery(true) }))).toBe("dark");
    expect(detectTheme(fakeFrame({ prefersDark: new FakeQuery(false) }))).toBe("light");
    expect(detectTheme(fakeFrame({ unreachable: true, prefersDark: new FakeQuery(true) }))).toBe(
      "dark",
    );
  });
});

describe("following the theme", () => {
  it("puts pc-dark on the root as TensorBoard's body class comes and goes, and says so", async () => {
    const tb = fakeTensorBoard();
    tb.body.classList.add(TENSORBOARD_DARK_CLASS);
    const seen: string[] = [];
    stops.push(followTheme(fakeFrame({ parentDoc: tb.doc }), (t) => seen.push(t)));
    // applied at once, before any change (the first draw is already dark)
    expect(document.documentElement.classList.contains(DARK_CLASS)).toBe(true);
    expect(currentTheme()).toBe("dark");
    expect(seen).toEqual([]);

    tb.body.classList.remove(TENSORBOARD_DARK_CLASS);
    await settle();
    expect(document.documentElement.classList.contains(DARK_CLASS)).toBe(false);
    expect(seen).toEqual(["light"]);

    // an unrelated class change on TensorBoard's body is no theme change
    tb.body.classList.add("something-else");
    await settle();
    expect(seen).toEqual(["light"]);

    tb.body.classList.add(TENSORBOARD_DARK_CLASS);
    await settle();
    expect(currentTheme()).toBe("dark");
    expect(seen).toEqual(["light", "dark"]);
  });

  it("stops following when asked", async () => {
    const tb = fakeTensorBoard();
    const seen: string[] = [];
    const stop = followTheme(fakeFrame({ parentDoc: tb.doc }), (t) => seen.push(t));
    stop();
    tb.body.classList.add(TENSORBOARD_DARK_CLASS);
    await settle();
    expect(seen).toEqual([]);
    expect(currentTheme()).toBe("light");
  });

  it("follows the OS preference live when there is no TensorBoard around", () => {
    const query = new FakeQuery(false);
    const seen: string[] = [];
    const stop = followTheme(fakeFrame({ prefersDark: query }), (t) => seen.push(t));
    expect(currentTheme()).toBe("light");
    query.set(true);
    expect(currentTheme()).toBe("dark");
    query.set(false);
    expect(seen).toEqual(["dark", "light"]);
    stop();
    expect(query.listenerCount).toBe(0);
  });
});

describe("theme colours for the canvases", () => {
  it("are the dark palette while the root carries pc-dark", () => {
    expect(themeColors()).toBe(LIGHT_COLORS);
    applyTheme(document, "dark");
    expect(themeColors()).toBe(DARK_COLORS);
    // TensorBoard's dark page colour behind the cells, light text on it
    expect(themeColors().background).toBe("#303030");
    expect(themeColors().text).toMatch(/^rgba\(255, 255, 255/);
    expect(themeColors("light").background).toBe("#fff");
  });

  it("keep empty cells dark on a dark page and busy cells light", () => {
    const dark = new ColorScale({
      kind: "sequential",
      min: 0,
      max: 10,
      log: false,
      eps: 1,
      stops: DARK_COLORS.blues,
      missing: DARK_COLORS.missing,
    });
    const light = new ColorScale({
      kind: "sequential",
      min: 0,
      max: 10,
      log: false,
      eps: 1,
      stops: LIGHT_COLORS.blues,
    });
    expect(luminance(light.rgb(0))).toBeGreaterThan(240); // white on white, as before
    expect(luminance(dark.rgb(0))).toBeLessThan(60); // no glare
    expect(luminance(dark.rgb(10))).toBeGreaterThan(luminance(dark.rgb(5)));
    expect(luminance(dark.rgb(5))).toBeGreaterThan(luminance(dark.rgb(0)));
    expect(dark.textColor(0)).toBe("#fff");
    expect(dark.textColor(10)).toMatch(/^rgba\(0, 0, 0/);
    // diverging: 0 dark, both directions lighter
    const diff = new ColorScale({
      kind: "diverging",
      min: -4,
      max: 4,
      log: false,
      eps: 1,
      stops: DARK_COLORS.blueRed,
    });
    expect(luminance(diff.rgb(0))).toBeLessThan(60);
    expect(luminance(diff.rgb(4))).toBeGreaterThan(150);
    expect(luminance(diff.rgb(-4))).toBeGreaterThan(150);
    expect(diff.rgb(4)[0]).toBeGreaterThan(diff.rgb(4)[2]); // increase = red
    expect(diff.rgb(-4)[2]).toBeGreaterThan(diff.rgb(-4)[0]); // decrease = blue
  });

  it("rasterise missing cells and the masked diagonal in the scale's colours", () => {
    const scale = new ColorScale({
      kind: "sequential",
      min: 0,
      max: 1,
      log: false,
      eps: 1,
      stops: DARK_COLORS.blues,
      missing: DARK_COLORS.missing,
      diagonal: DARK_COLORS.diagonal,
    });
    const out = new Uint8ClampedArray(2 * 1 * 4);
    renderHeatmap(
      out,
      2,
      1,
      {
        values: [NaN, NaN, NaN, NaN],
        stride: 2,
        rowIdx: [0],
        colIdx: [0, 1],
        maskDiagonal: true,
        pool: "max",
      },
      { r0: 0, r1: 1, c0: 0, c1: 2 },
      scale,
    );
    expect([...out.slice(0, 3)]).toEqual(DARK_COLORS.diagonal);
    expect([...out.slice(4, 7)]).toEqual(DARK_COLORS.missing);
  });

  it("lighten the lines that would vanish on a dark page, as TensorBoard does", () => {
    const slate = RUN_COLORS.indexOf("#425066");
    expect(runColor(slate)).toBe("#425066");
    expect(runColor(slate, "dark")).toBe("#8e98a3"); // TensorBoard's darkHex for slate
    expect(runColor(0, "dark")).toBe(RUN_COLORS[0]);
    expect(greyFor(5, "dark")).toMatch(/^rgba\(255, 255, 255, /);
    expect(greyFor(5)).toMatch(/^rgba\(0, 0, 0, /);
    expect(meanColor("dark")).toBe(DARK_COLORS.meanLine);
    const lightness = (c: string) => Number(/, (\d+)%\)$/.exec(c)![1]);
    expect(lightness(classColor(11, 100, "dark"))).toBeGreaterThan(lightness(classColor(11, 100)));
    expect(hexToRgb(DARK_COLORS.blues[0])).toEqual(hexToRgb("#2c333d"));
  });
});

describe("the tab on a theme switch", () => {
  it("rebuilds the chart with the dark mean and faded lines", async () => {
    const chart = fakeChart();
    const app = new App(document.body, {
      api: defaultApi(),
      storage: new MemoryStorage(),
      chartFactory: chart.factory,
      refreshMs: 3_600_000,
    });
    const view = () => (app as unknown as { view: { flush?: () => void } }).view;
    try {
      await app.start();
      await flush();
      view().flush?.();
      const before = chart.charts.length;
      const meanOf = () =>
        chart.charts[chart.charts.length - 1].model.lines.find((l) => l.kind === "mean")!.color;
      expect(meanOf()).toBe(LIGHT_COLORS.meanLine);

      applyTheme(document, "dark");
      app.retheme();
      view().flush?.();
      expect(chart.charts.length).toBe(before + 1);
      expect(meanOf()).toBe(DARK_COLORS.meanLine);

      // nothing else changed: a plain re-render keeps the chart
      app.render();
      view().flush?.();
      expect(chart.charts.length).toBe(before + 1);
    } finally {
      app.stop();
      document.body.replaceChildren();
    }
  });
});
