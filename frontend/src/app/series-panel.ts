// The sidebar's class set picker and series list: checkboxes over the class set's series in the
// lines, radio buttons over every series in the one-series views.
import { h, setChildren } from "../ui/dom";
import { dashSample, swatch } from "../ui/widgets";
import { groupLabel, type Series, type SeriesGroup } from "../data/series";
import type { SeriesChoice, SeriesToggles } from "./sidebar-rows";

export interface SeriesActions {
  group(id: string): void;
  /** show every series of `keys` (allOn: hide them all) */
  toggleAll(keys: string[], allOn: boolean): void;
  toggle(key: string, on: boolean): void;
  choose(series: Series): void;
}

export class SeriesPanel {
  /** the class set picker: shown when there are several */
  readonly groupSection: HTMLElement;
  readonly runsSection: HTMLElement;
  private groupSelect: HTMLSelectElement;
  private count: HTMLElement;
  private list: HTMLElement;

  constructor(private readonly on: SeriesActions) {
    this.groupSelect = h("select", {
      class: "pc-select",
      attrs: { "data-control": "group", "aria-label": "Class set" },
      on: { change: () => on.group(this.groupSelect.value) },
    });
    this.groupSection = h(
      "section",
      {
        class: "pc-section",
        title:
          "Series (run and name) with the same task and classes are overlaid; the others are another class set",
        attrs: { "data-role": "groups" },
      },
      h("div", { class: "pc-section-title" }, "Class set"),
      this.groupSelect,
    );
    this.count = h("span", { class: "pc-count" });
    this.list = h("div", { class: "pc-run-list", attrs: { "data-role": "runs" } });
    this.runsSection = h(
      "section",
      { class: "pc-section" },
      h("div", { class: "pc-section-title" }, "Runs", this.count),
      this.list,
    );
  }

  renderGroups(groups: readonly SeriesGroup[], shown: SeriesGroup | null): void {
    this.groupSection.hidden = groups.length <= 1;
    setChildren(
      this.groupSelect,
      ...groups.map((g) => {
        const o = h(
          "option",
          { title: g.classNames.slice(0, 50).join(", "), attrs: { value: g.id } },
          groupLabel(g),
        );
        o.selected = g === shown;
        return o;
      }),
    );
  }

  /** The lines: a checkbox per series of the class set, with its colour and dash pattern. */
  renderToggles(t: SeriesToggles): void {
    this.count.textContent = t.count;
    const rows: Node[] = [];
    if (t.rows.length > 1) {
      rows.push(
        h(
          "div",
          { class: "pc-class-actions", style: { margin: "0 0 4px" } },
          h(
            "button",
            {
              class: "pc-linkbtn",
              attrs: { type: "button", "data-role": "toggle-runs" },
              on: { click: () => this.on.toggleAll(t.keys, t.allOn) },
            },
            t.allOn ? "Hide all runs" : "Show all runs",
          ),
        ),
      );
    }
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
            title: `${r.label} (${r.dash.label} lines)`,
            attrs: { "data-series-row": "", "data-dash": r.dash.label },
          },
          box,
          swatch(r.color),
          dashSample("var(--pc-run-line)", r.dash.dash, 2, 24),
          h("span", { class: "pc-run-name" }, r.label),
          r.error ? h("span", { class: "pc-run-error", title: r.error }, "⚠") : null,
        ),
      );
    }
    setChildren(this.list, ...rows);
  }

  /** The one-series views: a radio button per series, under their class sets when there are
   * several; the ones the tab cannot show are disabled. */
  renderChoices(
    groups: readonly { title: string | null; label: string; rows: SeriesChoice[] }[],
  ): void {
    this.count.textContent = "one run";
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
    setChildren(this.list, ...rows);
  }
}
