"""AP and AUROC from score histograms vs scikit-learn on the raw scores, per bin family.

For a synthetic 1000-class run at three stages (as in score_bytes.py), a binary and a rare-label
multilabel task, bins every one-vs-rest score with several families of bins, computes AUROC and
average precision per class from the histograms (`tb_perclass.score_metrics`) and compares them
with scikit-learn's `roc_auc_score` / `average_precision_score` on the float64 probabilities:
the median and largest error over classes, and the median of the bound the histogram itself
gives (the metric's possible error from ties inside bins).

    python -m bench.score_bins_accuracy [--samples 2560]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from bench.score_bytes import batches
from tb_perclass.format import score_bins, score_metrics


def uniform(count):
    return lambda p: np.minimum((p * count).astype(np.int64), count - 1), count


def logit(count, reach=16.0):
    def bins(p):
        with np.errstate(divide="ignore"):
            z = np.log(p) - np.log1p(-p)
        return np.clip(np.floor((z + reach) / (2 * reach) * count), 0, count - 1).astype(np.int64)

    return bins, count


def float_bits(sub_bits, octaves=24):
    """Our family: 2**sub_bits bins per octave down to 2^-octaves (5, 20 is score_bins)."""
    shift = 23 - sub_bits
    low = ((127 - octaves) << sub_bits) - 1
    half = (126 << sub_bits) - low

    def bins(p):
        p32 = p.astype(np.float32)
        upper = p32 >= 0.5
        q = np.where(upper, np.float32(1) - p32, p32).astype(np.float32)
        keys = np.clip(q.view(np.int32) >> shift, low, low + half - 1) - low
        return np.where(upper, 2 * half - 1 - keys, keys)

    return bins, 2 * half


FAMILIES = {
    "uniform 100": uniform(100),
    "uniform 1218": uniform(1218),
    "log-odds 1218 on [-14, 14]": logit(1218, 14.0),
    "float bits, 8/octave to 2^-24 (370)": float_bits(3, 24),
    "float bits, 16/octave to 2^-24 (738)": float_bits(4, 24),
    "float bits, 32/octave to 2^-20 (1218, chosen)": float_bits(5, 20),
    "float bits, 64/octave to 2^-16 (1922)": float_bits(6, 16),
}


def _tasks(samples: int):
    rng = np.random.default_rng(0)
    for stage in ("early", "mid", "late"):
        xs, ys = zip(*batches(stage, samples, rng))
        x = np.concatenate(xs).astype(np.float64)
        y = np.concatenate(ys)
        e = np.exp(x - x.max(1, keepdims=True))
        yield f"multiclass C=1000 {stage}", e / e.sum(1, keepdims=True), np.eye(1000, dtype=bool)[y]
    y = rng.random(samples) < 0.3
    s = rng.normal(size=samples) * 2 + 2.5 * y - 1
    yield "binary", (1 / (1 + np.exp(-s)))[:, None], y[:, None]
    prevalence = np.geomspace(0.002, 0.2, 50)
    y = rng.random((samples, 50)) < prevalence
    s = rng.normal(size=(samples, 50)) * 1.5 + 3 * y - 5
    yield "multilabel L=50 (rare labels)", 1 / (1 + np.exp(-s)), y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2560)
    args = parser.parse_args()
    assert np.array_equal(
        float_bits(5, 20)[0](np.linspace(0, 1, 1001)), score_bins.bin_of(np.linspace(0, 1, 1001))
    )
    for name, p, y in _tasks(args.samples):
        usable = [c for c in range(y.shape[1]) if 0 < y[:, c].sum() < len(y)]
        exact_auc = np.array([roc_auc_score(y[:, c], p[:, c]) for c in usable])
        exact_ap = np.array([average_precision_score(y[:, c], p[:, c]) for c in usable])
        print(f"{name} ({len(usable)} classes with both outcomes, {len(y)} samples)")
        head = ("AUROC err med/max", "bound med", "AP err med/max", "bound med")
        print(f"  {'bins':46s} {head[0]:>20s} {head[1]:>10s} {head[2]:>18s} {head[3]:>10s}")
        for family, (binner, count) in FAMILIES.items():
            pos = np.zeros((len(usable), count))
            neg = np.zeros((len(usable), count))
            for i, c in enumerate(usable):
                b = binner(p[:, c])
                pos[i] = np.bincount(b[y[:, c]], minlength=count)
                neg[i] = np.bincount(b[~y[:, c]], minlength=count)
            auc_err = np.abs(score_metrics.auroc(pos, neg) - exact_auc)
            ap_err = np.abs(score_metrics.average_precision(pos, neg) - exact_ap)
            print(
                f"  {family:46s} {np.median(auc_err):9.5f}/{auc_err.max():8.5f}"
                f" {np.median(score_metrics.auroc_bound(pos, neg)):10.5f}"
                f" {np.median(ap_err):8.5f}/{ap_err.max():8.5f}"
                f" {np.median(score_metrics.average_precision_bound(pos, neg)):10.5f}"
            )


if __name__ == "__main__":
    main()
