// The matrix's picture: the canvas heatmap with its hover tooltip and a message that takes its
// place (loading, a refusal), the colour legend and the zoom readout under it.
import { h, setChildren } from "../ui/dom";
import { placeTooltip } from "../ui/tooltip";
import { HeatCanvas } from "../ui/heat-canvas";
import type { HeatHandlers, HeatHit } from "../ui/heat-layout";
import { Legend } from "../ui/legend";

export class MatrixPanel {
  readonly heat: HeatCanvas;
  /** the heatmap with its tooltip and message */
  readonly box: HTMLElement;
  readonly legend = new Legend("cm-legend");
  readonly zoomInfo: HTMLElement;
  private tooltip: HTMLElement;
  private message: HTMLElement;

  constructor(handlers: HeatHandlers) {
    this.zoomInfo = h("span", { class: "pc-status", attrs: { "data-role": "zoom-info" } });
    this.tooltip = h("div", {
      class: "pc-tooltip",
      attrs: { hidden: true, "data-role": "cm-tooltip", role: "tooltip" },
    });
    this.message = h("div", {
      class: "pc-message pc-overlay-message",
      attrs: { "data-role": "cm-message", hidden: true },
    });
    this.heat = new HeatCanvas(handlers);
    this.box = h(
      "div",
      { class: "pc-heat-box", attrs: { "data-role": "matrix" } },
      this.heat.element,
      this.tooltip,
      this.message,
    );
  }

  /** A message instead of the picture (and no legend or zoom readout that could describe
   * another one); `action` adds a button. */
  showMessage(text: string, action?: { label: string; run: () => void }): void {
    setChildren(
      this.message,
      h("div", null, text),
      action
        ? h(
            "button",
            {
              class: "pc-button pc-row-gap",
              attrs: { type: "button", "data-role": "cm-message-action" },
              on: { click: action.run },
            },
            action.label,
          )
        : null,
    );
    this.message.hidden = false;
    this.heat.element.style.visibility = "hidden";
    this.legend.element.hidden = true;
    this.zoomInfo.hidden = true;
    this.hideTooltip();
  }

  hideMessage(): void {
    this.message.hidden = true;
    this.heat.element.style.visibility = "";
    this.legend.element.hidden = false;
    this.zoomInfo.hidden = false;
  }

  /** The tooltip of a hovered cell: a title, then key-value lines (matrix-display.ts cellTooltip). */
  showTooltip(
    title: string,
    lines: readonly { key: string; value: string; role?: string; nameRole?: string }[],
    hit: HeatHit,
  ): void {
    const row = (l: (typeof lines)[number]) =>
      h(
        "div",
        { class: "pc-tooltip-row", attrs: l.role ? { "data-role": l.role } : undefined },
        h("span", { class: "pc-tooltip-key" }, l.key),
        l.nameRole
          ? h("span", { class: "pc-tooltip-name", attrs: { "data-role": l.nameRole } }, l.value)
          : l.value,
      );
    setChildren(this.tooltip, h("div", { class: "pc-tooltip-title" }, title), ...lines.map(row));
    placeTooltip(this.tooltip, this.box, hit.x, hit.y, 16, { width: 240, height: 120 });
  }

  hideTooltip(): void {
    this.tooltip.hidden = true;
  }
}
