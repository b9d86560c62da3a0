"""`ArrayOps` for TensorFlow tensors (eager). State tables are `tf.Variable`s placed on the data's
device and updated in place, so a step's accumulation never copies the table."""

from __future__ import annotations

from typing import Any, Sequence

import tensorflow as tf


class TensorFlowOps:
    name = "tensorflow"

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
        with tf.device(like.device or "/device:CPU:0"):
            return tf.Variable(tf.zeros(shape, dtype=tf.float64), trainable=False)

    def to_float64(self, x: Any) -> tf.Tensor:
        return tf.cast(tf.stop_gradient(x), tf.float64)

    def to_index(self, x: Any) -> tf.Tensor:
        return tf.cast(x, tf.int64)

    def argmax_rows(self, x: Any) -> tf.Tensor:
        # tf.math.argmax already never picks NaN (unlike NumPy and torch), as the contract wants.
        return tf.math.argmax(tf.stop_gradient(x), axis=1, output_type=tf.int64)

    def log_softmax_rows(self, x: Any) -> tf.Tensor:
        return tf.nn.log_softmax(tf.stop_gradient(x), axis=1)

    def log(self, x: Any) -> tf.Tensor:
        return tf.math.log(tf.stop_gradient(x))

    def clip(self, x: Any, low: float, high: float) -> tf.Tensor:
        return tf.clip_by_value(tf.stop_gradient(x), low, high)

    def sum_rows(self, x: Any, keepdims: bool = False) -> tf.Tensor:
        return tf.reduce_sum(x, axis=1, keepdims=keepdims)

    def take_rows(self, x: Any, index: Any) -> tf.Tensor:
        return tf.gather(tf.stop_gradient(x), index, axis=1, batch_dims=1)

    def isfinite(self, x: Any) -> tf.Tensor:
        return tf.math.is_finite(x)

    def where(self, condition: Any, x: Any, y: Any) -> tf.Tensor:
        if not tf.is_tensor(y):
            y = tf.cast(y, tf.convert_to_tensor(x).dtype)
        return tf.where(condition, x, y)

    def equal(self, x: Any, y: Any) -> tf.Tensor:
        return tf.equal(x, y)

    def in_range(self, x: Any, low: int, high: int) -> tf.Tensor:
        return tf.logical_and(x >= low, x < high)

    def stack_columns(self, columns: Sequence[Any]) -> tf.Tensor:
        return tf.stack([tf.cast(tf.stop_gradient(c), tf.float64) for c in columns], axis=1)

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

    def ones_like(self, x: Any) -> tf.Tensor:
        return tf.ones_like(x, dtype=tf.float32)

    def logical_not(self, x: Any) -> tf.Tensor:
        return tf.logical_not(x)

    def cast_like(self, x: Any, like: Any) -> tf.Tensor:
        return tf.cast(tf.stop_gradient(x), like.dtype)


OPS = TensorFlowOps()
