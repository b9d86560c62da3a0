"""Which array library a batch comes from, and the small set of operations the math needs from it.

The per-class math (`batches`, `losses`, `perclass`, `confusion`, `mistakes`) is written once against `ArrayOps`; each
supported library (NumPy, PyTorch, TensorFlow) implements it in its own module, imported only when
a batch of that library arrives, so a PyTorch user never imports TensorFlow and vice versa.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, Sequence

# type(x).__module__ prefix -> module implementing ArrayOps for that library.
_LIBRARIES = {
    "numpy": "tb_perclass.stats.numpy_ops",
    "torch": "tb_perclass.stats.torch_ops",
    "tensorflow": "tb_perclass.stats.tensorflow_ops",
}
_LOADED: dict[str, "ArrayOps"] = {}


class ArrayOps(Protocol):
    """Operations on one library's arrays. `argmax_rows` follows NumPy's rule in every library:
    the first NaN of a row wins, else its first maximum. All of them stay on the arrays' device except
    `to_numpy`, `min_max`, `all_true`, `first_where_false` and `nonzero_entries`, which read
    values back and are only used where
    `is_on_host` says that costs no device synchronisation, or once per write()."""

    name: str

    def prepare(self, x: Any) -> Any: ...
    def device(self, x: Any) -> str: ...
    def is_on_host(self, x: Any) -> bool: ...
    def shape(self, x: Any) -> tuple[int, ...]: ...
    def dtype_name(self, x: Any) -> str: ...
    def is_integer(self, x: Any) -> bool: ...
    def is_floating(self, x: Any) -> bool: ...
    def zeros(self, shape: tuple[int, ...], like: Any) -> Any: ...
    def to_index(self, x: Any) -> Any: ...
    def argmax_rows(self, x: Any) -> Any: ...
    def log_softmax_rows(self, x: Any) -> Any: ...
    def softmax_cross_entropy(self, logits: Any, labels: Any) -> Any: ...
    def log(self, x: Any) -> Any: ...
    def clip(self, x: Any, low: float, high: float) -> Any: ...
    def sum_rows(self, x: Any, keepdims: bool = False) -> Any: ...
    def ones_like(self, x: Any) -> Any: ...
    def cast_like(self, x: Any, like: Any) -> Any: ...
    def take_rows(self, x: Any, index: Any) -> Any: ...
    def finite_or_zero(self, x: Any) -> Any: ...
    def equal(self, x: Any, y: Any) -> Any: ...
    def stack_columns(self, columns: Sequence[Any]) -> Any: ...
    def stats_columns(self, losses: Any, correct: Any) -> Any: ...
    def combine_index(self, major: Any, minor: Any, width: int) -> Any: ...
    def scatter_add_rows(self, table: Any, rows: Any, values: Any) -> Any: ...
    def reset(self, table: Any) -> Any: ...
    def is_bool(self, x: Any) -> bool: ...
    def reshape(self, x: Any, shape: tuple[int, ...]) -> Any: ...
    def where(self, condition: Any, x: Any, y: Any) -> Any: ...
    def logical_or(self, x: Any, y: Any) -> Any: ...
    def logical_and(self, x: Any, y: Any) -> Any: ...
    def logical_not(self, x: Any) -> Any: ...
    def less(self, x: Any, y: Any) -> Any: ...
    def greater(self, x: Any, y: Any) -> Any: ...
    def to_float(self, x: Any) -> Any: ...
    def constant(self, values: tuple[float, ...], like: Any) -> Any: ...
    def tiled_range(self, length: int, repeats: int, like: Any) -> Any: ...
    def sigmoid_cross_entropy(self, logits: Any, targets: Any) -> Any: ...
    def max_rows(self, x: Any) -> tuple[Any, Any]: ...
    def logsumexp_rows(self, x: Any) -> Any: ...
    def exp(self, x: Any) -> Any: ...
    def sigmoid(self, x: Any) -> Any: ...
    def top_k(self, x: Any, k: int) -> tuple[Any, Any]: ...
    def gather(self, x: Any, index: Any) -> Any: ...
    def maximum(self, x: Any, y: Any) -> Any: ...
    def log1p(self, x: Any) -> Any: ...
    def abs(self, x: Any) -> Any: ...
    def mean_rows(self, x: Any) -> Any: ...
    def bucketize(self, x: Any, edges: tuple[float, ...], like: Any) -> Any: ...
    def min_max(self, x: Any) -> tuple[int, int]: ...
    def all_true(self, x: Any) -> bool: ...
    def first_where_false(self, mask: Any, values: Any) -> Any: ...
    def nonzero_entries(self, flat: Any) -> tuple[Any, Any]: ...
    def fetch_rows(self, x: Any, rows: Any) -> Any: ...
    def fetch_images(self, x: Any, rows: Any, layout: str, factor: int) -> Any: ...
    def to_numpy(self, x: Any) -> Any: ...


_LIBRARY_OF_TYPE: dict[type, str | None] = {}


def library_of(x: Any) -> str | None:
    """'numpy', 'torch' or 'tensorflow' for an array of that library, None otherwise.

    Looks only at the type's module so that no framework is imported to answer.
    """
    kind = type(x)
    if kind not in _LIBRARY_OF_TYPE:
        root = kind.__module__.partition(".")[0]
        _LIBRARY_OF_TYPE[kind] = root if root in _LIBRARIES else None
    return _LIBRARY_OF_TYPE[kind]


def ops_for_library(library: str) -> ArrayOps:
    if library not in _LOADED:
        _LOADED[library] = importlib.import_module(_LIBRARIES[library]).OPS
    return _LOADED[library]


def as_batch(outputs: Any, targets: Any, losses: Any = None) -> tuple[ArrayOps, str, Any, Any, Any]:
    """Checks that the arrays of one `update()` come from one library and sit on one device.

    Returns the library's ops, the device and the arrays prepared for the math (detached from
    autograd). Python lists and tuples are taken as NumPy arrays when the others are NumPy.
    """
    library = library_of(outputs)
    if (
        library is None
        or library_of(targets) != library
        or (losses is not None and library_of(losses) != library)
    ):
        return _as_batch_mixed(outputs, targets, losses)
    ops = _LOADED.get(library) or ops_for_library(library)
    device = ops.device(outputs)
    if ops.device(targets) != device or (losses is not None and ops.device(losses) != device):
        _raise_devices(ops, {"outputs": outputs, "targets": targets, "losses": losses})
    return (
        ops,
        device,
        ops.prepare(outputs),
        ops.prepare(targets),
        None if losses is None else ops.prepare(losses),
    )


def _as_batch_mixed(outputs: Any, targets: Any, losses: Any) -> tuple[ArrayOps, str, Any, Any, Any]:
    """The uncommon cases: Python sequences next to NumPy arrays, or arrays that do not fit."""
    named = {"outputs": outputs, "targets": targets, "losses": losses}
    libraries = {arg: library_of(value) for arg, value in named.items() if value is not None}
    found = {lib for lib in libraries.values() if lib is not None}
    if len(found) > 1:
        described = ", ".join(f"{arg} is {_describe_type(named[arg])}" for arg in libraries)
        raise TypeError(
            f"update() got arrays from different libraries ({described}); pass all arrays "
            "from the framework that produced the outputs, e.g. torch.as_tensor(targets, "
            "device=outputs.device)"
        )
    library = found.pop() if found else "numpy"
    for arg, value in named.items():
        if value is not None and libraries[arg] is None:
            if library != "numpy" or not isinstance(value, (list, tuple)):
                raise TypeError(
                    f"{arg} is {_describe_type(value)}; pass a NumPy array, a torch.Tensor or a "
                    "tf.Tensor (all from the same framework)"
                )
            import numpy as np

            named[arg] = np.asarray(value)
    return as_batch(named["outputs"], named["targets"], named["losses"])


def _raise_devices(ops: ArrayOps, named: dict[str, Any]) -> None:
    described = ", ".join(
        f"{arg} on {ops.device(value)}" for arg, value in named.items() if value is not None
    )
    raise ValueError(
        f"update() got arrays on different devices ({described}); move them to one device "
        "first, e.g. targets.to(outputs.device)"
    )


def fetch_rows(values: Any, rows: Any) -> Any:
    """`values[rows]` on the host, for a few rows of an array of any supported library (or a
    Python sequence): the only device-to-host copy of inputs and sample ids."""
    if isinstance(values, (list, tuple)):
        return [values[int(i)] for i in rows]
    library = library_of(values)
    if library is None:
        raise TypeError(f"cannot take rows of {_describe_type(values)}")
    return ops_for_library(library).fetch_rows(values, rows)


def _describe_type(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"
