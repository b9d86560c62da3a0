"""The compact decoded forms the plugin keeps: a stats table of every step, single confusion
steps read on demand, the sampled history of the most-confused pairs; their sizes per step are
bounded, and a bad step is named, not served."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from tensorboard import errors
from tensorboard.data import provider

from tb_perclass.format import metadata, packed_arrays, sparse_counts, summary
from tb_perclass.plugin.byte_cache import ByteBudgetCache
from tb_perclass.plugin.confusion_steps import (
    BlobIndex,
    ConfusionSteps,
    Counts,
    LegacySteps,
    history_positions,
)
from tb_perclass.plugin.reader import PerClassReader
from tb_perclass.plugin.stats_table import StatsTable

Datum = collections.namedtuple("Datum", "step wall_time numpy")
BlobDatum = collections.namedtuple("BlobDatum", "step wall_time values")
BlobReference = collections.namedtuple("BlobReference", "blob_key")


def meta(classes: int, kind: str = "stats", **extra) -> metadata.PerClassMetadata:
    names = tuple(map(str, range(classes)))
    return metadata.PerClassMetadata(3, kind, "multiclass", names, "cross_entropy", extra)


def packed_step(classes: int, rng, true_false: bool = True, **changes) -> np.ndarray:
    correct = rng.integers(0, 51, classes)
    fields = dict(
        loss=rng.exponential(1.0, classes),
        count=np.full(classes, 50),
        correct=correct,
        nonfinite=np.zeros(classes),
        nonfinite_outputs=np.zeros(classes),
        invalid_targets=3,
    )
    if true_false:
        fields.update(tp=correct, fp=rng.integers(0, 300, classes), fn=50 - correct)
    record = summary.stats_record(**fields)
    record.update(changes)
    return np.array(packed_arrays.pack(record), dtype=object)


def test_a_table_of_packed_steps_holds_about_the_curves_answer():
    rng = np.random.default_rng(0)
    classes, steps = 200, 300
    data = [Datum(10 * s, 1e9 + s, packed_step(classes, rng)) for s in range(steps)]
    table = StatsTable.decode(meta(classes), data)
    assert table.steps.tolist() == [10 * s for s in range(steps)] and table.skipped == ()
    assert table.has_true_false and table.loss.dtype == np.float32
    assert table.counts["count"].dtype == np.uint8 and table.counts["fp"].dtype == np.uint16
    # zero at every step: not held
    assert "nonfinite" not in table.counts and "nonfinite_outputs" not in table.counts
    assert table.invalid_targets.tolist() == [3] * steps
    # float32 loss + 1 byte for count, correct, tp, fn + 2 bytes for fp, per class and step
    per_cell = (table.nbytes - steps * 8 * 4) / (steps * classes)
    assert per_cell <= 4 + 4 + 2


def test_versions_mix_and_bad_steps_are_skipped_with_their_reason():
    rng = np.random.default_rng(1)
    classes = 5
    v2 = summary.stats_tensor(
        loss=np.ones(classes), count=np.full(classes, 7), correct=np.zeros(classes),
        nonfinite=np.zeros(classes), ignored=2,
    )  # fmt: skip
    v1 = np.zeros((4, classes))
    v1[1:3] = 3
    over = packed_step(classes, rng, correct=np.full(classes, 60, np.uint8))
    data = [
        Datum(0, 0.0, v1),
        Datum(1, 1.0, v2),
        Datum(2, 2.0, packed_step(classes, rng)),
        Datum(3, 3.0, np.array(b"PCA1garbage", dtype=object)),
        Datum(4, 4.0, np.zeros((3, 3))),
        Datum(5, 5.0, over),
    ]
    table = StatsTable.decode(meta(classes), data)
    assert table.steps.tolist() == [0, 1, 2]
    reasons = {s.step: s.reason for s in table.skipped}
    assert set(reasons) == {3, 4, 5}
    assert "cannot be read" in reasons[3] and "shape [3, 3]" in reasons[4]
    assert reasons[5] == "correct of class 0 is 60, more than the class's count 50"
    assert not table.has_true_false  # versions 1 and 2 have no tp/fp/fn
    assert table.count("count")[1].tolist() == [7] * classes
    assert table.count("correct")[0].tolist() == [3] * classes
    assert table.ignored.tolist() == [0, 2, 0]


def blob_steps(matrices, cache=None, reads=None):
    """A ConfusionSteps over version-3 blobs of `matrices` (one step each)."""
    blobs = {f"key{i}": sparse_counts.encode_dense(m) for i, m in enumerate(matrices)}
    classes = matrices[0].shape[0]
    data = [BlobDatum(5 * i, float(i), [BlobReference(f"key{i}")]) for i in range(len(matrices))]
    index = BlobIndex.decode(meta(classes, "confusion"), data)

    def read_blob(key):
        if reads is not None:
            reads.append(key)
        return blobs[key]

    cache = cache or ByteBudgetCache(64 * 2**20)
    return ConfusionSteps(index, cache, ("exp", "run", "tag"), read_blob), blobs


def test_confusion_steps_read_single_steps_and_keep_a_bounded_history():
    rng = np.random.default_rng(2)
    classes, size = 50, 600
    matrices = [
        rng.integers(0, 3, (classes, classes)) * (rng.random((classes, classes)) < 0.1)
        for _ in range(size)
    ]
    reads = []
    steps, _ = blob_steps(matrices, reads=reads)
    assert np.array_equal(steps.counts(123).dense(steps.meta), matrices[123])
    assert reads == ["key123"]
    steps.counts(123)
    assert reads == ["key123"]  # cached
    history = steps.history(200)
    positions = history.positions
    assert len(positions) == 200 and positions[0] == 0 and positions[-1] == size - 1
    cells = np.array([0, 7, 2 * classes + 9])
    expected = np.array([[m.reshape(-1)[c] for m in matrices] for c in cells])[:, positions]
    assert np.array_equal(history.counts_of(cells), expected)
    reads.clear()
    steps.history(200)
    assert reads == []  # kept as one entry
    # bytes per nonzero cell of the history: int32 cell + the smallest count type
    nonzero = sum(np.count_nonzero(matrices[p]) for p in positions)
    assert history.nbytes <= nonzero * 5 + 201 * 16  # + positions and offsets (int64)


def test_a_bad_blob_is_named_when_read_and_listed_from_then_on():
    matrices = [np.eye(4, dtype=np.int64) * (i + 1) for i in range(3)]
    steps, blobs = blob_steps(matrices)
    blobs["key1"] = sparse_counts.encode(np.array([3, 99]), np.array([1, 2]), 4)  # cell 99: row 24
    assert steps.skipped == ()
    with pytest.raises(errors.NotFoundError, match=r"step 5: .*\(24, 3\) outside the matrix"):
        steps.counts(1)
    assert [(s.step, s.kind) for s in steps.skipped] == [(5, "confusion")]
    assert len(steps.history().positions) == 2  # the bad step left out


def test_legacy_confusion_steps_become_sparse_bytes_with_their_true_false_counts():
    classes = 70
    coo = meta(classes, "confusion", encoding=metadata.ENCODING_COO)
    triplets = np.array([[0, 0, 5], [3, 1, 2], [69, 2, 4]])
    legacy = LegacySteps.decode(
        coo,
        [
            Datum(1, 1.0, triplets),
            Datum(2, 2.0, np.array([[70, 0, 1]])),  # outside the matrix
            Datum(3, 3.0, np.array([[1, 0, -1]])),
        ],
    )
    assert legacy.steps.tolist() == [1] and [s.step for s in legacy.skipped] == [2, 3]
    cells, counts, width = sparse_counts.decode(legacy.blobs[0])
    assert width == classes and counts.tolist() == [5, 2, 4]
    tp, fp, fn = legacy.true_false
    assert tp[0, 0] == 5 and fp[0, 1] == 2 and fn[0, 3] == 2


def test_history_positions_are_all_steps_or_an_even_spread():
    assert history_positions(7, 200).tolist() == list(range(7))
    spread = history_positions(5000, 200)
    assert len(spread) == 200 and spread[0] == 0 and spread[-1] == 4999


def test_counts_keep_the_smallest_types():
    counts = Counts.of(np.array([3, 2**20]), np.array([1, 70000]), 2**11)
    assert counts.cells.dtype == np.int32 and counts.counts.dtype == np.uint32
    assert counts.counts_of(np.array([3, 4, 2**20])).tolist() == [1, 0, 70000]


class _TooLarge(Exception):
    """What TensorBoard's gRPC client raises when the data server's answer passes 256 MiB."""

    class _Code:
        name = "RESOURCE_EXHAUSTED"

    def code(self):
        return self._Code()


class _ProviderOverTheCap:
    """A data provider whose listing has a version-2 stats tag that is too large to read."""

    def __init__(self):
        content = metadata.create_summary_metadata(
            kind="stats", task=metadata.TASK_MULTICLASS, class_names=["a", "b"], loss="loss"
        ).plugin_data.content
        self.series = provider.TensorTimeSeries(
            max_step=4999, max_wall_time=1.0, plugin_content=content, description="",
            display_name="",
        )  # fmt: skip

    def list_tensors(self, ctx, *, experiment_id, plugin_name, run_tag_filter):
        return {"run": {"perclass/stats": self.series}}

    def read_tensors(self, ctx, *, experiment_id, plugin_name, downsample, run_tag_filter):
        raise _TooLarge("Received message larger than max (316755360 vs. 268435456)")


def test_a_tag_over_the_data_servers_answer_cap_is_named_with_the_fix_not_a_500():
    reader = PerClassReader(_ProviderOverTheCap())
    answer = reader.steps(None, "exp", "run", "perclass", metadata.KIND_STATS)
    assert len(answer["steps"]) == 0
    (skip,) = answer["skipped"]
    assert skip["step"] == 4999 and "256 MiB" in skip["reason"]
    assert "--load_fast=false" in skip["reason"]


@pytest.mark.slow
def test_a_tag_over_a_real_data_servers_answer_cap_is_skipped_with_the_fix(tmp_path):
    """The same path with real parts: TensorBoard's own data server and gRPC client, whose
    answer cap (256 MiB, fixed inside TensorBoard) is lowered to 64 KiB for the test, so that
    100 steps of 300 classes pass it. The stats tag is skipped with the gRPC error's words and
    the fix, not a 500; the confusion steps (one blob a read) are still served; and the fix
    named, --load_fast=false, serves every step."""
    from tb_perclass import PerClassWriter
    from tests.helpers import ROUTE_PREFIX, TensorBoardProcess

    rng = np.random.default_rng(0)
    with PerClassWriter(tmp_path / "run", num_classes=300) as writer:
        for step in range(100):
            writer.update(rng.normal(size=(300, 300)).astype(np.float32), rng.integers(0, 300, 300))
            writer.write(step)
    query = "run=run&name=perclass"
    with TensorBoardProcess(tmp_path, answer_cap_bytes=64 * 1024) as server:
        server.wait_for_runs(1)
        answer = server.get_json(f"{ROUTE_PREFIX}/curves?{query}")
        assert answer["steps"] == []
        (skip,) = answer["skipped"]
        assert skip["step"] == 99 and skip["kind"] == "stats"
        assert "Received message larger than max" in skip["reason"]
        assert "vs. 65536)" in skip["reason"] and "--load_fast=false" in skip["reason"]
        report = server.get_json(f"{ROUTE_PREFIX}/report?{query}")  # from the matrix
        assert report["step"] == 99 and sum(report["support"]) == 300
        assert [s["kind"] for s in report["skipped"]] == ["stats"]
        confusion = server.get_json(f"{ROUTE_PREFIX}/confusion?{query}&step=42")
        assert confusion["step"] == 42 and confusion["total"] == 300
    with TensorBoardProcess(tmp_path, load_fast=False) as server:
        server.wait_for_runs(1)
        answer = server.get_json(f"{ROUTE_PREFIX}/curves?{query}")
        assert answer["steps"] == list(range(100)) and answer["skipped"] == []
