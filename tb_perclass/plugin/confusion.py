"""The answers of the confusion views' routes: one step's counts (`matrix`), the most-confused
pairs with their history (`pairs`), the difference of two series or steps (`diff`) and the
clustered class order (`order`), each reading the steps it needs (`confusion_steps`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
from tensorboard import errors

from tb_perclass.format import metadata
from tb_perclass.plugin.confusion_steps import ConfusionSteps
from tb_perclass.plugin.reader import PerClassReader, listed, step_position
from tb_perclass.plugin.series import Skipped


def matrix(
    reader: PerClassReader,
    ctx: Any,
    experiment_id: str,
    run: str,
    name: str,
    step: int | None,
    *,
    earlier: bool = False,
) -> dict[str, Any]:
    """The confusion counts of one step (the latest when `step` is None). With `earlier`, a
    `step` without a matrix (a writer with `confusion_every` writes one every N-th step) gets
    the latest step with one before it, and the answer's `requested_step` says so; a step that
    was skipped, or before the first matrix, still answers 404."""
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
    position = _earlier_position(series, step) if earlier else None
    if position is None:
        position = _position(series, run, step)
    counts = series.counts(position)
    result = {
        "run": run,
        "name": name,
        "task": series.meta.task,
        "step": int(series.steps[position]),
        "requested_step": step,
        "steps": series.steps,
        "class_names": list(series.meta.class_names),
        "skipped": listed(series.skipped),
    }
    if series.meta.task == metadata.TASK_MULTILABEL:
        matrices = counts.dense(series.meta)
        # Samples counted for the label with most (labels may differ with ignore_index).
        totals = matrices.sum(axis=(1, 2))
        result.update(encoding="dense", matrices=matrices, total=int(totals.max(initial=0)))
        return result
    cells, values = counts.wide()
    result["total"] = int(values.sum())
    if series.meta.num_classes > metadata.DENSE_MAX_CLASSES:
        rows, cols = np.divmod(cells, series.width)
        result.update(encoding="sparse", rows=rows, cols=cols, counts=values)
    else:
        result.update(encoding="dense", matrix=counts.dense(series.meta))
    return result


def pairs(
    reader: PerClassReader,
    ctx: Any,
    experiment_id: str,
    run: str,
    name: str,
    step: int | None,
    limit: int,
) -> dict[str, Any]:
    """The largest off-diagonal cells at `step`, each with its count over the steps: at every
    step up to `confusion_steps.HISTORY_POINTS` steps, else at that many evenly spread steps
    and `step` itself (`history_steps`; the tab draws the history as a small sparkline)."""
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
    if series.meta.task == metadata.TASK_MULTILABEL:
        raise errors.InvalidArgumentError(
            "most-confused pairs are for multiclass and binary runs; a multilabel run has "
            "one 2x2 matrix per label (see the confusion route)"
        )
    position = _position(series, run, step)
    cells, counts = series.counts(position).wide()
    rows, cols = np.divmod(cells, series.width)
    off = rows != cols
    cells, counts = cells[off], counts[off]
    top = np.lexsort((cells, -counts))[:limit]  # by count, ties by (true, predicted)
    chosen = cells[top]
    sample = series.history()
    at = int(np.searchsorted(sample.positions, position))
    history, positions = sample.counts_of(chosen), sample.positions
    if at == len(positions) or positions[at] != position:  # the step looked at, always shown
        history = np.insert(history, at, counts[top], axis=1)
        positions = np.insert(positions, at, position)
    true, predicted = np.divmod(chosen, series.width)
    return {
        "run": run,
        "name": name,
        "step": int(series.steps[position]),
        "steps": series.steps,
        "history_steps": series.steps[positions],
        "class_names": list(series.meta.class_names),
        "skipped": listed(series.skipped),
        "pairs": [
            {"true": int(t), "pred": int(p), "count": int(c), "history": h}
            for t, p, c, h in zip(true, predicted, counts[top], history)
        ],
    }


def diff(
    reader: PerClassReader,
    ctx: Any,
    experiment_id: str,
    name: str,
    run: str,
    step: int | None,
    base_run: str,
    base_step: int | None,
    limit: int,
    base_name: str | None = None,
) -> dict[str, Any]:
    """Counts of (run, name)@step minus (base_run, base_name)@base_step, nonzero cells only,
    and the cells that changed most. `base_name` defaults to `name`; both series must have
    the same task and classes."""
    base_name = name if base_name is None else base_name
    after = reader.series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
    before = reader.series(ctx, experiment_id, base_run, base_name, metadata.KIND_CONFUSION)
    label, base_label = (
        _series_label(run, name, base_name),
        _series_label(base_run, base_name, name),
    )
    _check_comparable(label, after.meta, base_label, before.meta)
    a, b = _position(after, run, step), _position(before, base_run, base_step)
    step_after, step_before = after.counts(a), before.counts(b)
    cells = np.union1d(step_after.wide()[0], step_before.wide()[0])
    count_after, count_before = step_after.counts_of(cells), step_before.counts_of(cells)
    delta = count_after - count_before
    changed = delta != 0
    cells, delta = cells[changed], delta[changed]
    count_after, count_before = count_after[changed], count_before[changed]
    rows, cols = np.divmod(cells, after.width)
    top = np.lexsort((cells, -np.abs(delta)))[:limit]
    return {
        "name": name,
        "task": after.meta.task,
        "run": run,
        "step": int(after.steps[a]),
        "base_run": base_run,
        "base_name": base_name,
        "base_step": int(before.steps[b]),
        "class_names": list(after.meta.class_names),
        "rows": rows,
        "cols": cols,
        "deltas": delta,
        "skipped": listed(
            after.skipped
            if (base_run, base_name) == (run, name)
            else _of_series(label, after.skipped) + _of_series(base_label, before.skipped)
        ),
        "changes": [
            {
                "true": int(rows[i]),
                "pred": int(cols[i]),
                "before": int(count_before[i]),
                "after": int(count_after[i]),
                "delta": int(delta[i]),
            }
            for i in top
        ],
    }


def order(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
) -> dict[str, Any]:
    """Classes ordered so that classes confused with each other sit together: reverse
    Cuthill-McKee (SciPy) on the symmetrised off-diagonal counts at `step`."""
    try:
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import reverse_cuthill_mckee
    except ImportError:
        raise errors.InvalidArgumentError(
            "the clustered class order needs SciPy in TensorBoard's environment: pip install scipy"
        ) from None
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_CONFUSION)
    if series.meta.task == metadata.TASK_MULTILABEL:
        raise errors.InvalidArgumentError("a clustered order needs a multiclass matrix")
    position = _position(series, run, step)
    cells, counts = series.counts(position).wide()
    rows, cols = np.divmod(cells, series.width)
    off = rows != cols
    size = series.meta.num_classes
    links = csr_matrix((counts[off], (rows[off], cols[off])), (size, size))
    order = reverse_cuthill_mckee((links + links.T).tocsr(), symmetric_mode=True)
    return {"order": order, "skipped": listed(series.skipped)}


def _series_label(run: str, name: str, other_name: str) -> str:
    """How an answer about two series names one: by its run, and its name where they differ."""
    return f"run {run!r}" if name == other_name else f"run {run!r} name {name!r}"


def _of_series(label: str, skipped: Iterable[Skipped]) -> tuple[Skipped, ...]:
    """`skipped` of one of two series in an answer, the series named in each reason."""
    return tuple(dataclasses.replace(s, reason=f"{label}: {s.reason}") for s in skipped)


def _position(series: ConfusionSteps, run: str, step: int | None) -> int:
    return step_position(series, run, step, "confusion matrix")


def _earlier_position(series: ConfusionSteps, step: int | None) -> int | None:
    """The position of the latest step at or before `step` (None: let `_position` answer, with
    its 404 for a skipped step or one before every matrix)."""
    if step is None or any(s.step == step for s in series.skipped):
        return None
    position = int(np.searchsorted(series.steps, step, side="right")) - 1
    return position if position >= 0 else None


def _check_comparable(
    label: str, meta: metadata.PerClassMetadata, base_label: str, base: metadata.PerClassMetadata
) -> None:
    if meta.task != base.task:
        raise errors.InvalidArgumentError(
            f"{label} is {meta.task} and {base_label} is {base.task}; a diff needs two "
            "series of one task"
        )
    if meta.class_names != base.class_names:
        if meta.num_classes != base.num_classes:
            detail = f"{meta.num_classes} classes against {base.num_classes}"
        else:
            i = next(
                i for i, (x, y) in enumerate(zip(meta.class_names, base.class_names)) if x != y
            )
            detail = (
                f"class {i} is {meta.class_names[i]!r} in one and {base.class_names[i]!r} in the "
                "other"
            )
        raise errors.InvalidArgumentError(
            f"{label} and {base_label} have different classes ({detail}); a diff needs the "
            "same classes in the same order"
        )
