"""The Python reader (tb_perclass.analysis) against the plugin's routes on the same logdir and
against scikit-learn on the predictions that were logged."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from tb_perclass import read_logdir
from tb_perclass.analysis import tables
from tb_perclass.analysis.loading import (
    AmbiguousSelectionError,
    DataNotFoundError,
    IncompatibleDataError,
    Logdir,
)
from tests.analysis_logs import CLASSES, HOSTILE, write_logdir
from tests.helpers import ROUTE_PREFIX, wsgi_client


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_logdir(str(tmp_path_factory.mktemp("analysis")))


@pytest.fixture(scope="module")
def logs(written):
    return read_logdir(written.logdir)


@pytest.fixture(scope="module")
def client(written):
    return wsgi_client(written.logdir)


def route(client, path, **params):
    response = client.get(f"{ROUTE_PREFIX}/{path}?{urllib.parse.urlencode(params)}")
    assert response.status_code == 200, response.get_data()[:300]
    return json.loads(response.get_data())


def nan_to_none(values):
    return [None if v != v else v for v in np.asarray(values, dtype=np.float64).tolist()]


def test_series_lists_every_run_and_name_with_its_split(logs):
    series = logs.series
    assert list(zip(series["run"], series["name"])) == [
        ("damaged/validation", "perclass"),
        ("exp/train", "perclass"),
        ("exp/validation", "perclass"),
        ("heads/validation", "head_a"),
        ("heads/validation", "head_b"),
        ("noconf/validation", "perclass"),
        ("tags/validation", "perclass"),
        ("wide/validation", "perclass"),
    ]
    assert list(series["split"]) == ["validation", "train"] + ["validation"] * 6
    row = series.set_index(["run", "name"]).loc[("exp/validation", "perclass")]
    assert (row["task"], row["num_classes"], row["kinds"]) == (
        "multiclass",
        5,
        "stats,confusion,samples",
    )
    assert (row["first_step"], row["last_step"], row["num_steps"]) == (0, 50, 6)


def test_per_class_frame_is_what_the_curves_route_serves(logs, client):
    frame = logs.per_class()
    assert len(frame) == sum(
        n * s for n, s in [(3, 2), (5, 6), (5, 6), (2, 2), (3, 2), (5, 3), (3, 3), (80, 3)]
    )
    for (run, name), rows in frame.groupby(["run", "name"], observed=True):
        curves = route(client, "curves", run=run, name=name)
        classes = len(curves["class_names"])
        assert list(rows["step"].iloc[::classes]) == curves["steps"]
        assert list(rows["class"].iloc[:classes]) == curves["class_names"]
        for column in (
            "loss",
            "count",
            "accuracy",
            "nonfinite",
            "nonfinite_outputs",
            "tp",
            "fp",
            "fn",
        ):
            if column not in curves:
                assert rows[column].isna().all(), (run, column)  # confusion=False: <NA>
                continue
            served = [v for step in curves[column] for v in step]
            assert nan_to_none(rows[column].astype("float64")) == served, (run, name, column)


def test_per_class_metrics_equal_scikit_learn_at_every_step(logs, written):
    frame = logs.per_class()
    for (run, name), steps in written.batches.items():
        if run in ("tags/validation", "noconf/validation"):
            continue
        names = written.class_names[(run, name)]
        for step, (targets, predictions, losses) in steps.items():
            rows = frame[(frame["run"] == run) & (frame["name"] == name) & (frame["step"] == step)]
            expected = precision_recall_fscore_support(
                targets, predictions, labels=range(len(names)), zero_division=np.nan
            )
            for column, values in zip(("precision", "recall", "f1"), expected[:3]):
                np.testing.assert_allclose(
                    rows[column], values, rtol=1e-12, err_msg=f"{run} {column}"
                )
            np.testing.assert_array_equal(rows["count"], expected[3])
            mean_loss = [
                losses[targets == c].mean() if (targets == c).any() else np.nan
                for c in range(len(names))
            ]
            np.testing.assert_allclose(rows["loss"], mean_loss, rtol=1e-6)
    rare = frame[
        (frame["run"] == "exp/validation") & (frame["class"] == "rare") & (frame["step"] == 10)
    ]
    assert rare["count"].item() == 0 and np.isnan(rare["recall"].item())  # undefined, not 0


def test_report_is_the_report_route_and_scikit_learn(logs, written, client):
    targets, predictions, losses = written.batches[("exp/validation", "perclass")][30]
    report = logs.report(run="exp/validation", step=30)
    served = route(client, "report", run="exp/validation", name="perclass", step=30)
    classes = report.iloc[: len(CLASSES)]
    assert list(classes.index) == served["class_names"] == CLASSES
    for column in ("precision", "recall", "f1", "support", "loss"):
        assert nan_to_none(classes[column]) == served[column]
    for average in ("macro", "weighted"):
        row = report.loc[f"{average} avg"]
        for metric in ("precision", "recall", "f1"):
            assert row[metric] == pytest.approx(served[average][metric], rel=1e-12)
            expected = precision_recall_fscore_support(
                targets, predictions, labels=range(5), average=average, zero_division=np.nan
            )
            assert row[metric] == pytest.approx(
                expected[("precision", "recall", "f1").index(metric)]
            )
    assert report.attrs["accuracy"] == pytest.approx((targets == predictions).mean())
    assert report.attrs["step"] == 30 and logs.report(run="exp/validation").attrs["step"] == 50


@pytest.mark.parametrize("run", ["exp/validation", "wide/validation"])
def test_confusion_matrix_of_any_step_equals_scikit_learn(logs, written, run):
    names = written.class_names[(run, "perclass")]
    for step, (targets, predictions, _) in written.batches[(run, "perclass")].items():
        matrix = logs.confusion(run=run, step=step)
        expected = confusion_matrix(targets, predictions, labels=range(len(names)))
        np.testing.assert_array_equal(matrix.counts, expected)
        frame = matrix.frame()
        assert list(frame.index) == list(frame.columns) == names
        assert frame.loc[names[0], names[1]] == expected[0, 1]
    long = logs.table("confusion", run=run)
    last = max(written.batches[(run, "perclass")])
    cells = long[long["step"] == last]
    rebuilt = np.zeros((len(names), len(names)), dtype=np.int64)
    rebuilt[cells["true_index"], cells["pred_index"]] = cells["count"]
    np.testing.assert_array_equal(rebuilt, logs.confusion(run=run).counts)
    assert (cells["count"] > 0).all() and list(cells["true_class"].cat.categories) == names


def test_multilabel_confusion(logs, written):
    for step, (targets, predictions, _) in written.batches[("tags/validation", "perclass")].items():
        matrix = logs.confusion(run="tags/validation", step=step)
        np.testing.assert_array_equal(
            matrix.counts, multilabel_confusion_matrix(targets, predictions)
        )
        assert list(matrix.frame().columns) == ["tn", "fp", "fn", "tp"]
    table = logs.table("multilabel_confusion")
    assert set(table["run"]) == {"tags/validation"} and len(table) == 9


def test_scores_table_is_the_scores_route_and_agrees_with_scikit_learn(logs, written, client):
    table = logs.scores()
    assert set(table["run"]) == {"exp/train", "tags/validation"}
    for (run, name), steps in written.scored.items():
        rows = table[table["run"] == run]
        classes = len(written.class_names[(run, name)])
        assert len(rows) == classes * len(steps)
        for step, (targets, probabilities) in steps.items():
            at = rows[rows["step"] == step]
            truth = (
                targets if targets.ndim == 2 else np.eye(classes, dtype=np.int64)[targets]
            ).astype(bool)
            for c in range(classes):
                row = at.iloc[c]
                assert (row["positives"], row["negatives"]) == (
                    truth[:, c].sum(),
                    (~truth[:, c]).sum(),
                )
                if not truth[:, c].any() or truth[:, c].all():
                    assert np.isnan(row["auroc"]), (run, step, c)  # undefined, as in sklearn
                    continue
                auroc = roc_auc_score(truth[:, c], probabilities[:, c])
                ap = average_precision_score(truth[:, c], probabilities[:, c])
                assert abs(row["auroc"] - auroc) <= row["auroc_bound"] + 1e-9, (run, step, c)
                assert abs(row["ap"] - ap) <= row["ap_bound"] + 1e-9, (run, step, c)
                assert 0 <= row["ece"] <= 1
            if targets.ndim == 1:  # top-2 accuracy per class, from the logged probabilities
                top = np.argsort(-probabilities, axis=1, kind="stable")[:, :2]
                hits = (top == targets[:, None]).any(axis=1)
                for c in range(classes):
                    mine = targets == c
                    expected = hits[mine].mean() if mine.any() else np.nan
                    np.testing.assert_allclose(at.iloc[c]["top_k_accuracy"], expected)
                assert at["best_f1"].isna().all()
            else:
                assert (at["best_f1"] > 0).all() and at["best_threshold"].between(0, 1).all()
        last = max(steps)
        served = route(client, "scores", run=run, name=name, step=last)["table"]
        at = rows[rows["step"] == last]
        for column in ("ap", "auroc", "ece", "positives", "best_f1", "top_k_accuracy"):
            if column in served:
                assert nan_to_none(at[column]) == served[column], (run, column)


def test_report_has_the_score_columns_of_the_report_route(logs, client):
    report = logs.report(run="exp/train")
    served = route(client, "report", run="exp/train", name="perclass")["scores"]
    classes = report.iloc[: len(CLASSES)]
    for column in ("ap", "auroc", "ece", "top_k_accuracy"):
        assert nan_to_none(classes[column]) == served[column], column
        for average in ("macro", "weighted"):
            assert report.loc[f"{average} avg", column] == served["averages"][column][average]
    assert report.attrs["top_k"] == 2
    assert "ap" not in logs.report(run="exp/validation").columns  # written without scores


def test_samples_manifest_and_content(logs, client):
    samples = logs.samples(run="exp/validation", step=20)
    served = route(client, "samples", run="exp/validation", name="perclass", step=20)["samples"]
    assert samples.to_dict("records") == [
        {k: v for k, v in s.items() if k != "blob"} for s in served
    ]
    first = samples.iloc[0]
    sample = logs.sample(run="exp/validation", step=20, index=int(first["index"]))
    from PIL import Image

    assert isinstance(sample.image(), Image.Image)
    assert (np.asarray(sample.image()) == int(first["id"]) % 251).all()
    assert sample._repr_png_() == sample.data and sample.entry["true"] == first["true"]
    texts = logs.samples(run="tags/validation")
    text = logs.sample(run="tags/validation", index=int(texts["index"].iloc[0])).text()
    assert text.startswith("text ") and "<b>2</b>" in text
    everything = logs.table("samples")
    assert set(everything["run"]) == {"exp/validation", "tags/validation"}
    assert everything.loc[everything["run"] == "exp/validation", "true_class"].isin(CLASSES).all()


def test_training_dynamics_from_the_logged_predictions_and_the_routes(logs, written, client):
    """exp/train tracks its 60 samples (id = position), visited once at each of the 6 steps."""
    steps = sorted(written.batches[("exp/train", "perclass")])
    visits = [written.batches[("exp/train", "perclass")][step] for step in steps]
    right = np.stack([predictions == targets for targets, predictions, _ in visits])  # (6, 60)
    given = visits[-1][0]  # the label of the latest visit
    forgets = (right[:-1] & ~right[1:]).sum(axis=0)

    counts = logs.dynamics(run="exp/train")
    served = route(client, "dynamics", run="exp/train", name="perclass")
    assert list(counts["step"].iloc[:: len(CLASSES)]) == served["steps"] == steps
    assert list(counts["class"].iloc[: len(CLASSES)]) == CLASSES
    for key in ("visited", "easy", "ambiguous", "hard", "likely_errors", "forgotten"):
        assert counts[key].tolist() == [v for step in served[key] for v in step], key
    last = counts[counts["step"] == steps[-1]]
    assert last["visited"].tolist() == np.bincount(given, minlength=len(CLASSES)).tolist()
    assert (
        last["forgotten"].tolist()
        == np.bincount(given[forgets > 0], minlength=len(CLASSES)).tolist()
    )
    assert (counts["dataset_size"] == 60).all() and (counts["invalid_id_visits"] == 0).all()

    points = logs.data_map(run="exp/train")
    assert points.attrs["step"] == steps[-1] and not points.attrs["subset"]
    assert points["id"].tolist() == list(range(60))
    assert list(points["class"].astype(str)) == [CLASSES[i] for i in given]
    np.testing.assert_allclose(points["correctness"], right.mean(axis=0), atol=0.5 / 254)
    assert points["confidence"].between(0, 1).all() and points["variability"].between(0, 0.5).all()

    errors = logs.label_errors(run="exp/train")
    page = route(client, "dynamics_samples", run="exp/train", name="perclass", limit=1000)
    assert 0 < len(errors) == page["total"]
    assert errors["id"].tolist() == [entry["id"] for entry in page["samples"]]
    assert errors["margin"].is_monotonic_increasing and (errors["margin"] < 0).all()
    ids = errors["id"].to_numpy()
    assert list(errors["given_class"]) == [CLASSES[i] for i in given[ids]]
    np.testing.assert_allclose(errors["correctness"], right.mean(axis=0)[ids], rtol=1e-6)
    assert (errors["visits"] == len(steps)).all() and errors["forgets"].tolist() == list(
        forgets[ids]
    )
    assert len(errors) == last["likely_errors"].sum()
    dogs = logs.label_errors(run="exp/train", label="dog")
    assert dogs["id"].tolist() == [i for i in ids if given[i] == CLASSES.index("dog")]
    forgotten = logs.label_errors(run="exp/train", forgotten=True)
    assert sorted(forgotten["id"]) == sorted(np.flatnonzero(forgets).tolist())
    assert forgotten["forgets"].is_monotonic_decreasing
    table = logs.table("label_errors", run="exp/train")
    assert table["id"].tolist() == errors["id"].tolist() and table["rank"].tolist() == list(
        range(1, len(errors) + 1)
    )
    with pytest.raises(ValueError, match="no class 'wolf'"):
        logs.label_errors(run="exp/train", label="wolf")
    with pytest.raises(IncompatibleDataError, match="track_samples=N"):
        logs.label_errors(run="exp/validation")


def test_steps_table_averages_match_the_report(logs):
    steps = logs.steps(run="exp/validation").set_index("step")
    for step in (0, 30, 50):
        report = logs.report(run="exp/validation", step=step)
        assert steps.loc[step, "macro_f1"] == pytest.approx(report.loc["macro avg", "f1"])
        assert steps.loc[step, "weighted_recall"] == pytest.approx(
            report.loc["weighted avg", "recall"]
        )
        assert steps.loc[step, "accuracy"] == pytest.approx(report.attrs["accuracy"])


def test_malformed_steps_are_left_out_and_listed(logs, client):
    frame = logs.per_class(run="damaged/validation")
    assert sorted(set(frame["step"])) == [0, 1]
    skipped = logs.table("skipped")
    assert list(zip(skipped["run"], skipped["step"], skipped["kind"])) == [
        ("damaged/validation", 2, "stats")
    ]
    served = route(client, "curves", run="damaged/validation", name="perclass")["skipped"]
    assert [(s["step"], s["kind"], s["reason"]) for s in served] == [
        (2, "stats", skipped["reason"].iloc[0])
    ]


def test_class_names_are_data_not_markup(logs):
    frame = logs.per_class(run="wide/validation")
    assert HOSTILE in set(frame["class"]) and "=SUM(A1)" in set(
        logs.per_class(run="exp/train")["class"]
    )


def test_clear_errors(written, logs, tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        Logdir(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="no tb-perclass data"):
        Logdir(tmp_path / "empty")
    with pytest.raises(AmbiguousSelectionError, match="run 'heads/validation' --name 'head_a'"):
        logs.confusion(run="heads/validation")
    with pytest.raises(DataNotFoundError, match="no run 'nope'.*'exp/train'"):
        logs.per_class(run="nope")
    with pytest.raises(
        DataNotFoundError, match="no confusion matrix at step 7; it has 6 steps from 0 to 50"
    ):
        logs.confusion(run="exp/validation", step=7)
    with pytest.raises(IncompatibleDataError, match="confusion=False"):
        logs.report(run="noconf/validation")
    with pytest.raises(ValueError, match="no table 'nope'"):
        logs.table("nope")


def test_every_registered_table_builds_with_its_columns(written):
    logdir = Logdir(written.logdir)
    for spec in tables.TABLES.values():
        table = tables.build(logdir, spec, logdir.series)
        assert list(table.columns) == list(tables.SERIES_COLUMNS + spec.columns), spec.name
        assert table.num_rows > 0, spec.name
        assert {len(column) for column in table.columns.values()} == {table.num_rows}


def test_the_command_line_side_never_imports_pandas(written):
    code = (
        "import sys, tb_perclass.cli as cli\n"
        f"code = cli.main(['report', {written.logdir!r}, '--run', 'exp/validation'])\n"
        "assert code == 0, code\n"
        "assert 'pandas' not in sys.modules, sorted(m for m in sys.modules if 'pandas' in m)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_reads_an_fsspec_url_as_tensorboard_does_without_tensorflow(written):
    """Without TensorFlow, TensorBoard's file layer reads any fsspec URL; so does the reader."""
    code = f"""
import os, sys
sys.modules["tensorflow"] = None  # a TensorFlow-free environment
import fsspec
fs = fsspec.filesystem("memory")
for root, _, files in os.walk({written.logdir!r}):
    for f in files:
        path = os.path.join(root, f)
        fs.pipe("/logs/" + os.path.relpath(path, {written.logdir!r}), open(path, "rb").read())
from tb_perclass import read_logdir
remote = read_logdir("memory://logs").per_class()
local = read_logdir({written.logdir!r}).per_class()
import pandas.testing
pandas.testing.assert_frame_equal(remote, local)
print(len(remote))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) > 0
