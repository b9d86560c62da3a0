"""`PerClassWriter.update()` of this working tree against another git revision, side by side in
one process (CPU, PyTorch).

The other revision's `tb_perclass` is exported with `git archive` and imported first; its modules
are then set aside and this tree's package is imported, so both run in the same process,
interleaved call by call (machines are noisy: never one after the other). Reports the median
time of each and the median of the per-repeat ratios (this tree / the other).

    python -m bench.update_ab [--against main] [--repeats 2000] [--scores] [--threads N]
        [--clock cpu]

With --scores both writers record score histograms (`scores=True`), so that the cost of the
score update is compared too. --clock cpu times calls by this thread's CPU time (see
`bench.common.interleaved`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BATCH = 256


def export_revision(revision: str, into: str) -> None:
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", revision, "tb_perclass"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def import_both(revision: str, scratch: str):
    """(the revision's PerClassWriter, this tree's PerClassWriter)."""
    export_revision(revision, scratch)
    sys.path.insert(0, scratch)
    other = importlib.import_module("tb_perclass").PerClassWriter  # (a lazy attribute)
    warm_up(other, os.path.join(scratch, "warm"))  # loads its lazy modules
    for name in [n for n in sys.modules if n == "tb_perclass" or n.startswith("tb_perclass.")]:
        del sys.modules[name]  # the revision's modules stay alive through its objects
    sys.path.remove(scratch)
    importlib.invalidate_caches()
    this = importlib.import_module("tb_perclass").PerClassWriter
    assert other.write.__globals__["__file__"] != this.write.__globals__["__file__"]
    return other, this


def warm_up(writer_class, logdir: str) -> None:
    writer = writer_class(logdir, num_classes=3)
    writer.update(torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
    writer.write(0)
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--scores", action="store_true", help="writers with scores=True")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, CPU; "
        f"this tree / {args.against}{'; scores=True' if args.scores else ''}; {args.clock} "
        f"time; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as scratch:
        other_class, this_class = import_both(args.against, scratch)
        from bench.common import CLOCKS, interleaved  # imports this tree's package (the demo)

        for num_classes in (10, 1000):
            logits = torch.randn(BATCH, num_classes)
            targets = torch.randint(0, num_classes, (BATCH,))
            losses = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
            writers = {
                label: cls(
                    os.path.join(scratch, f"{label}{num_classes}"),
                    num_classes=num_classes,
                    scores=args.scores,
                )
                for label, cls in (("other", other_class), ("this", this_class))
            }
            for given in (True, False):
                extra = {"losses": losses} if given else {}
                times = interleaved(
                    {
                        label: (lambda w=w, x=logits, y=targets, e=extra: w.update(x, y, **e))
                        for label, w in writers.items()
                    },
                    args.repeats,
                    clock=CLOCKS[args.clock],
                )
                ratio = statistics.median(t / o for t, o in zip(times["this"], times["other"]))
                print(
                    f"C={num_classes:5d} losses {'given   ' if given else 'computed'}"
                    f"  {args.against} {statistics.median(times['other']) * 1e6:7.1f} us"
                    f"  this {statistics.median(times['this']) * 1e6:7.1f} us"
                    f"  ratio {ratio:.3f}"
                )
            for writer in writers.values():
                writer.write(0)
                writer.close()


if __name__ == "__main__":
    main()
