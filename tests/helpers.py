"""Test support: an in-process TensorBoard app over real event files, and a real `tensorboard`
process on a free port (both loading paths)."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

import numpy as np

from tb_perclass.format import metadata

ROUTE_PREFIX = f"/data/plugin/{metadata.PLUGIN_NAME}"


def wsgi_client(logdir: str):
    """A werkzeug test client for TensorBoard's WSGI app with only our plugin, reading `logdir`
    through the multiplexer data provider (the `--load_fast=false` path), every step kept."""
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from werkzeug import test as werkzeug_test

    from tb_perclass.plugin.plugin import PerClassPlugin

    multiplexer = plugin_event_multiplexer.EventMultiplexer(
        tensor_size_guidance={metadata.PLUGIN_NAME: 0}
    )
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, logdir)
    context = base_plugin.TBContext(data_provider=provider, logdir=logdir, multiplexer=multiplexer)
    app = application.TensorBoardWSGI([PerClassPlugin(context)], data_provider=provider)
    return werkzeug_test.Client(app)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen) -> None:
    """Terminates a server subprocess we started, killing it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# TensorBoard's data-server client with another answer cap: its `_make_stub`, the option changed.
_CAPPED_STUB = """
import grpc
from tensorboard.data import grpc_provider, server_ingester


def _make_stub(addr, channel_creds_type):
    creds, options = channel_creds_type.channel_config()
    options.append(("grpc.max_receive_message_length", {cap}))
    return grpc_provider.make_stub(grpc.secure_channel(addr, creds, options=options))


server_ingester._make_stub = _make_stub
"""


class TensorBoardProcess:
    """A real `python -m tensorboard.main` serving `logdir` on a free port; a context manager.

    `url` includes `path_prefix`, so `get("/data/...")` works either way."""

    def __init__(
        self,
        logdir: str | os.PathLike,
        *,
        load_fast: bool = True,
        path_prefix: str = "",
        extra_args: Sequence[str] = (),
        tensorflow: bool = True,
        env: dict[str, str] | None = None,
        answer_cap_bytes: int | None = None,
    ):
        """`tensorflow=False` runs TensorBoard as an environment without TensorFlow does (its
        own file-system stub: boto3 for s3://, fsspec for other URLs); `env` adds variables.
        `answer_cap_bytes` lowers the largest data-server answer TensorBoard's gRPC client takes
        (256 MiB, fixed in `server_ingester._make_stub`), so that a test reaches it with a
        few megabytes of event files; everything else is TensorBoard as it runs."""
        self.logdir = os.fspath(logdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{path_prefix}"
        self._log = tempfile.NamedTemporaryFile(prefix=f"tensorboard-{self.port}-", suffix=".log")
        launcher = (
            ["-m", "tensorboard.main"]
            if tensorflow and answer_cap_bytes is None
            else [
                "-c",
                ("" if tensorflow else "import sys; sys.modules['tensorflow'] = None\n")
                + (_CAPPED_STUB.format(cap=int(answer_cap_bytes)) if answer_cap_bytes else "")
                + "import sys; from tensorboard.main import run_main; sys.argv[0] = 'tensorboard'; "
                "run_main()",
            ]
        )
        command = [
            sys.executable,
            *launcher,
            "--logdir",
            self.logdir,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            f"--load_fast={'true' if load_fast else 'false'}",
            "--reload_interval",
            "1",
            *([f"--path_prefix={path_prefix}"] if path_prefix else []),
            *extra_args,
        ]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )

    def __enter__(self) -> TensorBoardProcess:
        try:
            self.wait_until_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def stop(self) -> None:
        stop_process(self._process)
        self._log.close()

    def log_text(self) -> str:
        with open(self._log.name, "rb") as log:
            return log.read().decode("utf-8", "replace")

    def get(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def get_json(self, path: str) -> Any:
        status, body, _ = self.get(path)
        assert status == 200, (path, status, body[:500])
        return json.loads(body)

    def wait_until_serving(self, timeout: float = 90.0) -> None:
        self.wait_for(
            "/data/plugins_listing", lambda listing: metadata.PLUGIN_NAME in listing, timeout
        )

    def wait_for_runs(self, count: int, timeout: float = 90.0) -> dict:
        """Waits until the tags route lists `count` runs (the loaders read in the background)."""
        return self.wait_for(f"{ROUTE_PREFIX}/tags", lambda tags: len(tags) >= count, timeout)

    def wait_for(self, path: str, predicate, timeout: float = 90.0) -> Any:
        """Polls a JSON route until `predicate(body)` holds; returns the body."""
        deadline = time.monotonic() + timeout
        body = None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"tensorboard exited:\n{self.log_text()}")
            try:
                status, raw, _ = self.get(path)
                if status == 200:
                    body = json.loads(raw)
                    if predicate(body):
                        return body
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        raise TimeoutError(
            f"{path} never satisfied the condition; last body: {body!r:.300}\n"
            f"{self.log_text()[-3000:]}"
        )


def decode_binary_curves(body: bytes) -> dict:
    """The layout documented in tb_perclass/plugin/binary_encoding.py, read independently."""
    (header_length,) = struct.unpack_from("<I", body)
    answer = json.loads(body[4 : 4 + header_length])
    offset = 4 + header_length
    assert offset % 8 == 0
    for key, rows, columns, kind in answer.pop("arrays"):
        dtype = np.dtype("<" + kind)
        size = rows * columns * dtype.itemsize
        answer[key] = np.frombuffer(body[offset : offset + size], dtype).reshape(rows, columns)
        offset += size + (-size % 8)
    assert offset == len(body)
    return answer


def read_summaries(
    run_dir: str, kind: str = "stats", name: str | None = "perclass", raw: bool = False
):
    """Every (step, value ndarray, parsed metadata) of `<name>/<kind>` (any name if None) in a
    run's event files, read with TensorBoard's own event file loader and `format.decode`. Stats
    come as their class columns ([5, C], one row per `metadata.STATS_ROWS`) unless `raw` asks
    for [5, C + 2]; confusion counts as dense matrices ([C, C] or [L, 2, 2]); scores as the
    int64 vector `score_tensor.parse` reads."""
    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.util import tensor_util

    from tb_perclass.format import decode

    tag = metadata.tag_for(name, kind) if name is not None else None
    found = []
    parsed = {}  # writers may send the metadata with the first value of a tag only
    for filename in sorted(os.listdir(run_dir)):
        if "tfevents" not in filename:
            continue
        loader = event_file_loader.EventFileLoader(os.path.join(run_dir, filename))
        for event in loader.Load():
            for value in event.summary.value:
                plugin = value.metadata.plugin_data
                if value.tag in parsed or (
                    plugin.plugin_name == metadata.PLUGIN_NAME
                    and (value.tag == tag or (tag is None and value.tag.endswith("/" + kind)))
                ):
                    if plugin.content:
                        parsed[value.tag] = metadata.parse_plugin_content(plugin.content)
                    meta = parsed[value.tag]
                    array = tensor_util.make_ndarray(value.tensor)
                    if kind == metadata.KIND_STATS:
                        array = decode.stats(array, meta.num_classes)["matrix"]
                        array = array if raw else array[:, : meta.num_classes]
                    elif kind == metadata.KIND_CONFUSION:
                        array = decode.confusion(array, meta)
                    elif kind == metadata.KIND_SCORES:
                        array = decode.scores(array)
                    found.append((event.step, array, meta))
    return found


def device_transfer_recorder():
    """A torch dispatch mode recording every aten op, and the ones that move data between
    devices: `.item()`-style scalar reads and ops whose outputs land on another device than
    their inputs. Used to show that `update()` never reads back from an accelerator."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    def devices(tree):
        return {t.device for t in tree_flatten(tree)[0] if isinstance(t, torch.Tensor)}

    class DeviceTransferRecorder(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops: list[str] = []
            self.transfers: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            name = str(func)
            self.ops.append(name)
            inputs, outputs = devices((args, kwargs)), devices(result)
            if "_local_scalar_dense" in name or (inputs and outputs - inputs):
                self.transfers.append(name)
            return result

    return DeviceTransferRecorder()
