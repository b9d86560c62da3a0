import { beforeEach, describe, expect, it } from "vitest";
import { ClassFinder, findClasses } from "../src/ui/class-finder";
import { legendTicks } from "../src/ui/legend";
import { StepSlider } from "../src/ui/step-slider";
import { ColorScale, BLUES } from "../src/ui/color-scale";
import { sparkPoints } from "../src/ui/sparkline";
import { compactCount, compactShare, formatShare, signed } from "../src/lib/format";
import { safeFilename } from "../src/ui/download";

beforeEach(() => document.body.replaceChildren());

describe("class finder", () => {
  const names = ["dog_12", "hotdog", "Dog", "cat", "<img src=x onerror=alert(1)>"];
  it("lists prefix matches first, case-insensitively, up to a limit", () => {
    expect(findClasses(names, "dog").matches).toEqual([0, 2, 1]);
    expect(findClasses(names, "  ").matches).toEqual([]);
    const many = Array.from({ length: 1000 }, (_, i) => `c${i}`);
    const r = findClasses(many, "c", 50);
    expect(r.matches.length).toBe(50);
    expect(r.total).toBe(1000);
  });

  it("shows matches as text; Enter picks the first, arrows move", () => {
    const picked: number[] = [];
    const f = new ClassFinder("find", (i) => picked.push(i));
    document.body.appendChild(f.element);
    f.setNames(names);
    f.input.value = "img";
    f.input.dispatchEvent(new Event("input"));
    const items = [...document.querySelectorAll("[data-role=find-list] [data-class-index]")];
    expect(items.map((e) => e.textContent)).toEqual([names[4]]);
    expect(document.querySelector("img")).toBeNull();
    f.input.value = "dog";
    f.input.dispatchEvent(new Event("input"));
    f.input.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown" }));
    f.input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(picked).toEqual([2]);
    expect(f.input.value).toBe("Dog");
  });
});

describe("step slider", () => {
  it("maps positions to steps; the last position follows the latest step", () => {
    const got: (number | null)[] = [];
    const s = new StepSlider("x", (v) => got.push(v));
    document.body.appendChild(s.element);
    s.set([0, 10, 20, 30], 10, false);
    const range = document.querySelector<HTMLInputElement>("[data-control=x-step]")!;
    expect(range.value).toBe("1");
    expect(range.max).toBe("3");
    expect(document.querySelector("[data-role=x-step-label]")!.textContent).toBe("10 of 0–30");
    range.value = "2";
    range.dispatchEvent(new Event("input"));
    range.value = "3";
    range.dispatchEvent(new Event("input"));
    document.querySelector<HTMLButtonElement>("[data-role=x-step-prev]")!.click();
    expect(got).toEqual([20, null, 20]);
    expect(document.querySelector<HTMLElement>("[data-role=x-step-latest]")!.hidden).toBe(false);
    s.set([0, 10], null, true);
    expect(document.querySelector<HTMLElement>("[data-role=x-step-latest]")!.hidden).toBe(true);
  });
});

describe("legend, sparkline and formats", () => {
  it("legend tick labels never overlap and keep both ends", () => {
    const s = new ColorScale({
      kind: "sequential",
      min: 0,
      max: 1,
      log: true,
      eps: 1e-3,
      stops: BLUES,
    });
    const ticks = legendTicks(s, compactShare, 200);
    expect(ticks[0].align).toBe("start");
    expect(ticks[ticks.length - 1].align).toBe("end");
    const spans = ticks.map((t) => {
      const w = t.text.length * 6 + 6;
      const x = t.pos * 200;
      return t.align === "start"
        ? [x, x + w]
        : t.align === "end"
          ? [x - w, x]
          : [x - w / 2, x + w / 2];
    });
    for (let k = 1; k < spans.length; k++)
      expect(spans[k][0]).toBeGreaterThanOrEqual(spans[k - 1][1]);
  });

  it("sparkline points span the box and split at gaps", () => {
    const lines = sparkPoints([0, 2, null, 4], 30, 10, 1);
    expect(lines).toEqual(["0.0,9.0 10.0,5.0", "30.0,1.0"]);
    expect(sparkPoints([null, null], 30, 10)).toEqual([]);
  });

  it("formats counts, shares and changes", () => {
    expect(compactCount(999)).toBe("999");
    expect(compactCount(1234)).toBe("1.2k");
    expect(compactCount(35000)).toBe("35k");
    expect(compactCount(-2)).toBe("−2");
    expect(compactShare(0.834)).toBe("83%");
    expect(compactShare(0.042)).toBe("4.2%");
    expect(compactShare(0.0001)).toBe("<0.1%");
    expect(formatShare(NaN)).toBe("—");
    expect(signed(3)).toBe("+3");
    expect(signed(-1200)).toBe("−1,200");
    expect(safeFilename("confusion", "exp 1/val<b>", "step3")).toBe("confusion_exp_1_val_b_step3");
  });
});
