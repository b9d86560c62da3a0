"""The confusion, pairs, diff, report and order routes over real event files, in process; the
report against scikit-learn on the same predictions."""

from __future__ import annotations

import json
import os
import urllib.parse

import numpy as np
import pytest

from tb_perclass import PerClassWriter
from tb_perclass.plugin import report
from tests.helpers import ROUTE_PREFIX, read_summaries, wsgi_client

CLASSES = ["cat", "dog", "bird", "=cmd|' /C calc'!A0", "frog"]  # absent class 4, formula name


def get(client, route, **params):
    response = client.get(f"{ROUTE_PREFIX}/{route}?{urllib.parse.urlencode(params)}")
    body = response.get_data()
    is_json = response.headers["Content-Type"].startswith("application/json")
    return response.status_code, (json.loads(body) if is_json else body.decode()), response.headers


def write_predictions(run_dir, steps, class_names=CLASSES, seed=0, **writer_kwargs):
    """Writes per step one batch whose predictions are known; returns (targets, predicted)."""
    rng = np.random.default_rng(seed)
    num_classes = len(class_names)
    history = []
    with PerClassWriter(run_dir, class_names=class_names, **writer_kwargs) as writer:
        for step in range(steps):
            targets = rng.integers(0, num_classes - 1, size=60)  # the last class never occurs
            predicted = np.where(rng.random(60) < 0.6, targets, rng.integers(0, num_classes, 60))
            predicted[targets == 2] = 1  # class 2 is never predicted right: recall 0
            predicted[predicted == 3] = 0  # class 3 is never predicted: precision undefined
            logits = np.zeros((60, num_classes), dtype=np.float32)
            logits[np.arange(60), predicted] = 5.0
            writer.update(logits, targets)
            writer.write(step)
            history.append((targets, predicted))
    return history


@pytest.fixture
def runs(logdir):
    return {
        "train": write_predictions(os.path.join(logdir, "train"), 4, seed=1),
        "validation": write_predictions(os.path.join(logdir, "validation"), 4, seed=2),
    }


def test_confusion_at_the_latest_and_at_a_given_step(logdir, runs):
    from sklearn.metrics import confusion_matrix

    client = wsgi_client(logdir)
    status, body, _ = get(client, "confusion", run="train", name="perclass")
    assert status == 200 and body["step"] == 3 and body["steps"] == [0, 1, 2, 3]
    assert body["encoding"] == "dense" and body["class_names"] == CLASSES
    targets, predicted = runs["train"][3]
    np.testing.assert_array_equal(
        body["matrix"], confusion_matrix(targets, predicted, labels=range(5))
    )
    assert body["total"] == 60
    status, body, _ = get(client, "confusion", run="train", name="perclass", step=1)
    targets, predicted = runs["train"][1]
    np.testing.assert_array_equal(
        body["matrix"], confusion_matrix(targets, predicted, labels=range(5))
    )


def test_steps_of_one_kind(logdir, runs):
    client = wsgi_client(logdir)
    status, body, _ = get(client, "steps", run="train", name="perclass", kind="confusion")
    assert status == 200 and body == {"steps": [0, 1, 2, 3], "skipped": []}
    status, body, _ = get(client, "steps", run="train", name="perclass", kind="pictures")
    assert status == 400 and "kind='pictures'" in body
    status, body, _ = get(client, "steps", run="train", name="perclass", kind="samples")
    assert status == 404 and "no per-class samples data" in body


def test_sparse_confusion_for_many_classes(logdir):
    names = [f"c{i}" for i in range(100)]
    run_dir = os.path.join(logdir, "big")
    rng = np.random.default_rng(3)
    with PerClassWriter(run_dir, class_names=names) as writer:
        writer.update(rng.normal(size=(400, 100)).astype(np.float32), rng.integers(0, 100, 400))
        stats = writer.write(7)
    status, body, _ = get(wsgi_client(logdir), "confusion", run="big", name="perclass")
    assert status == 200 and body["encoding"] == "sparse" and body["step"] == 7
    rebuilt = np.zeros((100, 100), dtype=np.int64)
    rebuilt[body["rows"], body["cols"]] = body["counts"]
    np.testing.assert_array_equal(rebuilt, stats.confusion)


def test_multilabel_confusion_and_report(logdir):
    from sklearn.metrics import (
        hamming_loss,
        multilabel_confusion_matrix,
        precision_recall_fscore_support,
    )

    rng = np.random.default_rng(4)
    logits = rng.normal(size=(40, 3)).astype(np.float32)
    targets = (rng.random((40, 3)) < 0.4).astype(np.int64)
    targets[:, 2] = 0  # label 2 never positive: recall undefined
    with PerClassWriter(os.path.join(logdir, "ml"), ["a", "b", "c"], task="multilabel") as writer:
        writer.update(logits, targets)
        writer.write(0)
    client = wsgi_client(logdir)
    predicted = (logits > 0).astype(int)
    status, body, _ = get(client, "confusion", run="ml", name="perclass")
    assert status == 200 and body["task"] == "multilabel"
    np.testing.assert_array_equal(body["matrices"], multilabel_confusion_matrix(targets, predicted))
    status, body, _ = get(client, "report", run="ml", name="perclass")
    expected = precision_recall_fscore_support(targets, predicted, zero_division=np.nan)
    for key, values in zip(("precision", "recall", "f1", "support"), expected):
        np.testing.assert_allclose(np.array(body[key], dtype=float), values, equal_nan=True)
    # each sample counted once (the support counts positives per label); the accuracy is per
    # yes/no decision, 1 - Hamming loss
    assert body["samples"] == 40 and body["macro"]["support"] == int(targets.sum())
    assert body["accuracy"] == pytest.approx(1 - hamming_loss(targets, predicted))
    status, text, headers = get(client, "report", run="ml", name="perclass", format="csv")
    last = text.splitlines()[-1].split(",")
    assert last[0] == "label accuracy" and float(last[3]) == pytest.approx(body["accuracy"], 1e-5)
    assert last[4] == "40"


def test_report_equals_sklearn_including_zero_division(logdir, runs):
    from sklearn.metrics import precision_recall_fscore_support

    client = wsgi_client(logdir)
    for step in (0, 3):
        status, body, _ = get(client, "report", run="validation", name="perclass", step=step)
        assert status == 200 and body["step"] == step
        targets, predicted = runs["validation"][step]
        labels = range(len(CLASSES))
        expected = precision_recall_fscore_support(
            targets, predicted, labels=labels, zero_division=np.nan
        )
        for key, values in zip(("precision", "recall", "f1", "support"), expected):
            np.testing.assert_allclose(np.array(body[key], dtype=float), values, equal_nan=True)
        assert body["precision"][3] is None and body["recall"][4] is None  # JSON null
        for average in ("macro", "weighted"):
            p, r, f, _ = precision_recall_fscore_support(
                targets, predicted, labels=labels, average=average, zero_division=np.nan
            )
            np.testing.assert_allclose(
                [body[average]["precision"], body[average]["recall"], body[average]["f1"]],
                [p, r, f],
            )
        assert body["accuracy"] == pytest.approx((targets == predicted).mean())
        assert body["samples"] == len(targets)
        written = {s: m for s, m, _ in read_summaries(os.path.join(logdir, "validation"))}
        np.testing.assert_allclose(
            np.array(body["loss"], dtype=float), written[step][0, : len(CLASSES)], equal_nan=True
        )


def test_report_as_csv(logdir, runs):
    status, text, headers = get(
        wsgi_client(logdir), "report", run="train", name="perclass", step=2, format="csv"
    )
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    # the file says what it is: run, name and step
    assert 'filename="report_train_perclass_step2.csv"' in headers["Content-Disposition"]
    lines = text.splitlines()
    assert lines[0] == "class,precision,recall,f1,support,loss"
    assert lines[4].startswith("'=cmd|")  # a formula-like class name is defused
    assert lines[-3].startswith("macro avg,") and lines[-2].startswith("weighted avg,")
    # the accuracy, as scikit-learn's report lays it out: in the f1 column, the samples as support
    targets, predicted = runs["train"][2]
    accuracy = lines[-1].split(",")
    assert accuracy[:3] == ["accuracy", "", ""] and accuracy[5] == ""
    assert float(accuracy[3]) == pytest.approx((targets == predicted).mean(), 1e-5)
    assert int(accuracy[4]) == len(targets)
    assert len(lines) == 1 + len(CLASSES) + 3
    # a run name with characters a file system refuses
    assert report.csv_filename("a b/c:d", "head/x", 3) == "report_a_b_c_d_head_x_step3.csv"


def test_pairs_and_their_history(logdir, runs):
    from sklearn.metrics import confusion_matrix

    status, body, _ = get(wsgi_client(logdir), "pairs", run="train", name="perclass", limit=3)
    assert status == 200 and body["step"] == 3 and len(body["pairs"]) == 3
    matrices = [confusion_matrix(t, p, labels=range(5)) for t, p in runs["train"]]
    last = matrices[-1].copy()
    np.fill_diagonal(last, 0)
    counts = [pair["count"] for pair in body["pairs"]]
    assert counts == sorted(last.ravel(), reverse=True)[:3]
    for pair in body["pairs"]:
        assert pair["true"] != pair["pred"]
        assert pair["history"] == [int(m[pair["true"], pair["pred"]]) for m in matrices]


def test_diff_of_two_steps_and_of_two_runs(logdir, runs):
    from sklearn.metrics import confusion_matrix

    client = wsgi_client(logdir)
    status, body, _ = get(
        client, "diff", run="train", name="perclass", step=3, base_run="train", base_step=0
    )
    assert status == 200 and (body["step"], body["base_step"]) == (3, 0)
    after = confusion_matrix(*runs["train"][3], labels=range(5))
    before = confusion_matrix(*runs["train"][0], labels=range(5))
    rebuilt = np.zeros((5, 5), dtype=np.int64)
    rebuilt[body["rows"], body["cols"]] = body["deltas"]
    np.testing.assert_array_equal(rebuilt, after - before)
    deltas = [abs(c["delta"]) for c in body["changes"]]
    assert deltas == sorted(deltas, reverse=True) and deltas[0] == np.abs(after - before).max()
    status, body, _ = get(
        client, "diff", run="validation", name="perclass", base_run="train"
    )  # latest steps of both runs
    assert status == 200 and body["base_run"] == "train" and body["step"] == 3


def test_diff_refuses_runs_with_other_classes(logdir, runs):
    write_predictions(os.path.join(logdir, "other"), 1, class_names=["cat", "dog", "owl", "x", "y"])
    write_predictions(os.path.join(logdir, "small"), 1, class_names=["cat", "dog", "owl"])
    client = wsgi_client(logdir)
    status, body, _ = get(client, "diff", run="other", name="perclass", base_run="train")
    assert status == 400
    assert "different classes (class 2 is 'owl' in one and 'bird' in the other)" in body
    status, body, _ = get(client, "diff", run="small", name="perclass", base_run="train")
    assert status == 400 and "3 classes against 5" in body


def test_diff_of_two_names_with_the_same_classes(logdir):
    """Two series of one run (e.g. name='train' and name='validation' on one SummaryWriter):
    base_name picks the other one (by default the same name)."""
    run_dir = os.path.join(logdir, "one")
    train = write_predictions(run_dir, 2, seed=1, name="train")
    validation = write_predictions(run_dir, 2, seed=2, name="validation")
    write_predictions(run_dir, 1, class_names=["a", "b"], name="other")
    from sklearn.metrics import confusion_matrix

    client = wsgi_client(logdir)
    status, body, _ = get(
        client, "diff", run="one", name="train", base_run="one", base_name="validation", base_step=0
    )
    assert status == 200 and (body["step"], body["base_step"]) == (1, 0)
    assert body["base_name"] == "validation" and body["base_run"] == "one"
    rebuilt = np.zeros((5, 5), dtype=np.int64)
    rebuilt[body["rows"], body["cols"]] = body["deltas"]
    after = confusion_matrix(*train[1], labels=range(5))
    np.testing.assert_array_equal(
        rebuilt, after - confusion_matrix(*validation[0], labels=range(5))
    )
    status, body, _ = get(
        client, "diff", run="one", name="train", base_run="one", step=1, base_step=0
    )
    assert status == 200 and body["base_name"] == "train"
    status, body, _ = get(
        client, "diff", run="one", name="train", base_run="one", base_name="other"
    )
    assert status == 400
    assert "run 'one' name 'train' and run 'one' name 'other' have different classes" in body
    status, body, _ = get(client, "diff", run="one", name="train", base_run="one", base_name="nope")
    assert status == 404 and "name 'nope'" in body


def test_clustered_order_puts_confused_classes_together(logdir):
    names = [f"c{i}" for i in range(8)]
    confused = {0: 5, 5: 0, 1: 7, 7: 1, 2: 6, 6: 2}  # three pairs that the model mixes up
    targets = np.repeat(np.arange(8), 10)
    predicted = targets.copy()
    for i in range(len(targets)):
        if i % 10 < 4 and targets[i] in confused:
            predicted[i] = confused[targets[i]]
    logits = np.zeros((80, 8), dtype=np.float32)
    logits[np.arange(80), predicted] = 3.0
    with PerClassWriter(os.path.join(logdir, "run"), class_names=names) as writer:
        writer.update(logits, targets)
        writer.write(0)
    status, body, _ = get(wsgi_client(logdir), "order", run="run", name="perclass", by="cluster")
    assert status == 200 and sorted(body["order"]) == list(range(8))
    position = {c: i for i, c in enumerate(body["order"])}
    for a, b in ((0, 5), (1, 7), (2, 6)):
        assert abs(position[a] - position[b]) == 1, body["order"]


def test_curves_carry_true_and_false_positives(logdir, runs):
    from sklearn.metrics import confusion_matrix

    status, body, _ = get(wsgi_client(logdir), "curves", run="train", name="perclass")
    for step, (targets, predicted) in enumerate(runs["train"]):
        matrix = confusion_matrix(targets, predicted, labels=range(5))
        tp = np.diag(matrix)
        assert body["tp"][step] == tp.tolist()
        assert body["fp"][step] == (matrix.sum(axis=0) - tp).tolist()
        assert body["fn"][step] == (matrix.sum(axis=1) - tp).tolist()


BAD_REQUESTS = [
    (
        "confusion",
        {"run": "train", "name": "perclass", "step": "9"},
        404,
        "run 'train' has no confusion matrix at step 9; it has 4 steps from 0 to 3",
    ),
    (
        "confusion",
        {"run": "train", "name": "perclass", "step": "last"},
        400,
        "step='last' is not an integer",
    ),
    ("confusion", {"run": "train"}, 400, "missing query parameter 'name'"),
    ("pairs", {"run": "train", "name": "perclass", "limit": "0"}, 400, "limit=0; use 1 to 1000"),
    ("diff", {"run": "train", "name": "perclass"}, 400, "missing query parameter 'base_run'"),
    ("diff", {"run": "train", "name": "perclass", "base_run": "nope"}, 404, "run 'nope'"),
    ("report", {"run": "train", "name": "perclass", "format": "xml"}, 400, "use json or csv"),
    (
        "report",
        {"run": "train", "name": "perclass", "step": "-1"},
        404,
        "no per-class counts at step -1",
    ),
    ("order", {"run": "train", "name": "perclass", "by": "name"}, 400, "by must be 'cluster'"),
]


@pytest.mark.parametrize("route,params,code,message", BAD_REQUESTS)
def test_bad_requests_answer_with_a_message(logdir, runs, route, params, code, message):
    status, body, headers = get(wsgi_client(logdir), route, **params)
    assert status == code and message in body, body
    assert headers["Content-Type"].startswith("text/plain")


def test_multilabel_runs_have_no_pairs_and_confusion_needs_confusion(logdir):
    with PerClassWriter(os.path.join(logdir, "ml"), ["a", "b"], task="multilabel") as writer:
        writer.update(np.zeros((2, 2), np.float32), np.ones((2, 2), int))
        writer.write(0)
    with PerClassWriter(os.path.join(logdir, "plain"), ["a", "b"], confusion=False) as writer:
        writer.update(np.zeros((2, 2), np.float32), np.ones(2, int))
        writer.write(0)
    client = wsgi_client(logdir)
    status, body, _ = get(client, "pairs", run="ml", name="perclass")
    assert status == 400 and "multiclass and binary" in body
    status, body, _ = get(client, "confusion", run="plain", name="perclass")
    assert status == 404 and "no per-class confusion data" in body


def test_a_step_without_a_matrix_confusion_every(logdir):
    """A writer with confusion_every=3 leaves the matrix out of most steps: the report is
    exact there (TP/FP/FN travel with the stats), the confusion route answers 404 for the exact
    step and, with nearest=earlier (what the tab asks), the latest matrix before it."""
    from sklearn.metrics import precision_recall_fscore_support

    run_dir = os.path.join(logdir, "train")
    history = write_predictions(run_dir, 8, confusion_every=3)
    client = wsgi_client(logdir)
    status, body, _ = get(client, "steps", run="train", name="perclass", kind="confusion")
    assert body["steps"] == [0, 3, 6, 7]  # the first, every 3rd write, the last at close
    status, body, _ = get(client, "confusion", run="train", name="perclass", step=5)
    assert status == 404 and "at step 5" in body
    status, body, _ = get(
        client, "confusion", run="train", name="perclass", step=5, nearest="earlier"
    )
    assert status == 200 and body["step"] == 3 and body["requested_step"] == 5
    from sklearn.metrics import confusion_matrix

    targets, predicted = history[3]
    np.testing.assert_array_equal(
        body["matrix"], confusion_matrix(targets, predicted, labels=range(5))
    )
    status, body, _ = get(
        client, "confusion", run="train", name="perclass", step=6, nearest="earlier"
    )
    assert status == 200 and body["step"] == 6 and body["requested_step"] == 6
    status, body, _ = get(client, "confusion", run="train", name="perclass", step=5, nearest="x")
    assert status == 400 and "nearest='x'" in body
    # the report at a step without a matrix: from that step's own counts
    status, body, _ = get(client, "report", run="train", name="perclass", step=5)
    assert status == 200 and body["step"] == 5
    targets, predicted = history[5]
    precision, recall, f1, support = precision_recall_fscore_support(
        targets, predicted, labels=range(5), zero_division=np.nan
    )

    def floats(values):
        return np.array([np.nan if v is None else v for v in values])

    np.testing.assert_allclose(floats(body["recall"]), recall, equal_nan=True)
    np.testing.assert_allclose(floats(body["f1"]), f1, equal_nan=True)
    assert body["support"] == support.tolist()
    # pairs at a step without a matrix: 404 naming the step; at one with, its history
    status, body, _ = get(client, "pairs", run="train", name="perclass", step=5)
    assert status == 404 and "at step 5" in body
    status, body, _ = get(client, "pairs", run="train", name="perclass", step=3)
    assert status == 200 and body["history_steps"] == [0, 3, 6, 7]
    # the curves: TP/FP/FN at every step
    status, body, _ = get(client, "curves", run="train", name="perclass")
    assert body["steps"] == list(range(8)) and all(row is not None for row in body["tp"])
