"""Writes every table of a logdir's per-class data to a directory: CSV, Parquet (with pyarrow)
and the kept samples' images and texts as files, for `tb-perclass export`."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence

import numpy as np

from tb_perclass.analysis import output, tables
from tb_perclass.analysis.loading import Logdir, Series

_EXTENSIONS = {"image/png": ".png", "text/plain": ".txt"}
SAMPLES_DIRECTORY = "samples"


@dataclasses.dataclass(frozen=True)
class Written:
    table: str
    rows: int
    files: tuple[str, ...]  # relative to the export directory


def export(
    logdir: Logdir,
    series: Sequence[Series],
    directory: str,
    *,
    parquet: bool,
    table_names: Sequence[str] | None = None,
) -> list[Written]:
    """Writes `<table>.csv` (and `.parquet`) for every table with rows, and each kept sample to
    `samples/<run>/<name>/<step>/<index>.png|.txt` (named in the samples table's `file` column)."""
    os.makedirs(directory, exist_ok=True)
    written = []
    for name in table_names or tables.TABLES:
        spec = tables.TABLES[name]
        table = tables.build(logdir, spec, series)
        if table.num_rows == 0 and name != "series":
            continue
        if name == "samples":
            table.columns["file"] = _write_samples(logdir, series, table, directory)
        files = [f"{name}.csv"]
        output.write_csv(table, os.path.join(directory, files[0]))
        if parquet:
            files.append(f"{name}.parquet")
            output.write_parquet(table, os.path.join(directory, files[1]))
        written.append(Written(name, table.num_rows, tuple(files)))
    return written


def _write_samples(
    logdir: Logdir, series: Sequence[Series], table: tables.Table, directory: str
) -> np.ndarray:
    by_key = {(s.run, s.name): s for s in series}
    runs, names = table.columns["run"].values(), table.columns["name"].values()
    steps, indices = table.columns["step"], table.columns["index"]
    folders = _folders([(s.run, s.name) for s in series])
    files = np.empty(table.num_rows, dtype=object)
    for row in range(table.num_rows):
        key = (runs[row], names[row])
        step, index = int(steps[row]), int(indices[row])
        data, media = logdir.sample_bytes(by_key[key], step, index)
        relative = os.path.join(
            SAMPLES_DIRECTORY, folders[key], str(step), f"{index}{_EXTENSIONS.get(media, '.bin')}"
        )
        path = os.path.join(directory, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        files[row] = relative.replace(os.sep, "/")
    return files


def _folders(keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """A distinct, safe relative folder per (run, name): path parts kept, anything but letters,
    digits, '.', '-' and '_' replaced, '.' and '..' parts renamed (a run named '.' is the
    logdir itself)."""
    folders: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for run, name in keys:
        parts = [_safe(part) for part in f"{run}/{name}".split("/") if part]
        folder = os.path.join(*parts)
        candidate, number = folder, 1
        while candidate in taken:
            number += 1
            candidate = f"{folder}_{number}"
        taken.add(candidate)
        folders[(run, name)] = candidate
    return folders


def _safe(part: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", part)
    return "_" + cleaned if cleaned in (".", "..") else cleaned
