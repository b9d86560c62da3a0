"""Trains the same small CNN on the digits with Keras `fit()` and logs per-class curves.

    python -m demo.train_keras runs/digits/keras --epochs 15

writes the runs `runs/digits/keras/train` and `runs/digits/keras/validation`. One callback:
train statistics come from the batches `fit()` computes anyway (no extra forward pass), and the
validation data is predicted once per epoch to keep its most confident mistakes as images.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from demo.digits import CLASS_NAMES, load_split
from tb_perclass.keras import PerClassCallback


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
    per_class = PerClassCallback(
        logdir,
        class_names=CLASS_NAMES,
        validation_data=(x_val, y_val),
        samples_per_cell=4,
        scores=True,  # the Scores view: PR/ROC curves, AP, AUROC, calibration, top-3 accuracy
        top_k=3,
    )
    model.fit(
        x_train, y_train, epochs=epochs, batch_size=batch_size, callbacks=[per_class], verbose=2
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", nargs="?", default="runs/digits/keras")
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    train(args.logdir, epochs=args.epochs)


if __name__ == "__main__":
    main()
