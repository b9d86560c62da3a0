// The step slider of the matrix, report and samples views: the steps that have data, the
// step shown, and whether the view follows the latest step.
import { h } from "./dom";

/** Step slider over the steps that have a matrix; the last position follows new steps. */
export class StepSlider {
  readonly element: HTMLElement;
  private range: HTMLInputElement;
  private label: HTMLElement;
  private prev: HTMLButtonElement;
  private next: HTMLButtonElement;
  private latest: HTMLButtonElement;
  private steps: number[] = [];

  constructor(
    role: string,
    private readonly onChange: (step: number | null) => void,
  ) {
    this.range = h("input", {
      class: "pc-slider pc-step-range",
      attrs: {
        type: "range",
        min: 0,
        max: 0,
        step: 1,
        value: 0,
        "data-control": `${role}-step`,
        "aria-label": "Step",
      },
      on: { input: () => this.pick(Number(this.range.value)) },
    });
    this.label = h("span", {
      class: "pc-step-label",
      attrs: { "data-role": `${role}-step-label`, "aria-live": "polite" },
    });
    const btn = (text: string, title: string, fn: () => void, role2: string) =>
      h(
        "button",
        {
          class: "pc-iconbtn",
          title,
          attrs: { type: "button", "data-role": role2 },
          on: { click: fn },
        },
        text,
      );
    this.prev = btn(
      "‹",
      "Previous step",
      () => this.pick(Number(this.range.value) - 1),
      `${role}-step-prev`,
    );
    this.next = btn(
      "›",
      "Next step",
      () => this.pick(Number(this.range.value) + 1),
      `${role}-step-next`,
    );
    this.latest = h(
      "button",
      {
        class: "pc-linkbtn",
        title: "Show the latest step and follow new ones",
        attrs: { type: "button", "data-role": `${role}-step-latest` },
        on: { click: () => this.onChange(null) },
      },
      "Latest",
    );
    this.element = h(
      "div",
      { class: "pc-step" },
      h("span", { class: "pc-label-inline" }, "Step"),
      this.prev,
      this.range,
      this.next,
      this.label,
      this.latest,
    );
  }

  private pick(i: number): void {
    if (!this.steps.length) return;
    const k = Math.min(Math.max(i, 0), this.steps.length - 1);
    this.range.value = String(k);
    this.onChange(k === this.steps.length - 1 ? null : this.steps[k]);
  }

  /** `current`: the step shown; `following`: the view follows the latest step. */
  set(steps: number[], current: number | null, following: boolean): void {
    this.steps = steps;
    const idx = current === null ? steps.length - 1 : steps.indexOf(current);
    this.range.max = String(Math.max(0, steps.length - 1));
    if (document.activeElement !== this.range && idx >= 0) this.range.value = String(idx);
    this.range.disabled = steps.length <= 1;
    this.prev.disabled = idx <= 0;
    this.next.disabled = idx < 0 || idx >= steps.length - 1;
    const first = steps[0];
    const last = steps[steps.length - 1];
    const range = steps.length ? ` of ${first}–${last}` : "";
    this.label.textContent = current === null ? "–" : `${current}${range}`;
    this.latest.hidden = following;
    this.element.classList.toggle("pc-following", following);
  }
}
