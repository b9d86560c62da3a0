"""End to end, the tab as a newcomer meets it: the demo's first view tells the README's story,
fifteen runs stay in view, single-step runs draw, the legend and the mean labels keep out of the
way, the gallery after a click, and the downloads say what they are. A real `tensorboard`, real
headless Chromium (helpers shared with test_browser_e2e.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from demo.digits import CLASS_NAMES
from demo.synthetic_runs import write_runs
from scripts import screenshot as shot
from tests.helpers import TensorBoardProcess
from tests.test_browser_e2e import MATRIX_CANVAS, Tab, _assert_drawn, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPLITS = ("train", "validation")


@pytest.fixture
def tab(browser):  # noqa: F811 (the shared browser fixture)
    t = Tab(browser)
    yield t
    t.close()


@pytest.fixture(scope="module")
def tb_demo(tmp_path_factory):
    """The demo as scripts/demo.sh trains it, without Keras (the PyTorch digits, the binary and
    the multilabel task): three class sets, the digits "three" and "eight" rare in training."""
    logdir = tmp_path_factory.mktemp("demo")
    for module, target in [
        ("demo.train_torch", os.path.join(logdir, "torch")),
        ("demo.train_tasks", str(logdir)),
    ]:
        subprocess.run(
            [sys.executable, "-m", module, target, "--epochs", "15"],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
    with TensorBoardProcess(logdir) as tb:
        tb.wait_for_runs(6)
        yield tb


def write_fifteen(logdir):
    """Fifteen runs: six experiments of the digits (train and validation), a 100-class one
    (train and validation), and a run with a single step."""
    for i, lr in enumerate(["0.1", "0.03", "0.01", "0.003", "0.001", "0.0003"]):
        write_runs(logdir, class_names=CLASS_NAMES, experiment=f"lr_{lr}", steps=12, seed=i)
    write_runs(logdir, num_classes=100, experiment="cifar100", steps=12, samples_per_class=10)
    os.makedirs(os.path.join(logdir, "tmp"))
    write_runs(os.path.join(logdir, "tmp"), class_names=CLASS_NAMES, experiment="one", steps=1)
    os.rename(os.path.join(logdir, "tmp", "one", "train"), os.path.join(logdir, "single_step"))
    shutil.rmtree(os.path.join(logdir, "tmp"))


@pytest.fixture(scope="module")
def tb15(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("fifteen")
    write_fifteen(str(logdir))
    with TensorBoardProcess(logdir) as tb:
        tb.wait_for_runs(15)
        yield tb


LONG_NAMES = [f"{d}_{'handwritten_digit_from_the_scanner' * 2}" for d in shot.DIGIT_NAMES]


@pytest.fixture(scope="module")
def tb_long_names(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("long")
    shot.write_digit_samples(
        logdir, run="long/validation", steps=2, per_cell=3, class_names=LONG_NAMES
    )
    with TensorBoardProcess(logdir) as tb:
        tb.wait_for_runs(1)
        yield tb


def in_view(tab, selector):
    """Whether each element matching `selector` is inside its scroll container's visible box
    (and the window)."""
    return tab.frame.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].map((e) => {
            const b = e.getBoundingClientRect();
            let p = e.parentElement;
            while (p && p.scrollHeight <= p.clientHeight + 1) p = p.parentElement;
            const box = p ? p.getBoundingClientRect() : {top: 0, bottom: innerHeight};
            return b.height > 0 && b.top >= box.top - 1 && b.bottom <= box.bottom + 1
                && b.bottom <= innerHeight;
        })""",
        selector,
    )


def test_the_demo_opens_on_the_readme_story(tab, tb_demo):
    """The first view: the digits (the largest multiclass class set), not the binary or the
    multilabel task; the worst classes ranked over the runs shown are the rare digits three and
    eight; the one-series views open on the digits too."""
    tab.open(tb_demo)
    tab.settle()
    sets = tab.texts("[data-control=group] [data-role=group-option] .pc-group-name")
    assert sets == ["10 classes", "multilabel · 3 labels", "binary · 2 classes"], sets
    current = tab.frame.locator("[data-control=group] [aria-checked=true]").text_content()
    assert current.startswith("10 classes"), current
    worst = tab.texts("[data-role=legend-worst] [data-role=worst] span:nth-child(2)")
    assert set(worst[:2]) == {"three", "eight"}, worst
    assert (
        "mean of the 2 runs shown" in tab.frame.locator("[data-role=legend-worst]").text_content()
    )
    # the ranks in the class list, the values labelled
    assert tab.frame.locator("[data-class=eight] .pc-rank").text_content() in ("#1", "#2")
    heading = tab.frame.locator("[data-role=class-value-heading]").text_content()
    assert heading == "latest loss, mean of the 2 runs shown", heading
    _assert_drawn(tab, min_hues=2)
    tab.screenshot("newcomer-demo-first-view.png")
    tab.view_tab("confusion")
    assert tab.heat("confusion")["rows"] == [0, 10]
    assert "torch/validation" in tab.frame.locator("[data-role=title]").text_content()
    tab.view_tab("report")
    tab.frame.wait_for_selector("[data-role=report] tbody tr", timeout=15_000)
    assert tab.frame.locator("[data-role=report] tbody tr").count() == 10
    tab.assert_clean()


def test_fifteen_runs_in_view_filtered_and_picked_in_one_click(tab, tb15):
    tab.open(tb15)
    tab.settle()
    rows = "[data-role=runs] [data-series-row]"
    assert tab.frame.locator(rows).count() == 13  # the digits' class set
    assert all(in_view(tab, rows)), in_view(tab, rows)
    # the worst classes' row stays in view under a legend of 13 runs
    worst = tab.frame.locator("[data-role=legend-worst]")
    assert worst.is_visible() and all(in_view(tab, "[data-role=legend-worst]"))
    # the mean labels sit right of the plot, none over another
    labels = tab.frame.evaluate(
        """() => { const c = document.querySelector('[data-role=chart]');
                   return {labels: JSON.parse(c.getAttribute('data-mean-labels')),
                           plot: c.getAttribute('data-plot').split(',').map(Number),
                           width: c.getBoundingClientRect().width}; }"""
    )
    left, _, width, _ = labels["plot"]
    assert len(labels["labels"]) == 13
    ys = sorted(label["y"] for label in labels["labels"])
    assert all(b - a >= 12 for a, b in zip(ys, ys[1:])), ys
    for label in labels["labels"]:
        assert label["x"] >= left + width, label
        assert label["x"] + label["width"] <= labels["width"] + 1, label
    tab.screenshot("newcomer-15-runs-lines.png")

    # every series in the one-series views: 15 rows under their class sets, all in view
    tab.view_tab("confusion")
    choices = "[data-role=runs] [data-run-choice]"
    assert tab.frame.locator(choices).count() == 15
    assert all(in_view(tab, "[data-role=runs] .pc-run")), in_view(tab, "[data-role=runs] .pc-run")
    tab.screenshot("newcomer-15-runs-sidebar.png")
    tab.view_tab("curves")

    # filter by text, then show only those in one click; one split in one click
    tab.frame.fill("[data-control=series-search]", "lr_0.0")
    tab.settle()
    shown = tab.texts("[data-role=runs] .pc-run-name")
    experiments = ["lr_0.03", "lr_0.01", "lr_0.003", "lr_0.001", "lr_0.0003"]
    assert sorted(shown) == sorted(f"{e}/{split}" for e in experiments for split in SPLITS)
    # each experiment's runs together
    assert all(shown[i].split("/")[0] == shown[i + 1].split("/")[0] for i in (0, 2, 4, 6, 8))
    tab.frame.click("[data-role=series-matching]")
    tab.settle()
    assert len(tab.texts("[data-role=legend] .pc-legend-item[data-run]")) == 10
    tab.frame.click("[data-role=series-split-validation]")
    tab.settle()
    legend = tab.texts("[data-role=legend] .pc-legend-item[data-run]")
    assert len(legend) == 6 and all(x.endswith("/validation") for x in legend), legend
    tab.assert_clean()


def test_a_single_step_run_draws_points(tab, tb15):
    """The README's "Other tasks" snippet writes step 0 only: its lines are points."""
    tab.open(tb15)
    tab.frame.fill("[data-control=series-search]", "single")
    tab.settle()
    tab.frame.click("[data-role=series-matching]")
    tab.settle()
    assert tab.texts("[data-role=legend] .pc-legend-item[data-run]") == ["single_step"]
    # step 0 only: points, the three worst classes' in colour (a line of one point draws no path)
    px = tab.chart_pixels()
    assert px["hues"] >= 2, px
    tab.screenshot("newcomer-single-step.png")
    tab.assert_clean()


def test_the_gallery_after_a_click(tab, tb_long_names):
    """After a click on a cell: the keys move the selection at once, the cell's tooltip is
    gone, the kept count names its cap, the large view hides what is behind it, and long class
    names wrap in a sample's caption, the predicted class on lines of its own."""
    tab.open(tb_long_names, chart=False)
    shot.show_view(tab.frame, "confusion")
    x, y = shot.cell_point(tab.frame, 8, 3)
    tab.page.mouse.move(x, y)
    tooltip = tab.frame.locator("[data-role=cm-tooltip]")
    tooltip.wait_for(state="visible")
    tab.page.mouse.click(x, y)  # the pointer stays on the cell
    tab.frame.wait_for_selector("[data-role=gallery] [data-role=sample]")
    tab.page.mouse.move(x + 2, y + 2)
    assert not tooltip.is_visible()
    sub = tab.frame.locator("[data-role=gallery-step]").text_content()
    assert re.search(r"\b3 kept of \d+ mistakes \(samples_per_cell=3\)", sub), sub
    focused = tab.frame.evaluate("() => document.activeElement.getAttribute('data-role')")
    assert focused == "sample"
    tab.page.keyboard.press("ArrowRight")
    selected = tab.frame.locator("[data-role=sample][aria-selected=true]")
    assert selected.get_attribute("data-index") == tab.frame.locator("[data-role=sample]").nth(
        1
    ).get_attribute("data-index")
    # the long names wrap in the caption (once cut to a few letters each on one line): the
    # predicted class on lines of its own under the true class, each name over three lines,
    # nothing cut at the sides; the full names in the caption's title
    caption = tab.frame.evaluate(
        """() => { const c = document.querySelector('[data-role=sample-classes]');
                   const box = (q) => c.querySelector(q).getBoundingClientRect();
                   const t = box('.pc-sample-true'), p = box('.pc-sample-to');
                   return {title: c.title, line: parseFloat(getComputedStyle(c).lineHeight),
                           trueTop: t.top, trueBottom: t.bottom, predTop: p.top,
                           trueLines: t.height, predLines: p.height,
                           wide: c.scrollWidth > c.clientWidth}; }"""
    )
    assert caption["title"] == f"true class {LONG_NAMES[8]}, predicted class {LONG_NAMES[3]}", (
        caption
    )
    assert caption["predTop"] >= caption["trueBottom"] - 1, caption
    assert caption["trueLines"] >= 3 * caption["line"] - 1, caption
    assert caption["predLines"] >= 3 * caption["line"] - 1, caption
    assert not caption["wide"], caption
    tab.screenshot("newcomer-gallery-long-names.png")
    # the large view is opaque
    tab.page.keyboard.press("Enter")
    large = tab.frame.locator("[data-role=sample-large]")
    large.wait_for(state="visible")
    background = tab.frame.evaluate(
        "() => getComputedStyle(document.querySelector('[data-role=sample-large]')).backgroundColor"
    )
    assert background.startswith("rgb(") and "rgba" not in background, background
    tab.screenshot("newcomer-large-view.png")
    tab.assert_clean()


def test_downloads_say_what_they_are(tab, tb_demo):
    from PIL import Image

    tab.open(tb_demo, chart=False)
    tab.view_tab("confusion")
    heat = tab.heat("confusion")
    with tab.page.expect_download() as download:
        tab.frame.click("[data-role=matrix-png]")
    assert download.value.suggested_filename == (
        "confusion_torch_validation_perclass_step14_counts.png"
    )
    path = download.value.path()
    picture = np.asarray(Image.open(path).convert("RGB"))
    canvas_height = heat["box"]["height"]
    # taller than the matrix: a title above, the colour bar below
    assert picture.shape[0] > canvas_height + 80, (picture.shape, canvas_height)
    dark = (picture.max(axis=2) < 160).any(axis=1)
    assert dark[:50].any(), "no title above the matrix"
    blue = (picture[..., 2].astype(int) - picture[..., 0] > 60).any(axis=1)
    assert blue[-60:].any(), "no colour bar below the matrix"
    os.makedirs(os.path.join(ROOT, "test-artifacts"), exist_ok=True)
    Image.open(path).save(os.path.join(ROOT, "test-artifacts", "newcomer-matrix-download.png"))
    tab.view_tab("report")
    tab.frame.wait_for_selector("[data-role=report] tbody tr", timeout=15_000)
    with tab.page.expect_download() as download:
        tab.frame.click("[data-role=report-csv]")
    assert download.value.suggested_filename == "report_torch_validation_perclass_step14.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[-1].startswith("accuracy,,,0.")
    tab.assert_clean()


def test_the_diff_compares_another_run_at_the_shown_step(tab, tb_demo):
    """Switching the base to another run compares at the step shown (not its first step), and
    the colours say better or worse, as the legend names them."""
    tab.open(tb_demo, chart=False)
    tab.view_tab("confusion")
    tab.heat("confusion")
    shot.unfold_settings(tab.frame)  # folded beside the demo's six series under three sets
    tab.frame.check("[data-control=compare]")
    tab.frame.wait_for_selector("[data-role=changes] [data-role=change]", timeout=15_000)
    tab.frame.select_option("[data-control=compare-run]", label="torch/train")
    tab.frame.wait_for_function(
        "() => document.querySelector('[data-control=compare-step]').value === '14'",
        timeout=15_000,
    )
    tab.frame.wait_for_selector("[data-role=changes] [data-role=change]", timeout=15_000)
    legend = tab.frame.locator("[data-role=cm-legend]").text_content()
    assert "better (more correct, fewer mistakes)" in legend and "worse" in legend, legend
    _assert_drawn(tab, min_hues=2, selector=MATRIX_CANVAS)
    tab.page.mouse.move(5, 5)
    tab.screenshot("newcomer-diff.png")
    tab.assert_clean()
