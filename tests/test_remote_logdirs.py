"""Remote logdirs: PerClassWriter on s3://, gs:// and other fsspec URLs, read back by a real
TensorBoard from real S3 (moto) and GCS (gcp-storage-emulator) servers on loopback."""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
import textwrap
import threading
import uuid
import warnings

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2

from tb_perclass import PerClassWriter
from tb_perclass.logger import sinks
from tests.helpers import ROUTE_PREFIX, TensorBoardProcess, free_port
from tests.object_stores import (
    FtpServer,
    GcsEmulator,
    GoogleStorageProxy,
    MotoS3Server,
    TcpRelay,
    environment,
)

pytestmark = pytest.mark.slow

CLASSES = [f"class {i}" for i in range(7)]


# --- servers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3():
    with MotoS3Server() as server, environment(server.env()):
        server.create_bucket("runs")
        yield server


@pytest.fixture(scope="module")
def gcs():
    with GcsEmulator() as server, environment(server.env()):
        server.create_bucket("runs")
        yield server


@pytest.fixture(scope="module")
def google_proxy(gcs):
    proxy = GoogleStorageProxy(gcs.port)
    yield proxy
    proxy.close()
    assert not proxy.refused, f"something tried to reach another host: {proxy.refused}"


@pytest.fixture(autouse=True)
def fresh_filesystems(tmp_path, monkeypatch):
    """fsspec caches filesystem instances (with their endpoint) across calls; and every test
    runs in an empty directory, so that a local folder named after a scheme would show."""
    monkeypatch.chdir(tmp_path)
    clear_filesystem_caches()
    yield
    clear_filesystem_caches()
    assert not any(name.endswith(":") for name in os.listdir(tmp_path)), os.listdir(tmp_path)


def clear_filesystem_caches() -> None:
    import fsspec
    import gcsfs
    import s3fs

    for filesystem in (s3fs.S3FileSystem, gcsfs.GCSFileSystem, fsspec.AbstractFileSystem):
        filesystem.clear_instance_cache()


def store(scheme, s3, gcs):
    return {"s3": s3, "gs": gcs}[scheme]


def unique_run(scheme: str) -> str:
    return f"{scheme}://runs/{uuid.uuid4().hex[:8]}"


def test_the_gcs_emulator_stores_the_bytes_sent(gcs):
    """An upload ending in a carriage return (an event file ending on a checksum byte 0x0D) is
    stored whole: the emulator's own multipart parser dropped that byte, losing the record."""
    import gcsfs

    fs = gcsfs.GCSFileSystem()
    endings = [b"\r", b"\r\n", b"\n", b"\n\r", b"--==0==\r", b"x"]
    for number, ending in enumerate(endings):
        data = bytes(range(256)) + ending
        fs.pipe_file(f"runs/bytes/{number}", data)
        assert gcs.objects("runs", f"bytes/{number}")[f"bytes/{number}"] == data, ending
        assert fs.cat_file(f"runs/bytes/{number}") == data, ending


# --- event files --------------------------------------------------------------------------------


def read_records(data: bytes) -> list[event_pb2.Event]:
    """The events of one event file, each record's framing and CRCs checked."""
    events, position = [], 0
    while position < len(data):
        header = data[position : position + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[position + 8 : position + 12])[0] == sinks.masked_crc32c(
            header
        )
        payload = data[position + 12 : position + 12 + length]
        crc = data[position + 12 + length : position + 16 + length]
        assert struct.unpack("<I", crc)[0] == sinks.masked_crc32c(payload)
        events.append(event_pb2.Event.FromString(payload))
        position += 16 + length
    assert position == len(data), "an event file ends with a partial record"
    return events


def steps_in(objects: dict[str, bytes]) -> list[int]:
    """Steps of every event file, files in name order (as TensorBoard's Python loader reads)."""
    steps = []
    for name in sorted(objects):
        events = read_records(objects[name])
        assert events[0].file_version == "brain.Event:2", name
        steps.extend(event.step for event in events[1:])
    return steps


def write_steps(writer: PerClassWriter, steps, seed: int = 0) -> dict[int, np.ndarray]:
    """Writes one batch per step; returns each step's per-class counts."""
    rng = np.random.default_rng(seed)
    counts = {}
    for step in steps:
        outputs = rng.normal(size=(64, len(CLASSES))).astype(np.float32)
        targets = rng.integers(0, len(CLASSES), 64)
        writer.update(outputs, targets)
        counts[step] = np.asarray(writer.write(step).count)
    return counts


def key_prefix(run_url: str) -> str:
    """The object key prefix of a run URL in the "runs" bucket."""
    return run_url.split("://runs/", 1)[1]


# --- TensorBoard reads the bucket ---------------------------------------------------------------

# Which of TensorBoard's loading paths serve which scheme, as measured (see README):
# s3:// is read by the Python loader of a TensorFlow-free environment (boto3, S3_ENDPOINT);
# TensorFlow 2.21's tf.io.gfile has no s3 (TensorBoard refuses the scheme), and the Rust data
# server reads local and gs:// only. gs:// is read by both Python loaders: fsspec/gcsfs without
# TensorFlow, tf.io.gfile with it (its GCS client reaches the emulator through GoogleStorageProxy).
LOADERS = [
    pytest.param("s3", False, id="s3-python-boto3"),
    pytest.param("gs", False, id="gs-python-fsspec"),
    pytest.param("gs", True, id="gs-python-tensorflow"),
]


@pytest.mark.parametrize("scheme, tensorflow", LOADERS)
def test_tensorboard_follows_a_remote_run(scheme, tensorflow, s3, gcs, request):
    run_url = unique_run(scheme)
    env = request.getfixturevalue("google_proxy").env() if tensorflow else {}
    # Small segments: several objects, so that the reader must follow the rollovers.
    writer = PerClassWriter(run_url + "/train", class_names=CLASSES, segment_bytes=1800)
    counts = write_steps(writer, range(3))
    # (TensorBoard's own S3 reader needs a key prefix: `--logdir s3://bucket` fails in it.)
    with TensorBoardProcess(run_url, load_fast=False, tensorflow=tensorflow, env=env) as board:
        curves_path = f"{ROUTE_PREFIX}/curves?run=train&name=perclass"
        board.wait_for(curves_path, lambda body: len(body["steps"]) == 3)
        counts.update(write_steps(writer, range(3, 8), seed=1))  # while TensorBoard reads
        body = board.wait_for(curves_path, lambda body: len(body["steps"]) == 8)
        assert body["steps"] == list(range(8))
        assert body["class_names"] == CLASSES
        np.testing.assert_array_equal(body["count"], np.stack([counts[s] for s in range(8)]))
    writer.close()
    objects = store(scheme, s3, gcs).objects("runs", key_prefix(run_url))
    # 8 steps of 0.4 KB (1.1 KB for an object's first: its tags' metadata) in 1.8 KB segments
    assert len(objects) >= 3, sorted(objects)
    assert steps_in(objects) == list(range(8))


# --- the reader and the command line read the bucket -----------------------------------------

# Run in a new process, as the `tb-perclass` command and a notebook are: TensorBoard's file layer
# is chosen once per process. Every answer from the bucket must equal the answer from a local
# copy of the same objects: the per-class frame, a kept sample's bytes, report, compare, export.
READ_BACK = """
import contextlib, filecmp, io, os, sys
url, local, out, first = sys.argv[1:]
if first == "tensorflow":
    import tensorflow  # a Keras notebook: TensorFlow imported before the reader is used
import pandas.testing
from tb_perclass import cli, read_logdir

def command(*args):
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        code = cli.main(list(args))
    return code, text.getvalue()

remote, here = read_logdir(url), read_logdir(local)
pandas.testing.assert_frame_equal(remote.series, here.series)
pandas.testing.assert_frame_equal(remote.per_class(), here.per_class())
assert len(remote.per_class()) == 2 * 3 * 7
index = int(remote.samples(run="validation")["index"].iloc[0])
kept = remote.sample(run="validation", index=index)
assert kept.data == here.sample(run="validation", index=index).data and kept.image().size
report = command("report", url, "--run", "validation", "--format", "csv")
assert report[0] == 0 and report == command("report", local, "--run", "validation",
                                            "--format", "csv"), report
compared = command("compare", url + "/train", url + "/validation", "--max-drop", "0.5")
assert compared[0] in (0, 1) and url + "/validation" in compared[1], compared
assert compared[1].replace(url, local) == command(
    "compare", local + "/train", local + "/validation", "--max-drop", "0.5")[1]
for source, to in ((url, "from-bucket"), (local, "from-copy")):
    assert command("export", source, "--to", os.path.join(out, to))[0] == 0

def same_tree(comparison):
    assert not (comparison.left_only or comparison.right_only or comparison.diff_files), (
        comparison.left_only, comparison.right_only, comparison.diff_files)
    for sub in comparison.subdirs.values():
        same_tree(sub)

exported = filecmp.dircmp(os.path.join(out, "from-bucket"), os.path.join(out, "from-copy"))
same_tree(exported)
assert "per_class.csv" in exported.common_files and "samples" in exported.subdirs, exported.common
if first != "tensorflow":
    assert "tensorflow" not in sys.modules  # what a TensorFlow-free environment runs
print("read back")
"""


def write_two_runs(run_url: str) -> None:
    """train and validation, 3 steps each, the validation mistakes' images kept; small
    segments, so that a run is several objects."""
    rng = np.random.default_rng(5)
    for split in ("train", "validation"):
        with PerClassWriter(
            f"{run_url}/{split}", class_names=CLASSES, segment_bytes=4000
        ) as writer:
            for step in range(3):
                images = rng.integers(0, 255, (48, 6, 6), dtype=np.uint8)
                writer.update(
                    rng.normal(size=(48, len(CLASSES))).astype(np.float32),
                    rng.integers(0, len(CLASSES), 48),
                    inputs=images if split == "validation" else None,
                )
                writer.write(step)


@pytest.mark.parametrize(
    "scheme, first",
    [
        pytest.param("s3", "tensorflow", id="s3-tensorflow-imported-first"),
        pytest.param("gs", "-", id="gs-without-tensorflow"),
    ],
)
def test_the_reader_and_the_command_line_read_a_bucket(scheme, first, s3, gcs, tmp_path):
    """read_logdir and `tb-perclass report/compare/export` on a bucket give what they give on
    a local copy of its objects; s3:// is read even after TensorFlow (which has no s3://) was
    imported, gs:// without TensorFlow at all."""
    run_url = unique_run(scheme)
    write_two_runs(run_url)
    local = tmp_path / "copy"
    objects = store(scheme, s3, gcs).objects("runs", key_prefix(run_url) + "/")
    assert len(objects) >= 4, sorted(objects)  # both runs span several objects
    for key, data in objects.items():
        path = local / key.split("/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", READ_BACK, run_url, str(local), str(tmp_path), first],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["read", "back"], done.stdout[-2000:]


def test_the_command_line_names_the_extra_a_url_needs():
    """Where the packages TensorBoard reads a scheme with are missing (boto3 or s3fs for
    s3://, gcsfs for gs://), the command exits 3 naming the extra to install."""
    script = textwrap.dedent(
        """
        import sys
        for package in ("boto3", "s3fs", "gcsfs"):
            sys.modules[package] = None  # as if not installed
        from tb_perclass import cli
        print(cli.main(["report", "s3://runs/exp1"]), cli.main(["report", "gs://runs/exp1"]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["3", "3"], done.stderr[-2000:]
    assert "s3://runs/exp1: ImportError" in done.stderr, done.stderr
    assert "pip install 'tb-perclass[s3]'" in done.stderr, done.stderr
    assert "pip install 'tb-perclass[gcs]'" in done.stderr, done.stderr


# --- the layout ----------------------------------------------------------------------------------


def test_every_write_is_in_the_store_when_it_returns(s3):
    run_url = unique_run("s3")
    writer = PerClassWriter(run_url, class_names=CLASSES)
    for step in range(5):
        write_steps(writer, [step])
        assert steps_in(s3.objects("runs", key_prefix(run_url))) == list(range(step + 1))
    writer.close()


def test_a_crashed_process_loses_nothing_it_wrote(s3, tmp_path):
    """The training process dies without close(); every step whose write() returned is there."""
    run_url = unique_run("s3")
    script = textwrap.dedent(
        f"""
        import os, numpy as np
        from tb_perclass import PerClassWriter
        writer = PerClassWriter({run_url!r}, num_classes=5)
        rng = np.random.default_rng(0)
        for step in range(6):
            writer.update(rng.normal(size=(32, 5)).astype("float32"), rng.integers(0, 5, 32))
            writer.write(step)
            print(step, flush=True)
        os._exit(3)  # no close(), no interpreter shutdown
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3, done.stderr
    assert steps_in(s3.objects("runs", key_prefix(run_url))) == list(range(6))


def test_bytes_uploaded_per_write_stay_bounded(s3):
    """Each write uploads the current segment, never the run's history: the bytes sent per
    write do not grow with the step (no O(steps^2) bytes), and objects = history / segment."""
    segment = 20_000
    with relayed(s3) as (relay, options):
        run_url = unique_run("s3")
        writer = PerClassWriter(
            run_url, class_names=CLASSES, storage_options=options, segment_bytes=segment
        )
        sent = []
        for step in range(120):
            before = relay.bytes_sent
            write_steps(writer, [step])
            sent.append(relay.bytes_sent - before)
        writer.close()
    objects = s3.objects("runs", key_prefix(run_url))
    history = sum(map(len, objects.values()))
    record = history / 120  # about one step's record
    assert len(objects) >= history // segment
    assert sum(sent) < 120 * (segment / 2 + record + 4000)
    # The wire carries at most the segment and the step's record, plus HTTP framing.
    assert max(sent) < segment + record + 4000, (max(sent), record)
    assert np.mean(sent[-40:]) < 2 * np.mean(sent[20:60]), (np.mean(sent[-40:]), record)


def test_object_names_sort_in_write_order(s3):
    """TensorBoard's Python loader reads a run's files in name order and never goes back: two
    writers sharing a directory must still produce names in the order they were uploaded."""
    run_url = unique_run("s3")
    writers = [  # segment_bytes=1: one object per write
        PerClassWriter(run_url, class_names=CLASSES, name=f"head{i}", segment_bytes=1)
        for i in range(2)
    ]
    for step in range(6):
        write_steps(writers[step % 2], [step])
    objects = s3.objects("runs", key_prefix(run_url))
    assert len(objects) == 6
    assert steps_in(objects) == list(range(6))


def test_each_segment_carries_a_tags_metadata_once_and_reads_alone(s3, tmp_path):
    """A tag's metadata (12 KB of class names at 1000 classes, which TensorBoard's Python loader
    keeps with every value) goes with its first value in each segment object only, as in local
    event files; every segment is still a whole event file the plugin serves on its own."""
    from tests.helpers import wsgi_client

    run_url = unique_run("s3")
    writer = PerClassWriter(run_url, class_names=CLASSES, segment_bytes=1800)
    write_steps(writer, range(10))
    writer.close()
    objects = s3.objects("runs", key_prefix(run_url))
    assert len(objects) >= 3, sorted(objects)
    for index, (name, data) in enumerate(sorted(objects.items())):
        seen: dict[str, int] = {}
        for event in read_records(data)[1:]:
            for value in event.summary.value:
                carries = value.metadata.plugin_data.plugin_name == "perclass"
                assert carries == (value.tag not in seen), (name, event.step, value.tag)
                seen[value.tag] = event.step
        assert set(seen) == {"perclass/stats", "perclass/confusion"}
        alone = tmp_path / f"segment{index}" / "run"  # the object read without the others
        alone.mkdir(parents=True)
        (alone / name.rsplit("/", 1)[1]).write_bytes(data)
        curves = wsgi_client(str(alone.parent)).get(f"{ROUTE_PREFIX}/curves?run=run&name=perclass")
        steps = [event.step for event in read_records(data)[1:]]
        assert curves.status_code == 200 and curves.json["steps"] == steps


def test_memory_filesystem():
    """Any fsspec filesystem works, e.g. memory:// (and the objects are whole event files)."""
    import fsspec

    writer = PerClassWriter(
        "memory://experiments/exp1/train", class_names=CLASSES, segment_bytes=3000
    )
    write_steps(writer, range(6))
    writer.close()
    fs = fsspec.filesystem("memory")
    names = fs.ls("/experiments/exp1/train", detail=False)
    assert len(names) >= 2 and all("tfevents" in name for name in names)
    assert steps_in({name: fs.cat_file(name) for name in names}) == list(range(6))


def test_any_fsspec_filesystem_is_read_by_tensorboard():
    """ftp:// (fsspec's own FTP client; directories, no buckets) against a real FTP server,
    read by TensorBoard's fsspec loader (TensorFlow-free TensorBoard)."""
    with FtpServer() as server:
        url = server.url("experiments/exp1/train")
        writer = PerClassWriter(url, class_names=CLASSES, segment_bytes=1800)
        counts = write_steps(writer, range(4))
        with TensorBoardProcess(
            server.url("experiments/exp1"), load_fast=False, tensorflow=False
        ) as board:
            body = board.wait_for(
                f"{ROUTE_PREFIX}/curves?run=train&name=perclass", lambda b: len(b["steps"]) == 4
            )
        writer.close()
        np.testing.assert_array_equal(body["count"], np.stack([counts[s] for s in range(4)]))
        run_dir = os.path.join(server.root, "experiments", "exp1", "train")
        files = {
            name: open(os.path.join(run_dir, name), "rb").read() for name in os.listdir(run_dir)
        }
        assert len(files) >= 2 and steps_in(files) == list(range(4))


def test_file_url_is_a_local_directory(tmp_path):
    writer = PerClassWriter(f"file://{tmp_path}/run", class_names=CLASSES)
    write_steps(writer, range(2))
    writer.close()
    (name,) = os.listdir(tmp_path / "run")
    assert steps_in({name: (tmp_path / "run" / name).read_bytes()}) == [0, 1]


# --- bad input ------------------------------------------------------------------------------------


def test_unknown_scheme():
    with pytest.raises(ValueError, match=r"no filesystem is known for xyz://.*check the URL"):
        PerClassWriter("xyz://bucket/run", class_names=CLASSES)


@pytest.mark.parametrize(
    "url, package, extra", [("s3://runs/exp1", "s3fs", "s3"), ("gs://runs/exp1", "gcsfs", "gcs")]
)
def test_missing_optional_package_names_the_extra(url, package, extra):
    """In a process where the filesystem package cannot be imported (as if not installed)."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules[{package!r}] = None
        from tb_perclass import PerClassWriter
        try:
            PerClassWriter({url!r}, num_classes=3)
        except ImportError as error:
            print(error)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert f"pip install 'tb-perclass[{extra}]' (it installs {package})" in done.stdout, done
    assert not os.path.exists(url.split("://")[0] + ":")


def test_filesystem_package_not_installed_at_all():
    pytest.importorskip("fsspec")
    if sys.modules.get("adlfs") or _importable("adlfs"):
        pytest.skip("adlfs is installed here")
    with pytest.raises(ImportError, match=r"az://.*adlfs"):
        PerClassWriter("az://container/run", class_names=CLASSES)


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("scheme", ["s3", "gs"])
def test_bucket_that_does_not_exist(scheme, s3, gcs):
    with pytest.raises(FileNotFoundError, match=r"bucket 'no-such-bucket' does not exist"):
        PerClassWriter(f"{scheme}://no-such-bucket/exp1/train", class_names=CLASSES)


def test_unreachable_s3_endpoint(s3):
    closed = f"http://127.0.0.1:{free_port()}"
    with (
        environment({"AWS_ENDPOINT_URL": closed}),
        pytest.raises(ConnectionError, match=r"could not be reached.*AWS_ENDPOINT_URL"),
    ):
        PerClassWriter(unique_run("s3"), class_names=CLASSES)


def test_unreachable_gcs_endpoint(gcs):
    with (
        environment({"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{free_port()}"}),
        pytest.raises(ConnectionError, match=r"could not be reached"),
    ):
        PerClassWriter(unique_run("gs"), class_names=CLASSES)


def test_remote_options_are_for_urls_only(tmp_path, s3):
    with pytest.raises(ValueError, match=r"storage_options and segment_bytes are for URL logdirs"):
        PerClassWriter(str(tmp_path / "run"), class_names=CLASSES, segment_bytes=1000)
    with pytest.raises(TypeError, match=r"storage_options is str; pass a dict of fsspec options"):
        PerClassWriter("memory://x/run", class_names=CLASSES, storage_options="anon")
    with pytest.raises(ValueError, match=r"segment_bytes=0; it must be at least 1"):
        PerClassWriter("memory://x/run", class_names=CLASSES, segment_bytes=0)
    with pytest.raises(TypeError, match=r"refused its options .*storage options"):
        PerClassWriter(unique_run("s3"), class_names=CLASSES, storage_options={"colour": 1})


def test_keras_callback_checks_its_url_when_made(s3):
    pytest.importorskip("keras")
    from tb_perclass.keras import PerClassCallback

    with pytest.raises(FileNotFoundError, match=r"bucket 'no-such-bucket' does not exist"):
        PerClassCallback("s3://no-such-bucket/exp1", class_names=["a", "b"])


def test_credentials_refused():
    with MotoS3Server(enforce_auth=True) as server, environment(server.env()):
        with pytest.raises(PermissionError, match=r"refused these credentials"):
            PerClassWriter("s3://runs/exp1", class_names=CLASSES)


@contextlib.contextmanager
def relayed(s3):
    """S3 through a TcpRelay (whose bytes are counted and which can be cut), and the
    storage_options that point s3fs at it, with quick retries so that an outage shows fast."""
    relay = TcpRelay(s3.port)
    options = {
        "endpoint_url": relay.endpoint,
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
    }
    try:
        yield relay, options
    finally:
        relay.close()


def test_s3_outage_mid_run_loses_nothing(s3):
    """The connection to S3 fails for two writes: they warn with their steps, stay held, and
    reach the bucket with the first write after the network is back."""
    run_url = unique_run("s3")
    with relayed(s3) as (relay, options):
        writer = PerClassWriter(
            run_url, class_names=CLASSES, storage_options=options, segment_bytes=3000
        )
        write_steps(writer, range(3))
        relay.cut()
        with pytest.warns(RuntimeWarning, match=r"step 3 was not written to s3://runs/"):
            write_steps(writer, [3])
        with pytest.warns(RuntimeWarning, match=r"steps 3, 4 were not written .* holds them"):
            write_steps(writer, [4])
        relay.restore()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            write_steps(writer, [5, 6])
        writer.close()
    assert steps_in(s3.objects("runs", key_prefix(run_url))) == list(range(7))


def test_close_during_an_outage_names_the_steps_and_can_be_retried(s3):
    run_url = unique_run("s3")
    with relayed(s3) as (relay, options):
        writer = PerClassWriter(run_url, class_names=CLASSES, storage_options=options)
        write_steps(writer, [0])
        relay.cut()
        with pytest.warns(RuntimeWarning):
            write_steps(writer, [1, 2])
        with pytest.raises(
            OSError, match=r"steps 1, 2 were not written to s3://runs/.*holds them.*close\(\) again"
        ):
            writer.close()
        relay.restore()
        writer.close()  # still open: the held steps go now
    assert steps_in(s3.objects("runs", key_prefix(run_url))) == [0, 1, 2]


def test_a_bucket_deleted_mid_run_refuses_the_step_and_keeps_it(s3):
    """An error no retry fixes raises at once; the writer keeps the step (write() can be
    called again), and the segment re-uploaded then restores the earlier steps too."""
    s3.create_bucket("doomed")
    writer = PerClassWriter("s3://doomed/exp1", class_names=CLASSES)
    write_steps(writer, range(2))
    client = s3.client()
    for key in s3.objects("doomed"):
        client.delete_object(Bucket="doomed", Key=key)
    client.delete_bucket(Bucket="doomed")
    rng = np.random.default_rng(2)
    writer.update(rng.normal(size=(64, 7)).astype(np.float32), rng.integers(0, 7, 64))
    with pytest.raises(
        OSError, match=r"step 2 was not written to s3://doomed/exp1/.*bucket does not exist"
    ):
        writer.write(2)
    s3.create_bucket("doomed")
    assert writer.write(2) is not None  # the statistics were kept
    writer.close()
    assert steps_in(s3.objects("doomed")) == [0, 1, 2]


def test_gcs_emulator_stopped_and_restarted(gcs):
    """The emulator (storing on disk) stops mid-run and comes back while a write is retrying:
    that write and the next land, and nothing earlier is lost."""
    run_url = unique_run("gs")
    writer = PerClassWriter(run_url, class_names=CLASSES)
    write_steps(writer, range(2))
    gcs.stop()
    restart = threading.Timer(2.0, gcs.start)
    restart.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            write_steps(writer, [2])  # gcsfs retries until the emulator answers again
    finally:
        restart.join()
    write_steps(writer, [3])
    writer.close()
    assert steps_in(gcs.objects("runs", key_prefix(run_url))) == [0, 1, 2, 3]


# --- the framework integrations -------------------------------------------------------------------


def test_keras_callback_writes_to_a_bucket(s3):
    keras = pytest.importorskip("keras")
    from tb_perclass.keras import PerClassCallback

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(96, 8)).astype("float32"), rng.integers(0, 3, 96)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    run_url = unique_run("s3")
    model.fit(x, y, validation_data=(x[:32], y[:32]), epochs=2, batch_size=32, verbose=0,
              callbacks=[PerClassCallback(run_url, class_names=["a", "b", "c"])])  # fmt: skip
    prefix = key_prefix(run_url)
    for phase in ("train", "validation"):
        assert steps_in(s3.objects("runs", f"{prefix}/{phase}/")) == [0, 1], phase


def test_lightning_callback_writes_to_a_bucket(gcs):
    lightning = pytest.importorskip("lightning")
    import torch
    import torch.nn.functional as F

    from tb_perclass.lightning import PerClassCallback

    class Classifier(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(8, 4)

        def training_step(self, batch, batch_idx):
            x, y = batch
            logits = self.net(x)
            losses = F.cross_entropy(logits, y, reduction="none")
            return {"loss": losses.mean(), "logits": logits, "losses": losses}

        def validation_step(self, batch, batch_idx):
            return {"logits": self.net(batch[0])}

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(96, 8, generator=generator), torch.randint(0, 4, (96,), generator=generator)
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    run_url = unique_run("gs")
    trainer = lightning.Trainer(
        max_epochs=2, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
        enable_model_summary=False, enable_checkpointing=False, num_sanity_val_steps=0,
        callbacks=[PerClassCallback(run_url, num_classes=4)],
    )  # fmt: skip
    trainer.fit(Classifier(), data, data)
    prefix = key_prefix(run_url)
    for split in ("train", "validation"):
        assert steps_in(gcs.objects("runs", f"{prefix}/{split}/")) == [0, 1], split


def test_an_outage_is_not_taken_for_a_refusal_by_the_digits_of_a_port():
    """A connection error whose text holds a port or file name with 401/403 among its digits
    (CI met `http://127.0.0.1:45403/...`) is an outage (held and retried), not a refusal; an
    HTTP 401/403 is a refusal whether the library keeps it on the error or only in its text."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    from tb_perclass.logger import remote

    outages = [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:45403/runs/a/events.vm.4013.x"),
        ConnectionResetError("[Errno 104] Connection reset by peer (127.0.0.1:40100)"),
        OSError("could not reach http://[::1]:403/bucket/events.out.tfevents.1.vm.401.0"),
    ]
    for error in outages:
        assert not remote._is_permanent(error), error
    denied = ClientError(
        {"Error": {"Code": "Other"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "PutObject"
    )
    coded = OSError("rejected")
    coded.code = 401
    refusals = [
        denied,
        coded,
        OSError("403 Forbidden"),
        OSError("upload failed (401)"),
        PermissionError("x"),
    ]
    for error in refusals:
        assert remote._is_permanent(error), error
