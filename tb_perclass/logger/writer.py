"""`PerClassWriter`: accumulate per-class statistics over batches, then write one summary set
per step.

A thin wiring of the logger's parts: `spec` checks the arguments once, the `Accumulator` holds
the state on the data's device and the kept samples (`update()` checks a batch and scatter-adds
it, without waiting for the device), `distributed` merges the ranks, and the `StepWriter` ends
each step (`write(step)`: stats from the state read back, summaries to the sink, and only then a
reset, so a failed write loses nothing; then the warnings about the step's data).
"""

from __future__ import annotations

import time
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tb_perclass.format import metadata
from tb_perclass.logger import destinations, distributed, spec, state, steps
from tb_perclass.logger import losses as loss_functions
from tb_perclass.logger.accumulator import Accumulator
from tb_perclass.logger.samples import media
from tb_perclass.logger.sinks import open_sink
from tb_perclass.logger.state import PerClassStats
from tb_perclass.logger.step_writer import StepWriter

# Display name of the loss when the caller passes `losses=` and no `loss_name`.
USER_LOSS_NAME = "loss"


class PerClassWriter:
    """Records per-class loss, accuracy and confusion counts of a classifier as TensorBoard
    summaries.

    Args:
      logdir: where to write. A local directory (one run, e.g. "runs/exp1/train"), created
        and checked for writing now; a URL (s3://, gs://, or any filesystem fsspec knows, e.g.
        "s3://bucket/runs/exp1/train"), checked by listing it now; an existing
        `torch.utils.tensorboard.SummaryWriter`; a `tf.summary` writer; or None for the default
        `tf.summary` writer at the time of each `write()`. One live writer per (logdir, name):
        a second is refused.
      class_names: one display name per class (labels, for multilabel), in output order. Fixes
        the number of classes.
      num_classes: the number of classes when there are no names (they become "0", "1", ...).
        With neither, the count is taken from the first batch's outputs.
      name: tag prefix; a model with several heads uses one writer and name per head, and
        train and validation writers sharing one SummaryWriter need their own names.
      task: "multiclass" (outputs (B, C), prediction = argmax), "binary" (one score per sample,
        positive above `threshold`; two classes), "multilabel" (outputs (B, L), each label
        positive above its threshold) or "regression" (one value per sample, grouped by
        `bins`).
      from_logits: whether outputs are logits (default) or probabilities. `write()` warns
        once when the outputs clearly are the other kind (`output_kind`).
      threshold: binary and multilabel only: the probability above which a prediction is
        positive (applied to sigmoid(outputs) for logits); one value, or one per label.
        Default 0.5.
      ignore_index: a target value whose samples (or, multilabel, sample-label pairs) are
        skipped entirely, e.g. -100 for padding; must not be a real class.
      confusion: record a confusion matrix per step (default). Costs (C + 2) x C numbers of
        device memory; turn off for very many classes.
      confusion_every: write the confusion matrix with the first `write()` and then every N-th
        (writes 1, N + 1, 2N + 1, ...), and with the last one at `close()` (or at the end of
        the `with` block); the other steps still get their stats with TP/FP/FN, so curves and
        reports stay exact at every step. For many classes, where a step's matrix is the
        largest summary (README: "Long runs"). Default 1: every write.
      scores: record per-class score histograms per step (not by default): PR and ROC curves,
        average precision, AUROC, best-F1 thresholds, calibration (reliability, ECE) and, for
        multiclass, top-k accuracy, in the tab's Scores view and as curves and report columns.
        Probabilities are binned on the device (1218 bins, `format/score_bins.py`); costs
        2 x 1219 x C int32 counts of device memory and a few passes over each batch's scores.
      top_k: with scores=True and task="multiclass": the k of the top-k accuracy per class;
        default 5 (recorded when there are more than 5 classes), 0 for none.
      loss: the per-sample loss computed when `update()` gets no `losses`: a name
        ("cross_entropy" or "kl_divergence" for multiclass; "binary_cross_entropy", "hinge" or
        "squared_hinge" for binary and multilabel; "mse", "mae" or "msle" for regression; the
        first is the default; Keras spellings accepted), or a callable(outputs, targets)
        returning one value per sample (per sample and label for multilabel).
      bins: regression only: the edges between the target ranges that become the "classes",
        e.g. [0, 1, 5, 10] gives < 0, [0, 1), [1, 5), [5, 10) and >= 10. Predictions are
        binned alike (a correct prediction lands in its target's range).
      loss_name: display name of the loss; defaults to the loss's name, or "loss" when losses
        are passed to `update()`.
      samples_per_cell, max_samples: when `update()` gets `inputs`, at most this many
        misclassified samples are kept per confusion cell and in all, per step: the most
        confident mistakes.
      layout: "NCHW", "NHWC" or "NHW" for image inputs whose layout cannot be inferred.
      denormalize: optional callable mapping one image (HWC or HW float array) to values in
        [0, 1] (or uint8) for display, e.g. `lambda x: x * std + mean`.
      max_image_side: kept images larger than this are downscaled.
      distributed: in a torch.distributed run (an initialised process group of several ranks),
        `write()` sums every rank's state and only rank 0 writes; every rank must call it. Set
        to False to log each rank on its own.
      storage_options: for a URL logdir only: options for its fsspec filesystem (credentials,
        endpoint, profile...), e.g. {"endpoint_url": "http://minio:9000"} for s3://. By
        default the filesystem's own configuration (environment variables, config files).
      segment_bytes: for a URL logdir only: object stores cannot append, so each `write()`
        uploads the event file object being filled, and a new object starts once it holds this
        many bytes (default 1 MiB). Smaller: fewer bytes per write; larger: fewer objects for
        TensorBoard to poll (see the README's "Remote logdirs").
      track_samples: the size of the training set, to record training dynamics per sample
        (multiclass and binary tasks): each `update()` then needs `sample_ids`, the batch's
        dataset indices in [0, track_samples). Per sample, over the whole run: its mean
        probability of the given label (confidence), the spread of it (variability), how often
        it was predicted right, its mean margin over the best other label (negative: a likely
        label error) and its forgetting events. The state stays on the data's device (48 bytes
        per sample; a batch adds O(batch) work and no device read); every `write()` records the
        per-class counts of easy, ambiguous and hard-to-learn samples, and about once per epoch
        a snapshot of every sample (under 2 MB at 1.28M samples) for the data map and the
        ranked lists of likely label errors and forgotten samples. Not reset by `write()`.
    """

    def __init__(
        self,
        logdir: Any,
        class_names: Sequence[str] | None = None,
        num_classes: int | None = None,
        name: str = metadata.DEFAULT_NAME,
        *,
        task: str = metadata.TASK_MULTICLASS,
        from_logits: bool = True,
        threshold: float | Sequence[float] | None = None,
        ignore_index: int | None = None,
        confusion: bool = True,
        confusion_every: int = 1,
        scores: bool = False,
        top_k: int | None = None,
        loss: str | Callable[[Any, Any], Any] | None = None,
        bins: Sequence[float] | None = None,
        loss_name: str | None = None,
        samples_per_cell: int = 8,
        max_samples: int = 256,
        layout: str | None = None,
        denormalize: Callable[[Any], Any] | None = None,
        max_image_side: int = media.DEFAULT_MAX_SIDE,
        distributed: bool = True,
        storage_options: Mapping[str, Any] | None = None,
        segment_bytes: int | None = None,
        track_samples: int | None = None,
    ):
        self._name = spec.check_name(name)
        task_spec = spec.task_spec(
            task=task,
            class_names=class_names,
            num_classes=num_classes,
            from_logits=from_logits,
            threshold=threshold,
            ignore_index=ignore_index,
            loss=loss,
            bins=bins,
            scores=scores,
            top_k=top_k,
        )
        samples = spec.sample_options(
            samples_per_cell=samples_per_cell,
            max_samples=max_samples,
            layout=layout,
            denormalize=denormalize,
            max_image_side=max_image_side,
        )
        self._accumulator = Accumulator(
            task_spec,
            samples,
            record_confusion=bool(confusion),
            track_samples=spec.check_track_samples(track_samples, task_spec.task),
        )
        confusion_every = spec.check_confusion_every(confusion_every, bool(confusion))
        self._loss_name = loss_name
        self._distributed = bool(distributed)
        remote = spec.remote_options(storage_options=storage_options, segment_bytes=segment_bytes)
        sink = open_sink(logdir, remote)
        destinations.claim(sink.destination, self._name, self)
        self._steps = StepWriter(sink, self._name, confusion_every=confusion_every)
        self._warned_empty = False
        self._closed = False
        # Closes our own event file (after the held confusion matrix, if any) at interpreter
        # exit or when the writer is collected.
        self._finalizer = weakref.finalize(self, self._steps.close_at_exit)

    @property
    def class_names(self) -> tuple[str, ...] | None:
        return self._accumulator.spec.class_names

    @property
    def num_classes(self) -> int | None:
        names = self.class_names
        return None if names is None else len(names)

    @property
    def name(self) -> str:
        return self._name

    @property
    def task(self) -> str:
        return self._accumulator.spec.task

    def update(
        self,
        outputs: Any,
        targets: Any,
        losses: Any = None,
        *,
        inputs: Any = None,
        sample_ids: Any = None,
    ) -> None:
        """Adds one batch. Without `inputs`, never waits for the device.

        Args:
          outputs: scores: (batch, num_classes) for multiclass, (batch,) or (batch, 1) for
            binary, (batch, num_labels) for multilabel; logits, or probabilities with
            `from_logits=False`. A NumPy array, torch.Tensor or tf.Tensor.
          targets: multiclass: class indices of shape (batch,) (integers), or one-hot / soft
            targets of shape (batch, num_classes); binary: 0/1 of shape (batch,); multilabel:
            0/1 of shape (batch, num_labels). Same library and device as `outputs`.
          losses: optional per-sample losses of shape (batch,) (multilabel: (batch,
            num_labels)), e.g. `F.cross_entropy(logits, y, reduction="none")`. Computed from
            the outputs if omitted.
          inputs: optional batch inputs, to keep the step's most confident mistakes: images
            ((batch, C, H, W), (batch, H, W, C) or (batch, H, W), any library) or a list of
            texts. The batch's candidates are chosen on the device; one small block of numbers
            and the inputs of the kept samples are copied to the host.
          sample_ids: ids of the batch's samples, a sequence or 1-D array of length batch: shown
            with each kept sample (dataset indices or file names). Required with
            `track_samples`: then integer dataset indices in [0, track_samples), of the
            outputs' library and device (e.g. the indices a Dataset returns with each item,
            moved with the batch), or a list / NumPy array when the outputs are in host memory.
            Ids outside that range refuse the batch where they can be read for free (host
            memory); on an accelerator they are counted apart and `write()` warns.
        """
        self._check_open()
        accumulator = self._accumulator
        if accumulator.tracker is not None and not accumulator.tracker.started:
            self._refuse_tracking_across_ranks()
        accumulator.update(outputs, targets, losses, inputs, sample_ids)

    def write(self, step: int, *, wall_time: float | None = None) -> PerClassStats | None:
        """Writes the statistics accumulated since the last write as step `step`, then resets.

        Returns the step's per-class statistics, or None (with a warning, once) when nothing was
        added since the last write. The step must be an integer in [0, 2**63), checked before
        anything else; if the sink fails (e.g. a full disk), nothing is reset and a retry can
        write the same data. Warns when the step is not above the previous one, and about
        invalid targets, non-finite outputs and outputs of the other kind than `from_logits`.
        """
        self._check_open()
        step = steps.check_step(step)
        accumulator = self._accumulator
        torch_state = accumulator.ops is None or accumulator.ops.name == "torch"
        world = distributed.torch_world() if self._distributed and torch_state else None
        if world is not None:
            pending = distributed.combine_ranks(world, accumulator)
        else:
            pending = accumulator.pending
        if not pending:
            if not self._warned_empty:
                self._warned_empty = True
                warnings.warn(
                    f"PerClassWriter(name={self._name!r}).write(step={step}) found no update() "
                    "since the last write; nothing was written for this step (this warning is "
                    "shown once per writer)",
                    RuntimeWarning,
                    stacklevel=2,
                )
            return None
        host = accumulator.read()
        if world is not None and world.rank != 0:
            stats = state.compute(host, accumulator.spec)
            self.reset()
            return stats  # the sum of all ranks; rank 0 writes it
        return self._steps.write(
            step,
            host,
            accumulator.spec,
            kept=accumulator.samples.kept(),
            loss_name=self._display_loss_name(),
            wall_time=time.time() if wall_time is None else float(wall_time),
            reset=self.reset,
            output_kind=accumulator.output_kind,
            where=f"PerClassWriter(name={self._name!r}).write(step={step})",
            tracker=accumulator.tracker,
        )

    def reset(self) -> None:
        """Drops what was accumulated since the last write."""
        self._accumulator.reset()

    def flush(self) -> None:
        """Flushes the sink. Every `write()` already flushes before it returns; this is for
        a shared SummaryWriter holding other data of yours, or for a URL logdir, the steps
        held while the store was unreachable (raises naming them if it still is)."""
        self._check_open()
        self._steps.sink.flush()

    def close(self) -> None:
        """Writes the last step's confusion matrix if `confusion_every` left it out, closes the
        writer's own event file (a given SummaryWriter is only flushed) and lets another writer
        take its (logdir, name). For a URL logdir whose store is unreachable,
        raises naming the steps not uploaded yet, and stays open: call close() again."""
        if not self._closed:
            self._steps.close()
            self._finalizer.detach()
            self._closed = True
            destinations.release(self._steps.sink.destination, self._name, self)

    def __enter__(self) -> PerClassWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _display_loss_name(self) -> str:
        if self._loss_name is not None:
            return self._loss_name
        if self._accumulator.losses_given:
            return USER_LOSS_NAME
        return loss_functions.display_name(self._accumulator.spec.loss)

    def _refuse_tracking_across_ranks(self) -> None:
        world = distributed.torch_world() if self._distributed else None
        if world is not None:
            raise ValueError(
                f"track_samples in a torch.distributed run of {world.size} ranks: the per-sample "
                "state is not merged across ranks. Create the writer with distributed=False on "
                "each rank (each rank then tracks and writes its own samples, e.g. to "
                "f'runs/exp/train-rank{rank}'), or track on a single process"
            )

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"PerClassWriter(name={self._name!r}) is closed")
