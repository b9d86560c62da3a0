"""Writes a long 1000-class run with the real `PerClassWriter`, for bench.long_run_memory.

What a user who evaluates an ImageNet-size classifier every 100 iterations logs: a fixed
validation set of 50 samples per class, one `update()` with the model's logits, targets and
per-sample losses, then `write(step)`, for every step. The predictions change from step to step
like a model that learns: each class reaches its own accuracy at its own pace, and its mistakes
go mostly to a few similar classes (its "neighbours", Zipf-weighted) with some spread over all
classes, so a step has about 12k nonzero confusion cells at 1000 classes, and the same cells
recur from step to step as they do in a real run.

The logits are one array allocated once; each step only moves the top score of the samples
whose prediction changed, so writing 5000 steps takes a few minutes on 2 cores (the writer's
own update and write are most of it).

    python -m bench.long_run OUT [--classes 1000] [--steps 5000] [--per-class 50]
                                 [--copies 1] [--confusion/--no-confusion]
                                 [--confusion-every 1]

With --copies N the event file is hard-linked into N run directories (run_00, run_01, ...): N
identical runs for TensorBoard, at the disk cost of one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

import numpy as np

from tb_perclass import PerClassWriter

NEIGHBOURS = 24  # similar classes each class is mostly confused with
SPREAD = 0.12  # share of a class's mistakes that go to any class at all


class LearningModel:
    """Predictions of a model that learns: per class, accuracy rises from chance to a ceiling."""

    def __init__(self, classes: int, per_class: int, steps: int, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        rng = self.rng
        self.classes, self.steps = classes, steps
        self.targets = np.repeat(np.arange(classes), per_class)
        # Final accuracy per class (hard classes stay low) and how fast each class gets there.
        self.ceiling = np.clip(rng.beta(6, 1.6, classes), 0.05, 0.99)
        self.pace = rng.uniform(0.05, 0.6, classes) * steps
        neighbours = np.stack(
            [rng.choice(classes - 1, NEIGHBOURS, replace=False) for _ in range(classes)]
        )
        neighbours += neighbours >= np.arange(classes)[:, None]  # never the class itself
        self.neighbours = neighbours
        weights = 1.0 / np.arange(1, NEIGHBOURS + 1)
        self.neighbour_cdf = np.cumsum(weights / weights.sum())

    def accuracy(self, step: int) -> np.ndarray:
        progress = 1.0 - np.exp(-step / self.pace)
        return 1.0 / self.classes + (self.ceiling - 1.0 / self.classes) * progress

    def predict(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Predicted classes and per-sample losses of the validation set at `step`."""
        rng, targets = self.rng, self.targets
        correct = rng.random(len(targets)) < self.accuracy(step)[targets]
        wrong = np.flatnonzero(~correct)
        wrong_targets = targets[wrong]
        pick = np.searchsorted(self.neighbour_cdf, rng.random(len(wrong)))
        mistaken = self.neighbours[wrong_targets, np.minimum(pick, NEIGHBOURS - 1)]
        anywhere = rng.random(len(wrong)) < SPREAD
        random_class = rng.integers(0, self.classes - 1, anywhere.sum())
        random_class += random_class >= wrong_targets[anywhere]
        mistaken[anywhere] = random_class
        predicted = targets.copy()
        predicted[wrong] = mistaken
        losses = np.where(
            correct, rng.exponential(0.25, len(targets)), rng.exponential(2.5, len(targets))
        ).astype(np.float32)
        return predicted, losses


def write_run(
    logdir: str,
    classes: int,
    steps: int,
    per_class: int,
    confusion: bool,
    confusion_every: int = 1,
    seed: int = 0,
) -> dict:
    """Writes one run to `logdir`; returns what it wrote (steps, seconds, mean nonzero cells)."""
    model = LearningModel(classes, per_class, steps, seed)
    names = [f"n{i:08d}" for i in range(classes)]  # ImageNet-like synset ids
    logits = np.zeros((len(model.targets), classes), dtype=np.float32)
    rows = np.arange(len(model.targets))
    shown = np.zeros(len(model.targets), dtype=np.int64)
    nonzero = []
    start = time.perf_counter()
    with PerClassWriter(
        logdir, class_names=names, confusion=confusion, confusion_every=confusion_every
    ) as writer:
        for step in range(steps):
            predicted, losses = model.predict(step)
            logits[rows, shown] = 0.0  # move the top score: O(samples), not O(samples x classes)
            logits[rows, predicted] = 5.0
            shown = predicted
            writer.update(logits, model.targets, losses)
            stats = writer.write(step * 100, wall_time=1.7e9 + 60.0 * step)
            if stats.confusion is not None:
                nonzero.append(int(np.count_nonzero(stats.confusion)))
    return {
        "steps": steps,
        "seconds": time.perf_counter() - start,
        "mean_nonzero_cells": float(np.mean(nonzero)) if nonzero else 0.0,
    }


def event_bytes(directory: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, f))
        for root, _, files in os.walk(directory)
        for f in files
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="log directory to create (must not exist)")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--per-class", type=int, default=50, help="validation samples per class")
    parser.add_argument("--copies", type=int, default=1, help="runs sharing the event file")
    parser.add_argument("--confusion", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--confusion-every", type=int, default=1, help="the writer's confusion_every"
    )
    args = parser.parse_args()
    if os.path.exists(args.out):
        parser.error(f"{args.out} exists; pass a new directory")
    first = os.path.join(args.out, "run_00")
    result = write_run(
        first, args.classes, args.steps, args.per_class, args.confusion, args.confusion_every
    )
    for copy in range(1, args.copies):
        shutil.copytree(first, os.path.join(args.out, f"run_{copy:02d}"), copy_function=os.link)
    print(
        f"{args.classes} classes x {result['steps']} steps in {result['seconds']:.0f} s; "
        f"{result['mean_nonzero_cells']:.0f} nonzero confusion cells per step on average; "
        f"{event_bytes(first) / 2**20:.1f} MiB of event files per run, {args.copies} run(s)"
    )


if __name__ == "__main__":
    main()
