"""Fetching every class's learning curve: the `curves` route against stock TensorBoard scalars.

The same numbers (C classes x S steps of per-class loss) are written twice into one log
directory: as tb-perclass `stats` summaries (run `perclass`), and as one stock scalar tag per
class (run `scalars`, the hand-written-callback way). One real `tensorboard` process (data
server) serves both; the benchmark times one `curves` request, warm p50, as JSON and in the
binary layout the tab fetches (both as a browser asks: gzip accepted), against fetching every
class's scalar series through the Scalars plugin, one request per tag (what the Scalars
dashboard does), and reports the ratios.

    python -m bench.curves_route [--classes 1000] [--steps 500] [--load-fast false]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import urllib.parse
import urllib.request

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, types_pb2
from tensorboard.plugins.scalar import metadata as scalar_metadata

from tb_perclass.format import summary
from tb_perclass.logger.sinks import EventFileSink
from tests.helpers import ROUTE_PREFIX, TensorBoardProcess

SCALARS = "/data/plugin/scalars/scalars"


def write_runs(logdir: str, classes: int, steps: int) -> None:
    names = [f"class_{i:04d}" for i in range(classes)]
    rng = np.random.default_rng(0)
    ours = EventFileSink(os.path.join(logdir, "perclass"))
    stock = EventFileSink(os.path.join(logdir, "scalars"))
    # What tf.summary.scalar writes: a float32 rank-0 tensor with the Scalars plugin's metadata.
    stock_metadata = scalar_metadata.create_summary_metadata(display_name="", description="")
    for step in range(steps):
        count = rng.integers(20, 80, classes).astype(np.float64)
        loss = rng.random(classes) * 2.0 / (1 + step / 50)
        correct = np.floor(count * rng.random(classes))
        proto = summary.stats_pb(
            "perclass",
            loss=loss,
            count=count,
            correct=correct,
            nonfinite=np.zeros(classes),
            class_names=names,
        )
        ours.write(proto, step, 1.7e9 + step)
        scalars = summary_pb2.Summary()
        for name, value in zip(names, loss):
            scalars.value.add(
                tag=f"loss/{name}",
                metadata=stock_metadata,
                tensor=tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[value]),
            )
        stock.write(scalars, step, 1.7e9 + step)
    ours.close()
    stock.close()


def timed_get(server: TensorBoardProcess, path: str) -> tuple[float, int]:
    """Seconds and bytes on the wire of one GET that accepts gzip, as a browser's does."""
    request = urllib.request.Request(server.url + path, headers={"Accept-Encoding": "gzip"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
    return time.perf_counter() - start, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--load-fast", default="true", choices=("true", "false"))
    args = parser.parse_args()
    classes, steps = args.classes, args.steps
    with tempfile.TemporaryDirectory() as logdir:
        start = time.perf_counter()
        write_runs(logdir, classes, steps)
        print(
            f"wrote {classes} classes x {steps} steps twice in {time.perf_counter() - start:.1f} s"
        )
        curves = f"{ROUTE_PREFIX}/curves?run=perclass&name=perclass"
        with TensorBoardProcess(logdir, load_fast=args.load_fast == "true") as server:
            start = time.perf_counter()
            server.wait_for(curves, lambda body: len(body["steps"]) == steps, timeout=900)
            tag = urllib.parse.quote(f"loss/class_{classes - 1:04d}")
            server.wait_for(
                f"{SCALARS}?run=scalars&tag={tag}", lambda body: len(body) == steps, timeout=900
            )
            print(f"both runs fully loaded after {time.perf_counter() - start:.1f} s")

            as_json = [timed_get(server, curves) for _ in range(9)]
            as_binary = [timed_get(server, curves + "&format=binary") for _ in range(9)]
            stock_start = time.perf_counter()
            stock_bytes = 0
            for i in range(classes):
                tag = urllib.parse.quote(f"loss/class_{i:04d}")
                _, size = timed_get(server, f"{SCALARS}?run=scalars&tag={tag}")
                stock_bytes += size
            stock = time.perf_counter() - stock_start
    json_s, binary_s = (statistics.median(t for t, _ in times) for times in (as_json, as_binary))
    print(f"{classes} classes x {steps} steps, tensorboard --load_fast={args.load_fast}")
    print("  curves route, one request for loss, count, accuracy, non-finite of every class:")
    print(
        f"    JSON (gzip):  warm p50 {json_s * 1e3:6.0f} ms, {as_json[0][1] / 2**20:.1f} MiB sent"
    )
    print(
        f"    binary:       warm p50 {binary_s * 1e3:6.0f} ms, "
        f"{as_binary[0][1] / 2**20:.1f} MiB sent"
    )
    print(
        f"  stock Scalars, one request per class (loss only): {classes} requests, "
        f"{stock:.1f} s, {stock_bytes / 2**20:.1f} MiB"
    )
    print(
        f"  ratios: stock / binary {stock / binary_s:.0f}x, JSON / binary {json_s / binary_s:.1f}x"
        "  (target: one request < 100 ms)"
    )


if __name__ == "__main__":
    main()
