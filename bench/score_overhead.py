"""Cost of the score histograms (PR/ROC, AP, AUROC, calibration, top-k) in `update()`, CPU.

At C classes and batch B, times `PerClassWriter.update()` as it is (losses given, and computed)
against the same call followed by the score-state update of the same batch
(`tb_perclass.stats.scores.update_state`), variants interleaved in one process so that machine
noise hits all alike. Reports medians and the ratio with/without, per library and task, plus a
breakdown of the multiclass torch path by operation.

    python bench/score_overhead.py [--repeats 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved  # noqa: E402

from tb_perclass import PerClassWriter  # noqa: E402
from tb_perclass.stats import arrays, batches, scores  # noqa: E402

TOP_K = 5


def _data(task: str, classes: int, batch: int, rng: np.random.Generator):
    if task == "multiclass":
        y = rng.integers(0, classes, batch)
        x = rng.normal(size=(batch, classes)).astype(np.float32) * 3
        x[np.arange(batch), y] += 3
    elif task == "binary":
        y = rng.integers(0, 2, batch)
        x = (rng.normal(size=batch) + 2 * y - 1).astype(np.float32)
    else:
        y = (rng.random((batch, classes)) < 0.05).astype(np.int64)
        x = (rng.normal(size=(batch, classes)) * 2 + 3 * y - 3).astype(np.float32)
    return x, y


def _convert(library: str, x, y):
    if library == "torch":
        import torch

        return torch.from_numpy(x), torch.from_numpy(y)
    if library == "tensorflow":
        import tensorflow as tf

        return tf.constant(x), tf.constant(y)
    return x, y


def _losses(ops, x, y, spec):
    losses = batches.format_batch(ops, x, y, None, spec).losses
    return ops.reshape(losses, ops.shape(x)) if spec.task == "multilabel" else losses


def measure(library: str, task: str, classes: int, batch: int, repeats: int, logdir: str):
    rng = np.random.default_rng(0)
    x, y = _convert(library, *_data(task, classes, batch, rng))
    kwargs = {"task": task} if task == "binary" else {"task": task, "num_classes": classes}
    writer = PerClassWriter(os.path.join(logdir, f"{library}-{task}-{classes}"), **kwargs)
    ops, _, x, y, _ = arrays.as_batch(x, y)
    writer.update(x, y)
    spec = writer._spec  # the writer's own task spec (set by the first batch)
    losses = _losses(ops, x, y, spec)
    formatted = batches.format_batch(ops, x, y, losses, spec)
    top_k = TOP_K if task == "multiclass" else None
    state = scores.new_state(ops, spec, like=x, top_k=top_k)

    def with_scores(given: bool):
        writer.update(x, y, losses=losses) if given else writer.update(x, y)
        scores.update_state(ops, state, x, formatted, spec, top_k)

    times = interleaved(
        {
            "given": lambda: writer.update(x, y, losses=losses),
            "given+scores": lambda: with_scores(True),
            "computed": lambda: writer.update(x, y),
            "computed+scores": lambda: with_scores(False),
            "scores": lambda: scores.update_state(ops, state, x, formatted, spec, top_k),
        },
        repeats,
    )
    writer.close()
    return {name: statistics.median(values) * 1e6 for name, values in times.items()}


def torch_breakdown(classes: int, batch: int, repeats: int) -> dict[str, float]:
    """Median microseconds of each step of the multiclass torch path, timed one by one."""
    import torch

    from tb_perclass import score_bins
    from tb_perclass.stats.score_kernels import kernels_for

    rng = np.random.default_rng(0)
    x, y = (torch.from_numpy(a) for a in _data("multiclass", classes, batch, rng))
    ops = arrays.ops_for_library("torch")
    kernels = kernels_for(ops)
    state = kernels.zeros_counts(2 * (score_bins.NUM_BINS + 1) * classes, like=x)
    parts: dict[str, list[float]] = {}
    for _ in range(repeats):
        start = time.perf_counter()

        def tick(name):
            nonlocal start
            now = time.perf_counter()
            parts.setdefault(name, []).append(now - start)
            start = now

        p = kernels.probabilities(x, True)
        tick("softmax")
        index = kernels.bin_index(p, classes)
        tick("bin index (shift, clamp, add, widen)")
        kernels.add_counts(state, index)
        tick("scatter-add B x C")
        kernels.top_k_hits(x, y, TOP_K, like=state)
        tick("top-k (compare, count)")
    return {name: statistics.median(v) * 1e6 for name, v in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--libraries", default="torch,numpy,tensorflow")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; medians in us")
    cases = [("multiclass", 1000, 256), ("multiclass", 10, 256), ("binary", 2, 256),
             ("multilabel", 100, 256)]  # fmt: skip
    with tempfile.TemporaryDirectory() as logdir:
        for library in args.libraries.split(","):
            for task, classes, batch in cases:
                r = measure(library, task, classes, batch, args.repeats, logdir)
                print(
                    f"{library:10s} {task:10s} C={classes:4d} B={batch}: "
                    f"update {r['given']:7.0f} (losses given) {r['computed']:7.0f} (computed); "
                    f"score state alone {r['scores']:6.0f}; with scores: "
                    f"x{r['given+scores'] / r['given']:.2f} given, "
                    f"x{r['computed+scores'] / r['computed']:.2f} computed"
                )
    print("multiclass torch C=1000 B=256, step by step:")
    for name, value in torch_breakdown(1000, 256, args.repeats).items():
        print(f"  {name:30s} {value:6.0f}")


if __name__ == "__main__":
    main()
