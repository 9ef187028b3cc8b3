"""Cumulative incidence of an endpoint with a competing event (Aalen-Johansen), from counts.

Each patient's follow-up ends in one of three ways: the endpoint (``events``), the
competing event, death (``competing``), or a last contact (``censored`` minus
``competing``). With n at risk (time >= t, R's ``n.risk``), d endpoints and c deaths at
a distinct time t, and S(t-) the Kaplan-Meier estimate of being free of both just before
t, the cumulative incidence is F(t) = sum over times <= t of S(t-) d / n. It equals R's
multi-state ``survfit(Surv(time, state) ~ 1)`` ``pstate`` of the endpoint state, and is
computed from the counts, so tied times need no jitter (lifelines' fitter breaks ties at
random). An endpoint and a death in the same month of one patient count as the endpoint:
that is how the counts are made (analytics/stats/survival.py).

The 95% CI is on the log(-log) scale of F with the delta-method variance (Collett,
Modelling Survival Data, 3rd ed., p. 411; SAS ``PROC LIFETEST``; lifelines'
``AalenJohansenFitter``), so it lies inside [0, 1] and contains the estimate; it is NaN
where F is 0 or 1. R's ``std.err`` for ``pstate``, the infinitesimal jackknife, is the
same variance written another way (equal to rounding; tests/unit/test_engine_clustered.py).

Limbs clustered in patients (:class:`~.counts.Clusters`): the variance is the
infinitesimal jackknife summed per patient, R's ``residuals(survfit(Surv(t, state) ~ 1),
times, type = "pstate")`` summed per patient (survival 3.5.3's multi-state ``survfit``
ignores ``cluster`` in its ``std.err``); with no two limbs of one patient it is R's
``std.err``, the delta method above. A limb ending at T moves F(t) by P(t) for t < T
and by a + c F(t) from T on, where P is a running sum over the times of the curve and a,
c depend on T and how the limb ended; the limbs' own squares come from the counts per
(time, ending) and each two limbs of one patient add twice their product, piecewise in
t as for :mod:`.kaplan_meier`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.stats.engine.counts import UNCOUNTED_LIMB, Clusters, Counts, Located, located
from analytics.stats.engine.kaplan_meier import paired_products
from analytics.stats.engine.normal import Z_95


@dataclass(frozen=True, eq=False)
class Incidence:
    """The cumulative incidence just after each distinct time of one group.

    Arrays of equal length: ``time``; ``estimate`` F(t); ``se`` its delta-method SE (or,
    limbs clustered in patients, the jackknife clustered by patient);
    ``ci_lower``, ``ci_upper`` the log(-log) 95% CI; ``free`` the Kaplan-Meier estimate of
    being free of the endpoint and of death (the curve 1 - F - F_death stands on);
    ``competing`` the deaths at each time (the counts', which F and 1 - Kaplan-Meier part
    on: a count privacy must see, analytics.views.COMPETING).
    """

    time: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    free: np.ndarray
    competing: np.ndarray


@dataclass(frozen=True, eq=False)
class IncidenceAtMonths:
    """The incidence read at chosen months: 0 before the first time, NaN after the last
    follow-up unless everyone has had the endpoint or died by then."""

    month: np.ndarray
    estimate: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray


def cumulative_incidence(counts: Counts, clusters: Clusters | Located | None = None) -> Incidence:
    """The Aalen-Johansen cumulative incidence of a one-level ``counts`` (sorted by time).

    ``counts.competing`` must be counted. ``clusters``, this level's limbs whose patient
    has another limb in it (:meth:`Clusters.of`, ``competing`` listed; or those limbs
    :func:`~.counts.located` on ``counts.time``), gives the SE and CI clustered by patient.
    Example: ``lung``, deaths of men as the endpoint and deaths of women competing:
    F(365 days) = 0.40946, as R's ``pstate``.
    """
    if counts.competing is None:
        raise ValueError("the cumulative incidence needs the competing events counted")
    events = counts.events.astype(float)
    leaving = events + counts.censored
    at_risk = np.cumsum(leaving[::-1])[::-1]
    removed = events + counts.competing  # the endpoint or death: either ends being free
    free = np.cumprod(1 - removed / at_risk)
    free_before = np.concatenate([[1.0], free[:-1]])
    estimate = np.cumsum(free_before * events / at_risk)
    if clusters is None:
        variance = _variance(estimate, free_before, events, removed, at_risk)
    else:
        variance = _clustered_variance(counts, clusters, estimate, free_before, at_risk)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_f = np.log(estimate)
        spread = Z_95 * np.sqrt(variance) / (estimate * np.abs(log_f))
        lower = np.exp(-np.exp(np.log(-log_f) + spread))
        upper = np.exp(-np.exp(np.log(-log_f) - spread))
    undefined = (estimate <= 0) | (estimate >= 1)
    return Incidence(
        time=counts.time.astype(float),
        estimate=estimate,
        se=np.sqrt(variance),
        ci_lower=np.where(undefined, np.nan, lower),
        ci_upper=np.where(undefined, np.nan, upper),
        free=free,
        competing=np.asarray(counts.competing, dtype=int),
    )


def _variance(
    estimate: np.ndarray,
    free_before: np.ndarray,
    events: np.ndarray,
    removed: np.ndarray,
    at_risk: np.ndarray,
) -> np.ndarray:
    """Collett's delta-method variance of F at each time, as running sums.

    Var F(t) = sum_i (F(t) - F_i)^2 r_i / (n_i (n_i - r_i)) + sum_i S_i-^2 d_i (n_i - d_i) / n_i^3
    - 2 sum_i (F(t) - F_i) S_i- d_i / n_i^2 over times i <= t (r: endpoints and deaths);
    the squares are expanded so that each sum is a cumulative sum. Where n_i = r_i
    nobody is left after t_i and the first term (F(t) - F_i = 0 there) is 0.
    """
    survivors = at_risk - removed
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.where(survivors > 0, removed / (at_risk * survivors), 0.0)
    own = np.cumsum(free_before**2 * events * (at_risk - events) / at_risk**3)
    cross = free_before * events / at_risk**2
    first = (
        estimate**2 * np.cumsum(greenwood)
        - 2 * estimate * np.cumsum(greenwood * estimate)
        + np.cumsum(greenwood * estimate**2)
    )
    third = estimate * np.cumsum(cross) - np.cumsum(cross * estimate)
    return np.maximum(first + own - 2 * third, 0.0)


def _clustered_variance(
    counts: Counts,
    clusters: Clusters | Located,
    estimate: np.ndarray,
    free_before: np.ndarray,
    at_risk: np.ndarray,
) -> np.ndarray:
    """The jackknife variance of F at each time, summed per patient (module docstring).

    With B the running sum of r / (n (n - r)) (r endpoints and deaths, 0 where n = r) and
    B- its value at the time before, P(t) = sum over times <= t of S- d / n (B-) - S- d / n^2.
    A limb ending at T has c = B(T) - 1 / (n_T - r_T) if it ended with the endpoint or
    death, B(T) if censored, and a = P(T) + S-(T) / n_T (endpoint only) - c F(T).
    """
    limbs = clusters.clusters if isinstance(clusters, Located) else clusters
    if limbs.competing is None:
        raise ValueError("the clustered cumulative incidence needs the limbs' competing events")
    if limbs.levels != counts.levels:
        raise ValueError(UNCOUNTED_LIMB)
    events, competing = counts.events.astype(float), counts.competing.astype(float)
    removed = events + competing
    survivors = at_risk - removed
    with np.errstate(divide="ignore", invalid="ignore"):
        running = np.cumsum(np.where(survivors > 0, removed / (at_risk * survivors), 0.0))
        jump = np.where(survivors > 0, 1 / survivors, 0.0)
    running_before = np.concatenate([[0.0], running[:-1]])
    moved = np.cumsum(free_before * events / at_risk * (running_before - 1 / at_risk))
    ended = running - jump  # c of a limb ending with the endpoint or death
    own_jump = free_before / at_risk  # the endpoint's own step in F

    def start(c: np.ndarray, at: np.ndarray, endpoint: np.ndarray) -> np.ndarray:
        return moved[at] + endpoint * own_jump[at] - c * estimate[at]

    every, yes, no = np.arange(at_risk.size), np.ones(at_risk.size), np.zeros(at_risk.size)
    endings = (  # limbs, c and a of the endpoint, death and censoring at each time
        (events, ended, start(ended, every, yes)),
        (competing, ended, start(ended, every, no)),
        (counts.censored - competing, running, start(running, every, no)),
    )
    square = sum(np.cumsum(w * a * a) for w, _, a in endings)
    product = sum(np.cumsum(w * a * c) for w, c, a in endings)
    c_square = sum(np.cumsum(w * c * c) for w, c, _ in endings)
    still = at_risk - events - counts.censored
    own = moved**2 * still + square + 2 * estimate * product + estimate**2 * c_square
    placed = located(counts.time, clusters)
    if not placed.first.size:
        return np.maximum(own, 0.0)
    index = placed.index
    gone = (limbs.event == 1) | (limbs.competing == 1)
    c = np.where(gone, ended[index], running[index])
    a = start(c, index, (limbs.event == 1).astype(float))
    paired = paired_products(moved, index, a, placed.first, placed.second, slope=c, level=estimate)
    return np.maximum(own + 2 * paired, 0.0)


def incidence_at(incidence: Incidence, months: Sequence[float]) -> IncidenceAtMonths:
    """The incidence and its CI in force at each of ``months``."""
    month = np.asarray(months, dtype=float)
    if not incidence.time.size:
        nan = np.full(month.size, np.nan)
        return IncidenceAtMonths(month, nan, nan, nan)
    step = np.searchsorted(incidence.time, month, side="right") - 1
    index = np.maximum(step, 0)
    before_first = step < 0
    beyond = (month > incidence.time[-1]) & (incidence.free[-1] > 0)

    def read(values: np.ndarray, start: float) -> np.ndarray:
        return np.where(beyond, np.nan, np.where(before_first, start, values[index]))

    return IncidenceAtMonths(
        month=month,
        estimate=read(incidence.estimate, 0.0),
        ci_lower=read(incidence.ci_lower, np.nan),
        ci_upper=read(incidence.ci_upper, np.nan),
    )
