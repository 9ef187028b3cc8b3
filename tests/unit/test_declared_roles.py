"""A variable declared once, and nothing else changed, is a Table 1 row, a subgroup
forest factor and an adjustable covariate: Table 1, the forest and the models derive
from the registry they are given, not from a list written beside it (issue 21).

The declared variable is the access vein, a column of every cohort (data/schema.sql)
that no built-in declares. The references are computed on the registry's patient rows
(``synth --single-limb --patients 3000 --centers 6 --seed 1``, the ``registry_path``
fixture), exported by DuckDB, not by the code under test:

    COPY (SELECT patient_id, tte_primary_months AS time, tte_primary_event::INT AS status,
                 age_years, access_vein
          FROM limb_summary WHERE technical_success) TO 'patients.csv' (HEADER)

and fitted with R 4.2.2 Patched (2022-11-10 r83330), survival 3.5.3:

    p <- read.csv("patients.csv")
    p$access_vein <- factor(p$access_vein, levels = c("popliteal", "small_saphenous", "femoral"))
    coxph(Surv(time, status) ~ access_vein, data = p, ties = "efron")
    coxph(Surv(time, status) ~ access_vein + I(age_years / 10), data = p, ties = "efron")

(``summary(fit)$coefficients``, printed with ``digits = 15``: coef, se(coef), Pr(>|z|).)
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from lifelines.statistics import multivariate_logrank_test

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter, cohort_sql
from analytics.present.tables import table1
from analytics.stats.baseline import baseline
from analytics.stats.engine.normal import Z_95
from analytics.stats.models import ModelError, adjusted_model, check_covariates
from analytics.stats.subgroups import FACTORS, factors, subgroup_table
from analytics.variables import (
    BUILTIN,
    DeclarationError,
    Kind,
    Registry,
    Role,
    Table1Row,
    Variable,
)
from tests.masks import table1_mask

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
# coxph(Surv(time, status) ~ access_vein + I(age_years / 10))
R_ADJUSTED = {
    "access_vein=small_saphenous": (-0.00322917200898956, 0.0862959080203828, 0.970150318962594),
    "access_vein=femoral": (0.12519445682940028, 0.1356507195651490, 0.356050070015652),
    "age_years": (0.00236923137394844, 0.0209989371115578, 0.910168305004992),
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
        plain = baseline(registry, CohortFilter())
        builtin = table1(plain, table1_mask(plain, k))
        with_access = baseline(registry, CohortFilter(), WITH_ACCESS)
        mine = table1(with_access, table1_mask(with_access, k))
        assert mine.iloc[:-1].equals(builtin)
        assert mine.iloc[-1].tolist() == [
            "Access vein: femoral",
            f"{counts['femoral']:,} ({100 * counts['femoral'] / n:.1f}%)",
        ]


def test_a_registry_without_a_variable_has_no_row_factor_or_covariate_for_it(registry):
    without = Registry(tuple(v for v in BUILTIN.variables if v.key != "smoking"))
    fewer, builtin = baseline(registry, CohortFilter(), without), baseline(registry, CohortFilter())
    rows = table1(fewer, table1_mask(fewer, None))
    assert "Smoking" not in set(rows["Characteristic"])
    assert set(table1(builtin, table1_mask(builtin, None))["Characteristic"]) - set(
        rows["Characteristic"]
    ) == {"Smoking"}
    assert factors(without) == tuple(f for f in FACTORS if f != "smoking")
    with pytest.raises(ModelError, match="cannot adjust for 'smoking'"):
        check_covariates(["smoking"], without)


def test_a_declared_variable_is_a_forest_factor_with_its_levels(registry):
    """Its levels in declared order (those with patients), its patients per level, its
    hazard ratios against the first level as R's coxph, the built-ins' rows unchanged."""
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


def test_a_declared_variable_is_an_adjustable_covariate_fitted_as_r(registry):
    with pytest.raises(ModelError, match="cannot adjust for 'access_vein'; choose from"):
        check_covariates(["access_vein"])
    assert check_covariates(["access_vein"], WITH_ACCESS) == ("access_vein",)
    assert list(WITH_ACCESS.covariates())[-1] == "access_vein"
    model = adjusted_model(
        registry, CohortFilter(), "primary", ["access_vein", "age_years"], WITH_ACCESS
    )
    terms = {t.term: t for t in model.terms}
    assert list(terms) == list(R_ADJUSTED)
    assert terms["access_vein=femoral"].reference == "popliteal"
    assert terms["access_vein=femoral"].at_level.patients == 135
    for name, (coef, se, p) in R_ADJUSTED.items():
        assert terms[name].coef == pytest.approx(coef, rel=1e-6, abs=1e-9), name
        assert terms[name].se == pytest.approx(se, rel=1e-6), name
        assert terms[name].p == pytest.approx(p, rel=1e-6), name
    crude = {t.term: t for t in model.crude}
    for level, (coef, se, _) in R_FOREST.items():
        assert crude[f"access_vein={level}"].coef == pytest.approx(coef, rel=1e-6)
        assert crude[f"access_vein={level}"].se == pytest.approx(se, rel=1e-6)


def test_a_category_covariate_is_declared_as_a_grouping_too():
    """Its terms are its levels against the first, split as its grouping splits."""
    alone = replace(ACCESS_VEIN, table1=None, roles=(Role.COVARIATE,))
    with pytest.raises(DeclarationError, match="a yes/no or category covariate is a grouping"):
        BUILTIN.extended([alone])
