"""Safety events: patients affected with exact 95% CI, rates per 100 patient-years, timing.

Proportions use the filtered cohort as denominator with Clopper-Pearson (exact
binomial) limits; rates count every event over the cohort's total follow-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaincinv

from analytics.filters import CohortFilter, cohort_sql, count_where
from analytics.glossary import SAFETY_EVENTS
from analytics.rules import CONFIDENCE, MONTHS_PER_YEAR, PER_PATIENT_YEARS

ALPHA = 1 - CONFIDENCE
SAFETY_COLUMNS = [
    "event", "patients", "proportion", "ci_lower", "ci_upper", "events",
    "events_within_30_days", "events_later", "per_100_patient_years",
]  # fmt: skip
TIMELINE_COLUMNS = ["event", "month", "events"]


@dataclass(frozen=True, eq=False)
class Safety:
    """The safety events of a filtered cohort.

    ``table`` has one row per event type (SAFETY_COLUMNS), every type even without
    events: patients with the event, their proportion of ``patients`` with its exact
    95% limits (proportions, 0-1), all events, those within 30 days and later, and
    events per 100 patient-years.
    """

    patients: int
    patient_years: float
    table: pd.DataFrame


def cohort_size(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> tuple[int, float]:
    """Patients in the filter and their total follow-up in years."""
    cohort, params = cohort_sql(cohort_filter)
    n, months = con.execute(
        f"SELECT count(*), coalesce(sum(follow_up_months), 0) FROM ({cohort})", params
    ).fetchall()[0]
    return int(n), float(months) / MONTHS_PER_YEAR


def patient_counts(
    con: duckdb.DuckDBPyConnection, filters: Sequence[CohortFilter]
) -> tuple[int, ...]:
    """Patients in each filter, in one query (a query's fixed cost dwarfs a count)."""
    parts = [cohort_sql(cohort_filter) for cohort_filter in filters]
    row = con.execute(
        "SELECT " + ", ".join(f"(SELECT count(*) FROM ({cohort}))" for cohort, _ in parts),
        [param for _, params in parts for param in params],
    ).fetchall()[0]
    return tuple(int(n) for n in row)


def safety(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> Safety:
    """Every safety event type of the filtered cohort."""
    cohort, params = cohort_sql(cohort_filter)
    row = con.execute(
        f"""
        SELECT count(*), coalesce(sum(follow_up_months), 0),
               {", ".join(_event_sums(e) for e in SAFETY_EVENTS)}
        FROM ({cohort})
        """,
        params,
    ).fetchall()[0]
    n, patient_years = int(row[0]), float(row[1]) / MONTHS_PER_YEAR
    counts = np.array([c or 0 for c in row[2:]], dtype=int).reshape(-1, 3).T
    return Safety(n, patient_years, safety_table(n, patient_years, *counts))


def safety_table(
    n: int, patient_years: float, patients: np.ndarray, events: np.ndarray, early: np.ndarray
) -> pd.DataFrame:
    """The safety table from the counts per event type (SAFETY_EVENTS order)."""
    low, high = clopper_pearson(patients, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = PER_PATIENT_YEARS * events / patient_years if patient_years else np.nan
        proportion = patients / n if n else np.full(len(patients), np.nan)
    return pd.DataFrame(
        {
            "event": list(SAFETY_EVENTS),
            "patients": patients,
            "proportion": proportion,
            "ci_lower": low,
            "ci_upper": high,
            "events": events,
            "events_within_30_days": early,
            "events_later": events - early,
            "per_100_patient_years": rate,
        },
        columns=SAFETY_COLUMNS,
    )


def _event_sums(event: str) -> str:
    """Patients with the event, events, and events within 30 days, from the summary columns."""
    return f"{count_where(f'n_{event} > 0')}, sum(n_{event}), sum(n_{event}_early)"


def event_timeline(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Safety events per (event, month): when they happened, for a timeline chart."""
    cohort, params = cohort_sql(cohort_filter)
    return con.execute(
        f"""
        SELECT e.event AS event, e.month AS month, count(*) AS events
        FROM (SELECT unnest(safety_events) AS e FROM ({cohort}))
        GROUP BY ALL ORDER BY month, event
        """,
        params,
    ).df()[TIMELINE_COLUMNS]


def clopper_pearson(k: ArrayLike, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial 95% limits for k of n, every k at once; NaN limits when n is 0.

    The Clopper-Pearson limits are beta quantiles, the closed form of the binomial tail
    inversion SciPy's binomtest solves by root finding one k at a time: the lower limit
    is the ALPHA/2 quantile of Beta(k, n - k + 1), the upper the 1 - ALPHA/2 quantile of
    Beta(k + 1, n - k) (the inverse regularised incomplete beta; tested against binomtest).
    """
    k = np.asarray(k, dtype=float)
    if n == 0:
        return np.full_like(k, np.nan), np.full_like(k, np.nan)
    low = np.where(k > 0, betaincinv(np.maximum(k, 1), n - k + 1, ALPHA / 2), 0.0)
    high = np.where(k < n, betaincinv(k + 1, np.maximum(n - k, 1), 1 - ALPHA / 2), 1.0)
    return low, high
