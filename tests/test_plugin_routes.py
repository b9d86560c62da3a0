"""The plugin's HTTP routes over real event files, through TensorBoard's data providers: in process
(multiplexer) for the details, and real `tensorboard` processes on both loading paths."""

from __future__ import annotations

import json
import os
import urllib.parse

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2

from tb_perclass import PerClassWriter
from tb_perclass.format import metadata
from tests.helpers import (
    ROUTE_PREFIX,
    TensorBoardProcess,
    decode_binary_curves,
    read_summaries,
    wsgi_client,
)

STEPS = 150  # more than either loader keeps by default for an unknown plugin (100 and 10)
HOSTILE = '<img src=x onerror="alert(1)">'


def write_run(run_dir, steps, class_names, seed=0, name="perclass", nan_class=None):
    rng = np.random.default_rng(seed)
    num_classes = len(class_names)
    with PerClassWriter(run_dir, class_names=class_names, name=name) as writer:
        for step in range(steps):
            outputs = rng.normal(size=(4 * num_classes, num_classes)).astype(np.float32)
            targets = np.tile(np.arange(num_classes), 4)
            losses = None
            if nan_class is not None:
                losses = rng.gamma(2.0, size=len(targets)).astype(np.float32)
                losses[targets == nan_class] = np.nan
            writer.update(outputs, targets, losses=losses)
            writer.write(step)


@pytest.fixture(scope="module")
def long_logdir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("long"))
    write_run(os.path.join(root, "exp", "train"), STEPS, ["a", "b", HOSTILE], seed=1)
    write_run(os.path.join(root, "exp", "validation"), STEPS, ["a", "b", HOSTILE], seed=2)
    return root


def get(client, route, **params):
    response = client.get(f"{ROUTE_PREFIX}/{route}?{urllib.parse.urlencode(params)}")
    return response.status_code, response.get_data(), response.headers


def test_tags_lists_every_run_and_name(logdir):
    write_run(os.path.join(logdir, "train"), 2, ["x", "y"])
    write_run(os.path.join(logdir, "train"), 2, ["p", "q", "r"], name="head_b")
    write_run(os.path.join(logdir, "validation"), 2, ["x", "y"])
    status, body, headers = get(wsgi_client(logdir), "tags")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    tags = json.loads(body)
    assert sorted(tags) == ["train", "validation"]
    assert sorted(tags["train"]) == ["head_b", "perclass"]
    assert tags["train"]["head_b"] == {
        "kinds": ["stats", "confusion"],
        "task": "multiclass",
        "class_names": ["p", "q", "r"],
        "num_classes": 3,
        "loss": "cross_entropy",
        "version": tags["train"]["head_b"]["version"],
    }
    # the version names each kind's last step (and wall time): it changes with new data
    assert tags["train"]["head_b"]["version"].startswith("confusion:1:")
    assert ";stats:1:" in tags["train"]["head_b"]["version"]


def test_curves_returns_what_was_written(logdir):
    run_dir = os.path.join(logdir, "train")
    write_run(run_dir, 5, ["x", "y", "z"], nan_class=2)
    status, body, _ = get(wsgi_client(logdir), "curves", run="train", name="perclass")
    assert status == 200
    curves = json.loads(body)  # strict JSON: NaN would not parse in a browser either
    assert curves["steps"] == [0, 1, 2, 3, 4]
    assert curves["class_names"] == ["x", "y", "z"]
    assert len(curves["wall_times"]) == 5
    written = read_summaries(run_dir)
    for step_index, (_, matrix, _) in enumerate(written):
        np.testing.assert_allclose(curves["loss"][step_index][:2], matrix[0][:2])
        assert curves["loss"][step_index][2] is None  # no finite loss for class z
        assert curves["count"][step_index] == matrix[1].astype(int).tolist()
        assert curves["nonfinite"][step_index] == [0, 0, 4]
        np.testing.assert_allclose(curves["accuracy"][step_index], matrix[2] / matrix[1])
    assert b"NaN" not in body


def test_binary_curves_hold_the_json_answer(logdir):
    write_run(os.path.join(logdir, "train"), 6, ["x", "y", HOSTILE], nan_class=2)
    client = wsgi_client(logdir)
    _, text, _ = get(client, "curves", run="train", name="perclass")
    status, body, headers = get(client, "curves", run="train", name="perclass", format="binary")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    # TensorBoard gzips textual answers only: the binary one is sent as it is
    response = client.get(
        f"{ROUTE_PREFIX}/curves?run=train&name=perclass&format=binary",
        headers={"Accept-Encoding": "gzip"},
    )
    assert "Content-Encoding" not in response.headers and response.get_data() == body
    expected, found = json.loads(text), decode_binary_curves(body)
    # the held counts in their own types (bytes here), the zero ones named in `zeros`; the tab
    # derives accuracy from count and correct
    assert {"tp", "fp", "fn", "loss", "count", "correct"} <= set(found)
    assert found["count"].dtype == np.uint8 and found["loss"].dtype == np.float32
    assert "nonfinite_outputs" in found["zeros"] and found["true_false"] is True
    shape = found["loss"].shape
    for key in found["zeros"]:
        found[key] = np.zeros(shape)
    with np.errstate(invalid="ignore"):
        found["accuracy"] = np.where(found["count"] > 0, found["correct"] / found["count"], np.nan)
    for key, value in expected.items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            as_float = np.array([[np.nan if v is None else v for v in row] for row in value])
            np.testing.assert_allclose(found[key], as_float, rtol=1e-6, equal_nan=True)
        else:
            assert found[key] == value, key
    assert np.isnan(found["loss"][:, 2]).all() and found["class_names"][2] == HOSTILE
    status, body, _ = get(client, "curves", run="train", name="perclass", format="xml")
    assert status == 400 and b"format='xml'; use json or binary" in body


def test_bad_parameters_answer_400_or_404_with_a_message(logdir):
    write_run(os.path.join(logdir, "train"), 1, ["x", "y"])
    client = wsgi_client(logdir)
    cases = [
        ({}, 400, b"missing query parameter 'run'"),
        ({"run": "train"}, 400, b"missing query parameter 'name'"),
        ({"run": "", "name": "perclass"}, 400, b"missing query parameter 'run'"),
        ({"run": "nope", "name": "perclass"}, 404, b"no per-class stats data for run 'nope'"),
        ({"run": "train", "name": "nope"}, 404, b"name 'nope'"),
        ({"run": "../../etc/passwd", "name": "x"}, 404, b"no per-class"),
        ({"run": "train\x00", "name": "perclass"}, 404, b"no per-class"),
        ({"run": "\u2603" * 5000, "name": "perclass"}, 404, b"no per-class"),
    ]
    for params, code, message in cases:
        status, body, headers = get(client, "curves", **params)
        assert (status, message in body) == (code, True), (params, status, body[:200])
        assert headers["Content-Type"].startswith("text/plain")
    assert client.get(f"{ROUTE_PREFIX}/nope").status_code == 404


def test_unreadable_metadata_is_skipped_not_fatal(logdir):
    write_run(os.path.join(logdir, "train"), 1, ["x", "y"])
    broken_dir = os.path.join(logdir, "broken")
    os.makedirs(broken_dir)
    from tensorboard.summary.writer.record_writer import RecordWriter

    value = summary_pb2.Summary.Value(tag="perclass/stats")
    value.metadata.plugin_data.plugin_name = metadata.PLUGIN_NAME
    value.metadata.plugin_data.content = b"{not json"
    value.metadata.data_class = summary_pb2.DATA_CLASS_TENSOR
    value.tensor.dtype = 2  # DT_DOUBLE
    event = event_pb2.Event(step=0, summary=summary_pb2.Summary(value=[value]))
    with open(os.path.join(broken_dir, "events.out.tfevents.0.broken"), "wb") as handle:
        RecordWriter(handle).write(event.SerializeToString())
    client = wsgi_client(logdir)
    status, body, _ = get(client, "tags")
    assert status == 200 and list(json.loads(body)) == ["train"]
    status, body, _ = get(client, "curves", run="broken", name="perclass")
    assert status == 404


def test_serves_the_frontend_bundle(logdir):
    response = wsgi_client(logdir).get(f"{ROUTE_PREFIX}/index.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert b"render" in response.get_data()


@pytest.mark.slow
@pytest.mark.parametrize("load_fast", [True, False], ids=["data-server", "python-loader"])
def test_real_tensorboard_keeps_every_step(long_logdir, load_fast):
    with TensorBoardProcess(long_logdir, load_fast=load_fast) as server:
        listing = server.get_json("/data/plugins_listing")
        assert listing["perclass"]["tab_name"] == "Per-Class"
        assert listing["perclass"]["loading_mechanism"]["type"] == "IFRAME"
        tags = server.wait_for(
            f"{ROUTE_PREFIX}/tags", lambda body: set(body) == {"exp/train", "exp/validation"}
        )
        assert tags["exp/train"]["perclass"]["class_names"] == ["a", "b", HOSTILE]
        query = urllib.parse.urlencode({"run": "exp/validation", "name": "perclass"})
        curves = server.wait_for(
            f"{ROUTE_PREFIX}/curves?{query}", lambda body: len(body["steps"]) == STEPS
        )
        assert curves["steps"] == list(range(STEPS))
        written = read_summaries(os.path.join(long_logdir, "exp", "validation"))
        np.testing.assert_allclose(curves["loss"][-1], written[-1][1][0])
        status, body, _ = server.get(f"{ROUTE_PREFIX}/curves?run=exp/train")
        assert status == 400 and b"name" in body
        status, body, _ = server.get(f"{ROUTE_PREFIX}/index.js")
        assert status == 200 and b"render" in body
        assert "Traceback" not in server.log_text()


@pytest.mark.slow
@pytest.mark.parametrize("load_fast", [True, False], ids=["data-server", "python-loader"])
def test_users_samples_per_plugin_still_wins(long_logdir, load_fast):
    with TensorBoardProcess(
        long_logdir, load_fast=load_fast, extra_args=("--samples_per_plugin", "perclass=20")
    ) as server:
        query = urllib.parse.urlencode({"run": "exp/train", "name": "perclass"})
        curves = server.wait_for(f"{ROUTE_PREFIX}/curves?{query}", lambda b: len(b["steps"]) > 0)
        assert len(curves["steps"]) <= 20
        assert curves["steps"][-1] == STEPS - 1  # reservoir sampling keeps the latest step


@pytest.mark.slow
@pytest.mark.parametrize("load_fast", [True, False], ids=["data-server", "python-loader"])
def test_real_tensorboard_serves_confusion_and_sees_new_steps(tmp_path, load_fast):
    """Sparse (COO, packed varint) matrices through both loaders, and the reader's cache
    noticing steps written while TensorBoard runs."""
    logdir = str(tmp_path)
    names = [f"class {i}" for i in range(100)]
    rng = np.random.default_rng(5)
    writer = PerClassWriter(os.path.join(logdir, "live"), class_names=names)
    expected = {}

    def write_step(step):
        targets = rng.integers(0, 100, 300)
        writer.update(rng.normal(size=(300, 100)).astype(np.float32), targets)
        expected[step] = writer.write(step).confusion

    for step in range(3):
        write_step(step)
    query = urllib.parse.urlencode({"run": "live", "name": "perclass"})
    with TensorBoardProcess(logdir, load_fast=load_fast) as server:
        body = server.wait_for(f"{ROUTE_PREFIX}/confusion?{query}", lambda b: b["step"] == 2)
        assert body["encoding"] == "sparse"
        rebuilt = np.zeros((100, 100), dtype=np.int64)
        rebuilt[body["rows"], body["cols"]] = body["counts"]
        np.testing.assert_array_equal(rebuilt, expected[2])
        write_step(3)  # the run goes on while the tab is open
        body = server.wait_for(f"{ROUTE_PREFIX}/confusion?{query}", lambda b: b["step"] == 3)
        assert body["steps"] == [0, 1, 2, 3]
        rebuilt = np.zeros((100, 100), dtype=np.int64)
        rebuilt[body["rows"], body["cols"]] = body["counts"]
        np.testing.assert_array_equal(rebuilt, expected[3])
        report = server.get_json(f"{ROUTE_PREFIX}/report?{query}&step=3")
        assert report["step"] == 3 and len(report["precision"]) == 100
        assert "Traceback" not in server.log_text()
    writer.close()


def test_curves_reads_both_stats_layouts_and_the_step_totals(logdir):
    """Version-2 stats ([5, C + 2]) carry non-finite outputs per class and the step's invalid
    and ignored elements; version-1 stats ([4, C]), written by earlier releases, read as zeros
    there."""
    from tensorboard.util import tensor_util

    from tb_perclass.format import summary
    from tb_perclass.logger import sinks

    names = ["x", "y"]
    v2 = summary.stats_pb(
        "perclass",
        loss=np.array([0.5, 0.25]),
        count=np.array([4, 3]),
        correct=np.array([2, 3]),
        nonfinite=np.array([1, 0]),
        nonfinite_outputs=np.array([1, 0]),
        invalid_targets=5,
        ignored=2,
        class_names=names,
    )
    v1 = summary_pb2.Summary()
    v1.CopyFrom(v2)
    v1.value[0].tensor.CopyFrom(
        tensor_util.make_tensor_proto(np.array([[0.5, 0.25], [4, 3], [2, 3], [1, 0]]))
    )
    sink = sinks.EventFileSink(os.path.join(logdir, "run"))
    sink.write(v1, 0, 1.0)
    sink.write(v2, 1, 2.0)
    sink.close()
    status, body, _ = get(wsgi_client(logdir), "curves", run="run", name="perclass")
    assert status == 200
    curves = json.loads(body)
    assert curves["steps"] == [0, 1]
    assert curves["count"] == [[4, 3], [4, 3]]
    assert curves["nonfinite_outputs"] == [[0, 0], [1, 0]]
    assert curves["invalid_targets"] == [0, 5] and curves["ignored"] == [0, 2]


def test_every_kind_serves_one_value_per_step_in_step_order(logdir):
    """The Python loader (`--load_fast=false`, the in-process client here) hands a repeated or
    lower step over in file order; the series keep the last write of each step, in step order,
    for every kind (the data server serves a repeated step so too)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the writer warns of both steps
        with PerClassWriter(os.path.join(logdir, "resumed"), class_names=["a", "b"]) as writer:
            for write, step in enumerate([0, 1, 2, 3, 4, 1, 5, 5]):
                targets = np.array([0] * (write + 1) + [1])  # class a's count tells the write
                outputs = np.tile([[1.0, 0.0]], (len(targets), 1)).astype(np.float32)
                writer.update(outputs, targets, inputs=[f"write {write}"] * len(targets))
                writer.write(step)
    client = wsgi_client(logdir)
    for kind in (metadata.KIND_STATS, metadata.KIND_CONFUSION):
        _, body, _ = get(client, "steps", run="resumed", name="perclass", kind=kind)
        assert json.loads(body) == {"steps": [0, 1, 2, 3, 4, 5], "skipped": []}, kind
    query = dict(run="resumed", name="perclass")
    curves = json.loads(get(client, "curves", **query)[1])
    assert [count[0] - 1 for count in curves["count"]] == [0, 5, 2, 3, 4, 7]
    assert [tp[0] - 1 for tp in curves["tp"]] == [0, 5, 2, 3, 4, 7]
    # Confusion counts and samples are blob sequences: that loader itself keeps the first write
    # of a step (its read_blob finds a blob by step), so a step written twice shows the matrix
    # and the samples of its first write there (the data server: its last write).
    confusion = json.loads(get(client, "confusion", step=1, **query)[1])
    assert confusion["matrix"] == [[2, 0], [1, 0]] and confusion["steps"] == [0, 1, 2, 3, 4, 5]
    pairs = json.loads(get(client, "pairs", **query)[1])
    assert pairs["pairs"][0]["history"] == [1, 1, 1, 1, 1, 1]
    steps = json.loads(get(client, "steps", kind="samples", **query)[1])
    assert steps == {"steps": [0, 1, 2, 3, 4, 5], "skipped": []}
    samples = json.loads(get(client, "samples", step=1, **query)[1])
    assert get(client, samples["samples"][0]["blob"])[1] == b"write 1"
