"""A logdir's tb-perclass data outside TensorBoard, read the way TensorBoard reads it.

`Logdir` loads every run under a directory (or a URL TensorBoard's file layer reads) once with
TensorBoard's own event multiplexer, wraps it in TensorBoard's `MultiplexerDataProvider` and asks
the plugin's reader and answer modules (`tb_perclass.plugin`: reader, curves, confusion, report,
samples) for its data: the numbers are the ones the Per-Class tab's routes serve, by
construction, and the record format is never parsed here.

Everything returned is NumPy or plain Python; pandas lives in `frames` only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from tb_perclass.format import metadata, metrics
from tb_perclass.plugin import confusion as confusion_answers
from tb_perclass.plugin import curves as curves_answers
from tb_perclass.plugin import dynamics as dynamics_answers
from tb_perclass.plugin import report as report_answers
from tb_perclass.plugin import samples as samples_answers
from tb_perclass.plugin import scores as scores_answers
from tb_perclass.plugin.reader import Head, PerClassReader

# Every step of the plugin's tags is kept (0 = no reservoir sampling), as the tab asks of a
# TensorBoard through `--samples_per_plugin`.
_KEEP_EVERY_STEP = {metadata.PLUGIN_NAME: 0}
# Snapshots of tracked samples: the last few, as TensorBoard keeps them (each holds the run so far).
_KEEP_SNAPSHOTS = {metadata.SNAPSHOT_PLUGIN_NAME: metadata.SNAPSHOTS_KEPT}
_EXPERIMENT = ""  # the multiplexer's data provider serves one unnamed experiment

_SPLITS = (
    ("train", re.compile(r"^(train|training)$", re.I)),
    ("validation", re.compile(r"^(validation|val|valid|eval|evaluation|dev)$", re.I)),
    ("test", re.compile(r"^(test|testing)$", re.I)),
)


class PerClassDataError(Exception):
    """A logdir, run, name or step that cannot be read as asked; the message says what exists."""


class DataNotFoundError(PerClassDataError, LookupError):
    """The logdir, a run, a name, a class or a step does not exist (or has no per-class data)."""


class AmbiguousSelectionError(PerClassDataError, ValueError):
    """More than one series matches where one is needed; the message lists them."""


class IncompatibleDataError(PerClassDataError, ValueError):
    """The data exists but cannot answer the question (other task, other classes, no counts)."""


@dataclasses.dataclass(frozen=True)
class Series:
    """What one run logged under one name (tag prefix): one writer's data."""

    run: str
    name: str
    task: str
    class_names: tuple[str, ...]
    loss_name: str
    kinds: tuple[str, ...]

    @property
    def split(self) -> str | None:
        """train, validation or test, from the last part of the name (unless it is the default)
        or else of the run, as the tab reads it (`exp/validation`, `name="val"`)."""
        parts = ([self.name] if self.name != metadata.DEFAULT_NAME else []) + [self.run]
        for part in parts:
            last = part.rsplit("/", 1)[-1]
            for split, pattern in _SPLITS:
                if pattern.match(last):
                    return split
        return None

    @property
    def label(self) -> str:
        return self.run if self.name == metadata.DEFAULT_NAME else f"{self.run} · {self.name}"


class Logdir:
    """Every (run, name) with tb-perclass data under `path`, loaded once.

    `path` is a directory or a URL (s3://, gs://, ...) that TensorBoard's file layer reads in
    this environment. Loading reads all event files; later calls decode from memory."""

    def __init__(self, path: str | os.PathLike):
        from tensorboard import context
        from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer

        self.path = os.fspath(path)
        _read_without_importing_tensorflow(self.path)
        _check_is_directory(self.path)
        multiplexer = plugin_event_multiplexer.EventMultiplexer(
            tensor_size_guidance={**_KEEP_EVERY_STEP, **_KEEP_SNAPSHOTS}
        )
        with _fast_record_checksums():
            multiplexer.AddRunsFromDirectory(self.path)
            multiplexer.Reload()
        self._provider = data_provider.MultiplexerDataProvider(multiplexer, self.path)
        self._reader = PerClassReader(self._provider)
        self._ctx = context.RequestContext()
        heads = self._reader.heads(self._ctx, _EXPERIMENT)
        self.series: tuple[Series, ...] = tuple(
            _series(run, name, head) for run, names in heads.items() for name, head in names.items()
        )
        if not self.series:
            raise DataNotFoundError(
                f"{self.path} has no tb-perclass data: no event file under it holds per-class "
                "summaries (write them with PerClassWriter, or point at the directory above the "
                "runs)"
            )

    # --- choosing series -------------------------------------------------------------------

    def select(self, run: str | None = None, name: str | None = None) -> list[Series]:
        """The series of `run` and `name` (each None: any), in run then name order."""
        chosen = [
            s
            for s in self.series
            if (run is None or s.run == run) and (name is None or s.name == name)
        ]
        if not chosen:
            raise DataNotFoundError(self._nothing_matches(run, name))
        return chosen

    def one(self, run: str | None = None, name: str | None = None) -> Series:
        """The single series matching `run` and `name`; an error lists them when several do."""
        chosen = self.select(run, name)
        if len(chosen) > 1:
            listed = ", ".join(f"--run {s.run!r} --name {s.name!r}" for s in chosen[:12])
            more = f" and {len(chosen) - 12} more" if len(chosen) > 12 else ""
            raise AmbiguousSelectionError(
                f"{self.path} has {len(chosen)} series here; say which with run and name: "
                f"{listed}{more}"
            )
        return chosen[0]

    def _nothing_matches(self, run: str | None, name: str | None) -> str:
        runs = sorted({s.run for s in self.series})
        if run is not None and run not in runs:
            shown = ", ".join(repr(r) for r in runs[:20]) + (" ..." if len(runs) > 20 else "")
            return f"{self.path} has no run {run!r} with per-class data; its runs are {shown}"
        names = sorted({s.name for s in self.series if run is None or s.run == run})
        where = f"run {run!r}" if run is not None else self.path
        return (
            f"{where} has no per-class name {name!r}; its names are {', '.join(map(repr, names))}"
        )

    # --- data of one series ----------------------------------------------------------------

    def curves(self, series: Series) -> dict[str, Any]:
        """Every step's per-class values, as the curves route serves them ([S, C] arrays), plus
        precision, recall and F1 from TP/FP/FN (NaN where undefined or without counts)."""
        # the JSON route's fields: every count as integers (zeros where not held), accuracy
        curves = curves_answers.as_json(
            self._answer(curves_answers.answer, series.run, series.name)
        )
        # float32 as stored (format 3); float64 in tables, so that CSV text round-trips exactly
        curves["loss"] = curves["loss"].astype(np.float64)
        if "tp" in curves:
            ratios = metrics.ratios_from_counts(curves["tp"], curves["fp"], curves["fn"])
        else:
            ratios = {m: np.full(curves["loss"].shape, np.nan) for m in metrics.RATIOS}
        return {**curves, **ratios}

    def steps(self, series: Series, kind: str) -> np.ndarray:
        """The steps with readable data of `kind` (a samples step whose manifest turns out bad
        when read is listed here, then in `skipped`)."""
        answer = self._answer(PerClassReader.steps, series.run, series.name, kind)
        return np.asarray(answer["steps"])

    def skipped(self, series: Series) -> list[dict[str, Any]]:
        """Every step of the series left out as malformed, with its kind and the reason, as the
        routes' `skipped` lists give them (every samples manifest is read to know)."""
        found: dict[tuple[int, str, str], dict[str, Any]] = {}
        for kind in series.kinds:
            if kind in metadata.BLOB_KINDS:
                read = self.samples if kind == metadata.KIND_SAMPLES else self.likely_errors
                for step in self.steps(series, kind):
                    try:
                        read(series, int(step))
                    except DataNotFoundError:
                        pass  # a bad manifest or header: now in the series' skipped steps
            answer = self._answer(PerClassReader.steps, series.run, series.name, kind)
            for entry in answer["skipped"]:
                found.setdefault((entry["step"], entry["kind"], entry["reason"]), entry)
        return sorted(found.values(), key=lambda e: (e["step"], e["kind"]))

    def confusion(self, series: Series, step: int | None, dense: bool = True) -> dict[str, Any]:
        """One step's counts (the latest step's by default), as the confusion route serves them:
        a `matrix` ([C, C], rows true) or, multilabel, `matrices` ([L, 2, 2]); with
        `dense=False` the nonzero cells `rows`, `cols`, `counts` of a sparse run are left so."""
        self._require(series, metadata.KIND_CONFUSION)
        answer = self._answer(confusion_answers.matrix, series.run, series.name, step)
        if answer["encoding"] == "sparse" and dense:
            size = len(answer["class_names"])
            matrix = np.zeros((size, size), dtype=np.int64)
            matrix[answer["rows"], answer["cols"]] = answer["counts"]
            answer["matrix"] = matrix
        return answer

    def cells(self, series: Series, step: int | None) -> dict[str, Any]:
        """One step's nonzero confusion cells as linear indices (`metrics`' convention: true x
        width + predicted, or + TN/FP/FN/TP code for multilabel) with `counts`, `step` and
        `skipped`."""
        answer = self.confusion(series, step, dense=False)
        if answer["encoding"] == "sparse":
            cells = answer["rows"] * len(series.class_names) + answer["cols"]
            counts = answer["counts"]
        else:
            flat = np.asarray(answer.get("matrix", answer.get("matrices"))).reshape(-1)
            cells = np.flatnonzero(flat)
            counts = flat[cells]
        return {
            "cells": cells,
            "counts": counts,
            "step": answer["step"],
            "skipped": answer["skipped"],
        }

    def report(self, series: Series, step: int | None) -> report_answers.ReportAt:
        """The classification report at `step` (the latest by default), as the report route
        builds it: `.report`, `.step`, `.steps` and `.skipped` (malformed steps left out)."""
        self._require(series, metadata.KIND_CONFUSION)
        return self._answer(report_answers.at_step, series.run, series.name, step)

    def scores(self, series: Series) -> list[tuple[int, dict[str, Any]]]:
        """Every step's values from the score histograms (writers with `scores=True`), as the
        scores route's `table` serves them: per class ([C]) ap, ap_bound, auroc, auroc_bound,
        ece, signed_error, positives, negatives, best_f1 and best_threshold (binary and
        multilabel), top_k_accuracy (with top-k), and their `averages`."""
        self._require(series, metadata.KIND_SCORES)
        return self._answer(scores_answers.every_step, series.run, series.name)

    def samples(self, series: Series, step: int | None) -> dict[str, Any]:
        """The kept mistakes at `step` (latest by default), as the samples route serves them."""
        self._require(series, metadata.KIND_SAMPLES)
        return self._answer(samples_answers.kept, series.run, series.name, step, {}, "score")

    def sample_bytes(self, series: Series, step: int, index: int) -> tuple[bytes, str]:
        """One kept sample's bytes and media type (image/png or text/plain)."""
        self._require(series, metadata.KIND_SAMPLES)
        data, media_type = self._answer(samples_answers.blob, series.run, series.name, step, index)
        return data, media_type.split(";")[0]

    def dynamics(self, series: Series) -> dict[str, Any]:
        """The tracked samples' per-class counts at every step, as the dynamics route serves
        them ([S, C] arrays and per-step extras)."""
        self._require(series, metadata.KIND_DYNAMICS)
        return self._answer(dynamics_answers.counts, series.run, series.name)

    def likely_errors(
        self, series: Series, step: int | None, label: int | None = None
    ) -> dict[str, Any]:
        """A snapshot's likely label errors (all of them), as the dynamics_samples route ranks
        them: lowest mean margin first."""
        return self.listed(series, step, "errors", label)

    def listed(
        self, series: Series, step: int | None, which: str, label: int | None = None
    ) -> dict[str, Any]:
        """A snapshot's ranked list ("errors" or "forgotten"), every entry."""
        self._require(series, metadata.KIND_DYNAMICS_SAMPLES)
        return self._answer(
            dynamics_answers.listed_samples, series.run, series.name, step, which, label, None
        )

    def data_map(self, series: Series, step: int | None) -> dict[str, Any]:
        """A snapshot's data map: the header fields, and per point id, label, and confidence,
        variability and correctness back in their units (NaN: never visited)."""
        self._require(series, metadata.KIND_DYNAMICS_SAMPLES)
        header, columns = self._answer(dynamics_answers.data_map, series.run, series.name, step)
        points = {key: values for key, (_, values) in columns.items()}
        for key, scale in header["scales"].items():
            raw = points[key].astype(np.float64)
            points[key] = np.where(
                raw == header["not_visited"], np.nan, raw / header["levels"] * scale
            )
        return {**header, **points}

    def _require(self, series: Series, kind: str) -> None:
        if kind not in series.kinds:
            hint = {
                metadata.KIND_CONFUSION: "it was written with confusion=False",
                metadata.KIND_SAMPLES: "keep samples with update(..., inputs=...)",
                metadata.KIND_SCORES: "record them with PerClassWriter(..., scores=True)",
                metadata.KIND_DYNAMICS: "track samples with PerClassWriter(..., track_samples=N)",
                metadata.KIND_DYNAMICS_SAMPLES: (
                    "track samples with PerClassWriter(..., track_samples=N)"
                ),
            }[kind]
            raise IncompatibleDataError(
                f"run {series.run!r} (name {series.name!r}) has no {kind} data ({hint}); it has "
                f"{', '.join(series.kinds)}"
            )

    def _answer(self, answer, *args) -> Any:
        """`answer(reader, ctx, experiment, *args)`: a plugin answer function (or a reader
        method), with TensorBoard's errors turned into this module's."""
        from tensorboard import errors

        try:
            return answer(self._reader, self._ctx, _EXPERIMENT, *args)
        except errors.NotFoundError as error:
            raise DataNotFoundError(_details(error)) from None
        except errors.InvalidArgumentError as error:
            raise IncompatibleDataError(_details(error)) from None


def _details(error: Exception) -> str:
    """The message of a TensorBoard error without its HTTP-style prefix ("Not found: ...")."""
    return re.sub(r"^(Not found|Invalid argument): ", "", str(error))


def _series(run: str, name: str, head: Head) -> Series:
    return Series(
        run=run,
        name=name,
        task=head.task,
        class_names=head.class_names,
        loss_name=head.loss,
        kinds=head.kinds,
    )


def _read_without_importing_tensorflow(path: str) -> None:
    """Has TensorBoard read files with its TensorFlow-free layer, as a TensorBoard installed
    without TensorFlow does, unless TensorFlow is imported already and reads `path` itself:
    importing TensorFlow only to open files costs seconds (7 s on a 2-core machine), and
    TensorFlow reads local paths and gs:// only (2.21: no s3://), so a notebook that imported
    TensorFlow still reads s3:// here (with boto3, as TensorBoard without TensorFlow does).
    `tensorboard.compat.notf` is TensorBoard's own switch for that (its no-TensorFlow build). It
    holds for the process, and only if TensorBoard has not resolved its `tf` module yet; either
    way TensorBoard's reader reads the records."""
    if "tensorflow" not in sys.modules or _scheme(path) not in _tensorflow_schemes():
        sys.modules.setdefault(
            "tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf")
        )


def _scheme(path: str) -> str:
    """The URL scheme of `path` ("s3", "gs", ...), or "" for a local path."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]+)://", path)
    return match.group(1).lower() if match else ""


def _tensorflow_schemes() -> set[str]:
    """The schemes the imported TensorFlow's file layer reads ("" = local)."""
    try:
        return set(sys.modules["tensorflow"].io.gfile.get_registered_schemes()) | {""}
    except Exception:  # an older TensorFlow, or a half-imported one
        return {"", "file", "gs", "ram"}


# The extra that lets TensorBoard's TensorFlow-free file layer read a scheme (boto3 for s3://,
# fsspec and gcsfs for gs://), for the install hint.
_EXTRAS = {"s3": "s3", "gs": "gcs", "gcs": "gcs"}


def _check_is_directory(path: str) -> None:
    from tensorboard.compat import tf

    try:
        exists = tf.io.gfile.exists(path)
        is_directory = exists and tf.io.gfile.isdir(path)
    except Exception as error:  # the file layer of a URL scheme: missing package, no access
        raise DataNotFoundError(_unreadable(path, error, tf.__name__ == "tensorflow")) from None
    if not exists:
        raise DataNotFoundError(
            f"{path} does not exist; pass the directory TensorBoard's --logdir would get (the "
            "one holding the runs, or a run directory itself)"
        )
    if not is_directory:
        raise DataNotFoundError(
            f"{path} is a file, not a directory; pass the directory holding the event files"
        )


def _unreadable(path: str, error: Exception, with_tensorflow: bool) -> str:
    """Why `path` cannot be read, and what to do about it."""
    scheme = _scheme(path)
    reason = f"cannot read {path}: {type(error).__name__}: {error}"
    if with_tensorflow and scheme not in _tensorflow_schemes():
        return (
            f"{reason}. TensorBoard reads files with TensorFlow in this process, which has no "
            f"{scheme}:// filesystem: read it from a process that has not used TensorBoard's "
            "file layer with TensorFlow (e.g. the tb-perclass command)"
        )
    missing = isinstance(error, ImportError) or "no recognized filesystem" in str(error).lower()
    if missing and scheme in _EXTRAS:
        return f"{reason}; pip install 'tb-perclass[{_EXTRAS[scheme]}]'"
    if missing:
        return f"{reason}; install fsspec and its package for {scheme}://"
    return reason


# --- record checksums ----------------------------------------------------------------------
# Without TensorFlow, TensorBoard reads records with its pure-Python stub, whose CRC32C runs at
# about 9 MB/s: most of the time of loading a large run. While a Logdir loads, the stub's
# checksum function is swapped for the same checksum from google-crc32c (a dependency already,
# for writing), after checking on test data that both agree. Records are still framed, checked
# and parsed by TensorBoard's own reader.

_swap_lock = threading.Lock()
_swap_depth = 0
_stub_checksum: Any = None


def _masked_crc32c(data: bytes) -> int:
    import google_crc32c

    crc = google_crc32c.value(bytes(data))
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@contextlib.contextmanager
def _fast_record_checksums() -> Iterator[None]:
    global _swap_depth, _stub_checksum
    try:
        from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as stub
    except ImportError:
        stub = None
    swapped = False
    with _swap_lock:
        if stub is not None and _swap_depth > 0:
            swapped = True
        elif stub is not None:
            original = getattr(stub, "masked_crc32c", None)
            probe = b"tb-perclass \x00\xff checksum probe"
            if original is not None and original(probe) == _masked_crc32c(probe):
                _stub_checksum, stub.masked_crc32c = original, _masked_crc32c
                swapped = True
        if swapped:
            _swap_depth += 1
    try:
        yield
    finally:
        if swapped:
            with _swap_lock:
                _swap_depth -= 1
                if _swap_depth == 0:
                    stub.masked_crc32c = _stub_checksum
