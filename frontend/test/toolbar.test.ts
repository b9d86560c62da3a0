import { beforeEach, describe, expect, it } from "vitest";
import { Toolbar } from "../src/app/toolbar";

beforeEach(() => document.body.replaceChildren());

const noop = { tab: () => {}, reload: () => {}, autoRefresh: () => {} };

describe("toolbar title", () => {
  it("puts the main words and the sub in parts of their own, the whole title in the tooltip", () => {
    const bar = new Toolbar(noop);
    document.body.appendChild(bar.element);
    const hostile = "<img src=x onerror=alert(1)>/validation";
    bar.setTitle("Per-class scores", ` · ${hostile} · 10 classes`);
    const title = document.querySelector<HTMLElement>("[data-role=title]")!;
    // two parts, so the sub can move under the main words instead of being cut
    expect(title.querySelector(".pc-title-main")!.textContent).toBe("Per-class scores");
    expect(title.querySelector(".pc-title-sub")!.textContent).toBe(` · ${hostile} · 10 classes`);
    expect(title.textContent).toBe(`Per-class scores · ${hostile} · 10 classes`);
    expect(title.title).toBe(`Per-class scores · ${hostile} · 10 classes`);
    expect(title.querySelector("img")).toBeNull();
    bar.setTitle("Per-class");
    expect(title.querySelector(".pc-title-sub")).toBeNull();
    expect(title.title).toBe("Per-class");
  });

  it("needs no spacer between the title and the status (one gap less for the title)", () => {
    const bar = new Toolbar(noop);
    const kids = [...bar.element.children];
    const title = kids.findIndex((e) => e.getAttribute("data-role") === "title");
    expect(kids[title + 1].getAttribute("data-role")).toBe("status");
    expect(kids[title + 1].classList.contains("pc-toolbar-status")).toBe(true);
  });
});
