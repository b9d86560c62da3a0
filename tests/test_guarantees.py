"""What PerClassWriter guarantees off the happy path: one writer per (destination, name), steps
checked before anything is reset and written only once handed over, invalid targets and
non-finite outputs written apart with a warning, outputs of the other kind than `from_logits`
noticed, and a bad logdir refused when the writer is made."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import warnings

import numpy as np
import pytest

from tb_perclass import PerClassWriter
from tests.helpers import TensorBoardProcess, read_summaries
from tests.test_stats import LIBRARIES, to_library
from tests.test_writer import CLASSES, batch


def caught_messages(function, *args, **kwargs):
    """(result, [messages of RuntimeWarnings raised by the call])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


# --- one writer per (destination, name) ------------------------------------------------------


def test_a_second_writer_on_one_directory_and_name_is_refused(logdir):
    first = PerClassWriter(logdir, class_names=CLASSES)
    with pytest.raises(ValueError) as refused:
        PerClassWriter(os.path.join(logdir, ".", ""), class_names=CLASSES)  # the same directory
    message = str(refused.value)
    assert "name='perclass'" in message and os.path.realpath(logdir) in message
    assert "name='validation'" in message and "close()" in message
    assert f"{__file__}:" in message  # where the first writer was made
    # Another name, or another directory, is another set of tags.
    PerClassWriter(logdir, class_names=CLASSES, name="validation").close()
    PerClassWriter(logdir + "-other", class_names=CLASSES).close()
    first.close()  # frees the slot
    PerClassWriter(logdir, class_names=CLASSES).close()


def test_a_collected_writer_frees_its_slot(logdir):
    PerClassWriter(logdir, class_names=CLASSES)  # never closed, never referenced
    gc.collect()
    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        writer.update(*batch())
        writer.write(0)


def test_summary_writers_on_one_directory_are_one_destination(tmp_path):
    """Two SummaryWriters on one directory write into one TensorBoard run, and so does a
    PerClassWriter given that directory: the one-SummaryWriter train/validation case."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    run = str(tmp_path / "run")
    with SummaryWriter(run) as summary_writer, SummaryWriter(run) as same_directory:
        train = PerClassWriter(summary_writer, class_names=CLASSES)
        with pytest.raises(ValueError, match=r"already writes name='perclass' to the directory"):
            PerClassWriter(summary_writer, class_names=CLASSES)
        with pytest.raises(ValueError, match=r"torch SummaryWriter's"):
            PerClassWriter(same_directory, class_names=CLASSES)
        with pytest.raises(ValueError, match=r"already writes name='perclass'"):
            PerClassWriter(run, class_names=CLASSES)
        train.close()
        # The documented way: one name per split.
        train = PerClassWriter(summary_writer, class_names=CLASSES, name="train")
        validation = PerClassWriter(summary_writer, class_names=CLASSES, name="validation")
        for step in range(2):
            train.update(torch.randn(100, 3), torch.randint(0, 3, (100,)))
            validation.update(torch.randn(50, 3), torch.randint(0, 3, (50,)))
            train.write(step)
            validation.write(step)
    for name, total in (("train", 100), ("validation", 50)):
        written = read_summaries(run, name=name)
        assert [step for step, _, _ in written] == [0, 1]
        assert all(matrix[1].sum() == total for _, matrix, _ in written)


def test_tf_summary_writers_are_known_by_identity(tmp_path):
    import tensorflow as tf

    given = tf.summary.create_file_writer(str(tmp_path / "a"))
    other = tf.summary.create_file_writer(str(tmp_path / "b"))
    first = PerClassWriter(given, class_names=CLASSES)
    with pytest.raises(ValueError, match=r"the tf.summary writer"):
        PerClassWriter(given, class_names=CLASSES)
    PerClassWriter(other, class_names=CLASSES).close()
    default = PerClassWriter(None, class_names=CLASSES)
    with pytest.raises(ValueError, match=r"the default tf.summary writer"):
        PerClassWriter(None, class_names=CLASSES)
    for writer in (first, default):
        writer.close()


# --- steps -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step,error,message",
    [
        (1.0, TypeError, r"step must be an integer.*got 1.0 \(float\)"),
        (np.float32(2), TypeError, r"step must be an integer"),
        ("3", TypeError, r"step must be an integer"),
        (True, TypeError, r"step=True is a bool"),
        (np.bool_(False), TypeError, r"step=np.False_ is a bool"),
        (-1, ValueError, r"step=-1 is negative"),
        (2**63, ValueError, r"step=9223372036854775808 does not fit.*0 <= step < 2\*\*63"),
    ],
)
def test_a_bad_step_is_refused_before_anything_is_reset(logdir, step, error, message):
    with PerClassWriter(logdir, class_names=CLASSES) as writer:
        writer.update(*batch(size=8, seed=1))
        with pytest.raises(error, match=message):
            writer.write(step)
        writer.update(*batch(size=4, seed=2))
        assert writer.write(2**63 - 1).total == 12  # nothing was lost; the largest step works
    assert [s for s, _, _ in read_summaries(logdir)] == [2**63 - 1]


def test_a_failed_write_keeps_the_state_and_a_retry_writes_it(logdir):
    outputs, targets = batch(size=20, seed=3)
    images = np.random.default_rng(3).random((20, 4, 4, 1)).astype(np.float32)
    with PerClassWriter(logdir, class_names=CLASSES, layout="NHWC") as writer:
        writer.update(outputs, targets, inputs=images)
        sink_write = writer._steps.sink.write
        calls = []

        def full_disk_once(*args):
            calls.append(args[1])
            if len(calls) == 1:
                raise OSError(28, "No space left on device")
            sink_write(*args)

        writer._steps.sink.write = full_disk_once
        with pytest.raises(OSError, match="No space left"):
            writer.write(0)
        stats = writer.write(0)  # the retry
    assert calls == [0, 0] and stats.total == 20
    ((step, matrix, _),) = read_summaries(logdir)
    np.testing.assert_array_equal(matrix[1], np.bincount(targets, minlength=3))
    ((_, blobs, _),) = read_summaries(logdir, kind="samples")
    assert len(json.loads(blobs[0])) == int((outputs.argmax(1) != targets).sum())


def write_steps(logdir, steps, name="perclass"):
    """Writes one batch per step; returns the RuntimeWarning messages of each write."""
    messages = []
    with PerClassWriter(logdir, class_names=CLASSES, name=name) as writer:
        for index, step in enumerate(steps):
            outputs = np.eye(3, dtype=np.float32) * 4  # one-hot rows would look like probabilities
            writer.update(outputs, np.array([0, 1, index % 3]))
            messages.append(caught_messages(writer.write, step)[1])
    return messages


@pytest.mark.slow
def test_steps_that_do_not_go_up_are_warned_as_tensorboard_serves_them(tmp_path):
    """The warnings say what TensorBoard does; checked here against a real tensorboard on both
    loading paths, so the texts stay true."""
    down = write_steps(str(tmp_path / "down"), [0, 1, 2, 3, 4, 1, 5])
    assert [len(m) for m in down] == [0, 0, 0, 0, 0, 1, 0]
    (message,) = down[5]
    assert "step 1 is lower than step 4" in message
    assert "drops every value written before from step 1 up (here steps 1 to 4)" in message
    assert (
        "--load_fast=false the Per-Class tab shows the last value written at each step" in message
    )
    assert "resumed from a checkpoint" in message
    twice = write_steps(str(tmp_path / "twice"), [0, 1, 2, 2, 3])
    assert [len(m) for m in twice] == [0, 0, 0, 1, 0]
    assert "step 2 was already written" in twice[3][0]
    assert "the Per-Class tab shows only the later one" in twice[3][0]
    assert "with --load_fast=false TensorBoard's own dashboards keep both" in twice[3][0]
    served = {}
    for load_fast in (True, False):
        with TensorBoardProcess(tmp_path, load_fast=load_fast) as tensorboard:
            tensorboard.wait_for_runs(2)
            for run, expected_last in (("down", 5), ("twice", 3)):
                body = tensorboard.wait_for(
                    f"/data/plugin/perclass/curves?run={run}&name=perclass",
                    lambda body, last=expected_last: body["steps"][-1:] == [last],
                )
                # Class 2's count tells which write a step came from (1 at writes 2 and 5).
                served[load_fast, run] = list(zip(body["steps"], [c[2] for c in body["count"]]))
    # The default data server took the lower step as a restart: earlier steps from it up went.
    assert served[True, "down"] == [(0, 0), (1, 1), (5, 0)]
    assert served[True, "twice"] == [(0, 0), (1, 0), (2, 0), (3, 0)]  # the later step 2
    # --load_fast=false hands every value over in file order; the plugin keeps the last write
    # of each step, in step order: the same as the data server for a repeated step, and after a
    # restart the earlier values above it (steps 2 to 4) until the run writes them again.
    assert served[False, "down"] == [(0, 0), (1, 1), (2, 1), (3, 0), (4, 0), (5, 0)]
    assert served[False, "twice"] == served[True, "twice"]


# --- invalid targets and non-finite outputs: written apart, warned ---------------------------


@pytest.fixture
def targets_checked_on_the_device(monkeypatch):
    """CPU tensors treated as accelerator data: target values are then checked at write(),
    exactly as on a GPU (update() never reads values back there)."""
    from tb_perclass.logger.arrays.torch_ops import TorchOps

    monkeypatch.setattr(TorchOps, "is_on_host", lambda self, x: False)


@pytest.mark.parametrize(
    "task,outputs,targets,valid",
    [
        (
            "multiclass",
            np.zeros((6, 3), np.float32),
            [0, 3, -1, 2, 7, 1],
            r"class indices in \[0, 3\)",
        ),
        ("binary", np.zeros(6, np.float32), [0, 1, 2, 1, -1, 3], r"0 or 1"),
    ],
)
def test_invalid_targets_found_at_write_are_written_apart(
    logdir, targets_checked_on_the_device, task, outputs, targets, valid
):
    import torch

    writer = PerClassWriter(logdir, task=task, **({} if task == "binary" else {"num_classes": 3}))
    writer.update(torch.as_tensor(outputs), torch.as_tensor(targets))
    stats, messages = caught_messages(writer.write, 0)
    writer.close()
    assert stats.invalid_targets == 3 and stats.total == 3
    (message,) = messages
    assert "write(step=0): 3 targets since the last write were not " in message
    assert "the 3 valid ones were written" in message and "ignore_index" in message
    assert re.search(valid, message)
    ((_, matrix, parsed),) = read_summaries(logdir, raw=True)
    assert matrix[1, parsed.num_classes] == 3  # the invalid_targets column
    assert matrix[1, : parsed.num_classes].sum() == 3


@pytest.mark.parametrize("library", LIBRARIES)
def test_non_finite_outputs_are_written_apart_and_warned(logdir, library):
    logits, targets = batch(size=12, seed=4)
    logits[[0, 3]] = np.nan  # class targets[0], targets[3]
    logits[5, 1] = np.inf
    logits[7, 0] = -np.inf  # a masked class: a usable row
    images = np.random.default_rng(4).random((12, 4, 4, 1)).astype(np.float32)
    with PerClassWriter(logdir, class_names=CLASSES, layout="NHWC") as writer:
        writer.update(
            to_library(library, logits),
            to_library(library, targets),
            inputs=to_library(library, images),
            sample_ids=list(range(12)),
        )
        stats, messages = caught_messages(writer.write, 0)
    unusable = np.zeros(12, bool)
    unusable[[0, 3, 5]] = True
    expected = np.bincount(targets[unusable], minlength=3)
    np.testing.assert_array_equal(stats.nonfinite_outputs, expected)
    (message,) = messages
    assert "3 samples had NaN or infinite outputs (true class " in message
    assert "never as correct" in message and "left out of the confusion counts" in message
    ((_, matrix, _),) = read_summaries(logdir)
    np.testing.assert_array_equal(matrix[4], expected)  # the nonfinite_outputs row
    np.testing.assert_array_equal(matrix[1], np.bincount(targets, minlength=3))
    ((_, confusion, _),) = read_summaries(logdir, kind="confusion")
    predicted = logits[~unusable].argmax(1)
    assert confusion.sum() == 9 and np.trace(confusion) == (predicted == targets[~unusable]).sum()
    ((_, blobs, _),) = read_summaries(logdir, kind="samples")
    kept_ids = {entry["id"] for entry in json.loads(blobs[0])}
    assert kept_ids and not kept_ids & {0, 3, 5}


def test_non_finite_scores_of_multilabel_elements(logdir):
    scores = np.random.default_rng(5).normal(size=(4, 3)).astype(np.float32)
    scores[1, 2] = np.nan
    scores[2, 0] = -np.inf
    targets = np.ones((4, 3), dtype=np.int64)
    with PerClassWriter(logdir, ["a", "b", "c"], task="multilabel") as writer:
        writer.update(scores, targets)
        stats, messages = caught_messages(writer.write, 0)
    np.testing.assert_array_equal(stats.nonfinite_outputs, [1, 0, 1])
    np.testing.assert_array_equal(stats.confusion.sum(axis=(1, 2)), [3, 4, 3])
    assert "2 sample-label pairs had NaN or infinite outputs" in messages[0]


# --- outputs of the other kind than from_logits says ------------------------------------------


def model_outputs(task, seed=0):
    """A real (untrained) PyTorch model's logits on random inputs, and the targets."""
    import torch

    torch.manual_seed(seed)
    width = {"multiclass": 10, "binary": 1, "multilabel": 5}[task]
    model = torch.nn.Sequential(
        torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, width)
    )
    with torch.no_grad():
        logits = model(torch.randn(64, 20))
    if task == "multiclass":
        return logits, torch.randint(0, 10, (64,))
    if task == "binary":
        return logits[:, 0], torch.randint(0, 2, (64,))
    return logits, torch.randint(0, 2, (64, 5))


def activation(task, logits):
    import torch

    return torch.softmax(logits, dim=1) if task == "multiclass" else torch.sigmoid(logits)


@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel"])
def test_probabilities_given_as_logits_are_warned_once(logdir, task):
    logits, targets = model_outputs(task)
    warned = []
    with PerClassWriter(logdir, task=task) as writer:
        for step in range(3):
            writer.update(activation(task, logits), targets)
            warned.append(caught_messages(writer.write, step)[1])
    assert [len(m) for m in warned] == [1, 0, 0]  # once per writer
    (message,) = warned[0]
    assert "from_logits=False" in message and "takes them as logits" in message
    assert ("probability distributions" if task == "multiclass" else "lie in [0, 1]") in message


@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel"])
def test_logits_given_as_probabilities_are_warned(logdir, task):
    logits, targets = model_outputs(task)
    with PerClassWriter(logdir, task=task, from_logits=False) as writer:
        writer.update(logits, targets)
        _, messages = caught_messages(writer.write, 0)
    (message,) = messages
    assert "below 0 or above 1" in message and "pass from_logits=True" in message


@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel"])
@pytest.mark.parametrize("seed", range(5))
def test_the_right_kind_is_never_warned(logdir, task, seed):
    logits, targets = model_outputs(task, seed)
    for from_logits, outputs in ((True, logits), (False, activation(task, logits))):
        path = os.path.join(logdir, str(from_logits))
        with PerClassWriter(path, task=task, from_logits=from_logits) as writer:
            for step in range(3):
                writer.update(outputs, targets)
                assert caught_messages(writer.write, step)[1] == []


def test_a_few_logits_that_look_like_probabilities_are_not_enough(logdir):
    """Logits of a binary model that all sit in [0, 1] (it predicts positive for every sample):
    with less evidence than MIN_CHECKED, no warning; one clear logit ends the checks."""
    import torch

    from tb_perclass.logger import output_kind

    with PerClassWriter(logdir, task="binary") as writer:
        writer.update(torch.rand(output_kind.MIN_CHECKED - 1), torch.randint(0, 2, (15,)))
        assert caught_messages(writer.write, 0)[1] == []
        writer.update(torch.tensor([2.5]), torch.tensor([1]))
        assert caught_messages(writer.write, 1)[1] == []
        assert writer._accumulator.output_kind.done  # settled: no more checks
        writer.update(torch.rand(100), torch.randint(0, 2, (100,)))
        assert caught_messages(writer.write, 2)[1] == []


def test_only_the_first_batch_after_a_write_is_checked(logdir):
    """The check's reductions run once per step, so update()'s cost stays the same."""
    from tests.helpers import device_transfer_recorder

    logits, targets = model_outputs("multiclass")
    probabilities = activation("multiclass", logits)  # checked at every step: never settled
    with PerClassWriter(logdir, num_classes=10, from_logits=False) as writer:
        counts = []
        for step in range(2):
            for _ in range(3):
                with device_transfer_recorder() as recorder:
                    writer.update(probabilities, targets)
                counts.append([op.removeprefix("aten.") for op in recorder.ops])
            writer.write(step)
    assert "amin.default" in counts[0] and "amin.default" in counts[3]
    assert counts[1] == counts[2] == counts[4] == counts[5]
    assert "amin.default" not in counts[1] and len(counts[3]) > len(counts[4])


# --- where it writes ---------------------------------------------------------------------------


def test_an_existing_file_or_a_path_under_a_file_is_refused_at_once(tmp_path):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    for logdir, reason in (
        (existing, "it is a file, not a directory"),
        (existing / "run", f"{existing} is a file, not a directory"),
    ):
        with pytest.raises(OSError) as refused:
            PerClassWriter(str(logdir), class_names=CLASSES)
        message = str(refused.value)
        assert f"logdir={str(logdir)!r} cannot be written: {reason}" in message
        assert "Pass a directory this process can create files in" in message
    assert existing.read_text() == "keep me"
    with pytest.raises(OSError, match=r"logdir='/proc/perclass/run' cannot be written"):
        PerClassWriter("/proc/perclass/run", class_names=CLASSES)


def test_a_read_only_directory_is_refused_at_once():
    """As a user without write access: root writes anywhere, so then a forked child drops to
    `nobody` first (the interpreter under /root cannot be started as nobody)."""
    parent = tempfile.mkdtemp(prefix="perclass-read-only-")
    logdir = os.path.join(parent, "run")
    os.chmod(parent, 0o555)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        message = "no error"
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            PerClassWriter(logdir, num_classes=3)
        except BaseException as error:
            message = f"{type(error).__name__}: {error}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    os.waitpid(child, 0)
    os.chmod(parent, 0o755)
    os.rmdir(parent)
    assert message.startswith("PermissionError: [Errno 13] logdir="), message
    assert f"{logdir!r} cannot be written: Permission denied" in message


def test_the_logdir_is_created_when_the_writer_is_made(tmp_path):
    logdir = tmp_path / "deep" / "run"
    writer = PerClassWriter(str(logdir), class_names=CLASSES)
    assert logdir.is_dir() and os.listdir(logdir) == []  # the probe file is gone
    writer.close()


def test_the_default_name_pattern_in_a_script(tmp_path):
    """The issue's pattern: train and validation writers on one SummaryWriter, default names:
    now refused at the second writer, naming the fix."""
    script = textwrap.dedent(
        f"""
        import torch
        from torch.utils.tensorboard import SummaryWriter
        from tb_perclass import PerClassWriter
        summary_writer = SummaryWriter({str(tmp_path / "run")!r})
        train = PerClassWriter(summary_writer, class_names=["a", "b"])
        validation = PerClassWriter(summary_writer, class_names=["a", "b"])
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert "ValueError: another PerClassWriter, created at <string>:6" in result.stderr
