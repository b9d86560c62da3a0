"""A least-recently-used cache bounded by the bytes of what it holds, not by a count of entries.

The plugin keeps decoded data between requests (a run's curves table, single confusion steps,
the blob index of a tag); their sizes differ by five orders of magnitude, so a count bound says
nothing about memory. Every value reports its size (`nbytes`, as NumPy arrays do); the cache
evicts the least recently used entries until the total is within its budget, and a value larger
than the whole budget is returned to its caller but not kept.

Concurrent requests for the same key share one load (the tab asks for a run's confusion, pairs
and report at once): the first caller loads, the others wait for its result instead of decoding
the same steps again.

After a load or an eviction of many bytes, `release_free_memory` asks the C allocator to give
freed pages back to the operating system: CPython and NumPy allocate through malloc, and glibc
otherwise keeps the freed heap of a large transient (a whole tag read from the data provider)
resident.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import dataclasses
import functools
import threading
from collections.abc import Callable, Hashable
from typing import Any

# Freed blocks of at least this many bytes in total trigger a malloc_trim.
RELEASE_THRESHOLD = 32 * 2**20


def size_of(value: Any) -> int:
    size = getattr(value, "nbytes", None)
    if not isinstance(size, int) or size < 0:
        raise TypeError(f"{type(value).__name__} has no nbytes; cached values report their size")
    return size


@dataclasses.dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    refused: int = 0  # values larger than the whole budget, returned but not kept


class _Loading:
    """One load in flight: waiters block on `done` and then read `value` or `error`."""

    def __init__(self, version: Hashable):
        self.version = version
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class ByteBudgetCache:
    """LRU of (key -> (version, value)) whose values' `nbytes` add up to at most `max_bytes`."""

    def __init__(self, max_bytes: int):
        if max_bytes < 0:
            raise ValueError(f"max_bytes={max_bytes}; a cache budget is a number of bytes >= 0")
        self.max_bytes = int(max_bytes)
        self.stats = CacheStats()
        self._entries: collections.OrderedDict[Hashable, tuple[Hashable, Any, int]] = (
            collections.OrderedDict()
        )
        self._loading: dict[Hashable, _Loading] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes of the values held now (never more than `max_bytes`)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, version: Hashable, load: Callable[[], Any]) -> Any:
        """The value cached under `key` if it was loaded at `version`, else `load()`'s (kept
        if it fits the budget). An exception from `load` reaches every waiting caller."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(key)
                self.stats.hits += 1
                return entry[1]
            loading = self._loading.get(key)
            owner = loading is None or loading.version != version
            if owner:
                loading = _Loading(version)
                self._loading[key] = loading
                self.stats.misses += 1
        if not owner:
            loading.done.wait()
            if loading.error is not None:
                raise loading.error
            return loading.value
        try:
            loading.value = load()
        except BaseException as error:
            loading.error = error
            raise
        finally:
            with self._lock:
                if self._loading.get(key) is loading:
                    del self._loading[key]
            loading.done.set()
        self._put(key, version, loading.value)
        return loading.value

    def peek(self, key: Hashable, version: Hashable) -> Any | None:
        """The value under `key` at `version` if cached (counts as a use), else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, version: Hashable, value: Any) -> None:
        self._put(key, version, value)

    def _put(self, key: Hashable, version: Hashable, value: Any) -> None:
        size = size_of(value)
        freed = 0
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
                freed += old[2]
            if size > self.max_bytes:
                self.stats.refused += 1
            else:
                self._entries[key] = (version, value, size)
                self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, _, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted
                freed += evicted
                self.stats.evictions += 1
        if freed >= RELEASE_THRESHOLD:
            release_free_memory()

    def clear(self) -> None:
        with self._lock:
            freed = self._bytes
            self._entries.clear()
            self._bytes = 0
        if freed >= RELEASE_THRESHOLD:
            release_free_memory()


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim  # glibc only: absent on macOS, musl, Windows
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Returns freed heap pages to the operating system where the C library can (glibc's
    malloc_trim); returns whether it could. Never frees anything still in use."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
