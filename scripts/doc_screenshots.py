"""The README's screenshots, regenerated from the demo, and the fingerprints that tell when they
are stale.

    python -m scripts.doc_screenshots                      # trains the demo (~1 min), then shoots
    python -m scripts.doc_screenshots --demo-logdir runs/digits   # the demo scripts/demo.sh wrote

It trains the digits demo into a scratch logdir (or reads the one given), serves it with a real
`tensorboard` and shoots, in headless Chromium at 1400x900, every view the README shows
(`SHOTS`: the first view, the confusion matrix, the samples of a cell; the class heatmap at 1000
classes from synthetic runs; the Scores tab of a synthetic multilabel run). Then it renders the
same views of a small reference logdir that is written the same way every time (synthetic runs
and simulated digit samples, no training; the Scores view: its own synthetic run) and records
what each looked like in docs/screenshots.json. tests/test_doc_screenshots.py renders the
reference again and fails when a view no longer looks like that: the code changed a documented
view and its screenshot was not regenerated. Run this script then, and commit the PNGs with the
JSON.

What a view "looks like" is robust to font rasterisation by construction:
- its text (the tab's innerText, the clock of "Last loaded" left out), compared exactly: text
  does not depend on antialiasing, hinting or subpixel positioning;
- its picture as mean colours of 50 x 50 px blocks (28 x 18 of them), compared with a tolerance:
  antialiasing moves a block's mean by a few levels, while a moved panel, a new row of controls
  or another colour scale moves many blocks by tens of levels. A block differs when a channel
  moves by more than BLOCK_TOLERANCE; a view differs when more than MAX_CHANGED_BLOCKS do.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from demo.digits import CLASS_NAMES
from demo.synthetic_runs import write_multilabel_run, write_runs
from scripts.screenshot import (
    VIEWPORT,
    cell_point,
    launch_browser,
    open_gallery,
    open_tab,
    show_view,
    wait_for_chart,
    write_digit_samples,
)
from tests.helpers import TensorBoardProcess

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "docs" / "screenshots.json"
BLOCK = 50
BLOCK_TOLERANCE = 24
MAX_CHANGED_BLOCKS = 5
REGENERATE = "python -m scripts.doc_screenshots"


# ---- the views the README shows ----------------------------------------------------------------


def first_view(frame) -> None:
    """What the tab opens on."""
    wait_for_chart(frame)


def confusion_view(frame) -> None:
    """The matrix of the series the tab opens the Confusion view on, one cell hovered: its
    biggest confusion (from the pairs route), so that the tooltip shows."""
    show_view(frame, "confusion")
    true, pred = top_pair(frame)
    hover_cell(frame, true, pred)


def samples_view(frame) -> None:
    """The gallery of the biggest confusion's cell."""
    true, pred = top_pair(frame)
    open_gallery(frame, true, pred)
    frame.wait_for_timeout(300)


def heatmap_view(frame) -> None:
    """The class-by-step heatmap (of the loss, rows by final value, worst first)."""
    show_view(frame, "heatmap")


def scores_view(frame) -> None:
    """The Scores tab of a multilabel run at its best-F1 threshold: precision, recall and F1
    against the threshold, the counts there and the reliability diagram."""
    frame.click("[data-role=view-tab][data-value=scores]")
    frame.wait_for_selector("[data-role=scores-table] tbody tr")
    frame.click("[data-control=scores-curve] [data-value=threshold]")
    frame.wait_for_selector("[data-role=scores-best]")
    frame.click("[data-role=scores-best]")
    frame.wait_for_selector("[data-role=scores-chart][data-draw-ms]")
    # the view scrolls as a whole: the clicks may have scrolled it; the picture shows its top
    frame.evaluate("() => { document.querySelector('.pc-card[data-view=scores]').scrollTop = 0; }")
    frame.page.mouse.move(5, 5)
    frame.wait_for_timeout(300)


# name -> (README image, what to show, where the docs shot's data comes from)
SHOTS: dict[str, tuple[str, Callable, str]] = {
    "tab": ("docs/perclass-tab.png", first_view, "demo"),
    "confusion": ("docs/perclass-confusion.png", confusion_view, "demo"),
    "samples": ("docs/perclass-samples.png", samples_view, "demo"),
    "heatmap": ("docs/perclass-heatmap.png", heatmap_view, "synthetic1000"),
    "scores": ("docs/perclass-scores.png", scores_view, "scores"),
}

# README pictures this script does not take yet, each with why. A README picture must be one of
# SHOTS or named here (tests/test_doc_screenshots.py), so that a new one is never forgotten; one
# named here is not fingerprinted, so nothing tells when it goes stale.
NOT_SHOT = {
    "docs/perclass-dynamics.png": "the Dynamics view needs the noisy-label demo trained with "
    "track_samples (scripts/screenshot.py's dynamics view takes it)",
}


def top_pair(frame) -> tuple[int, int]:
    """(true, predicted) of the most confused pair of the series the Confusion view shows."""
    show_view(frame, "confusion")
    frame.wait_for_selector("[data-role=pairs] [data-role=pair]")
    row = frame.query_selector("[data-role=pairs] [data-role=pair]")
    return int(row.get_attribute("data-true")), int(row.get_attribute("data-pred"))


def hover_cell(frame, true: int, pred: int) -> None:
    frame.page.mouse.move(*cell_point(frame, true, pred))
    frame.wait_for_selector("[data-role=cm-tooltip]:not([hidden])")
    frame.wait_for_timeout(200)


# ---- what a view looks like ---------------------------------------------------------------------


def scene(frame, png: bytes) -> dict[str, str]:
    """A view's text and block colours (see the module docstring)."""
    from io import BytesIO

    from PIL import Image

    text = frame.evaluate("() => document.querySelector('.pc-root').innerText")
    text = re.sub(r"Last loaded \d\d:\d\d:\d\d", "Last loaded", text)
    pixels = np.asarray(Image.open(BytesIO(png)).convert("RGB"), dtype=np.float64)
    h, w = (pixels.shape[0] // BLOCK) * BLOCK, (pixels.shape[1] // BLOCK) * BLOCK
    blocks = pixels[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK, 3).mean(axis=(1, 3))
    colours = np.rint(blocks).astype(np.uint8).reshape(-1, 3)
    return {"text": text, "blocks": "".join(f"{r:02x}{g:02x}{b:02x}" for r, g, b in colours)}


def block_colours(encoded: str) -> np.ndarray:
    return np.array(
        [
            [int(encoded[i + k : i + k + 2], 16) for k in (0, 2, 4)]
            for i in range(0, len(encoded), 6)
        ]
    )


def differences(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    """How a view now differs from what was recorded (empty: it looks the same)."""
    found = []
    if recorded["text"] != now["text"]:
        old, new = recorded["text"].splitlines(), now["text"].splitlines()
        changed = [f"  - {a!r}\n  + {b!r}" for a, b in zip(old, new) if a != b][:5]
        if len(old) != len(new):
            changed.append(f"  ({len(old)} lines recorded, {len(new)} now)")
        found.append("its text changed:\n" + "\n".join(changed))
    a, b = block_colours(recorded["blocks"]), block_colours(now["blocks"])
    if a.shape != b.shape:
        found.append(f"its size changed ({len(a)} blocks recorded, {len(b)} now)")
    else:
        moved = int((np.abs(a - b).max(axis=1) > BLOCK_TOLERANCE).sum())
        if moved > MAX_CHANGED_BLOCKS:
            found.append(
                f"{moved} of its {len(a)} blocks of {BLOCK} px changed colour "
                f"(more than {BLOCK_TOLERANCE} levels; {MAX_CHANGED_BLOCKS} are tolerated)"
            )
    return found


# ---- logdirs ---------------------------------------------------------------------------------


def write_reference(logdir) -> int:
    """The reference the fingerprints are taken of: written the same way every time (fixed
    seeds and wall times, no training), digits-named like the demo. Returns its run count."""
    write_runs(logdir, class_names=CLASS_NAMES, experiment="exp1", steps=8, samples_per_class=30)
    write_digit_samples(logdir, run="digits/validation", steps=8)
    return 3


def write_scores(logdir) -> int:
    """A multilabel run with score histograms, written the same way every time: the Scores
    shot's data, for the docs and the reference alike. Returns its run count."""
    write_multilabel_run(logdir, labels=5, steps=6, samples=300)
    return 1


def train_demo(logdir: str) -> None:
    """What scripts/demo.sh trains, into `logdir`."""
    for module, target, epochs in [
        ("demo.train_torch", os.path.join(logdir, "torch"), 15),
        ("demo.train_keras", os.path.join(logdir, "keras"), 15),
        ("demo.train_tasks", logdir, 15),
        ("demo.train_dynamics", os.path.join(logdir, "noisy"), 20),
    ]:
        subprocess.run(
            [sys.executable, "-m", module, target, "--epochs", str(epochs)], check=True, cwd=ROOT
        )


def render(url: str, browser, show: Callable, shot: Path | None = None) -> dict[str, str]:
    """Opens the tab in a fresh browser context (no saved state), shows a view, screenshots
    it (to `shot` when given) and returns its scene."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    try:
        page = context.new_page()
        frame = open_tab(page, url)
        frame.wait_for_selector("[data-role=status]:has-text('Last loaded')")
        show(frame)
        png = page.screenshot()
        if shot is not None:
            shot.write_bytes(png)
            print(f"wrote {shot.relative_to(ROOT)}")
        return scene(frame, png)
    finally:
        context.close()


def reference_scenes(browser, tmp: str) -> dict[str, dict[str, str]]:
    """Every shot's scene on the reference logdir (the Scores shot: on its own synthetic run)."""
    scenes = {}
    for reference, write in (("reference", write_reference), ("scores", write_scores)):
        logdir = os.path.join(tmp, f"{reference}-reference")
        runs = write(logdir)
        with TensorBoardProcess(logdir) as tb:
            tb.wait_for_runs(runs)
            for name, (_, show, data) in SHOTS.items():
                if (data == "scores") == (reference == "scores"):
                    scenes[name] = render(tb.url, browser, show)
    return scenes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-logdir", help="the demo's logdir (default: train it now)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="perclass-docs-") as tmp:
        demo = args.demo_logdir
        if demo is None:
            demo = os.path.join(tmp, "digits")
            train_demo(demo)
        synthetic = os.path.join(tmp, "synthetic1000")
        write_runs(synthetic, num_classes=1000, steps=40, samples_per_class=10)
        scores = os.path.join(tmp, "scores")
        sources = {"demo": (demo, 9), "synthetic1000": (synthetic, 2), "scores": (scores, 1)}
        write_scores(scores)
        with sync_playwright() as p:
            browser = launch_browser(p)
            try:
                for source, (logdir, runs) in sources.items():
                    with TensorBoardProcess(logdir) as tb:
                        tb.wait_for_runs(runs)
                        for png, show, data in SHOTS.values():
                            if data == source:
                                render(tb.url, browser, show, ROOT / png)
                scenes = reference_scenes(browser, tmp)
            finally:
                browser.close()
    manifest = {
        "regenerate": REGENERATE,
        "viewport": [VIEWPORT["width"], VIEWPORT["height"]],
        "views": {name: {"png": png, **scenes[name]} for name, (png, _, _) in SHOTS.items()},
    }
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {MANIFEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
