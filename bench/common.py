"""What the benchmarks share: the demo CNN's training step, and timing variants side by side.

Machines are noisy, so variants are never timed one after the other: each repeat runs every
variant once, in a shuffled order, and overheads are medians of paired differences.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable

import torch.nn.functional as F

from demo.train_torch import make_model  # noqa: F401  (re-exported for the benchmarks)

ROOT = os.path.join(os.path.dirname(__file__), "..")


def training_step(model, optimizer, x, y):
    """One step of the demo's loop; returns the logits and per-sample losses."""
    logits = model(x)
    losses = F.cross_entropy(logits, y, reduction="none")
    losses.mean().backward()
    optimizer.step()
    optimizer.zero_grad()
    return logits, losses


# --clock choices of the benchmarks that take one.
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def interleaved(
    variants: dict[str, Callable[[], object]],
    repeats: int,
    warmup: int = 20,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Seconds per call of each variant, `repeats` times, variants shuffled within a repeat.

    `clock=time.thread_time` counts only the CPU time of this thread: on a loaded machine a
    call of a millisecond or more is often preempted, and the wall clock then measures the
    other processes (see `CLOCKS`)."""
    for _ in range(warmup):  # allocator, kernels, lazy imports and state
        for run in variants.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    rng = random.Random(seed)
    for _ in range(repeats):
        rng.shuffle(order)  # no variant always runs right after another
        for name in order:
            start = clock()
            variants[name]()
            times[name].append(clock() - start)
    return times


def paired_overhead(times: dict[str, list[float]], variant: str, base: str) -> float:
    """Median of (variant - base) over the repeats, relative to the median of base."""
    differences = (v - b for v, b in zip(times[variant], times[base]))
    return statistics.median(differences) / statistics.median(times[base])
