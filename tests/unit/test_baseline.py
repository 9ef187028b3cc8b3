"""Table 1's numbers against pandas on the same patients' rows."""

from __future__ import annotations

import math

import duckdb
import pytest

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter, cohort_sql, parse_pairs
from analytics.stats.baseline import baseline

FILTERS = [[], ["lesion_side=left"], ["age_min=80", "sex=F"], ["age_min=100"]]


def rows(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter):
    cohort, params = cohort_sql(cohort_filter)
    return con.execute(f"SELECT * FROM ({cohort})", params).df()


@pytest.mark.parametrize("pairs", FILTERS, ids=lambda p: "&".join(p) or "all")
def test_mean_sd_and_range_equal_pandas_on_patient_rows(registry_path, pairs):
    con = open_cohort(registry_path)
    cohort_filter = parse_pairs(pairs)
    table = baseline(con, cohort_filter)
    patients = rows(con, cohort_filter)
    assert table.limbs == len(patients)
    for spread, column in ((table.age, "age_years"), (table.bmi, "bmi"),
                           (table.follow_up, "follow_up_months")):  # fmt: skip
        values = patients[column].dropna()
        expected = (values.mean(), values.std(ddof=1), values.min(), values.max())
        got = (spread.mean, spread.sd, spread.minimum, spread.maximum)
        assert got == pytest.approx(expected, rel=1e-9, nan_ok=True)


def test_one_patient_has_a_mean_and_no_sd(demo):
    table = baseline(demo, parse_pairs(["age_min=86"]))
    assert table.limbs == 1
    assert table.age.mean == table.age.minimum == table.age.maximum == 86
    assert math.isnan(table.age.sd)
