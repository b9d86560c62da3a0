"""Keras training runs that need a process of their own (Keras picks its backend at import,
and multi-worker TensorFlow needs one process per worker), as a module:

    KERAS_BACKEND=torch python -m tests.keras_runs backend LOGDIR   (or run_backend_process)
    python -m tests.keras_runs worker LOGDIR INDEX PORTS   (PORTS "" for a single worker)

Both print one JSON line last. Also `CountingDense`, shared with the in-process Keras tests.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np


def counting_dense(units: int):
    """A Dense layer that counts its executed forward passes in a non-trainable variable
    (updated inside the compiled step, so the count is the step's, not the tracing's)."""
    import keras

    class CountingDense(keras.layers.Dense):
        def build(self, shape):
            super().build(shape)
            self.calls = self.add_weight(
                shape=(), initializer="zeros", trainable=False, name="calls"
            )

        def call(self, inputs):
            self.calls.assign_add(1.0)
            return super().call(inputs)

    return CountingDense(units)


def images(count: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """8x8 one-channel images whose class lights one pixel: learnable, not trivially."""
    rng = np.random.default_rng(0)
    x = rng.random((count, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 4, count)
    x[np.arange(count), y, y, 0] += 2.0
    return x, y


def fixed_model(counter=None):
    """Flatten + Dense(4) with the same weights on every backend, trained with SGD(0): every
    backend and worker computes the same function of its samples."""
    import keras

    head = counter or keras.layers.Dense(4)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), head])
    head.kernel.assign(np.random.default_rng(1).normal(size=(64, 4)).astype("float32") * 0.3)
    head.bias.assign(np.zeros(4, "float32"))
    model.compile(
        keras.optimizers.SGD(0.0), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def backend_run(logdir: str) -> dict:
    """fit() with fit's own validation (stats, no extra pass), then with the callback's
    validation data (kept samples)."""
    import keras

    from tb_perclass.keras import PerClassCallback

    x, y = images()
    counter = counting_dense(4)
    model = fixed_model(counter)
    scores = keras.backend.backend() != "jax"  # score histograms: TensorFlow and torch
    callback = PerClassCallback(
        os.path.join(logdir, "fit"),
        class_names=list("abcd"),
        scores=scores,
        top_k=2 if scores else None,
    )
    model.fit(
        x,
        y,
        validation_data=(x[:90], y[:90]),
        epochs=2,
        batch_size=32,
        verbose=0,
        callbacks=[callback],
    )
    calls = float(np.asarray(counter.calls.numpy()))
    own = PerClassCallback(
        os.path.join(logdir, "own"), validation_data=(x[:90], y[:90]), max_samples=5
    )
    fixed_model().fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[own])
    return {"backend": keras.backend.backend(), "calls": calls}


def run_backend_process(logdir, backend: str) -> dict:
    """`backend_run` in a process of its own on a Keras backend; its JSON line."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-m", "tests.keras_runs", "backend", str(logdir)],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    return report


def worker_run(logdir: str, index: int, ports: str) -> dict:
    """One worker of MultiWorkerMirroredStrategy (TF_CONFIG on loopback), or a single worker.

    Keras 3's own fit() does not run under MultiWorkerMirroredStrategy as released (Keras 3.15,
    TensorFlow 2.21; keras-team/keras#20585): its symbolic build reduces a batch of per-replica
    values with `strategy.reduce(..., axis=None)`, which the collective strategy refuses, and its
    step reduces scalar logs with `axis=0`. Both Keras bugs are worked around here (the model is
    built first; scalars are reduced without an axis); the callback runs unchanged."""
    if ports:
        workers = [f"127.0.0.1:{port}" for port in ports.split(",")]
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        os.environ["TF_CONFIG"] = json.dumps(config)
    import tensorflow as tf
    from keras.src.backend.tensorflow import trainer as tf_trainer

    from tb_perclass.keras import PerClassCallback

    multi_worker = bool(ports)
    strategy = (
        tf.distribute.MultiWorkerMirroredStrategy()
        if multi_worker
        else tf.distribute.get_strategy()
    )
    x, y = images(256)
    with strategy.scope():
        model = fixed_model()
    if multi_worker:
        model._maybe_symbolic_build = lambda *args, **kwargs: None
        reduce = tf_trainer.reduce_per_replica

        def reduce_per_replica(values, strategy, reduction):
            if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(
                strategy
            ):
                return tf.nest.map_structure(
                    lambda v: strategy.reduce("MEAN", v, axis=None), values
                )
            return reduce(values, strategy, reduction)

        tf_trainer.reduce_per_replica = reduce_per_replica
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    validation = tf.data.Dataset.from_tensor_slices((x[:64], y[:64])).batch(32)
    callback = PerClassCallback(logdir, class_names=list("abcd"))
    model.fit(train, validation_data=validation, epochs=2, verbose=0, callbacks=[callback])
    return {"worker": index}


if __name__ == "__main__":
    if sys.argv[1] == "backend":
        result = backend_run(sys.argv[2])
    else:
        result = worker_run(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    print(json.dumps(result), flush=True)
