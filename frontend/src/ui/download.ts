// Client-side downloads (matrix CSV and PNG): a blob: URL on a temporary <a download>.
// The plugin's CSP allows blob: and the iframe is not sandboxed, so the browser saves it.

export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function downloadText(
  text: string,
  filename: string,
  type = "text/csv;charset=utf-8",
): void {
  downloadBlob(new Blob([text], { type }), filename);
}

export function downloadCanvas(canvas: HTMLCanvasElement, filename: string): void {
  canvas.toBlob((blob) => {
    if (blob) downloadBlob(blob, filename);
  }, "image/png");
}

/** A file name from parts: anything outside [A-Za-z0-9._-] becomes "_". */
export function safeFilename(...parts: (string | number)[]): string {
  return parts
    .map((p) =>
      String(p)
        .replace(/[^A-Za-z0-9._-]+/g, "_")
        .replace(/^_+|_+$/g, ""),
    )
    .filter(Boolean)
    .join("_");
}
