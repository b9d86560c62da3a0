"""pandas DataFrames of a logdir's per-class data: the notebook side of `tb_perclass.analysis`.

    logs = read_logdir("runs/digits")
    logs.series                                 # one row per (run, name)
    df = logs.per_class()                       # one row per run, name, step and class
    logs.confusion(run="torch/validation")      # a step's matrix: .counts (NumPy), .frame()
    logs.report(run="torch/validation")         # classification report of a step
    logs.scores(run="torch/validation")         # AP, AUROC, ECE, ... per step and class
    logs.samples(run="torch/validation")        # kept mistakes of a step; logs.sample(...)
    logs.label_errors(run="noisy/train")        # tracked samples: likely label errors, ranked
    logs.dynamics(run="noisy/train")            # easy / ambiguous / hard counts per step, class
    logs.data_map(run="noisy/train")            # the data map's points

This is the only module of tb-perclass that imports pandas (`pip install tb-perclass[pandas]`).
Every number comes from `loading.Logdir`, i.e. from the plugin's reader over TensorBoard's own
event loading, and every table from `tables.TABLES`.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from tb_perclass.analysis import tables
from tb_perclass.analysis.loading import Logdir, Series
from tb_perclass.format import metadata
from tb_perclass.plugin import report as report_answers

try:
    import pandas as pd
except ImportError as error:  # pragma: no cover - exercised in a pandas-free subprocess
    raise ImportError(
        "tb_perclass.analysis.frames needs pandas: pip install 'tb-perclass[pandas]' (the "
        "command line `tb-perclass` works without it)"
    ) from error


def read_logdir(logdir: str | os.PathLike) -> PerClassLogs:
    """Loads every run with tb-perclass data under `logdir` (a directory, or a URL that
    TensorBoard reads in this environment, e.g. s3://bucket/runs)."""
    return PerClassLogs(Logdir(logdir))


@dataclasses.dataclass(frozen=True)
class ConfusionMatrix:
    """One step's confusion counts: [C, C] (rows true, columns predicted) or, for multilabel,
    [L, 2, 2] = [label][true][predicted]."""

    run: str
    name: str
    task: str
    step: int
    class_names: tuple[str, ...]
    counts: np.ndarray

    def frame(self) -> pd.DataFrame:
        """Counts with class names: true classes as the index, predicted as the columns;
        multilabel, one row per label with its TN, FP, FN, TP."""
        if self.task == metadata.TASK_MULTILABEL:
            return pd.DataFrame(
                self.counts.reshape(-1, 4),
                index=pd.Index(self.class_names, name="label"),
                columns=["tn", "fp", "fn", "tp"],
            )
        return pd.DataFrame(
            self.counts,
            index=pd.Index(self.class_names, name="true"),
            columns=pd.Index(self.class_names, name="predicted"),
        )


@dataclasses.dataclass(frozen=True)
class Sample:
    """One kept misclassified sample: its manifest entry and its bytes (PNG or UTF-8 text).
    In a notebook an image sample displays itself."""

    step: int
    entry: dict[str, Any]
    media: str
    data: bytes

    def image(self):
        """The image as a PIL image (needs Pillow)."""
        if self.media != "image/png":
            raise TypeError(f"sample {self.entry.get('index')} is {self.media}, not an image")
        import io

        from PIL import Image

        return Image.open(io.BytesIO(self.data))

    def text(self) -> str:
        if self.media != "text/plain":
            raise TypeError(f"sample {self.entry.get('index')} is {self.media}, not text")
        return self.data.decode("utf-8")

    def _repr_png_(self) -> bytes | None:
        return self.data if self.media == "image/png" else None


class PerClassLogs:
    """pandas views of a `Logdir`. Methods that need one series take `run` and `name` and may
    leave out what is unambiguous (a logdir with one run needs neither)."""

    def __init__(self, logdir: Logdir):
        self.logdir = logdir

    @property
    def series(self) -> pd.DataFrame:
        return self.table("series")

    def table(self, table: str, run: str | None = None, name: str | None = None) -> pd.DataFrame:
        """Any table of `tables.TABLES` (series, per_class, steps, confusion,
        multilabel_confusion, scores, samples, skipped) over the series of `run` and `name` (None:
        all)."""
        spec = tables.TABLES.get(table)
        if spec is None:
            raise ValueError(f"no table {table!r}; tables are {', '.join(tables.TABLES)}")
        return _frame(tables.build(self.logdir, spec, self.logdir.select(run, name)))

    def per_class(self, run: str | None = None, name: str | None = None) -> pd.DataFrame:
        """One row per run, name, step and class: loss, count, accuracy, precision, recall, F1,
        TP/FP/FN (<NA> at steps without confusion counts) and non-finite counts."""
        return self.table("per_class", run, name)

    def steps(self, run: str | None = None, name: str | None = None) -> pd.DataFrame:
        """One row per run, name and step: totals, accuracy, macro and weighted averages."""
        return self.table("steps", run, name)

    def scores(self, run: str | None = None, name: str | None = None) -> pd.DataFrame:
        """One row per run, name, step and class of the series written with scores=True: AP
        and AUROC (each with its binning bound: the value scikit-learn computes from the same
        predictions lies within it), ECE, mean confidence - accuracy, positives, negatives,
        best F1 and its threshold (binary, multilabel) and top-k accuracy."""
        return self.table("scores", run, name)

    def dynamics(self, run: str | None = None, name: str | None = None) -> pd.DataFrame:
        """Tracked samples (`track_samples`): one row per step and class with the samples
        visited, easy, ambiguous and hard to learn, likely label errors and forgotten."""
        return self.table("dynamics", run, name)

    def label_errors(
        self,
        run: str | None = None,
        name: str | None = None,
        step: int | None = None,
        label: str | None = None,
        forgotten: bool = False,
    ) -> pd.DataFrame:
        """A snapshot's likely label errors (the latest by default; of class `label` when
        given), most likely first, as the Dynamics view lists them: id, given and preferred
        class, margin, confidence, variability, correctness, visits and forgetting events; with
        `forgotten=True` the most forgotten samples instead."""
        series = self.logdir.one(run, name)
        index = None
        if label is not None:
            if label not in series.class_names:
                raise ValueError(f"no class {label!r}; the classes are {list(series.class_names)}")
            index = series.class_names.index(label)
        answer = self.logdir.listed(series, step, "forgotten" if forgotten else "errors", index)
        frame = pd.DataFrame(answer["samples"]).drop(
            columns=["media", "media_type", "width", "height"], errors="ignore"
        )
        if len(frame):
            names = list(series.class_names)
            frame.insert(2, "given_class", [names[i] for i in frame["label"]])
            frame.insert(4, "preferred_class", [names[i] for i in frame["preferred"]])
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="rank")
        frame.attrs.update(
            run=series.run, name=series.name, step=answer["step"], size=answer["size"]
        )
        return frame

    def data_map(
        self, run: str | None = None, name: str | None = None, step: int | None = None
    ) -> pd.DataFrame:
        """A snapshot's data map: one row per point (every sample, or a fixed subset of 100,000
        beyond that) with id, given class, confidence, variability and correctness (NaN: never
        visited)."""
        series = self.logdir.one(run, name)
        answer = self.logdir.data_map(series, step)
        frame = pd.DataFrame(
            {
                "id": answer["id"].astype(np.int64),
                "class": pd.Categorical.from_codes(
                    answer["label"].astype(np.int64), categories=list(series.class_names)
                ),
                "confidence": answer["confidence"],
                "variability": answer["variability"],
                "correctness": answer["correctness"],
            }
        )
        frame.attrs.update(
            run=series.run, name=series.name, step=answer["step"], subset=answer["subset"]
        )
        return frame

    def confusion(
        self, run: str | None = None, name: str | None = None, step: int | None = None
    ) -> ConfusionMatrix:
        """The confusion counts at `step` (the latest by default)."""
        series = self.logdir.one(run, name)
        answer = self.logdir.confusion(series, step)
        counts = answer["matrices"] if series.task == metadata.TASK_MULTILABEL else answer["matrix"]
        return ConfusionMatrix(
            run=series.run,
            name=series.name,
            task=series.task,
            step=answer["step"],
            class_names=series.class_names,
            counts=np.asarray(counts),
        )

    def report(
        self, run: str | None = None, name: str | None = None, step: int | None = None
    ) -> pd.DataFrame:
        """Precision, recall, F1, support and loss per class at `step` (the latest by default),
        with AP, AUROC, ECE and top-k accuracy when score histograms were recorded at that step,
        then the macro and weighted averages, as the Report view and `report` route give them;
        `.attrs` holds run, name, step, accuracy (and top_k) and the malformed steps left out
        (`skipped`)."""
        series = self.logdir.one(run, name)
        found = self.logdir.report(series, step)
        result, found_step, skipped = found.report, found.step, found.skipped
        frame = pd.DataFrame(
            {
                "precision": result.precision,
                "recall": result.recall,
                "f1": result.f1,
                "support": result.support,
                "loss": result.loss,
            },
            index=pd.Index(result.class_names, name="class"),
        )
        by_scores = found.scores or {"averages": {}}
        keys = report_answers.score_columns(found.scores)
        for key in keys:
            frame[key] = by_scores[key]
        averages = pd.DataFrame(
            [
                {
                    **row,
                    "loss": np.nan,
                    **{key: _defined(by_scores["averages"][key][a]) for key in keys},
                }
                for a, row in result.averages().items()
            ],
            index=pd.Index([f"{a} avg" for a in result.averages()], name="class"),
        )
        frame = pd.concat([frame, averages])
        frame.attrs.update(
            run=series.run,
            name=series.name,
            step=found_step,
            accuracy=result.accuracy,
            skipped=skipped,
            **({"top_k": by_scores["top_k"]} if "top_k_accuracy" in keys else {}),
        )
        return frame

    def samples(
        self, run: str | None = None, name: str | None = None, step: int | None = None
    ) -> pd.DataFrame:
        """The kept mistakes at `step` (the latest by default), one row per sample (the
        manifest), most confident first; `sample(step=..., index=...)` gives one's content."""
        series = self.logdir.one(run, name)
        answer = self.logdir.samples(series, step)
        frame = pd.DataFrame(
            [{k: v for k, v in e.items() if k != "blob"} for e in answer["samples"]]
        )
        frame.attrs.update(run=series.run, name=series.name, step=answer["step"])
        return frame

    def sample(
        self,
        run: str | None = None,
        name: str | None = None,
        *,
        step: int | None = None,
        index: int,
    ) -> Sample:
        """One kept sample (`index` from the manifest) at `step` (the latest by default)."""
        series = self.logdir.one(run, name)
        answer = self.logdir.samples(series, step)
        entry = next((e for e in answer["samples"] if e.get("index") == index), None)
        data, media = self.logdir.sample_bytes(series, answer["step"], index)
        entry = {k: v for k, v in (entry or {}).items() if k != "blob"}
        return Sample(step=answer["step"], entry=entry, media=media, data=data)


def _defined(value: float | None) -> float:
    return np.nan if value is None else value


def _frame(table: tables.Table) -> pd.DataFrame:
    columns = {}
    for name, column in table.columns.items():
        if isinstance(column, tables.Labels):
            columns[name] = pd.Categorical.from_codes(column.codes, categories=list(column.labels))
        elif name in table.nullable:
            missing = np.isnan(column)
            columns[name] = pd.arrays.IntegerArray(
                np.where(missing, 0, column).astype(np.int64), missing
            )
        else:
            columns[name] = column
    return pd.DataFrame(columns)


__all__ = ["ConfusionMatrix", "PerClassLogs", "Sample", "Series", "read_logdir"]
