"""The plugin's cache is bounded by the bytes it holds, shares concurrent loads, and never keeps
a value larger than its budget."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tb_perclass.plugin.byte_cache import ByteBudgetCache, release_free_memory


def array_of(size: int) -> np.ndarray:
    return np.zeros(size, dtype=np.uint8)


def test_total_bytes_never_exceed_the_budget_and_lru_goes_first():
    cache = ByteBudgetCache(max_bytes=1000)
    for key in "abc":
        cache.get(key, 1, lambda: array_of(400))
    assert cache.nbytes == 800 and len(cache) == 2  # "a" went to make room for "c"
    assert cache.peek("a", 1) is None
    cache.get("b", 1, lambda: pytest.fail("b is cached"))  # a use: "c" is now least recent
    cache.get("d", 1, lambda: array_of(300))
    assert cache.peek("c", 1) is None and cache.peek("b", 1) is not None
    assert cache.nbytes == 700 <= cache.max_bytes
    assert cache.stats.evictions == 2


def test_a_value_larger_than_the_budget_is_returned_but_not_kept():
    cache = ByteBudgetCache(max_bytes=1000)
    cache.get("small", 1, lambda: array_of(500))
    big = cache.get("big", 1, lambda: array_of(5000))
    assert big.nbytes == 5000
    assert cache.peek("big", 1) is None and cache.peek("small", 1) is not None
    assert cache.nbytes == 500 and cache.stats.refused == 1


def test_a_new_version_replaces_the_old_value_and_its_bytes():
    cache = ByteBudgetCache(max_bytes=10_000)
    cache.get("run", (10, 1.0), lambda: array_of(4000))
    fresh = cache.get("run", (11, 2.0), lambda: array_of(6000))
    assert fresh.nbytes == 6000 and cache.nbytes == 6000 and len(cache) == 1
    assert cache.peek("run", (10, 1.0)) is None


def test_concurrent_requests_share_one_load():
    cache = ByteBudgetCache(max_bytes=10_000)
    calls = []
    start = threading.Barrier(4)

    def load():
        calls.append(1)
        time.sleep(0.2)  # long enough for every thread to arrive while it runs
        return array_of(100)

    results = []

    def request():
        start.wait()
        results.append(cache.get("run", 1, load))

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert all(r is results[0] for r in results)


def test_a_failed_load_reaches_every_waiter_and_is_not_cached():
    cache = ByteBudgetCache(max_bytes=10_000)

    def fail():
        raise ValueError("bad step")

    with pytest.raises(ValueError, match="bad step"):
        cache.get("run", 1, fail)
    assert cache.get("run", 1, lambda: array_of(10)).nbytes == 10


def test_values_must_report_their_size():
    cache = ByteBudgetCache(max_bytes=100)
    with pytest.raises(TypeError, match="nbytes"):
        cache.get("x", 1, lambda: object())


def test_release_free_memory_runs():
    assert release_free_memory() in (True, False)
