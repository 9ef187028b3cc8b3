"""The engine's median, restricted mean and cumulative incidence against R and lifelines.

R values were computed with R 4.2.2 (Patched 2022-11-10) and survival 3.5.3 (Debian's
r-base-core and r-cran-survival); each reference gives its R call. ``lung`` is R's NCCTG
lung cancer data (lifelines' ``load_lung``, status recoded to 0/1), ``aml`` R's acute
myelogenous leukaemia data (23 patients, written out below). Random data sets are
expanded to one row per patient and handed to lifelines.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.datasets import load_lung
from lifelines.utils import median_survival_times, restricted_mean_survival_time

from analytics.stats.engine.aalen_johansen import cumulative_incidence, incidence_at
from analytics.stats.engine.counts import Counts
from analytics.stats.engine.kaplan_meier import kaplan_meier
from analytics.stats.engine.median import TOLERANCE, median_time
from analytics.stats.engine.normal import Z_95
from analytics.stats.engine.restricted_mean import restricted_mean, restricted_mean_difference


def counts_of(time, event, competing=None) -> Counts:
    """One group's patient rows aggregated per time, as DuckDB returns them."""
    competing = np.zeros(len(time), int) if competing is None else np.asarray(competing)
    rows = pd.DataFrame({"t": np.asarray(time, float), "e": np.asarray(event, int),
                         "c": competing})  # fmt: skip
    g = rows.groupby("t").agg(e=("e", "sum"), n=("e", "size"), c=("c", "sum")).reset_index()
    return Counts(
        levels=("all",),
        group=np.zeros(len(g), int),
        time=g["t"].to_numpy(float),
        events=g["e"].to_numpy(int),
        censored=(g["n"] - g["e"]).to_numpy(int),
        competing=g["c"].to_numpy(int),
    )


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    d = load_lung()
    return pd.DataFrame(
        {
            "days": d["time"].astype(float),
            "months": np.ceil(d["time"] / 30.4375),
            "dead": d["status"].astype(int),
            "sex": d["sex"].astype(int),
        }
    )


AML = {  # R: aml (survival 3.5.3): time in weeks, status, x
    "Maintained": ([9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161], [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]),
    "Nonmaintained": ([5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45],
                      [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]),
}  # fmt: skip

# ---- median and restricted mean ------------------------------------------------------------

# (median, 0.95LCL, 0.95UCL, rmean, se(rmean)) from
# summary(survfit(Surv(time, status - 1) ~ sex, data = lung, conf.type = "log-log"),
#         rmean = 365)$table, and the same on ceiling(time / 30.4375) with rmean = 12
R_LUNG = {
    ("days", 1, 365): (270, 210, 306, 241.495085192, 10.3582264911),
    ("days", 2, 365): (426, 345, 524, 297.465409532, 10.7913239788),
    ("months", 1, 12): (9, 7, 11, 8.26320660016, 0.326363012774),
    ("months", 2, 12): (14, 12, 18, 10.04658205342, 0.330961769923),
}


@pytest.mark.parametrize("case", R_LUNG, ids=str)
def test_median_and_restricted_mean_match_r_survfit_on_lung(lung, case):
    time, sex, horizon = case
    rows = lung[lung["sex"] == sex]
    curve = kaplan_meier(counts_of(rows[time], rows["dead"]))
    median, lower, upper, rmean, se = R_LUNG[case]
    result = median_time(curve)
    assert (result.estimate, result.ci_lower, result.ci_upper) == (median, lower, upper)
    mean = restricted_mean(curve, horizon)
    assert (mean.estimate, mean.se) == pytest.approx((rmean, se), rel=1e-9)
    assert not mean.beyond_follow_up


def test_median_not_reached_limit_and_restricted_mean_difference_match_r_on_aml():
    """R: summary(survfit(Surv(time, status) ~ x, aml, conf.type = "log-log"), rmean = 36):
    Maintained median 31 (13, NA), rmean 27.425 (se 3.00922057105); Nonmaintained 23
    (5, 33), rmean 21.1527777778 (se 3.52678655147)."""
    curves = {arm: kaplan_meier(counts_of(*AML[arm])) for arm in AML}
    maintained = median_time(curves["Maintained"])
    assert (maintained.estimate, maintained.ci_lower) == (31, 13)
    assert np.isnan(maintained.ci_upper)  # not reached: null in the report
    other = median_time(curves["Nonmaintained"])
    assert (other.estimate, other.ci_lower, other.ci_upper) == (23, 5, 33)
    means = {arm: restricted_mean(curve, 36) for arm, curve in curves.items()}
    assert means["Maintained"].estimate == pytest.approx(27.425, rel=1e-9)
    assert means["Maintained"].se == pytest.approx(3.00922057105, rel=1e-9)
    assert means["Nonmaintained"].estimate == pytest.approx(21.1527777778, rel=1e-9)
    assert means["Nonmaintained"].se == pytest.approx(3.52678655147, rel=1e-9)
    difference = restricted_mean_difference(
        "Nonmaintained", means["Nonmaintained"], "Maintained", means["Maintained"]
    )
    expected = 21.1527777778 - 27.425
    spread = Z_95 * np.hypot(3.00922057105, 3.52678655147)
    assert difference.difference == pytest.approx(expected, rel=1e-9)
    assert (difference.ci_lower, difference.ci_upper) == pytest.approx(
        (expected - spread, expected + spread), rel=1e-9
    )


def test_median_is_the_midpoint_where_the_curve_sits_at_one_half_as_r():
    """R: survfit(Surv(c(1, 2, 3, 4), rep(1, 4)) ~ 1, conf.type = "log-log"): median 2.5,
    LCL 1, UCL NA; rmean = 3: 2.25 (se 0.414578098794). With censoring,
    Surv(c(1, 2, 2.5, 3, 4, 5, 6, 7), c(1, 1, 0, 1, 1, 0, 1, 0)): median 4, LCL 1, UCL NA,
    rmean = 7: 4.35 (se 0.791083118263)."""
    curve = kaplan_meier(counts_of([1, 2, 3, 4], [1, 1, 1, 1]))
    result = median_time(curve)
    assert (result.estimate, result.ci_lower) == (2.5, 1)
    assert np.isnan(result.ci_upper)
    mean = restricted_mean(curve, 3)
    assert (mean.estimate, mean.se) == pytest.approx((2.25, 0.414578098794), rel=1e-9)
    curve = kaplan_meier(counts_of([1, 2, 2.5, 3, 4, 5, 6, 7], [1, 1, 0, 1, 1, 0, 1, 0]))
    result = median_time(curve)
    assert (result.estimate, result.ci_lower) == (4, 1)
    assert np.isnan(result.ci_upper)
    mean = restricted_mean(curve, 7)
    assert (mean.estimate, mean.se) == pytest.approx((4.35, 0.791083118263), rel=1e-9)


def test_group_without_events_has_no_median_and_the_whole_horizon_as_mean():
    curve = kaplan_meier(counts_of([3, 12, 40], [0, 0, 0]))
    result = median_time(curve)
    assert np.isnan([result.estimate, result.ci_lower, result.ci_upper]).all()
    mean = restricted_mean(curve, 36)
    assert (mean.estimate, mean.se) == (36, 0)


def test_one_patient_with_an_event():
    curve = kaplan_meier(counts_of([5], [1]))
    result = median_time(curve)
    assert result.estimate == 5
    assert np.isnan([result.ci_lower, result.ci_upper]).all()  # no band at S = 0 or 1, as R
    mean = restricted_mean(curve, 36)  # the curve reached 0: the mean is known beyond it
    assert (mean.estimate, mean.se, mean.beyond_follow_up) == (5, 0, False)


def test_horizon_beyond_the_last_follow_up_has_no_mean():
    mean = restricted_mean(kaplan_meier(counts_of([5, 30], [1, 0])), 36)
    assert mean.beyond_follow_up
    assert np.isnan([mean.estimate, mean.se]).all()
    empty = Counts(("all",), *(np.zeros(0, int),) * 2, np.zeros(0, int), np.zeros(0, int))
    assert restricted_mean(kaplan_meier(empty), 36).beyond_follow_up


def patient_rows(draw: st.DrawFn) -> pd.DataFrame:
    """Small cohorts with heavy ties: integer times 0-12, any mix of events."""
    n = draw(st.integers(1, 60))
    time = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    event = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame({"time": np.array(time, float), "event": np.array(event, int)})


cohorts = st.composite(patient_rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(), st.integers(0, 14))
def test_median_and_restricted_mean_match_lifelines_on_patient_rows(rows, horizon):
    """lifelines takes the first time S <= 0.5 (no midpoint rule), not reached as inf, and
    gives its band a value where S = 0 (R's is NA there, so it does not reach 0.5)."""
    curve = kaplan_meier(counts_of(rows["time"], rows["event"]))
    kmf = KaplanMeierFitter().fit(rows["time"], rows["event"])
    result = median_time(curve)
    bands = median_survival_times(kmf.confidence_interval_).to_numpy()[0]
    for ours, values, theirs in (
        (result.estimate, curve.estimate, median_survival_times(kmf)),
        (result.ci_lower, curve.ci_lower, bands[0]),
        (result.ci_upper, curve.ci_upper, bands[1]),
    ):
        if (np.abs(values - 0.5) < TOLERANCE).any():
            continue  # R's midpoint rule, which lifelines does not have (tested above)
        if values is not curve.estimate and (curve.estimate <= 0).any():
            continue
        assert (np.nan_to_num(ours, nan=np.inf)) == pytest.approx(theirs)
    mean = restricted_mean(curve, horizon)
    if mean.beyond_follow_up:
        assert horizon > rows["time"].max()
        return
    assert mean.estimate == pytest.approx(restricted_mean_survival_time(kmf, t=horizon))


# ---- cumulative incidence, death competing --------------------------------------------------

# R: l <- lung; l$state <- factor(ifelse(l$status == 1, "censor", ifelse(l$sex == 1,
#    "event", "death")), levels = c("censor", "event", "death"));
#    summary(survfit(Surv(time, state) ~ 1, data = l), times = ...)$pstate[, "event"]
# (an endpoint and a competing event from the same data: men's deaths are the endpoint,
# women's compete); on ceiling(time / 30.4375) every month holds ties of both kinds.
R_LUNG_PSTATE = {
    "days": ([100, 200, 365, 500, 730],
             [0.105307237944, 0.239496989865, 0.409464454536, 0.484440339690, 0.594496849621]),
    "months": ([3, 6, 12, 24],
               [0.0921052631579, 0.2247052817228, 0.4053982877937, 0.5911198714599]),
}  # fmt: skip


@pytest.mark.parametrize("time", R_LUNG_PSTATE)
def test_cumulative_incidence_matches_r_multistate_pstate(lung, time):
    counts = counts_of(
        lung[time],
        (lung["dead"] == 1) & (lung["sex"] == 1),
        (lung["dead"] == 1) & (lung["sex"] == 2),
    )
    months, expected = R_LUNG_PSTATE[time]
    result = incidence_at(cumulative_incidence(counts), months)
    assert result.estimate == pytest.approx(expected, rel=1e-9)
    assert ((result.ci_lower < result.estimate) & (result.estimate < result.ci_upper)).all()


def competing_rows(draw: st.DrawFn) -> pd.DataFrame:
    """Cohorts without tied times (lifelines jitters ties at random): 0 censored, 1 the
    endpoint, 2 death."""
    n = draw(st.integers(1, 50))
    time = draw(st.lists(st.integers(1, 500), min_size=n, max_size=n, unique=True))
    state = draw(st.lists(st.sampled_from([0, 1, 2]), min_size=n, max_size=n))
    return pd.DataFrame({"time": np.array(time, float) / 10, "state": state})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.composite(competing_rows)())
def test_cumulative_incidence_matches_lifelines_without_ties(rows):
    counts = counts_of(rows["time"], rows["state"] == 1, rows["state"] == 2)
    result = cumulative_incidence(counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' warning when no endpoint happened
        ajf = AalenJohansenFitter().fit(rows["time"], rows["state"], event_of_interest=1)
    expected = ajf.cumulative_density_.iloc[:, 0]
    assert result.estimate == pytest.approx(expected.loc[result.time].to_numpy(), abs=1e-12)
    bounds = np.sort(ajf.confidence_interval_.loc[result.time].to_numpy(), axis=1)
    # lifelines' variance is 0 * inf = NaN where the last patients all leave; ours is 0 there
    emptied = result.free <= 0
    assert not np.isnan(bounds[~emptied & (result.estimate > 0) & (result.estimate < 1)]).any()
    inside = (result.estimate > 0) & (result.estimate < 1) & ~emptied
    assert result.ci_lower[inside] == pytest.approx(bounds[inside, 0], rel=1e-6)
    assert result.ci_upper[inside] == pytest.approx(bounds[inside, 1], rel=1e-6)


@settings(max_examples=100, deadline=None)
@given(cohorts())
def test_without_deaths_the_cumulative_incidence_is_one_minus_kaplan_meier(rows):
    counts = counts_of(rows["time"], rows["event"])
    result = cumulative_incidence(counts)
    assert result.estimate == pytest.approx(1 - kaplan_meier(counts).estimate, abs=1e-12)


def test_deaths_lower_the_incidence_below_one_minus_kaplan_meier():
    """Two endpoints and two deaths among 6: KM censors the deaths, AJ does not."""
    counts = counts_of([1, 2, 3, 4, 5, 6], [1, 0, 1, 0, 0, 0], [0, 1, 0, 1, 0, 0])
    # by hand: F(1) = 1/6; S(2) = 4/6; F(3) = 1/6 + 4/6 * 1/4 = 1/3
    result = incidence_at(cumulative_incidence(counts), [0, 1, 3, 6, 7])
    assert result.estimate[:4] == pytest.approx([0, 1 / 6, 1 / 3, 1 / 3])
    assert np.isnan(result.estimate[4])  # beyond follow-up, one patient still at risk
    assert 1 - kaplan_meier(counts).estimate[2] == pytest.approx(1 - 5 / 6 * 3 / 4)


def test_one_patient_and_a_group_without_endpoints():
    event = cumulative_incidence(counts_of([4], [1], [0]))
    assert event.estimate.tolist() == [1.0]
    assert np.isnan([event.ci_lower, event.ci_upper]).all()
    died = incidence_at(cumulative_incidence(counts_of([4], [0], [1])), [2, 4, 12])
    assert died.estimate.tolist() == [0, 0, 0]  # everyone died: the incidence stays known
    none = cumulative_incidence(counts_of([1, 1, 3], [0, 0, 0], [1, 0, 0]))
    assert none.estimate.tolist() == [0, 0]


def test_cumulative_incidence_needs_the_competing_events_counted():
    counts = Counts(("a",), np.zeros(1, int), np.ones(1), np.ones(1, int), np.zeros(1, int))
    with pytest.raises(ValueError, match="competing"):
        cumulative_incidence(counts)
