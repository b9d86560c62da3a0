"""How `tb-perclass compare` behaves on simulated counts, computed exactly (every outcome of two
binomials enumerated with its probability, no sampling noise):

1. coverage of a 95% interval for the change of a per-class recall, Newcombe's hybrid score
   interval (what compare uses) against the two-proportion z (Wald) interval, by class size n
   and true recalls (p_baseline -> p_candidate);
2. the gate's false-failure rate: P(exit 1) when no class truly got worse by more than the
   allowed 0.02 (every class dropping by exactly 0.02, the worst case), for 10 and 1000
   classes, with the Bonferroni adjustment and without;
3. its power: P(exit 1) when one class of 100 truly loses 0.05, 0.10 or 0.20 of recall.

    python -m bench.compare_intervals
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from tb_perclass.analysis import intervals

GRID = [(0.5, 0.5), (0.8, 0.7), (0.9, 0.9), (0.95, 0.85), (0.98, 0.98), (0.99, 0.9), (0.999, 0.99)]
SIZES = [5, 10, 20, 50, 200, 1000]


def outcomes(n1: int, p1: float, n2: int, p2: float):
    k1, k2 = np.meshgrid(np.arange(n1 + 1), np.arange(n2 + 1), indexing="ij")
    return k1, k2, binom.pmf(k1, n1, p1) * binom.pmf(k2, n2, p2)


def coverage(n: int, p1: float, p2: float, method: str, z: float) -> float:
    k1, k2, weight = outcomes(n, p1, n, p2)
    if method == "newcombe":
        low, high = intervals.newcombe(k1, n, k2, n, z)
    else:
        a, b = k1 / n, k2 / n
        spread = z * np.sqrt(a * (1 - a) / n + b * (1 - b) / n)
        low, high = b - a - spread, b - a + spread
    truth = p2 - p1
    return float(np.sum(weight * ((low <= truth + 1e-12) & (truth - 1e-12 <= high))))


def fail_probability(n: int, p: float, drop: float, max_drop: float, z: float) -> float:
    k1, k2, weight = outcomes(n, p, n, p - drop)
    _, high = intervals.newcombe(k1, n, k2, n, z)
    return float(np.sum(weight * (high < -max_drop - 1e-9)))


def main() -> None:
    z95 = intervals.z_value(0.95)
    print("1. coverage of 95% intervals for a change of recall (exact)")
    print(f"{'n':>5} | " + " ".join(f"{a}->{b}".rjust(10) for a, b in GRID) + " |   min  mean")
    for method in ("newcombe", "wald"):
        for n in SIZES:
            values = [coverage(n, a, b, method, z95) for a, b in GRID]
            print(
                f"{n:>5} | "
                + " ".join(f"{v:10.3f}" for v in values)
                + f" | {min(values):.3f} {np.mean(values):.3f}  {method}"
            )
    print("\n2. P(gate fails) with no class worse than allowed (all drop exactly 0.02), p = 0.9")
    print(f"{'n':>5} | {'10 cls bonf':>11} {'10 cls none':>11} {'1000 bonf':>10} {'1000 none':>10}")
    for n in (10, 50, 200, 1000):
        cells = []
        for classes in (10, 1000):
            for adjust in ("bonferroni", "none"):
                z = intervals.z_value(1 - 0.05 / classes if adjust == "bonferroni" else 0.95)
                one = fail_probability(n, 0.9, 0.02, 0.02, z)
                cells.append(1 - (1 - one) ** classes)
        print(f"{n:>5} | {cells[0]:11.4f} {cells[1]:11.4f} {cells[2]:10.4f} {cells[3]:10.4f}")
    print(
        "\n3. P(gate fails) when one class of 100 truly drops from 0.9 (Bonferroni, max-drop 0.02)"
    )
    z100 = intervals.z_value(1 - 0.05 / 100)
    print(f"{'n':>5} | {'-0.05':>7} {'-0.10':>7} {'-0.20':>7}")
    for n in (10, 50, 200, 1000, 5000):
        cells = [fail_probability(n, 0.9, d, 0.02, z100) for d in (0.05, 0.10, 0.20)]
        print(f"{n:>5} | " + " ".join(f"{c:7.3f}" for c in cells))


if __name__ == "__main__":
    main()
