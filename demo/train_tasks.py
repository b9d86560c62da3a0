"""Two other tasks on the digits, with PyTorch: binary ("is it a seven?", rare positives)
and multilabel (three yes/no properties of a digit per image).

    python -m demo.train_tasks runs/digits --epochs 15

writes `runs/digits/binary/{train,validation}` and `runs/digits/multilabel/{train,validation}`.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from demo.digits import load_split
from tb_perclass import PerClassWriter

# Multilabel: properties of the digit shown. "round" digits have a closed loop.
LABELS = ["even", "at least five", "round"]
PROPERTIES = np.array(
    [[d % 2 == 0, d >= 5, d in (0, 6, 8, 9)] for d in range(10)], dtype=np.float32
)


def small_cnn(outputs: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 32),
        nn.ReLU(),
        nn.Linear(32, outputs),
    )


def train_task(
    logdir: str, task: str, epochs: int, seed: int = 0
) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(seed)
    x_train, digits_train, x_val, digits_val = load_split(seed)
    x_train, x_val = torch.as_tensor(x_train)[:, None], torch.as_tensor(x_val)[:, None]
    if task == "binary":
        y_train = torch.as_tensor(digits_train == 7, dtype=torch.float32)
        y_val = torch.as_tensor(digits_val == 7, dtype=torch.float32)
        model, options = small_cnn(1), dict(task="binary", class_names=["other digit", "seven"])
    else:
        y_train = torch.as_tensor(PROPERTIES[digits_train])
        y_val = torch.as_tensor(PROPERTIES[digits_val])
        model, options = small_cnn(3), dict(task="multilabel", class_names=LABELS)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    options["scores"] = True  # the Scores view: PR/ROC, thresholds, calibration per label
    train_pc = PerClassWriter(os.path.join(logdir, task, "train"), **options)
    val_pc = PerClassWriter(os.path.join(logdir, task, "validation"), **options, samples_per_cell=4)
    with train_pc, val_pc:
        for epoch in range(epochs):
            for batch in torch.randperm(len(y_train)).split(64):
                logits = model(x_train[batch]).squeeze(-1)  # (B,) for binary, (B, 3) multilabel
                losses = F.binary_cross_entropy_with_logits(
                    logits, y_train[batch], reduction="none"
                )
                losses.mean().backward()
                optimizer.step()
                optimizer.zero_grad()
                train_pc.update(logits, y_train[batch], losses=losses)
            with torch.no_grad():
                logits = model(x_val).squeeze(-1)
                val_pc.update(logits, y_val, inputs=x_val, sample_ids=torch.arange(len(y_val)))
            train_pc.write(epoch)
            stats = val_pc.write(epoch)
        print(f"{task}: validation accuracy per class/label", np.round(stats.accuracy, 3))
    return model, y_val


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", nargs="?", default="runs/digits")
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    for task in ("binary", "multilabel"):
        train_task(args.logdir, task, args.epochs)


if __name__ == "__main__":
    main()
