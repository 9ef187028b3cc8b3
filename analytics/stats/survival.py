"""Survival of a filtered cohort: (group, time) counts from tallies, estimates from the engine.

Each endpoint's times in the patient summary (analytics.cohort.summary) are tallied to
events and censorings per (group, months) over the rows the filter selects
(analytics.cohort.tallies: the file's times coded once, a filter's counts a bincount);
the counts engine (analytics.stats.engine) estimates from those counts. So the
estimates' work follows distinct times, not patients.

Conventions are the engine's: Kaplan-Meier with Greenwood's SE and the log(-log) 95% CI
(R's ``conf.type = "log-log"``), the KMunicate table (at risk at month m: time >= m;
events and censored: before m), log-rank across groups, Cox hazard ratios against the
first level in display order with Efron ties counted over patients (none, "too few
events", where the group or its reference has fewer than rules.MIN_EVENTS_FOR_HR); the
median and restricted mean by R's ``survfit`` rules; the cumulative incidence with death competing
(Aalen-Johansen). A censored patient who died (``n_death > 0``: death ends follow-up,
and an endpoint in the month of death is an event, data/schema.sql) is the competing
event; the counts carry them as ``Counts.competing``.

With more than two groups each pair is tested on its own (Holm-adjusted p, the engine's);
an ordered split (an ordered grouping of the filter's variables) gets the log-rank test
for trend. The
hazard ratios and restricted-mean differences are against a reference group, the first
level unless another is asked for. A landmark at month L is the same estimates from the
same counts, kept where time > L and shifted by L.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import duckdb
import numpy as np
import pandas as pd

from analytics.cohort.summary import endpoint_columns
from analytics.cohort.tallies import tally
from analytics.filters import CohortFilter, cohort_sql, cohort_where, has_bilateral
from analytics.glossary import ALL_PATIENTS, PATENCY_ENDPOINTS, TOO_FEW_EVENTS_REASON
from analytics.groups import decode, grouping, order_levels
from analytics.rules import MIN_EVENTS_FOR_HR, MONTHS_PER_YEAR, RISK_TABLE_MONTHS, RMST_HORIZON
from analytics.stats.engine.aalen_johansen import (
    Incidence,
    IncidenceAtMonths,
    cumulative_incidence,
    incidence_at,
)
from analytics.stats.engine.counts import (
    Clusters,
    Counts,
    Layout,
    Located,
    layout,
    located,
    pairs_of,
)
from analytics.stats.engine.cox import HazardRatio, hazard_ratios
from analytics.stats.engine.kaplan_meier import AtMonths, Curve, at_months, kaplan_meier
from analytics.stats.engine.logrank import (
    LogRank,
    PairTest,
    Trend,
    holm,
    logrank,
    pairwise,
    trend,
)
from analytics.stats.engine.median import Median, median_time
from analytics.stats.engine.restricted_mean import (
    RestrictedMean,
    RestrictedMeanDifference,
    restricted_mean,
    restricted_mean_covariance,
    restricted_mean_difference,
)
from analytics.stats.engine.robust_score import (
    robust_score,
    robust_score_pairwise,
    robust_score_trend,
)
from analytics.variables import BUILTIN, Registry


@dataclass(frozen=True, eq=False)
class GroupSurvival:
    """One curve: the whole cohort (level ``all``) or one group of a split.

    ``risk`` is the KMunicate table at the risk-table months; ``estimates`` the curve
    and the same numbers at the months asked for; ``median`` summarises the curve. The
    restricted mean (``rmst``, up to ``horizon``) and the cumulative incidence of the
    endpoint with death competing (``incidence``, read at the estimates' months in
    ``incidence_at``) are computed from ``counts`` and ``limbs`` when first read, once:
    the Overview and Tables show neither, and on a million limbs with bilateral patients
    their clustered variances were about a sixth of those pages' patency.
    """

    level: str
    curve: Curve
    risk: AtMonths
    estimates: AtMonths
    median: Median
    counts: Counts  # the curve's one-level counts, which rmst and incidence read
    horizon: float = RMST_HORIZON
    limbs: Located | None = None  # the curve's limbs of patients with two, when clustered

    @property
    def patients(self) -> int:
        return self.curve.patients

    @property
    def events(self) -> int:
        return int(self.curve.events.sum())

    @cached_property
    def rmst(self) -> RestrictedMean:
        return restricted_mean(self.curve, self.horizon, self.limbs)

    @cached_property
    def incidence(self) -> Incidence:
        return cumulative_incidence(self.counts, self.limbs)

    @cached_property
    def incidence_at(self) -> IncidenceAtMonths:
        return incidence_at(self.incidence, self.estimates.month)


@dataclass(frozen=True)
class Pair:
    """The log-rank test of ``group`` against ``other`` alone, its p and Holm-adjusted p
    (NaN where the pair cannot be compared)."""

    group: str
    other: str
    p: float
    p_holm: float


@dataclass(frozen=True)
class Comparison:
    """The groups of one split compared: log-rank across them, each HR against the reference.

    ``logrank`` is None when fewer than two groups could be compared; ``reference`` is
    the level the hazard ratios and ``rmst_differences`` (each other group's restricted
    mean minus the reference's) are against, the first level unless chosen. With more
    than two levels, ``pairwise`` tests every pair; for an ordered split ``trend`` is the
    log-rank test for trend (None when it cannot be computed).
    """

    by: str
    levels: tuple[str, ...]
    logrank: LogRank | None
    hazard_ratios: tuple[HazardRatio, ...]
    rmst_differences: tuple[RestrictedMeanDifference, ...] = ()
    reference: str | None = None
    pairwise: tuple[Pair, ...] = ()
    trend: Trend | None = None
    ordered: bool = False  # the split's levels have an order, so the test for trend applies


@dataclass(frozen=True, eq=False)
class EndpointSurvival:
    """One endpoint of the filtered cohort: overall, and by the groups of ``by`` if given;
    ``landmark``, when asked for, the same from a landmark month on."""

    endpoint: str
    overall: GroupSurvival
    by: str | None = None
    groups: tuple[GroupSurvival, ...] = ()
    comparison: Comparison | None = None
    landmark: Landmark | None = None


@dataclass(frozen=True, eq=False)
class Landmark:
    """The endpoint from ``month`` on: ``survival`` is estimated over the patients whose
    time exceeds ``month``, time counted from ``month``."""

    month: float
    survival: EndpointSurvival


@dataclass(frozen=True)
class SurvivalRequest:
    """The options of one survival computation, as tuples so that it hashes (a cache key).

    ``endpoints`` are estimated at ``months``; with ``by``, compared across its groups
    against ``reference`` (None: the first level); each curve's restricted mean runs to
    ``horizon`` months; the KMunicate tables are at ``risk_months``, extended to the
    curves' end (covering_months); ``landmark`` (months) adds each endpoint's estimates
    from that month on, from the same counts.
    """

    endpoints: tuple[str, ...]
    months: tuple[float, ...]
    by: str | None = None
    horizon: float = RMST_HORIZON
    risk_months: tuple[float, ...] = RISK_TABLE_MONTHS
    reference: str | None = None
    landmark: float | None = None


def survival(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoints: Sequence[str],
    months: Sequence[float],
    by: str | None = None,
) -> dict[str, EndpointSurvival]:
    """survival_of with the default options beyond ``by`` (the form tests call)."""
    return survival_of(con, cohort_filter, SurvivalRequest(tuple(endpoints), tuple(months), by))


def survival_of(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, request: SurvivalRequest
) -> dict[str, EndpointSurvival]:
    """Each endpoint's curves, estimates at the months asked for and, with ``by``, the
    comparison (SurvivalRequest); the KMunicate tables' months can be read back with
    table_months."""
    clustered = has_bilateral(con)
    counts = endpoint_counts(con, cohort_filter, request.endpoints, request.by, clustered)
    limbs = endpoint_clusters(con, cohort_filter, counts, request.by) if clustered else {}
    last = max((float(o.time.max()) for o, _ in counts.values() if o.time.size), default=0.0)
    request = replace(request, risk_months=covering_months(request.risk_months, last))
    return {
        endpoint: endpoint_estimates(
            endpoint,
            overall,
            split,
            request,
            cohort_filter.variables,
            limbs.get(endpoint, (None, None)),
        )
        for endpoint, (overall, split) in counts.items()
    }


def covering_months(risk_months: Sequence[float], last: float) -> tuple[float, ...]:
    """The risk-table months, sorted, then each whole year after the last one asked for
    until one reaches the last follow-up ``last``: the KMunicate table and the time axis's
    ticks (drawn at these months) then reach as far as the curves do (a registry followed
    to 60 months gets 48 and 60 after 0-36, not a curve running 24 months past its last
    column). The year that first passes ``last`` shows nobody at risk, as a KMunicate
    table does where the curves end.

    Example: (0, 6, 12, 24, 36) with follow-up to 60 gives (0, 6, 12, 24, 36, 48, 60);
    (0, 18, 30) with follow-up to 45.5 gives (0, 18, 30, 36, 48).
    """
    months = sorted({float(m) for m in risk_months})
    if not months:
        return ()
    year = (months[-1] // MONTHS_PER_YEAR + 1) * MONTHS_PER_YEAR
    while months[-1] < last:
        months.append(year)
        year += MONTHS_PER_YEAR
    return tuple(months)


def table_months(fits: Mapping[str, EndpointSurvival]) -> tuple[float, ...]:
    """The months of the KMunicate tables of ``fits`` (survival's), one set for all."""
    first = next(iter(fits.values()), None)
    return () if first is None else tuple(float(m) for m in first.overall.risk.month)


def endpoint_survival(
    endpoint: str, overall: Counts, split: Counts | None, months: Sequence[float]
) -> EndpointSurvival:
    """endpoint_estimates of ``endpoint`` alone at ``months``, overall (the form tests call)."""
    return endpoint_estimates(endpoint, overall, split, SurvivalRequest((endpoint,), tuple(months)))


def endpoint_estimates(
    endpoint: str,
    overall: Counts,
    split: Counts | None,
    request: SurvivalRequest,
    variables: Registry = BUILTIN,
    clusters: tuple[Clusters | None, Clusters | None] = (None, None),
) -> EndpointSurvival:
    """The estimates of one endpoint from its counts (``split``: by the groups of
    ``request.by``, a grouping of ``variables``), with its landmark estimates when the
    request has a landmark. ``clusters``: the overall and split limbs of patients with two
    limbs (endpoint_clusters), in a cohort whose limb-level estimates are clustered.

    A ``reference`` that is not a level of ``split`` is an error naming the levels.
    """
    ordered = request.by in variables.ordered_groupings()
    result = _estimates(endpoint, overall, split, request, ordered, clusters)
    landmark = request.landmark
    if landmark is None:
        return result
    shifted = None if split is None else landmark_counts(split, landmark)
    later = _estimates(
        endpoint, landmark_counts(overall, landmark), shifted, request, ordered,
        tuple(None if c is None else landmark_clusters(c, landmark) for c in clusters),
    )  # fmt: skip
    return replace(result, landmark=Landmark(float(landmark), later))


def _estimates(
    endpoint: str,
    overall: Counts,
    split: Counts | None,
    request: SurvivalRequest,
    ordered: bool,
    clusters: tuple[Clusters | None, Clusters | None],
) -> EndpointSurvival:
    by, reference = request.by, request.reference
    whole_limbs, split_limbs = clusters
    if split is not None and by is not None:
        _reference(split.levels, by, reference)  # before any fit: an unknown one is an error
    whole = group_survival(
        overall.of(ALL_PATIENTS), request.months, request.horizon, request.risk_months,
        None if whole_limbs is None else whole_limbs.of(ALL_PATIENTS),
    )  # fmt: skip
    if split is None or by is None:
        return EndpointSurvival(endpoint, whole)
    if not split.levels:  # no limb of the view has the grouping recorded: no group to compare
        return EndpointSurvival(endpoint, whole, by, (), Comparison(by, (), None, ()))
    laid = None if split_limbs is None else layout(split, split_limbs)
    groups = tuple(_level_survival(split, level, request, laid) for level in split.levels)
    if not ordered:
        ordered_test = None
    elif laid is None:
        ordered_test = trend(split)
    else:
        ordered_test = robust_score_trend(split, laid)
    comparison = replace(
        compare(split, by, reference, laid),
        rmst_differences=rmst_differences(groups, reference),
        pairwise=pairwise_tests(split, laid),
        trend=ordered_test,
        ordered=ordered,
    )
    return EndpointSurvival(endpoint, whole, by, groups, comparison)


def _level_survival(
    split: Counts, level: str, request: SurvivalRequest, laid: Layout | None
) -> GroupSurvival:
    """One level's curve and summaries, its limbs (if any) taken from the split's layout."""
    counts, limbs = (split.of(level), None) if laid is None else laid.of(level)
    return group_survival(counts, request.months, request.horizon, request.risk_months, limbs)


def group_survival(
    counts: Counts,
    months: Sequence[float],
    horizon: float = RMST_HORIZON,
    risk_months: Sequence[float] = RISK_TABLE_MONTHS,
    limbs: Clusters | Located | None = None,
) -> GroupSurvival:
    """Curve, KMunicate table (at ``risk_months``), estimates and summaries of a one-level
    ``counts``; with ``limbs`` (the limbs of patients with two in the curve), the variance
    clustered by patient (R's ``survfit(..., cluster = patient_id)``), the limbs located on
    the curve's times once (or already located there: :meth:`~.engine.counts.Layout.of`)
    for the curve, its incidence and restricted mean (computed when first read,
    GroupSurvival)."""
    placed = None if limbs is None else located(counts.time, limbs)
    curve = kaplan_meier(counts, placed)
    return GroupSurvival(
        level=counts.levels[0],
        curve=curve,
        risk=at_months(curve, risk_months),
        estimates=at_months(curve, months),
        median=median_time(curve),
        counts=counts,
        horizon=horizon,
        limbs=placed,
    )


def compare(
    counts: Counts, by: str, reference: str | None = None, limbs: Clusters | Layout | None = None
) -> Comparison:
    """Log-rank across the levels of ``counts`` and each other level's HR against
    ``reference`` (default: the first level); with ``limbs``, the robust score test and
    the robust variance of ``coxph(..., cluster = patient_id)`` instead, both on one
    layout of the counts and limbs (:func:`~.engine.counts.layout`) where the reference is
    the first level."""
    reference = _reference(counts.levels, by, reference)
    first = _first(counts, reference)
    laid = None if limbs is None else layout(counts, limbs)
    if laid is None or first is counts:
        ratios = hazard_ratios(first, laid)
    else:
        ratios = hazard_ratios(first, laid.limbs.clusters.among(first.levels))
    return Comparison(
        by=by,
        levels=counts.levels,
        logrank=logrank(counts) if laid is None else robust_score(counts, laid),
        hazard_ratios=enough_events(ratios, counts) if len(counts.levels) > 1 else (),
        reference=reference,
    )


def enough_events(ratios: Sequence[HazardRatio], counts: Counts) -> tuple[HazardRatio, ...]:
    """``ratios`` with each one whose group or reference has fewer than MIN_EVENTS_FOR_HR
    events made not estimable (TOO_FEW_EVENTS_REASON, no number): a ratio of a handful of
    events is a statistic of those few patients, not a finding, however narrow its CI."""
    events = dict(zip(counts.levels, counts.events_per_level.tolist(), strict=True))
    nan = float("nan")
    return tuple(
        replace(ratio, hr=nan, ci_lower=nan, ci_upper=nan, p=nan, coefficient=nan, se=nan,
                reason=TOO_FEW_EVENTS_REASON)
        if min(events[ratio.level], events[ratio.reference]) < MIN_EVENTS_FOR_HR
        else ratio
        for ratio in ratios
    )  # fmt: skip


class UnknownReference(ValueError):
    """A reference group asked for that is not a group of the split in this cohort."""


def _reference(levels: tuple[str, ...], by: str, reference: str | None) -> str | None:
    """The reference level: the one asked for, which must be a level, or the first."""
    if reference is None:
        return levels[0] if levels else None
    if reference not in levels:
        raise UnknownReference(
            f"reference {reference!r} is not a group of {by} in this cohort; "
            f"choose one of {', '.join(levels) or 'none: no patient has a value'}"
        )
    return reference


def _first(counts: Counts, level: str | None) -> Counts:
    """``counts`` with ``level`` moved to the front (the Cox model's reference), the other
    levels in their order."""
    if level is None or level == counts.levels[0]:
        return counts
    old = counts.levels.index(level)
    order = (old, *(i for i in range(len(counts.levels)) if i != old))
    position = np.empty(len(order), dtype=int)
    position[list(order)] = np.arange(len(order))
    return replace(
        counts, levels=tuple(counts.levels[i] for i in order), group=position[counts.group]
    )


def rmst_differences(
    groups: Sequence[GroupSurvival], reference: str | None = None
) -> tuple[RestrictedMeanDifference, ...]:
    """Each other group's restricted mean minus the reference group's (default: the first)."""
    if not groups:
        return ()
    base = next((g for g in groups if g.level == reference), groups[0])
    return tuple(
        restricted_mean_difference(
            group.level, group.rmst, base.level, base.rmst, _covariance(group, base)
        )
        for group in groups
        if group is not base
    )


def _covariance(group: GroupSurvival, other: GroupSurvival) -> float:
    """The covariance of two groups' restricted means through patients with a limb in
    each (0 unclustered)."""
    if group.limbs is None or other.limbs is None:
        return 0.0
    return restricted_mean_covariance(
        group.curve, group.limbs, other.curve, other.limbs, group.rmst.horizon
    )


def pairwise_tests(counts: Counts, limbs: Clusters | Layout | None = None) -> tuple[Pair, ...]:
    """Every pair of levels tested alone, with more than two levels (with ``limbs``, by the
    robust score test); the Holm adjustment over the pairs that could be compared."""
    if len(counts.levels) <= 2:
        return ()
    tests: tuple[PairTest, ...] = (
        pairwise(counts) if limbs is None else robust_score_pairwise(counts, limbs)
    )
    adjusted = holm(np.array([test.p for test in tests]))
    return tuple(
        Pair(test.level, test.other, test.p, float(p_holm))
        for test, p_holm in zip(tests, adjusted, strict=True)
    )


def landmark_counts(counts: Counts, month: float) -> Counts:
    """The patients whose time is greater than ``month``, time restarting at ``month``
    (R's ``survfit(Surv(t - L, e) ~ 1, subset = t > L)``)."""
    later = counts.time > month
    return Counts(
        levels=counts.levels,
        group=counts.group[later],
        time=counts.time[later] - month,
        events=counts.events[later],
        censored=counts.censored[later],
        competing=None if counts.competing is None else counts.competing[later],
    )


def landmark_clusters(limbs: Clusters, month: float) -> Clusters:
    """The listed limbs whose time is greater than ``month``, time restarting at it, as
    :func:`landmark_counts` keeps their counts."""
    later = limbs.time > month
    return Clusters(
        levels=limbs.levels,
        cluster=limbs.cluster[later],
        group=limbs.group[later],
        time=limbs.time[later] - month,
        event=limbs.event[later],
        competing=None if limbs.competing is None else limbs.competing[later],
    )


def endpoint_counts(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoints: Sequence[str],
    by: str | None = None,
    per_patient: bool = False,
) -> dict[str, tuple[Counts, Counts | None]]:
    """Events and censorings per time of each endpoint, overall and by ``by``: tallies.

    The overall counts hold every filtered limb; the split leaves out limbs whose group is
    unknown (a centre not recorded), so its levels can hold fewer. With ``per_patient``
    (a cohort where a patient may have two limbs), a patient's endpoint (recurrent DVT) is
    counted once per patient, on the first of their limbs in the filter.
    """
    columns = {endpoint: endpoint_columns(endpoint) for endpoint in endpoints}
    variables = cohort_filter.variables
    where, params = cohort_where(cohort_filter)
    group = [("g", grouping(by, variables).sql)] if by else []
    result = {}
    for endpoint, (m, e) in columns.items():
        people = per_patient and endpoint not in PATENCY_ENDPOINTS
        read = [("months", m), ("event", e), ("died", "n_death > 0")]
        rows = tally(con, read, where, params, people)
        whole = np.flatnonzero(~np.ma.getmaskarray(rows["months"]))
        overall = _select(rows, whole, (ALL_PATIENTS,), np.zeros(whole.size, dtype=int))
        grouped = None
        if by:
            rows = tally(con, [*group, *read], where, params, people)
            chosen = np.flatnonzero(
                ~np.ma.getmaskarray(rows["g"]) & ~np.ma.getmaskarray(rows["months"])
            )
            levels, codes = level_codes(by, np.asarray(rows["g"])[chosen], variables)
            grouped = _select(rows, chosen, levels, codes)
        result[endpoint] = (overall, grouped)
    return result


def endpoint_clusters(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    counts: Mapping[str, tuple[Counts, Counts | None]],
    by: str | None = None,
) -> dict[str, tuple[Clusters, Clusters | None]]:
    """The limbs of the patients with both limbs in the filter, for each limb endpoint of
    ``counts`` (endpoint_counts'), overall and by ``by``: what the clustered variance adds
    to the counts. One scan of the rows of patients with two limbs, in patient order,
    those whose other limb the filter leaves out then dropped (_both_in)."""
    limb_endpoints = [e for e in counts if e in PATENCY_ENDPOINTS]
    if not limb_endpoints:
        return {}
    variables = cohort_filter.variables
    columns = {endpoint: endpoint_columns(endpoint) for endpoint in limb_endpoints}
    group = f"{grouping(by, variables).sql} AS g, " if by else ""  # no column of NULLs to fetch
    read = ", ".join(f"{m} AS months_{i}, {e} AS event_{i}"
                     for i, (m, e) in enumerate(columns.values()))  # fmt: skip
    cohort, params = cohort_sql(
        cohort_filter, f"patient_key AS cluster, {group}n_death > 0 AS died, {read}"
    )
    fetched = con.execute(f"{cohort} AND patient_limbs > 1", params).fetchnumpy()
    both = _both_in(np.asarray(fetched["cluster"]))
    rows = {name: np.take(values, both) for name, values in fetched.items()}
    cluster = rows["cluster"]
    died = np.asarray(rows["died"], dtype=bool)
    raw = rows["g"] if by else None
    known = ~np.ma.getmaskarray(raw) if by else np.zeros(cluster.size, dtype=bool)
    paired = pairs_of(cluster)  # every endpoint's overall limbs are these rows
    result = {}
    for i, endpoint in enumerate(columns):
        time = np.asarray(rows[f"months_{i}"], dtype=float)
        event = np.asarray(rows[f"event_{i}"], dtype=bool)
        whole = _limbs((ALL_PATIENTS,), cluster, np.zeros(cluster.size, dtype=int), time,
                       event, died, paired)  # fmt: skip
        split = None
        levels = counts[endpoint][1].levels if counts[endpoint][1] is not None else ()
        if by:
            code = _level_index(by, np.asarray(raw)[known], levels, variables)
            rows_in = np.flatnonzero(known)[code >= 0]
            split = _limbs(levels, cluster[rows_in], code[code >= 0], time[rows_in],
                           event[rows_in], died[rows_in])  # fmt: skip
        result[endpoint] = (whole, split)
    return result


def _both_in(cluster: np.ndarray) -> np.ndarray:
    """The rows, in their order, whose patient has another row among ``cluster``: the
    limbs of patients with both limbs in the filter, the only ones a clustered variance
    pairs (a patient with one limb in an estimate adds nothing beyond the counts,
    Clusters). The rows come in key order (the summary's, by patient; sorted here only
    if not)."""
    order = None if bool((cluster[1:] >= cluster[:-1]).all()) else np.argsort(cluster)
    key = cluster if order is None else np.take(cluster, order)
    same = key[1:] == key[:-1]
    paired = np.zeros(key.size, dtype=bool)
    paired[1:] |= same
    paired[:-1] |= same
    return np.flatnonzero(paired) if order is None else np.sort(order[paired])


def _level_index(
    by: str, raw: np.ndarray, levels: tuple[str, ...], variables: Registry
) -> np.ndarray:
    """Each raw value's index among ``levels`` (-1 for none), each distinct value decoded
    once: hashed, not sorted (a registry's centre names are text)."""
    inverse, values = pd.factorize(raw)
    decoded = decode(by, np.asarray(values), variables).tolist()
    found = np.array([levels.index(v) if v in levels else -1 for v in decoded], dtype=int)
    return found[inverse] if raw.size else np.zeros(0, dtype=int)


def _limbs(
    levels: tuple[str, ...],
    cluster: np.ndarray,
    group: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    died: np.ndarray,
    paired: tuple[np.ndarray, np.ndarray] | None = None,
) -> Clusters:
    return Clusters(
        levels=levels, cluster=cluster, group=group, time=time, event=event.astype(int),
        competing=(~event & died).astype(int), paired=paired,
    )  # fmt: skip


def _select(
    rows: dict[str, np.ndarray], chosen: np.ndarray, levels: tuple[str, ...], group: np.ndarray
) -> Counts:
    """Counts from the result rows ``chosen`` (one endpoint's, endpoint_counts')."""
    return counts_from_rows(
        levels,
        group,
        np.asarray(rows["months"], dtype=float)[chosen],
        np.asarray(rows["event"], dtype=bool)[chosen],
        np.asarray(rows["n"], dtype=np.int64)[chosen],
        np.asarray(rows["died"], dtype=bool)[chosen],
    )


def level_codes(
    by: str, raw: np.ndarray, variables: Registry = BUILTIN
) -> tuple[tuple[str, ...], np.ndarray]:
    """The levels of ``by`` in display order, and each row's index into them; each
    distinct value decoded once (hashed: sorting a registry's rows of centre names as text
    took a tenth of the Centres page)."""
    inverse, values = pd.factorize(np.asarray(raw))
    decoded = decode(by, np.asarray(values), variables).tolist()
    levels = tuple(order_levels(by, sorted(set(decoded)), variables))
    position = np.array([levels.index(value) for value in decoded], dtype=int)
    return levels, position[inverse] if values.size else np.zeros(0, dtype=int)


def _by_group_and_months(group: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The order of rows by (group, months): one sort of a key placing each group's months
    after the last group's (a sixth of a lexsort's time on a registry's 40 centres),
    checked, and the lexsort where rounding could have merged two months."""
    low = months.min()
    key = group * (months.max() - low + 1.0) + (months - low)
    order = np.argsort(key)
    g, m = group[order], months[order]
    if bool(((g[1:] > g[:-1]) | ((g[1:] == g[:-1]) & (m[1:] >= m[:-1]))).all()):
        return order
    return np.lexsort((months, group))


def counts_from_rows(
    levels: tuple[str, ...],
    group: np.ndarray,
    months: np.ndarray,
    event: np.ndarray,
    patients: np.ndarray,
    died: np.ndarray | None = None,
) -> Counts:
    """Engine counts from rows of (group, months, event, patients): one per (group, months).

    With ``died`` (per row: the patients died), the censored who died are counted as
    ``competing``.
    """
    in_order = (group[1:] > group[:-1]) | ((group[1:] == group[:-1]) & (months[1:] >= months[:-1]))
    if not bool(in_order.all()):  # rows already in (group, months) order are not sorted again
        one_group = not group.size or bool((group == group[0]).all())
        # the rows of one (group, months) are summed, in any order: one group's need no
        # stable sort (a lexsort took five times as long on a million limbs' 30,000 times)
        order = np.argsort(months) if one_group else _by_group_and_months(group, months)
        group, months, event, patients = group[order], months[order], event[order], patients[order]
        died = None if died is None else died[order]
    new = np.ones(group.size, dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (months[1:] != months[:-1])
    starts = np.flatnonzero(new)
    if not starts.size:
        empty = np.zeros(0, dtype=int)
        return Counts(levels, empty, np.zeros(0), empty, empty, None if died is None else empty)
    competing = None
    if died is not None:
        competing = np.add.reduceat(np.where(~event & died, patients, 0), starts)
    return Counts(
        levels=levels,
        group=group[starts],
        time=months[starts],
        events=np.add.reduceat(np.where(event, patients, 0), starts),
        censored=np.add.reduceat(np.where(event, 0, patients), starts),
        competing=competing,
    )
