"""The per-class math of every array library against a plain-Python reference, and the computed
cross-entropy against the frameworks' own losses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tb_perclass.logger import arrays, spec, state, tasks

LIBRARIES = ["numpy", "torch", "tensorflow"]


def to_library(library: str, value: np.ndarray):
    if library == "numpy":
        return value
    if library == "torch":
        import torch

        return torch.as_tensor(value)
    import tensorflow as tf

    return tf.constant(value)


def accumulate(library, batches, num_classes, from_logits=True, **spec_fields):
    """Runs the state pipeline (format, update stats and confusion, compute) over `batches` of
    NumPy (outputs, targets, losses) converted to `library`."""
    task_spec = spec.task_spec(num_classes=num_classes, from_logits=from_logits, **spec_fields)
    table = matrix = None
    for outputs, targets, losses in batches:
        ops, _, outputs, targets, losses = arrays.as_batch(
            to_library(library, outputs),
            to_library(library, targets),
            None if losses is None else to_library(library, losses),
        )
        batch = tasks.format_batch(ops, outputs, targets, losses, task_spec)
        if table is None:
            table = state.new_table(ops, task_spec, like=outputs)
            matrix = state.new_confusion(ops, task_spec, like=outputs)
        table, matrix = state.update(ops, table, matrix, batch, task_spec)
    stats = state.compute(state.read(ops, table, matrix), task_spec)
    return stats, stats.invalid_targets


def reference_cross_entropy(outputs: np.ndarray, label: int, from_logits: bool) -> float:
    row = [float(v) for v in outputs]
    if from_logits:
        top = max(row)
        log_norm = top + math.log(sum(math.exp(v - top) for v in row))
        return log_norm - row[label]
    total = sum(row)
    p = min(max(row[label] / total, 1e-7), 1 - 1e-7)
    return -math.log(p)


def reference_stats(batches, num_classes, from_logits=True, nonfinite_outputs=None):
    """Sample-by-sample definition of the `stats` kind (docs/data-contract.md). A sample whose
    outputs' maximum is not finite (a NaN or +inf output, or all -inf) is never correct;
    `nonfinite_outputs`, a list, receives the count of those per class."""
    loss_sum = [0.0] * num_classes
    count = [0] * num_classes
    correct = [0] * num_classes
    nonfinite = [0] * num_classes
    unusable = [0] * num_classes
    for outputs, targets, losses in batches:
        for i in range(len(outputs)):
            label = int(targets[i]) if np.ndim(targets) == 1 else int(np.argmax(targets[i]))
            scores = [float(v) for v in outputs[i]]
            finite_max = not any(math.isnan(v) for v in scores) and math.isfinite(max(scores))
            predicted = scores.index(max(scores)) if finite_max else None
            unusable[label] += not finite_max
            if losses is not None:
                loss = float(losses[i])
            elif any(math.isnan(v) for v in outputs[i]):
                loss = math.nan
            else:
                loss = reference_cross_entropy(outputs[i], label, from_logits)
            count[label] += 1
            correct[label] += predicted == label
            if math.isfinite(loss):
                loss_sum[label] += loss
            else:
                nonfinite[label] += 1
    mean = [s / (c - n) if c - n > 0 else math.nan for s, c, n in zip(loss_sum, count, nonfinite)]
    if nonfinite_outputs is not None:
        nonfinite_outputs[:] = unusable
    return np.array(mean), np.array(count), np.array(correct), np.array(nonfinite)


def random_batches(seed, num_classes, sizes, *, with_losses=False, dtype=np.float32):
    rng = np.random.default_rng(seed)
    batches = []
    for size in sizes:
        outputs = rng.normal(0, 2, size=(size, num_classes)).astype(dtype)
        targets = rng.integers(0, num_classes, size=size)
        losses = rng.gamma(2.0, size=size).astype(np.float32) if with_losses else None
        batches.append((outputs, targets, losses))
    return batches


def assert_matches_reference(result, expected, rtol=1e-5):
    stats, out_of_range = result
    mean, count, correct, nonfinite = expected
    assert out_of_range == 0
    np.testing.assert_array_equal(stats.count, count)
    np.testing.assert_array_equal(stats.correct, correct)
    np.testing.assert_array_equal(stats.nonfinite, nonfinite)
    np.testing.assert_allclose(stats.loss, mean, rtol=rtol, equal_nan=True)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("num_classes", [2, 10, 257])
def test_computed_cross_entropy_matches_reference(library, num_classes):
    batches = random_batches(num_classes, num_classes, [64, 1, 33])
    expected = reference_stats(batches, num_classes)
    assert_matches_reference(accumulate(library, batches, num_classes), expected)


@pytest.mark.parametrize("library", LIBRARIES)
def test_given_losses_are_averaged_per_class(library):
    batches = random_batches(1, 7, [50, 50], with_losses=True)
    expected = reference_stats(batches, 7)
    assert_matches_reference(accumulate(library, batches, 7), expected)


@pytest.mark.parametrize("library", LIBRARIES)
def test_probabilities_are_renormalised_and_clipped(library):
    rng = np.random.default_rng(2)
    probabilities = rng.dirichlet(np.ones(5), size=40).astype(np.float32)
    probabilities[0] = [1, 0, 0, 0, 0]  # true class gets probability 0: clipped, finite loss
    targets = rng.integers(0, 5, size=40)
    targets[0] = 3
    batches = [(probabilities, targets, None)]
    expected = reference_stats(batches, 5, from_logits=False)
    result = accumulate(library, batches, 5, from_logits=False)
    assert_matches_reference(result, expected, rtol=1e-4)
    assert result[0].nonfinite.sum() == 0


@pytest.mark.parametrize("library", LIBRARIES)
def test_one_hot_targets_equal_index_targets(library):
    batches = random_batches(3, 6, [30])
    outputs, targets, _ = batches[0]
    one_hot = np.eye(6, dtype=np.float32)[targets]
    by_index = accumulate(library, batches, 6)[0]
    by_one_hot = accumulate(library, [(outputs, one_hot, None)], 6)[0]
    np.testing.assert_allclose(by_one_hot.as_matrix(), by_index.as_matrix(), rtol=1e-5)


@pytest.mark.parametrize("library", LIBRARIES)
def test_non_finite_losses_and_outputs_are_counted_apart(library):
    rng = np.random.default_rng(4)
    outputs = rng.normal(size=(15, 3)).astype(np.float32)
    targets = np.array([0, 1, 2] * 5)
    outputs[0] = np.nan  # class 0: NaN outputs -> NaN loss
    outputs[3] = [5.0, np.nan, np.inf]  # class 0: NaN and inf
    outputs[6] = [np.inf, 1.0, np.inf]  # class 0: +inf, "predicted" 0 = its true class
    outputs[9] = [2.0, -np.inf, 1.0]  # class 0: a masked class (-inf) is a usable row
    outputs[12] = -np.inf  # class 0: every class masked: no prediction
    losses = None
    batches = [(outputs, targets, losses)]
    given = rng.gamma(2.0, size=15).astype(np.float32)
    given[[1, 4]] = [np.inf, np.nan]  # class 1: two non-finite given losses
    for batch_list in (batches, [(outputs, targets, given)]):
        unusable = []
        expected = reference_stats(batch_list, 3, nonfinite_outputs=unusable)
        stats, _ = accumulate(library, batch_list, 3)
        assert_matches_reference((stats, 0), expected)
        assert np.isfinite(stats.loss).all()
        assert unusable == [4, 0, 0]
        np.testing.assert_array_equal(stats.nonfinite_outputs, unusable)
        # Counted for their class, but never correct and in no confusion cell.
        assert stats.count[0] == 5 and stats.correct[0] == 1  # the masked row, predicted 0
        np.testing.assert_array_equal(stats.confusion.sum(axis=1), stats.count - unusable)


@pytest.mark.parametrize("library", LIBRARIES)
def test_class_without_finite_losses_has_nan_mean(library):
    outputs = np.zeros((2, 3), dtype=np.float32)
    losses = np.array([np.nan, 1.0], dtype=np.float32)
    stats, _ = accumulate(library, [(outputs, np.array([0, 1]), losses)], 3)
    assert math.isnan(stats.loss[0]) and stats.loss[1] == 1.0
    assert math.isnan(stats.loss[2]) and stats.count[2] == 0
    assert math.isnan(stats.accuracy[2])


def test_torch_cross_entropy_equals_torch_functional():
    import torch
    import torch.nn.functional as F

    logits = torch.randn(64, 9, generator=torch.Generator().manual_seed(0)) * 3
    targets = torch.randint(0, 9, (64,), generator=torch.Generator().manual_seed(1))
    ops = arrays.ops_for_library("torch")
    task_spec = spec.task_spec(task="multiclass", num_classes=9)
    batch = tasks.format_batch(ops, logits, targets, None, task_spec)
    torch.testing.assert_close(batch.losses, F.cross_entropy(logits, targets, reduction="none"))
    soft = torch.softmax(torch.randn(64, 9), dim=1)
    batch = tasks.format_batch(ops, logits, soft, None, task_spec)
    torch.testing.assert_close(batch.losses, F.cross_entropy(logits, soft, reduction="none"))


@pytest.mark.parametrize("from_logits", [True, False])
def test_tensorflow_cross_entropy_equals_keras_losses(from_logits):
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(5)
    raw = rng.normal(size=(32, 4)).astype(np.float32)
    outputs = raw if from_logits else tf.nn.softmax(raw).numpy()
    targets = rng.integers(0, 4, size=32)
    ops = arrays.ops_for_library("tensorflow")
    task_spec = spec.task_spec(task="multiclass", num_classes=4, from_logits=from_logits)
    batch = tasks.format_batch(ops, tf.constant(outputs), tf.constant(targets), None, task_spec)
    expected = keras.losses.sparse_categorical_crossentropy(
        targets, outputs, from_logits=from_logits
    )
    np.testing.assert_allclose(batch.losses.numpy(), np.asarray(expected), rtol=1e-5, atol=1e-6)
    one_hot = np.eye(4, dtype=np.float32)[targets] * 0.9 + 0.025  # label smoothing
    batch = tasks.format_batch(ops, tf.constant(outputs), tf.constant(one_hot), None, task_spec)
    expected = keras.losses.categorical_crossentropy(one_hot, outputs, from_logits=from_logits)
    np.testing.assert_allclose(batch.losses.numpy(), np.asarray(expected), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("library", LIBRARIES)
def test_out_of_range_labels_on_an_accelerator_are_deferred_not_scattered(library):
    """On a device where reading a value would sync, labels outside [0, C) go to the spare
    row instead of raising; `compute_stats` reports how many. Simulated by telling the
    pipeline that host data is on a device."""
    ops = arrays.ops_for_library(library)

    class DeviceOps(type(ops)):
        def is_on_host(self, x):
            return False

        def min_max(self, x):
            raise AssertionError("update() read values from the device")

    device_ops = DeviceOps()
    task_spec = spec.task_spec(task="multiclass", num_classes=3, ignore_index=-7)
    outputs = to_library(library, np.zeros((6, 3), dtype=np.float32))
    targets = to_library(library, np.array([0, 3, -1, 2, -7, 9]))
    batch = tasks.format_batch(device_ops, outputs, targets, None, task_spec)
    table = state.new_table(device_ops, task_spec, outputs)
    table, _ = state.update(device_ops, table, None, batch, task_spec)
    stats = state.compute(state.read(device_ops, table, None), task_spec)
    assert stats.invalid_targets == 3  # 3, -1 and 9; -7 is ignored
    np.testing.assert_array_equal(stats.count, [1, 0, 1])
    assert np.isfinite(stats.loss[[0, 2]]).all()


# --- confusion and the other tasks ---------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
def test_multiclass_confusion_equals_sklearn(library):
    from sklearn.metrics import confusion_matrix

    batches = random_batches(7, 6, [40, 25])
    batches[0][0][3] = np.nan  # a NaN row: in no cell (sklearn would not take it)
    stats, _ = accumulate(library, batches, 6)
    outputs = np.concatenate([b[0] for b in batches])
    targets = np.concatenate([b[1] for b in batches])
    usable = np.isfinite(outputs).all(axis=1)
    assert usable.sum() == 64
    expected = confusion_matrix(
        targets[usable], np.argmax(outputs[usable], axis=1), labels=range(6)
    )
    np.testing.assert_array_equal(stats.confusion, expected)
    np.testing.assert_array_equal(
        stats.confusion.sum(axis=1), stats.count - stats.nonfinite_outputs
    )
    np.testing.assert_array_equal(np.diag(stats.confusion), stats.correct)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_binary(scores, targets, from_logits, threshold):
    """Per-element BCE, prediction and target, the way Keras and torch define them."""
    p = sigmoid(scores.astype(np.float64)) if from_logits else scores.astype(np.float64)
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    if from_logits:  # exact: log(sigmoid) without clipping
        x = scores.astype(np.float64)
        loss = np.maximum(x, 0) - x * targets + np.log1p(np.exp(-np.abs(x)))
    else:
        loss = -(targets * np.log(clipped) + (1 - targets) * np.log(1 - clipped))
    return loss, (p > threshold).astype(int)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_task_matches_reference(library, from_logits):
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(8)
    scores = rng.normal(0, 2, size=50).astype(np.float32)
    if not from_logits:
        scores = sigmoid(scores).astype(np.float32)
    targets = (rng.random(50) < 0.4).astype(np.float32)  # float 0/1 targets are common
    stats, _ = accumulate(
        library,
        [(scores[:, None], targets, None)],
        2,
        from_logits=from_logits,
        task="binary",
        threshold=(0.3,),
    )
    loss, predicted = reference_binary(scores, targets, from_logits, 0.3)
    labels = targets.astype(int)
    np.testing.assert_array_equal(
        stats.confusion, confusion_matrix(labels, predicted, labels=[0, 1])
    )
    for c in (0, 1):
        np.testing.assert_allclose(stats.loss[c], loss[labels == c].mean(), rtol=1e-5)
        assert stats.correct[c] == (predicted[labels == c] == c).sum()


@pytest.mark.parametrize("library", LIBRARIES)
def test_multilabel_task_matches_reference(library):
    from sklearn.metrics import multilabel_confusion_matrix

    rng = np.random.default_rng(9)
    logits = rng.normal(0, 2, size=(30, 4)).astype(np.float32)
    targets = (rng.random((30, 4)) < 0.3).astype(np.int64)
    thresholds = (0.5, 0.2, 0.8, 0.5)
    stats, _ = accumulate(
        library, [(logits, targets, None)], 4, task="multilabel", threshold=thresholds
    )
    loss, _ = reference_binary(logits, targets, True, 0.5)
    predicted = (sigmoid(logits.astype(np.float64)) > np.array(thresholds)).astype(int)
    np.testing.assert_array_equal(stats.confusion, multilabel_confusion_matrix(targets, predicted))
    np.testing.assert_allclose(stats.loss, loss.mean(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(stats.count, [30] * 4)
    np.testing.assert_array_equal(stats.correct, (predicted == targets).sum(axis=0))


@pytest.mark.parametrize("library", LIBRARIES)
def test_ignore_index_skips_samples_in_every_task(library):
    outputs = np.random.default_rng(10).normal(size=(6, 3)).astype(np.float32)
    targets = np.array([0, -100, 1, 2, -100, 2])
    stats, invalid = accumulate(library, [(outputs, targets, None)], 3, ignore_index=-100)
    kept = targets != -100
    expected = accumulate(library, [(outputs[kept], targets[kept], None)], 3)[0]
    assert invalid == 0 and stats.ignored == 2 and expected.ignored == 0
    np.testing.assert_array_equal(stats.as_matrix()[:, :3], expected.as_matrix()[:, :3])
    np.testing.assert_array_equal(stats.confusion, expected.confusion)

    binary_targets = np.array([1, -1, 0, 0, 1, -1])
    stats, _ = accumulate(
        library, [(outputs[:, 0], binary_targets, None)], 2, task="binary", ignore_index=-1
    )
    assert stats.count.tolist() == [2, 2] and stats.confusion.sum() == 4

    multilabel_targets = np.array([[1, 0, -1]] * 6)
    stats, _ = accumulate(
        library, [(outputs, multilabel_targets, None)], 3, task="multilabel", ignore_index=-1
    )
    assert stats.count.tolist() == [6, 6, 0] and stats.confusion[2].sum() == 0
    assert math.isnan(stats.loss[2])


def test_binary_cross_entropy_equals_the_frameworks():
    import keras
    import tensorflow as tf
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(11)
    logits = rng.normal(0, 3, size=40).astype(np.float32)
    targets = (rng.random(40) < 0.5).astype(np.float32)
    task_spec = spec.task_spec(task="binary")
    batch = tasks.format_batch(
        arrays.ops_for_library("torch"),
        torch.as_tensor(logits),
        torch.as_tensor(targets),
        None,
        task_spec,
    )
    torch.testing.assert_close(
        batch.losses,
        F.binary_cross_entropy_with_logits(
            torch.as_tensor(logits), torch.as_tensor(targets), reduction="none"
        ),
    )
    probabilities = sigmoid(logits).astype(np.float32)
    batch = tasks.format_batch(
        arrays.ops_for_library("tensorflow"),
        tf.constant(probabilities),
        tf.constant(targets),
        None,
        spec.task_spec(task="binary", from_logits=False),
    )
    expected = keras.losses.BinaryCrossentropy(reduction=None)(
        targets[:, None], probabilities[:, None]
    )
    np.testing.assert_allclose(batch.losses.numpy(), np.asarray(expected), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("library", LIBRARIES)
def test_output_kind_evidence_in_every_library(library):
    """Counted on the device by every library alike: finite rows (scores) checked, and those
    that look like the other kind than from_logits says."""
    from tb_perclass.logger import output_kind

    rng = np.random.default_rng(12)
    logits = rng.normal(0, 3, size=(20, 4)).astype(np.float32)
    logits[0, 1] = np.nan
    logits[1, 2] = np.inf
    with np.errstate(invalid="ignore"):  # the NaN and inf rows
        shifted = logits - logits.max(axis=1, keepdims=True)
        probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    probabilities = probabilities.astype(np.float32)
    logits[2] = [0.1, 0.2, 0.3, 0.4]  # logits that happen to look like a distribution
    ops = arrays.ops_for_library(library)

    def counts(task, outputs, from_logits):
        classes = None if task == "binary" else 4
        task_spec = spec.task_spec(task=task, num_classes=classes, from_logits=from_logits)
        prepared = ops.prepare(to_library(library, outputs))
        table = state.new_table(ops, task_spec, like=prepared)
        table = state.add_output_checks(ops, table, prepared, task_spec)
        return state.read(ops, table, None).output_checks(task_spec)

    assert counts("multiclass", logits, True) == (18, 1)  # rows 0 and 1 are not finite
    assert counts("multiclass", probabilities, True) == (18, 18)
    assert counts("multiclass", logits, False) == (18, 17)  # all but row 2 leave [0, 1]
    assert counts("multiclass", probabilities, False) == (18, 0)
    flat = logits.reshape(-1)
    inside = ((flat >= 0) & (flat <= 1)).sum()
    assert counts("multilabel", logits, True) == (78, inside)
    assert counts("multilabel", logits, False) == (78, 78 - inside)
    sigmoid_scores = (1 / (1 + np.exp(-logits[2:, 0]))).astype(np.float32)
    assert counts("binary", sigmoid_scores, True) == (18, 18)
    assert counts("binary", sigmoid_scores, False) == (18, 0)
    assert output_kind.verdict("binary", True, 18, 18) is not None
    assert output_kind.verdict("binary", True, 15, 15) is None  # too little evidence
    assert output_kind.verdict("multiclass", True, 18, 17) is None
    assert output_kind.verdict("multiclass", False, 18, 1) is not None
