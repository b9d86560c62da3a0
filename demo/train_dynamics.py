"""Finds mislabelled digits while training: the Dynamics tab's demo.

A share of the training labels is flipped on purpose (half at random, half to a look-alike
digit: 3 -> 8, 4 -> 9, 7 -> 1, 5 -> 6, 2 -> 7), the demo CNN trains on them, and the writer tracks
every training sample by its index (`track_samples`, `sample_ids`), keeping thumbnails of the
likeliest label errors (`inputs`). The Dynamics tab then shows the data map, the counts of easy,
ambiguous and hard-to-learn digits per class over the epochs, and the ranked likely label errors,
most of which are the flipped ones; the script prints how many.

    python -m demo.train_dynamics runs/digits/noisy --epochs 20 --flip 0.1

writes the run `runs/digits/noisy/train`; the flipped ids are in `flipped.txt` beside it.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F

from demo.digits import CLASS_NAMES, load_split
from demo.train_torch import make_model
from tb_perclass import PerClassWriter

LOOK_ALIKE = {3: 8, 4: 9, 7: 1, 5: 6, 2: 7}


def flip_labels(labels: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """`share` of the labels flipped: half to a random other digit, half to a look-alike."""
    rng = np.random.default_rng(seed)
    noisy = labels.copy()
    chosen = rng.choice(len(labels), size=int(round(share * len(labels))), replace=False)
    half = len(chosen) // 2
    noisy[chosen[:half]] = (labels[chosen[:half]] + rng.integers(1, 10, half)) % 10
    for i in chosen[half:]:
        noisy[i] = LOOK_ALIKE.get(int(labels[i]), (int(labels[i]) + 1) % 10)
    return noisy


def train(logdir: str, epochs: int = 20, flip: float = 0.1, seed: int = 0) -> np.ndarray:
    """Trains on flipped labels; returns the ids of the flipped samples."""
    torch.manual_seed(seed)
    x_train, y_clean, _, _ = load_split(seed)
    y_noisy = flip_labels(y_clean, flip, seed)
    flipped = np.flatnonzero(y_noisy != y_clean)
    x = torch.as_tensor(x_train).unsqueeze(1)
    y = torch.as_tensor(y_noisy)
    model = make_model(len(CLASS_NAMES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    writer = PerClassWriter(
        os.path.join(logdir, "train"), class_names=CLASS_NAMES, track_samples=len(y)
    )
    with writer:
        for epoch in range(epochs):
            for ids in torch.randperm(len(y)).split(64):
                logits = model(x[ids])
                losses = F.cross_entropy(logits, y[ids], reduction="none")
                losses.mean().backward()
                optimizer.step()
                optimizer.zero_grad()
                # The dataset indices of the batch; inputs keep thumbnails of likely errors.
                writer.update(logits, y[ids], losses=losses, sample_ids=ids, inputs=x[ids])
            writer.write(step=epoch)
    np.savetxt(os.path.join(logdir, "flipped.txt"), flipped, fmt="%d")
    return flipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", nargs="?", default="runs/digits/noisy")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--flip", type=float, default=0.1, help="share of labels to flip")
    args = parser.parse_args()
    flipped = train(args.logdir, epochs=args.epochs, flip=args.flip)
    print(
        f"flipped {len(flipped)} training labels on purpose (ids in {args.logdir}/flipped.txt); "
        "the Dynamics tab lists the likely label errors"
    )


if __name__ == "__main__":
    main()
