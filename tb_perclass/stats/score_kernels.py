"""The array operations the score histograms need beyond `ArrayOps`, per library.

Each works on the data's device without reading values back (NumPy's and CPU torch's data are
on the host anyway). A multiclass batch costs `probabilities` -> `bin_index` -> `add_counts`
over its B x C scores, plus `count_greater` for top-k; everything else is per sample. They are
written for few passes over memory: on a CPU each pass over 256k scores costs 20-100 us, the
scatter-add 150-400 us, and each small operation a few microseconds of dispatch.

Bins (see `tb_perclass.score_bins`): the key of a probability is its float32 bits shifted right
by SHIFT, clamped to [LOW_KEY, ...]; the bin is key - LOW_KEY below 1/2 and mirrored on 1 - p
at and above 1/2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_perclass import score_bins

_HALF = score_bins.HALF_BINS
_LOADED: dict[str, Any] = {}


def kernels_for(ops: Any) -> Any:
    """The kernels for an `ArrayOps`: one per ops object (TensorFlow has an eager and a graph
    flavour that update state differently)."""
    if id(ops) not in _LOADED:
        kind = {"numpy": NumpyKernels, "torch": TorchKernels, "tensorflow": TensorFlowKernels}
        _LOADED[id(ops)] = kind[ops.name](ops)
    return _LOADED[id(ops)]


def top_bin_from_keys(p_key: Any, q_key: Any) -> Any:
    """The bin of a probability p from the keys of p and of q = 1 - p (both float32 bits >>
    SHIFT), clamped as `clamp_top_keys` does: key(p) to [LOW, HALF_KEY] and key(q) to
    [LOW, HALF_KEY - 1]. Below 1/2, key(q) is pinned at HALF_KEY - 1 and the sum is key(p) - LOW;
    at and above, key(p) is pinned at HALF_KEY and it is the mirrored bin of q."""
    return p_key - q_key + (_HALF - 1)


class NumpyKernels:
    def __init__(self, ops: Any):
        self.ops = ops
        self._buffers: dict[tuple, np.ndarray] = {}

    def _buffer(self, name: str, shape: tuple, dtype: Any) -> np.ndarray:
        """Scratch arrays reused across batches: fresh megabyte-sized ones page-fault."""
        key = (name, shape, np.dtype(dtype))
        if key not in self._buffers:
            self._buffers[key] = np.empty(shape, dtype=dtype)
        return self._buffers[key]

    def probabilities(self, outputs: Any, from_logits: bool) -> np.ndarray:
        x = np.asarray(outputs)
        e = self._buffer("p", x.shape, np.float32)
        if not from_logits:
            e[...] = x
            return e
        with np.errstate(over="ignore", invalid="ignore"):
            np.subtract(x, x.max(axis=1, keepdims=True), out=e, casting="same_kind")
            np.exp(e, out=e)
            e /= e.sum(axis=1, keepdims=True)
        return e

    def exclude_rows(self, probabilities: np.ndarray, excluded: Any) -> np.ndarray:
        probabilities[np.asarray(excluded)] = score_bins.EXCLUDED_VALUE
        return probabilities

    def bin_index(self, probabilities: np.ndarray, width: int) -> np.ndarray:
        """(B, W) -> bin * W + column, bin-major: a row's scores that share a bin are
        neighbours. Scores at or above 1/2 get the bin of 1/2 here (only a row's top score can
        be there; `top_bins` gives its real bin)."""
        keys = probabilities.view(np.int32)
        keys >>= score_bins.SHIFT
        np.clip(keys, score_bins.LOW_KEY, score_bins.EXCLUDED_KEY, out=keys)
        keys *= width
        keys += np.arange(width, dtype=np.int32) - score_bins.LOW_KEY * width
        return keys  # int32 is enough: (NUM_BINS + 1) * width stays far below 2^31

    def top_bins(self, top: Any) -> np.ndarray:
        p = np.asarray(top, dtype=np.float32)
        keys = np.stack([p, np.float32(1.0) - p], axis=1).view(np.int32) >> score_bins.SHIFT
        keys = np.clip(keys, score_bins.LOW_KEY, [score_bins.HALF_KEY, score_bins.HALF_KEY - 1])
        return top_bin_from_keys(keys[:, 0], keys[:, 1]).astype(np.int64)

    def label_bins(self, scores: Any, from_logits: bool) -> tuple[np.ndarray, np.ndarray]:
        s = np.asarray(scores, dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            p = (1.0 / (1.0 + np.exp(-s))).astype(np.float32) if from_logits else s
            upper = ~(s < (0.0 if from_logits else 0.5))
            # min(p, 1 - p); from logits sigmoid(-|s|) keeps the tail exact.
            nearer = (
                (1.0 / (1.0 + np.exp(np.abs(s)))).astype(np.float32)
                if from_logits
                else np.where(upper, np.float32(1.0) - s, s)
            )
        keys = np.clip(
            nearer.view(np.int32) >> score_bins.SHIFT, score_bins.LOW_KEY,
            score_bins.HALF_KEY - 1,
        ) - score_bins.LOW_KEY  # fmt: skip
        bins = np.where(upper, score_bins.NUM_BINS - 1 - keys, keys)
        return bins.astype(np.int64), p

    def set_at(self, index: np.ndarray, columns: Any, values: Any) -> np.ndarray:
        index[np.arange(len(index)), np.asarray(columns)] = values
        return index

    def zeros_counts(self, size: int, like: Any) -> np.ndarray:
        return np.zeros(size, dtype=np.int64)

    def add_counts(self, state: np.ndarray, flat: Any, weights: Any = None) -> np.ndarray:
        flat = np.ravel(flat)
        low, high = int(flat.min()), int(flat.max()) + 1
        if len(flat) * 8 < high - low:  # a few scattered cells: bincount would sweep them all
            np.add.at(state, flat, 1 if weights is None else np.ravel(weights))
            return state
        # Many: bincount over the touched range, ~20x faster than np.add.at.
        counts = np.bincount(
            flat - low, weights=None if weights is None else np.ravel(weights),
            minlength=high - low,
        )  # fmt: skip
        state[low:high] += counts.astype(state.dtype, copy=False)
        return state

    def all_finite(self, x: Any) -> bool:
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(np.sum(x)))

    def top_k_hits(self, outputs: Any, labels: Any, k: int, like: Any) -> np.ndarray:
        x = np.asarray(outputs)
        target = np.take_along_axis(x, np.asarray(labels)[:, None], axis=1)
        return (np.count_nonzero(x > target, axis=1) < k).astype(np.float64)

    def lookup(self, table: np.ndarray, index: Any) -> np.ndarray:
        return table[np.asarray(index)]


class TorchKernels:
    def __init__(self, ops: Any):
        import torch

        self.ops = ops
        self.torch = torch
        self._cache: dict[tuple, Any] = {}

    def _cached(self, key: tuple, make) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _buffer(self, name: str, shape: tuple, dtype: Any, device: Any) -> Any:
        """A scratch tensor reused across batches. Fresh megabyte-sized buffers would cost a
        page fault per 4 KiB on every batch (the allocator hands large blocks back to the
        system); reuse is safe because each batch's ops run in stream order."""
        return self._cached(
            ("buffer", name, shape, dtype, device),
            lambda: self.torch.empty(shape, dtype=dtype, device=device),
        )

    def probabilities(self, outputs: Any, from_logits: bool) -> Any:
        torch = self.torch
        out = self._buffer("p", tuple(outputs.shape), torch.float32, outputs.device)
        if not from_logits:
            return out.copy_(outputs)
        if outputs.dtype != torch.float32:
            outputs = outputs.float()
        return torch.softmax(outputs, dim=1, out=out)

    def exclude_rows(self, probabilities: Any, excluded: Any) -> Any:
        return probabilities.masked_fill_(excluded[:, None], score_bins.EXCLUDED_VALUE)

    def bin_index(self, probabilities: Any, width: int) -> Any:
        torch = self.torch
        # In place on the caller's float32 buffer: its int32 view, one shift, one clamp.
        keys = probabilities.view(torch.int32).bitwise_right_shift_(score_bins.SHIFT)
        keys.clamp_(score_bins.LOW_KEY, score_bins.EXCLUDED_KEY)
        base = self._cached(
            ("base", width, keys.device),
            lambda: torch.arange(width, dtype=torch.int32, device=keys.device)
            - score_bins.LOW_KEY * width,
        )
        # int32 alpha-add then widen: an int64 alpha-add is ~10x slower on CPU.
        narrow = self._buffer("index32", tuple(keys.shape), torch.int32, keys.device)
        wide = self._buffer("index64", tuple(keys.shape), torch.int64, keys.device)
        return wide.copy_(torch.add(base, keys, alpha=width, out=narrow))

    def top_bins(self, top: Any) -> Any:
        torch = self.torch
        # Keys of (1 - p, p) clamped at once, then key(p) - key(q) by one diff.
        pair = torch.stack([1.0 - top, top], dim=1)
        keys = pair.view(torch.int32).bitwise_right_shift_(score_bins.SHIFT)
        low, high = self._cached(
            ("top_bounds", keys.device),
            lambda: (
                torch.tensor([score_bins.LOW_KEY] * 2, dtype=torch.int32, device=keys.device),
                torch.tensor(
                    [score_bins.HALF_KEY - 1, score_bins.HALF_KEY], dtype=torch.int32,
                    device=keys.device,
                ),
            ),
        )  # fmt: skip
        keys = torch.clamp(keys, low, high)
        return keys.diff(dim=1)[:, 0].add_(_HALF - 1).long()

    def all_finite(self, x: Any) -> bool:
        import math

        # Probabilities and most scores are far from overflowing a sum; if one does, the
        # caller only takes its slower path.
        return math.isfinite(x.sum().item())

    def top_k_hits(self, outputs: Any, labels: Any, k: int, like: Any) -> Any:
        torch = self.torch
        target = outputs.gather(1, labels[:, None])
        greater = self._buffer("greater", tuple(outputs.shape), torch.bool, outputs.device)
        torch.gt(outputs, target, out=greater)
        rank = greater.view(torch.uint8).sum(1, dtype=torch.int32)
        return torch.lt(rank, k, out=torch.empty(rank.shape, dtype=like.dtype, device=like.device))

    def label_bins(self, scores: Any, from_logits: bool) -> tuple[Any, Any]:
        torch = self.torch
        s = scores.to(torch.float32)
        if from_logits:
            p = torch.sigmoid(s)
            nearer = torch.sigmoid(s.abs().neg_())  # min(p, 1 - p), exact in the tails
            upper = s >= 0
        else:
            p = s
            upper = s >= 0.5
            nearer = torch.where(upper, 1.0 - s, s)
        keys = nearer.view(torch.int32).bitwise_right_shift_(score_bins.SHIFT)
        keys = keys.clamp_(score_bins.LOW_KEY, score_bins.HALF_KEY - 1).sub_(score_bins.LOW_KEY)
        bins = torch.where(upper, (score_bins.NUM_BINS - 1) - keys, keys)
        return bins.long(), p

    def set_at(self, index: Any, columns: Any, values: Any) -> Any:
        return index.scatter_(1, columns[:, None], values[:, None])

    def zeros_counts(self, size: int, like: Any) -> Any:
        # int32 counts: exact to 2^31 per cell and step, half the memory of float64.
        return self.torch.zeros(size, dtype=self.torch.int32, device=like.device)

    def add_counts(self, state: Any, flat: Any, weights: Any = None) -> Any:
        flat = flat.reshape(-1)
        if weights is None:
            weights = self._cached(
                ("ones", flat.shape[0], flat.device, state.dtype),
                lambda: self.torch.ones(flat.shape[0], dtype=state.dtype, device=flat.device),
            )
        else:
            weights = weights.reshape(-1).to(state.dtype)
        return state.scatter_add_(0, flat, weights)

    def lookup(self, table: np.ndarray, index: Any) -> Any:
        device_table = self._cached(
            ("table", id(table), index.device),
            lambda: self.torch.as_tensor(table, device=index.device),
        )
        return device_table.index_select(0, index)


class TensorFlowKernels:
    def __init__(self, ops: Any):
        import tensorflow as tf

        self.ops = ops
        self.tf = tf

    def probabilities(self, outputs: Any, from_logits: bool) -> Any:
        tf = self.tf
        x = tf.cast(outputs, tf.float32)
        return tf.nn.softmax(x, axis=1) if from_logits else x

    def exclude_rows(self, probabilities: Any, excluded: Any) -> Any:
        tf = self.tf
        return tf.where(
            excluded[:, None], tf.constant(score_bins.EXCLUDED_VALUE, tf.float32), probabilities
        )

    def bin_index(self, probabilities: Any, width: int) -> Any:
        tf = self.tf
        keys = tf.bitwise.right_shift(tf.bitcast(probabilities, tf.int32), score_bins.SHIFT)
        keys = tf.clip_by_value(keys, score_bins.LOW_KEY, score_bins.EXCLUDED_KEY)
        base = tf.range(width, dtype=tf.int32) - score_bins.LOW_KEY * width
        return tf.cast(keys * width + base, tf.int64)

    def top_bins(self, top: Any) -> Any:
        tf = self.tf
        p = tf.cast(top, tf.float32)
        keys = tf.bitwise.right_shift(
            tf.bitcast(tf.stack([p, 1.0 - p], axis=1), tf.int32), score_bins.SHIFT
        )
        keys = tf.clip_by_value(
            keys, score_bins.LOW_KEY, tf.constant([score_bins.HALF_KEY, score_bins.HALF_KEY - 1])
        )
        return tf.cast(top_bin_from_keys(keys[:, 0], keys[:, 1]), tf.int64)

    def label_bins(self, scores: Any, from_logits: bool) -> tuple[Any, Any]:
        tf = self.tf
        s = tf.cast(scores, tf.float32)
        if from_logits:
            p = tf.sigmoid(s)
            nearer = tf.sigmoid(-tf.abs(s))
            upper = s >= 0
        else:
            p = s
            upper = s >= 0.5
            nearer = tf.where(upper, 1.0 - s, s)
        keys = tf.bitwise.right_shift(tf.bitcast(nearer, tf.int32), score_bins.SHIFT)
        keys = tf.clip_by_value(keys, score_bins.LOW_KEY, score_bins.HALF_KEY - 1)
        keys = keys - score_bins.LOW_KEY
        return tf.cast(tf.where(upper, score_bins.NUM_BINS - 1 - keys, keys), tf.int64), p

    def set_at(self, index: Any, columns: Any, values: Any) -> Any:
        tf = self.tf
        rows = tf.range(tf.shape(index, out_type=tf.int64)[0], dtype=tf.int64)
        where = tf.stack([rows, tf.cast(columns, tf.int64)], axis=1)
        return tf.tensor_scatter_nd_update(index, where, tf.cast(values, index.dtype))

    def zeros_counts(self, size: int, like: Any) -> Any:
        tf = self.tf
        with tf.device(getattr(like, "device", "") or "/device:CPU:0"):
            return tf.Variable(tf.zeros((size,), dtype=tf.int32), trainable=False)

    def add_counts(self, state: Any, flat: Any, weights: Any = None) -> Any:
        tf = self.tf
        flat = tf.reshape(flat, [-1])
        weights = (
            tf.ones(tf.shape(flat), dtype=state.dtype) if weights is None
            else tf.cast(tf.reshape(weights, [-1]), state.dtype)
        )  # fmt: skip
        # Eager: an in-place scatter; in graphs (Keras metrics) a dense sum and assign_add.
        return self.ops.scatter_add_rows(state, flat, weights)

    def all_finite(self, x: Any) -> bool:
        return bool(self.tf.math.is_finite(self.tf.reduce_sum(x)))

    def top_k_hits(self, outputs: Any, labels: Any, k: int, like: Any) -> Any:
        tf = self.tf
        target = tf.gather(outputs, labels, axis=1, batch_dims=1)
        rank = tf.math.count_nonzero(outputs > target[:, None], axis=1, dtype=tf.int32)
        return tf.cast(rank < k, like.dtype)

    def lookup(self, table: np.ndarray, index: Any) -> Any:
        return self.tf.gather(self.tf.constant(table), index)
