"""The per-sample state for eager TensorFlow tensors (see `state`): `tf.Variable`s beside the
data, updated in place by scatter_nd_add / scatter_nd_update of B rows, never by a dense O(N)
update. Variables scatter along their first axis, so these tables are row-major ([N + 2, 6],
[N + 2, 3]) and `host_tables` transposes them to the common layout."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import tensorflow as tf

from tb_perclass.logger.dynamics.state import (
    LAST_COLUMNS,
    LAST_CORRECT,
    SUM_COLUMNS,
    SUM_MARGIN,
    VISITS,
    DynamicsState,
)


class TensorFlowBackend:
    def new_state(self, size: int, like: Any) -> DynamicsState:
        """Beside `like`; with None (the Keras callback, before any batch), where TensorFlow
        places variables by default (an accelerator when there is one)."""
        device = getattr(like, "device", "")
        with tf.device(device) if device else contextlib.nullcontext():

            def zeros(shape: tuple[int, ...], dtype: tf.DType) -> tf.Variable:
                return tf.Variable(tf.zeros(shape, dtype=dtype), trainable=False)

            return DynamicsState(
                size,
                zeros((size + 2, SUM_COLUMNS), tf.float32),
                zeros((size + 2, LAST_COLUMNS), tf.int64),
                zeros((1,), tf.float32),
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
        binary: bool,
        route_ids: bool,
    ) -> None:
        ids, labels = tf.cast(ids, tf.int64), tf.cast(labels, tf.int64)
        scores = tf.cast(outputs, tf.float32)
        if binary:
            scores = tf.reshape(scores, (-1,))
            positive = tf.sigmoid(scores) if from_logits else scores
            index = tf.minimum(labels, 1)
            given = tf.where(index == 1, positive, 1.0 - positive)
            margin = 2.0 * given - 1.0
            preferred = 1 - index
        else:
            probs = tf.nn.softmax(scores, axis=1) if from_logits else scores
            index = tf.minimum(labels, num_classes - 1)
            given = tf.gather(probs, index, axis=1, batch_dims=1)
            own = tf.one_hot(index, num_classes, on_value=True, off_value=False)
            others = tf.where(own, -1.0, probs)
            margin = given - tf.reduce_max(others, axis=1)
            preferred = tf.argmax(others, axis=1)
        rows = tf.where((labels < num_classes) & (margin == margin), ids, state.skipped_row)
        if route_ids:
            rows = tf.where((ids >= 0) & (ids < state.size), rows, state.invalid_row)
        correct = tf.cast(correct, tf.int64)
        previous = tf.gather(state.last, rows)[:, LAST_CORRECT]
        block = tf.stack(
            [
                tf.ones_like(given),
                given,
                given * given,
                margin,
                tf.cast(correct, tf.float32),
                tf.cast(previous > correct, tf.float32),
            ],
            axis=1,
        )
        index_rows = tf.expand_dims(rows, 1)
        state.sums.scatter_nd_add(index_rows, block)
        state.last.scatter_nd_update(index_rows, tf.stack([index, preferred, correct], axis=1))
        ordered = tf.sort(ids)
        repeated = tf.reduce_sum(tf.cast(ordered[1:] == ordered[:-1], tf.float32))
        state.repeated.assign_add(tf.reshape(repeated, (1,)))

    def host_tables(self, state: DynamicsState) -> tuple[np.ndarray, np.ndarray, float]:
        return (
            state.sums.numpy().T.copy(),
            state.last.numpy().T.copy(),
            float(state.repeated.numpy()[0]),
        )

    def running_margins(self, state: DynamicsState, ids: Any) -> np.ndarray:
        picked = tf.gather(state.sums, tf.clip_by_value(tf.cast(ids, tf.int64), 0, state.size - 1))
        return (picked[:, SUM_MARGIN] / tf.maximum(picked[:, VISITS], 1.0)).numpy()


BACKEND = TensorFlowBackend()
