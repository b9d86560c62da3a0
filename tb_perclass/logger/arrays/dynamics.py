"""Per-sample training dynamics (the `dynamics` kind): state, update and compute as pure functions.

Tracked across the epochs by dataset index, each sample's probability of its given label gives a
confidence (mean) and a variability (standard deviation), the coordinates of a data map
(Swayamdipta et al. 2020); its margin, p(given) minus the largest other probability, averaged
over visits, ranks likely label errors (the probability form of the area under the margin of
Pleiss et al. 2020); correct -> wrong transitions between visits count forgetting events (Toneva
et al. 2019). All of it comes from the outputs the training step computed anyway.

The state is two tables of N + 2 rows on the data's device (N = the dataset size):
`sums` (float32) [visits, sum p, sum p^2, sum margin, correct visits, forgetting events] and
`last` (int64) [given label, preferred label, correct] of the latest visit; column-major on
torch (a (6, B) block scattered along dim 1, written in place), row-major on TensorFlow
(variables scatter along their first axis), the same [6, N+2] / [3, N+2] once on the host. Row N collects the visits whose id
is outside [0, N) (found without reading values back on an accelerator), row N + 1 the visits
that cannot count (ignored or invalid target, non-finite outputs). Per batch: one gather of B
rows, one scatter-add and one scatter-set of B rows, nothing read back, O(B) work whatever N.
float32 holds the sums' counts exactly up to 2**24 visits per sample and exists on every device;
`last` is int64 so that the batch's labels and predictions are stored without a cast.

Prototype (phase A of issue 17): the torch, TensorFlow and NumPy backends live here until the ops modules of
the restructured package take them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

VISITS, SUM_P, SUM_P2, SUM_MARGIN, CORRECT, FORGETS = range(6)
SUM_COLUMNS = 6
LABEL, PREFERRED, LAST_CORRECT = range(3)
LAST_COLUMNS = 3


@dataclasses.dataclass
class DynamicsState:
    size: int  # N, the dataset size
    sums: Any  # float32 [6, N + 2] (TensorFlow: [N + 2, 6])
    last: Any  # int64 [3, N + 2] (TensorFlow: [N + 2, 3])
    duplicates: Any  # float32 [1]: ids repeated within a batch, summed over batches

    @property
    def invalid_row(self) -> int:
        return self.size

    @property
    def skipped_row(self) -> int:
        return self.size + 1


# --- backends -------------------------------------------------------------------------------


# Below this many classes, the CPU softmax runs along the first axis of the transposed scores
# (measured: 14 vs 41 us at C = 10, equal at C = 20, slower above).
SHORT_ROWS = 20


class TorchDynamics:
    """Column-major tables ([6, N+2], [3, N+2]): the per-batch block is written row by row in
    place (`out=`) into a reused (6, B) buffer and each state row read is contiguous. Measured
    ~20% cheaper than row-major tables with stacked blocks at C = 10."""

    name = "torch"

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self._blocks: dict[tuple, Any] = {}

    def new_state(self, size: int, like: Any) -> DynamicsState:
        torch = self.torch

        def zeros(*shape: int, dtype=torch.float32) -> Any:
            return torch.zeros(shape, dtype=dtype, device=like.device)

        return DynamicsState(
            size, zeros(SUM_COLUMNS, size + 2), zeros(LAST_COLUMNS, size + 2, dtype=torch.int64), zeros(1)
        )

    def track(
        self,
        state: DynamicsState,
        ids: Any,
        outputs: Any,
        labels: Any,
        correct: Any,
        num_classes: int,
        from_logits: bool,
        route_ids: bool,
    ) -> None:
        torch = self.torch
        block, given, squared, margin, correct_row, forgot = self._block(ids.shape[0], ids.device)
        # p(given), and the best other label: the given label's probability is overwritten in
        # the softmax's own output, whose maximum is then the best other one (five ops;
        # measured faster on CPU than top-2 plus logsumexp from C = 100 on, equal at C = 10).
        # PyTorch's CPU softmax along a short last axis is slow (32 us for 256 x 10, 4.5 us
        # along the first axis of the transposed view), so few classes go that way there.
        axis = 0 if outputs.device.type == "cpu" and num_classes < SHORT_ROWS else 1
        scores = outputs.t() if axis == 0 else outputs
        if from_logits:
            probs = torch.softmax(scores, dim=axis, dtype=torch.float32)
        else:
            probs = scores.to(torch.float32, copy=True)  # overwritten below: never the caller's
        labels_index = labels.clamp_max(num_classes - 1)  # rows >= C are routed away below
        index = labels_index.unsqueeze(axis)
        torch.gather(probs, axis, index, out=given.unsqueeze(axis))
        best_other, preferred = probs.scatter_(axis, index, -1.0).max(dim=axis)
        torch.sub(given, best_other, out=margin)
        torch.mul(given, given, out=squared)
        # A margin of probabilities is not finite exactly when it is NaN.
        countable = (labels < num_classes) & (margin == margin)
        rows = torch.where(countable, ids, state.skipped_row)
        if route_ids:  # on an accelerator: bad ids cannot be seen now, so give them a row
            rows = torch.where((ids >= 0) & (ids < state.size), rows, state.invalid_row)
        previous = state.last[LAST_CORRECT].index_select(0, rows)
        correct_row.copy_(correct)
        torch.gt(previous, correct, out=forgot)
        state.sums.index_add_(1, rows, block)
        # stack promotes the bool row to int64: no cast.
        state.last.index_copy_(1, rows, torch.stack([labels_index, preferred, correct]))
        ordered = ids.sort().values
        state.duplicates.add_((ordered[1:] == ordered[:-1]).sum())

    def _block(self, batch: int, device: Any) -> Any:
        # Reused across batches: the scatter that reads it runs before the next batch writes
        # it, in stream order on an accelerator. Row VISITS is ones, filled once.
        key = (batch, device)
        if key not in self._blocks:
            block = self.torch.empty((SUM_COLUMNS, batch), dtype=self.torch.float32, device=device)
            block[VISITS] = 1.0
            self._blocks[key] = (block, *block[SUM_P : FORGETS + 1])  # the row views, made once
        return self._blocks[key]

    def host_tables(self, state: DynamicsState) -> tuple[np.ndarray, np.ndarray, float]:
        """The tables on the host, [6, N+2] and [3, N+2], and the duplicate count: write()'s one
        read-back."""
        host = lambda x: x.detach().to("cpu", copy=True).numpy()  # noqa: E731
        return host(state.sums), host(state.last), float(host(state.duplicates)[0])


class NumpyDynamics:
    """The reference implementation: same layout and results as the others."""

    name = "numpy"

    def new_state(self, size: int, like: Any) -> DynamicsState:
        return DynamicsState(
            size,
            np.zeros((SUM_COLUMNS, size + 2), dtype=np.float32),
            np.zeros((LAST_COLUMNS, size + 2), dtype=np.int64),
            np.zeros(1, dtype=np.float32),
        )

    def track(self, state, ids, outputs, labels, correct, num_classes, from_logits, route_ids) -> None:
        ids, labels, correct = np.asarray(ids), np.asarray(labels), np.asarray(correct)
        x = np.asarray(outputs, dtype=np.float32)
        if from_logits:
            with np.errstate(over="ignore", invalid="ignore"):
                shifted = np.exp(x - x.max(axis=1, keepdims=True))
                probs = shifted / shifted.sum(axis=1, keepdims=True)
        else:
            probs = x.copy()
        index = np.minimum(labels, num_classes - 1)[:, None]
        given = np.take_along_axis(probs, index, axis=1)[:, 0]
        np.put_along_axis(probs, index, -1.0, axis=1)
        preferred = probs.argmax(axis=1)
        margin = given - probs[np.arange(len(x)), preferred]
        rows = np.where((labels < num_classes) & (margin == margin), ids, state.skipped_row)
        if route_ids:
            rows = np.where((ids >= 0) & (ids < state.size), rows, state.invalid_row)
        previous = state.last[LAST_CORRECT, rows]
        block = np.stack(
            [np.ones_like(given), given, given * given, margin, correct, previous > correct]
        ).astype(np.float32)
        np.add.at(state.sums.T, rows, block.T)
        state.last[:, rows] = np.stack([index[:, 0], preferred, correct])
        ordered = np.sort(ids)
        state.duplicates += np.count_nonzero(ordered[1:] == ordered[:-1])

    def host_tables(self, state: DynamicsState) -> tuple[np.ndarray, np.ndarray, float]:
        return state.sums.copy(), state.last.copy(), float(state.duplicates[0])


class TensorFlowDynamics:
    """Eager TensorFlow: the tables are `tf.Variable`s beside the data, updated in place by
    scatter_nd_add / scatter_nd_update of B rows (never a dense O(N) update). Variables scatter
    along their first axis, so these tables are row-major ([N+2, 6], [N+2, 3]) and
    `host_tables` transposes them."""

    name = "tensorflow"

    def __init__(self) -> None:
        import tensorflow as tf

        self.tf = tf

    def new_state(self, size: int, like: Any) -> DynamicsState:
        tf = self.tf
        with tf.device(getattr(like, "device", "") or "/device:CPU:0"):
            def zeros(shape: tuple[int, ...], dtype: Any) -> Any:
                return tf.Variable(tf.zeros(shape, dtype=dtype), trainable=False)

            return DynamicsState(
                size,
                zeros((size + 2, SUM_COLUMNS), tf.float32),
                zeros((size + 2, LAST_COLUMNS), tf.int64),
                zeros((1,), tf.float32),
            )

    def track(self, state, ids, outputs, labels, correct, num_classes, from_logits, route_ids) -> None:
        tf = self.tf
        ids = tf.cast(ids, tf.int64)
        labels = tf.cast(labels, tf.int64)
        scores = tf.cast(outputs, tf.float32)
        probs = tf.nn.softmax(scores, axis=1) if from_logits else scores
        index = tf.minimum(labels, num_classes - 1)
        given = tf.gather(probs, index, axis=1, batch_dims=1)
        others = tf.where(tf.one_hot(index, num_classes, on_value=True, off_value=False), -1.0, probs)
        margin = given - tf.reduce_max(others, axis=1)
        preferred = tf.argmax(others, axis=1)
        countable = (labels < num_classes) & (margin == margin)
        rows = tf.where(countable, ids, tf.constant(state.skipped_row, tf.int64))
        if route_ids:
            valid = (ids >= 0) & (ids < state.size)
            rows = tf.where(valid, rows, tf.constant(state.invalid_row, tf.int64))
        correct = tf.cast(correct, tf.int64)
        previous = tf.gather(state.last, rows)[:, LAST_CORRECT]
        block = tf.stack(
            [tf.ones_like(given), given, given * given, margin, tf.cast(correct, tf.float32),
             tf.cast(previous > correct, tf.float32)],
            axis=1,
        )  # fmt: skip
        index_rows = tf.expand_dims(rows, 1)
        state.sums.scatter_nd_add(index_rows, block)
        state.last.scatter_nd_update(index_rows, tf.stack([index, preferred, correct], axis=1))
        ordered = tf.sort(ids)
        state.duplicates.assign_add(
            tf.reshape(tf.reduce_sum(tf.cast(ordered[1:] == ordered[:-1], tf.float32)), (1,))
        )

    def host_tables(self, state: DynamicsState) -> tuple[np.ndarray, np.ndarray, float]:
        return state.sums.numpy().T.copy(), state.last.numpy().T.copy(), float(state.duplicates.numpy()[0])


_BACKENDS: dict[str, Any] = {}


def backend(library: str) -> Any:
    if library not in _BACKENDS:
        kinds = {"torch": TorchDynamics, "numpy": NumpyDynamics, "tensorflow": TensorFlowDynamics}
        _BACKENDS[library] = kinds[library]()
    return _BACKENDS[library]


def track_batch(
    ops: Any,
    state: DynamicsState,
    ids: Any,
    outputs: Any,
    labels: Any,
    correct: Any,
    num_classes: int,
    from_logits: bool = True,
    route_ids: bool = True,
) -> None:
    """One batch of a multiclass task: `labels` are the batch's class rows (values >= C for
    ignored or invalid targets), `correct` whether its prediction was right. `route_ids=False`
    when the caller has checked on the host that every id lies in [0, N)."""
    ops.track(state, ids, outputs, labels, correct, num_classes, from_logits, route_ids)


# --- compute (host) ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SampleDynamics:
    """Per-sample statistics of N samples, on the host (NaN where a sample was never visited)."""

    visits: np.ndarray  # int
    confidence: np.ndarray  # mean p(given label)
    variability: np.ndarray  # standard deviation of p(given label) over the visits
    correctness: np.ndarray  # fraction of the visits predicted right
    margin: np.ndarray  # mean of p(given) - max p(other), in [-1, 1]
    forgets: np.ndarray  # correct -> wrong transitions between visits
    label: np.ndarray  # the given label at the latest visit (-1: never visited)
    preferred: np.ndarray  # the other label with the largest probability at the latest visit
    invalid_visits: int = 0  # visits whose id was outside [0, N)
    skipped_visits: int = 0  # visits with an ignored or invalid target, or non-finite outputs
    duplicates: int = 0  # ids repeated within one batch


def compute(sums: np.ndarray, last: np.ndarray, duplicates: float = 0.0) -> SampleDynamics:
    """From the host tables, [6, N+2] and [3, N+2] (`host_tables`)."""
    size = sums.shape[1] - 2
    samples = sums[:, :size].astype(np.float64)
    visits = samples[VISITS]
    seen = visits > 0

    def mean(column: int) -> np.ndarray:
        return np.where(seen, samples[column], np.nan) / np.maximum(visits, 1)

    confidence = mean(SUM_P)
    variability = np.sqrt(np.maximum(mean(SUM_P2) - confidence**2, 0.0))
    return SampleDynamics(
        visits=visits.astype(np.int64),
        confidence=confidence,
        variability=variability,
        correctness=mean(CORRECT),
        margin=mean(SUM_MARGIN),
        forgets=samples[FORGETS].astype(np.int64),
        label=np.where(seen, last[LABEL, :size], -1).astype(np.int64),
        preferred=np.where(seen, last[PREFERRED, :size], -1).astype(np.int64),
        invalid_visits=int(sums[VISITS, size]),
        skipped_visits=int(sums[VISITS, size + 1]),
        duplicates=int(duplicates),
    )


# Data-map regions (Swayamdipta et al.): the model's belief in the given label swings from visit
# to visit (ambiguous), or stays high (easy) or low (hard).
AMBIGUOUS_VARIABILITY = 0.2
EASY_CONFIDENCE = 0.5
REGIONS = ("easy", "ambiguous", "hard")


def regions(confidence: np.ndarray, variability: np.ndarray) -> np.ndarray:
    """0 easy, 1 ambiguous, 2 hard, -1 never visited."""
    ambiguous = variability >= AMBIGUOUS_VARIABILITY
    region = np.where(ambiguous, 1, np.where(confidence >= EASY_CONFIDENCE, 0, 2))
    return np.where(np.isnan(confidence), -1, region)


def likely_label_errors(dynamics: SampleDynamics, limit: int | None = None) -> np.ndarray:
    """Ids of the samples whose mean margin is below 0 (the model gave another label more
    probability, on average over their visits), most negative first."""
    candidates = np.flatnonzero(dynamics.margin < 0)
    order = np.lexsort((candidates, dynamics.margin[candidates]))
    return candidates[order][:limit]


def ranking(dynamics: SampleDynamics) -> np.ndarray:
    """Every visited sample, most suspicious first (lowest mean margin; ties by id)."""
    seen = np.flatnonzero(dynamics.visits > 0)
    return seen[np.lexsort((seen, dynamics.margin[seen]))]
