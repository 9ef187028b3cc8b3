"""Who was treated: the paper's Table 1 numbers, and how many were enrolled and stented.

Counts and summaries only; analytics.present.tables turns them into the table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import duckdb
import numpy as np

from analytics.filters import (
    SEGMENT_PATTERN_OF_MASK,
    CohortFilter,
    cohort_sql,
    count_where,
)
from analytics.glossary import PAPER_SEGMENT_ROWS, RISK_FACTORS, SEGMENTS
from analytics.rules import ULCER_HEALING_MONTHS

OTHER_PATTERN = "other"


@dataclass(frozen=True)
class Spread:
    """Mean, sample SD, minimum and maximum of a number (NaN where undefined)."""

    mean: float
    sd: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class Baseline:
    """Table 1: demographic and clinical characteristics of the filtered patients.

    ``risk_factors`` and ``segments`` count patients per column (RISK_FACTORS,
    SEGMENTS); ``patterns`` per lesion pattern ("CIV+EIV"); ``segment_rows`` per row
    of the paper's Table 1 (see :func:`segment_rows`).
    """

    patients: int
    age: Spread
    bmi: Spread
    follow_up: Spread
    female: int
    left: int
    risk_factors: Mapping[str, int]
    segments: Mapping[str, int]
    patterns: Mapping[str, int]
    segment_rows: Mapping[str, int]


@dataclass(frozen=True)
class Population:
    """Enrolled patients of the filter (either population), technical successes, stents.

    ``ulcers_healed`` counts the analysed patients whose ulcer healed within the paper's
    3 months.
    """

    enrolled: int
    successes: int
    stented: int
    ulcers_healed: int


def baseline(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> Baseline:
    """Table 1's numbers: n, age, sex, BMI, side, risk factors, segments, follow-up."""
    cohort, params = cohort_sql(cohort_filter)
    counted = [*RISK_FACTORS, *SEGMENTS]
    row = con.execute(
        f"""
        SELECT count(*), {count_where("sex = 'F'")}, {count_where("lesion_side = 'left'")},
               {", ".join(_spread(c) for c in ("age_years", "bmi", "follow_up_months"))},
               {", ".join(count_where(c) for c in counted)}
        FROM ({cohort})
        """,
        params,
    ).fetchall()[0]
    n, female, left = (int(v) for v in row[:3])
    spreads = [_spread_of(row[3 + 5 * i : 8 + 5 * i]) for i in range(3)]
    counts = dict(zip(counted, (int(v) for v in row[18:]), strict=True))
    combinations = con.execute(  # grouping the flags takes 2/3 of the time of their mask
        f"SELECT {', '.join(SEGMENTS)}, count(*) FROM ({cohort}) GROUP BY ALL", params
    ).fetchall()
    masks = sorted((sum(2**i for i, flag in enumerate(row[:-1]) if flag), row[-1])
                   for row in combinations)  # fmt: skip
    patterns = {SEGMENT_PATTERN_OF_MASK[mask]: int(n) for mask, n in masks}
    return Baseline(
        patients=n, age=spreads[0], bmi=spreads[1], follow_up=spreads[2], female=female,
        left=left, risk_factors={c: counts[c] for c in RISK_FACTORS},
        segments={c: counts[c] for c in SEGMENTS}, patterns=patterns,
        segment_rows=segment_rows(patterns),
    )  # fmt: skip


def _spread(column: str) -> str:
    """Count, sum, sum of squares, minimum and maximum of a column, for :func:`_spread_of`.

    Sums, not DuckDB's stddev_samp, whose update per row took 40% of Table 1's time on a
    million patients. The SD from the sums loses about n·eps·mean²/variance of its
    relative precision (below 1e-8 for ages, BMIs and months of a million patients),
    far below the one decimal shown.
    """
    return f"count({column}), sum({column}), sum({column} * {column}), min({column}), max({column})"


def _spread_of(values: Sequence[object]) -> Spread:
    """Mean and sample SD (NaN for fewer than two values) from :func:`_spread`'s sums."""
    known, total, squares, low, high = values
    n = int(known or 0)
    if n == 0:
        return Spread(np.nan, np.nan, np.nan, np.nan)
    mean = float(total) / n
    variance = (float(squares) - n * mean * mean) / (n - 1) if n > 1 else np.nan
    return Spread(mean, math.sqrt(max(variance, 0.0)) if n > 1 else np.nan, float(low), float(high))


def segment_rows(patterns: Mapping[str, int]) -> dict[str, int]:
    """Count each lesion in every widest published pattern it contains (the paper's rows).

    A lesion's published rows are the rows contained in it that no other contained
    row extends: IVC+CIV+EIV+CFV counts as IVC+CIV and as CIV+EIV+CFV, which is how
    the paper's rows add up to 36 for 34 patients. Lesions matching no row are 'other'.
    """
    rows = {row: 0 for row in PAPER_SEGMENT_ROWS} | {OTHER_PATTERN: 0}
    for pattern, count in patterns.items():
        lesion = set(pattern.split("+"))
        inside = [row for row in PAPER_SEGMENT_ROWS if set(row.split("+")) <= lesion]
        widest = [
            r for r in inside if not any(set(r.split("+")) < set(o.split("+")) for o in inside)
        ]
        for row in widest or [OTHER_PATTERN]:
            rows[row] += count
    return rows


def population(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> Population:
    """Enrolled and technically successful patients of the filter's other criteria."""
    cohort, params = cohort_sql(replace(cohort_filter, population="all"))
    analysed = "technical_success" if cohort_filter.population == "technical_success" else "true"
    enrolled, successes, stented, healed = con.execute(
        f"""
        SELECT count(*), {count_where("technical_success")},
               {count_where("technical_success AND coalesce(stents, 1) >= 1")},
               {count_where(f"{analysed} AND ulcer_healed_months <= ?")}
        FROM ({cohort})
        """,
        [ULCER_HEALING_MONTHS, *params],
    ).fetchall()[0]
    return Population(int(enrolled), int(successes), int(stented), int(healed))
