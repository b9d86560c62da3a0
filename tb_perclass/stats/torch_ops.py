"""`ArrayOps` for PyTorch tensors. Every operation stays on the tensors' device and is
asynchronous on accelerators; only `min_max` and `to_numpy` read values back.

Written for few dispatched operations: right after a training step each small op costs several
microseconds on CPU (cold caches), so `update()`'s cost is mostly its op count.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

class TorchOps:
    name = "torch"

    def __init__(self) -> None:
        self._ones: dict[tuple[int, torch.device], torch.Tensor] = {}

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.detach()  # the statistics must never enter the autograd graph

    def device(self, x: torch.Tensor) -> str:
        return str(x.device)

    def is_on_host(self, x: torch.Tensor) -> bool:
        return x.device.type == "cpu"

    def shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return tuple(x.shape)

    def dtype_name(self, x: torch.Tensor) -> str:
        return str(x.dtype).removeprefix("torch.")

    def is_integer(self, x: torch.Tensor) -> bool:
        return not x.dtype.is_floating_point and not x.dtype.is_complex and x.dtype != torch.bool

    def is_floating(self, x: torch.Tensor) -> bool:
        return x.dtype.is_floating_point

    def zeros(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        # MPS has no float64; counts stay exact in float32 up to 2**24 per class and step.
        dtype = torch.float32 if like.device.type == "mps" else torch.float64
        return torch.zeros(shape, dtype=dtype, device=like.device)

    def to_index(self, x: torch.Tensor) -> torch.Tensor:
        return x.long()

    def argmax_rows(self, x: torch.Tensor) -> torch.Tensor:
        # max(dim).indices follows argmax's rule (a NaN wins, else the first maximum) and is
        # ~3x faster than argmax on CPU for wide rows.
        return x.max(dim=1).indices

    def log_softmax_rows(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(x, dim=1)

    def softmax_cross_entropy(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits, labels, reduction="none")

    def log(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x)

    def clip(self, x: torch.Tensor, low: float, high: float) -> torch.Tensor:
        return torch.clamp(x, low, high)

    def sum_rows(self, x: torch.Tensor, keepdims: bool = False) -> torch.Tensor:
        return x.sum(dim=1, keepdim=keepdims)

    def take_rows(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return x.gather(1, index.unsqueeze(1)).squeeze(1)

    def not_equal(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x != y

    def finite_or_zero(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


    def equal(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x == y


    def stack_columns(self, columns: Sequence[torch.Tensor]) -> torch.Tensor:
        # stack promotes bool columns itself; one cast to the table's dtype follows.
        dtype = torch.float32 if columns[0].device.type == "mps" else torch.float64
        return torch.stack(columns, dim=1).to(dtype)

    def scatter_add_rows(
        self, table: torch.Tensor, rows: torch.Tensor, values: torch.Tensor
    ) -> torch.Tensor:
        return table.index_add_(0, rows, values)

    def reset(self, table: torch.Tensor) -> torch.Tensor:
        return table.zero_()

    def min_max(self, x: torch.Tensor) -> tuple[int, int]:
        low, high = torch.aminmax(x)
        return int(low), int(high)

    def to_numpy(self, x: torch.Tensor) -> Any:
        # copy=True: on CPU, .cpu() would alias the state table that write() resets next.
        return x.detach().to("cpu", copy=True).numpy()

    def ones_like(self, x: torch.Tensor) -> torch.Tensor:
        # Read-only and reused: batches of one size on one device need one allocation.
        key = (x.shape[0], x.device)
        ones = self._ones.get(key)
        if ones is None:
            ones = self._ones[key] = torch.ones(x.shape[0], device=x.device)
        return ones

    def cast_like(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return x.to(like.dtype)


OPS = TorchOps()
