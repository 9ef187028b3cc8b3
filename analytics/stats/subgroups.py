"""Every subgroup at once: one row per level of every factor, for a forest plot.

The counts of every factor are tallies (a count per factor level and time); each
factor's split is then the comparison the Patency view draws (analytics.stats.survival):
Kaplan-Meier estimate at the chosen month, log-rank p across the factor's levels, Cox
hazard ratio of each level against the factor's reference level. Small groups are
flagged, not hidden.

In a file where a patient has two limbs (filters.has_bilateral), a limb endpoint's
estimates are clustered by patient as the Patency view's are: each level's standard
error and log(-log) CI at the month as R's ``survfit(..., cluster = patient_id)``, the
hazard ratios with the robust variance of ``coxph(..., cluster = patient_id)``, and the
factor's p the robust score test (``comparison_test`` names it). What the clustering adds
comes from one scan, of the limbs of patients with two limbs only, read on a second
cursor while the counts are tallied.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.cohort.summary import SUMMARY_TABLE, endpoint_columns
from analytics.cohort.tallies import tally
from analytics.filters import (
    CohortFilter,
    cohort_where,
    has_bilateral,
)
from analytics.glossary import ALL_PATIENTS, PATENCY_ENDPOINTS
from analytics.groups import decode, grouping
from analytics.rules import UNSTABLE_MIN_EVENTS, UNSTABLE_MIN_PATIENTS
from analytics.stats.engine.counts import Clusters, Counts, Layout, Located, layout, locate
from analytics.stats.engine.kaplan_meier import at_months, kaplan_meier, level_at_months
from analytics.stats.survival import Comparison, compare, counts_from_rows, level_codes
from analytics.variables import BUILTIN, Registry, Role


def factors(variables: Registry = BUILTIN) -> tuple[str, ...]:
    """The grouping keys of the variables declared as forest rows, in the forest's order.

    Technical success (a population choice) and the centre (the Centres page compares
    them; a registry's dozens would swamp the forest) are not declared as forest rows.
    """
    return tuple(v.grouping_key for v in variables.with_role(Role.FOREST))


FACTORS = factors(BUILTIN)  # the built-ins' forest rows
COLUMNS = [
    "factor", "level", "is_reference", "patients", "events", "estimate", "ci_lower",
    "ci_upper", "hr", "hr_lower", "hr_upper", "estimable", "reason", "logrank_p", "unstable",
    "comparison_test", "people", "people_events", "people_censored",
]  # fmt: skip


# The limbs of patients with two limbs are read on a cursor of their own while the counts'
# scan runs (DuckDB releases the GIL): one thread, shared by every session, so heavy use
# queues; nothing it runs waits on it.
_LIMBS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="subgroup-limbs")


@dataclass(frozen=True)
class FactorCounts(Mapping[str, Counts]):
    """Each factor's counts (a mapping by factor), and the endpoint's patients and events
    in all: those of every level, and of those whose value is not recorded. ``times`` are
    the sorted distinct times of all of them, each factor's among them."""

    by: Mapping[str, Counts]
    patients: int
    events: int
    times: np.ndarray

    def __getitem__(self, factor: str) -> Counts:
        return self.by[factor]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by)

    def __len__(self) -> int:
        return len(self.by)


def factor_counts(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    variables: Registry = BUILTIN,
) -> FactorCounts:
    """Events and censorings per (level, months) of every factor of ``variables``
    (:func:`factors`): a tally per factor of its code, months and event over the filter's
    limbs with a time for ``endpoint`` (analytics.cohort.tallies). A patient's endpoint
    (recurrent DVT) counts each patient once, on the first of their limbs in the filter,
    as the Patency page compares it (analytics.stats.survival.endpoint_counts).

    A level without patients in the filter is left out.
    """
    months, event = endpoint_columns(endpoint)
    where, params = cohort_where(cohort_filter)
    people = endpoint not in PATENCY_ENDPOINTS
    timed = [("months", months), ("event", event)]
    overall = tally(con, timed, where, params, people)
    kept = ~np.ma.getmaskarray(overall["months"])
    n = np.asarray(overall["n"], dtype=np.int64)[kept]
    is_event = np.asarray(overall["event"], dtype=bool)[kept]
    result = {}
    for factor in factors(variables):
        rows = tally(con, [("g", grouping(factor, variables).sql), *timed], where, params, people)
        known = np.flatnonzero(~np.ma.getmaskarray(rows["g"]) & ~np.ma.getmaskarray(rows["months"]))
        levels, group = level_codes(factor, np.asarray(rows["g"])[known], variables)
        result[factor] = counts_from_rows(
            levels,
            group,
            np.asarray(rows["months"], dtype=float)[known],
            np.asarray(rows["event"], dtype=bool)[known],
            np.asarray(rows["n"], dtype=np.int64)[known],
        )
    times = np.unique(np.asarray(overall["months"], dtype=float)[kept])
    return FactorCounts(result, int(n.sum()), int(n[is_event].sum()), times)


def _limb_rows(
    cursor: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    variables: Registry,
) -> dict[str, np.ndarray]:
    """The filter's limbs of patients with two limbs in the file (stored in patient
    order): each one's patient, time, event and code of every factor (``f0``, ``f1``, ... in
    :func:`factors`' order). Read on a cursor of its own while the counts are tallied, and
    closed after."""
    months, event = endpoint_columns(endpoint)
    codes = "".join(
        f", {grouping(f, variables).sql} AS f{i}" for i, f in enumerate(factors(variables))
    )
    where, params = cohort_where(cohort_filter)
    try:
        return cursor.execute(
            f"SELECT patient_key AS cluster, {months} AS months, {event} AS event{codes} "
            f"FROM {SUMMARY_TABLE} WHERE ({where}) AND {months} IS NOT NULL "
            "AND patient_limbs > 1",
            params,
        ).fetchnumpy()
    finally:
        cursor.close()


def factor_clusters(
    rows: Mapping[str, np.ndarray], counted: FactorCounts, variables: Registry = BUILTIN
) -> dict[str, Located]:
    """Each factor's limbs of the filter's patients with two limbs in it (of those in the
    file, :func:`_limb_rows`), their groups indexing that factor's levels in ``counted``:
    what the clustered variance adds to the counts. A limb whose patient's other limb is
    not in the filter, or has no value of the factor, adds nothing beyond the counts and
    is left out. The limbs are located on ``counted.times`` and paired once, each
    factor's taken from them."""
    names = {factor: f"f{i}" for i, factor in enumerate(factors(variables))}
    cluster = np.asarray(rows["cluster"])
    time = np.asarray(rows["months"], dtype=float)
    is_event = np.asarray(rows["event"], dtype=bool).astype(int)
    every = Clusters((ALL_PATIENTS,), cluster, np.zeros(time.size, dtype=int), time, is_event)
    first, second = every.pairs()
    keep, first, second = _in_pairs(first, second, time.size)
    every_limb = keep.size == time.size  # the filter holds both limbs of each patient

    def kept(values: np.ndarray) -> np.ndarray:
        return values if every_limb else np.take(values, keep)

    cluster, time, is_event = kept(cluster), kept(time), kept(is_event)
    index = locate(counted.times, time)
    result = {}
    for factor in counted:
        levels = counted[factor].levels
        decoded = decode(factor, np.arange(len(_values(factor, variables))), variables).tolist()
        found = np.array([levels.index(v) if v in levels else -1 for v in decoded], dtype=int)
        raw = rows[names[factor]]
        known = kept(~np.ma.getmaskarray(raw))
        code = np.full(time.size, -1)
        code[known] = np.take(found, kept(np.asarray(raw))[known].astype(int))
        if bool(known.all()) and bool((code >= 0).all()):  # every limb's value recorded
            limbs = Clusters(levels, cluster, code, time, is_event)
            result[factor] = Located(limbs, index, first, second)
            continue
        both = (np.take(code, first) >= 0) & (np.take(code, second) >= 0)
        own, a, b = _in_pairs(first[both], second[both], time.size)
        limbs = Clusters(levels, *(np.take(v, own) for v in (cluster, code, time, is_event)))
        result[factor] = Located(limbs, np.take(index, own), a, b)
    return result


def _in_pairs(
    first: np.ndarray, second: np.ndarray, rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``rows`` in a pair (first[i], second[i]), and the pairs numbered among them."""
    paired = np.zeros(rows, dtype=bool)
    paired[first] = True
    paired[second] = True
    keep = np.flatnonzero(paired)
    if keep.size == rows:
        return keep, first, second
    renumbered = np.full(rows, -1)
    renumbered[keep] = np.arange(keep.size)
    return keep, np.take(renumbered, first), np.take(renumbered, second)


def _values(factor: str, variables: Registry) -> tuple[str, ...]:
    """The coded values of a factor's levels; every subgroup factor is coded."""
    values = grouping(factor, variables).values
    if values is None:
        raise ValueError(f"{factor} has no coded levels to count as a subgroup")
    return values


@dataclass(frozen=True, eq=False)
class Subgroups:
    """The subgroup table (COLUMNS) and the endpoint's patients and events in all, which
    each factor's levels add up to with those whose value is not recorded."""

    table: pd.DataFrame
    patients: int
    events: int


def subgroup_table(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    month: float,
    variables: Registry | None = None,
) -> pd.DataFrame:
    """The subgroup table alone (subgroups)."""
    return subgroups(con, cohort_filter, endpoint, month, variables).table


def subgroups(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    month: float,
    variables: Registry | None = None,
) -> Subgroups:
    """One row per (factor, level) of every factor of ``variables`` (the filter's own when
    None) with two or more levels (COLUMNS).

    Each level: patients, events, the Kaplan-Meier estimate at ``month`` with its CI,
    the hazard ratio against the factor's reference (1 for the reference) with its CI,
    whether it is estimable and why not, the factor's p (``logrank_p``) and the test that
    gave it (``comparison_test``: ``logrank``, or ``robust_score`` when clustered, see the
    module's docstring; empty when no test applies), and whether the group is too small
    to trust (under UNSTABLE_MIN_PATIENTS or UNSTABLE_MIN_EVENTS). ``patients`` counts
    the level's limbs, one per patient in a file of one limb per patient; ``people``,
    ``people_events`` and ``people_censored`` the distinct patients behind its limbs, its
    events and its censored (privacy counts people): the limbs less the patients with
    both their limbs among them.
    """
    variables = cohort_filter.variables if variables is None else variables
    rows = []
    pending = None
    if endpoint in PATENCY_ENDPOINTS and has_bilateral(con):
        cursor = con.cursor()
        pending = _LIMBS.submit(_limb_rows, cursor, cohort_filter, endpoint, variables)
    counted = factor_counts(con, cohort_filter, endpoint, variables)
    split = {factor: c for factor, c in counted.items() if len(c.levels) >= 2}
    limb_rows = None if pending is None else pending.result()
    limbs: dict[str, Located] = {}
    if split and limb_rows is not None:
        located = FactorCounts(split, 0, 0, counted.times)
        limbs = factor_clusters(limb_rows, located, variables)
    for factor, counts in split.items():
        laid = layout(counts, limbs[factor], counted.times) if factor in limbs else None
        rows += _factor_rows(counts, compare(counts, factor, None, laid), month, laid)
    return Subgroups(pd.DataFrame(rows, columns=COLUMNS), counted.patients, counted.events)


def _factor_rows(
    counts: Counts, comparison: Comparison, month: float, laid: Layout | None
) -> list[dict]:
    ratios = {ratio.level: ratio for ratio in comparison.hazard_ratios}
    p = comparison.logrank.p if comparison.logrank else np.nan
    test = comparison.logrank.test if comparison.logrank else ""
    rows = []
    all_patients, all_events = counts.patients, counts.events_per_level
    for group, level in enumerate(counts.levels):
        if laid is None:
            estimate = at_months(kaplan_meier(counts.of(level)), [month])
        else:
            estimate = level_at_months(laid, level, [month])
        ratio = ratios.get(level)
        patients, events = int(all_patients[group]), int(all_events[group])
        pairs, both_events, both_censored = _pairs_of(laid, level)
        rows.append(
            {
                "factor": comparison.by,
                "level": level,
                "is_reference": ratio is None,
                "patients": patients,
                "events": events,
                "estimate": float(estimate.estimate[0]),
                "ci_lower": float(estimate.ci_lower[0]),
                "ci_upper": float(estimate.ci_upper[0]),
                "hr": 1.0 if ratio is None else ratio.hr,
                "hr_lower": np.nan if ratio is None else ratio.ci_lower,
                "hr_upper": np.nan if ratio is None else ratio.ci_upper,
                "estimable": True if ratio is None else ratio.estimable,
                "reason": "" if ratio is None else ratio.reason,
                "logrank_p": p,
                "unstable": patients < UNSTABLE_MIN_PATIENTS or events < UNSTABLE_MIN_EVENTS,
                "comparison_test": test,
                "people": patients - pairs,
                "people_events": events - both_events,
                "people_censored": patients - events - both_censored,
            }
        )
    return rows


def _pairs_of(laid: Layout | None, level: str) -> tuple[int, int, int]:
    """A level's patients with both limbs in it: in all, with both an event, both
    censored (none without clustering)."""
    if laid is None:
        return 0, 0, 0
    first, second = laid.pairs_within(level)
    event = laid.limbs.clusters.event.astype(bool)
    a, b = np.take(event, first), np.take(event, second)
    return first.size, int((a & b).sum()), int((~a & ~b).sum())
