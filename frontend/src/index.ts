// Entry point: TensorBoard loads this module in the plugin's iframe and calls render().
import css from "./styles.css?raw";
import { App } from "./app/app";
import { httpApi } from "./data/http-api";
import { uplotChart } from "./curves/line-chart";
import { followTheme } from "./ui/theme";

let app: App | null = null;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** TensorBoard's window (the tab's iframe is same-origin), for the URL state; null elsewhere. */
function tensorBoardWindow(): Window | null {
  try {
    return window.parent && window.parent !== window ? window.parent : null;
  } catch {
    return null;
  }
}

export function render(): void {
  if (app) return;
  const style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);
  // TensorBoard's light/dark mode, set before the first draw and followed live
  followTheme(window, () => app?.retheme());
  app = new App(document.body, {
    api: httpApi(),
    storage: storage(),
    chartFactory: uplotChart,
    linkWindow: tensorBoardWindow(),
    linkDelayMs: 300,
  });
  void app.start();
}
