"""Event files on object stores and any other fsspec filesystem: `s3://`, `gs://`, `az://`,
`hdfs://`, `memory://`...

Object stores cannot append, and TensorBoard reads a run directory's event files in name order.
A `SegmentedEventSink` therefore keeps the event file it is filling (a *segment*) in memory and
uploads all of it at every `write()`, which replaces the object in one atomic operation: a
reader sees either the previous version or the new one, and every version ends on a whole
record. Once a segment holds `segment_bytes`, the next write starts a new object whose name
sorts after it, so the bytes uploaded per write are bounded by the segment size (not by the
run's history) and the number of objects by history / segment size. Each segment carries a
tag's metadata with that tag's first value in it only (as the local event files do): every
segment is a whole event file that TensorBoard reads alone.

A write that fails on the network keeps its record in the segment: the next write(), flush()
or close() uploads it with the rest, and a warning names the steps waiting (close() raises,
naming them, if the store is still unreachable, and can be called again). An error no retry
can fix (a deleted bucket, refused credentials) raises at once and undoes the step, which the
writer keeps: write() can be called again once the cause is fixed.

A URL is checked when the sink is made (`connect`): unknown scheme, missing package,
unreachable endpoint, missing bucket, refused credentials. fsspec and the filesystem's package
(s3fs, gcsfs, adlfs...) are imported only here, and only for a URL logdir.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import threading
import time
import warnings
from collections.abc import Mapping
from typing import Any

from tensorboard.compat.proto import event_pb2, summary_pb2

from tb_perclass.logger.sinks import Destination, FirstMetadata, tfrecord

# A scheme of two or more characters: "C://x" stays a Windows path, not a URL.
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]+)://")
_CHAINED = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+::")
LOCAL_SCHEMES = ("file", "local")

# The optional extra (and the package in it) that provides a scheme, for the install hint.
EXTRAS = {
    "s3": ("s3", "s3fs"),
    "s3a": ("s3", "s3fs"),
    "gs": ("gcs", "gcsfs"),
    "gcs": ("gcs", "gcsfs"),
}

# Default size at which a new object is started. Each write() uploads the segment so far:
# about half of this on average, plus the step's own record.
DEFAULT_SEGMENT_BYTES = 1 << 20

_names_lock = threading.Lock()
_last_stamp = 0
_sequence = itertools.count()


def url_scheme(target: Any) -> str | None:
    """The scheme of a URL logdir ("s3", "gs", ...; "s3" for "simplecache::s3://..."), or None
    for a local path."""
    if not isinstance(target, str):
        return None
    match = _URL.match(target)
    if match:
        return match.group("scheme").lower()
    if _CHAINED.match(target):
        return target.split("::", 1)[0].lower()
    return None


def local_path(url: str) -> str:
    """The path of a `file://` URL."""
    return url.split("://", 1)[1] if "://" in url else url


def next_object_name() -> str:
    """An event file name that sorts after every name this process made before: TensorBoard's
    Python loader follows a run's files in name order and never looks back."""
    global _last_stamp
    with _names_lock:
        _last_stamp = max(_last_stamp, int(time.time()))
        host, pid, sequence = socket.gethostname(), os.getpid(), next(_sequence)
        return f"events.out.tfevents.{_last_stamp:010d}.{host}.{pid}.{sequence:09d}.perclass"


def connect(url: str, storage_options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """The fsspec filesystem and path of `url`, checked to be reachable: raises at once (with
    what to do) for an unknown scheme, a missing package, an unreachable endpoint, a missing
    bucket or refused credentials, rather than at the first write."""
    scheme = url_scheme(url) or ""
    extra, package = EXTRAS.get(scheme, (None, None))
    install = (
        f"pip install 'tb-perclass[{extra}]' (it installs {package})"
        if extra
        else "install the fsspec implementation for it"
    )
    try:
        import fsspec
        import fsspec.core
    except ImportError:
        raise ImportError(f"logdir {url!r} is a URL, which needs fsspec: {install}") from None
    try:
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    except ImportError as error:
        raise ImportError(
            f"logdir {url!r}: the filesystem package for {scheme}:// is not installed "
            f"({error}); {install}"
        ) from None
    except ValueError as error:
        if "protocol" in str(error).lower():
            known = ", ".join(sorted(p for p in fsspec.available_protocols() if len(p) > 1))
            raise ValueError(
                f"logdir {url!r}: no filesystem is known for {scheme}:// (fsspec knows {known}); "
                "check the URL, or pass a local directory"
            ) from None
        raise
    check_reachable(fs, path, url)
    return fs, path


def check_reachable(fs: Any, path: str, url: str) -> None:
    """Lists the run directory (or, before it exists, its nearest existing parent) so that a
    missing bucket, refused credentials or an unreachable endpoint fail here. Object stores
    (fsspec filesystems with buckets) are never asked to create anything: their `makedirs`
    would create a missing bucket."""
    bucket_store = hasattr(fs, "split_path")
    try:
        if not bucket_store:
            fs.makedirs(path, exist_ok=True)
            return
        probe = path.rstrip("/")
        while True:
            try:
                fs.invalidate_cache(probe)  # a real request, not fsspec's listing cache
                fs.ls(probe, detail=False)
                return
            except FileNotFoundError:
                if "/" not in probe:
                    raise FileNotFoundError(
                        f"logdir {url!r}: the bucket {probe!r} does not exist (or is not visible "
                        "to these credentials); create it first, or check the URL"
                    ) from None
                probe = probe.rsplit("/", 1)[0]  # a run directory is made by its first write
    except FileNotFoundError:
        raise
    except TypeError as error:
        raise TypeError(
            f"logdir {url!r}: the filesystem refused its options ({error}); check the storage "
            "options (or fsspec configuration) given for it"
        ) from error
    except Exception as error:  # botocore, aiohttp and google-auth errors are not OSErrors
        if _is_permission_error(error):
            raise PermissionError(
                f"logdir {url!r}: the store refused these credentials ({_describe(error)}); "
                "check the access key / service account and its permissions"
            ) from error
        raise ConnectionError(
            f"logdir {url!r}: the store could not be reached ({_describe(error)}); check the "
            "endpoint (e.g. AWS_ENDPOINT_URL, STORAGE_EMULATOR_HOST) and the network"
        ) from error


# An HTTP 401 or 403 in an error's text: the number standing alone ("403 Forbidden", "(403)",
# ", 401"), never digits of a port, an address or a file name ("127.0.0.1:45403", ".vm.4013.").
_DENIED_STATUS = re.compile(r"(?<![\w.:/-])(401|403)(?![\w.:/-])")
_DENIED_WORDS = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden",
                 "RefreshError", "DefaultCredentialsError")  # fmt: skip


def _is_permission_error(error: BaseException) -> bool:
    """Refused for lack of rights: by type, by the HTTP status a library keeps on the error
    (gcsfs `code`, botocore `response`), or by the words and status in its text."""
    if isinstance(error, PermissionError):
        return True
    response = getattr(error, "response", None)
    metadata = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
    if getattr(error, "code", None) in (401, 403) or metadata.get("HTTPStatusCode") in (401, 403):
        return True
    text = f"{type(error).__name__} {error}"
    return any(word in text for word in _DENIED_WORDS) or bool(_DENIED_STATUS.search(text))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _is_permanent(error: BaseException) -> bool:
    """Upload errors that retrying cannot fix."""
    return isinstance(error, (FileNotFoundError, PermissionError)) or _is_permission_error(error)


class SegmentedEventSink:
    """Writes event files as whole objects through fsspec (see the module docstring)."""

    def __init__(
        self,
        url: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        segment_bytes: int | None = None,
    ):
        if segment_bytes is None:
            segment_bytes = DEFAULT_SEGMENT_BYTES
        if segment_bytes < 1:
            raise ValueError(f"segment_bytes={segment_bytes}; it must be at least 1")
        self.url = url.rstrip("/")
        self._fs, self._dir = connect(url, storage_options)
        self._dir = self._dir.rstrip("/")
        # s3:// and s3a://, gs:// and gcs:// name one place: key by filesystem and path.
        self.destination = Destination(
            ("url", type(self._fs).__name__, self._dir), f"the URL {self.url}"
        )
        self._segment_bytes = int(segment_bytes)
        self._object: str | None = None
        self._metadata = FirstMetadata()  # the tags whose metadata the segment holds
        self._buffer = bytearray()
        self._uploaded = 0  # bytes of the buffer the store holds
        self._pending: list[int] = []  # steps in the buffer that the store does not hold yet
        self._closed = False
        # Counters for benchmarks and tests: what went over the wire.
        self.bytes_uploaded = 0
        self.uploads = 0
        self.objects = 0

    @property
    def pending_steps(self) -> tuple[int, ...]:
        """Steps this sink holds that the store does not have yet."""
        return tuple(self._pending)

    def write(self, summary: summary_pb2.Summary, step: int, wall_time: float) -> None:
        written = self._metadata.strip(summary)
        record = _record(written, step, wall_time)
        previous = None
        if self._object is None or (
            self._uploaded == len(self._buffer)
            and len(self._buffer) + len(record) > self._segment_bytes
        ):
            previous = (self._object, self._buffer, self._uploaded, self._metadata)
            self._start_segment(wall_time)
            written = summary  # a new segment: its first value of each tag has the metadata
            record = _record(written, step, wall_time)
        length = len(self._buffer)
        self._buffer += record
        self._pending.append(step)
        error = self._upload()
        if error is None or not _is_permanent(error):
            self._metadata.record(written)  # the segment holds it (uploaded or held)
        if error is None:
            return
        if _is_permanent(error):
            # Undone here, and the writer keeps the step's statistics: write() can be called
            # again for this step once the cause is fixed, and writes it once.
            self._pending.pop()
            del self._buffer[length:]
            if previous is not None:
                self._object, self._buffer, self._uploaded, self._metadata = previous
                self.objects -= 1
            raise OSError(
                self._not_written(error, [step])
                + "; fix the bucket or the credentials, then call write() again for this step"
            ) from error
        them = "it" if len(self._pending) == 1 else "them"
        warnings.warn(
            self._not_written(error, self._pending)
            + f" yet; this writer holds {them} and uploads {them} with the next write(), flush() "
            "or close()",
            RuntimeWarning,
            stacklevel=4,
        )

    def flush(self) -> None:
        """Uploads the steps held while the store was unreachable; raises if it still is."""
        self._upload_held("call flush() again once the store is reachable")

    def close(self) -> None:
        """Uploads what is held; if the store still fails, raises naming the steps and stays
        open, so that close() can be called again."""
        if not self._closed:
            self._upload_held("the writer stays open: call close() again once it is reachable")
            self._closed = True

    def _upload_held(self, advice: str) -> None:
        error = self._upload() if self._pending else None
        if error is not None:
            them = "it" if len(self._pending) == 1 else "them"
            raise OSError(
                f"{self._not_written(error, self._pending)}; this writer holds {them}: {advice}"
            ) from error

    def _start_segment(self, wall_time: float) -> None:
        self._object = f"{self._dir}/{next_object_name()}"
        header = event_pb2.Event(wall_time=wall_time, file_version="brain.Event:2")
        self._buffer = bytearray(tfrecord(header.SerializeToString()))
        self._uploaded = 0
        self._metadata = FirstMetadata()
        self.objects += 1

    def _upload(self) -> Exception | None:
        """Uploads the whole segment (one atomic replace); the error, if it failed."""
        data = bytes(self._buffer)
        try:
            self._fs.pipe_file(self._object, data)
        except Exception as error:  # network and store errors come in many library types
            return error
        self.bytes_uploaded += len(data)
        self.uploads += 1
        self._uploaded = len(data)
        self._pending.clear()
        return None

    def _not_written(self, error: Exception, steps: list[int]) -> str:
        where = f"{self.url}/{self._object.rsplit('/', 1)[1]}"
        which = f"step {steps[0]} was" if len(steps) == 1 else f"steps {_step_list(steps)} were"
        return f"{which} not written to {where} ({_describe(error)})"


def _record(summary: summary_pb2.Summary, step: int, wall_time: float) -> bytes:
    return tfrecord(
        event_pb2.Event(wall_time=wall_time, step=step, summary=summary).SerializeToString()
    )


def _step_list(steps: list[int]) -> str:
    if len(steps) <= 10:
        return ", ".join(map(str, steps))
    first, last = ", ".join(map(str, steps[:5])), ", ".join(map(str, steps[-3:]))
    return f"{first}, ... {last} ({len(steps)} steps)"
