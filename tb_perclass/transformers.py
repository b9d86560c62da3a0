"""Hugging Face `transformers.Trainer` integration: per-class curves from the batches the
Trainer already runs.

`PerClassCallback` puts a forward hook on the model the Trainer trains. The hook sees every
forward pass the Trainer makes, with its keyword arguments (the batch, `labels` included) and
its output (`logits`), so it records training and evaluation statistics without a forward pass
of its own:

- training forwards (the model in train mode) go to a writer of the train split, written at
  each of the Trainer's logging steps (`logging_steps`, `logging_strategy`) at the Trainer's
  `global_step`, the step of its own `train/loss` scalar; gradient accumulation just adds more
  forwards to the same step;
- evaluation forwards (eval mode) go to a writer of the evaluation split, written at
  `on_evaluate`, with the most confident misclassified samples: texts decoded by the Trainer's
  tokenizer (`processing_class`), or images (`pixel_values`, un-normalised with the image
  processor's mean and std). Forwards of `Trainer.predict()` are dropped.

Under torch.distributed (the Trainer's DDP, through accelerate) every rank records its own
batches; writing sums them and rank 0 writes (`PerClassWriter`'s distributed mode). The
padding samples accelerate adds to the last evaluation batch of a rank, which the Trainer's
own metrics drop, are dropped here too.

Runs go below the Trainer's TensorBoard run directory (the one `report_to="tensorboard"` writes
its scalars to, `<output_dir>/runs/<date>_<host>` unless `TENSORBOARD_LOGGING_DIR` says
otherwise): `<run>/train` and `<run>/eval`, the two split runs the Per-Class tab overlays.
"""

from __future__ import annotations

import datetime
import os
import socket
import sys
import warnings
from typing import Any, Callable, Mapping, Sequence

import transformers

from tb_perclass import metadata
from tb_perclass.writer import PerClassWriter

TRAIN = "train"
EVAL = "eval"

# transformers' `problem_type` -> our task.
_TASKS = {
    "single_label_classification": metadata.TASK_MULTICLASS,
    "multi_label_classification": metadata.TASK_MULTILABEL,
}


class PerClassCallback(transformers.TrainerCallback):
    """Records per-class statistics, confusion matrices and misclassified samples of a
    `transformers.Trainer` run.

    Args:
      log_dir: the run directory to write `train` and `eval` into; by default the Trainer's
        TensorBoard run directory (see the module docstring).
      class_names: one name per label, in label order; by default the model config's
        `id2label`. Must have `config.num_labels` names.
      samples: keep the most confident misclassified evaluation samples (texts or images).
      labels_key: the forward argument holding the labels (the Trainer's default "labels").
      logits_key: the output field holding the logits ("logits").
      ignore_index: a label value to skip, as the models' own loss does (-100).
      confusion, samples_per_cell, max_samples, max_image_side, denormalize, name: as for
        `PerClassWriter`; `denormalize` defaults to undoing the image processor's
        normalisation.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        class_names: Sequence[str] | None = None,
        *,
        samples: bool = True,
        labels_key: str = "labels",
        logits_key: str = "logits",
        ignore_index: int | None = -100,
        confusion: bool = True,
        samples_per_cell: int = 8,
        max_samples: int = 256,
        max_image_side: int = 256,
        denormalize: Callable[[Any], Any] | None = None,
        name: str = metadata.DEFAULT_NAME,
    ):
        self._log_dir = None if log_dir is None else os.fspath(log_dir)
        self._class_names_given = None if class_names is None else tuple(class_names)
        self._samples = bool(samples)
        self._labels_key, self._logits_key = labels_key, logits_key
        self._writer_options = dict(
            name=name, ignore_index=ignore_index, confusion=confusion,
            samples_per_cell=samples_per_cell, max_samples=max_samples,
            max_image_side=max_image_side,
        )  # fmt: skip
        self._denormalize = denormalize
        self._model: Any = None
        self._hook: Any = None
        self._processing_class: Any = None
        self._writers: dict[str, PerClassWriter] = {}
        self._class_names: tuple[str, ...] | None = None
        self._task: str | None = None
        self._train_batches = 0  # training forwards since the last train write
        self._eval_pending: list[tuple[Any, Any, Any]] = []  # forwards of the current eval step
        self._eval_batches = 0  # labelled evaluation batches since the last eval write
        self._eval_unlabelled = 0  # evaluation batches without labels since then
        self._eval_position = 0  # samples of the current evaluation seen on this rank
        self._root: str | None = None
        self._split_sinks: dict[str, Any] = {}
        self.forwards_seen = 0  # forwards the hook saw, for users who want to check

    # --- set-up ----------------------------------------------------------------------------

    def on_init_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        self._attach(model, processing_class)

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        # The model may be new (model_init); trainer.evaluate() before train() was hooked at init.
        self._attach(model, processing_class)
        if self._root is None:
            self._root = self._resolve_log_dir(args)

    def _attach(self, model: Any, processing_class: Any) -> None:
        if model is None or model is self._model:
            return
        if self._hook is not None:
            self._hook.remove()
        self._model = model
        self._processing_class = processing_class
        self._class_names = self._resolve_class_names(model)
        self._hook = model.register_forward_hook(self._on_forward, with_kwargs=True)

    def _resolve_class_names(self, model: Any) -> tuple[str, ...]:
        config = getattr(model, "config", None)
        num_labels = getattr(config, "num_labels", None)
        given = self._class_names_given
        if num_labels is None:
            if given is None:
                raise ValueError(
                    f"the model ({type(model).__name__}) has no config.num_labels; pass "
                    "class_names= to PerClassCallback"
                )
            return given
        if num_labels == 1 and config.problem_type in (None, "regression"):
            raise ValueError(
                "the model has num_labels=1, which transformers trains as regression; "
                "PerClassCallback records classifiers: give the model one output per class "
                "(num_labels=2 for a binary task)"
            )
        if given is not None:
            if len(given) != num_labels:
                raise ValueError(
                    f"class_names has {len(given)} names but the model has num_labels="
                    f"{num_labels} (config.id2label: {_preview(_id2label_names(config))}); "
                    "pass one name per label, or none to use config.id2label"
                )
            return given
        return _id2label_names(config)

    def _resolve_log_dir(self, args: Any) -> str:
        if self._log_dir is not None:
            return self._log_dir
        tensorboard = _tensorboard_callback()
        if tensorboard is not None:
            writer = getattr(tensorboard, "tb_writer", None)
            directory = getattr(writer, "log_dir", None) or getattr(tensorboard, "logging_dir", None)
            if directory:
                return os.fspath(directory)
        # What TensorBoardCallback would use: transformers 5 reads TENSORBOARD_LOGGING_DIR,
        # transformers 4 TrainingArguments.logging_dir; both default to output_dir/runs/<stamp>.
        directory = os.getenv("TENSORBOARD_LOGGING_DIR") or getattr(args, "logging_dir", None)
        if directory:
            return os.path.expanduser(directory)
        stamp = datetime.datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()
        return os.path.join(args.output_dir, "runs", stamp)

    def _writer(self, split: str) -> PerClassWriter:
        if split not in self._writers:
            options = dict(self._writer_options)
            if split == EVAL and self._samples:
                options["denormalize"] = self._denormalize or _image_denormalizer(
                    self._processing_class
                )
            root = self._root or "."
            self._writers[split] = PerClassWriter(
                os.path.join(root, split),
                class_names=self._class_names,
                task=self._task,
                **options,
            )
        return self._writers[split]

    # --- the hook --------------------------------------------------------------------------

    def _on_forward(self, module: Any, args: tuple, kwargs: dict, output: Any) -> None:
        self.forwards_seen += 1
        logits = _logits(output, self._logits_key)
        labels = kwargs.get(self._labels_key)
        if module.training:
            if labels is None:
                raise ValueError(
                    f"PerClassCallback: a training forward of {type(module).__name__} got no "
                    f"{self._labels_key!r} argument, so its batch cannot be counted per class. "
                    "The Trainer passes the labels to the model unless it computes the loss "
                    "itself (label_smoothing_factor > 0, compute_loss_func, or a compute_loss "
                    f"override that pops them): keep {self._labels_key!r} in the inputs given "
                    "to the model, or pass labels_key= if your labels have another name"
                )
            self._ensure_task(labels)
            self._writer(TRAIN).update(logits.detach(), labels)
            self._train_batches += 1
        else:
            self._eval_pending.append((logits.detach(), labels, kwargs))

    def _ensure_task(self, labels: Any) -> None:
        if self._task is not None:
            return
        problem_type = getattr(getattr(self._model, "config", None), "problem_type", None)
        if problem_type in _TASKS:
            self._task = _TASKS[problem_type]
        elif problem_type is None:  # transformers' own rule when the config does not say
            integer = not labels.is_floating_point()
            self._task = metadata.TASK_MULTICLASS if integer else metadata.TASK_MULTILABEL
        else:
            raise ValueError(
                f"the model's config.problem_type is {problem_type!r}; PerClassCallback "
                "records single_label_classification and multi_label_classification"
            )

    # --- evaluation ------------------------------------------------------------------------

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        if self._root is None:  # trainer.evaluate() before any train()
            self._root = self._resolve_log_dir(args)
        pending, self._eval_pending = self._eval_pending, []
        for logits, labels, inputs in pending:
            if labels is None:
                self._eval_unlabelled += 1
                continue
            self._ensure_task(labels)
            size = len(labels)
            keep = _rows_to_keep(eval_dataloader, size, args)
            if keep < size:  # accelerate's padding of a rank's last batch
                logits, labels = logits[:keep], labels[:keep]
                inputs = {k: _first_rows(v, keep, size) for k, v in inputs.items()}
            sample_inputs = self._sample_inputs(inputs) if self._samples else None
            ids = None
            if sample_inputs is not None:
                ids = _sample_ids(self._eval_position, keep, args, eval_dataloader)
            self._eval_position += len(labels)
            if keep:
                writer = self._writer(EVAL)
                writer.update(logits, labels, inputs=sample_inputs, sample_ids=ids)
            self._eval_batches += 1

    def _sample_inputs(self, inputs: Mapping[str, Any]) -> Any:
        main = getattr(self._model, "main_input_name", "input_ids")
        values = inputs.get(main)
        if values is None:
            return None
        if main == "input_ids":
            decode = getattr(self._processing_class, "batch_decode", None)
            if decode is None:
                return None  # no tokenizer given to the Trainer: no texts to show
            return decode(values, skip_special_tokens=True)
        if getattr(values, "ndim", 0) in (3, 4):
            return values
        return None

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self._root is None:
            self._root = self._resolve_log_dir(args)
        split = _eval_split(metrics)
        if self._eval_batches == 0 and self._eval_unlabelled:
            self._eval_unlabelled = 0
            self._eval_position = 0
            raise ValueError(
                f"PerClassCallback: the evaluation batches carry no {self._labels_key!r}, so "
                "nothing can be counted per class; give the Trainer an eval_dataset with a "
                f"{self._labels_key!r} column (or set TrainingArguments.label_names), or "
                "remove PerClassCallback when evaluating without labels"
            )
        batches, self._eval_batches = self._eval_batches, 0
        self._eval_unlabelled = 0
        self._eval_position = 0
        if batches:
            writer = self._writer(EVAL)
            self._point_to_split(split)
            writer.write(step=state.global_step)

    def _point_to_split(self, split: str) -> None:
        """Several evaluation datasets: each gets its own run, `eval_<name>`, known only from the
        metrics at on_evaluate; the evaluation writer's state is written there.
        PROTOTYPE: swaps the writer's sink; phase B uses the shared end-of-step function."""
        if split == EVAL:
            if EVAL in self._split_sinks:
                self._writers[EVAL]._sink = self._split_sinks[EVAL]
            return
        from tb_perclass import sinks

        writer = self._writers[EVAL]
        self._split_sinks.setdefault(EVAL, writer._sink)
        if split not in self._split_sinks:
            self._split_sinks[split] = sinks.open_sink(os.path.join(self._root or ".", split))
        writer._sink = self._split_sinks[split]

    def on_predict(self, args, state, control, metrics=None, **kwargs):
        if EVAL in self._writers:
            self._writers[EVAL].reset()  # predictions are not an evaluation
        self._eval_batches = self._eval_unlabelled = self._eval_position = 0

    # --- training --------------------------------------------------------------------------

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:  # the Trainer's training log, beside its train/loss
            self._write_train(state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self._write_train(state.global_step)  # the steps after the last logging step

    def _write_train(self, step: int) -> None:
        if self._train_batches:
            self._train_batches = 0
            self._writer(TRAIN).write(step=step)


# --- helpers -------------------------------------------------------------------------------


def _logits(output: Any, key: str) -> Any:
    if isinstance(output, Mapping) or hasattr(output, "keys"):
        if key in output:
            return output[key]
        raise ValueError(
            f"PerClassCallback: the model's output has no {key!r} (it has "
            f"{', '.join(map(repr, output.keys()))}); pass logits_key="
        )
    if isinstance(output, (tuple, list)):
        return output[1] if len(output) > 1 else output[0]  # (loss, logits, ...) or (logits,)
    return output


def _first_rows(value: Any, keep: int, batch_size: int) -> Any:
    """The first rows of a per-sample forward argument; other arguments as they are."""
    shape = getattr(value, "shape", ())
    return value[:keep] if len(shape) >= 1 and shape[0] == batch_size else value


def _id2label_names(config: Any) -> tuple[str, ...]:
    id2label = getattr(config, "id2label", None) or {}
    return tuple(str(id2label.get(i, i)) for i in range(config.num_labels))


def _preview(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:4])
    return f"[{shown}{', ...' if len(names) > 4 else ''}]"


def _tensorboard_callback() -> Any:
    """The Trainer's TensorBoardCallback, when it has one: found through the CallbackHandler
    that is calling us (a TrainerCallback is not given the Trainer or its other callbacks)."""
    handler_type = transformers.trainer_callback.CallbackHandler
    frame = sys._getframe(1)
    for _ in range(8):
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        if isinstance(owner, handler_type):
            tensorboard_type = getattr(
                transformers.integrations, "TensorBoardCallback", None
            )
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

    def denormalize(image: Any) -> Any:  # HWC or HW
        return image * (std if image.ndim == 3 else std.mean()) + (
            mean if image.ndim == 3 else mean.mean()
        )

    return denormalize


def _rows_to_keep(dataloader: Any, batch_size: int, args: Any) -> int:
    """How many rows of this evaluation batch are real: accelerate pads the last batch of each
    rank to equal sizes with samples from the start, and its gather_for_metrics drops them."""
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
    batch_size = getattr(dataloader, "total_batch_size", None)
    if not batch_size:
        return None
    per_rank = batch_size // world
    rank = getattr(args, "process_index", 0)
    batch, offset = divmod(position, per_rank)
    first = (batch * world + rank) * per_rank + offset
    return list(range(first, first + count))


def _eval_split(metrics: Mapping[str, Any] | None) -> str:
    """"eval", or "eval_<name>" for one of several evaluation datasets (the Trainer's metric
    prefix, read from its `<prefix>_runtime` metric)."""
    for key in metrics or {}:
        if key.endswith("_runtime"):
            return key[: -len("_runtime")]
    return EVAL
