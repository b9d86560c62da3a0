"""The demos' data: scikit-learn's 8x8 digits (shipped with scikit-learn, no download).

Two classes are made rare in the training split (as in many real data sets), so the per-class
curves have something to show: most digits are learned in a few epochs, the rare ones lag behind
and their validation loss stays high, which the averaged loss hides.
"""

from __future__ import annotations

import numpy as np

CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
RARE_CLASSES = (3, 8)
RARE_FRACTION = 0.12


def load_split(seed: int = 0):
    """Returns (x_train, y_train, x_val, y_val): images (N, 8, 8) float32 standardised, labels
    int64. The validation split keeps every class balanced."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images.astype(np.float32) - 8.0) / 8.0  # pixel values are 0..16
    labels = digits.target.astype(np.int64)
    x_train, x_val, y_train, y_val = train_test_split(
        images, labels, test_size=0.25, stratify=labels, random_state=seed
    )
    rng = np.random.default_rng(seed)
    keep = np.ones(len(y_train), dtype=bool)
    for rare in RARE_CLASSES:
        members = np.flatnonzero(y_train == rare)
        dropped = rng.choice(members, size=int(len(members) * (1 - RARE_FRACTION)), replace=False)
        keep[dropped] = False
    return x_train[keep], y_train[keep], x_val, y_val
