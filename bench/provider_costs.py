"""What TensorBoard keeps for a tb-perclass run, and what each data-provider read costs.

Loads one log directory through TensorBoard's own data providers, as the plugin sees them:
  data server   the Rust data server (`--load_fast=true`, the default), started the way
                TensorBoard starts it, read over gRPC by `GrpcDataProvider`
  python        `--load_fast=false`: `EventMultiplexer` + `MultiplexerDataProvider`, in this
                process
with every step kept (`samples_per_plugin perclass=all`, as the plugin's loader asks). Reports
the reservoir (resident memory of the loaded data: the data server's RSS, or this process's RSS
growth), bytes per step, and the time and transient memory of each read the plugin makes:
read_tensors of the stats tag (every step), the blob listing and single-step read_blob of the
confusion tag (version 3) or read_tensors of every confusion step (versions 1 and 2).

    python bench/provider_costs.py LOGDIR [--path data-server|python] [--blobs 200]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from long_run_memory import MiB, Memory, status_kib  # noqa: E402
from tb_perclass import metadata  # noqa: E402

ALL = 1_000_000


def data_server_provider(logdir: str):
    from tensorboard.data import grpc_provider, server_ingester  # noqa: F401
    from tensorboard.data.server_ingester import SubprocessServerDataIngester
    from tensorboard.util import grpc_util

    binary = server_ingester.get_server_binary()
    ingester = SubprocessServerDataIngester(
        binary, logdir, reload_interval=0, channel_creds_type=grpc_util.ChannelCredsType.LOCAL,
        samples_per_plugin={metadata.PLUGIN_NAME: 0},
    )  # fmt: skip
    ingester.start()
    return ingester.data_provider


def python_provider(logdir: str):
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer

    multiplexer = plugin_event_multiplexer.EventMultiplexer(
        tensor_size_guidance={metadata.PLUGIN_NAME: 0}
    )
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    return data_provider.MultiplexerDataProvider(multiplexer, logdir)


def self_rss() -> int:
    return status_kib(os.getpid(), "VmRSS") * 1024


def measure(logdir: str, path: str, blobs: int) -> dict:
    result: dict = {"logdir": logdir, "path": path}
    if path == "python":  # what loading imports (TensorFlow, if installed) is not the reservoir
        from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer  # noqa: F401
        from tensorboard.compat import tf  # noqa: F401

        tf.io.gfile.exists("/")
        gc.collect()
    before = self_rss()
    start = time.perf_counter()
    if path == "python":
        provider = python_provider(logdir)
        result["load_seconds"] = time.perf_counter() - start
        gc.collect()
        result["reservoir_bytes"] = self_rss() - before
        server = None
    else:
        provider = data_server_provider(logdir)
        children = [p for p in Memory(os.getpid()).rss() if p != "python"]
        server = Memory(os.getpid())
        # wait until the server has read everything: its CPU goes quiet
        server.wait_idle(quiet_seconds=3.0)
        result["load_seconds"] = time.perf_counter() - start
        result["reservoir_bytes"] = server.rss().get("data server", 0)
        del children
    from tensorboard import context as tb_context

    ctx = tb_context.RequestContext()
    experiment = ""
    tensors = provider.list_tensors(ctx, experiment_id=experiment, plugin_name=metadata.PLUGIN_NAME)
    blob_listing = provider.list_blob_sequences(ctx, experiment_id=experiment, plugin_name=metadata.PLUGIN_NAME)
    run = sorted(tensors)[0]
    stats_tag = next(t for t in tensors[run] if t.endswith("/stats"))
    result["steps"] = tensors[run][stats_tag].max_step
    result["reservoir_bytes_per_step"] = None

    def timed(name, function):
        gc.collect()
        base = self_rss()
        if server:
            server.reset_peak()
        t0 = time.perf_counter()
        value = function()
        seconds = time.perf_counter() - t0
        figures = {"seconds": seconds, "python_rss_growth": self_rss() - base}
        figures["python_peak"] = status_kib(os.getpid(), "VmHWM") * 1024
        if server:
            figures["data_server_peak"] = server.peak().get("data server", 0)
        result[name] = figures
        return value

    from tensorboard.data import provider as tb_provider

    def read_all(kind_tag, reader):
        return reader(
            ctx, experiment_id=experiment, plugin_name=metadata.PLUGIN_NAME, downsample=ALL,
            run_tag_filter=tb_provider.RunTagFilter(runs=[run], tags=[kind_tag]),
        )  # fmt: skip

    data = timed("read_tensors stats", lambda: read_all(stats_tag, provider.read_tensors))
    points = data[run][stats_tag]
    result["stats_steps"] = len(points)
    result["stats_bytes_per_step"] = sum(p.numpy.nbytes if p.numpy.dtype != object else len(p.numpy.item()) for p in points) / len(points)
    del data, points
    confusion_tag = stats_tag.rsplit("/", 1)[0] + "/confusion"
    if confusion_tag in blob_listing.get(run, {}):
        keys = timed("read_blob_sequences confusion", lambda: read_all(confusion_tag, provider.read_blob_sequences))
        refs = keys[run][confusion_tag]
        chosen = refs[:: max(1, len(refs) // blobs)][:blobs]
        sizes = timed("read_blob x%d" % len(chosen), lambda: [len(provider.read_blob(ctx, blob_key=d.values[0].blob_key)) for d in chosen])
        result["read_blob_ms_each"] = result["read_blob x%d" % len(chosen)]["seconds"] / len(chosen) * 1e3
        result["confusion_blob_bytes_per_step"] = sum(sizes) / len(sizes)
    elif confusion_tag in tensors.get(run, {}):
        try:
            timed("read_tensors confusion", lambda: len(read_all(confusion_tag, provider.read_tensors)[run][confusion_tag]))
        except Exception as error:  # the data server refuses answers over 256 MiB
            result["read_tensors confusion"] = {"failed": f"{type(error).__name__}: {str(error)[:200]}"}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--path", default="data-server", choices=("data-server", "python"))
    parser.add_argument("--blobs", type=int, default=200)
    args = parser.parse_args()
    result = measure(args.logdir, args.path, args.blobs)
    result["reservoir_bytes_per_step"] = result["reservoir_bytes"] / max(result["stats_steps"], 1)
    print(json.dumps(result, indent=1))
    print(
        f"{args.path}: reservoir {result['reservoir_bytes'] / MiB:.0f} MiB for {result['stats_steps']} "
        f"steps = {result['reservoir_bytes_per_step'] / 1024:.1f} KiB/step"
    )


if __name__ == "__main__":
    main()
