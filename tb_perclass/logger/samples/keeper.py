"""The samples pipeline of one writer: each batch's inputs checked, its most confident mistakes
picked from the candidates scored on the device, and only their inputs fetched and converted.

Used when `update()` is given `inputs`. Per batch one small block of numbers goes to the host
(`candidates`); the kept set (`buffer`) then says which few mistakes may enter, and only those
inputs are copied (images pooled on the device first when large) and turned into pixels or text
(`media`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tb_perclass.format import metadata
from tb_perclass.logger import arrays
from tb_perclass.logger.arrays import ArrayOps
from tb_perclass.logger.samples import candidates, media
from tb_perclass.logger.samples.buffer import Mistake, MistakeBuffer
from tb_perclass.logger.spec import SampleOptions, TaskSpec
from tb_perclass.logger.tasks.batch import Batch


@dataclasses.dataclass(frozen=True)
class KeptSamples:
    """A step's kept mistakes, most confident first, and the caps that selected them."""

    mistakes: list[Mistake]
    per_cell: int
    total: int


class SampleKeeper:
    """The misclassified samples kept since the last write (bounded by the options' caps)."""

    def __init__(self, options: SampleOptions):
        self.options = options
        self.buffer = MistakeBuffer(per_cell=options.per_cell, total=options.total)
        self.seen = False  # inputs were given since the last write

    def check(self, batch_inputs: Any, sample_ids: Any, batch_size: int) -> media.InputsSpec | None:
        """How to read this batch's `inputs` (None without them), from shapes and dtypes only."""
        if batch_inputs is None:
            if sample_ids is not None:
                raise ValueError("sample_ids identify kept samples, which needs inputs=")
            return None
        if isinstance(batch_inputs, (list, tuple)):
            if not all(isinstance(text, str) for text in batch_inputs):
                raise TypeError(
                    "inputs given as a list must be texts (str); pass images as one array"
                )
            spec = media.inspect_inputs((len(batch_inputs),), None, batch_size, None, True)
        else:
            library = arrays.library_of(batch_inputs)
            if library is None:
                raise TypeError(
                    f"inputs is {type(batch_inputs).__module__}."
                    f"{type(batch_inputs).__qualname__}; pass an image array (NumPy, torch or "
                    "TensorFlow) or a list of texts"
                )
            input_ops = arrays.ops_for_library(library)
            spec = media.inspect_inputs(
                input_ops.shape(batch_inputs),
                input_ops.dtype_name(batch_inputs),
                batch_size,
                self.options.layout,
                False,
            )
        if sample_ids is not None:
            count = (
                len(sample_ids) if isinstance(sample_ids, (list, tuple)) else _first_dim(sample_ids)
            )
            if count != batch_size:
                raise ValueError(
                    f"sample_ids has {count} entries but the batch has {batch_size} samples; "
                    "pass one id per sample"
                )
        return spec

    def keep(
        self,
        ops: ArrayOps,
        batch: Batch,
        spec: TaskSpec,
        batch_inputs: Any,
        inputs_spec: media.InputsSpec,
        sample_ids: Any,
    ) -> None:
        """Offers the batch's mistakes to the kept set and fetches the inputs of those kept."""
        self.seen = True
        kept = self.buffer
        block = ops.to_numpy(candidates.candidates(ops, batch, spec, kept.total))
        scores = block[:, candidates.SCORE]
        order = np.argsort(-scores, kind="stable")
        order = order[scores[order] > kept.floor()]  # most batches end here
        order = order[
            kept.admits_many(
                scores[order],
                block[order, candidates.ROW].astype(np.int64),
                block[order, candidates.CELL].astype(np.int64),
            )
        ]
        if block.shape[1] > candidates.ELEMENT:
            elements = block[order, candidates.ELEMENT].astype(np.int64)
        else:
            elements = order
        labels_per_sample = spec.num_classes if spec.task == metadata.TASK_MULTILABEL else 1
        new = []
        offered = zip(
            scores[order].tolist(),
            block[order, candidates.ROW].astype(np.int64).tolist(),
            block[order, candidates.CELL].astype(np.int64).tolist(),
            block[order, candidates.LOSS].tolist(),
            elements.tolist(),
        )
        for score, row, cell, loss, element in offered:
            if not kept.admits(score, row, cell):
                continue  # its cell is full of more confident mistakes, or the set is
            mistake = Mistake(score, loss, row, cell)
            if kept.offer(mistake):
                new.append((element // labels_per_sample, mistake))
        new = [(sample, m) for sample, m in new if m.alive]
        if not new:
            return
        if sample_ids is not None:
            ids = arrays.fetch_rows(sample_ids, [sample for sample, _ in new])
            for sample_id, (_, mistake) in zip(ids, new):
                mistake.sample_id = _json_id(sample_id)
        if inputs_spec.kind == "text":
            texts = arrays.fetch_rows(batch_inputs, [sample for sample, _ in new])
            for text, (_, mistake) in zip(texts, new):
                mistake.content = text
            return
        self._fetch_images(batch_inputs, inputs_spec, new)

    def _fetch_images(
        self, batch_inputs: Any, inputs_spec: media.InputsSpec, new: list[tuple[int, Mistake]]
    ) -> None:
        """Pooled on the device, copied and converted a bounded number at a time."""
        max_side = self.options.max_side
        size = inputs_spec.chunk(max_side)
        factor = inputs_spec.pool_factor(max_side)
        input_ops = arrays.ops_for_library(arrays.library_of(batch_inputs))
        for start in range(0, len(new), size):
            part = new[start : start + size]
            raw = input_ops.fetch_images(
                batch_inputs, [sample for sample, _ in part], inputs_spec.layout, factor
            )
            pixels = media.to_pixels(raw, inputs_spec.layout, self.options.denormalize)
            for image, (_, mistake) in zip(pixels, part):
                mistake.content = media.downscale(image, max_side)

    def kept(self) -> KeptSamples | None:
        """What a write records: the kept mistakes (None when no batch had inputs)."""
        if not self.seen:
            return None
        return KeptSamples(self.buffer.kept(), self.buffer.per_cell, self.buffer.total)

    def take(self) -> list[Mistake] | None:
        """The kept mistakes, leaving none (None when no batch had inputs)."""
        return self.buffer.take() if self.seen else None

    def merge(self, gathered: list[list[Mistake] | None]) -> None:
        """Offers every rank's kept mistakes (`take()` of each) to this keeper."""
        self.seen = any(kept is not None for kept in gathered)
        for kept in gathered:
            for mistake in kept or []:
                self.buffer.offer(mistake)

    def reset(self) -> None:
        self.buffer.take()
        self.seen = False


def _first_dim(values: Any) -> int:
    shape = getattr(values, "shape", None)
    if shape is None or len(shape) != 1:
        raise ValueError(
            f"sample_ids must be a sequence or a 1-D array of ids; got shape {tuple(shape or ())}"
        )
    return int(shape[0])


def _json_id(value: Any) -> Any:
    """Ids as JSON values: integers, or strings (bytes decoded)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, (int, str)) else str(value)
