"""The per-sample state for NumPy arrays (see `state`): the reference the other backends are
tested against, with the same layout and results."""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_perclass.logger.dynamics.state import (
    LAST_COLUMNS,
    LAST_CORRECT,
    SUM_COLUMNS,
    SUM_MARGIN,
    VISITS,
    DynamicsState,
)


class NumpyBackend:
    def new_state(self, size: int, like: Any) -> DynamicsState:
        return DynamicsState(
            size,
            np.zeros((SUM_COLUMNS, size + 2), dtype=np.float32),
            np.zeros((LAST_COLUMNS, size + 2), dtype=np.int64),
            np.zeros(1, dtype=np.float32),
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
        ids, labels = np.asarray(ids, dtype=np.int64), np.asarray(labels, dtype=np.int64)
        correct = np.asarray(correct, dtype=bool)
        scores = np.asarray(outputs, dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            if binary:
                scores = scores.reshape(-1)
                positive = 1.0 / (1.0 + np.exp(-scores)) if from_logits else scores
                index = np.minimum(labels, 1)
                given = np.where(index == 1, positive, 1.0 - positive)
                margin = 2.0 * given - 1.0
                preferred = 1 - index
            else:
                if from_logits:
                    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
                    probs = shifted / shifted.sum(axis=1, keepdims=True)
                else:
                    probs = scores.copy()
                index = np.minimum(labels, num_classes - 1)
                given = np.take_along_axis(probs, index[:, None], axis=1)[:, 0]
                np.put_along_axis(probs, index[:, None], -1.0, axis=1)
                preferred = probs.argmax(axis=1)
                margin = given - probs[np.arange(len(scores)), preferred]
        rows = np.where((labels < num_classes) & (margin == margin), ids, state.skipped_row)
        if route_ids:
            rows = np.where((ids >= 0) & (ids < state.size), rows, state.invalid_row)
        previous = state.last[LAST_CORRECT, rows]
        block = np.stack(
            [np.ones_like(given), given, given * given, margin, correct, previous > correct]
        ).astype(np.float32)
        np.add.at(state.sums.T, rows, block.T)
        state.last[:, rows] = np.stack([index, preferred, correct])
        ordered = np.sort(ids)
        state.repeated += np.count_nonzero(ordered[1:] == ordered[:-1])

    def host_tables(self, state: DynamicsState) -> tuple[np.ndarray, np.ndarray, float]:
        return state.sums.copy(), state.last.copy(), float(state.repeated[0])

    def running_margins(self, state: DynamicsState, ids: Any) -> np.ndarray:
        picked = state.sums[:, np.clip(np.asarray(ids), 0, state.size - 1)]
        return picked[SUM_MARGIN] / np.maximum(picked[VISITS], 1)


BACKEND = NumpyBackend()
