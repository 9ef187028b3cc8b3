"""A variable declared once, and nothing else changed, is a Table 1 row: Table 1
derives from the registry it is given, not from a list written beside it (issue 21).

The declared variable is the access vein, a column of every cohort (data/schema.sql)
that no built-in declares, counted on the registry's patient rows (``synth --patients
3000 --centers 6 --seed 1``, the ``registry_path`` fixture) by plain SQL.
"""

from __future__ import annotations

import pytest

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter, cohort_sql
from analytics.present import format as fmt
from analytics.present.tables import table1
from analytics.stats.baseline import baseline
from analytics.variables import (
    BUILTIN,
    Kind,
    Role,
    Table1Row,
    Variable,
)

ACCESS_VEIN = Variable(
    "access_vein", "access_vein", Kind.CATEGORY, "Access vein",
    levels=(("popliteal", "Popliteal"), ("small_saphenous", "Small saphenous"),
            ("femoral", "Femoral"), ("jugular", "Jugular"), ("other", "Other")),
    table1=Table1Row("Access vein: femoral", level="femoral"),
    roles=(Role.GROUPING, Role.TABLE1, Role.COVARIATE, Role.FOREST),
)  # fmt: skip
WITH_ACCESS = BUILTIN.extended([ACCESS_VEIN])


@pytest.fixture(scope="module")
def registry(registry_path):
    con = open_cohort(registry_path)
    yield con
    con.close()


def access_counts(con) -> dict[str, int]:
    """Technical successes per access vein, counted by plain SQL on the filter's rows."""
    cohort, params = cohort_sql(CohortFilter())
    rows = con.execute(
        f"SELECT access_vein, count(*) FROM ({cohort}) GROUP BY access_vein", params
    ).fetchall()
    return dict(rows)


def test_a_declared_variable_is_a_table1_row_after_the_builtins(registry):
    counts = access_counts(registry)
    n = sum(counts.values())
    for k in (None, 5):
        builtin = table1(baseline(registry, CohortFilter()), k)
        mine = table1(baseline(registry, CohortFilter(), WITH_ACCESS), k)
        assert mine.iloc[:-1].equals(builtin)
        assert mine.iloc[-1].tolist() == [
            "Access vein: femoral",
            fmt.count_percent(counts["femoral"], n, k),
        ]
