"""The `tb-perclass` console script, run as a user runs it: the installed entry point in a
subprocess, on real event files; numbers checked against the routes and exact counts."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tb_perclass import PerClassWriter
from tests.analysis_logs import HOSTILE, write_logdir
from tests.helpers import ROUTE_PREFIX, wsgi_client

SCRIPT = shutil.which("tb-perclass", path=os.path.dirname(sys.executable))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_logdir(str(tmp_path_factory.mktemp("cli")))


def tb_perclass(*args, check=None):
    assert SCRIPT, "the tb-perclass console script is not installed next to this Python"
    result = subprocess.run([SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=180)
    if check is not None:
        assert result.returncode == check, (
            result.returncode,
            result.stdout[-2000:],
            result.stderr[-2000:],
        )
    return result


def test_help_lists_commands_and_exit_codes():
    result = tb_perclass("--help", check=0)
    for text in ("report", "compare", "export", "exit codes", "3  not found"):
        assert text in result.stdout
    for command in ("report", "compare", "export"):
        assert "usage: tb-perclass " + command in tb_perclass(command, "--help", check=0).stdout
    assert tb_perclass("--version", check=0).stdout.startswith("tb-perclass ")
    assert "usage:" in tb_perclass(check=2).stderr  # no command


def test_report_formats_carry_the_routes_numbers(written):
    client = wsgi_client(written.logdir)
    served = client.get(
        f"{ROUTE_PREFIX}/report?run=exp%2Fvalidation&name=perclass&step=30&format=csv"
    )
    rows = list(
        csv.reader(
            io.StringIO(
                tb_perclass(
                    "report",
                    written.logdir,
                    "--run",
                    "exp/validation",
                    "--step",
                    30,
                    "--format",
                    "csv",
                    check=0,
                ).stdout
            )
        )
    )
    route_rows = list(csv.reader(io.StringIO(served.get_data(as_text=True))))
    assert rows[0] == ["run", "name", "step", *route_rows[0]]
    assert [r[3:] for r in rows[1:]] == route_rows[1:]  # the route's CSV, cell for cell
    assert {tuple(r[:3]) for r in rows[1:]} == {("exp/validation", "perclass", "30")}
    assert any(r[3] == "'=SUM(A1)" for r in rows)  # a formula-like class name stays text

    answer = json.loads(
        tb_perclass(
            "report", written.logdir, "--run", "exp/validation", "--format", "json", check=0
        ).stdout
    )
    route = json.loads(
        client.get(f"{ROUTE_PREFIX}/report?run=exp%2Fvalidation&name=perclass").get_data()
    )
    assert len(answer) == 1 and answer[0]["step"] == route["step"] == 50
    for key in (
        "class_names",
        "precision",
        "recall",
        "f1",
        "support",
        "loss",
        "macro",
        "weighted",
        "skipped",
    ):
        assert answer[0][key] == pytest.approx(route[key], nan_ok=True), key
    assert answer[0]["accuracy"] == pytest.approx(route["accuracy"])

    text = tb_perclass("report", written.logdir, "--run", "exp/validation", check=0).stdout
    targets, predictions, _ = written.batches[("exp/validation", "perclass")][50]
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.split()}
    assert lines["cat"][4] == str(int((targets == 0).sum()))  # support
    assert lines["accuracy"][1] == f"{(targets == predictions).mean():.2f}"
    assert "macro" in lines and "weighted" in lines


def test_report_carries_the_score_columns_of_the_route(written):
    client = wsgi_client(written.logdir)
    served = client.get(f"{ROUTE_PREFIX}/report?run=exp%2Ftrain&name=perclass&format=csv")
    route_rows = list(csv.reader(io.StringIO(served.get_data(as_text=True))))
    assert route_rows[0][-4:] == ["ap", "auroc", "ece", "top_k_accuracy"]
    rows = list(
        csv.reader(io.StringIO(tb_perclass("report", written.logdir, "--format", "csv").stdout))
    )
    assert rows[0] == ["run", "name", "step", *route_rows[0]]  # one header for every series
    assert [r[3:] for r in rows[1:] if r[0] == "exp/train"] == route_rows[1:]
    assert {tuple(r[-4:]) for r in rows[1:] if r[0] == "exp/validation"} == {("",) * 4}

    text = tb_perclass("report", written.logdir, "--run", "exp/train", check=0).stdout
    header = text.splitlines()[2].split()
    assert header[-5:] == ["AP", "AUROC", "ECE", "top-2", "acc"]
    by_class = {line.split()[0]: line.split() for line in text.splitlines()[3:] if line.split()}
    ap = route_rows[1][route_rows[0].index("ap")]
    assert by_class["cat"][-4] == f"{float(ap):.2f}"
    answer = json.loads(
        tb_perclass("report", written.logdir, "--run", "exp/train", "--format", "json").stdout
    )
    assert answer[0]["scores"]["top_k"] == 2 and len(answer[0]["scores"]["ap"]) == 5


def test_report_of_every_series_and_markdown_escapes_names(written):
    text = tb_perclass("report", written.logdir, check=0)
    assert (
        text.stdout.count("\naccuracy") == 5
    )  # every series with confusion counts, multilabel has none
    assert "noconf/validation has no confusion counts" in text.stderr
    markdown = tb_perclass(
        "report", written.logdir, "--run", "wide/validation", "--format", "markdown", check=0
    ).stdout
    assert "<img" not in markdown and '&lt;img src=x onerror="alert(1)"&gt;\\|\\*' in markdown
    assert "| **macro avg** |" in markdown


def test_exit_codes_and_messages(written, tmp_path):
    cases = [
        (("report", tmp_path / "missing"), 3, "does not exist"),
        (("report", written.logdir, "--run", "nope"), 3, "no run 'nope'"),
        (
            ("report", written.logdir, "--run", "exp/validation", "--step", 7),
            3,
            "no per-class counts at step 7",
        ),
        (
            ("report", written.logdir, "--run", "heads/validation", "--name", "head_c"),
            3,
            "no per-class name 'head_c'",
        ),
        (("compare", written.logdir, written.logdir), 2, "say which with run and name"),
        (
            ("compare", written.logdir, written.logdir, "--run", "noconf/validation"),
            4,
            "--metric accuracy",
        ),
        (
            (
                "compare",
                written.logdir,
                written.logdir,
                "--run",
                "exp/validation",
                "--classes",
                "lion",
            ),
            3,
            "no class named 'lion'",
        ),
        (
            (
                "compare",
                written.logdir,
                written.logdir,
                "--run",
                "exp/validation",
                "--baseline-step",
                5,
            ),
            3,
            "at step 5",
        ),
        (("report", written.logdir, "--run", "noconf/validation"), 4, "confusion=False"),
        (("report", written.logdir, "--format", "xml"), 2, "invalid choice"),
        (("compare", "a", "b", "--confidence", "2"), 2, "between 0 and 1"),
    ]
    for args, code, message in cases:
        result = tb_perclass(*args, check=code)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def write_pair(root, drops):
    """Baseline and candidate runs of the same 6 classes from known predictions: class c has
    `size` samples, of which `right` are predicted correctly; the rest go to the next class."""
    exact = {}
    for run, side in (("baseline", 0), ("candidate", 1)):
        targets, predictions = [], []
        for c, (size, right_before, right_after) in enumerate(drops):
            right = (right_before, right_after)[side]
            targets += [c] * size
            predictions += [c] * right + [(c + 1) % len(drops)] * (size - right)
        targets, predictions = np.array(targets), np.array(predictions)
        logits = np.eye(len(drops), dtype=np.float32)[predictions] * 5
        with PerClassWriter(
            os.path.join(root, run), class_names=[f"k{c}" for c in range(len(drops))]
        ) as w:
            w.update(logits, targets)
            w.write(0)
        exact[run] = (targets, predictions)
    return exact


def test_compare_gate_on_exact_counts(tmp_path):
    drops = [
        (400, 360, 240),
        (12, 11, 8),
        (300, 250, 251),
        (300, 200, 290),
        (50, 45, 45),
        (8, 8, 8),
    ]
    exact = write_pair(str(tmp_path), drops)
    result = tb_perclass(
        "compare", tmp_path / "baseline", tmp_path / "candidate", "--format", "json", check=1
    )
    answer = json.loads(result.stdout)
    by_class = {row["class"]: row for row in answer["classes"]}
    for side in ("baseline", "candidate"):
        targets, predictions = exact[side]
        for c in range(len(drops)):
            row = by_class[f"k{c}"]
            tp = int(((targets == c) & (predictions == c)).sum())
            assert (row[f"{side}_successes"], row[f"{side}_trials"]) == (
                tp,
                int((targets == c).sum()),
            )
            assert row[side] == pytest.approx(tp / (targets == c).sum())
    verdicts = [by_class[f"k{c}"]["verdict"] for c in range(len(drops))]
    assert verdicts == ["worse", "inconclusive", "same", "better", "same", "same"]
    assert (
        answer["worse"] == ["k0"] and answer["passed"] is False and answer["classes_compared"] == 6
    )
    # The same data without intervals: the 12-sample class fails on its three samples.
    plain = json.loads(
        tb_perclass(
            "compare",
            tmp_path / "baseline",
            tmp_path / "candidate",
            "--interval",
            "none",
            "--format",
            "json",
            check=1,
        ).stdout
    )
    assert plain["worse"] == ["k0", "k1"]
    # Only the classes that did not regress: the gate passes.
    tb_perclass(
        "compare", tmp_path / "baseline", tmp_path / "candidate", "--classes", "k2", "k3", check=0
    )
    text = tb_perclass("compare", tmp_path / "baseline", tmp_path / "candidate", check=1).stdout
    assert "FAILED: 1 class worse by more than 0.02 (k0)" in text and "360/400" in text
    assert (
        "k4" not in text
        and "k4"
        in tb_perclass(
            "compare", tmp_path / "baseline", tmp_path / "candidate", "--all", check=1
        ).stdout
    )


def test_compare_two_steps_of_one_run(written):
    result = tb_perclass(
        "compare",
        written.logdir,
        written.logdir,
        "--run",
        "exp/validation",
        "--baseline-step",
        0,
        "--metric",
        "accuracy",
        "--max-drop",
        0.5,
        "--format",
        "json",
    )
    answer = json.loads(result.stdout)
    assert (answer["baseline"]["step"], answer["candidate"]["step"]) == (0, 50)
    assert answer["passed"] and result.returncode == 0
    rare = next(r for r in answer["classes"] if r["class"] == "rare")
    targets, predictions, _ = written.batches[("exp/validation", "perclass")][50]
    assert rare["candidate_trials"] == int((targets == 4).sum())


def test_malformed_steps_are_named_on_stderr(written):
    result = tb_perclass(
        "compare",
        written.logdir,
        written.logdir,
        "--run",
        "damaged/validation",
        "--metric",
        "accuracy",
        "--baseline-step",
        0,
        "--format",
        "json",
        check=0,
    )
    assert "damaged/validation: step 2 (stats) left out:" in result.stderr
    answer = json.loads(result.stdout)
    assert answer["candidate"]["step"] == 1  # the latest readable step
    assert [s["step"] for s in answer["candidate"]["skipped"]] == [2]


def test_export_writes_every_table_and_the_samples(written, tmp_path):
    out = tmp_path / "export"
    result = tb_perclass("export", written.logdir, "--to", out, check=0)
    assert "per_class:" in result.stdout
    for name in (
        "series",
        "per_class",
        "steps",
        "confusion",
        "multilabel_confusion",
        "scores",
        "samples",
        "skipped",
        "dynamics",
        "label_errors",
        "forgotten",
    ):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.parquet").exists(), name
    from tb_perclass import read_logdir

    logs = read_logdir(written.logdir)
    expected = logs.per_class()
    from_csv = pd.read_csv(out / "per_class.csv", keep_default_na=False, na_values=[""])
    from_parquet = pd.read_parquet(out / "per_class.parquet")
    for frame in (from_csv, from_parquet):
        assert list(frame.columns) == list(expected.columns) and len(frame) == len(expected)
        for column in ("loss", "accuracy", "precision", "recall", "f1"):
            np.testing.assert_allclose(
                frame[column].astype(float), expected[column], rtol=0, atol=0
            )
        assert frame["tp"].astype("Float64").equals(expected["tp"].astype("Float64"))
        assert list(frame["class"].astype(str)) == list(expected["class"].astype(str))
    assert HOSTILE in set(from_csv["class"]) and "=SUM(A1)" in set(
        from_csv["class"]
    )  # data as logged
    samples = pd.read_csv(out / "samples.csv")
    assert len(samples) == len(logs.table("samples"))
    for file in samples["file"]:
        assert (out / file).is_file()
    image_row = samples[samples["media"] == "image/png"].iloc[0]
    from PIL import Image

    assert (np.asarray(Image.open(out / image_row["file"])) == int(image_row["id"]) % 251).all()
    text_row = samples[samples["media"] == "text/plain"].iloc[0]
    assert (out / text_row["file"]).read_text().startswith("text ")
    # A second export into the same directory is refused, unless asked to overwrite.
    assert "not empty" in tb_perclass("export", written.logdir, "--to", out, check=2).stderr
    tb_perclass("export", written.logdir, "--to", out, "--overwrite", "--run", "exp/train", check=0)


def test_export_without_pyarrow_writes_csv_only(written, tmp_path):
    def export_without_pyarrow(*extra):
        code = (
            "import sys; sys.modules['pyarrow'] = None\n"
            "from tb_perclass.cli import main\n"
            f"sys.exit(main({['export', written.logdir, '--run', 'exp/train', *extra]!r}))\n"
        )
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    result = export_without_pyarrow("--to", str(tmp_path / "csv"))
    assert result.returncode == 0, result.stderr
    assert "pyarrow is not installed" in result.stdout
    written_files = sorted(os.listdir(tmp_path / "csv"))
    assert written_files == [
        "confusion.csv",
        "dynamics.csv",
        "forgotten.csv",
        "label_errors.csv",
        "per_class.csv",
        "scores.csv",
        "series.csv",
        "steps.csv",
    ]
    result = export_without_pyarrow("--to", str(tmp_path / "parquet"), "--parquet")
    assert result.returncode == 2 and "needs pyarrow" in result.stderr
    assert not (tmp_path / "parquet").exists()


def test_python_dash_m_runs_the_same_command(written):
    result = subprocess.run(
        [sys.executable, "-m", "tb_perclass", "report", written.logdir, "--run", "exp/train"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "macro avg" in result.stdout
