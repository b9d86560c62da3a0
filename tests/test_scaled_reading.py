"""The compact decoded forms the plugin keeps: a stats table of every step, single confusion
steps, the sampled history of the most-confused pairs; their sizes per step are bounded."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from tb_perclass import metadata, packed_arrays, sparse_counts
from tb_perclass.plugin.byte_cache import ByteBudgetCache
from tb_perclass.plugin.confusion_steps import (
    ConfusionSteps,
    Counts,
    LegacySteps,
    history_positions,
    legacy_step_bytes,
)
from tb_perclass.plugin.stats_table import StatsTable

Datum = collections.namedtuple("Datum", "step wall_time numpy")


def meta(classes: int, kind: str = "stats", **extra) -> metadata.PerClassMetadata:
    return metadata.PerClassMetadata(
        version=3, kind=kind, task="multiclass", class_names=tuple(map(str, range(classes))),
        loss="cross_entropy", extra=extra,
    )  # fmt: skip


def packed_step(classes: int, rng, true_false: bool = True) -> np.ndarray:
    arrays = {
        "loss": rng.exponential(1.0, classes).astype(np.float32),
        "count": np.full(classes, 50, dtype=np.uint8),
        "correct": rng.integers(0, 51, classes).astype(np.uint8),
        "nonfinite": np.zeros(classes, dtype=np.uint8),
        "nonfinite_outputs": np.zeros(classes, dtype=np.uint8),
        "elements": np.array([3, 0], dtype=np.uint8),
    }
    if true_false:
        arrays.update(tp=arrays["correct"], fp=rng.integers(0, 300, classes).astype(np.uint16),
                      fn=(50 - arrays["correct"]).astype(np.uint8))  # fmt: skip
    return np.array(packed_arrays.pack(arrays), dtype=object)


def test_a_table_of_packed_steps_holds_about_the_curves_answer():
    rng = np.random.default_rng(0)
    classes, steps = 200, 300
    data = [Datum(10 * s, 1e9 + s, packed_step(classes, rng)) for s in range(steps)]
    table = StatsTable.decode(meta(classes), data)
    assert table.steps.tolist() == [10 * s for s in range(steps)] and table.skipped == 0
    assert table.has_true_false
    assert table.loss.dtype == np.float32
    assert table.counts["count"].dtype == np.uint8 and table.counts["fp"].dtype == np.uint16
    # zero at every step: not held
    assert "nonfinite" not in table.counts and "nonfinite_outputs" not in table.counts
    assert table.invalid_targets.tolist() == [3] * steps
    # float32 loss + 1 byte x 4 count arrays + 2 bytes for fp, per class and step
    per_cell = (table.nbytes - steps * 8 * 4) / (steps * classes)
    assert per_cell <= 4 + 4 + 2


def test_versions_mix_and_malformed_steps_are_skipped():
    rng = np.random.default_rng(1)
    classes = 5
    v2 = np.zeros(metadata.stats_shape(classes))
    v2[1, :classes] = 7
    v2[1, classes:] = [1, 2]
    v1 = np.zeros((4, classes))
    v1[2] = 3
    bad_counts = v2.copy()
    bad_counts[1, 0] = np.nan
    data = [
        Datum(0, 0.0, v1),
        Datum(1, 1.0, v2),
        Datum(2, 2.0, packed_step(classes, rng)),
        Datum(3, 3.0, np.array(b"PCA1garbage", dtype=object)),
        Datum(4, 4.0, np.zeros((3, 3))),
        Datum(5, 5.0, bad_counts),
    ]
    table = StatsTable.decode(meta(classes), data)
    assert table.steps.tolist() == [0, 1, 2]
    assert table.skipped == 3
    assert not table.has_true_false  # versions 1 and 2 have no tp/fp/fn
    assert table.count("count")[1].tolist() == [7] * classes
    assert table.count("correct")[0].tolist() == [3] * classes
    assert table.ignored.tolist() == [0, 2, 0]


def test_legacy_confusion_steps_become_sparse_bytes():
    classes = 70
    coo = meta(classes, "confusion", encoding=metadata.ENCODING_COO)
    triplets = np.array([[0, 0, 5], [3, 1, 2], [3, 1, 1], [69, 2, 4]])
    cells, counts, width = sparse_counts.decode(legacy_step_bytes(coo, triplets))
    assert width == classes
    assert cells.tolist() == [0, 3 * classes + 1, 69 * classes + 2]
    assert counts.tolist() == [5, 3, 4]  # a cell listed twice is summed
    assert legacy_step_bytes(coo, np.array([[70, 0, 1]])) is None  # outside the matrix
    assert legacy_step_bytes(coo, np.array([[1, 0, -1]])) is None
    dense = meta(3, "confusion", encoding=metadata.ENCODING_DENSE)
    assert legacy_step_bytes(dense, np.eye(4, dtype=np.int64)) is None  # wrong shape
    legacy = LegacySteps.decode(dense, [Datum(1, 1.0, np.eye(3, dtype=np.int64)),
                                        Datum(2, 2.0, np.ones((2, 2), dtype=np.int64))])  # fmt: skip
    assert legacy.steps.tolist() == [1]


def test_confusion_steps_read_single_steps_and_keep_a_bounded_history():
    rng = np.random.default_rng(2)
    classes, size = 50, 600
    matrices = [rng.integers(0, 3, (classes, classes)) * (rng.random((classes, classes)) < 0.1)
                for _ in range(size)]  # fmt: skip
    blobs = [sparse_counts.encode_dense(m) for m in matrices]
    reads = []

    def read_step(position):
        reads.append(position)
        return blobs[position]

    cache = ByteBudgetCache(64 * 2**20)
    steps = ConfusionSteps(cache, ("exp", "run", "tag"), np.arange(size) * 5,
                           np.arange(size, dtype=np.float64), read_step)  # fmt: skip
    one = steps.counts(123)
    assert np.array_equal(one.dense(classes), matrices[123])
    assert reads == [123]
    steps.counts(123)
    assert reads == [123]  # cached
    history = steps.history(200)
    assert len(history.positions) == 200 and history.positions[0] == 0 and history.positions[-1] == size - 1
    cells = np.array([0, 7, 2 * classes + 9])
    expected = np.array([[m.reshape(-1)[c] for m in matrices] for c in cells])[:, history.positions]
    assert np.array_equal(history.counts_of(cells), expected)
    reads.clear()
    steps.history(200)
    assert reads == []  # kept as one entry
    # bytes per nonzero cell of the history: int32 cell + the smallest count type
    nonzero = sum(np.count_nonzero(matrices[p]) for p in history.positions)
    assert history.nbytes <= nonzero * 5 + 201 * 16  # + positions and offsets (int64)


def test_history_positions_are_all_steps_or_an_even_spread():
    assert history_positions(7, 200).tolist() == list(range(7))
    spread = history_positions(5000, 200)
    assert len(spread) == 200 and spread[0] == 0 and spread[-1] == 4999


def test_counts_keep_the_smallest_types():
    counts = Counts.from_bytes(sparse_counts.encode(np.array([3, 2**20]), np.array([1, 70000]), 2**11))
    assert counts.cells.dtype == np.int32 and counts.counts.dtype == np.uint32
    assert counts.counts_of(np.array([3, 4, 2**20])).tolist() == [1, 0, 70000]
