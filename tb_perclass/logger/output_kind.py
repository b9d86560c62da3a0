"""Whether a batch's outputs look like logits or like probabilities, against `from_logits`.

Softmax or sigmoid outputs given to a writer that expects logits (the default) give wrong
per-class losses and, for binary and multilabel tasks, a positive prediction for every sample,
without any error; logits given with `from_logits=False` are as wrong. The writer checks the
first batch after each write (a few reductions on the device, whose counts go into the stats
table's check row and are read back with the table by `write()`, so `update()` never waits),
and warns once when the evidence is clear:

- `from_logits=True`: a multiclass row looks like probabilities when its values are all in
  [0, 1] and sum to 1 within `SUM_TOLERANCE`; a binary or multilabel score when it lies in
  [0, 1]. Logits can do either by chance (early in training, a binary model's logits may all sit
  in [0, 1]), so the warning needs every finite output checked so far, and at least
  `MIN_CHECKED` of them, to look so.
- `from_logits=False`: a value below 0 or above 1 is never a probability; one is enough.

Rows or scores that are not finite are not evidence either way (they are counted apart).
"""

from __future__ import annotations

from typing import Any

from tb_perclass.format import metadata
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.spec import TaskSpec

# Softmax sums to 1 within a few float32 ulps; the slack covers float16 and bfloat16 outputs.
SUM_TOLERANCE = 0.01
MIN_CHECKED = 16

# The check row's columns.
CHECKED, SUSPICIOUS = 0, 1


def applies(task: str) -> bool:
    return task != metadata.TASK_REGRESSION


def evidence(ops: ArrayOps, outputs: Any, spec: TaskSpec) -> tuple[Any, Any]:
    """Per row (multiclass) or score (binary, multilabel), on the device: whether it was checked
    (finite) and whether it looks like the other kind than `spec.from_logits` says."""
    if spec.task == metadata.TASK_MULTICLASS:
        total = ops.sum_rows(outputs)
        checked = ops.is_finite(total)  # a NaN or infinite output makes the sum so
        below_zero = ops.less(ops.min_rows(outputs), 0.0)
        if spec.from_logits:
            sums_to_one = ops.less(ops.abs(total - 1.0), SUM_TOLERANCE)
            looks_other = ops.logical_and(ops.logical_not(below_zero), sums_to_one)
        else:
            top, _ = ops.max_rows(outputs)
            looks_other = ops.logical_or(below_zero, ops.greater(top, 1.0))
    else:
        scores = ops.reshape(outputs, (-1,))
        checked = ops.is_finite(scores)
        outside = ops.logical_or(ops.less(scores, 0.0), ops.greater(scores, 1.0))
        looks_other = ops.logical_not(outside) if spec.from_logits else outside
    return checked, ops.logical_and(checked, looks_other)


def verdict(task: str, from_logits: bool, checked: int, suspicious: int) -> str | None:
    """The problem the counts so far show (text for a warning), or None."""
    if from_logits:
        if checked < MIN_CHECKED or suspicious < checked:
            return None
        if task == metadata.TASK_MULTICLASS:
            seen = (
                f"all {checked} output rows checked so far are probability distributions "
                f"(values in [0, 1] summing to 1 within {SUM_TOLERANCE})"
            )
        else:
            seen = f"all {checked} outputs checked so far lie in [0, 1], as sigmoid outputs do"
        return (
            f"{seen}, but the writer takes them as logits (from_logits=True, the default), "
            "which gives wrong per-class losses"
            + (
                ""
                if task == metadata.TASK_MULTICLASS
                else " and a positive prediction for every sample"
            )
            + ". If the model ends with a softmax or sigmoid, pass from_logits=False; if these "
            "really are logits, ignore this warning"
        )
    if suspicious == 0:
        return None
    what = "output rows" if task == metadata.TASK_MULTICLASS else "outputs"
    return (
        f"{suspicious} of {checked} {what} checked so far have values below 0 or above 1, "
        "which probabilities never have, but the writer takes them as probabilities "
        "(from_logits=False), which gives wrong per-class losses and predictions. If the "
        "outputs are logits (no softmax or sigmoid at the end, or log-probabilities), pass "
        "from_logits=True"
    )


def settled(from_logits: bool, checked: int, suspicious: int) -> bool:
    """True when more batches cannot change the verdict: logits expected and one output
    already did not look like probabilities."""
    return from_logits and suspicious < checked


class OutputKindMonitor:
    """The counts of the batches checked so far, on the host; says when to warn (once)."""

    def __init__(self, task: str, from_logits: bool):
        self._task, self._from_logits = task, from_logits
        self.checked = 0
        self.suspicious = 0
        self.done = not applies(task)

    def add(self, checked: int, suspicious: int) -> str | None:
        """Adds one write's counts; returns the warning text the first time there is one."""
        if self.done:
            return None
        self.checked += checked
        self.suspicious += suspicious
        message = verdict(self._task, self._from_logits, self.checked, self.suspicious)
        self.done = message is not None or settled(self._from_logits, self.checked, self.suspicious)
        return message
