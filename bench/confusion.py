"""Confusion matrix benchmarks (CPU), each measured side by side in one run.

1. `PerClassWriter.update()` (per-class stats and confusion counts) against torchmetrics'
   `MulticlassConfusionMatrix.update` alone, same batch (B=256), C=10 and C=1000, interleaved.
2. Event bytes per confusion summary at C=1000 with 50,000 predictions per step.
3. `confusion` route latency at C=1000 over 200 steps, against a real `tensorboard` process
   (data server): the first (cold) request and the p50 of warm requests for random steps.

    python -m bench.confusion [--repeats 500] [--skip-route]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

import numpy as np

from bench.common import interleaved
from tb_perclass import PerClassWriter
from tb_perclass.format import summary
from tb_perclass.logger.sinks import EventFileSink
from tests.helpers import ROUTE_PREFIX, TensorBoardProcess

BATCH = 256


def bench_update(num_classes: int, repeats: int, logdir: str) -> dict[str, float]:
    import torch
    import torch.nn.functional as F
    from torchmetrics.classification import MulticlassConfusionMatrix

    torch.manual_seed(0)
    logits = torch.randn(BATCH, num_classes)
    targets = torch.randint(0, num_classes, (BATCH,))
    losses = F.cross_entropy(logits, targets, reduction="none")
    metric = MulticlassConfusionMatrix(num_classes=num_classes)
    writer = PerClassWriter(os.path.join(logdir, f"u{num_classes}"), num_classes=num_classes)
    times = interleaved(
        {
            "torchmetrics": lambda: metric.update(logits, targets),
            "ours_computed_loss": lambda: writer.update(logits, targets),
            "ours_given_loss": lambda: writer.update(logits, targets, losses=losses),
        },
        repeats,
        warmup=30,
    )
    writer.close()
    return {name: statistics.median(t) * 1e6 for name, t in times.items()}


def confusion_counts(num_classes: int, predictions: int, accuracy: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, num_classes, predictions)
    wrong = rng.random(predictions) >= accuracy
    predicted = np.where(wrong, rng.integers(0, num_classes, predictions), targets)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (targets, predicted), 1)
    return matrix


def bench_bytes(num_classes: int = 1000, predictions: int = 50_000) -> list[tuple]:
    from tensorboard.compat.proto import event_pb2

    names = [f"class_{i:04d}" for i in range(num_classes)]
    rows = []
    for accuracy in (0.9, 0.5, 0.0):
        matrix = confusion_counts(num_classes, predictions, accuracy, seed=1)
        proto = summary.confusion_pb("perclass", matrix, class_names=names)
        event_bytes = event_pb2.Event(step=123, wall_time=1.7e9, summary=proto).ByteSize()
        metadata_bytes = proto.value[0].metadata.ByteSize()  # O(C): the class names
        nnz = int((matrix > 0).sum())
        rows.append(
            (accuracy, nnz, event_bytes, metadata_bytes, (event_bytes - metadata_bytes) / nnz)
        )
    return rows


def bench_route(num_classes: int = 1000, steps: int = 200, predictions: int = 50_000) -> dict:
    names = [f"class_{i:04d}" for i in range(num_classes)]
    with tempfile.TemporaryDirectory() as logdir:
        sink = EventFileSink(os.path.join(logdir, "run"))
        for step in range(steps):
            matrix = confusion_counts(num_classes, predictions, 0.5 + 0.4 * step / steps, step)
            sink.write(
                summary.confusion_pb("perclass", matrix, class_names=names), step, 1.7e9 + step
            )
        sink.close()
        size_mb = (
            sum(
                os.path.getsize(os.path.join(logdir, "run", f))
                for f in os.listdir(os.path.join(logdir, "run"))
            )
            / 2**20
        )
        with TensorBoardProcess(logdir) as server:
            server.wait_for(f"{ROUTE_PREFIX}/tags", lambda tags: "run" in tags, timeout=300)
            start = time.perf_counter()
            body = server.wait_for(
                f"{ROUTE_PREFIX}/confusion?run=run&name=perclass",
                lambda b: len(b["steps"]) == steps,
                timeout=300,
            )
            cold = time.perf_counter() - start
            rng = random.Random(0)
            warm, response_bytes = [], []
            for _ in range(60):
                step = rng.randrange(steps)
                start = time.perf_counter()
                status, raw, _ = server.get(
                    f"{ROUTE_PREFIX}/confusion?run=run&name=perclass&step={step}"
                )
                warm.append(time.perf_counter() - start)
                assert status == 200
                response_bytes.append(len(raw))
    return {
        "event_file_mb": size_mb,
        "cold_s": cold,
        "warm_p50_ms": statistics.median(warm) * 1e3,
        "warm_p90_ms": sorted(warm)[int(0.9 * len(warm))] * 1e3,
        "response_kb": statistics.median(response_bytes) / 1024,
        "nnz_last": len(body["counts"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--skip-route", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as logdir:
        print(
            "1. update() vs torchmetrics MulticlassConfusionMatrix.update, "
            f"B={BATCH}, CPU (median us)"
        )
        for num_classes in (10, 1000):
            r = bench_update(num_classes, args.repeats, logdir)
            tm = r["torchmetrics"]
            print(
                f"   C={num_classes:5d}  torchmetrics {tm:7.1f}  ours (loss computed) "
                f"{r['ours_computed_loss']:7.1f} ratio {r['ours_computed_loss'] / tm:4.2f}  "
                f"ours (loss given) {r['ours_given_loss']:7.1f} ratio "
                f"{r['ours_given_loss'] / tm:4.2f}  (target <= 1.0)"
            )
    print("2. event bytes per confusion summary, C=1000, 50,000 predictions")
    for accuracy, nnz, total, meta, per_nnz in bench_bytes():
        print(
            f"   accuracy {accuracy:.1f}: nnz {nnz:6d}  event {total / 1024:7.1f} KiB  of which "
            f"metadata (class names, O(C)) {meta / 1024:5.1f} KiB  -> {per_nnz:4.1f} bytes per "
            "nonzero cell (target <= 16)"
        )
    if not args.skip_route:
        r = bench_route()
        print(
            "3. confusion route, C=1000, 200 steps of 50,000 predictions, "
            "real tensorboard (data server)"
        )
        print(
            f"   event file {r['event_file_mb']:.1f} MiB; "
            f"first request (loads and decodes all steps) {r['cold_s']:.2f} s; "
            f"warm p50 {r['warm_p50_ms']:.1f} ms, p90 {r['warm_p90_ms']:.1f} ms; "
            f"response {r['response_kb']:.0f} KiB (nnz at the last step {r['nnz_last']})"
        )


if __name__ == "__main__":
    main()
