"""The committed frontend bundle is what the locked toolchain builds from the sources, the
frontend's own unit tests (vitest) and type check pass, and its sources are formatted (prettier).

Needs Node and `npm ci --prefix frontend` (the test setup runs it; CI does too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
BUNDLE = ROOT / "tb_perclass" / "plugin" / "static" / "index.js"


def _require_toolchain() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js 20+ to build and test the frontend")
    if not (FRONTEND / "node_modules" / "esbuild").is_dir():
        pytest.fail(
            "frontend/node_modules is missing: run `npm ci --prefix frontend` "
            "(installs the locked frontend toolchain), then re-run the tests"
        )
    return node


def _build_into(outdir: Path) -> bytes:
    node = _require_toolchain()
    result = subprocess.run(
        [node, "build.mjs", "--outdir", str(outdir)],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"frontend build failed:\n{result.stdout}\n{result.stderr}"
    return (outdir / "index.js").read_bytes()


def test_committed_bundle_is_fresh(tmp_path):
    fresh = _build_into(tmp_path)
    assert BUNDLE.is_file(), f"{BUNDLE} is missing: run `npm run build` in frontend/"
    committed = BUNDLE.read_bytes()
    assert fresh == committed, (
        "tb_perclass/plugin/static/index.js is stale: it differs from a fresh build of "
        "frontend/src. Run `npm run build` in frontend/ and commit the result."
    )


def test_bundle_is_reproducible_and_self_contained(tmp_path):
    first = _build_into(tmp_path / "a")
    second = _build_into(tmp_path / "b")
    assert first == second, "two builds of the same sources differ: the build is not reproducible"
    text = first.decode("utf-8")
    exports_render = "export{" in text.replace(" ", "") and "as render}" in text
    assert exports_render, "index.js must export render()"
    for leak in (str(ROOT), str(tmp_path), "sourceMappingURL", "/home/", "/root/"):
        assert leak not in text, f"the bundle contains {leak!r}"
    # everything is inside the one module: no imports, CDNs or fetched fonts
    for external in ("import(", 'from"http', "https://cdn", "@font-face", "fonts.googleapis"):
        assert external not in text, f"the bundle references {external!r}"


def test_frontend_unit_tests_pass():
    _require_toolchain()
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH: install Node.js 20+ (with npm)")
    env = dict(os.environ, CI="true", NO_COLOR="1", FORCE_COLOR="0")
    result = subprocess.run(
        [npm, "test", "--silent"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"`npm test` in frontend/ failed:\n{output[-8000:]}"
    assert "passed" in output, output[-4000:]


def test_frontend_sources_are_formatted():
    """The style gate of the frontend: prettier (pinned in package.json, .prettierrc.json) over
    frontend/src and frontend/test; the TypeScript checker runs in `npm test` above."""
    node = _require_toolchain()
    prettier = FRONTEND / "node_modules" / "prettier" / "bin" / "prettier.cjs"
    if not prettier.is_file():
        pytest.fail("frontend/node_modules has no prettier: run `npm ci --prefix frontend`")
    result = subprocess.run(
        [node, str(prettier), "--check", "src", "test"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    fix = "run `npm run format --prefix frontend`"
    assert result.returncode == 0, f"frontend sources are not formatted: {fix}\n{output[-4000:]}"
