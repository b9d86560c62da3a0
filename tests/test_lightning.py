"""The Lightning callback in a small real `Trainer.fit`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import read_summaries

pytestmark = pytest.mark.slow
lightning = pytest.importorskip("lightning")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from tb_perclass.lightning import PerClassCallback  # noqa: E402


class Classifier(lightning.LightningModule):
    def __init__(self, return_dict=True):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 4))
        self.return_dict = return_dict

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        losses = F.cross_entropy(logits, y, reduction="none")
        if not self.return_dict:
            return losses.mean()
        return {"loss": losses.mean(), "logits": logits, "losses": losses}

    def validation_step(self, batch, batch_idx):
        x, y = batch
        return {"logits": self(x)}

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


def loaders():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(200, 1, 8, 8, generator=generator)
    y = torch.randint(0, 4, (200,), generator=generator)
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:60], y[:60]), batch_size=32)
    return train, val, x, y


def trainer(tmp_path, callback):
    return lightning.Trainer(
        max_epochs=2,
        accelerator="cpu",
        devices=1,
        callbacks=[callback],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
        num_sanity_val_steps=2,
    )


def test_lightning_fit_logs_train_and_validation(tmp_path):
    train, val, x, y = loaders()
    model = Classifier()
    callback = PerClassCallback(
        str(tmp_path / "pc"), class_names=["a", "b", "c", "d"], samples=True, max_samples=5
    )
    trainer(tmp_path, callback).fit(model, train, val)
    with torch.no_grad():
        logits = model(x)
    losses = F.cross_entropy(logits, y, reduction="none")
    train_steps = read_summaries(str(tmp_path / "pc" / "train"))
    assert [s for s, _, _ in train_steps] == [0, 1]
    for _, matrix, meta in train_steps:
        np.testing.assert_array_equal(matrix[1], np.bincount(y.numpy(), minlength=4))
        expected = [losses[y == c].mean().item() for c in range(4)]
        np.testing.assert_allclose(matrix[0], expected, rtol=1e-5)
        assert meta.loss == "loss"  # the losses came from training_step
    validation = read_summaries(str(tmp_path / "pc" / "validation"))
    assert [s for s, _, _ in validation] == [0, 1]  # the sanity check was not counted
    assert validation[0][1][1].sum() == 60
    (_, blobs, _), *_ = read_summaries(str(tmp_path / "pc" / "validation"), kind="samples")
    assert 0 < len(json.loads(blobs[0])) <= 5


def test_a_step_that_returns_no_logits_is_explained(tmp_path):
    train, val, _, _ = loaders()
    callback = PerClassCallback(str(tmp_path / "pc"), num_classes=4)
    with pytest.raises(
        ValueError,
        match=r"training_step must return a dict with the batch's outputs under 'logits'"
        r".*it returned dict with keys \['loss'\]",
    ):
        trainer(tmp_path, callback).fit(Classifier(return_dict=False), train, val)


class DivergingClassifier(Classifier):
    """Returns NaN logits for the first sample of every training batch."""

    def training_step(self, batch, batch_idx):
        out = super().training_step(batch, batch_idx)
        logits = out["logits"].clone()
        logits[0] = float("nan")
        return {**out, "logits": logits}


def test_nan_outputs_and_repeated_steps_are_written_and_warned(tmp_path):
    """NaN logits count apart per true class; validating twice per epoch (val_check_interval)
    writes one epoch's step twice, which TensorBoard would show once: warned."""
    import warnings

    train, val, x, y = loaders()
    callback = PerClassCallback(str(tmp_path / "pc"), num_classes=4)
    run = lightning.Trainer(
        max_epochs=1,
        accelerator="cpu",
        devices=1,
        callbacks=[callback],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
        num_sanity_val_steps=0,
        val_check_interval=0.5,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.fit(DivergingClassifier(), train, val)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    ((_, matrix, _),) = read_summaries(str(tmp_path / "pc" / "train"))
    firsts = y[::32]  # the first sample of each batch of 32
    np.testing.assert_array_equal(matrix[4], np.bincount(firsts.numpy(), minlength=4))
    assert any(f"{len(firsts)} samples had NaN or infinite outputs" in m for m in messages)
    assert [s for s, _, _ in read_summaries(str(tmp_path / "pc" / "validation"))] == [0, 0]
    assert any("validation" in m and "step 0 was already written" in m for m in messages)


class IndexedClassifier(Classifier):
    """Batches (x, y, index): the dataset's indices ride along for track_samples."""

    def training_step(self, batch, batch_idx):
        x, y, _ = batch
        return super().training_step((x, y), batch_idx)

    def validation_step(self, batch, batch_idx):
        x, y, _ = batch
        return {"logits": self(x)}

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)


def test_track_samples_takes_the_ids_from_the_batch(tmp_path):
    from tests.helpers import wsgi_client

    _, _, x, y = loaders()
    indexed = torch.utils.data.TensorDataset(x, y, torch.arange(len(y)))
    train = torch.utils.data.DataLoader(indexed, batch_size=32, shuffle=True)
    val = torch.utils.data.DataLoader(torch.utils.data.Subset(indexed, range(60)), batch_size=32)
    callback = PerClassCallback(str(tmp_path / "pc"), num_classes=4, track_samples=len(y))
    trainer(tmp_path, callback).fit(IndexedClassifier(), train, val)
    client = wsgi_client(str(tmp_path / "pc"))
    counts = client.get("/data/plugin/perclass/dynamics?run=train&name=perclass").get_json()
    assert counts["steps"] == [0, 1] and counts["dataset_size"] == [200, 200]
    visited = np.array(counts["visited"][-1])
    np.testing.assert_array_equal(visited, np.bincount(y.numpy(), minlength=4))  # each sample
    tags = client.get("/data/plugin/perclass/tags").get_json()
    assert "dynamics" not in tags["validation"]["perclass"]["kinds"]  # training only
    with pytest.raises(ValueError, match=r"found no sample ids \(track_samples\)"):
        plain = PerClassCallback(str(tmp_path / "other"), num_classes=4, track_samples=200)
        trainer(tmp_path, plain).fit(Classifier(), *loaders()[:2])


def test_scores_pass_through_to_the_writers(tmp_path):
    from tb_perclass.format import metadata, score_tensor

    train, val, x, y = loaders()
    model = Classifier()
    callback = PerClassCallback(str(tmp_path / "pc"), scores=True, top_k=2)
    trainer(tmp_path, callback).fit(model, train, val)
    for split, count in (("train", 200), ("validation", 60)):
        written = read_summaries(str(tmp_path / "pc" / split), metadata.KIND_SCORES)
        assert [step for step, _, _ in written] == [0, 1]
        for _, values, meta in written:
            columns = score_tensor.parse(values, rows=4, task="multiclass", top_k=2)
            assert columns.metrics.positives.sum() == count  # every sample, once
            assert meta.extra["top_k"] == 2 and columns.top_k.sum() <= count


def test_confusion_every_passes_through_and_the_last_epoch_gets_its_matrix(tmp_path):
    train, val, _, _ = loaders()
    callback = PerClassCallback(str(tmp_path / "pc"), confusion_every=2)
    run = trainer(tmp_path, callback)
    run.fit_loop.max_epochs = 4
    run.fit(Classifier(), train, val)
    for split in ("train", "validation"):
        run_dir = str(tmp_path / "pc" / split)
        assert [step for step, _, _ in read_summaries(run_dir)] == [0, 1, 2, 3]
        # epochs 0 and 2 (every 2nd), and the last at the end of fit (teardown closes)
        assert [step for step, _, _ in read_summaries(run_dir, "confusion")] == [0, 2, 3]
