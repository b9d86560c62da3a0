"""`ArrayOps` for PyTorch tensors. Every operation stays on the tensors' device and is
asynchronous on accelerators; only `min_max` and `to_numpy` read values back."""

from __future__ import annotations

from typing import Any, Sequence

import torch

_NEG_INF = float("-inf")


class TorchOps:
    name = "torch"

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

    def to_float64(self, x: torch.Tensor) -> torch.Tensor:
        return x.detach().to(torch.float32 if x.device.type == "mps" else torch.float64)

    def to_index(self, x: torch.Tensor) -> torch.Tensor:
        return x.detach().long()

    def argmax_rows(self, x: torch.Tensor) -> torch.Tensor:
        x = x.detach()
        if x.dtype.is_floating_point:
            # torch.argmax picks NaN as the maximum; NaN must never win.
            x = torch.nan_to_num(x, nan=_NEG_INF, posinf=float("inf"), neginf=_NEG_INF)
        return x.argmax(dim=1)

    def log_softmax_rows(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(x.detach(), dim=1)

    def log(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x.detach())

    def clip(self, x: torch.Tensor, low: float, high: float) -> torch.Tensor:
        return torch.clamp(x.detach(), low, high)

    def sum_rows(self, x: torch.Tensor, keepdims: bool = False) -> torch.Tensor:
        return x.sum(dim=1, keepdim=keepdims)

    def take_rows(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return x.detach().gather(1, index.unsqueeze(1)).squeeze(1)

    def isfinite(self, x: torch.Tensor) -> torch.Tensor:
        return torch.isfinite(x)

    def where(self, condition: torch.Tensor, x: Any, y: Any) -> torch.Tensor:
        return torch.where(condition, x, y)

    def equal(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x == y

    def in_range(self, x: torch.Tensor, low: int, high: int) -> torch.Tensor:
        return (x >= low) & (x < high)

    def stack_columns(self, columns: Sequence[torch.Tensor]) -> torch.Tensor:
        dtype = torch.float32 if columns[0].device.type == "mps" else torch.float64
        return torch.stack([c.detach().to(dtype) for c in columns], dim=1)

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
        return torch.ones_like(x, dtype=torch.float32)

    def logical_not(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logical_not(x)

    def cast_like(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return x.detach().to(like.dtype)


OPS = TorchOps()
