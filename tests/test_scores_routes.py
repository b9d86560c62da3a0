"""`PerClassWriter(scores=True)` end to end: the writer's arguments, what it writes, and what the
plugin serves from it (the scores route, AP/AUROC/ECE/top-k in curves and report), checked
against scikit-learn and torchmetrics on the same predictions; damaged scores summaries."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from tensorboard.util import tensor_util

from tb_perclass import PerClassWriter
from tb_perclass.format import decode, metadata, packed_arrays, score_bins, score_tensor
from tests import malformed
from tests.helpers import ROUTE_PREFIX, read_summaries, wsgi_client

CLASSES = ["cat", "dog", "bird", "fish", "frog", "deer", "ship"]
rng = np.random.default_rng(0)


def softmax(x):
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def multiclass_batches(steps=2, batches=3, size=64):
    data = []
    for _ in range(steps * batches):
        y = rng.integers(0, len(CLASSES), size)
        x = rng.normal(size=(size, len(CLASSES))).astype(np.float32) * 2
        x[np.arange(size), y] += rng.normal(1.5, 1.5, size).astype(np.float32)
        data.append((x, y))
    return [data[i * batches : (i + 1) * batches] for i in range(steps)]


def write_run(logdir, task, steps, **options):
    kwargs = {"class_names": CLASSES} if task == "multiclass" else {}
    if task == "multilabel":
        kwargs = {"num_classes": 4}
    with PerClassWriter(logdir, task=task, scores=True, **kwargs, **options) as writer:
        results = []
        for step, batches in enumerate(steps):
            for x, y in batches:
                writer.update(x, y)
            results.append(writer.write(step))
    return results


def get(client, route, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(f"{ROUTE_PREFIX}/{route}?{query}")
    return response.status_code, response.data


def get_json(client, route, **params):
    status, data = get(client, route, **params)
    assert status == 200, data
    return json.loads(data)


# --- the writer's arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"task": "regression", "bins": [0, 1], "scores": True}, "task='regression' has none"),
        ({"num_classes": 8, "top_k": 3}, "recorded with scores=True"),
        ({"task": "binary", "scores": True, "top_k": 1}, "this writer has task='binary'"),
        ({"num_classes": 5, "scores": True, "top_k": 5}, "every sample's class would be"),
        ({"num_classes": 8, "scores": True, "top_k": -1}, "pass a positive integer"),
        ({"num_classes": 8, "scores": "yes"}, "pass True to record"),
    ],
)
def test_score_arguments_are_checked_at_construction(tmp_path, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        PerClassWriter(str(tmp_path), **kwargs)


def test_top_k_defaults_to_5_above_5_classes_and_is_resolved_from_the_first_batch(tmp_path):
    with PerClassWriter(str(tmp_path / "a"), scores=True) as writer:  # class count from outputs
        writer.update(np.zeros((3, 6), np.float32), np.array([0, 1, 2]))
        stats = writer.write(0)
    assert stats.scores.top_k is not None
    with PerClassWriter(str(tmp_path / "b"), num_classes=5, scores=True) as writer:
        writer.update(np.zeros((3, 5), np.float32), np.array([0, 1, 2]))
        assert writer.write(0).scores.top_k is None  # every class is in the top 5 of 5
    (_, _, meta), *_ = read_summaries(str(tmp_path / "b"), metadata.KIND_SCORES)
    assert meta.extra["top_k"] == 0


# --- multiclass end to end ---------------------------------------------------------------------


def test_multiclass_scores_agree_with_scikit_learn_and_torchmetrics(tmp_path):
    import torch
    from torchmetrics.functional.classification import multiclass_calibration_error

    steps = multiclass_batches()
    logdir = str(tmp_path / "run")
    results = write_run(logdir, "multiclass", steps, top_k=3)
    x = np.concatenate([b[0] for b in steps[-1]])
    y = np.concatenate([b[1] for b in steps[-1]])
    p = softmax(x.astype(np.float64))
    truth = np.eye(len(CLASSES), dtype=bool)[y]

    written = read_summaries(logdir, metadata.KIND_SCORES)
    assert [step for step, _, _ in written] == [0, 1]
    _, tensor, meta = written[-1]
    assert meta.extra["form"] == "ranking" and meta.extra["top_k"] == 3
    columns = score_tensor.parse(tensor, rows=len(CLASSES), task="multiclass", top_k=3)
    ranked = columns.metrics
    for c in range(len(CLASSES)):
        auroc = roc_auc_score(truth[:, c], p[:, c])
        ap = average_precision_score(truth[:, c], p[:, c])
        assert abs(ranked.auroc[c] - auroc) <= ranked.auroc_bound[c] + 1e-9
        assert abs(ranked.average_precision[c] - ap) <= ranked.average_precision_bound[c] + 1e-9
    # What write() returns is what was written.
    np.testing.assert_allclose(results[-1].scores.auroc(), ranked.auroc)

    client = wsgi_client(str(tmp_path))
    curves = get_json(client, "curves", run="run", name="perclass")
    np.testing.assert_allclose(np.array(curves["auroc"][-1], float), ranked.auroc)
    np.testing.assert_allclose(np.array(curves["ap"][-1], float), ranked.average_precision)
    rank = (x > x[np.arange(len(y)), y][:, None]).sum(1)
    hits = np.bincount(y[rank < 3], minlength=len(CLASSES))
    expected = hits / np.bincount(y, minlength=len(CLASSES))
    np.testing.assert_allclose(np.array(curves["top_k_accuracy"][-1], float), expected)
    assert curves["top_k"] == 3

    answer = get_json(client, "scores", run="run", name="perclass", classes="0,2")
    assert answer["step"] == 1 and [d["class"] for d in answer["classes"]] == [0, 2]
    ece = multiclass_calibration_error(
        torch.from_numpy(p), torch.from_numpy(y), num_classes=len(CLASSES), n_bins=16, norm="l1"
    )
    assert answer["overall"]["ece"] == pytest.approx(float(ece), abs=1e-4)
    detail = answer["classes"][1]
    tp, fp = np.array(detail["tp"]), np.array(detail["fp"])
    assert detail["positives"] == truth[:, 2].sum() and tp[-1] == detail["positives"]
    for threshold, t, f in zip(detail["thresholds"][1:], tp[1:], fp[1:]):
        predicted = score_bins.bin_of(p[:, 2]) >= np.searchsorted(score_bins.edges(), threshold)
        assert (t, f) == ((predicted & truth[:, 2]).sum(), (predicted & ~truth[:, 2]).sum())
    signed = np.array(answer["table"]["signed_error"], float)
    assert answer["overconfident"] == sorted(answer["overconfident"], key=lambda c: -signed[c])
    assert all(signed[c] > 0 for c in answer["overconfident"])

    report = get_json(client, "report", run="run", name="perclass")
    np.testing.assert_allclose(np.array(report["scores"]["ap"], float), ranked.average_precision)
    assert report["scores"]["averages"]["ap"]["macro"] == pytest.approx(
        np.nanmean(ranked.average_precision)
    )
    status, data = get(client, "report", run="run", name="perclass", format="csv")
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0][-4:] == ["ap", "auroc", "ece", "top_k_accuracy"]
    assert float(rows[1][-3]) == pytest.approx(ranked.auroc[0], rel=1e-5)


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_threshold_counts_are_those_of_thresholding_the_probabilities(tmp_path, task):
    if task == "binary":
        y = rng.integers(0, 2, 300)
        x = (rng.normal(size=300) * 2 + 2 * y - 1).astype(np.float32)
    else:
        y = (rng.random((300, 4)) < 0.3).astype(np.int64)
        x = (rng.normal(size=(300, 4)) * 2 + 2 * y - 1).astype(np.float32)
    logdir = str(tmp_path / "run")
    write_run(logdir, task, [[(x[:150], y[:150]), (x[150:], y[150:])]])
    p = 1 / (1 + np.exp(-x.astype(np.float64)))
    p, y = p.reshape(300, -1), y.reshape(300, -1)
    client = wsgi_client(str(tmp_path))
    classes = "0,1" if task == "binary" else "0,3"
    answer = get_json(client, "scores", run="run", name="perclass", classes=classes)
    edges = score_bins.edges()
    for detail in answer["classes"]:
        c = detail["class"]
        # Binary: class 1 is the positive class (scores p), class 0 the negative one (1 - p).
        negative = task == "binary" and c == 0
        column = 0 if task == "binary" else c
        truth = (y[:, column] == 1) != negative
        score = 1 - p[:, column] if negative else p[:, column]
        assert detail["exact_thresholds"]
        bound = answer["table"]["auroc_bound"][c]
        assert abs(answer["table"]["auroc"][c] - roc_auc_score(truth, score)) <= bound + 1e-9
        tp, fp = np.array(detail["tp"]), np.array(detail["fp"])
        bins = score_bins.bin_of(p[:, column])
        for threshold, t, f in list(zip(detail["thresholds"], tp, fp))[1:]:
            # Every threshold is a bin edge: the counts are those of the binned scores above it
            # (for the negative class, of p below 1 - threshold).
            if negative:
                predicted = bins < np.argmin(np.abs(edges - (1 - threshold)))
            else:
                predicted = bins >= np.argmin(np.abs(edges - threshold))
            assert (t, f) == ((predicted & truth).sum(), (predicted & ~truth).sum())
        f1 = 2 * tp / (tp + fp + tp[-1])
        assert answer["table"]["best_f1"][c] == pytest.approx(f1.max())


# --- damaged summaries and bad requests ----------------------------------------------------------


def good_scores(class_names, task="multiclass", top_k=0, seed=0):
    local = np.random.default_rng(seed)
    rows = 1 if task == "binary" else len(class_names)
    shape = (rows, score_bins.NUM_BINS)
    pos = local.poisson(0.01, shape).astype(float)
    neg = local.poisson(0.2, shape).astype(float)
    extra = {}
    if task == "multiclass":
        extra["top"] = np.zeros((rows, score_bins.CALIBRATION_BINS, 3))
        if top_k:
            extra["top_k"] = pos.sum(1)
    else:
        extra["sums"] = (pos + neg) * score_bins.edges()[:-1]
    from tb_perclass.format import summary

    counts = score_tensor.ScoreCounts(pos, neg, **extra)
    return summary.scores_pb(
        malformed.NAME, counts, class_names=class_names, task=task, top_k=top_k
    )


def scores_tensor(values, dtype=np.int64):
    return tensor_util.make_tensor_proto(np.asarray(values, dtype=dtype))


def test_damaged_scores_steps_are_skipped_and_named(tmp_path):
    names = CLASSES[:3]
    fields = metadata.score_fields("multiclass", 0)
    good = good_scores(names)
    values = decode.scores(tensor_util.make_ndarray(good.value[0].tensor)).tolist()

    def record(**arrays):  # a version-4 step: the vector packed
        packed = packed_arrays.pack({k: np.asarray(v) for k, v in arrays.items()})
        return tensor_util.make_tensor_proto(np.array(packed, dtype=object))

    bad = {
        1: scores_tensor(values[:-1]),  # ends early
        2: scores_tensor(values + [0]),  # a value too many
        3: scores_tensor(np.asarray(values, float), dtype=np.float64),  # not integers
        4: scores_tensor([5000] + values[1:]),  # more stored bins than values
        6: record(columns=np.asarray(values[:-1], np.uint16)),  # packed, ends early
        7: record(counts=np.asarray(values, np.uint16)),  # packed, no `columns`
        8: tensor_util.make_tensor_proto(np.array(b"PCA1 not packed", dtype=object)),
    }
    steps = [(0, good)]
    for step, tensor in sorted(bad.items()):
        steps.append((step, malformed.with_tensor("scores", names, tensor, **fields)))
    steps.insert(5, (5, good_scores(names, seed=1)))
    # version 3 wrote the same vector as int64 varints: still read
    steps.append((9, malformed.with_tensor("scores", names, scores_tensor(values), **fields)))
    malformed.write_events(str(tmp_path / "run"), steps)
    client = wsgi_client(str(tmp_path))
    answer = get_json(client, "scores", run="run", name="perclass")
    assert answer["steps"] == [0, 5, 9]
    assert sorted(s["step"] for s in answer["skipped"]) == [1, 2, 3, 4, 6, 7, 8]
    reasons = {s["step"]: s["reason"] for s in answer["skipped"]}
    assert "ends early" in reasons[6] and "'columns'" in reasons[7]
    assert "scores record cannot be read" in reasons[8]
    at_nine = get_json(client, "scores", run="run", name="perclass", step=9)
    assert (
        at_nine["table"] == get_json(client, "scores", run="run", name="perclass", step=0)["table"]
    )
    assert all(s["kind"] == "scores" for s in answer["skipped"])
    status, data = get(client, "scores", run="run", name="perclass", step=3)
    assert status == 404 and b"skipped" in data


def test_scores_written_by_another_binning_are_refused_by_tag(tmp_path):
    names = CLASSES[:3]
    fields = dict(metadata.score_fields("multiclass", 0), bins={"family": "uniform", "count": 100})
    summary = malformed.with_tensor("scores", names, scores_tensor([0, 0, 0, 0, 0, 0, 0]), **fields)
    malformed.write_events(str(tmp_path / "run"), [(0, summary)])
    client = wsgi_client(str(tmp_path))
    status, data = get(client, "scores", run="run", name="perclass")
    assert status == 404 and b"upgrade tb-perclass" in data


@pytest.mark.parametrize(
    "params,status,message",
    [
        ({"classes": "0,x"}, 400, b"class indices"),
        ({"classes": "9"}, 400, b"has 3 classes"),
        ({"classes": ",".join(["0"] * 65)}, 400, b"at most 64"),
        ({"step": "7"}, 404, b"no score histograms at step 7"),
        ({"name": "other"}, 404, b"no per-class scores data"),
    ],
)
def test_bad_scores_requests_are_told_what_is_wrong(tmp_path, params, status, message):
    malformed.write_events(str(tmp_path / "run"), [(0, good_scores(CLASSES[:3]))])
    client = wsgi_client(str(tmp_path))
    query = {"run": "run", "name": "perclass", **params}
    got, data = get(client, "scores", **query)
    assert got == status and message in data


# --- what the plugin's cache counts for a scores series -------------------------------------


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_the_cache_counts_what_a_scores_series_holds(tmp_path, task):
    """A decoded scores series reports the bytes it keeps alive (its steps' tensors, which the
    columns are views of, the dense reliability tables, the per-class series over the steps), so
    the byte-bounded cache holds what its budget says: within 5% + 64 KiB of what tracemalloc
    sees the series allocate, before and after the routes used every step."""
    import gc
    import tracemalloc
    import types

    from tb_perclass.plugin.byte_cache import ByteBudgetCache
    from tb_perclass.plugin.series import ScoresSeries

    classes, rng = 300, np.random.default_rng(0)
    with PerClassWriter(tmp_path, num_classes=classes, task=task, scores=True) as writer:
        for step in range(6):
            x = rng.normal(size=(800, classes)).astype(np.float32)
            if task == "multiclass":
                y = rng.integers(0, classes, 800)
                x[np.arange(800), y] += 4 * rng.random(800)
            else:
                y = (rng.random((800, classes)) < 0.1).astype(np.int64)
                x += 2 * y
            writer.update(x, y)
            writer.write(step)
    written = read_summaries(str(tmp_path), kind="scores")
    meta = written[0][2]

    def points():
        return [
            types.SimpleNamespace(step=step, wall_time=1.0 + step, numpy=array.copy())
            for step, array, _ in written
        ]

    ScoresSeries.decode(meta, points())  # first-use imports and caches out of the measure
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        series = ScoresSeries.decode(meta, points())  # the points go once decoded
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        cache = ByteBudgetCache(2**30)
        cache.put("scores", 1, series)
        assert abs(cache.nbytes - held) <= 0.05 * held + 2**16, (cache.nbytes, held)
        for position in range(len(series.steps)):  # what the scores route reads of a step
            series.per_class(position)
            series.columns[position].calibration()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        assert series.nbytes == cache.nbytes  # nothing grew behind the cache's back
        assert abs(cache.nbytes - held) <= 0.05 * held + 2**16, (cache.nbytes, held)
    finally:
        tracemalloc.stop()
