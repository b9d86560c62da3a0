"""Tables for people and for files: aligned text, Markdown, CSV and JSON, plus table files
(CSV always, Parquet with pyarrow) for `tb-perclass export`.

Names come from user data (class names, run names): in text they are printed with control
characters escaped, in Markdown with the characters that would make markup (or HTML, in a
pull-request comment) escaped, in CSV with a leading quote where a spreadsheet would read a
formula.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from tb_perclass.plugin.report import spreadsheet_safe

Cell = Any  # str, int, float (NaN: undefined) or None


def text_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    digits: int = 2,
    left: Sequence[int] = (0,),
) -> str:
    """Columns padded to their widest cell: those in `left` left-aligned, the others
    right-aligned (scikit-learn's classification_report layout)."""
    cells = [[str(h) for h in headers]] + [[_text(c, digits) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines) + "\n"


def markdown_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    digits: int = 2,
    left: Sequence[int] = (0,),
) -> str:
    lines = [
        "| " + " | ".join(markdown_escape(str(h)) for h in headers) + " |",
        "|" + "|".join(" --- " if i in left else " ---: " for i in range(len(headers))) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(markdown_escape(_text(c, digits)) for c in row) + " |")
    return "\n".join(lines) + "\n"


def csv_table(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv(c) for c in row])
    return out.getvalue()


def json_text(value: Any) -> str:
    """Indented JSON with NaN and infinities as null and NumPy values as plain numbers."""
    return json.dumps(_plain(value), indent=2, ensure_ascii=False) + "\n"


def markdown_escape(text: str) -> str:
    """`text` shown as itself in Markdown (GitHub's included): HTML and the characters that
    open emphasis, code, links or table cells are escaped."""
    text = printable(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", text)


def printable(text: str) -> str:
    """`text` with control characters (newlines, escapes) shown as escapes, not acted on."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def _text(cell: Cell, digits: int) -> str:
    if cell is None:
        return "-"
    if isinstance(cell, (float, np.floating)):
        return "-" if math.isnan(cell) else f"{cell:.{digits}f}"
    if isinstance(cell, (int, np.integer)):
        return str(int(cell))
    return printable(str(cell))


def _csv(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, (float, np.floating)):
        return "" if math.isnan(cell) else repr(float(cell))
    if isinstance(cell, (int, np.integer)):
        return str(int(cell))
    return spreadsheet_safe(str(cell))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# --- table files ---------------------------------------------------------------------------


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def write_csv(table, path: str | os.PathLike) -> None:
    """A `tables.Table` as CSV: missing values empty, counts as integers, names exactly as
    logged (this is data to read back, not a sheet: no formula guard)."""
    from tb_perclass.analysis.tables import Labels

    names = list(table.columns)
    columns = []
    for name in names:
        column = table.columns[name]
        if isinstance(column, Labels):
            labels = [*column.labels, ""]
            columns.append(
                np.array(labels, dtype=object)[
                    np.where(column.codes < 0, len(column.labels), column.codes)
                ]
            )
        elif name in table.nullable or np.issubdtype(column.dtype, np.integer):
            columns.append(_integers_text(column))
        elif np.issubdtype(column.dtype, np.floating):
            columns.append(np.where(np.isnan(column), "", column.astype(str)).astype(object))
        else:
            columns.append(np.array(["" if v is None else str(v) for v in column], dtype=object))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(zip(*columns))


def write_parquet(table, path: str | os.PathLike) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tb_perclass.analysis.tables import Labels

    arrays = {}
    for name, column in table.columns.items():
        if isinstance(column, Labels):
            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(column.codes, mask=column.codes < 0, type=pa.int32()),
                pa.array(list(column.labels), type=pa.string()),
            )
        elif name in table.nullable:
            missing = np.isnan(column)
            arrays[name] = pa.array(np.where(missing, 0, column).astype(np.int64), mask=missing)
        elif column.dtype == object:
            arrays[name] = pa.array(
                [None if v is None else str(v) for v in column], type=pa.string()
            )
        else:
            arrays[name] = pa.array(column)
    pq.write_table(pa.table(arrays), path)


def _integers_text(column: np.ndarray) -> np.ndarray:
    if np.issubdtype(column.dtype, np.integer):
        return column.astype(str).astype(object)
    missing = np.isnan(column)
    text = np.where(missing, 0, column).astype(np.int64).astype(str).astype(object)
    text[missing] = ""
    return text
