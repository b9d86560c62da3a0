"""One live `PerClassWriter` per (destination, name) in a process.

Two writers on one destination with one name write the same tags, and TensorBoard shows one
value per tag and step: half the data would silently vanish (e.g. train and validation writers
on one SummaryWriter, both with the default name). So a second writer is refused when it is
made, with what to do. A writer's claim ends when it is closed or garbage-collected.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from typing import Any

from tb_perclass.logger.sinks import Destination

# tb_perclass/, whose frames are skipped when naming where a writer was made.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# Reentrant: a writer collected while a claim is made runs `_forget` in the same thread.
_lock = threading.RLock()
# (destination key, name) -> (the writer, where it was created)
_claims: dict[tuple, tuple[weakref.ref, str]] = {}


def claim(destination: Destination, name: str, owner: Any) -> None:
    """Registers `owner` as the writer of `name` at `destination`; ValueError if a live writer
    already is."""
    key = (destination.key, name)
    created_at = _caller()
    with _lock:
        held = _claims.get(key)
        other = held[0]() if held else None
        if other is not None and other is not owner:
            raise ValueError(
                f"another PerClassWriter, created at {held[1]}, already writes name={name!r} to "
                f"{destination.description}; a second one would write the same tags and "
                "TensorBoard would show only one of them. Give each writer its own name (e.g. "
                "name='train' and name='validation': the Per-Class tab shows them as separate "
                "series) or its own directory or SummaryWriter, or close() the first writer "
                "before making a new one"
            )
        _claims[key] = (weakref.ref(owner, lambda _, key=key: _forget(key)), created_at)


def release(destination: Destination, name: str, owner: Any) -> None:
    with _lock:
        held = _claims.get((destination.key, name))
        if held is not None and held[0]() is owner:
            del _claims[(destination.key, name)]


def _forget(key: tuple) -> None:
    # Called when a writer is garbage-collected, possibly after a new writer took its place.
    with _lock:
        held = _claims.get(key)
        if held is not None and held[0]() is None:
            del _claims[key]


def _caller() -> str:
    """file:line of the first frame outside this package (where the user made the writer)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "an unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"
