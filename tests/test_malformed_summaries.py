"""Per-class summaries this version did not write (other dtypes, shapes and byte sizes,
impossible counts, broken manifests, odd metadata, flipped bytes), read through TensorBoard's
real data providers: never a 500; the bad step is skipped and named in the answer's `skipped`,
and the other steps are served."""

from __future__ import annotations

import json
import os
import random
import urllib.parse

import numpy as np
import pytest
from tensorboard.util import tensor_util

from tb_perclass import PerClassWriter
from tb_perclass.format import metadata
from tests.helpers import ROUTE_PREFIX, TensorBoardProcess, decode_binary_curves, wsgi_client
from tests.malformed import (
    NAME,
    confusion_tensor,
    coo,
    double_tensor_bytes,
    flip_bytes,
    good_confusion,
    good_legacy_confusion,
    good_samples,
    good_stats,
    legacy_stats,
    manifest_entry,
    samples_summary,
    stats_array,
    string_tensor,
    with_tensor,
    write_events,
)

C3 = ["a", "b", "c"]
C100 = [f"c{i}" for i in range(100)]
STATS_SHAPE = metadata.stats_shape(len(C3))


def stats_rows(**changes):
    """Valid stats rows for C3 with `changes` (count 10, correct 4 per class)."""
    rows = dict(
        loss=np.full(3, 0.5),
        count=np.full(3, 10.0),
        correct=np.full(3, 4.0),
        nonfinite=np.zeros(3),
        nonfinite_outputs=np.zeros(3),
    )
    rows.update(changes)
    return legacy_stats(C3, **rows)  # impossible counts: what this version's builder refuses


def bad_manifest(**fields):
    return json.dumps([{**manifest_entry(1, 7), **fields}]).encode()


def build(root: str) -> None:
    """One run per kind of damage; good steps around each bad one."""

    def run(name, steps):
        return write_events(os.path.join(root, name), steps)

    run(
        "stats_string",
        [
            (0, good_stats(C3)),
            (1, with_tensor("stats", C3, string_tensor(STATS_SHAPE))),
            (2, good_stats(C3)),
        ],
    )
    # 8 * 15 - 3 bytes: TensorBoard's own decoding fails for the whole tag, on both paths.
    run(
        "stats_bytes",
        [
            (0, good_stats(C3)),
            (1, with_tensor("stats", C3, double_tensor_bytes(STATS_SHAPE, b"\0" * 117))),
            (2, good_stats(C3)),
        ],
    )
    run(
        "stats_values",
        [
            (0, stats_rows()),
            (1, stats_rows(count=np.array([10, np.nan, 10]))),
            (2, stats_rows(count=np.array([10, -1, 10]), correct=np.zeros(3))),
            (3, stats_rows(count=np.array([10, 2.5, 10]), correct=np.zeros(3))),
            (4, stats_rows(correct=np.array([11, 0, 0]))),
            (5, stats_rows(nonfinite=np.array([np.inf, 0, 0]))),
            (6, stats_rows(loss=np.array([np.inf, -np.inf, np.nan]))),  # served, as null
            (7, stats_array(C3, np.pad(np.ones((5, 3)), ((0, 0), (0, 2)), constant_values=-4))),
            (8, stats_rows(count=np.array([1e300, 10, 10]))),
            (9, stats_rows()),
        ],
    )
    run(
        "confusion_string",
        [
            (0, good_stats(C3)),
            (0, good_legacy_confusion(C3)),
            (1, good_stats(C3)),
            (1, confusion_tensor(C3, string_tensor((3, 3)))),
            (2, good_stats(C3)),
            (2, good_legacy_confusion(C3, seed=2)),
        ],
    )
    run(
        "coo",
        [
            (0, good_stats(C100)),
            (0, good_legacy_confusion(C100)),
            (1, good_stats(C100)),
            (1, confusion_tensor(C100, coo([[5000, 3, 3], [1, 1, 4]]))),
            (2, good_stats(C100)),
            (2, confusion_tensor(C100, coo([[1, -7, 3], [2, 2, 4]]))),
            (3, good_stats(C100)),
            (3, confusion_tensor(C100, coo([[1, 2, -5], [2, 2, 4]]))),
            (4, good_stats(C100)),
            (4, good_legacy_confusion(C100, seed=4)),
        ],
    )
    run(
        "mismatch",
        [
            (0, good_stats(C3)),
            (0, good_confusion(["a", "b", "c", "d"])),
        ],
    )
    run(
        "samples",
        [
            (0, good_samples(C3, [7, 8])),
            (1, samples_summary(C3, b"not json", [b"x"])),
            (2, samples_summary(C3, b"[1, 2]", [b"x", b"y"])),
            (3, samples_summary(C3, bad_manifest(true="x"), [b"x"])),
            (4, samples_summary(C3, bad_manifest(score="high"), [b"x"])),
            (5, samples_summary(C3, bad_manifest(id=[7]), [b"x"])),
            (6, samples_summary(C3, bad_manifest(index=2), [b"x"])),
            (7, samples_summary(C3, bad_manifest(pred=3), [b"x"])),
            (8, samples_summary(C3, bad_manifest(), [b"x", b"y"])),
            (9, good_samples(C3, [7, 9])),
        ],
    )
    flipped = run(
        "flipped",
        [
            (0, good_samples(C3, [7, 8])),
            (1, good_samples(C3, [7, 5])),
            (2, good_samples(C3, [7, 9])),
        ],
    )
    flip_bytes(flipped, b'"id": 5')  # the record of step 1, after its length and CRC
    for name, class_names, extra in [
        ("no_classes", [], {}),
        ("same_names", ["a", "a", "b"], {}),
        ("long_name", ["x" * 4097, "b"], {}),  # one past metadata.MAX_CLASS_NAME_LENGTH
        ("csr", C3, {"encoding": "csr"}),
    ]:
        content = {
            "version": 2,
            "kind": "confusion",
            "task": "multiclass",
            "class_names": class_names,
            "loss": "x",
            **extra,
        }
        tensor = tensor_util.make_tensor_proto(np.eye(max(len(class_names), 1), dtype=np.int64))
        summary = with_tensor("confusion", C3, tensor, content=json.dumps(content).encode())
        run(name, [(0, summary)])
    names = [1, 2]  # not strings
    content = json.dumps(
        {"version": 2, "kind": "stats", "task": "multiclass", "class_names": names}
    )
    run(
        "number_names",
        [(0, with_tensor("stats", C3, string_tensor((5, 4)), content=content.encode()))],
    )
    with PerClassWriter(os.path.join(root, "good"), class_names=C3, samples_per_cell=2) as writer:
        rng = np.random.default_rng(0)
        for step in range(3):
            ids = np.arange(30)
            writer.update(
                rng.normal(size=(30, 3)).astype(np.float32) * 3,
                rng.integers(0, 3, 30),
                inputs=np.zeros((30, 4, 4), np.uint8),
                sample_ids=ids,
            )
            writer.write(step)


@pytest.fixture(scope="module")
def hostile_logdir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("hostile"))
    build(root)
    return root


@pytest.fixture(scope="module")
def client(hostile_logdir):
    return wsgi_client(hostile_logdir)


def get(client, route, **params):
    """(status, body) of an in-process request; JSON bodies decoded, errors as text."""
    response = client.get(f"{ROUTE_PREFIX}/{route}?{urllib.parse.urlencode(params)}")
    body = response.get_data()
    if response.headers["Content-Type"].startswith("application/json"):
        return response.status_code, json.loads(body)
    if response.status_code >= 400:
        assert response.headers["Content-Type"].startswith("text/plain")
        return response.status_code, body.decode()
    return response.status_code, body


def skipped_steps(answer):
    return [(s["step"], s["kind"]) for s in answer["skipped"]]


def test_stats_tensor_of_strings_is_skipped_and_named(client):
    for route, params in [("steps", {"kind": "stats"}), ("curves", {})]:
        status, answer = get(client, route, run="stats_string", name=NAME, **params)
        assert status == 200 and answer["steps"] == [0, 2]
        assert answer["skipped"] == [
            {
                "step": 1,
                "kind": "stats",
                "reason": "stats tensor holds strings in shape [5, 5]; a stats step is one "
                "packed record (a string scalar, version 3) or numbers (versions 1 and 2)",
            }
        ]
    status, body = get(client, "curves", run="stats_string", name=NAME, format="binary")
    binary = decode_binary_curves(body)
    assert status == 200 and binary["steps"] == [0, 2] and skipped_steps(binary) == [(1, "stats")]
    assert binary["count"].shape == (2, 3)


def test_a_tag_tensorboard_cannot_decode_is_named_with_its_reason(client):
    """A DT_DOUBLE tensor of 117 bytes: TensorBoard's `read_tensors` fails for the whole tag
    (on both loading paths) and no provider call reads the other steps, so the answer has no
    steps and names the tag, TensorBoard's error and the tag's last step."""
    for route, params in [("steps", {"kind": "stats"}), ("curves", {})]:
        status, answer = get(client, route, run="stats_bytes", name=NAME, **params)
        assert status == 200 and answer["steps"] == []
        (skipped,) = answer["skipped"]
        assert (skipped["step"], skipped["kind"]) == (2, "stats")
        assert "cannot decode tag 'perclass/stats'" in skipped["reason"]
        assert "buffer size must be a multiple of element size" in skipped["reason"]
    status, body = get(client, "curves", run="stats_bytes", name=NAME, format="binary")
    assert status == 200 and decode_binary_curves(body)["skipped"] == answer["skipped"]


def test_stats_counts_that_cannot_be_are_skipped_and_losses_are_served(client):
    status, curves = get(client, "curves", run="stats_values", name=NAME)
    assert status == 200 and curves["steps"] == [0, 6, 9]
    reasons = {s["step"]: s["reason"] for s in curves["skipped"]}
    assert reasons == {
        1: "count of class 1 is nan; counts are whole numbers from 0 to 2**53",
        2: "count of class 1 is -1; counts are whole numbers from 0 to 2**53",
        3: "count of class 1 is 2.5; counts are whole numbers from 0 to 2**53",
        4: "correct of class 0 is 11, more than the class's count 10",
        5: "nonfinite of class 0 is inf; counts are whole numbers from 0 to 2**53",
        7: "invalid_targets is -4; counts are whole numbers from 0 to 2**53",
        8: "count of class 0 is 1e+300; counts are whole numbers from 0 to 2**53",
    }
    # Non-finite mean losses mean "no finite loss": the step's counts are still good.
    assert curves["loss"][1] == [None, None, None] and curves["count"][1] == [10, 10, 10]


def test_confusion_of_strings_is_skipped_in_every_route(client):
    run = dict(run="confusion_string", name=NAME)
    for route, params in [
        ("confusion", {}),
        ("pairs", {}),
        ("report", {}),
        ("order", {"by": "cluster"}),
        ("diff", {"base_run": "confusion_string", "base_step": 0}),
        ("steps", {"kind": "confusion"}),
    ]:
        status, answer = get(client, route, **run, **params)
        assert status == 200, (route, answer)
        assert skipped_steps(answer) == [(1, "confusion")], route
        assert "dtype string" in answer["skipped"][0]["reason"]
    status, answer = get(client, "confusion", **run)
    assert answer["step"] == 2 and answer["steps"] == [0, 2]
    status, csv = get(client, "report", **run, format="csv")
    assert status == 200 and csv.startswith(b"class,precision")
    status, curves = get(client, "curves", **run)
    assert status == 200 and curves["steps"] == [0, 1, 2]
    assert curves["tp"][1] == [None] * 3 and None not in curves["tp"][2]
    assert skipped_steps(curves) == [(1, "confusion")]
    status, message = get(client, "confusion", **run, step=1)
    assert status == 404 and message == (
        "Not found: run 'confusion_string' has no readable confusion matrix at step 1: it was "
        "skipped because confusion tensor has dtype string; expected numbers (float64 or int64)"
    )
    status, message = get(client, "diff", **run, base_run="confusion_string", base_step=1)
    assert status == 404 and "skipped because confusion tensor has dtype string" in message


def test_coo_cells_out_of_range_and_negative_counts_are_skipped(client):
    run = dict(run="coo", name=NAME)
    expected = {
        1: "true class 5000, outside [0, 100)",
        2: "predicted class -7, outside [0, 100)",
        3: "the count of cell (1, 2) is -5",
    }
    for route, params in [
        ("confusion", {}),
        ("pairs", {}),
        ("report", {}),
        ("order", {"by": "cluster"}),
        ("diff", {"base_run": "coo", "base_step": 0}),
        ("curves", {}),
    ]:
        status, answer = get(client, route, **run, **params)
        assert status == 200, (route, answer)
        assert [s["step"] for s in answer["skipped"]] == [1, 2, 3]
        for skipped in answer["skipped"]:
            assert expected[skipped["step"]] in skipped["reason"]
    status, confusion = get(client, "confusion", **run)
    assert confusion["steps"] == [0, 4] and max(confusion["rows"] + confusion["cols"]) < 100
    assert min(confusion["counts"]) > 0
    status, pairs = get(client, "pairs", **run, limit=1000)
    assert all(0 <= p["true"] < 100 and 0 <= p["pred"] < 100 for p in pairs["pairs"])
    assert all(len(p["history"]) == 2 for p in pairs["pairs"])
    status, curves = get(client, "curves", **run)
    assert [row is None for row in [r[0] for r in curves["tp"]]] == [False, True, True, True, False]
    for step, part in expected.items():
        for route, params in [
            ("confusion", {}),
            ("pairs", {}),
            ("report", {}),
            ("report", {"format": "csv"}),
            ("order", {"by": "cluster"}),
        ]:
            status, message = get(client, route, **run, step=step, **params)
            assert status == 404 and part in message, (route, step, message)


def test_kinds_with_different_classes_are_not_combined(client):
    status, curves = get(client, "curves", run="mismatch", name=NAME)
    assert status == 200 and "tp" not in curves and curves["class_names"] == C3
    (skipped,) = curves["skipped"]
    assert (skipped["step"], skipped["kind"]) == (0, "confusion")
    assert skipped["reason"] == (
        "the confusion data has task 'multiclass' and 4 classes but the stats data has "
        "'multiclass' and 3; the two are not combined"
    )
    status, report = get(client, "report", run="mismatch", name=NAME)
    assert (
        status == 200 and report["loss"] == [None] * 4 and skipped_steps(report) == [(0, "stats")]
    )


def test_samples_manifests_that_break_the_contract_are_skipped(client):
    run = dict(run="samples", name=NAME)
    expected = {
        1: "samples manifest is not UTF-8 JSON (Expecting value: line 1 column 1 (char 0))",
        2: "samples manifest is not a JSON list of objects",
        3: "samples manifest entry 0 has true 'x'; expected an integer in [0, 3)",
        4: "samples manifest entry 0 has score 'high'; expected a number or null",
        5: "samples manifest entry 0 has id [7]; ids are integers or strings",
        6: "samples manifest entry 0 has index 2; expected an integer in [1, 2)",
        7: "samples manifest entry 0 has pred 3; expected an integer in [0, 3)",
        8: "samples manifest lists 1 samples for 2 stored",
    }
    status, history = get(client, "sample_history", **run, id="7")
    assert status == 200 and [h["step"] for h in history["history"]] == [0, 9]
    assert {s["step"]: s["reason"] for s in history["skipped"]} == expected
    status, samples = get(client, "samples", **run)
    assert (
        status == 200 and samples["step"] == 9 and [s["id"] for s in samples["samples"]] == [7, 9]
    )
    for step, reason in expected.items():
        status, message = get(client, "samples", **run, step=step)
        assert status == 404 and message.endswith(
            f"at step {step}: it was skipped because {reason}"
        )
        status, message = get(client, "blob", **run, step=step, index=1)
        assert status == 404 and reason in message
    status, body = get(client, "blob", **run, step=9, index=2)
    assert status == 200 and body == b"text of 9"


def test_metadata_this_version_cannot_read_is_named(client):
    status, tags = get(client, "tags")
    assert status == 200 and "good" in tags
    assert not {"no_classes", "same_names", "long_name", "csr", "number_names"} & set(tags)
    for run, problem in [
        ("no_classes", "plugin content has 0 class names; a summary has 1 to 1048576"),
        ("same_names", "plugin content has the class name 'a' more than once; names are unique"),
        ("long_name", "plugin content has a class name of 4097 characters"),
        ("csr", "plugin content has confusion encoding 'csr'"),
    ]:
        for route, params in [("confusion", {}), ("order", {"by": "cluster"}), ("report", {})]:
            status, message = get(client, route, run=run, name=NAME, **params)
            assert status == 404 and message.startswith(
                f"Not found: run {run!r} has tag 'perclass/confusion', but this version cannot "
                f"read its metadata: {problem}"
            ), message
    status, message = get(client, "curves", run="number_names", name=NAME)
    assert status == 404 and "class_names is not a list of strings" in message


def test_metadata_checks(monkeypatch):
    def content(**fields):
        base = {"version": 2, "kind": "stats", "task": "multiclass", "class_names": C3}
        return json.dumps({**base, **fields}).encode()

    monkeypatch.setattr(metadata, "MAX_CLASSES", 5)
    with pytest.raises(ValueError, match="6 class names; a summary has 1 to 5"):
        metadata.parse_plugin_content(content(class_names=list("abcdef")))
    for fields, problem in [
        ({"version": True}, "no valid version"),
        (
            {"kind": "samples", "max_samples": "256"},
            "max_samples='256'; a cap is a positive integer",
        ),
        ({"kind": "samples", "samples_per_cell": 0}, "samples_per_cell=0"),
    ]:
        with pytest.raises(ValueError, match=problem):
            metadata.parse_plugin_content(content(**fields))
    # Whatever the summary functions write still reads.
    for kind, extra in [
        ("stats", {}),
        ("confusion", {"encoding": "coo"}),
        ("samples", {"samples_per_cell": 8, "max_samples": 256}),
    ]:
        written = metadata.create_summary_metadata(
            kind=kind, task="binary", class_names=["negative", "positive"], loss="bce", **extra
        )
        parsed = metadata.parse_plugin_content(written.plugin_data.content)
        assert (parsed.kind, parsed.class_names) == (kind, ("negative", "positive"))


@pytest.mark.slow
@pytest.mark.parametrize("load_fast", [True, False], ids=["data-server", "python-loader"])
def test_both_loading_paths_skip_what_they_cannot_serve(hostile_logdir, load_fast):
    """What each loading path does with the damaged files, through a real `tensorboard`."""
    with TensorBoardProcess(hostile_logdir, load_fast=load_fast) as server:
        for run, route, params, steps in [
            ("stats_string", "curves", {}, [0, 2]),
            ("stats_bytes", "curves", {}, []),
            ("stats_values", "steps", {"kind": "stats"}, [0, 6, 9]),
            ("confusion_string", "report", {}, [0, 2]),
            ("coo", "confusion", {}, [0, 4]),
            ("samples", "sample_history", {"id": 7}, list(range(10))),
        ]:
            query = urllib.parse.urlencode({"run": run, "name": NAME, **params})
            answer = server.wait_for(
                f"{ROUTE_PREFIX}/{route}?{query}", lambda a, steps=steps: a["steps"] == steps
            )
            assert answer["skipped"], (run, route)
        status, _, _ = server.get(
            f"{ROUTE_PREFIX}/curves?run=stats_string&name={NAME}&format=binary"
        )
        assert status == 200
        status, body, _ = server.get(f"{ROUTE_PREFIX}/order?run=no_classes&name={NAME}&by=cluster")
        assert status == 404 and b"0 class names" in body
        history = server.get_json(f"{ROUTE_PREFIX}/sample_history?run=flipped&name={NAME}&id=7")
        if load_fast:
            # The data server serves the record whose CRC fails; its manifest is skipped and
            # the steps around it are kept.
            assert [h["step"] for h in history["history"]] == [0, 2]
            (skipped,) = history["skipped"]
            assert skipped["step"] == 1 and "not UTF-8 JSON" in skipped["reason"]
        else:
            # TensorBoard's Python loader stops reading the file at the damaged record.
            assert history["steps"] == [0] and history["skipped"] == []
        for status, body, _ in hostile_requests(server.get, 150):
            assert status < 500 and body, body[:300]
        assert "Traceback" not in server.log_text()


ROUTES = (
    "tags",
    "steps",
    "curves",
    "confusion",
    "pairs",
    "diff",
    "report",
    "order",
    "samples",
    "blob",
    "sample_history",
    "index.js",
    "nope",
)
PARAMETERS = (
    "run",
    "name",
    "kind",
    "step",
    "base_run",
    "base_step",
    "limit",
    "format",
    "by",
    "true",
    "pred",
    "label",
    "order",
    "index",
    "id",
    "v",
)
HOSTILE_VALUES = (
    "",
    "0",
    "1",
    "2",
    "9",
    "-1",
    "-7",
    "5000",
    "1.5",
    "1e3",
    " 3",
    "0x10",
    "NaN",
    "inf",
    "\u0661",
    str(2**63),
    str(-(2**63) - 1),
    "9" * 5000,
    "stats",
    "confusion",
    "samples",
    "pictures",
    "json",
    "csv",
    "binary",
    "cluster",
    "loss",
    "score",
    NAME,
    "good",
    "coo",
    "samples",
    "flipped",
    "stats_bytes",
    "../../etc/passwd",
    "good\x00",
    "<script>alert(1)</script>",
    "\u202e\u2603",
    "日本語",
    "\udcff",
    "%ff",
    "a" * 10000,
    "perclass/stats",
    "true",
)
RUNS = (
    "good",
    "stats_string",
    "stats_bytes",
    "stats_values",
    "confusion_string",
    "coo",
    "mismatch",
    "samples",
    "flipped",
    "no_classes",
    "csr",
    "number_names",
)


def hostile_requests(get_path, count, seed=0):
    """`count` requests of random routes with random hostile parameters (about two thirds on a
    real run and name, so that they reach the series), yielding get_path's answers."""
    rng = random.Random(seed)
    for _ in range(count):
        params = []
        if rng.random() < 0.7:
            params += [("run", rng.choice(RUNS)), ("name", NAME)]
        for parameter in rng.sample(PARAMETERS, rng.randint(0, 6)):
            params.append((parameter, rng.choice(HOSTILE_VALUES)))
        if rng.random() < 0.2:
            rng.shuffle(params)  # a hostile value may come before the real run and name
        query = urllib.parse.urlencode(params, errors="surrogatepass")
        if rng.random() < 0.05:
            query += "&step=%ff%fe&run=%c0%af"  # not UTF-8 once decoded
        yield get_path(f"{ROUTE_PREFIX}/{rng.choice(ROUTES)}?{query}")


def test_hostile_requests_never_get_a_500(client):
    """Thousands of requests with bad, missing, huge, unicode and out-of-range parameters
    against every route on real (good and damaged) event files: 4xx with a plain-text message,
    or 200."""

    def get_path(path):
        response = client.get(path)
        return response.status_code, response.get_data(), response.headers

    statuses = {}
    for status, body, headers in hostile_requests(get_path, 2500):
        statuses[status] = statuses.get(status, 0) + 1
        assert status in (200, 400, 404), (status, body[:300])
        if status != 200:
            assert headers["Content-Type"].startswith("text/plain") and body.strip(), body[:300]
            assert not body.lstrip().startswith(b"<"), body[:300]  # not an HTML error page
    assert statuses[200] > 200 and statuses[400] > 200 and statuses[404] > 200, statuses
