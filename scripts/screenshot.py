"""Screenshot of the real Per-Class tab, for the README (docs/perclass-tab.png).

Starts a real `tensorboard` process, opens the tab in headless Chromium and saves a 1400x900
screenshot. Without --logdir it first writes demo runs (exp1/train, exp1/validation) with the
real `tb_perclass.PerClassWriter`; for `--view samples`, a run that keeps its misclassified
8x8 digit images (scikit-learn's digits, with their dataset indices as ids), and the shot shows
the gallery of one confusion cell.

    python -m scripts.screenshot                         # demo runs, 10 classes
    python -m scripts.screenshot --classes 100 --out /tmp/perclass-100.png
    python -m scripts.screenshot --logdir runs           # an existing logdir
    python -m scripts.screenshot --view confusion --out docs/perclass-confusion.png
    python -m scripts.screenshot --view heatmap --classes 200 --out docs/perclass-heatmap.png
    python -m scripts.screenshot --view samples --out docs/perclass-samples.png
    python -m scripts.screenshot --view dynamics --out docs/perclass-dynamics.png

Chromium: /usr/bin/chromium by default (CHROMIUM env var or --chromium to change it); nothing
is downloaded. The browser helpers here are also used by tests/test_browser_e2e.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from demo.synthetic_runs import write_runs
from tests.helpers import TensorBoardProcess

ROOT = Path(__file__).resolve().parents[1]

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


VIEWS = ("lines", "heatmap", "confusion", "report", "samples", "dynamics")

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def write_digit_samples(
    logdir,
    *,
    steps: int = 8,
    run: str = "digits/validation",
    per_cell: int = 6,
    max_samples: int = 96,
    seed: int = 0,
    start: float = 1_700_000_000.0,
    class_names: Sequence[str] = tuple(DIGIT_NAMES),
) -> str:
    """A run whose writer keeps misclassified samples: scikit-learn's 8x8 digits (shipped with
    it, nothing downloaded) as uint8 (N, H, W) images with their dataset indices as ids, and
    a simulated classifier that confuses look-alike digits (3/5/8, 1/7, 4/9) less as the steps
    go by; the ten classes named `class_names`. Returns the run directory."""
    import numpy as np
    from sklearn.datasets import load_digits

    from tb_perclass import PerClassWriter

    digits = load_digits()
    images = (255 - np.clip(digits.images * 16, 0, 255)).astype(np.uint8)  # dark ink on white
    targets = digits.target.astype(np.int64)
    ids = np.arange(len(targets))
    chosen = np.random.default_rng(seed).choice(len(targets), size=400, replace=False)
    images, targets, ids = images[chosen], targets[chosen], ids[chosen]
    confusers = {
        3: [5, 8],
        5: [3, 6],
        8: [3, 1],
        1: [7, 8],
        7: [1, 9],
        4: [9, 1],
        9: [4, 7],
        2: [3],
        6: [5],
        0: [6],
    }
    difficulty = np.random.default_rng(seed + 1).uniform(0.2, 1.0, size=len(targets))
    run_dir = os.path.join(os.fspath(logdir), run)
    with PerClassWriter(
        run_dir, class_names=list(class_names), samples_per_cell=per_cell, max_samples=max_samples
    ) as writer:
        for step in range(steps):
            rng = np.random.default_rng(seed + 100 + step)
            logits = rng.normal(0.0, 1.0, size=(len(targets), 10)).astype(np.float32)
            logits[np.arange(len(targets)), targets] += 1.0 + 0.3 * step
            for i, t in enumerate(targets):
                for c in confusers[int(t)]:
                    logits[i, c] += 2.6 * difficulty[i]
            writer.update(logits, targets, inputs=images, sample_ids=ids)
            writer.write(step, wall_time=start + 60 * step)
    return run_dir


def cell_point(frame, true: int, pred: int) -> tuple[float, float]:
    """Where the cell (true, pred) of the Confusion view's matrix is on the page (its centre)."""
    info = frame.evaluate(
        """() => { const e = document.querySelector('[data-view=confusion] [data-role=heat]');
                   const b = e.getBoundingClientRect();
                   return {x: b.x, y: b.y, plot: e.getAttribute('data-plot').split(',').map(Number),
                           rows: e.getAttribute('data-rows').split(',').map(Number)}; }"""
    )
    x0, y0, w, h = info["plot"]
    n = info["rows"][1] - info["rows"][0]
    element = frame.frame_element().bounding_box()
    return (
        element["x"] + info["x"] + x0 + (pred + 0.5) * w / n,
        element["y"] + info["y"] + y0 + (true + 0.5) * h / n,
    )


def open_gallery(frame, true: int, pred: int, timeout_ms: int = 30_000) -> None:
    """In the Confusion view: clicks the cell (true, pred) and waits for the gallery's images."""
    show_view(frame, "confusion", timeout_ms)
    x, y = cell_point(frame, true, pred)
    frame.page.mouse.click(x, y)
    frame.page.mouse.move(5, 5)  # no tooltip over the picture
    frame.wait_for_selector("[data-role=gallery] [data-role=sample]", timeout=timeout_ms)
    frame.wait_for_function(
        "() => [...document.querySelectorAll('[data-role=sample-img]')]"
        ".every((i) => i.complete && i.naturalWidth > 0)",
        timeout=timeout_ms,
    )


def unfold_settings(frame) -> None:
    """Opens the sidebar's settings when they are folded (the tab folds them when the run list
    is long)."""
    folded = frame.locator("[data-role=settings-toggle][aria-expanded=false]")
    if folded.count() and folded.is_visible():
        folded.click()


def show_view(frame, view: str, timeout_ms: int = 30_000) -> None:
    """Switches the tab to a view (lines/heatmap: the curves area's two modes) and waits for it;
    "samples": the gallery of the cell eight -> three of a write_digit_samples run."""
    if view == "samples":
        open_gallery(frame, true=8, pred=3, timeout_ms=timeout_ms)
        frame.wait_for_timeout(300)
        return
    frame.wait_for_selector("[data-role=status]:has-text('Last loaded')", timeout=timeout_ms)
    if view in ("lines", "heatmap"):
        frame.click("[data-role=view-tab][data-value=curves]")
        unfold_settings(frame)
        frame.click(f"[data-control=curves-mode] [data-value={view}]")
    else:
        frame.click(f"[data-role=view-tab][data-value={view}]")
    if view == "lines":
        wait_for_chart(frame, timeout_ms)
    elif view == "report":
        frame.wait_for_selector("[data-role=report] tbody tr", timeout=timeout_ms)
    elif view == "dynamics":
        frame.wait_for_selector("[data-role=dynamics-list] tbody tr", timeout=timeout_ms)
        frame.wait_for_selector(
            "[data-role=map-caption]:has-text('samples of')", timeout=timeout_ms
        )
    else:
        frame.wait_for_selector(
            f"[data-view={view}] [data-role=heat][data-draw-ms]", timeout=timeout_ms
        )
    frame.wait_for_timeout(300)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--logdir", help="an existing logdir (default: write demo runs to a temp dir)"
    )
    parser.add_argument(
        "--out", default=str(DEFAULT_OUT), help="PNG to write (default: docs/perclass-tab.png)"
    )
    parser.add_argument("--classes", type=int, default=10, help="demo runs: number of classes")
    parser.add_argument("--steps", type=int, default=40, help="demo runs: number of steps")
    parser.add_argument(
        "--samples", type=int, default=None, help="demo runs: samples per class and step"
    )
    parser.add_argument("--chromium", default=CHROMIUM, help="Chromium executable")
    parser.add_argument(
        "--view",
        choices=VIEWS,
        default=None,
        help="the view to shoot (default: what the tab opens with)",
    )
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="perclass-shot-") as tmp:
        logdir = args.logdir
        expected_runs = 1
        if logdir is None and args.view == "samples":
            logdir = os.path.join(tmp, "runs")
            write_digit_samples(logdir)
        elif logdir is None and args.view == "dynamics":
            from demo import train_dynamics

            logdir = os.path.join(tmp, "runs")
            train_dynamics.train(os.path.join(logdir, "noisy"), epochs=args.steps // 2)
        elif logdir is None:
            logdir = os.path.join(tmp, "runs")
            write_runs(
                logdir,
                num_classes=args.classes,
                steps=args.steps,
                samples_per_class=args.samples or (60 if args.classes <= 20 else 20),
                nonfinite_class=3 if args.classes <= 20 else None,
            )
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
                            frame.wait_for_selector(
                                "[data-role=empty-state], [data-view=heatmap]", timeout=5_000
                            )
                    out = Path(args.out)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(out))
                    print(f"wrote {out}")
                finally:
                    browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
