"""Event bytes per step with `scores=True` at C = 1000, against the same run without.

A synthetic 1000-class run at three stages (early: near-uniform probabilities; mid; late: most
samples confidently right) writes one step of N samples through two `PerClassWriter`s, one with
`scores=True`, one without, and measures each event file's growth for that step. For the
`scores` summary, the bytes of the other layouts considered are shown too:

- dense: every (class, bin) count as a varint (NUM_BINS x C x 2 values)
- full: every nonempty bin (the layout of binary and multilabel tags)
- ranking: the chosen multiclass layout (bins with positives and the negatives between them)

and, for the chosen layout, its two forms side by side on the same step: version 3's int64
varints (which TensorBoard holds as 8 bytes a value in memory, on both loading paths) and
version 4's packed record (smallest unsigned dtype, byte planes, zlib: held as its bytes).

    python -m bench.score_bytes [--samples 2560]
"""

from __future__ import annotations

import argparse
import glob
import os
import tempfile

import numpy as np

from tb_perclass import PerClassWriter
from tb_perclass.format import metadata, score_bins, score_tensor, summary

CLASSES = 1000
BATCH = 256
STAGES = {"early": (0.3, 0.5), "mid": (2.0, 4.0), "late": (2.0, 9.0)}  # (logit noise, margin)


def batches(stage: str, samples: int, rng: np.random.Generator):
    noise, margin = STAGES[stage]
    difficulty = np.linspace(0.2, 1.5, CLASSES)  # some classes are learnt, some not
    for start in range(0, samples, BATCH):
        y = rng.integers(0, CLASSES, min(BATCH, samples - start))
        x = rng.normal(size=(len(y), CLASSES)) * noise
        x[np.arange(len(y)), y] += margin * difficulty[y] * rng.random(len(y))
        yield x.astype(np.float32), y


def step_bytes(writer: PerClassWriter, path: str, stage: str, samples: int):
    for x, y in batches(stage, samples, np.random.default_rng(0)):
        writer.update(x, y)
    (events,) = glob.glob(os.path.join(path, "events.*"))
    before = os.path.getsize(events)
    stats = writer.write(1)
    return os.path.getsize(events) - before, stats


def layout_bytes(counts: score_tensor.ScoreCounts, form: str) -> int:
    """The serialised `scores` value of `counts` in another layout (same metadata)."""
    names = [str(i) for i in range(CLASSES)]
    built = summary.scores_pb("perclass", counts, class_names=names, top_k=5)
    value = built.value[0]
    if form == "dense":
        dense = np.concatenate([counts.negatives.ravel(), counts.positives.ravel()])
        value.tensor.int64_val[:] = dense.astype(np.int64).tolist()
    elif form == "full":
        full = score_tensor.encode(
            score_tensor.ScoreCounts(counts.positives, counts.negatives, sums=counts.negatives * 0),
            rows=CLASSES,
            task=metadata.TASK_MULTILABEL,
        )
        value.tensor.int64_val[:] = full.tolist()
    return len(built.SerializeToString()) + 16 + 20  # TFRecord framing, event step and time


def measure(stage: str, samples: int, logdir: str) -> dict[str, int]:
    sizes = {}
    for scores in (False, True):
        path = os.path.join(logdir, f"{stage}-{scores}")
        with PerClassWriter(path, num_classes=CLASSES, scores=scores) as writer:
            for x, y in batches(stage, BATCH, np.random.default_rng(1)):
                writer.update(x, y)
            writer.write(0)  # opens the file; the next step is measured
            sizes[scores], stats = step_bytes(writer, path, stage, samples)
    vector = score_tensor.encode(stats.scores, rows=CLASSES, task="multiclass", top_k=5)
    varints = summary._int64_tensor(vector).SerializeToString()
    packed = (
        summary.scores_pb(
            "perclass", stats.scores, class_names=[str(i) for i in range(CLASSES)], top_k=5
        )
        .value[0]
        .tensor.string_val[0]
    )
    return {
        "today (stats + confusion)": sizes[False],
        "with scores=True": sizes[True],
        "scores, dense layout": layout_bytes(stats.scores, "dense"),
        "scores, full layout": layout_bytes(stats.scores, "full"),
        "scores, ranking layout (chosen)": sizes[True] - sizes[False],
        "  v3 int64 varints, on disk": len(varints),
        "  v3 int64 varints, in TB memory": 8 * len(vector),
        "  v4 packed record, disk = memory": len(packed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2560, help="samples per step")
    args = parser.parse_args()
    print(f"C={CLASSES}, {args.samples} samples per step, {score_bins.NUM_BINS} bins; bytes")
    with tempfile.TemporaryDirectory() as logdir:
        for stage in STAGES:
            r = measure(stage, args.samples, logdir)
            today = r["today (stats + confusion)"]
            print(f"{stage}: x{r['with scores=True'] / today:.2f} today's bytes with scores")
            for name, value in r.items():
                print(f"  {name:34s} {value:9d}")


if __name__ == "__main__":
    main()
