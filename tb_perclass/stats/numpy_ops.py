"""`ArrayOps` for NumPy arrays: the reference implementation the other libraries are tested against."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


class NumpyOps:
    name = "numpy"

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

    def to_float64(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    def to_index(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.int64)

    def argmax_rows(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if np.issubdtype(x.dtype, np.floating):
            # NaN must never win the argmax; every library agrees on that only if we say so.
            x = np.where(np.isnan(x), -np.inf, x)
        return np.argmax(x, axis=1)

    def log_softmax_rows(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        shifted = x - np.max(x, axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))

    def log(self, x: Any) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def clip(self, x: Any, low: float, high: float) -> np.ndarray:
        return np.clip(x, low, high)

    def sum_rows(self, x: Any, keepdims: bool = False) -> np.ndarray:
        return np.sum(x, axis=1, keepdims=keepdims)

    def take_rows(self, x: Any, index: Any) -> np.ndarray:
        return np.take_along_axis(np.asarray(x), np.asarray(index)[:, None], axis=1)[:, 0]

    def isfinite(self, x: Any) -> np.ndarray:
        return np.isfinite(x)

    def where(self, condition: Any, x: Any, y: Any) -> np.ndarray:
        return np.where(condition, x, y)

    def equal(self, x: Any, y: Any) -> np.ndarray:
        return np.equal(x, y)

    def in_range(self, x: Any, low: int, high: int) -> np.ndarray:
        return (x >= low) & (x < high)

    def stack_columns(self, columns: Sequence[Any]) -> np.ndarray:
        return np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)

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

    def ones_like(self, x: Any) -> np.ndarray:
        return np.ones(np.shape(x), dtype=np.float64)

    def logical_not(self, x: Any) -> np.ndarray:
        return np.logical_not(x)

    def cast_like(self, x: Any, like: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.result_type(np.asarray(like).dtype, np.float32))


OPS = NumpyOps()
