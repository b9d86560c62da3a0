"""The misclassified samples kept for one step (the `samples` kind), on the host.

`MistakeBuffer` keeps the most confident mistakes with at most `per_cell` per confusion cell and
at most `total` in all: exactly the set a greedy pass over every mistake of the step in
descending confidence would keep. Once full, it tells the device-side selection the confidence a
new mistake must beat (`floor`), so later batches move almost nothing to the host. Its memory is
bounded by `total` downscaled 8-bit images (or texts).
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
from typing import Any

import numpy as np

from tb_perclass.format import metadata
from tb_perclass.logger.samples import media


@dataclasses.dataclass(eq=False)
class Mistake:
    score: float  # probability of the (wrong) predicted outcome
    loss: float
    row: int  # true class, or the label (multilabel)
    cell: int  # predicted class, or 2 * target + prediction (multilabel)
    sample_id: Any = None
    content: Any = None  # downscaled uint8 pixels or a str, filled in once the mistake is kept
    alive: bool = True

    def manifest(self, task: str, index: int, encoded: media.Media) -> dict[str, Any]:
        entry: dict[str, Any] = {"index": index}
        if task == metadata.TASK_MULTILABEL:
            entry.update(label=self.row, true=self.cell // 2, pred=self.cell % 2)
        else:
            entry.update(true=self.row, pred=self.cell)
        entry.update(
            score=self.score,
            loss=self.loss if math.isfinite(self.loss) else None,
            id=self.sample_id,
            media=encoded.media_type,
            width=encoded.width,
            height=encoded.height,
        )
        return entry


class MistakeBuffer:
    def __init__(self, per_cell: int, total: int):
        self.per_cell = per_cell
        self.total = total
        self._cells: dict[tuple[int, int], list[Mistake]] = {}
        # The weakest score of every full cell: a cheap first test for most candidates.
        self._full_floor: dict[tuple[int, int], float] = {}
        self._heap: list[tuple[float, int, Mistake]] = []  # every kept mistake, lazily pruned
        self._order = itertools.count()
        self._kept = 0

    def __len__(self) -> int:
        return self._kept

    def floor(self) -> float:
        """A mistake must be more confident than this to have any chance of being kept."""
        if self._kept < self.total:
            return float("-inf")
        self._prune()
        return self._heap[0][0]

    def admits_many(self, scores: np.ndarray, rows: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """`admits` for many candidates at once, against the buffer as it is now (floors only
        rise, so a candidate refused here would be refused later in the batch too)."""
        floors = np.fromiter(
            (self._full_floor.get(key, -np.inf) for key in zip(rows.tolist(), cells.tolist())),
            dtype=np.float64,
            count=len(scores),
        )
        return (scores > floors) & (scores > self.floor())

    def admits(self, score: float, row: int, cell: int) -> bool:
        """False when a mistake of this score and cell would certainly be refused."""
        return score > self._full_floor.get((row, cell), float("-inf")) and (
            self._kept < self.total or score > self.floor()
        )

    def offer(self, mistake: Mistake) -> bool:
        """Keeps `mistake` if it belongs to the best set so far, evicting what it displaces."""
        if self._kept >= self.total and mistake.score <= self.floor():
            return False
        key = (mistake.row, mistake.cell)
        cell = self._cells.setdefault(key, [])
        if len(cell) >= self.per_cell:
            weakest = min(cell, key=lambda m: m.score)
            if mistake.score <= weakest.score:
                return False
            self._drop(weakest, cell)
        elif self._kept >= self.total:
            self._prune()
            _, _, weakest = heapq.heappop(self._heap)
            self._drop(weakest, self._cells[(weakest.row, weakest.cell)])
        cell.append(mistake)
        heapq.heappush(self._heap, (mistake.score, next(self._order), mistake))
        self._kept += 1
        self._update_floor(key, cell)
        return True

    def kept(self) -> list[Mistake]:
        """The kept mistakes, most confident first; the buffer keeps them."""
        return sorted((m for cell in self._cells.values() for m in cell), key=lambda m: -m.score)

    def take(self) -> list[Mistake]:
        """The kept mistakes, most confident first, and an empty buffer."""
        kept = self.kept()
        self._cells.clear()
        self._full_floor.clear()
        self._heap.clear()
        self._kept = 0
        return kept

    def _drop(self, mistake: Mistake, cell: list[Mistake]) -> None:
        cell.remove(mistake)
        mistake.alive = False
        mistake.content = None
        self._kept -= 1
        self._update_floor((mistake.row, mistake.cell), cell)

    def _update_floor(self, key: tuple[int, int], cell: list[Mistake]) -> None:
        if len(cell) >= self.per_cell:
            self._full_floor[key] = min(m.score for m in cell)
        else:
            self._full_floor.pop(key, None)

    def _prune(self) -> None:
        while self._heap and not self._heap[0][2].alive:
            heapq.heappop(self._heap)


def encode(mistakes: list[Mistake], task: str) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The manifest and the encoded samples of a step's kept mistakes, in the same order."""
    manifest, blobs = [], []
    for position, mistake in enumerate(mistakes):
        if isinstance(mistake.content, str):
            encoded = media.encode_text(mistake.content)
        else:
            encoded = media.encode_png(np.asarray(mistake.content))
        manifest.append(mistake.manifest(task, position + 1, encoded))
        blobs.append(encoded.data)
    return manifest, blobs
