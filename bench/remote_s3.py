"""Writing a 100-class run to S3: bytes uploaded per step and seconds per write(), next to
`torch.utils.tensorboard.SummaryWriter` writing the same number of scalars to the same bucket.

A local S3 server (moto) runs on loopback; each writer talks to it through its own TCP relay,
which counts the bytes the client sends (requests, headers and bodies), so that every variant is
measured the same way, at the network. The variants run side by side in one process, step by
step in a shuffled order:

- `perclass (segment S)`: `PerClassWriter("s3://...")`, one `update()` of a 256-sample batch
  and one `write(step)` per step (timed alone); its objects hold up to S bytes
  (`segment_bytes`, see tb_perclass/logger/remote.py).
- `torch, flush each step`: per step, 5 scalars per class (the rows of our stats tensor: loss,
  count, correct, non-finite losses, non-finite outputs) with `add_scalar`, then `flush()`:
  readable after each step, as ours is. TensorBoard's S3 writer cannot append, so each flush
  uploads the whole file: quadratic, hence run for fewer steps (`--torch-flushed-steps`).
- `torch, default`: the same `add_scalar` calls with the default `flush_secs=120`: uploads
  the whole file every two minutes and at close; a crash loses up to two minutes of steps.

torch's writer reaches S3 through TensorBoard's own S3 support, which exists only without
TensorFlow (TensorFlow's gfile has no s3:// since 2.6), so TensorFlow is hidden here as in a
PyTorch-only environment.

    python -m bench.remote_s3 [--steps 1000] [--classes 100] [--torch-flushed-steps 100]
"""

from __future__ import annotations

import sys

sys.modules["tensorflow"] = None  # a PyTorch-only environment (see the docstring)

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from tb_perclass import PerClassWriter  # noqa: E402
from tests.object_stores import MotoS3Server, TcpRelay, environment  # noqa: E402

BATCH = 256
STATS = ("loss", "count", "correct", "nonfinite", "nonfinite_outputs")


class Variant:
    """One writer, and what each of its steps cost: seconds and bytes sent through `relay`
    (shared by the variants whose uploads happen inside the timed call)."""

    def __init__(self, name, relay: TcpRelay, steps: int, step_action, close_action, prepare=None):
        self.name, self.relay, self.steps = name, relay, steps
        self.step_action, self.close_action = step_action, close_action
        self.prepare = prepare  # untimed work before each step (our update())
        self.seconds: list[float] = []
        self.sent: list[int] = []
        self.close_seconds = 0.0
        self.close_sent = 0

    def run(self, step: int) -> None:
        if self.prepare is not None:
            self.prepare()
        before, start = self.relay.bytes_sent, time.perf_counter()
        self.step_action(step)
        self.seconds.append(time.perf_counter() - start)
        self.sent.append(self.relay.bytes_sent - before)

    def close(self) -> None:
        before, start = self.relay.bytes_sent, time.perf_counter()
        self.close_action()
        self.close_seconds = time.perf_counter() - start
        self.close_sent = self.relay.bytes_sent - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--torch-flushed-steps", type=int, default=100)
    args = parser.parse_args()
    from tensorboard.compat.tensorflow_stub.io import gfile
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(0)
    batch: dict[str, np.ndarray] = {}
    with MotoS3Server() as server:
        server.create_bucket("bench")
        synchronous, background = TcpRelay(server.port), TcpRelay(server.port)
        variants: dict[str, Variant] = {}
        with environment(server.env(synchronous.endpoint)):
            for segment in (256 << 10, 1 << 20, 4 << 20):
                writer = PerClassWriter(
                    f"s3://bench/perclass-{segment}",
                    num_classes=args.classes,
                    segment_bytes=segment,
                )

                def update(writer=writer):
                    writer.update(batch["logits"], batch["targets"])

                name = f"perclass, segment {segment >> 10} KiB"
                variants[name] = Variant(
                    name, synchronous, args.steps, writer.write, writer.close, prepare=update
                )
                variants[name].prefix = f"perclass-{segment}/"

        def torch_variant(name: str, relay: TcpRelay, steps: int, flush: bool) -> None:
            # TensorBoard's S3 filesystem reads S3_ENDPOINT when it is made, and a writer's file
            # keeps the filesystem it was opened with: one filesystem per relay.
            with environment(server.env(relay.endpoint)):
                gfile.register_filesystem("s3", gfile.S3FileSystem())
                writer = SummaryWriter(f"s3://bench/torch-{'flushed' if flush else 'default'}")

            def add_scalars(step):
                for row, stat in enumerate(STATS):
                    for c in range(args.classes):
                        writer.add_scalar(f"{stat}/class_{c:03d}", batch["stats"][row, c], step)
                if flush:
                    writer.flush()

            variants[name] = Variant(name, relay, steps, add_scalars, writer.close)
            variants[name].prefix = f"torch-{'flushed' if flush else 'default'}/"

        torch_variant("torch, flush each step", synchronous, args.torch_flushed_steps, True)
        torch_variant("torch, default flush_secs=120", background, args.steps, False)

        order = list(variants)
        shuffle = random.Random(0)
        for step in range(args.steps):
            targets = rng.integers(0, args.classes, BATCH)
            logits = rng.normal(size=(BATCH, args.classes)).astype(np.float32)
            logits[np.arange(BATCH), targets] += 3.0  # mostly right: a sparse confusion matrix
            batch.update(
                logits=logits, targets=targets, stats=rng.random((len(STATS), args.classes))
            )
            shuffle.shuffle(order)
            for name in order:
                if step < variants[name].steps:
                    variants[name].run(step)
        for variant in variants.values():
            variant.close()
            listing = server.client().list_objects_v2(Bucket="bench", Prefix=variant.prefix)
            sizes = [  # not the empty "directory" marker TensorBoard's S3 makedirs puts
                item["Size"]
                for item in listing.get("Contents", [])
                if not item["Key"].endswith("/")
            ]
            variant.objects, variant.stored = len(sizes), sum(sizes)
        synchronous.close()
        background.close()
    report(variants, args)


def report(variants: dict[str, Variant], args) -> None:
    print(f"\n{args.classes} classes, batch {BATCH}; bytes = what the client sent to S3")
    header = (
        f"{'variant':34} {'steps':>5} {'MB total':>9} {'KB/step':>8} {'KB last step':>12} "
        f"{'ms/write median':>15} {'p90':>7} {'close s':>7} {'objects':>7} {'stored KB/step':>14}"
    )
    print(header)
    print("-" * len(header))
    for name, v in variants.items():
        total = sum(v.sent) + v.close_sent
        ms = sorted(1000 * s for s in v.seconds)
        print(
            f"{name:34} {len(v.sent):5d} {total / 1e6:9.1f} {total / len(v.sent) / 1e3:8.1f} "
            f"{v.sent[-1] / 1e3:12.1f} {statistics.median(ms):15.2f} "
            f"{ms[int(0.9 * (len(ms) - 1))]:7.2f} {v.close_seconds:7.2f} {v.objects:7d} "
            f"{v.stored / len(v.sent) / 1e3:14.1f}"
        )
    flushed = variants["torch, flush each step"]
    if len(flushed.sent) < 2:
        return
    n = len(flushed.sent)
    # Quadratic: the k-th flush uploads k steps; extrapolate the measured mean step size.
    per_step = (flushed.sent[-1] - flushed.sent[0]) / max(n - 1, 1)
    projected = sum(flushed.sent[0] + per_step * k for k in range(args.steps))
    last = flushed.sent[0] + per_step * (args.steps - 1)
    print(
        f"\ntorch flushing each step, projected to {args.steps} steps from its {n} measured: "
        f"{projected / 1e9:.1f} GB uploaded, {last / 1e6:.1f} MB at the last step"
    )


if __name__ == "__main__":
    main()
