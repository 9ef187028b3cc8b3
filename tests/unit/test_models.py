"""Adjusted Cox models against R's survival package, fitted on the same patient rows.

References computed with R 4.2.2 Patched (2022-11-10 r83330), survival 3.5.3, on patient
rows exported from the cohort files by DuckDB (not by the code under test):

    COPY (SELECT patient_id, tte_primary_months AS time, tte_primary_event::INT AS status,
                 age_years, bmi, symptom_duration_months, sex, lesion_side, center,
                 thrombophilia::INT AS thrombophilia
          FROM limb_summary WHERE technical_success) TO 'patients.csv' (HEADER)
    COPY (SELECT patient_id, month FROM events WHERE event = 'recurrent_dvt') TO 'rdvt.csv'

The demo cohort is ``build-demo``; the registry
``synth --single-limb --patients 3000 --centers 6 --seed 1`` (the ``registry_path``
fixture). The counting-process rows of the time-varying fits are
built in R by ``tmerge`` from the events table, independently of the code under test:

    first <- aggregate(month ~ patient_id, data = rdvt, FUN = min)
    base <- tmerge(p, p, id = patient_id, event = event(time, status))
    cp <- tmerge(base, first, id = patient_id, rdvt = tdc(month))

The proportional-hazards test. R >= 3.0's ``cox.zph`` uses the exact per-time variance
(Therneau's 2019 change), lifelines the Grambsch-Therneau approximation (variance of the
scaled residuals ~ d * var(beta)) that survival < 3.0 used, so they differ: on the demo
cox.zph(fit, transform = "km", terms = FALSE) gives chisq 0.0353 (symptom duration),
0.0659 (thrombophilia), global 0.0679, against lifelines' 0.00361, 0.0311 and our global
0.0635. What matches is the old formula, written out in R on R's own Schoenfeld residuals
with lifelines' Kaplan-Meier transform (1 - S(t) at each event time, S right-continuous):

    sres <- as.matrix(residuals(fit, "schoenfeld")); d <- nrow(sres); V <- fit$var
    g <- 1 - summary(survfit(Surv(time, status) ~ 1, data), times = as.numeric(rownames(sres)))$surv
    xx <- g - mean(g)
    per <- colSums(xx * (d * sres %*% V))^2 / (d * diag(V) * sum(xx^2))
    u <- colSums(xx * sres); global <- c(u %*% V %*% u) * d / sum(xx^2)

Those values are pinned below (PH_OLD_R) and agree with ours to 1e-6. Run on the fit with
the covariates in their clinical units (I(symptom_duration_months / 12)) R gives the same
statistics to 13 digits: rescaling a covariate leaves its PH test unchanged.
"""

from __future__ import annotations

import json
import math

import pytest

from analytics.cohort.db import open_cohort
from analytics.filters import DEFAULT_FILTER, CohortFilter
from analytics.glossary import TOO_FEW_EVENTS_REASON
from analytics.stats import models
from analytics.stats.models import GLOBAL, ModelError, adjusted_model, check_covariates
from tests.conftest import add_events, add_patient

# Continuous covariates enter per their clinical unit (rules.COVARIATE_UNITS), in R as
# I(x / unit): age per 10 years, BMI per 5 kg/m², DVT duration per 12 months.
# coxph(Surv(time, status) ~ I(symptom_duration_months / 12) + thrombophilia, data = demo,
#       ties = "efron"): coef, se, Wald p
DEMO_R = {
    "symptom_duration_months": (1.00895002489943, 0.2781308727428, 0.0002860581518404),
    "thrombophilia=yes": (0.07674699024, 0.63842732798, 0.9043147600918),
}
DEMO_PH_OLD_R = {
    "symptom_duration_months": (0.00360901760, 0.9520958217),
    "thrombophilia=yes": (0.03110596927, 0.8600041795),
    GLOBAL: (0.06353601356, 0.9687312951),
}
# coxph(Surv(time, status) ~ I(age_years / 10) + center + thrombophilia + sex + I(bmi / 5),
#       data = reg, ties = "efron"), center a factor (reference C01), n = 2778, 1082 events
REGISTRY_R = {
    "age_years": (0.009488217921071, 0.02124666395954, 6.551823246857e-01),
    "center=C02": (-0.2198029788597, 0.091930459455, 1.680392179e-02),
    "center=C03": (-0.0770579735510, 0.092575914331, 4.051967184e-01),
    "center=C04": (-0.0189393780744, 0.097880315447, 8.465711100e-01),
    "center=C05": (-0.5325581987185, 0.124935031560, 2.019886733e-05),
    "center=C06": (0.2002065712941, 0.100029169907, 4.534048431e-02),
    "thrombophilia=yes": (0.6100177299410, 0.063704925247, 1.011930300e-21),
    "sex=M": (0.0186272533866, 0.060924250378, 7.597992021e-01),
    "bmi": (0.095162568233161, 0.09657689483099, 3.244495117640e-01),
}
REGISTRY_PH_OLD_R = {
    "age_years": (1.172738848809, 0.2788391947),
    "center=C02": (0.451400019112, 0.5016708564),
    "center=C03": (0.490250591262, 0.4838155427),
    "center=C04": (0.137116868541, 0.7111642265),
    "center=C05": (0.248239862244, 0.6183171804),
    "center=C06": (0.077909724994, 0.7801503286),
    "thrombophilia=yes": (0.003501549737, 0.9528136027),
    "sex=M": (2.190222523704, 0.1388892488),
    "bmi": (1.524691072135, 0.2169109722),
    GLOBAL: (6.286959218904, 0.7108900431),
}
# coxph(Surv(tstart, tstop, event) ~ rdvt + I(symptom_duration_months / 12), data = cp,
#       ties = "efron") on the demo (37 rows), and ~ rdvt alone
DEMO_TV_R = {
    "recurrent_dvt": (2.14633742214, 1.41491251751, 0.1292818283648),
    "symptom_duration_months": (0.8893042922278, 0.256362199444, 0.0005225221718262),
}
DEMO_TV_CRUDE_R = {"recurrent_dvt": (3.766893752, 1.22556302, 0.002114909106)}
# ~ rdvt + thrombophilia + I(age_years / 10) on the registry (3110 rows)
REGISTRY_TV_R = {
    "recurrent_dvt": (-0.2176690910374, 0.140976480983, 1.225859193e-01),
    "thrombophilia=yes": (0.6199465184107, 0.063844974723, 2.728413430e-22),
    "age_years": (0.002304508632387, 0.02106235127987, 9.128744113305e-01),
}


def assert_terms(terms, expected):
    """Each term's coef, se and Wald p as R's, and its HR and CI from them."""
    assert {t.term for t in terms} == set(expected)
    for term in terms:
        coef, se, p = expected[term.term]
        assert term.coef == pytest.approx(coef, rel=1e-6, abs=1e-9), term.term
        assert term.se == pytest.approx(se, rel=1e-6), term.term
        assert term.p == pytest.approx(p, rel=1e-5), term.term
        assert term.hr == pytest.approx(2.718281828459045**coef, rel=1e-6)
        assert term.ci_lower == pytest.approx(2.718281828459045 ** (coef - 1.959963985 * se))
        assert term.ci_upper == pytest.approx(2.718281828459045 ** (coef + 1.959963985 * se))


def assert_ph(tests, expected):
    assert [t.term for t in tests][-1] == GLOBAL
    assert {t.term: (t.statistic, t.p) for t in tests} == {
        term: (pytest.approx(s, rel=1e-6), pytest.approx(p, rel=1e-6))
        for term, (s, p) in expected.items()
    }


def test_demo_adjusted_hazard_ratios_match_r_coxph_efron(demo):
    model = adjusted_model(
        demo, DEFAULT_FILTER, "primary", ["symptom_duration_months", "thrombophilia"]
    )
    assert (model.patients, model.events, model.excluded) == (34, 14, 0)
    assert_terms(model.terms, DEMO_R)
    assert model.terms[1].reference == "no" and model.terms[1].level == "yes"


def test_demo_ph_test_matches_the_grambsch_therneau_formula_in_r(demo):
    model = adjusted_model(
        demo, DEFAULT_FILTER, "primary", ["symptom_duration_months", "thrombophilia"]
    )
    assert_ph(model.ph_test, DEMO_PH_OLD_R)
    assert model.ph_test[-1].df == 2


def test_ph_test_per_term_is_lifelines_own(demo):
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    frame = demo.execute(
        "SELECT tte_primary_months AS t, tte_primary_event AS e, "
        "symptom_duration_months / 12 AS d, "
        "thrombophilia::DOUBLE AS th FROM limb_summary WHERE technical_success"
    ).df()
    fitter = CoxPHFitter().fit(frame, "t", "e")
    lifelines = proportional_hazard_test(fitter, frame, time_transform="km").summary
    model = adjusted_model(
        demo, DEFAULT_FILTER, "primary", ["symptom_duration_months", "thrombophilia"]
    )
    ours = [t.statistic for t in model.ph_test[:2]]
    assert ours == pytest.approx(lifelines.loc[["d", "th"], "test_statistic"].tolist(), rel=1e-5)


def test_registry_five_covariates_match_r_coxph_efron(registry_path):
    from analytics.cohort.db import open_cohort

    with open_cohort(registry_path) as con:
        model = adjusted_model(
            con, DEFAULT_FILTER, "primary", ["age_years", "center", "thrombophilia", "sex", "bmi"]
        )
    assert (model.patients, model.events) == (2778, 1082)
    assert_terms(model.terms, REGISTRY_R)
    assert [t.term for t in model.terms] == list(REGISTRY_R)  # the order asked for
    assert_ph(model.ph_test, REGISTRY_PH_OLD_R)
    assert model.events_per_variable == pytest.approx(1082 / 9)
    assert not model.few_events_per_variable


def test_crude_ratios_are_one_covariate_models_on_the_same_patients(registry_path):
    from analytics.cohort.db import open_cohort

    with open_cohort(registry_path) as con:
        model = adjusted_model(con, DEFAULT_FILTER, "primary", ["thrombophilia", "center"])
        alone = adjusted_model(con, DEFAULT_FILTER, "primary", ["center"])
    crude = {t.term: t for t in model.crude}
    assert [t.term for t in model.crude] == [t.term for t in model.terms]
    for term in alone.terms:
        assert crude[term.term].hr == pytest.approx(term.hr, rel=1e-9)


def test_recurrent_dvt_time_varying_matches_r_on_tmerge_rows(demo):
    model = adjusted_model(
        demo, DEFAULT_FILTER, "primary", ["symptom_duration_months", "recurrent_dvt"]
    )
    assert model.time_varying
    assert_terms(model.terms, DEMO_TV_R)  # the fit is R's; what is shown of it is not all
    duration, recurrent = model.terms
    assert duration.estimable and recurrent.at_level.events == 2  # after a recurrent DVT
    assert recurrent.reason == TOO_FEW_EVENTS_REASON
    crude_recurrent = {t.term: t for t in model.crude}["recurrent_dvt"]
    assert crude_recurrent.reason == TOO_FEW_EVENTS_REASON
    crude = {t.term: t for t in model.crude}
    coef, se, p = DEMO_TV_CRUDE_R["recurrent_dvt"]
    assert crude["recurrent_dvt"].coef == pytest.approx(coef, rel=1e-6)
    assert crude["recurrent_dvt"].se == pytest.approx(se, rel=1e-6)
    assert crude["recurrent_dvt"].p == pytest.approx(p, rel=1e-5)
    assert model.ph_test == ()
    assert any("no proportional-hazards test" in note for note in model.notes)


def test_a_fit_lifelines_ends_after_an_overshoot_is_run_again_with_shorter_steps(demo):
    # assisted primary ~ recurrent DVT: lifelines' first step of 0.95 overshoots and it
    # stops at -6e15 with a NaN SE, reporting convergence; R on the same counting-process
    # rows: coxph(Surv(start, stop, event) ~ recurrent_dvt) coef 3.132263, se 1.000788
    model = adjusted_model(demo, DEFAULT_FILTER, "assisted_primary", ["recurrent_dvt"])
    (term,) = model.terms
    assert term.coef == pytest.approx(3.132263, abs=1e-6)
    assert term.se == pytest.approx(1.000788, abs=1e-6)


def test_registry_time_varying_matches_r(registry_path):
    from analytics.cohort.db import open_cohort

    with open_cohort(registry_path) as con:
        model = adjusted_model(
            con, DEFAULT_FILTER, "primary", ["recurrent_dvt", "thrombophilia", "age_years"]
        )
    assert_terms(model.terms, REGISTRY_TV_R)


def test_demo_has_too_few_events_per_variable_for_two_covariates(demo):
    model = adjusted_model(
        demo, DEFAULT_FILTER, "primary", ["symptom_duration_months", "thrombophilia"]
    )
    assert model.events_per_variable == 7.0  # 14 events, 2 coefficients
    assert model.few_events_per_variable


def test_a_patient_missing_a_covariate_is_left_out_and_counted(blank):
    for i in range(12):
        add_patient(
            blank, f"P{i:02}", age_years=40 + 3 * i, urokinase=None if i < 3 else i % 2 == 0,
            follow_up_months=36.0,
        )  # fmt: skip
        if i % 3:
            add_events(blank, f"P{i:02}", (2.0 + i, "occlusion"))
    from analytics.cohort.summary import create_summary

    create_summary(blank)
    model = adjusted_model(blank, DEFAULT_FILTER, "primary", ["age_years", "urokinase"])
    assert (model.patients, model.excluded) == (9, 3)
    assert [t.term for t in model.terms] == ["age_years", "urokinase=yes"]


def test_a_level_without_events_is_not_estimable_and_says_which(demo):
    # the demo's four IVC lesions keep primary patency
    model = adjusted_model(demo, DEFAULT_FILTER, "primary", ["seg_ivc"])
    assert model.terms == ()
    assert model.notes == ("not estimable: no events in seg_ivc=yes; leave the covariate out",)


def test_recurrent_dvt_without_events_after_it_is_not_estimable(demo):
    # no demo patient loses secondary patency after a recurrent DVT
    model = adjusted_model(demo, DEFAULT_FILTER, "secondary", ["recurrent_dvt"])
    assert model.terms == ()
    assert "no events in time with recurrent DVT" in model.notes[0]


def test_a_covariate_with_one_level_is_left_out_with_a_note(demo):
    model = adjusted_model(demo, CohortFilter(sex="F"), "primary", ["sex", "age_years"])
    assert [t.term for t in model.terms] == ["age_years"]
    assert "sex left out: one level only in these patients" in model.notes


def test_recurrent_dvt_cannot_predict_its_own_endpoint(demo):
    model = adjusted_model(demo, DEFAULT_FILTER, "recurrent_dvt", ["recurrent_dvt", "age_years"])
    assert not model.time_varying
    assert [t.term for t in model.terms] == ["age_years"]
    assert any("cannot predict itself" in note for note in model.notes)


@pytest.mark.parametrize(
    "column", ["patient_id", "age_years; DROP TABLE patients", "tte_primary_event"]
)
def test_only_allow_listed_columns_reach_sql(column):
    with pytest.raises(ModelError, match="cannot adjust for"):
        check_covariates([column])


def test_report_adjust_json_keys(demo_path):
    from tests.unit.test_report import run_cli

    adjust = "symptom_duration_months,thrombophilia"
    done = run_cli("report", "--db", str(demo_path), "--json", "--adjust", adjust)
    assert done.returncode == 0, done.stderr
    patency = json.loads(done.stdout)["patency"]
    assert set(patency) == {"primary", "assisted_primary", "secondary", "recurrent_dvt"}
    primary = patency["primary"]
    assert [row["term"] for row in primary["adjusted"]] == list(DEMO_R)
    assert set(primary["adjusted"][0]) == {
        "term", "hr", "ci_lower", "ci_upper", "p", "estimable", "reason",
    }  # fmt: skip
    for row in primary["adjusted"]:
        coef, _se, p = DEMO_R[row["term"]]
        assert row["hr"] == pytest.approx(math.exp(coef), rel=1e-6)
        assert row["p"] == pytest.approx(p, rel=1e-5)
    assert primary["adjusted_excluded"] == 0
    assert [row["term"] for row in primary["ph_test"]] == [*DEMO_R, GLOBAL]
    assert primary["ph_test"][-1]["statistic"] == pytest.approx(DEMO_PH_OLD_R[GLOBAL][0], rel=1e-6)
    assert set(primary["ph_test"][0]) == {"term", "statistic", "p"}


def test_report_adjust_time_varying_has_no_ph_test_and_a_note(demo_path):
    from tests.unit.test_report import run_cli

    done = run_cli("report", "--db", str(demo_path), "--json", "--adjust", "recurrent_dvt")
    patency = json.loads(done.stdout)["patency"]
    assert [row["term"] for row in patency["primary"]["adjusted"]] == ["recurrent_dvt"]
    assert patency["primary"]["ph_test"] == []
    assert any("proportional-hazards" in note for note in patency["primary"]["adjusted_notes"])
    assert patency["recurrent_dvt"]["adjusted"] == []
    assert any("cannot predict itself" in n for n in patency["recurrent_dvt"]["adjusted_notes"])


def test_report_adjust_refuses_a_column_off_the_allow_list(demo_path):
    from tests.unit.test_report import run_cli

    done = run_cli("report", "--db", str(demo_path), "--adjust", "patient_id")
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot adjust for 'patient_id'")


def test_a_report_without_adjust_never_imports_lifelines(demo_path):
    import subprocess
    import sys

    from analytics.cohort.db import ROOT

    code = (
        "import sys; from analytics.cli import main; "
        f"main(['report', '--db', {str(demo_path)!r}, '--json']); "
        "sys.exit('lifelines' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=False)
    assert done.returncode == 0


def test_a_step_that_makes_the_hessian_singular_is_run_again_with_shorter_steps(demo, monkeypatch):
    """The Models page on left-sided lesions once raised scipy's LinAlgError from inside
    lifelines' Newton step: the fit is retried with a shorter step, as for an overshoot,
    and gives the same coefficient as the fit that needed no retry."""
    import numpy as np
    from lifelines import CoxPHFitter

    plain = adjusted_model(demo, CohortFilter(lesion_side="left"), "primary", ["bmi"])
    real_fit, calls = CoxPHFitter.fit, []

    def singular_first(self, *args, **kwargs):
        calls.append(kwargs["fit_options"]["step_size"])
        if len(calls) == 1:
            raise np.linalg.LinAlgError("A singular matrix detected")
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(CoxPHFitter, "fit", singular_first)
    retried = adjusted_model(demo, CohortFilter(lesion_side="left"), "primary", ["bmi"])
    assert calls[:2] == [0.95, 0.3]  # the adjusted fit retried; the crude one after it
    assert retried.terms[0].coef == pytest.approx(plain.terms[0].coef, rel=1e-6)


def test_a_time_varying_model_above_the_stated_size_is_refused_with_a_reason(
    registry_path, monkeypatch
):
    """Above TIME_VARYING_MAX_PATIENTS the recurrent-DVT model says why it is not fitted
    (here the limit lowered below the 3,000-patient registry); baseline models still fit."""
    monkeypatch.setattr(models, "TIME_VARYING_MAX_PATIENTS", 1000)
    with open_cohort(registry_path) as con:
        refused = models.adjusted_model(
            con, CohortFilter(), "primary", ["age_years", "recurrent_dvt"]
        )
        fitted = models.adjusted_model(con, CohortFilter(), "primary", ["age_years"])
    assert refused.terms == () and refused.patients > 1000
    assert any("at most" in note and "recurrent_dvt out" in note for note in refused.notes)
    assert fitted.terms


def test_continuous_covariates_are_per_their_clinical_unit_and_say_it(demo):
    """DVT duration per 12 months: R's coxph on I(symptom_duration_months / 12) (DEMO_R),
    labelled so on every surface (the one label source), and never "1.00 (1.00-1.00)"."""
    from analytics.present import format as fmt

    model = adjusted_model(
        demo, DEFAULT_FILTER, "primary", ["symptom_duration_months", "age_years"]
    )
    duration, age = model.terms
    assert fmt.term(duration) == "DVT duration (per 12 months)"
    assert fmt.term(age) == "Age (per 10 years)"
    assert fmt.term_ci(duration).split(" ")[0] not in {"1.00", "1.000"}


@pytest.mark.parametrize(
    ("ratio", "lower", "upper", "text"),
    [
        (0.5932, 0.4211, 0.8205, "0.59 (0.42-0.82)"),
        (1.0012, 1.0003, 1.0021, "1.001 (1.000-1.002)"),  # two decimals: one value
        (1.00012, 1.00004, 1.00021, "1.0001 (1.0000-1.0002)"),
        (1.0, 0.996, 1.004, "1.000 (0.996-1.004)"),
    ],
)
def test_a_ratio_gets_the_decimals_its_interval_needs(ratio, lower, upper, text):
    from analytics.present import format as fmt

    assert fmt.ratio_ci(ratio, lower, upper) == text


def test_a_time_varying_fit_counts_whom_it_left_out_for_no_follow_up_time(demo):
    """All enrolled: the technical failures lose patency at month 0, so the time-varying
    fit has no time of theirs; they are counted, by level, as the patients table has them."""
    every = CohortFilter(population="all")
    model = adjusted_model(demo, every, "primary", ["sex", "recurrent_dvt"])
    failures = demo.execute(
        "SELECT count(*), count(*) FILTER (WHERE sex = 'M') FROM limb_summary "
        "WHERE NOT technical_success"
    ).fetchone()
    (men,) = [t for t in model.terms if t.term == "sex=M"]
    assert (model.unfollowed, men.at_level.unfollowed) == failures
    assert model.excluded == model.unfollowed and model.patients == 37 - failures[0]
    assert adjusted_model(demo, every, "recurrent_dvt", ["sex", "recurrent_dvt"]).unfollowed == 0
