// The toolbar over the main area: the tab buttons, the title, the status, the auto-refresh
// box and the reload button.
import { h, setChildren } from "../ui/dom";
import type { ViewId } from "../state/view-state";
import { REFRESH_SECONDS } from "./tab-data";
import type { TabButton } from "./toolbar-text";

export interface ToolbarActions {
  tab(view: ViewId): void;
  reload(): void;
  autoRefresh(on: boolean): void;
}

export class Toolbar {
  readonly element: HTMLElement;
  private tabs: HTMLElement;
  private title: HTMLElement;
  private status: HTMLElement;
  private reloadBtn: HTMLButtonElement;
  private autoBox: HTMLInputElement;

  constructor(private readonly on: ToolbarActions) {
    this.title = h("div", { class: "pc-title", attrs: { "data-role": "title" } }, "Per-Class");
    this.status = h(
      "span",
      // pushed right by its margin (a spacer would cost the title one more gap)
      {
        class: "pc-status pc-toolbar-status",
        attrs: { "data-role": "status", "aria-live": "polite" },
      },
      "Loading…",
    );
    this.reloadBtn = h(
      "button",
      {
        class: "pc-button",
        title: "Reload data now",
        attrs: { type: "button", "data-role": "reload" },
        on: { click: () => on.reload() },
      },
      "⟳ Reload",
    );
    this.autoBox = h("input", {
      attrs: { type: "checkbox", "data-role": "auto-refresh" },
      on: { change: () => on.autoRefresh(this.autoBox.checked) },
    });
    const autoLabel = h(
      "label",
      {
        class: "pc-check pc-status",
        title: `Reload every ${REFRESH_SECONDS} s while this tab is visible`,
      },
      this.autoBox,
      `Auto-refresh (${REFRESH_SECONDS} s)`,
    );
    this.tabs = h("nav", {
      class: "pc-tabs",
      attrs: { role: "tablist", "data-role": "view-tabs" },
    });
    this.element = h(
      "div",
      { class: "pc-toolbar" },
      this.tabs,
      this.title,
      this.status,
      autoLabel,
      this.reloadBtn,
    );
  }

  setTabs(buttons: readonly TabButton[]): void {
    setChildren(
      this.tabs,
      ...buttons.map((t) =>
        h(
          "button",
          {
            class: t.active ? "pc-tab pc-active" : "pc-tab",
            title: t.title,
            attrs: {
              type: "button",
              role: "tab",
              "aria-selected": String(t.active),
              "data-role": "view-tab",
              "data-value": t.id,
              disabled: t.disabled,
            },
            on: { click: () => this.on.tab(t.id) },
          },
          t.label,
        ),
      ),
    );
  }

  /** The title: its main words, then `sub` in lighter type (none: the main words alone); the
   * sub moves under the main words when the line is short for both (each is cut with an
   * ellipsis only past that), and the whole title is in the tooltip. */
  setTitle(main: string, sub: string | null = null): void {
    setChildren(
      this.title,
      h("span", { class: "pc-title-main" }, main),
      sub !== null ? h("span", { class: "pc-title-sub" }, sub) : null,
    );
    this.title.title = main + (sub ?? "");
  }

  setStatus(text: string, loading: boolean): void {
    this.status.textContent = text;
    this.reloadBtn.disabled = loading;
  }

  setAutoRefresh(on: boolean): void {
    this.autoBox.checked = on;
  }
}
