"""Scoring a batch's mistakes on the device, for the `samples` kind.

Only used when `update()` is given `inputs`. Each element's confidence (for mistakes) is computed
on the device with fixed-size operations, and one small block of numbers per batch goes to the
host, where the kept set is updated; the caller then fetches the inputs of just the mistakes it
keeps. Right after a training step each small operation costs tens of microseconds on a CPU, so
this path uses as few as it can.
"""

from __future__ import annotations

from typing import Any

from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.tasks.batch import Batch

# Columns of the candidate block.
SCORE, ROW, CELL, LOSS, ELEMENT = range(5)

# Batches of up to this many elements per kept sample are sent whole (one small block, no
# sort on the device: fewer operations); larger ones (e.g. multilabel with many labels) are cut
# to their top `limit` mistakes on the device first, to bound the transfer.
WHOLE_BLOCK_FACTOR = 4


def candidates(ops: ArrayOps, batch: Batch, spec: TaskSpec, limit: int) -> Any:
    """A block of the batch's elements: [score, row, cell, loss] and, when cut on the device,
    [..., element]. The score is the confidence of a mistake and -inf for everything else.

    A mistake is a wrong prediction of an element with a valid target (not invalid, not
    ignored) and finite outputs. No batch can contribute more than `limit` samples to the kept
    set, so a block cut to its top `limit` is exact.
    """
    score = ops.where(batch.correct, float("-inf"), batch.confidence)
    score = ops.where(ops.is_finite(batch.decided_by), score, float("-inf"))
    if spec.ignore_index is not None or not ops.is_on_host(batch.rows):
        score = ops.where(ops.less(batch.rows, spec.num_classes), score, float("-inf"))
    columns = [score, batch.rows, batch.cells, batch.losses]
    if batch.size <= WHOLE_BLOCK_FACTOR * limit:
        return ops.stack_columns(columns)
    values, element = ops.top_k(score, limit)
    return ops.stack_columns([values] + [ops.gather(c, element) for c in columns[1:]] + [element])
