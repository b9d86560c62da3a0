"""The Per-Class plugin with the prototype read path of the scale design, runnable as TensorBoard.

    python -m prototype_plugin --logdir ...      (from bench/, or with bench/ on sys.path)

starts TensorBoard whose Per-Class plugin reads through:
  - one ByteBudgetCache for everything it keeps (stats tables, blob indexes, single confusion
    steps), bounded by bytes
  - StatsTable: a stats tag decoded once into float32 loss + the smallest unsigned counts; the
    curves answer (binary) carries those arrays in their own dtypes, zero arrays left out
  - ConfusionSteps: one confusion step per read_blob (version 3), the history of the most
    confused pairs over at most HISTORY_POINTS steps read concurrently
  - reports from the stats table's tp/fp/fn when the writer recorded them (version 3)
Routes and answers are those of the real plugin except: the binary curves layout (dtypes), and
pairs answers carrying `history_steps`. This is a measurement prototype for bench/; the real
change lands in the package.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tensorboard import errors  # noqa: E402
from tensorboard.backend import http_util  # noqa: E402
from tensorboard.data import provider  # noqa: E402
from werkzeug import wrappers  # noqa: E402

from tb_perclass import metadata, report  # noqa: E402
from tb_perclass.plugin import json_encoding, loader  # noqa: E402
from tb_perclass.plugin import plugin as plugin_module  # noqa: E402
from tb_perclass.plugin.byte_cache import ByteBudgetCache, release_free_memory  # noqa: E402
from tb_perclass.plugin.confusion_steps import (  # noqa: E402
    BlobIndex,
    ConfusionSteps,
    LegacySteps,
    confusion_width,
)
from tb_perclass.plugin.reader import ALL_STEPS, PerClassReader, _parse  # noqa: E402
from tb_perclass.plugin.series import position_of  # noqa: E402
from tb_perclass.plugin.stats_table import COUNTS, StatsTable  # noqa: E402

CACHE_BYTES = int(os.environ.get("PERCLASS_CACHE_MB", "256")) * 2**20
HISTORY_POINTS = 200
_DTYPES = {np.dtype(np.float32): "f4", np.dtype(np.uint8): "u1", np.dtype(np.uint16): "u2",
           np.dtype(np.uint32): "u4"}  # fmt: skip


def encode_binary(answer: dict[str, Any]) -> bytes:
    """uint32 header length | JSON header (arrays: [key, rows, columns, dtype]) | each array's
    little-endian bytes, 4-byte aligned."""
    header: dict[str, Any] = {}
    shapes, data, offset = [], [], 0
    for key, value in answer.items():
        if isinstance(value, np.ndarray) and value.ndim == 2:
            if value.dtype not in _DTYPES:
                value = value.astype(np.float64 if value.dtype.kind in "iu" else np.float32)
            code = _DTYPES.get(value.dtype, "f8")
            raw = np.ascontiguousarray(value).tobytes()
            shapes.append([key, *value.shape, code])
            data.append(raw + b"\0" * (-len(raw) % 8))
        else:
            header[key] = value
    header["arrays"] = shapes
    text = json_encoding.dumps(header).encode("utf-8")
    text += b" " * (-(len(text) + 4) % 8)
    return b"".join([struct.pack("<I", len(text)), text, *data])


class ScaledReader(PerClassReader):
    def __init__(self, data_provider):
        super().__init__(data_provider)
        self.bytes_cache = ByteBudgetCache(CACHE_BYTES)

    # --- listing ----------------------------------------------------------------------------

    def _listing(self, ctx, experiment_id, run, tag, blobs):
        lister = self._provider.list_blob_sequences if blobs else self._provider.list_tensors
        listing = lister(
            ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
        )  # fmt: skip
        series = listing.get(run, {}).get(tag)
        if series is None:
            return None
        parsed = _parse(run, tag, series.plugin_content)
        return None if parsed is None else (parsed, (series.max_step, series.max_wall_time))

    def _read_all(self, ctx, experiment_id, run, tag, blobs):
        reader = self._provider.read_blob_sequences if blobs else self._provider.read_tensors
        data = reader(
            ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME,
            downsample=ALL_STEPS, run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
        )  # fmt: skip
        return data.get(run, {}).get(tag, [])

    def _table(self, ctx, experiment_id, run, name, required=True) -> StatsTable | None:
        tag = metadata.tag_for(name, metadata.KIND_STATS)
        listed = self._listing(ctx, experiment_id, run, tag, blobs=False)
        if listed is None or listed[0].kind != metadata.KIND_STATS:
            if required:
                raise errors.NotFoundError(f"no per-class stats for run {run!r} and name {name!r}")
            return None
        parsed, version = listed
        load = self._decoder(ctx, experiment_id, run, tag, lambda data: StatsTable.decode(parsed, data))
        return self.bytes_cache.get((experiment_id, run, tag, "table"), version, load)

    def _decoder(self, ctx, experiment_id, run, tag, decode):
        """A loader that reads every step of a tensor tag and decodes it."""

        def load():
            data = self._read_all(ctx, experiment_id, run, tag, blobs=False)
            decoded = decode(data)
            del data
            release_free_memory()  # the provider's copy of every step is garbage now
            return decoded

        return load

    def _steps_of(self, ctx, experiment_id, run, name, required=True) -> ConfusionSteps | None:
        tag = metadata.tag_for(name, metadata.KIND_CONFUSION)
        listed = self._listing(ctx, experiment_id, run, tag, blobs=True)
        key = (experiment_id, run, tag)
        if listed is not None and listed[0].kind == metadata.KIND_CONFUSION:
            parsed, version = listed
            index = self.bytes_cache.get(
                (*key, "index"), version,
                lambda: BlobIndex.decode(self._read_all(ctx, experiment_id, run, tag, blobs=True)),
            )  # fmt: skip
            steps = ConfusionSteps(
                self.bytes_cache, key, index.steps, index.wall_times,
                lambda p: self._provider.read_blob(ctx, blob_key=index.keys[p]),
            )  # fmt: skip
        else:
            listed = self._listing(ctx, experiment_id, run, tag, blobs=False)
            if listed is None or listed[0].kind != metadata.KIND_CONFUSION:
                if required:
                    raise errors.NotFoundError(
                        f"no per-class confusion data for run {run!r} and name {name!r}"
                    )
                return None
            parsed, version = listed
            load = self._decoder(ctx, experiment_id, run, tag, lambda data: LegacySteps.decode(parsed, data))
            legacy = self.bytes_cache.get((*key, "legacy"), version, load)
            steps = ConfusionSteps(
                self.bytes_cache, key, legacy.steps, legacy.wall_times, lambda p: legacy.blobs[p]
            )
        steps.meta = parsed
        return steps

    # --- routes -----------------------------------------------------------------------------

    def steps(self, ctx, experiment_id, run, name, kind):
        if kind == metadata.KIND_STATS:
            return self._table(ctx, experiment_id, run, name).steps
        if kind == metadata.KIND_CONFUSION:
            return self._steps_of(ctx, experiment_id, run, name).steps
        return super().steps(ctx, experiment_id, run, name, kind)

    def curves(self, ctx, experiment_id, run, name):
        table = self._table(ctx, experiment_id, run, name)
        result = {
            "run": run, "name": name, "task": table.meta.task, "loss_name": table.meta.loss,
            "class_names": list(table.meta.class_names), "steps": table.steps,
            "wall_times": table.wall_times, "loss": table.loss,
            "invalid_targets": table.invalid_targets, "ignored": table.ignored,
            "true_false": table.has_true_false,
            "zeros": [n for n in COUNTS if n not in table.counts and (table.has_true_false or n not in ("tp", "fp", "fn"))],
        }  # fmt: skip
        result.update(table.counts)
        return result

    def _position(self, steps, run, step, what="confusion matrix"):
        position = position_of(steps, step)
        if position is None:
            raise errors.NotFoundError(f"run {run!r} has no {what} at step {step}")
        return position

    def confusion(self, ctx, experiment_id, run, name, step):
        steps = self._steps_of(ctx, experiment_id, run, name)
        position = self._position(steps.steps, run, step)
        counts = steps.counts(position)
        meta = steps.meta
        result = {
            "run": run, "name": name, "task": meta.task, "step": int(steps.steps[position]),
            "steps": steps.steps, "class_names": list(meta.class_names),
        }  # fmt: skip
        if meta.task == metadata.TASK_MULTILABEL:
            matrices = counts.dense(meta.num_classes).reshape(meta.num_classes, 2, 2)
            result.update(encoding="dense", matrices=matrices, total=int(matrices.sum(axis=(1, 2)).max(initial=0)))
            return result
        rows, cols = np.divmod(counts.cells, counts.width)
        result.update(total=int(counts.counts.sum()), encoding="sparse", rows=rows, cols=cols, counts=counts.counts)
        return result

    def pairs(self, ctx, experiment_id, run, name, step, limit):
        steps = self._steps_of(ctx, experiment_id, run, name)
        if steps.meta.task == metadata.TASK_MULTILABEL:
            raise errors.InvalidArgumentError("most-confused pairs are for multiclass and binary runs")
        position = self._position(steps.steps, run, step)
        counts = steps.counts(position)
        rows, cols = np.divmod(counts.cells, counts.width)
        off = rows != cols
        cells, values = counts.cells[off], counts.counts[off]
        top = np.lexsort((cells, -values))[:limit]
        chosen = cells[top]
        sample = steps.history(HISTORY_POINTS)
        history = sample.counts_of(chosen)
        at = int(np.searchsorted(sample.positions, position))
        if at == len(sample.positions) or sample.positions[at] != position:  # the step looked at
            history = np.insert(history, at, values[top], axis=1)
        history_at = np.insert(sample.positions, at, position) if history.shape[1] > len(sample.positions) else sample.positions
        true, predicted = np.divmod(chosen, counts.width)
        return {
            "run": run, "name": name, "step": int(steps.steps[position]), "steps": steps.steps,
            "history_steps": steps.steps[history_at], "class_names": list(steps.meta.class_names),
            "pairs": [{"true": int(t), "pred": int(p), "count": int(c), "history": h}
                      for t, p, c, h in zip(true, predicted, values[top], history)],
        }  # fmt: skip

    def report(self, ctx, experiment_id, run, name, step):
        steps = self._steps_of(ctx, experiment_id, run, name, required=False)
        table = self._table(ctx, experiment_id, run, name, required=False)
        if table is not None and table.has_true_false:
            position = self._position(table.steps, run, step, "statistics")
            found = int(table.steps[position])
            tp, fp, fn = (table.count(n, position).astype(np.int64) for n in ("tp", "fp", "fn"))
            result = report_from_counts(tp, fp, fn, table.meta.task, table.meta.class_names,
                                        table.loss[position].astype(np.float64))  # fmt: skip
            return result, found, steps.steps if steps is not None else table.steps
        if steps is None:
            raise errors.NotFoundError(f"no per-class confusion data for run {run!r} and name {name!r}")
        position = self._position(steps.steps, run, step)
        found = int(steps.steps[position])
        matrix = steps.counts(position).dense(steps.meta.num_classes)
        if steps.meta.task == metadata.TASK_MULTILABEL:
            matrix = matrix.reshape(steps.meta.num_classes, 2, 2)
        loss = None
        if table is not None:
            at = position_of(table.steps, found)
            loss = None if at is None else table.loss[at].astype(np.float64)
        return report.classification_report(matrix, steps.meta.task, steps.meta.class_names, loss), found, steps.steps

    def diff(self, ctx, experiment_id, name, run, step, base_run, base_step, limit):
        after = self._steps_of(ctx, experiment_id, run, name)
        before = self._steps_of(ctx, experiment_id, base_run, name)
        a, b = self._position(after.steps, run, step), self._position(before.steps, base_run, base_step)
        ca, cb = after.counts(a), before.counts(b)
        cells = np.union1d(ca.cells, cb.cells)
        count_after, count_before = ca.counts_of(cells), cb.counts_of(cells)
        delta = count_after - count_before
        changed = delta != 0
        cells, delta, count_after, count_before = cells[changed], delta[changed], count_after[changed], count_before[changed]
        rows, cols = np.divmod(cells, ca.width)
        top = np.lexsort((cells, -np.abs(delta)))[:limit]
        return {
            "name": name, "task": after.meta.task, "run": run, "step": int(after.steps[a]),
            "base_run": base_run, "base_step": int(before.steps[b]),
            "class_names": list(after.meta.class_names), "rows": rows, "cols": cols, "deltas": delta,
            "changes": [{"true": int(rows[i]), "pred": int(cols[i]), "before": int(count_before[i]),
                         "after": int(count_after[i]), "delta": int(delta[i])} for i in top],
        }  # fmt: skip


def report_from_counts(tp, fp, fn, task, class_names, loss) -> report.ClassificationReport:
    """What `report.classification_report` computes from a matrix, from its TP/FP/FN."""
    total = tp.sum() + fn.sum()  # every sample with a finite output, once
    accuracy = float("nan") if task == metadata.TASK_MULTILABEL or total == 0 else float(tp.sum() / total)
    return report.ClassificationReport(
        class_names=tuple(class_names), precision=report._ratio(tp, tp + fp),
        recall=report._ratio(tp, tp + fn), f1=report._ratio(2 * tp, 2 * tp + fp + fn),
        support=(tp + fn).astype(np.int64), loss=loss, accuracy=accuracy,
    )  # fmt: skip


class PrototypePlugin(plugin_module.PerClassPlugin):
    def __init__(self, context):
        super().__init__(context)
        self._reader = ScaledReader(context.data_provider)

    @wrappers.Request.application
    def _serve_curves(self, request):
        ctx, experiment = plugin_module._request_scope(request)
        run, name = plugin_module._required(request, "run"), plugin_module._required(request, "name")
        curves = self._reader.curves(ctx, experiment, run, name)
        if request.args.get("format", "json") == "binary":
            response = http_util.Respond(request, encode_binary(curves), "application/octet-stream")
        else:
            response = plugin_module._respond_json(request, curves)
        # The answer is tens of MB at 5000 steps: once sent, its pages go back to the system.
        response.call_on_close(release_free_memory)
        return response

    def get_plugin_apps(self):
        apps = super().get_plugin_apps()
        apps["/curves"] = self._serve_curves
        apps["/cache"] = self._serve_cache
        return {route: _trimmed(app) for route, app in apps.items()}

    @wrappers.Request.application
    def _serve_cache(self, request):
        cache = self._reader.bytes_cache
        body = {"bytes": cache.nbytes, "max_bytes": cache.max_bytes, "entries": len(cache),
                **vars(cache.stats)}  # fmt: skip
        return http_util.Respond(request, json.dumps(body), "application/json")


def _trimmed(app):
    """A WSGI app that gives freed heap pages back to the system after each answer."""

    def wrapped(environ, start_response):
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            release_free_memory()

    return wrapped


def _load(self, context):
    return PrototypePlugin(context)


if __name__ == "__main__":
    metadata.PROTOCOL_VERSION = 3  # the prototype reads version-3 summaries
    loader.PerClassLoader.load = _load
    from tensorboard.main import run_main

    sys.argv[0] = "tensorboard"
    run_main()
