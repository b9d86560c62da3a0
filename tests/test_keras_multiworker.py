"""The Keras callback under `tf.distribute.MultiWorkerMirroredStrategy`: two worker processes on
this machine (`TF_CONFIG` on loopback) give the numbers of a single worker, and only the chief
writes.

Keras 3's own `fit()` does not run under MultiWorkerMirroredStrategy as released (Keras 3.15,
TensorFlow 2.21; keras-team/keras#20585): its symbolic build reduces a batch of per-replica
values with `strategy.reduce(..., axis=None)`, which the collective strategy refuses, and its
step reduces scalar logs with `axis=0`. The worker script works around both Keras bugs (build
the model first, reduce scalars without an axis); the callback itself runs unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from helpers import free_port, read_summaries

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow")

WORKER = textwrap.dedent(
    """
    import json, os, sys
    logdir, index, ports = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    if ports != [""]:
        os.environ["TF_CONFIG"] = json.dumps({
            "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
            "task": {"type": "worker", "index": index},
        })
    import numpy as np, tensorflow as tf, keras
    from keras.src.backend.tensorflow import trainer as tf_trainer
    from tb_perclass.keras import PerClassCallback

    multi_worker = ports != [""]
    strategy = tf.distribute.MultiWorkerMirroredStrategy() if multi_worker else tf.distribute.get_strategy()
    rng = np.random.default_rng(0)
    x = rng.random((256, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 4, 256)
    xv, yv = x[:64], y[:64]
    with strategy.scope():
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(4)])
        model.set_weights([np.random.default_rng(1).normal(size=(64, 4)).astype("float32"),
                           np.zeros(4, "float32")])
        model.compile(keras.optimizers.SGD(0.0),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    if multi_worker:  # the two Keras bugs of the module docstring
        model._maybe_symbolic_build = lambda *args, **kwargs: None
        reduce = tf_trainer.reduce_per_replica

        def reduce_per_replica(values, strategy, reduction):
            if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy):
                return tf.nest.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
            return reduce(values, strategy, reduction)

        tf_trainer.reduce_per_replica = reduce_per_replica
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    validation = tf.data.Dataset.from_tensor_slices((xv, yv)).batch(32)
    model.fit(train, validation_data=validation, epochs=2, verbose=0,
              callbacks=[PerClassCallback(logdir, class_names=list("abcd"))])
    print(json.dumps({"worker": index}), flush=True)
    """
)


def run_workers(logdir, count):
    ports = ",".join(str(free_port()) for _ in range(count)) if count > 1 else ""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(logdir), str(index), ports],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        for index in range(count)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=600)
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
