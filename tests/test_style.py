"""The style gate of the Python tree: `ruff check` (pyflakes, pycodestyle, isort, bugbear,
pyupgrade) and `ruff format --check`, configured in pyproject.toml. `ruff format` and
`ruff check --fix` repair most of what they find."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ruff(*arguments: str) -> subprocess.CompletedProcess:
    try:
        import ruff  # noqa: F401  (the pinned one of the dev extra)
    except ImportError:
        pytest.fail("ruff is not installed: pip install -e '.[dev]' (or bash scripts/setup.sh)")
    command = [sys.executable, "-m", "ruff", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_python_sources_pass_the_linter():
    result = ruff("check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout[-4000:]}"


def test_python_sources_are_formatted():
    result = ruff("format", "--no-cache", "--check", ".")
    assert result.returncode == 0, (
        f"files ruff format would change (run `ruff format`):\n{result.stdout[-4000:]}"
    )
