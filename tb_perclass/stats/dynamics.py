"""Per-sample training dynamics (the `dynamics` kind): state, update and compute as pure functions.

Tracked across the epochs by dataset index, each sample's probability of its given label gives a
confidence (mean) and a variability (standard deviation), the coordinates of a data map
(Swayamdipta et al. 2020); its margin, p(given) minus the largest other probability, averaged
over visits, ranks likely label errors (the probability form of the area under the margin of
Pleiss et al. 2020); correct -> wrong transitions between visits count forgetting events (Toneva
et al. 2019). All of it comes from the outputs the training step computed anyway.

The state is two tables of N + 2 rows on the data's device (N = the dataset size):
`sums` [visits, sum p, sum p^2, sum margin, correct visits, forgetting events] and, int64,
`last` [given label, preferred label, correct] of the latest visit. Row N collects the visits whose id
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
    sums: Any  # float32 [N + 2, 6]
    last: Any  # int64 [N + 2, 3]
    duplicates: Any  # float32 [1]: ids repeated within a batch, summed over batches

    @property
    def invalid_row(self) -> int:
        return self.size

    @property
    def skipped_row(self) -> int:
        return self.size + 1


# --- backends -------------------------------------------------------------------------------


class TorchDynamics:
    name = "torch"

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self._cache: dict[tuple, Any] = {}

    def new_state(self, size: int, like: Any) -> DynamicsState:
        torch = self.torch
        def zeros(*shape: int, dtype=torch.float32) -> Any:
            return torch.zeros(shape, dtype=dtype, device=like.device)

        return DynamicsState(
            size, zeros(size + 2, SUM_COLUMNS), zeros(size + 2, LAST_COLUMNS, dtype=torch.int64), zeros(1)
        )

    def visit_values(self, outputs: Any, labels: Any, from_logits: bool) -> tuple[Any, Any, Any]:
        """p(given label), margin p(given) - max p(other), and the other label with the largest
        probability, per sample of a (B, C) batch. `labels` must lie in [0, C) (route the
        others' rows away afterwards). Five ops: the given label's probability is overwritten
        in the softmax's own output, whose row maximum is then the best other label (measured
        faster on CPU than top-2 plus logsumexp from C = 100 on, equal at C = 10)."""
        torch = self.torch
        if from_logits:
            probs = torch.softmax(outputs, dim=1, dtype=torch.float32)
        else:
            probs = outputs.to(torch.float32, copy=True)  # overwritten below: never the caller's
        index = labels.unsqueeze(1)
        given = probs.gather(1, index).squeeze(1)
        best_other, preferred = probs.scatter_(1, index, -1.0).max(dim=1)
        return given, given - best_other, preferred

    def rows(self, state: DynamicsState, ids: Any, countable: Any) -> Any:
        """Each visit's state row: its id, or the invalid row (id outside [0, N)), or the
        skipped row (a visit that cannot count)."""
        torch = self.torch
        valid = (ids >= 0) & (ids < state.size)
        return torch.where(
            valid,
            torch.where(countable, ids, state.skipped_row),
            state.invalid_row,
        )

    def update(
        self,
        state: DynamicsState,
        rows: Any,
        labels: Any,
        correct: Any,
        given: Any,
        margin: Any,
        preferred: Any,
    ) -> None:
        torch = self.torch
        previous = state.last.index_select(0, rows)[:, LAST_CORRECT]
        # stack promotes the bool and integer columns to the state's float32: no casts.
        forgot = previous > correct
        block = torch.stack([self._ones(rows), given, given * given, margin, correct, forgot], dim=1)
        state.sums.index_add_(0, rows, block)
        state.last.index_copy_(0, rows, torch.stack([labels, preferred, correct], dim=1))

    def count_duplicates(self, state: DynamicsState, ids: Any) -> None:
        ordered = self.torch.sort(ids).values
        state.duplicates.add_((ordered[1:] == ordered[:-1]).sum())

    def _ones(self, like: Any) -> Any:
        key = ("ones", like.shape[0], like.device)
        if key not in self._cache:
            self._cache[key] = self.torch.ones(like.shape[0], dtype=self.torch.float32, device=like.device)
        return self._cache[key]

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().to("cpu", copy=True).numpy()


class NumpyDynamics:
    name = "numpy"

    def new_state(self, size: int, like: Any) -> DynamicsState:
        return DynamicsState(
            size,
            np.zeros((size + 2, SUM_COLUMNS), dtype=np.float32),
            np.zeros((size + 2, LAST_COLUMNS), dtype=np.int64),
            np.zeros(1, dtype=np.float32),
        )

    def visit_values(self, outputs: Any, labels: Any, from_logits: bool) -> tuple[Any, Any, Any]:
        x = np.asarray(outputs, dtype=np.float32)
        if from_logits:
            with np.errstate(over="ignore", invalid="ignore"):
                shifted = np.exp(x - x.max(axis=1, keepdims=True))
                probs = shifted / shifted.sum(axis=1, keepdims=True)
        else:
            probs = x
        index = labels[:, None]
        given = np.take_along_axis(probs, index, axis=1)[:, 0]
        others = probs.copy()
        np.put_along_axis(others, index, -1.0, axis=1)
        preferred = others.argmax(axis=1)
        return given, given - others[np.arange(len(x)), preferred], preferred

    def rows(self, state: DynamicsState, ids: Any, countable: Any) -> Any:
        valid = (ids >= 0) & (ids < state.size)
        return np.where(valid, np.where(countable, ids, state.skipped_row), state.invalid_row)

    def update(self, state, rows, labels, correct, given, margin, preferred) -> None:
        correct = np.asarray(correct, dtype=np.float32)
        previous = state.last[rows, LAST_CORRECT]
        block = np.stack(
            [np.ones_like(given), given, given * given, margin, correct, (previous > correct)], axis=1
        ).astype(np.float32)
        np.add.at(state.sums, rows, block)
        state.last[rows] = np.stack([labels, preferred, correct], axis=1)

    def count_duplicates(self, state: DynamicsState, ids: Any) -> None:
        ordered = np.sort(ids)
        state.duplicates += np.count_nonzero(ordered[1:] == ordered[:-1])

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.array(x, copy=True)


class TensorFlowDynamics:
    """Eager TensorFlow: the tables are `tf.Variable`s beside the data, updated in place by
    scatter_nd_add / scatter_nd_update of B rows (never a dense O(N) update)."""

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

    def visit_values(self, outputs: Any, labels: Any, from_logits: bool) -> tuple[Any, Any, Any]:
        tf = self.tf
        scores = tf.cast(outputs, tf.float32)
        probs = tf.nn.softmax(scores, axis=1) if from_logits else scores
        labels = tf.cast(labels, tf.int64)
        given = tf.gather(probs, labels, axis=1, batch_dims=1)
        others = tf.where(tf.one_hot(labels, tf.shape(probs)[1], on_value=True, off_value=False), -1.0, probs)
        return given, given - tf.reduce_max(others, axis=1), tf.argmax(others, axis=1)

    def rows(self, state: DynamicsState, ids: Any, countable: Any) -> Any:
        tf = self.tf
        ids = tf.cast(ids, tf.int64)
        valid = (ids >= 0) & (ids < state.size)
        inner = tf.where(countable, ids, tf.constant(state.skipped_row, tf.int64))
        return tf.where(valid, inner, tf.constant(state.invalid_row, tf.int64))

    def update(self, state, rows, labels, correct, given, margin, preferred) -> None:
        tf = self.tf
        correct = tf.cast(correct, tf.int64)
        previous = tf.gather(state.last, rows)[:, LAST_CORRECT]
        forgot = tf.cast(previous > correct, tf.float32)
        block = tf.stack(
            [tf.ones_like(given), given, given * given, margin, tf.cast(correct, tf.float32), forgot],
            axis=1,
        )
        index = tf.expand_dims(rows, 1)
        state.sums.scatter_nd_add(index, block)
        state.last.scatter_nd_update(
            index, tf.stack([tf.cast(labels, tf.int64), tf.cast(preferred, tf.int64), correct], axis=1)
        )

    def count_duplicates(self, state: DynamicsState, ids: Any) -> None:
        tf = self.tf
        ordered = tf.sort(ids)
        state.duplicates.assign_add(
            tf.reshape(tf.reduce_sum(tf.cast(ordered[1:] == ordered[:-1], tf.float32)), (1,))
        )

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.array(x.numpy(), copy=True)


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
) -> None:
    """One batch of a multiclass task: `labels` are the batch's class rows (values >= C for
    ignored or invalid targets), `correct` whether its prediction was right."""
    in_range = labels < num_classes
    safe_labels = _clip_high(ops, labels, num_classes - 1)  # gather needs an index in [0, C)
    given, margin, preferred = ops.visit_values(outputs, safe_labels, from_logits)
    # margin is a difference of probabilities: not finite exactly when it is NaN.
    countable = in_range & (margin == margin)
    rows = ops.rows(state, ids, countable)
    ops.update(state, rows, safe_labels, correct, given, margin, preferred)
    ops.count_duplicates(state, ids)


def _clip_high(ops: Any, x: Any, high: int) -> Any:
    if ops.name == "torch":
        return x.clamp_max(high)
    if ops.name == "tensorflow":
        return ops.tf.minimum(x, high)
    return np.minimum(x, high)


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
    size = len(sums) - 2
    samples = sums[:size].astype(np.float64)
    visits = samples[:, VISITS]
    seen = visits > 0
    def mean(column: int) -> np.ndarray:
        return np.where(seen, samples[:, column], np.nan) / np.maximum(visits, 1)

    confidence = mean(SUM_P)
    variability = np.sqrt(np.maximum(mean(SUM_P2) - confidence**2, 0.0))
    return SampleDynamics(
        visits=visits.astype(np.int64),
        confidence=confidence,
        variability=variability,
        correctness=mean(CORRECT),
        margin=mean(SUM_MARGIN),
        forgets=samples[:, FORGETS].astype(np.int64),
        label=np.where(seen, last[:size, LABEL], -1).astype(np.int64),
        preferred=np.where(seen, last[:size, PREFERRED], -1).astype(np.int64),
        invalid_visits=int(sums[size, VISITS]),
        skipped_visits=int(sums[size + 1, VISITS]),
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
