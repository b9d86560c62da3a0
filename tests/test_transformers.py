"""The Hugging Face Trainer callback in real `Trainer.train()` runs of tiny models built from
configs: a BERT text classifier on topic sentences and a ViT on scikit-learn's digits."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import free_port, read_summaries

pytestmark = pytest.mark.slow
transformers = pytest.importorskip("transformers")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from tb_perclass.transformers import PerClassCallback  # noqa: E402
from tests import tiny_hf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ForwardCounter:
    """Counts the model's forward passes by mode, with a hook of its own."""

    def __init__(self, model):
        self.train = self.eval = 0
        model.register_forward_hook(self)

    def __call__(self, module, args, output):
        if module.training:
            self.train += 1
        else:
            self.eval += 1


def text_trainer(tmp_path, callbacks, model=None, **arguments):
    tokenizer = tiny_hf.whitespace_tokenizer()
    train, evaluation, texts, labels = tiny_hf.topic_datasets(tokenizer)
    model = model or tiny_hf.tiny_bert(tokenizer)
    trainer = transformers.Trainer(
        model=model,
        args=tiny_hf.training_arguments(tmp_path / "out", **arguments),
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    return trainer, texts, labels


def runs(tmp_path):
    (root,) = os.listdir(tmp_path / "out" / "runs")
    return tmp_path / "out" / "runs" / root


def test_zero_extra_forward_passes_and_the_numbers_of_the_batches(tmp_path):
    callback = PerClassCallback()
    trainer, texts, labels = text_trainer(tmp_path, [callback], gradient_accumulation_steps=2)
    counter = ForwardCounter(trainer.model)
    trainer.train()
    # 256 samples in batches of 32, 2 epochs: 16 training forwards; 72 evaluation samples in
    # batches of 32 (3 batches) at each epoch's end: 6. Nothing more, with the callback on.
    assert (counter.train, counter.eval) == (16, 6)
    assert callback.forwards_seen == 22

    train = read_summaries(str(runs(tmp_path) / "train"))
    # Written at the Trainer's logging steps (every 4 optimizer steps = 8 micro-batches).
    assert [step for step, _, _ in train] == [4, 8]
    assert sum(matrix[1].sum() for _, matrix, _ in train) == 512
    evaluation = read_summaries(str(runs(tmp_path) / "eval"))
    assert [step for step, _, _ in evaluation] == [4, 8]
    assert evaluation[0][2].class_names == tuple(tiny_hf.TOPICS)  # from config.id2label

    # The last evaluation equals the Trainer's own predictions on the same model.
    predictions = trainer.predict(trainer.eval_dataset)
    logits = torch.as_tensor(predictions.predictions)
    targets = torch.as_tensor(predictions.label_ids)
    losses = F.cross_entropy(logits, targets, reduction="none")
    _, matrix, _ = evaluation[-1]
    for c in range(4):
        mine = targets == c
        assert matrix[1, c] == mine.sum()
        assert matrix[2, c] == (logits[mine].argmax(1) == c).sum()
        np.testing.assert_allclose(matrix[0, c], losses[mine].mean(), rtol=1e-5)
    assert counter.eval == 6 + 3  # predict() ran its own forwards; the callback added none
    assert read_summaries(str(runs(tmp_path) / "eval"))[-1][0] == 8  # and wrote no step for them


def test_runs_sit_in_the_tensorboard_callbacks_run_directory(tmp_path):
    trainer, texts, _ = text_trainer(
        tmp_path, [PerClassCallback()], report_to=["tensorboard"], num_train_epochs=1
    )
    trainer.train()
    root = runs(tmp_path)
    hf_files = [f for f in os.listdir(root) if "tfevents" in f]
    assert hf_files, "the Trainer's own TensorBoard event file"
    assert sorted(d for d in os.listdir(root) if os.path.isdir(root / d)) == ["eval", "train"]
    # The kept evaluation samples are the sentences, decoded by the Trainer's tokenizer, with
    # their positions in the evaluation set as ids.
    ((_, samples, _),) = read_summaries(str(root / "eval"), kind="samples")
    manifest = json.loads(samples[0])
    assert manifest
    for sample, blob in zip(manifest, samples[1:]):
        assert blob.decode() == texts[sample["id"]]


def test_each_evaluation_dataset_is_a_run_of_its_own(tmp_path):
    tokenizer = tiny_hf.whitespace_tokenizer()
    _, evaluation, _, labels = tiny_hf.topic_datasets(tokenizer)
    short = torch.utils.data.Subset(evaluation, range(40))
    trainer = transformers.Trainer(
        model=tiny_hf.tiny_bert(tokenizer),
        args=tiny_hf.training_arguments(tmp_path / "out"),
        eval_dataset={"full": evaluation, "short": short},
        processing_class=tokenizer,
        callbacks=[PerClassCallback(tmp_path / "logs")],
    )
    trainer.evaluate()
    assert sorted(os.listdir(tmp_path / "logs")) == ["eval_full", "eval_short"]
    for run, count in (("eval_full", 72), ("eval_short", 40)):
        ((step, stats, _),) = read_summaries(str(tmp_path / "logs" / run))
        assert step == 0
        np.testing.assert_array_equal(stats[1], np.bincount(labels[:count], minlength=4))


def test_image_classifier_keeps_its_digits(tmp_path):
    train, evaluation = tiny_hf.digits_datasets()
    trainer = transformers.Trainer(
        model=tiny_hf.tiny_vit(),
        args=tiny_hf.training_arguments(tmp_path / "out", num_train_epochs=1),
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tiny_hf.digits_image_processor(),
        callbacks=[PerClassCallback()],
    )
    trainer.train()
    root = runs(tmp_path)
    ((_, stats, meta),) = read_summaries(str(root / "eval"))
    assert meta.class_names == tuple(tiny_hf.DIGIT_NAMES)
    assert stats[1].sum() == 96
    ((_, samples, _),) = read_summaries(str(root / "eval"), kind="samples")
    manifest = json.loads(samples[0])
    assert manifest and all(s["media"] == "image/png" for s in manifest)
    assert {(s["width"], s["height"]) for s in manifest} == {(8, 8)}
    # Un-normalised with the image processor's mean and std: the digits' own pixels.
    from PIL import Image
    from sklearn.datasets import load_digits

    images = load_digits().images[320:]
    for sample, blob in zip(manifest, samples[1:]):
        pixels = np.asarray(Image.open(io.BytesIO(blob)), dtype=np.float64)
        np.testing.assert_allclose(pixels, images[sample["id"]] / 16 * 255, atol=0.51)


def test_class_names_that_disagree_with_the_model_are_refused_at_once(tmp_path):
    with pytest.raises(ValueError, match=r"class_names has 3 names but the model has num_labels=4"):
        text_trainer(tmp_path, [PerClassCallback(class_names=["a", "b", "c"])])


def test_evaluation_without_labels_says_so(tmp_path):
    tokenizer = tiny_hf.whitespace_tokenizer()
    train, unlabelled, _, _ = tiny_hf.topic_datasets(tokenizer, with_labels=False)
    trainer = transformers.Trainer(
        model=tiny_hf.tiny_bert(tokenizer),
        args=tiny_hf.training_arguments(tmp_path / "out"),
        train_dataset=train,
        eval_dataset=unlabelled,
        processing_class=tokenizer,
        callbacks=[PerClassCallback()],
    )
    with pytest.raises(ValueError, match="evaluation batches carry no 'labels'"):
        trainer.evaluate()


def test_a_loss_that_hides_the_labels_from_the_model_says_so(tmp_path):
    trainer, _, _ = text_trainer(tmp_path, [PerClassCallback()], label_smoothing_factor=0.1)
    with pytest.raises(ValueError, match="got no 'labels' argument"):
        trainer.train()


def run_trainer_module(tmp_path, name, processes):
    """tests.hf_trainer_run in one process, or under torch.distributed.run in `processes`."""
    logdir = tmp_path / name
    module = ["-m", "tests.hf_trainer_run", str(tmp_path / f"{name}-out"), str(logdir)]
    command = [sys.executable, *module]
    if processes > 1:
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            f"--nproc_per_node={processes}",
            f"--master-port={free_port()}",
            *module,
        ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return logdir


def test_data_parallel_trainer_gives_the_numbers_of_one_process(tmp_path):
    one = run_trainer_module(tmp_path, "one", 1)
    two = run_trainer_module(tmp_path, "two", 2)
    for split in ("eval", "train"):
        assert len(os.listdir(two / split)) == 1  # one event file: rank 0's
    for split, total, steps in (("eval", 70, [0, 16]), ("train", 256, [16])):
        single, double = read_summaries(str(one / split)), read_summaries(str(two / split))
        assert [s for s, _, _ in single] == steps
        assert [s for s, _, _ in double] == [s // 2 for s in steps]  # half the optimizer steps
        for (_, a, _), (_, b, _) in zip(single, double):
            assert a[1].sum() == total
            np.testing.assert_array_equal(a[1:], b[1:])  # counts exactly
            np.testing.assert_allclose(a[0], b[0], rtol=1e-5)
        for (_, a, _), (_, b, _) in zip(
            read_summaries(str(one / split), kind="confusion"),
            read_summaries(str(two / split), kind="confusion"),
        ):
            np.testing.assert_array_equal(a, b)
    texts, _ = tiny_hf.topic_texts(256 + 70)
    for run in (one, two):
        (_, samples, _), *_ = read_summaries(str(run / "eval"), kind="samples")
        manifest = json.loads(samples[0])
        assert manifest
        for sample, blob in zip(manifest, samples[1:]):
            assert blob.decode() == texts[256 + sample["id"]]


def test_confusion_every_on_each_run_and_the_last_matrices_when_training_ends(tmp_path):
    with pytest.raises(ValueError, match="confusion_every=0; it must be at least 1"):
        PerClassCallback(confusion_every=0)
    callback = PerClassCallback(tmp_path / "pc", confusion_every=2)
    trainer, _, _ = text_trainer(tmp_path, [callback], num_train_epochs=4)
    trainer.train()
    for split in ("train", "eval"):
        run = str(tmp_path / "pc" / split)
        steps = [step for step, _, _ in read_summaries(run)]
        expected = steps[::2] + ([steps[-1]] if len(steps) % 2 == 0 else [])
        assert len(steps) >= 4
        # the first write, every 2nd, and the last (written when training ends)
        assert [step for step, _, _ in read_summaries(run, "confusion")] == expected
