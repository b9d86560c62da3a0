// Entry point: TensorBoard loads this module in the plugin's iframe and calls render().
import css from "./styles.css?raw";
import { App } from "./app";
import { httpApi } from "./api";
import { uplotChart } from "./chart";

let app: App | null = null;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function render(): void {
  if (app) return;
  const style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);
  app = new App(document.body, { api: httpApi(), storage: storage(), chartFactory: uplotChart });
  void app.start();
}
