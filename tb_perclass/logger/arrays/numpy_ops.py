"""`ArrayOps` for NumPy arrays: the reference implementation the other libraries are tested
against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tb_perclass.format import score_bins


class NumpyOps:
    name = "numpy"

    def __init__(self) -> None:
        self._buffers: dict[tuple, np.ndarray] = {}  # scratch arrays reused across batches

    def prepare(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def device(self, x: Any) -> str:
        return "cpu"

    def is_on_host(self, x: Any) -> bool:
        return True

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(np.shape(x))

    def dtype_name(self, x: Any) -> str:
        return str(np.asarray(x).dtype)

    def is_integer(self, x: Any) -> bool:
        return np.issubdtype(np.asarray(x).dtype, np.integer)

    def is_floating(self, x: Any) -> bool:
        return np.issubdtype(np.asarray(x).dtype, np.floating)

    def zeros(self, shape: tuple[int, ...], like: Any) -> np.ndarray:
        return np.zeros(shape, dtype=np.float64)

    def to_index(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.int64)

    def argmax_rows(self, x: Any) -> np.ndarray:
        return np.argmax(x, axis=1)

    def log_softmax_rows(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # NaN/inf rows
            shifted = x - np.max(x, axis=1, keepdims=True)
            return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))

    def softmax_cross_entropy(self, logits: Any, labels: Any) -> np.ndarray:
        return -self.take_rows(self.log_softmax_rows(logits), labels)

    def log(self, x: Any) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def clip(self, x: Any, low: float, high: float) -> np.ndarray:
        return np.clip(x, low, high)

    def sum_rows(self, x: Any, keepdims: bool = False) -> np.ndarray:
        return np.sum(x, axis=1, keepdims=keepdims)

    def take_rows(self, x: Any, index: Any) -> np.ndarray:
        return np.take_along_axis(np.asarray(x), np.asarray(index)[:, None], axis=1)[:, 0]

    def finite_or_zero(self, x: Any) -> np.ndarray:
        return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)

    def equal(self, x: Any, y: Any) -> np.ndarray:
        return np.equal(x, y)

    def stack_columns(self, columns: Sequence[Any]) -> np.ndarray:
        return np.stack(columns, axis=1).astype(np.float64)

    def stats_columns(self, losses: Any, correct: Any, decided_by: Any) -> tuple[Any, Any]:
        finite = np.isfinite(decided_by)
        finite_loss = self.finite_or_zero(losses)
        # A loss differs from its zeroed copy exactly when it was NaN or infinite.
        block = self.stack_columns(
            [
                finite_loss,
                np.ones_like(finite_loss),
                np.logical_and(correct, finite),
                finite_loss != losses,
                finite,
            ]
        )
        return block, block[:, 4]

    def count_into(self, table: np.ndarray, row: int, flags: Sequence[Any]) -> np.ndarray:
        table[row, : len(flags)] += [np.count_nonzero(flag) for flag in flags]
        return table

    def is_finite(self, x: Any) -> np.ndarray:
        return np.isfinite(x)

    def min_rows(self, x: Any) -> np.ndarray:
        return np.min(x, axis=1)

    def scatter_add_rows(self, table: np.ndarray, rows: Any, values: Any) -> np.ndarray:
        np.add.at(table, rows, values)
        return table

    def reset(self, table: np.ndarray) -> np.ndarray:
        table.fill(0)
        return table

    def min_max(self, x: Any) -> tuple[int, int]:
        return int(np.min(x)), int(np.max(x))

    def to_numpy(self, x: Any) -> np.ndarray:
        # A copy, like the other libraries' device-to-host transfer: the state is reset after.
        return np.array(x, copy=True)

    def cast_like(self, x: Any, like: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.result_type(np.asarray(like).dtype, np.float32))

    def is_bool(self, x: Any) -> bool:
        return np.asarray(x).dtype == np.bool_

    def reshape(self, x: Any, shape: tuple[int, ...]) -> np.ndarray:
        return np.reshape(x, shape)

    def where(self, condition: Any, x: Any, y: Any) -> np.ndarray:
        return np.where(condition, x, y)

    def logical_or(self, x: Any, y: Any) -> np.ndarray:
        return np.logical_or(x, y)

    def greater(self, x: Any, y: Any) -> np.ndarray:
        return np.greater(x, y)

    def to_float(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.float32)

    def constant(self, values: tuple[float, ...], like: Any) -> np.ndarray:
        return np.asarray(values, dtype=np.asarray(like).dtype)

    def tiled_range(self, length: int, repeats: int, like: Any) -> np.ndarray:
        return np.tile(np.arange(length, dtype=np.int64), repeats)

    def sigmoid_cross_entropy(self, logits: Any, targets: Any) -> np.ndarray:
        logits = np.asarray(logits, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))

    def all_true(self, x: Any) -> bool:
        return bool(np.all(x))

    def first_where_false(self, mask: Any, values: Any) -> Any:
        return np.asarray(values)[~np.asarray(mask)][0].item()

    def nonzero_entries(self, flat: Any) -> tuple[np.ndarray, np.ndarray]:
        index = np.flatnonzero(flat)
        return index, np.asarray(flat)[index].copy()

    def combine_index(self, major: Any, minor: Any, width: int) -> np.ndarray:
        return np.asarray(major) * width + np.asarray(minor)

    def max_rows(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        index = np.argmax(x, axis=1)
        return np.take_along_axis(np.asarray(x), index[:, None], axis=1)[:, 0], index

    def logsumexp_rows(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            top = np.max(x, axis=1, keepdims=True)
            return (top + np.log(np.sum(np.exp(x - top), axis=1, keepdims=True)))[:, 0]

    def exp(self, x: Any) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.exp(x)

    def sigmoid(self, x: Any) -> np.ndarray:
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))

    def top_k(self, x: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x)
        index = np.argsort(-x, kind="stable")[:k]
        return x[index], index

    def gather(self, x: Any, index: Any) -> np.ndarray:
        return np.asarray(x)[index]

    def logical_and(self, x: Any, y: Any) -> np.ndarray:
        return np.logical_and(x, y)

    def logical_not(self, x: Any) -> np.ndarray:
        return np.logical_not(x)

    def less(self, x: Any, y: Any) -> np.ndarray:
        return np.less(x, y)

    def fetch_rows(self, x: Any, rows: Any) -> np.ndarray:
        return np.asarray(x)[np.asarray(rows, dtype=np.int64)]

    def fetch_images(self, x: Any, rows: Any, layout: str, factor: int) -> np.ndarray:
        # Already on the host: the exact downscale happens later, image by image.
        return self.fetch_rows(x, rows)

    def maximum(self, x: Any, y: Any) -> np.ndarray:
        return np.maximum(x, y)

    def log1p(self, x: Any) -> np.ndarray:
        return np.log1p(x)

    def abs(self, x: Any) -> np.ndarray:
        return np.abs(x)

    def mean_rows(self, x: Any) -> np.ndarray:
        return np.mean(x, axis=1)

    def bucketize(self, x: Any, edges: tuple[float, ...], like: Any) -> np.ndarray:
        return np.searchsorted(np.asarray(edges, dtype=np.float64), x, side="right")

    # --- score histograms (`score_state`; bins of `format.score_bins`) -------------------------

    def score_probabilities(self, outputs: Any, from_logits: bool) -> np.ndarray:
        """float32 probabilities in a scratch array the caller may overwrite (reused: fresh
        megabyte-sized arrays page-fault on every batch)."""
        x = np.asarray(outputs)
        p = self._scratch("p", x.shape, np.float32)
        if not from_logits:
            p[...] = x
            return p
        with np.errstate(over="ignore", invalid="ignore"):
            np.subtract(x, x.max(axis=1, keepdims=True), out=p, casting="same_kind")
            np.exp(p, out=p)
            p /= p.sum(axis=1, keepdims=True)
        return p

    def exclude_score_rows(self, probabilities: np.ndarray, excluded: Any) -> np.ndarray:
        probabilities[np.asarray(excluded)] = score_bins.EXCLUDED_VALUE
        return probabilities

    def score_bin_index(self, probabilities: np.ndarray, width: int) -> np.ndarray:
        """(B, W) float32 probabilities, overwritten in place, -> column * CELLS_PER_COLUMN +
        bin (int32 is enough: CELLS_PER_COLUMN * W stays far below 2**31). Scores at or above
        1/2 get the first bin above 1/2 here; only a row's top score can be there
        (`top_score_bins`)."""
        keys = probabilities.view(np.int32)
        keys >>= score_bins.SHIFT
        np.clip(keys, score_bins.LOW_KEY, score_bins.EXCLUDED_KEY, out=keys)
        keys += np.arange(width, dtype=np.int32) * score_bins.CELLS_PER_COLUMN - score_bins.LOW_KEY
        return keys

    def top_score_bins(self, top: Any) -> np.ndarray:
        p = np.asarray(top, dtype=np.float32)
        keys = np.stack([np.float32(1.0) - p, p], axis=1).view(np.int32) >> score_bins.SHIFT
        keys = np.clip(keys, score_bins.LOW_KEY, score_bins.TOP_KEY_BOUNDS)
        return score_bins.top_bin(keys[:, 1], keys[:, 0]).astype(np.int64)

    def label_score_bins(self, scores: Any, from_logits: bool) -> tuple[np.ndarray, np.ndarray]:
        s = np.asarray(scores, dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            if from_logits:
                p = (1.0 / (1.0 + np.exp(-s))).astype(np.float32)
                nearer = (1.0 / (1.0 + np.exp(np.abs(s)))).astype(np.float32)  # min(p, 1 - p)
                upper = ~(s < 0)
            else:
                p, upper = s, ~(s < 0.5)
                nearer = np.where(upper, np.float32(1.0) - s, s)
        keys = (
            np.clip(
                nearer.view(np.int32) >> score_bins.SHIFT,
                score_bins.LOW_KEY,
                score_bins.HALF_KEY - 1,
            )
            - score_bins.LOW_KEY
        )
        return np.where(upper, score_bins.NUM_BINS - 1 - keys, keys).astype(np.int64), p

    def set_columns(self, index: np.ndarray, columns: Any, values: Any) -> np.ndarray:
        index[np.arange(len(index)), np.asarray(columns)] = values
        return index

    def zeros_counts(self, size: int, like: Any) -> np.ndarray:
        return np.zeros(size, dtype=np.int64)

    def add_counts(self, state: np.ndarray, flat: Any, weights: Any = None) -> np.ndarray:
        flat = np.ravel(flat)
        if flat.size == 0:
            return state
        low, high = int(flat.min()), int(flat.max()) + 1
        if len(flat) * 8 < high - low:  # a few scattered cells: bincount would sweep them all
            np.add.at(state, flat, 1 if weights is None else np.ravel(weights))
            return state
        # Many: bincount over the touched range, ~20x faster than np.add.at.
        weights = None if weights is None else np.ravel(weights)
        counts = np.bincount(flat - low, weights=weights, minlength=high - low)
        state[low:high] += counts.astype(state.dtype, copy=False)
        return state

    def add_score_counts(self, state: np.ndarray, index: Any, columns: Any, offset: int) -> Any:
        """Adds the cells of the (B, W) `index` and, once more, each row's cell in `columns`
        moved by `offset`."""
        self.add_counts(state, index)
        return self.add_counts(state, self.take_rows(index, columns) + offset)

    def reliability_columns(self, correct: Any, confidence: Any) -> np.ndarray:
        return self.stack_columns([np.ones(len(confidence)), correct, confidence])

    def all_finite(self, x: Any) -> bool:
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(np.sum(x)))

    def top_k_hits(self, outputs: Any, labels: Any, k: int, like: Any) -> np.ndarray:
        x = np.asarray(outputs)
        target = np.take_along_axis(x, np.asarray(labels)[:, None], axis=1)
        return (np.count_nonzero(x > target, axis=1) < k).astype(np.float64)

    def lookup(self, table: np.ndarray, index: Any) -> np.ndarray:
        return table[np.asarray(index)]

    def _scratch(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        key = (name, shape, np.dtype(dtype))
        if key not in self._buffers:
            self._buffers[key] = np.empty(shape, dtype=dtype)
        return self._buffers[key]


OPS = NumpyOps()
