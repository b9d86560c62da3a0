"""Trains the same small CNN on the digits with Keras `fit()` and logs per-class curves.

    python demo/train_keras.py runs/digits/keras --epochs 15

writes the runs `runs/digits/keras/train` and `runs/digits/keras/validation`. The callback below
feeds `PerClassWriter` with TensorFlow tensors at each epoch's end; it predicts the training data
once more per epoch to do so, which `tb_perclass.keras.PerClassCallback` (planned) avoids by
reading the statistics of the batches `fit()` already computed.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from digits import CLASS_NAMES, load_split  # noqa: E402
from tb_perclass import PerClassWriter  # noqa: E402


def make_model(num_classes: int = 10) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(num_classes),  # logits
        ]
    )


class PerClassEpochLogger(keras.callbacks.Callback):
    """Writes per-class statistics of the given splits at the end of every epoch."""

    def __init__(self, logdir: str, splits: dict[str, tuple[np.ndarray, np.ndarray]]):
        super().__init__()
        self.splits = splits
        self.writers = {
            split: PerClassWriter(os.path.join(logdir, split), class_names=CLASS_NAMES)
            for split in splits
        }

    def on_epoch_end(self, epoch, logs=None):
        for split, (x, y) in self.splits.items():
            for start in range(0, len(y), 512):
                logits = self.model(x[start : start + 512], training=False)
                self.writers[split].update(logits, tf.constant(y[start : start + 512]))
            self.writers[split].write(step=epoch)

    def on_train_end(self, logs=None):
        for writer in self.writers.values():
            writer.close()


def train(logdir: str, epochs: int = 15, batch_size: int = 64, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    x_train, y_train, x_val, y_val = load_split(seed)
    x_train, x_val = x_train[..., None], x_val[..., None]  # (N, 8, 8, 1)
    model = make_model(len(CLASS_NAMES))
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    logger = PerClassEpochLogger(
        logdir, {"train": (x_train, y_train), "validation": (x_val, y_val)}
    )
    model.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
        batch_size=batch_size, callbacks=[logger], verbose=2,
    )  # fmt: skip
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", nargs="?", default="runs/digits/keras")
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    train(args.logdir, epochs=args.epochs)


if __name__ == "__main__":
    main()
