"""Every quickstart snippet of the README runs as it is and writes per-class data."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.helpers import free_port, read_summaries
from tests.object_stores import MotoS3Server

pytestmark = pytest.mark.slow

README = os.path.join(os.path.dirname(__file__), "..", "README.md")
SNIPPET = re.compile(r"<!-- run: (?P<name>[\w-]+) -->\s*```python\n(?P<code>.*?)```", re.S)
CI_STEP = re.compile(r"<!-- run: ci -->\s*```yaml\n(?P<step>.*?)```", re.S)
# Snippets that read what another one wrote run after it, in the same directory.
READS = {"notebook": "pytorch"}


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
        "dynamics",
        "scores",
        "notebook",
        "transformers",
        "remote",
    }


# Snippets that write to a URL run against a server of their own (see below).
REMOTE_SNIPPETS = ("remote",)


def run_snippet(tmp_path, name: str, env: dict | None = None) -> subprocess.CompletedProcess:
    script = tmp_path / f"snippet_{name}.py"  # not {name}.py: keras.py would shadow keras
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
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


# The Keras snippet runs on each Keras backend it supports (KERAS_BACKEND).
RUNS = [(name, None) for name in sorted(set(snippets()) - set(REMOTE_SNIPPETS))]
RUNS += [("keras", "torch"), ("keras", "jax")]


@pytest.mark.parametrize(("name", "keras_backend"), RUNS)
def test_snippet_runs_and_writes_per_class_data(tmp_path, name, keras_backend):
    if keras_backend is not None:
        pytest.importorskip(keras_backend)
    if name in READS:
        run_snippet(tmp_path, READS[name])
    backend = None if keras_backend is None else {"KERAS_BACKEND": keras_backend}
    result = run_snippet(tmp_path, name, backend)
    if name == "notebook":
        assert "macro avg" in result.stdout and "validation" in result.stdout
        assert "weighted_f1" in (tmp_path / "history.csv").read_text().splitlines()[0]
    run_dirs = [
        root for root, _, files in os.walk(tmp_path / "runs") if any("tfevents" in f for f in files)
    ]
    assert run_dirs, "no event files written"
    written = [summary for run in run_dirs for summary in read_summaries(run, name=None)]
    assert written and all(matrix.shape[0] == 5 for _, matrix, _ in written)
    for ours in ("PerClassWriter(name=", "PerClassCallback(name="):  # the snippets are clean
        assert ours not in result.stderr, result.stderr[-3000:]


def test_the_ci_step_runs_the_installed_command(tmp_path):
    """The README's GitHub Actions step, its `run:` lines executed by bash as a runner would,
    on the PyTorch snippet's runs and a copy of them as the baseline: the gate passes."""
    import shutil

    (step,) = [m["step"] for m in CI_STEP.finditer(open(README, encoding="utf-8").read())]
    commands = step.split("run: |\n", 1)[1]
    run_snippet(tmp_path, "pytorch")
    shutil.copytree(tmp_path / "runs", tmp_path / "baseline")
    summary = tmp_path / "summary.md"
    env = dict(
        os.environ,
        GITHUB_STEP_SUMMARY=str(summary),
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
    )
    result = subprocess.run(
        ["bash", "-e", "-c", commands],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| **macro avg** |" in summary.read_text()
    assert "PASSED: no class worse by more than 0.02" in result.stdout


def test_remote_snippet_writes_to_the_bucket(tmp_path):
    """The S3 snippet as it is, against a local S3 server holding its bucket; its event files
    are read back with TensorBoard's own loader."""
    with MotoS3Server() as server:
        server.create_bucket("my-bucket")
        run_snippet(tmp_path, "remote", env=server.env())
        assert not os.path.exists(tmp_path / "s3:")
        objects = server.objects("my-bucket", "runs/exp8/train/")
    run_dir = tmp_path / "downloaded"
    run_dir.mkdir()
    for key, data in objects.items():
        (run_dir / key.rsplit("/", 1)[1]).write_bytes(data)
    written = read_summaries(str(run_dir), name=None)
    assert [step for step, _, _ in written] == [0, 1, 2]
