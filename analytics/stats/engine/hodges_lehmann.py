"""The Hodges-Lehmann median paired change and its 95% CI, from a table of differences.

Conventions: R's ``wilcox.test(after, before, paired = TRUE, conf.int = TRUE)`` with its
defaults (R 4.x). Zero differences are dropped first, as R does, so the estimate and the
interval are those of the non-zero differences. The estimate is the median of the Walsh
averages (d_i + d_j) / 2 over the pairs i <= j. The interval is

- exact when fewer than R_EXACT_BELOW non-zero differences remain, none tied in absolute
  value and none was zero (R's rule, narrower than the signed-rank p's in
  :mod:`.signed_rank`, which is exact below 50 with ties and zeros too): the Walsh
  averages at the ranks the exact null distribution of the signed-rank statistic gives
  (R's ``qsignrank``);
- otherwise the normal approximation: the shifts at which the tie-corrected signed-rank
  statistic with the continuity correction (R's default ``correct = TRUE``) reaches the
  normal quantiles. These shifts are Walsh averages, read here from the table; R finds
  them by ``uniroot`` to its tolerance of 1e-4.

Where few pairs cannot reach the level asked for, R widens the interval and lowers its
``conf.level``; ``level`` gives that level. One difference from R, in the normal
approximation only: when the two middle Walsh averages differ, every shift between them
solves R's equation for the estimate and R returns whichever point its ``uniroot`` meets
first; the median of the Walsh averages (their midpoint) is returned here.

Cost: the Walsh averages of the distinct differences, m (m + 1) / 2 for m distinct values
(a score has few), whatever the number of patients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from analytics.stats.engine.signed_rank import EXACT, NORMAL, null_distribution

R_EXACT_BELOW = 50  # R: exact with fewer than 50 non-zero differences (and no ties or zeros)
R_QUANTILE_FUZZ = 10 * np.finfo(float).eps  # qsignrank's allowance below the probability


@dataclass(frozen=True)
class HodgesLehmann:
    """The median paired change (after - before) with its confidence interval.

    ``level`` is the confidence level reached: the one asked for, or R's lower level
    where few pairs cannot reach it (0 when every non-zero difference is the same, where
    the limits are NaN). ``method`` is EXACT or NORMAL.
    """

    estimate: float
    ci_lower: float
    ci_upper: float
    level: float
    method: str


@dataclass(frozen=True, eq=False)
class _Counted:
    """A sample given by its distinct values, ascending, and how many are at or below each
    (the Walsh averages, or the differences themselves)."""

    values: np.ndarray
    at_or_below: np.ndarray

    @property
    def total(self) -> int:
        return int(self.at_or_below[-1])

    def ordered(self, rank: int) -> float:
        """The rank-th smallest value (1-based)."""
        return float(self.values[np.searchsorted(self.at_or_below, rank)])

    def median(self) -> float:
        half = self.total // 2
        if self.total % 2:
            return self.ordered(half + 1)
        return (self.ordered(half) + self.ordered(half + 1)) / 2


def hodges_lehmann(
    differences: np.ndarray, patients: np.ndarray, level: float = 0.95
) -> HodgesLehmann | None:
    """The change of ``differences`` (after - before), each seen ``patients`` times.

    None when every difference is zero. Equal values of ``differences`` are pooled.
    """
    differences = np.asarray(differences, dtype=float)
    patients = np.asarray(patients, dtype=np.int64)
    seen = patients > 0
    values, inverse = np.unique(differences[seen], return_inverse=True)
    counts = np.bincount(inverse, patients[seen], values.size).astype(np.int64)
    zero = values == 0
    values, counts = values[~zero], counts[~zero]
    if not values.size:
        return None
    walsh = _walsh(values, counts)
    n = int(counts.sum())
    untied = counts.max() == 1 and np.unique(np.abs(values)).size == values.size
    if n < R_EXACT_BELOW and untied and not zero.any():
        interval, method = _exact_interval(walsh, n, level), EXACT
    else:
        interval, method = _normal_interval(values, counts, walsh, level), NORMAL
    return HodgesLehmann(walsh.median(), *interval, method)


def _walsh(values: np.ndarray, counts: np.ndarray) -> _Counted:
    """The Walsh averages of the differences, counted: c(c + 1) / 2 of a value with
    itself, c_i c_j of two values."""
    i, j = np.triu_indices(values.size)
    averages = (values[i] + values[j]) / 2
    weights = np.where(i == j, counts[i] * (counts[i] + 1) // 2, counts[i] * counts[j])
    distinct, inverse = np.unique(averages, return_inverse=True)
    return _Counted(distinct, np.cumsum(np.bincount(inverse, weights, distinct.size)))


def _exact_interval(walsh: _Counted, n: int, level: float) -> tuple[float, float, float]:
    """R's exact limits: the q-th smallest and largest Walsh averages, q the alpha/2
    quantile of the signed-rank statistic (at least 1), and the level reached."""
    alpha = 1 - level
    cumulative = np.cumsum(null_distribution(n))
    q = max(int(np.searchsorted(cumulative, alpha / 2 - R_QUANTILE_FUZZ)), 1)
    reached = float(2 * cumulative[q - 1])
    if reached - alpha > alpha / 2:
        level = 1 - _significant(reached, 2)
    return walsh.ordered(q), walsh.ordered(walsh.total - q + 1), level


def _normal_interval(
    values: np.ndarray, counts: np.ndarray, walsh: _Counted, level: float
) -> tuple[float, float, float]:
    """R's normal-approximation limits and the level reached.

    R widens alpha (doubling it) until the statistic at the smallest and the largest
    difference lies beyond the quantiles, and gives the median difference twice when no
    level above 0 remains.
    """
    if values.size == 1:
        return math.nan, math.nan, 0.0  # R: "all observations are zero or tied"
    n = int(counts.sum())
    spread = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - float((counts**3 - counts).sum()) / 48)
    at_smallest, at_largest = _at_end(counts[1:]), -_at_end(counts[:-1])
    alpha = 1 - level
    while at_smallest < _quantile(1 - alpha / 2) or at_largest > _quantile(alpha / 2):
        alpha *= 2
    if alpha >= 1 or 1 - level < alpha * 0.75:
        level = 1 - min(1.0, alpha)
    if alpha >= 1:
        middle = _Counted(values, np.cumsum(counts)).median()
        return middle, middle, level
    lower = _crossing(walsh, spread, _quantile(1 - alpha / 2))
    upper = _crossing(walsh, spread, _quantile(alpha / 2))
    return lower, upper, level


def _at_end(others: np.ndarray) -> float:
    """R's standardised statistic at the smallest difference, ``others`` the counts of
    the larger ones: those equal to it drop out as zeros, the rest are all positive."""
    n = int(others.sum())
    spread = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - float((others**3 - others).sum()) / 48)
    return (n * (n + 1) / 4 - 0.5) / spread


def _crossing(walsh: _Counted, spread: float, quantile: float) -> float:
    """The Walsh average where the corrected statistic of the shifted differences falls
    below ``quantile``: shifted just past it, the positive rank sum counts the Walsh
    averages above it."""
    centred = (walsh.total - walsh.at_or_below) - walsh.total / 2
    statistic = (centred - 0.5 * np.sign(centred)) / spread
    below = np.flatnonzero(statistic < quantile)
    return float(walsh.values[below[0] if below.size else -1])


def _quantile(probability: float) -> float:
    return NormalDist().inv_cdf(probability)


def _significant(value: float, digits: int) -> float:
    """``value`` to ``digits`` significant digits (R's signif)."""
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))
