"""scripts/setup.sh (run by demo.sh and test.sh) never installs into an environment the user did
not ask it to change: an existing virtual environment it did not make for this checkout is
refused, with the way out, before anything is installed."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_script(script: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "TB_PERCLASS_USE_VENV"}
    environment.update(env)
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def listing(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


@pytest.fixture
def foreign_env(tmp_path) -> Path:
    path = tmp_path / "their-env"
    venv.EnvBuilder(with_pip=False).create(path)
    return path


@pytest.mark.parametrize("script", ["setup.sh", "demo.sh", "test.sh"])
def test_an_environment_the_scripts_did_not_make_is_refused_untouched(foreign_env, script):
    before = listing(foreign_env)
    result = run_script(script, VENV=str(foreign_env))
    assert result.returncode == 1
    assert "is an existing environment this script did not create" in result.stderr
    assert "Nothing was changed" in result.stderr and "TB_PERCLASS_USE_VENV=1" in result.stderr
    assert listing(foreign_env) == before


def test_another_checkouts_environment_is_refused(foreign_env):
    marker = foreign_env / ".tb-perclass-setup"
    marker.write_text("/somewhere/else/tb-perclass\n")
    before = listing(foreign_env)
    result = run_script("setup.sh", VENV=str(foreign_env))
    assert result.returncode == 1
    assert "made for another checkout (/somewhere/else/tb-perclass)" in result.stderr
    assert listing(foreign_env) == before
    assert marker.read_text() == "/somewhere/else/tb-perclass\n"


def test_a_path_that_is_not_an_environment_is_refused(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("mine")
    result = run_script("setup.sh", VENV=str(path))
    assert result.returncode == 1 and "is not a virtual environment" in result.stderr
    assert path.read_text() == "mine"
