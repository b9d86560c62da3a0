"""PerClassCallback against the naive per-class Keras callback, same model and data (CPU).

The naive callback (what people write by hand) calls `model.predict` once per class on that
class's training samples, plus once on all of them, at every epoch's end. PerClassCallback reads
the statistics of the batches `fit()` computes anyway. For 10 and 100 classes, the epoch time of
`fit()` with no callback, with the naive one and with PerClassCallback is measured in rounds that
alternate the three (median time of the epochs after each fit()'s first, which traces), and the
overheads are reported as ratios; so is the median training step (batch) of plain and
PerClassCallback, which a loaded machine disturbs less.

    [KERAS_BACKEND=torch|jax] python -m bench.keras_callback [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from tb_perclass.keras import PerClassCallback, PerClassMetric

# On an eager backend (torch) the time of each metric update inside fit() is the callback's
# per-batch work; TensorFlow and JAX run it inside compiled steps, where it cannot be timed so.
UPDATE_TIMES: list[float] = []
_update_state = PerClassMetric.update_state


def _timed_update_state(self, *args, **kwargs):
    start = time.perf_counter()
    try:
        return _update_state(self, *args, **kwargs)
    finally:
        UPDATE_TIMES.append(time.perf_counter() - start)


PerClassMetric.update_state = _timed_update_state

SAMPLES, FEATURES, BATCH = 20_000, 64, 256


class NaivePerClass(keras.callbacks.Callback):
    def __init__(self, x, y, num_classes):
        super().__init__()
        self.x, self.y, self.num_classes = x, y, num_classes
        self.loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def on_epoch_end(self, epoch, logs=None):
        for c in range(self.num_classes):
            members = self.y == c
            if members.any():
                logits = self.model.predict(self.x[members], batch_size=BATCH, verbose=0)
                float(self.loss(self.y[members], logits))
        self.model.predict(self.x, batch_size=BATCH, verbose=0)


class EpochTimer(keras.callbacks.Callback):
    """Placed last, so an epoch's time includes the other callbacks' on_epoch_end work."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []
        self.batch_times: list[float] = []

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.batch_times.append(time.perf_counter() - self._batch_start)

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def model_for(num_classes: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(num_classes),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def measure(num_classes: int, rounds: int, logdir: str) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, FEATURES)).astype(np.float32)
    y = rng.integers(0, num_classes, SAMPLES)
    models = {name: model_for(num_classes) for name in ("plain", "naive", "perclass")}
    extra = {
        "plain": [],
        "naive": [NaivePerClass(x, y, num_classes)],
        "perclass": [PerClassCallback(os.path.join(logdir, f"c{num_classes}"))],
    }
    UPDATE_TIMES.clear()
    times: dict[str, list[float]] = {name: [] for name in models}
    batch_times: dict[str, list[float]] = {name: [] for name in models}
    for round_index in range(rounds + 1):  # round 0 warms up (tracing)
        order = list(models) if round_index % 2 else list(reversed(models))
        for name in order:
            timer = EpochTimer()
            first = 4 * round_index  # each fit() continues the epochs (steps) of the last
            models[name].fit(
                x,
                y,
                initial_epoch=first,
                epochs=first + 4,
                batch_size=BATCH,
                verbose=0,
                callbacks=[*extra[name], timer],
            )
            if round_index:
                # The first epoch of a fit() traces the train function (PerClassCallback makes
                # each fit() trace it afresh, as the first fit() of any model does): left out.
                times[name].extend(timer.times[1:])
                batch_times[name].extend(timer.batch_times[len(timer.batch_times) // 4 :])
    epochs = {name: statistics.median(t) for name, t in times.items()}
    # A training step's median (fit's own batches, without the epoch-end work): steadier than
    # epochs on a loaded machine, where preemption lands on a few batches of any epoch.
    steps = {name: statistics.median(t) for name, t in batch_times.items()}
    inside = statistics.median(UPDATE_TIMES[len(UPDATE_TIMES) // 4 :]) if UPDATE_TIMES else 0.0
    return {**epochs, **{f"{name} step": t for name, t in steps.items()}, "inside": inside}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(
        f"fit() epochs of {SAMPLES} samples, batch {BATCH}, MLP 64-256-256-C, CPU, Keras "
        f"{keras.backend.backend()} backend (median epoch time)"
    )
    with tempfile.TemporaryDirectory() as logdir:
        for num_classes in (10, 100):
            r = measure(num_classes, args.rounds, logdir)
            plain = r["plain"]
            print(
                f"  C={num_classes:3d}: plain {plain * 1e3:6.0f} ms | naive callback "
                f"{r['naive'] * 1e3:6.0f} ms ({r['naive'] / plain:4.2f}x) | PerClassCallback "
                f"{r['perclass'] * 1e3:6.0f} ms ({r['perclass'] / plain:4.2f}x) | naive / ours "
                f"{r['naive'] / r['perclass']:4.2f}"
            )
            plain_step = r["plain step"]
            print(
                f"         training step (median batch): plain {plain_step * 1e3:.2f} ms | "
                f"PerClassCallback {r['perclass step'] * 1e3:.2f} ms "
                f"({r['perclass step'] / plain_step:4.2f}x)"
            )
            if keras.backend.backend() == "torch":
                print(
                    f"         inside the callback (median metric update per batch): "
                    f"{r['inside'] * 1e3:.3f} ms, {r['inside'] / plain_step:.1%} of the plain step"
                )


if __name__ == "__main__":
    main()
