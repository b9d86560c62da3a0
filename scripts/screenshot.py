"""Screenshot of the real Per-Class tab, for the README (docs/perclass-tab.png).

Starts a real `tensorboard` process, opens the tab in headless Chromium and saves a 1400x900
screenshot. Without --logdir it first writes demo runs (exp1/train, exp1/validation) with the
real `tb_perclass.PerClassWriter`.

    python scripts/screenshot.py                         # demo runs, 10 classes
    python scripts/screenshot.py --classes 100 --out /tmp/perclass-100.png
    python scripts/screenshot.py --logdir runs           # an existing logdir

Chromium: /usr/bin/chromium by default (CHROMIUM env var or --chromium to change it); nothing
is downloaded. The helpers here are also used by tests/test_browser_e2e.py.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "perclass-tab.png"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1400, "height": 900}

CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def class_names_for(num_classes: int) -> list[str]:
    if num_classes <= len(CIFAR10):
        return CIFAR10[:num_classes]
    return [f"{CIFAR10[i % len(CIFAR10)]}_{i:03d}" for i in range(num_classes)]


def write_demo_runs(
    logdir: str | os.PathLike,
    *,
    class_names: Sequence[str] | None = None,
    num_classes: int = 10,
    steps: int = 40,
    samples_per_class: int = 60,
    nonfinite_class: int | None = None,
    experiment: str = "exp1",
    seed: int = 0,
    seconds_per_step: float = 45.0,
) -> list[str]:
    """Writes `<experiment>/train` and `<experiment>/validation` runs through the real writer.

    Simulated classifier: each class learns at its own rate, a few stay hard, validation lags
    train and some classes overfit late. `nonfinite_class` gets NaN logits at some steps, so
    its per-sample losses are non-finite there. Returns the run directories.
    """
    import numpy as np

    from tb_perclass import PerClassWriter

    names = list(class_names) if class_names is not None else class_names_for(num_classes)
    c = len(names)
    rng = np.random.default_rng(seed)
    ceiling = rng.uniform(3.0, 6.0, size=c)
    rate = rng.uniform(0.06, 0.25, size=c)
    hard = rng.choice(c, size=max(1, c // 8), replace=False)
    ceiling[hard] = rng.uniform(0.6, 1.4, size=len(hard))
    overfit = rng.uniform(0.0, 0.05, size=c) * (rng.random(c) < 0.4)
    start = 1_700_000_000.0
    runs = []
    for split in ("train", "validation"):
        run_dir = os.path.join(os.fspath(logdir), experiment, split)
        with PerClassWriter(run_dir, class_names=names) as writer:
            for step in range(steps):
                skill = ceiling * (1 - np.exp(-rate * step))
                if split == "validation":
                    skill = 0.8 * skill - overfit * max(0, step - steps // 2) * ceiling
                targets = np.repeat(np.arange(c), samples_per_class)
                logits = rng.normal(0.0, 1.0, size=(len(targets), c)).astype(np.float32)
                logits[np.arange(len(targets)), targets] += skill[targets]
                if nonfinite_class is not None and step % 6 == 3:
                    rows = np.flatnonzero(targets == nonfinite_class)[: max(1, samples_per_class // 4)]
                    logits[rows] = np.nan
                writer.update(logits, targets)
                writer.write(step, wall_time=start + step * seconds_per_step + (7 if split == "validation" else 0))
        runs.append(run_dir)
    return runs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TensorBoard:
    """A real `python -m tensorboard.main --logdir D --port P --bind_all` process."""

    def __init__(self, logdir: str | os.PathLike, *, path_prefix: str = "", extra_args: Sequence[str] = ()):
        self.logdir = os.fspath(logdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{path_prefix}"
        if path_prefix:
            extra_args = (f"--path_prefix={path_prefix}", *extra_args)
        self._log = tempfile.NamedTemporaryFile(prefix=f"tensorboard-{self.port}-", suffix=".log", delete=False)
        command = [
            sys.executable, "-m", "tensorboard.main",
            "--logdir", self.logdir,
            "--port", str(self.port),
            "--bind_all",
            *extra_args,
        ]  # fmt: skip
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)

    def __enter__(self) -> "TensorBoard":
        try:
            self.wait_until_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()

    def log_text(self) -> str:
        return Path(self._log.name).read_text("utf-8", "replace")

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def wait_until_serving(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tensorboard exited:\n{self.log_text()}")
            try:
                if "perclass" in self.get_json("/data/plugins_listing"):
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"tensorboard did not serve the perclass plugin in {timeout} s:\n{self.log_text()}")

    def wait_for_runs(self, count: int, timeout: float = 90.0) -> dict:
        """Waits until the `tags` route lists `count` runs (loading happens in the background)."""
        deadline = time.monotonic() + timeout
        tags: dict = {}
        while time.monotonic() < deadline:
            try:
                tags = self.get_json("/data/plugin/perclass/tags")
                if len(tags) >= count:
                    return tags
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"the tags route listed {sorted(tags)} instead of {count} runs:\n{self.log_text()}")


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", help="an existing logdir (default: write demo runs to a temp dir)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="PNG to write (default: docs/perclass-tab.png)")
    parser.add_argument("--classes", type=int, default=10, help="demo runs: number of classes")
    parser.add_argument("--steps", type=int, default=40, help="demo runs: number of steps")
    parser.add_argument("--samples", type=int, default=None, help="demo runs: samples per class and step")
    parser.add_argument("--chromium", default=CHROMIUM, help="Chromium executable")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="perclass-shot-") as tmp:
        logdir = args.logdir
        expected_runs = 1
        if logdir is None:
            logdir = os.path.join(tmp, "runs")
            write_demo_runs(logdir, num_classes=args.classes, steps=args.steps,
                            samples_per_class=args.samples or (60 if args.classes <= 20 else 20),
                            nonfinite_class=3 if args.classes <= 20 else None)  # fmt: skip
            expected_runs = 2
        with TensorBoard(logdir) as tb:
            tb.wait_for_runs(expected_runs)
            with sync_playwright() as p:
                browser = launch_browser(p, args.chromium)
                try:
                    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
                    page = context.new_page()
                    frame = open_tab(page, tb.url)
                    try:
                        wait_for_chart(frame)
                    except Exception:  # an empty logdir has no chart: shoot the empty state
                        frame.wait_for_selector("[data-role=empty-state]", timeout=5_000)
                    out = Path(args.out)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(out))
                    print(f"wrote {out}")
                finally:
                    browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
