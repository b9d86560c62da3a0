"""Score histograms: bins, state updates in every library, metrics against scikit-learn and
torchmetrics, and the compact `scores` tensor."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from tb_perclass.format import score_bins, score_metrics, score_tensor
from tb_perclass.logger import arrays, score_state, spec, tasks

LIBRARIES = ("numpy", "torch", "tensorflow")
TOP_K = 3


def _to_library(library: str, *arrays_: np.ndarray):
    if library == "torch":
        import torch

        return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays_)
    if library == "tensorflow":
        import tensorflow as tf

        return tuple(tf.constant(a) for a in arrays_)
    return arrays_


def _task_data(task: str, classes: int, samples: int, rng: np.random.Generator):
    """Scores with every kind of overlap between positives and negatives."""
    if task == "multiclass":
        y = rng.integers(0, classes, samples)
        x = rng.normal(size=(samples, classes)) * rng.choice([0.05, 1.0, 4.0], (samples, 1))
        x[np.arange(samples), y] += rng.normal(2.0, 2.0, samples)
        return x.astype(np.float32), y
    if task == "binary":
        y = rng.integers(0, 2, samples)
        return (rng.normal(size=samples) * 3 + 2 * y - 1).astype(np.float32), y
    y = (rng.random((samples, classes)) < np.geomspace(0.05, 0.5, classes)).astype(np.int64)
    return (rng.normal(size=(samples, classes)) * 2 + 2 * y - 2).astype(np.float32), y


def _spec(task: str, classes: int, **options):
    count = None if task == "binary" else classes
    top_k = options.pop("top_k", TOP_K if task == "multiclass" else None)
    return spec.task_spec(task=task, num_classes=count, scores=True, top_k=top_k, **options)


def _accumulate(library: str, task: str, classes: int, chunks, spec_kwargs=None):
    task_spec = _spec(task, classes, **(spec_kwargs or {}))
    state = ops = None
    for x, y in chunks:
        ops, _, x, y, _ = arrays.as_batch(*_to_library(library, x, y))
        batch = tasks.format_batch(ops, x, y, None, task_spec)
        if state is None:
            state = score_state.new(ops, task_spec, like=x)
        state = score_state.update(ops, state, x, batch, task_spec)
    return score_state.read(ops, state, task_spec)


def _probabilities(task: str, x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    if task == "multiclass":
        e = np.exp(x - x.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
    p = 1 / (1 + np.exp(-x))
    return p[:, None] if task == "binary" else p


def _one_vs_rest(task: str, y: np.ndarray, classes: int) -> np.ndarray:
    if task == "multiclass":
        return np.eye(classes, dtype=bool)[y]
    return (y[:, None] if task == "binary" else y).astype(bool)


# --- bins --------------------------------------------------------------------------------


def test_bins_cover_zero_to_one_ascending_with_calibration_edges():
    edges = score_bins.edges()
    assert len(edges) == score_bins.NUM_BINS + 1
    assert edges[0] == 0.0 and edges[-1] == 1.0 and np.all(np.diff(edges) > 0)
    for k in range(score_bins.CALIBRATION_BINS + 1):
        assert k / score_bins.CALIBRATION_BINS in set(edges.tolist())
    assert np.array_equal(
        np.bincount(score_bins.calibration_bin_of_bin()) > 0,
        np.ones(score_bins.CALIBRATION_BINS, bool),
    )


def test_every_probability_lies_in_its_bin():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.random(20000) ** 8, 1 - rng.random(20000) ** 8, [0, 0.5, 1]])
    p32 = p.astype(np.float32).astype(np.float64)
    b = score_bins.bin_of(p)
    edges = score_bins.edges()
    assert np.all((edges[b] <= p32) & (p32 <= edges[b + 1]))
    assert np.array_equal(np.sort(b[np.argsort(p32)]), b[np.argsort(p32)])  # monotone


# --- metrics from histograms ---------------------------------------------------------------


def _histograms(p: np.ndarray, y: np.ndarray):
    b = score_bins.bin_of(p)
    return (
        np.bincount(b[y], minlength=score_bins.NUM_BINS),
        np.bincount(b[~y], minlength=score_bins.NUM_BINS),
    )


@pytest.mark.parametrize("seed", range(6))
def test_auroc_and_average_precision_within_their_bounds_of_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    y = rng.random(n) < 0.2
    # Scores crowded into few bins (near 1/2), spread (tails), and exact ties.
    spread = [0.002, 1.0, 6.0][seed % 3]
    p = 1 / (1 + np.exp(-(rng.normal(size=n) * spread + y * spread)))
    if seed >= 3:
        p = np.round(p, 2)
    p = p.astype(np.float32).astype(np.float64)
    pos, neg = _histograms(p, y)
    auroc, ap = score_metrics.auroc(pos, neg), score_metrics.average_precision(pos, neg)
    assert abs(auroc - roc_auc_score(y, p)) <= score_metrics.auroc_bound(pos, neg) + 1e-12
    assert abs(ap - average_precision_score(y, p)) <= (
        score_metrics.average_precision_bound(pos, neg) + 1e-12
    )


def test_metrics_are_exact_without_ties_inside_bins():
    edges = score_bins.edges()
    centres = ((edges[:-1] + edges[1:]) / 2).astype(np.float32).astype(np.float64)
    # Next to 1 some bins are narrower than float32's step: keep the centres that stay inside.
    reachable = np.flatnonzero(score_bins.bin_of(centres) == np.arange(score_bins.NUM_BINS))
    rng = np.random.default_rng(1)
    bins = rng.choice(reachable, 300, replace=False)
    y = rng.random(300) < 0.4
    p = centres[bins]
    pos, neg = _histograms(p, y)
    assert score_metrics.auroc_bound(pos, neg) == 0
    assert score_metrics.average_precision_bound(pos, neg) == 0
    assert score_metrics.auroc(pos, neg) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert score_metrics.average_precision(pos, neg) == pytest.approx(
        average_precision_score(y, p), abs=1e-12
    )


def test_sweep_counts_match_thresholding_the_scores_at_bin_edges():
    rng = np.random.default_rng(2)
    p = rng.random(500) ** 3
    y = rng.random(500) < p
    pos, neg = _histograms(p, y)
    edges = score_bins.edges()
    counts = score_metrics.sweep(pos, neg, edges)
    bins = score_bins.bin_of(p)
    for i in (0, 1, 7, 400, score_bins.NUM_BINS - 3, score_bins.NUM_BINS):
        lowest = score_bins.NUM_BINS - i  # bins >= lowest predicted positive
        predicted = bins >= lowest
        assert counts.tp[i] == (predicted & y).sum()
        assert counts.fp[i] == (predicted & ~y).sum()
        assert counts.fn[i] == (~predicted & y).sum()
        assert counts.tn[i] == (~predicted & ~y).sum()
        if i:
            assert counts.thresholds[i] == edges[lowest]
    f1, threshold = score_metrics.best_f1(pos, neg, edges)
    brute = max(
        (2 * (m & y).sum() / (m.sum() + y.sum()), -t)
        for t in edges[:-1]
        for m in [bins >= np.searchsorted(edges, t)]
    )
    assert f1 == pytest.approx(brute[0]) and threshold == pytest.approx(-brute[1])


def test_ranking_form_keeps_curves_and_metrics():
    rng = np.random.default_rng(3)
    shape = (6, score_bins.NUM_BINS)
    pos = rng.poisson(0.01, shape).astype(float)
    neg = rng.poisson(2.0, shape).astype(float)
    pos[0] = 0  # a class without positives
    top = np.zeros((6, score_bins.CALIBRATION_BINS, 3))
    counts = score_tensor.ScoreCounts(pos, neg, top=top)
    encoded = score_tensor.encode(counts, rows=6, task="multiclass")
    decoded = score_tensor.parse(encoded, rows=6, task="multiclass").counts()
    for metric in (
        score_metrics.auroc,
        score_metrics.auroc_bound,
        score_metrics.average_precision,
        score_metrics.average_precision_bound,
    ):
        np.testing.assert_allclose(metric(decoded.positives, decoded.negatives), metric(pos, neg))
    full = score_metrics.sweep(pos, neg, score_bins.edges())
    kept = score_metrics.sweep(decoded.positives, decoded.negatives, score_bins.edges())
    # Every ROC / PR vertex (where TP changes) is kept with exact counts.
    changes = np.diff(full.tp, axis=1) > 0
    for row in range(6):
        at = np.flatnonzero(changes[row]) + 1
        np.testing.assert_array_equal(kept.fp[row, at], full.fp[row, at])
        np.testing.assert_array_equal(kept.fp[row, at - 1], full.fp[row, at - 1])
    assert len(encoded) < 0.2 * np.count_nonzero(pos + neg) * 3


def test_parse_refuses_malformed_tensors():
    pos = np.zeros((2, score_bins.NUM_BINS))
    pos[1, 5] = 1
    counts = score_tensor.ScoreCounts(pos, pos * 3, sums=pos * 0.6)
    good = score_tensor.encode(counts, rows=2, task="multilabel")
    score_tensor.parse(good, rows=2, task="multilabel")
    for bad in (
        good[:-1],
        np.r_[good, 0],
        np.r_[-1, good[1:]],
        np.r_[good[:2], 5000, good[3:]],
        np.r_[good[:-1], 10**6],
        good.astype(float),
    ):
        with pytest.raises(ValueError):
            score_tensor.parse(bad, rows=2, task="multilabel")


# --- state updates, every library --------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("task,classes", [("multiclass", 12), ("binary", 2), ("multilabel", 6)])
def test_state_gives_scikit_learn_metrics_within_bounds(library, task, classes):
    rng = np.random.default_rng(4)
    chunks = [_task_data(task, classes, 97, rng) for _ in range(4)]
    counts = _accumulate(library, task, classes, chunks)
    x = np.concatenate([c[0] for c in chunks])
    y = np.concatenate([c[1] for c in chunks])
    p, truth = _probabilities(task, x), _one_vs_rest(task, y, classes)
    auroc = score_metrics.auroc(counts.positives, counts.negatives)
    ap = score_metrics.average_precision(counts.positives, counts.negatives)
    auroc_bound = score_metrics.auroc_bound(counts.positives, counts.negatives)
    ap_bound = score_metrics.average_precision_bound(counts.positives, counts.negatives)
    for c in range(truth.shape[1]):
        assert counts.positives[c].sum() == truth[:, c].sum()
        assert counts.negatives[c].sum() == (~truth[:, c]).sum()
        assert abs(auroc[c] - roc_auc_score(truth[:, c], p[:, c])) <= auroc_bound[c] + 1e-9
        assert abs(ap[c] - average_precision_score(truth[:, c], p[:, c])) <= ap_bound[c] + 1e-9
        assert auroc_bound[c] < 0.02 and ap_bound[c] < 0.05  # the bins are fine enough here


@pytest.mark.parametrize("library", LIBRARIES)
def test_histograms_are_the_reference_binning(library):
    rng = np.random.default_rng(5)
    x, y = _task_data("multiclass", 9, 300, rng)
    counts = _accumulate(library, "multiclass", 9, [(x, y)])
    p32 = _probabilities("multiclass", x).astype(np.float32)  # float32 softmax may round
    bins = score_bins.bin_of(p32)
    truth = _one_vs_rest("multiclass", y, 9)
    expected = np.zeros((9, score_bins.NUM_BINS))
    np.add.at(expected, (np.nonzero(truth)[1], bins[truth]), 1)
    mismatch = np.abs(counts.positives - expected).sum()
    assert mismatch <= 2  # float32 softmax of another library may land one score next door


@pytest.mark.parametrize("library", LIBRARIES)
def test_top_k_and_top_label_reliability(library):
    import torch
    from torchmetrics.functional.classification import multiclass_calibration_error

    rng = np.random.default_rng(6)
    x, y = _task_data("multiclass", 10, 400, rng)
    counts = _accumulate(library, "multiclass", 10, [(x[:200], y[:200]), (x[200:], y[200:])])
    rank = (x > x[np.arange(len(y)), y][:, None]).sum(1)
    np.testing.assert_array_equal(counts.top_k, np.bincount(y[rank < TOP_K], minlength=10))
    calibration = counts.calibration()
    p = _probabilities("multiclass", x)
    expected = multiclass_calibration_error(
        torch.from_numpy(p), torch.from_numpy(y), num_classes=10, n_bins=16, norm="l1"
    )
    assert calibration.overall().expected_error() == pytest.approx(float(expected), abs=1e-5)
    predicted = p.argmax(1)
    for c in range(10):
        chosen = predicted == c
        if chosen.any():
            gap = p[chosen].max(1).mean() - (y[chosen] == c).mean()
            assert calibration.signed_error()[c] == pytest.approx(gap, abs=1e-5)


@pytest.mark.parametrize("library", LIBRARIES)
def test_top_k_is_exact_with_ties_at_many_classes(library):
    """Rounded logits tie often; a target tied with others counts as ranked above them."""
    rng = np.random.default_rng(11)
    x, y = _task_data("multiclass", 1000, 64, rng)
    x = np.round(x * 2).astype(np.float32)
    counts = _accumulate(library, "multiclass", 1000, [(x, y)], {"top_k": 5})
    rank = (x > x[np.arange(len(y)), y][:, None]).sum(1)
    np.testing.assert_array_equal(counts.top_k, np.bincount(y[rank < 5], minlength=1000))


@pytest.mark.parametrize("library", LIBRARIES)
def test_score_counts_of_any_index_and_its_picked_cells(library):
    """`add_score_counts` adds every cell of the index and each row's picked cell once more,
    also for an index that is not the one `score_bin_index` just returned."""
    rng = np.random.default_rng(12)
    index = rng.integers(0, 50, (6, 4))
    columns = rng.integers(0, 4, 6)
    ops = arrays.ops_for_library(library)
    index_in, columns_in = _to_library(library, index, columns)
    state = ops.zeros_counts(120, like=index_in)
    state = ops.add_score_counts(state, index_in, columns_in, 60)
    expected = np.bincount(index.ravel(), minlength=120)
    expected += np.bincount(index[np.arange(6), columns] + 60, minlength=120)
    np.testing.assert_array_equal(np.asarray(ops.to_numpy(state)), expected)


@pytest.mark.parametrize("library", LIBRARIES)
def test_per_label_reliability_matches_torchmetrics(library):
    import torch
    from torchmetrics.functional.classification import binary_calibration_error

    rng = np.random.default_rng(7)
    x, y = _task_data("multilabel", 4, 500, rng)
    counts = _accumulate(library, "multilabel", 4, [(x, y)])
    calibration = counts.calibration()
    p = _probabilities("multilabel", x)
    for label in range(4):
        expected = binary_calibration_error(
            torch.from_numpy(np.ascontiguousarray(p[:, label])),
            torch.from_numpy(np.ascontiguousarray(y[:, label])),
            n_bins=16,
        )
        assert calibration.expected_error()[label] == pytest.approx(float(expected), abs=1e-4)


@pytest.mark.parametrize("library", LIBRARIES)
def test_rows_left_out_do_not_count(library, monkeypatch):
    """Non-finite outputs and ignored targets count nowhere; on an accelerator (emulated) the
    rows are routed to the spare bin instead of being checked on the host."""
    rng = np.random.default_rng(8)
    x, y = _task_data("multiclass", 5, 60, rng)
    x[3, 2] = np.nan
    x[4, 0] = np.inf
    y[7] = -100
    clean = np.ones(60, bool)
    clean[[3, 4, 7]] = False
    expected = _accumulate("numpy", "multiclass", 5, [(x[clean], y[clean])])
    options = {"ignore_index": -100}
    on_host = _accumulate(library, "multiclass", 5, [(x, y)], options)
    ops = arrays.ops_for_library(library)
    monkeypatch.setattr(type(ops), "is_on_host", lambda self, value: False)
    on_device = _accumulate(library, "multiclass", 5, [(x, y)], options)
    for got in (on_host, on_device):
        np.testing.assert_array_equal(got.positives, expected.positives)
        np.testing.assert_array_equal(got.negatives, expected.negatives)
        np.testing.assert_allclose(got.top, expected.top, rtol=1e-6)
        np.testing.assert_array_equal(got.top_k, expected.top_k)


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_per_label_rows_left_out_do_not_count(task, monkeypatch):
    rng = np.random.default_rng(9)
    x, y = _task_data(task, 3, 50, rng)
    x.reshape(50, -1)[5, 0] = np.nan
    y.reshape(50, -1)[6, -1] = -1
    keep = np.ones(y.shape, bool)
    keep.reshape(50, -1)[5, 0] = keep.reshape(50, -1)[6, -1] = False
    options = {"ignore_index": -1}
    counts = [_accumulate("torch", task, 3, [(x, y)], options)]
    ops = arrays.ops_for_library("torch")
    monkeypatch.setattr(type(ops), "is_on_host", lambda self, value: False)
    counts.append(_accumulate("torch", task, 3, [(x, y)], options))
    p, truth = _probabilities(task, x), _one_vs_rest(task, y, 3)
    keep = keep.reshape(p.shape)
    for got in counts:
        for label in range(p.shape[1]):
            kept = keep[:, label]
            assert got.positives[label].sum() == truth[kept, label].sum()
            assert got.negatives[label].sum() == (~truth[kept, label]).sum()


def test_update_never_reads_back_from_the_device():
    import torch

    from tests.helpers import device_transfer_recorder

    task_spec = _spec("multiclass", 7)
    ops = arrays.ops_for_library("torch")
    x = torch.randn(16, 7, device="meta")
    y = torch.randint(0, 7, (16,), device="meta")
    batch = tasks.format_batch(ops, x, y, None, task_spec)
    state = score_state.new(ops, task_spec, like=x)
    score_state.update(ops, state, x, batch, task_spec)  # caches constants
    with device_transfer_recorder() as recorder:
        score_state.update(ops, state, x, batch, task_spec)
    assert recorder.ops and not recorder.transfers


def test_tensorflow_graph_update_matches_eager():
    import tensorflow as tf

    from tb_perclass.logger.arrays.tensorflow_ops import GRAPH_OPS, OPS

    rng = np.random.default_rng(10)
    x, y = _task_data("multiclass", 6, 80, rng)
    task_spec = _spec("multiclass", 6)
    eager = _accumulate("tensorflow", "multiclass", 6, [(x, y)])
    state = score_state.new(OPS, task_spec, like=tf.constant(x))

    @tf.function
    def update(outputs, targets):
        batch = tasks.format_batch(GRAPH_OPS, outputs, targets, None, task_spec)
        score_state.update(GRAPH_OPS, state, outputs, batch, task_spec)

    update(tf.constant(x), tf.constant(y))
    graph = score_state.read(OPS, state, task_spec)
    np.testing.assert_array_equal(graph.positives, eager.positives)
    np.testing.assert_array_equal(graph.negatives, eager.negatives)
    np.testing.assert_allclose(graph.top, eager.top)


@pytest.mark.parametrize("ranking", [True, False])
def test_metrics_straight_from_the_tensor_equal_the_histogram_metrics(ranking):
    rng = np.random.default_rng(11)
    shape = (9, score_bins.NUM_BINS)
    pos = rng.poisson(0.02, shape).astype(float)
    neg = rng.poisson(1.0, shape).astype(float)
    pos[0] = 0  # undefined metrics stay NaN
    neg[1] = 0
    task = "multiclass" if ranking else "multilabel"
    extra = {"top": np.zeros((9, score_bins.CALIBRATION_BINS, 3))} if ranking else {"sums": pos * 0}
    encoded = score_tensor.encode(score_tensor.ScoreCounts(pos, neg, **extra), rows=9, task=task)
    got = score_tensor.parse(encoded, rows=9, task=task).metrics
    for name, metric in (
        ("auroc", score_metrics.auroc),
        ("auroc_bound", score_metrics.auroc_bound),
        ("average_precision", score_metrics.average_precision),
        ("average_precision_bound", score_metrics.average_precision_bound),
    ):
        np.testing.assert_allclose(getattr(got, name), metric(pos, neg), equal_nan=True)
    np.testing.assert_array_equal(got.positives, pos.sum(1))
    np.testing.assert_array_equal(got.negatives, neg.sum(1))
