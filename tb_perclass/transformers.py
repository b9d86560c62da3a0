"""Hugging Face `transformers.Trainer` integration: per-class curves from the batches the
Trainer already runs.

A `TrainerCallback` is given the model but none of the batches, outputs or the Trainer itself
(`on_step_end` knows only the step). `PerClassCallback` therefore puts a forward hook on the
model: it sees every forward pass the Trainer makes, with the keyword arguments (the batch, its
`labels` included) and the output (`logits`), so it records training and evaluation statistics
without a forward pass of its own.

- Training forwards (the model in train mode) are accumulated and written at each of the
  Trainer's logging steps (`logging_steps`, `logging_strategy`) at `state.global_step`, the step
  of the Trainer's own `train/loss`; gradient accumulation only adds forwards to the step.
- Evaluation forwards (eval mode) are accumulated at `on_prediction_step` and written at
  `on_evaluate`, with the most confident misclassified samples: texts decoded by the Trainer's
  tokenizer (`processing_class`), or images (`pixel_values`, un-normalised with the image
  processor's mean and std). The forwards of `Trainer.predict()` are dropped.
- Under torch.distributed (the Trainer's DDP, through accelerate) every rank accumulates its
  own batches; a write sums the ranks and rank 0 writes. The padding rows accelerate adds to the
  last evaluation batch of a rank, which the Trainer's own metrics drop, are dropped here too.

Runs go into the Trainer's TensorBoard run directory (the one `report_to="tensorboard"` writes
its scalars to: `<output_dir>/runs/<date>_<host>` unless `TENSORBOARD_LOGGING_DIR` says
otherwise), one run per split beside the Trainer's event file: `<run>/train`, `<run>/eval`, and
`<run>/eval_<name>` for each of several evaluation datasets. (One directory per writer: with two
event files growing in one directory, TensorBoard's `--load_fast=false` loader stops reading the
older one until it restarts.)
"""

from __future__ import annotations

import datetime
import os
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import transformers

from tb_perclass.format import metadata
from tb_perclass.logger import destinations, distributed, losses, sinks, spec, steps
from tb_perclass.logger.accumulator import Accumulator
from tb_perclass.logger.step_writer import StepWriter

TRAIN = "train"
EVAL = "eval"

# transformers' `config.problem_type` -> our task.
_TASKS = {
    "single_label_classification": metadata.TASK_MULTICLASS,
    "multi_label_classification": metadata.TASK_MULTILABEL,
}


class PerClassCallback(transformers.TrainerCallback):
    """Records per-class statistics, confusion matrices and misclassified samples of a
    `transformers.Trainer` run.

    Args:
      log_dir: the directory to write the `train` and `eval` runs into; by default the
        Trainer's TensorBoard run directory (see the module docstring).
      class_names: one name per label, in label order; by default the model config's
        `id2label`. Must have `config.num_labels` names.
      name: tag prefix, as for `PerClassWriter`.
      samples: keep the most confident misclassified evaluation samples (texts or images).
      labels_key: the forward argument holding the labels (the Trainer's "labels").
      logits_key: the output field holding the logits ("logits").
      ignore_index: a label value to skip, as the models' own loss does (-100).
      confusion, confusion_every, samples_per_cell, max_samples, max_image_side: as for
        `PerClassWriter` (`confusion_every` counts each run's writes; the last one's matrix is
        written when training ends).
      denormalize: maps one image (HWC or HW) to [0, 1] for display; by default undoes the
        image processor's normalisation.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        class_names: Sequence[str] | None = None,
        *,
        name: str = metadata.DEFAULT_NAME,
        samples: bool = True,
        labels_key: str = "labels",
        logits_key: str = "logits",
        ignore_index: int | None = -100,
        confusion: bool = True,
        confusion_every: int = 1,
        samples_per_cell: int = 8,
        max_samples: int = 256,
        max_image_side: int = 256,
        denormalize: Callable[[Any], Any] | None = None,
    ):
        self._log_dir = None if log_dir is None else os.fspath(log_dir)
        self._remote = spec.remote_options()  # a URL log_dir: credentials from the environment
        if self._log_dir is not None:
            sinks.check_url_logdir(self._log_dir, self._remote)
        if isinstance(class_names, (str, bytes)):
            raise TypeError("class_names must be a sequence of names, e.g. ['neg', 'pos']")
        self._class_names_given = None if class_names is None else tuple(class_names)
        self._name = spec.check_name(name)
        self._samples = bool(samples)
        self._labels_key, self._logits_key = labels_key, logits_key
        self._ignore_index = ignore_index
        self._record_confusion = bool(confusion)
        self._confusion_every = spec.check_confusion_every(confusion_every, bool(confusion))
        # Checked now; the denormalisation default needs the Trainer's image processor.
        self._sample_options = dict(
            samples_per_cell=samples_per_cell,
            max_samples=max_samples,
            layout="NCHW",
            max_image_side=max_image_side,
        )
        spec.sample_options(**self._sample_options)
        self._denormalize = denormalize
        self._model: Any = None
        self._hook: Any = None
        self._processing_class: Any = None
        self._class_names: tuple[str, ...] | None = None
        self._task: str | None = None
        self._splits: dict[str, _Split] = {}
        self._root: str | None = None
        self._pending_eval: list[tuple[Any, Any, dict]] = []  # forwards of this eval step
        self._eval_labelled = 0  # labelled evaluation batches of the current evaluation
        self._eval_unlabelled = 0  # and those without labels
        self._eval_position = 0  # samples of the current evaluation seen by this rank
        self.forwards_seen = 0  # forward passes the hook saw (the model's own; none added)

    # --- set-up ----------------------------------------------------------------------------

    def on_init_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        self._attach(model, processing_class)  # so that evaluate() before train() counts

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        self._attach(model, processing_class)  # a new model with model_init
        self._resolve_root(args)

    def _attach(self, model: Any, processing_class: Any) -> None:
        if model is None or model is self._model:
            return
        names = _class_names(model, self._class_names_given)
        if self._hook is not None:
            self._hook.remove()
        self._model, self._processing_class, self._class_names = model, processing_class, names
        self._hook = model.register_forward_hook(self._on_forward, with_kwargs=True)

    def _resolve_root(self, args: Any) -> None:
        if self._root is None:
            self._root = self._log_dir or _trainer_run_directory(args)

    def _start(self, labels: Any) -> None:
        """Fixes the task at the first labelled batch, and makes both splits' state."""
        self._task = _task_of(self._model, labels)
        task_spec = spec.task_spec(
            task=self._task,
            class_names=self._class_names,
            ignore_index=self._ignore_index,
        )
        denormalize = self._denormalize or _image_denormalizer(self._processing_class)
        samples = spec.sample_options(**self._sample_options, denormalize=denormalize)
        for split in (TRAIN, EVAL):
            self._splits[split] = _Split(
                task_spec,
                samples,
                self._record_confusion,
                self._name,
                self._remote,
                self._confusion_every,
            )

    # --- the hook --------------------------------------------------------------------------

    def _on_forward(self, module: Any, args: tuple, kwargs: dict, output: Any) -> None:
        self.forwards_seen += 1
        logits = _logits(output, self._logits_key).detach()
        labels = kwargs.get(self._labels_key)
        if not module.training:
            self._pending_eval.append((logits, labels, kwargs))  # see on_prediction_step
            return
        if labels is None:
            raise ValueError(
                f"PerClassCallback: a training forward of {type(module).__name__} got no "
                f"{self._labels_key!r} argument, so its batch cannot be counted per class. The "
                "Trainer passes the labels to the model unless it computes the loss itself "
                "(label_smoothing_factor > 0, compute_loss_func, or a compute_loss override "
                f"that pops them): keep {self._labels_key!r} in the inputs given to the model, "
                "or pass labels_key= if the labels have another name"
            )
        if self._task is None:
            self._start(labels)
        self._splits[TRAIN].accumulator.update(logits, labels, None, None, None)

    # --- evaluation ------------------------------------------------------------------------

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        pending, self._pending_eval = self._pending_eval, []
        for logits, labels, inputs in pending:
            if labels is None:
                self._eval_unlabelled += 1
                continue
            if self._task is None:
                self._start(labels)
            size = len(labels)
            keep = _rows_to_keep(eval_dataloader, size, args)
            if keep < size:  # accelerate's padding of this rank's last batch
                logits, labels = logits[:keep], labels[:keep]
                inputs = {key: _first_rows(value, keep, size) for key, value in inputs.items()}
            texts_or_images = self._sample_inputs(inputs) if self._samples and keep else None
            ids = None
            if texts_or_images is not None:
                ids = _sample_ids(self._eval_position, keep, args, eval_dataloader)
            self._eval_position += keep
            self._eval_labelled += 1
            if keep:
                self._splits[EVAL].accumulator.update(logits, labels, None, texts_or_images, ids)

    def _sample_inputs(self, inputs: Mapping[str, Any]) -> Any:
        """Texts (decoded input ids) or images (pixel values) of a batch, or None."""
        main = getattr(self._model, "main_input_name", "input_ids")
        values = inputs.get(main)
        if values is None:
            return None
        if main == "input_ids":
            decode = getattr(self._processing_class, "batch_decode", None)
            return None if decode is None else decode(values, skip_special_tokens=True)
        return values if getattr(values, "ndim", 0) == 4 else None

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        labelled, unlabelled = self._eval_labelled, self._eval_unlabelled
        self._eval_labelled = self._eval_unlabelled = self._eval_position = 0
        if not labelled and unlabelled:
            raise ValueError(
                f"PerClassCallback: the evaluation batches carry no {self._labels_key!r}, so "
                "nothing can be counted per class; give the Trainer an eval_dataset with a "
                f"{self._labels_key!r} column (or set TrainingArguments.label_names), or do "
                "not use PerClassCallback when evaluating without labels"
            )
        if self._task is None:
            return
        self._resolve_root(args)
        split = _eval_split(metrics)
        self._splits[EVAL].write(state.global_step, self._root, split, self)

    def on_predict(self, args, state, control, metrics=None, **kwargs):
        self._pending_eval = []
        if EVAL in self._splits:
            self._splits[EVAL].accumulator.reset()  # predictions are not an evaluation
        self._eval_labelled = self._eval_unlabelled = self._eval_position = 0

    # --- training --------------------------------------------------------------------------

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs and self._task is not None:  # the Trainer's training log
            self._splits[TRAIN].write(state.global_step, self._root, TRAIN, self)

    def on_train_end(self, args, state, control, **kwargs):
        if self._task is not None:  # the steps after the last logging step
            self._splits[TRAIN].write(state.global_step, self._root, TRAIN, self)
            self._splits[TRAIN].close(self)
            # The last evaluation's matrix, if confusion_every left it out (the eval runs stay
            # open: trainer.evaluate() may come after training).
            self._splits[EVAL].write_held_confusion()


class _Split:
    """One split's accumulated state and its writes: every rank sums, rank 0 writes, to one
    directory per run (several evaluation datasets share the eval state, one at a time)."""

    def __init__(
        self,
        task_spec: Any,
        samples: Any,
        record_confusion: bool,
        name: str,
        remote: Any,
        confusion_every: int = 1,
    ):
        self.accumulator = Accumulator(task_spec, samples, record_confusion)
        self._name, self._remote = name, remote
        self._confusion_every = confusion_every
        self._steps: dict[str, StepWriter] = {}

    def write(self, step: int, root: str, run: str, owner: Any) -> None:
        """Collective under torch.distributed: every rank calls it at the same event."""
        accumulator = self.accumulator
        world = distributed.torch_world()
        pending = (
            distributed.combine_ranks(world, accumulator)
            if world is not None
            else accumulator.pending
        )
        if not pending:
            return
        host = accumulator.read()
        if world is not None and world.rank != 0:
            accumulator.reset()  # rank 0 writes the sum
            return
        step = steps.check_step(step)
        self._step_writer(sinks.join_logdir(root, run), owner).write(
            step,
            host,
            accumulator.spec,
            kept=accumulator.samples.kept(),
            loss_name=losses.display_name(accumulator.spec.loss),
            wall_time=time.time(),
            reset=accumulator.reset,
            output_kind=accumulator.output_kind,
            where=f"PerClassCallback(name={self._name!r}), {run} at global step {step}",
        )

    def _step_writer(self, directory: str, owner: Any) -> StepWriter:
        if directory not in self._steps:
            sink = sinks.open_sink(directory, self._remote)
            destinations.claim(sink.destination, self._name, owner)
            self._steps[directory] = StepWriter(
                sink, self._name, confusion_every=self._confusion_every
            )
        return self._steps[directory]

    def write_held_confusion(self) -> None:
        for step_writer in self._steps.values():
            step_writer.write_held_confusion()

    def close(self, owner: Any) -> None:
        for step_writer in self._steps.values():
            step_writer.close()  # with the last write's matrix if confusion_every left it out
            destinations.release(step_writer.sink.destination, self._name, owner)
        self._steps.clear()


# --- helpers -------------------------------------------------------------------------------


def _class_names(model: Any, given: tuple[str, ...] | None) -> tuple[str, ...]:
    """The given names, checked against the model's label count, or `config.id2label`'s."""
    config = getattr(model, "config", None)
    num_labels = getattr(config, "num_labels", None)
    if num_labels is None:
        if given is None:
            raise ValueError(
                f"the model ({type(model).__name__}) has no config.num_labels; pass "
                "class_names= to PerClassCallback"
            )
        return given
    if num_labels == 1 and getattr(config, "problem_type", None) in (None, "regression"):
        raise ValueError(
            "the model has num_labels=1, which transformers trains as regression; "
            "PerClassCallback records classifiers: give the model one output per class "
            "(num_labels=2 for a binary task)"
        )
    id2label = getattr(config, "id2label", None) or {}
    from_config = tuple(str(id2label.get(i, i)) for i in range(num_labels))
    if given is None:
        return from_config
    if len(given) != num_labels:
        shown = ", ".join(repr(n) for n in from_config[:4]) + (", ..." if num_labels > 4 else "")
        raise ValueError(
            f"class_names has {len(given)} names but the model has num_labels={num_labels} "
            f"(config.id2label: [{shown}]); pass one name per label, or none to use "
            "config.id2label"
        )
    return given


def _task_of(model: Any, labels: Any) -> str:
    problem_type = getattr(getattr(model, "config", None), "problem_type", None)
    if problem_type in _TASKS:
        return _TASKS[problem_type]
    if problem_type is not None:
        raise ValueError(
            f"the model's config.problem_type is {problem_type!r}; PerClassCallback records "
            "single_label_classification and multi_label_classification"
        )
    # transformers' own rule when the config does not say: integer labels are single-label.
    return metadata.TASK_MULTILABEL if labels.is_floating_point() else metadata.TASK_MULTICLASS


def _logits(output: Any, key: str) -> Any:
    if isinstance(output, Mapping):  # a ModelOutput is a mapping of the fields it has
        if key in output:
            return output[key]
        raise ValueError(
            f"PerClassCallback: the model's output has no {key!r} (it has "
            f"{', '.join(map(repr, output.keys()))}); pass logits_key="
        )
    if isinstance(output, (tuple, list)):  # return_dict=False: (loss, logits, ...) or (logits,)
        return output[1] if len(output) > 1 else output[0]
    return output


def _first_rows(value: Any, keep: int, batch_size: int) -> Any:
    """The first rows of a per-sample forward argument; other arguments as they are."""
    shape = getattr(value, "shape", ())
    return value[:keep] if len(shape) >= 1 and shape[0] == batch_size else value


def _trainer_run_directory(args: Any) -> str:
    """The directory of the Trainer's TensorBoard scalars: its TensorBoardCallback's when it
    has one, else where that callback would write (transformers 5: TENSORBOARD_LOGGING_DIR;
    transformers 4: `args.logging_dir`; both default to `<output_dir>/runs/<date>_<host>`)."""
    tensorboard = _tensorboard_callback()
    if tensorboard is not None:
        writer = getattr(tensorboard, "tb_writer", None)
        directory = getattr(writer, "log_dir", None) or getattr(tensorboard, "logging_dir", None)
        if directory:
            return os.fspath(directory)
    directory = os.getenv("TENSORBOARD_LOGGING_DIR") or getattr(args, "logging_dir", None)
    if directory:
        return os.path.expanduser(directory)
    stamp = datetime.datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()
    return os.path.join(args.output_dir, "runs", stamp)


def _tensorboard_callback() -> Any:
    """The Trainer's TensorBoardCallback, if it has one. A callback is given neither the
    Trainer nor its other callbacks, so this looks for the CallbackHandler that is calling:
    the `self` of a frame a few levels up."""
    handler_type = transformers.trainer_callback.CallbackHandler
    tensorboard_type = getattr(transformers.integrations, "TensorBoardCallback", None)
    frame = sys._getframe(1)
    for _ in range(10):
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        if isinstance(owner, handler_type):
            for callback in owner.callbacks:
                if tensorboard_type is not None and isinstance(callback, tensorboard_type):
                    return callback
            return None
        frame = frame.f_back
    return None


def _image_denormalizer(processing_class: Any) -> Callable[[Any], Any] | None:
    """Undoes an image processor's normalisation (x * std + mean), for display."""
    mean = getattr(processing_class, "image_mean", None)
    std = getattr(processing_class, "image_std", None)
    if mean is None or std is None or not getattr(processing_class, "do_normalize", True):
        return None
    import numpy as np

    mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)

    def denormalize(image: Any) -> Any:  # HWC, or HW for one channel
        if image.ndim == 2:
            return image * std.mean() + mean.mean()
        return image * std + mean

    return denormalize


def _rows_to_keep(dataloader: Any, batch_size: int, args: Any) -> int:
    """How many rows of this evaluation batch are real: accelerate pads the last batch of each
    rank to the same size with samples from the start, and `gather_for_metrics` drops them,
    keeping the dataset's `remainder` rows of the gathered (rank-ordered) last batches."""
    world = getattr(args, "world_size", 1)
    if world < 2 or not getattr(dataloader, "end_of_dataloader", False):
        return batch_size
    remainder = getattr(dataloader, "remainder", -1)
    if remainder is None or remainder <= 0:
        return batch_size
    rank = getattr(args, "process_index", 0)
    return max(0, min(batch_size, remainder - rank * batch_size))


def _sample_ids(position: int, count: int, args: Any, dataloader: Any) -> list[int] | None:
    """Positions in the evaluation dataset of this rank's batch rows. One process: in order.
    Several: accelerate deals whole batches round-robin (batch k of rank r is the global batch
    k * world + r)."""
    world = getattr(args, "world_size", 1)
    if world < 2:
        return list(range(position, position + count))
    per_rank = getattr(dataloader, "total_batch_size", 0) // world
    if not per_rank:
        return None
    batch, offset = divmod(position, per_rank)
    first = (batch * world + getattr(args, "process_index", 0)) * per_rank + offset
    return list(range(first, first + count))


def _eval_split(metrics: Mapping[str, Any] | None) -> str:
    """ "eval", or "eval_<name>" for one of several evaluation datasets: the Trainer's metric
    prefix, read from its `<prefix>_runtime` metric."""
    for key in metrics or {}:
        if key.endswith("_runtime"):
            return key[: -len("_runtime")]
    return EVAL
