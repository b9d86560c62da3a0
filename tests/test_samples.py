"""Misclassified samples: which are kept, how inputs become images or text, and bad input."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from tb_perclass import PerClassWriter
from tb_perclass.logger.samples import media
from tests.helpers import read_summaries
from tests.test_stats import LIBRARIES, to_library


def kept_samples(run_dir, name="perclass"):
    """[(step, manifest, blobs)] of a run's samples summaries."""
    return [
        (step, json.loads(values[0]), list(values[1:]))
        for step, values, _ in read_summaries(run_dir, kind="samples", name=name)
    ]


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def reference_selection(logits, targets, per_cell, total):
    """Greedy over all mistakes by descending confidence: <= per_cell per cell, <= total."""
    confidence = softmax(logits.astype(np.float64)).max(axis=1)
    predicted = logits.argmax(axis=1)
    order = sorted(np.flatnonzero(predicted != targets), key=lambda i: (-confidence[i], i))
    kept, per = [], {}
    for i in order:
        cell = (targets[i], predicted[i])
        if per.get(cell, 0) < per_cell and len(kept) < total:
            per[cell] = per.get(cell, 0) + 1
            kept.append(int(i))
    return kept


@pytest.mark.parametrize("library", LIBRARIES)
def test_keeps_exactly_the_most_confident_mistakes(logdir, library):
    rng = np.random.default_rng(0)
    logits = (rng.normal(size=(600, 4)) * 3).astype(np.float32)
    targets = rng.integers(0, 4, 600)
    images = rng.random((600, 6, 5, 1)).astype(np.float32)  # NHWC
    with PerClassWriter(logdir, num_classes=4, samples_per_cell=3, max_samples=10) as writer:
        for start in range(0, 600, 64):
            part = slice(start, start + 64)
            writer.update(
                to_library(library, logits[part]),
                to_library(library, targets[part]),
                inputs=to_library(library, images[part]),
                sample_ids=list(range(600))[part],
            )
        writer.write(0)
    ((step, manifest, blobs),) = kept_samples(logdir)
    expected = reference_selection(logits, targets, per_cell=3, total=10)
    assert [entry["id"] for entry in manifest] == expected
    for entry, blob in zip(manifest, blobs):
        i = entry["id"]
        assert (entry["true"], entry["pred"]) == (targets[i], logits[i].argmax())
        assert entry["score"] == pytest.approx(softmax(logits[i : i + 1])[0].max(), rel=1e-5)
        pixels = np.asarray(Image.open(io.BytesIO(blob)))
        np.testing.assert_array_equal(pixels, np.rint(images[i, ..., 0] * 255).astype(np.uint8))
        assert (entry["width"], entry["height"], entry["media"]) == (5, 6, "image/png")


def test_no_inputs_no_samples_and_no_extra_work(logdir):
    import torch

    from tests.helpers import device_transfer_recorder

    writer = PerClassWriter(logdir, num_classes=3)
    logits, targets = torch.randn(16, 3), torch.randint(0, 3, (16,))
    writer.update(logits, targets)
    with device_transfer_recorder() as recorder:
        writer.update(logits, targets)
    assert not any("topk" in op or "logsumexp" in op for op in recorder.ops)
    writer.write(0)
    writer.close()
    assert kept_samples(logdir) == []


def test_once_full_only_better_mistakes_are_fetched(logdir, monkeypatch):
    """The device-side floor means later batches copy (almost) no inputs to the host."""
    from tb_perclass.logger import arrays
    from tb_perclass.logger.samples import buffer

    fetched, offers = [], []
    numpy_ops = type(arrays.ops_for_library("numpy"))
    original_fetch, original_offer = numpy_ops.fetch_images, buffer.MistakeBuffer.offer
    monkeypatch.setattr(
        numpy_ops,
        "fetch_images",
        lambda self, v, rows, *a: fetched.append(len(rows)) or original_fetch(self, v, rows, *a),
    )
    monkeypatch.setattr(
        buffer.MistakeBuffer, "offer", lambda self, m: offers.append(m) or original_offer(self, m)
    )
    rng = np.random.default_rng(1)
    with PerClassWriter(logdir, num_classes=2, max_samples=8, samples_per_cell=8) as writer:
        strong = np.tile([[0.0, 9.0]], (64, 1)).astype(np.float32)  # confident mistakes first
        writer.update(strong, np.zeros(64, int), inputs=rng.random((64, 4, 4)))
        for _ in range(20):
            weak = rng.normal(size=(64, 2)).astype(np.float32)  # less confident mistakes
            writer.update(weak, np.zeros(64, int), inputs=rng.random((64, 4, 4)))
        writer.write(0)
    assert fetched == [8]  # only the first batch's 8 kept samples ever left the arrays
    assert len(offers) == 8  # the top-k of the first batch; later ones had none above the floor


def test_text_inputs_binary_task_and_ids_from_an_array(logdir):
    texts = [f"review <b>{i}</b> & more" for i in range(10)]
    scores = np.array([4.0, -4.0] * 5, dtype=np.float32)  # predicted 1, 0, 1, 0, ...
    targets = np.array([0, 1] * 5)  # all wrong
    with PerClassWriter(logdir, task="binary", max_samples=3) as writer:
        writer.update(scores, targets, inputs=texts, sample_ids=np.arange(100, 110))
        writer.write(4)
    ((step, manifest, blobs),) = kept_samples(logdir)
    assert step == 4 and len(manifest) == 3
    for entry, blob in zip(manifest, blobs):
        assert entry["media"] == "text/plain" and blob.decode() == texts[entry["id"] - 100]
        assert entry["pred"] == 1 - entry["true"]


def test_multilabel_mistakes_name_their_label(logdir):
    logits = np.array([[5.0, -5.0], [-5.0, 5.0]], dtype=np.float32)
    targets = np.array([[0, 0], [0, 1]])  # one false positive of label 0
    with PerClassWriter(logdir, ["red", "round"], task="multilabel") as writer:
        writer.update(logits, targets, inputs=np.zeros((2, 3, 3), np.uint8), sample_ids=["a", "b"])
        writer.write(0)
    ((_, manifest, _),) = kept_samples(logdir)
    assert [(e["label"], e["true"], e["pred"], e["id"]) for e in manifest] == [(0, 0, 1, "a")]


@pytest.mark.parametrize(
    "image,layout,expected",
    [
        (np.full((3, 4, 2), 128, np.uint8), "NCHW", np.full((4, 2, 3), 128, np.uint8)),
        (np.full((4, 2, 4), 7, np.uint8), "NHWC", np.full((4, 2, 4), 7, np.uint8)),
        (np.array([[0.0, 1.0]]), "NHW", np.array([[0, 255]], np.uint8)),
        (np.array([[-1.0, 0.0, 1.0]]), "NHW", np.array([[0, 128, 255]], np.uint8)),
        (np.array([[-3.0, 0.0, 5.0]]), "NHW", np.array([[0, 96, 255]], np.uint8)),  # stretched
        (np.array([[0, 200, 255]], np.int64), "NHW", np.array([[0, 200, 255]], np.uint8)),
        (np.array([[True, False]]), "NHW", np.array([[255, 0]], np.uint8)),
        (np.array([[np.nan, 1.0]]), "NHW", np.array([[0, 255]], np.uint8)),
    ],
)
def test_pixel_mapping(image, layout, expected):
    # Mapped per image, alone or next to an image of another range.
    np.testing.assert_array_equal(media.to_pixels(image[None], layout)[0], expected)
    other = np.full_like(image, 0 if image.dtype == np.bool_ else 1)
    both = media.to_pixels(np.stack([image, other]), layout)
    np.testing.assert_array_equal(both[0], expected)


def test_denormalize_and_downscale(logdir):
    import torch

    mean, std = 0.5, 0.25
    raw = torch.full((2, 3, 600, 300), 0.4)  # NCHW, normalised: pixel (0.4 * 0.25 + 0.5) * 255
    with PerClassWriter(
        logdir, num_classes=2, max_image_side=100, denormalize=lambda x: x * std + mean
    ) as writer:
        writer.update(torch.tensor([[0.0, 5.0], [0.0, 5.0]]), torch.tensor([0, 0]), inputs=raw)
        writer.write(0)
    ((_, manifest, blobs),) = kept_samples(logdir)
    assert (manifest[0]["width"], manifest[0]["height"]) == (50, 100)
    pixels = np.asarray(Image.open(io.BytesIO(blobs[0])))
    assert pixels.shape == (100, 50, 3) and (pixels == 153).all()


SAMPLE_BAD_INPUTS = [
    pytest.param(
        dict(inputs=np.zeros((5, 8, 8), np.float32)),
        ValueError,
        r"inputs has shape \(5, 8, 8\) but the batch has 4 samples",
        id="batch-size",
    ),
    pytest.param(
        dict(inputs=np.zeros((4, 3, 8, 3), np.float32)),
        ValueError,
        r"cannot tell where the channels.*\(4, 3, 8, 3\).*layout='NCHW'.*layout='NHWC'",
        id="ambiguous-layout",
    ),
    pytest.param(
        dict(inputs=np.zeros((4, 64), np.float32)),
        ValueError,
        r"inputs of shape \(4, 64\) are neither images.*reshape",
        id="flat-features",
    ),
    pytest.param(
        dict(inputs=np.zeros((4, 8, 8), np.complex64)),
        TypeError,
        r"inputs has dtype complex64; images must be",
        id="complex-dtype",
    ),
    pytest.param(
        dict(inputs=np.array([["a"] * 8] * 4)),
        TypeError,
        r"inputs has dtype <U1",
        id="string-array",
    ),
    pytest.param(
        dict(inputs=["a", "b", "c"]),
        ValueError,
        r"inputs has 3 texts but the batch has 4 samples",
        id="texts-count",
    ),
    pytest.param(
        dict(inputs=np.zeros((4, 8, 8)), sample_ids=[1, 2, 3]),
        ValueError,
        r"sample_ids has 3 entries but the batch has 4 samples",
        id="ids-count",
    ),
    pytest.param(
        dict(sample_ids=[1, 2, 3, 4]),
        ValueError,
        r"sample_ids identify kept samples, which needs inputs=",
        id="ids-without-inputs",
    ),
    pytest.param(
        dict(inputs=np.zeros((4, 8, 8, 5), np.uint8)),
        ValueError,
        r"cannot tell where the channels|have 5 channels",
        id="five-channels",
    ),
]


@pytest.mark.parametrize("library,layout", [("torch", "NCHW"), ("tensorflow", "NHWC")])
def test_large_images_are_pooled_on_the_device_then_resized(logdir, library, layout):
    image = np.zeros((1024, 512), np.float32)
    image[:, 256:] = 1.0  # left half black, right half white
    batch = (
        np.stack([image, image])[:, None]
        if layout == "NCHW"
        else np.stack([image, image])[..., None]
    )
    logits = np.array([[0.0, 5.0]] * 2, np.float32)
    with PerClassWriter(logdir, num_classes=2, max_image_side=256) as writer:
        writer.update(
            to_library(library, logits),
            to_library(library, np.zeros(2, int)),
            inputs=to_library(library, batch),
        )
        writer.write(0)
    ((_, manifest, blobs),) = kept_samples(logdir)
    assert (manifest[0]["width"], manifest[0]["height"]) == (128, 256)
    pixels = np.asarray(Image.open(io.BytesIO(blobs[0])))
    assert pixels.shape == (256, 128)
    assert (pixels[:, :60] == 0).all() and (pixels[:, 68:] == 255).all()


@pytest.mark.parametrize("arguments,error,message", SAMPLE_BAD_INPUTS)
def test_sample_bad_input_is_refused_clearly(logdir, arguments, error, message):
    logits = np.tile([[0.0, 5.0, 0.0]], (4, 1)).astype(np.float32)
    targets = np.zeros(4, int)
    with PerClassWriter(logdir, num_classes=3) as writer:
        writer.update(logits, targets, inputs=np.zeros((4, 8, 8), np.uint8))
        with pytest.raises(error, match=message):
            writer.update(logits, targets, **arguments)
        stats = writer.write(0)
    assert stats.total == 4  # the refused batch left no trace
    ((_, manifest, _),) = kept_samples(logdir)
    assert len(manifest) == 4


def test_enormous_images_are_refused_before_any_copy(logdir):
    import torch

    huge = torch.zeros(1, 1, 5000, 5000, device="meta")  # no memory: only the shape is read
    with PerClassWriter(logdir, num_classes=2) as writer:
        with pytest.raises(ValueError, match=r"5000x5000 images \(25 megapixels\).*downscaled"):
            writer.update(
                torch.zeros(1, 2, device="meta"),
                torch.zeros(1, dtype=torch.long, device="meta"),
                inputs=huge,
            )


def test_explicit_layout_resolves_ambiguity(logdir):
    images = np.zeros((2, 3, 8, 3), np.uint8)
    with PerClassWriter(logdir, num_classes=2, layout="NHWC") as writer:
        writer.update(np.array([[0.0, 5.0]] * 2, np.float32), np.zeros(2, int), inputs=images)
        writer.write(0)
    ((_, manifest, _),) = kept_samples(logdir)
    assert (manifest[0]["width"], manifest[0]["height"]) == (8, 3)
    with pytest.raises(ValueError, match="layout='CHW'"):
        PerClassWriter(os.path.join(logdir, "x"), layout="CHW")
