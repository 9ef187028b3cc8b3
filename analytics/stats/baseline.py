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
SPREAD_COLUMNS = ("age_years", "bmi", "follow_up_months")


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
    """Table 1's numbers: n, age, sex, BMI, side, risk factors, segments, follow-up.

    One scan, grouped by the segment flags (a lesion pattern per group: grouping the flags
    takes 2/3 of the time of their mask), the groups' counts and sums then added up.
    """
    cohort, params = cohort_sql(cohort_filter)
    groups = con.execute(
        f"""
        SELECT {", ".join(SEGMENTS)}, count(*), {count_where("sex = 'F'")},
               {count_where("lesion_side = 'left'")},
               {", ".join(_spread(c) for c in SPREAD_COLUMNS)},
               {", ".join(count_where(c) for c in RISK_FACTORS)}
        FROM ({cohort})
        GROUP BY ALL
        """,
        params,
    ).fetchall()
    flags = len(SEGMENTS)
    # the flags are NOT NULL (schema.sql): one group per mask
    masks = sorted((sum(2**i for i, flag in enumerate(row[:flags]) if flag), int(row[flags]))
                   for row in groups)  # fmt: skip
    patterns = {SEGMENT_PATTERN_OF_MASK[mask]: patients for mask, patients in masks}
    n, female, left = (sum(int(row[flags + i]) for row in groups) for i in range(3))
    first = flags + 3  # each spread's five sums, then the risk factors' counts
    spreads = [
        _spread_of([row[first + 5 * i : first + 5 * i + 5] for row in groups])
        for i in range(len(SPREAD_COLUMNS))
    ]
    risks = first + 5 * len(SPREAD_COLUMNS)
    return Baseline(
        patients=n, age=spreads[0], bmi=spreads[1], follow_up=spreads[2], female=female,
        left=left,
        risk_factors={c: sum(int(row[risks + i]) for row in groups)
                      for i, c in enumerate(RISK_FACTORS)},
        segments={c: sum(int(row[flags]) for row in groups if row[i])
                  for i, c in enumerate(SEGMENTS)},
        patterns=patterns,
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


def _spread_of(groups: Sequence[Sequence[object]]) -> Spread:
    """Mean and sample SD (NaN for fewer than two values) from :func:`_spread`'s sums of
    each group, added up (a group without the value has NULL sums)."""
    n = sum(int(known) for known, *_ in groups)
    if n == 0:
        return Spread(np.nan, np.nan, np.nan, np.nan)
    known = [values for values in groups if values[0]]
    total, squares = (sum(float(values[i]) for values in known) for i in (1, 2))
    low, high = min(values[3] for values in known), max(values[4] for values in known)
    mean = total / n
    variance = (squares - n * mean * mean) / (n - 1) if n > 1 else np.nan
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
