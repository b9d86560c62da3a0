"""The samples, blob and sample_history routes over real event files."""

from __future__ import annotations

import io
import json
import os
import urllib.parse

import numpy as np
import pytest
from PIL import Image

from tb_perclass import PerClassWriter
from tests.helpers import ROUTE_PREFIX, TensorBoardProcess, wsgi_client

CLASSES = ["zero", "one", "two"]


def write_run(run_dir, steps, seed=0, texts=False):
    """Each step: 30 samples, images (or texts) whose pixel value encodes the sample id."""
    rng = np.random.default_rng(seed)
    with PerClassWriter(run_dir, class_names=CLASSES, samples_per_cell=2, max_samples=5) as writer:
        for step in range(steps):
            ids = (np.arange(30) + 100 * step) % 60  # the same ids recur across steps
            logits = (rng.normal(size=(30, 3)) * 3).astype(np.float32)
            targets = rng.integers(0, 3, 30)
            inputs = (
                [f"<script>alert({i})</script>" for i in ids]
                if texts
                else np.stack([np.full((4, 4), i, np.uint8) for i in ids])
            )
            writer.update(logits, targets, inputs=inputs, sample_ids=ids)
            writer.write(step)


def get(client, route, **params):
    response = client.get(f"{ROUTE_PREFIX}/{route}?{urllib.parse.urlencode(params)}")
    return response.status_code, response.get_data(), response.headers


def test_samples_filters_and_blobs(logdir):
    write_run(os.path.join(logdir, "val"), 3)
    client = wsgi_client(logdir)
    status, body, _ = get(client, "samples", run="val", name="perclass")
    assert status == 200
    found = json.loads(body)
    assert found["step"] == 2 and found["steps"] == [0, 1, 2]
    assert (found["samples_per_cell"], found["max_samples"]) == (2, 5)  # the writer's caps
    assert 1 <= len(found["samples"]) <= 5
    scores = [s["score"] for s in found["samples"]]
    assert scores == sorted(scores, reverse=True)
    for sample in found["samples"]:
        response = client.get(f"{ROUTE_PREFIX}/{sample['blob']}")
        assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
        assert "max-age" in response.headers["Cache-Control"]
        pixels = np.asarray(Image.open(io.BytesIO(response.get_data())))
        assert pixels.shape == (4, 4) and (pixels == sample["id"]).all()
    first = found["samples"][0]

    status, body, _ = get(client, "samples", run="val", name="perclass", step=1, true=first["true"])
    chosen = json.loads(body)["samples"]
    assert chosen and all(s["true"] == first["true"] for s in chosen)
    status, body, _ = get(client, "samples", run="val", name="perclass", order="loss")
    losses = [s["loss"] for s in json.loads(body)["samples"]]
    assert losses == sorted(losses, reverse=True)


def test_text_samples_are_served_as_plain_text(logdir):
    write_run(os.path.join(logdir, "text"), 1, texts=True)
    client = wsgi_client(logdir)
    status, body, _ = get(client, "samples", run="text", name="perclass")
    sample = json.loads(body)["samples"][0]
    response = client.get(f"{ROUTE_PREFIX}/{sample['blob']}")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data().startswith(b"<script>alert(")


def test_sample_history_follows_an_id(logdir):
    write_run(os.path.join(logdir, "val"), 4)
    client = wsgi_client(logdir)
    everything = [
        (step, s)
        for step in range(4)
        for s in json.loads(get(client, "samples", run="val", name="perclass", step=step)[1])[
            "samples"
        ]
    ]
    sample_id = everything[0][1]["id"]
    status, body, _ = get(client, "sample_history", run="val", name="perclass", id=sample_id)
    history = json.loads(body)
    expected = [(step, s["true"], s["pred"]) for step, s in everything if s["id"] == sample_id]
    assert [(h["step"], h["true"], h["pred"]) for h in history["history"]] == expected
    assert history["first_step"] == expected[0][0]
    status, body, _ = get(client, "sample_history", run="val", name="perclass", id="nobody")
    assert status == 200 and json.loads(body)["history"] == []


TAMPERED = [
    ({"run": "val", "name": "perclass", "step": "0", "index": "999"}, 404, "has no sample 999"),
    ({"run": "val", "name": "perclass", "step": "0", "index": "0"}, 404, "has no sample 0"),
    ({"run": "val", "name": "perclass", "step": "0", "index": "-1"}, 404, "has no sample -1"),
    ({"run": "val", "name": "perclass", "step": "0", "index": "1;rm"}, 400, "not an integer"),
    (
        {"run": "val", "name": "perclass", "step": "77", "index": "1"},
        404,
        "no kept samples at step 77",
    ),
    ({"run": "val", "name": "perclass", "index": "1"}, 400, "blob needs step and index"),
    ({"run": "../val", "name": "perclass", "step": "0", "index": "1"}, 404, "no per-class samples"),
    (
        {"run": "val", "name": "perclass/stats", "step": "0", "index": "1"},
        404,
        "no per-class samples",
    ),
]


@pytest.mark.parametrize("params,code,message", TAMPERED)
def test_tampered_blob_requests_answer_404_or_400(logdir, params, code, message):
    write_run(os.path.join(logdir, "val"), 1)
    status, body, headers = get(wsgi_client(logdir), "blob", **params)
    assert (status, message in body.decode()) == (code, True), body
    assert headers["Content-Type"].startswith("text/plain")


def test_bad_samples_parameters(logdir):
    write_run(os.path.join(logdir, "val"), 1)
    client = wsgi_client(logdir)
    for params, code, message in [
        ({"run": "val", "name": "perclass", "order": "random"}, 400, "use score or loss"),
        ({"run": "val", "name": "perclass", "true": "x"}, 400, "true='x' is not an integer"),
        ({"run": "val", "name": "perclass", "step": "5"}, 404, "no kept samples at step 5"),
        ({"run": "val"}, 400, "missing query parameter 'name'"),
    ]:
        status, body, _ = get(client, "samples", **params)
        assert (status, message in body.decode()) == (code, True), body


@pytest.mark.slow
@pytest.mark.parametrize("load_fast", [True, False], ids=["data-server", "python-loader"])
def test_real_tensorboard_serves_every_step_of_samples(tmp_path, load_fast):
    steps = 14  # more than the 10 blob sequences TensorBoard keeps per tag by default
    write_run(str(tmp_path / "val"), steps)
    with TensorBoardProcess(str(tmp_path), load_fast=load_fast) as server:
        query = urllib.parse.urlencode({"run": "val", "name": "perclass"})
        found = server.wait_for(
            f"{ROUTE_PREFIX}/samples?{query}", lambda b: len(b["steps"]) == steps
        )
        assert found["steps"] == list(range(steps))
        status, data, headers = server.get(f"{ROUTE_PREFIX}/{found['samples'][0]['blob']}")
        assert status == 200 and headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(data)).size == (4, 4)
        tags = server.get_json(f"{ROUTE_PREFIX}/tags")
        assert tags["val"]["perclass"]["kinds"] == ["stats", "confusion", "samples"]
        assert "Traceback" not in server.log_text()
