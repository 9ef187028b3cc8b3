"""What the clustered patency reads from the registry: only the columns it uses.

The references are R's on ``retinopathy`` as limbs, with their call in
tests/unit/test_bilateral_views.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from analytics.filters import CohortFilter
from analytics.stats.survival import survival
from tests.cohorts import retinopathy_registry
from tests.unit.test_bilateral_views import R_OVERALL


class Recorder:
    """A connection that keeps the SQL of each query it runs."""

    def __init__(self, con: Any) -> None:
        self.con, self.queries = con, []

    def execute(self, sql: str, params: Any = None) -> Any:
        self.queries.append(sql)
        return self.con.execute(sql, params)


def test_the_unsplit_clustered_curve_fetches_its_limbs_without_a_group_column():
    """Without a split the listed limbs have no group to read: a column of NULLs, one per
    limb, cost a third of fetching those limbs on a million."""
    con = Recorder(retinopathy_registry())
    fit = survival(con, CohortFilter(), ["primary"], [12, 24])["primary"]
    (limbs,) = [sql for sql in con.queries if "patient_limbs > 1" in sql and "cluster" in sql]
    assert " AS g" not in limbs
    estimates = fit.overall.estimates
    assert list(zip(estimates.estimate, estimates.se, strict=True)) == [
        pytest.approx(row, rel=1e-6) for row in R_OVERALL
    ]
