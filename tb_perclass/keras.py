"""Keras 3 integration: per-class curves from `model.fit()` with one callback.

`PerClassCallback` gathers per-class train statistics from the batches `fit()` already computes:
while fitting, it wraps the model's `compute_metrics` (called by Keras' own `train_step` and
`test_step` with each batch's outputs) so that a `PerClassMetric` sees every batch, then reads
that metric's state at each epoch's end. There is no extra forward pass over the training data.
Validation statistics come the same way from `fit(validation_data=...)`; or, when the callback is
given `validation_data` itself, from one pass over it per epoch that also keeps the most
confident misclassified samples.

The metric is written with `keras.ops` and holds its state in Keras variables, so it runs
inside whatever `fit()` compiles on Keras' TensorFlow, PyTorch and JAX backends alike. Its state
is summed across replicas by Keras (`aggregation="sum"`), so `tf.distribute.MirroredStrategy`
gives the numbers of a single device; under `MultiWorkerMirroredStrategy` every worker reads the
summed state and only the chief writes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from typing import Any, Callable, Sequence

import keras
import numpy as np
from keras import ops as K

from tb_perclass import metadata, sinks
from tb_perclass.stats import batches, confusion, perclass
from tb_perclass.stats import losses as losses_module
from tb_perclass.stats.keras_ops import OPS as KERAS_OPS
from tb_perclass.writer import (
    PerClassWriter,
    binary_class_names,
    check_class_names,
    check_invalid_targets,
    step_summary,
)


SUPPORTED_BACKENDS = ("tensorflow", "torch", "jax")


class PerClassMetric(keras.metrics.Metric):
    """Accumulates per-class statistics and confusion counts of the batches it is given.

    Its state is what `PerClassWriter` accumulates, held in Keras variables so that it lives in
    `fit()`'s compiled steps and is summed across replicas. The callback attaches it to the
    model (JAX passes only the model's metric variables through its steps) and clears it
    itself: `reset_state()`, which Keras calls at every epoch and evaluation, keeps the state.
    """

    def __init__(
        self,
        spec: batches.TaskSpec,
        per_sample_loss: Callable[[Any, Any], Any] | None,
        *,
        record_confusion: bool = True,
        name: str = "perclass",
    ):
        super().__init__(name=name, dtype="float64")
        self.spec = spec
        self._per_sample_loss = per_sample_loss
        self.table = self.add_variable(
            shape=(spec.rows, 4), initializer="zeros", dtype="float64", aggregation="sum",
            name="table",
        )  # fmt: skip
        self.counts = None
        if record_confusion:
            self.counts = self.add_variable(
                shape=(spec.rows * spec.confusion_width,), initializer="zeros", dtype="float64",
                aggregation="sum", name="confusion",
            )  # fmt: skip
        self.batches_seen = self.add_variable(
            shape=(), initializer="zeros", dtype="float64", aggregation="sum", name="batches"
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = _adapt_targets(self.spec, KERAS_OPS.prepare(y_true))
        y_pred = KERAS_OPS.prepare(y_pred)
        losses = None
        if self._per_sample_loss is not None:
            losses = self._per_sample_loss(y_pred, y_true)
        batch = batches.format_batch(KERAS_OPS, y_pred, y_true, losses, self.spec)
        perclass.update_table(KERAS_OPS, self.table, batch)
        if self.counts is not None:
            confusion.update_confusion(KERAS_OPS, self.counts, batch, self.spec)
        self.batches_seen.assign_add(K.ones((), dtype=self.batches_seen.dtype))

    def result(self) -> Any:
        return {}  # nothing in fit()'s logs: the callback reads the state instead

    def read(self) -> tuple[np.ndarray, np.ndarray | None, int]:
        """The state on the host (summed over replicas): table, confusion cells, batches."""
        counts = None if self.counts is None else np.asarray(self.counts.numpy(), np.float64)
        return np.asarray(self.table.numpy(), np.float64), counts, int(self.batches_seen.numpy())

    def reset_state(self) -> None:
        pass  # Keras resets the model's metrics at each epoch and evaluation; see clear()

    def clear(self) -> None:
        for variable in self.variables:
            variable.assign(K.zeros(variable.shape, variable.dtype))


class PerClassCallback(keras.callbacks.Callback):
    """Writes per-class curves, confusion matrices and misclassified samples from `fit()`.

    Runs are written like `keras.callbacks.TensorBoard`'s, to `log_dir/train` and
    `log_dir/validation` (the two can share those directories), one step per epoch.

    Args:
      log_dir: the experiment directory.
      class_names, num_classes, name, task, threshold, ignore_index, confusion: as for
        `PerClassWriter`; the class count defaults to the width of the model's output.
      loss: the per-sample loss; by default the compiled model's loss without reduction
        (multilabel: element-wise binary cross-entropy). A `keras.losses.Loss`, a loss
        function, a name known to `PerClassWriter`, or a callable(y_true, y_pred) returning
        one value per sample.
      output: for a model with several outputs, which one (name or index) to follow.
      from_logits: whether that output holds logits; by default what the compiled loss says.
      validation_data: optional (x, y) (NumPy or tensors) for validation statistics and
        misclassified samples, predicted once per epoch in batches of `batch_size`. Without
        it, validation statistics come from `fit(validation_data=...)`, without samples.
      max_samples, samples_per_cell, layout, denormalize, max_image_side: for the samples, as
        for `PerClassWriter`.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        class_names: Sequence[str] | None = None,
        num_classes: int | None = None,
        name: str = metadata.DEFAULT_NAME,
        *,
        task: str = metadata.TASK_MULTICLASS,
        loss: Any = None,
        output: str | int | None = None,
        from_logits: bool | None = None,
        threshold: float | Sequence[float] | None = None,
        ignore_index: int | None = None,
        confusion: bool = True,
        validation_data: tuple[Any, Any] | None = None,
        batch_size: int = 256,
        max_samples: int = 256,
        samples_per_cell: int = 8,
        layout: str | None = None,
        denormalize: Callable[[Any], Any] | None = None,
        max_image_side: int = 256,
    ):
        super().__init__()
        if keras.backend.backend() not in SUPPORTED_BACKENDS:
            raise RuntimeError(
                f"PerClassCallback runs on Keras' {', '.join(SUPPORTED_BACKENDS)} backends; this "
                f"Keras runs on {keras.backend.backend()!r} (KERAS_BACKEND). Set KERAS_BACKEND to "
                "one of those, or feed tb_perclass.PerClassWriter from a custom training loop"
            )
        if task not in metadata.TASKS or task == metadata.TASK_REGRESSION:
            raise ValueError(f"task={task!r}; the callback supports multiclass, binary, multilabel")
        self.log_dir = os.fspath(log_dir)
        self._options = dict(
            class_names=class_names, num_classes=num_classes, name=name, task=task,
            threshold=threshold, ignore_index=ignore_index, confusion=confusion,
        )  # fmt: skip
        self._loss, self._output, self._from_logits = loss, output, from_logits
        self._validation_data = validation_data
        self._batch_size = batch_size
        self._sample_options = dict(
            max_samples=max_samples, samples_per_cell=samples_per_cell, layout=layout,
            denormalize=denormalize, max_image_side=max_image_side,
        )  # fmt: skip
        self._metrics: dict[str, PerClassMetric] = {}
        self._phase: str | None = None
        self._original_compute_metrics: Callable | None = None
        self._sinks: dict[str, sinks.Sink] = {}
        self._validation_writer: PerClassWriter | None = None

    # --- set-up and tear-down ----------------------------------------------------------------

    def on_train_begin(self, logs: Any = None) -> None:
        model = self.model
        output_index = _output_index(model, self._output)
        loss = self._loss if self._loss is not None else _compiled_loss(model, output_index)
        from_logits = self._from_logits
        if from_logits is None:
            from_logits = _loss_from_logits(loss)
        task = self._options["task"]
        per_sample = _per_sample_loss(loss, task)
        self._class_names = self._resolve_class_names(model, output_index, task)
        self._loss_name = _loss_display_name(loss)
        self._spec = batches.TaskSpec(
            task=task,
            num_classes=len(self._class_names),
            from_logits=from_logits,
            threshold=batches.check_threshold(
                task, self._options["threshold"], len(self._class_names)
            ),
            ignore_index=self._options["ignore_index"],
            loss=per_sample,
        )
        strategy = getattr(model, "distribute_strategy", None)  # TensorFlow only
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            self._metrics = {
                phase: PerClassMetric(
                    self._spec,
                    per_sample if callable(per_sample) else None,
                    record_confusion=self._options["confusion"],
                    name=f"perclass_{phase}",
                )
                for phase in ("train", "validation")
            }
        for phase, metric in self._metrics.items():
            # Tracked by the model: its variables travel through JAX's stateless steps.
            setattr(model, f"_tb_perclass_{phase}", metric)
        # MultiWorkerMirroredStrategy: every worker reads (a collective), the chief writes.
        self._writes = getattr(getattr(strategy, "extended", None), "should_save_summary", True)
        self._sinks = {
            phase: sinks.open_sink(os.path.join(self.log_dir, phase))
            for phase in ("train", "validation")
        }
        if self._validation_data is not None and self._writes:
            options = dict(self._sample_options)
            if options["layout"] is None and np.ndim(self._validation_data[0]) == 4:
                # Keras knows where its image channels are.
                channels_last = keras.config.image_data_format() == "channels_last"
                options["layout"] = "NHWC" if channels_last else "NCHW"
            self._validation_writer = PerClassWriter(
                os.path.join(self.log_dir, "validation"),
                **{**self._options, "class_names": self._class_names, "num_classes": None},
                from_logits=from_logits,
                loss=per_sample,
                loss_name=self._loss_name,
                **options,
            )
        self._install(output_index)

    def _resolve_class_names(self, model: Any, output_index: int | None, task: str) -> tuple:
        names, count = self._options["class_names"], self._options["num_classes"]
        if task == metadata.TASK_BINARY:
            names, count = binary_class_names(names, count)
        width = _output_width(model, output_index, task)
        if names is None and count is None:
            count = width
        names = check_class_names(names, count)
        if width is not None and len(names) != width:
            raise ValueError(
                f"{len(names)} classes (class_names/num_classes) but the model's output "
                f"{_output_label(model, output_index)} has {width} units"
            )
        return names

    def _install(self, output_index: int | None) -> None:
        """Hooks the model's compute_metrics, and rebuilds fit's graph functions so that they
        are traced with the hook (they are traced at their first call)."""
        model = self.model
        original = model.compute_metrics
        self._original_compute_metrics = original

        def compute_metrics(x, y, y_pred, sample_weight=None):
            metric = self._metrics.get(self._phase) if self._phase else None
            if metric is not None:
                metric.update_state(_pick(y, output_index), _pick(y_pred, output_index))
            return original(x, y, y_pred, sample_weight=sample_weight)

        model.compute_metrics = compute_metrics
        self._phase = "train"
        model.make_train_function(force=True)
        model.make_test_function(force=True)

    def on_train_end(self, logs: Any = None) -> None:
        model = self.model
        if self._original_compute_metrics is not None:
            model.compute_metrics = self._original_compute_metrics
            self._original_compute_metrics = None
            # Later fit()/evaluate() calls get functions without the hook.
            model.make_train_function(force=True)
            model.make_test_function(force=True)
        for phase, metric in self._metrics.items():
            delattr(model, f"_tb_perclass_{phase}")
            if metric in getattr(model, "_metrics", ()):
                model._metrics.remove(metric)  # PROTOTYPE: Keras has no public untrack
        for sink in self._sinks.values():
            sink.close()
        if self._validation_writer is not None:
            self._validation_writer.close()

    # --- phases ------------------------------------------------------------------------------

    def on_test_begin(self, logs: Any = None) -> None:
        # fit()'s validation: counted unless the callback predicts its own validation data.
        self._phase = "validation" if self._validation_data is None else None

    def on_test_end(self, logs: Any = None) -> None:
        self._phase = "train"

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self._write_metric("train", epoch)
        if self._validation_data is not None:
            if self._validation_writer is not None:
                self._predict_validation(epoch)
        else:
            self._write_metric("validation", epoch)

    def _write_metric(self, phase: str, epoch: int) -> None:
        metric = self._metrics[phase]
        table, cells, seen = metric.read()
        metric.clear()
        if seen == 0 or not self._writes:
            return  # no validation data this epoch, or a worker that is not the chief
        stats, invalid = perclass.compute_stats(table, self._spec)
        check_invalid_targets(invalid, self._spec, epoch)
        if cells is not None:
            nonzero = np.flatnonzero(cells)
            matrix = confusion.matrix_from_cells(nonzero, cells[nonzero], self._spec)
            stats = dataclasses.replace(stats, confusion=matrix)
        self._sinks[phase].write(
            step_summary(
                self._options["name"],
                stats,
                None,
                class_names=self._class_names,
                task=self._spec.task,
                loss_name=self._loss_name,
            ),
            epoch,
            time.time(),
        )

    def _predict_validation(self, epoch: int) -> None:
        x, y = self._validation_data
        size = len(y)
        for start in range(0, size, self._batch_size):
            stop = min(start + self._batch_size, size)
            inputs = x[start:stop]
            outputs = _pick(self.model(inputs, training=False), _output_index(self.model, self._output))
            self._validation_writer.update(
                _for_writer(outputs),
                _for_writer(_adapt_targets(self._spec, K.convert_to_tensor(y[start:stop]))),
                inputs=_for_writer(K.convert_to_tensor(inputs)),
                sample_ids=np.arange(start, stop),
            )
        self._validation_writer.write(epoch)


# --- helpers -------------------------------------------------------------------------------


def _pick(values: Any, index: int | None) -> Any:
    if index is None or not isinstance(values, (list, tuple, dict)):
        return values
    if isinstance(values, dict):
        return list(values.values())[index]
    return values[index]


def _output_names(model: keras.Model) -> list[str]:
    return list(getattr(model, "output_names", None) or [])


def _output_index(model: keras.Model, output: str | int | None) -> int | None:
    outputs = model.outputs if getattr(model, "outputs", None) else None
    count = len(outputs) if outputs is not None else 1
    if output is None:
        if count > 1:
            names = ", ".join(_output_names(model)) or f"{count} outputs"
            raise ValueError(
                f"the model has {count} outputs ({names}); pass output= (a name or an index) to "
                "say which one PerClassCallback follows"
            )
        return None
    if isinstance(output, int):
        if not 0 <= output < count:
            raise ValueError(f"output={output}; the model has {count} outputs")
        return output
    names = _output_names(model)
    if output not in names:
        raise ValueError(f"output={output!r}; the model's outputs are {', '.join(names)}")
    return names.index(output)


def _output_label(model: keras.Model, index: int | None) -> str:
    names = _output_names(model)
    return repr(names[index]) if index is not None and index < len(names) else "(the only one)"


def _output_width(model: keras.Model, index: int | None, task: str) -> int | None:
    """Classes (labels) the followed output stands for; None when the model has no known
    outputs yet (a subclassed model), in which case class_names or num_classes must say."""
    if task == metadata.TASK_BINARY:
        return 2
    outputs = model.outputs if getattr(model, "outputs", None) else None
    return None if outputs is None else int(outputs[index or 0].shape[-1])


def _compiled_loss(model: keras.Model, index: int | None) -> Any:
    loss = model.loss
    if loss is None:
        raise ValueError("the model is not compiled with a loss; pass loss= to PerClassCallback")
    if isinstance(loss, dict):
        names = _output_names(model)
        loss = loss.get(names[index] if index is not None else names[0])
    elif isinstance(loss, (list, tuple)):
        loss = loss[index or 0]
    return loss


def _loss_from_logits(loss: Any) -> bool:
    if isinstance(loss, keras.losses.Loss):
        return bool(loss.get_config().get("from_logits", False))
    return False  # Keras' string and function losses take probabilities by default


def _per_sample_loss(loss: Any, task: str) -> Any:
    """A callable(outputs, targets) -> per-sample losses (the writer's argument order), or the
    name of one of the writer's own losses."""
    if task == metadata.TASK_MULTILABEL:
        return losses_module.BINARY_CROSS_ENTROPY  # Keras averages over labels; we need each
    if isinstance(loss, keras.losses.Loss):
        keras_loss = loss.call  # the unreduced loss, one value per sample
    elif isinstance(loss, str):
        try:
            keras_loss = keras.losses.get(loss)
        except ValueError:
            return losses_module.resolve(task, loss)
    elif callable(loss):
        keras_loss = loss
    else:
        raise TypeError(f"loss={loss!r}; pass a keras loss, a loss function or a loss name")

    def per_sample(outputs: Any, targets: Any) -> Any:
        return keras_loss(targets, outputs)

    per_sample.__name__ = _loss_display_name(loss)
    return per_sample


def _loss_display_name(loss: Any) -> str:
    if isinstance(loss, keras.losses.Loss):
        return loss.name
    if isinstance(loss, str):
        return loss
    return getattr(loss, "__name__", type(loss).__name__)


def _adapt_targets(spec: batches.TaskSpec, y_true: Any) -> Any:
    """Keras hands sparse targets over as (B, 1) and often as floats."""
    if spec.task != metadata.TASK_MULTICLASS:
        return y_true
    if len(y_true.shape) == 2 and y_true.shape[-1] == 1:
        y_true = K.squeeze(y_true, axis=-1)
    if len(y_true.shape) == 1 and not KERAS_OPS.is_integer(y_true):
        y_true = K.cast(y_true, "int32")
    return y_true


def _for_writer(x: Any) -> Any:
    """A backend tensor as `PerClassWriter` takes it: torch and TensorFlow tensors as they
    are (on their device), JAX arrays as NumPy."""
    return np.asarray(x) if keras.backend.backend() == "jax" else x
