"""Every subgroup at once: one row per level of every factor, for a forest plot.

The counts of every factor come from one scan (a grouping set per factor, or on a small
cohort one cross-classification of them all); each
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
from analytics.filters import CohortFilter, cohort_sql
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


# Up to this many patients one cross-classification of every factor is cheaper than a
# grouping set per factor (DuckDB sets each up apart: 10 ms for 15 sets on the demo, 3 ms
# for one GROUP BY); beyond it the cross-classification has as many rows as patients
# (660,000 of a million) and the grouping sets win (120 ms against 160 ms and more).
CROSS_CLASSIFIED_PATIENTS = 5_000


def factor_counts(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    factors: tuple[str, ...] = FACTORS,
) -> dict[str, Counts]:
    """Events and censorings per (level, months) of every factor, in one scan."""
    months, event = endpoint_columns(endpoint)
    cohort, params = cohort_sql(cohort_filter)
    names = {factor: f"f{i}" for i, factor in enumerate(factors)}
    patients = con.execute(f"SELECT count(*) FROM ({cohort})", params).fetchall()[0][0]
    crossed = patients <= CROSS_CLASSIFIED_PATIENTS
    sets = ", ".join(f"({n}, months, event)" for n in names.values())
    flags = ", ".join(
        ("true" if crossed else f"grouping({n}) = 0") + f" AS in_{n}" for n in names.values()
    )
    rows = con.execute(
        f"""
        SELECT {flags}, {", ".join(names.values())}, months, event, count(*) AS n
        FROM (SELECT {", ".join(f"{grouping(f).sql} AS {n}" for f, n in names.items())},
                     {months} AS months, {event} AS event FROM ({cohort}))
        GROUP BY {"ALL" if crossed else f"GROUPING SETS ({sets})"}
        """,
        params,
    ).fetchnumpy()
    result = {}
    for factor, name in names.items():
        mine = np.asarray(rows[f"in_{name}"], dtype=bool) & ~np.ma.getmaskarray(rows[name])
        levels, codes = level_codes(factor, np.asarray(rows[name])[mine])
        result[factor] = counts_from_rows(
            levels,
            codes,
            np.asarray(rows["months"], dtype=float)[mine],
            np.asarray(rows["event"], dtype=bool)[mine],
            np.asarray(rows["n"], dtype=np.int64)[mine],
        )
    return result


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
