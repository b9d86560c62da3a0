"""Every quickstart snippet of the README runs as it is and writes per-class data."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.helpers import free_port, read_summaries

pytestmark = pytest.mark.slow

README = os.path.join(os.path.dirname(__file__), "..", "README.md")
SNIPPET = re.compile(r"<!-- run: (?P<name>[\w-]+) -->\s*```python\n(?P<code>.*?)```", re.S)


def snippets() -> dict[str, str]:
    with open(README, encoding="utf-8") as handle:
        return {m["name"]: m["code"] for m in SNIPPET.finditer(handle.read())}


def test_the_readme_has_a_snippet_per_setup():
    assert set(snippets()) == {
        "pytorch",
        "keras",
        "lightning",
        "ddp",
        "tasks",
        "sinks",
        "one-summary-writer",
        "transformers",
    }


# The Keras snippet runs on each Keras backend it supports (KERAS_BACKEND).
RUNS = [(name, None) for name in sorted(snippets())] + [("keras", "torch"), ("keras", "jax")]


@pytest.mark.parametrize(("name", "keras_backend"), RUNS)
def test_snippet_runs_and_writes_per_class_data(tmp_path, name, keras_backend):
    script = tmp_path / "snippet.py"
    script.write_text(snippets()[name])
    if name == "ddp":
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            f"--master-port={free_port()}",
            str(script),
        ]
    else:
        command = [sys.executable, str(script)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if keras_backend is not None:
        pytest.importorskip(keras_backend)
        env["KERAS_BACKEND"] = keras_backend
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run_dirs = [
        root for root, _, files in os.walk(tmp_path / "runs") if any("tfevents" in f for f in files)
    ]
    assert run_dirs, "no event files written"
    written = [summary for run in run_dirs for summary in read_summaries(run, name=None)]
    assert written and all(matrix.shape[0] == 5 for _, matrix, _ in written)
    for ours in ("PerClassWriter(name=", "PerClassCallback(name="):  # the snippets are clean
        assert ours not in result.stderr, result.stderr[-3000:]
