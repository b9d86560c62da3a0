"""PerClassWriter: what it writes, where, and what it says about bad input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from tensorboard.compat.proto import summary_pb2

from tb_perclass import PerClassWriter
from tb_perclass.format import metadata
from tests.helpers import device_transfer_recorder, read_summaries

CLASSES = ["cat", "dog", "bird"]


def batch(size=8, num_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(size, num_classes)).astype(np.float32),
        rng.integers(0, num_classes, size=size),
    )


@pytest.mark.parametrize("library", ["numpy", "torch", "tensorflow"])
def test_writes_one_stats_summary_per_step(logdir, library):
    from tests.test_stats import to_library

    expected = []
    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        for step in range(3):
            batches = [batch(seed=step), batch(seed=10 + step)]
            for outputs, targets in batches:
                writer.update(to_library(library, outputs), to_library(library, targets))
            returned = writer.write(step)
            assert returned.total == 16
            expected.append(returned.as_matrix())
            assert np.bincount(np.concatenate([t for _, t in batches]), minlength=3).tolist() == (
                returned.count.tolist()
            )
    written = read_summaries(logdir, raw=True)
    assert [step for step, _, _ in written] == [0, 1, 2]
    for (_, matrix, parsed), matrix_returned in zip(written, expected):
        assert_written_stats(matrix, matrix_returned)
        assert matrix.shape == metadata.stats_shape(3) == (5, 5) and matrix.dtype == np.float64
        assert parsed.kind == "stats" and parsed.class_names == tuple(CLASSES)
        assert parsed.task == "multiclass" and parsed.loss == "cross_entropy"


def assert_written_stats(written: np.ndarray, returned: np.ndarray) -> None:
    """The summary holds the counts exactly and the mean losses as float32 (7 digits)."""
    np.testing.assert_array_equal(written[1:], returned[1:])
    np.testing.assert_allclose(written[0], returned[0], rtol=2**-23, equal_nan=True)


def test_state_resets_after_each_write(logdir):
    with PerClassWriter(logdir, num_classes=3) as writer:
        writer.update(*batch(size=10))
        first = writer.write(0)
        writer.update(*batch(size=4))
        second = writer.write(1)
    assert first.total == 10 and second.total == 4
    assert writer.class_names == ("0", "1", "2")


def test_class_count_is_taken_from_the_first_batch(logdir):
    with PerClassWriter(logdir) as writer:
        writer.update(*batch(num_classes=5))
        writer.write(0)
        assert writer.num_classes == 5
        with pytest.raises(ValueError, match=r"outputs has 3 columns.*5 classes") as refused:
            writer.update(*batch(num_classes=3))
        assert str(refused.value).endswith("must have one entry per class")


def test_a_multilabel_column_count_error_speaks_of_labels(logdir):
    with PerClassWriter(logdir, task="multilabel", class_names=["a", "b"]) as writer:
        with pytest.raises(ValueError, match=r"3 columns .* 2 labels .* one entry per label$"):
            writer.update(np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32))


def test_losses_name_the_display_loss(logdir):
    outputs, targets = batch()
    with PerClassWriter(logdir, num_classes=3, name="given") as writer:
        writer.update(outputs, targets, losses=np.ones(8, dtype=np.float32))
        stats = writer.write(0)
    np.testing.assert_allclose(stats.loss[stats.count > 0], 1.0)
    assert read_summaries(logdir, name="given")[0][2].loss == "loss"
    with PerClassWriter(logdir, num_classes=3, name="named", loss_name="focal") as writer:
        writer.update(outputs, targets, losses=np.ones(8, dtype=np.float32))
        writer.write(0)
    assert read_summaries(logdir, name="named")[0][2].loss == "focal"


def test_write_without_update_writes_nothing_and_warns_once(logdir):
    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        writer.update(*batch())
        writer.write(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert writer.write(1) is None
            assert writer.write(2) is None
        assert len(caught) == 1
        assert "no update() since the last write" in str(caught[0].message)
    assert [step for step, _, _ in read_summaries(logdir)] == [0]


def test_non_finite_losses_are_counted_and_flagged_not_averaged(logdir):
    outputs, _ = batch(size=4)
    targets = np.array([0, 0, 1, 1])
    losses = np.array([1.0, np.nan, np.inf, 3.0], dtype=np.float32)
    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        writer.update(outputs, targets, losses=losses)
        stats = writer.write(0)
    np.testing.assert_array_equal(stats.nonfinite, [1, 1, 0])
    np.testing.assert_array_equal(stats.loss[:2], [1.0, 3.0])
    matrix = read_summaries(logdir)[0][1]
    np.testing.assert_array_equal(matrix[3], [1, 1, 0])


# --- bad input: every error names the argument, what it saw and what it expected ------------

BAD_INPUTS = [
    pytest.param(
        dict(outputs=np.zeros(8, np.float32), targets=np.zeros(8, int)),
        ValueError,
        r"outputs must have shape \(batch, num_classes\).*got shape \(8,\).*task='binary'",
        id="outputs-rank-1",
    ),
    pytest.param(
        dict(outputs=np.zeros((8, 3, 2), np.float32), targets=np.zeros(8, int)),
        ValueError,
        r"got shape \(8, 3, 2\).*reshape",
        id="outputs-rank-3",
    ),
    pytest.param(
        dict(outputs=np.zeros((8, 3), np.int64), targets=np.zeros(8, int)),
        TypeError,
        r"outputs has dtype int64.*not predicted labels",
        id="outputs-integer",
    ),
    pytest.param(
        dict(outputs=np.zeros((8, 3), np.float32), targets=np.zeros(6, int)),
        ValueError,
        r"outputs has 8 samples.*targets has 6 \(shape \(6,\)\)",
        id="batch-targets",
    ),
    pytest.param(
        dict(
            outputs=np.zeros((8, 3), np.float32),
            targets=np.zeros(8, int),
            losses=np.zeros(7, np.float32),
        ),
        ValueError,
        r"losses has shape \(7,\) but the batch has 8 samples",
        id="batch-losses",
    ),
    pytest.param(
        dict(
            outputs=np.zeros((8, 3), np.float32), targets=np.zeros(8, int), losses=np.float32(0.5)
        ),
        ValueError,
        r"losses is a single value.*reduction='none'",
        id="losses-scalar",
    ),
    pytest.param(
        dict(
            outputs=np.zeros((8, 3), np.float32),
            targets=np.zeros(8, int),
            losses=np.zeros((8, 1), np.float32),
        ),
        ValueError,
        r"losses has shape \(8, 1\).*squeeze",
        id="losses-column",
    ),
    pytest.param(
        dict(outputs=np.zeros((4, 3), np.float32), targets=np.array([0, 1, 3, 2])),
        ValueError,
        r"targets contains label 3, outside \[0, 3\)",
        id="label-too-large",
    ),
    pytest.param(
        dict(outputs=np.zeros((4, 3), np.float32), targets=np.array([0, -1, 1, 2])),
        ValueError,
        r"targets contains label -1, outside \[0, 3\)",
        id="label-negative",
    ),
    pytest.param(
        dict(outputs=np.zeros((4, 3), np.float32), targets=np.array([0.0, 1.5, 1.0, 2.0])),
        TypeError,
        r"targets has dtype float64.*must be integers",
        id="label-not-integer",
    ),
    pytest.param(
        dict(outputs=np.zeros((4, 3), np.float32), targets=np.eye(4, dtype=np.float32)),
        ValueError,
        r"targets has shape \(4, 4\): one-hot targets need 3 columns",
        id="one-hot-width",
    ),
    pytest.param(
        dict(outputs=np.zeros((4, 4), np.float32), targets=np.zeros(4, int)),
        ValueError,
        r"outputs has 4 columns \(shape \(4, 4\)\) but this writer has 3 classes",
        id="class-names-length",
    ),
    pytest.param(
        dict(outputs=np.zeros((4, 3), np.float32), targets="0123"),
        TypeError,
        r"targets is builtins.str",
        id="targets-string",
    ),
]


@pytest.mark.parametrize("arguments,error,message", BAD_INPUTS)
def test_bad_input_is_refused_clearly_and_loses_nothing(logdir, arguments, error, message):
    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        writer.update(*batch(size=6, seed=1))
        before = writer.write(0)
        writer.update(*batch(size=5, seed=2))
        with pytest.raises(error, match=message):
            writer.update(**arguments)
        # The refused batch left no trace: the next step holds exactly the good batch.
        after = writer.write(1)
    assert after.total == 5
    steps = read_summaries(logdir, raw=True)
    assert [s for s, _, _ in steps] == [0, 1]
    assert_written_stats(steps[0][1], before.as_matrix())


def test_mixing_frameworks_in_one_call_is_refused(logdir):
    import torch

    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        with pytest.raises(TypeError, match=r"outputs is torch.Tensor, targets is numpy.ndarray"):
            writer.update(torch.zeros(4, 3), np.zeros(4, dtype=np.int64))


def test_mixing_devices_in_one_call_is_refused(logdir):
    import torch

    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        with pytest.raises(ValueError, match=r"outputs on cpu, targets on meta.*targets.to"):
            writer.update(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long, device="meta"))


def test_switching_framework_between_calls_is_refused(logdir):
    import torch

    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        writer.update(*batch())
        with pytest.raises(TypeError, match=r"state holds numpy arrays.*got torch"):
            writer.update(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(class_names=["a", "b", "a"]), r"'a' at positions 0 and 2"),
        (dict(class_names=["a", "b"], num_classes=3), r"2 names but num_classes=3"),
        (dict(class_names="abc"), r"sequence of names"),
        (dict(num_classes=1), r"at least 2 classes"),
        (dict(name="/bad/"), r"name='/bad/'"),
    ],
)
def test_bad_constructor_arguments(logdir, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        PerClassWriter(logdir, **kwargs)


def test_bad_step_and_closed_writer(logdir):
    writer = PerClassWriter(logdir, class_names=CLASSES)
    writer.update(*batch())
    with pytest.raises(TypeError, match="step must be an integer"):
        writer.write(1.5)
    writer.write(np.int64(3))
    writer.close()
    with pytest.raises(RuntimeError, match="is closed"):
        writer.update(*batch())
    assert [s for s, _, _ in read_summaries(logdir)] == [3]


def test_update_never_reads_values_back_from_an_accelerator(logdir):
    """PyTorch's `meta` device holds shapes and no data: any `.item()`, `.cpu()` or Python-side
    check of a value raises on it. update() succeeding on meta tensors, with no op moving data
    to another device, shows that it issues no device-to-host transfer, i.e. no host
    synchronisation on a real accelerator."""
    import torch

    writer = PerClassWriter(logdir, class_names=CLASSES)
    outputs = torch.randn(16, 3, device="meta")
    targets = torch.randint(0, 3, (16,), device="meta")
    with device_transfer_recorder() as recorder:
        writer.update(outputs, targets)
        writer.update(outputs, targets, losses=torch.zeros(16, device="meta"))
    assert "aten.index_add_.default" in recorder.ops
    assert recorder.transfers == []
    with device_transfer_recorder() as recorder:  # the recorder does see a transfer
        torch.zeros(2).to("meta")
    assert recorder.transfers


def test_update_reads_labels_on_the_host_only_for_host_data(logdir):
    """On CPU the label range is checked at once (no device to wait for)."""
    import torch

    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        with pytest.raises(ValueError, match="label 7"):
            writer.update(torch.zeros(2, 3), torch.tensor([0, 7]))


def test_what_was_written_survives_a_crash(tmp_path):
    logdir = str(tmp_path / "crash")
    script = textwrap.dedent(
        f"""
        import os, numpy as np
        from tb_perclass import PerClassWriter
        writer = PerClassWriter({logdir!r}, num_classes=3)
        for step in range(3):
            writer.update(np.eye(3, dtype=np.float32), np.arange(3))
            writer.write(step)
        writer.update(np.eye(3, dtype=np.float32), np.arange(3))  # never written
        os._exit(1)  # no atexit handlers, no finally blocks, no buffers flushed by Python
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == 1, result.stderr
    assert [step for step, _, _ in read_summaries(logdir)] == [0, 1, 2]


def test_torch_user_never_imports_tensorflow_and_vice_versa(tmp_path):
    torch_script = f"""
import sys, torch
from tb_perclass import PerClassWriter
with PerClassWriter({str(tmp_path / "a")!r}, num_classes=3) as w:
    w.update(torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
    w.write(0)
assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF was imported'
"""
    tf_script = f"""
import sys, tensorflow as tf
from tb_perclass import PerClassWriter
with PerClassWriter({str(tmp_path / "b")!r}, num_classes=3) as w:
    w.update(tf.random.normal((4, 3)), tf.constant([0, 1, 2, 0]))
    w.write(0)
assert 'torch' not in sys.modules, 'torch was imported'
"""
    loader_script = """
import sys, tb_perclass.plugin.loader
heavy = [m for m in ('numpy', 'torch', 'tensorflow', 'tb_perclass.plugin.plugin')
         if m in sys.modules]
assert not heavy, heavy
"""
    for script in (torch_script, tf_script, loader_script):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]


def _events(run_dir):
    from tensorboard.backend.event_processing import event_file_loader

    for filename in os.listdir(run_dir):
        yield from event_file_loader.EventFileLoader(os.path.join(run_dir, filename)).Load()


def test_targets_an_existing_torch_summary_writer(tmp_path):
    import torch
    from torch.utils.tensorboard import SummaryWriter

    run = str(tmp_path / "torch_run")
    with SummaryWriter(run) as summary_writer:
        summary_writer.add_scalar("loss", 1.0, 0)
        writer = PerClassWriter(summary_writer, class_names=CLASSES)
        writer.update(torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2]))
        writer.write(0)
        summary_writer.add_scalar("loss", 0.5, 1)
        writer.flush()  # flushes the shared writer's own data too
        assert any(event.step == 1 for event in _events(run))
        writer.close()
    written = read_summaries(run)
    assert len(written) == 1 and written[0][1][1].sum() == 6
    assert len([f for f in os.listdir(run) if "tfevents" in f]) == 1  # one event stream


def test_targets_a_tf_summary_writer_given_or_default(tmp_path):
    import tensorflow as tf

    given_dir, default_dir = str(tmp_path / "given"), str(tmp_path / "default")
    outputs, targets = tf.random.normal((6, 3)), tf.constant([0, 1, 2, 0, 1, 2])
    tf_writer = tf.summary.create_file_writer(given_dir)
    writer = PerClassWriter(tf_writer, class_names=CLASSES)
    writer.update(outputs, targets)
    writer.write(0)
    writer.close()
    default_writer = PerClassWriter(None, class_names=CLASSES)
    default_writer.update(outputs, targets)
    with pytest.raises(RuntimeError, match="no(ne)? .*default tf.summary writer|none is set"):
        default_writer.write(0)
    with tf.summary.create_file_writer(default_dir).as_default():
        default_writer.write(5)  # the failed write kept the batch
    tf_writer.close()
    for run, step in ((given_dir, 0), (default_dir, 5)):
        written = read_summaries(run)
        assert [s for s, _, _ in written] == [step]
        assert written[0][2].class_names == tuple(CLASSES)
        assert written[0][1][1].sum() == 6


def test_summary_metadata_round_trip():
    from tb_perclass.format import summary

    stats = dict(
        loss=np.array([0.5, np.nan]),
        count=np.array([3, 0]),
        correct=np.array([2, 0]),
        nonfinite=np.array([1, 0]),
    )
    proto = summary.stats_pb(
        "head_a", class_names=["x", "<b>y</b>"], invalid_targets=4, ignored=7, **stats
    )
    (value,) = proto.value
    assert value.tag == "head_a/stats"
    assert value.metadata.data_class == summary_pb2.DATA_CLASS_TENSOR
    parsed = metadata.parse_plugin_content(value.metadata.plugin_data.content)
    assert parsed.class_names == ("x", "<b>y</b>") and parsed.version == 4
    from tensorboard.util import tensor_util

    from tb_perclass.format import decode, packed_arrays

    tensor = tensor_util.make_ndarray(value.tensor)
    np.testing.assert_array_equal(
        decode.stats(tensor, 2)["matrix"],
        # The class columns, then invalid targets and ignored elements in the count row.
        np.array([[0.5, np.nan, 0, 0], [3, 0, 4, 7], [2, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]),
    )
    record = packed_arrays.unpack(tensor.item())
    assert record["loss"].dtype == np.float32 and record["count"].dtype == np.uint8
    assert "tp" not in record  # no confusion counts given
    with pytest.raises(ValueError, match=r"count has shape \(3,\); expected \(2,\)"):
        summary.stats_pb("h", class_names=["x", "y"], **{**stats, "count": np.zeros(3)})


def test_nothing_is_written_that_the_reader_refuses(logdir, monkeypatch):
    """The reader refuses more than MAX_CLASSES class names, longer names than
    MAX_CLASS_NAME_LENGTH and repeated names: the writer refuses them when it is made (or at
    the first batch, for a class count taken from it), the summary builders when called."""
    from tb_perclass.format import summary

    long_name = "x" * (metadata.MAX_CLASS_NAME_LENGTH + 1)
    with pytest.raises(ValueError, match="class name of 4097 characters.*at most 4096"):
        PerClassWriter(logdir, class_names=[long_name, "b"])
    monkeypatch.setattr(metadata, "MAX_CLASSES", 5)
    with pytest.raises(ValueError, match="class_names has 6 class names; a summary has 1 to 5"):
        PerClassWriter(logdir, class_names=list("abcdef"))
    with pytest.raises(ValueError, match="num_classes=6; a summary holds at most 5 classes"):
        PerClassWriter(logdir, num_classes=6)
    with PerClassWriter(logdir) as writer:
        with pytest.raises(ValueError, match="the outputs' width=6; a summary holds at most 5"):
            writer.update(np.zeros((2, 6), np.float32), np.array([0, 1]))
        assert writer.num_classes is None  # a refused first batch fixes nothing
        writer.update(np.zeros((2, 5), np.float32), np.array([0, 4]))
        assert writer.write(0).count.tolist() == [1, 0, 0, 0, 1]
    rows = dict(loss=np.zeros(2), count=np.ones(2), correct=np.ones(2), nonfinite=np.zeros(2))
    with pytest.raises(ValueError, match="class_names has the class name 'a' more than once"):
        summary.stats_pb("h", class_names=["a", "a"], **rows)
    with pytest.raises(ValueError, match="class name of 4097 characters"):
        summary.confusion_pb("h", np.eye(2, dtype=np.int64), class_names=[long_name, "b"])
    with pytest.raises(ValueError, match="class_names has 6 class names"):
        summary.samples_pb(
            "h", [], [], class_names=list("abcdef"), samples_per_cell=1, max_samples=1
        )


def test_metadata_from_a_newer_version_is_refused_with_advice():
    content = b'{"version": 99, "kind": "stats", "task": "multiclass", "class_names": []}'
    with pytest.raises(ValueError, match="upgrade tb-perclass"):
        metadata.parse_plugin_content(content)


# --- tasks, thresholds, ignore_index and confusion --------------------------------------------


def test_confusion_is_written_with_the_stats(logdir):
    rng = np.random.default_rng(0)
    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        logits = rng.normal(size=(20, 3)).astype(np.float32)
        targets = rng.integers(0, 3, 20)
        writer.update(logits, targets)
        stats = writer.write(0)
    ((step, matrix, parsed),) = read_summaries(logdir, kind="confusion")
    assert parsed.kind == "confusion" and parsed.extra["encoding"] == "sparse_counts"
    np.testing.assert_array_equal(matrix, stats.confusion)
    assert matrix.sum() == 20 and matrix.dtype == np.int64
    # the step's TP/FP/FN travel with the stats, so curves and reports need no matrix
    ((_, _, _),) = read_summaries(logdir)
    from tb_perclass.format import metrics

    cells = np.flatnonzero(stats.confusion)
    tp, fp, fn = metrics.true_false_counts(
        cells, stats.confusion.reshape(-1)[cells], "multiclass", 3
    )
    assert (stats.tp.tolist(), stats.fp.tolist(), stats.fn.tolist()) == (
        tp.tolist(),
        fp.tolist(),
        fn.tolist(),
    )


def test_confusion_can_be_turned_off(logdir):
    with PerClassWriter(logdir, class_names=CLASSES, confusion=False) as writer:
        writer.update(*batch())
        assert writer.write(0).confusion is None
    assert read_summaries(logdir, kind="confusion") == []
    assert len(read_summaries(logdir)) == 1


def test_binary_and_multilabel_writers(logdir):
    rng = np.random.default_rng(1)
    with PerClassWriter(os.path.join(logdir, "b"), task="binary", threshold=0.7) as writer:
        writer.update(rng.normal(size=(10, 1)).astype(np.float32), rng.integers(0, 2, 10))
        stats = writer.write(0)
        assert writer.class_names == ("negative", "positive")
    assert stats.confusion.shape == (2, 2) and stats.confusion.sum() == 10
    assert read_summaries(os.path.join(logdir, "b"))[0][2].loss == "binary_cross_entropy"
    labels = ["red", "round", "sweet"]
    with PerClassWriter(os.path.join(logdir, "m"), labels, task="multilabel") as writer:
        writer.update(rng.normal(size=(8, 3)).astype(np.float32), rng.integers(0, 2, (8, 3)))
        stats = writer.write(0)
    ((_, matrix, parsed),) = read_summaries(os.path.join(logdir, "m"), kind="confusion")
    assert matrix.shape == (3, 2, 2) and parsed.task == "multilabel"
    np.testing.assert_array_equal(matrix.sum(axis=(1, 2)), [8, 8, 8])


def test_large_class_counts_write_sparse_confusion(logdir):
    rng = np.random.default_rng(2)
    with PerClassWriter(logdir, num_classes=300) as writer:
        targets = rng.integers(0, 300, 500)
        writer.update(rng.normal(size=(500, 300)).astype(np.float32), targets)
        stats = writer.write(0)
    ((_, matrix, parsed),) = read_summaries(logdir, kind="confusion")
    assert parsed.extra["encoding"] == "sparse_counts"
    np.testing.assert_array_equal(matrix, stats.confusion)


TASK_BAD_INPUTS = [
    pytest.param(
        dict(task="multiclass", threshold=0.3),
        None,
        ValueError,
        r"threshold is for task='binary' or 'multilabel'",
        id="threshold-multiclass",
    ),
    pytest.param(
        dict(task="binary", threshold=1.5),
        None,
        ValueError,
        r"threshold=1.5: thresholds are probabilities strictly between 0 and 1",
        id="threshold-range",
    ),
    pytest.param(
        dict(task="binary", threshold=[0.3, 0.6]),
        None,
        ValueError,
        r"task='binary' takes one threshold; got 2",
        id="threshold-binary-two",
    ),
    pytest.param(
        dict(task="multilabel", class_names=["a", "b", "c"], threshold=[0.3, 0.6]),
        None,
        ValueError,
        r"threshold has 2 values but there are 3 labels",
        id="threshold-per-label-count",
    ),
    pytest.param(
        dict(task="multilabel", threshold=[0.3, 0.6]),
        dict(outputs=np.zeros((4, 3), np.float32), targets=np.zeros((4, 3), int)),
        ValueError,
        r"threshold has 2 values but there are 3 labels",
        id="threshold-per-label-inferred",
    ),
    pytest.param(
        dict(task="multilabel"),
        dict(outputs=np.zeros((2, 3), np.float32), targets=np.array([[0, 1, 2], [1, 1, 0]])),
        ValueError,
        r"targets holds values other than 0 and 1, e.g. 2: targets of task='multilabel'",
        id="multilabel-targets-not-binary",
    ),
    pytest.param(
        dict(task="multilabel"),
        dict(outputs=np.zeros((2, 3), np.float32), targets=np.full((2, 3), 0.5)),
        ValueError,
        r"values other than 0 and 1, e.g. 0.5",
        id="multilabel-soft-targets",
    ),
    pytest.param(
        dict(task="multilabel"),
        dict(outputs=np.zeros((2, 3), np.float32), targets=np.zeros((2, 4), int)),
        ValueError,
        r"must have the outputs' shape \(2, 3\).*got shape \(2, 4\)",
        id="multilabel-target-shape",
    ),
    pytest.param(
        dict(task="binary"),
        dict(outputs=np.zeros((4, 2), np.float32), targets=np.zeros(4, int)),
        ValueError,
        r"one score per sample, shape \(batch,\) or \(batch, 1\); got shape \(4, 2\)"
        r".*task='multiclass'",
        id="binary-output-width",
    ),
    pytest.param(
        dict(task="binary"),
        dict(outputs=np.zeros(4, np.float32), targets=np.array([0, 1, 3, 1])),
        ValueError,
        r"values other than 0 and 1, e.g. 3",
        id="binary-targets",
    ),
    pytest.param(
        dict(class_names=["a", "b", "c"], ignore_index=2),
        None,
        ValueError,
        r"ignore_index=2 is a class index \(valid targets are 0..2\).*ignore_index=-100",
        id="ignore-index-real-class",
    ),
    pytest.param(
        dict(ignore_index=1),
        dict(outputs=np.zeros((4, 3), np.float32), targets=np.zeros(4, int)),
        ValueError,
        r"ignore_index=1 is a class index",
        id="ignore-index-real-class-inferred",
    ),
    pytest.param(
        dict(task="binary", ignore_index=0),
        None,
        ValueError,
        r"ignore_index=0 is a target value",
        id="ignore-index-binary",
    ),
    pytest.param(
        dict(task="ranking"),
        None,
        ValueError,
        r"task='ranking'; pass one of",
        id="task",
    ),
]


@pytest.mark.parametrize("kwargs,arguments,error,message", TASK_BAD_INPUTS)
def test_task_bad_input_is_refused_clearly(logdir, kwargs, arguments, error, message):
    if arguments is None:
        with pytest.raises(error, match=message):
            PerClassWriter(logdir, **kwargs)
        return
    with PerClassWriter(logdir, **kwargs) as writer:
        with pytest.raises(error, match=message):
            writer.update(**arguments)
        # The refused first batch fixed nothing: a good batch still works.
        good_outputs = np.zeros_like(arguments["outputs"])
        if kwargs.get("task") == "multilabel":
            threshold = kwargs.get("threshold")
            if threshold is not None and len(threshold) != good_outputs.shape[1]:
                return
            writer.update(good_outputs, np.zeros(good_outputs.shape, dtype=int))
        elif kwargs.get("task") == "binary":
            writer.update(np.zeros(4, np.float32), np.zeros(4, int))
        else:
            if "ignore_index" in kwargs:
                return
            writer.update(good_outputs, np.zeros(len(good_outputs), dtype=int))
        assert writer.write(0) is not None


def test_event_records_carry_tensorflows_checksums(tmp_path):
    """Our TFRecord framing equals TensorBoard's reference implementation byte for byte."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as reference
    from tensorboard.summary.writer.record_writer import RecordWriter

    from tb_perclass.logger.sinks import masked_crc32c, tfrecord

    payload = bytes(range(256)) * 37
    assert masked_crc32c(payload) == reference(payload)
    with open(tmp_path / "reference", "wb") as handle:
        RecordWriter(handle).write(payload)
    assert (tmp_path / "reference").read_bytes() == tfrecord(payload)


# --- confusion_every ---------------------------------------------------------------------------


def _write_steps(writer, steps, rng):
    """One random batch per step; returns each step's PerClassStats."""
    written = {}
    for step in steps:
        writer.update(rng.normal(size=(30, 3)).astype(np.float32), rng.integers(0, 3, 30))
        written[step] = writer.write(step)
    return written


def test_confusion_every_writes_the_first_every_nth_and_the_last_at_close(logdir):
    rng = np.random.default_rng(3)
    with PerClassWriter(logdir, class_names=CLASSES, confusion_every=3) as writer:
        written = _write_steps(writer, [0, 5, 10, 15, 20, 25, 30, 35], rng)
        # writes 1, 4 and 7 so far; the last (step 35) is held until close()
        assert [s for s, _, _ in read_summaries(logdir, kind="confusion")] == [0, 15, 30]
    confusion = read_summaries(logdir, kind="confusion")
    assert [s for s, _, _ in confusion] == [0, 15, 30, 35]
    for step, matrix, _ in confusion:
        np.testing.assert_array_equal(matrix, written[step].confusion)
    # the stats, with TP/FP/FN, at every step: curves and reports stay exact everywhere
    stats = read_summaries(logdir)
    assert [s for s, _, _ in stats] == sorted(written)
    for step, _, _ in stats:
        assert written[step].tp is not None and written[step].confusion is not None


def test_confusion_every_at_a_written_last_step_adds_nothing_at_close(logdir):
    rng = np.random.default_rng(4)
    with PerClassWriter(logdir, class_names=CLASSES, confusion_every=2) as writer:
        _write_steps(writer, [0, 1, 2], rng)
    assert [s for s, _, _ in read_summaries(logdir, kind="confusion")] == [0, 2]


def test_confusion_every_held_matrix_is_written_when_the_writer_is_collected(logdir):
    import gc

    rng = np.random.default_rng(5)
    writer = PerClassWriter(logdir, class_names=CLASSES, confusion_every=10)
    written = _write_steps(writer, [0, 1, 2], rng)
    del writer
    gc.collect()
    confusion = read_summaries(logdir, kind="confusion")
    assert [s for s, _, _ in confusion] == [0, 2]
    np.testing.assert_array_equal(confusion[1][1], written[2].confusion)


def test_confusion_every_saves_the_matrix_bytes(logdir):
    """At 200 classes the matrix is most of a step's bytes; every 10th write keeps a tenth."""
    rng = np.random.default_rng(6)
    classes = [f"c{i}" for i in range(200)]
    sizes = {}
    for every in (1, 10):
        run = os.path.join(logdir, f"every{every}")
        with PerClassWriter(run, class_names=classes, confusion_every=every) as writer:
            for step in range(40):
                targets = rng.integers(0, 200, 2000)
                logits = rng.normal(size=(2000, 200)).astype(np.float32)
                logits[np.arange(2000), targets] += 3.0
                writer.update(logits, targets)
                writer.write(step)
        sizes[every] = sum(os.path.getsize(os.path.join(run, f)) for f in os.listdir(run))
        assert len(read_summaries(run, kind="confusion")) == (40 if every == 1 else 5)
    assert sizes[10] < 0.6 * sizes[1], sizes


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"confusion_every": 0}, ValueError, "confusion_every=0; it must be at least 1"),
        ({"confusion_every": -2}, ValueError, "confusion_every=-2"),
        ({"confusion_every": 2.5}, TypeError, "confusion_every=2.5; pass a positive integer"),
        ({"confusion_every": True}, TypeError, "confusion_every=True"),
        ({"confusion_every": "10"}, TypeError, "confusion_every='10'"),
        (
            {"confusion_every": 5, "confusion": False},
            ValueError,
            "confusion_every=5 with confusion=False",
        ),
    ],
)
def test_confusion_every_is_checked_before_anything_is_written(logdir, kwargs, error, text):
    with pytest.raises(error, match=re.escape(text)):
        PerClassWriter(logdir, class_names=CLASSES, **kwargs)
    assert not os.path.exists(logdir)


def test_confusion_every_accepts_numpy_integers_and_one(logdir):
    rng = np.random.default_rng(7)
    with PerClassWriter(logdir, class_names=CLASSES, confusion_every=np.int64(1)) as writer:
        _write_steps(writer, [0, 1], rng)
    assert len(read_summaries(logdir, kind="confusion")) == 2
