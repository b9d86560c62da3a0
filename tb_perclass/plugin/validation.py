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
- Version 3: a stats step is one packed record (`packed_arrays`) with `loss` float [C] and
  unsigned [C] counts (the same rules: correct, nonfinite, nonfinite_outputs at most count;
  and of `tp`, `fp`, `fn`, all three or none, tp at most correct and tp + fn at most count),
  `elements` unsigned [2]; a confusion step is one `sparse_counts` blob whose cells lie in the
  matrix (`confusion_blob`).
- A samples manifest is UTF-8 JSON: a list with one object per stored sample, whose fields
  have the contract's types (see `manifest_entries`).
- Dynamics counts are an integer or float tensor [6, C + 4] of counts (0 to 2**53), each
  region, likely-error and forgotten count at most its class's visited count.
- A dynamics snapshot's header is UTF-8 JSON with the fields and types of `snapshot_header`;
  its sections decompress to exactly the bytes the header announces (`dynamics.unpack`), and
  their labels lie in [0, C), ids in [0, size).
- A scores tensor is an int64 vector in the layout of `score_tensor` for the tag's task, class
  count and top_k (see `score_columns`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tb_perclass.format import dynamics as dynamics_layout
from tb_perclass.format import metadata, packed_arrays, score_tensor, sparse_counts

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


def stats_records(
    blobs: Sequence[Any], num_classes: int
) -> tuple[list[tuple[list[int], dict[str, np.ndarray]]], dict[int, str]]:
    """Version-3 stats steps (each the bytes of a packed record) decoded many at a time: groups
    of (positions, arrays stacked over those positions) holding the good steps only, and why
    each bad step breaks the contract, by position."""
    problems: dict[int, str] = {}
    good: list[int] = []
    for position, blob in enumerate(blobs):
        if isinstance(blob, bytes):
            good.append(position)
        else:
            why = f"stats record is {type(blob).__name__} data, not bytes"
            problems[position] = f"stats record cannot be read ({why})"
    unreadable: dict[int, str] = {}  # each blob inflated once: checked as it is unpacked
    unpacked = packed_arrays.unpack_many([blobs[i] for i in good], problems=unreadable)
    for at, error in unreadable.items():
        problems[good[at]] = f"stats record cannot be read ({error})"
    groups = []
    for members, arrays in unpacked:
        positions = [good[i] for i in members]
        layout = _stats_layout(arrays, num_classes)
        if layout is not None:
            problems.update((p, layout) for p in positions)
            continue
        ok = _record_counts_ok(arrays)
        for at in np.flatnonzero(~ok):
            problems[positions[at]] = _record_counts_problem(arrays, int(at), num_classes)
        if not ok.all():
            keep = np.flatnonzero(ok)
            positions = [positions[i] for i in keep]
            arrays = {name: values[keep] for name, values in arrays.items()}
        if positions:
            groups.append((positions, arrays))
    return groups, problems


def _stats_layout(arrays: dict[str, np.ndarray], num_classes: int) -> str | None:
    """What is wrong with the arrays of a group of records (stacked over steps), if anything."""
    loss = arrays.get("loss")
    if loss is None or loss.ndim != 2 or loss.shape[1] != num_classes or loss.dtype.kind != "f":
        shape = "none" if loss is None else f"{loss.dtype} {list(loss.shape[1:])}"
        return f"stats record has loss {shape}; {num_classes} classes take float [{num_classes}]"
    steps = len(loss)
    for name in (*metadata.STATS_COUNTS, *metadata.STATS_TRUE_FALSE, metadata.STATS_ELEMENTS):
        values = arrays.get(name)
        width = (
            len(metadata.STATS_EXTRA_COLUMNS) if name == metadata.STATS_ELEMENTS else num_classes
        )
        if values is None:
            if name == "count":
                return "stats record has no count"
            continue
        if values.shape != (steps, width) or values.dtype.kind != "u":
            return (
                f"stats record has {name} {values.dtype} {list(values.shape[1:])}; expected "
                f"unsigned integers [{width}]"
            )
    given = [name in arrays for name in metadata.STATS_TRUE_FALSE]
    if any(given) and not all(given):
        return "stats record has some of tp, fp and fn but not all three"
    return None


def _record_counts_ok(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Per step: counts up to 2**53, correct/nonfinite/nonfinite_outputs at most count, and
    tp at most correct and tp + fn at most count when they are there."""
    count = arrays["count"]
    ok = np.ones(len(count), dtype=bool)
    for name, values in arrays.items():
        if name != "loss":
            ok &= values.reshape(len(values), -1).max(axis=1, initial=0) <= MAX_COUNT
    for name in ("correct", "nonfinite", "nonfinite_outputs"):
        if name in arrays:
            ok &= (arrays[name] <= count).all(axis=1)
    if "tp" in arrays:
        tp, fn = arrays["tp"].astype(np.uint64), arrays["fn"].astype(np.uint64)
        ok &= (tp <= arrays.get("correct", count)).all(axis=1)
        ok &= (tp + fn <= count).all(axis=1)  # both at most 2**53 by now: no overflow
    return ok


def _record_counts_problem(arrays: dict[str, np.ndarray], at: int, num_classes: int) -> str:
    count = arrays["count"][at]
    for name, values in arrays.items():
        if name != "loss" and values[at].max(initial=0) > MAX_COUNT:
            return f"stats record has {name} {_shown(values[at].max())}; counts go up to 2**53"
    bounds = [(name, arrays[name][at], count, "the class's count") for name in
              ("correct", "nonfinite", "nonfinite_outputs") if name in arrays]  # fmt: skip
    if "tp" in arrays:
        tp = arrays["tp"][at].astype(np.uint64)
        correct = arrays.get("correct", arrays["count"])[at]
        bounds += [("tp", tp, correct, "correct"), ("tp + fn", tp + arrays["fn"][at], count,
                   "the class's count")]  # fmt: skip
    for name, values, limit, what in bounds:
        over = np.flatnonzero(values > limit)
        if len(over):
            c = int(over[0])
            return (
                f"{name} of class {c} is {_shown(values[c])}, more than {what} {_shown(limit[c])}"
            )
    return "stats record has counts that do not add up"  # not reached: something was flagged


def confusion_blob(
    data: Any, meta: metadata.PerClassMetadata, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """A version-3 confusion step (one `sparse_counts` blob) as sorted int64 linear indices and
    their int64 counts, every cell inside the [C, width] matrix and the total up to 2**53."""
    if not isinstance(data, bytes):
        raise Malformed(f"confusion blob is {type(data).__name__} data, not bytes")
    try:
        cells, counts, written_width = sparse_counts.decode(data)
    except ValueError as error:
        raise Malformed(f"confusion blob cannot be read ({error})") from None
    if written_width != width:
        raise Malformed(f"confusion blob has {written_width} cells a row; this tag takes {width}")
    if len(cells) and cells[-1] >= meta.num_classes * width:
        true, cell = divmod(int(cells[-1]), width)
        raise Malformed(f"confusion blob has cell ({true}, {cell}) outside the matrix")
    total = counts.sum(dtype=np.float64)
    if total > MAX_COUNT:
        raise Malformed(f"confusion counts add up to {total:.6g}, beyond 2**53")
    return cells, counts


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
    hold one row: the positive class). Version 4: the vector comes from a packed record."""
    array = np.asarray(array)
    if array.dtype == object and array.size == 1:
        array = _score_record(array.reshape(-1)[0])
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


def _score_record(blob: Any) -> np.ndarray:
    """The vector of a version-4 scores step (a packed record of one integer array)."""
    if not isinstance(blob, bytes):
        raise Malformed(f"scores record is {type(blob).__name__} data, not bytes")
    try:
        arrays = packed_arrays.unpack(blob)
    except ValueError as error:
        raise Malformed(f"scores record cannot be read ({error})") from None
    columns = arrays.get(metadata.SCORES_COLUMNS)
    if columns is None or columns.ndim != 1 or columns.dtype.kind not in "iu":
        found = {name: f"{a.dtype} {list(a.shape)}" for name, a in arrays.items()}
        raise Malformed(
            f"scores record holds {found}; expected one integer vector {metadata.SCORES_COLUMNS!r}"
        )
    return columns


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


def dynamics_counts(array: Any, num_classes: int) -> np.ndarray:
    """A step's `dynamics` tensor as int64 [6, C + 4] (`metadata.dynamics_shape`)."""
    array = _numbers(array, "dynamics")
    expected = metadata.dynamics_shape(num_classes)
    if array.shape != expected:
        raise Malformed(
            f"dynamics tensor has shape {list(array.shape)}; {num_classes} classes take "
            f"{list(expected)}"
        )

    def name(index: int) -> str:
        row, column = divmod(index, expected[1])
        if column >= num_classes:
            return metadata.DYNAMICS_EXTRA_COLUMNS[column - num_classes]
        return f"{metadata.DYNAMICS_ROWS[row]} of class {column}"

    _check_counts(array, name)
    counts = array.astype(np.int64)
    if (counts[1:, :num_classes] > counts[:1, :num_classes]).any():
        row, column = np.argwhere(counts[1:, :num_classes] > counts[:1, :num_classes])[0]
        raise Malformed(
            f"{name((row + 1) * expected[1] + column)} is {counts[row + 1, column]}, more than "
            f"the class's visited samples {counts[0, column]}"
        )
    if (counts[1:, num_classes:] != 0).any():
        raise Malformed("dynamics tensor has nonzero extra columns outside its first row")
    return counts


_SECTION_COLUMNS = {
    "map": {"id", "label", "confidence", "variability", "correctness"},
    "entries": {name for name, _ in dynamics_layout.ENTRY_COLUMNS},
}


def snapshot_header(raw: Any, meta: metadata.PerClassMetadata, stored: int) -> dict[str, Any]:
    """A dynamics snapshot's header (element 0), checked: the layout version, the dataset size,
    the two sections' counts and columns, the media list (elements 3.. of `stored`)."""
    if not isinstance(raw, bytes):
        raise Malformed(f"dynamics snapshot header is {type(raw).__name__} data, not bytes")
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise Malformed(
            f"dynamics snapshot header is not UTF-8 JSON ({_clip(str(error))})"
        ) from None
    if not isinstance(header, dict):
        raise Malformed("dynamics snapshot header is not a JSON object")
    where = "dynamics snapshot header"
    version = header.get("version")
    if type(version) is not int or not 1 <= version <= dynamics_layout.VERSION:
        raise Malformed(
            f"{where} has layout version {_clip(repr(version))}; this tb-perclass reads up to "
            f"{dynamics_layout.VERSION}: upgrade tb-perclass"
        )
    size = _integer(header, "size", 1, dynamics_layout.MAX_SIZE + 1, where)
    for key in ("visited", "visits", "invalid_visits", "skipped_visits", "repeated_ids"):
        _integer(header, key, 0, None, where, default=0)
    for section in ("map", "entries"):
        part = header.get(section)
        if not isinstance(part, dict):
            raise Malformed(f"{where} has no {section} section")
        _integer(part, "count", 0, size + 1, f"{where}'s {section}")
        columns = part.get("columns")
        if (
            not isinstance(columns, list)
            or not all(
                isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c)
                for c in columns
            )
            or not {c[0] for c in columns} <= _SECTION_COLUMNS[section]
            or len({c[0] for c in columns}) != len(columns)
        ):
            raise Malformed(f"{where}'s {section} columns are not [name, dtype] pairs it knows")
        for name, dtype in columns:
            if dtype not in _SNAPSHOT_DTYPES:
                raise Malformed(f"{where}'s {section} column {name} has dtype {_clip(dtype)}")
    media = header.get("media", [])
    if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
        raise Malformed(f"{where}'s media is not a list of objects")
    for position, entry in enumerate(media):
        at = f"{where}'s media entry {position}"
        _integer(entry, "id", 0, size, at)
        _integer(entry, "index", 3, stored, at)
        if not isinstance(entry.get("media"), str):
            raise Malformed(f"{at} has no media type")
        _integer(entry, "width", 0, None, at, default=0)
        _integer(entry, "height", 0, None, at, default=0)
    return header


_SNAPSHOT_DTYPES = {"|u1", "<u2", "<u4", "<f4", "u1"}


def snapshot_section(
    header: dict[str, Any], section: str, blob: Any, num_classes: int
) -> dict[str, np.ndarray]:
    """One section's columns, decompressed and checked against the header and the classes."""
    if not isinstance(blob, bytes):
        raise Malformed(f"dynamics snapshot {section} is {type(blob).__name__} data, not bytes")
    try:
        columns = dynamics_layout.unpack(header[section], blob)
    except ValueError as error:
        raise Malformed(f"dynamics snapshot {section}: {error}") from None
    size = header["size"]
    for name, stop in (("label", num_classes), ("preferred", num_classes), ("id", size)):
        values = columns.get(name)
        if values is not None and values.size and int(values.max()) >= stop:
            raise Malformed(
                f"dynamics snapshot {section} has {name} {int(values.max())}, outside [0, {stop})"
            )
    return columns


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
