"""Fast JSON for responses made mostly of NumPy arrays, with NaN and infinities as `null`.

`json.dumps` of nested lists is fast, but writes NaN as the non-JSON token `NaN`. Arrays are
therefore serialised on their own, where the only tokens are numbers and replacing `NaN` and
`Infinity` cannot touch user text such as class names.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np


def dumps(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, (float, np.floating)):
        return json.dumps(float(value)) if np.isfinite(value) else "null"
    if isinstance(value, np.integer):
        return str(int(value))
    return json.dumps(value)


def _array(array: np.ndarray) -> str:
    if np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        return json.dumps(array.tolist())
    finite = np.isfinite(array)
    values = array[finite]
    if values.size and np.array_equal(values, np.rint(values)) and np.abs(values).max() < 2**53:
        # Counts held as floats so that NaN can mark a missing step (TP/FP/FN): written as
        # integers, several times faster than floats. NaN becomes `missing`, which has at least
        # as many digits as any count, so its text occurs only where it stands for NaN.
        missing = int(np.abs(values).max()) + 1
        text = json.dumps(np.where(finite, array, missing).astype(np.int64).tolist())
        return text if finite.all() else text.replace(str(missing), "null")
    text = json.dumps(array.astype(np.float64).tolist())
    return text.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null")
