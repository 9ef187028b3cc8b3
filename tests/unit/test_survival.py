"""The survival counts DuckDB returns, and the estimates built on them, against patient rows.

The engine's own arithmetic is tested in test_engine.py against R; here the question
is whether the one scan per view counts the right patients: each endpoint overall and
by group, patients without a group, empty filters. The reference is the
``time_to_event`` view of data/schema.sql read patient by patient, with lifelines.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from analytics.cohort.db import open_cohort
from analytics.cohort.summary import create_summary
from analytics.filters import CohortFilter
from analytics.glossary import ALL_PATIENTS, ENDPOINTS
from analytics.stats.survival import (
    SurvivalRequest,
    counts_from_rows,
    endpoint_counts,
    survival,
    survival_of,
)
from tests.conftest import add_patient

TIGHT = {"precision": 1e-12, "r_precision": 1e-15, "max_steps": 200}


@pytest.fixture(scope="module")
def registry(registry_path):
    con = open_cohort(registry_path)
    yield con
    con.close()


def patient_rows(con, endpoint: str) -> pd.DataFrame:
    """One row per technically successful patient: months, event, thrombophilia, centre."""
    return con.execute(
        """SELECT t.months, t.event::INT AS event, p.thrombophilia::INT AS thrombophilia,
                  p.center
        FROM time_to_event AS t JOIN limb_summary AS p USING (limb_id)
        WHERE t.endpoint = ? AND p.technical_success""",
        [endpoint],
    ).df()


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_counts_of_every_endpoint_equal_counting_patient_rows(registry, endpoint):
    counts = endpoint_counts(registry, CohortFilter(), [endpoint], "thrombophilia")
    overall, split = counts[endpoint]
    rows = patient_rows(registry, endpoint)
    assert overall.events.sum() == rows["event"].sum()
    assert overall.patients.sum() == len(rows)
    assert split.levels == ("no", "yes")
    expected = rows.groupby("thrombophilia")["event"].agg(["sum", "count"])
    assert split.events_per_level.tolist() == expected["sum"].tolist()
    assert split.patients.tolist() == expected["count"].tolist()


def test_curves_equal_lifelines_on_patient_rows(registry):
    result = survival(registry, CohortFilter(), ["primary"], [6, 12, 24, 36])["primary"]
    rows = patient_rows(registry, "primary")
    kmf = KaplanMeierFitter().fit(rows["months"], rows["event"])
    expected = kmf.survival_function_at_times([6, 12, 24, 36]).to_numpy()
    assert result.overall.estimates.estimate == pytest.approx(expected, rel=1e-9)
    assert result.overall.level == ALL_PATIENTS


def test_hazard_ratio_equals_lifelines_on_patient_rows(registry):
    """3,000 patients: the fit on counts equals lifelines on one row per patient to 1e-6."""
    result = survival(registry, CohortFilter(), ["primary"], [12], "thrombophilia")["primary"]
    (ratio,) = result.comparison.hazard_ratios
    rows = patient_rows(registry, "primary")[["months", "event", "thrombophilia"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = CoxPHFitter().fit(rows, "months", "event", fit_options=TIGHT)
    reference = fitted.summary.loc["thrombophilia"]
    assert ratio.hr == pytest.approx(reference["exp(coef)"], rel=1e-6)
    assert ratio.ci_lower == pytest.approx(reference["exp(coef) lower 95%"], rel=1e-6)
    assert ratio.p == pytest.approx(reference["p"], rel=1e-5)
    assert ratio.hr > 1  # thrombophilia worsens patency in the synthetic registry


def test_one_request_carries_every_option_to_the_curves_it_asks_for(registry):
    """A SurvivalRequest's horizon, risk-table months, reference and landmark each reach
    the estimates, each checked against lifelines on one row per patient; the request
    hashes, as a cache key must."""
    request = SurvivalRequest(
        ("primary",), (12.0,), "thrombophilia", horizon=24.0, risk_months=(0.0, 18.0),
        reference="yes", landmark=6.0,
    )  # fmt: skip
    assert {request: 1}[SurvivalRequest(**vars(request))] == 1
    result = survival_of(registry, CohortFilter(), request)["primary"]
    rows = patient_rows(registry, "primary")
    yes = rows[rows["thrombophilia"] == 1]
    fitted = KaplanMeierFitter().fit(yes["months"], yes["event"])
    assert result.groups[1].level == "yes"
    assert result.groups[1].rmst.horizon == 24
    assert result.groups[1].rmst.estimate == pytest.approx(
        restricted_mean_survival_time(fitted, t=24), rel=1e-9
    )
    risk = result.overall.risk
    assert tuple(risk.month[:2]) == (0, 18)
    assert risk.at_risk[1] == (rows["months"] >= 18).sum()
    (ratio,) = result.comparison.hazard_ratios
    assert (ratio.level, ratio.reference) == ("no", "yes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cox = CoxPHFitter().fit(rows[["months", "event", "thrombophilia"]], "months", "event",
                                fit_options=TIGHT)  # fmt: skip
    assert ratio.hr == pytest.approx(1 / cox.summary.loc["thrombophilia", "exp(coef)"], rel=1e-6)
    later = rows[rows["months"] > 6]
    shifted = KaplanMeierFitter().fit(later["months"] - 6, later["event"])
    landmark = result.landmark
    assert landmark.month == 6
    assert landmark.survival.overall.estimates.estimate == pytest.approx(
        shifted.survival_function_at_times([12]).to_numpy(), rel=1e-9
    )


def test_patients_without_a_centre_count_overall_not_in_any_centre(blank):
    for i in range(6):
        add_patient(blank, f"P{i}", center=None if i < 2 else f"C{i % 2}")
    create_summary(blank)
    ((overall, split),) = endpoint_counts(blank, CohortFilter(), ["primary"], "center").values()
    assert overall.patients.sum() == 6
    assert split.levels == ("C0", "C1")
    assert split.patients.tolist() == [2, 2]


def test_a_filter_that_keeps_nobody_gives_empty_curves(registry):
    nobody = CohortFilter(age_min=110, age_max=18)
    result = survival(registry, nobody, list(ENDPOINTS), [12], "sex")
    for endpoint in ENDPOINTS:
        assert result[endpoint].overall.patients == 0
        assert np.isnan(result[endpoint].overall.estimates.estimate).all()
        assert result[endpoint].groups == ()
        assert result[endpoint].comparison.logrank is None


def test_estimate_beyond_the_last_follow_up_is_not_estimable(demo):
    result = survival(demo, CohortFilter(), ["primary"], [12, 60])["primary"]
    estimates = result.overall.estimates
    assert estimates.estimate[0] == pytest.approx(25 / 34)
    assert np.isnan(estimates.estimate[1]) and estimates.at_risk[1] == 0


TIMES = [0.5, 3.0, 12.0, 12.25, 36.0]
# two months one double apart: a sort key of group and months may round them together
ADJACENT = [3.0, float(np.nextafter(3.0, 4.0)), 1e6, float(np.nextafter(1e6, 0.0))]


@pytest.mark.parametrize(("groups", "times"), [(1, TIMES), (3, TIMES), (40, ADJACENT)])
def test_counts_from_rows_in_any_order_sum_each_group_and_time(monkeypatch, groups, times):
    """Rows of DuckDB's grouping come in hash order; each (group, months)'s events,
    censorings and deaths among the censored are summed (pandas' groupby the reference).
    One group's rows are put in time order by one unstable sort, not a lexsort of
    (group, months): ties are summed, so their order does not matter; months a double
    apart stay apart whatever the number of groups."""
    rng = np.random.default_rng(3)
    rows = pd.DataFrame(
        {
            "group": rng.integers(0, groups, 300),
            "months": rng.choice(times, 300),
            "event": rng.random(300) < 0.3,
            "n": rng.integers(1, 5, 300),
            "died": rng.random(300) < 0.2,
        }
    ).drop_duplicates(["group", "months", "event", "died"])
    if groups == 1:
        monkeypatch.setattr(np, "lexsort", lambda *_: pytest.fail("a stable sort of one group"))
    levels = tuple(f"g{i}" for i in range(groups))
    counts = counts_from_rows(
        levels, *(rows[c].to_numpy() for c in ("group", "months", "event", "n", "died"))
    )
    expected = (
        rows.assign(
            events=rows["n"].where(rows["event"], 0),
            censored=rows["n"].where(~rows["event"], 0),
            competing=rows["n"].where(~rows["event"] & rows["died"], 0),
        )
        .groupby(["group", "months"])[["events", "censored", "competing"]]
        .sum()
        .reset_index()
    )
    found = pd.DataFrame(
        {"group": counts.group, "months": counts.time, "events": counts.events,
         "censored": counts.censored, "competing": counts.competing}
    )  # fmt: skip
    pd.testing.assert_frame_equal(found, expected, check_dtype=False)
