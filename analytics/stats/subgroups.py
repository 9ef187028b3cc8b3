"""Every subgroup at once: one row per level of every factor, for a forest plot.

Each factor's split is the same comparison the Patency view draws
(survival.compare_groups): Kaplan-Meier estimate at the chosen month, log-rank
p across the factor's levels, Cox hazard ratio of each level against the
factor's reference level. Small groups are flagged, not hidden.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.filters import CohortFilter
from analytics.glossary import GROUPINGS, UNSTABLE_MIN_EVENTS, UNSTABLE_MIN_PATIENTS
from analytics.stats.survival import GroupComparison, compare_groups

# Not subgroups here: technical success is a population choice; centres have their own
# view (the Centres page's funnel plot), and a registry's dozens of centres would swamp
# the forest plot and its Cox model.
SKIPPED_FACTORS = ("technical_success", "center")
FACTORS = tuple(factor for factor in GROUPINGS if factor not in SKIPPED_FACTORS)
COLUMNS = [
    "factor", "factor_label", "level", "is_reference", "patients", "events", "estimate",
    "ci_lower", "ci_upper", "hr", "hr_lower", "hr_upper", "estimable", "reason", "logrank_p",
    "unstable",
]  # fmt: skip


def subgroup_table(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, endpoint: str, month: float
) -> pd.DataFrame:
    """One row per (factor, level) with two or more levels in the filtered cohort."""
    return table_from(
        [compare_groups(con, cohort_filter, endpoint, factor, [month]) for factor in FACTORS]
    )


def table_from(comparisons: list[GroupComparison]) -> pd.DataFrame:
    """The subgroup table from each factor's comparison (estimates at one month)."""
    rows = [row for comparison in comparisons for row in _factor_rows(comparison)]
    return pd.DataFrame(rows, columns=COLUMNS)


def _factor_rows(comparison: GroupComparison) -> list[dict]:
    """One row per level of a factor with two or more levels; none otherwise."""
    if len(comparison.levels) < 2:
        return []
    ratios = comparison.hazard_ratios.set_index("group")
    rows = []
    for level in comparison.levels:
        patients, events = comparison.sizes[level]
        estimate = comparison.estimates[level].iloc[0]
        is_reference = level == comparison.levels[0]
        ratio = None if is_reference else ratios.loc[level]
        rows.append(
            {
                "factor": comparison.by,
                "factor_label": GROUPINGS[comparison.by],
                "level": level,
                "is_reference": is_reference,
                "patients": patients,
                "events": events,
                "estimate": estimate["estimate"],
                "ci_lower": estimate["ci_lower"],
                "ci_upper": estimate["ci_upper"],
                "hr": 1.0 if is_reference else ratio["hr"],
                "hr_lower": None if is_reference else ratio["ci_lower"],
                "hr_upper": None if is_reference else ratio["ci_upper"],
                "estimable": True if is_reference else bool(ratio["estimable"]),
                "reason": "reference" if is_reference else ratio["reason"],
                "logrank_p": comparison.logrank_p,
                "unstable": patients < UNSTABLE_MIN_PATIENTS or events < UNSTABLE_MIN_EVENTS,
            }
        )
    return rows
