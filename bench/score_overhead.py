"""The cost of `scores=True` in `PerClassWriter.update()`, CPU, against the same writer without.

For each library and task at batch 256 (multiclass at 10 and 1000 classes), times `update()` of
a writer with `scores=True` and of one without, on the same batch, losses given and computed,
interleaved in one process so that machine noise hits all alike; reports medians and the ratio
(the issue's budget: at most 2x at 1000 classes). Then the multiclass torch path step by step.

    python -m bench.score_overhead [--repeats 200] [--threads 1] [--libraries torch,numpy]
        [--clock cpu]

--clock cpu times each call by this thread's CPU time instead of the wall clock: under heavy
load (other processes on every core) a call of a millisecond is preempted most of the time and
its wall-clock median measures the other processes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

from bench.common import CLOCKS, interleaved
from tb_perclass import PerClassWriter
from tb_perclass.format import score_bins

CASES = (("multiclass", 1000), ("multiclass", 10), ("binary", 2), ("multilabel", 100))
BATCH = 256


def batch_of(task: str, classes: int, rng: np.random.Generator):
    """Scores spread over many bins, as mid-training (the scatter-add's worst case)."""
    if task == "multiclass":
        y = rng.integers(0, classes, BATCH)
        x = rng.normal(size=(BATCH, classes)).astype(np.float32) * 3
        x[np.arange(BATCH), y] += 3
    elif task == "binary":
        y = rng.integers(0, 2, BATCH)
        x = (rng.normal(size=BATCH) + 2 * y - 1).astype(np.float32)
    else:
        y = (rng.random((BATCH, classes)) < 0.05).astype(np.int64)
        x = (rng.normal(size=(BATCH, classes)) * 2 + 3 * y - 3).astype(np.float32)
    return x, y


def in_library(library: str, *values):
    if library == "torch":
        import torch

        return tuple(torch.from_numpy(v) for v in values)
    if library == "tensorflow":
        import tensorflow as tf

        return tuple(tf.constant(v) for v in values)
    return values


def measure(
    library: str, task: str, classes: int, repeats: int, logdir: str, clock=time.perf_counter
) -> dict:
    x, y = in_library(library, *batch_of(task, classes, np.random.default_rng(0)))
    options = {"task": task} if task == "binary" else {"task": task, "num_classes": classes}
    plain = PerClassWriter(os.path.join(logdir, f"{library}-{task}-{classes}-a"), **options)
    scored = PerClassWriter(
        os.path.join(logdir, f"{library}-{task}-{classes}-b"), scores=True, **options
    )
    plain.update(x, y)  # losses of the default loss, given back below as "given"
    losses = plain.write(0) and None
    from tb_perclass.logger import arrays, tasks

    ops, _, px, py, _ = arrays.as_batch(x, y)
    losses = tasks.format_batch(ops, px, py, None, plain._accumulator.spec).losses
    if task == "multilabel":
        losses = ops.reshape(losses, ops.shape(px))
    times = interleaved(
        {
            "given": lambda: plain.update(x, y, losses=losses),
            "given+scores": lambda: scored.update(x, y, losses=losses),
            "computed": lambda: plain.update(x, y),
            "computed+scores": lambda: scored.update(x, y),
        },
        repeats,
        clock=clock,
    )
    for writer in (plain, scored):
        writer.close()
    return {name: statistics.median(values) * 1e6 for name, values in times.items()}


def torch_breakdown(classes: int, repeats: int, clock=time.perf_counter) -> dict[str, float]:
    """Median microseconds of each stage of the multiclass torch path over B x C scores."""
    import torch

    from tb_perclass.logger import arrays

    x, y = (torch.from_numpy(v) for v in batch_of("multiclass", classes, np.random.default_rng(0)))
    ops = arrays.ops_for_library("torch")
    state = ops.zeros_counts(2 * (score_bins.NUM_BINS + 1) * classes, like=x)
    like = torch.zeros(1, dtype=torch.float64)
    names = (
        "softmax",
        "bin index (shift, clamp, add, widen)",
        "scatter-add of B x C",
        "top-k (compare, count)",
    )
    parts: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeats):
        marks = [clock()]
        p = ops.score_probabilities(x, True)
        marks.append(clock())
        index = ops.score_bin_index(p, classes)
        marks.append(clock())
        ops.add_counts(state, index)
        marks.append(clock())
        ops.top_k_hits(x, y, 5, like=like)
        marks.append(clock())
        for name, start, stop in zip(names, marks, marks[1:]):
            parts[name].append(stop - start)
    return {name: statistics.median(v) * 1e6 for name, v in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--libraries", default="torch,numpy,tensorflow")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}; medians "
        f"of {args.clock} time; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as logdir:
        for library in args.libraries.split(","):
            for task, classes in CASES:
                r = measure(library, task, classes, args.repeats, logdir, clock)
                print(
                    f"{library:10s} {task:10s} C={classes:4d}: update() losses given "
                    f"{r['given']:6.0f} us -> {r['given+scores']:6.0f} with scores "
                    f"(x{r['given+scores'] / r['given']:.2f}); computed {r['computed']:6.0f} -> "
                    f"{r['computed+scores']:6.0f} (x{r['computed+scores'] / r['computed']:.2f})"
                )
    if "torch" in args.libraries:
        print("multiclass torch, C=1000, the B x C stages alone:")
        for name, value in torch_breakdown(1000, args.repeats, clock).items():
            print(f"  {name:38s} {value:6.0f} us")


if __name__ == "__main__":
    main()
