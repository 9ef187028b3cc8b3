"""Views of a registry where patients have two treated limbs: limbs analysed with the
variance clustered by patient, equal to R; people counted once.

The registry is R's ``retinopathy`` as limbs (tests.cohorts.retinopathy_registry: the
treated eye a left limb, the other a right one). References from R 4.2.2, survival 3.5.3:

    r <- retinopathy
    r$side <- factor(ifelse(r$trt == 1, "left", "right"), levels = c("left", "right"))
    s <- summary(survfit(Surv(futime, status) ~ side, data = r, cluster = id,
                         conf.type = "log-log"), times = c(12, 24))
    cbind(s$surv, s$std.err, s$lower, s$upper)
    o <- summary(survfit(Surv(futime, status) ~ 1, data = r, cluster = id,
                         conf.type = "log-log"), times = c(12, 24))
    f <- coxph(Surv(futime, status) ~ side, data = r, cluster = id)
    summary(f)$robscore; c(coef(f), sqrt(f$var), exp(confint(f)))
    quantile(survfit(Surv(futime, status) ~ side, data = r, cluster = id,
                     conf.type = "log-log"), 0.5)
    fit <- survfit(Surv(futime, status) ~ 1, data = r, id = id)
    print(fit, rmean = 36)
    sqrt(sum(residuals(fit, times = 36, type = "rmst", collapse = TRUE)^2))
"""

from __future__ import annotations

import pytest

from analytics import views
from analytics.filters import CohortFilter
from analytics.stats import survival as survival_module
from analytics.stats.survival import survival
from tests.cohorts import retinopathy_registry

R_BY_SIDE = {  # estimate, std.err, lower, upper at 12 and 24 months
    "left": [(0.8858436, 0.02291948, 0.8317858, 0.9233237),
             (0.8098232, 0.02857575, 0.7461827, 0.8590114)],
    "right": [(0.7829399, 0.02965924, 0.7178880, 0.8347204),
              (0.6333910, 0.03496697, 0.5605914, 0.6974468)],
}  # fmt: skip
R_OVERALL = [(0.8343204, 0.02031884), (0.7209237, 0.02515686)]
R_ROBSCORE = (2.634135e01, 2.860967e-07)
R_COX = (0.7766374, 0.1474608, 1.6284351, 2.9027406)  # coef, robust SE, HR CI
R_MEDIAN_RIGHT = (43.7, 31.63, 59.8)
R_RMST_36 = (28.2715104185, 0.676598083075)  # rmean, its SE summed per patient


@pytest.fixture(scope="module")
def registry():
    con = retinopathy_registry()
    yield con
    con.close()


def test_the_header_counts_limbs_and_the_patients_they_belong_to(registry):
    header = views.header_view(registry, CohortFilter())
    assert (header.limbs, header.people, header.total, header.people_in_file) == (
        394, 197, 394, 197,
    )  # fmt: skip
    assert header.bilateral_file
    left = views.header_view(registry, CohortFilter(lesion_side="left"))
    assert (left.limbs, left.people) == (197, 197)


def test_kaplan_meier_by_side_is_clustered_by_patient_as_r_gives_it(registry):
    fit = survival(registry, CohortFilter(), ["primary"], [12, 24], by="lesion_side")["primary"]
    for group in fit.groups:
        at = group.estimates
        got = list(zip(at.estimate, at.se, at.ci_lower, at.ci_upper, strict=True))
        assert got == [pytest.approx(r, abs=1e-6) for r in R_BY_SIDE[group.level]]
    overall = fit.overall.estimates
    assert list(zip(overall.estimate, overall.se, strict=True)) == [
        pytest.approx(r, abs=1e-6) for r in R_OVERALL
    ]
    right = fit.groups[1].median
    assert (right.estimate, right.ci_lower, right.ci_upper) == pytest.approx(R_MEDIAN_RIGHT)


def test_the_comparison_is_the_robust_score_test_and_the_robust_cox_variance(registry):
    comparison = survival(registry, CohortFilter(), ["primary"], [12], by="lesion_side")[
        "primary"
    ].comparison
    assert comparison.logrank.test == "robust_score"
    assert (comparison.logrank.statistic, comparison.logrank.p) == pytest.approx(
        R_ROBSCORE, rel=1e-6
    )
    (ratio,) = comparison.hazard_ratios
    assert (ratio.coefficient, ratio.se, ratio.ci_lower, ratio.ci_upper) == pytest.approx(
        R_COX, rel=1e-6
    )


def test_a_patients_endpoint_counts_each_patient_once(registry):
    """Recurrent DVT is the patient's: 197 patients at risk, not 394 limbs."""
    fit = survival(registry, CohortFilter(), ["recurrent_dvt", "primary"], [12])
    assert fit["recurrent_dvt"].overall.patients == 197
    assert fit["primary"].overall.patients == 394


def test_safety_counts_people(registry):
    assert views.safety_view(registry, CohortFilter()).safety.patients == 197


def test_six_limbs_of_three_patients_are_fewer_than_k():
    """Privacy counts people: in a file with bilateral patients a count of limbs is as
    small as its patients, so 6 limbs of 3 patients show "<5" at k = 5 (and their 3
    patients do not show), while 8 limbs of 8 patients show, as 8 patients would; a file
    of one limb per patient keeps k."""
    from analytics.present.masking import mask

    bilateral = views.Header(6, 394, 394, 3, 197)
    decided = mask(views.header_ledger(bilateral), 5)
    assert (decided.cell(views.N).shown, decided.cell(views.N).k) == ("small", 5)
    assert decided.cell(views.PEOPLE).hidden  # a part of "<5": left out
    eight = mask(views.header_ledger(views.Header(8, 394, 394, 8, 197)), 5)
    assert (eight.cell(views.N).shown, eight.cell(views.PEOPLE).shown) == ("exact", "exact")
    single = views.Header(6, 37, 37, 6, 37)
    assert mask(views.header_ledger(single), 5).cell(views.N).shown == "exact"


def test_the_reports_counts_are_masked_as_limbs_of_patients(registry, tmp_path):
    """The report of the bilateral registry at k = 5: its n is the limbs (394), and its
    patients' safety n 197; both shown (well above 2k - 1)."""
    from analytics.present.report import report_mask

    view = views.report_view(registry, CohortFilter())
    decided = report_mask(view, 5)
    assert decided.cell(views.N).value == 394 and decided.cell(views.PEOPLE).value == 197


def test_a_clustered_curves_counts_carry_the_distinct_patients_behind_them(bilateral_path):
    """Each count of limbs of the Patency view by side (a bilateral patient's two limbs in
    two curves, or in one curve overall) carries its distinct patients, as SQL's
    count(DISTINCT patient_key) over the same limbs gives them (at risk at a month: a
    time at or after it; events and censored before it)."""
    from analytics.cohort.db import open_cohort
    from analytics.filters import cohort_where

    con = open_cohort(str(bilateral_path))
    try:
        view = views.patency_view(con, CohortFilter(), "lesion_side")
        declared = views.patency_ledger(view).patients
        where, params = cohort_where(CohortFilter())
        rows = con.execute(
            "SELECT lesion_side, patient_key, tte_primary_months AS t, tte_primary_event AS e "
            f"FROM limb_summary WHERE {where}",
            params,
        ).df()
    finally:
        con.close()
    checked = 0
    for curve in (view.compared.overall, *view.compared.groups):
        key = view.keys("primary", curve)
        limbs = rows if curve.level == view.compared.overall.level else rows[
            rows.lesion_side == curve.level]  # fmt: skip
        assert declared[key("patients")] == limbs.patient_key.nunique()
        for month in views.curve_months(curve):
            for count, held in (("at risk", limbs.t >= month),
                                ("events", (limbs.t < month) & limbs.e),
                                ("censored", (limbs.t < month) & ~limbs.e)):  # fmt: skip
                assert declared[key(count, month)] == limbs[held].patient_key.nunique()
                checked += 1
    overall = view.keys("primary", view.compared.overall)("patients")
    assert checked > 20 and declared[overall] < len(rows)  # some patients have two limbs


def test_a_subgroups_levels_carry_the_distinct_patients_behind_their_limbs(bilateral_path):
    """By side a patient has one limb a level (patients = limbs); by sex a patient's
    two limbs share one: each level's patients, events and censored are SQL's
    count(DISTINCT patient_key) over its limbs, and the ledger carries them."""
    from analytics.cohort.db import open_cohort
    from analytics.filters import cohort_where

    con = open_cohort(str(bilateral_path))
    try:
        view = views.subgroups_view(con, CohortFilter())
        where, params = cohort_where(CohortFilter())
        rows = con.execute(
            "SELECT lesion_side, sex, patient_key, tte_primary_event AS e "
            f"FROM limb_summary WHERE {where} AND tte_primary_months IS NOT NULL",
            params,
        ).df()
    finally:
        con.close()
    declared = views.subgroups_ledger(view).patients
    table = view.table.set_index(["factor", "level"])
    for factor, column in (("lesion_side", "lesion_side"), ("sex", "sex")):
        for level, limbs in rows.groupby(column):
            row = table.loc[(factor, level)]
            expected = [limbs.patient_key.nunique(), limbs[limbs.e].patient_key.nunique(),
                        limbs[~limbs.e].patient_key.nunique()]  # fmt: skip
            assert [row.people, row.people_events, row.people_censored] == expected
            key = views.curve_key("primary", level, "patients", by=factor)
            assert declared[key] == expected[0]
            if factor == "lesion_side":
                assert row.people == row.patients
    assert (table.people < table.patients).any()  # some patients' two limbs share a level


def test_the_overview_and_tables_leave_incidence_and_restricted_mean_until_read(
    registry, monkeypatch
):
    """Neither page shows the patencies' cumulative incidence or restricted mean: they are
    computed when first read (the report and the Patency page read them), once, and then
    equal R's (retinopathy has no deaths: the incidence is 1 - Kaplan-Meier)."""
    computed = []

    def counting(name):
        original = getattr(survival_module, name)

        def counted(*args, **kwargs):
            computed.append(name)
            return original(*args, **kwargs)

        return counted

    for name in ("cumulative_incidence", "restricted_mean"):
        monkeypatch.setattr(survival_module, name, counting(name))
    overview = views.overview_view(registry, CohortFilter())
    views.tables_view(registry, CohortFilter())
    assert computed == []
    curve = overview.patency.survival["primary"].overall
    assert (curve.rmst.estimate, curve.rmst.se) == pytest.approx(R_RMST_36, rel=1e-9)
    at = list(curve.incidence_at.month)
    estimates = [curve.incidence_at.estimate[at.index(m)] for m in (12, 24)]
    assert estimates == pytest.approx([1 - s for s, _ in R_OVERALL], rel=1e-6)
    assert curve.rmst is curve.rmst and curve.incidence is curve.incidence  # kept, once
    assert sorted(computed) == ["cumulative_incidence", "restricted_mean"]
