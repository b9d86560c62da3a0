"""The end of a step, one way for everyone: the state read back becomes statistics, the step's
summaries go to the sink, only then is the state reset, and then the user hears what the step's
data showed. `PerClassWriter.write` and the Keras callback's epoch end both come here.

A failed sink (a full disk, no default `tf.summary` writer) raises before the reset: everything
accumulated stays, and a retry writes it.

With `confusion_every=N` the confusion summary goes with the first write and then every N-th
(writes 1, N + 1, 2N + 1, ... of the StepWriter, whatever their step numbers), and `close()`
adds the last step's matrix when that write left it out, so the latest step always has one. The
stats (with TP/FP/FN) go with every write, so curves and reports stay exact at every step.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable

import numpy as np
from tensorboard.compat.proto import summary_pb2

from tb_perclass.format import summary
from tb_perclass.logger import notices, state
from tb_perclass.logger.dynamics.tracker import DynamicsStep, SampleTracker
from tb_perclass.logger.output_kind import OutputKindMonitor
from tb_perclass.logger.samples import buffer
from tb_perclass.logger.samples.keeper import KeptSamples
from tb_perclass.logger.sinks import Sink
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.state import HostState, PerClassStats
from tb_perclass.logger.steps import StepOrder


@dataclasses.dataclass
class ConfusionCadence:
    """Which writes carry the confusion summary (`confusion_every`), and the last step's matrix
    held back from a write that left it out (written by `StepWriter.close`)."""

    every: int = 1
    writes: int = 0  # writes made so far
    # step, wall time, the state's nonzero cells and counts (not the dense C x C matrix: that
    # would stay in memory between writes), spec, loss name
    held: tuple[int, float, np.ndarray, np.ndarray, TaskSpec, str] | None = None

    def due(self) -> bool:
        """Whether the next write carries its confusion summary."""
        return self.writes % self.every == 0


class StepWriter:
    """Writes the steps of one (sink, name), and remembers the last step written there to warn
    when a step does not go up. `order_hint` and `kind_hint` end the step-order and the
    output-kind warnings (an integration's own advice). `confusion_every` (checked by
    `spec.check_confusion_every`): the confusion summary goes with every N-th write only."""

    def __init__(
        self,
        sink: Sink,
        name: str,
        *,
        order_hint: str = "",
        kind_hint: str = "",
        confusion_every: int = 1,
    ):
        self.sink = sink
        self.name = name
        self.order = StepOrder()
        self.cadence = ConfusionCadence(confusion_every)
        self._order_hint = order_hint
        self._kind_hint = kind_hint

    def write(
        self,
        step: int,
        host: HostState,
        spec: TaskSpec,
        *,
        kept: KeptSamples | None,
        loss_name: str,
        wall_time: float,
        reset: Callable[[], None],
        output_kind: OutputKindMonitor,
        where: str,
        tracker: SampleTracker | None = None,
    ) -> PerClassStats:
        """Writes `host` (a state read back) as step `step` (checked by the caller), then calls
        `reset`, then warns (each warning prefixed with `where`). Returns the step's stats.
        With a `tracker` that saw batches, the step also records the tracked samples (their
        state is cumulative: never reset)."""
        stats = state.compute(host, spec)
        tracked = None
        if tracker is not None and tracker.started:
            tracked = tracker.step(tracker.read(), spec)
        order = self.order.warning(
            step, f"the tags {self.name}/* of {self.sink.destination.description}"
        )
        if order is not None:
            order += self._order_hint
        with_confusion = self.cadence.due()
        summaries = step_summaries(
            self.name, stats, kept, spec, loss_name, tracked, confusion=with_confusion
        )
        self.sink.write(summaries, step, wall_time)
        reset()  # handed over: only now may the state go
        self.cadence.writes += 1
        held = host.cells is not None and not with_confusion
        self.cadence.held = (
            (step, wall_time, host.cells, host.counts, spec, loss_name) if held else None
        )
        if tracked is not None:
            tracker.written(tracked)
        self.order.record(step)
        kind = output_kind.add(*host.output_checks(spec))
        if kind is not None:
            kind += self._kind_hint
        about_ids = tracker.notices(tracked.dynamics) if tracked is not None else []
        notices.warn(where, [order, *notices.data_problems(stats, spec), kind, *about_ids])
        return stats

    def write_held_confusion(self) -> None:
        """Writes the last step's confusion matrix if its write left it out (`confusion_every`):
        the end of a run then always has one. Raises as the sink does, keeping it held."""
        held = self.cadence.held
        if held is None:
            return
        step, wall_time, cells, counts, spec, loss_name = held
        matrix = state.confusion_matrix(cells, counts, spec)
        common = dict(class_names=spec.class_names, task=spec.task, loss_name=loss_name)
        self.sink.write(summary.confusion_pb(self.name, matrix, **common), step, wall_time)
        self.cadence.held = None

    def close(self) -> None:
        """Writes the held confusion matrix, then closes the sink. Raises (and stays open) when
        the sink cannot take it."""
        self.write_held_confusion()
        self.sink.close()

    def close_at_exit(self) -> None:
        """`close()` for a writer collected or left open at interpreter exit: a failure is
        warned of, not raised (nobody could catch it)."""
        try:
            self.write_held_confusion()
        except Exception as error:  # noqa: BLE001 - reported, then the sink is still closed
            warnings.warn(
                f"the confusion matrix of step {self.cadence.held[0]} of the tags "
                f"{self.name}/* (held back by confusion_every) could not be written when the "
                f"writer was closed at exit: {error}; close the writer before the end of the "
                "program to see the error",
                RuntimeWarning,
                stacklevel=2,
            )
        self.sink.close()


def step_summaries(
    name: str,
    stats: PerClassStats,
    kept: KeptSamples | None,
    spec: TaskSpec,
    loss_name: str,
    tracked: DynamicsStep | None = None,
    *,
    confusion: bool = True,
) -> summary_pb2.Summary:
    """One step's summaries: stats, then the confusion counts (unless `confusion` is False),
    score histograms, kept samples and tracked samples' counts and snapshot if recorded."""
    common = dict(class_names=spec.class_names, task=spec.task, loss_name=loss_name)
    result = summary.stats_pb(name, **stats.summary_fields(), **common)
    if confusion and stats.confusion is not None:
        result.value.extend(summary.confusion_pb(name, stats.confusion, **common).value)
    if stats.scores is not None:
        scores = summary.scores_pb(name, stats.scores, top_k=spec.top_k, **common)
        result.value.extend(scores.value)
    if kept is not None:
        manifest, blobs = buffer.encode(kept.mistakes, spec.task)
        caps = dict(samples_per_cell=kept.per_cell, max_samples=kept.total)
        result.value.extend(summary.samples_pb(name, manifest, blobs, **common, **caps).value)
    if tracked is not None:
        result.value.extend(summary.dynamics_pb(name, tracked.counts, **common).value)
        if tracked.snapshot is not None:
            header, blobs = tracked.snapshot
            result.value.extend(summary.dynamics_samples_pb(name, header, blobs, **common).value)
    return result
