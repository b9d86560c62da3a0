"""The Keras callback on Keras 3's TensorFlow, PyTorch and JAX backends: the same numbers from
the same model and data, no forward pass of its own, kept samples; and a backend it cannot run
on is named. Each backend runs in its own process (Keras picks its backend at import)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests import keras_runs
from tests.helpers import read_summaries

pytestmark = pytest.mark.slow
pytest.importorskip("keras")


def run_backend(tmp_path, backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    logdir = tmp_path / backend
    return logdir, keras_runs.run_backend_process(logdir, backend)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return run_backend(tmp_path_factory.mktemp("keras"), "tensorflow")


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_same_numbers_as_tensorflow_and_no_forward_pass_of_its_own(tmp_path, reference, backend):
    tf_dir, tf_report = reference
    logdir, report = run_backend(tmp_path, backend)
    # 2 epochs of ceil(300 / 32) training and ceil(90 / 32) validation batches: fit's own.
    assert report["calls"] == tf_report["calls"] == 2 * (10 + 3)
    for split, total in (("train", 300), ("validation", 90)):
        for kind in ("stats", "confusion"):
            theirs = read_summaries(str(tf_dir / "fit" / split), kind=kind)
            ours = read_summaries(str(logdir / "fit" / split), kind=kind)
            assert [s for s, _, _ in ours] == [s for s, _, _ in theirs] == [0, 1]
            for (_, a, meta), (_, b, _) in zip(theirs, ours):
                assert meta.class_names == ("a", "b", "c", "d")
                if kind == "stats":
                    assert a[1].sum() == total
                    np.testing.assert_array_equal(a[1:], b[1:])  # counts exactly
                    np.testing.assert_allclose(a[0], b[0], rtol=1e-5)  # mean losses
                else:
                    np.testing.assert_array_equal(a, b)
    if backend == "torch":  # scores=True (torch ops on the variables' tensors)
        for split in ("train", "validation"):
            theirs = read_summaries(str(tf_dir / "fit" / split), kind="scores")
            ours = read_summaries(str(logdir / "fit" / split), kind="scores")
            assert len(ours) == len(theirs) == 2
            for (_, a, _), (_, b, _) in zip(theirs, ours):
                assert b.sum() > 0
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)
    theirs = read_summaries(str(tf_dir / "own" / "validation"), kind="samples")
    ours = read_summaries(str(logdir / "own" / "validation"), kind="samples")
    assert len(ours) == 1
    manifest = json.loads(ours[0][1][0])
    assert [m["id"] for m in manifest] == [m["id"] for m in json.loads(theirs[0][1][0])]
    assert len(manifest) == 5 and all(m["media"] == "image/png" for m in manifest)


def test_an_unsupported_backend_is_named():
    script = "from tb_perclass.keras import PerClassCallback\nPerClassCallback('runs')\n"
    env = dict(os.environ, KERAS_BACKEND="numpy", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode != 0
    assert "this Keras runs on 'numpy' (KERAS_BACKEND)" in result.stderr
    assert "tensorflow, torch, jax" in result.stderr


@pytest.mark.parametrize(
    ("backend", "option", "message"),
    [
        ("jax", "scores=True", "scores=True runs on Keras' tensorflow and torch backends, not yet"),
        ("torch", "track_samples=10", "track_samples runs on Keras' tensorflow backend only"),
    ],
)
def test_options_a_backend_lacks_are_refused_by_name(backend, option, message):
    pytest.importorskip(backend)
    script = f"from tb_perclass.keras import PerClassCallback\nPerClassCallback('runs', {option})\n"
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]
