"""What the end of a step tells the user, as `RuntimeWarning`s: problems in the data that were
written anyway (invalid targets, non-finite outputs), never dropped in silence. Used by
`step_writer`, for `PerClassWriter` and the Keras callback alike."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from tb_perclass.format import metadata
from tb_perclass.logger import losses as losses_module
from tb_perclass.logger.spec import TaskSpec
from tb_perclass.logger.state import PerClassStats


def warn(where: str, messages: Sequence[str | None]) -> None:
    """One warning per message, each prefixed with `where` (e.g. the writer and step); points
    at the caller of the public method that called `StepWriter.write`."""
    for message in messages:
        if message is not None:
            warnings.warn(f"{where}: {message}", RuntimeWarning, stacklevel=4)


def data_problems(stats: PerClassStats, spec: TaskSpec) -> list[str]:
    """What a step's statistics show that the user must hear about: invalid targets (written
    apart, not dropped) and elements with non-finite outputs."""
    found = []
    if stats.invalid_targets:
        valid = {
            metadata.TASK_MULTICLASS: f"class indices in [0, {spec.num_classes})",
            metadata.TASK_REGRESSION: "numbers",
        }.get(spec.task, "0 or 1" + (" (or -1)" if spec.loss in losses_module.HINGES else ""))
        found.append(
            f"{_count(stats.invalid_targets, 'target')} since the last write "
            f"{'was' if stats.invalid_targets == 1 else 'were'} not {valid}. They were checked "
            "on the device, so this is reported here rather than in update(): "
            "they are counted in the step's invalid_targets and in no class, and the "
            f"{stats.total} valid ones were written. Fix the targets, or pass ignore_index for "
            "a target value to skip"
        )
    nonfinite = np.asarray(stats.nonfinite_outputs)
    if nonfinite.sum() > 0:
        multilabel = spec.task == metadata.TASK_MULTILABEL
        unit, of = ("sample-label pair", "label") if multilabel else ("sample", "true class")
        worst = np.argsort(-nonfinite, kind="stable")[:3]
        per_class = ", ".join(
            f"{spec.class_names[c]!r}: {int(nonfinite[c])}" for c in worst if nonfinite[c] > 0
        )
        more = ", ..." if np.count_nonzero(nonfinite) > 3 else ""
        found.append(
            f"{_count(int(nonfinite.sum()), unit)} had NaN or infinite outputs ({of} "
            f"{per_class}{more}). They count for their class (nonfinite_outputs) but never as "
            "correct, and are left out of the confusion counts and the kept samples. Non-finite "
            "outputs usually mean the training diverged: look for a too high learning rate, "
            "NaN in the inputs or float16 overflow"
        )
    return found


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"
