"""Where a `PerClassWriter`'s summaries go: an event file of its own in a local directory, event
file objects at a URL (`remote.py`), a user's `torch.utils.tensorboard.SummaryWriter`, or a
`tf.summary` writer (a given one or the default).

Every sink writes synchronously and flushes, so whatever `write()` returned from is in the
operating system's hands: a crash of the training process afterwards loses none of it.

A tag's metadata (which names every class) goes into an event file with the tag's first value
only, as TensorFlow's own file writer does: TensorBoard keeps the first metadata of a tag and
ignores the rest, while its Python loader keeps each step's record in memory whole, metadata
included (`FirstMetadata`). The `tf.summary` sinks cannot know which file a default writer writes
to and leave the metadata on every value.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import socket
import struct
import tempfile
import time
from collections.abc import Hashable
from typing import Any, BinaryIO, Protocol

import google_crc32c
from tensorboard.compat.proto import event_pb2, summary_pb2

from tb_perclass.logger.spec import RemoteOptions

_file_counter = itertools.count()


@dataclasses.dataclass(frozen=True)
class Destination:
    """Where a sink's events end up, as TensorBoard will see them: two sinks with equal keys
    write into one run."""

    key: Hashable
    description: str  # for messages, e.g. "the directory /home/me/runs/exp1"


class Sink(Protocol):
    destination: Destination

    def write(self, summary: summary_pb2.Summary, step: int, wall_time: float) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


def directory_destination(path: str | os.PathLike, via: str = "") -> Destination:
    real = os.path.realpath(os.fspath(path))
    return Destination(("directory", real), f"the directory {real}{via}")


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C. TensorBoard's own fallback computes it in Python at about
    9 MB/s, seconds for a step of kept images; google-crc32c does GB/s."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data, its masked CRC (little-endian)."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


class FirstMetadata:
    """The tags whose metadata one event file already holds: `strip` takes it off the later
    values of a summary, `record` notes what a write put into the file (only once it is written,
    so a failed write is retried whole)."""

    def __init__(self) -> None:
        self.tags: set[str] = set()

    def strip(self, summary: summary_pb2.Summary) -> summary_pb2.Summary:
        if not any(value.tag in self.tags for value in summary.value):
            return summary
        stripped = summary_pb2.Summary()
        stripped.CopyFrom(summary)
        for value in stripped.value:
            if value.tag in self.tags:
                value.ClearField("metadata")
        return stripped

    def record(self, summary: summary_pb2.Summary) -> None:
        self.tags.update(value.tag for value in summary.value if value.HasField("metadata"))


class EventFileSink:
    """An event file of our own under `logdir`, opened at the first write.

    Writes TFRecords itself rather than through `EventFileWriter`, whose file access goes through
    `tensorboard.compat.tf` (importing TensorFlow when it is installed) and whose CRC is slow.
    """

    def __init__(self, logdir: str | os.PathLike):
        self.logdir = os.fspath(logdir)
        check_writable_directory(self.logdir)
        self.destination = directory_destination(self.logdir)
        self._file: BinaryIO | None = None
        self._metadata = FirstMetadata()

    def _open(self) -> BinaryIO:
        os.makedirs(self.logdir, exist_ok=True)
        filename = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            f"{os.getpid()}.{next(_file_counter)}.perclass"
        )
        handle = open(os.path.join(self.logdir, filename), "wb")
        header = event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
        handle.write(tfrecord(header.SerializeToString()))
        return handle

    def write(self, summary: summary_pb2.Summary, step: int, wall_time: float) -> None:
        if self._file is None:
            self._file = self._open()
            self._metadata = FirstMetadata()
        summary = self._metadata.strip(summary)
        event = event_pb2.Event(wall_time=wall_time, step=step, summary=summary)
        self._file.write(tfrecord(event.SerializeToString()))
        self.flush()
        self._metadata.record(summary)

    def flush(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()


class TorchSummaryWriterSink:
    """Adds our summaries to a user's `torch.utils.tensorboard.SummaryWriter` (which they own)."""

    def __init__(self, writer: Any):
        self._writer = writer
        # Two SummaryWriters on one directory write into one TensorBoard run.
        self.destination = directory_destination(writer.log_dir, via=" (a torch SummaryWriter's)")
        self._file_writer: Any = None  # the FileWriter (one event file) `_metadata` is about
        self._metadata = FirstMetadata()

    def write(self, summary: summary_pb2.Summary, step: int, wall_time: float) -> None:
        file_writer = self._writer._get_file_writer()  # a new one (file) after the user's close()
        if file_writer is not self._file_writer:
            self._file_writer, self._metadata = file_writer, FirstMetadata()
        summary = self._metadata.strip(summary)
        file_writer.add_summary(summary, step, wall_time)
        self.flush()
        self._metadata.record(summary)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self.flush()


class TensorFlowSummarySink:
    """Writes through `tf.summary`: to `writer` if given, else to the default writer at each
    write (the one made current by `writer.as_default()` or `set_as_default()`)."""

    def __init__(self, writer: Any | None):
        self._writer = writer
        # A tf.summary writer does not say where it writes: known by identity only.
        self.destination = (
            Destination(("tf.summary default",), "the default tf.summary writer")
            if writer is None
            else Destination(("tf.summary", id(writer)), f"the tf.summary writer {writer!r}")
        )

    def write(self, summary: summary_pb2.Summary, step: int, wall_time: float) -> None:
        import contextlib

        import tensorflow as tf
        from tensorboard.util import tensor_util

        scope = self._writer.as_default() if self._writer is not None else contextlib.nullcontext()
        with scope:
            for value in summary.value:
                written = tf.summary.write(
                    value.tag,
                    tensor_util.make_ndarray(value.tensor),
                    step=step,
                    metadata=value.metadata,
                )
                if not bool(written):
                    raise RuntimeError(
                        "PerClassWriter(None) writes to the default tf.summary writer, and none "
                        "is set (or recording is off): call "
                        "tf.summary.create_file_writer(logdir).set_as_default() first, or pass "
                        "a log directory"
                    )
            tf.summary.flush()

    def flush(self) -> None:
        import tensorflow as tf

        tf.summary.flush(self._writer)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.flush()


def open_sink(target: Any, remote_options: RemoteOptions | None = None) -> Sink:
    """The sink for `PerClassWriter`'s first argument: a URL (s3://, gs://, any fsspec
    filesystem) gets the remote sink, with `remote_options`; they are refused for the rest."""
    from tb_perclass.logger import remote  # no fsspec unless the logdir is a URL

    remote_options = remote_options or RemoteOptions()
    if remote.url_scheme(target) not in (None, *remote.LOCAL_SCHEMES):
        return remote.SegmentedEventSink(
            target, remote_options.storage_options, segment_bytes=remote_options.segment_bytes
        )
    if remote_options.given:
        raise ValueError(
            f"storage_options and segment_bytes are for URL logdirs (s3://, gs://, ...); "
            f"logdir={target!r} is not one: drop them, or pass the URL"
        )
    if target is None:
        return TensorFlowSummarySink(None)
    if isinstance(target, (str, os.PathLike)):
        return EventFileSink(remote.local_path(os.fspath(target)))
    module = type(target).__module__
    if module.startswith("torch.utils.tensorboard") and hasattr(target, "_get_file_writer"):
        return TorchSummaryWriterSink(target)
    if module.startswith("tensorflow") and hasattr(target, "as_default"):
        return TensorFlowSummarySink(target)
    raise TypeError(
        f"logdir is {module}.{type(target).__qualname__}; pass a directory path, a "
        "torch.utils.tensorboard.SummaryWriter, a tf.summary writer "
        "(tf.summary.create_file_writer(...)), or None for the default tf.summary writer"
    )


def join_logdir(logdir: str, child: str) -> str:
    """`logdir/child`, with "/" for a URL whatever the operating system."""
    from tb_perclass.logger import remote

    if remote.url_scheme(logdir) is None:
        return os.path.join(logdir, child)
    return f"{logdir.rstrip('/')}/{child}"


def check_url_logdir(logdir: str, remote_options: RemoteOptions) -> None:
    """For the callbacks, which open their sinks when fitting starts: a URL logdir is checked
    when they are made (see `remote.connect`); other logdirs are left to their sinks."""
    from tb_perclass.logger import remote

    if remote.url_scheme(logdir) not in (None, *remote.LOCAL_SCHEMES):
        remote.connect(logdir, remote_options.storage_options)


def check_writable_directory(logdir: str) -> None:
    """Creates `logdir` if needed and proves a file can be created in it, so that a bad
    location fails when the writer is made rather than at its first write, with what to do."""
    try:
        os.makedirs(logdir, exist_ok=True)
        with tempfile.TemporaryFile(dir=logdir, prefix=".perclass-probe-"):
            pass
    except OSError as error:
        blocker = _file_on_path(logdir)
        reason = (
            error.strerror or str(error)
            if blocker is None
            else "it is a file, not a directory"
            if blocker == logdir
            else f"{blocker} is a file, not a directory"
        )
        where = "" if os.path.isabs(logdir) else f" ({os.path.abspath(logdir)})"
        raise type(error)(
            error.errno,
            f"logdir={logdir!r}{where} cannot be written: {reason}. Pass a directory this "
            "process can create files in (or fix the permissions of that one); nothing was "
            "written",
        ) from error


def _file_on_path(path: str) -> str | None:
    """The first of `path` and its parents that exists and is not a directory, if any."""
    while True:
        if os.path.exists(path) and not os.path.isdir(path):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent
