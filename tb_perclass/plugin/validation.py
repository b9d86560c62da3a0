"""What one step of a per-class summary must hold to be served: one check per kind.

The series decoders (`series`) run every step through these before keeping it; a step that
fails is skipped with the reason, and the rest of its series is served. Event files are not
trusted: they may come from another version, a damaged disk, or someone's own writer. The rules
(also in the README's data contract):

- Counts (the stats rows count, correct, nonfinite, nonfinite_outputs and the two extra columns;
  every confusion cell) are whole numbers from 0 to 2**53, in an integer or floating tensor;
  correct, nonfinite and nonfinite_outputs are at most the class's count, and the cells of one
  confusion step add up to at most 2**53 (so every sum the routes make is exact). A step with a
  count that breaks this is skipped whole: its other numbers are no safer to show.
- Stats losses are means and are served as written; NaN and infinities read as "no finite
  loss" (null), which is what the writer itself writes for a class without one.
- Shapes: stats [5, C + 2] (version 2) or [4, C] (version 1); confusion [C, C] or [L, 2, 2]
  (dense) or [n, 3] triplets with true in [0, C) and predicted in [0, C) (multilabel: a cell
  code in [0, 4)), each cell once (COO).
- A samples manifest is UTF-8 JSON: a list with one object per stored sample, whose fields
  have the contract's types (see `manifest_entries`).
- A scores tensor is an int64 vector in the layout of `score_tensor` for the tag's task, class
  count and top_k (see `score_columns`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tb_perclass.format import metadata, score_tensor

MAX_COUNT = 2**53  # integers up to here are exact in float64, and sums of them fit int64
_COUNT_ROW = metadata.STATS_ROWS.index("count")
_DTYPE_KINDS = {"O": "string", "S": "string", "U": "string", "b": "bool", "c": "complex"}


class Malformed(ValueError):
    """One step's data breaks the data contract; the message says how, for the `skipped` list."""


def stats_table(arrays: Sequence[Any], num_classes: int) -> tuple[np.ndarray, dict[int, str]]:
    """The stats of a series' steps as float64 [S, 5, C + 2] (`metadata.stats_shape`), from
    version-2 tensors or version-1 [4, C] ones (the missing row and columns read as 0), and why
    each bad step breaks the contract, by position (its values are left zero). Every step's
    counts are checked at once; a bad step is looked at again on its own for the message."""
    values = np.zeros((len(arrays), *metadata.stats_shape(num_classes)))
    problems: dict[int, str] = {}
    for position, array in enumerate(arrays):
        try:
            array = _stats_array(array, num_classes)
        except Malformed as error:
            problems[position] = str(error)
        else:
            values[position, : array.shape[0], : array.shape[1]] = array
    for position in np.flatnonzero(~_stats_counts_ok(values, num_classes)):
        try:
            _check_stats_counts(values[position], num_classes)
        except Malformed as error:
            problems[int(position)] = str(error)
    return values, problems


def _stats_array(array: Any, num_classes: int) -> np.ndarray:
    array = _numbers(array, "stats")
    v1, v2 = (len(metadata.STATS_ROWS_V1), num_classes), metadata.stats_shape(num_classes)
    if array.shape not in (v1, v2):
        raise Malformed(
            f"stats tensor has shape {list(array.shape)}; {num_classes} classes take {list(v2)} "
            f"(or {list(v1)}, version 1)"
        )
    return array


def _stats_counts_ok(values: np.ndarray, num_classes: int) -> np.ndarray:
    """Per step ([..., 5, C + 2] in), whether every count is a count and none exceeds its
    class's."""
    counts = values[..., _COUNT_ROW:, :num_classes]  # count, correct, nonfinite, nonfinite_outputs
    extra = values[..., _COUNT_ROW, num_classes:]
    ok = (counts[..., 1:, :] <= counts[..., :1, :]).all(axis=(-2, -1))
    for part, axes in ((counts, (-2, -1)), (extra, -1)):
        # `_count_ok` in fewer passes: NaN fails every comparison, infinities the range.
        ok &= (part.min(axis=axes) >= 0) & (part.max(axis=axes) <= MAX_COUNT)
        ok &= (part == np.rint(part)).all(axis=axes)
    return ok


def _check_stats_counts(values: np.ndarray, num_classes: int) -> None:
    """What `_stats_counts_ok` finds wrong with one step, as a Malformed naming the first value."""
    counted = values[_COUNT_ROW + 1 :, :num_classes]  # correct, nonfinite, nonfinite_outputs
    count = values[_COUNT_ROW, :num_classes]

    def name(row: int, column: int) -> str:
        if column >= num_classes:
            return metadata.STATS_EXTRA_COLUMNS[column - num_classes]
        return f"{metadata.STATS_ROWS[row]} of class {column}"

    _check_counts(values[_COUNT_ROW], lambda i: name(_COUNT_ROW, i))
    _check_counts(counted, lambda i: name(_COUNT_ROW + 1 + i // num_classes, i % num_classes))
    over = np.argwhere(counted > count)
    if len(over):
        row, column = over[0]
        raise Malformed(
            f"{name(_COUNT_ROW + 1 + row, column)} is {_shown(counted[row, column])}, more than "
            f"the class's count {_shown(count[column])}"
        )


def confusion_cells(
    array: np.ndarray, meta: metadata.PerClassMetadata, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """A step's nonzero confusion cells as sorted int64 linear indices (true * width + cell) and
    their int64 counts, from the dense or COO layout the metadata names."""
    array = _numbers(array, "confusion")
    _check_whole(array)
    array = array.astype(np.int64, copy=False)
    num_classes = meta.num_classes
    if meta.extra.get("encoding") == metadata.ENCODING_COO:
        if array.ndim != 2 or array.shape[1] != 3:
            raise Malformed(
                f"COO confusion tensor has shape {list(array.shape)}; expected [cells, 3] "
                "triplets of (true, predicted, count)"
            )
        true, cell, counts = array[:, 0], array[:, 1], array[:, 2]
        _check_range(true, num_classes, "true class")
        _check_range(cell, width, "predicted class" if width == num_classes else "cell code")
        _check_counts(counts, lambda i: f"the count of cell ({true[i]}, {cell[i]})")
        index = true * width + cell
        if counts.size and counts.min() == 0:  # a zero cell says nothing: left out
            index, counts = index[counts != 0], counts[counts != 0]
        order = np.argsort(index, kind="stable")
        index, counts = index[order], counts[order]
        repeated = np.flatnonzero(index[1:] == index[:-1])
        if len(repeated):
            true, cell = divmod(int(index[repeated[0]]), width)
            raise Malformed(f"COO confusion tensor has cell ({true}, {cell}) more than once")
    else:
        multilabel = meta.task == metadata.TASK_MULTILABEL
        expected = (num_classes, 2, 2) if multilabel else (num_classes, num_classes)
        if array.shape != expected:
            raise Malformed(
                f"confusion tensor has shape {list(array.shape)}; {num_classes} "
                f"{'labels' if multilabel else 'classes'} take {list(expected)}"
            )
        flat = array.reshape(-1)
        _check_counts(flat, lambda i: f"the count of cell {np.unravel_index(i, expected)}")
        index = np.flatnonzero(flat)
        counts = flat[index]
    total = counts.sum(dtype=np.float64)
    if total > MAX_COUNT:
        raise Malformed(f"confusion counts add up to {total:.6g}, beyond 2**53")
    return index, counts


def score_columns(array: Any, meta: metadata.PerClassMetadata) -> score_tensor.ScoreColumns:
    """A step's scores tensor split into its checked columns: non-negative integers up to
    2**53, of exactly the length the layout implies, bins and classes in range (binary tags
    hold one row: the positive class)."""
    array = np.asarray(array)
    if array.dtype.kind not in "iu":
        dtype = _DTYPE_KINDS.get(array.dtype.kind, str(array.dtype))
        raise Malformed(f"scores tensor has dtype {dtype}; expected int64")
    rows = 1 if meta.task == metadata.TASK_BINARY else meta.num_classes
    try:
        return score_tensor.parse(
            array.reshape(-1) if array.ndim == 1 else array,
            rows=rows,
            task=meta.task,
            top_k=int(meta.extra.get("top_k", 0)),
        )
    except ValueError as error:
        raise Malformed(str(error)) from None


def manifest_entries(
    raw: bytes, meta: metadata.PerClassMetadata, stored: int
) -> list[dict[str, Any]]:
    """A step's samples manifest (element 0 of its blob sequence) as the list of entries the
    routes serve: the contract's fields only, with non-finite scores and losses as None.

    Each entry is an object with an integer `index` in 1..`stored` (each index once), integer
    `true` and `pred` classes in [0, C) (multilabel: a `label` in [0, L) and `true`, `pred`
    0 or 1), a string `media`, and optionally a number or null `score` and `loss`, an integer,
    string or null `id`, and non-negative integer `width` and `height`."""
    if not isinstance(raw, bytes):  # a samples tag holding another dtype or shape of tensor
        raise Malformed(f"samples manifest is {type(raw).__name__} data, not bytes")
    try:
        entries = json.loads(raw)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise Malformed(f"samples manifest is not UTF-8 JSON ({_clip(str(error))})") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Malformed("samples manifest is not a JSON list of objects")
    if len(entries) != stored:
        raise Malformed(f"samples manifest lists {len(entries)} samples for {stored} stored")
    multilabel = meta.task == metadata.TASK_MULTILABEL
    classes = (2, 2) if multilabel else (meta.num_classes, meta.num_classes)
    result, seen = [], set()
    for position, entry in enumerate(entries):
        where = f"samples manifest entry {position}"
        served = {"index": _integer(entry, "index", 1, stored + 1, where)}
        if served["index"] in seen:
            raise Malformed(f"{where} repeats index {served['index']}")
        seen.add(served["index"])
        if multilabel:
            served["label"] = _integer(entry, "label", 0, meta.num_classes, where)
        served["true"] = _integer(entry, "true", 0, classes[0], where)
        served["pred"] = _integer(entry, "pred", 0, classes[1], where)
        served["score"] = _optional_number(entry, "score", where)
        served["loss"] = _optional_number(entry, "loss", where)
        sample_id = entry.get("id")
        if sample_id is not None and not isinstance(sample_id, (int, str)):
            raise Malformed(f"{where} has id {_clip(repr(sample_id))}; ids are integers or strings")
        served["id"] = sample_id
        served["media"] = entry.get("media")
        if not isinstance(served["media"], str):
            raise Malformed(
                f"{where} has media {_clip(repr(served['media']))}; expected a media type"
            )
        served["width"] = _integer(entry, "width", 0, None, where, default=0)
        served["height"] = _integer(entry, "height", 0, None, where, default=0)
        result.append(served)
    return result


def _numbers(array: Any, what: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype.kind not in "iuf":
        dtype = _DTYPE_KINDS.get(array.dtype.kind, str(array.dtype))
        raise Malformed(f"{what} tensor has dtype {dtype}; expected numbers (float64 or int64)")
    return array


def _check_whole(array: np.ndarray) -> None:
    """Floats must hold whole numbers, and nothing may lie beyond +-2**53, before an int64 cast."""
    if array.size == 0:
        return
    if array.dtype.kind in "iu":  # whole and finite already; only the range is in question
        if array.min() >= -MAX_COUNT and array.max() <= MAX_COUNT:
            return
        bad = (array < -MAX_COUNT) | (array > MAX_COUNT)
    else:
        bad = ~(np.isfinite(array) & (np.abs(array) <= MAX_COUNT) & (array == np.rint(array)))
    value = array.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])]
    raise Malformed(
        f"confusion tensor holds {_shown(value)}; cells and counts are whole numbers up to 2**53"
    )


def _count_ok(values: np.ndarray) -> np.ndarray:
    """Elementwise: a whole number from 0 to 2**53 (NaN and infinities are not)."""
    return np.isfinite(values) & (values >= 0) & (values <= MAX_COUNT) & (values == np.rint(values))


def _check_counts(values: np.ndarray, describe: Callable[[int], str]) -> None:
    flat = np.asarray(values).reshape(-1)
    if flat.dtype.kind in "iu":  # int64 after `_check_whole`: only the sign is in question
        if flat.size == 0 or flat.min() >= 0:
            return
        good = flat >= 0
    else:
        good = _count_ok(flat)
        if good.all():
            return
    first = int(np.flatnonzero(~good)[0])
    raise Malformed(
        f"{describe(first)} is {_shown(flat[first])}; counts are whole numbers from 0 to 2**53"
    )


def _check_range(values: np.ndarray, stop: int, what: str) -> None:
    if values.size == 0 or (values.min() >= 0 and values.max() < stop):
        return
    bad = np.flatnonzero((values < 0) | (values >= stop))
    raise Malformed(f"COO confusion tensor has {what} {values[bad[0]]}, outside [0, {stop})")


def _integer(
    entry: dict, key: str, low: int, stop: int | None, where: str, default: int | None = None
) -> int:
    value = entry.get(key, default)
    if type(value) is not int or value < low or (stop is not None and value >= stop):
        allowed = f"an integer in [{low}, {stop})" if stop is not None else f"an integer >= {low}"
        raise Malformed(f"{where} has {key} {_clip(repr(value))}; expected {allowed}")
    return value


def _optional_number(entry: dict, key: str, where: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    try:
        number = float(value) if type(value) in (int, float) else None
    except OverflowError:  # an integer of hundreds of digits
        number = None
    if number is None:
        raise Malformed(f"{where} has {key} {_clip(repr(value))}; expected a number or null")
    return number if math.isfinite(number) else None


def _shown(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
