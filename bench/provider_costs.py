"""What TensorBoard keeps for a tb-perclass run, and what each data-provider read costs.

Loads one log directory through TensorBoard's own data providers, as the plugin sees them:
  data-server   the Rust data server (`--load_fast=true`, the default), started the way
                TensorBoard starts it, read over gRPC by `GrpcDataProvider`
  python        `--load_fast=false`: `EventMultiplexer` + `MultiplexerDataProvider`, in this
                process
with every step kept (`samples_per_plugin perclass=all`, as the plugin's loader asks). Reports
the reservoir (the data server's RSS, or this process's RSS growth once the loading code is
imported) and its bytes per step, and the time of the reads the plugin makes: read_tensors of
the stats tag (every step), the confusion tag's blob listing and single-step read_blob calls,
one after the other and eight at a time (the data server answers each call after a fixed stall
that concurrent calls overlap).

    python -m bench.provider_costs LOGDIR [--path data-server|python] [--blobs 200]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import json
import os
import time

from tensorboard import context as tb_context
from tensorboard.data import provider as tb_provider

from bench.long_run_memory import Memory, MiB, status_kib
from tb_perclass.format import metadata

ALL = 1_000_000


def data_server_provider(logdir: str):
    from tensorboard.data import server_ingester
    from tensorboard.util import grpc_util

    ingester = server_ingester.SubprocessServerDataIngester(
        server_ingester.get_server_binary(),
        logdir,
        reload_interval=0,
        channel_creds_type=grpc_util.ChannelCredsType.LOCAL,
        samples_per_plugin={metadata.PLUGIN_NAME: 0},
    )
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


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def measure(logdir: str, path: str, blobs: int) -> dict:
    result: dict = {"logdir": logdir, "path": path}
    if path == "python":  # what loading imports (TensorFlow, if installed) is no reservoir
        from tensorboard.backend.event_processing import plugin_event_multiplexer  # noqa: F401
        from tensorboard.compat import tf

        tf.io.gfile.exists("/")
        gc.collect()
        before = self_rss()
        provider = python_provider(logdir)
        gc.collect()
        result["reservoir_bytes"] = self_rss() - before
    else:
        provider = data_server_provider(logdir)
        server = Memory(os.getpid())
        server.wait_idle(quiet_seconds=3.0)
        result["reservoir_bytes"] = server.rss().get("data server", 0)
    ctx, experiment = tb_context.RequestContext(), ""
    plugin = metadata.PLUGIN_NAME
    tensors = provider.list_tensors(ctx, experiment_id=experiment, plugin_name=plugin)
    blob_tags = provider.list_blob_sequences(ctx, experiment_id=experiment, plugin_name=plugin)
    run = sorted(tensors)[0]
    stats_tag = next(t for t in tensors[run] if t.endswith("/stats"))
    confusion_tag = metadata.tag_for(metadata.split_tag(stats_tag)[0], metadata.KIND_CONFUSION)

    def read_all(tag, reader):
        data = reader(
            ctx,
            experiment_id=experiment,
            plugin_name=plugin,
            downsample=ALL,
            run_tag_filter=tb_provider.RunTagFilter(runs=[run], tags=[tag]),
        )
        return data[run][tag]

    seconds, points = timed(lambda: read_all(stats_tag, provider.read_tensors))
    result["steps"] = len(points)
    result["read_tensors_stats_s"] = seconds
    result["reservoir_bytes_per_step"] = result["reservoir_bytes"] / max(len(points), 1)
    del points
    if confusion_tag in blob_tags.get(run, {}):
        seconds, refs = timed(lambda: read_all(confusion_tag, provider.read_blob_sequences))
        result["read_blob_sequences_s"] = seconds
        keys = [d.values[0].blob_key for d in refs[:: max(1, len(refs) // blobs)][:blobs]]

        def read(key):
            return len(provider.read_blob(ctx, blob_key=key))

        seconds, sizes = timed(lambda: [read(key) for key in keys])
        result["read_blob_sequential_ms_each"] = seconds / len(keys) * 1e3
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            seconds, _ = timed(lambda: list(pool.map(read, keys)))
        result["read_blob_8_threads_ms_each"] = seconds / len(keys) * 1e3
        result["confusion_blob_bytes"] = sum(sizes) / len(sizes)
    elif confusion_tag in tensors.get(run, {}):
        try:
            seconds, _ = timed(lambda: read_all(confusion_tag, provider.read_tensors))
            result["read_tensors_confusion_s"] = seconds
        except Exception as error:  # the data server refuses answers over 256 MiB
            result["read_tensors_confusion_s"] = f"failed: {type(error).__name__}: {error}"[:300]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--path", default="data-server", choices=("data-server", "python"))
    parser.add_argument("--blobs", type=int, default=200)
    args = parser.parse_args()
    result = measure(args.logdir, args.path, args.blobs)
    print(json.dumps(result, indent=1))
    print(
        f"{args.path}: reservoir {result['reservoir_bytes'] / MiB:.0f} MiB for {result['steps']} "
        f"steps = {result['reservoir_bytes_per_step'] / 1024:.1f} KiB/step"
    )


if __name__ == "__main__":
    main()
