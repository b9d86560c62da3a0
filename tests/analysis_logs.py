"""A logdir of every shape the reader must handle, written through the real PerClassWriter from
known predictions (kept, so tests can check the numbers against scikit-learn):

  exp/train, exp/validation   multiclass, 5 named classes, 6 steps, per-sample losses, images of
                              validation mistakes kept (pixel value = sample id); one class
                              ("rare") has no validation samples at some steps; exp/train
                              also records score histograms (scores=True, top_k=2) and tracks
                              its 60 samples (track_samples), each visited once a step
  wide/validation             multiclass, 80 classes (COO confusion encoding), 3 steps
  tags/validation             multilabel, 3 labels, 3 steps, texts of mistakes kept, scores
  noconf/validation           multiclass written with confusion=False
  heads/validation            two writers in one run: name="head_a" and name="head_b"
  damaged/validation          stats of 3 classes at steps 0, 1 and a malformed one at step 2
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from tb_perclass import PerClassWriter

CLASSES = ["cat", "dog", "bird", "=SUM(A1)", "rare"]
HOSTILE = '<img src=x onerror="alert(1)">|*'


@dataclasses.dataclass
class Written:
    """What was logged: per (run, name), step -> (targets, predictions, losses)."""

    logdir: str
    batches: dict[tuple[str, str], dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]]
    class_names: dict[tuple[str, str], list[str]]
    # Runs with scores=True: step -> (targets, probabilities) as the writer scored them.
    scored: dict[tuple[str, str], dict[int, tuple[np.ndarray, np.ndarray]]]


def write_logdir(root: str) -> Written:
    batches: dict = {}
    names: dict = {}
    scored: dict = {}

    def multiclass(
        run: str,
        classes: list[str],
        steps: int,
        seed: int,
        *,
        samples: bool,
        confusion: bool = True,
        name: str = "perclass",
        skew: float = 0.6,
        tracked: bool = False,
        scores: bool = False,
    ) -> None:
        rng = np.random.default_rng(seed)
        size = len(classes)
        key = (run, name)
        names[key] = classes
        batches[key] = {}
        with PerClassWriter(
            os.path.join(root, run),
            class_names=classes,
            name=name,
            confusion=confusion,
            samples_per_cell=3,
            max_samples=12,
            track_samples=12 * size if tracked else None,
            scores=scores,
            top_k=2 if scores else None,
        ) as writer:
            for step in range(steps):
                count = 12 * size
                targets = rng.integers(0, size, count)
                if size == len(CLASSES) and step % 2 == 1:
                    targets[targets == size - 1] = 0  # "rare": no samples at odd steps
                logits = rng.normal(size=(count, size)).astype(np.float32)
                logits[np.arange(count), targets] += skew + 0.3 * step  # learns over the steps
                losses = rng.gamma(2.0, 0.5, count).astype(np.float32)
                ids = np.arange(count) + 1000 * step
                inputs = (
                    np.stack([np.full((4, 4), i % 251, np.uint8) for i in ids]) if samples else None
                )
                writer.update(
                    logits,
                    targets,
                    losses=losses,
                    inputs=inputs,
                    sample_ids=ids if samples else np.arange(count) if tracked else None,
                )
                writer.write(step * 10)
                batches[key][step * 10] = (targets, logits.argmax(axis=1), losses)
                if scores:
                    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
                    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
                    scored.setdefault(key, {})[step * 10] = (targets, probabilities)

    # exp/train: score histograms, and every sample tracked (visited once each step)
    multiclass("exp/train", CLASSES, 6, 1, samples=False, scores=True, tracked=True)
    multiclass("exp/validation", CLASSES, 6, 2, samples=True)
    multiclass("wide/validation", [f"c{i:02d}" for i in range(79)] + [HOSTILE], 3, 3, samples=False)
    multiclass("noconf/validation", CLASSES, 3, 4, samples=False, confusion=False)
    multiclass("heads/validation", ["x", "y"], 2, 5, samples=False, name="head_a")
    multiclass("heads/validation", ["p", "q", "r"], 2, 6, samples=False, name="head_b")

    rng = np.random.default_rng(7)
    labels = ["red", "round", "sweet"]
    key = ("tags/validation", "perclass")
    names[key], batches[key] = labels, {}
    with PerClassWriter(
        os.path.join(root, "tags/validation"), task="multilabel", class_names=labels, scores=True
    ) as writer:
        for step in range(3):
            targets = rng.integers(0, 2, (40, 3))
            logits = rng.normal(size=(40, 3)).astype(np.float32) + (targets - 0.5) * step
            texts = [f"text {i} <b>{step}</b>" for i in range(40)]
            writer.update(logits, targets, inputs=texts, sample_ids=np.arange(40))
            writer.write(step)
            batches[key][step] = (targets, (logits > 0).astype(np.int64), None)
            scored.setdefault(key, {})[step] = (targets, 1 / (1 + np.exp(-logits)))

    from tests import malformed

    damaged = ["a", "b", "c"]
    malformed.write_events(
        os.path.join(root, "damaged/validation"),
        [
            (0, malformed.good_stats(damaged)),
            (1, malformed.good_stats(damaged, seed=1)),
            (2, malformed.stats_array(damaged, np.zeros((2, 2)))),
        ],
    )
    return Written(root, batches, names, scored)
