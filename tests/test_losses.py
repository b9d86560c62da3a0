"""Every per-sample loss against the frameworks' own (torch.nn.functional, keras.losses), for
NumPy, PyTorch and TensorFlow inputs; regression bins; user losses; losses that do not fit."""

from __future__ import annotations

import numpy as np
import pytest

from tb_perclass import PerClassWriter
from tb_perclass.logger import arrays, tasks
from tb_perclass.logger.spec import task_spec
from tests.test_stats import LIBRARIES, to_library

rng = np.random.default_rng(0)
B, C = 24, 5
LOGITS = (rng.normal(size=(B, C)) * 2).astype(np.float32)
LABELS = rng.integers(0, C, B)
SOFT = rng.dirichlet(np.ones(C), size=B).astype(np.float32)
SCORES = (rng.normal(size=B) * 2).astype(np.float32)
BITS = (rng.random(B) < 0.5).astype(np.float32)
MULTI_BITS = (rng.random((B, 3)) < 0.5).astype(np.float32)
VALUES = rng.gamma(2.0, size=B).astype(np.float32)
PREDICTED = (VALUES + rng.normal(size=B)).astype(np.float32)


def computed_losses(library, task, outputs, targets, **fields):
    spec = task_spec(task=task, **{"num_classes": C, **fields})
    ops, _, outputs, targets, _ = arrays.as_batch(
        to_library(library, outputs), to_library(library, targets)
    )
    return np.asarray(ops.to_numpy(tasks.format_batch(ops, outputs, targets, None, spec).losses))


def torch_reference(name):
    import torch
    import torch.nn.functional as F

    t = torch.as_tensor
    return {
        "sparse_ce": lambda: F.cross_entropy(t(LOGITS), t(LABELS), reduction="none"),
        "soft_ce": lambda: F.cross_entropy(t(LOGITS), t(SOFT), reduction="none"),
        "kl": lambda: F.kl_div(torch.log_softmax(t(LOGITS), 1), t(SOFT), reduction="none").sum(1),
        "bce": lambda: F.binary_cross_entropy_with_logits(t(SCORES), t(BITS), reduction="none"),
        "multilabel_bce": lambda: F.binary_cross_entropy_with_logits(
            t(LOGITS[:, :3]), t(MULTI_BITS), reduction="none"
        ).reshape(-1),
        "mse": lambda: F.mse_loss(t(PREDICTED), t(VALUES), reduction="none"),
        "mae": lambda: F.l1_loss(t(PREDICTED), t(VALUES), reduction="none"),
    }[name]().numpy()


def keras_reference(name):
    import keras

    L = keras.losses
    softmax = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
    signed = BITS * 2 - 1
    return np.asarray(
        {
            "sparse_ce": lambda: L.sparse_categorical_crossentropy(
                LABELS, LOGITS, from_logits=True
            ),
            "soft_ce": lambda: L.categorical_crossentropy(SOFT, LOGITS, from_logits=True),
            "kl": lambda: L.kl_divergence(SOFT, softmax),
            "bce": lambda: L.binary_crossentropy(BITS[:, None], SCORES[:, None], from_logits=True),
            "hinge": lambda: L.hinge(BITS[:, None], SCORES[:, None]),
            "hinge_signed": lambda: L.hinge(signed[:, None], SCORES[:, None]),
            "squared_hinge": lambda: L.squared_hinge(BITS[:, None], SCORES[:, None]),
            "mse": lambda: L.mean_squared_error(VALUES[:, None], PREDICTED[:, None]),
            "mae": lambda: L.mean_absolute_error(VALUES[:, None], PREDICTED[:, None]),
            "msle": lambda: L.mean_squared_logarithmic_error(VALUES[:, None], PREDICTED[:, None]),
        }[name]()
    )


CASES = [
    # (reference, task, loss, outputs, targets, spec)
    ("sparse_ce", "multiclass", "cross_entropy", LOGITS, LABELS, {}),
    ("soft_ce", "multiclass", "categorical_crossentropy", LOGITS, SOFT, {}),
    ("kl", "multiclass", "kl_divergence", LOGITS, SOFT, {}),
    ("bce", "binary", "binary_cross_entropy", SCORES, BITS, {"num_classes": 2}),
    ("hinge", "binary", "hinge", SCORES, BITS, {"num_classes": 2}),
    ("hinge_signed", "binary", "hinge", SCORES, BITS * 2 - 1, {"num_classes": 2}),
    ("squared_hinge", "binary", "squared_hinge", SCORES, BITS, {"num_classes": 2}),
    (
        "multilabel_bce",
        "multilabel",
        "binary_crossentropy",
        LOGITS[:, :3],
        MULTI_BITS,
        {"num_classes": 3},
    ),
    ("mse", "regression", "mse", PREDICTED, VALUES, {"num_classes": 3, "bins": (1.0, 3.0)}),
    (
        "mae",
        "regression",
        "mean_absolute_error",
        PREDICTED,
        VALUES,
        {"num_classes": 3, "bins": (1.0, 3.0)},
    ),
    ("msle", "regression", "msle", PREDICTED, VALUES, {"num_classes": 3, "bins": (1.0, 3.0)}),
]


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize(
    "reference,task,loss,outputs,targets,spec", CASES, ids=[c[0] for c in CASES]
)
def test_losses_equal_the_frameworks(library, reference, task, loss, outputs, targets, spec):
    ours = computed_losses(library, task, outputs, targets, loss=loss, **spec)
    checked = 0
    for framework in (torch_reference, keras_reference):
        try:
            expected = framework(reference)
        except KeyError:  # that framework has no such loss
            continue
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=2e-6)
        checked += 1
    assert checked


def test_regression_bins_targets_and_predictions(logdir):
    targets = np.array([-1.0, 0.0, 0.5, 1.0, 7.0, 12.0])
    outputs = np.array([-2.0, 0.9, 0.4, 4.0, 12.0, 11.0], dtype=np.float32)
    with PerClassWriter(logdir, task="regression", bins=[0, 1, 10]) as writer:
        assert writer.class_names == ("< 0", "[0, 1)", "[1, 10)", ">= 10")
        writer.update(outputs, targets)
        stats = writer.write(0)
    np.testing.assert_array_equal(stats.count, [1, 2, 2, 1])
    expected = np.digitize(targets, [0, 1, 10])
    assert stats.count.tolist() == np.bincount(expected, minlength=4).tolist()
    np.testing.assert_array_equal(stats.confusion.sum(axis=1), stats.count)
    predicted = np.digitize(outputs, [0, 1, 10])
    np.testing.assert_array_equal(np.diag(stats.confusion), [1, 2, 1, 1])
    np.testing.assert_array_equal(
        np.diag(stats.confusion), np.bincount(expected[expected == predicted], minlength=4)
    )
    np.testing.assert_allclose(stats.loss[1], np.mean((outputs[1:3] - targets[1:3]) ** 2))


def test_a_users_loss_callable(logdir):
    import torch
    import torch.nn.functional as F

    def focal(logits, targets):
        probability = torch.softmax(logits, 1).gather(1, targets[:, None])[:, 0]
        return -((1 - probability) ** 2) * torch.log(probability)

    logits, targets = torch.as_tensor(LOGITS), torch.as_tensor(LABELS)
    with PerClassWriter(logdir, num_classes=C, loss=focal) as writer:
        writer.update(logits, targets)
        stats = writer.write(0)
    expected = focal(logits, targets).numpy()
    for c in range(C):
        np.testing.assert_allclose(stats.loss[c], expected[LABELS == c].mean(), rtol=1e-5)
    with PerClassWriter(logdir, num_classes=C, loss=lambda o, t: F.cross_entropy(o, t)) as writer:
        with pytest.raises(
            ValueError,
            match=r"loss=<lambda> returned shape \(\); a per-class curve needs one value per "
            r"sample, shape \(24,\).*reduction='none'",
        ):
            writer.update(logits, targets)


LOSS_BAD_INPUTS = [
    pytest.param(
        dict(loss="hinge"),
        None,
        ValueError,
        r"loss='hinge' is not a per-sample loss of task='multiclass'",
        id="loss-task",
    ),
    pytest.param(
        dict(loss=3), None, TypeError, r"loss=3; pass a loss name or a callable", id="loss-type"
    ),
    pytest.param(
        dict(loss="kl_divergence"),
        dict(outputs=LOGITS, targets=LABELS),
        ValueError,
        r"kl_divergence.*targets of shape \(batch, num_classes\)",
        id="kl-needs-distributions",
    ),
    pytest.param(
        dict(task="binary", loss="hinge"),
        dict(outputs=SCORES, targets=BITS * 2),
        ValueError,
        r"values other than 0 and 1.*e.g. 2.0.*or -1 for a hinge loss",
        id="hinge-targets",
    ),
    pytest.param(
        dict(task="binary"),
        dict(outputs=SCORES, targets=BITS * 2 - 1),
        ValueError,
        r"values other than 0 and 1, e.g. -1.0",
        id="bce-signed-targets",
    ),
    pytest.param(
        dict(task="regression"), None, ValueError, r"needs bins=\[...\]", id="regression-no-bins"
    ),
    pytest.param(
        dict(task="regression", bins=[3, 1]),
        None,
        ValueError,
        r"strictly increasing edges",
        id="bins-order",
    ),
    pytest.param(
        dict(bins=[1, 2]), None, ValueError, r"bins is for task='regression'", id="bins-task"
    ),
    pytest.param(
        dict(task="regression", bins=[1]),
        dict(outputs=VALUES[:2], targets=np.array([1.0, np.nan])),
        ValueError,
        r"non-finite values, e.g. nan",
        id="regression-nan-target",
    ),
    pytest.param(
        dict(task="regression", bins=[1]),
        dict(outputs=LOGITS, targets=VALUES),
        ValueError,
        r"outputs for task='regression' must hold one value per sample.*\(24, 5\)",
        id="regression-outputs",
    ),
]


@pytest.mark.parametrize("kwargs,arguments,error,message", LOSS_BAD_INPUTS)
def test_targets_and_losses_that_do_not_fit(logdir, kwargs, arguments, error, message):
    if arguments is None:
        with pytest.raises(error, match=message):
            PerClassWriter(
                logdir, **{"num_classes": C, **kwargs} if "task" not in kwargs else kwargs
            )
        return
    with PerClassWriter(logdir, **kwargs) as writer:
        with pytest.raises(error, match=message):
            writer.update(**arguments)
