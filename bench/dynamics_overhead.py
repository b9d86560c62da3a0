"""Cost of per-sample training dynamics (CPU), measured side by side in one run.

1. `update()` at B=256 alone and followed by the per-sample tracking of the same batch
   (tb_perclass.stats.dynamics.track_batch), interleaved in a shuffled order, for C = 10 and
   1000 classes and datasets of 50k and 1.28M samples (the state is O(N); the per-batch work is
   O(B), so N should not matter), reported as the ratio to `update()` and to the demo CNN's
   training step.
2. What `write()` adds: reading the state back, computing the statistics and encoding the
   snapshot, at 50k and 1.28M samples; the snapshot's bytes (raw and zlib-compressed) and the
   state's device memory.

Times are the main thread's CPU time (time.thread_time) with torch on one thread: on a shared
machine wall time mostly measures the neighbours, and update() is single-threaded anyway.

    python bench/dynamics_overhead.py [--repeats 300]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import zlib

import numpy as np
import torch

from common import make_model, training_step  # noqa: E402

from tb_perclass import PerClassWriter  # noqa: E402
from tb_perclass import dynamics_snapshot  # noqa: E402
from tb_perclass.stats import dynamics  # noqa: E402

BATCH = 256
TORCH = dynamics.backend("torch")


def measure_update(num_classes: int, size: int, repeats: int, logdir: str) -> dict[str, float]:
    torch.manual_seed(0)
    model = make_model(num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(BATCH, 1, 8, 8)
    y = torch.randint(0, num_classes, (BATCH,))
    ids = torch.randperm(size)[:BATCH]
    writer = PerClassWriter(os.path.join(logdir, f"c{num_classes}-{size}"), num_classes=num_classes)
    state = TORCH.new_state(size, x)
    logits, losses = training_step(model, optimizer, x, y)

    def tracked():
        writer.update(logits, y, losses=losses)
        # In the writer the batch's correctness comes from update()'s own formatting; here it
        # is recomputed (two more ops): an upper bound.
        # The writer hands detached arrays to the state functions (ArrayOps.prepare).
        scores = logits.detach()
        dynamics.track_batch(
            TORCH, state, ids, scores, y, scores.argmax(dim=1) == y, num_classes, route_ids=False
        )

    times = interleaved(
        {
            "step": lambda: training_step(model, optimizer, x, y),
            "update": lambda: writer.update(logits, y, losses=losses),
            "update+track": tracked,
        },
        repeats,
    )
    writer.write(0)
    writer.close()
    update = statistics.median(times["update"])
    tracked_time = statistics.median(times["update+track"])
    return {
        "step_us": statistics.median(times["step"]) * 1e6,
        "update_us": update * 1e6,
        "tracked_us": tracked_time * 1e6,
        "ratio": tracked_time / update,
        "of_step": (tracked_time - update) / statistics.median(times["step"]),
    }


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


def synthetic_state(size: int, num_classes: int, visits: int, seed: int = 0) -> dynamics.DynamicsState:
    """A state shaped like a real run's (10% of labels wrong, most samples learned), to time
    write() and size the snapshot with realistic entropy."""
    rng = np.random.default_rng(seed)
    state = dynamics.backend("numpy").new_state(size, None)
    wrong = rng.random(size) < 0.1
    confidence = np.where(wrong, rng.beta(1, 20, size), rng.beta(8, 2, size))
    variability = rng.beta(2, 8, size) * 0.5 * np.sqrt(confidence * (1 - confidence)) * 2
    margin = np.clip(2 * confidence - 1 + rng.normal(0, 0.1, size), -1, 1)
    sums = state.sums[:, :size]
    sums[dynamics.VISITS] = visits
    sums[dynamics.SUM_P] = confidence * visits
    sums[dynamics.SUM_P2] = (variability**2 + confidence**2) * visits
    sums[dynamics.SUM_MARGIN] = margin * visits
    sums[dynamics.CORRECT] = np.rint(np.clip(confidence + rng.normal(0, 0.1, size), 0, 1) * visits)
    sums[dynamics.FORGETS] = rng.poisson(0.4, size)
    labels = rng.integers(0, num_classes, size)
    state.last[dynamics.LABEL, :size] = labels
    state.last[dynamics.PREFERRED, :size] = (labels + rng.integers(1, num_classes, size)) % num_classes
    return state


def measure_write(size: int, num_classes: int) -> dict[str, float]:
    host = synthetic_state(size, num_classes, visits=20)
    state = dynamics.DynamicsState(
        size, torch.from_numpy(host.sums), torch.from_numpy(host.last), torch.zeros(1)
    )
    start = time.perf_counter()
    result = dynamics.compute(*TORCH.host_tables(state))
    computed = time.perf_counter()
    header, blobs = dynamics_snapshot.encode(result, num_classes)
    encoded = time.perf_counter()
    raw = dynamics_snapshot.serialized_size(header, blobs)
    compressed = sum(len(zlib.compress(blob, 1)) for blob in blobs)
    return {
        "compute_ms": (computed - start) * 1e3,
        "encode_ms": (encoded - computed) * 1e3,
        "bytes": raw,
        "zlib_bytes": compressed,
        "map_points": header["map"]["count"],
        "entries": header["entries"]["count"],
        "state_bytes": state.sums.nbytes + state.last.nbytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, batch {BATCH}, CPU, thread CPU time")
    with tempfile.TemporaryDirectory() as logdir:
        for num_classes in (10, 1000):
            for size in (50_000, 1_281_167):
                r = measure_update(num_classes, size, args.repeats, logdir)
                print(
                    f"C={num_classes:5d} N={size:9,d}  step {r['step_us']:7.0f} us  update "
                    f"{r['update_us']:5.0f} us  update+tracking {r['tracked_us']:5.0f} us  ratio "
                    f"{r['ratio']:.2f}  tracking = {100 * r['of_step']:.1f}% of the step"
                )
    for size, num_classes in ((50_000, 10), (1_281_167, 1000)):
        w = measure_write(size, num_classes)
        print(
            f"write() at N={size:9,d} C={num_classes}: state {w['state_bytes'] / 1e6:5.1f} MB on the "
            f"device; read back + compute {w['compute_ms']:5.0f} ms, encode {w['encode_ms']:4.0f} ms;"
            f" snapshot {w['bytes'] / 1e6:5.2f} MB ({w['map_points']:,} map points, "
            f"{w['entries']:,} listed samples), zlib {w['zlib_bytes'] / 1e6:5.2f} MB"
        )


if __name__ == "__main__":
    main()
