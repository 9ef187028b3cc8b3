"""A variable declared once, and nothing else changed, is a Table 1 row and a subgroup
forest factor: Table 1 and the forest derive from the registry they are given, not from
a list written beside it (issue 21).

The declared variable is the access vein, a column of every cohort (data/schema.sql)
that no built-in declares. The references are computed on the registry's patient rows
(``synth --patients 3000 --centers 6 --seed 1``, the ``registry_path`` fixture), exported
by DuckDB, not by the code under test:

    COPY (SELECT patient_id, tte_primary_months AS time, tte_primary_event::INT AS status,
                 age_years, access_vein
          FROM patient_summary WHERE technical_success) TO 'patients.csv' (HEADER)

and fitted with R 4.2.2 Patched (2022-11-10 r83330), survival 3.5.3:

    p <- read.csv("patients.csv")
    p$access_vein <- factor(p$access_vein, levels = c("popliteal", "small_saphenous", "femoral"))
    coxph(Surv(time, status) ~ access_vein, data = p, ties = "efron")

(``summary(fit)$coefficients``, printed with ``digits = 15``: coef, se(coef), Pr(>|z|).)
"""

from __future__ import annotations

import math

import pytest
from lifelines.statistics import multivariate_logrank_test

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter, cohort_sql
from analytics.present import format as fmt
from analytics.present.tables import table1
from analytics.stats import subgroups
from analytics.stats.baseline import baseline
from analytics.stats.engine.normal import Z_95
from analytics.stats.subgroups import FACTORS, factors, subgroup_table
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
# coxph(Surv(time, status) ~ access_vein): coef, se, Wald p of each level vs popliteal
R_FOREST = {
    "small_saphenous": (-0.00311046467528014, 0.0862894253316879, 0.971244977325919),
    "femoral": (0.12502067020725752, 0.1356420342011965, 0.356687360499898),
}


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


def logrank_p(con) -> float:
    """lifelines' log-rank test across the access veins on the patient rows."""
    cohort, params = cohort_sql(CohortFilter())
    rows = con.execute(
        f"SELECT tte_primary_months AS months, tte_primary_event AS event, access_vein "
        f"FROM ({cohort}) WHERE tte_primary_months IS NOT NULL",
        params,
    ).df()
    test = multivariate_logrank_test(rows["months"], rows["access_vein"], rows["event"])
    return test.p_value


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


@pytest.mark.parametrize("crossed_up_to", [5_000, 0], ids=["crossed", "per_level"])
def test_a_declared_variable_is_a_forest_factor_with_its_levels(
    registry, monkeypatch, crossed_up_to
):
    """Its levels in declared order (those with patients), its patients per level, its
    hazard ratios against the first level as R's coxph, the built-ins' rows unchanged."""
    monkeypatch.setattr(subgroups, "CROSS_CLASSIFIED_PATIENTS", crossed_up_to)
    assert factors(WITH_ACCESS) == (*FACTORS, "access_vein")
    table = subgroup_table(registry, CohortFilter(), "primary", 12, WITH_ACCESS)
    builtin = subgroup_table(registry, CohortFilter(), "primary", 12)
    access = table[table["factor"] == "access_vein"].set_index("level")
    assert access.index.tolist() == ["popliteal", "small_saphenous", "femoral"]
    assert access["patients"].to_dict() == access_counts(registry)
    assert access.loc["popliteal", "is_reference"]
    assert access.loc["femoral", "logrank_p"] == pytest.approx(logrank_p(registry), rel=1e-6)
    for level, (coef, se, _) in R_FOREST.items():
        assert access.loc[level, "hr"] == pytest.approx(math.exp(coef), rel=1e-6)
        for bound, sign in (("hr_lower", -1), ("hr_upper", 1)):
            wald = math.exp(coef + sign * Z_95 * se)
            assert access.loc[level, bound] == pytest.approx(wald, rel=1e-6)
    others = table[table["factor"] != "access_vein"].reset_index(drop=True)
    assert others.equals(builtin)
