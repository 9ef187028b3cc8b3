"""Every subgroup at once: one row per level of every factor, for a forest plot.

The counts of every factor come from one scan (a count per factor level and time); each
factor's split is then the comparison the Patency view draws (analytics.stats.survival):
Kaplan-Meier estimate at the chosen month, log-rank p across the factor's levels, Cox
hazard ratio of each level against the factor's reference level. Small groups are
flagged, not hidden.

In a file where a patient has two limbs (filters.has_bilateral), a limb endpoint's
estimates are clustered by patient as the Patency view's are: each level's standard
error and log(-log) CI at the month as R's ``survfit(..., cluster = patient_id)``, the
hazard ratios with the robust variance of ``coxph(..., cluster = patient_id)``, and the
factor's p the robust score test (``comparison_test`` names it). What the clustering adds
comes from one more scan, of the limbs of patients with two limbs only, read on a
second cursor while the counts' scan runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.cohort.summary import SUMMARY_TABLE, endpoint_columns
from analytics.filters import (
    CohortFilter,
    cohort_where,
    count_where,
    has_bilateral,
    one_per_patient,
)
from analytics.glossary import ALL_PATIENTS, PATENCY_ENDPOINTS
from analytics.groups import decode, grouping, quoted
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

# In a file of up to this many limbs one cross-classification of every factor is the
# cheapest scan (3 ms on the demo, where a count per level costs 10 ms to plan); beyond it
# the cross-classification has as many rows as limbs (660,000 of a million) and a count
# per (level, time) wins (about 60 ms on a million; a grouping set per factor, 190 ms).
# Chosen by the file's size, which costs no scan, not the filter's.
CROSS_CLASSIFIED_LIMBS = 5_000


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
    (:func:`factors`), in one scan: cross-classified in a small file, else a count per
    level (:func:`_per_level`).

    A level without patients in the filter is left out.
    """
    (limbs,) = con.execute(f"SELECT count(*) FROM {SUMMARY_TABLE}").fetchall()[0]
    if limbs <= CROSS_CLASSIFIED_LIMBS:
        return _cross_classified(con, cohort_filter, endpoint, variables)
    recorded = _recorded(con, factors(variables), variables)
    return _per_level(con, cohort_filter, endpoint, variables, recorded)


def _recorded(
    con: duckdb.DuckDBPyConnection, keys: tuple[str, ...], variables: Registry
) -> set[str]:
    """The factors of ``keys`` with a code for every limb of the file, from the file's
    statistics of the columns they read (DuckDB's, kept as rows are written; no scan): so
    for every limb of any filter. A factor that also leaves a value outside its levels
    without a code (Grouping.columns None), or statistics that cannot say, count as not
    recorded, which costs one count more and changes no number."""
    reads = {factor: grouping(factor, variables).columns for factor in keys}
    columns = sorted({column for read in reads.values() if read for column in read})
    if not columns:
        return set()
    statistics = con.execute(
        f"SELECT {', '.join(f'stats({quoted(c)})' for c in columns)} FROM {SUMMARY_TABLE} LIMIT 1"
    ).fetchall()
    if not statistics:
        return set()
    never_null = {
        column
        for column, stats in zip(columns, statistics[0], strict=True)
        if isinstance(stats, dict) and stats.get("has_null") is False
    }
    return {factor for factor, read in reads.items() if read and set(read) <= never_null}


def _cross_classified(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    variables: Registry,
) -> dict[str, Counts]:
    """One row per combination of every factor's code, months and event."""
    months, event = endpoint_columns(endpoint)
    names = {factor: f"f{i}" for i, factor in enumerate(factors(variables))}
    codes = ", ".join(f"{grouping(f, variables).sql} AS {n}" for f, n in names.items())
    select = f"{codes}, {months} AS months, {event} AS event, count(*) AS n"
    rows = con.execute(*_timed_groups(cohort_filter, endpoint, select)).fetchnumpy()
    time = np.asarray(rows["months"], dtype=float)
    is_event = np.asarray(rows["event"], dtype=bool)
    n = np.asarray(rows["n"], dtype=np.int64)
    result = {}
    for factor, name in names.items():
        known = ~np.ma.getmaskarray(rows[name])
        levels, group = level_codes(factor, np.asarray(rows[name])[known], variables)
        result[factor] = counts_from_rows(levels, group, time[known], is_event[known], n[known])
    return FactorCounts(result, int(n.sum()), int(n[is_event].sum()), np.unique(time))


def _per_level(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    variables: Registry,
    recorded: set[str],
) -> dict[str, Counts]:
    """One row per (months, event) with a count per (factor, code): DuckDB builds one
    small hash table, not one per factor as grouping sets do. A factor ``recorded`` for
    every limb of the filter has its first code's count as the rest of the row's (one
    count fewer to aggregate: each costs about as much as the table's scan). The factor
    with the most codes (the segment pattern's sixteen) is grouped by instead, a row per
    (months, event, code): its codes add a third to the rows and save a count per code;
    the other factors' rows are then summed over them (:func:`_by_time`)."""
    months, event = endpoint_columns(endpoint)
    codes = {factor: range(len(_values(factor, variables))) for factor in factors(variables)}
    widest = max(codes, key=lambda factor: len(codes[factor]))
    keyed = widest if len(codes[widest]) > 2 else None
    counted = {
        factor: [code for code in levels if code or factor not in recorded]
        for factor, levels in codes.items()
        if factor != keyed
    }
    by = "" if keyed is None else f"{grouping(keyed, variables).sql} AS key, "
    columns = ", ".join(
        count_where(grouping(factor, variables).is_code(code))
        for factor, kept in counted.items()
        for code in kept
    )
    select = f"{months} AS months, {event} AS event, {by}count(*) AS n, {columns}"
    rows = con.execute(*_timed_groups(cohort_filter, endpoint, select)).fetchnumpy()
    ends = np.asarray(rows.pop("months"), dtype=float)
    is_event_rows = np.asarray(rows.pop("event"), dtype=bool)
    n = np.asarray(rows.pop("n"), dtype=np.int64)
    key = rows.pop("key", None)
    result = {}
    time, is_event, (n_all, *columns) = _by_time(ends, is_event_rows, [n, *rows.values()])
    column = iter(columns)
    for factor in codes:
        if factor == keyed:
            result[factor] = _keyed(factor, key, ends, is_event_rows, n, variables)
            continue
        counts = [next(column) for _ in counted[factor]]
        if factor in recorded:
            counts.insert(0, n_all - np.sum(counts, axis=0))
        patients = np.stack(counts)  # one row per code
        code, row = np.nonzero(patients)
        names, group = _coded_levels(factor, code, variables)
        result[factor] = counts_from_rows(
            names, group, time[row], is_event[row], patients[code, row]
        )
    new = np.ones(time.size, dtype=bool)
    new[1:] = time[1:] != time[:-1]
    return FactorCounts(result, int(n_all.sum()), int(n_all[is_event].sum()), time[new])


def _keyed(
    factor: str,
    code: np.ndarray,
    time: np.ndarray,
    is_event: np.ndarray,
    n: np.ndarray,
    variables: Registry,
) -> Counts:
    """The grouped-by factor's counts: the rows whose code is recorded, by code and time."""
    known = np.flatnonzero(~np.ma.getmaskarray(code))
    raw = np.asarray(code)
    known = known[np.lexsort((time[known], raw[known]))]
    names, group = _coded_levels(factor, raw[known].astype(int), variables)
    return counts_from_rows(names, group, time[known], is_event[known], n[known])


def _by_time(
    time: np.ndarray, event: np.ndarray, counts: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of (time, event) and their ``counts`` summed per (time, event), in time order:
    those of one time and event that the grouped-by factor's codes kept apart made one.
    The counts come back as one array, a row per count (summed at once, not one by one)."""
    order = np.lexsort((event, time))
    time, event = time[order], event[order]
    new = np.ones(time.size, dtype=bool)
    new[1:] = (time[1:] != time[:-1]) | (event[1:] != event[:-1])
    starts = np.flatnonzero(new)
    table = np.stack([np.asarray(c, dtype=np.int64) for c in counts])[:, order]
    return time[starts], event[starts], np.add.reduceat(table, starts, axis=1)


def _timed_groups(
    cohort_filter: CohortFilter, endpoint: str, select: str
) -> tuple[str, list[object]]:
    """``select`` over the filter's limbs with a time for ``endpoint``, grouped by all it
    selects but its counts: one query level, so DuckDB binds no
    subquery's columns. A patient's endpoint (recurrent DVT) counts each patient once, on
    the first of their limbs in the filter, as the Patency page compares it
    (analytics.stats.survival.endpoint_counts)."""
    months, _ = endpoint_columns(endpoint)
    where, params = cohort_where(cohort_filter)
    person = endpoint not in PATENCY_ENDPOINTS
    return (
        f"SELECT {select} FROM {SUMMARY_TABLE} WHERE ({where}) AND {months} IS NOT NULL"
        + (f" AND {one_per_patient(where)}" if person else "")
        + " GROUP BY ALL",
        [*params, *params] if person else params,
    )


def _limb_rows(
    cursor: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    variables: Registry,
) -> dict[str, np.ndarray]:
    """The filter's limbs of patients with two limbs in the file (stored in patient
    order): each one's patient, time, event and code of every factor (``f0``, ``f1``, ... in
    :func:`factors`' order). Read on a cursor of its own while the counts' scan runs, and
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


def _coded_levels(
    factor: str, code: np.ndarray, variables: Registry
) -> tuple[tuple[str, ...], np.ndarray]:
    """:func:`~.survival.level_codes` of a factor's codes (0, 1, ...): each code present
    decoded once, not every row."""
    lookup = np.zeros(len(_values(factor, variables)), dtype=int)
    present = np.flatnonzero(np.bincount(code, minlength=lookup.size))
    levels, position = level_codes(factor, present, variables)
    lookup[present] = position
    return levels, np.take(lookup, code)


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
