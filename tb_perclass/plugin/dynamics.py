"""The answers of the training-dynamics routes, from the `dynamics` counts (every write) and the
`dynamics_samples` snapshots (about once per epoch; TensorBoard keeps the last few):

- `counts`: the per-class counts of visited, easy, ambiguous and hard-to-learn samples, likely
  label errors and forgotten samples at every step, and the steps that have a snapshot;
- `data_map`: one snapshot's points (confidence, variability, correctness, given label, id);
- `listed`: one snapshot's ranked likely label errors or most forgotten samples, per class or
  all, with the URLs of their thumbnails; also as CSV;
- `media`: one thumbnail's (or text's) bytes.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from typing import Any

import numpy as np
from tensorboard import errors

from tb_perclass.format import dynamics as layout
from tb_perclass.format import metadata
from tb_perclass.plugin import report, validation
from tb_perclass.plugin.reader import PerClassReader, listed, missing, step_position
from tb_perclass.plugin.series import DynamicsSamplesSeries, Skipped

LISTS = ("errors", "forgotten")
_SERVED_MEDIA = {"image/png": "image/png", "text/plain": "text/plain; charset=utf-8"}


def counts(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str
) -> dict[str, Any]:
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_DYNAMICS)
    num_classes = series.meta.num_classes
    values = series.values
    result: dict[str, Any] = {
        "run": run,
        "name": name,
        "task": series.meta.task,
        "class_names": list(series.meta.class_names),
        "steps": series.steps,
        "wall_times": series.wall_times,
    }
    for row, key in enumerate(metadata.DYNAMICS_ROWS):
        result[key] = values[:, row, :num_classes]
    for column, key in enumerate(metadata.DYNAMICS_EXTRA_COLUMNS):
        result[key] = values[:, 0, num_classes + column]
    result["regions"] = {
        "easy_confidence": layout.EASY_CONFIDENCE,
        "hard_confidence": layout.HARD_CONFIDENCE,
    }
    snapshots, skipped = _snapshots(reader, ctx, experiment_id, run, name)
    result["snapshot_steps"] = snapshots.steps if snapshots is not None else np.zeros(0, np.int64)
    result["skipped"] = listed(series.skipped + skipped)
    return result


def data_map(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
) -> tuple[dict[str, Any], dict[str, tuple[str, np.ndarray]]]:
    """One snapshot's map: the header fields and the columns (`binary_encoding.encode_columns`):
    id (u32), label (u32), confidence, variability, correctness (u8: 0..254 over [0, 1],
    [0, 0.5] and [0, 1]; 255 never visited)."""
    series, position, header = _snapshot(reader, ctx, experiment_id, run, name, step)
    columns = _section(reader, ctx, series, position, header, "map", run)
    count = header["map"]["count"]
    ids = columns.get("id", np.arange(count, dtype=np.uint32))
    body = {
        **_about(series, position, header, run, name),
        "count": count,
        "subset": bool(header["map"].get("subset", False)),
        "scales": {"confidence": 1.0, "variability": 0.5, "correctness": 1.0},
        "levels": layout.QUANTISED_LEVELS,
        "not_visited": layout.NOT_VISITED,
    }
    return body, {
        "id": ("u32", ids),
        "label": ("u32", columns["label"]),
        "confidence": ("u8", columns["confidence"]),
        "variability": ("u8", columns["variability"]),
        "correctness": ("u8", columns["correctness"]),
    }


def listed_samples(
    reader: PerClassReader,
    ctx: Any,
    experiment_id: str,
    run: str,
    name: str,
    step: int | None,
    which: str,
    label: int | None,
    limit: int | None,
    offset: int = 0,
) -> dict[str, Any]:
    """The likely label errors (lowest mean margin first) or the most forgotten samples (most
    forgetting events first, then lowest margin) of one snapshot, of one class when `label` is
    given; `limit` entries from `offset` (all with None)."""
    if which not in LISTS:
        raise errors.InvalidArgumentError(f"list={which!r}; use {' or '.join(LISTS)}")
    series, position, header = _snapshot(reader, ctx, experiment_id, run, name, step)
    num_classes = series.meta.num_classes
    if label is not None and not 0 <= label < num_classes:
        raise errors.InvalidArgumentError(f"class={label}; this series has {num_classes} classes")
    columns = _section(reader, ctx, series, position, header, "entries", run)
    if which == "errors":
        chosen = np.flatnonzero(layout.likely_errors(columns["margin"].astype(np.float64)))
        order = np.lexsort((columns["id"][chosen], columns["margin"][chosen]))
    else:
        chosen = np.flatnonzero(columns["forgets"] > 0)
        order = np.lexsort(
            (
                columns["id"][chosen],
                columns["margin"][chosen],
                -columns["forgets"][chosen].astype(np.int64),
            )
        )
    chosen = chosen[order]
    if label is not None:
        chosen = chosen[columns["label"][chosen] == label]
    total = len(chosen)
    page = chosen[offset : None if limit is None else offset + limit]
    media = {entry["id"]: entry for entry in header.get("media", [])}
    found_step = int(series.steps[position])
    version = repr(float(series.wall_times[position]))
    entries = []
    for index in page.tolist():
        sample = int(columns["id"][index])
        entry = {
            "id": sample,
            "label": int(columns["label"][index]),
            "preferred": int(columns["preferred"][index]),
            "visits": int(columns["visits"][index]),
            "forgets": int(columns["forgets"][index]),
            "confidence": float(columns["confidence"][index]),
            "variability": float(columns["variability"][index]),
            "correctness": float(columns["correctness"][index]),
            "margin": float(columns["margin"][index]),
            "media": None,
            "media_type": None,
        }
        thumbnail = media.get(sample)
        if thumbnail is not None and thumbnail["media"] in _SERVED_MEDIA:
            query = {"run": run, "name": name, "step": found_step, "index": thumbnail["index"]}
            entry["media"] = "dynamics_media?" + urllib.parse.urlencode({**query, "v": version})
            entry["media_type"] = thumbnail["media"]
            entry["width"], entry["height"] = thumbnail.get("width", 0), thumbnail.get("height", 0)
        entries.append(entry)
    cap = {"errors": layout.MAX_ERRORS, "forgotten": layout.MAX_FORGOTTEN}[which]
    return {
        **_about(series, position, header, run, name),
        "list": which,
        "class": label,
        "total": total,
        "offset": offset,
        # The writer keeps at most this many of the list in a snapshot (all classes together).
        "cap": cap,
        "capped": int(header["entries"].get(which, 0)) >= cap,
        "samples": entries,
    }


def as_csv(answer: dict[str, Any]) -> str:
    """A ranked list as CSV: rank, id, given and preferred label (index and name), evidence."""
    names = answer["class_names"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["rank", "id", "given_label", "given_name", "preferred_label", "preferred_name",
         "margin", "confidence", "variability", "correctness", "visits", "forgets"]
    )  # fmt: skip
    for rank, entry in enumerate(answer["samples"], start=answer["offset"] + 1):
        writer.writerow(
            [
                rank,
                entry["id"],
                entry["label"],
                report.spreadsheet_safe(names[entry["label"]]),
                entry["preferred"],
                report.spreadsheet_safe(names[entry["preferred"]]),
                f"{entry['margin']:.6g}",
                f"{entry['confidence']:.6g}",
                f"{entry['variability']:.6g}",
                f"{entry['correctness']:.6g}",
                entry["visits"],
                entry["forgets"],
            ]
        )
    return out.getvalue()


def media(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str, step: int, index: int
) -> tuple[bytes, str]:
    """The bytes of one listed sample's thumbnail or text, and the media type to serve."""
    series, position, header = _snapshot(reader, ctx, experiment_id, run, name, step)
    entry = next((m for m in header.get("media", []) if m["index"] == index), None)
    if entry is None:
        raise errors.NotFoundError(f"the dynamics snapshot at step {step} has no element {index}")
    media_type = _SERVED_MEDIA.get(entry["media"])
    if media_type is None:
        raise errors.NotFoundError(f"element {index} has an unknown media type")
    data = reader.read_blob(ctx, series.keys[position][index])
    if not isinstance(data, bytes):
        raise errors.NotFoundError(f"element {index} at step {step} is not stored as bytes")
    return data, media_type


def _about(
    series: DynamicsSamplesSeries, position: int, header: dict[str, Any], run: str, name: str
) -> dict[str, Any]:
    return {
        "run": run,
        "name": name,
        "task": series.meta.task,
        "class_names": list(series.meta.class_names),
        "step": int(series.steps[position]),
        "steps": series.steps,
        "size": header["size"],
        "visited": header.get("visited", 0),
        "invalid_visits": header.get("invalid_visits", 0),
        "repeated_ids": header.get("repeated_ids", 0),
        "skipped": listed(series.skipped),
    }


def _snapshots(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str
) -> tuple[DynamicsSamplesSeries | None, tuple[Skipped, ...]]:
    found = reader.optional_series(ctx, experiment_id, run, name, metadata.KIND_DYNAMICS_SAMPLES)
    return found, (found.skipped if found is not None else ())


def _snapshot(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str, step: int | None
) -> tuple[DynamicsSamplesSeries, int, dict[str, Any]]:
    """The snapshot at `step` (the latest readable one when None) and its checked header."""
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_DYNAMICS_SAMPLES)
    what = "dynamics snapshot"
    if step is None:
        for position in reversed(range(len(series.steps))):
            header = reader.snapshot_header(ctx, series, position)
            if not isinstance(header, Skipped):
                return series, position, header
        raise errors.NotFoundError(missing(series, run, None, what))
    position = step_position(series, run, step, what)
    header = reader.snapshot_header(ctx, series, position)
    if isinstance(header, Skipped):
        raise errors.NotFoundError(missing(series, run, step, what))
    return series, position, header


def _section(
    reader: PerClassReader,
    ctx: Any,
    series: DynamicsSamplesSeries,
    position: int,
    header: dict[str, Any],
    section: str,
    run: str,
) -> dict[str, np.ndarray]:
    element = 1 if section == "map" else 2
    blob = reader.read_blob(ctx, series.keys[position][element])
    try:
        return validation.snapshot_section(header, section, blob, series.meta.num_classes)
    except validation.Malformed as error:
        step = int(series.steps[position])
        series.headers[position] = Skipped(step, metadata.KIND_DYNAMICS_SAMPLES, str(error))
        raise errors.NotFoundError(
            f"run {run!r} has no readable dynamics snapshot at step {step}: {error}"
        ) from None
