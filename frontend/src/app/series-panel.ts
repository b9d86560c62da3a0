// The sidebar's class set list and series list: one click picks a class set; the series list
// has a filter, one-click selections (all, none, the matching ones, one split) and checkboxes
// over the class set's series in the lines, radio buttons over every series in the one-series
// views. Rows are compact so that many series are in view at once.
import { h, setChildren } from "../ui/dom";
import { dashSample, swatch } from "../ui/widgets";
import type { Series } from "../data/series";
import type { GroupRow, SeriesChoice, SeriesToggles } from "./sidebar-rows";

export interface SeriesActions {
  group(id: string): void;
  /** show exactly these series of the class set (hide the others) */
  showOnly(keys: string[]): void;
  toggle(key: string, on: boolean): void;
  choose(series: Series): void;
  filter(text: string): void;
}

/** Past this many series the list offers its filter. */
const FILTER_FROM = 6;

export class SeriesPanel {
  /** the class set list: shown when there are several */
  readonly groupSection: HTMLElement;
  readonly runsSection: HTMLElement;
  private groupList: HTMLElement;
  private count: HTMLElement;
  private search: HTMLInputElement;
  private picks: HTMLElement;
  private list: HTMLElement;

  constructor(private readonly on: SeriesActions) {
    this.groupList = h("div", {
      class: "pc-group-list",
      attrs: { "data-control": "group", role: "radiogroup", "aria-label": "Class set" },
    });
    this.groupSection = h(
      "section",
      {
        class: "pc-section pc-groups",
        title:
          "Series (run and name) with the same task and classes are overlaid; the others are another class set",
        attrs: { "data-role": "groups" },
      },
      h(
        "div",
        { class: "pc-section-title" },
        "Class set",
        h("span", { class: "pc-count" }, "runs"),
      ),
      this.groupList,
    );
    this.count = h("span", { class: "pc-count", attrs: { "data-role": "series-count" } });
    this.search = h("input", {
      class: "pc-search pc-search-small",
      attrs: {
        type: "search",
        placeholder: "Filter runs",
        "data-control": "series-search",
        "aria-label": "Filter runs",
      },
      on: { input: () => on.filter(this.search.value) },
    });
    this.picks = h("div", { class: "pc-class-actions pc-series-picks" });
    this.list = h("div", { class: "pc-run-list", attrs: { "data-role": "runs" } });
    this.runsSection = h(
      "section",
      { class: "pc-section pc-runs" },
      h("div", { class: "pc-section-title" }, "Runs", this.count),
      this.search,
      this.picks,
      this.list,
    );
  }

  renderGroups(rows: readonly GroupRow[]): void {
    this.groupSection.hidden = rows.length <= 1;
    setChildren(
      this.groupList,
      ...rows.map((g) =>
        h(
          "button",
          {
            class: g.selected ? "pc-group pc-active" : "pc-group",
            title: g.label,
            attrs: {
              type: "button",
              role: "radio",
              "aria-checked": String(g.selected),
              "data-role": "group-option",
              "data-group": g.id,
            },
            on: { click: () => !g.selected && this.on.group(g.id) },
          },
          h("span", { class: "pc-group-name" }, g.title),
          h("span", { class: "pc-group-count" }, g.count),
        ),
      ),
    );
  }

  /** The filter's text, unless the user is typing in it; the field only for long lists. */
  private syncSearch(text: string, numSeries: number): void {
    this.search.hidden = numSeries < FILTER_FROM && text.trim() === "";
    if (document.activeElement !== this.search) this.search.value = text;
  }

  /** The lines: a checkbox per series of the class set, with its colour and dash pattern. */
  renderToggles(t: SeriesToggles, filter: string, numSeries: number): void {
    this.count.textContent = t.count;
    this.syncSearch(filter, numSeries);
    setChildren(
      this.picks,
      ...t.picks.map((p) =>
        h(
          "button",
          {
            class: p.current ? "pc-linkbtn pc-current" : "pc-linkbtn",
            title: p.title,
            attrs: { type: "button", "data-role": p.role, "aria-pressed": String(p.current) },
            on: { click: () => this.on.showOnly(p.keys) },
          },
          p.label,
        ),
      ),
    );
    this.picks.hidden = t.picks.length === 0;
    const rows: Node[] = [];
    for (const r of t.rows) {
      const x = r.series;
      const box = h("input", {
        attrs: {
          type: "checkbox",
          "data-run": x.run,
          "data-name": x.name,
          "aria-label": `Show ${r.label}`,
        },
        style: { "accent-color": r.color },
        on: { change: () => this.on.toggle(x.key, box.checked) },
      });
      box.checked = r.on;
      rows.push(
        h(
          "label",
          {
            class: "pc-run",
            title: r.noCurves
              ? `${r.label}: kept samples only, no per-class curves (see the Confusion tab)`
              : `${r.label} (${r.dash.label} lines)`,
            attrs: { "data-series-row": "", "data-dash": r.dash.label },
          },
          box,
          swatch(r.color),
          dashSample("var(--pc-run-line)", r.dash.dash, 2, 24),
          h("span", { class: "pc-run-name" }, r.label),
          r.noCurves
            ? h("span", { class: "pc-run-note", attrs: { "data-role": "samples-only" } }, "samples")
            : null,
          r.error ? h("span", { class: "pc-run-error", title: r.error }, "⚠") : null,
        ),
      );
    }
    if (t.empty) rows.push(h("div", { class: "pc-empty-list" }, t.empty));
    setChildren(this.list, ...rows);
  }

  /** The one-series views: a radio button per series, under their class sets when there are
   * several; the ones the tab cannot show are disabled. */
  renderChoices(
    groups: readonly { title: string | null; label: string; rows: SeriesChoice[] }[],
    filter: string,
    numSeries: number,
  ): void {
    this.count.textContent = "one run";
    this.syncSearch(filter, numSeries);
    this.picks.hidden = true;
    const rows: Node[] = [];
    for (const g of groups) {
      if (g.title !== null)
        rows.push(
          h(
            "div",
            { class: "pc-run-group", title: g.label, attrs: { "data-role": "run-group" } },
            g.title,
          ),
        );
      for (const r of g.rows) {
        const x = r.series;
        const radio = h("input", {
          attrs: {
            type: "radio",
            name: "pc-run-choice",
            "data-run-choice": x.run,
            "data-name": x.name,
            "aria-label": `Show ${r.label}`,
            disabled: !r.ok,
          },
          style: { "accent-color": r.color },
          on: { change: () => radio.checked && this.on.choose(x) },
        });
        radio.checked = r.checked;
        rows.push(
          h(
            "label",
            { class: r.ok ? "pc-run" : "pc-run pc-disabled", title: r.title },
            radio,
            swatch(r.color),
            h("span", { class: "pc-run-name" }, r.label),
            r.samplesOnly
              ? h(
                  "span",
                  { class: "pc-run-note", attrs: { "data-role": "samples-only" } },
                  "samples",
                )
              : null,
          ),
        );
      }
    }
    if (!rows.length) rows.push(h("div", { class: "pc-empty-list" }, "No run matches the filter."));
    setChildren(this.list, ...rows);
  }
}
