"""Comparisons of more than two groups and the landmark, against R and lifelines.

R values were computed with R 4.2.2 (Patched 2022-11-10 r83330) and survival 3.5.3
(Debian's r-base-core and r-cran-survival) on ``lung`` (NCCTG lung cancer, 228 patients;
lifelines' ``load_lung`` recodes status to 0/1, R's ``status - 1``; ph.ecog 0-3, one
patient at 3, one missing). Each reference gives its R call. Random cohorts are expanded
to one row per patient and handed to lifelines and statsmodels.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_lung
from lifelines.statistics import logrank_test, multivariate_logrank_test
from statsmodels.stats.multitest import multipletests

from analytics.glossary import TOO_FEW_EVENTS_REASON
from analytics.rules import MIN_EVENTS_FOR_HR
from analytics.stats.engine.kaplan_meier import at_months, kaplan_meier
from analytics.stats.engine.logrank import holm, pairwise, trend
from analytics.stats.survival import (
    compare,
    group_survival,
    landmark_counts,
    pairwise_tests,
    rmst_differences,
)
from tests.unit.test_engine import cohorts, counts_of

RELATIVE = 1e-6


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    d = load_lung().dropna(subset=["ph.ecog"])
    return pd.DataFrame(
        {
            "group": d["ph.ecog"].astype(int),
            "time": d["time"].astype(float),
            "event": d["status"].astype(int),
            "months": np.ceil(d["time"] / 30.4375),
        }
    )


def on(rows: pd.DataFrame, time: str = "time") -> pd.DataFrame:
    return rows[["group", time, "event"]].rename(columns={time: "time"})


# ---- the log-rank test for trend ------------------------------------------------------------

# R: d <- lung[!is.na(lung$ph.ecog), ]; sd <- survdiff(Surv(time, status) ~ ph.ecog, data = d)
#    w <- seq_along(sd$obs); s <- (sum(w * (sd$obs - sd$exp)))^2 / drop(t(w) %*% sd$var %*% w)
#    pchisq(s, 1, lower.tail = FALSE)
R_TREND = {
    "ph.ecog 0-3": ("time", None, 17.8751207625, 2.35884767413e-05),
    # ... data = subset(d, ph.ecog < 3)
    "ph.ecog 0-2": ("time", 3, 16.4465432272, 5.00413461461e-05),
    # ... Surv(ceiling(time / 30.4375), status): months, heavy ties
    "ph.ecog 0-3, months": ("months", None, 18.4452706502, 1.74854231885e-05),
}


@pytest.mark.parametrize("case", R_TREND, ids=str)
def test_trend_matches_r_survdiff_scores(lung, case):
    time, below, statistic, p = R_TREND[case]
    rows = lung if below is None else lung[lung["group"] < below]
    result = trend(counts_of(on(rows, time)))
    assert result.statistic == pytest.approx(statistic, rel=1e-9)
    assert result.p == pytest.approx(p, rel=1e-8)


def patient_row_trend(rows: pd.DataFrame, levels: list) -> float | None:
    """The trend statistic straight from patient rows: at each event time, the risk set's
    hypergeometric mean and covariance of the scored events."""
    score = {level: i + 1.0 for i, level in enumerate(levels)}
    w = rows["group"].map(score).to_numpy()
    time, event = rows["time"].to_numpy(), rows["event"].to_numpy()
    u = v = 0.0
    for t in np.unique(time[event == 1]):
        risk = time >= t
        n, d = risk.sum(), ((time == t) & (event == 1)).sum()
        mean = w[risk].mean()
        u += (w[(time == t) & (event == 1)] - mean).sum()
        if n > 1:
            v += d * (n - d) / (n - 1) * ((w[risk] - mean) ** 2).mean()
    return u * u / v if v > 0 else None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(max_groups=4))
def test_trend_matches_a_patient_row_computation(rows):
    levels = sorted(rows["group"].unique())
    result = trend(counts_of(rows))
    expected = patient_row_trend(rows, levels) if len(levels) > 1 else None
    if expected is None or expected < 1e-12:
        assert result is None or result.statistic == pytest.approx(0, abs=1e-9)
        return
    assert result.statistic == pytest.approx(expected, rel=RELATIVE)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(max_groups=4))
def test_trend_is_at_most_the_k_group_logrank_and_is_it_for_two_groups(rows):
    """(w'd)^2 / w'Vw <= d'V^-d (Cauchy-Schwarz): the 1-df test takes one direction of the
    k-1 the log-rank test spans; with two groups they coincide (lifelines on patient rows)."""
    result = trend(counts_of(rows))
    if result is None:
        return
    event_times = rows.loc[rows["event"] == 1, "time"]
    last = rows.groupby("group")["time"].max()
    kept = rows[rows["group"].isin(last[last >= event_times.min()].index)]
    if kept["group"].nunique() < 2:
        return
    logrank = multivariate_logrank_test(kept["time"], kept["group"], kept["event"])
    assert result.statistic <= logrank.test_statistic * (1 + 1e-9) + 1e-9
    if rows["group"].nunique() == 2 == kept["group"].nunique():
        assert result.statistic == pytest.approx(logrank.test_statistic, rel=RELATIVE)


# ---- pairwise log-rank and Holm -------------------------------------------------------------

# R: for each pair, x <- survdiff(Surv(time, status) ~ ph.ecog, data = subset(d, ph.ecog %in%
#    pair)); pchisq(x$chisq, 1, lower.tail = FALSE); then p.adjust(p, "holm")
R_PAIRS = [
    ("0", "1", 3.45683055, 0.0629909490513, 0.125981898103),
    ("0", "2", 16.6823281469, 4.41907402243e-05, 0.000265144441346),
    ("0", "3", 5.7798727022, 0.0162107154204, 0.0648428616815),
    ("1", "2", 8.43344637807, 0.00368381485777, 0.0184190742888),
    ("1", "3", 5.33333494096, 0.0209213160414, 0.0648428616815),
    ("2", "3", 1.24231004861, 0.265026315155, 0.265026315155),
]


def test_pairwise_matches_r_survdiff_on_each_pair(lung):
    tests = pairwise(counts_of(on(lung)))
    assert [(t.level, t.other) for t in tests] == [pair[:2] for pair in R_PAIRS]
    for test, (_, _, statistic, p, _) in zip(tests, R_PAIRS, strict=True):
        assert test.statistic == pytest.approx(statistic, rel=1e-9)
        assert test.p == pytest.approx(p, rel=1e-8)


def test_holm_matches_r_p_adjust_and_statsmodels(lung):
    pairs = pairwise_tests(counts_of(on(lung)))
    assert [(pair.group, pair.other) for pair in pairs] == [pair[:2] for pair in R_PAIRS]
    holm = [pair.p_holm for pair in pairs]
    assert holm == pytest.approx([pair[4] for pair in R_PAIRS], rel=1e-8)
    raw = np.array([pair.p for pair in pairs])
    assert holm == pytest.approx(multipletests(raw, method="holm")[1].tolist(), rel=1e-12)


def comparable(rows: pd.DataFrame) -> bool:
    """R's rule for two groups: both at risk at an event time (else survdiff drops one)."""
    event_times = rows.loc[rows["event"] == 1, "time"]
    if event_times.empty:
        return False
    return bool((rows.groupby("group")["time"].max() >= event_times.min()).sum() == 2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(max_groups=4))
def test_each_pair_matches_lifelines_logrank_test_on_its_patient_rows(rows):
    counts = counts_of(rows)
    tests = pairwise(counts)
    n = len(counts.levels)
    assert len(tests) == n * (n - 1) // 2
    for test in tests:
        a = rows[rows["group"].astype(str) == test.level]
        b = rows[rows["group"].astype(str) == test.other]
        if not comparable(pd.concat([a, b])):
            assert np.isnan(test.p)
            continue
        expected = logrank_test(a["time"], b["time"], a["event"], b["event"])
        assert test.statistic == pytest.approx(expected.test_statistic, rel=RELATIVE, abs=1e-9)


# few examples: statsmodels' Holm, the oracle, runs gc.collect() at every call (0.1 s)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(max_groups=5))
def test_holm_is_statsmodels_over_the_pairs_that_could_be_compared(rows):
    counts = counts_of(rows)
    pairs = pairwise_tests(counts)
    if len(counts.levels) <= 2:
        assert pairs == ()
        return
    raw = np.array([pair.p for pair in pairs])
    holm = np.array([pair.p_holm for pair in pairs])
    finite = np.isfinite(raw)
    assert (np.isnan(holm) == ~finite).all()
    if finite.any():
        expected = multipletests(raw[finite], method="holm")[1]
        assert holm[finite] == pytest.approx(expected, rel=1e-12)


def test_holm_equals_statsmodels_with_ties_nan_and_ones():
    """The engine's Holm on p-values with ties, NaN (an untestable pair) and values the
    adjustment caps at 1, against statsmodels on the finite ones."""
    p = np.array([0.01, np.nan, 0.04, 0.04, 0.9, 0.003, 0.5, np.nan, 0.2])
    got = holm(p)
    finite = np.isfinite(p)
    assert np.isnan(got[~finite]).all()
    assert got[finite] == pytest.approx(multipletests(p[finite], method="holm")[1], rel=1e-12)
    assert holm(np.array([])).size == 0


# ---- the reference group ----------------------------------------------------------------------


def test_reference_group_matches_r_coxph_relevel(lung):
    # R: coxph(Surv(time, status) ~ relevel(factor(ph.ecog), ref = "1"), ties = "efron",
    #          data = subset(lung, ph.ecog < 3))
    counts = counts_of(on(lung[lung["group"] < 3]))
    comparison = compare(counts, "ph.ecog", reference="1")
    assert comparison.reference == "1"
    assert comparison.levels == ("0", "1", "2")  # the display order is kept
    expected = {
        "0": (0.69167402104, 0.468600490411, 1.02093992894, 0.06350403991738),
        "2": (1.72747593790, 1.195954578158, 2.49522278733, 0.00357109225789),
    }
    assert [ratio.level for ratio in comparison.hazard_ratios] == ["0", "2"]
    for ratio in comparison.hazard_ratios:
        assert ratio.reference == "1"
        hr, lower, upper, p = expected[ratio.level]
        assert (ratio.hr, ratio.ci_lower, ratio.ci_upper) == pytest.approx((hr, lower, upper),
                                                                           rel=1e-8)  # fmt: skip
        assert ratio.p == pytest.approx(p, rel=1e-6)


def test_restricted_mean_differences_are_against_the_reference(lung):
    # R: summary(survfit(Surv(time, status) ~ ph.ecog, data = subset(lung, ph.ecog < 3)),
    #    rmean = 365)$table: rmean 300.718846790, 269.563767128, 207.145032403 and se(rmean)
    #    13.7670544570, 10.2796568092, 17.3969201729 for ph.ecog 0, 1, 2
    counts = counts_of(on(lung[lung["group"] < 3]))
    counts = replace(counts, competing=np.zeros_like(counts.events))  # nobody competes
    groups = [group_survival(counts.of(level), [], horizon=365) for level in counts.levels]
    rmean = {"0": (300.718846790, 13.7670544570), "1": (269.563767128, 10.2796568092),
             "2": (207.145032403, 17.3969201729)}  # fmt: skip
    differences = rmst_differences(groups, "1")
    assert [(d.level, d.reference) for d in differences] == [("0", "1"), ("2", "1")]
    for d in differences:
        (mean, se), (base, base_se) = rmean[d.level], rmean["1"]
        assert d.difference == pytest.approx(mean - base, rel=1e-9)
        spread = 1.959963984540054 * np.hypot(se, base_se)
        expected = (mean - base - spread, mean - base + spread)
        assert (d.ci_lower, d.ci_upper) == pytest.approx(expected, rel=1e-9)


def test_an_unknown_reference_names_the_groups(lung):
    with pytest.raises(ValueError, match=r"'9' is not a group of ph.ecog .* 0, 1, 2, 3"):
        compare(counts_of(on(lung)), "ph.ecog", reference="9")


def test_the_default_reference_is_the_first_level(lung):
    counts = counts_of(on(lung))
    # repr: a not-estimable ratio's NaN is not equal to itself
    assert repr(compare(counts, "ph.ecog", reference="0")) == repr(compare(counts, "ph.ecog"))


@pytest.mark.parametrize("events", [MIN_EVENTS_FOR_HR - 1, MIN_EVENTS_FOR_HR])
def test_a_hazard_ratio_needs_the_minimum_of_events_in_each_group(lung, events):
    """ECOG 0 against the censored ECOG 2 patients and its first ``events`` deaths: one
    short of the minimum is "too few events" and no number; at the minimum, lifelines'
    Efron fit on the same patient rows."""
    ecog2 = lung[lung["group"] == 2].sort_values("time")
    kept = (ecog2["event"] == 0) | (ecog2["event"].cumsum() <= events)
    rows = pd.concat([lung[lung["group"] == 0], ecog2[kept]])
    (ratio,) = compare(counts_of(on(rows)), "ph.ecog").hazard_ratios
    if events < MIN_EVENTS_FOR_HR:
        assert not ratio.estimable and ratio.reason == TOO_FEW_EVENTS_REASON
        assert np.isnan([ratio.hr, ratio.ci_lower, ratio.ci_upper, ratio.p]).all()
        return
    fit = CoxPHFitter().fit(
        rows.assign(ecog2=(rows["group"] == 2).astype(int))[["time", "event", "ecog2"]],
        "time", "event", fit_options={"precision": 1e-12, "r_precision": 1e-15},
    )  # fmt: skip
    row = fit.summary.loc["ecog2"]
    assert ratio.estimable
    assert (ratio.hr, ratio.ci_lower, ratio.ci_upper, ratio.p) == pytest.approx(
        (row["exp(coef)"], row["exp(coef) lower 95%"], row["exp(coef) upper 95%"], row["p"]),
        rel=RELATIVE,
    )


def test_the_one_patient_at_ecog_3_gives_too_few_events(lung):
    ratios = {r.level: r for r in compare(counts_of(on(lung)), "ph.ecog").hazard_ratios}
    assert ratios["1"].estimable and ratios["2"].estimable
    assert ratios["3"].reason == TOO_FEW_EVENTS_REASON


# ---- the landmark --------------------------------------------------------------------------

# R: summary(survfit(Surv(time - 180, status) ~ 1, data = lung, subset = time > 180,
#            conf.type = "log-log"), times = c(100, 200, 365))
R_LANDMARK_DAYS = (180, [
    # time, n.risk, surv, std.err, lower, upper
    (100, 104, 0.79719223, 0.033223326, 0.72252779, 0.85378517),
    (200, 62, 0.54962686, 0.044122834, 0.45910484, 0.63118494),
    (365, 32, 0.35396951, 0.045360046, 0.26641977, 0.44244235),
])  # fmt: skip
# R: lung$m <- ceiling(lung$time / 30.4375); summary(survfit(Surv(m - 6, status) ~ 1,
#    data = lung, subset = m > 6, conf.type = "log-log"), times = c(3, 6, 12, 24))
R_LANDMARK_MONTHS = (6, [
    (3, 117, 0.817738232, 0.031866330, 0.745195418, 0.87139593),
    (6, 79, 0.584780858, 0.043838475, 0.493843501, 0.66498572),
    (12, 39, 0.367412629, 0.046204081, 0.277833705, 0.45713010),
    (24, 4, 0.074382289, 0.033035288, 0.026448592, 0.15585061),
])  # fmt: skip


@pytest.mark.parametrize(
    ("time", "reference"), [("time", R_LANDMARK_DAYS), ("months", R_LANDMARK_MONTHS)]
)
def test_landmark_matches_r_survfit_subset_shifted(time, reference):
    d = load_lung()  # every patient, ph.ecog missing or not
    rows = pd.DataFrame({"group": 0, "time": d["time"].astype(float), "event": d["status"]})
    if time == "months":
        rows["time"] = np.ceil(rows["time"] / 30.4375)
    landmark, expected = reference
    later = landmark_counts(counts_of(rows), landmark)
    assert later.patients.tolist() == [int((rows["time"] > landmark).sum())]  # R's n: 159, 156
    result = at_months(kaplan_meier(later.of("0")), [row[0] for row in expected])
    expected = np.array(expected)
    assert result.at_risk.tolist() == expected[:, 1].astype(int).tolist()
    for column, values in zip(
        ("estimate", "se", "ci_lower", "ci_upper"), expected[:, 2:].T, strict=True
    ):
        assert getattr(result, column) == pytest.approx(values, rel=1e-7)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(max_groups=1), st.integers(0, 12))
def test_landmark_matches_lifelines_on_rows_filtered_and_shifted(rows, landmark):
    later_rows = rows[rows["time"] > landmark]
    later = landmark_counts(counts_of(rows), landmark)
    assert later.patients.sum() == len(later_rows)
    if later_rows.empty:
        return
    curve = kaplan_meier(later.of("0"))
    kmf = KaplanMeierFitter().fit(later_rows["time"] - landmark, later_rows["event"])
    times = kmf.survival_function_.index.to_numpy()
    on_curve = np.isin(times, curve.time)
    assert curve.time.tolist() == times[on_curve].tolist()
    expected = kmf.survival_function_.iloc[:, 0].to_numpy()[on_curve]
    assert curve.estimate == pytest.approx(expected, rel=RELATIVE, abs=1e-12)
