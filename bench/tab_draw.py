"""How the Per-Class tab copes with a long run in headless Chromium: load, draw, step slider.

Starts a real `tensorboard` on a log directory (bench/long_run.py), opens the tab in Chromium
(Playwright, /usr/bin/chromium) and reports:
  - seconds from opening TensorBoard to the class-by-step heatmap drawn (the default curves
    view past 50 classes), then to the lines chart drawn after switching to it
  - main-thread work of the plugin's frame in each phase: the long tasks (PerformanceObserver
    'longtask', > 50 ms each) and, when the bundle marks its draws, the `perclass:draw:*`
    performance measures (the draw times the issue's <= 300 ms target is about)
  - the requests one step-slider move in the Confusion view makes (route and bytes): the slider
    should fetch that step's matrix, pairs and report, never the curves again

    python -m bench.tab_draw LOGDIR [--load-fast true|false] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.parse

from bench.long_run_memory import Memory, start
from scripts import screenshot as shot

# Installed in every frame before its scripts run: collects long tasks and performance measures.
OBSERVER = """
(() => {
  window.__perclassTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        window.__perclassTasks.push({kind: e.entryType, name: e.name, ms: e.duration});
    }).observe({entryTypes: ['longtask', 'measure']});
  } catch (e) {}
})();
"""
TIMEOUT_MS = 600_000


def plugin_frame(page):
    for frame in page.frames:
        if "plugin_entry.html" in frame.url and "name=perclass" in frame.url:
            return frame
    return None


def take_tasks(frame) -> list[dict]:
    return frame.evaluate("() => window.__perclassTasks.splice(0)")


def summary(tasks: list[dict]) -> dict:
    longs = [t["ms"] for t in tasks if t["kind"] == "longtask"]
    draws = {}
    for t in tasks:
        if t["kind"] == "measure" and t["name"].startswith("perclass:"):
            draws.setdefault(t["name"], []).append(round(t["ms"], 1))
    return {"long_tasks": len(longs), "long_task_ms_total": round(sum(longs)),
            "long_task_ms_max": round(max(longs, default=0)), "measures": draws}  # fmt: skip


def measure(logdir: str, load_fast: bool) -> dict:
    from playwright.sync_api import sync_playwright

    result: dict = {"logdir": logdir, "load_fast": load_fast}
    with start(logdir, load_fast) as server:
        server.wait_for_runs(1, timeout=1800)
        Memory(server._process.pid).wait_idle()
        with sync_playwright() as p:
            browser = shot.launch_browser(p)
            context = browser.new_context(viewport=shot.VIEWPORT)
            context.add_init_script(OBSERVER)
            page = context.new_page()
            requests: list[tuple[str, int]] = []

            def on_response(response):
                if "/data/plugin/perclass/" in response.url:
                    try:
                        size = len(response.body())
                    except Exception:  # a response the page dropped
                        size = -1
                    requests.append(
                        (urllib.parse.urlsplit(response.url).path.rsplit("/", 1)[-1], size)
                    )

            page.on("response", on_response)
            opened = time.perf_counter()
            page.goto(f"{server.url}/#perclass")
            frame = None
            while frame is None:
                page.wait_for_timeout(100)
                frame = plugin_frame(page)
            frame.wait_for_selector(
                "[data-view=heatmap] [data-role=heat-canvas]", timeout=TIMEOUT_MS
            )
            frame.wait_for_selector(
                "[data-role=status]:has-text('Last loaded')", timeout=TIMEOUT_MS
            )
            page.wait_for_timeout(500)
            result["heatmap_seconds"] = time.perf_counter() - opened
            result["heatmap"] = summary(take_tasks(frame))
            result["load_requests"] = list(requests)

            started = time.perf_counter()
            frame.click("[data-control=curves-mode] [data-value=lines]")
            frame.wait_for_selector("[data-role=chart] canvas", timeout=TIMEOUT_MS)
            page.wait_for_timeout(500)
            result["lines_seconds"] = time.perf_counter() - started
            result["lines"] = summary(take_tasks(frame))

            frame.click("[data-role=view-tab][data-value=confusion]")
            frame.wait_for_selector(
                "[data-view=confusion] [data-role=heat-canvas]", timeout=TIMEOUT_MS
            )
            page.wait_for_timeout(2000)
            take_tasks(frame)
            requests.clear()
            started = time.perf_counter()
            frame.focus("[data-control=cm-step]")
            page.keyboard.press("ArrowLeft")
            page.wait_for_timeout(3000)  # the debounce, the requests and the redraw
            result["slider_requests"] = list(requests)
            result["slider"] = summary(take_tasks(frame))
            browser.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--load-fast", default="true", choices=("true", "false"))
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    result = measure(args.logdir, args.load_fast == "true")
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
