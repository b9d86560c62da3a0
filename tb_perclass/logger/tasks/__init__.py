"""One module per task, each with the same two stages, registered by task name:

- `check(ops, outputs, targets, losses, spec)`: shapes and dtypes, free on any device;
- `to_batch(ops, outputs, targets, losses, spec, with_confidence)`: the batch as the common
  `Batch` of elements (`batch`), with its losses computed when not given.

Checks that need values (labels in range, targets in {0, 1}, finite regression targets) happen
at once when the data is in host memory; on an accelerator, offending elements are routed to a
spare row of the state instead and reported by `write()`, so `update()` never waits for the
device. A new task is a new module with these functions (and `infer_num_classes`), added to
`TASKS` and to `metadata.TASKS`.
"""

from __future__ import annotations

from typing import Any

from tb_perclass.format import metadata
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.tasks import binary, multiclass, multilabel, regression
from tb_perclass.logger.tasks.batch import Batch

TASKS = {
    metadata.TASK_MULTICLASS: multiclass,
    metadata.TASK_BINARY: binary,
    metadata.TASK_MULTILABEL: multilabel,
    metadata.TASK_REGRESSION: regression,
}

__all__ = ["TASKS", "Batch", "format_batch", "infer_num_classes"]


def format_batch(
    ops: ArrayOps,
    outputs: Any,
    targets: Any,
    losses: Any,
    spec: TaskSpec,
    with_confidence: bool = False,
) -> Batch:
    """One `update()` batch of `spec.task`, checked, as elements."""
    task = TASKS[spec.task]
    task.check(ops, outputs, targets, losses, spec)
    return task.to_batch(ops, outputs, targets, losses, spec, with_confidence)


def infer_num_classes(ops: ArrayOps, outputs: Any, task: str) -> int:
    """The class (or label) count implied by the outputs, for writers created without one."""
    return TASKS[task].infer_num_classes(ops, outputs)
