"""The end of a step, one way for everyone: the state read back becomes statistics, the step's
summaries go to the sink, only then is the state reset, and then the user hears what the step's
data showed. `PerClassWriter.write` and the Keras callback's epoch end both come here.

A failed sink (a full disk, no default `tf.summary` writer) raises before the reset: everything
accumulated stays, and a retry writes it.
"""

from __future__ import annotations

from collections.abc import Callable

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


class StepWriter:
    """Writes the steps of one (sink, name), and remembers the last step written there to warn
    when a step does not go up. `order_hint` and `kind_hint` end the step-order and the
    output-kind warnings (an integration's own advice)."""

    def __init__(self, sink: Sink, name: str, *, order_hint: str = "", kind_hint: str = ""):
        self.sink = sink
        self.name = name
        self.order = StepOrder()
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
        summaries = step_summaries(self.name, stats, kept, spec, loss_name, tracked)
        self.sink.write(summaries, step, wall_time)
        reset()  # handed over: only now may the state go
        if tracked is not None:
            tracker.written(tracked)
        self.order.record(step)
        kind = output_kind.add(*host.output_checks(spec))
        if kind is not None:
            kind += self._kind_hint
        about_ids = tracker.notices(tracked.dynamics) if tracked is not None else []
        notices.warn(where, [order, *notices.data_problems(stats, spec), kind, *about_ids])
        return stats


def step_summaries(
    name: str,
    stats: PerClassStats,
    kept: KeptSamples | None,
    spec: TaskSpec,
    loss_name: str,
    tracked: DynamicsStep | None = None,
) -> summary_pb2.Summary:
    """One step's summaries: stats, then the confusion counts, score histograms, kept samples and
    tracked samples' counts and snapshot if recorded."""
    common = dict(class_names=spec.class_names, task=spec.task, loss_name=loss_name)
    result = summary.stats_pb(name, **stats.summary_fields(), **common)
    if stats.confusion is not None:
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
