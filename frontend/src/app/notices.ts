// The notices strip over the main area (notice-list.ts says what it holds).
import { h, setChildren } from "../ui/dom";
import type { Notice } from "./notice-list";

export class NoticesPanel {
  readonly element = h("div", { class: "pc-notices", attrs: { "data-role": "notices" } });

  /** `dismiss(id)`: the user closed a dismissible notice. */
  constructor(private readonly dismiss: (id: string) => void) {}

  render(list: readonly Notice[]): void {
    setChildren(this.element, ...list.map((n) => this.notice(n)));
  }

  private notice(n: Notice): HTMLElement {
    const el = h(
      "div",
      {
        class: `pc-notice pc-notice-${n.kind}`,
        attrs: {
          role: n.kind === "error" ? "alert" : "status",
          "data-role": n.role ?? `notice-${n.kind}`,
        },
      },
      n.text,
    );
    if (n.series) {
      el.setAttribute("data-run", n.series.run);
      el.setAttribute("data-name", n.series.name);
    }
    const id = n.dismiss;
    if (id !== undefined) {
      el.classList.add("pc-notice-dismissible");
      el.appendChild(
        h(
          "button",
          {
            class: "pc-linkbtn pc-notice-dismiss",
            title: "Dismiss (it comes back if more steps are skipped)",
            attrs: { type: "button", "data-role": "dismiss-skipped", "aria-label": "Dismiss" },
            on: { click: () => this.dismiss(id) },
          },
          "✕",
        ),
      );
    }
    return el;
  }
}
