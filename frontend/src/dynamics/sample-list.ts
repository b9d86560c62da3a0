// The ranked list of one snapshot: likely label errors (lowest mean margin first) or the most
// forgotten samples, with each sample's thumbnail or text when the writer saw its inputs, its
// given label, the label the model prefers and the evidence. Text goes in as text, images only
// from the dynamics_media route (answers.ts checks the URL).
import { h, setChildren } from "../ui/dom";
import type { DynamicsList, ListedSample } from "../data/types";
import { formatCount } from "../lib/format";
import { correctText, evidenceText } from "./dynamics-model";

const COLUMNS: { label: string; title: string; num?: boolean }[] = [
  { label: "#", title: "Rank in the list", num: true },
  { label: "Sample", title: "The sample's input, when update() was given inputs=" },
  { label: "Id", title: "The sample's dataset index (sample_ids)", num: true },
  { label: "Given label", title: "The label in the dataset" },
  {
    label: "Model prefers",
    title: "The other label with the largest probability at its latest visit",
  },
  {
    label: "Margin",
    title:
      "Mean over its visits of p(given label) − the largest other probability; below 0 the model prefers another label",
    num: true,
  },
  { label: "Confidence", title: "Mean probability of the given label over its visits", num: true },
  { label: "Correct", title: "Visits predicted right, of all its visits", num: true },
  { label: "Forgotten", title: "Right → wrong transitions between consecutive visits", num: true },
];

export class SampleList {
  readonly element: HTMLElement;
  private body: HTMLElement;
  private caption: HTMLElement;
  private more: HTMLButtonElement;

  constructor(
    private readonly onMore: () => void,
    private readonly loadText: (url: string) => Promise<string>,
  ) {
    this.caption = h("div", { class: "pc-hint", attrs: { "data-role": "list-caption" } });
    this.body = h("div", { class: "pc-table-box", attrs: { "data-role": "dynamics-list" } });
    this.more = h(
      "button",
      {
        class: "pc-button",
        attrs: { type: "button", "data-control": "list-more", hidden: true },
        on: { click: () => this.onMore() },
      },
      "Show more",
    );
    this.element = h("div", { class: "pc-dynamics-list" }, this.caption, this.body, this.more);
  }

  render(list: DynamicsList | null, message: string | null): void {
    if (!list) {
      setChildren(this.body, h("div", { class: "pc-message" }, message ?? "Loading…"));
      this.caption.textContent = "";
      this.more.hidden = true;
      return;
    }
    const names = list.class_names;
    const what = list.list === "errors" ? "likely label errors" : "samples forgotten at least once";
    const scope = list.label === null ? "all classes" : `class ${names[list.label]}`;
    const cap = list.capped
      ? ` The writer lists at most ${formatCount(list.cap)} per snapshot (all classes), the most extreme: there are more.`
      : "";
    this.caption.textContent =
      `${formatCount(list.total)} ${what} in ${scope} at step ${list.step}` +
      (list.list === "errors"
        ? ": the model gave another label more probability than the given one, on average over the sample's visits; most negative margin first."
        : ": most forgetting events first.") +
      cap;
    if (!list.samples.length) {
      setChildren(
        this.body,
        h(
          "div",
          { class: "pc-message", attrs: { "data-role": "list-empty" } },
          `No ${what} in ${scope}.`,
        ),
      );
      this.more.hidden = true;
      return;
    }
    const head = h(
      "tr",
      null,
      ...COLUMNS.map((c) =>
        h(
          "th",
          { title: c.title, class: c.num ? "pc-num-col" : "" },
          h("span", { class: "pc-th-text" }, c.label),
        ),
      ),
    );
    const rows = list.samples.map((s, i) => this.row(s, list.offset + i + 1, names));
    setChildren(
      this.body,
      h(
        "table",
        { class: "pc-table pc-dynamics-table" },
        h("thead", null, head),
        h("tbody", null, ...rows),
      ),
    );
    this.more.hidden = list.samples.length >= list.total;
  }

  private row(s: ListedSample, rank: number, names: readonly string[]): HTMLElement {
    const num = (v: string | number) => h("td", { class: "pc-num-col" }, v);
    return h(
      "tr",
      { attrs: { "data-id": s.id }, title: evidenceText(s, names) },
      num(rank),
      h("td", { class: "pc-sample-cell" }, this.media(s)),
      num(s.id),
      h("td", { class: "pc-name-col" }, names[s.label]),
      h("td", { class: "pc-name-col" }, names[s.preferred]),
      num(s.margin.toFixed(3)),
      num(s.confidence.toFixed(3)),
      num(correctText(s)),
      num(s.forgets),
    );
  }

  private media(s: ListedSample): HTMLElement | string {
    if (!s.media) return "—";
    if (s.mediaType === "image/png")
      return h("img", {
        class: "pc-list-thumb",
        attrs: { src: s.media, alt: `sample ${s.id}`, loading: "lazy" },
      });
    const text = h("span", { class: "pc-list-text" }, "…");
    this.loadText(s.media).then(
      (t) => (text.textContent = t.length > 120 ? `${t.slice(0, 120)}…` : t),
      () => (text.textContent = "(text unavailable)"),
    );
    return text;
  }
}
