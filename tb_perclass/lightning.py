"""PyTorch Lightning integration: per-class curves from the outputs Lightning already has.

`PerClassCallback` reads, at the end of each training and validation batch, what the
LightningModule's `training_step` / `validation_step` returned: a dict holding the batch's
`logits` (and optionally per-sample `losses` and the `targets`; by default targets are taken
from the batch, `batch[1]` or `batch["target"]`). It feeds two `PerClassWriter`s
(`log_dir/train`, `log_dir/validation`) and writes one step per epoch. No extra forward pass;
under DDP each rank updates and rank 0 writes the sums.

    class Model(lightning.LightningModule):
        def training_step(self, batch, batch_idx):
            x, y = batch
            logits = self(x)
            losses = F.cross_entropy(logits, y, reduction="none")
            self.log("loss", losses.mean())
            return {"loss": losses.mean(), "logits": logits, "losses": losses}

    trainer = lightning.Trainer(callbacks=[PerClassCallback(class_names=CLASSES)])

With `track_samples=len(train_set)` the training writer also records training dynamics per sample
(the Dynamics tab): the ids are the batch's dataset indices, returned by the step under
`sample_ids` or found in the batch (`batch["sample_id"]`, or `batch[2]` of a tuple batch, e.g. a
Dataset returning (x, y, index)).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import lightning

from tb_perclass import PerClassWriter


class PerClassCallback(lightning.pytorch.Callback):
    """Args:
    log_dir: where the train and validation runs go; by default `<trainer.log_dir>/perclass`
      (the directory of Lightning's own logger). A URL (s3://, gs://...) is checked when
      fitting starts, as the writers are made.
    class_names, num_classes, name, and any other keyword (e.g. `storage_options`): as for
      `PerClassWriter`.
    logits_key, losses_key, targets_key: the keys of the step outputs read.
    samples: keep the most confident misclassified validation samples: the batch's inputs
      (`batch[0]` or `batch["input"]`) must then be images or texts.
    track_samples: the training set's size, to record training dynamics per sample in the
      training run; each training batch must then carry its dataset indices (`sample_ids_key`
      in the step's outputs, else `batch["sample_id"]` or `batch[2]`).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        class_names: Sequence[str] | None = None,
        num_classes: int | None = None,
        *,
        logits_key: str = "logits",
        losses_key: str = "losses",
        targets_key: str = "targets",
        samples: bool = False,
        track_samples: int | None = None,
        sample_ids_key: str = "sample_ids",
        **writer_options: Any,
    ):
        super().__init__()
        self._track_samples = track_samples
        self._sample_ids_key = sample_ids_key
        self._log_dir = None if log_dir is None else os.fspath(log_dir)
        self._writer_options = dict(
            class_names=class_names, num_classes=num_classes, **writer_options
        )
        self._keys = (logits_key, losses_key, targets_key)
        self._samples = samples
        self._writers: dict[str, PerClassWriter] = {}

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        root = self._log_dir or os.path.join(
            trainer.log_dir or trainer.default_root_dir, "perclass"
        )
        for split in ("train", "validation"):
            if split not in self._writers:
                tracked = self._track_samples if split == "train" else None
                # A URL root (s3://, gs://...) is joined with "/" on every operating system.
                run = f"{root.rstrip('/')}/{split}" if "://" in root else os.path.join(root, split)
                self._writers[split] = PerClassWriter(
                    run, **self._writer_options, track_samples=tracked
                )

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._update("train", outputs, batch, keep_samples=False)

    def on_validation_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ) -> None:
        if not trainer.sanity_checking:  # Lightning's pre-training check is not an epoch
            self._update("validation", outputs, batch, keep_samples=self._samples)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._writers["train"].write(step=trainer.current_epoch)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._writers["validation"].write(step=trainer.current_epoch)

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def _update(self, split: str, outputs: Any, batch: Any, keep_samples: bool) -> None:
        logits_key, losses_key, targets_key = self._keys
        if not isinstance(outputs, Mapping) or logits_key not in outputs:
            raise ValueError(
                f"the {'training' if split == 'train' else 'validation'}_step must return a dict "
                f"with the batch's outputs under {logits_key!r} (e.g. return {{'loss': loss, "
                f"'{logits_key}': logits}}) for PerClassCallback; it returned "
                f"{type(outputs).__name__}"
                + (f" with keys {sorted(outputs)}" if isinstance(outputs, Mapping) else "")
            )
        targets = outputs.get(targets_key)
        if targets is None:
            targets = _from_batch(batch, 1, "target", targets_key)
        inputs = _from_batch(batch, 0, "input", None) if keep_samples else None
        sample_ids = None
        if split == "train" and self._track_samples is not None:
            sample_ids = outputs.get(self._sample_ids_key)
            if sample_ids is None:
                sample_ids = _from_batch(batch, 2, "sample_id", self._sample_ids_key)
        self._writers[split].update(
            outputs[logits_key].detach(),
            targets,
            losses=outputs.get(losses_key),
            inputs=inputs,
            sample_ids=sample_ids,
        )


def _from_batch(batch: Any, position: int, key: str, fallback: str | None) -> Any:
    if isinstance(batch, Mapping) and key in batch:
        return batch[key]
    if isinstance(batch, (list, tuple)) and len(batch) > position:
        return batch[position]
    if fallback is None:
        return None
    what = "targets" if key == "target" else "sample ids (track_samples)"
    layout = "(inputs, targets)" if key == "target" else "(inputs, targets, ids)"
    raise ValueError(
        f"PerClassCallback found no {what}: return them from the step under {fallback!r}, or "
        f"use batches {layout} or dicts with a {key!r} key"
    )
