"""The per-sample state for PyTorch tensors (see `state`): every op stays on the tensors' device
and is asynchronous on accelerators; nothing of the state's size is made per batch.

Written for few dispatched ops (each costs microseconds on CPU right after a training step):
column-major tables, so that the batch's (6, B) block is written row by row in place (`out=`)
into a reused buffer and scattered along dim 1 in one op (measured 20% cheaper than stacking
row-major blocks at C = 10).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tb_perclass.logger.dynamics.state import (
    FORGETS,
    LAST_COLUMNS,
    LAST_CORRECT,
    SUM_COLUMNS,
    SUM_MARGIN,
    SUM_P,
    VISITS,
    DynamicsState,
)

# PyTorch's CPU softmax along a short last axis is slow (32 us for 256 x 10, 4.5 us along the
# first axis of the transposed scores); below this many classes the CPU path goes that way
# (measured: 14 vs 41 us for the five ops at C = 10, equal at C = 20, slower above).
SHORT_ROWS = 20


class TorchBackend:
    def __init__(self) -> None:
        self._blocks: dict[tuple, Any] = {}

    def new_state(self, size: int, like: torch.Tensor) -> DynamicsState:
        def zeros(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros(shape, dtype=dtype, device=like.device)

        return DynamicsState(
            size,
            zeros(SUM_COLUMNS, size + 2),
            zeros(LAST_COLUMNS, size + 2, dtype=torch.int64),
            zeros(1),
        )

    def track(
        self,
        state: DynamicsState,
        ids: torch.Tensor,
        outputs: torch.Tensor,
        labels: torch.Tensor,
        correct: torch.Tensor,
        num_classes: int,
        from_logits: bool,
        binary: bool,
        route_ids: bool,
    ) -> None:
        block, given, squared, margin, correct_row, forgot = self._block(ids.shape[0], ids.device)
        values = self._binary if binary else self._multiclass
        index, preferred = values(outputs, labels, num_classes, from_logits, given, margin)
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
        state.last.index_copy_(1, rows, torch.stack([index, preferred, correct]))
        ordered = ids.sort().values
        state.repeated.add_((ordered[1:] == ordered[:-1]).sum())

    def _multiclass(
        self,
        outputs: torch.Tensor,
        labels: torch.Tensor,
        num_classes: int,
        from_logits: bool,
        given: torch.Tensor,
        margin: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """p(given) into `given`, the margin into `margin`; returns the label index and the best
        other label. The given label's probability is overwritten in the softmax's own output,
        whose maximum is then the best other one (measured faster than top-2 plus logsumexp
        from C = 100 on, equal at C = 10)."""
        axis = 0 if outputs.device.type == "cpu" and num_classes < SHORT_ROWS else 1
        scores = outputs.t() if axis == 0 else outputs
        if from_logits:
            probs = torch.softmax(scores, dim=axis, dtype=torch.float32)
        else:
            probs = scores.to(torch.float32, copy=True)  # overwritten below: never the caller's
        index = labels.clamp_max(num_classes - 1)  # rows >= C are routed away by the caller
        torch.gather(probs, axis, index.unsqueeze(axis), out=given.unsqueeze(axis))
        best, preferred = probs.scatter_(axis, index.unsqueeze(axis), -1.0).max(dim=axis)
        torch.sub(given, best, out=margin)
        return index, preferred

    def _binary(
        self,
        outputs: torch.Tensor,
        labels: torch.Tensor,
        num_classes: int,
        from_logits: bool,
        given: torch.Tensor,
        margin: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One score per sample: p(given) is p or 1 - p, the margin 2 p(given) - 1."""
        scores = outputs.reshape(-1)
        positive = torch.sigmoid(scores.float()) if from_logits else scores.float()
        index = labels.clamp_max(1)
        torch.where(index == 1, positive, 1.0 - positive, out=given)
        torch.mul(given, 2.0, out=margin).sub_(1.0)
        return index, 1 - index

    def _block(self, batch: int, device: torch.device) -> tuple[torch.Tensor, ...]:
        # Reused across batches: the scatter that reads it runs before the next batch writes
        # it, in stream order on an accelerator. Row VISITS is ones, filled once.
        key = (batch, device)
        if key not in self._blocks:
            block = torch.empty((SUM_COLUMNS, batch), dtype=torch.float32, device=device)
            block[VISITS] = 1.0
            self._blocks[key] = (block, *block[SUM_P : FORGETS + 1])  # the row views, made once
        return self._blocks[key]

    def host_tables(self, state: DynamicsState) -> tuple[np.ndarray, np.ndarray, float]:
        """The tables on the host and the repeated-id count: a write's one read-back."""

        def host(x: torch.Tensor) -> np.ndarray:
            return x.detach().to("cpu", copy=True).numpy()

        return host(state.sums), host(state.last), float(host(state.repeated)[0])

    def running_margins(self, state: DynamicsState, ids: torch.Tensor) -> np.ndarray:
        """The mean margin so far of some samples, on the host (a read: only where the caller
        already reads back, as when inputs are kept)."""
        picked = state.sums.index_select(1, ids.clamp(0, state.size - 1))
        mean = picked[SUM_MARGIN] / picked[VISITS].clamp_min(1)
        return mean.cpu().numpy()


BACKEND = TorchBackend()
