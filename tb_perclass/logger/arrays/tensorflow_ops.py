"""`ArrayOps` for TensorFlow tensors: eager (`OPS`), and inside graph functions and replica
contexts (`GRAPH_OPS`, for the Keras metric). Eager state tables are `tf.Variable`s placed on the
data's device and updated in place, so a step's accumulation never copies the table."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from tb_perclass.format import score_bins


def _device_of(x: Any) -> Any:
    """Places new tensors beside `x` (eager), or leaves placement to TensorFlow (graphs)."""
    device = getattr(x, "device", "")
    return tf.device(device) if device else contextlib.nullcontext()


class TensorFlowOps:
    name = "tensorflow"

    def prepare(self, x: Any) -> Any:
        return tf.stop_gradient(x)

    def device(self, x: Any) -> str:
        # Canonical form, e.g. "CPU:0": full device strings of equal devices differ in spelling.
        spec = tf.DeviceSpec.from_string(x.device or "/device:CPU:0")
        return f"{spec.device_type or 'CPU'}:{spec.device_index or 0}"

    def is_on_host(self, x: Any) -> bool:
        return self.device(x).startswith("CPU")

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(x.shape.as_list())

    def dtype_name(self, x: Any) -> str:
        return x.dtype.name

    def is_integer(self, x: Any) -> bool:
        return x.dtype.is_integer

    def is_floating(self, x: Any) -> bool:
        return x.dtype.is_floating

    def zeros(self, shape: tuple[int, ...], like: Any) -> tf.Variable:
        with _device_of(like):
            return tf.Variable(tf.zeros(shape, dtype=tf.float64), trainable=False)

    def to_index(self, x: Any) -> tf.Tensor:
        return tf.cast(x, tf.int64)

    def argmax_rows(self, x: Any) -> tf.Tensor:
        if x.dtype.is_floating:
            # tf.math.argmax skips NaN; NumPy and torch let the first NaN win, then the first
            # maximum. Emulate that: NaN -> +inf, and +inf -> the largest finite value.
            x = tf.where(x == float("inf"), tf.cast(x.dtype.max, x.dtype), x)
            x = tf.where(tf.math.is_nan(x), tf.cast(float("inf"), x.dtype), x)
        return tf.math.argmax(x, axis=1, output_type=tf.int64)

    def log_softmax_rows(self, x: Any) -> tf.Tensor:
        return tf.nn.log_softmax(x, axis=1)

    def softmax_cross_entropy(self, logits: Any, labels: Any) -> tf.Tensor:
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    def log(self, x: Any) -> tf.Tensor:
        return tf.math.log(x)

    def clip(self, x: Any, low: float, high: float) -> tf.Tensor:
        return tf.clip_by_value(x, low, high)

    def sum_rows(self, x: Any, keepdims: bool = False) -> tf.Tensor:
        return tf.reduce_sum(x, axis=1, keepdims=keepdims)

    def take_rows(self, x: Any, index: Any) -> tf.Tensor:
        return tf.gather(x, index, axis=1, batch_dims=1)

    def finite_or_zero(self, x: Any) -> tf.Tensor:
        return tf.where(tf.math.is_finite(x), x, tf.zeros_like(x))

    def equal(self, x: Any, y: Any) -> tf.Tensor:
        return tf.equal(x, y)

    def stack_columns(self, columns: Sequence[Any]) -> tf.Tensor:
        return tf.stack([tf.cast(c, tf.float64) for c in columns], axis=1)

    def stats_columns(self, losses: Any, correct: Any, decided_by: Any) -> tuple[Any, Any]:
        finite = tf.math.is_finite(decided_by)
        finite_loss = tf.math.is_finite(losses)
        finite_outputs = tf.cast(finite, tf.float64)
        block = self.stack_columns(
            [
                tf.where(finite_loss, losses, tf.zeros_like(losses)),
                tf.ones_like(losses),
                tf.logical_and(correct, finite),
                tf.logical_not(finite_loss),
                finite_outputs,
            ]
        )
        return block, finite_outputs

    def count_into(self, table: tf.Variable, row: int, flags: Sequence[Any]) -> tf.Variable:
        table.scatter_nd_add([[row, i] for i in range(len(flags))], self._counts(flags))
        return table

    def _counts(self, flags: Sequence[Any]) -> tf.Tensor:
        return tf.stack([tf.reduce_sum(tf.cast(flag, tf.float64)) for flag in flags])

    def is_finite(self, x: Any) -> tf.Tensor:
        return tf.math.is_finite(x)

    def min_rows(self, x: Any) -> tf.Tensor:
        return tf.reduce_min(x, axis=1)

    def scatter_add_rows(self, table: tf.Variable, rows: Any, values: Any) -> tf.Variable:
        table.scatter_nd_add(tf.expand_dims(rows, 1), values)
        return table

    def reset(self, table: tf.Variable) -> tf.Variable:
        table.assign(tf.zeros_like(table))
        return table

    def min_max(self, x: Any) -> tuple[int, int]:
        return int(tf.reduce_min(x)), int(tf.reduce_max(x))

    def to_numpy(self, x: Any) -> Any:
        return x.numpy()

    def cast_like(self, x: Any, like: Any) -> tf.Tensor:
        return tf.cast(x, like.dtype)

    def is_bool(self, x: Any) -> bool:
        return x.dtype == tf.bool

    def reshape(self, x: Any, shape: tuple[int, ...]) -> tf.Tensor:
        return tf.reshape(x, shape)

    def where(self, condition: Any, x: Any, y: Any) -> tf.Tensor:
        x = tf.convert_to_tensor(x)
        if not tf.is_tensor(y):
            y = tf.cast(y, x.dtype)
        elif y.dtype != x.dtype:
            x = tf.cast(x, y.dtype)
        return tf.where(condition, x, y)

    def logical_or(self, x: Any, y: Any) -> tf.Tensor:
        return tf.logical_or(x, y)

    def greater(self, x: Any, y: Any) -> tf.Tensor:
        return tf.greater(x, tf.cast(y, x.dtype))

    def to_float(self, x: Any) -> tf.Tensor:
        return tf.cast(x, tf.float32)

    def constant(self, values: tuple[float, ...], like: Any) -> tf.Tensor:
        with _device_of(like):
            return tf.constant(values, dtype=like.dtype)

    def tiled_range(self, length: int, repeats: int | None, like: Any) -> tf.Tensor:
        with _device_of(like):
            if repeats is None:  # unknown batch size while tracing a graph
                repeats = tf.shape(like)[0]
            return tf.tile(tf.range(length, dtype=tf.int64), [repeats])

    def sigmoid_cross_entropy(self, logits: Any, targets: Any) -> tf.Tensor:
        return tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.cast(targets, logits.dtype), logits=logits
        )

    def all_true(self, x: Any) -> bool:
        return bool(tf.reduce_all(x))

    def first_where_false(self, mask: Any, values: Any) -> Any:
        return tf.boolean_mask(values, tf.logical_not(mask))[0].numpy().item()

    def nonzero_entries(self, flat: Any) -> tuple[Any, Any]:
        index = tf.where(tf.not_equal(flat, 0))[:, 0]
        return index.numpy(), tf.gather(flat, index).numpy()

    def combine_index(self, major: Any, minor: Any, width: int) -> tf.Tensor:
        return tf.cast(major, tf.int64) * width + tf.cast(minor, tf.int64)

    def max_rows(self, x: Any) -> tuple[tf.Tensor, tf.Tensor]:
        index = self.argmax_rows(x)
        return tf.gather(x, index, axis=1, batch_dims=1), index

    def logsumexp_rows(self, x: Any) -> tf.Tensor:
        return tf.reduce_logsumexp(x, axis=1)

    def exp(self, x: Any) -> tf.Tensor:
        return tf.exp(x)

    def sigmoid(self, x: Any) -> tf.Tensor:
        return tf.sigmoid(x)

    def top_k(self, x: Any, k: int) -> tuple[tf.Tensor, tf.Tensor]:
        result = tf.math.top_k(x, k=k, sorted=True)
        return result.values, tf.cast(result.indices, tf.int64)

    def gather(self, x: Any, index: Any) -> tf.Tensor:
        return tf.gather(x, index, axis=0)

    def logical_and(self, x: Any, y: Any) -> tf.Tensor:
        return tf.logical_and(x, y)

    def logical_not(self, x: Any) -> tf.Tensor:
        return tf.logical_not(x)

    def less(self, x: Any, y: Any) -> tf.Tensor:
        return tf.less(x, tf.cast(y, x.dtype))

    def fetch_rows(self, x: Any, rows: Any) -> Any:
        return tf.gather(x, tf.constant(rows, dtype=tf.int64), axis=0).numpy()

    def fetch_images(self, x: Any, rows: Any, layout: str, factor: int) -> Any:
        """Rows of an image batch, average-pooled by `factor` on the device, on the host."""
        images = tf.gather(x, tf.constant(rows, dtype=tf.int64), axis=0)
        if factor > 1:
            if not images.dtype.is_floating:
                images = tf.cast(images, tf.float32)
            as_nhwc = {
                "NHWC": images,
                "NCHW": tf.transpose(images, [0, 2, 3, 1]),
                "NHW": images[..., None],
            }[layout]
            pooled = tf.nn.avg_pool2d(as_nhwc, factor, factor, padding="SAME")
            images = {
                "NHWC": pooled,
                "NCHW": tf.transpose(pooled, [0, 3, 1, 2]),
                "NHW": pooled[..., 0],
            }[layout]
        return images.numpy()

    def maximum(self, x: Any, y: Any) -> tf.Tensor:
        return tf.maximum(x, tf.cast(y, x.dtype))

    def log1p(self, x: Any) -> tf.Tensor:
        return tf.math.log1p(x)

    def abs(self, x: Any) -> tf.Tensor:
        return tf.abs(x)

    def mean_rows(self, x: Any) -> tf.Tensor:
        return tf.reduce_mean(x, axis=1)

    def bucketize(self, x: Any, edges: tuple[float, ...], like: Any) -> tf.Tensor:
        boundaries = self.constant(edges, like=x)
        return tf.searchsorted(boundaries, x, side="right", out_type=tf.int64)

    # --- score histograms (`score_state`; bins of `format.score_bins`) -------------------------

    def score_probabilities(self, outputs: Any, from_logits: bool) -> tf.Tensor:
        x = tf.cast(outputs, tf.float32)
        return tf.nn.softmax(x, axis=1) if from_logits else x

    def exclude_score_rows(self, probabilities: Any, excluded: Any) -> tf.Tensor:
        value = tf.constant(score_bins.EXCLUDED_VALUE, tf.float32)
        return tf.where(excluded[:, None], value, probabilities)

    def score_bin_index(self, probabilities: Any, width: int) -> tf.Tensor:
        keys = tf.bitwise.right_shift(tf.bitcast(probabilities, tf.int32), score_bins.SHIFT)
        keys = tf.clip_by_value(keys, score_bins.LOW_KEY, score_bins.EXCLUDED_KEY)
        base = tf.range(width, dtype=tf.int32) * score_bins.CELLS_PER_COLUMN - score_bins.LOW_KEY
        return tf.cast(keys + base, tf.int64)

    def top_score_bins(self, top: Any) -> tf.Tensor:
        p = tf.cast(top, tf.float32)
        keys = tf.bitwise.right_shift(
            tf.bitcast(tf.stack([1.0 - p, p], axis=1), tf.int32), score_bins.SHIFT
        )
        keys = tf.clip_by_value(keys, score_bins.LOW_KEY, tf.constant(score_bins.TOP_KEY_BOUNDS))
        return tf.cast(score_bins.top_bin(keys[:, 1], keys[:, 0]), tf.int64)

    def label_score_bins(self, scores: Any, from_logits: bool) -> tuple[tf.Tensor, tf.Tensor]:
        s = tf.cast(scores, tf.float32)
        if from_logits:
            p, nearer, upper = tf.sigmoid(s), tf.sigmoid(-tf.abs(s)), s >= 0
        else:
            p, upper = s, s >= 0.5
            nearer = tf.where(upper, 1.0 - s, s)
        keys = tf.bitwise.right_shift(tf.bitcast(nearer, tf.int32), score_bins.SHIFT)
        keys = tf.clip_by_value(keys, score_bins.LOW_KEY, score_bins.HALF_KEY - 1)
        keys = keys - score_bins.LOW_KEY
        return tf.cast(tf.where(upper, score_bins.NUM_BINS - 1 - keys, keys), tf.int64), p

    def set_columns(self, index: Any, columns: Any, values: Any) -> tf.Tensor:
        rows = tf.range(tf.shape(index, out_type=tf.int64)[0], dtype=tf.int64)
        where = tf.stack([rows, tf.cast(columns, tf.int64)], axis=1)
        return tf.tensor_scatter_nd_update(index, where, tf.cast(values, index.dtype))

    def zeros_counts(self, size: int, like: Any) -> tf.Variable:
        with _device_of(like):
            return tf.Variable(tf.zeros((size,), dtype=tf.int32), trainable=False)

    def add_counts(self, state: Any, flat: Any, weights: Any = None) -> Any:
        flat = tf.reshape(flat, [-1])
        weights = (
            tf.ones(tf.shape(flat), dtype=state.dtype)
            if weights is None
            else tf.cast(tf.reshape(weights, [-1]), state.dtype)
        )
        # IndexedSlices scatter: ~7x faster on CPU than scatter_nd_add for 256k indices.
        state.scatter_add(tf.IndexedSlices(weights, flat))
        return state

    def add_score_counts(self, state: Any, index: Any, columns: Any, offset: int) -> Any:
        """Adds the cells of the (B, W) `index` and, once more, each row's cell in `columns`
        moved by `offset`."""
        state = self.add_counts(state, index)
        return self.add_counts(state, self.take_rows(index, columns) + offset)

    def reliability_columns(self, correct: Any, confidence: Any) -> tf.Tensor:
        return self.stack_columns([tf.ones_like(confidence), correct, confidence])

    def all_finite(self, x: Any) -> bool:
        return bool(tf.math.is_finite(tf.reduce_sum(x)))

    def top_k_hits(self, outputs: Any, labels: Any, k: int, like: Any) -> tf.Tensor:
        target = tf.gather(outputs, labels, axis=1, batch_dims=1)
        rank = tf.math.count_nonzero(outputs > target[:, None], axis=1, dtype=tf.int32)
        return tf.cast(rank < k, like.dtype)

    def lookup(self, table: Any, index: Any) -> tf.Tensor:
        return tf.gather(tf.constant(table), index)


class TensorFlowGraphOps(TensorFlowOps):
    """TensorFlow ops for use inside `tf.function` and replica contexts: values are never
    read back (checks on values are deferred, as on any accelerator), and the state variables
    are Keras metric variables updated with `assign_add` of a dense per-batch sum, which
    distributed (sync-on-read) variables support."""

    def is_on_host(self, x: Any) -> bool:
        return False

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(x.shape)

    def scatter_add_rows(self, table: Any, rows: Any, values: Any) -> Any:
        table.assign_add(
            tf.math.unsorted_segment_sum(tf.cast(values, table.dtype), rows, table.shape[0])
        )
        return table

    def count_into(self, table: Any, row: int, flags: Sequence[Any]) -> Any:
        indices = [[row, i] for i in range(len(flags))]
        table.assign_add(tf.scatter_nd(indices, self._counts(flags), table.shape))
        return table

    def add_counts(self, state: Any, flat: Any, weights: Any = None) -> Any:
        # A dense sum for assign_add (see the class); bincount makes it ~2.5x faster than
        # unsorted_segment_sum over the score histograms' millions of cells.
        flat = tf.cast(tf.reshape(flat, [-1]), tf.int32)
        if weights is not None:
            weights = tf.cast(tf.reshape(weights, [-1]), state.dtype)
        size = state.shape[0]
        state.assign_add(
            tf.math.bincount(flat, weights, minlength=size, maxlength=size, dtype=state.dtype)
        )
        return state


OPS = TensorFlowOps()
GRAPH_OPS = TensorFlowGraphOps()
