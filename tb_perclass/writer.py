"""`PerClassWriter`: accumulate per-class statistics over batches, then write one summary set
per step.

The flow is the one of DESIGN.md section 2: `update()` validates a batch (shapes and dtypes
only) and scatter-adds it into a state table on the data's device, without waiting for the
device; `write(step)` checks the step, moves that table to the host once, builds the summaries
with `tb_perclass.summary`, hands them to a sink (`tb_perclass.sinks`) and only then resets the
state, so a failed write loses nothing; then it warns about what the step's data showed.
"""

from __future__ import annotations

import dataclasses
import operator
import time
import warnings
import weakref
from typing import Any, Callable, Sequence

import numpy as np

from tb_perclass import destinations, distributed, media, metadata, notices, samples, steps
from tb_perclass import summary
from tb_perclass.sinks import Sink, open_sink
from tb_perclass.stats import arrays, batches, confusion, mistakes, output_kind, perclass
from tb_perclass.stats import losses as losses_module
from tb_perclass.stats.perclass import PerClassStats

# Display name of the loss when the caller passes `losses=` and no `loss_name`.
USER_LOSS_NAME = "loss"


class PerClassWriter:
    """Records per-class loss, accuracy and confusion counts of a classifier as TensorBoard
    summaries.

    Args:
      logdir: where to write. A local directory (one run, e.g. "runs/exp1/train"), created
        and checked for writing now; an existing `torch.utils.tensorboard.SummaryWriter`; a
        `tf.summary` writer; or None for the default `tf.summary` writer at the time of each
        `write()`. One live writer per (logdir, name): a second is refused.
      class_names: one display name per class (labels, for multilabel), in output order. Fixes
        the number of classes.
      num_classes: the number of classes when there are no names (they become "0", "1", ...).
        With neither, the count is taken from the first batch's outputs.
      name: tag prefix; a model with several heads uses one writer and name per head, and
        train and validation writers sharing one SummaryWriter need their own names.
      task: "multiclass" (outputs (B, C), prediction = argmax), "binary" (one score per sample,
        positive above `threshold`; two classes), "multilabel" (outputs (B, L), each label
        positive above its threshold) or "regression" (one value per sample, grouped by
        `bins`).
      from_logits: whether outputs are logits (default) or probabilities. `write()` warns
        once when the outputs clearly are the other kind (`stats.output_kind`).
      threshold: binary and multilabel only: the probability above which a prediction is
        positive (applied to sigmoid(outputs) for logits); one value, or one per label.
        Default 0.5.
      ignore_index: a target value whose samples (or, multilabel, sample-label pairs) are
        skipped entirely, e.g. -100 for padding; must not be a real class.
      confusion: record a confusion matrix per step (default). Costs (C + 2) x C numbers of
        device memory; turn off for very many classes.
      loss: the per-sample loss computed when `update()` gets no `losses`: a name
        ("cross_entropy" or "kl_divergence" for multiclass; "binary_cross_entropy", "hinge" or
        "squared_hinge" for binary and multilabel; "mse", "mae" or "msle" for regression; the
        first is the default; Keras spellings accepted), or a callable(outputs, targets)
        returning one value per sample (per sample and label for multilabel).
      bins: regression only: the edges between the target ranges that become the "classes",
        e.g. [0, 1, 5, 10] gives < 0, [0, 1), [1, 5), [5, 10) and >= 10. Predictions are
        binned alike (a correct prediction lands in its target's range).
      loss_name: display name of the loss; defaults to the loss's name, or "loss" when losses
        are passed to `update()`.
      samples_per_cell, max_samples: when `update()` gets `inputs`, at most this many
        misclassified samples are kept per confusion cell and in all, per step: the most
        confident mistakes.
      layout: "NCHW", "NHWC" or "NHW" for image inputs whose layout cannot be inferred.
      denormalize: optional callable mapping one image (HWC or HW float array) to values in
        [0, 1] (or uint8) for display, e.g. `lambda x: x * std + mean`.
      max_image_side: kept images larger than this are downscaled.
      distributed: in a torch.distributed run (an initialised process group of several ranks),
        `write()` sums every rank's state and only rank 0 writes; every rank must call it. Set
        to False to log each rank on its own.
    """

    def __init__(
        self,
        logdir: Any,
        class_names: Sequence[str] | None = None,
        num_classes: int | None = None,
        name: str = metadata.DEFAULT_NAME,
        *,
        task: str = metadata.TASK_MULTICLASS,
        from_logits: bool = True,
        threshold: float | Sequence[float] | None = None,
        ignore_index: int | None = None,
        confusion: bool = True,
        loss: str | Callable[[Any, Any], Any] | None = None,
        bins: Sequence[float] | None = None,
        loss_name: str | None = None,
        samples_per_cell: int = 8,
        max_samples: int = 256,
        layout: str | None = None,
        denormalize: Callable[[Any], Any] | None = None,
        max_image_side: int = media.DEFAULT_MAX_SIDE,
        distributed: bool = True,
    ):
        self._name = metadata.validate_name(name)
        if task not in metadata.TASKS:
            raise ValueError(f"task={task!r}; pass one of {', '.join(map(repr, metadata.TASKS))}")
        if task == metadata.TASK_BINARY:
            class_names, num_classes = binary_class_names(class_names, num_classes)
        self._bins: tuple[float, ...] = ()
        if task == metadata.TASK_REGRESSION:
            if bins is None:
                raise ValueError(
                    "task='regression' needs bins=[...], the edges between the target ranges "
                    "whose curves you want, e.g. bins=[0, 1, 5, 10]"
                )
            self._bins = batches.check_bins(bins)
            class_names = class_names or batches.bin_names(self._bins)
            if len(class_names) != len(self._bins) + 1:
                raise ValueError(
                    f"{len(self._bins)} bin edges make {len(self._bins) + 1} target ranges; got "
                    f"{len(class_names)} class_names"
                )
        elif bins is not None:
            raise ValueError("bins is for task='regression'")
        self._loss = losses_module.resolve(task, loss)
        self._task = task
        self._class_names = check_class_names(class_names, num_classes)
        batches.check_threshold(task, threshold, self.num_classes)  # fail early where possible
        self._threshold = threshold
        if ignore_index is not None:
            ignore_index = operator.index(ignore_index)
            if self.num_classes is not None:
                batches.check_ignore_index(ignore_index, task, self.num_classes)
        self._ignore_index = ignore_index
        self._from_logits = bool(from_logits)
        self._record_confusion = bool(confusion)
        self._loss_name = loss_name
        self._mistakes = samples.MistakeBuffer(
            per_cell=_positive(samples_per_cell, "samples_per_cell"),
            total=_positive(max_samples, "max_samples"),
        )
        if layout is not None and layout not in media.LAYOUTS:
            raise ValueError(f"layout={layout!r}; pass one of {', '.join(media.LAYOUTS)}")
        self._layout = layout
        self._denormalize = denormalize
        self._max_image_side = _positive(max_image_side, "max_image_side")
        self._samples_seen = False  # inputs were given since the last write
        self._distributed = bool(distributed)
        self._sink: Sink = open_sink(logdir)
        destinations.claim(self._sink.destination, self._name, self)
        self._steps = steps.StepOrder()
        self._output_kind = output_kind.OutputKindMonitor(task, self._from_logits)
        self._check_outputs = True  # the first batch after each write is checked
        self._ops: arrays.ArrayOps | None = None
        self._device: str | None = None
        self._spec: batches.TaskSpec | None = None
        self._table: Any = None
        self._confusion: Any = None
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

    @property
    def task(self) -> str:
        return self._task

    def update(
        self,
        outputs: Any,
        targets: Any,
        losses: Any = None,
        *,
        inputs: Any = None,
        sample_ids: Any = None,
    ) -> None:
        """Adds one batch. Without `inputs`, never waits for the device.

        Args:
          outputs: scores: (batch, num_classes) for multiclass, (batch,) or (batch, 1) for
            binary, (batch, num_labels) for multilabel; logits, or probabilities with
            `from_logits=False`. A NumPy array, torch.Tensor or tf.Tensor.
          targets: multiclass: class indices of shape (batch,) (integers), or one-hot / soft
            targets of shape (batch, num_classes); binary: 0/1 of shape (batch,); multilabel:
            0/1 of shape (batch, num_labels). Same library and device as `outputs`.
          losses: optional per-sample losses of shape (batch,) (multilabel: (batch,
            num_labels)), e.g. `F.cross_entropy(logits, y, reduction="none")`. Computed from
            the outputs if omitted.
          inputs: optional batch inputs, to keep the step's most confident mistakes: images
            ((batch, C, H, W), (batch, H, W, C) or (batch, H, W), any library) or a list of
            texts. The batch's candidates are chosen on the device; one small block of numbers
            and the inputs of the kept samples are copied to the host.
          sample_ids: optional ids of the batch's samples (dataset indices or file names), a
            sequence or 1-D array of length batch, shown with each kept sample.
        """
        self._check_open()
        ops, device, outputs, targets, losses = arrays.as_batch(outputs, targets, losses)
        if self._ops is not None and (ops is not self._ops or device != self._device):
            self._refuse_other_place(ops, device)
        spec = self._spec or self._new_spec(ops, outputs)
        inputs_spec = self._check_inputs(inputs, sample_ids, len_of_batch(ops, outputs))
        formatted = batches.format_batch(
            ops, outputs, targets, losses, spec, with_confidence=inputs_spec is not None
        )
        if formatted.size == 0:
            return
        if self._table is None:
            self._start_state(ops, device, spec, outputs)
        self._table, weights = perclass.update_table(ops, self._table, formatted)
        if self._confusion is not None:
            self._confusion = confusion.update_confusion(
                ops, self._confusion, formatted, spec, weights
            )
        if self._check_outputs:
            self._check_outputs = False
            if not self._output_kind.done:
                self._table = perclass.add_output_checks(ops, self._table, outputs, spec)
        if inputs_spec is not None:
            self._keep_mistakes(ops, formatted, inputs, inputs_spec, sample_ids)
        self._pending = True
        if self._losses_given is None:
            self._losses_given = losses is not None

    def _check_inputs(
        self, batch_inputs: Any, sample_ids: Any, batch_size: int
    ) -> media.InputsSpec | None:
        if batch_inputs is None:
            if sample_ids is not None:
                raise ValueError("sample_ids identify kept samples, which needs inputs=")
            return None
        if isinstance(batch_inputs, (list, tuple)):
            if not all(isinstance(text, str) for text in batch_inputs):
                raise TypeError(
                    "inputs given as a list must be texts (str); pass images as one array"
                )
            spec = media.inspect_inputs((len(batch_inputs),), None, batch_size, None, True)
        else:
            library = arrays.library_of(batch_inputs)
            if library is None:
                raise TypeError(
                    f"inputs is {type(batch_inputs).__module__}.{type(batch_inputs).__qualname__};"
                    " pass an image array (NumPy, torch or TensorFlow) or a list of texts"
                )
            input_ops = arrays.ops_for_library(library)
            spec = media.inspect_inputs(
                input_ops.shape(batch_inputs), input_ops.dtype_name(batch_inputs), batch_size,
                self._layout, False,
            )  # fmt: skip
        if sample_ids is not None:
            count = (
                len(sample_ids)
                if isinstance(sample_ids, (list, tuple))
                else _first_dim(sample_ids)
            )
            if count != batch_size:
                raise ValueError(
                    f"sample_ids has {count} entries but the batch has {batch_size} samples; "
                    "pass one id per sample"
                )
        return spec

    def _keep_mistakes(
        self,
        ops: arrays.ArrayOps,
        batch: batches.Batch,
        batch_inputs: Any,
        inputs_spec: media.InputsSpec,
        sample_ids: Any,
    ) -> None:
        self._samples_seen = True
        block = ops.to_numpy(mistakes.candidates(ops, batch, self._spec, self._mistakes.total))
        scores = block[:, mistakes.SCORE]
        order = np.argsort(-scores, kind="stable")
        order = order[scores[order] > self._mistakes.floor()]  # most batches end here
        order = order[
            self._mistakes.admits_many(
                scores[order],
                block[order, mistakes.ROW].astype(np.int64),
                block[order, mistakes.CELL].astype(np.int64),
            )
        ]
        if block.shape[1] > mistakes.ELEMENT:
            elements = block[order, mistakes.ELEMENT].astype(np.int64)
        else:
            elements = order
        labels_per_sample = self.num_classes if self._task == metadata.TASK_MULTILABEL else 1
        new = []
        candidates = zip(
            scores[order].tolist(),
            block[order, mistakes.ROW].astype(np.int64).tolist(),
            block[order, mistakes.CELL].astype(np.int64).tolist(),
            block[order, mistakes.LOSS].tolist(),
            elements.tolist(),
        )
        for score, row, cell, loss, element in candidates:
            if not self._mistakes.admits(score, row, cell):
                continue  # its cell is full of more confident mistakes, or the set is
            mistake = samples.Mistake(score, loss, row, cell)
            if self._mistakes.offer(mistake):
                new.append((element // labels_per_sample, mistake))
        new = [(sample, m) for sample, m in new if m.alive]
        if not new:
            return
        if sample_ids is not None:
            ids = arrays.fetch_rows(sample_ids, [sample for sample, _ in new])
            for sample_id, (_, mistake) in zip(ids, new):
                mistake.sample_id = _json_id(sample_id)
        if inputs_spec.kind == "text":
            texts = arrays.fetch_rows(batch_inputs, [sample for sample, _ in new])
            for text, (_, mistake) in zip(texts, new):
                mistake.content = text
            return
        # Images: pooled on the device, copied and converted a bounded number at a time.
        size = inputs_spec.chunk(self._max_image_side)
        factor = inputs_spec.pool_factor(self._max_image_side)
        input_ops = arrays.ops_for_library(arrays.library_of(batch_inputs))
        for start in range(0, len(new), size):
            part = new[start : start + size]
            raw = input_ops.fetch_images(
                batch_inputs, [sample for sample, _ in part], inputs_spec.layout, factor
            )
            pixels = media.to_pixels(raw, inputs_spec.layout, self._denormalize)
            for image, (_, mistake) in zip(pixels, part):
                mistake.content = media.downscale(image, self._max_image_side)

    def _new_spec(self, ops: arrays.ArrayOps, outputs: Any) -> batches.TaskSpec:
        num_classes = self.num_classes or batches.infer_num_classes(ops, outputs, self._task)
        if self._ignore_index is not None:
            batches.check_ignore_index(self._ignore_index, self._task, num_classes)
        return batches.TaskSpec(
            task=self._task,
            num_classes=num_classes,
            from_logits=self._from_logits,
            threshold=batches.check_threshold(self._task, self._threshold, num_classes),
            ignore_index=self._ignore_index,
            loss=self._loss,
            bins=self._bins,
        )

    def _start_state(
        self, ops: arrays.ArrayOps, device: str, spec: batches.TaskSpec, like: Any
    ) -> None:
        # Only once a batch passed every check: a refused first batch fixes nothing.
        self._spec = spec
        count = spec.num_classes
        self._class_names = self._class_names or tuple(str(i) for i in range(count))
        self._ops, self._device = ops, device
        self._table = perclass.new_table(ops, spec, like=like)
        if self._record_confusion:
            self._confusion = confusion.new_confusion(ops, spec, like=like)

    def write(self, step: int, *, wall_time: float | None = None) -> PerClassStats | None:
        """Writes the statistics accumulated since the last write as step `step`, then resets.

        Returns the step's per-class statistics, or None (with a warning, once) when nothing was
        added since the last write. The step must be an integer in [0, 2**63), checked before
        anything else; if the sink fails (e.g. a full disk), nothing is reset and a retry can
        write the same data. Warns when the step is not above the previous one, and about
        invalid targets, non-finite outputs and outputs of the other kind than `from_logits`.
        """
        self._check_open()
        step = steps.check_step(step)
        torch_state = self._ops is None or self._ops.name == "torch"
        world = distributed.torch_world() if self._distributed and torch_state else None
        pending = self._combine_ranks(world) if world is not None else self._pending
        if not pending:
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
        stats = perclass.compute_stats(host_table, self._spec)
        if self._confusion is not None:
            matrix = confusion.compute_confusion(self._ops, self._confusion, self._spec)
            stats = dataclasses.replace(stats, confusion=matrix)
        if world is not None and world.rank != 0:
            self.reset()
            return stats  # the sum of all ranks; rank 0 writes it
        tags = f"the tags {self._name}/* of {self._sink.destination.description}"
        order = self._steps.warning(step, tags)
        self._sink.write(
            step_summary(
                self._name,
                stats,
                self._mistakes.kept() if self._samples_seen else None,
                class_names=self._class_names,
                task=self._task,
                loss_name=self._display_loss_name(),
                sample_caps=self._mistakes,
            ),
            step,
            time.time() if wall_time is None else float(wall_time),
        )
        # Handed over: only now may the state go.
        self.reset()
        self._steps.record(step)
        kind = self._output_kind.add(*perclass.output_checks(host_table, self._spec))
        notices.warn(
            f"PerClassWriter(name={self._name!r}).write(step={step})",
            [order, *notices.data_problems(stats, self._spec, self._class_names), kind],
        )
        return stats

    def _combine_ranks(self, world: distributed.World) -> bool:
        """Collective: every rank's state summed into every rank's, kept samples merged on rank
        0. Returns whether any rank had data. Every rank must call write() together."""
        setups = world.all_gather_object(
            (self._spec if self._pending else None, self._class_names if self._pending else None)
        )
        if all(spec is None for spec, _ in setups):
            return False
        spec, names = distributed.agreed_setup(setups)
        if self._table is None:  # this rank saw no batch yet: join with zeros
            import torch

            ops = arrays.ops_for_library("torch")
            like = torch.zeros(1, device=world.state_device())
            self._class_names = names
            self._start_state(ops, ops.device(like), spec, like)
        world.sum_in_place(self._table)
        if self._confusion is not None:
            world.sum_in_place(self._confusion)
        gathered = world.gather_object(self._mistakes.take() if self._samples_seen else None)
        self._samples_seen = gathered is not None and any(g is not None for g in gathered)
        for kept in gathered or []:
            for mistake in kept or []:
                self._mistakes.offer(mistake)
        self._pending = True
        return True

    def reset(self) -> None:
        """Drops what was accumulated since the last write."""
        if self._table is not None:
            self._table = self._ops.reset(self._table)
        if self._confusion is not None:
            self._confusion = self._ops.reset(self._confusion)
        self._mistakes.take()
        self._samples_seen = False
        self._pending = False
        self._check_outputs = True

    def flush(self) -> None:
        """Flushes the sink. Every `write()` already flushes before it returns; this is for
        a shared SummaryWriter holding other data of yours."""
        self._check_open()
        self._sink.flush()

    def close(self) -> None:
        """Closes the writer's own event file (a given SummaryWriter is only flushed) and lets
        another writer take its (logdir, name)."""
        if not self._closed:
            self._closed = True
            self._finalizer()
            destinations.release(self._sink.destination, self._name, self)

    def __enter__(self) -> "PerClassWriter":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _display_loss_name(self) -> str:
        if self._loss_name is not None:
            return self._loss_name
        return USER_LOSS_NAME if self._losses_given else losses_module.display_name(self._loss)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"PerClassWriter(name={self._name!r}) is closed")

    def _refuse_other_place(self, ops: arrays.ArrayOps, device: str) -> None:
        if ops is not self._ops:
            raise TypeError(
                f"this writer's state holds {self._ops.name} arrays since its first update(); "
                f"got {ops.name} arrays now. Use one writer per framework"
            )
        raise ValueError(
            f"this writer's state lives on {self._device} since its first update(); got "
            f"arrays on {device}. Move them to {self._device}, or use one writer per device"
        )


def step_summary(
    name: str,
    stats: PerClassStats,
    kept: list | None,
    *,
    class_names: Sequence[str],
    task: str,
    loss_name: str,
    sample_caps: samples.MistakeBuffer | None = None,
) -> Any:
    """One step's summaries: stats, then confusion counts and kept samples if recorded
    (`sample_caps` is the buffer that selected them, for its caps)."""
    common = dict(class_names=class_names, task=task, loss_name=loss_name)
    result = summary.stats_pb(
        name,
        loss=stats.loss,
        count=stats.count,
        correct=stats.correct,
        nonfinite=stats.nonfinite,
        nonfinite_outputs=stats.nonfinite_outputs,
        invalid_targets=stats.invalid_targets,
        ignored=stats.ignored,
        **common,
    )
    if stats.confusion is not None:
        result.value.extend(summary.confusion_pb(name, stats.confusion, **common).value)
    if kept is not None:
        manifest, blobs = samples.encode(kept, task)
        caps = dict(samples_per_cell=sample_caps.per_cell, max_samples=sample_caps.total)
        result.value.extend(summary.samples_pb(name, manifest, blobs, **common, **caps).value)
    return result


def len_of_batch(ops: arrays.ArrayOps, outputs: Any) -> int:
    shape = ops.shape(outputs)
    return shape[0] if shape else 0


def _first_dim(values: Any) -> int:
    shape = getattr(values, "shape", None)
    if shape is None or len(shape) != 1:
        raise ValueError(
            f"sample_ids must be a sequence or a 1-D array of ids; got shape {tuple(shape or ())}"
        )
    return int(shape[0])


def _json_id(value: Any) -> Any:
    """Ids as JSON values: integers, or strings (bytes decoded)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, (int, str)) else str(value)


def _positive(value: int, argument: str) -> int:
    value = operator.index(value)
    if value < 1:
        raise ValueError(f"{argument}={value}; it must be at least 1")
    return value


def binary_class_names(
    class_names: Sequence[str] | None, num_classes: int | None
) -> tuple[Sequence[str], int]:
    if num_classes not in (None, 2):
        raise ValueError(
            f"task='binary' has 2 classes (negative, positive); got num_classes={num_classes}"
        )
    if class_names is not None and len(class_names) != 2:
        raise ValueError(
            f"task='binary' takes 2 class names (negative, positive); got {len(class_names)}"
        )
    return class_names or ("negative", "positive"), 2


def check_class_names(
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
