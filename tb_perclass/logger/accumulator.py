"""What one writer accumulates between two writes: the state on the batches' device, the kept
samples, and the checks each batch must pass before it adds anything.

`update()` checks a batch (shapes and dtypes; values only where that costs no device
synchronisation) and scatter-adds it into the state without waiting for the device. The first
batch fixes the library, the device and, for a writer made without a class count, the classes:
a refused first batch fixes nothing.
"""

from __future__ import annotations

from typing import Any

from tb_perclass.logger import arrays, score_state, state, tasks
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.dynamics.tracker import SampleTracker
from tb_perclass.logger.output_kind import OutputKindMonitor
from tb_perclass.logger.samples.keeper import SampleKeeper
from tb_perclass.logger.spec import SampleOptions, TaskSpec


class Accumulator:
    def __init__(
        self,
        spec: TaskSpec,
        samples: SampleOptions,
        record_confusion: bool,
        track_samples: int | None = None,
    ):
        self.spec = spec  # its class_names are None until the first batch when not given
        self.samples = SampleKeeper(samples)
        # Per-sample training dynamics: cumulative over the whole run, never reset by a write.
        self.tracker = (
            None if track_samples is None else SampleTracker(track_samples, spec, samples)
        )
        self.record_confusion = record_confusion
        self.output_kind = OutputKindMonitor(spec.task, spec.from_logits)
        self.ops: ArrayOps | None = None
        self.device: str | None = None
        self.table: Any = None
        self.confusion: Any = None
        self.scores: dict[str, Any] | None = None  # score histograms (spec.scores)
        self.pending = False  # a batch was added since the last reset
        self.losses_given: bool | None = None  # whether the first batch came with losses
        self._check_outputs = True  # the first batch after each reset is checked

    @property
    def started(self) -> bool:
        return self.table is not None

    def update(self, outputs: Any, targets: Any, losses: Any, inputs: Any, sample_ids: Any) -> None:
        """Adds one batch (see `PerClassWriter.update`); a refused batch leaves no trace."""
        ops, device, outputs, targets, losses = arrays.as_batch(outputs, targets, losses)
        if self.ops is not None and (ops is not self.ops or device != self.device):
            self._refuse_other_place(ops, device)
        spec = self.spec
        if spec.class_names is None:
            width = tasks.infer_num_classes(ops, outputs, spec.task)
            spec = spec.with_num_classes(width, "the outputs' width")
        shape = ops.shape(outputs)
        batch_size = shape[0] if shape else 0
        tracker = self.tracker
        ids = None
        if tracker is not None:
            ids = tracker.check_ids(ops, outputs, sample_ids, batch_size)
        shown_ids = sample_ids if tracker is None or inputs is not None else None
        inputs_spec = self.samples.check(inputs, shown_ids, batch_size)
        batch = tasks.format_batch(
            ops, outputs, targets, losses, spec, with_confidence=inputs_spec is not None
        )
        if batch.size == 0:
            return
        if not self.started:
            self.start(ops, device, spec, outputs)
        self.table, self.confusion = state.update(ops, self.table, self.confusion, batch, spec)
        if self.scores is not None:
            self.scores = score_state.update(ops, self.scores, outputs, batch, spec)
        if self._check_outputs:
            self._check_outputs = False
            if not self.output_kind.done:
                self.table = state.add_output_checks(ops, self.table, outputs, spec)
        if tracker is not None:
            tracker.track(ops, batch, outputs, ids, spec)
            tracker.accepted()
        if inputs_spec is not None:
            self.samples.keep(ops, batch, spec, inputs, inputs_spec, sample_ids)
            if tracker is not None:
                tracker.keep_inputs(ops, ids, inputs, inputs_spec)
        self.pending = True
        if self.losses_given is None:
            self.losses_given = losses is not None

    def start(self, ops: ArrayOps, device: str, spec: TaskSpec, like: Any) -> None:
        """Creates the state beside `like`, once a batch passed every check (or, under
        torch.distributed, for a rank that saw none)."""
        self.spec = spec
        self.ops, self.device = ops, device
        self.table = state.new_table(ops, spec, like=like)
        if self.record_confusion:
            self.confusion = state.new_confusion(ops, spec, like=like)
        if spec.scores:
            self.scores = score_state.new(ops, spec, like=like)

    def read(self) -> state.HostState:
        """The state on the host (one transfer of the table, the nonzero confusion cells, one
        per score histogram array)."""
        host = state.read(self.ops, self.table, self.confusion)
        if self.scores is None:
            return host
        return host.with_scores(score_state.read(self.ops, self.scores, self.spec))

    def reset(self) -> None:
        """Drops what was accumulated since the last reset."""
        if self.table is not None:
            self.table = self.ops.reset(self.table)
        if self.confusion is not None:
            self.confusion = self.ops.reset(self.confusion)
        if self.scores is not None:
            self.scores = score_state.reset(self.ops, self.scores)
        self.samples.reset()
        self.pending = False
        self._check_outputs = True

    def _refuse_other_place(self, ops: ArrayOps, device: str) -> None:
        if ops is not self.ops:
            raise TypeError(
                f"this writer's state holds {self.ops.name} arrays since its first update(); "
                f"got {ops.name} arrays now. Use one writer per framework"
            )
        raise ValueError(
            f"this writer's state lives on {self.device} since its first update(); got "
            f"arrays on {device}. Move them to {self.device}, or use one writer per device"
        )
