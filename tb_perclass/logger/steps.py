"""What a step may be, and what TensorBoard does with steps that do not go up.

Event files store a step as a signed 64-bit integer; a value outside fails deep inside protobuf.
A step at or below the previous one is worse: TensorBoard's default data server takes it as a
restart of the run and drops every value written before from that step up (measured with
tensorboard 2.21: steps 0-4, then 1, then 5 are served as [0, 1, 5], the later step 1 kept),
while `--load_fast=false` hands every value to the plugin in the order written, and the plugin
shows the last value written at each step (`plugin.series.last_write_per_step`). Negative steps
are refused (no training loop means one; they come from an uninitialised counter), and a step
that does not go up is written with a warning that says what the Per-Class tab will show.
"""

from __future__ import annotations

import operator
from typing import Any

MAX_STEP = 2**63 - 1


def check_step(step: Any) -> int:
    """The step as an int; TypeError or ValueError naming `step` when it cannot be one."""
    if isinstance(step, bool) or "bool" in str(getattr(step, "dtype", "")):
        raise TypeError(f"step={step!r} is a bool; pass an integer, e.g. the epoch")
    try:
        value = operator.index(step)
    except TypeError:
        raise TypeError(
            f"step must be an integer, e.g. the epoch or the global step; got {step!r} "
            f"({type(step).__name__})"
        ) from None
    if value < 0:
        raise ValueError(
            f"step={value} is negative; steps count up from 0 (TensorBoard takes a step below "
            "an earlier one as a restart and hides the earlier steps): pass the epoch or the "
            "global step"
        )
    if value > MAX_STEP:
        raise ValueError(
            f"step={value} does not fit the signed 64-bit integer an event file stores; pass "
            "0 <= step < 2**63"
        )
    return value


class StepOrder:
    """The last step written to one set of tags, to warn when the next one does not go up."""

    def __init__(self) -> None:
        self.last: int | None = None

    def warning(self, step: int, tags: str) -> str | None:
        """What TensorBoard will do if `step` is written now (None: nothing unusual)."""
        last = self.last
        if last is None or step > last:
            return None
        if step == last:
            return (
                f"step {step} was already written to {tags}; the Per-Class tab shows only the "
                "later one (so does TensorBoard's default data server; with --load_fast=false "
                "TensorBoard's own dashboards keep both, at the same step). Call write() once "
                "per step, e.g. at the end of each epoch"
            )
        return (
            f"step {step} is lower than step {last}, written before to {tags}. TensorBoard's "
            "default data server takes a step that is not above the previous one as a restart "
            f"of the run: it drops every value written before from step {step} up (here steps "
            f"{step} to {last}) and shows the new ones (with --load_fast=false the Per-Class "
            "tab shows the last value written at each step: the new ones, and the earlier ones "
            "above the new step until the run writes those steps again). The usual cause is a "
            "run resumed from a checkpoint "
            "(or a step counter that restarts, e.g. the batch index within an epoch): pass the "
            "step the run had reached, e.g. the checkpoint's epoch + 1 or a global step, or "
            "write the resumed run to a new directory"
        )

    def record(self, step: int) -> None:
        self.last = step
