"""The `tb-perclass` command: per-class reports, a per-class regression gate and exports, read
from a logdir without starting TensorBoard.

    tb-perclass report LOGDIR [--run R] [--name N] [--step S] [--format text|csv|json|markdown]
    tb-perclass compare BASELINE CANDIDATE [--metric recall] [--max-drop 0.02] [--classes ...]
    tb-perclass export LOGDIR --to DIR [--parquet | --no-parquet]

Exit codes (also in `tb-perclass --help`):
  0  done; for compare: no class got worse by more than --max-drop
  1  compare: at least one class got worse by more than --max-drop (the gate fails)
  2  bad usage: an unknown option or value, or several series where one is needed
  3  not found: the logdir, a run, a name, a class or a step does not exist, or a URL logdir
     cannot be read here (its bucket, access, a missing package: the message names the extra)
  4  the data cannot answer: no confusion counts for the metric, runs of different tasks, ...

This module parses arguments and prints; the numbers come from `tb_perclass.analysis` (which
reads through TensorBoard's event loading and the plugin's reader), never from pandas.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INCOMPATIBLE = 4

FORMATS = ("text", "csv", "json", "markdown")

_EXIT_CODES = """exit codes:
  0  done; compare: no class got worse by more than --max-drop
  1  compare: some class got worse by more than --max-drop (the gate fails)
  2  bad usage (unknown option or value; several series where one is needed)
  3  not found (logdir, run, name, class or step), or a URL logdir unreadable here
  4  the data cannot answer (no confusion counts for the metric, different tasks, ...)
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from tb_perclass.analysis.loading import (
        AmbiguousSelectionError,
        DataNotFoundError,
        IncompatibleDataError,
    )

    try:
        return args.run_command(args)
    except DataNotFoundError as error:
        return _fail(error, EXIT_NOT_FOUND)
    except AmbiguousSelectionError as error:
        return _fail(error, EXIT_USAGE)
    except IncompatibleDataError as error:
        return _fail(error, EXIT_INCOMPATIBLE)
    except BrokenPipeError:  # `tb-perclass report ... | head`
        sys.stderr.close()
        return EXIT_OK


def _fail(error: Exception, code: int) -> int:
    print(f"tb-perclass: error: {error}", file=sys.stderr)
    return code


# --- arguments -------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    from tb_perclass import __version__

    parser = argparse.ArgumentParser(
        prog="tb-perclass",
        description="Per-class reports, a per-class regression gate and exports from "
        "tb-perclass logs, read with TensorBoard's own event loading (no server needed).",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    report = _command(
        commands,
        "report",
        "classification report (precision, recall, F1, support, loss) of a step",
        "Prints the classification report of a step (the latest by default) of "
        "every series under LOGDIR, or of those --run and --name choose: precision, recall, F1, "
        "support and loss per class, with macro and weighted averages, as scikit-learn's "
        "classification_report does; for series written with scores=True also AP, AUROC, ECE "
        "and top-k accuracy per class.",
    )
    report.add_argument("logdir", metavar="LOGDIR", help="a logdir or run directory (or URL)")
    _add_selection(report)
    report.add_argument("--step", type=int, help="the step to report (default: the latest)")
    _add_output(report, digits=2)
    report.set_defaults(run_command=_report)

    compare = _command(
        commands,
        "compare",
        "per-class regression gate between two runs or two steps",
        "Compares a metric class by class between BASELINE and CANDIDATE (two "
        "runs, or two steps of one run with --baseline-step / --candidate-step) and exits with 1 "
        "when a class got worse by more than --max-drop beyond sampling noise: each change gets "
        "a Newcombe (hybrid Wilson score) interval from the counts behind the metric, "
        "Bonferroni-adjusted over the classes compared, and a class fails only when its whole "
        "interval lies below -max-drop.",
    )
    compare.add_argument(
        "baseline", metavar="BASELINE", help="logdir or run directory of the reference"
    )
    compare.add_argument("candidate", metavar="CANDIDATE", help="logdir or run directory to check")
    _add_selection(compare)
    compare.add_argument("--baseline-step", type=int, help="default: the baseline's latest step")
    compare.add_argument("--candidate-step", type=int, help="default: the candidate's latest step")
    compare.add_argument(
        "--metric",
        default="recall",
        choices=("recall", "precision", "f1", "accuracy", "loss"),
        help="recall, precision, f1 (from the confusion counts), accuracy (correct / count) or "
        "loss (no interval: the logs keep no per-sample spread); default: recall",
    )
    compare.add_argument(
        "--max-drop",
        type=_non_negative,
        default=0.02,
        help="largest allowed worsening of a class (a drop; for loss, a rise); default 0.02",
    )
    compare.add_argument(
        "--confidence",
        type=_level,
        default=0.95,
        help="joint confidence of the intervals over all classes compared; default 0.95",
    )
    compare.add_argument(
        "--interval",
        choices=("newcombe", "none"),
        default="newcombe",
        help="newcombe (default) or none: compare the values alone (small classes then fail on "
        "one sample)",
    )
    compare.add_argument(
        "--adjust",
        choices=("bonferroni", "none"),
        default="bonferroni",
        help="bonferroni (default): intervals hold jointly over the classes compared; none: "
        "each at --confidence (more false alarms with many classes)",
    )
    compare.add_argument("--classes", nargs="+", metavar="CLASS", help="compare only these classes")
    compare.add_argument(
        "--all", action="store_true", help="list every class (default: those that changed)"
    )
    _add_output(compare, digits=3)
    compare.set_defaults(run_command=_compare)

    export = _command(
        commands,
        "export",
        "write every table (CSV, and Parquet with pyarrow) and the kept samples",
        "Writes the per-class tables of LOGDIR to DIR: series, per_class, steps, "
        "confusion (multilabel_confusion), scores, samples as CSV, and as Parquet when pyarrow is "
        "installed; the kept samples' images and texts under DIR/samples.",
    )
    export.add_argument("logdir", metavar="LOGDIR", help="a logdir or run directory (or URL)")
    export.add_argument(
        "--to", required=True, metavar="DIR", help="directory to write (new or empty)"
    )
    _add_selection(export)
    export.add_argument(
        "--parquet",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also write Parquet (default: when pyarrow is installed; --parquet requires it)",
    )
    export.add_argument(
        "--overwrite", action="store_true", help="write into DIR even if it is not empty"
    )
    export.set_defaults(run_command=_export)
    return parser


def _command(commands, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", help="run name as TensorBoard lists it (e.g. exp1/validation)")
    parser.add_argument("--name", help="writer name (tag prefix), when a run has several")


def _add_output(parser: argparse.ArgumentParser, digits: int) -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="text (default), csv, json or markdown"
    )
    parser.add_argument(
        "--digits",
        type=int,
        default=digits,
        help=f"decimals in text and markdown (default {digits})",
    )


def _non_negative(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is negative; pass an allowed drop >= 0, e.g. 0.02"
        )
    return value


def _level(text: str) -> float:
    value = _float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 1; e.g. 0.95")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value:
        raise argparse.ArgumentTypeError("NaN is not a usable value")
    return value


# --- report ----------------------------------------------------------------------------------


def _report(args: argparse.Namespace) -> int:
    from tb_perclass.analysis import output
    from tb_perclass.analysis.loading import IncompatibleDataError, Logdir
    from tb_perclass.format import metadata
    from tb_perclass.plugin import report as report_answers
    from tb_perclass.plugin import scores as score_answers

    logdir = Logdir(args.logdir)
    chosen = logdir.select(args.run, args.name)
    with_counts = [s for s in chosen if metadata.KIND_CONFUSION in s.kinds]
    for s in chosen:
        if s not in with_counts and len(chosen) > 1:
            print(
                f"tb-perclass: note: {s.label} has no confusion counts (confusion=False); left out",
                file=sys.stderr,
            )
    if not with_counts:
        only = chosen[0]
        raise IncompatibleDataError(
            f"{only.label} has no confusion counts (it was written with confusion=False), so "
            "precision, recall and F1 are unknown; `tb-perclass export` writes its per-class "
            "loss and accuracy"
        )
    reports = [(s, logdir.report(s, args.step)) for s in with_counts]
    for s, found in reports:
        _note_skipped(s, found.skipped)
    if args.format == "json":
        answers = [
            {k: v for k, v in report_answers.as_json(found, s.run, s.name).items() if k != "steps"}
            | {"task": s.task, "loss_name": s.loss_name}
            for s, found in reports
        ]
        sys.stdout.write(output.json_text(answers))
    elif args.format == "csv":
        recorded = {
            key for _, found in reports for key in report_answers.score_columns(found.scores)
        }
        keys = [key for key in score_answers.REPORT_COLUMNS if key in recorded]
        rows = [
            [s.run, s.name, found.step, *row]
            for s, found in reports
            for row in report_answers.csv_rows(found.report, s.task, found.scores, keys)
        ]
        headers = ["run", "name", "step", *report_answers.CSV_COLUMNS, *keys]
        sys.stdout.write(output.csv_table(headers, rows))
    else:
        blocks = [_report_block(s, found, args.format, args.digits) for s, found in reports]
        sys.stdout.write("\n".join(blocks))
    return EXIT_OK


def _note_skipped(series, skipped: Sequence[dict[str, Any]]) -> None:
    """Names on stderr the malformed steps left out of what was read (a damaged event file)."""
    for entry in skipped[:5]:
        print(
            f"tb-perclass: note: {series.label}: step {entry['step']} ({entry['kind']}) left "
            f"out: {entry['reason']}",
            file=sys.stderr,
        )
    if len(skipped) > 5:
        print(
            f"tb-perclass: note: {series.label}: {len(skipped) - 5} more steps left out",
            file=sys.stderr,
        )


def _report_block(series, found, fmt: str, digits: int) -> str:
    """scikit-learn's classification_report layout, plus AP, AUROC, ECE and top-k accuracy
    per class when the series recorded score histograms at the step."""
    from tb_perclass.analysis import output
    from tb_perclass.plugin import report as report_answers

    result, step = found.report, found.step
    by_scores = found.scores or {"averages": {}}
    keys = [key for key in _SCORE_HEADERS if key in by_scores]
    score_headers = [_SCORE_HEADERS[key].format(k=by_scores.get("top_k")) for key in keys]
    loss_header = f"loss ({series.loss_name})" if series.loss_name else "loss"
    headers = ["", "precision", "recall", "f1-score", "support", loss_header, *score_headers]
    rows: list[list[Any]] = [
        [
            name,
            result.precision[i],
            result.recall[i],
            result.f1[i],
            int(result.support[i]),
            result.loss[i],
            *(by_scores[key][i] for key in keys),
        ]
        for i, name in enumerate(result.class_names)
    ]
    averages = result.averages()
    total = averages["macro"]["support"]
    footer: list[list[Any]] = []
    if result.accuracy == result.accuracy:  # defined (some samples)
        # multilabel: "label accuracy", per yes/no decision, over the samples counted once
        label = report_answers.accuracy_row(result, series.task)[0]
        footer.append([label, "", "", result.accuracy, result.samples, "", *[""] * len(keys)])
    for average, row in averages.items():
        footer.append(
            [
                f"{average} avg",
                row["precision"],
                row["recall"],
                row["f1"],
                total,
                "",
                *(by_scores["averages"][key][average] for key in keys),
            ]
        )
    title = (
        f"run {series.run}"
        + (f", name {series.name}" if series.name != "perclass" else "")
        + f", step {step}: {series.task}, {len(result.class_names)} classes"
    )
    if fmt == "markdown":
        bold = [[f"**{r[0]}**", *r[1:]] for r in footer]
        return f"{output.markdown_escape(title)}\n\n" + output.markdown_table(
            ["class", *headers[1:]], rows + bold, digits
        ).replace("\\*\\*", "**")
    return f"{output.printable(title)}\n\n" + output.text_table(
        headers, rows + [[""] * len(headers)] + footer, digits
    )


# The report's score columns (from score histograms, writers with scores=True) as headed in text.
_SCORE_HEADERS = {"ap": "AP", "auroc": "AUROC", "ece": "ECE", "top_k_accuracy": "top-{k} acc"}


# --- compare ---------------------------------------------------------------------------------


def _compare(args: argparse.Namespace) -> int:
    from tb_perclass.analysis import compare as comparing
    from tb_perclass.analysis.loading import IncompatibleDataError, Logdir

    metric = comparing.METRICS[args.metric]
    base_logdir = Logdir(args.baseline)
    same = os.path.normpath(args.candidate) == os.path.normpath(args.baseline)
    cand_logdir = base_logdir if same else Logdir(args.candidate)
    base_series = base_logdir.one(args.run, args.name)
    cand_series = cand_logdir.one(args.run, args.name)
    if base_series.task != cand_series.task:
        raise IncompatibleDataError(
            f"the baseline is {base_series.task} and the candidate {cand_series.task}; compare "
            "two runs of one task"
        )
    for side, series in (("baseline", base_series), ("candidate", cand_series)):
        if metric.kind not in series.kinds:
            raise IncompatibleDataError(
                f"the {side} ({series.label}) has no {metric.kind} data, which --metric "
                f"{metric.name} needs (it was written with confusion=False); use --metric "
                "accuracy or loss"
            )
    baseline = comparing.class_counts(base_logdir, base_series, metric, args.baseline_step)
    candidate = comparing.class_counts(cand_logdir, cand_series, metric, args.candidate_step)
    _note_skipped(base_series, baseline.skipped)
    if cand_series != base_series or cand_logdir is not base_logdir:
        _note_skipped(cand_series, candidate.skipped)
    result = comparing.compare(
        metric,
        baseline,
        candidate,
        max_drop=args.max_drop,
        confidence=args.confidence,
        interval=args.interval,
        adjust=args.adjust,
        classes=args.classes,
    )
    if result.tested == 0 and not result.class_names:
        raise IncompatibleDataError("the two runs have no class name in common")
    sides = {
        "baseline": {
            "path": args.baseline,
            "run": base_series.run,
            "name": base_series.name,
            "step": baseline.step,
            "skipped": list(baseline.skipped),
        },
        "candidate": {
            "path": args.candidate,
            "run": cand_series.run,
            "name": cand_series.name,
            "step": candidate.step,
            "skipped": list(candidate.skipped),
        },
    }
    sys.stdout.write(_compare_output(result, sides, args))
    return EXIT_OK if result.passed else EXIT_REGRESSION


def _compare_output(result, sides: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    from tb_perclass.analysis import output

    rows = _compare_rows(result)
    if args.format == "json":
        return output.json_text(
            {
                "metric": result.metric,
                "max_drop": result.max_drop,
                "confidence": result.confidence,
                "interval": result.interval,
                "adjust": result.adjust,
                "classes_compared": result.tested,
                **sides,
                "passed": result.passed,
                "worse": result.worse,
                "counts": result.counts(),
                "only_in_baseline": list(result.only_in_baseline),
                "only_in_candidate": list(result.only_in_candidate),
                "classes": [dict(zip(_COMPARE_FIELDS, row)) for row in rows],
            }
        )
    if args.format == "csv":
        return output.csv_table(_COMPARE_FIELDS, rows)
    shown = (
        rows if args.all else [r for r in rows if _listed_by_default(r, result.higher_is_better)]
    )
    order = {"worse": 0, "inconclusive": 1, "better": 2, "same": 3, "undefined": 4}
    shown = sorted(shown, key=lambda r: (order[r[-1]], _sort_change(r, result.higher_is_better)))
    headers = ["class", "baseline", "candidate", "change", "interval", "verdict"]
    digits = args.digits
    counts_shown = result.metric in ("recall", "precision", "accuracy")  # the value is k / n
    table_rows = [
        [
            r[0],
            _value_with_counts(r[1], r[2], r[3], digits, counts_shown),
            _value_with_counts(r[4], r[5], r[6], digits, counts_shown),
            _signed(r[7], digits),
            _interval(r[8], r[9], digits) if result.interval != "none" else "-",
            r[10],
        ]
        for r in shown
    ]
    summary = _compare_summary(result)
    title = _compare_title(result, sides)
    if args.format == "markdown":
        body = output.markdown_table(headers, table_rows, digits, left=(0, 5)) if table_rows else ""
        lines = [output.markdown_escape(line) for line in title.splitlines()]
        return (
            "  \n".join(lines)
            + f"\n\n{body}\n"
            + output.markdown_escape(summary).replace("\n", "  \n")
            + "\n"
        )
    body = output.text_table(headers, table_rows, digits, left=(0, 5)) + "\n" if table_rows else ""
    title = "\n".join(output.printable(line) for line in title.splitlines())
    summary = "\n".join(output.printable(line) for line in summary.splitlines())
    return f"{title}\n\n{body}{summary}\n"


def _listed_by_default(row: list[Any], higher_is_better: bool) -> bool:
    """worse, better, and inconclusive drops (an inconclusive gain is left for --all)."""
    verdict, change = row[-1], row[7]
    if verdict in ("worse", "better"):
        return True
    return verdict == "inconclusive" and (change < 0 if higher_is_better else change > 0)


_COMPARE_FIELDS = (
    "class",
    "baseline",
    "baseline_successes",
    "baseline_trials",
    "candidate",
    "candidate_successes",
    "candidate_trials",
    "change",
    "low",
    "high",
    "verdict",
)


def _compare_rows(result) -> list[list[Any]]:
    nan = float("nan")
    base_k, base_n = result.baseline_counts or ([nan] * len(result.class_names),) * 2
    cand_k, cand_n = result.candidate_counts or ([nan] * len(result.class_names),) * 2
    return [
        [
            name,
            result.baseline[i],
            _count(base_k[i]),
            _count(base_n[i]),
            result.candidate[i],
            _count(cand_k[i]),
            _count(cand_n[i]),
            result.change[i],
            result.low[i],
            result.high[i],
            result.verdict[i],
        ]
        for i, name in enumerate(result.class_names)
    ]


def _count(value: float) -> int | None:
    return None if value != value else int(value)


def _sort_change(row: list[Any], higher_is_better: bool) -> float:
    change = row[7]
    if change != change:
        return float("inf")
    return change if higher_is_better else -change


def _value_with_counts(
    value: float, k: int | None, n: int | None, digits: int, with_counts: bool
) -> str:
    if value != value:
        return "-" if n is None or not with_counts else f"- (0/{n})"
    text = f"{value:.{digits}f}"
    return f"{text} ({k}/{n})" if with_counts and k is not None and n is not None else text


def _signed(value: float, digits: int) -> str:
    return "-" if value != value else f"{value:+.{digits}f}"


def _interval(low: float, high: float, digits: int) -> str:
    if low != low:
        return "-"
    return f"[{low:+.{digits - 1}f}, {high:+.{digits - 1}f}]"


def _compare_title(result, sides: dict[str, dict[str, Any]]) -> str:
    def describe(side: dict[str, Any]) -> str:
        run = f"run {side['run']}, " if side["run"] != "." else ""
        name = f"name {side['name']}, " if side["name"] != "perclass" else ""
        return f"{side['path']} ({run}{name}step {side['step']})"

    if result.interval == "newcombe":
        how = (
            f"{result.confidence:.0%} intervals "
            + (
                f"holding jointly over {result.tested} classes (Bonferroni)"
                if result.adjust == "bonferroni" and result.tested > 1
                else "per class"
            )
            + (", Newcombe's hybrid score" if result.metric != "f1" else ", MOVER from Wilson")
        )
    else:
        how = "values alone, no interval"
    return (
        f"{result.metric}: candidate {describe(sides['candidate'])} against baseline "
        f"{describe(sides['baseline'])}\n{how}; allowed worsening {result.max_drop:g}"
    )


def _compare_summary(result) -> str:
    counts = result.counts()
    parts = [
        f"{counts['inconclusive']} inconclusive",
        f"{counts['better']} better",
        f"{counts['same']} same",
    ]
    if counts["undefined"]:
        parts.append(f"{counts['undefined']} without samples in a run")
    lines = []
    if result.passed:
        lines.append(
            f"PASSED: no class worse by more than {result.max_drop:g}; " + ", ".join(parts)
        )
    else:
        worse = result.worse
        shown = ", ".join(worse[:10]) + (" ..." if len(worse) > 10 else "")
        lines.append(
            f"FAILED: {len(worse)} class{'es' if len(worse) > 1 else ''} worse by more than "
            f"{result.max_drop:g} ({shown}); " + ", ".join(parts)
        )
    for side, names in (
        ("baseline", result.only_in_baseline),
        ("candidate", result.only_in_candidate),
    ):
        if names:
            lines.append(
                f"only in the {side}, not compared: {', '.join(names[:10])}"
                + (" ..." if len(names) > 10 else "")
            )
    return "\n".join(lines)


# --- export ----------------------------------------------------------------------------------


def _export(args: argparse.Namespace) -> int:
    from tb_perclass.analysis import export, output
    from tb_perclass.analysis.loading import Logdir

    parquet = args.parquet
    if parquet is None:
        parquet = output.parquet_available()
    elif parquet and not output.parquet_available():
        print("tb-perclass: error: --parquet needs pyarrow: pip install pyarrow", file=sys.stderr)
        return EXIT_USAGE
    if os.path.isfile(args.to):
        print(f"tb-perclass: error: --to {args.to} is a file; pass a directory", file=sys.stderr)
        return EXIT_USAGE
    if os.path.isdir(args.to) and os.listdir(args.to) and not args.overwrite:
        print(
            f"tb-perclass: error: {args.to} is not empty; pass a new or empty directory, or "
            "--overwrite to replace the files an export writes there",
            file=sys.stderr,
        )
        return EXIT_USAGE
    logdir = Logdir(args.logdir)
    chosen = logdir.select(args.run, args.name)
    written = export.export(logdir, chosen, args.to, parquet=parquet)
    for item in written:
        files = ", ".join(os.path.join(args.to, f) for f in item.files)
        print(f"{item.table}: {item.rows} rows -> {files}")
    if not parquet:
        print("(no Parquet: pyarrow is not installed)" if args.parquet is None else "(no Parquet)")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
