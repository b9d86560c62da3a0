"""tb-perclass: per-class learning curves, confusion matrices and misclassified samples for
TensorBoard.

The package follows the data: `format` (the data contract: metadata, summaries, metrics from
counts), `logger` (writing: `PerClassWriter` and its parts), the integrations at their public
paths (`keras`, `lightning`), and `plugin` (TensorBoard's side: routes over the data provider).

The public API is re-exported lazily: TensorBoard imports `tb_perclass.plugin.loader` at start-up
through its entry point, and that import must not pull in NumPy, torch or TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "PerClassWriter": "tb_perclass.logger.writer",
    "PerClassStats": "tb_perclass.logger.state",
    "read_logdir": "tb_perclass.analysis.frames",
}

__all__ = ["PerClassWriter", "PerClassStats", "read_logdir", "__version__"]


def __getattr__(attribute: str) -> Any:
    if attribute in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[attribute]), attribute)
    raise AttributeError(f"module 'tb_perclass' has no attribute {attribute!r}")
