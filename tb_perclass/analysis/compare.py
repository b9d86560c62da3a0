"""Per-class comparison of two series (two runs, or two steps of one run): a regression gate.

For each class the metric of the candidate is compared with the baseline's, and the change gets a
confidence interval from the counts behind it, so that a class with 8 samples whose recall moves
from 7/8 to 6/8 is not reported as a regression of 0.125 with the same weight as a class with
8000 samples:

- recall = TP / (TP + FN), precision = TP / (TP + FP) and (stats) accuracy = correct / count
  are proportions k / n; each run gets a Wilson score interval and the change Newcombe's hybrid
  score interval (`intervals.newcombe`);
- F1 = 2 TP / (2 TP + FP + FN) = 2 J / (1 + J), an increasing function of the proportion
  J = TP / (TP + FP + FN): J's Wilson interval mapped through it gives F1's, and the change
  the MOVER interval of the two (`intervals.difference`);
- loss is a mean of per-sample losses whose spread the summaries do not keep: compared as
  values, without an interval.

With many classes, some intervals miss by chance: with `adjust="bonferroni"` (the default) each
class's interval is at level 1 - (1 - confidence) / m for the m classes compared, so that all m
hold together with probability `confidence` and a gate with no real regression fails with
probability at most (1 - confidence) / 2.

A class is
- "worse" when the whole interval of its change lies beyond the allowed drop (the gate fails),
- "better" when it lies beyond the same amount in the other direction,
- "inconclusive" when the change itself is larger than allowed but its interval reaches back
  into the allowed range (small support: more data would tell),
- "same" otherwise, and "undefined" when either run has no value (no samples of the class).

The counts do not say which samples each run got right, so the runs are treated as independent
samples. Two models scored on the same validation set are positively correlated (easy samples are
right for both); the independent interval is then wider than a paired one (McNemar), so the gate
errs on the side of not failing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from tb_perclass.analysis import intervals
from tb_perclass.format import metadata, metrics

# Changes smaller than this are rounding, not a regression (0.8 - 0.78 > 0.02 in floats).
_TOLERANCE = 1e-9

VERDICTS = ("worse", "inconclusive", "better", "same", "undefined")
INTERVALS = ("newcombe", "none")
ADJUSTMENTS = ("bonferroni", "none")


@dataclasses.dataclass(frozen=True)
class ClassCounts:
    """What the metrics of one series at one step are computed from, per class."""

    class_names: tuple[str, ...]
    step: int
    tp: np.ndarray | None = None  # confusion counts (None: the run has none)
    fp: np.ndarray | None = None
    fn: np.ndarray | None = None
    count: np.ndarray | None = None  # stats
    correct: np.ndarray | None = None
    loss: np.ndarray | None = None
    skipped: tuple[dict, ...] = ()  # malformed steps left out of the data read (routes' `skipped`)


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # the summary kind its counts come from
    higher_is_better: bool
    value: Callable[[ClassCounts], np.ndarray]
    # (successes, trials) of the proportion behind the value, and the increasing map from that
    # proportion to the value (identity: the value is that proportion); None: no interval (loss)
    proportion: Callable[[ClassCounts], tuple[np.ndarray, np.ndarray]] | None = None
    from_proportion: Callable[[np.ndarray], np.ndarray] = lambda p: p  # noqa: E731


def _ratios(c: ClassCounts) -> dict[str, np.ndarray]:
    return metrics.ratios_from_counts(c.tp, c.fp, c.fn)


def _accuracy(c: ClassCounts) -> np.ndarray:
    return metrics.accuracy(c.correct, c.count)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "recall",
            metadata.KIND_CONFUSION,
            True,
            lambda c: _ratios(c)["recall"],
            lambda c: (c.tp, c.tp + c.fn),
        ),
        Metric(
            "precision",
            metadata.KIND_CONFUSION,
            True,
            lambda c: _ratios(c)["precision"],
            lambda c: (c.tp, c.tp + c.fp),
        ),
        Metric(
            "f1",
            metadata.KIND_CONFUSION,
            True,
            lambda c: _ratios(c)["f1"],
            lambda c: (c.tp, c.tp + c.fp + c.fn),
            lambda j: 2.0 * j / (1.0 + j),
        ),
        Metric("accuracy", metadata.KIND_STATS, True, _accuracy, lambda c: (c.correct, c.count)),
        Metric("loss", metadata.KIND_STATS, False, lambda c: np.asarray(c.loss, dtype=np.float64)),
    )
}


@dataclasses.dataclass(frozen=True)
class Comparison:
    metric: str
    higher_is_better: bool
    max_drop: float
    confidence: float
    interval: str  # "newcombe" (MOVER for F1) or "none"
    adjust: str
    z: float  # the normal quantile each class's interval was computed at
    tested: int  # classes with a value in both runs (the Bonferroni m)
    class_names: tuple[str, ...]  # classes in both runs, in the baseline's order
    baseline: np.ndarray
    candidate: np.ndarray
    baseline_counts: tuple[np.ndarray, np.ndarray] | None  # (k, n) behind each value
    candidate_counts: tuple[np.ndarray, np.ndarray] | None
    change: np.ndarray  # candidate - baseline
    low: np.ndarray  # interval of the change
    high: np.ndarray
    verdict: np.ndarray  # one of VERDICTS per class
    only_in_baseline: tuple[str, ...]
    only_in_candidate: tuple[str, ...]

    @property
    def worse(self) -> list[str]:
        return [n for n, v in zip(self.class_names, self.verdict) if v == "worse"]

    @property
    def passed(self) -> bool:
        return not self.worse

    def counts(self) -> dict[str, int]:
        return {v: int(np.sum(self.verdict == v)) for v in VERDICTS}


def compare(
    metric: Metric,
    baseline: ClassCounts,
    candidate: ClassCounts,
    *,
    max_drop: float,
    confidence: float = 0.95,
    interval: str = "newcombe",
    adjust: str = "bonferroni",
    classes: Sequence[str] | None = None,
) -> Comparison:
    """Compares `metric` class by class (classes matched by name); see the module docstring."""
    if not max_drop >= 0:
        raise ValueError(f"max_drop={max_drop!r}; pass an allowed drop >= 0, e.g. 0.02")
    if interval not in INTERVALS or adjust not in ADJUSTMENTS:
        raise ValueError(
            f"interval={interval!r}, adjust={adjust!r}; use {INTERVALS} and {ADJUSTMENTS}"
        )
    intervals.z_value(confidence)  # checks the level
    names, in_base, in_cand = _matched(baseline.class_names, candidate.class_names, classes)
    base_value = metric.value(baseline)[in_base]
    cand_value = metric.value(candidate)[in_cand]
    change = cand_value - base_value
    defined = ~np.isnan(change)
    tested = int(defined.sum())
    level = confidence
    if adjust == "bonferroni" and tested > 1:
        level = 1.0 - (1.0 - confidence) / tested
    z = intervals.z_value(level)
    base_counts = cand_counts = None
    if metric.proportion is not None and interval == "newcombe":
        base_counts = tuple(
            np.asarray(a, dtype=np.float64)[in_base] for a in metric.proportion(baseline)
        )
        cand_counts = tuple(
            np.asarray(a, dtype=np.float64)[in_cand] for a in metric.proportion(candidate)
        )
        base_low, base_high = (metric.from_proportion(x) for x in intervals.wilson(*base_counts, z))
        cand_low, cand_high = (metric.from_proportion(x) for x in intervals.wilson(*cand_counts, z))
        low, high = intervals.difference(
            base_value, base_low, base_high, cand_value, cand_low, cand_high
        )
    else:
        low, high = change.copy(), change.copy()
    # In "better is positive" terms, so that one rule serves loss (lower is better) too.
    sign = 1.0 if metric.higher_is_better else -1.0
    gain, gain_low, gain_high = (
        sign * change,
        np.minimum(sign * low, sign * high),
        np.maximum(sign * low, sign * high),
    )
    allowed = max_drop + _TOLERANCE
    verdict = np.full(len(names), "same", dtype=object)
    verdict[np.abs(gain) > allowed] = "inconclusive"
    verdict[gain_low > allowed] = "better"
    verdict[gain_high < -allowed] = "worse"
    verdict[~defined] = "undefined"
    return Comparison(
        metric=metric.name,
        higher_is_better=metric.higher_is_better,
        max_drop=max_drop,
        confidence=confidence,
        interval=interval if metric.proportion is not None else "none",
        adjust=adjust,
        z=z,
        tested=tested,
        class_names=names,
        baseline=base_value,
        candidate=cand_value,
        baseline_counts=base_counts,
        candidate_counts=cand_counts,
        change=change,
        low=np.where(defined, low, np.nan),
        high=np.where(defined, high, np.nan),
        verdict=verdict.astype(str),
        only_in_baseline=tuple(
            n for n in baseline.class_names if n not in set(candidate.class_names)
        ),
        only_in_candidate=tuple(
            n for n in candidate.class_names if n not in set(baseline.class_names)
        ),
    )


def _matched(
    base_names: Sequence[str], cand_names: Sequence[str], classes: Sequence[str] | None
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """The classes of both runs (in the baseline's order, limited to `classes`) and where each
    is in either run."""
    cand_position = {name: i for i, name in enumerate(cand_names)}
    base_position = {name: i for i, name in enumerate(base_names)}
    if classes is not None:
        unknown = [c for c in classes if c not in base_position and c not in cand_position]
        if unknown:
            from tb_perclass.analysis.loading import DataNotFoundError

            shown = ", ".join(repr(n) for n in list(base_names)[:20])
            raise DataNotFoundError(
                f"no class named {', '.join(map(repr, unknown))} in either run; classes are "
                f"{shown}{' ...' if len(base_names) > 20 else ''}"
            )
        wanted = set(classes)
        names = tuple(n for n in base_names if n in cand_position and n in wanted)
    else:
        names = tuple(n for n in base_names if n in cand_position)
    return (
        names,
        np.array([base_position[n] for n in names], dtype=np.int64),
        np.array([cand_position[n] for n in names], dtype=np.int64),
    )


def class_counts(logdir, series, metric: Metric, step: int | None) -> ClassCounts:
    """The counts `metric` needs of one series (a `loading.Series` of `logdir`) at `step`
    (the latest step with that data by default)."""
    from tb_perclass.analysis.loading import DataNotFoundError
    from tb_perclass.plugin.series import position_of

    if metric.kind == metadata.KIND_CONFUSION:
        answer = logdir.cells(series, step)
        tp, fp, fn = metrics.true_false_counts(
            answer["cells"], answer["counts"], series.task, len(series.class_names)
        )
        return ClassCounts(
            series.class_names,
            int(answer["step"]),
            tp=tp,
            fp=fp,
            fn=fn,
            skipped=tuple(answer.get("skipped", ())),
        )
    curves = logdir.curves(series)
    position = position_of(curves["steps"], step)
    if position is None:
        steps = curves["steps"]
        have = f"{len(steps)} steps from {steps.min()} to {steps.max()}" if len(steps) else "none"
        raise DataNotFoundError(
            f"run {series.run!r} has no per-class stats at step {step}; it has {have}"
        )
    count = curves["count"][position]
    correct = np.rint(np.nan_to_num(curves["accuracy"][position]) * count).astype(np.int64)
    return ClassCounts(
        series.class_names,
        int(curves["steps"][position]),
        count=count,
        correct=correct,
        loss=curves["loss"][position],
        skipped=tuple(curves.get("skipped", ())),
    )
