"""Every subgroup at once: one row per level of every factor, for a forest plot.

The counts of every factor come from one scan (a count per factor level and time); each
factor's split is then the comparison the Patency view draws (analytics.stats.survival):
Kaplan-Meier estimate at the chosen month, log-rank p across the factor's levels, Cox
hazard ratio of each level against the factor's reference level. Small groups are
flagged, not hidden.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analytics.cohort.summary import endpoint_columns
from analytics.filters import CohortFilter, cohort_sql, count_where
from analytics.glossary import GROUPINGS
from analytics.groups import grouping
from analytics.rules import UNSTABLE_MIN_EVENTS, UNSTABLE_MIN_PATIENTS
from analytics.stats.engine.counts import Counts
from analytics.stats.engine.kaplan_meier import at_months, kaplan_meier
from analytics.stats.survival import Comparison, compare, counts_from_rows, level_codes

# Not subgroups here: technical success is a population choice; centres have their own
# view (the Centres page's funnel plot), and a registry's dozens of centres would swamp
# the forest plot and its Cox model.
SKIPPED_FACTORS = ("technical_success", "center")
FACTORS = tuple(factor for factor in GROUPINGS if factor not in SKIPPED_FACTORS)
COLUMNS = [
    "factor", "level", "is_reference", "patients", "events", "estimate", "ci_lower",
    "ci_upper", "hr", "hr_lower", "hr_upper", "estimable", "reason", "logrank_p", "unstable",
]  # fmt: skip


# Up to this many patients one cross-classification of every factor is the cheapest scan
# (3 ms on the demo, where a count per level costs 10 ms to plan); beyond it the
# cross-classification has as many rows as patients (660,000 of a million) and a count
# per (level, time) wins (about 60 ms on a million; a grouping set per factor, 190 ms).
CROSS_CLASSIFIED_PATIENTS = 5_000


def factor_counts(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    factors: tuple[str, ...] = FACTORS,
) -> dict[str, Counts]:
    """Events and censorings per (level, months) of every factor, in one scan.

    A level without patients in the filter is left out.
    """
    cohort, params = cohort_sql(cohort_filter)
    patients = con.execute(f"SELECT count(*) FROM ({cohort})", params).fetchall()[0][0]
    scan = _cross_classified if patients <= CROSS_CLASSIFIED_PATIENTS else _per_level
    return scan(con, cohort_filter, endpoint, factors)


def _cross_classified(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    factors: tuple[str, ...],
) -> dict[str, Counts]:
    """One row per combination of every factor's code, months and event."""
    months, event = endpoint_columns(endpoint)
    cohort, params = cohort_sql(cohort_filter)
    names = {factor: f"f{i}" for i, factor in enumerate(factors)}
    rows = con.execute(
        f"""
        SELECT {", ".join(names.values())}, months, event, count(*) AS n
        FROM (SELECT {", ".join(f"{grouping(f).sql} AS {n}" for f, n in names.items())},
                     {months} AS months, {event} AS event FROM ({cohort}))
        WHERE months IS NOT NULL GROUP BY ALL
        """,
        params,
    ).fetchnumpy()
    time = np.asarray(rows["months"], dtype=float)
    is_event = np.asarray(rows["event"], dtype=bool)
    n = np.asarray(rows["n"], dtype=np.int64)
    result = {}
    for factor, name in names.items():
        known = ~np.ma.getmaskarray(rows[name])
        levels, group = level_codes(factor, np.asarray(rows[name])[known])
        result[factor] = counts_from_rows(levels, group, time[known], is_event[known], n[known])
    return result


def _per_level(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    factors: tuple[str, ...],
) -> dict[str, Counts]:
    """One row per (months, event) with a count per (factor, code): DuckDB builds one
    small hash table, not one per factor as grouping sets do."""
    months, event = endpoint_columns(endpoint)
    cohort, params = cohort_sql(cohort_filter)
    codes = {factor: range(len(_values(factor))) for factor in factors}
    counted = ", ".join(
        count_where(f"({grouping(factor).sql})::INT = {code}")
        for factor, levels in codes.items()
        for code in levels
    )
    rows = con.execute(
        f"""
        SELECT months, event, {counted}
        FROM (SELECT *, {months} AS months, {event} AS event FROM ({cohort}))
        WHERE months IS NOT NULL GROUP BY ALL
        """,
        params,
    ).fetchnumpy()
    time = np.asarray(rows.pop("months"), dtype=float)
    is_event = np.asarray(rows.pop("event"), dtype=bool)
    columns = iter(np.asarray(column, dtype=np.int64) for column in rows.values())
    result = {}
    for factor, levels in codes.items():
        patients = np.stack([next(columns) for _ in levels])  # one row per code
        code, row = np.nonzero(patients)
        names, group = level_codes(factor, code)
        n = patients[code, row]
        result[factor] = counts_from_rows(names, group, time[row], is_event[row], n)
    return result


def _values(factor: str) -> tuple[str, ...]:
    """The coded values of a factor's levels; every subgroup factor is coded."""
    values = grouping(factor).values
    if values is None:
        raise ValueError(f"{factor} has no coded levels to count as a subgroup")
    return values


def subgroup_table(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, endpoint: str, month: float
) -> pd.DataFrame:
    """One row per (factor, level) of every factor with two or more levels (COLUMNS).

    Each level: patients, events, the Kaplan-Meier estimate at ``month`` with its CI,
    the hazard ratio against the factor's reference (1 for the reference) with its CI,
    whether it is estimable and why not, the factor's log-rank p, and whether the group
    is too small to trust (under UNSTABLE_MIN_PATIENTS or UNSTABLE_MIN_EVENTS).
    """
    rows = []
    for factor, counts in factor_counts(con, cohort_filter, endpoint).items():
        if len(counts.levels) >= 2:
            rows += _factor_rows(counts, compare(counts, factor), month)
    return pd.DataFrame(rows, columns=COLUMNS)


def _factor_rows(counts: Counts, comparison: Comparison, month: float) -> list[dict]:
    ratios = {ratio.level: ratio for ratio in comparison.hazard_ratios}
    p = comparison.logrank.p if comparison.logrank else np.nan
    rows = []
    for level in counts.levels:
        curve = kaplan_meier(counts.of(level))
        estimate = at_months(curve, [month])
        ratio = ratios.get(level)
        patients, events = curve.patients, int(curve.events.sum())
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
            }
        )
    return rows
