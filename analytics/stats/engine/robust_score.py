"""The robust score test: the group comparison of limbs clustered in patients.

R's ``survdiff`` has no clustering; for limbs clustered in patients the comparison is the
score test of ``coxph(Surv(t, e) ~ g, cluster = patient_id)`` at coefficients 0 with the
robust variance of the score (``summary(fit)$robscore``): U' B^- U, U the score at 0 and B
the sum over patients of the outer product of the sum of their limbs' score residuals
(Efron's ties, as R's). On one factor's indicators it is the k-group comparison (groups
never at risk at an event time left out, as the log-rank test leaves them, with (groups
kept - 1) degrees of freedom); on each pair of groups alone, as R's ``coxph`` on the
pair's subset, the pairwise tests (Holm's adjustment is :func:`.logrank.holm`, as for the
log-rank pairs); on the ordered score 1..k as one numeric covariate (R's ``coxph(Surv(t,
e) ~ score, cluster = patient_id)``), the test for trend. The results are the log-rank
test's types with ``test`` = ``robust_score``.
"""

from __future__ import annotations

import numpy as np

from analytics.stats.engine.counts import Clusters, Counts, Grid, Layout, layout
from analytics.stats.engine.cox import score_and_variance
from analytics.stats.engine.logrank import LogRank, PairTest, Trend
from analytics.stats.engine.normal import chi_square_p

ROBUST_SCORE = "robust_score"


def robust_score(counts: Counts, clusters: Clusters | Layout) -> LogRank | None:
    """The robust score test across the levels of ``counts``; None with fewer than two
    groups at risk at an event time, or when the robust variance of the score is 0 (each
    patient's limbs cancel).

    ``clusters`` lists the limbs of patients with two or more limbs in ``counts`` (their
    groups indexing the same levels), or is those limbs laid out with ``counts``
    (:func:`~.counts.layout`, shared with the hazard ratios).

    Example: ``retinopathy`` by treated eye, 197 patients with two eyes: 26.341 on 1 df,
    as R's ``summary(coxph(Surv(futime, status) ~ trt, cluster = id))$robscore``.
    """
    laid = layout(counts, clusters)
    kept = _at_risk_at_an_event(laid.grid, list(range(len(counts.levels))))
    if len(kept) < 2:
        return None
    statistic = _statistic(laid, kept, _indicators(len(kept)))
    if np.isnan(statistic):
        return None
    df = len(kept) - 1
    return LogRank(statistic=statistic, df=df, p=chi_square_p(statistic, df), test=ROBUST_SCORE)


def robust_score_pairwise(counts: Counts, clusters: Clusters | Layout) -> tuple[PairTest, ...]:
    """The robust score test of every pair of levels on those two groups' limbs alone, in
    :func:`.logrank.pairwise`'s order; NaN where the pair cannot be compared (one of the
    two never at risk at an event time of the pair, or no event in either)."""
    laid, tests, nan = layout(counts, clusters), [], float("nan")
    for i, level in enumerate(counts.levels):
        for j in range(i + 1, len(counts.levels)):
            statistic = p = nan
            if len(_at_risk_at_an_event(laid.grid, [i, j])) == 2:
                statistic = _statistic(laid, [i, j], _indicators(2))
                p = chi_square_p(statistic, 1)
            tests.append(PairTest(level, counts.levels[j], statistic, p, test=ROBUST_SCORE))
    return tuple(tests)


def robust_score_trend(counts: Counts, clusters: Clusters | Layout) -> Trend | None:
    """The robust score test of the ordered score 1..k (display order) as one covariate;
    None with fewer than two levels, no event where two groups are at risk, or a robust
    variance of the score of 0."""
    laid, every = layout(counts, clusters), list(range(len(counts.levels)))
    if len(_at_risk_at_an_event(laid.grid, every)) < 2:
        return None
    score = np.arange(1.0, len(every) + 1)[:, None]
    statistic = _statistic(laid, every, score)
    if np.isnan(statistic):
        return None
    return Trend(statistic, chi_square_p(statistic, 1), test=ROBUST_SCORE)


def _indicators(groups: int) -> np.ndarray:
    """One column per group after the first, 1 in its row: the factor's design."""
    return np.vstack([np.zeros(groups - 1), np.eye(groups - 1)])


def _statistic(laid: Layout, keep: list[int], design: np.ndarray) -> float:
    """U' B^- U at coefficients 0 for the groups ``keep`` with covariates ``design``; NaN
    when B is 0 (no limb's residual moves: no event where two of the groups are at risk)."""
    sums = score_and_variance(laid, keep, design, np.zeros(design.shape[1]))
    if not np.abs(sums.variance).max() > 0:
        return float("nan")
    return float(sums.score @ np.linalg.pinv(sums.variance) @ sums.score)


def _at_risk_at_an_event(g: Grid, groups: list[int]) -> list[int]:
    """The ``groups`` with a limb at risk at an event time of those groups."""
    event_times = g.events[groups].sum(axis=0) > 0
    return [group for group in groups if g.at_risk[group, event_times].sum() > 0]
