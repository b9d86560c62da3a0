"""Training dynamics per sample (`track_samples`): the writer's checks of sample ids, what it
writes (counts every write, a snapshot about once per epoch), and the dynamics routes over the
event files, including damaged ones."""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import urllib.parse
import warnings

import numpy as np
import pytest
import torch

from tb_perclass import PerClassWriter
from tb_perclass.format import dynamics as layout
from tb_perclass.format import metadata, summary
from tests.helpers import ROUTE_PREFIX, TensorBoardProcess, wsgi_client

CLASSES = ["=cmd", "one", "two"]  # a name a spreadsheet would run as a formula
SIZE = 60


def noisy_problem(seed: int = 0):
    """SIZE samples whose logits learn their true class over the epochs; ids 0-5 carry a wrong
    label (their true class is (label + 1) % 3), so the model keeps preferring another one."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 3, SIZE)
    given = true.copy()
    given[:6] = (true[:6] + 2) % 3
    return true, given


def train(writer, epochs=4, batch=20, seed=0, inputs=True, to=torch.as_tensor):
    true, given = noisy_problem(seed)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(SIZE)
        for start in range(0, SIZE, batch):
            ids = order[start : start + batch]
            logits = rng.normal(0, 0.5, (len(ids), 3)).astype(np.float32)
            logits[np.arange(len(ids)), true[ids]] += 1.0 + epoch
            images = np.stack([np.full((4, 4), i, np.uint8) for i in ids])
            writer.update(
                to(logits),
                to(given[ids]),
                sample_ids=to(ids),
                inputs=to(images) if inputs else None,
            )
        writer.write(epoch)
    return true, given


def get(client, route, **params):
    response = client.get(f"{ROUTE_PREFIX}/{route}?{urllib.parse.urlencode(params)}")
    return response.status_code, response.get_data(), response.headers


def decode_columns(body: bytes):
    (length,) = struct.unpack("<I", body[:4])
    header = json.loads(body[4 : 4 + length])
    offset, columns = 4 + length, {}
    for key, dtype, count in header["columns"]:
        item = np.dtype({"u8": "<u1", "u32": "<u4"}[dtype])
        columns[key] = np.frombuffer(body, item, count, offset)
        offset += count * item.itemsize + (-count * item.itemsize) % 4
    return header, columns


def test_the_routes_serve_counts_map_ranked_lists_thumbnails_and_csv(logdir):
    with PerClassWriter(os.path.join(logdir, "train"), CLASSES, track_samples=SIZE) as writer:
        true, given = train(writer)
    client = wsgi_client(logdir)
    status, body, _ = get(client, "tags")
    kinds = json.loads(body)["train"]["perclass"]["kinds"]
    assert {"dynamics", "dynamics_samples"} <= set(kinds)

    status, body, _ = get(client, "dynamics", run="train", name="perclass")
    counts = json.loads(body)
    assert status == 200 and counts["steps"] == [0, 1, 2, 3]
    visited = np.array(counts["visited"])
    np.testing.assert_array_equal(visited[-1], np.bincount(given, minlength=3))
    regions = np.array(counts["easy"]) + counts["ambiguous"] + np.array(counts["hard"])
    np.testing.assert_array_equal(regions, visited)  # each visited sample in one region
    assert counts["dataset_size"] == [SIZE] * 4 and counts["invalid_id_visits"] == [0] * 4
    assert counts["snapshot_steps"] == [0, 1, 2, 3]  # one epoch of visits between writes
    status, binary, headers = get(client, "dynamics", run="train", name="perclass", format="binary")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"

    status, body, _ = get(client, "data_map", run="train", name="perclass")
    header, columns = decode_columns(body)
    assert header["step"] == 3 and header["count"] == SIZE and not header["subset"]
    np.testing.assert_array_equal(columns["id"], np.arange(SIZE))
    np.testing.assert_array_equal(columns["label"], given)
    assert (columns["confidence"][:6] < 80).all()  # the mislabelled ones: low p(given label)

    status, body, _ = get(client, "dynamics_samples", run="train", name="perclass", list="errors")
    found = json.loads(body)
    ids = [entry["id"] for entry in found["samples"]]
    assert set(range(6)) <= set(ids)  # every wrong label listed
    assert found["total"] == len(ids) and found["list"] == "errors"
    margins = [entry["margin"] for entry in found["samples"]]
    assert margins == sorted(margins) and max(margins) < 0
    for entry in found["samples"]:
        if entry["id"] < 6:
            assert entry["preferred"] == true[entry["id"]]  # the label the model prefers
            assert entry["label"] == given[entry["id"]]
        assert entry["media_type"] == "image/png"
        response = client.get(f"{ROUTE_PREFIX}/{entry['media']}")
        assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
        assert "max-age" in response.headers["Cache-Control"]

    status, body, _ = get(
        client, "dynamics_samples", run="train", name="perclass", list="errors", **{"class": 1}
    )
    assert all(entry["label"] == 1 for entry in json.loads(body)["samples"])
    status, body, headers = get(
        client, "dynamics_samples", run="train", name="perclass", list="errors", format="csv"
    )
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [int(r["id"]) for r in rows] == ids
    assert all(not r["given_name"].startswith("=") for r in rows)  # never a formula
    assert {"'=cmd"} & {r["given_name"] for r in rows} or 0 not in given[ids]
    status, body, _ = get(client, "dynamics_samples", run="train", name="perclass", list="nope")
    assert status == 400
    status, body, _ = get(client, "steps", run="train", name="perclass", kind="dynamics_samples")
    assert json.loads(body)["steps"] == [0, 1, 2, 3]


def test_snapshots_come_about_once_per_epoch_however_often_write_is_called(logdir):
    true, given = noisy_problem()
    with PerClassWriter(logdir, CLASSES, track_samples=SIZE) as writer:
        for step in range(12):  # a write after every batch of 10: 6 writes per epoch
            ids = np.arange(10 * step, 10 * step + 10) % SIZE
            writer.update(5 * np.eye(3, dtype=np.float32)[given[ids]], given[ids], sample_ids=ids)
            writer.write(step)
    client = wsgi_client(os.path.dirname(logdir))
    run = os.path.basename(logdir)
    status, body, _ = get(client, "dynamics", run=run, name="perclass")
    counts = json.loads(body)
    assert counts["steps"] == list(range(12))
    assert counts["snapshot_steps"] == [0, 3, 6, 9]  # the first, then every SIZE / 2 visits
    assert [sum(v) for v in counts["visited"]] == [10, 20, 30, 40, 50, 60] + [60] * 6


def test_bad_ids_are_refused_with_the_argument_named(logdir):
    writer = PerClassWriter(logdir, CLASSES, track_samples=SIZE)
    logits, targets = torch.zeros(4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match=r"\(track_samples=60\): pass sample_ids="):
        writer.update(logits, targets)
    with pytest.raises(ValueError, match=r"sample_ids contains 60, outside \[0, 60\)"):
        writer.update(logits, targets, sample_ids=torch.tensor([0, 1, 2, 60]))
    with pytest.raises(ValueError, match=r"contains -1"):
        writer.update(logits.numpy(), targets.numpy(), sample_ids=np.array([0, -1, 2, 3]))
    with pytest.raises(TypeError, match="holds str values"):
        writer.update(logits, targets, sample_ids=["a", "b", "c", "d"])
    with pytest.raises(TypeError, match="dtype float32"):
        writer.update(logits, targets, sample_ids=torch.zeros(4))
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(4,\)"):
        writer.update(logits, targets, sample_ids=torch.tensor([0, 1, 2]))
    with pytest.warns(RuntimeWarning, match="found no update"):
        assert writer.write(0) is None  # every refused batch left no trace
    writer.update(logits, targets, sample_ids=torch.tensor([0, 1, 2, 3]))
    with pytest.raises(TypeError, match="sample_ids is a list of integers but was a torch array"):
        writer.update(logits, targets, sample_ids=[4, 5, 6, 7])
    writer.close()


def test_the_tracking_options_are_checked_at_construction(logdir):
    for value, error, match in [
        (True, TypeError, "pass the dataset size"),
        (0, ValueError, "track_samples=0"),
        (2**32, ValueError, "1 to 4294967295"),
        ("many", TypeError, "as an integer"),
    ]:
        with pytest.raises(error, match=match):
            PerClassWriter(logdir, CLASSES, track_samples=value)
    with pytest.raises(ValueError, match="for task='multiclass' or 'binary'"):
        PerClassWriter(logdir, CLASSES, task="multilabel", track_samples=10)


def test_repeated_ids_count_each_occurrence_and_warn_once(logdir):
    with PerClassWriter(logdir, CLASSES, track_samples=SIZE) as writer:
        logits = torch.eye(3)[[0, 1, 1, 2]]
        writer.update(logits, torch.tensor([0, 1, 1, 2]), sample_ids=torch.tensor([5, 7, 7, 9]))
        with pytest.warns(RuntimeWarning, match="1 sample_ids came twice or more"):
            writer.write(0)
        writer.update(logits, torch.tensor([0, 1, 1, 2]), sample_ids=torch.tensor([5, 8, 8, 9]))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # shown once per writer
            writer.write(1)
        dynamics = writer._accumulator.tracker.read()
    assert dynamics.visits[[5, 7, 8, 9]].tolist() == [2, 2, 2, 2]
    assert dynamics.repeated_ids == 2


def test_on_an_accelerator_bad_ids_are_counted_apart_and_write_warns(logdir, monkeypatch):
    from tb_perclass.logger.arrays import torch_ops

    # As on a GPU: values cannot be read in update(), so nothing is checked there.
    monkeypatch.setattr(torch_ops.TorchOps, "is_on_host", lambda self, x: False)
    with PerClassWriter(logdir, CLASSES, track_samples=SIZE) as writer:
        writer.update(
            torch.eye(3)[[0, 1, 2]], torch.tensor([0, 1, 2]), sample_ids=torch.tensor([1, 99, -4])
        )
        with pytest.warns(RuntimeWarning, match=r"2 visits had sample_ids outside \[0, 60\)"):
            stats = writer.write(0)
        assert stats.total == 3  # the per-class statistics keep every sample
        dynamics = writer._accumulator.tracker.read()
    assert dynamics.visits.sum() == 1 and dynamics.invalid_visits == 2
    client = wsgi_client(os.path.dirname(logdir))
    _, body, _ = get(client, "dynamics", run=os.path.basename(logdir), name="perclass")
    assert json.loads(body)["invalid_id_visits"] == [2]


def test_a_dataset_of_another_size_in_the_same_run_is_not_mixed(logdir):
    with PerClassWriter(logdir, CLASSES, track_samples=SIZE) as writer:
        train(writer, epochs=2, inputs=False)
    with PerClassWriter(logdir, CLASSES, track_samples=30) as writer:
        logits = torch.eye(3)[torch.arange(30) % 3]
        writer.update(logits, torch.arange(30) % 3, sample_ids=torch.arange(30))
        writer.write(5)
    client = wsgi_client(os.path.dirname(logdir))
    run = os.path.basename(logdir)
    _, body, _ = get(client, "dynamics", run=run, name="perclass")
    assert json.loads(body)["dataset_size"] == [SIZE, SIZE, 30]
    _, body, _ = get(client, "data_map", run=run, name="perclass")
    header, columns = decode_columns(body)
    assert (header["step"], header["size"], header["count"]) == (5, 30, 30)
    _, body, _ = get(client, "data_map", run=run, name="perclass", step=1)
    assert decode_columns(body)[0]["size"] == SIZE


def test_under_torch_distributed_tracking_is_refused_with_the_way_out(logdir, monkeypatch):
    from tb_perclass.logger import distributed

    monkeypatch.setattr(
        distributed, "torch_world", lambda: distributed.World(rank=0, size=2, backend="gloo")
    )
    writer = PerClassWriter(logdir, CLASSES, track_samples=SIZE)
    with pytest.raises(ValueError, match="distributed=False on each rank"):
        writer.update(torch.eye(3), torch.arange(3), sample_ids=torch.arange(3))
    writer.close()
    with PerClassWriter(logdir, CLASSES, track_samples=SIZE, distributed=False) as writer:
        writer.update(torch.eye(3), torch.arange(3), sample_ids=torch.arange(3))


def test_binary_tasks_and_tensorflow_eager_track_too(logdir):
    import tensorflow as tf

    with PerClassWriter(os.path.join(logdir, "tf"), CLASSES, track_samples=SIZE) as writer:
        train(writer, epochs=2, inputs=False, to=tf.constant)
    rng = np.random.default_rng(0)
    with PerClassWriter(os.path.join(logdir, "bin"), task="binary", track_samples=40) as writer:
        labels = rng.integers(0, 2, 40)
        for epoch in range(3):
            scores = np.where(labels == 1, 1.0, -1.0) * (epoch + 1)
            scores[:4] *= -1  # four samples the model keeps getting wrong
            writer.update(scores.astype(np.float32), labels, sample_ids=np.arange(40))
            writer.write(epoch)
    client = wsgi_client(logdir)
    _, body, _ = get(client, "dynamics_samples", run="tf", name="perclass", list="errors")
    assert set(range(6)) <= {e["id"] for e in json.loads(body)["samples"]}
    _, body, _ = get(client, "dynamics_samples", run="bin", name="perclass", list="errors")
    found = json.loads(body)["samples"]
    assert sorted(e["id"] for e in found) == [0, 1, 2, 3]
    assert all(e["preferred"] == 1 - e["label"] for e in found)


def _write_snapshot(run_dir, header: bytes, blobs, *, counts=None):
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    os.makedirs(run_dir, exist_ok=True)
    writer = EventFileWriter(run_dir)
    common = dict(class_names=CLASSES)
    tensor = (
        counts
        if counts is not None
        else summary.dynamics_tensor(np.zeros((6, 3), np.int64), dataset_size=4)
    )
    event = summary.dynamics_pb("perclass", tensor, **common)
    event.value.extend(summary.dynamics_samples_pb("perclass", header, blobs, **common).value)
    from tensorboard.compat.proto import event_pb2

    writer.add_event(event_pb2.Event(step=0, wall_time=1.0, summary=event))
    writer.close()


def test_damaged_snapshots_are_skipped_with_the_reason_never_a_500(logdir):
    header, blobs = layout.encode(
        size=4,
        num_classes=3,
        visits=np.array([1, 1, 1, 0]),
        confidence=np.array([0.1, 0.9, 0.5, np.nan]),
        variability=np.zeros(4),
        correctness=np.array([0, 1, 1, np.nan]),
        margin=np.array([-0.5, 0.8, 0.1, np.nan]),
        forgets=np.zeros(4, np.int64),
        label=np.array([0, 1, 2, -1]),
        preferred=np.array([1, 0, 0, -1]),
    )
    _write_snapshot(os.path.join(logdir, "good"), header, blobs)
    _write_snapshot(os.path.join(logdir, "zip"), header, [b"not zlib", blobs[1]])
    bad_label = dict(json.loads(header))
    _write_snapshot(
        os.path.join(logdir, "version"), json.dumps({**bad_label, "version": 99}).encode(), blobs
    )
    _write_snapshot(os.path.join(logdir, "json"), b"{nope", blobs)
    too_many = summary.dynamics_tensor(np.full((6, 3), 5, np.int64), dataset_size=4)
    too_many[0, :3] = 1  # more easy samples than visited ones
    _write_snapshot(os.path.join(logdir, "counts"), header, blobs, counts=too_many)
    client = wsgi_client(logdir)
    status, body, _ = get(client, "dynamics_samples", run="good", name="perclass", list="errors")
    assert status == 200 and [e["id"] for e in json.loads(body)["samples"]] == [0]
    status, body, _ = get(client, "data_map", run="zip", name="perclass")
    assert status == 404 and b"does not decompress" in body
    status, body, _ = get(client, "data_map", run="version", name="perclass")
    assert status == 404 and b"upgrade tb-perclass" in body
    status, body, _ = get(client, "dynamics_samples", run="json", name="perclass", list="errors")
    assert status == 404 and b"not UTF-8 JSON" in body
    status, body, _ = get(client, "dynamics", run="counts", name="perclass")
    found = json.loads(body)
    assert status == 200 and found["steps"] == []
    assert "more than the class's visited samples" in found["skipped"][0]["reason"]


@pytest.mark.slow
def test_the_data_server_keeps_the_latest_snapshots_and_every_count(tmp_path):
    logdir = tmp_path / "runs"
    with PerClassWriter(str(logdir / "train"), CLASSES, track_samples=SIZE) as writer:
        train(writer, epochs=14, inputs=False)
    with TensorBoardProcess(logdir, load_fast=True) as tb:
        tb.wait_for_runs(1)
        counts = tb.get_json(f"{ROUTE_PREFIX}/dynamics?run=train&name=perclass")
        assert counts["steps"] == list(range(14))  # every write's counts
        kept = counts["snapshot_steps"]
        assert len(kept) == metadata.SNAPSHOTS_KEPT and kept[-1] == 13  # the latest, and 9 more
        found = tb.get_json(
            f"{ROUTE_PREFIX}/dynamics_samples?run=train&name=perclass&list=errors&limit=3"
        )
        assert found["step"] == 13 and len(found["samples"]) == 3
