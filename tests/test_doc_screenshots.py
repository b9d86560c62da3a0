"""The README's screenshots are regenerated when a view they show changes: this renders the
views of scripts/doc_screenshots.py's reference logdir again and compares them with what the
script recorded when it last shot the README's pictures (docs/screenshots.json). Text is
compared exactly, the picture as 50 px block colours within a tolerance, so that font
antialiasing never fails it and a changed layout, control or colour scale does (see the
script's docstring). When it fails: `python -m scripts.doc_screenshots`, look at the new
pictures, commit them with docs/screenshots.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scripts import doc_screenshots as docs
from scripts.screenshot import CHROMIUM, VIEWPORT, launch_browser

ROOT = Path(__file__).resolve().parents[1]


def manifest() -> dict:
    return json.loads(docs.MANIFEST.read_text())


def test_every_readme_picture_is_a_recorded_shot():
    readme = (ROOT / "README.md").read_text()
    pictures = set(re.findall(r"\]\((docs/[^)]+\.png)\)", readme))
    recorded = manifest()
    shot = {v["png"] for v in recorded["views"].values()}
    assert shot | set(docs.NOT_SHOT) == pictures and not shot & set(docs.NOT_SHOT)
    assert set(recorded["views"]) == set(docs.SHOTS)
    assert recorded["viewport"] == [VIEWPORT["width"], VIEWPORT["height"]]
    for png in pictures:
        assert (ROOT / png).stat().st_size > 20_000, f"{png} is missing or (nearly) empty"


def test_the_comparison_tolerates_antialiasing_and_catches_changes():
    base = {"text": "Per-class loss\nLast loaded", "blocks": "808080" * 504}
    # a few levels on every block (rasterisation) pass
    assert docs.differences(base, {**base, "blocks": "848484" * 504}) == []
    # a panel that moved: many blocks by tens of levels
    moved = {**base, "blocks": "808080" * 400 + "f0f0f0" * 104}
    assert "104 of its 504 blocks" in docs.differences(base, moved)[0]
    # one word of the view changed
    assert docs.differences(base, {**base, "text": "Per-class accuracy\nLast loaded"})


@pytest.mark.browser
@pytest.mark.slow
def test_the_documented_views_look_as_when_they_were_shot(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (set CHROMIUM=/path/to/chromium)")
    from playwright.sync_api import sync_playwright

    recorded = manifest()["views"]
    with sync_playwright() as p:
        browser = launch_browser(p)
        try:
            now = docs.reference_scenes(browser, str(tmp_path))
        finally:
            browser.close()
    stale = {
        name: found for name in docs.SHOTS if (found := docs.differences(recorded[name], now[name]))
    }
    assert not stale, (
        "documented views changed since their screenshots were taken; run "
        f"`{docs.REGENERATE}`, look at the pictures and commit them with docs/screenshots.json:\n"
        + "\n".join(
            f"{name} ({recorded[name]['png']}): {'; '.join(f)}" for name, f in stale.items()
        )
    )
