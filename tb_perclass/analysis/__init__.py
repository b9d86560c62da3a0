"""tb-perclass data outside TensorBoard: load a logdir (`loading`), tidy tables of it (`tables`),
pandas frames (`frames`, the only pandas user), per-class comparison with intervals (`compare`,
`intervals`), and the outputs of the `tb-perclass` command (`output`, `export`).

`read_logdir` is imported lazily: this package imports no pandas until it is called.
"""

from __future__ import annotations

from typing import Any

__all__ = ["read_logdir"]


def __getattr__(attribute: str) -> Any:
    if attribute == "read_logdir":
        from tb_perclass.analysis.frames import read_logdir

        return read_logdir
    raise AttributeError(f"module 'tb_perclass.analysis' has no attribute {attribute!r}")
