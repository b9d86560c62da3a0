// The toolbar over the matrix: the step slider, the class finder, zoom reset, the gallery of
// the step's mistakes, and the CSV / PNG downloads (none for a multilabel run's table).
import { h } from "../ui/dom";
import { ClassFinder } from "../ui/class-finder";
import { StepSlider } from "../ui/step-slider";

export interface MatrixToolbarActions {
  step(step: number | null): void;
  findClass(index: number): void;
  resetZoom(): void;
  toggleGallery(): void;
  downloadCsv(): void;
  downloadPng(): void;
}

export class MatrixToolbar {
  readonly element: HTMLElement;
  readonly slider: StepSlider;
  readonly finder: ClassFinder;
  readonly resetBtn: HTMLButtonElement;
  private galleryBtn: HTMLButtonElement;
  private downloads: HTMLElement;

  constructor(on: MatrixToolbarActions) {
    this.slider = new StepSlider("cm", (step) => on.step(step));
    this.finder = new ClassFinder("class-find", (i) => on.findClass(i), "Find a class…");
    this.resetBtn = h(
      "button",
      {
        class: "pc-button",
        title: "Show the whole matrix (double-click it, or press 0)",
        attrs: { type: "button", "data-role": "zoom-reset" },
        on: { click: () => on.resetZoom() },
      },
      "Reset zoom",
    );
    const csvBtn = h(
      "button",
      {
        class: "pc-button",
        title: "Download the matrix as shown (values, order, classes) as CSV",
        attrs: { type: "button", "data-role": "matrix-csv" },
        on: { click: () => on.downloadCsv() },
      },
      "CSV",
    );
    const pngBtn = h(
      "button",
      {
        class: "pc-button",
        title: "Download the picture as PNG",
        attrs: { type: "button", "data-role": "matrix-png" },
        on: { click: () => on.downloadPng() },
      },
      "PNG",
    );
    this.galleryBtn = h(
      "button",
      {
        class: "pc-button",
        title: "Browse the most confident mistakes of this step (click a cell for one cell's)",
        attrs: { type: "button", "data-role": "open-gallery", "aria-pressed": "false" },
        on: { click: () => on.toggleGallery() },
      },
      "Mistakes",
    );
    this.downloads = h(
      "span",
      { class: "pc-downloads" },
      h("span", { class: "pc-label-inline" }, "Download"),
      csvBtn,
      pngBtn,
    );
    this.element = h(
      "div",
      { class: "pc-card-toolbar" },
      this.slider.element,
      this.finder.element,
      this.resetBtn,
      this.galleryBtn,
      this.downloads,
    );
  }

  /** The gallery of the step's mistakes (the "overall" scope) is open. */
  setGalleryOpen(open: boolean): void {
    this.galleryBtn.setAttribute("aria-pressed", String(open));
    this.galleryBtn.classList.toggle("pc-active", open);
  }

  /** A multilabel run shows a table: no downloads of a picture or matrix. */
  setMultilabel(on: boolean): void {
    for (const b of this.downloads.querySelectorAll("button")) b.hidden = on;
    this.downloads.hidden = on;
  }
}
