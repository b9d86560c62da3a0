"""Writes synthetic train/validation runs through the real `PerClassWriter`, without training.

A simulated classifier: each class learns at its own rate up to its own ceiling, a few stay hard,
validation lags train and some classes overfit late; `--nonfinite-class` gives one class NaN
logits at some steps, so its per-sample losses are non-finite there; `--scores` records score
histograms (PR/ROC, calibration, top-k), and `--labels N` adds a multilabel run of N labels whose
scores are over-confident. Useful to look at the tab with 10, 100 or 1000 classes in seconds, and
used by the browser tests and the screenshot script:

    python -m demo.synthetic_runs runs/synthetic --classes 100 --steps 50 --scores
    tensorboard --logdir runs/synthetic
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import numpy as np

from tb_perclass import PerClassWriter

CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def class_names_for(num_classes: int) -> list[str]:
    if num_classes <= len(CIFAR10):
        return CIFAR10[:num_classes]
    return [f"{CIFAR10[i % len(CIFAR10)]}_{i:03d}" for i in range(num_classes)]


def write_runs(
    logdir: str | os.PathLike,
    *,
    class_names: Sequence[str] | None = None,
    num_classes: int = 10,
    steps: int = 40,
    samples_per_class: int = 60,
    nonfinite_class: int | None = None,
    experiment: str = "exp1",
    seed: int = 0,
    seconds_per_step: float = 45.0,
    scores: bool = False,
) -> list[str]:
    """Writes `<logdir>/<experiment>/train` and `.../validation`; returns the run directories.

    Wall times are fixed (one step every `seconds_per_step` from a fixed start) so that
    pictures of the tab are reproducible.
    """
    names = list(class_names) if class_names is not None else class_names_for(num_classes)
    count = len(names)
    rng = np.random.default_rng(seed)
    ceiling = rng.uniform(3.0, 6.0, size=count)
    rate = rng.uniform(0.06, 0.25, size=count)
    hard = rng.choice(count, size=max(1, count // 8), replace=False)
    ceiling[hard] = rng.uniform(0.6, 1.4, size=len(hard))
    overfit = rng.uniform(0.0, 0.05, size=count) * (rng.random(count) < 0.4)
    start = 1_700_000_000.0
    runs = []
    for split in ("train", "validation"):
        run_dir = os.path.join(os.fspath(logdir), experiment, split)
        with PerClassWriter(run_dir, class_names=names, scores=scores) as writer:
            for step in range(steps):
                skill = ceiling * (1 - np.exp(-rate * step))
                if split == "validation":
                    skill = 0.8 * skill - overfit * max(0, step - steps // 2) * ceiling
                targets = np.repeat(np.arange(count), samples_per_class)
                logits = rng.normal(0.0, 1.0, size=(len(targets), count)).astype(np.float32)
                logits[np.arange(len(targets)), targets] += skill[targets]
                if nonfinite_class is not None and step % 6 == 3:
                    rows = np.flatnonzero(targets == nonfinite_class)
                    logits[rows[: max(1, samples_per_class // 4)]] = np.nan
                writer.update(logits, targets)
                offset = 7 if split == "validation" else 0
                writer.write(step, wall_time=start + step * seconds_per_step + offset)
        runs.append(run_dir)
    return runs


def write_multilabel_run(
    logdir: str | os.PathLike,
    *,
    labels: int = 6,
    steps: int = 20,
    samples: int = 400,
    run: str = "tags/validation",
    seed: int = 0,
    seconds_per_step: float = 45.0,
) -> str:
    """A multilabel run with score histograms: labels of different prevalence and separability
    whose logits grow over-confident (too large) as the steps go by. Returns the run directory."""
    rng = np.random.default_rng(seed)
    names = [f"tag_{i}" for i in range(labels)]
    prevalence = np.linspace(0.05, 0.5, labels)
    separation = rng.uniform(1.0, 3.5, size=labels)
    run_dir = os.path.join(os.fspath(logdir), run)
    with PerClassWriter(run_dir, class_names=names, task="multilabel", scores=True) as writer:
        for step in range(steps):
            targets = (rng.random((samples, labels)) < prevalence).astype(np.int64)
            scale = 1.0 + 0.08 * step  # sharper every step: over-confident late
            logits = rng.normal(size=(samples, labels)) + separation * (targets - 0.5)
            writer.update((logits * scale - 1.0).astype(np.float32), targets)
            writer.write(step, wall_time=1_700_000_000.0 + step * seconds_per_step)
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--samples-per-class", type=int, default=60)
    parser.add_argument("--nonfinite-class", type=int, default=None)
    parser.add_argument("--experiment", default="exp1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scores", action="store_true", help="record score histograms")
    parser.add_argument("--labels", type=int, default=0, help="also a multilabel run")
    args = parser.parse_args()
    for run in write_runs(
        args.logdir,
        num_classes=args.classes,
        steps=args.steps,
        samples_per_class=args.samples_per_class,
        nonfinite_class=args.nonfinite_class,
        experiment=args.experiment,
        seed=args.seed,
        scores=args.scores,
    ):
        print("wrote", run)
    if args.labels:
        print("wrote", write_multilabel_run(args.logdir, labels=args.labels, seed=args.seed))


if __name__ == "__main__":
    main()
