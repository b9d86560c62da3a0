"""Pure functions that turn per-class results (NumPy arrays) into TensorBoard `Summary` protos.

Anyone with their own event writer can log tb-perclass data with these; `PerClassWriter` uses
them too. Nothing here touches a framework or a file.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2
from tensorboard.util import tensor_util

from tb_perclass import metadata


def stats_pb(
    name: str,
    *,
    loss: np.ndarray,
    count: np.ndarray,
    correct: np.ndarray,
    nonfinite: np.ndarray,
    class_names: Sequence[str],
    task: str = metadata.TASK_MULTICLASS,
    loss_name: str = "cross_entropy",
) -> summary_pb2.Summary:
    """A `stats` summary: the [4, C] float64 tensor of DESIGN.md section 3 under `<name>/stats`.

    `loss` is the mean finite per-sample loss per class (NaN where there was none), `count` the
    samples per class, `correct` the correct top-1 predictions per class and `nonfinite` the
    per-sample losses that were NaN or infinite (kept out of `loss`).
    """
    metadata.validate_name(name)
    rows = [np.asarray(r, dtype=np.float64) for r in (loss, count, correct, nonfinite)]
    num_classes = len(class_names)
    for row_name, row in zip(metadata.STATS_ROWS, rows):
        if row.shape != (num_classes,):
            raise ValueError(
                f"{row_name} has shape {row.shape}; expected ({num_classes},), one value per "
                "class name"
            )
    summary_metadata = metadata.create_summary_metadata(
        kind=metadata.KIND_STATS,
        task=task,
        class_names=class_names,
        loss=loss_name,
        description="Per-class loss statistics [loss, count, correct, nonfinite] x classes",
    )
    summary = summary_pb2.Summary()
    summary.value.add(
        tag=metadata.tag_for(name, metadata.KIND_STATS),
        metadata=summary_metadata,
        tensor=tensor_util.make_tensor_proto(np.stack(rows)),
    )
    return summary
