"""A prototype of the version-3 summaries, as a converter: a version-2 run in, the same data out.

Version 3 (see /work/wt/notes/scale-design.md while it is a prototype) stores:
  stats      a DT_STRING scalar tensor (data class TENSOR) holding `packed_arrays` bytes:
             loss <f4 [C]; count, correct, nonfinite, nonfinite_outputs, and tp, fp, fn when
             confusion counts are recorded (the smallest unsigned dtype that holds them) [C];
             elements [2] (invalid targets, ignored)
  confusion  a DT_STRING [1] tensor (data class BLOB_SEQUENCE) holding `sparse_counts` bytes,
             so that the plugin reads one step with read_blob instead of every step
  metadata   with the first value of each tag only, as TensorFlow's own writers do

`tp`, `fp`, `fn` come from the confusion matrix (the writer has them from its state at
write()); with them, curves and reports need no confusion matrix.

    python bench/prototype_v3.py IN_RUN_DIR OUT_RUN_DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

from summary_encodings import read_events  # noqa: E402
from tb_perclass import metadata, packed_arrays, sparse_counts  # noqa: E402
from tb_perclass.sinks import EventFileSink  # noqa: E402

VERSION = 3


def metadata_v3(parsed: metadata.PerClassMetadata, kind: str, data_class: int, **extra):
    content = {
        "version": VERSION,
        "kind": kind,
        "task": parsed.task,
        "class_names": list(parsed.class_names),
        "loss": parsed.loss,
        **extra,
    }
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=metadata.PLUGIN_NAME, content=json.dumps(content, separators=(",", ":")).encode()
        ),
        data_class=data_class,
    )


def smallest_unsigned(values: np.ndarray) -> np.ndarray:
    top = int(values.max(initial=0))
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype)
    raise ValueError("counts beyond uint64")


def string_tensor(values: list[bytes], shape: list[int]) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in shape]
        ),
        string_val=values,
    )


def stats_v3(stats_v2: np.ndarray, true_false: tuple | None) -> tensor_pb2.TensorProto:
    classes = stats_v2.shape[1] - 2
    rows = dict(zip(metadata.STATS_ROWS, stats_v2[:, :classes]))
    counts = {name: rows[name] for name in ("count", "correct", "nonfinite", "nonfinite_outputs")}
    if true_false is not None:
        counts.update(zip(("tp", "fp", "fn"), true_false))
    arrays = {"loss": rows["loss"].astype(np.float32)}
    arrays.update({k: smallest_unsigned(np.rint(v).astype(np.uint64)) for k, v in counts.items()})
    arrays["elements"] = smallest_unsigned(np.rint(stats_v2[1, classes:]).astype(np.uint64))
    return string_tensor([packed_arrays.pack(arrays)], [])


def convert(in_dir: str, out_dir: str, metadata_every_step: bool = False) -> None:
    sink = EventFileSink(out_dir)
    written: set[str] = set()
    parsed_by_tag: dict[str, metadata.PerClassMetadata] = {}
    for event in read_events(in_dir):
        if not event.HasField("summary"):
            continue
        values = {}
        for value in event.summary.value:
            if value.metadata.plugin_data.content:
                parsed_by_tag.setdefault(value.tag, metadata.parse_plugin_content(value.metadata.plugin_data.content))
            values[metadata.split_tag(value.tag)[1]] = value
        out = summary_pb2.Summary()
        confusion_value = values.get("confusion")
        stats_value = values["stats"]
        stats_parsed = parsed_by_tag[stats_value.tag]
        classes = stats_parsed.num_classes
        true_false = None
        if confusion_value is not None:
            triplets = tensor_util.make_ndarray(confusion_value.tensor)
            cells = triplets[:, 0] * classes + triplets[:, 1]
            order = np.argsort(cells)
            diagonal = triplets[:, 0] == triplets[:, 1]
            tp = np.bincount(triplets[diagonal, 0], triplets[diagonal, 2], classes)
            fp = np.bincount(triplets[:, 1], triplets[:, 2], classes) - tp
            fn = np.bincount(triplets[:, 0], triplets[:, 2], classes) - tp
            true_false = (tp, fp, fn)
        for kind, value in values.items():
            parsed = parsed_by_tag[value.tag]
            if kind == "stats":
                tensor = stats_v3(tensor_util.make_ndarray(value.tensor), true_false)
                meta = metadata_v3(parsed, kind, summary_pb2.DATA_CLASS_TENSOR)
            elif kind == "confusion":
                blob = sparse_counts.encode(cells[order], triplets[order, 2], classes)
                tensor = string_tensor([blob], [1])
                meta = metadata_v3(parsed, kind, summary_pb2.DATA_CLASS_BLOB_SEQUENCE, encoding="sparse_counts")
            else:
                tensor = value.tensor
                meta = metadata_v3(parsed, kind, summary_pb2.DATA_CLASS_BLOB_SEQUENCE, **parsed.extra)
            added = out.value.add(tag=value.tag, tensor=tensor)
            if metadata_every_step or value.tag not in written:
                added.metadata.CopyFrom(meta)
                written.add(value.tag)
        sink.write(out, event.step, event.wall_time)
    sink.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("in_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--metadata-every-step", action="store_true", help="as version 2 does")
    args = parser.parse_args()
    convert(args.in_dir, args.out_dir, args.metadata_every_step)


if __name__ == "__main__":
    main()
