"""Cost of per-sample training dynamics (`track_samples`), measured side by side in one run (CPU).

1. `PerClassWriter.update()` at B=256 without tracking and with it (`track_samples=N`,
   `sample_ids=` a fresh random batch of dataset indices each time), each after the demo CNN's
   training step (cold caches, as in a real loop), interleaved in a shuffled order, for C = 10
   and 1000 classes and datasets of 50k and 1.28M samples. Reports the ratio of the two
   `update()` times and the tracking's share of the training step.
2. What `write()` adds with tracking: the state read back, the counts, and the snapshot, at
   50k (C = 10) and 1.28M (C = 1000) samples, on a state shaped like a real run's; the bytes
   written per step, with and without a snapshot; the state's memory.

Times are the main thread's CPU time (time.thread_time) with torch on one thread: on a shared
machine wall time mostly measures the neighbours, and `update()` is single-threaded anyway.

    python -m bench.dynamics_overhead [--repeats 300]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

import numpy as np
import torch

from bench.common import make_model, training_step
from tb_perclass import PerClassWriter
from tb_perclass.logger.dynamics import state as dynamics_state

BATCH = 256


def interleaved(variants, repeats: int, warmup: int = 20, seed: int = 0) -> dict[str, list[float]]:
    """Thread CPU seconds per call of each variant, variants shuffled within each repeat."""
    for _ in range(warmup):
        for run in variants.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in variants}
    order, rng = list(variants), random.Random(seed)
    for _ in range(repeats):
        rng.shuffle(order)
        for name in order:
            start = time.thread_time()
            variants[name]()
            times[name].append(time.thread_time() - start)
    return times


def measure_update(num_classes: int, size: int, repeats: int, logdir: str) -> dict[str, float]:
    torch.manual_seed(0)
    model = make_model(num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(BATCH, 1, 8, 8)
    y = torch.randint(0, num_classes, (BATCH,))
    plain = PerClassWriter(
        os.path.join(logdir, f"plain-{num_classes}-{size}"), num_classes=num_classes
    )
    tracking = PerClassWriter(
        os.path.join(logdir, f"track-{num_classes}-{size}"),
        num_classes=num_classes,
        track_samples=size,
    )
    id_batches = [torch.randperm(size)[:BATCH] for _ in range(64)]
    timed: dict[str, list[float]] = {"plain": [], "tracking": []}

    def step_then(name, writer, ids=None):
        """The training step, then update() timed alone (after the step: cold caches)."""

        def run():
            logits, losses = training_step(model, optimizer, x, y)
            start = time.thread_time()
            if ids is None:
                writer.update(logits, y, losses=losses)
            else:
                writer.update(logits, y, losses=losses, sample_ids=ids[random.randrange(64)])
            timed[name].append(time.thread_time() - start)

        return run

    variants = {
        "step": lambda: training_step(model, optimizer, x, y),
        "plain": step_then("plain", plain),
        "tracking": step_then("tracking", tracking, id_batches),
    }
    totals = interleaved(variants, repeats)
    plain.close()
    tracking.close()
    update = statistics.median(timed["plain"][-repeats:])
    tracked = statistics.median(timed["tracking"][-repeats:])
    step = statistics.median(totals["step"])
    return {
        "step_us": step * 1e6,
        "update_us": update * 1e6,
        "tracked_us": tracked * 1e6,
        "ratio": tracked / update,
        "of_step": (tracked - update) / step,
    }


def realistic_state(size: int, num_classes: int, visits: int, seed: int = 0):
    """A NumPy state shaped like a real run's (10% of labels wrong, most samples learned), to
    time write() and size the snapshot with realistic entropy."""
    rng = np.random.default_rng(seed)
    state = dynamics_state.backend("numpy").new_state(size, None)
    wrong = rng.random(size) < 0.1
    confidence = np.where(wrong, rng.beta(1, 20, size), rng.beta(8, 2, size))
    variability = rng.beta(2, 8, size) * np.sqrt(confidence * (1 - confidence))
    margin = np.clip(2 * confidence - 1 + rng.normal(0, 0.1, size), -1, 1)
    sums = state.sums[:, :size]
    sums[dynamics_state.VISITS] = visits
    sums[dynamics_state.SUM_P] = confidence * visits
    sums[dynamics_state.SUM_P2] = (variability**2 + confidence**2) * visits
    sums[dynamics_state.SUM_MARGIN] = margin * visits
    correct = np.clip(confidence + rng.normal(0, 0.1, size), 0, 1)
    sums[dynamics_state.CORRECT] = np.rint(correct * visits)
    sums[dynamics_state.FORGETS] = rng.poisson(0.4, size)
    labels = rng.integers(0, num_classes, size)
    state.last[dynamics_state.LABEL, :size] = labels
    others = (labels + rng.integers(1, num_classes, size)) % num_classes
    state.last[dynamics_state.PREFERRED, :size] = others
    return state


def measure_write(size: int, num_classes: int, logdir: str) -> dict[str, float]:
    """Bytes and time of two writes of a tracking writer whose state is a realistic one: the
    first writes a snapshot, the second (right after) counts only."""
    directory = os.path.join(logdir, f"write-{size}")
    writer = PerClassWriter(directory, num_classes=num_classes, track_samples=size)
    logits = torch.randn(BATCH, num_classes)
    y = torch.randint(0, num_classes, (BATCH,))
    writer.update(logits, y, sample_ids=torch.arange(BATCH))  # creates the torch state
    host = realistic_state(size, num_classes, visits=20)
    tracker = writer._accumulator.tracker  # noqa: SLF001 (the bench sets a realistic state)
    tracker.state.sums.copy_(torch.from_numpy(host.sums))
    tracker.state.last.copy_(torch.from_numpy(host.last))
    result = {"state_bytes": tracker.state.sums.nbytes + tracker.state.last.nbytes}
    for step, label in ((0, "snapshot"), (1, "counts")):
        writer.update(logits, y, sample_ids=torch.arange(BATCH))
        before = _bytes(directory)
        start = time.perf_counter()
        writer.write(step)
        result[f"{label}_ms"] = (time.perf_counter() - start) * 1e3
        result[f"{label}_bytes"] = _bytes(directory) - before
    writer.close()
    plain_dir = os.path.join(logdir, f"plain-write-{size}")
    plain = PerClassWriter(plain_dir, num_classes=num_classes)
    plain.update(logits, y)
    before = _bytes(plain_dir)
    plain.write(0)
    result["plain_bytes"] = _bytes(plain_dir) - before
    plain.close()
    return result


def _bytes(directory: str) -> int:
    return sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, batch {BATCH}, CPU, thread CPU time (medians)")
    with tempfile.TemporaryDirectory() as logdir:
        for num_classes in (10, 1000):
            for size in (50_000, 1_281_167):
                r = measure_update(num_classes, size, args.repeats, logdir)
                print(
                    f"C={num_classes:5d} N={size:9,d}  update() {r['update_us']:5.0f} us, with "
                    f"track_samples {r['tracked_us']:5.0f} us: ratio {r['ratio']:.2f}; tracking "
                    f"= {100 * r['of_step']:.1f}% of the demo CNN's step ({r['step_us']:.0f} us)"
                )
        for size, num_classes in ((50_000, 10), (1_281_167, 1000)):
            w = measure_write(size, num_classes, logdir)
            print(
                f"N={size:9,d} C={num_classes:4d}: state {w['state_bytes'] / 2**20:5.1f} MiB on "
                f"the device; write() with a snapshot {w['snapshot_ms']:4.0f} ms, "
                f"{w['snapshot_bytes'] / 2**20:5.2f} MiB; counts only {w['counts_ms']:4.0f} ms, "
                f"{w['counts_bytes'] / 1024:5.1f} KiB (without tracking "
                f"{w['plain_bytes'] / 1024:5.1f} KiB)"
            )


if __name__ == "__main__":
    main()
