"""The answers of the samples routes: the kept mistakes of a step (`kept`), one sample's bytes
(`blob`) and where a sample was kept over the steps (`history`), from the cached `samples`
series. A step's manifest is read and checked when the step is first asked for."""

from __future__ import annotations

import urllib.parse
from typing import Any

import numpy as np
from tensorboard import errors

from tb_perclass.format import metadata
from tb_perclass.plugin.reader import PerClassReader, listed, missing, step_position
from tb_perclass.plugin.series import SamplesSeries, Skipped

# Media types a sample blob may be served as; anything else in a manifest is refused.
_SERVED_MEDIA = {"image/png": "image/png", "text/plain": "text/plain; charset=utf-8"}


def kept(
    reader: PerClassReader,
    ctx: Any,
    experiment_id: str,
    run: str,
    name: str,
    step: int | None,
    filters: dict[str, int],
    order: str,
) -> dict[str, Any]:
    """The kept mistakes at `step` (the latest readable one by default) matching `filters`
    (true, pred, label), most confident first or by loss."""
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_SAMPLES)
    position, manifest = _readable(reader, ctx, series, run, step)
    entries = [
        dict(entry)
        for entry in manifest
        if all(entry.get(key) == value for key, value in filters.items())
    ]
    if order == "loss":
        entries.sort(key=lambda e: -(e["loss"] if e["loss"] is not None else -np.inf))
    found_step = int(series.steps[position])
    version = repr(float(series.wall_times[position]))
    for entry in entries:
        entry["blob"] = "blob?" + urllib.parse.urlencode(
            {"run": run, "name": name, "step": found_step, "index": entry["index"], "v": version}
        )
    return {
        "run": run,
        "name": name,
        "task": series.meta.task,
        "step": found_step,
        "steps": series.steps,
        "class_names": list(series.meta.class_names),
        # The writer's caps (absent from summaries written before they were recorded).
        "samples_per_cell": series.meta.extra.get("samples_per_cell"),
        "max_samples": series.meta.extra.get("max_samples"),
        "samples": entries,
        "skipped": listed(series.skipped),
    }


def blob(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str, step: int, index: int
) -> tuple[bytes, str]:
    """The bytes of one kept sample and the media type to serve them as."""
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_SAMPLES)
    position, manifest = _readable(reader, ctx, series, run, step)
    entry = next((e for e in manifest if e["index"] == index), None)
    if entry is None:
        raise errors.NotFoundError(
            f"run {run!r} has no sample {index} at step {step}; it kept {len(manifest)}"
        )
    media_type = _SERVED_MEDIA.get(entry["media"])
    if media_type is None:
        raise errors.NotFoundError(f"sample {index} has an unknown media type")
    data = reader.read_blob(ctx, series.keys[position][index])
    if not isinstance(data, bytes):  # checked manifest, but a sample of another dtype
        raise errors.NotFoundError(f"sample {index} at step {step} is not stored as bytes")
    return data, media_type


def history(
    reader: PerClassReader, ctx: Any, experiment_id: str, run: str, name: str, sample_id: str
) -> dict[str, Any]:
    """Where a sample (by id) was kept as a mistake, step by step (every step's manifest is
    read; a bad one is skipped, not fatal)."""
    series = reader.series(ctx, experiment_id, run, name, metadata.KIND_SAMPLES)
    visits = []
    for position, step in enumerate(series.steps):
        manifest = reader.manifest(ctx, series, position)
        if isinstance(manifest, Skipped):
            continue
        for entry in manifest:
            if entry["id"] is not None and str(entry["id"]) == sample_id:
                found = {k: entry.get(k) for k in ("true", "pred", "label", "score", "loss")}
                visits.append({"step": int(step), **found})
    return {
        "run": run,
        "name": name,
        "id": sample_id,
        "steps": series.steps,
        "first_step": visits[0]["step"] if visits else None,
        "history": visits,
        "skipped": listed(series.skipped),
    }


def _readable(
    reader: PerClassReader, ctx: Any, series: SamplesSeries, run: str, step: int | None
) -> tuple[int, list[dict[str, Any]]]:
    """The position and manifest of `step`, or of the latest step whose manifest is
    readable when `step` is None."""
    if step is None:
        for position in reversed(range(len(series.steps))):
            manifest = reader.manifest(ctx, series, position)
            if not isinstance(manifest, Skipped):
                return position, manifest
        raise errors.NotFoundError(missing(series, run, None, "kept samples"))
    position = step_position(series, run, step, "kept samples")
    manifest = reader.manifest(ctx, series, position)
    if isinstance(manifest, Skipped):
        raise errors.NotFoundError(missing(series, run, step, "kept samples"))
    return position, manifest
