"""The Wilcoxon signed-rank test from a table of paired differences and their counts.

Conventions (SPSS, which the source paper used, and R's ``coin::wilcoxsign_test(...,
zero.method = "Wilcoxon")``): zero differences are dropped; tied absolute differences
share their mean rank (mid-rank). With fewer than EXACT_BELOW non-zero differences the
p is exact: the permutation distribution of the positive rank sum over the 2^n sign
flips of the mid-ranks as observed, so conditional on the ties (coin's
``distribution = "exact"``; without ties it is the classic distribution, SciPy's
``method="exact"``). Two-sided, as coin: the probability of a rank sum at least as far
from its mean n(n + 1) / 4 as the one observed, 1 at the mean. With EXACT_BELOW or more
it is the normal approximation with the tie correction of the variance and no
continuity correction. With 6 pairs the smallest exact two-sided p is 2/64 = 0.031.

The conditional distribution is counted over doubled mid-ranks, which are integers
(2r + t - 1 for a run of t ties from rank r), by adding one difference at a time (the
shift algorithm of Streitberg and Röhmel, 1986): at most n(n + 1) + 1 sums for n < 50.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analytics.stats.engine.normal import two_sided_p

EXACT_BELOW = 50  # exact with fewer non-zero differences (R's wilcox.test rule)
EXACT, NORMAL = "exact", "normal"


@dataclass(frozen=True)
class SignedRank:
    """The test on ``pairs`` non-zero differences: positive rank sum, p, method used.

    ``statistic`` is the sum of the mid-ranks of the positive differences (R's V, coin's
    linear statistic); ``z`` is the normal deviate of the approximation (NaN for the
    exact test).
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
    tied = np.bincount(inverse, patients[nonzero], size.size).astype(np.int64)
    doubled = 2 * (np.cumsum(tied) - tied + 1) + tied - 1  # twice each size's mid-rank
    positive = differences[nonzero] > 0
    doubled_statistic = int((patients[nonzero][positive] * doubled[inverse[positive]]).sum())
    statistic = doubled_statistic / 2
    n = int(tied.sum())
    if n < EXACT_BELOW:
        p = _exact_p(doubled, tied, doubled_statistic)
        return SignedRank(n, statistic, float("nan"), p, EXACT)
    mean = n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - float((tied**3 - tied).sum()) / 48
    z = (statistic - mean) / math.sqrt(variance)
    return SignedRank(n, statistic, z, two_sided_p(z), NORMAL)


def _exact_p(doubled: np.ndarray, tied: np.ndarray, doubled_statistic: int) -> float:
    """Two-sided exact p (coin's): P(|2V - 2E| >= |2v - 2E|) under the sign flips of the
    doubled mid-ranks ``doubled``, ``tied`` differences each; all in integers."""
    probability = conditional_distribution(np.repeat(doubled, tied))
    doubled_mean = (probability.size - 1) // 2  # the total of the doubled ranks, halved
    distance = abs(doubled_statistic - doubled_mean)
    if distance == 0:
        return 1.0
    far = np.abs(np.arange(probability.size) - doubled_mean) >= distance
    return float(min(1.0, probability[far].sum()))


def conditional_distribution(scores: np.ndarray) -> np.ndarray:
    """P(S = s) for s = 0..sum(scores), S the sum of the positive integer ``scores``
    that get a + sign, each sign + or - with probability 1/2 independently.

    Built one score at a time: half the mass stays, half moves up by the score.
    """
    probability = np.zeros(int(scores.sum()) + 1)
    probability[0] = 1.0
    for score in scores.astype(np.int64):
        probability[score:] += probability[:-score].copy()
        probability /= 2
    return probability


def null_distribution(n: int) -> np.ndarray:
    """P(V = v) for v = 0..n(n+1)/2, V the positive rank sum of n untied differences:
    the conditional distribution of the ranks 1..n."""
    return conditional_distribution(np.arange(1, n + 1))
