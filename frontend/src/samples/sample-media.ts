// A sample's media as the gallery and the large view show it: an image scaled to a box (small
// images by a whole factor, pixelated), or a text fetched from its blob URL as text (never
// parsed as HTML), cached; and how big an image is drawn.
import { h } from "../ui/dom";
import { Lru } from "../data/keyed";
import type { Sample } from "../data/types";

const TEXT_THUMB_CHARS = 600;
const PNG = "image/png";
const TEXT = "text/plain";

/** How big an image of w x h pixels is drawn in a box of `box` CSS px: small images grow by
 * a whole factor (pixelated, so that each pixel stays a crisp square), large ones shrink to fit
 * (smooth). */
export function displaySize(
  w: number,
  h: number,
  box: number,
): { width: number; height: number; scale: number; pixelated: boolean } {
  const side = Math.max(w, h);
  if (!(side > 0) || !(box > 0)) return { width: box, height: box, scale: 1, pixelated: false };
  let scale = side <= box ? Math.floor(box / side) : box / side;
  if (!(scale > 0)) scale = box / side;
  return {
    width: Math.max(1, Math.round(w * scale)),
    height: Math.max(1, Math.round(h * scale)),
    scale,
    pixelated: scale >= 2,
  };
}

export class SampleMedia {
  private texts = new Lru<string>(300);
  private textLoads = new Map<string, Promise<string>>();

  /** An image (scaled to `box`) or a text (fetched as text by `loadText`) of a sample. */
  element(
    loadText: (url: string) => Promise<string>,
    smp: Sample,
    box: number,
    alt: string,
    large: boolean,
  ): HTMLElement {
    if (smp.media.startsWith(TEXT)) {
      const el = h(
        "div",
        {
          class: large ? "pc-sample-fulltext" : "pc-sample-text",
          attrs: { "data-role": large ? "large-text" : "sample-text" },
        },
        "…",
      );
      this.fillText(loadText, el, smp.blob, large ? Infinity : TEXT_THUMB_CHARS);
      return el;
    }
    if (smp.media !== PNG)
      return h("div", { class: "pc-sample-text pc-muted" }, `(${smp.media || "unknown media"})`);
    const size = displaySize(smp.width, smp.height, box);
    const img = h("img", {
      class: size.pixelated ? "pc-sample-img pc-pixelated" : "pc-sample-img",
      attrs: {
        src: smp.blob,
        alt,
        width: size.width,
        height: size.height,
        decoding: "async",
        draggable: "false",
        "data-role": large ? "large-img" : "sample-img",
        "data-scale": size.scale.toFixed(2),
      },
      style: { width: `${size.width}px`, height: `${size.height}px` },
      title: `${smp.width} × ${smp.height} px${size.scale !== 1 ? `, shown ×${Number(size.scale.toFixed(2))}` : ""}`,
    });
    img.addEventListener("error", () =>
      img.replaceWith(
        h(
          "div",
          { class: "pc-sample-text pc-error-text", attrs: { "data-role": "sample-broken" } },
          "Could not load the image.",
        ),
      ),
    );
    return h(
      "div",
      {
        class: large ? "pc-large-media" : "pc-sample-thumb",
        style: large ? undefined : { width: `${box}px`, height: `${box}px` },
      },
      img,
    );
  }

  private fillText(
    loadText: (url: string) => Promise<string>,
    el: HTMLElement,
    url: string,
    max: number,
  ): void {
    const put = (text: string) => {
      el.textContent = text.length > max ? text.slice(0, max) + "…" : text;
      el.title = text.length > 300 ? text.slice(0, 300) + "…" : text;
    };
    const hit = this.texts.get(url);
    if (hit !== undefined) {
      put(hit);
      return;
    }
    let p = this.textLoads.get(url);
    if (!p) {
      p = loadText(url);
      this.textLoads.set(url, p);
      p.then(
        (t) => {
          this.texts.set(url, t);
          this.textLoads.delete(url);
        },
        () => this.textLoads.delete(url),
      );
    }
    p.then(put, (e: unknown) => {
      el.textContent = `Could not load the text: ${(e as Error)?.message || String(e)}`;
      el.classList.add("pc-error-text");
    });
  }
}
