"""The intervals and verdicts of `tb-perclass compare`: against statsmodels and Newcombe's
published table, by exact coverage (every outcome of two binomials enumerated), and the gate's
false-failure rate against its bound."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from tb_perclass.analysis import compare, intervals
from tb_perclass.analysis.loading import DataNotFoundError

Z95 = intervals.z_value(0.95)

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10: (k1/n1 - k2/n2).
NEWCOMBE_TABLE = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_TABLE)
def test_newcombe_reproduces_the_published_table(counts, expected):
    k1, n1, k2, n2 = counts
    low, high = intervals.newcombe(k2, n2, k1, n1, Z95)  # second - first = k1/n1 - k2/n2
    assert (round(float(low), 4), round(float(high), 4)) == expected


def test_wilson_and_newcombe_equal_statsmodels():
    rng = np.random.default_rng(0)
    n1, n2 = rng.integers(1, 300, 500), rng.integers(1, 300, 500)
    k1, k2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
    k1[:20], k2[20:40] = 0, n2[20:40]  # the edges
    for confidence in (0.9, 0.95, 0.999):
        z = intervals.z_value(confidence)
        low, high = intervals.newcombe(k2, n2, k1, n1, z)
        w_low, w_high = intervals.wilson(k1, n1, z)
        for i in range(len(n1)):
            ref = confint_proportions_2indep(
                k1[i], n1[i], k2[i], n2[i], method="newcomb", compare="diff", alpha=1 - confidence
            )
            # statsmodels gives k1/n1 - k2/n2; ours is second - first = k1/n1 - k2/n2.
            np.testing.assert_allclose([low[i], high[i]], ref, atol=1e-10)
            ref_w = proportion_confint(k1[i], n1[i], alpha=1 - confidence, method="wilson")
            np.testing.assert_allclose([w_low[i], w_high[i]], ref_w, atol=1e-10)
    assert np.isnan(intervals.wilson(0, 0, Z95)).all()


def exact_coverage(n1, p1, n2, p2, method, z=Z95):
    """P(interval contains p2 - p1), summed over every (k1, k2) with its binomial probability."""
    k1, k2 = np.meshgrid(np.arange(n1 + 1), np.arange(n2 + 1), indexing="ij")
    weight = binom.pmf(k1, n1, p1) * binom.pmf(k2, n2, p2)
    if method == "newcombe":
        low, high = intervals.newcombe(k1, n1, k2, n2, z)
    else:  # Wald: the two-proportion z interval
        a, b = k1 / n1, k2 / n2
        spread = z * np.sqrt(a * (1 - a) / n1 + b * (1 - b) / n2)
        low, high = b - a - spread, b - a + spread
    truth = p2 - p1
    return float(np.sum(weight * ((low <= truth + 1e-12) & (truth - 1e-12 <= high))))


@pytest.mark.parametrize("n", [8, 20, 50, 200])
def test_newcombe_covers_where_the_z_interval_does_not(n):
    """Recall near 1 with few samples is the usual case of a good class: there the z-test's
    interval collapses (0 width at 8/8) and misses, Newcombe's stays near its level."""
    grid = [
        (0.5, 0.5),
        (0.8, 0.7),
        (0.9, 0.9),
        (0.95, 0.85),
        (0.98, 0.98),
        (0.99, 0.9),
        (0.999, 0.99),
    ]
    newcombe = [exact_coverage(n, a, n, b, "newcombe") for a, b in grid]
    wald = [exact_coverage(n, a, n, b, "wald") for a, b in grid]
    assert min(newcombe) >= 0.92, newcombe  # measured: 0.923 at n=8, p=0.5; else >= 0.94
    assert min(wald) < (0.45 if n <= 50 else 0.9), wald  # measured: 0.05 (n=5) .. 0.86 (n=200)


def gate_failure_probability(n, p_base, true_drop, max_drop, classes, dropping=None):
    """Exact P(the gate fails at 95%) with `classes` independent classes of n samples per run,
    `dropping` of them (default all) truly losing `true_drop` of recall from p_base, the others
    unchanged."""
    z = intervals.z_value(1 - 0.05 / classes)
    k1, k2 = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")

    def fails(drop):
        weight = binom.pmf(k1, n, p_base) * binom.pmf(k2, n, p_base - drop)
        _, high = intervals.newcombe(k1, n, k2, n, z)
        return float(np.sum(weight * (high < -max_drop - 1e-9)))

    dropping = classes if dropping is None else dropping
    return 1 - (1 - fails(true_drop)) ** dropping * (1 - fails(0.0)) ** (classes - dropping)


@pytest.mark.parametrize("n", [10, 60, 500])
def test_the_gate_fails_a_run_without_regression_at_most_at_its_level(n):
    # Worst case of "no regression": every class drops by exactly the allowed amount.
    for classes in (1, 10, 100):
        assert gate_failure_probability(n, 0.9, 0.02, 0.02, classes) <= 0.025 + 1e-9
        assert gate_failure_probability(n, 0.9, 0.0, 0.0, classes) <= 0.025 + 1e-9


def test_the_gate_catches_a_real_drop_given_enough_samples():
    # One class of 10 loses 0.2 of recall (0.9 -> 0.7): caught nearly surely with 500 samples
    # per class, rarely with 10 (then it is listed as an inconclusive drop instead).
    assert gate_failure_probability(500, 0.9, 0.2, 0.02, 10, dropping=1) > 0.99
    assert gate_failure_probability(10, 0.9, 0.2, 0.02, 10, dropping=1) < 0.05


def counts(names, tp, fn, fp=None):
    tp, fn = np.asarray(tp), np.asarray(fn)
    return compare.ClassCounts(
        tuple(names), 0, tp=tp, fn=fn, fp=np.zeros_like(tp) if fp is None else np.asarray(fp)
    )


def test_verdicts():
    names = ["big_drop", "small_drop", "gain", "steady", "empty"]
    base = counts(names, [900, 9, 500, 700, 0], [100, 1, 500, 300, 0])
    cand = counts(names, [600, 7, 800, 701, 3], [400, 3, 200, 299, 1])
    result = compare.compare(compare.METRICS["recall"], base, cand, max_drop=0.02)
    assert list(result.verdict) == ["worse", "inconclusive", "better", "same", "undefined"]
    assert result.tested == 4 and result.worse == ["big_drop"] and not result.passed
    assert result.z == pytest.approx(intervals.z_value(1 - 0.05 / 4))
    np.testing.assert_allclose(result.change[:4], [-0.3, -0.2, 0.3, 0.001])
    assert result.baseline_counts[0][1] == 9 and result.baseline_counts[1][1] == 10
    # Without an interval, one sample of ten is a regression.
    plain = compare.compare(compare.METRICS["recall"], base, cand, max_drop=0.02, interval="none")
    assert list(plain.verdict[:2]) == ["worse", "worse"]
    # A drop of exactly the allowed amount passes despite floating point (0.8 - 0.78).
    edge = compare.compare(
        compare.METRICS["recall"],
        counts(["a"], [80], [20]),
        counts(["a"], [78], [22]),
        max_drop=0.02,
        interval="none",
    )
    assert edge.passed


def test_classes_are_matched_by_name_and_filtered():
    base = counts(["a", "b", "c"], [90, 50, 10], [10, 50, 0])
    cand = counts(["c", "b", "d"], [10, 20, 5], [0, 80, 5])
    result = compare.compare(compare.METRICS["recall"], base, cand, max_drop=0.0)
    assert result.class_names == ("b", "c") and result.worse == ["b"]
    assert result.only_in_baseline == ("a",) and result.only_in_candidate == ("d",)
    only_c = compare.compare(compare.METRICS["recall"], base, cand, max_drop=0.0, classes=["c"])
    assert only_c.class_names == ("c",) and only_c.passed
    with pytest.raises(DataNotFoundError, match="no class named 'zz'"):
        compare.compare(compare.METRICS["recall"], base, cand, max_drop=0.0, classes=["zz"])


def test_loss_is_worse_when_it_rises_and_f1_interval_brackets_the_change():
    base = compare.ClassCounts(
        ("a", "b"), 0, count=np.array([10, 10]), correct=np.array([5, 5]), loss=np.array([0.5, 0.5])
    )
    cand = dataclasses_replace(base, loss=np.array([0.6, 0.4]))
    result = compare.compare(compare.METRICS["loss"], base, cand, max_drop=0.05)
    assert list(result.verdict) == ["worse", "better"] and result.interval == "none"
    f1 = compare.compare(
        compare.METRICS["f1"],
        counts(["a"], [80], [10], [10]),
        counts(["a"], [60], [20], [25]),
        max_drop=0.0,
    )
    assert f1.baseline[0] == pytest.approx(160 / 180) and f1.candidate[0] == pytest.approx(
        120 / 165
    )
    assert f1.low[0] < f1.change[0] < f1.high[0] < 0 and f1.worse == ["a"]


def dataclasses_replace(value, **changes):
    import dataclasses

    return dataclasses.replace(value, **changes)


def test_f1_interval_coverage_by_simulation():
    """F1's interval (Wilson of TP / (TP + FP + FN), mapped) holds its level on multinomial
    counts of two runs."""
    rng = np.random.default_rng(1)
    hits = trials = 0
    for probabilities, n in (
        ((0.6, 0.2, 0.2), 40),
        ((0.85, 0.05, 0.1), 100),
        ((0.3, 0.4, 0.3), 15),
    ):
        other = (probabilities[0] - 0.1, probabilities[1] + 0.05, probabilities[2] + 0.05)
        f1 = [2 * p[0] / (2 * p[0] + p[1] + p[2]) for p in (probabilities, other)]
        a = rng.multinomial(n, probabilities, size=4000)
        b = rng.multinomial(n, other, size=4000)
        result = compare.compare(
            compare.METRICS["f1"],
            counts(range(4000), a[:, 0], a[:, 2], a[:, 1]),
            counts(range(4000), b[:, 0], b[:, 2], b[:, 1]),
            max_drop=0,
            adjust="none",
        )
        truth = f1[1] - f1[0]
        hits += int(np.sum((result.low <= truth) & (truth <= result.high)))
        trials += 4000
    assert hits / trials >= 0.93
