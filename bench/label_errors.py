"""Finding flipped labels from training dynamics, against cleanlab, on scikit-learn's digits.

Labels of the 1797 digits are flipped (at random, or between class pairs), a small MLP trains on
them for some epochs, and every training batch's outputs (computed by the training step anyway,
before its optimiser step) are recorded per sample. Ranking rules computed from those records
(zero extra forward passes) are scored by precision at the number of flips (equal to recall
there), next to cleanlab's confident learning on 5-fold out-of-sample probabilities of the same
MLP (five extra trainings). Each method's own flagged set (no knowledge of the number of flips)
is scored too, as precision and recall.

The rules are ones an O(1)-per-sample state can compute; the full records are kept here only to
compare many in one run. The product's own row trains with a real `PerClassWriter(...,
track_samples=N)` fed the same logits and reads its ranked list back through the plugin's
`dynamics_samples` route.

    python -m bench.label_errors [--seeds 5] [--epochs 20]

Needs cleanlab (bench only): pip install -e ".[bench]"
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from tb_perclass import PerClassWriter
from tests.helpers import wsgi_client

# Class-pair noise: a digit is relabelled as the digit it is most often confused with.
SIMILAR_PAIRS = {3: 8, 4: 9, 7: 1, 5: 6, 2: 7}


def load_digits_data() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data.astype(np.float32) - 8.0) / 8.0
    return x, digits.target.astype(np.int64)


def flip_random(
    labels: np.ndarray, rate: float, rng: np.random.Generator, classes: int
) -> np.ndarray:
    """`rate` of the samples get a label drawn uniformly from the other classes."""
    noisy = labels.copy()
    chosen = rng.choice(len(labels), size=int(round(rate * len(labels))), replace=False)
    shift = rng.integers(1, classes, size=len(chosen))
    noisy[chosen] = (labels[chosen] + shift) % classes
    return noisy


def flip_next_class(
    labels: np.ndarray, rate: float, rng: np.random.Generator, classes: int
) -> np.ndarray:
    """Pair flipping (Han et al. 2018): `rate` of each class becomes the next class."""
    noisy = labels.copy()
    for c in range(classes):
        members = np.flatnonzero(labels == c)
        chosen = rng.choice(members, size=int(round(rate * len(members))), replace=False)
        noisy[chosen] = (c + 1) % classes
    return noisy


def flip_similar(
    labels: np.ndarray, rate: float, rng: np.random.Generator, classes: int
) -> np.ndarray:
    """`rate` of each class in SIMILAR_PAIRS becomes its look-alike (e.g. 3 -> 8)."""
    noisy = labels.copy()
    for source, target in SIMILAR_PAIRS.items():
        members = np.flatnonzero(labels == source)
        chosen = rng.choice(members, size=int(round(rate * len(members))), replace=False)
        noisy[chosen] = target
    return noisy


NOISE = {
    "random 10%": (flip_random, 0.10),
    "random 20%": (flip_random, 0.20),
    "next-class pairs 10%": (flip_next_class, 0.10),
    "next-class pairs 20%": (flip_next_class, 0.20),
    "look-alike pairs 30% of 5 classes": (flip_similar, 0.30),
}


def make_mlp(features: int, classes: int) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(features, 128), torch.nn.ReLU(), torch.nn.Linear(128, classes)
    )


def train(
    x: np.ndarray,
    y: np.ndarray,
    classes: int,
    epochs: int,
    seed: int,
    batch: int = 64,
    record: bool = True,
    writer: PerClassWriter | None = None,
) -> tuple[torch.nn.Module, np.ndarray | None]:
    """Trains the MLP; returns it and, with `record`, the logits of every sample at each epoch
    as computed by its training step (before that step's optimiser update): (epochs, N, C)."""
    torch.manual_seed(seed)
    model = make_mlp(x.shape[1], classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    history = np.zeros((epochs, len(y), classes), dtype=np.float32) if record else None
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), batch):
            ids = order[start : start + batch]
            logits = model(xt[ids])
            F.cross_entropy(logits, yt[ids]).backward()
            optimizer.step()
            optimizer.zero_grad()
            if record:
                history[epoch, ids.numpy()] = logits.detach().numpy()
            if writer is not None:  # the product, on the same logits
                writer.update(logits, yt[ids], sample_ids=ids)
        if writer is not None:
            writer.write(epoch)
    return model, history


# --- ranking rules from the training records ------------------------------------------------
# Each returns a suspicion score per sample (higher = more likely mislabelled), from values an
# O(1)-per-sample running state can hold.


def given_probability(history: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """p(given label) per epoch and sample: (epochs, N)."""
    probs = torch.softmax(torch.from_numpy(history), dim=-1).numpy()
    return np.take_along_axis(probs, labels[None, :, None], axis=2)[..., 0]


def margins(history: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Assigned logit minus the largest other logit (Pleiss et al. 2020), (epochs, N)."""
    assigned = np.take_along_axis(history, labels[None, :, None], axis=2)[..., 0]
    others = history.copy()
    np.put_along_axis(others, labels[None, :, None], -np.inf, axis=2)
    return assigned - others.max(axis=2)


def forgetting_events(correct: np.ndarray) -> np.ndarray:
    """Transitions correct -> incorrect between consecutive visits (Toneva et al. 2019)."""
    return (correct[:-1] & ~correct[1:]).sum(axis=0)


def class_normalised(values: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """A per-sample value divided by the mean over the samples of its given class: the class's
    own level of confidence (cleanlab's per-class threshold idea, from the state alone)."""
    means = np.array(
        [values[labels == c].mean() if np.any(labels == c) else 1.0 for c in range(classes)]
    )
    return values / np.maximum(means[labels], 1e-12)


def class_centred(values: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    means = np.array(
        [values[labels == c].mean() if np.any(labels == c) else 0.0 for c in range(classes)]
    )
    return values - means[labels]


def rank_average(*scores: np.ndarray) -> np.ndarray:
    return np.mean([np.argsort(np.argsort(s)) for s in scores], axis=0)


def ema(values: np.ndarray, decay: float) -> np.ndarray:
    out = values[0].copy()
    for row in values[1:]:
        out = decay * out + (1 - decay) * row
    return out


def rules(history: np.ndarray, labels: np.ndarray, classes: int) -> dict[str, np.ndarray]:
    p = given_probability(history, labels)
    m = margins(history, labels)
    correct = history.argmax(axis=2) == labels[None]
    confidence = p.mean(axis=0)
    variability = p.std(axis=0)
    aum = m.mean(axis=0)
    forgets = forgetting_events(correct)
    half = len(p) // 2
    return {
        "confidence (mean p(given))": -confidence,
        "AUM (mean logit margin)": -aum,
        "mean probability margin": -np.mean(p - _other_max_probability(history, labels), axis=0),
        "correctness (fraction correct)": -correct.mean(axis=0) - 1e-3 * confidence,
        "forgetting events (ties: confidence)": forgets - 1e-3 * confidence,
        "confidence, first half of epochs": -p[:half].mean(axis=0),
        "confidence, second half of epochs": -p[half:].mean(axis=0),
        "EMA of p(given), decay 0.9": -ema(p, 0.9),
        "confidence / class mean": -class_normalised(confidence, labels, classes),
        "AUM - class mean": -class_centred(aum, labels, classes),
        "rank mean of confidence and AUM": rank_average(-confidence, -aum),
        "confidence - variability": -(confidence - variability),
    }


def _other_max_probability(history: np.ndarray, labels: np.ndarray) -> np.ndarray:
    probs = torch.softmax(torch.from_numpy(history), dim=-1).numpy()
    np.put_along_axis(probs, labels[None, :, None], -1.0, axis=2)
    return probs.max(axis=2)


# --- the label the model prefers --------------------------------------------------------------


def preferred_labels(history: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Candidates for "the label the model prefers" to the given one, per sample."""
    others = history.copy()
    np.put_along_axis(others, labels[None, :, None], -np.inf, axis=2)
    top_other = others.argmax(axis=2)  # (epochs, N)
    probs = torch.softmax(torch.from_numpy(history), dim=-1).numpy()
    np.put_along_axis(probs, labels[None, :, None], -1.0, axis=2)
    return {
        "largest other logit, last visit": top_other[-1],
        "majority vote of the largest other logit (Boyer-Moore, O(1))": boyer_moore(top_other),
        "largest summed other probability (O(C) per sample)": probs.sum(axis=0).argmax(axis=1),
    }


def boyer_moore(votes: np.ndarray) -> np.ndarray:
    """Streaming majority vote over axis 0: a candidate and a counter per column."""
    candidate = votes[0].copy()
    count = np.ones(votes.shape[1], dtype=np.int64)
    for row in votes[1:]:
        same = row == candidate
        empty = count == 0
        candidate = np.where(empty, row, candidate)
        count = np.where(same | empty, count + 1, count - 1)
    return candidate


# --- the flagged set (no knowledge of the number of flips) ------------------------------------


def flag_rules(history: np.ndarray, labels: np.ndarray, classes: int) -> dict[str, np.ndarray]:
    p = given_probability(history, labels)
    m = margins(history, labels)
    confidence = p.mean(axis=0)
    correct = (history.argmax(axis=2) == labels[None]).mean(axis=0)
    aum = m.mean(axis=0)
    other = _other_max_probability(history, labels).mean(axis=0)
    others = history.copy()
    np.put_along_axis(others, labels[None, :, None], -np.inf, axis=2)
    preferred = others[-1].argmax(axis=1)
    level = np.array([confidence[labels == c].mean() for c in range(classes)])
    confident_other = other >= level[preferred]
    per_class = np.zeros(len(labels), dtype=bool)
    for c in range(classes):
        members = np.flatnonzero(labels == c)
        count = int((confident_other[members] & (confidence[members] < level[c])).sum())
        per_class[members[np.argsort(aum[members])[:count]]] = True
    return {
        "CL-lite: other >= its class level, given < its class level": confident_other
        & (confidence < level[labels]),
        "CL-lite: other >= its class level, other > given": confident_other & (other > confidence),
        "CL-lite counts per class, lowest AUM": per_class,
        "AUM < 0": aum < 0,
        "AUM < -1": aum < -1,
        "AUM < Otsu threshold": aum < otsu(aum),
        "confidence < Otsu threshold": confidence < otsu(confidence),
        "correct in < 1/4 of the visits": correct < 0.25,
        "correct in < half the visits": correct < 0.5,
        "confidence < 0.5": confidence < 0.5,
        "confidence < half its class mean": class_normalised(confidence, labels, classes) < 0.5,
    }


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """The threshold between two modes of a histogram that maximises the variance between them."""
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts)
    mass = np.cumsum(counts * centres)
    total, total_mass = weight[-1], mass[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_low = mass / weight
        mean_high = (total_mass - mass) / (total - weight)
        between = weight * (total - weight) * (mean_low - mean_high) ** 2
    return float(edges[1:][np.nanargmax(between[:-1])])


# --- cleanlab ---------------------------------------------------------------------------------


def out_of_sample_probabilities(
    x: np.ndarray, y: np.ndarray, classes: int, epochs: int, seed: int, folds: int = 5
) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    probs = np.zeros((len(y), classes), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train_index, held_out) in enumerate(splitter.split(x, y)):
        model, _ = train(x[train_index], y[train_index], classes, epochs, seed + fold, record=False)
        with torch.no_grad():
            probs[held_out] = torch.softmax(model(torch.from_numpy(x[held_out])), dim=1).numpy()
    return probs


def cleanlab_scores(labels: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cleanlab's label quality (self-confidence; lower = worse) and its flagged set."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    quality = get_label_quality_scores(labels, probs)
    flagged = find_label_issues(labels, probs)
    return -quality, flagged


# --- scoring ----------------------------------------------------------------------------------


def precision_at(scores: np.ndarray, flipped: np.ndarray, k: int) -> float:
    top = np.argsort(-scores, kind="stable")[:k]
    return float(flipped[top].mean())


def precision_recall(flagged: np.ndarray, flipped: np.ndarray) -> tuple[float, float, int]:
    hits = int((flagged & flipped).sum())
    return hits / max(int(flagged.sum()), 1), hits / max(int(flipped.sum()), 1), int(flagged.sum())


@dataclasses.dataclass
class Tally:
    values: dict[str, list] = dataclasses.field(default_factory=dict)

    def add(self, key: str, value) -> None:
        self.values.setdefault(key, []).append(value)


def _likely_errors(logdir: str) -> list[dict]:
    """The writer's ranked list of likely label errors, read back through the plugin's route."""
    client = wsgi_client(logdir)
    answer = client.get(
        "/data/plugin/perclass/dynamics_samples?run=run&name=perclass&list=errors&format=json"
        "&limit=1000000"
    ).get_json()
    return answer["samples"]


def _hits(ids: np.ndarray, flipped: np.ndarray) -> int:
    return int(flipped[ids].sum()) if len(ids) else 0


def run_noise(name: str, flip: Callable, rate: float, seeds: int, epochs: int) -> None:
    x, clean = load_digits_data()
    classes = int(clean.max()) + 1
    at_k, flags, preferred = Tally(), Tally(), Tally()
    seconds = Tally()
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        noisy = flip(clean, rate, rng, classes)
        flipped = noisy != clean
        k = int(flipped.sum())
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as logdir:
            with PerClassWriter(os.path.join(logdir, "run"), track_samples=len(noisy)) as writer:
                _, history = train(x, noisy, classes, epochs, seed, writer=writer)
            listed = _likely_errors(logdir)
        ids = np.array([entry["id"] for entry in listed], dtype=np.int64)
        at_k.add(
            "tb-perclass: the likely-label-error list (mean margin)", _hits(ids[:k], flipped) / k
        )
        flags.add(
            "tb-perclass: the likely-label-error list (mean margin < 0)",
            precision_recall(np.isin(np.arange(len(noisy)), ids), flipped),
        )
        listed_flips = [e for e in listed if flipped[e["id"]]]
        preferred.add(
            "tb-perclass: the list's preferred label",
            float(np.mean([e["preferred"] == clean[e["id"]] for e in listed_flips])),
        )
        seconds.add("training (dynamics recorded)", time.perf_counter() - start)
        for rule, score in rules(history, noisy, classes).items():
            at_k.add(rule, precision_at(score, flipped, k))
        for rule, flagged in flag_rules(history, noisy, classes).items():
            flags.add(rule, precision_recall(flagged, flipped))
        for rule, label in preferred_labels(history, noisy).items():
            preferred.add(rule, float((label[flipped] == clean[flipped]).mean()))
        start = time.perf_counter()
        probs = out_of_sample_probabilities(x, noisy, classes, epochs, seed)
        seconds.add("cleanlab: 5-fold probabilities", time.perf_counter() - start)
        scores, flagged = cleanlab_scores(noisy, probs)
        at_k.add("cleanlab self-confidence, 5-fold out-of-sample", precision_at(scores, flipped, k))
        flags.add(
            "cleanlab find_label_issues, 5-fold out-of-sample", precision_recall(flagged, flipped)
        )
        mean_probs = torch.softmax(torch.from_numpy(history), dim=-1).numpy().mean(axis=0)
        scores, flagged = cleanlab_scores(noisy, mean_probs)
        at_k.add(
            "cleanlab self-confidence, mean training probabilities",
            precision_at(scores, flipped, k),
        )
        flags.add(
            "cleanlab find_label_issues, mean training probabilities",
            precision_recall(flagged, flipped),
        )
        preferred.add(
            "cleanlab: argmax of 5-fold probabilities",
            float(probs[flipped].argmax(axis=1).__eq__(clean[flipped]).mean()),
        )
    print(f"\n## {name}: {k} flips of {len(clean)} (last seed), {seeds} seeds, {epochs} epochs")
    print("\nPrecision at the number of flips (= recall there), mean ± sd over seeds:")
    for rule, values in sorted(at_k.values.items(), key=lambda kv: -statistics.mean(kv[1])):
        print(f"  {statistics.mean(values):.3f} ± {statistics.pstdev(values):.3f}  {rule}")
    print("\nOwn flagged set: precision, recall, size (means):")
    for rule, values in flags.values.items():
        p, r, n = (statistics.mean(v) for v in zip(*values))
        print(f"  P {p:.3f}  R {r:.3f}  n {n:6.1f}  {rule}")
    print("\nThe preferred label is the true one, among flipped samples:")
    for rule, values in preferred.values.items():
        print(f"  {statistics.mean(values):.3f}  {rule}")
    print(
        "\nSeconds per seed: "
        + ", ".join(f"{k} {statistics.mean(v):.2f}" for k, v in seconds.values.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--noise", choices=list(NOISE), action="append")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.noise or NOISE:
        flip, rate = NOISE[name]
        run_noise(name, flip, rate, args.seeds, args.epochs)


if __name__ == "__main__":
    main()
