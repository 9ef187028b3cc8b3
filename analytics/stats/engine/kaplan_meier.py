"""Kaplan-Meier from the events and censorings of one group per distinct time.

Conventions (R's ``survfit(conf.type = "log-log")``, SAS, lifelines' defaults):
Greenwood's variance; ``se`` is the standard error of the survival estimate itself
(R's ``std.err`` in ``summary``); the 95% CI is built on the log(-log) scale and is
undefined (NaN) where the estimate is 0 or 1, as R gives NA there. The number at risk
at time t counts patients with time >= t (R's ``n.risk``).

Limbs clustered in patients (:class:`~.counts.Clusters`): the variance is R's
``survfit(..., cluster = patient_id)``, the infinitesimal jackknife summed per patient.
A limb with time T and event e moves log S(t) by f(t) = A(t) for t < T and by
A(T) - e / (n_T - d_T) from T on, where A(t) is the running sum of d / (n (n - d)) (so the
limbs' own squares add up to Greenwood's sum, the cross terms over times cancelling);
the clustered variance of log S(t) is Greenwood's plus twice the sum over every two
limbs of one patient of f_a(t) f_b(t). Those products are piecewise (A^2 before the
earlier limb's time, A times the earlier limb's constant until the later one's, then
the product of the constants), so all pairs at all times cost a sort and a few running
sums (:func:`paired_products`). Without any two limbs of one patient it is Greenwood's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.stats.engine.counts import (
    UNCOUNTED_LIMB,
    Clusters,
    Counts,
    Layout,
    Located,
    located,
)
from analytics.stats.engine.normal import Z_95


@dataclass(frozen=True, eq=False)
class Curve:
    """The step curve at each distinct time of one group (arrays of equal length).

    ``estimate[i]`` is S(t) just after ``time[i]``; ``at_risk[i]`` the patients with
    time >= ``time[i]``; ``events[i]`` and ``censored[i]`` those ending at ``time[i]``.
    """

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray

    @property
    def patients(self) -> int:
        return int(self.at_risk[0]) if self.time.size else 0

    @property
    def last_time(self) -> float:
        """The last time anyone in the group was followed (NaN for an empty group)."""
        return float(self.time[-1]) if self.time.size else float("nan")


@dataclass(frozen=True, eq=False)
class AtMonths:
    """The curve read at chosen months, with the KMunicate numbers at each.

    At month m: ``estimate``, ``se`` and the CI of the step in force at m (1, 0 and
    no CI before the first time; NaN after the last follow-up unless the curve has
    reached 0); ``at_risk`` = patients with time >= m; ``events`` and ``censored`` =
    patients whose event or censoring came strictly before m, so the three add up to
    the group's patients (KMunicate's rule).
    """

    month: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray


def kaplan_meier(counts: Counts, clusters: Clusters | Located | None = None) -> Curve:
    """The Kaplan-Meier curve of a one-level ``counts`` (rows sorted by time).

    ``clusters``, the limbs of this level whose patient has another limb in it (from
    :meth:`Clusters.of`, or those limbs :func:`~.counts.located` on ``counts.time``),
    gives the SE and CI clustered by patient; without it, or without two limbs of one
    patient, they are Greenwood's.

    Example: the 6-MP arm of Freireich's leukaemia trial gives S = 0.857 at 6 weeks
    (21 at risk, 3 events), SE 0.0764, 95% CI 0.620-0.952, as R's survfit.
    """
    events = counts.events.astype(float)
    leaving = events + counts.censored
    at_risk = np.cumsum(leaving[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.cumprod(1 - events / at_risk)
        log_variance = np.cumsum(events / (at_risk * (at_risk - events)))  # Greenwood's
        if clusters is not None:
            log_variance = np.maximum(log_variance + 2 * _paired(counts, clusters, at_risk), 0)
    se, lower, upper = _band(estimate, log_variance)
    return Curve(
        time=counts.time.astype(float),
        at_risk=at_risk.astype(int),
        events=counts.events.astype(int),
        censored=counts.censored.astype(int),
        estimate=estimate,
        se=se,
        ci_lower=lower,
        ci_upper=upper,
    )


def _band(
    estimate: np.ndarray, log_variance: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The SE of the estimate and its log(-log) 95% CI from the variance of log S (0 where
    S is 1; no CI where S is 0 or 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        se = estimate * np.sqrt(log_variance)
        spread = Z_95 * np.sqrt(log_variance) / np.abs(np.log(estimate))
        lower = estimate ** np.exp(spread)
        upper = estimate ** np.exp(-spread)
    undefined = (estimate <= 0) | (estimate >= 1)
    return (
        np.where(estimate >= 1, 0.0, se),
        np.where(undefined, np.nan, lower),
        np.where(undefined, np.nan, upper),
    )


def level_at_months(laid: Layout, level: str, months: Sequence[float]) -> AtMonths:
    """One level of a layout read at ``months``, clustered by patient: what
    ``at_months(kaplan_meier(*laid.of(level)), months)`` gives, without the level's
    curve at every time: its products and sums stop at the last month read.

    Read on the layout's grid (the times of every level): where the level has no row its
    estimate is multiplied by 1 and its variances added 0, so the grid's row up to the
    level's last time is its curve with steps repeated. At each month's step the clustered
    term is summed over the level's pairs directly, each limb's influence there being A
    before its own time and its constant from it on (module docstring); the limbs keep
    their columns of the grid, none renumbered within the level.
    """
    month = np.asarray(months, dtype=float)
    g, group = laid.grid, laid.counts.levels.index(level)
    end = int(np.count_nonzero(g.at_risk[group]))  # the level's last time and those before
    if not end:
        nan, zero = np.full(month.size, np.nan), np.zeros(month.size, dtype=int)
        return AtMonths(month, nan, nan, nan, nan, zero, zero, zero)
    times = g.times[:end]
    step = np.searchsorted(times, month, side="right") - 1
    column = np.maximum(step, 0)
    cut = int(column.max(initial=0)) + 1  # to the last month read: later times move nothing
    events, at_risk = g.events[group, :cut].astype(float), g.at_risk[group, :cut].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.cumprod(1 - events / at_risk)
        greenwood = np.cumsum(events / (at_risk * (at_risk - events)))
    log_variance = np.take(greenwood, column)
    first, second = laid.pairs_within(level)
    if first.size:
        rows = np.concatenate([first, second])
        index = np.take(laid.limbs.index, rows)
        constant, running = _influence(  # a limb after the cut is read only before its time
            events, at_risk, np.minimum(index, cut - 1), np.take(laid.limbs.clusters.event, rows)
        )
        for i, at in enumerate(column):
            u = np.where(index > at, running[at], constant)
            paired = float(np.sum(u[: first.size] * u[first.size :]))  # not BLAS: its threads
            log_variance[i] = max(log_variance[i] + 2 * paired, 0)
    se, lower, upper = _band(np.take(estimate, column), log_variance)
    before_first = step < 0
    reached = np.where(before_first, 1.0, np.take(estimate, column))
    se = np.where(before_first, 0.0, se)
    lower, upper = (np.where(before_first, np.nan, v) for v in (lower, upper))
    beyond = ~(month <= times[-1]) & ~(reached <= 0)
    reached, se, lower, upper = (np.where(beyond, np.nan, v) for v in (reached, se, lower, upper))
    earlier = np.searchsorted(times, month, side="left")  # the times before each month
    events_before = np.concatenate([[0], np.cumsum(events)])[earlier].astype(int)
    still = np.append(g.at_risk[group, :end], 0)[earlier].astype(int)
    return AtMonths(
        month=month,
        estimate=reached,
        se=se,
        ci_lower=lower,
        ci_upper=upper,
        at_risk=still,
        events=events_before,
        censored=int(at_risk[0]) - still - events_before,
    )


def limb_influence(
    events: np.ndarray, at_risk: np.ndarray, limbs: Located
) -> tuple[np.ndarray, np.ndarray]:
    """How each limb of ``limbs`` (located on a curve's times) moves log S.

    ``events`` and ``at_risk`` are the curve's, per distinct time. Returns each limb's
    constant A(T) - e / (n_T - d_T) from its time on, and A at every time of the curve
    (module docstring). The last time's
    1 / (n - d) is taken as 0 where everyone left dies (S is 0 from there, and its
    variance Greenwood's infinite sum).
    """
    return _influence(events, at_risk, limbs.index, limbs.clusters.event)


def _influence(
    events: np.ndarray, at_risk: np.ndarray, index: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`limb_influence` of limbs at ``index`` with ``event`` (1 or 0)."""
    survivors = at_risk - events
    with np.errstate(divide="ignore", invalid="ignore"):
        running = np.cumsum(np.where(survivors > 0, events / (at_risk * survivors), 0.0))
        jump = np.where(survivors > 0, 1 / survivors, 0.0)
    return np.take(running, index) - event * np.take(jump, index), running


def _paired(counts: Counts, clusters: Clusters | Located, at_risk: np.ndarray) -> np.ndarray:
    """The sum over every two limbs of one patient of f_a(t) f_b(t), at each time."""
    limbs = located(counts.time, clusters)
    if limbs.clusters.levels != counts.levels:
        raise ValueError(UNCOUNTED_LIMB)
    if not limbs.first.size:
        return np.zeros(counts.time.size)
    constant, running = limb_influence(counts.events.astype(float), at_risk, limbs)
    return paired_products(running, limbs.index, constant, limbs.first, limbs.second)


def paired_products(
    before: np.ndarray,
    index: np.ndarray,
    start: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    slope: np.ndarray | None = None,
    level: np.ndarray | None = None,
) -> np.ndarray:
    """The sum over the pairs (``first``, ``second``) of u_first(t) u_second(t) at each time.

    A limb's u is ``before`` at the times ahead of its own (``index``) and from it on
    ``start`` + ``slope`` ``level``(t) (``slope`` None: the constant ``start``). The
    products are piecewise: before squared ahead of the earlier limb, ``before`` times the
    earlier limb's u until the later one's time, then the product of the two; so the sums
    over pairs at every time are running sums, without a loop over pairs.
    """
    earlier = index[first] <= index[second]
    low, high = np.where(earlier, first, second), np.where(earlier, second, first)
    lo, hi = index[low], index[high]
    size = before.size

    def by_time(at: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.cumsum(np.bincount(at, weights, minlength=size))

    def between(weights: np.ndarray) -> np.ndarray:
        return by_time(lo, weights) - by_time(hi, weights)

    not_yet = first.size - by_time(lo)
    total = before**2 * not_yet + before * between(start[low])
    total += by_time(hi, start[low] * start[high])
    if slope is not None:
        total += before * level * between(slope[low])
        total += level * by_time(hi, start[low] * slope[high] + start[high] * slope[low])
        total += level**2 * by_time(hi, slope[low] * slope[high])
    return total


def at_months(curve: Curve, months: Sequence[float]) -> AtMonths:
    """The curve and its KMunicate table at each of ``months``."""
    month = np.asarray(months, dtype=float)
    step = np.searchsorted(curve.time, month, side="right") - 1
    before_first = step < 0
    index = np.maximum(step, 0)

    def read(values: np.ndarray, start: float) -> np.ndarray:
        if not curve.time.size:
            return np.full(month.size, np.nan)
        return np.where(before_first, start, values[index])

    estimate = read(curve.estimate, 1.0)
    se = read(curve.se, 0.0)
    lower, upper = read(curve.ci_lower, np.nan), read(curve.ci_upper, np.nan)
    beyond = ~(month <= curve.last_time) & ~(estimate <= 0)
    estimate, se, lower, upper = (
        np.where(beyond, np.nan, values) for values in (estimate, se, lower, upper)
    )
    before = np.searchsorted(curve.time, month, side="left")
    events_before = np.concatenate([[0], np.cumsum(curve.events)])[before]
    censored_before = np.concatenate([[0], np.cumsum(curve.censored)])[before]
    return AtMonths(
        month=month,
        estimate=estimate,
        se=se,
        ci_lower=lower,
        ci_upper=upper,
        at_risk=curve.patients - events_before - censored_before,
        events=events_before,
        censored=censored_before,
    )
