"""The first curves answer of a long run on the data-server path: this working tree against
another git revision, side by side in one process.

TensorBoard's Rust data server is started once on LOGDIR (as TensorBoard starts it, every step
kept) and read over gRPC by `GrpcDataProvider`, the plugin's provider on the default path. Each
repeat then builds, for each revision in a shuffled order, a fresh `PerClassReader` (an empty
cache: what the first request after TensorBoard lists the run costs) and times the curves
answer the tab asks for: the stats tag read (`read_tensors`, every step), decoded, and encoded
in the binary layout. Reports the median of each, and the median of the per-repeat ratios.

    python -m bench.long_run /tmp/run --steps 5000        # 1000 classes x 5000 steps, once
    python -m bench.first_curves /tmp/run [--against main] [--repeats 5] [--profile]

--profile prints where this tree's first answer spends its time (cProfile, cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time

from tensorboard import context as tb_context

from bench.provider_costs import data_server_provider
from bench.update_ab import export_revision
from tb_perclass.format import metadata


def load_plugin(path: str | None) -> dict:
    """The reader, curves and binary encoding modules of the tree at `path` (None: this one)."""
    for name in [n for n in sys.modules if n == "tb_perclass" or n.startswith("tb_perclass.")]:
        del sys.modules[name]  # the other revision's modules stay alive through `modules`
    if path is not None:
        sys.path.insert(0, path)
    importlib.invalidate_caches()
    modules = {
        "reader": importlib.import_module("tb_perclass.plugin.reader"),
        "curves": importlib.import_module("tb_perclass.plugin.curves"),
        "binary": importlib.import_module("tb_perclass.plugin.binary_encoding"),
    }
    if path is not None:
        sys.path.remove(path)
    return modules


def first_answer(modules: dict, data_provider, run: str, name: str) -> tuple[float, int]:
    """Seconds and bytes of the binary curves answer with an empty cache."""
    ctx = tb_context.RequestContext()
    reader = modules["reader"].PerClassReader(data_provider)
    start = time.perf_counter()
    found = modules["curves"].answer(reader, ctx, "", run, name)
    body = modules["binary"].encode(modules["curves"].as_binary(found))
    return time.perf_counter() - start, len(body)


def wait_loaded(data_provider, run: str, name: str) -> int:
    """Waits until the data server's last step of the stats tag stops moving."""
    ctx, last = tb_context.RequestContext(), None
    tag = metadata.tag_for(name, metadata.KIND_STATS)
    while True:
        listing = data_provider.list_tensors(
            ctx, experiment_id="", plugin_name=metadata.PLUGIN_NAME
        )
        series = listing.get(run, {}).get(tag)
        current = None if series is None else series.max_step
        if current is not None and current == last:
            return current
        last = current
        time.sleep(3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--run", default="run_00")
    parser.add_argument("--name", default=metadata.DEFAULT_NAME)
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        export_revision(args.against, scratch)
        sides = {args.against: load_plugin(scratch), "this tree": load_plugin(None)}
        data_provider = data_server_provider(args.logdir)
        last = wait_loaded(data_provider, args.run, args.name)
        print(f"data server loaded {args.run} (last step {last}); load average {os.getloadavg()}")
        times: dict[str, list[float]] = {side: [] for side in sides}
        ratios = []
        for _ in range(args.repeats):
            order = list(sides)
            random.shuffle(order)
            took = {}
            for side in order:
                took[side], size = first_answer(sides[side], data_provider, args.run, args.name)
                times[side].append(took[side])
            ratios.append(took["this tree"] / took[args.against])
        for side, values in times.items():
            print(f"  {side:12s} first curves answer median {statistics.median(values):.2f} s")
        print(f"  this tree / {args.against}: median ratio {statistics.median(ratios):.2f}")
        print(f"  answer {size / 2**20:.1f} MiB; load average {os.getloadavg()}")
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(first_answer, sides["this tree"], data_provider, args.run, args.name)
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(20)
            print(text.getvalue())


if __name__ == "__main__":
    main()
