"""The Wilcoxon signed-rank test from a table of paired differences and their counts.

Conventions (SPSS, which the source paper used, and SciPy's ``zero_method="wilcox"``):
zero differences are dropped; tied absolute differences share their mean rank. The p
is exact (the null distribution of the positive rank sum, two-sided) when at most
EXACT_MAX_PAIRS non-zero differences remain and none are tied; otherwise it is the
normal approximation with the tie correction of the variance and no continuity
correction. With 6 pairs the smallest exact two-sided p is 2/64 = 0.031.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analytics.stats.engine.normal import two_sided_p

EXACT_MAX_PAIRS = 50
EXACT, NORMAL = "exact", "normal"


@dataclass(frozen=True)
class SignedRank:
    """The test on ``pairs`` non-zero differences: positive rank sum, p, method used.

    ``statistic`` is the sum of the ranks of the positive differences (R's V);
    ``z`` is the normal deviate of the approximation (NaN for the exact test).
    """

    pairs: int
    statistic: float
    z: float
    p: float
    method: str


def signed_rank(differences: np.ndarray, patients: np.ndarray) -> SignedRank | None:
    """Test the paired ``differences`` (after - before), each seen ``patients`` times.

    None when every difference is zero (nothing to test). The values of
    ``differences`` need not be distinct: equal ones are pooled.
    """
    differences = np.asarray(differences, dtype=float)
    patients = np.asarray(patients, dtype=np.int64)
    nonzero = (differences != 0) & (patients > 0)
    if not nonzero.any():
        return None
    size, inverse = np.unique(np.abs(differences[nonzero]), return_inverse=True)
    tied = np.bincount(inverse, patients[nonzero], size.size)  # patients per |difference|
    first_rank = np.cumsum(tied) - tied + 1
    mean_rank = first_rank + (tied - 1) / 2
    positive = differences[nonzero] > 0
    statistic = float((patients[nonzero][positive] * mean_rank[inverse[positive]]).sum())
    n = int(tied.sum())
    if n <= EXACT_MAX_PAIRS and (tied == 1).all():
        return SignedRank(n, statistic, float("nan"), _exact_p(n, int(statistic)), EXACT)
    mean = n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - float((tied**3 - tied).sum()) / 48
    z = (statistic - mean) / math.sqrt(variance)
    return SignedRank(n, statistic, z, two_sided_p(z), NORMAL)


def _exact_p(n: int, statistic: int) -> float:
    """Two-sided exact p: twice the smaller tail of the positive rank sum, at most 1."""
    probability = null_distribution(n)
    lower, upper = probability[: statistic + 1].sum(), probability[statistic:].sum()
    return float(min(1.0, 2 * min(lower, upper)))


def null_distribution(n: int) -> np.ndarray:
    """P(V = v) for v = 0..n(n+1)/2, V the positive rank sum of n untied differences.

    The null distribution counts the subsets of ranks 1..n by their sum (each subset
    equally likely), built one rank at a time.
    """
    ways = np.zeros(n * (n + 1) // 2 + 1)
    ways[0] = 1.0
    for rank in range(1, n + 1):
        ways[rank:] = ways[rank:] + ways[:-rank]
    return ways / 2.0**n
