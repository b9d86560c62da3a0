"""Cost of keeping misclassified samples (CPU), measured side by side in one run.

1. The demo CNN's training step (B=256) alone, followed by `update()` without inputs, and
   followed by `update(..., inputs=x, sample_ids=ids)`, interleaved in a shuffled order over
   epochs of 64 distinct batches with a `write()` per epoch; reports the mean overheads relative
   to the step (the batches that refill the kept set after each write included).
2. Memory held by the kept samples at the default caps (256 samples, 8 per cell) after an epoch
   of mistakes, for 8x8 digits, 224x224 RGB and 1024x1024 RGB inputs (downscaled to 256 px), and
   the peak Python allocation during that epoch (tracemalloc).

    python -m bench.samples [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import tracemalloc

import torch

from bench.common import make_model, training_step
from tb_perclass import PerClassWriter

BATCH = 256


def bench_overhead(epochs: int, logdir: str) -> dict[str, float]:
    """Mean per-batch time over epochs of 64 distinct batches, write() at each epoch's end (it
    resets the kept set, so each epoch pays for filling it again: included in the mean)."""
    torch.manual_seed(0)
    model = make_model(10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    pool = [(torch.randn(BATCH, 1, 8, 8), torch.randint(0, 10, (BATCH,))) for _ in range(64)]
    ids = torch.arange(BATCH)
    writers = {
        "without": PerClassWriter(os.path.join(logdir, "plain"), num_classes=10),
        "with": PerClassWriter(os.path.join(logdir, "samples"), num_classes=10),
    }

    def run(variant, x, y):
        logits, losses = training_step(model, optimizer, x, y)
        if variant == "without":
            writers[variant].update(logits, y, losses=losses)
        elif variant == "with":
            writers[variant].update(logits, y, losses=losses, inputs=x, sample_ids=ids)

    variants = ["step", "without", "with"]
    times: dict[str, list[float]] = {name: [] for name in variants}
    writes: dict[str, list[float]] = {"without": [], "with": []}
    rng = random.Random(0)
    for epoch in range(epochs + 1):  # epoch 0 warms up
        for x, y in pool:
            rng.shuffle(variants)
            for name in variants:
                start = time.perf_counter()
                run(name, x, y)
                if epoch:
                    times[name].append(time.perf_counter() - start)
        for name, writer in writers.items():
            start = time.perf_counter()
            writer.write(epoch)
            if epoch:
                writes[name].append(time.perf_counter() - start)
    for writer in writers.values():
        writer.close()
    step_time = statistics.mean(times["step"])
    return {
        "step_us": step_time * 1e6,
        "without": statistics.mean(times["without"]) / step_time - 1,
        "with": statistics.mean(times["with"]) / step_time - 1,
        "inputs_extra_us": (statistics.mean(times["with"]) - statistics.mean(times["without"]))
        * 1e6,
        "write_without_ms": statistics.median(writes["without"]) * 1e3,
        "write_with_ms": statistics.median(writes["with"]) * 1e3,
    }


def bench_memory(shape: tuple[int, ...], logdir: str, batches: int = 40) -> tuple[int, int, int]:
    """(bytes of kept sample contents, samples kept, tracemalloc peak) after `batches` of
    confident mistakes, at the default caps."""
    torch.manual_seed(1)
    writer = PerClassWriter(os.path.join(logdir, f"m{shape}"), num_classes=10)
    tracemalloc.start()
    for _ in range(batches):
        logits = torch.randn(64, 10) * 5
        targets = torch.randint(0, 10, (64,))
        writer.update(logits, targets, inputs=torch.rand(64, *shape))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = [m for cell in writer._mistakes._cells.values() for m in cell]
    held = sum(m.content.nbytes for m in kept)
    writer.close()
    return held, len(kept), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as logdir:
        r = bench_overhead(args.epochs, logdir)
        print(f"1. demo CNN training step (B={BATCH}, CPU), mean {r['step_us']:.0f} us")
        print(
            f"   update() overhead per batch: without inputs {100 * r['without']:.1f}%, with "
            f"inputs= {100 * r['with']:.1f}%; inputs= adds {r['inputs_extra_us']:.0f} us per "
            f"batch on average. write() per epoch: {r['write_without_ms']:.1f} ms without, "
            f"{r['write_with_ms']:.1f} ms with 256 kept samples"
        )
        print("2. memory held by kept samples at the defaults (256 in all, 8 per cell)")
        for shape in ((8, 8), (3, 224, 224), (3, 1024, 1024)):
            held, count, peak = bench_memory(shape, logdir, batches=40 if shape[-1] < 1000 else 8)
            print(
                f"   inputs {str(shape):16s}: {count} kept, {held / 2**20:6.2f} MiB of pixels "
                f"(uint8, <= 256 px a side); tracemalloc peak {peak / 2**20:6.1f} MiB"
            )


if __name__ == "__main__":
    main()
