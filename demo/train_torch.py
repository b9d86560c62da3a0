"""Trains a small CNN on the digits with a plain PyTorch loop and logs per-class curves.

    python -m demo.train_torch runs/digits/torch --epochs 15

writes the runs `runs/digits/torch/train` and `runs/digits/torch/validation`.
"""

from __future__ import annotations

import argparse
import os

import torch
import torch.nn.functional as F
from torch import nn

from demo.digits import CLASS_NAMES, load_split
from tb_perclass import PerClassWriter


def make_model(num_classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Linear(64, num_classes),
    )


def train(logdir: str, epochs: int = 15, batch_size: int = 64, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    x_train, y_train, x_val, y_val = (torch.as_tensor(a) for a in load_split(seed))
    x_train, x_val = x_train.unsqueeze(1), x_val.unsqueeze(1)  # (N, 1, 8, 8)
    model = make_model(len(CLASS_NAMES))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)

    # scores=True: PR/ROC curves, AP, AUROC, calibration and top-3 accuracy (the Scores view).
    options = dict(class_names=CLASS_NAMES, scores=True, top_k=3)
    train_pc = PerClassWriter(os.path.join(logdir, "train"), **options)
    val_pc = PerClassWriter(os.path.join(logdir, "validation"), **options, samples_per_cell=4)
    with train_pc, val_pc:
        for epoch in range(epochs):
            model.train()
            for batch in torch.randperm(len(y_train)).split(batch_size):
                x, y = x_train[batch], y_train[batch]
                logits = model(x)
                losses = F.cross_entropy(logits, y, reduction="none")  # per-sample loss
                losses.mean().backward()
                optimizer.step()
                optimizer.zero_grad()
                train_pc.update(logits, y, losses=losses)  # no host sync
            model.eval()
            with torch.no_grad():
                for batch in torch.arange(len(y_val)).split(256):
                    x = x_val[batch]
                    # Loss computed for you; the most confident mistakes kept as images.
                    val_pc.update(model(x), y_val[batch], inputs=x, sample_ids=batch)
            train_stats = train_pc.write(step=epoch)
            val_stats = val_pc.write(step=epoch)
            print(
                f"epoch {epoch:2d}  train acc {train_stats.correct.sum() / train_stats.total:.3f}"
                f"  val acc {val_stats.correct.sum() / val_stats.total:.3f}"
                f"  worst val class {CLASS_NAMES[val_stats.accuracy.argmin()]}"
                f" ({val_stats.accuracy.min():.2f})"
            )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", nargs="?", default="runs/digits/torch")
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    train(args.logdir, epochs=args.epochs)


if __name__ == "__main__":
    main()
