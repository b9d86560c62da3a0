"""End to end: a real `tensorboard` process serving event files written by the real
`tb_perclass.PerClassWriter`, the Per-Class tab opened in real headless Chromium (Playwright),
checked from inside the plugin's iframe. Screenshots go to test-artifacts/ (gitignored).

One tensorboard process per logdir, shared by the tests of this module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

import pytest

from helpers import TensorBoardProcess
from synthetic_runs import class_names_for, write_runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_EXPERIMENT = "x<b>evil</b>"  # the "/" in it makes a nested run directory: run "x<b>evil</b>/train"


def _load_screenshot_helpers():
    spec = importlib.util.spec_from_file_location("perclass_screenshot", ROOT / "scripts" / "screenshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shot = _load_screenshot_helpers()


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(shot.CHROMIUM):
        pytest.fail(f"Chromium not found at {shot.CHROMIUM} (set CHROMIUM=/path/to/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = shot.launch_browser(p)
        yield b
        b.close()


def _serve(tmp_path_factory, name, write, runs, **kwargs):
    logdir = tmp_path_factory.mktemp(name)
    write(logdir)
    tb = TensorBoardProcess(logdir, **kwargs)
    with tb:
        if runs:
            tb.wait_for_runs(runs)
        yield tb


@pytest.fixture(scope="module")
def tb10(tmp_path_factory):
    def write(d):
        write_runs(d, num_classes=10, steps=30, samples_per_class=40, nonfinite_class=3)

    yield from _serve(tmp_path_factory, "logs10", write, 2)


@pytest.fixture(scope="module")
def tb100(tmp_path_factory):
    def write(d):
        write_runs(d, num_classes=100, steps=30, samples_per_class=10)

    yield from _serve(tmp_path_factory, "logs100", write, 2)


@pytest.fixture(scope="module")
def tb_hostile(tmp_path_factory):
    def write(d):
        write_runs(
            d, class_names=["cat", HOSTILE, "dog"], steps=6, samples_per_class=10, experiment=HOSTILE_EXPERIMENT
        )

    # served under --path_prefix: the tab's relative fetches must follow it
    yield from _serve(tmp_path_factory, "logs_hostile", write, 2, path_prefix="/some/prefix")


@pytest.fixture(scope="module")
def tb_empty(tmp_path_factory):
    yield from _serve(tmp_path_factory, "logs_empty", lambda d: None, 0)


class Tab:
    """A browser page on TensorBoard with the Per-Class iframe, plus what went wrong in it."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport=shot.VIEWPORT, device_scale_factor=1)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on(
            "console",
            lambda m: self.errors.append(f"console: {m.text} @ {m.location}")
            if m.type == "error" and "perclass" in json.dumps(m.location)
            else None,
        )
        self.page.on("dialog", self._on_dialog)
        self.frame = None

    def _on_dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, tb, chart=True):
        self.frame = shot.open_tab(self.page, tb.url)
        if chart:
            shot.wait_for_chart(self.frame)
        return self.frame

    def screenshot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name))

    def texts(self, selector):
        return self.frame.locator(selector).all_text_contents()

    def settle(self):
        self.frame.wait_for_timeout(250)

    def chart_pixels(self, selector="[data-role=chart] .u-wrap > canvas"):
        """Non-background pixels of a canvas and how many hue buckets (of 12) they cover."""
        return self.frame.evaluate(
            """(sel) => {
                const c = document.querySelector(sel);
                if (!c) return null;
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let ink = 0; const hues = new Set();
                for (let i = 0; i < d.length; i += 4) {
                    const r = d[i], g = d[i + 1], b = d[i + 2], a = d[i + 3];
                    if (a < 40 || (r > 240 && g > 240 && b > 240)) continue;
                    ink++;
                    const mx = Math.max(r, g, b), mn = Math.min(r, g, b);
                    if (mx - mn < 60 || a < 200) continue;
                    let h;
                    if (mx === r) h = ((g - b) / (mx - mn)) % 6;
                    else if (mx === g) h = (b - r) / (mx - mn) + 2;
                    else h = (r - g) / (mx - mn) + 4;
                    hues.add(Math.floor(((h * 60 + 360) % 360) / 30));
                }
                return {ink, total: c.width * c.height, hues: hues.size};
            }""",
            selector,
        )

    def hover_a_line(self):
        """Moves the mouse over the plot until the tooltip shows; returns its class text."""
        over = self.frame.locator("[data-role=chart] .u-over")
        box = over.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, box
        tooltip = self.frame.locator("[data-role=tooltip]")
        for fx in (0.35, 0.6, 0.85, 0.15):
            x = box["x"] + box["width"] * fx
            y = box["y"] + box["height"] - 3
            while y > box["y"] + 3:
                self.page.mouse.move(x, y)
                if tooltip.is_visible():
                    return self.frame.locator("[data-role=tooltip-class]").text_content()
                y -= 4
        raise AssertionError("no tooltip anywhere over the chart")

    def x_range(self):
        value = self.frame.locator("[data-role=chart]").get_attribute("data-x-range")
        assert value, "the chart has no x range"
        return tuple(float(v) for v in value.split(","))

    def drag_zoom(self, from_fraction, to_fraction):
        box = self.frame.locator("[data-role=chart] .u-over").bounding_box()
        y = box["y"] + box["height"] / 2
        self.page.mouse.move(box["x"] + box["width"] * from_fraction, y)
        self.page.mouse.down()
        self.page.mouse.move(box["x"] + box["width"] * to_fraction, y, steps=8)
        self.page.mouse.up()
        self.settle()

    def close(self):
        self.context.close()

    def assert_clean(self):
        assert not self.errors, self.errors
        assert not self.dialogs, self.dialogs


@pytest.fixture
def tab(browser):
    t = Tab(browser)
    yield t
    t.close()


def _assert_drawn(tab, min_hues):
    px = tab.chart_pixels()
    assert px is not None, "no chart canvas"
    assert px["ink"] > 0.01 * px["total"], f"the chart is (nearly) blank: {px}"
    assert px["hues"] >= min_hues, f"the chart has too few colours: {px}"
    return px


# --- tests ----------------------------------------------------------------------------------


def test_ten_classes_curves_hover_search_and_settings(tab, tb10):
    tab.open(tb10)
    names = tab.texts("[data-role=classes] .pc-class-name")
    assert names == class_names_for(10)
    assert tab.texts("[data-role=runs] .pc-run-name") == ["exp1/train", "exp1/validation"]
    _assert_drawn(tab, min_hues=5)
    # non-finite losses of class 3 ("cat") are flagged
    assert tab.frame.locator("[data-class=cat] .pc-badge").count() == 1
    assert "non-finite" in tab.frame.locator("[data-role=nonfinite-notice]").text_content()
    tab.screenshot("perclass-10.png")

    # hover: the tooltip names a class and the hovered line is drawn on the hover layer
    hovered = tab.hover_a_line()
    assert hovered in names
    tip = tab.frame.locator("[data-role=tooltip]").text_content()
    assert "Step" in tip and "exp1/" in tip and "Loss" in tip
    layer = tab.chart_pixels("[data-role=chart] .pc-hover-layer")
    assert layer and layer["ink"] > 0, "the hovered line is not highlighted"
    tab.screenshot("perclass-10-hover.png")
    tab.page.mouse.move(5, 5)

    # search filters the class list; "Only matching" plots just those
    tab.frame.fill("[data-control=class-search]", "ir")
    assert tab.texts("[data-role=classes] .pc-class-name") == ["airplane", "bird"]
    tab.frame.click("[data-role=select-filtered]")
    tab.settle()
    assert "2 of 10 shown" in tab.frame.locator("[data-role=class-count]").text_content()
    _assert_drawn(tab, min_hues=2)
    tab.frame.fill("[data-control=class-search]", "")
    tab.frame.click("[data-role=select-all]")

    # log scale, smoothing, accuracy, relative time, worst-N keep a drawn chart
    tab.frame.check("[data-control=log-scale]")
    tab.settle()
    _assert_drawn(tab, min_hues=5)
    tab.frame.fill("[data-control=smoothing]", "0.8")
    tab.settle()
    _assert_drawn(tab, min_hues=5)
    tab.frame.fill("[data-control=worst-n]", "3")
    tab.frame.press("[data-control=worst-n]", "Enter")
    tab.settle()
    assert len(tab.frame.locator("[data-role=worst]").all()) == 3
    tab.frame.click("[data-control=x-axis] [data-value=relative]")
    tab.settle()
    _assert_drawn(tab, min_hues=2)
    tab.frame.click("[data-control=metric] [data-value=accuracy]")
    tab.settle()
    _assert_drawn(tab, min_hues=2)
    tab.screenshot("perclass-10-settings.png")

    # drag to zoom: the x range shrinks, survives the tab's own reload, and a page reload
    full = tab.x_range()
    tab.drag_zoom(0.3, 0.6)
    zoomed = tab.x_range()
    assert zoomed[0] > full[0] and zoomed[1] < full[1], (full, zoomed)
    tab.frame.click("[data-role=reload]")
    tab.frame.wait_for_selector("[data-role=status]:has-text('Last loaded')")
    tab.settle()
    assert tab.x_range() == zoomed
    _assert_drawn(tab, min_hues=2)

    # the view state survives a reload of the page (localStorage)
    tab.page.reload()
    tab.open(tb10)
    assert tab.x_range() == pytest.approx(zoomed)
    assert tab.frame.locator("[data-control=log-scale]").is_checked()
    assert tab.frame.locator("[data-control=smoothing]").input_value() == "0.8"
    assert "pc-active" in tab.frame.locator("[data-control=metric] [data-value=accuracy]").get_attribute("class")
    assert tab.frame.locator("[data-control=worst-n]").input_value() == "3"
    _assert_drawn(tab, min_hues=2)
    tab.assert_clean()


def test_hundred_classes_legible_without_overflow(tab, tb100):
    tab.open(tb100)
    assert tab.frame.locator("[data-role=classes] .pc-class").count() == 100
    # worst 5 coloured by default, the rest grey
    assert len(tab.frame.locator("[data-role=worst]").all()) == 5
    _assert_drawn(tab, min_hues=3)
    geometry = tab.frame.evaluate(
        """() => {
            const list = document.querySelector('[data-role=classes]');
            const side = document.querySelector('[data-role=sidebar]').getBoundingClientRect();
            const chart = document.querySelector('[data-role=chart]').getBoundingClientRect();
            return {
                listScrolls: list.scrollHeight > list.clientHeight + 10,
                listBottom: list.getBoundingClientRect().bottom,
                docW: document.documentElement.scrollWidth, docH: document.documentElement.scrollHeight,
                w: innerWidth, h: innerHeight, sideBottom: side.bottom,
                chartW: chart.width, chartH: chart.height, chartBottom: chart.bottom, chartRight: chart.right,
            };
        }"""
    )
    assert geometry["listScrolls"], geometry
    assert geometry["docW"] <= geometry["w"] and geometry["docH"] <= geometry["h"], geometry
    assert geometry["listBottom"] <= geometry["h"] + 1 and geometry["sideBottom"] <= geometry["h"] + 1, geometry
    assert geometry["chartBottom"] <= geometry["h"] and geometry["chartRight"] <= geometry["w"], geometry
    assert geometry["chartW"] > 600 and geometry["chartH"] > 400, geometry
    tab.screenshot("perclass-100.png")
    hovered = tab.hover_a_line()
    assert hovered
    tab.assert_clean()


def test_hostile_names_are_text_and_new_runs_arrive_on_reload(tab, tb_hostile):
    assert tb_hostile.url.endswith("/some/prefix")
    tab.open(tb_hostile)
    names = tab.texts("[data-role=classes] .pc-class-name")
    assert HOSTILE in names
    assert tab.frame.locator("img").count() == 0
    assert tab.frame.locator("[data-role=runs] b").count() == 0
    runs = tab.texts("[data-role=runs] .pc-run-name")
    assert f"{HOSTILE_EXPERIMENT}/train" in runs
    _assert_drawn(tab, min_hues=2)
    tab.screenshot("perclass-hostile.png")

    # a run written while the tab is open shows up through the tab's own reload
    write_runs(tb_hostile.logdir, class_names=["cat", HOSTILE, "dog"], steps=3, experiment="late")
    deadline = time.monotonic() + 60
    while "late/train" not in tab.texts("[data-role=runs] .pc-run-name"):
        assert time.monotonic() < deadline, "the new run never appeared"
        tab.frame.click("[data-role=reload]")
        tab.frame.wait_for_timeout(1000)
    assert tab.frame.locator("img").count() == 0
    tab.assert_clean()


def test_empty_state_explains_how_to_log(tab, tb_empty):
    tab.open(tb_empty, chart=False)
    empty = tab.frame.locator("[data-role=empty-state]")
    empty.wait_for(timeout=30_000)
    text = empty.text_content()
    assert "No per-class data" in text
    assert "from tb_perclass import PerClassWriter" in text
    assert "tensorboard --logdir runs" in text
    assert not tab.frame.locator("[data-role=sidebar]").is_visible()
    tab.screenshot("perclass-empty.png")
    tab.assert_clean()
