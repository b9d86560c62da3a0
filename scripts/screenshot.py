"""Screenshot of the real Per-Class tab, for the README (docs/perclass-tab.png).

Starts a real `tensorboard` process, opens the tab in headless Chromium and saves a 1400x900
screenshot. Without --logdir it first writes demo runs (exp1/train, exp1/validation) with the
real `tb_perclass.PerClassWriter`.

    python scripts/screenshot.py                         # demo runs, 10 classes
    python scripts/screenshot.py --classes 100 --out /tmp/perclass-100.png
    python scripts/screenshot.py --logdir runs           # an existing logdir
    python scripts/screenshot.py --view confusion --out docs/perclass-confusion.png
    python scripts/screenshot.py --view heatmap --classes 200 --out docs/perclass-heatmap.png

Chromium: /usr/bin/chromium by default (CHROMIUM env var or --chromium to change it); nothing
is downloaded. The browser helpers here are also used by tests/test_browser_e2e.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "demo"), str(ROOT / "tests")]

from helpers import TensorBoardProcess  # noqa: E402
from synthetic_runs import write_runs  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "perclass-tab.png"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1400, "height": 900}

def launch_browser(playwright, chromium: str = CHROMIUM):
    return playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)


def open_tab(page, url: str, timeout_ms: int = 30_000):
    """Opens TensorBoard at the Per-Class tab and returns the plugin's iframe (a Frame)."""
    page.goto(f"{url}/#perclass")
    page.wait_for_selector("iframe", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "plugin_entry.html" in frame.url and "name=perclass" in frame.url:
                frame.wait_for_selector(".pc-root", timeout=timeout_ms)
                return frame
        page.wait_for_timeout(100)
    raise TimeoutError("the Per-Class plugin iframe did not appear")


def wait_for_chart(frame, timeout_ms: int = 30_000) -> None:
    """Waits until data is loaded and the chart canvas is drawn."""
    frame.wait_for_selector("[data-role=status]:has-text('Last loaded')", timeout=timeout_ms)
    frame.wait_for_selector("[data-role=chart] canvas", timeout=timeout_ms)
    frame.wait_for_timeout(300)  # one animation frame for the chart, with margin


VIEWS = ("lines", "heatmap", "confusion", "report")


def show_view(frame, view: str, timeout_ms: int = 30_000) -> None:
    """Switches the tab to a view (lines/heatmap: the curves area's two modes) and waits for it."""
    frame.wait_for_selector("[data-role=status]:has-text('Last loaded')", timeout=timeout_ms)
    if view in ("lines", "heatmap"):
        frame.click("[data-role=view-tab][data-value=curves]")
        frame.click(f"[data-control=curves-mode] [data-value={view}]")
    else:
        frame.click(f"[data-role=view-tab][data-value={view}]")
    if view == "lines":
        wait_for_chart(frame, timeout_ms)
    elif view == "report":
        frame.wait_for_selector("[data-role=report] tbody tr", timeout=timeout_ms)
    else:
        frame.wait_for_selector(f"[data-view={view}] [data-role=heat][data-draw-ms]", timeout=timeout_ms)
    frame.wait_for_timeout(300)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", help="an existing logdir (default: write demo runs to a temp dir)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="PNG to write (default: docs/perclass-tab.png)")
    parser.add_argument("--classes", type=int, default=10, help="demo runs: number of classes")
    parser.add_argument("--steps", type=int, default=40, help="demo runs: number of steps")
    parser.add_argument("--samples", type=int, default=None, help="demo runs: samples per class and step")
    parser.add_argument("--chromium", default=CHROMIUM, help="Chromium executable")
    parser.add_argument("--view", choices=VIEWS, default=None,
                        help="the view to shoot (default: what the tab opens with)")  # fmt: skip
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="perclass-shot-") as tmp:
        logdir = args.logdir
        expected_runs = 1
        if logdir is None:
            logdir = os.path.join(tmp, "runs")
            write_runs(logdir, num_classes=args.classes, steps=args.steps,
                            samples_per_class=args.samples or (60 if args.classes <= 20 else 20),
                            nonfinite_class=3 if args.classes <= 20 else None)  # fmt: skip
            expected_runs = 2
        with TensorBoardProcess(logdir) as tb:
            tb.wait_for_runs(expected_runs)
            with sync_playwright() as p:
                browser = launch_browser(p, args.chromium)
                try:
                    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
                    page = context.new_page()
                    frame = open_tab(page, tb.url)
                    if args.view:
                        show_view(frame, args.view)
                    else:
                        try:
                            wait_for_chart(frame)
                        except Exception:  # an empty logdir (or a heatmap) has no chart
                            frame.wait_for_selector("[data-role=empty-state], [data-view=heatmap]", timeout=5_000)
                    out = Path(args.out)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(out))
                    print(f"wrote {out}")
                finally:
                    browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
