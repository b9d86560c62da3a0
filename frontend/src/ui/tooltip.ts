// Hover tooltips of the chart and the heatmaps: placed next to the pointer, inside their box.

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
