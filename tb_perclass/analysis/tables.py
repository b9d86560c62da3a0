"""Tidy tables of a logdir's per-class data: one builder per table, registered by name.

A table is a set of equally long columns: NumPy arrays, or `Labels` for strings that repeat
(run, class name), kept as codes into their distinct values so that a million rows of class names
cost a million small integers (pandas gets a categorical, Arrow a dictionary column). Every table
starts with the columns `run`, `name` and `split` of the series a row comes from.

`TABLES` is the registry the pandas reader (`frames`), `tb-perclass export` and the tests go
through: a new summary kind plugs in by adding one builder and one `TableSpec` here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from tb_perclass.analysis.loading import DataNotFoundError, Logdir, Series
from tb_perclass.format import metadata, metrics
from tb_perclass.plugin import scores as scores_answers


@dataclasses.dataclass(frozen=True)
class Labels:
    """A string column as codes into `labels`; code -1 is a missing value."""

    codes: np.ndarray
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.codes)

    def values(self) -> np.ndarray:
        """The strings, as an object array (None where missing)."""
        lookup = np.array([*self.labels, None], dtype=object)
        return lookup[np.where(self.codes < 0, len(self.labels), self.codes)]

    @classmethod
    def constant(cls, value: str | None, length: int) -> Labels:
        if value is None:
            return cls(np.full(length, -1, dtype=np.int32), ())
        return cls(np.zeros(length, dtype=np.int32), (value,))


@dataclasses.dataclass
class Table:
    """Named columns of one length; `nullable` names the float columns that hold integer
    counts with NaN for "missing" (pandas gets its nullable Int64, Arrow an int64 with nulls)."""

    columns: dict[str, np.ndarray | Labels]
    nullable: frozenset[str] = frozenset()

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    @classmethod
    def concat(cls, tables: Sequence[Table], names: Sequence[str]) -> Table:
        """Rows of `tables` one after another, with the columns `names` (missing ones empty)."""
        columns: dict[str, np.ndarray | Labels] = {}
        for column in names:
            parts = [t.columns.get(column) for t in tables]
            sample = next((p for p in parts if p is not None), None)
            if isinstance(sample, Labels) or sample is None:
                columns[column] = _concat_labels(
                    [
                        p if p is not None else Labels.constant(None, t.num_rows)
                        for p, t in zip(parts, tables)
                    ]
                )
            else:
                columns[column] = np.concatenate(
                    [
                        p if p is not None else _missing(sample.dtype, t.num_rows)
                        for p, t in zip(parts, tables)
                    ]
                )
        nullable = frozenset().union(*(t.nullable for t in tables)) if tables else frozenset()
        return cls(columns, nullable)


@dataclasses.dataclass(frozen=True)
class TableSpec:
    name: str  # also the file name in an export
    kind: str | None  # the summary kind a series needs to have rows here (None: any)
    description: str
    columns: tuple[str, ...]  # after run, name, split
    build: Callable[[Logdir, Series], Table]
    tasks: tuple[str, ...] = metadata.TASKS


SERIES_COLUMNS = ("run", "name", "split")


def build(logdir: Logdir, spec: TableSpec, series: Iterable[Series]) -> Table:
    """The table `spec` over `series` (those without its kind or task contribute no rows)."""
    parts = []
    for s in series:
        if (spec.kind is not None and spec.kind not in s.kinds) or s.task not in spec.tasks:
            continue
        part = spec.build(logdir, s)
        rows = part.num_rows
        prefix = {
            "run": Labels.constant(s.run, rows),
            "name": Labels.constant(s.name, rows),
            "split": Labels.constant(s.split, rows),
        }
        parts.append(Table({**prefix, **part.columns}, part.nullable))
    names = SERIES_COLUMNS + spec.columns
    if not parts:
        return Table({name: _empty(name) for name in names})
    return Table.concat(parts, names)


# --- builders, one per table ----------------------------------------------------------------


def _series_table(logdir: Logdir, series: Series) -> Table:
    steps = logdir.steps(series, series.kinds[0])
    return Table(
        {
            "task": Labels.constant(series.task, 1),
            "loss_name": Labels.constant(series.loss_name, 1),
            "num_classes": np.array([len(series.class_names)]),
            "kinds": Labels.constant(",".join(series.kinds), 1),
            "first_step": np.array([steps.min() if len(steps) else -1]),
            "last_step": np.array([steps.max() if len(steps) else -1]),
            "num_steps": np.array([len(steps)]),
        }
    )


def _per_class_table(logdir: Logdir, series: Series) -> Table:
    curves = logdir.curves(series)
    steps, num_classes = len(curves["steps"]), len(curves["class_names"])
    class_index = np.tile(np.arange(num_classes), steps)
    flat = lambda key: curves[key].reshape(-1)  # noqa: E731
    counts = {
        key: flat(key) if key in curves else np.full(steps * num_classes, np.nan)
        for key in ("tp", "fp", "fn")
    }
    return Table(
        {
            "step": np.repeat(curves["steps"], num_classes),
            "wall_time": np.repeat(curves["wall_times"], num_classes),
            "class_index": class_index,
            "class": Labels(class_index.astype(np.int32), tuple(curves["class_names"])),
            "loss": flat("loss"),
            "count": flat("count"),
            "accuracy": flat("accuracy"),
            "precision": flat("precision"),
            "recall": flat("recall"),
            "f1": flat("f1"),
            **counts,
            "nonfinite": flat("nonfinite"),
            "nonfinite_outputs": flat("nonfinite_outputs"),
        },
        nullable=frozenset(counts),
    )


def _steps_table(logdir: Logdir, series: Series) -> Table:
    curves = logdir.curves(series)
    count = curves["count"]
    correct = np.rint(np.nan_to_num(curves["accuracy"]) * count)
    total = count.sum(axis=1)
    averages = {f"{a}_{m}": [] for a in ("macro", "weighted") for m in metrics.RATIOS}
    support = curves["tp"] + curves["fn"] if "tp" in curves else np.full(count.shape, np.nan)
    for s in range(len(curves["steps"])):
        step_report = metrics.ClassificationReport(
            class_names=tuple(curves["class_names"]),
            precision=curves["precision"][s],
            recall=curves["recall"][s],
            f1=curves["f1"][s],
            support=np.nan_to_num(support[s]),
            loss=curves["loss"][s],
            accuracy=float("nan"),
            samples=int(total[s]),
        )
        for average, row in step_report.averages().items():
            for metric in metrics.RATIOS:
                averages[f"{average}_{metric}"].append(row[metric])
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(total > 0, correct.sum(axis=1) / np.maximum(total, 1), np.nan)
    return Table(
        {
            "step": curves["steps"],
            "wall_time": curves["wall_times"],
            "count": total,
            "accuracy": accuracy,
            **{key: np.array(values, dtype=np.float64) for key, values in averages.items()},
            "nonfinite": curves["nonfinite"].sum(axis=1),
            "nonfinite_outputs": curves["nonfinite_outputs"].sum(axis=1),
            "invalid_targets": curves["invalid_targets"],
            "ignored": curves["ignored"],
        }
    )


def _confusion_table(logdir: Logdir, series: Series) -> Table:
    steps, rows, cols, counts = [], [], [], []
    for step in _unique(logdir.steps(series, metadata.KIND_CONFUSION)):
        answer = logdir.confusion(series, int(step), dense=False)
        if answer["encoding"] == "sparse":
            r, c, n = answer["rows"], answer["cols"], answer["counts"]
        else:
            r, c = np.nonzero(answer["matrix"])
            n = answer["matrix"][r, c]
        steps.append(np.full(len(n), step, dtype=np.int64))
        rows.append(np.asarray(r, dtype=np.int64))
        cols.append(np.asarray(c, dtype=np.int64))
        counts.append(np.asarray(n, dtype=np.int64))
    rows_, cols_ = _joined(rows), _joined(cols)
    names = tuple(series.class_names)
    return Table(
        {
            "step": _joined(steps),
            "true_index": rows_,
            "true_class": Labels(rows_.astype(np.int32), names),
            "pred_index": cols_,
            "pred_class": Labels(cols_.astype(np.int32), names),
            "count": _joined(counts),
        }
    )


def _multilabel_confusion_table(logdir: Logdir, series: Series) -> Table:
    steps, matrices = [], []
    for step in _unique(logdir.steps(series, metadata.KIND_CONFUSION)):
        steps.append(step)
        matrices.append(logdir.confusion(series, int(step))["matrices"])
    labels = len(series.class_names)
    stacked = np.array(matrices, dtype=np.int64).reshape(len(steps), labels, 4)
    label_index = np.tile(np.arange(labels), len(steps))
    return Table(
        {
            "step": np.repeat(np.array(steps, dtype=np.int64), labels),
            "label_index": label_index,
            "label": Labels(label_index.astype(np.int32), tuple(series.class_names)),
            **{key: stacked[:, :, i].reshape(-1) for i, key in enumerate(("tn", "fp", "fn", "tp"))},
        }
    )


SCORE_COLUMNS = scores_answers.TABLE_COLUMNS


def _scores_table(logdir: Logdir, series: Series) -> Table:
    per_step = logdir.scores(series)
    names = tuple(series.class_names)
    classes = len(names)
    class_index = np.tile(np.arange(classes), len(per_step))

    def column(key: str) -> np.ndarray:
        parts = [
            np.full(classes, np.nan) if table.get(key) is None else np.asarray(table[key], float)
            for _, table in per_step
        ]
        return np.concatenate(parts) if parts else np.zeros(0)

    return Table(
        {
            "step": np.repeat(np.array([step for step, _ in per_step], dtype=np.int64), classes),
            "class_index": class_index,
            "class": Labels(class_index.astype(np.int32), names),
            **{key: column(key) for key in SCORE_COLUMNS},
            "positives": column("positives").astype(np.int64),
            "negatives": column("negatives").astype(np.int64),
        }
    )


def _samples_table(logdir: Logdir, series: Series) -> Table:
    entries = []
    for step in _unique(logdir.steps(series, metadata.KIND_SAMPLES)):
        try:
            answer = logdir.samples(series, int(step))
        except DataNotFoundError:  # a malformed manifest: in the skipped table instead
            continue
        entries.extend({"step": answer["step"], **entry} for entry in answer["samples"])
    multilabel = series.task == metadata.TASK_MULTILABEL
    names = tuple(series.class_names)

    def numbers(key: str) -> np.ndarray:
        return np.array([_number(e.get(key)) for e in entries], dtype=np.float64)

    def indices(key: str) -> np.ndarray:
        return np.array([_index(e.get(key)) for e in entries], dtype=np.int64)

    columns: dict[str, np.ndarray | Labels] = {
        "step": indices("step"),
        "index": indices("index"),
    }
    if multilabel:
        label = indices("label")
        columns.update(
            label_index=label,
            label=Labels(label.astype(np.int32), names),
            target=numbers("true"),
            prediction=numbers("pred"),
        )
    else:
        true, pred = indices("true"), indices("pred")
        columns.update(
            true_index=true,
            true_class=Labels(_valid_codes(true, len(names)), names),
            pred_index=pred,
            pred_class=Labels(_valid_codes(pred, len(names)), names),
        )
    columns.update(
        score=numbers("score"),
        loss=numbers("loss"),
        id=np.array([None if e.get("id") is None else str(e["id"]) for e in entries], dtype=object),
        media=np.array([e.get("media") for e in entries], dtype=object),
        width=numbers("width"),
        height=numbers("height"),
    )
    return Table(columns, nullable=frozenset({"width", "height", "target", "prediction"}))


def _dynamics_table(logdir: Logdir, series: Series) -> Table:
    answer = logdir.dynamics(series)
    steps = np.asarray(answer["steps"], dtype=np.int64)
    num_classes = len(series.class_names)
    columns: dict[str, np.ndarray | Labels] = {
        "step": np.repeat(steps, num_classes),
        "class_index": np.tile(np.arange(num_classes, dtype=np.int64), len(steps)),
        "class": Labels(
            np.tile(np.arange(num_classes, dtype=np.int32), len(steps)), series.class_names
        ),
    }
    for key in metadata.DYNAMICS_ROWS:
        columns[key] = np.asarray(answer[key], dtype=np.int64).reshape(-1)
    for key in metadata.DYNAMICS_EXTRA_COLUMNS:
        columns[key] = np.repeat(np.asarray(answer[key], dtype=np.int64), num_classes)
    return Table(columns)


def _listed_table(which: str) -> Callable[[Logdir, Series], Table]:
    """The latest snapshot's ranked list (likely label errors, or most forgotten), in order."""

    def build(logdir: Logdir, series: Series) -> Table:
        answer = logdir.listed(series, None, which)
        entries = answer["samples"]
        names = tuple(series.class_names)

        def column(key: str, dtype) -> np.ndarray:
            return np.array([e[key] for e in entries], dtype=dtype)

        given, preferred = column("label", np.int64), column("preferred", np.int64)
        return Table(
            {
                "step": np.full(len(entries), answer["step"], dtype=np.int64),
                "rank": np.arange(1, len(entries) + 1, dtype=np.int64),
                "id": column("id", np.int64),
                "given_index": given,
                "given_class": Labels(_valid_codes(given, len(names)), names),
                "preferred_index": preferred,
                "preferred_class": Labels(_valid_codes(preferred, len(names)), names),
                "margin": column("margin", np.float64),
                "confidence": column("confidence", np.float64),
                "variability": column("variability", np.float64),
                "correctness": column("correctness", np.float64),
                "visits": column("visits", np.int64),
                "forgets": column("forgets", np.int64),
            }
        )

    return build


_LISTED_COLUMNS = (
    "step",
    "rank",
    "id",
    "given_index",
    "given_class",
    "preferred_index",
    "preferred_class",
    "margin",
    "confidence",
    "variability",
    "correctness",
    "visits",
    "forgets",
)


def _skipped_table(logdir: Logdir, series: Series) -> Table:
    entries = logdir.skipped(series)
    return Table(
        {
            "step": np.array([e["step"] for e in entries], dtype=np.int64),
            "kind": np.array([e["kind"] for e in entries], dtype=object),
            "reason": np.array([e["reason"] for e in entries], dtype=object),
        }
    )


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "series",
            None,
            "one row per (run, name): task, loss, classes, kinds and steps",
            ("task", "loss_name", "num_classes", "kinds", "first_step", "last_step", "num_steps"),
            _series_table,
        ),
        TableSpec(
            "per_class",
            metadata.KIND_STATS,
            "one row per step and class: loss, count, accuracy, precision, recall, F1, TP/FP/FN "
            "and non-finite counts",
            (
                "step",
                "wall_time",
                "class_index",
                "class",
                "loss",
                "count",
                "accuracy",
                "precision",
                "recall",
                "f1",
                "tp",
                "fp",
                "fn",
                "nonfinite",
                "nonfinite_outputs",
            ),
            _per_class_table,
        ),
        TableSpec(
            "steps",
            metadata.KIND_STATS,
            "one row per step: samples, accuracy, macro and weighted precision / recall / F1, "
            "non-finite, invalid and ignored elements",
            (
                "step",
                "wall_time",
                "count",
                "accuracy",
                "macro_precision",
                "macro_recall",
                "macro_f1",
                "weighted_precision",
                "weighted_recall",
                "weighted_f1",
                "nonfinite",
                "nonfinite_outputs",
                "invalid_targets",
                "ignored",
            ),
            _steps_table,
        ),
        TableSpec(
            "confusion",
            metadata.KIND_CONFUSION,
            "one row per step and nonzero cell (true class, predicted class, count)",
            ("step", "true_index", "true_class", "pred_index", "pred_class", "count"),
            _confusion_table,
            tasks=(metadata.TASK_MULTICLASS, metadata.TASK_BINARY, metadata.TASK_REGRESSION),
        ),
        TableSpec(
            "multilabel_confusion",
            metadata.KIND_CONFUSION,
            "multilabel runs: one row per step and label with its TN, FP, FN, TP",
            ("step", "label_index", "label", "tn", "fp", "fn", "tp"),
            _multilabel_confusion_table,
            tasks=(metadata.TASK_MULTILABEL,),
        ),
        TableSpec(
            "scores",
            metadata.KIND_SCORES,
            "runs written with scores=True: one row per step and class: AP, AUROC (each with "
            "its binning bound), ECE, mean confidence - accuracy, positives, negatives, best F1 "
            "and its threshold (binary, multilabel), top-k accuracy",
            ("step", "class_index", "class", *SCORE_COLUMNS),
            _scores_table,
            tasks=(metadata.TASK_MULTICLASS, metadata.TASK_BINARY, metadata.TASK_MULTILABEL),
        ),
        TableSpec(
            "samples",
            metadata.KIND_SAMPLES,
            "one row per kept misclassified sample and step (the manifest)",
            (
                "step",
                "index",
                "true_index",
                "true_class",
                "pred_index",
                "pred_class",
                "label_index",
                "label",
                "target",
                "prediction",
                "score",
                "loss",
                "id",
                "media",
                "width",
                "height",
            ),
            _samples_table,
        ),
        TableSpec(
            "dynamics",
            metadata.KIND_DYNAMICS,
            "tracked samples (track_samples): one row per step and class with the samples "
            "visited, easy, ambiguous and hard to learn, likely label errors and forgotten",
            (
                "step",
                "class_index",
                "class",
                *metadata.DYNAMICS_ROWS,
                *metadata.DYNAMICS_EXTRA_COLUMNS,
            ),
            _dynamics_table,
        ),
        TableSpec(
            "label_errors",
            metadata.KIND_DYNAMICS_SAMPLES,
            "the latest snapshot's likely label errors, most likely first: id, given and "
            "preferred class, margin, confidence, variability, correctness, visits, forgets",
            _LISTED_COLUMNS,
            _listed_table("errors"),
        ),
        TableSpec(
            "forgotten",
            metadata.KIND_DYNAMICS_SAMPLES,
            "the latest snapshot's most forgotten samples, most forgetting events first",
            _LISTED_COLUMNS,
            _listed_table("forgotten"),
        ),
        TableSpec(
            "skipped",
            None,
            "one row per step left out as malformed (kind and reason), as the routes list them",
            ("step", "kind", "reason"),
            _skipped_table,
        ),
    )
}


# --- helpers -----------------------------------------------------------------------------------


def _unique(steps: np.ndarray) -> np.ndarray:
    """Each step once, in order (a step written twice is read as its last write)."""
    _, first = np.unique(steps, return_index=True)
    return steps[np.sort(first)]


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _number(value) -> float:
    return (
        float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan
    )


def _index(value) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else -1


def _valid_codes(indices: np.ndarray, size: int) -> np.ndarray:
    return np.where((indices >= 0) & (indices < size), indices, -1).astype(np.int32)


def _missing(dtype: np.dtype, length: int) -> np.ndarray:
    if np.issubdtype(dtype, np.floating):
        return np.full(length, np.nan, dtype=dtype)
    if np.issubdtype(dtype, np.integer):
        return np.full(length, -1, dtype=dtype)
    return np.full(length, None, dtype=object)


def _empty(name: str) -> np.ndarray:
    return np.zeros(0, dtype=np.float64)


def _concat_labels(parts: list[Labels]) -> Labels:
    labels: dict[str, int] = {}
    codes = []
    for part in parts:
        remap = np.array(
            [labels.setdefault(label, len(labels)) for label in part.labels] + [-1], dtype=np.int32
        )
        codes.append(remap[np.where(part.codes < 0, len(part.labels), part.codes)])
    return Labels(np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32), tuple(labels))
