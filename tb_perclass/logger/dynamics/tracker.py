"""One writer's per-sample tracking: each batch's `sample_ids` checked, its visits added to the
state on the device (`state`), the inputs of the likeliest label errors kept as thumbnails when
`inputs` are given, and at each write the step's `dynamics` counts and, about once per epoch,
a `dynamics_samples` snapshot (`tb_perclass.format.dynamics`).

Ids are dataset indices in [0, track_samples). Where reading them costs nothing (NumPy, or
tensors in host memory) a bad id refuses the batch at once; on an accelerator the batch is added
without waiting, bad ids go to a row of their own and `write()` says how many there were.
"""

from __future__ import annotations

import dataclasses
import heapq
from typing import Any

import numpy as np

from tb_perclass.format import dynamics as layout
from tb_perclass.format import metadata
from tb_perclass.logger import arrays
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.dynamics import state as dynamics_state
from tb_perclass.logger.dynamics.state import DynamicsState, SampleDynamics
from tb_perclass.logger.samples import media
from tb_perclass.logger.spec import SampleOptions, TaskSpec
from tb_perclass.logger.tasks.batch import Batch

# Thumbnails (or texts) kept for the samples with the lowest running margin, when inputs are
# given: enough for the top of the ranked list, bounded like the kept mistakes.
MAX_THUMBNAILS = 256


@dataclasses.dataclass(frozen=True)
class DynamicsStep:
    """What a write records for the tracked samples."""

    counts: np.ndarray  # the `dynamics` tensor, int64 [6, C + 4]
    snapshot: tuple[bytes, list[bytes]] | None  # header and elements, when one is due
    dynamics: SampleDynamics


class SampleTracker:
    def __init__(self, size: int, spec: TaskSpec, options: SampleOptions):
        self.size = size
        self.options = options
        self.state: DynamicsState | None = None
        self.backend: Any = None
        self._id_kind: str | None = None  # what the first batch's ids were
        self._batch_kind: str | None = None
        # Visits counted in the state (read back at each write) when the last snapshot was
        # written: also right when the batches were added inside a graph (Keras).
        self._visits_at_snapshot: int | None = None
        self._thumbnails = _Thumbnails(MAX_THUMBNAILS)
        self._reported = {"invalid": 0, "repeated": 0, "unvisited": False}
        self._task = spec.task

    # --- per batch ---------------------------------------------------------------------------

    def check_ids(self, ops: ArrayOps, outputs: Any, sample_ids: Any, batch_size: int) -> Any:
        """The batch's ids as an integer array of the outputs' library on their device, checked
        from shapes and dtypes, and for values where reading them costs nothing."""
        if sample_ids is None:
            raise ValueError(
                f"this writer tracks samples (track_samples={self.size}): pass sample_ids=, the "
                "dataset indices of the batch's samples in [0, track_samples), e.g. the indices "
                "your Dataset returns with each item"
            )
        kind, ids = self._as_array(ops, outputs, sample_ids)
        self._batch_kind = kind
        if self._id_kind is not None and kind != self._id_kind:
            raise TypeError(
                f"sample_ids is {kind} but was {self._id_kind} in the first batch; pass the same "
                "kind of ids every batch (dataset indices)"
            )
        shape = ops.shape(ids)
        if len(shape) != 1 or shape[0] != batch_size:
            raise ValueError(
                f"sample_ids has shape {tuple(shape)}; pass one dataset index per sample, shape "
                f"({batch_size},)"
            )
        if ops.is_on_host(ids) and batch_size:
            low, high = ops.min_max(ids)
            if low < 0 or high >= self.size:
                bad = low if low < 0 else high
                raise ValueError(
                    f"sample_ids contains {bad}, outside [0, {self.size}): ids are dataset "
                    f"indices below track_samples={self.size}. Pass the indices of the dataset "
                    "the writer tracks (or create it with its size); nothing from this batch "
                    "was recorded"
                )
        return ids

    def _as_array(self, ops: ArrayOps, outputs: Any, sample_ids: Any) -> tuple[str, Any]:
        device = ops.device(outputs)
        if isinstance(sample_ids, (list, tuple)):
            if not all(
                isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in sample_ids
            ):
                found = next(
                    type(i).__name__ for i in sample_ids if not isinstance(i, (int, np.integer))
                )
                raise TypeError(
                    f"sample_ids holds {found} values; track_samples needs integer dataset "
                    "indices (file names or other keys cannot be tracked)"
                )
            kind, values = "a list of integers", np.asarray(sample_ids, dtype=np.int64)
        else:
            library = arrays.library_of(sample_ids)
            if library is None:
                raise TypeError(
                    f"sample_ids is {type(sample_ids).__module__}."
                    f"{type(sample_ids).__qualname__}; pass integer dataset indices as a list or "
                    "an array of the outputs' library"
                )
            id_ops = arrays.ops_for_library(library)
            if not id_ops.is_integer(sample_ids):
                raise TypeError(
                    f"sample_ids has dtype {id_ops.dtype_name(sample_ids)}; track_samples needs "
                    "integer dataset indices"
                )
            kind = f"a {library} array"
            if library == ops.name:
                if id_ops.device(sample_ids) != device:
                    raise ValueError(
                        f"sample_ids is on {id_ops.device(sample_ids)} but the outputs are on "
                        f"{device}; move the ids with the batch, e.g. "
                        "ids.to(outputs.device, non_blocking=True)"
                    )
                return kind, ops.to_index(ops.prepare(sample_ids))
            if library != "numpy":
                raise TypeError(
                    f"sample_ids is a {library} array but the outputs are {ops.name} arrays; "
                    "pass the ids in the outputs' library"
                )
            values = np.asarray(sample_ids, dtype=np.int64)
        if ops.name == "numpy":
            return kind, values
        if not ops.is_on_host(outputs):
            raise ValueError(
                f"sample_ids is {kind} on the host but the outputs are on {device}; move the ids "
                "to the outputs' device with the batch (copying them here would wait for the "
                "device at every batch)"
            )
        return kind, _from_numpy(ops, values)

    def track(self, ops: ArrayOps, batch: Batch, outputs: Any, ids: Any, spec: TaskSpec) -> None:
        """Adds the batch's visits (ids checked by `check_ids`)."""
        if self.state is None:
            self.backend = dynamics_state.backend(ops.name)
            self.state = self.backend.new_state(self.size, outputs)
        self.backend.track(
            self.state,
            ids,
            outputs,
            batch.rows,
            batch.correct,
            spec.num_classes,
            spec.from_logits,
            spec.task == metadata.TASK_BINARY,
            not ops.is_on_host(ids),
        )

    def start_in_graph(self, library: str) -> None:
        """Creates the state before any batch (the Keras callback: its batches are traced)."""
        if self.state is None:
            self.backend = dynamics_state.backend(library)
            self.state = self.backend.new_state(self.size, None)

    def accepted(self) -> None:
        """The batch whose ids were checked last passed every check: the first such batch
        fixes the kind of ids."""
        if self._id_kind is None:
            self._id_kind = self._batch_kind

    def keep_inputs(
        self, ops: ArrayOps, ids: Any, inputs: Any, inputs_spec: media.InputsSpec
    ) -> None:
        """Keeps the inputs of the batch's samples whose running margin is among the lowest
        (reads B margins back: only called when `update()` got inputs, which reads back
        anyway)."""
        margins = self.backend.running_margins(self.state, ids)
        host_ids = np.asarray(arrays.fetch_rows(ids, range(len(margins)))).astype(np.int64)
        wanted = self._thumbnails.offer(host_ids, margins)
        if not wanted:
            return
        if inputs_spec.kind == "text":
            for position, text in zip(wanted, arrays.fetch_rows(inputs, wanted)):
                self._thumbnails.set(int(host_ids[position]), media.encode_text(text))
            return
        input_ops = arrays.ops_for_library(arrays.library_of(inputs))
        max_side = self.options.max_side
        factor = inputs_spec.pool_factor(max_side)
        raw = input_ops.fetch_images(inputs, wanted, inputs_spec.layout, factor)
        pixels = media.to_pixels(raw, inputs_spec.layout, self.options.denormalize)
        for position, image in zip(wanted, pixels):
            encoded = media.encode_png(media.downscale(image, max_side))
            self._thumbnails.set(int(host_ids[position]), encoded)

    # --- per write ---------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self.state is not None

    def read(self) -> SampleDynamics:
        return dynamics_state.compute(*self.backend.host_tables(self.state))

    def step(self, dynamics: SampleDynamics, spec: TaskSpec) -> DynamicsStep:
        """The counts of a write and, when due, the snapshot: at the first write and then once
        at least half the dataset's worth of visits came since the previous one (about once per
        epoch, however often write() is called; half, so that epochs that drop their last
        partial batch still count)."""
        counts = layout_counts(dynamics, spec.num_classes)
        snapshot = None
        visits = _all_visits(dynamics)
        last = self._visits_at_snapshot
        if last is None or 2 * (visits - last) >= self.size:
            snapshot = layout.encode(
                size=self.size,
                num_classes=spec.num_classes,
                visits=dynamics.visits,
                confidence=dynamics.confidence,
                variability=dynamics.variability,
                correctness=dynamics.correctness,
                margin=dynamics.margin,
                forgets=dynamics.forgets,
                label=dynamics.label,
                preferred=dynamics.preferred,
                media=self._thumbnails.items(),
                invalid_visits=dynamics.invalid_visits,
                skipped_visits=dynamics.skipped_visits,
                repeated_ids=dynamics.repeated_ids,
            )
        return DynamicsStep(counts=counts, snapshot=snapshot, dynamics=dynamics)

    def written(self, step: DynamicsStep) -> None:
        """The sink took `step`: count the snapshot."""
        if step.snapshot is not None:
            self._visits_at_snapshot = _all_visits(step.dynamics)

    def notices(self, dynamics: SampleDynamics) -> list[str | None]:
        """What the user must hear about the ids since the last write (each problem once per
        growth of its count; the visited-fraction check once)."""
        found: list[str | None] = []
        if dynamics.invalid_visits > self._reported["invalid"]:
            new = dynamics.invalid_visits - self._reported["invalid"]
            self._reported["invalid"] = dynamics.invalid_visits
            found.append(
                f"{new} visits had sample_ids outside [0, {self.size}) (track_samples); they "
                "were checked on the device, so this is reported here rather than in update(), "
                "and counted for no sample. Pass dataset indices below track_samples"
            )
        if dynamics.repeated_ids > self._reported["repeated"]:
            total = dynamics.repeated_ids
            if self._reported["repeated"] == 0:
                found.append(
                    f"{total} sample_ids came twice or more within one batch; each occurrence "
                    "counts as a visit. A sampler with replacement does this; if your ids are "
                    "not dataset indices (e.g. the targets or positions in the batch), fix "
                    "sample_ids (this warning is shown once per writer)"
                )
            self._reported["repeated"] = total
        visits = int(dynamics.visits.sum())
        visited = int(np.count_nonzero(dynamics.visits))
        if not self._reported["unvisited"] and visits >= 2 * self.size and 2 * visited < self.size:
            self._reported["unvisited"] = True
            found.append(
                f"after {visits} visits only {visited} of the {self.size} tracked samples were "
                "seen: sample_ids should be dataset indices (e.g. not positions in the batch), "
                "and track_samples the size of the dataset you train on"
            )
        return found


def _all_visits(dynamics: SampleDynamics) -> int:
    return int(dynamics.visits.sum()) + dynamics.invalid_visits + dynamics.skipped_visits


def layout_counts(dynamics: SampleDynamics, num_classes: int) -> np.ndarray:
    """The `dynamics` tensor of a write, int64 [6, C + 4]."""
    from tb_perclass.format import summary

    return summary.dynamics_tensor(
        dynamics_state.class_counts(dynamics, num_classes),
        dataset_size=dynamics.size,
        invalid_id_visits=dynamics.invalid_visits,
        repeated_ids=dynamics.repeated_ids,
        skipped_visits=dynamics.skipped_visits,
    )


class _Thumbnails:
    """The inputs of at most `cap` samples with the lowest running margin below 0, by id. A
    sample's margin is refreshed at each visit; one that climbs to 0 or above leaves."""

    def __init__(self, cap: int):
        self.cap = cap
        self._margin: dict[int, float] = {}
        self._media: dict[int, media.Media] = {}

    def offer(self, ids: np.ndarray, margins: np.ndarray) -> list[int]:
        """Positions of the batch whose inputs should be kept now (not kept yet, or to refresh
        nothing: a kept sample's input does not change)."""
        wanted = []
        for position, (sample, margin) in enumerate(zip(ids.tolist(), margins.tolist())):
            if not margin < 0:
                self._margin.pop(sample, None)
                self._media.pop(sample, None)
                continue
            self._margin[sample] = margin
            if sample not in self._media:
                wanted.append(position)
        if len(self._margin) > self.cap:
            keep = set(heapq.nsmallest(self.cap, self._margin, key=self._margin.__getitem__))
            for sample in list(self._margin):
                if sample not in keep:
                    del self._margin[sample]
                    self._media.pop(sample, None)
            wanted = [p for p in wanted if int(ids[p]) in keep]
        return wanted

    def set(self, sample: int, encoded: media.Media) -> None:
        if sample in self._margin:
            self._media[sample] = encoded

    def items(self) -> list[tuple[int, str, int, int, bytes]]:
        return [
            (sample, m.media_type, m.width, m.height, m.data) for sample, m in self._media.items()
        ]


def _from_numpy(ops: ArrayOps, values: np.ndarray) -> Any:
    if ops.name == "torch":
        import torch

        return torch.from_numpy(values)
    import tensorflow as tf

    return tf.convert_to_tensor(values)
