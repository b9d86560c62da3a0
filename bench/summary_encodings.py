"""What one step of tb-perclass data costs on disk and in TensorBoard's memory, per encoding.

Reads a sample of the steps of a run written by bench.long_run (the real writer, version 3)
and sets what they hold against the encodings version 2 wrote, with the bytes each takes in the
event file and in TensorBoard's reservoir (both loaders keep a TensorProto's repeated int64 as
8-byte integers, tensor_content and string values as their bytes) and the time to encode and
decode one step:

  stats       version 2: float64 tensor_content [5, C + 2]; float32 [8, C + 2] (with TP/FP/FN);
              version 3: the packed record
  confusion   version 2: int64_val COO triplets [nnz, 3]; int32 tensor_content COO;
              version 3: one sparse_counts blob

    python -m bench.summary_encodings LOGDIR/run_00 [--samples 50]
"""

from __future__ import annotations

import argparse
import glob
import os
import struct
import time

import numpy as np
from tensorboard.compat.proto import event_pb2, tensor_pb2, types_pb2
from tensorboard.util import tensor_util

from tb_perclass.format import decode, metadata, packed_arrays, sparse_counts


def read_events(run_dir: str):
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        with open(path, "rb") as handle:
            data = handle.read()
        position = 0
        while position + 12 <= len(data):
            (length,) = struct.unpack("<Q", data[position : position + 8])
            yield event_pb2.Event.FromString(data[position + 12 : position + 12 + length])
            position += 12 + length + 4


def best_time(function, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def int64_tensor(array: np.ndarray) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_INT64, int64_val=array.ravel().tolist())


def step_costs(stats_value, confusion_value, meta_stats, meta_confusion) -> dict[str, tuple]:
    """{encoding: (disk bytes, memory bytes, encode s, decode s)} of one step."""
    classes = meta_stats.num_classes
    array = tensor_util.make_ndarray(stats_value.tensor)
    found = decode.stats(array, classes)
    v2 = found["matrix"]
    wide = np.concatenate([v2, np.zeros((3, classes + 2))]).astype(np.float32)
    record = packed_arrays.unpack(array.item())
    costs = {}
    proto = tensor_util.make_tensor_proto(v2)
    costs["stats v2 float64 [5, C+2]"] = (proto.ByteSize(), v2.nbytes, 0.0, 0.0)
    costs["stats float32 [8, C+2]"] = (wide.nbytes + 16, wide.nbytes, 0.0, 0.0)
    packed = array.item()
    costs["stats v3 packed record"] = (
        stats_value.tensor.ByteSize(),
        len(packed),
        best_time(lambda: packed_arrays.pack(record)),
        best_time(lambda: packed_arrays.unpack(packed)),
    )
    if confusion_value is not None:
        matrix = decode.confusion(tensor_util.make_ndarray(confusion_value.tensor), meta_confusion)
        true, predicted = np.nonzero(matrix)
        triplets = np.stack([true, predicted, matrix[true, predicted]], axis=1)
        coo = int64_tensor(triplets)
        costs["confusion v2 int64_val COO"] = (coo.ByteSize(), triplets.size * 8, 0.0, 0.0)
        costs["confusion int32 tensor_content COO"] = (triplets.size * 4 + 16,) * 2 + (0.0, 0.0)
        blob = tensor_util.make_ndarray(confusion_value.tensor).reshape(-1)[0]
        costs["confusion v3 sparse_counts blob"] = (
            confusion_value.tensor.ByteSize(),
            len(blob),
            best_time(lambda: sparse_counts.encode_dense(matrix)),
            best_time(lambda: sparse_counts.decode(blob)),
        )
        costs["(nonzero cells)"] = (len(triplets),) * 2 + (0.0, 0.0)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--samples", type=int, default=50, help="steps to look at")
    args = parser.parse_args()
    events = [e for e in read_events(args.run_dir) if e.HasField("summary")]
    parsed: dict[str, metadata.PerClassMetadata] = {}
    rows: dict[str, list[tuple]] = {}
    metadata_bytes = 0
    for index, event in enumerate(events):
        values = {}
        for value in event.summary.value:
            if value.metadata.plugin_data.content:
                parsed[value.tag] = metadata.parse_plugin_content(
                    value.metadata.plugin_data.content
                )
                metadata_bytes += value.metadata.ByteSize()
            values[metadata.split_tag(value.tag)[1]] = value
        if index % max(1, len(events) // args.samples):
            continue
        stats, confusion = values["stats"], values.get("confusion")
        costs = step_costs(
            stats, confusion, parsed[stats.tag], parsed.get(confusion.tag) if confusion else None
        )
        for name, figures in costs.items():
            rows.setdefault(name, []).append(figures)
    print(f"{len(events)} steps; metadata written once per tag: {metadata_bytes / 1024:.1f} KiB")
    print(f"{'encoding':38s}{'disk KiB':>10s}{'memory KiB':>12s}{'enc ms':>8s}{'dec ms':>8s}")
    for name, figures in rows.items():
        disk, memory, encode, decoded = (float(np.mean([f[i] for f in figures])) for i in range(4))
        if name.startswith("("):
            print(f"{name:38s}{disk:10.0f}")
            continue
        print(
            f"{name:38s}{disk / 1024:10.1f}{memory / 1024:12.1f}"
            f"{encode * 1e3:8.2f}{decoded * 1e3:8.2f}"
        )


if __name__ == "__main__":
    main()
