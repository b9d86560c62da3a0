"""Picking a batch's most confident mistakes on the device, for the `samples` kind.

Only used when `update()` is given `inputs`. The batch's candidates are chosen on the device with
fixed-size operations (a top-k), so the only transfer is one small block of (score, element, row,
cell, loss) per batch; the caller then fetches the inputs of just the candidates it keeps.
"""

from __future__ import annotations

from typing import Any

from tb_perclass.stats.arrays import ArrayOps
from tb_perclass.stats.batches import Batch, TaskSpec

# Columns of the candidate block.
SCORE, ELEMENT, ROW, CELL, LOSS = range(5)


def candidates(ops: ArrayOps, batch: Batch, spec: TaskSpec, floor: float, limit: int) -> Any:
    """[m, 5] block of the batch's mistakes with confidence above `floor`, most confident
    first, m = min(limit, elements); rows whose score is -inf are padding, not mistakes.

    A mistake is a wrong prediction of an element with a valid target (not invalid, not
    ignored). No batch can contribute more than `limit` samples to the kept set, so looking at
    its top `limit` is exact.
    """
    wrong = ops.logical_and(ops.logical_not(batch.correct), ops.less(batch.rows, spec.num_classes))
    eligible = ops.logical_and(wrong, ops.greater(batch.confidence, floor))
    score = ops.where(eligible, batch.confidence, float("-inf"))
    values, element = ops.top_k(score, min(limit, batch.size))
    return ops.stack_columns(
        [
            values,
            element,
            ops.gather(batch.rows, element),
            ops.gather(batch.cells, element),
            ops.gather(batch.losses, element),
        ]
    )
