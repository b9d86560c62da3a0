"""Writes synthetic train/validation runs through the real `PerClassWriter`, without training.

Each class learns at its own rate (a few never do), so the curves look like a real classifier's;
`--nonfinite-class` makes one class's losses NaN at some steps. Useful to look at the tab with
10, 100 or 1000 classes in seconds:

    python demo/synthetic_runs.py runs/synthetic --classes 100 --steps 50
    tensorboard --logdir runs/synthetic
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from tb_perclass import PerClassWriter


def class_names(num_classes: int) -> list[str]:
    animals = ["cat", "dog", "bird", "fish", "horse", "sheep", "cow", "bear", "zebra", "frog"]
    if num_classes <= len(animals):
        return animals[:num_classes]
    return [f"{animals[i % len(animals)]}_{i:04d}" for i in range(num_classes)]


def simulated_batch(
    rng: np.random.Generator, skill: np.ndarray, samples_per_class: int
) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose margin for the true class grows with that class's current skill."""
    num_classes = len(skill)
    targets = np.repeat(np.arange(num_classes), samples_per_class)
    rng.shuffle(targets)
    logits = rng.normal(0.0, 1.0, size=(len(targets), num_classes)).astype(np.float32)
    logits[np.arange(len(targets)), targets] += skill[targets]
    return logits, targets


def write_runs(
    logdir: str,
    *,
    num_classes: int = 10,
    steps: int = 30,
    samples_per_class: int = 20,
    nonfinite_class: int | None = None,
    seed: int = 0,
) -> list[str]:
    rng = np.random.default_rng(seed)
    names = class_names(num_classes)
    rates = rng.uniform(0.05, 0.4, size=num_classes)
    rates[rng.choice(num_classes, size=max(1, num_classes // 10), replace=False)] = 0.005
    runs = []
    for split, generalisation in (("train", 1.0), ("validation", 0.8)):
        run_dir = os.path.join(logdir, split)
        with PerClassWriter(run_dir, class_names=names) as writer:
            for step in range(steps):
                skill = 4.0 * generalisation * (1 - np.exp(-rates * step))
                logits, targets = simulated_batch(rng, skill, samples_per_class)
                if nonfinite_class is not None and step % 7 == 3:
                    logits[targets == nonfinite_class] = np.nan
                writer.update(logits, targets)
                writer.write(step)
        runs.append(run_dir)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--samples-per-class", type=int, default=20)
    parser.add_argument("--nonfinite-class", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for run in write_runs(
        args.logdir,
        num_classes=args.classes,
        steps=args.steps,
        samples_per_class=args.samples_per_class,
        nonfinite_class=args.nonfinite_class,
        seed=args.seed,
    ):
        print("wrote", run)


if __name__ == "__main__":
    main()
