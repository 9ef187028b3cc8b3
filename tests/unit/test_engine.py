"""The counts engine against R, and against lifelines and SciPy on the same data as patient rows.

R values were computed with R 4.2.2 and survival 3.5.3 (Debian's r-base-core and
r-cran-survival) on the data sets that ship with lifelines too: ``lung`` (NCCTG lung
cancer, 228 patients; lifelines' ``load_lung`` recodes status to 0/1, R's ``status - 1``)
and Freireich's 6-MP trial. Each reference gives its R call. Random data sets are
expanded to one row per patient and handed to lifelines (convergence tolerance
tightened: its default stops early) and SciPy; the engine must agree to 1e-6.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_lung
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import multivariate_logrank_test
from scipy import stats

from analytics.stats.engine.counts import Counts
from analytics.stats.engine.cox import (
    NO_EVENTS,
    NO_REFERENCE_EVENTS,
    _inverse_squares,
    hazard_ratios,
)
from analytics.stats.engine.kaplan_meier import at_months, kaplan_meier
from analytics.stats.engine.logrank import logrank
from analytics.stats.engine.signed_rank import EXACT, NORMAL, signed_rank

RELATIVE = 1e-6
TIGHT = {"precision": 1e-12, "r_precision": 1e-15, "max_steps": 200}


def counts_of(rows: pd.DataFrame, levels: list | None = None) -> Counts:
    """Patient rows (group, time, event) aggregated per (group, time), as DuckDB returns them."""
    levels = levels or sorted(rows["group"].unique())
    grouped = rows.groupby(["group", "time"])["event"].agg(["sum", "count"]).reset_index()
    return Counts(
        levels=tuple(str(level) for level in levels),
        group=grouped["group"].map({level: i for i, level in enumerate(levels)}).to_numpy(),
        time=grouped["time"].to_numpy(float),
        events=grouped["sum"].to_numpy(int),
        censored=(grouped["count"] - grouped["sum"]).to_numpy(int),
    )


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    d = load_lung()
    return pd.DataFrame(
        {
            "time": d["time"].astype(float),
            "event": d["status"].astype(int),
            "sex": d["sex"].astype(int),
            "inst": d["inst"],
            "ecog": d["ph.ecog"],
            "months": np.ceil(d["time"] / 30.4375),
            "years": np.ceil(d["time"] / 365.25),
        }
    )


def lung_counts(lung: pd.DataFrame, group: str, time: str = "time") -> Counts:
    rows = lung.dropna(subset=[group]).rename(columns={group: "group", time: "t"})
    return counts_of(rows[["group", "t", "event"]].rename(columns={"t": "time"}))


# ---- Kaplan-Meier -------------------------------------------------------------------------

# R: summary(survfit(Surv(time, status - 1) ~ 1, data = lung[lung$sex == 2, ],
#            conf.type = "log-log"), times = c(100, 200, 365, 500, 730))
R_LUNG_FEMALE = [
    # time, n.risk, surv, std.err, lower, upper
    (100, 82, 0.922088353414, 0.0282794136527, 0.8435052055954, 0.962077737666),
    (200, 66, 0.794593489488, 0.0432473071899, 0.6937377503476, 0.865390344694),
    (365, 30, 0.526463030186, 0.0597368539904, 0.4035798232667, 0.635316232824),
    (500, 21, 0.411046135107, 0.0625843689164, 0.2883278750148, 0.529642663898),
    (730, 6, 0.187232497905, 0.0620679022696, 0.0846596532273, 0.320832676867),
]
# The same on months, ceiling(time / 30.4375): heavy ties; times = c(3, 6, 12, 24).
R_LUNG_FEMALE_MONTHS = [
    (3, 88, 0.933333333333, 0.0262936879249, 0.8576200014741, 0.969484427744),
    (6, 77, 0.831388888889, 0.0397212604023, 0.7359299149982, 0.894753218808),
    (12, 39, 0.530505442560, 0.0594499733890, 0.4080289711158, 0.638715037757),
    (24, 8, 0.188670150547, 0.0624542248917, 0.0853636491545, 0.322946189459),
]


@pytest.mark.parametrize(("time", "reference"), [("time", R_LUNG_FEMALE),
                                                 ("months", R_LUNG_FEMALE_MONTHS)])  # fmt: skip
def test_kaplan_meier_matches_r_survfit_log_log(lung, time, reference):
    female = lung_counts(lung[lung["sex"] == 2], "sex", time)
    months = [row[0] for row in reference]
    result = at_months(kaplan_meier(female.of("2")), months)
    expected = np.array(reference)
    assert result.at_risk.tolist() == expected[:, 1].astype(int).tolist()
    for column, values in zip(
        ("estimate", "se", "ci_lower", "ci_upper"), expected[:, 2:].T, strict=True
    ):
        assert getattr(result, column) == pytest.approx(values, rel=1e-9)


def patient_rows(draw: st.DrawFn, max_groups: int = 3) -> pd.DataFrame:
    """Small random cohorts with heavy ties: integer times, some groups tiny or eventless."""
    groups = draw(st.integers(1, max_groups))
    n = draw(st.integers(1, 60))
    group = draw(st.lists(st.integers(0, groups - 1), min_size=n, max_size=n))
    time = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    event = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame({"group": group, "time": np.array(time, float), "event": event}).astype(
        {"event": int}
    )


cohorts = st.composite(patient_rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(max_groups=1))
def test_kaplan_meier_matches_lifelines_on_patient_rows(rows):
    curve = kaplan_meier(counts_of(rows).of("0"))
    kmf = KaplanMeierFitter().fit(rows["time"], rows["event"])
    times = kmf.survival_function_.index.to_numpy()
    on_curve = np.isin(times, curve.time)
    expected = kmf.survival_function_.iloc[:, 0].to_numpy()[on_curve]
    assert curve.estimate == pytest.approx(expected, rel=RELATIVE, abs=1e-12)
    assert curve.at_risk.tolist() == kmf.event_table["at_risk"].to_numpy()[on_curve].tolist()
    ci = kmf.confidence_interval_survival_function_.to_numpy()[on_curve]
    inside = (curve.estimate > 0) & (curve.estimate < 1)
    assert curve.ci_lower[inside] == pytest.approx(ci[inside, 0], rel=RELATIVE)
    assert curve.ci_upper[inside] == pytest.approx(ci[inside, 1], rel=RELATIVE)
    assert np.isnan(curve.ci_lower[~inside]).all()


@settings(max_examples=150, deadline=None)
@given(cohorts(max_groups=1), st.lists(st.floats(0, 14, allow_nan=False), max_size=8))
def test_kmunicate_table_adds_up_to_the_patients(rows, months):
    """At every month: at risk (time >= m) + events before m + censored before m = N."""
    result = at_months(kaplan_meier(counts_of(rows).of("0")), months)
    totals = result.at_risk + result.events + result.censored
    assert totals.tolist() == [len(rows)] * len(months)
    for m, at_risk, events in zip(months, result.at_risk, result.events, strict=True):
        assert at_risk == (rows["time"] >= m).sum()
        assert events == rows.loc[rows["time"] < m, "event"].sum()


def test_estimate_before_the_first_time_is_one_and_after_the_last_is_unknown():
    curve = kaplan_meier(Counts(("a",), np.zeros(2, int), np.array([3.0, 5.0]), np.array([1, 0]),
                                np.array([0, 1])))  # fmt: skip
    result = at_months(curve, [0, 4, 5, 6])
    assert result.estimate[:3].tolist() == [1.0, 0.5, 0.5]
    assert result.se[0] == 0.0
    assert np.isnan(result.estimate[3])  # followed to 5 months only


# ---- log-rank -----------------------------------------------------------------------------


def test_logrank_matches_r_survdiff_on_lung(lung):
    # R: survdiff(Surv(time, status - 1) ~ sex, data = lung)
    result = logrank(lung_counts(lung, "sex"))
    assert result.statistic == pytest.approx(10.3267419549, rel=1e-9)
    assert result.p == pytest.approx(0.00131116452036, rel=1e-8)
    assert result.df == 1
    # R: survdiff(Surv(ceiling(time / 30.4375), status - 1) ~ sex, data = lung)
    assert logrank(lung_counts(lung, "sex", "months")).statistic == pytest.approx(
        11.0015509989, rel=1e-9
    )


def test_logrank_of_four_groups_with_one_patient_matches_r(lung):
    # R: survdiff(Surv(time, status - 1) ~ ph.ecog, data = lung[!is.na(lung$ph.ecog), ])
    result = logrank(lung_counts(lung, "ecog"))
    assert result.statistic == pytest.approx(21.9621316825, rel=1e-9)
    assert result.df == 3


def test_stratified_logrank_matches_r_survdiff_strata(lung):
    # R: survdiff(Surv(time, status - 1) ~ sex + strata(inst), data = lung[!is.na(lung$inst), ])
    # chisq 8.52446736332, p 0.00350403287006
    rows = lung.dropna(subset=["inst"])
    grouped = rows.groupby(["inst", "sex", "time"])["event"].agg(["sum", "count"]).reset_index()
    counts = Counts(
        levels=("1", "2"), group=grouped["sex"].to_numpy() - 1, time=grouped["time"].to_numpy(),
        events=grouped["sum"].to_numpy(), censored=(grouped["count"] - grouped["sum"]).to_numpy(),
    )  # fmt: skip
    result = logrank(counts, strata=grouped["inst"].to_numpy())
    assert result.statistic == pytest.approx(8.52446736332, rel=1e-9)
    assert result.p == pytest.approx(0.00350403287006, rel=1e-8)


@settings(max_examples=150, deadline=None)
@given(cohorts(max_groups=4))
def test_logrank_matches_lifelines_on_patient_rows(rows):
    """R's rule first: a group never at risk at an event time (expected 0) is left out."""
    result = logrank(counts_of(rows))
    event_times = rows.loc[rows["event"] == 1, "time"]
    if event_times.empty:
        assert result is None
        return
    last = rows.groupby("group")["time"].max()
    kept = rows[rows["group"].isin(last[last >= event_times.min()].index)]
    if kept["group"].nunique() < 2:
        assert result is None
        return
    expected = multivariate_logrank_test(kept["time"], kept["group"], kept["event"])
    assert result.statistic == pytest.approx(expected.test_statistic, rel=RELATIVE, abs=1e-9)
    assert result.df == kept["group"].nunique() - 1


def test_logrank_leaves_out_a_group_never_at_risk_at_an_event_as_r_does():
    # R: d <- data.frame(g = c(rep(0, 20), 0, 0, rep(0, 18), 0, 1, 2),
    #   t = c(rep(0.5, 20), 1, 1, rep(2, 18), 2, 2, 0.5), e = c(rep(0, 20), 0, 1, rep(0, 18),
    #   1, 1, 0)); survdiff(Surv(t, e) ~ g, d)$chisq = 5.47459727385 (lifelines: 5.5545)
    rows = pd.DataFrame(
        {"group": [0] * 41 + [1, 2],
         "time": [0.5] * 20 + [1.0, 1.0] + [2.0] * 19 + [2.0, 0.5],
         "event": [0] * 21 + [1] + [0] * 18 + [1] + [1, 0]}
    )  # fmt: skip
    result = logrank(counts_of(rows))
    assert result.statistic == pytest.approx(5.47459727385, rel=1e-9)
    assert result.df == 1


def test_one_group_has_no_logrank():
    assert logrank(Counts(("a",), np.array([0]), np.array([1.0]), np.array([1]), np.array([0]))) \
        is None  # fmt: skip


# ---- Cox ----------------------------------------------------------------------------------

R_COX = {
    # R: coxph(Surv(time, status - 1) ~ factor(sex), data = lung, ties = "efron")
    "lung sex": ("sex", "time", [(0.588002818564, 0.423717830354, 0.815984813171,
                                  0.00149122920488)]),
    # ... on months, ceiling(time / 30.4375)
    "lung sex, months": ("sex", "months", [(0.581769259333, 0.419227513131, 0.807331247363,
                                            0.00119456653476)]),
    # ... on years, ceiling(time / 365.25); the weighted fit on aggregated rows gives 0.627
    "lung sex, years": ("sex", "years", [(0.570110264355, 0.410732826496, 0.791331231778,
                                          0.000782407640322)]),
}  # fmt: skip


@pytest.mark.parametrize("case", R_COX, ids=str)
def test_cox_matches_r_coxph_efron(lung, case):
    group, time, expected = R_COX[case]
    ratios = hazard_ratios(lung_counts(lung, group, time))
    for ratio, (hr, lower, upper, p) in zip(ratios, expected, strict=True):
        assert (ratio.hr, ratio.ci_lower, ratio.ci_upper) == pytest.approx(
            (hr, lower, upper), rel=1e-8
        )
        assert ratio.p == pytest.approx(p, rel=1e-6)


def test_cox_three_levels_matches_r(lung):
    # R: coxph(Surv(time, status - 1) ~ factor(ph.ecog), data = subset(lung, ph.ecog < 3),
    #          ties = "efron"): HR 1.44576775993 (0.979489558252-2.13401398518),
    #          2.49752901707 (1.608294195987-3.87842672484)
    ratios = hazard_ratios(lung_counts(lung[lung["ecog"] < 3], "ecog"))
    assert [r.hr for r in ratios] == pytest.approx([1.44576775993, 2.49752901707], rel=1e-8)
    assert [r.ci_upper for r in ratios] == pytest.approx([2.13401398518, 3.87842672484], rel=1e-8)
    assert [r.p for r in ratios] == pytest.approx([6.35040399174e-02, 4.58179134758e-05], rel=1e-6)


def lifelines_hazard_ratios(rows: pd.DataFrame, levels: list) -> list[float]:
    """lifelines on one row per patient, one indicator per non-reference level."""
    design = pd.DataFrame(
        {f"g{level}": (rows["group"] == level).astype(float) for level in levels[1:]}
    )
    design[["time", "event"]] = rows[["time", "event"]].to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = CoxPHFitter().fit(design, "time", "event", fit_options=TIGHT)
    if any("failed to converge" in str(w.message) for w in caught):
        raise ConvergenceError("lifelines' Newton-Raphson stopped short")
    return fitted.hazard_ratios_.tolist(), fitted.standard_errors_.tolist()


def test_cox_where_lifelines_stops_short_matches_r():
    """Found by Hypothesis: lifelines stops at HR 0.374 with a convergence warning.

    R 4.2.2, survival 3.5.3: d <- data.frame(g = c(0, 1, rep(0, 17)),
    t = c(1, 1, rep(1, 8), 0, rep(1, 8)), e = c(0, 1, rep(0, 8), 1, rep(0, 8)));
    f <- coxph(Surv(t, e) ~ g, d, ties = "efron"); exp(coef(f)) 17.4928556845,
    sqrt(diag(vcov(f))) 1.41435795092 (analytically, HR = sqrt(306)).
    """
    rows = pd.DataFrame({"group": [0, 1] + [0] * 17, "time": [1.0] * 10 + [0.0] + [1.0] * 8,
                         "event": [0, 1] + [0] * 8 + [1] + [0] * 8})  # fmt: skip
    (ratio,) = hazard_ratios(counts_of(rows, [0, 1]))
    assert ratio.hr == pytest.approx(17.4928556845, rel=1e-8)
    assert ratio.se == pytest.approx(1.41435795092, rel=1e-6)
    with pytest.raises(ConvergenceError):
        lifelines_hazard_ratios(rows.assign(time=rows["time"] + 1), [0, 1])


# R: d <- read.csv(...) of the rows below; exp(coef(coxph(Surv(t, e) ~ factor(g), d,
# ties = "efron"))), one row per patient
R_MONTH_TIES = {
    37: (2.24928017821, 2.44462741541),
    5_000: (1.48844053235, 2.08194442799),
    5_001: (1.60346126442, 2.13366371032),
    100_000: (1.55522045635, 2.14182227365),
}


@pytest.mark.parametrize("patients", list(R_MONTH_TIES))
def test_cox_equals_lifelines_on_patient_rows_with_month_ties(patients):
    """Month-rounded times (hundreds of ties per month), three groups, at every size."""
    rng = np.random.default_rng(patients)
    group = rng.integers(0, 3, patients)
    time = np.minimum(np.ceil(rng.exponential(20 / (1 + 0.6 * group))), 48)
    rows = pd.DataFrame({"group": group, "time": time, "event": (rng.random(patients) < 0.7)})
    rows["event"] = rows["event"].astype(int)
    ratios = hazard_ratios(counts_of(rows, [0, 1, 2]))
    expected_hr, expected_se = lifelines_hazard_ratios(rows, [0, 1, 2])
    assert [r.hr for r in ratios] == pytest.approx(expected_hr, rel=RELATIVE)
    assert [r.se for r in ratios] == pytest.approx(expected_se, rel=RELATIVE)
    assert [r.hr for r in ratios] == pytest.approx(R_MONTH_TIES[patients], rel=1e-8)


def test_efrons_sum_of_inverse_squares_beyond_the_written_out_ties_is_the_sum_itself():
    """Sum over l < D of 1/(c - l)^2 (Efron's information at D tied events) to a few units
    in the last place of the sum written out exactly (math.fsum), times whose smallest
    term is large and small in one array, and c far above D, the registry's case: the
    difference of two trigammas (scipy's Hurwitz zeta at 2) loses digits there."""
    c, ties = zip(
        (33.0, 33), (40.25, 33), (1_234.5, 500), (100_000.3, 40), (3e6 + 0.7, 20_000), strict=True
    )
    exact = [
        math.fsum(1 / (ci - tied) ** 2 for tied in range(d)) for ci, d in zip(c, ties, strict=True)
    ]
    got = _inverse_squares(np.array(c) - np.array(ties) + 1.0, np.array(c))
    assert got == pytest.approx(exact, rel=4e-16)
    for one in range(len(c)):
        alone = _inverse_squares(np.array([c[one] - ties[one] + 1.0]), np.array([c[one]]))
        assert alone[0] == pytest.approx(exact[one], rel=4e-16)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(max_groups=3))
def test_cox_matches_lifelines_on_random_cohorts(rows):
    counts = counts_of(rows)
    ratios = hazard_ratios(counts)
    events = counts.events_per_level
    if len(counts.levels) < 2 or events[0] == 0 or not events[1:].all():
        return  # covered by the not-estimable tests below
    if not all(r.estimable for r in ratios):
        return  # no finite maximum (monotone likelihood): lifelines does not converge either
    # the partial likelihood depends on the order of the times only; lifelines mishandles
    # events at time 0 (test_cox_with_events_at_time_zero_matches_r), so it gets time + 1
    shifted = rows.assign(time=rows["time"] + 1)
    try:
        expected_hr, _ = lifelines_hazard_ratios(shifted, sorted(rows["group"].unique()))
    except ConvergenceError:
        return  # lifelines fails where R finds the maximum (test_cox_all_tied_matches_r)
    if max(abs(np.log(expected_hr))) > 10:
        return  # lifelines ran off to infinity on a likelihood R maximises (as above)
    assert [r.hr for r in ratios] == pytest.approx(expected_hr, rel=1e-5)


def test_cox_all_tied_matches_r():
    """Everyone at one time, where lifelines diverges and R finds the maximum.

    R: coxph(Surv(t, e) ~ g, data.frame(g = c(rep(0, 14), 1), t = 0.5,
    e = c(rep(0, 13), 1, 1)), ties = "efron"): coef 2.96744709781.
    """
    counts = Counts(("0", "1"), np.array([0, 1]), np.array([0.5, 0.5]), np.array([1, 1]),
                    np.array([13, 0]))  # fmt: skip
    (ratio,) = hazard_ratios(counts)
    assert ratio.coefficient == pytest.approx(2.96744709781, rel=1e-9)


def test_cox_with_events_at_time_zero_matches_r():
    """Failures at month 0 (technical failures, all enrolled), where lifelines goes astray.

    R: g <- c(rep(0, 42), rep(1, 6), 2); t <- c(rep(0.5, 6), rep(2, 35), 3, rep(1, 6), 2);
    e <- c(rep(0, 3), rep(1, 3), rep(0, 36), rep(0, 4), rep(1, 2), 1);
    coxph(Surv(t, e) ~ factor(g), ties = "efron"): HR 5.94966504882, 12.7097749647
    (lifelines on the same rows with t = 0 for 0.5: 0.032 and 2.40).
    """
    counts = Counts(("0", "1", "2"), np.array([0, 0, 0, 1, 2]), np.array([0.0, 2, 3, 1, 2]),
                    np.array([3, 0, 0, 2, 1]), np.array([3, 35, 1, 4, 0]))  # fmt: skip
    ratios = hazard_ratios(counts)
    assert [r.hr for r in ratios] == pytest.approx([5.94966504882, 12.7097749647], rel=1e-9)


def test_cox_level_without_events_is_not_estimable():
    counts = Counts(
        ("no", "yes", "rare"),
        np.array([0, 0, 0, 1, 1, 2]),
        np.array([1.0, 3, 5, 2, 4, 3]),
        np.array([1, 1, 0, 1, 0, 0]),
        np.array([0, 0, 1, 0, 1, 1]),
    )
    estimable, empty = hazard_ratios(counts)
    assert estimable.estimable
    assert not empty.estimable and empty.reason == NO_EVENTS.format(level="rare")
    assert np.isnan(empty.hr)


def test_cox_reference_without_events_is_not_estimable():
    counts = Counts(("no", "yes"), np.array([0, 1]), np.array([1.0, 2]), np.array([0, 1]),
                    np.array([3, 0]))  # fmt: skip
    (ratio,) = hazard_ratios(counts)
    assert ratio.reason == NO_REFERENCE_EVENTS.format(level="no")


def test_cox_one_patient_per_group_has_no_finite_interval():
    counts = Counts(("a", "b"), np.array([0, 1]), np.array([1.0, 2.0]), np.array([1, 1]),
                    np.array([0, 0]))  # fmt: skip
    (ratio,) = hazard_ratios(counts)
    assert not ratio.estimable


def test_cox_6mp_matches_published_r():
    """Freireich's 6-MP trial: coxph(Surv(time, cens) ~ drug), HR 0.2076 (0.0925-0.4659)."""
    mp = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    mp_event = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    placebo = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
    rows = pd.DataFrame(
        {"group": ["placebo"] * 21 + ["6-MP"] * 21, "time": np.array(placebo + mp, float),
         "event": [1] * 21 + mp_event}
    )  # fmt: skip
    (ratio,) = hazard_ratios(counts_of(rows, ["placebo", "6-MP"]))
    assert ratio.hr == pytest.approx(0.2076, abs=5e-5)
    assert (ratio.ci_lower, ratio.ci_upper) == pytest.approx((0.0925, 0.4659), abs=5e-5)


# ---- Wilcoxon signed-rank -----------------------------------------------------------------


def table_of(differences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, patients = np.unique(differences, return_counts=True)
    return values, patients


def test_signed_rank_exact_matches_r():
    # R: wilcox.test(y, x, paired = TRUE) (Hollander & Wolfe's depression data): V = 5,
    # p = 0.0390625 (exact: 9 pairs, no ties)
    x = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
    y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])
    result = signed_rank(*table_of(np.round(y - x, 6)))
    assert result.method == EXACT
    assert result.statistic == 5
    assert result.p == pytest.approx(0.0390625, rel=1e-12)


# R 4.2.2 with coin 1.4.2 (Debian's r-cran-coin), on the differences d of each data set:
# wilcoxsign_test(d ~ numeric(length(d)), distribution = "exact", zero.method = "Wilcoxon")
# -> statistic(t, "linear") (the positive mid-rank sum, R's V) and pvalue(t). Zeros dropped,
# tied absolute differences at their mid-rank, the exact distribution conditional on them.
COIN_EXACT = {
    "six equal changes": ([-1.0] * 6, 0, 0.03125),
    "ties and zeros": ([1.0, 1, 2, 2, -3, 0, 0], 10, 0.6875),
    "mixed ties and a zero": ([1.0, 2, 2, 3, -1, 0, 4, 4, -4, 5], 36.5, 0.1171875),
    "half-unit ties": ([-0.5, 0.5, 1.5, -1.5, 2, 2, 2, 3.25, 0, 0, -2], 33.5, 0.23046875),
    # rep(c(-3, -2, -1, 0, 1, 2), c(8, 12, 10, 5, 7, 4)): 41 non-zero
    "41 pairs as counts": (
        np.repeat([-3.0, -2, -1, 0, 1, 2], [8, 12, 10, 5, 7, 4]),
        165,
        0.000286422797216801,
    ),
    # rep(c(-3, -2, -1, 0, 1, 2, 3), c(9, 12, 10, 5, 8, 6, 4)): 49 non-zero, the last exact
    "49 pairs as counts": (
        np.repeat([-3.0, -2, -1, 0, 1, 2, 3], [9, 12, 10, 5, 8, 6, 4]),
        413,
        0.0443983061740845,
    ),
    "at the mean": ([-1.0, 1, -2, 2, 0], 5, 1.0),
}


@pytest.mark.parametrize("name", COIN_EXACT)
def test_signed_rank_exact_with_ties_and_zeros_matches_r_coin(name):
    differences, statistic, p = COIN_EXACT[name]
    result = signed_rank(*table_of(np.asarray(differences, float)))
    assert result.method == EXACT
    assert result.statistic == statistic
    assert result.p == pytest.approx(p, rel=1e-12)


def test_signed_rank_exact_for_twelve_tied_pairs_matches_r_coin():
    # R: wilcoxsign_test(a ~ b, distribution = "exact", zero.method = "Wilcoxon"): V = 0,
    # p = 0.00048828125 (= 2 / 2^12: all 12 changes negative). The normal approximation
    # gave 0.00188616745924 here (wilcox.test(a, b, paired = TRUE, exact = FALSE,
    # correct = FALSE)).
    b = np.array([12, 10, 14, 9, 11, 13, 12, 15, 10, 11, 12, 9])
    a = np.array([6, 5, 8, 4, 6, 7, 5, 9, 6, 5, 7, 4])
    result = signed_rank(*table_of(a - b))
    assert result.method == EXACT
    assert result.statistic == 0
    assert result.p == pytest.approx(0.00048828125, rel=1e-12)


def test_signed_rank_normal_from_50_pairs_matches_r():
    # R: d <- rep(c(-3, -2, -1, 0, 1, 2), c(10, 15, 12, 8, 9, 6)); 52 non-zero, tied:
    # wilcox.test(d, exact = FALSE, correct = FALSE): V = 291, p = 0.000226822369467377
    result = signed_rank(np.array([-3.0, -2, -1, 0, 1, 2]), np.array([10, 15, 12, 8, 9, 6]))
    assert result.method == NORMAL
    assert result.statistic == 291
    assert result.p == pytest.approx(0.000226822369467377, rel=1e-9)


def test_signed_rank_is_exact_below_50_pairs_and_normal_from_50():
    # R: d <- ((37 * (1:50)) %% 101) - 40.3 (50 distinct values)
    # wilcox.test(d[1:49]): exact, V = 841, p = 0.0223913856349434
    # wilcox.test(d, exact = FALSE, correct = FALSE): V = 867, p = 0.0267307385473927
    d = ((37 * np.arange(1, 51)) % 101) - 40.3
    below, at = signed_rank(d[:49], np.ones(49, int)), signed_rank(d, np.ones(50, int))
    assert (below.method, below.statistic) == (EXACT, 841)
    assert below.p == pytest.approx(0.0223913856349434, rel=1e-12)
    assert (at.method, at.statistic) == (NORMAL, 867)
    assert at.p == pytest.approx(0.0267307385473927, rel=1e-9)


def test_six_pairs_cannot_reach_below_0_031():
    result = signed_rank(np.array([1.0, 2, 3, 4, 5, 6]), np.ones(6, int))
    assert result.p == pytest.approx(2 / 64)


def test_all_zero_differences_have_no_test():
    assert signed_rank(np.array([0.0]), np.array([12])) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-6, 6), min_size=1, max_size=80))
def test_signed_rank_matches_scipy_on_patient_rows(differences):
    differences = np.array(differences, float)
    result = signed_rank(*table_of(differences))
    if not (differences != 0).any():
        assert result is None
        return
    nonzero = differences[differences != 0]
    tied = len(np.unique(np.abs(nonzero))) < len(nonzero)
    positive = result.statistic
    negative = len(nonzero) * (len(nonzero) + 1) / 2 - positive
    if len(nonzero) < 50:
        assert result.method == EXACT
        if tied:
            return  # SciPy's exact p assumes no ties; the next two tests check these
        expected = stats.wilcoxon(differences, method="exact")
    else:
        assert result.method == NORMAL
        expected = stats.wilcoxon(
            differences, zero_method="wilcox", correction=False, method="approx"
        )
    assert result.p == pytest.approx(expected.pvalue, rel=1e-9)
    assert min(positive, negative) == pytest.approx(expected.statistic)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-4, 4), min_size=1, max_size=11))
def test_signed_rank_exact_with_ties_matches_scipy_sign_flips(differences):
    """Independent of the engine: SciPy's permutation test over every sign flip of the
    non-zero differences, their mid-ranks fixed, the positive mid-rank sum as statistic."""
    differences = np.array(differences, float)
    nonzero = differences[differences != 0]
    result = signed_rank(*table_of(differences))
    if not nonzero.size:
        assert result is None
        return
    if nonzero.size == 1:  # SciPy needs two; one sign flip of one pair: both sums as likely
        assert (result.method, result.p) == (EXACT, 1.0)
        return
    ranks = stats.rankdata(np.abs(nonzero))
    expected = stats.permutation_test(
        (nonzero,),
        lambda signed: (ranks * (signed > 0)).sum(),
        permutation_type="samples",
        n_resamples=np.inf,
    )
    assert result.method == EXACT
    assert result.statistic == pytest.approx(float((ranks * (nonzero > 0)).sum()))
    assert result.p == pytest.approx(expected.pvalue, rel=1e-9)


def test_six_tied_pairs_are_exact_not_normal():
    """The issue's case: 6 equal changes. The normal approximation gave p = 0.014, below
    the smallest p 6 pairs can give, 2/64 = 0.031."""
    result = signed_rank(np.array([-1.0]), np.array([6]))
    assert result.method == EXACT
    assert result.p == pytest.approx(2 / 2**6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False).filter(lambda x: abs(x) > 1e-6),
                min_size=1, max_size=49, unique=True))  # fmt: skip
def test_signed_rank_exact_matches_scipy_without_ties(differences):
    differences = np.array(differences)
    if len(np.unique(np.abs(differences))) < len(differences):
        return
    result = signed_rank(differences, np.ones(len(differences), int))
    expected = stats.wilcoxon(differences, method="exact")
    assert result.method == EXACT
    assert result.p == pytest.approx(expected.pvalue, rel=1e-9)
