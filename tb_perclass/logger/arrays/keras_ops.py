"""`ArrayOps` written with `keras.ops`, for the Keras metric on the JAX backend.

Inside `fit()` on JAX a batch's outputs are tracers of a jitted, stateless step, and only the
model's metric variables travel through it. These ops never read a value back (checks on values
are deferred, as on an accelerator) and update the metric's Keras variables with a dense
`assign_add(segment_sum(...))`, which JAX's stateless scope records (as do TensorFlow graphs
and torch: the ops run on any Keras backend, and the tests run them on all three). Only the
per-batch path is here; the state is read on the host, in NumPy. (TensorFlow uses its own
graph ops and torch its eager ops on the variables' tensors: fewer and cheaper operations.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops as K


class KerasOps:
    name = "keras"

    def prepare(self, x: Any) -> Any:
        return K.stop_gradient(K.convert_to_tensor(x))

    def device(self, x: Any) -> str:
        return "keras"

    def is_on_host(self, x: Any) -> bool:
        return False  # never read values back inside a training step

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(None if d is None else int(d) for d in x.shape)  # None: unknown in a graph

    def dtype_name(self, x: Any) -> str:
        return keras.backend.standardize_dtype(x.dtype)

    def is_integer(self, x: Any) -> bool:
        return self.dtype_name(x).startswith(("int", "uint"))

    def is_floating(self, x: Any) -> bool:
        return self.dtype_name(x).startswith(("float", "bfloat"))

    def is_bool(self, x: Any) -> bool:
        return self.dtype_name(x) == "bool"

    def to_index(self, x: Any) -> Any:
        return K.cast(x, "int32")

    def argmax_rows(self, x: Any) -> Any:
        if self.is_floating(x):
            # NumPy's rule in every backend: the first NaN of a row wins, else the first maximum.
            # NaN -> +inf and +inf -> the largest finite value, then the first maximum.
            big = K.cast(3.0e38 if self.dtype_name(x) == "float32" else 6.0e4, x.dtype)
            x = K.where(K.isinf(x) & (x > 0), big, x)
            x = K.where(K.isnan(x), K.cast(float("inf"), x.dtype), x)
        return K.cast(K.argmax(x, axis=1), "int32")

    def log_softmax_rows(self, x: Any) -> Any:
        return K.log_softmax(x, axis=1)

    def softmax_cross_entropy(self, logits: Any, labels: Any) -> Any:
        return K.sparse_categorical_crossentropy(labels, logits, from_logits=True)

    def log(self, x: Any) -> Any:
        return K.log(x)

    def clip(self, x: Any, low: float, high: float) -> Any:
        return K.clip(x, low, high)

    def sum_rows(self, x: Any, keepdims: bool = False) -> Any:
        return K.sum(x, axis=1, keepdims=keepdims)

    def ones_like(self, x: Any) -> Any:
        return K.ones_like(x, dtype="float32")

    def cast_like(self, x: Any, like: Any) -> Any:
        return K.cast(x, like.dtype)

    def take_rows(self, x: Any, index: Any) -> Any:
        return K.squeeze(K.take_along_axis(x, K.expand_dims(index, 1), axis=1), 1)

    def finite_or_zero(self, x: Any) -> Any:
        return K.where(K.isfinite(x), x, K.zeros_like(x))

    def equal(self, x: Any, y: Any) -> Any:
        return K.equal(x, y)

    def stack_columns(self, columns: Sequence[Any]) -> Any:
        return K.stack([K.cast(c, "float32") for c in columns], axis=1)

    def stats_columns(self, losses: Any, correct: Any, decided_by: Any) -> tuple[Any, Any]:
        finite = K.isfinite(decided_by)
        finite_loss = K.isfinite(losses)
        finite_outputs = K.cast(finite, "float32")
        block = self.stack_columns(
            [
                K.where(finite_loss, losses, K.zeros_like(losses)),
                K.ones_like(losses),
                K.logical_and(correct, finite),
                K.logical_not(finite_loss),
                finite_outputs,
            ]
        )
        return block, finite_outputs

    def count_into(self, table: Any, row: int, flags: Sequence[Any]) -> Any:
        """Adds the sums of `flags` (bools, or 0/1 weights) to the first columns of `row`."""
        counts = K.stack([K.sum(K.cast(flag, table.dtype)) for flag in flags])
        indices = K.convert_to_tensor([[row, column] for column in range(len(flags))], "int32")
        table.assign_add(K.scatter(indices, counts, tuple(table.shape)))
        return table

    def is_finite(self, x: Any) -> Any:
        return K.isfinite(x)

    def min_rows(self, x: Any) -> Any:
        return K.min(x, axis=1)

    def combine_index(self, major: Any, minor: Any, width: int) -> Any:
        return K.cast(major, "int32") * width + K.cast(minor, "int32")

    def scatter_add_rows(self, table: Any, rows: Any, values: Any) -> Any:
        """Adds the values into their rows of `table`, a Keras variable, with one dense
        `assign_add` (what sync-on-read distributed variables and JAX's stateless steps take)."""
        count = int(table.shape[0])
        values = K.cast(values, table.dtype)
        table.assign_add(K.segment_sum(values, K.cast(rows, "int32"), num_segments=count))
        return table

    def reshape(self, x: Any, shape: tuple[int, ...]) -> Any:
        return K.reshape(x, shape)

    def where(self, condition: Any, x: Any, y: Any) -> Any:
        x = K.convert_to_tensor(x)
        return K.where(condition, x, K.cast(y, x.dtype))

    def logical_or(self, x: Any, y: Any) -> Any:
        return K.logical_or(x, y)

    def logical_and(self, x: Any, y: Any) -> Any:
        return K.logical_and(x, y)

    def logical_not(self, x: Any) -> Any:
        return K.logical_not(x)

    def less(self, x: Any, y: Any) -> Any:
        return K.less(x, K.cast(y, x.dtype))

    def greater(self, x: Any, y: Any) -> Any:
        return K.greater(x, K.cast(y, x.dtype))

    def to_float(self, x: Any) -> Any:
        return K.cast(x, "float32")

    def constant(self, values: tuple[float, ...], like: Any) -> Any:
        return K.convert_to_tensor(values, dtype=like.dtype)

    def tiled_range(self, length: int, repeats: int | None, like: Any) -> Any:
        if repeats is None:  # unknown batch size while tracing
            repeats = K.shape(like)[0]
        return K.tile(K.arange(length, dtype="int32"), [repeats])

    def sigmoid_cross_entropy(self, logits: Any, targets: Any) -> Any:
        return K.binary_crossentropy(K.cast(targets, logits.dtype), logits, from_logits=True)

    def max_rows(self, x: Any) -> tuple[Any, Any]:
        index = self.argmax_rows(x)
        return self.take_rows(x, index), index

    def logsumexp_rows(self, x: Any) -> Any:
        return K.logsumexp(x, axis=1)

    def exp(self, x: Any) -> Any:
        return K.exp(x)

    def sigmoid(self, x: Any) -> Any:
        return K.sigmoid(x)

    def maximum(self, x: Any, y: Any) -> Any:
        return K.maximum(x, K.cast(y, x.dtype))

    def log1p(self, x: Any) -> Any:
        return K.log1p(x)

    def abs(self, x: Any) -> Any:
        return K.abs(x)

    def mean_rows(self, x: Any) -> Any:
        return K.mean(x, axis=1)

    def bucketize(self, x: Any, edges: tuple[float, ...], like: Any) -> Any:
        boundaries = self.constant(edges, like=x)
        return K.cast(K.searchsorted(boundaries, x, side="right"), "int32")


OPS = KerasOps()
