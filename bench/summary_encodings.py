"""What one step of tb-perclass data costs on disk and in TensorBoard's memory, per encoding.

Reads the steps of a run written by bench/long_run.py (the real writer) and re-encodes a sample
of them: the `stats` tensor and the `confusion` counts as written today (version 2) and in the
candidate encodings, with the bytes each takes in the event file, in TensorBoard's reservoir
(both loaders keep a TensorProto's repeated int64 as 8-byte integers and tensor_content /
string values as their bytes), and the time to encode and decode one step.

    python bench/summary_encodings.py LOGDIR/run_00 [--samples 50]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import struct
import sys
import time
import zlib

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tensorboard.compat.proto import event_pb2, tensor_pb2, types_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

from tb_perclass import sparse_counts  # noqa: E402


def read_events(run_dir: str):
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        with open(path, "rb") as f:
            data = f.read()
        pos = 0
        while pos + 12 <= len(data):
            (length,) = struct.unpack("<Q", data[pos : pos + 8])
            record = data[pos + 12 : pos + 12 + length]
            pos += 12 + length + 4
            yield event_pb2.Event.FromString(record)


def timed(function, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def shuffle_bytes(array: np.ndarray) -> bytes:
    """Byte planes of a numeric array (all first bytes, then all second bytes, ...)."""
    return np.ascontiguousarray(array).view(np.uint8).reshape(-1, array.itemsize).T.tobytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--samples", type=int, default=50, help="steps to re-encode")
    args = parser.parse_args()

    events = [e for e in read_events(args.run_dir) if e.HasField("summary")]
    chosen = np.unique(np.linspace(0, len(events) - 1, args.samples).astype(int))
    rows: dict[str, list[tuple[float, float, float, float]]] = {}

    def add(name, disk, memory, encode_s, decode_s):
        rows.setdefault(name, []).append((disk, memory, encode_s, decode_s))

    metadata_bytes = []
    nonzero = []
    for index in chosen:
        values = {v.tag.rsplit("/", 1)[1]: v for v in events[index].summary.value}
        metadata_bytes.append(sum(v.metadata.ByteSize() for v in values.values()))
        stats_proto = values["stats"].tensor
        stats = tensor_util.make_ndarray(stats_proto)
        classes = stats.shape[1] - 2
        # --- stats ---
        add("stats v2: float64 tensor_content [5, C+2]", stats_proto.ByteSize(), stats.nbytes,
            timed(lambda: tensor_util.make_tensor_proto(stats)), timed(lambda: tensor_util.make_ndarray(stats_proto)))  # fmt: skip
        # A version-3 layout: two more rows (predicted, positives) in float32.
        v3 = np.concatenate([stats, stats[1:3]]).astype(np.float32)
        proto32 = tensor_util.make_tensor_proto(v3)
        add("stats float32 tensor_content [7, C+2]", proto32.ByteSize(), v3.nbytes,
            timed(lambda: tensor_util.make_tensor_proto(v3)), timed(lambda: tensor_util.make_ndarray(proto32)))  # fmt: skip
        packed = zlib.compress(shuffle_bytes(v3), 6)
        add("stats float32 [7, C+2], byte planes + zlib 6 (DT_STRING)", len(packed) + 16, len(packed),
            timed(lambda: zlib.compress(shuffle_bytes(v3), 6)), timed(lambda: zlib.decompress(packed)))  # fmt: skip
        # --- confusion ---
        confusion_proto = values["confusion"].tensor
        triplets = tensor_util.make_ndarray(confusion_proto)
        nonzero.append(len(triplets))
        add("confusion v2: int64_val COO [nnz, 3] (varints on disk)", confusion_proto.ByteSize(),
            triplets.size * 8, timed(lambda: _int64_tensor(triplets)),
            timed(lambda: tensor_util.make_ndarray(confusion_proto)))  # fmt: skip
        as32 = triplets.astype(np.int32)
        add("confusion int32 tensor_content COO [nnz, 3]", as32.nbytes + 16, as32.nbytes,
            timed(lambda: tensor_util.make_tensor_proto(as32)), 0.0)
        cells = triplets[:, 0] * classes + triplets[:, 1]
        order = np.argsort(cells)
        cells, counts = cells[order], triplets[order, 2]
        blob = sparse_counts.encode(cells, counts, classes)
        add("confusion sparse_counts varint gaps + counts (blob)", len(blob) + 16, len(blob),
            timed(lambda: sparse_counts.encode(cells, counts, classes)), timed(lambda: sparse_counts.decode(blob)))  # fmt: skip
        for level in (1, 6):
            squeezed = zlib.compress(blob, level)
            add(f"confusion sparse_counts + zlib {level} (blob)", len(squeezed) + 16, len(squeezed),
                timed(lambda: zlib.compress(sparse_counts.encode(cells, counts, classes), level)),
                timed(lambda: sparse_counts.decode(zlib.decompress(squeezed))))  # fmt: skip
        planes = zlib.compress(shuffle_bytes(cells.astype(np.uint32)) + shuffle_bytes(counts.astype(np.uint16)), 6)
        add("confusion uint32 cells + uint16 counts, byte planes + zlib 6 (blob)", len(planes) + 16,
            len(planes), 0.0, 0.0)

    print(f"{len(chosen)} of {len(events)} steps; {classes} classes; "
          f"{np.mean(nonzero):.0f} nonzero confusion cells per step on average; metadata "
          f"{np.mean(metadata_bytes) / 1024:.1f} KiB per step (all tags)")
    print(f"{'encoding':70s} {'disk KiB':>9s} {'memory KiB':>11s} {'B/cell':>7s} {'enc ms':>7s} {'dec ms':>7s}")
    summary = {}
    for name, values in rows.items():
        disk, memory, enc, dec = (float(np.mean([v[i] for v in values])) for i in range(4))
        per_cell = memory / np.mean(nonzero) if name.startswith("confusion") else memory / classes
        print(f"{name:70s} {disk / 1024:9.1f} {memory / 1024:11.1f} {per_cell:7.2f} "
              f"{enc * 1e3:7.2f} {dec * 1e3:7.2f}")
        summary[name] = {"disk_bytes": disk, "memory_bytes": memory, "encode_s": enc, "decode_s": dec}
    print("(B/cell: memory bytes per nonzero cell for confusion, per class for stats)")
    print(json.dumps({"nonzero_cells": float(np.mean(nonzero)), "encodings": summary}))


def _int64_tensor(array: np.ndarray) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_INT64, int64_val=array.ravel().tolist())


if __name__ == "__main__":
    main()
