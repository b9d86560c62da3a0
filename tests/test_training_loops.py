"""Real PyTorch and Keras training loops on the digits writing through the public API; the
numbers written must equal per-class numbers computed independently from the trained model."""

from __future__ import annotations

import numpy as np
import pytest

from demo.digits import CLASS_NAMES, load_split
from tests.helpers import read_summaries

pytestmark = pytest.mark.slow
EPOCHS = 3


def per_class_reference(logits: np.ndarray, losses: np.ndarray, labels: np.ndarray):
    """Mean loss, count and correct count per class, by boolean masks."""
    predicted = logits.argmax(axis=1)
    mean, count, correct = [], [], []
    for c in range(len(CLASS_NAMES)):
        members = labels == c
        count.append(members.sum())
        correct.append((predicted[members] == c).sum())
        mean.append(losses[members].mean() if members.any() else np.nan)
    return np.array(mean), np.array(count), np.array(correct)


def check_run(run_dir, expected_counts):
    written = read_summaries(run_dir)
    assert [step for step, _, _ in written] == list(range(EPOCHS))
    for _, matrix, parsed in written:
        assert parsed.class_names == tuple(CLASS_NAMES)
        np.testing.assert_array_equal(matrix[1], expected_counts)
        assert matrix[3].sum() == 0
    return written[-1][1]


def test_pytorch_loop(tmp_path):
    import torch
    import torch.nn.functional as F

    from demo import train_torch

    model = train_torch.train(str(tmp_path), epochs=EPOCHS)
    _, y_train, x_val, y_val = load_split(0)
    check_run(str(tmp_path / "train"), np.bincount(y_train, minlength=10))
    last_val = check_run(str(tmp_path / "validation"), np.bincount(y_val, minlength=10))
    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(x_val).unsqueeze(1))
        losses = F.cross_entropy(logits, torch.as_tensor(y_val), reduction="none")
    mean, _, correct = per_class_reference(logits.numpy(), losses.numpy(), y_val)
    np.testing.assert_array_equal(last_val[2], correct)
    np.testing.assert_allclose(last_val[0], mean, rtol=1e-5)


def test_keras_fit(tmp_path):
    import keras

    from demo import train_keras

    model = train_keras.train(str(tmp_path), epochs=EPOCHS)
    x_train, y_train, x_val, y_val = load_split(0)
    check_run(str(tmp_path / "train"), np.bincount(y_train, minlength=10))
    last_val = check_run(str(tmp_path / "validation"), np.bincount(y_val, minlength=10))
    logits = np.asarray(model.predict(x_val[..., None], verbose=0))
    losses = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)(
        y_val, logits
    )
    mean, _, correct = per_class_reference(logits, np.asarray(losses), y_val)
    np.testing.assert_array_equal(last_val[2], correct)
    np.testing.assert_allclose(last_val[0], mean, rtol=1e-4)


def test_binary_and_multilabel_demo_tasks(tmp_path):
    import torch
    from sklearn.metrics import confusion_matrix, multilabel_confusion_matrix

    from demo import train_tasks

    _, _, x_val, _ = load_split(0)
    for task in ("binary", "multilabel"):
        model, y_val = train_tasks.train_task(str(tmp_path), task, epochs=2)
        with torch.no_grad():
            predicted = (model(torch.as_tensor(x_val)[:, None]).squeeze(-1) > 0).int().numpy()
        truth = y_val.int().numpy()
        expected = (
            confusion_matrix(truth, predicted, labels=[0, 1])
            if task == "binary"
            else multilabel_confusion_matrix(truth, predicted)
        )
        written = read_summaries(str(tmp_path / task / "validation"), kind="confusion")
        assert [step for step, _, _ in written] == [0, 1]
        np.testing.assert_array_equal(written[-1][1], expected)
        samples = read_summaries(str(tmp_path / task / "validation"), kind="samples")
        assert len(samples) == 2
