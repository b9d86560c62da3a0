"""Keras 3 integration: per-class curves from `model.fit()` with one callback.

`PerClassCallback` gathers per-class train statistics from the batches `fit()` already computes:
while fitting, it wraps the model's `compute_metrics` (called by Keras' own `train_step` and
`test_step` with each batch's outputs) so that a `PerClassMetric` sees every batch, then reads
that metric's state at each epoch's end. There is no extra forward pass over the training data.
Validation statistics come the same way from `fit(validation_data=...)`; or, when the callback is
given `validation_data` itself, from one pass over it per epoch that also keeps the most
confident misclassified samples.

Keras' TensorFlow, PyTorch and JAX backends run it alike: the metric's state lives in Keras
variables, updated inside `fit()`'s compiled steps by each backend's own operations (TensorFlow's
graph ops, torch's in-place ops on the variables' tensors, `keras.ops` under JAX, whose jitted
steps carry only the model's metric variables, so the metrics are attached to the model while
it fits). The state is summed across replicas by Keras (`aggregation="sum"`), so
`tf.distribute.MirroredStrategy` gives the numbers of a single device; under
`MultiWorkerMirroredStrategy` every worker reads the summed state and only the chief writes.

With `track_samples=N` the training batches' dynamics are tracked per sample: the callback
takes each batch's dataset indices from the inputs (a dict input with a `sample_id` key, e.g. a
`tf.data.Dataset` of ({"pixels": x, "sample_id": i}, y)), removes that key before the model
sees the inputs, and updates the per-sample state inside fit()'s graph with scatter ops of the
batch's size. With arrays given to fit(x, y) without ids the callback cannot know which rows a
batch holds (Keras shuffles them itself): add the indices to the inputs. Not supported under a
distribution strategy of several replicas, and no thumbnails (the inputs stay in the graph);
TensorFlow backend only (the tracker's state is updated with TensorFlow's graph ops).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops as K

from tb_perclass.format import metadata
from tb_perclass.logger import (
    destinations,
    losses,
    output_kind,
    score_state,
    sinks,
    spec,
    state,
    steps,
    tasks,
)
from tb_perclass.logger.accumulator import Accumulator
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.dynamics.tracker import SampleTracker
from tb_perclass.logger.output_kind import OutputKindMonitor
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.step_writer import StepWriter

PHASES = ("train", "validation")
SUPPORTED_BACKENDS = ("tensorflow", "torch", "jax")
# Advice the callback adds to the warnings of the end of a step.
_ORDER_HINT = "; with Keras, a later fit() continues its epochs with fit(initial_epoch=...)"
_KIND_HINT = (
    " (the callback takes from_logits from the compiled loss: set it there, e.g. "
    "keras.losses.SparseCategoricalCrossentropy(from_logits=...), which also makes "
    "the model train on the right loss)"
)


class PerClassMetric(keras.metrics.Metric):
    """Accumulates per-class statistics and confusion counts of the batches it is given.

    Its state is what `PerClassWriter` accumulates, held in Keras variables so that it lives in
    `fit()`'s compiled steps and is summed across replicas. Keras resets a model's metrics at
    every epoch and evaluation: `reset_state()` leaves this one alone (the train state must
    outlive fit's validation), and `clear()` resets it.
    """

    def __init__(
        self,
        spec: TaskSpec,
        per_sample_loss: Callable[[Any, Any], Any] | None,
        *,
        record_confusion: bool = True,
        name: str = "perclass",
    ):
        super().__init__(name=name, dtype="float64")
        self.spec = spec
        self._per_sample_loss = per_sample_loss
        self._ops = _backend_ops()
        self._check_next = True  # torch (eager): check the outputs of the first batch
        self.table = self.add_variable(
            shape=state.table_shape(spec),
            initializer="zeros",
            dtype="float64",
            aggregation="sum",
            name="table",
        )
        self.counts = None
        if record_confusion:
            self.counts = self.add_variable(
                shape=(state.confusion_size(spec),),
                initializer="zeros",
                dtype="float64",
                aggregation="sum",
                name="confusion",
            )
        self.scores = {
            name: self.add_variable(
                shape=shape, initializer="zeros", dtype=dtype, aggregation="sum", name=name
            )
            for name, (shape, dtype) in (score_state.shapes(spec) if spec.scores else {}).items()
        }
        self.batches_seen = self.add_variable(
            shape=(), initializer="zeros", dtype="float64", aggregation="sum", name="batches"
        )
        self.tracker: SampleTracker | None = None  # per-sample dynamics (training metric)

    def update_state(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None, sample_ids: Any = None
    ) -> None:
        ops = self._ops
        y_true = _adapt_targets(self.spec, ops.prepare(K.convert_to_tensor(y_true)))
        y_pred = ops.prepare(K.convert_to_tensor(y_pred))
        losses = None
        if self._per_sample_loss is not None:
            losses = ops.prepare(self._per_sample_loss(y_pred, y_true))
        batch = tasks.format_batch(ops, y_pred, y_true, losses, self.spec)
        table, counts = self._state(self.table), self._state(self.counts)
        state.update(ops, table, counts, batch, self.spec)
        if self.scores:  # TensorFlow's graph ops and torch's update the variables in place
            arrays = {name: self._state(variable) for name, variable in self.scores.items()}
            score_state.update(ops, arrays, y_pred, batch, self.spec)
        if self.tracker is not None and sample_ids is not None:
            # TensorFlow only (refused elsewhere). In the graph: ids cannot be read, so bad
            # ones get a row of their own (route_ids).
            import tensorflow as tf

            self.tracker.backend.track(
                self.tracker.state,
                tf.reshape(tf.cast(sample_ids, tf.int64), (-1,)),
                tf.stop_gradient(y_pred),
                batch.rows,
                batch.correct,
                self.spec.num_classes,
                self.spec.from_logits,
                self.spec.task == metadata.TASK_BINARY,
                True,
            )
        if output_kind.applies(self.spec.task):
            # The first batch after each reset, as the writer does: a few reductions.
            self._check_first_outputs(y_pred, table)
        self.batches_seen.assign_add(K.ones((), dtype=self.batches_seen.dtype))

    def _state(self, variable: Any) -> Any:
        """What the backend's ops update: the variable, or (torch) its tensor, in place."""
        if variable is None or keras.backend.backend() != "torch":
            return variable
        return variable.value

    def _check_first_outputs(self, y_pred: Any, table: Any) -> None:
        backend = keras.backend.backend()
        if backend == "torch":  # eager: a Python flag, no read of the device
            if self._check_next:
                self._check_next = False
                state.add_output_checks(self._ops, table, y_pred, self.spec)
        elif backend == "tensorflow":  # a graph: a branch on the batch count
            import tensorflow as tf

            def check() -> Any:
                state.add_output_checks(self._ops, table, y_pred, self.spec)
                return tf.constant(True)

            tf.cond(tf.equal(self.batches_seen, 0.0), check, lambda: tf.constant(False))
        else:  # JAX's jitted steps take no state update in a branch: weigh the counts by 0/1
            first = K.cast(K.equal(self.batches_seen, 0.0), table.dtype)
            flags = output_kind.evidence(self._ops, y_pred, self.spec)
            weighted = [K.cast(flag, table.dtype) * first for flag in flags]
            self._ops.count_into(table, self.spec.checks_row, weighted)

    def result(self) -> Any:
        return {}  # nothing in fit()'s logs: the callback reads the state instead

    def read(self) -> tuple[state.HostState, int]:
        """The state on the host (summed over replicas), and the number of batches seen."""
        counts = None if self.counts is None else np.asarray(self.counts.numpy())
        host = state.HostState.from_dense(np.asarray(self.table.numpy()), counts)
        if self.scores:
            arrays = {name: np.asarray(v.numpy()) for name, v in self.scores.items()}
            host = host.with_scores(score_state.counts_of(arrays, self.spec))
        return host, int(self.batches_seen.numpy())

    def reset_state(self) -> None:
        pass  # Keras' own resets (each epoch, each evaluation); see clear()

    def clear(self) -> None:
        for variable in self.variables:
            variable.assign(K.zeros(variable.shape, variable.dtype))
        self._check_next = True


class PerClassCallback(keras.callbacks.Callback):
    """Writes per-class curves, confusion matrices and misclassified samples from `fit()`.

    Runs are written like `keras.callbacks.TensorBoard`'s, to `log_dir/train` and
    `log_dir/validation` (the two can share those directories), one step per epoch.

    Args:
      log_dir: the experiment directory.
      class_names, num_classes, name, task, threshold, ignore_index, confusion, confusion_every,
        scores, top_k: as for `PerClassWriter` (`confusion_every` counts epochs; the last
        epoch's matrix is written at the end of `fit()`); the class count defaults to the
        width of the model's output.
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
      storage_options, segment_bytes: for a URL `log_dir` (s3://, gs://...), as for
        `PerClassWriter`; the URL is checked when the callback is made.
      track_samples: the training set's size, to record training dynamics per sample (the
        Dynamics tab): the inputs must then be a dict holding the batch's dataset indices under
        `sample_ids` (default "sample_id"), which the callback removes before the model sees
        them.
      sample_ids: the key of the dataset indices in the inputs.
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
        confusion_every: int = 1,
        scores: bool = False,
        top_k: int | None = None,
        validation_data: tuple[Any, Any] | None = None,
        batch_size: int = 256,
        max_samples: int = 256,
        samples_per_cell: int = 8,
        layout: str | None = None,
        denormalize: Callable[[Any], Any] | None = None,
        max_image_side: int = 256,
        storage_options: Mapping[str, Any] | None = None,
        segment_bytes: int | None = None,
        track_samples: int | None = None,
        sample_ids: str = "sample_id",
    ):
        super().__init__()
        backend = keras.backend.backend()
        if backend not in SUPPORTED_BACKENDS:
            raise RuntimeError(
                f"PerClassCallback runs on Keras' {', '.join(SUPPORTED_BACKENDS)} backends; this "
                f"Keras runs on {backend!r} (KERAS_BACKEND). Set KERAS_BACKEND to one of those, "
                "or feed tb_perclass.PerClassWriter from a custom training loop"
            )
        if task not in metadata.TASKS or task == metadata.TASK_REGRESSION:
            raise ValueError(f"task={task!r}; the callback supports multiclass, binary, multilabel")
        if scores and backend == "jax":
            raise ValueError(
                "scores=True runs on Keras' tensorflow and torch backends, not yet on jax (the "
                "score histograms have no keras.ops version for JAX's jitted steps); set "
                "KERAS_BACKEND=tensorflow or torch, or pass scores=False"
            )
        if track_samples is not None and backend != "tensorflow":
            raise ValueError(
                f"track_samples runs on Keras' tensorflow backend only, not on {backend!r} (the "
                "per-sample state is updated with TensorFlow's graph ops); set "
                "KERAS_BACKEND=tensorflow, or use tb_perclass.PerClassWriter(track_samples=...) "
                "in a custom training loop"
            )
        self.log_dir = os.fspath(log_dir)
        self._name = spec.check_name(name)
        self._remote = spec.remote_options(
            storage_options=storage_options, segment_bytes=segment_bytes
        )
        sinks.check_url_logdir(self.log_dir, self._remote)
        # Checked in on_train_begin, with what the model says (classes, loss, from_logits).
        self._options = dict(
            task=task,
            class_names=class_names,
            num_classes=num_classes,
            threshold=threshold,
            ignore_index=ignore_index,
            scores=scores,
            top_k=top_k,
        )
        self._record_confusion = bool(confusion)
        self._confusion_every = spec.check_confusion_every(confusion_every, bool(confusion))
        self._track_samples = spec.check_track_samples(track_samples, task)
        self._ids_key = sample_ids
        self._tracker: SampleTracker | None = None
        self._batch_ids: Any = None  # the traced batch's ids, from train_step to compute_metrics
        self._original_steps: dict[str, Callable] = {}
        self._loss, self._output, self._from_logits = loss, output, from_logits
        self._validation_data = validation_data
        self._batch_size = batch_size
        self._sample_options = dict(
            max_samples=max_samples,
            samples_per_cell=samples_per_cell,
            layout=layout,
            denormalize=denormalize,
            max_image_side=max_image_side,
        )
        self._metrics: dict[str, PerClassMetric] = {}
        self._phase: str | None = None
        self._original_compute_metrics: Callable | None = None
        self._validation: Accumulator | None = None
        # Kept across fit() calls: a second fit() whose epochs start again at 0 is warned of.
        self._steps: dict[str, StepWriter] = {}
        self._output_kind: OutputKindMonitor | None = None
        self._writes = True  # False on the workers of MultiWorkerMirroredStrategy but the chief

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
        self._loss_name = _loss_display_name(loss)
        self._spec = self._task_spec(model, output_index, from_logits, per_sample)
        strategy = getattr(model, "distribute_strategy", None)  # TensorFlow only
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            self._metrics = {
                phase: PerClassMetric(
                    self._spec,
                    per_sample if callable(per_sample) else None,
                    record_confusion=self._record_confusion,
                    name=f"perclass_{phase}",
                )
                for phase in PHASES
            }
        for phase, metric in self._metrics.items():
            # Tracked by the model, so that JAX's stateless steps carry its variables.
            setattr(model, _metric_attribute(phase), metric)
        # MultiWorkerMirroredStrategy: every worker reads the state (a collective), the chief
        # alone writes.
        self._writes = bool(
            getattr(getattr(strategy, "extended", None), "should_save_summary", True)
        )
        self._output_kind = OutputKindMonitor(task, from_logits)
        if self._track_samples is not None:
            replicas = model.distribute_strategy.num_replicas_in_sync
            if replicas > 1:
                raise ValueError(
                    f"track_samples under a distribution strategy of {replicas} replicas: the "
                    "per-sample state is not merged across replicas. Track on one device, or "
                    "use PerClassWriter in a custom loop"
                )
            if self._tracker is None or self._tracker.size != self._track_samples:
                self._tracker = SampleTracker(
                    self._track_samples, self._spec, spec.sample_options(**self._sample_options)
                )
                self._tracker.start_in_graph("tensorflow")
            self._metrics["train"].tracker = self._tracker
        if self._writes:
            self._open_steps(kind_hint=_KIND_HINT if self._from_logits is None else "")
        self._validation = None
        if self._validation_data is not None and self._writes:
            options = dict(self._sample_options)
            if options["layout"] is None and np.ndim(self._validation_data[0]) == 4:
                # Keras knows where its image channels are.
                channels_last = keras.config.image_data_format() == "channels_last"
                options["layout"] = "NHWC" if channels_last else "NCHW"
            self._validation = Accumulator(
                self._spec, spec.sample_options(**options), self._record_confusion
            )
        self._install(output_index)

    def _task_spec(
        self, model: Any, output_index: int | None, from_logits: bool, per_sample: Any
    ) -> TaskSpec:
        """The writer's specification, its class count by default the followed output's width."""
        options = dict(self._options)
        width = _output_width(model, output_index, options["task"])
        if options["class_names"] is None and options["num_classes"] is None:
            options["num_classes"] = width
        task_spec = spec.task_spec(**options, from_logits=from_logits, loss=per_sample)
        if task_spec.class_names is None:
            raise ValueError(
                "the model does not say its output width yet (a subclassed model that was not "
                "built): pass class_names or num_classes to PerClassCallback"
            )
        if width is not None and task_spec.num_classes != width:
            raise ValueError(
                f"{task_spec.num_classes} classes (class_names/num_classes) but the model's "
                f"output {_output_label(model, output_index)} has {width} units"
            )
        return task_spec

    def _open_steps(self, kind_hint: str) -> None:
        """The sinks of both phases, claimed for this callback's name while it fits."""
        for phase in PHASES:
            sink = sinks.open_sink(sinks.join_logdir(self.log_dir, phase), self._remote)
            destinations.claim(sink.destination, self._name, self)
            previous = self._steps.get(phase)
            if previous is not None:  # left open by a fit() that failed
                previous.close_at_exit()
            self._steps[phase] = StepWriter(
                sink,
                self._name,
                order_hint=_ORDER_HINT,
                kind_hint=kind_hint,
                confusion_every=self._confusion_every,
            )
            if previous is not None:  # a later fit(): the step order and write count go on
                self._steps[phase].order = previous.order
                self._steps[phase].cadence.writes = previous.cadence.writes

    def _install(self, output_index: int | None) -> None:
        """Hooks the model's compute_metrics, and rebuilds fit's graph functions so that they
        are traced with the hook (they are traced at their first call)."""
        model = self.model
        original = model.compute_metrics
        self._original_compute_metrics = original

        def compute_metrics(x, y, y_pred, sample_weight=None):
            metric = self._metrics.get(self._phase) if self._phase else None
            if metric is not None:
                ids = self._batch_ids if self._phase == "train" else None
                metric.update_state(
                    _pick(y, output_index), _pick(y_pred, output_index), sample_ids=ids
                )
            return original(x, y, y_pred, sample_weight=sample_weight)

        model.compute_metrics = compute_metrics
        if self._tracker is not None:
            for name in ("train_step", "test_step"):
                self._original_steps[name] = getattr(model, name)
                setattr(model, name, self._without_ids(name, getattr(model, name)))
        self._phase = "train"
        model.make_train_function(force=True)
        model.make_test_function(force=True)

    def _without_ids(self, name: str, step: Callable) -> Callable:
        """`train_step` / `test_step` taking the dataset indices out of dict inputs before the
        model sees them; the training step's ids are kept for compute_metrics (the same trace)."""
        key = self._ids_key
        single_input = _takes_one_tensor(self.model)

        def step_without_ids(data):
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            ids = None
            if isinstance(x, dict) and key in x:
                ids = x[key]
                x = {k: v for k, v in x.items() if k != key}
                if single_input and len(x) == 1:  # {"pixels": x} for a model of one input
                    (x,) = x.values()
                data = keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
            if name == "train_step":
                if ids is None:
                    raise ValueError(
                        f"PerClassCallback(track_samples={self._track_samples}) needs each "
                        f"training batch's dataset indices in the inputs: a dict input with a "
                        f"{key!r} key, e.g. tf.data.Dataset.from_tensor_slices(({{'pixels': x, "
                        f"{key!r}: np.arange(len(x))}}, y)). fit(x, y) with arrays alone does "
                        "not say which rows a batch holds"
                    )
                self._batch_ids = ids
            return step(data)

        return step_without_ids

    def on_train_end(self, logs: Any = None) -> None:
        model = self.model
        for name, original_step in self._original_steps.items():
            setattr(model, name, original_step)
        self._original_steps.clear()
        if self._original_compute_metrics is not None:
            model.compute_metrics = self._original_compute_metrics
            self._original_compute_metrics = None
            # Later fit()/evaluate() calls get functions without the hook.
            model.make_train_function(force=True)
            model.make_test_function(force=True)
        for phase, metric in self._metrics.items():
            if getattr(model, _metric_attribute(phase), None) is metric:
                delattr(model, _metric_attribute(phase))
            tracked = getattr(model, "_metrics", None)  # Keras has no public way to untrack
            if isinstance(tracked, list) and metric in tracked:
                tracked.remove(metric)
        for step_writer in self._steps.values():
            step_writer.close()  # with the last epoch's matrix if confusion_every left it out
            destinations.release(step_writer.sink.destination, self._name, self)

    # --- phases ------------------------------------------------------------------------------

    def on_test_begin(self, logs: Any = None) -> None:
        # fit()'s validation: counted unless the callback predicts its own validation data.
        self._phase = "validation" if self._validation_data is None else None

    def on_test_end(self, logs: Any = None) -> None:
        self._phase = "train"

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self._write_metric("train", epoch)
        if self._validation_data is None:
            self._write_metric("validation", epoch)
        elif self._validation is not None:  # the chief predicts its validation data
            self._predict_validation(epoch)

    def _write_metric(self, phase: str, epoch: int) -> None:
        metric = self._metrics[phase]
        host, seen = metric.read()  # on every worker: reading sums the workers' states
        if seen == 0:
            return  # e.g. no validation data this epoch
        if not self._writes:
            metric.clear()
            return
        self._write(phase, epoch, host, None, metric.clear, self._output_kind)

    def _predict_validation(self, epoch: int) -> None:
        x, y = self._validation_data
        size = len(y)
        output_index = _output_index(self.model, self._output)
        for start in range(0, size, self._batch_size):
            stop = min(start + self._batch_size, size)
            inputs = x[start:stop]
            outputs = _pick(self.model(inputs, training=False), output_index)
            self._validation.update(
                _eager(outputs),
                _eager(_adapt_targets(self._spec, K.convert_to_tensor(y[start:stop]))),
                None,
                _eager(K.convert_to_tensor(inputs)),
                np.arange(start, stop),
            )
        validation = self._validation
        if not validation.pending:
            return  # no validation samples
        self._write(
            "validation",
            epoch,
            validation.read(),
            validation.samples.kept(),
            validation.reset,
            validation.output_kind,
        )

    def _write(
        self,
        phase: str,
        epoch: int,
        host: state.HostState,
        kept: Any,
        reset: Callable[[], None],
        output_kind_monitor: OutputKindMonitor,
    ) -> None:
        """One epoch of one phase through the end of a step every writer shares."""
        step = steps.check_step(epoch)
        self._steps[phase].write(
            step,
            host,
            self._spec,
            kept=kept,
            loss_name=self._loss_name,
            wall_time=time.time(),
            reset=reset,  # only once written: a failed write keeps the epoch's counts
            output_kind=output_kind_monitor,
            where=f"PerClassCallback(name={self._name!r}), {phase} epoch {step}",
            tracker=self._tracker if phase == "train" else None,
        )


# --- helpers -------------------------------------------------------------------------------


def _takes_one_tensor(model: keras.Model) -> bool:
    """Whether the model is called with one tensor (not a dict or list of inputs)."""
    try:
        return not isinstance(model.input, (dict, list, tuple))
    except (AttributeError, ValueError):  # a subclassed model: whatever it was given
        return False


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
        return losses.BINARY_CROSS_ENTROPY  # Keras averages over labels; we need each
    if isinstance(loss, keras.losses.Loss):
        keras_loss = loss.call  # the unreduced loss, one value per sample
    elif isinstance(loss, str):
        try:
            keras_loss = keras.losses.get(loss)
        except ValueError:
            return losses.resolve(task, loss)
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


def _adapt_targets(task_spec: TaskSpec, y_true: Any) -> Any:
    """Keras hands sparse targets over as (B, 1) and often as floats."""
    if task_spec.task != metadata.TASK_MULTICLASS:
        return y_true
    if len(y_true.shape) == 2 and y_true.shape[-1] == 1:
        y_true = K.squeeze(y_true, axis=-1)
    if len(y_true.shape) == 1 and not keras.backend.standardize_dtype(y_true.dtype).startswith(
        ("int", "uint")
    ):
        y_true = K.cast(y_true, "int64")
    return y_true


def _backend_ops() -> ArrayOps:
    """The operations of the metric's per-batch path on this Keras backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from tb_perclass.logger.arrays.tensorflow_ops import GRAPH_OPS

        return GRAPH_OPS
    if backend == "torch":
        from tb_perclass.logger.arrays.torch_ops import OPS

        return OPS
    from tb_perclass.logger.arrays.keras_ops import OPS

    return OPS


def _metric_attribute(phase: str) -> str:
    return f"_tb_perclass_{phase}"


def _eager(x: Any) -> Any:
    """A backend tensor as the accumulator takes it: torch and TensorFlow tensors as they are
    (on their device), JAX arrays as NumPy."""
    return np.asarray(x) if keras.backend.backend() == "jax" else x
