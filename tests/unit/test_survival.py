"""Kaplan-Meier, log-rank and Cox against a textbook data set with published results.

Reference: Freireich et al. (1963) 6-MP vs placebo remission times (Gehan 1965;
Klein & Moeschberger data set drug6mp). Published R output (survival package):
survfit(conf.type = "log-log") for the 6-MP arm; survdiff chi-square 16.8 on 1 df,
p = 4.17e-05; coxph (Efron) coef -1.5721, se 0.4124, HR 0.2076, 95% CI 0.0925-0.466.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.stats import survival
from analytics.stats.survival import (
    estimates_at,
    event_counts,
    hazard_ratios,
    km_curve,
    logrank,
    risk_table,
)

MP_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP_EVENTS = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO_TIMES = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]

# R: summary(survfit(Surv(time, cens) ~ 1, conf.type = "log-log")) for the 6-MP arm.
R_6MP = [
    # time, n.risk, n.event, survival, std.err, lower 95%, upper 95%
    (6, 21, 3, 0.857, 0.0764, 0.620, 0.952),
    (7, 17, 1, 0.807, 0.0869, 0.563, 0.923),
    (10, 15, 1, 0.753, 0.0963, 0.503, 0.889),
    (13, 12, 1, 0.690, 0.1068, 0.432, 0.849),
    (16, 11, 1, 0.627, 0.1141, 0.368, 0.805),
    (22, 7, 1, 0.538, 0.1282, 0.268, 0.747),
    (23, 6, 1, 0.448, 0.1346, 0.188, 0.680),
]


def counts_from(raw: pd.DataFrame) -> pd.DataFrame:
    """Aggregate patient rows to (group, months, events, censored), as DuckDB does."""
    grouped = raw.groupby(["group", "months"])["event"]
    return pd.DataFrame(
        {"events": grouped.sum(), "censored": grouped.count() - grouped.sum()}
    ).reset_index()


@pytest.fixture
def leukaemia() -> pd.DataFrame:
    return counts_from(
        pd.DataFrame(
            {
                "group": ["6-MP"] * 21 + ["placebo"] * 21,
                "months": MP_TIMES + PLACEBO_TIMES,
                "event": MP_EVENTS + [1] * 21,
            }
        )
    )


@pytest.mark.parametrize("reference", R_6MP, ids=lambda r: f"t{r[0]}")
def test_km_matches_r_survfit_log_log(leukaemia, reference):
    time, n_risk, _, survival, std_err, lower, upper = reference
    mp = leukaemia[leukaemia["group"] == "6-MP"]
    row = estimates_at(mp, [time]).iloc[0]
    assert row["estimate"] == pytest.approx(survival, abs=5e-4)
    assert row["se"] == pytest.approx(std_err, abs=5e-5)
    assert row["ci_lower"] == pytest.approx(lower, abs=6e-4)
    assert row["ci_upper"] == pytest.approx(upper, abs=6e-4)
    assert row["at_risk"] == n_risk


def test_logrank_matches_r_survdiff(leukaemia):
    statistic, p, df = logrank(leukaemia)
    assert statistic == pytest.approx(16.79, abs=0.01)
    assert p == pytest.approx(4.17e-05, rel=0.01)
    assert df == 1


def test_cox_hazard_ratio_matches_r_coxph_efron(leukaemia):
    row = hazard_ratios(leukaemia, ["placebo", "6-MP"]).iloc[0]
    assert row["estimable"]
    assert row["hr"] == pytest.approx(0.2076, abs=1e-4)
    assert row["ci_lower"] == pytest.approx(0.09251, abs=1e-4)
    assert row["ci_upper"] == pytest.approx(0.4659, abs=5e-4)
    assert row["p"] == pytest.approx(0.000138, rel=0.01)


def test_weighted_fit_equals_fit_on_patient_rows(leukaemia):
    """Aggregated counts give the same curve as lifelines on one row per patient."""
    raw = KaplanMeierFitter().fit(MP_TIMES, MP_EVENTS)
    curve = km_curve(leukaemia[leukaemia["group"] == "6-MP"]).set_index("months")
    expected = raw.survival_function_.iloc[:, 0]
    np.testing.assert_allclose(curve.loc[expected.index, "estimate"], expected.to_numpy())
    ci = raw.confidence_interval_survival_function_
    inside = (expected > 0) & (expected < 1)  # at 1 lifelines gives 1-1, R NA; we follow R
    np.testing.assert_allclose(
        curve.loc[ci.index[inside], "ci_lower"], ci.iloc[:, 0].to_numpy()[inside]
    )
    assert curve.loc[ci.index[~inside], "ci_lower"].isna().all()


def test_risk_table_counts_kmunicate_style(leukaemia):
    mp = leukaemia[leukaemia["group"] == "6-MP"]
    table = risk_table(mp, [0, 6, 10, 35]).set_index("month")
    # at risk = time >= month; events and censored cumulative up to and including month
    assert table.loc[0].tolist() == [21, 0, 0]
    assert table.loc[6].tolist() == [21, 3, 1]
    assert table.loc[10].tolist() == [15, 5, 3]
    assert table.loc[35].tolist() == [1, 9, 12]


def test_estimate_beyond_last_follow_up_is_not_estimable(leukaemia):
    mp = leukaemia[leukaemia["group"] == "6-MP"]
    row = estimates_at(mp, [40]).iloc[0]
    assert np.isnan(row["estimate"])
    assert row["at_risk"] == 0


def test_se_over_ten_percent_is_flagged(leukaemia):
    mp = leukaemia[leukaemia["group"] == "6-MP"]
    flags = estimates_at(mp, [6, 13]).set_index("month")["unreliable"]
    assert not flags[6]  # SE 0.0764
    assert flags[13]  # SE 0.1068


def test_group_without_events_has_no_hazard_ratio():
    counts = pd.DataFrame(
        {
            "group": ["no", "no", "yes"],
            "months": [5.0, 36.0, 36.0],
            "events": [2, 0, 0],
            "censored": [0, 8, 4],
        }
    )
    row = hazard_ratios(counts, ["no", "yes"]).iloc[0]
    assert not row["estimable"]
    assert "no events in group yes" in row["reason"]


def test_reference_without_events_has_no_hazard_ratio():
    counts = pd.DataFrame(
        {"group": ["no", "yes"], "months": [36.0, 5.0], "events": [0, 2], "censored": [8, 4]}
    )
    row = hazard_ratios(counts, ["no", "yes"]).iloc[0]
    assert not row["estimable"]
    assert "reference" in row["reason"]


def test_a_one_patient_group_whose_cox_estimate_diverges_is_not_estimable():
    # group b: a single patient, failing before anyone in a; the partial likelihood
    # increases without bound in b's coefficient, so no finite interval exists
    counts = pd.DataFrame(
        {
            "group": ["a", "a", "a", "b"],
            "months": [3.0, 6.0, 12.0, 1.0],
            "events": [1, 1, 0, 1],
            "censored": [0, 0, 5, 0],
        }
    )
    (row,) = hazard_ratios(counts, ["a", "b"]).to_dict("records")
    assert not row["estimable"]
    assert "too few patients or events" in row["reason"]


def test_no_interval_where_the_estimate_reaches_zero():
    # R: survfit(Surv(c(1, 2), c(1, 1)) ~ 1, conf.type = "log-log") gives NA limits at S = 0
    counts = pd.DataFrame(
        {"group": ["all", "all"], "months": [1.0, 2.0], "events": [1, 1], "censored": [0, 0]}
    )
    last = km_curve(counts).iloc[-1]
    assert last["estimate"] == 0
    assert pd.isna(last["ci_lower"]) and pd.isna(last["ci_upper"])


def test_weighted_cox_on_a_registry_agrees_with_lifelines_on_patient_rows(
    registry_path, monkeypatch
):
    # Above EXACT_COX_PATIENTS the fit runs on aggregated rows with frequency weights;
    # the reference is lifelines itself on one row per patient, straight from the view.
    con = open_cohort(registry_path)
    monkeypatch.setattr(survival, "EXACT_COX_PATIENTS", 0)
    counts = event_counts(con, CohortFilter(), "primary", "thrombophilia")
    row = hazard_ratios(counts, ["no", "yes"]).iloc[0]
    patients = con.execute(
        """SELECT t.months, t.event::INT AS event, p.thrombophilia::INT AS thrombophilia
        FROM time_to_event AS t JOIN patients AS p USING (patient_id)
        WHERE t.endpoint = 'primary' AND p.technical_success"""
    ).df()
    con.close()
    reference = CoxPHFitter().fit(patients, "months", "event").summary.loc["thrombophilia"]
    assert row["hr"] == pytest.approx(reference["exp(coef)"], rel=2e-3)
    assert row["ci_lower"] == pytest.approx(reference["exp(coef) lower 95%"], rel=5e-3)
    assert row["ci_upper"] == pytest.approx(reference["exp(coef) upper 95%"], rel=5e-3)
    assert row["hr"] > 1  # thrombophilia worsens patency in the synthetic registry
