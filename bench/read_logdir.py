"""Loading a large run into the pandas frame, and the `tb-perclass` command on it.

A 1000-class x 1000-step run written by the real PerClassWriter (stats and COO confusion counts,
about 13k nonzero cells per step, like a learning ImageNet-size classifier: ~120 MiB of event
files) is read in a fresh process per measurement, so imports count as a user pays them:

  frame, TensorFlow installed    read_logdir(...).per_class() where TensorFlow is installed but
                                 not imported: TensorBoard's file layer imports it (the torch
                                 user who also has TensorFlow)
  frame, TensorFlow loaded       the same after `import tensorflow` (a Keras notebook; the import
                                 itself not timed)
  frame, no TensorFlow           a TensorFlow-free environment (TensorBoard's stub reader)
  frame, no TF, stub CRC         the same without swapping the stub's pure-Python CRC32C for
                                 google-crc32c (what loading costs without that)
  tb-perclass report             the console script's classification report of the last step

Variants run interleaved (each repeat runs every variant once, shuffled); the figures are
medians, with each variant's ratio to "frame, no TensorFlow" taken repeat by repeat.

    python -m bench.read_logdir [--logdir DIR] [--classes 1000] [--steps 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

_FRAME = """
import json, resource, sys, time
{prelude}
start = time.perf_counter()
from tb_perclass import read_logdir
logs = read_logdir(sys.argv[1])
loaded = time.perf_counter()
frame = logs.per_class()
done = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": done - start, "load": loaded - start, "frame": done - loaded,
                  "rows": len(frame), "peak_mib": peak}}))
"""

VARIANTS = {
    "frame, TensorFlow installed": "",
    "frame, TensorFlow loaded": "import tensorflow",
    "frame, no TensorFlow": "sys.modules['tensorflow'] = None",
    "frame, no TF, stub CRC": (
        "sys.modules['tensorflow'] = None\n"
        "import contextlib, tb_perclass.analysis.loading as loading\n"
        "loading._fast_record_checksums = contextlib.nullcontext"
    ),
}
BASE = "frame, no TensorFlow"


def write_run(run_dir: str, classes: int, steps: int, per_class: int = 50, seed: int = 0) -> None:
    """A classifier that learns: each class's accuracy rises to its own ceiling, its mistakes go
    mostly to a few neighbouring classes; one update of its validation set per step."""
    from tb_perclass import PerClassWriter

    rng = np.random.default_rng(seed)
    targets = np.repeat(np.arange(classes), per_class)
    ceiling = np.clip(rng.beta(6, 1.6, classes), 0.05, 0.99)
    pace = rng.uniform(0.05, 0.6, classes) * steps
    neighbours = rng.integers(0, classes, (classes, 16))
    logits = np.zeros((len(targets), classes), dtype=np.float32)
    rows, shown = np.arange(len(targets)), np.zeros(len(targets), dtype=np.int64)
    names = [f"n{i:08d}" for i in range(classes)]
    with PerClassWriter(run_dir, class_names=names) as writer:
        for step in range(steps):
            accuracy = 1 / classes + (ceiling - 1 / classes) * (1 - np.exp(-step / pace))
            correct = rng.random(len(targets)) < accuracy[targets]
            predicted = np.where(
                correct, targets, neighbours[targets, rng.integers(0, 16, len(targets))]
            )
            logits[rows, shown] = 0.0
            logits[rows, predicted] = 5.0
            shown = predicted
            losses = rng.exponential(np.where(correct, 0.25, 2.5)).astype(np.float32)
            writer.update(logits, targets, losses)
            writer.write(step * 100, wall_time=1.7e9 + 60.0 * step)


def measure(name: str, logdir: str) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if name == "tb-perclass report":
        script = shutil.which("tb-perclass", path=os.path.dirname(sys.executable))
        start = time.perf_counter()
        result = subprocess.run([script, "report", logdir], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
        return {"seconds": time.perf_counter() - start}
    code = _FRAME.format(prelude=VARIANTS[name])
    result = subprocess.run(
        [sys.executable, "-c", code, logdir], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", help="an existing run to read (default: write one)")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logdir = args.logdir
    if logdir is None:
        logdir = tempfile.mkdtemp(prefix="tb-perclass-bench-")
        start = time.perf_counter()
        write_run(os.path.join(logdir, "run"), args.classes, args.steps)
        seconds = time.perf_counter() - start
        print(f"wrote {args.classes} classes x {args.steps} steps in {seconds:.0f} s")
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(logdir) for f in fs)
    print(f"{logdir}: {size / 2**20:.0f} MiB of event files")
    names = [*VARIANTS, "tb-perclass report"]
    results: dict[str, list[dict]] = {name: [] for name in names}
    measure(BASE, logdir)  # warm the page cache
    order = list(names)
    for _ in range(args.repeats):
        random.shuffle(order)
        for name in order:
            results[name].append(measure(name, logdir))
    base = [r["seconds"] for r in results[BASE]]
    print(
        f"\n{'variant':30} {'seconds':>8} {'load':>6} {'frame':>6} {'peak MiB':>9} {'x no-TF':>8}"
    )
    for name in names:
        runs = results[name]
        ratio = statistics.median(r["seconds"] / b for r, b in zip(runs, base))
        cells = [
            statistics.median(r.get(key, float("nan")) for r in runs)
            for key in ("seconds", "load", "frame", "peak_mib")
        ]
        figures = f"{cells[0]:8.2f} {cells[1]:6.2f} {cells[2]:6.2f} {cells[3]:9.0f}"
        print(f"{name:30} {figures} {ratio:8.2f}")
    rows = results[BASE][0]["rows"]
    print(f"\nframe rows: {rows} ({args.classes} classes x {rows // max(args.classes, 1)} steps)")
    if args.logdir is None:
        shutil.rmtree(logdir)


if __name__ == "__main__":
    main()
