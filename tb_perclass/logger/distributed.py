"""The rank merge: a writer's state summed across the processes of a `torch.distributed` run.

With data parallel training every rank calls `update()` on its own batches; `write()` then has
every rank agree on the classes, sums the state tables with `all_reduce` (the framework's own
collectives, on the state's device), gathers the kept samples on rank 0, and only rank 0
writes. Nothing here imports torch unless the program already did.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Any

from tb_perclass.logger import arrays
from tb_perclass.logger.spec import TaskSpec

if TYPE_CHECKING:  # the writer hands its accumulator over; nothing here makes one
    from tb_perclass.logger.accumulator import Accumulator


@dataclasses.dataclass(frozen=True)
class World:
    rank: int
    size: int
    backend: str

    def all_gather_object(self, value: Any) -> list[Any]:
        import torch.distributed as dist

        gathered: list[Any] = [None] * self.size
        dist.all_gather_object(gathered, value)
        return gathered

    def gather_object(self, value: Any) -> list[Any] | None:
        """Every rank's `value` on rank 0 (None elsewhere)."""
        import torch.distributed as dist

        gathered: list[Any] | None = [None] * self.size if self.rank == 0 else None
        dist.gather_object(value, gathered, dst=0)
        return gathered

    def sum_in_place(self, tensor: Any) -> None:
        import torch.distributed as dist

        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)

    def state_device(self) -> Any:
        """Where a rank without data creates its zero state: the collectives' device."""
        import torch

        if self.backend == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")


def torch_world() -> World | None:
    """The current torch.distributed process group if there is one with several ranks."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return World(rank=dist.get_rank(), size=dist.get_world_size(), backend=dist.get_backend())


def combine_ranks(world: World, accumulator: Accumulator) -> bool:
    """Collective: every rank's state summed into every rank's, kept samples merged on rank 0.
    Returns whether any rank had data. Every rank must call it (from `write()`) together."""
    specs = world.all_gather_object(accumulator.spec if accumulator.pending else None)
    if all(spec is None for spec in specs):
        return False
    spec = agreed_spec(specs)
    if not accumulator.started:  # this rank saw no batch yet: join with zeros
        import torch

        ops = arrays.ops_for_library("torch")
        like = torch.zeros(1, device=world.state_device())
        accumulator.start(ops, ops.device(like), spec, like)
    world.sum_in_place(accumulator.table)
    if accumulator.confusion is not None:
        world.sum_in_place(accumulator.confusion)
    for array in (accumulator.scores or {}).values():
        world.sum_in_place(array)
    gathered = world.gather_object(accumulator.samples.take())
    accumulator.samples.merge(gathered or [])
    accumulator.pending = True
    return True


def agreed_spec(specs: list[TaskSpec | None]) -> TaskSpec:
    """The spec every rank that saw data agrees on (task and class names); raises naming the
    ranks that disagree. Ranks that saw no data (None) adopt it."""
    known = [(rank, spec) for rank, spec in enumerate(specs) if spec is not None]
    first_rank, spec = known[0]
    names = spec.class_names
    for rank, other in known[1:]:
        if (other.class_names, other.task, other.scores, other.top_k) != (
            names,
            spec.task,
            spec.scores,
            spec.top_k,
        ):
            raise ValueError(
                f"ranks disagree on what they log: rank {first_rank} has task={spec.task!r} "
                f"with {len(names)} classes {_preview(names)}, rank {rank} has "
                f"task={other.task!r} with {len(other.class_names)} classes "
                f"{_preview(other.class_names)}"
                + (
                    f" (scores={spec.scores}, top_k={spec.top_k} vs scores={other.scores}, "
                    f"top_k={other.top_k})"
                    if (other.scores, other.top_k) != (spec.scores, spec.top_k)
                    else ""
                )
                + "; create the writer with the same class_names (and task, scores, top_k) on "
                "every rank"
            )
    return spec


def _preview(names: tuple[str, ...]) -> str:
    shown = ", ".join(repr(n) for n in names[:4])
    return f"[{shown}{', ...' if len(names) > 4 else ''}]"
