"""The Keras callback under `tf.distribute.MultiWorkerMirroredStrategy`: two worker processes on
this machine (`TF_CONFIG` on loopback) give the numbers of a single worker, and only the chief
writes. (Keras 3's own fit() needs two workarounds under this strategy: see
`tests.keras_runs.worker_run`.)"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import free_port, read_summaries

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_workers(logdir, count):
    ports = ",".join(str(free_port()) for _ in range(count)) if count > 1 else ""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    env.pop("TF_CONFIG", None)
    command = [sys.executable, "-m", "tests.keras_runs", "worker", str(logdir)]
    workers = [
        subprocess.Popen(
            [*command, str(index), ports],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(count)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-4000:]


def test_two_workers_give_the_numbers_of_one_and_only_the_chief_writes(tmp_path):
    run_workers(tmp_path / "one", 1)
    run_workers(tmp_path / "two", 2)
    for split, total in (("train", 256), ("validation", 64)):
        files = [f for f in os.listdir(tmp_path / "two" / split) if "tfevents" in f]
        assert len(files) == 1  # the chief's
        for kind in ("stats", "confusion"):
            one = read_summaries(str(tmp_path / "one" / split), kind=kind)
            two = read_summaries(str(tmp_path / "two" / split), kind=kind)
            assert [s for s, _, _ in one] == [s for s, _, _ in two] == [0, 1]
            for (_, a, _), (_, b, _) in zip(one, two):
                if kind == "stats":
                    assert a[1].sum() == total
                    np.testing.assert_array_equal(a[1:], b[1:])
                    np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
                else:
                    np.testing.assert_array_equal(a, b)
