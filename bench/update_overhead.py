"""Overhead of `PerClassWriter.update()` relative to the demo model's training step (CPU).

For C = 10 and 1000 classes, batch 256: times the demo CNN's training step (forward, backward,
optimiser step) alone and followed by `update()`, interleaved A/B/A/B in one process so machine
noise hits both alike, and reports the median overhead ratio; the same with a writer made with
`scores=True` (score histograms: PR/ROC, calibration, top-k). Also shows that `update()` issues
no device-to-host read, by running it on PyTorch's data-less `meta` device and listing every aten
operation it dispatches (with and without scores).

    python -m bench.update_overhead [--repeats 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

import torch

from bench.common import interleaved, make_model, paired_overhead, training_step
from tb_perclass import PerClassWriter
from tests.helpers import device_transfer_recorder

BATCH = 256


def measure(num_classes: int, repeats: int, logdir: str) -> dict[str, float]:
    torch.manual_seed(0)
    model = make_model(num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(BATCH, 1, 8, 8)
    y = torch.randint(0, num_classes, (BATCH,))
    writer = PerClassWriter(os.path.join(logdir, f"c{num_classes}"), num_classes=num_classes)
    scored = PerClassWriter(
        os.path.join(logdir, f"c{num_classes}-scores"), num_classes=num_classes, scores=True
    )

    def step_then(update, given):
        def run():
            logits, losses = training_step(model, optimizer, x, y)
            update(logits, y, losses=losses if given else None)

        return run

    times = interleaved(
        {
            "plain": lambda: training_step(model, optimizer, x, y),
            "given": step_then(writer.update, True),
            "computed": step_then(writer.update, False),
            "scores given": step_then(scored.update, True),
            "scores computed": step_then(scored.update, False),
        },
        repeats,
    )
    logits, losses = training_step(model, optimizer, x, y)
    update_only = interleaved(
        {
            "update": lambda: writer.update(logits, y, losses=losses),
            "scores": lambda: scored.update(logits, y, losses=losses),
        },
        repeats,
    )
    for w in (writer, scored):
        w.write(0)
        w.close()
    return {
        "step_us": statistics.median(times["plain"]) * 1e6,
        "update_us": statistics.median(update_only["update"]) * 1e6,
        "scores_us": statistics.median(update_only["scores"]) * 1e6,
        "overhead_given_losses": paired_overhead(times, "given", "plain"),
        "overhead_computed_losses": paired_overhead(times, "computed", "plain"),
        "scores_given_losses": paired_overhead(times, "scores given", "plain"),
        "scores_computed_losses": paired_overhead(times, "scores computed", "plain"),
    }


def dispatched_ops_on_meta(logdir: str, scores: bool = False) -> tuple[list[str], list[str]]:
    writer = PerClassWriter(os.path.join(logdir, f"meta-{scores}"), num_classes=10, scores=scores)
    logits = torch.randn(BATCH, 10, device="meta")
    targets = torch.randint(0, 10, (BATCH,), device="meta")
    losses = torch.zeros(BATCH, device="meta")
    writer.update(logits, targets, losses=losses)  # creates the state table
    with device_transfer_recorder() as recorder:
        writer.update(logits, targets, losses=losses)
        writer.update(logits, targets)
    return recorder.ops, recorder.transfers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, CPU")
    with tempfile.TemporaryDirectory() as logdir:
        for num_classes in (10, 1000):
            r = measure(num_classes, args.repeats, logdir)
            print(
                f"C={num_classes:5d}  step {r['step_us']:8.0f} us  update {r['update_us']:6.0f} us"
                f"  overhead: losses given {100 * r['overhead_given_losses']:5.1f}%"
                f", losses computed {100 * r['overhead_computed_losses']:5.1f}%  (target <= 3%)"
            )
            print(
                f"         scores=True: update {r['scores_us']:6.0f} us"
                f" (x{r['scores_us'] / r['update_us']:.2f})  overhead: losses given "
                f"{100 * r['scores_given_losses']:5.1f}%, losses computed "
                f"{100 * r['scores_computed_losses']:5.1f}%"
            )
        for scores in (False, True):
            ops, transfers = dispatched_ops_on_meta(logdir, scores)
            print(
                f"update() x2 (losses given, computed){' with scores=True' if scores else ''} on "
                f"the meta device: {len(ops)} aten ops, device-to-host transfers: "
                f"{transfers or 'none'}"
            )
            print("  " + ", ".join(op.removeprefix("aten.").removesuffix(".default") for op in ops))


if __name__ == "__main__":
    main()
