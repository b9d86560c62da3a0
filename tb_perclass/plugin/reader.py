"""Reads tb-perclass data through TensorBoard's data provider and returns plain Python/NumPy data.

The only module of the plugin that talks to the data provider, so that it works the same on the
Rust data server (`--load_fast=true`, the default) and the Python multiplexer
(`--load_fast=false`). It never opens an event file itself.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
from tensorboard import errors
from tensorboard.data import provider

from tb_perclass import metadata
from tb_perclass.stats import perclass

logger = logging.getLogger(__name__)

# `downsample` is required by the data provider and 0 returns nothing; every step is wanted.
ALL_STEPS = 1_000_000


@dataclasses.dataclass(frozen=True)
class Head:
    """What one run logged under one name: the kinds present and their (shared) metadata."""

    kinds: tuple[str, ...]
    task: str
    class_names: tuple[str, ...]
    loss: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kinds": list(self.kinds),
            "task": self.task,
            "class_names": list(self.class_names),
            "num_classes": len(self.class_names),
            "loss": self.loss,
        }


class PerClassReader:
    def __init__(self, data_provider: provider.DataProvider):
        self._provider = data_provider

    def heads(self, ctx: Any, experiment_id: str) -> dict[str, dict[str, Head]]:
        """Every (run, name) with tb-perclass data, keyed by run then name."""
        found: dict[tuple[str, str], dict[str, metadata.PerClassMetadata]] = {}
        listings = (
            self._provider.list_tensors(
                ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME
            ),
            self._provider.list_blob_sequences(
                ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME
            ),
        )
        for listing in listings:
            for run, tags in listing.items():
                for tag, series in tags.items():
                    parsed = _parse(run, tag, series.plugin_content)
                    if parsed is not None:
                        name, _ = metadata.split_tag(tag)
                        found.setdefault((run, name), {})[parsed.kind] = parsed
        result: dict[str, dict[str, Head]] = {}
        for (run, name), by_kind in sorted(found.items()):
            first = by_kind.get(metadata.KIND_STATS) or next(iter(by_kind.values()))
            result.setdefault(run, {})[name] = Head(
                kinds=tuple(k for k in metadata.KINDS if k in by_kind),
                task=first.task,
                class_names=first.class_names,
                loss=first.loss,
            )
        return result

    def curves(self, ctx: Any, experiment_id: str, run: str, name: str) -> dict[str, Any]:
        """Per-class loss, count, accuracy and non-finite counts at every step of (run, name)."""
        tag = metadata.tag_for(name, metadata.KIND_STATS)
        head = self._series_metadata(ctx, experiment_id, run, tag)
        data = self._provider.read_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=ALL_STEPS,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
        )
        num_classes = head.num_classes
        expected = (len(metadata.STATS_ROWS), num_classes)
        points = [d for d in data.get(run, {}).get(tag, []) if d.numpy.shape == expected]
        if points:
            stacked = np.stack([d.numpy for d in points]).astype(np.float64)  # [S, 4, C]
        else:
            stacked = np.zeros((0,) + expected)
        return {
            "run": run,
            "name": name,
            "task": head.task,
            "loss_name": head.loss,
            "class_names": list(head.class_names),
            "steps": np.array([d.step for d in points], dtype=np.int64),
            "wall_times": np.array([d.wall_time for d in points], dtype=np.float64),
            "loss": stacked[:, 0, :],
            "count": stacked[:, 1, :].astype(np.int64),
            "accuracy": perclass.accuracy(stacked[:, 2, :], stacked[:, 1, :]),
            "nonfinite": stacked[:, 3, :].astype(np.int64),
        }

    def _series_metadata(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> metadata.PerClassMetadata:
        listing = self._provider.list_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PLUGIN_NAME,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
        )
        series = listing.get(run, {}).get(tag)
        parsed = None if series is None else _parse(run, tag, series.plugin_content)
        if parsed is None:
            name, kind = metadata.split_tag(tag)
            raise errors.NotFoundError(
                f"no per-class {kind} data for run {run!r} and name {name!r}; the tags route "
                "lists what exists"
            )
        return parsed


def _parse(run: str, tag: str, content: bytes) -> metadata.PerClassMetadata | None:
    try:
        return metadata.parse_plugin_content(content)
    except ValueError as error:
        logger.warning("skipping run %r tag %r: %s", run, tag, error)
        return None
