// The only way this UI creates DOM: data (class, run and tag names) always goes in as
// text nodes or attribute values, never as HTML.

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  title?: string;
  attrs?: Record<string, string | number | boolean | null | undefined>;
  style?: Partial<Record<string, string>>;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.class) el.className = props.class;
    if (props.title != null) el.title = props.title;
    if (props.attrs) {
      for (const [k, v] of Object.entries(props.attrs)) {
        if (v === null || v === undefined || v === false) continue;
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
    if (props.style) {
      for (const [k, v] of Object.entries(props.style)) {
        if (v != null) el.style.setProperty(k, v);
      }
    }
    if (props.on) {
      for (const [ev, fn] of Object.entries(props.on)) {
        el.addEventListener(ev, fn as EventListener);
      }
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces all children of `el` (text is inserted as text). */
export function setChildren(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

export function text(s: string): Text {
  return document.createTextNode(s);
}

/** Shows a hover tooltip `gap` px below-right of (x, y) in `container`'s coordinates, flipped to
 * the other side of the cursor where it would overflow. `fallback` is its size before layout. */
export function placeTooltip(
  tooltip: HTMLElement,
  container: HTMLElement,
  x: number,
  y: number,
  gap: number,
  fallback: { width: number; height: number },
): void {
  tooltip.hidden = false;
  const box = container.getBoundingClientRect();
  const width = tooltip.offsetWidth || fallback.width;
  const height = tooltip.offsetHeight || fallback.height;
  let left = x + gap;
  let top = y + gap;
  if (box.width && left + width > box.width - 4) left = Math.max(4, x - width - gap);
  if (box.height && top + height > box.height - 4) top = Math.max(4, y - height - gap);
  tooltip.style.left = `${left}px`;
  tooltip.style.top = `${top}px`;
}
