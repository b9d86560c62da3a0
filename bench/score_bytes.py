"""Event bytes per step of the `scores` summary at C = 1000, against today's summaries.

A synthetic 1000-class run at three stages (early: near-uniform probabilities; mid; late: most
samples confidently right) writes steps of N samples through `PerClassWriter` (stats and
confusion, as today) and measures the event file's growth per step; the same batches feed the
score state, whose summary is serialised in several layouts:

- dense: every (class, bin) count as a varint (NUM_BINS x C x 2 values)
- sparse: nonempty bins only (columns of varints, `score_summary` without merging)
- merged: the chosen layout; multiclass negatives merged over runs of bins without positives

    python bench/score_bytes.py [--samples 2560]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import tempfile

import numpy as np

from tb_perclass import PerClassWriter, score_bins, score_summary
from tb_perclass.stats import arrays, batches, scores

from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

CLASSES = 1000
BATCH = 256
STAGES = {"early": (0.3, 0.5), "mid": (2.0, 4.0), "late": (2.0, 9.0)}  # (logit noise, margin)


def _batches(stage: str, samples: int, rng: np.random.Generator):
    noise, margin = STAGES[stage]
    difficulty = np.linspace(0.2, 1.5, CLASSES)  # some classes are learnt, some not
    for start in range(0, samples, BATCH):
        y = rng.integers(0, CLASSES, min(BATCH, samples - start))
        x = rng.normal(size=(len(y), CLASSES)) * noise
        x[np.arange(len(y)), y] += margin * difficulty[y] * rng.random(len(y))
        yield x.astype(np.float32), y


def _tensor_bytes(values: np.ndarray, names: list[str]) -> int:
    """Bytes of one event holding `values` as an int64_val tensor with our metadata."""
    content = json.dumps({"version": 1, "kind": "scores", "task": "multiclass",
                          "class_names": names, "loss": "cross_entropy"}).encode()
    summary = summary_pb2.Summary()
    summary.value.add(
        tag="perclass/scores",
        metadata=summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="perclass", content=content)
        ),
        tensor=tensor_pb2.TensorProto(
            dtype=types_pb2.DT_INT64,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(values))]
            ),
            int64_val=values.tolist(),
        ),
    )  # fmt: skip
    return len(summary.SerializeToString()) + 16 + 20  # TFRecord framing, event step/time


def measure(stage: str, samples: int, logdir: str) -> dict[str, int]:
    writer = PerClassWriter(os.path.join(logdir, stage), num_classes=CLASSES)
    for x, y in _batches(stage, BATCH, np.random.default_rng(1)):
        writer.update(x, y)
    writer.write(0)  # opens the file; the next step is measured
    spec = batches.TaskSpec(task="multiclass", num_classes=CLASSES)
    ops = arrays.ops_for_library("numpy")
    state = None
    for x, y in _batches(stage, samples, np.random.default_rng(0)):
        writer.update(x, y)
        formatted = batches.format_batch(ops, x, y, None, spec)
        state = state or scores.new_state(ops, spec, like=x, top_k=5)
        scores.update_state(ops, state, x, formatted, spec, 5)
    (path,) = glob.glob(os.path.join(logdir, stage, "events.*"))
    before = os.path.getsize(path)
    writer.write(1)
    writer.close()
    today = os.path.getsize(path) - before
    counts = scores.compute_counts(ops, state, spec)
    names = [str(i) for i in range(CLASSES)]
    dense = np.concatenate([counts.negatives.ravel(), counts.positives.ravel()]).astype(np.int64)
    return {
        "today (stats + confusion)": today,
        "dense histograms": _tensor_bytes(dense, names),
        "sparse, unmerged": _tensor_bytes(score_summary.encode(counts, ranking=False), names),
        "ranking form (chosen)": _tensor_bytes(
            score_summary.encode(counts, ranking=True), names
        ),
        "nonempty bins": int(((counts.negatives + counts.positives) > 0).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2560, help="samples per step")
    args = parser.parse_args()
    print(f"C={CLASSES}, {args.samples} samples per step, {score_bins.NUM_BINS} bins; bytes per step")
    with tempfile.TemporaryDirectory() as logdir:
        for stage in STAGES:
            r = measure(stage, args.samples, logdir)
            today = r["today (stats + confusion)"]
            print(f"{stage}:")
            for name, value in r.items():
                ratio = "" if name == "nonempty bins" else f"  ({(today + value) / today:.2f}x today with it)"
                print(f"  {name:28s} {value:9d}{ratio if 'today' not in name else ''}")


if __name__ == "__main__":
    main()
