"""The k-group log-rank test, optionally stratified, its pairs and its test for trend.

Conventions (R's ``survdiff``): observed minus expected events per group and their
hypergeometric covariance, summed over the event times (and, stratified, over the
strata, each stratum with its own risk sets); groups expected to have no event (never
at risk at an event time) are left out; chi-square on (groups kept - 1) degrees of
freedom, from a generalised inverse so that a singular covariance still gives R's value.

:func:`pairwise` tests each pair of groups on its own (the 2-group test on those two
groups' counts, their risk sets without the other groups), as R's ``survdiff`` on the
pair's subset; :func:`trend` is the 1-df test for a trend across ordered groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.stats.engine.counts import Counts, grid
from analytics.stats.engine.normal import chi_square_p

LOGRANK = "logrank"  # the name a result gives its test (the report's ``comparison_test``)


@dataclass(frozen=True)
class LogRank:
    """Chi-square statistic, degrees of freedom and p of the log-rank test.

    ``test`` names the test: ``logrank``, or ``robust_score`` for limbs clustered in
    patients (:mod:`.robust_score`), which returns the same type.
    """

    statistic: float
    df: int
    p: float
    test: str = LOGRANK


@dataclass(frozen=True)
class PairTest:
    """The log-rank test of ``level`` against ``other`` on those two groups alone.

    ``statistic`` and ``p`` are NaN when the pair cannot be compared (one of the two is
    never at risk at an event time of the pair, or neither has an event). ``test`` names
    the test, as :class:`LogRank`'s.
    """

    level: str
    other: str
    statistic: float
    p: float
    test: str = LOGRANK


@dataclass(frozen=True)
class Trend:
    """The log-rank test for trend: chi-square on 1 df and its p; ``test`` names the test,
    as :class:`LogRank`'s."""

    statistic: float
    p: float
    test: str = LOGRANK


def _observed_expected(counts: Counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed and expected events per group and their covariance, for one stratum."""
    g = grid(counts)
    return _sums(g.events, g.at_risk)


def _sums(events: np.ndarray, risk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed, expected and covariance from (groups, times) events and at-risk arrays."""
    deaths, at_risk = events.sum(axis=0), risk.sum(axis=0)
    kept = deaths > 0
    events, risk = events[:, kept], risk[:, kept]
    deaths, at_risk = deaths[kept], at_risk[kept]
    share = risk / at_risk
    expected = share @ deaths
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(at_risk > 1, deaths * (at_risk - deaths) / (at_risk - 1), 0.0)
    covariance = np.diag((share * weight).sum(axis=1)) - (share * weight) @ share.T
    return events.sum(axis=1), expected, covariance


def logrank(counts: Counts, strata: np.ndarray | None = None) -> LogRank | None:
    """Log-rank test across the levels of ``counts``; None with fewer than two levels.

    ``strata`` (one label per row of ``counts``) stratifies the test: each stratum's
    risk sets are its own, and observed, expected and covariance are summed.

    Example: 6-MP against placebo (Freireich) gives chi-square 16.79 on 1 df,
    p = 4.17e-05, as R's survdiff.
    """
    if len(counts.levels) < 2:
        return None
    parts = [counts] if strata is None else [_rows(counts, strata == s) for s in np.unique(strata)]
    observed = expected = covariance = 0
    for part in parts:
        o, e, v = _observed_expected(part)
        observed, expected, covariance = observed + o, expected + e, covariance + v
    return _test(observed, expected, covariance)


def _test(observed: np.ndarray, expected: np.ndarray, covariance: np.ndarray) -> LogRank | None:
    """The chi-square of observed minus expected, the groups expected to have none left out."""
    kept = np.asarray(expected) > 0
    if kept.sum() < 2:
        return None
    difference = (observed - expected)[kept][1:]
    inner = np.asarray(covariance)[np.ix_(kept, kept)][1:, 1:]
    statistic = float(difference @ np.linalg.pinv(inner) @ difference)
    df = int(kept.sum() - 1)
    return LogRank(statistic=statistic, df=df, p=chi_square_p(statistic, df))


def pairwise(counts: Counts) -> tuple[PairTest, ...]:
    """The 2-group log-rank test of every pair of levels, in display order (first with
    second, first with third, ..., then second with third, ...).

    Example: ``lung`` by ph.ecog, 0 against 2: chi-square 16.68, p = 4.42e-05, as R's
    ``survdiff`` on the patients with ph.ecog 0 or 2.
    """
    g = grid(counts)  # once: a pair's risk sets are its two rows of the whole grid
    tests, nan = [], float("nan")
    for i, level in enumerate(counts.levels):
        for j in range(i + 1, len(counts.levels)):
            test = _test(*_sums(g.events[[i, j]], g.at_risk[[i, j]]))
            statistic, p = (test.statistic, test.p) if test else (nan, nan)
            tests.append(PairTest(level, counts.levels[j], statistic, p))
    return tuple(tests)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of ``p`` (NaN where a pair could not be tested).

    The sorted p times (m - i), made non-decreasing and capped at 1: statsmodels'
    ``multipletests(method="holm")`` and R's ``p.adjust(method = "holm")`` (tests), here
    because statsmodels' call runs a full garbage collection each time (0.1-0.2 s).
    """
    adjusted = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    steps = p[order] * np.arange(order.size, 0, -1)
    adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return adjusted


def trend(counts: Counts) -> Trend | None:
    """The log-rank test for trend across the levels of ``counts``, in their order.

    With scores w = 1..k in display order, U = sum_g w_g (O_g - E_g) and V the log-rank
    covariance matrix (R's ``survdiff``: ``obs``, ``exp``, ``var``, every group kept), the
    statistic is U^2 / (w' V w), chi-square on 1 df. None with fewer than two levels, or
    when w' V w is 0 (no event, or no event where two groups are at risk). With two
    levels it is the log-rank test itself.

    Example: ``lung`` by ph.ecog 0-3: chi-square 17.875, p = 2.36e-05, as R's
    ``(sum(w * (obs - exp)))^2 / (t(w) %*% var %*% w)`` on ``survdiff``.
    """
    if len(counts.levels) < 2:
        return None
    weights = np.arange(1.0, len(counts.levels) + 1)
    observed, expected, covariance = _observed_expected(counts)
    variance = float(weights @ covariance @ weights)
    if not variance > 0:
        return None
    statistic = float(weights @ (observed - expected)) ** 2 / variance
    return Trend(statistic, chi_square_p(statistic, 1))


def _rows(counts: Counts, rows: np.ndarray) -> Counts:
    return Counts(
        levels=counts.levels,
        group=counts.group[rows],
        time=counts.time[rows],
        events=counts.events[rows],
        censored=counts.censored[rows],
    )
