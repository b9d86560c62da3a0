"""Data parallel PyTorch: two real processes on the gloo backend give the numbers (and the kept
samples) of one process seeing all the data; ranks that disagree are told so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.helpers import free_port, read_summaries

pytestmark = pytest.mark.slow

RANK_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np, torch, torch.distributed as dist
    from tb_perclass import PerClassWriter

    rank, size = int(sys.argv[1]), int(sys.argv[2])
    dist.init_process_group("gloo", rank=rank, world_size=size)
    names = {names}
    if rank == 1 and {disagree}:
        names = names + ["extra"]
    rng = np.random.default_rng(0)
    logits = torch.as_tensor(rng.normal(size=(400, 6)).astype(np.float32) * 3)[:, :len(names)]
    targets = torch.as_tensor(rng.integers(0, 5, 400))
    images = torch.as_tensor(rng.random((400, 1, 8, 8)).astype(np.float32))
    writer = PerClassWriter(
        {logdir!r}, class_names=names, max_samples=12, samples_per_cell=2, scores=True, top_k=2
    )
    try:
        for step in range(2):
            # A DistributedSampler-like split; rank 1 sees no data at all at step 1.
            mine = range(rank, 400, size) if not (step == 1 and rank == 1) else range(0)
            for start in range(0, len(mine), 64):
                rows = torch.as_tensor(list(mine[start:start + 64]))
                writer.update(logits[rows], targets[rows], inputs=images[rows], sample_ids=rows)
            stats = writer.write(step)
            print(json.dumps({{"rank": rank, "step": step, "total": stats.total}}), flush=True)
    except ValueError as error:
        print(json.dumps({{"rank": rank, "error": str(error)}}), flush=True)
    finally:
        writer.close()
        dist.destroy_process_group()
    """
)

NAMES = ["a", "b", "c", "d", "e"]


def run_ranks(logdir, disagree=False):
    script = RANK_SCRIPT.format(names=NAMES, disagree=disagree, logdir=logdir)
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
    ranks = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(r), "2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(2)
    ]
    outputs = []
    for process in ranks:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-3000:]
        outputs.append([json.loads(line) for line in out.splitlines() if line.startswith("{")])
    return outputs


def single_process(logdir):
    import torch

    from tb_perclass import PerClassWriter

    rng = np.random.default_rng(0)
    logits = torch.as_tensor(rng.normal(size=(400, 6)).astype(np.float32) * 3)[:, :5]
    targets = torch.as_tensor(rng.integers(0, 5, 400))
    images = torch.as_tensor(rng.random((400, 1, 8, 8)).astype(np.float32))
    with PerClassWriter(
        logdir, class_names=NAMES, max_samples=12, samples_per_cell=2, scores=True, top_k=2
    ) as writer:
        for step in range(2):
            rows = torch.arange(400) if step == 0 else torch.arange(0, 400, 2)
            writer.update(logits[rows], targets[rows], inputs=images[rows], sample_ids=rows)
            writer.write(step)


def test_two_ranks_write_the_single_process_numbers(tmp_path):
    outputs = run_ranks(str(tmp_path / "ddp"))
    totals = {(o["rank"], o["step"]): o["total"] for out in outputs for o in out}
    assert totals == {(0, 0): 400, (1, 0): 400, (0, 1): 200, (1, 1): 200}
    single_process(str(tmp_path / "one"))
    for kind in ("stats", "confusion", "scores"):
        ddp = read_summaries(str(tmp_path / "ddp"), kind=kind)
        one = read_summaries(str(tmp_path / "one"), kind=kind)
        assert [s for s, _, _ in ddp] == [s for s, _, _ in one] == [0, 1]
        for (_, a, _), (_, b, _) in zip(ddp, one):
            # (score confidence sums are rounded to 1/256 of a bin when written)
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=kind == "scores", equal_nan=True)
    ddp_samples = read_summaries(str(tmp_path / "ddp"), kind="samples")
    one_samples = read_summaries(str(tmp_path / "one"), kind="samples")
    for (_, a, _), (_, b, _) in zip(ddp_samples, one_samples):
        assert [e["id"] for e in json.loads(a[0])] == [e["id"] for e in json.loads(b[0])]
        assert list(a[1:]) == list(b[1:])  # the same images
    # Only rank 0 wrote: one event file.
    assert len([f for f in os.listdir(tmp_path / "ddp") if "tfevents" in f]) == 1


def test_ranks_that_disagree_on_classes_are_told(tmp_path):
    outputs = run_ranks(str(tmp_path / "ddp"), disagree=True)
    for out in outputs:
        (message,) = [o["error"] for o in out if "error" in o]
        assert (
            "ranks disagree on what they log: rank 0 has task='multiclass' with 5 classes"
            in message
        )
        assert "rank 1 has task='multiclass' with 6 classes" in message
        assert "same class_names" in message
