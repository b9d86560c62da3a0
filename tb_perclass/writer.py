"""`PerClassWriter`: accumulate per-class statistics over batches, then write one summary set
per step.

The flow is the one of DESIGN.md section 2: `update()` validates a batch (shapes and dtypes
only) and scatter-adds it into a state table on the data's device, without waiting for the
device; `write(step)` moves that table to the host once, builds the summaries with
`tb_perclass.summary` and hands them to a sink (`tb_perclass.sinks`), then resets the state.
"""

from __future__ import annotations

import operator
import time
import warnings
import weakref
from typing import Any, Sequence

from tb_perclass import metadata, summary
from tb_perclass.sinks import Sink, open_sink
from tb_perclass.stats import arrays, inputs, perclass
from tb_perclass.stats.losses import CROSS_ENTROPY
from tb_perclass.stats.perclass import PerClassStats

# Display name of the loss when the caller passes `losses=` and no `loss_name`.
USER_LOSS_NAME = "loss"


class PerClassWriter:
    """Records per-class loss and accuracy of a classifier as TensorBoard summaries.

    Args:
      logdir: where to write. A directory (one run, e.g. "runs/exp1/train"); an existing
        `torch.utils.tensorboard.SummaryWriter`; a `tf.summary` writer; or None for the default
        `tf.summary` writer at the time of each `write()`.
      class_names: one display name per class, in output order. Fixes the number of classes.
      num_classes: the number of classes when there are no names (they become "0", "1", ...).
        With neither, the count is taken from the first batch's outputs.
      name: tag prefix; a model with several heads uses one writer and name per head.
      from_logits: whether outputs are logits (default) or probabilities; only used to compute
        the per-sample cross-entropy when `update()` is not given `losses`.
      loss_name: display name of the loss. Defaults to "cross_entropy" when the writer computes
        the losses and "loss" when they are passed to `update()`.
    """

    def __init__(
        self,
        logdir: Any,
        class_names: Sequence[str] | None = None,
        num_classes: int | None = None,
        name: str = metadata.DEFAULT_NAME,
        *,
        from_logits: bool = True,
        loss_name: str | None = None,
    ):
        self._name = metadata.validate_name(name)
        self._class_names = _check_class_names(class_names, num_classes)
        self._from_logits = bool(from_logits)
        self._loss_name = loss_name
        self._sink: Sink = open_sink(logdir)
        self._ops: arrays.ArrayOps | None = None
        self._device: str | None = None
        self._table: Any = None
        self._pending = False
        self._losses_given: bool | None = None
        self._warned_empty = False
        self._closed = False
        # Closes our own event file at interpreter exit or when the writer is collected.
        self._finalizer = weakref.finalize(self, self._sink.close)

    @property
    def class_names(self) -> tuple[str, ...] | None:
        return self._class_names

    @property
    def num_classes(self) -> int | None:
        return None if self._class_names is None else len(self._class_names)

    @property
    def name(self) -> str:
        return self._name

    def update(self, outputs: Any, targets: Any, losses: Any = None) -> None:
        """Adds one batch. Never waits for the device.

        Args:
          outputs: scores of shape (batch, num_classes): logits, or probabilities with
            `from_logits=False`. A NumPy array, torch.Tensor or tf.Tensor.
          targets: class indices of shape (batch,) (integers), or one-hot / soft targets of
            shape (batch, num_classes); same library and device as `outputs`.
          losses: optional per-sample losses of shape (batch,), e.g.
            `F.cross_entropy(logits, y, reduction="none")`. Computed from the outputs if omitted.
        """
        self._check_open()
        ops, batch = arrays.as_batch({"outputs": outputs, "targets": targets, "losses": losses})
        outputs, targets, losses = batch["outputs"], batch["targets"], batch["losses"]
        self._check_same_place(ops, outputs)
        num_classes = self.num_classes or inputs.infer_num_classes(ops, outputs)
        formatted = inputs.multiclass_batch(
            ops, outputs, targets, losses, num_classes=num_classes, from_logits=self._from_logits
        )
        if formatted.size == 0:
            return
        if self._table is None:
            self._class_names = self._class_names or tuple(str(i) for i in range(num_classes))
            self._ops, self._device = ops, ops.device(outputs)
            self._table = perclass.new_table(ops, num_classes, like=outputs)
        self._table = perclass.update_table(ops, self._table, formatted)
        self._pending = True
        if self._losses_given is None:
            self._losses_given = losses is not None

    def write(self, step: int, *, wall_time: float | None = None) -> PerClassStats | None:
        """Writes the statistics accumulated since the last write as step `step`, then resets.

        Returns the step's per-class statistics, or None (with a warning, once) when nothing was
        added since the last write.
        """
        self._check_open()
        step = _check_step(step)
        if not self._pending:
            if not self._warned_empty:
                self._warned_empty = True
                warnings.warn(
                    f"PerClassWriter(name={self._name!r}).write(step={step}) found no update() "
                    "since the last write; nothing was written for this step (this warning is "
                    "shown once per writer)",
                    RuntimeWarning,
                    stacklevel=2,
                )
            return None
        host_table = self._ops.to_numpy(self._table)
        self._table = self._ops.reset(self._table)
        self._pending = False
        stats, out_of_range = perclass.compute_stats(host_table)
        if out_of_range:
            raise ValueError(
                f"{out_of_range} targets since the last write were outside [0, "
                f"{self.num_classes}) (checked on the device, so reported here rather than in "
                f"update()); step {step} was not written and the state was reset. Fix the "
                "labels, or create the writer with class_names/num_classes covering every label"
            )
        self._sink.write(
            summary.stats_pb(
                self._name,
                loss=stats.loss,
                count=stats.count,
                correct=stats.correct,
                nonfinite=stats.nonfinite,
                class_names=self._class_names,
                loss_name=self._display_loss_name(),
            ),
            step,
            time.time() if wall_time is None else float(wall_time),
        )
        return stats

    def reset(self) -> None:
        """Drops what was accumulated since the last write."""
        if self._table is not None:
            self._table = self._ops.reset(self._table)
        self._pending = False

    def flush(self) -> None:
        """Flushes the sink. Every `write()` already flushes before it returns; this is for
        a shared SummaryWriter holding other data of yours."""
        self._check_open()
        self._sink.flush()

    def close(self) -> None:
        """Closes the writer's own event file (a given SummaryWriter is only flushed)."""
        if not self._closed:
            self._closed = True
            self._finalizer()

    def __enter__(self) -> "PerClassWriter":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _display_loss_name(self) -> str:
        if self._loss_name is not None:
            return self._loss_name
        return USER_LOSS_NAME if self._losses_given else CROSS_ENTROPY

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"PerClassWriter(name={self._name!r}) is closed")

    def _check_same_place(self, ops: arrays.ArrayOps, outputs: Any) -> None:
        if self._ops is None:
            return
        if ops is not self._ops:
            raise TypeError(
                f"this writer's state holds {self._ops.name} arrays since its first update(); "
                f"got {ops.name} arrays now. Use one writer per framework"
            )
        device = ops.device(outputs)
        if device != self._device:
            raise ValueError(
                f"this writer's state lives on {self._device} since its first update(); got "
                f"arrays on {device}. Move them to {self._device}, or use one writer per device"
            )


def _check_class_names(
    class_names: Sequence[str] | None, num_classes: int | None
) -> tuple[str, ...] | None:
    if num_classes is not None:
        num_classes = operator.index(num_classes)
        if num_classes < 2:
            raise ValueError(f"num_classes={num_classes}; a classifier has at least 2 classes")
    if class_names is None:
        return None if num_classes is None else tuple(str(i) for i in range(num_classes))
    if isinstance(class_names, (str, bytes)):
        raise TypeError("class_names must be a sequence of names, e.g. ['cat', 'dog'], not a string")
    names = tuple(str(n) for n in class_names)
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(
            f"class_names has {len(names)} names but num_classes={num_classes}; pass one name "
            "per class (or only one of the two arguments)"
        )
    if len(names) < 2:
        raise ValueError(f"class_names has {len(names)} name(s); a classifier has at least 2 classes")
    seen: dict[str, int] = {}
    for index, class_name in enumerate(names):
        if class_name in seen:
            raise ValueError(
                f"class_names has {class_name!r} at positions {seen[class_name]} and {index}; "
                "names must be unique"
            )
        seen[class_name] = index
    return names


def _check_step(step: Any) -> int:
    try:
        return operator.index(step)
    except TypeError:
        raise TypeError(f"step must be an integer, e.g. the epoch; got {step!r}") from None
