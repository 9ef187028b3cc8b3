"""The Safety page's cumulative incidence with death competing, against R.

R 4.2.2 Patched (2022-11-10 r83330), survival 3.5.3, on the twelve patients below (time:
the first event, else death, else the last contact; status 1 the event, 2 death, 0
censored), written out by hand from the events, not by the code under test:

    d <- data.frame(time = c(3, 8, 10, 14, 18, 20, 20, 26, 30, 33, 35, 40),
                    status = c(1, 1, 2, 1, 0, 2, 1, 1, 0, 2, 1, 0))
    summary(survfit(Surv(time, factor(status, 0:2)) ~ 1, data = d),
            times = c(12, 24, 36))$pstate[, 2]
    pe <- data.frame(time = c(40, 40, 9, 40, 18, 20, 38, 30, 30, 33, 40, 12),
                     status = c(0, 0, 1, 0, 0, 2, 0, 2, 0, 2, 0, 1))
    (the same call on pe)

R's CI for ``pstate`` uses the infinitesimal-jackknife variance; ours is the engine's
delta-method log(-log) interval (tested against lifelines in test_follow_up_and_competing),
so only the estimates are compared with R here.
"""

from __future__ import annotations

import numpy as np
import pytest

from analytics.cohort.db import open_cohort
from analytics.cohort.summary import create_summary
from analytics.cohort.tallies import counting_in_duckdb
from analytics.filters import CohortFilter, cohort_where
from analytics.present.report import report_json
from analytics.stats.safety import safety, safety_incidence
from analytics.views import report_view
from tests.conftest import add_events, add_patient

R_RECURRENT_DVT = (0.166666666667, 0.345238095238, 0.567460317460)
R_PULMONARY_EMBOLISM = (0.166666666667, 0.166666666667, 0.166666666667)

# patient: follow-up months, then (month, event) rows; a death ends follow-up
PATIENTS = {
    "P01": (40.0, [(0.03, "major_bleeding"), (3.0, "recurrent_dvt")]),
    "P02": (40.0, [(8.0, "recurrent_dvt")]),
    "P03": (10.0, [(9.0, "pulmonary_embolism"), (10.0, "death")]),
    "P04": (40.0, [(14.0, "recurrent_dvt"), (30.0, "recurrent_dvt")]),  # the first counts
    "P05": (18.0, []),
    "P06": (20.0, [(20.0, "death")]),
    "P07": (38.0, [(20.0, "recurrent_dvt")]),  # the same month as P06's death
    "P08": (30.0, [(26.0, "recurrent_dvt"), (30.0, "death")]),
    "P09": (30.0, []),
    "P10": (33.0, [(33.0, "death")]),
    "P11": (40.0, [(35.0, "recurrent_dvt")]),
    "P12": (40.0, [(12.0, "pulmonary_embolism")]),
}


@pytest.fixture
def twelve(blank):
    for patient, (follow_up, events) in PATIENTS.items():
        add_patient(blank, patient, follow_up_months=follow_up)
        if events:
            add_events(blank, patient, *events)
    create_summary(blank)
    return blank


def test_cumulative_incidence_with_death_competing_matches_r(twelve):
    rdvt, pe, bleeding = safety_incidence(twelve, CohortFilter())
    assert (rdvt.event, pe.event, bleeding.event) == (
        "recurrent_dvt", "pulmonary_embolism", "major_bleeding",
    )  # fmt: skip
    assert list(rdvt.at.month) == [12, 24, 36]
    assert rdvt.at.estimate == pytest.approx(R_RECURRENT_DVT, rel=1e-9)
    assert pe.at.estimate == pytest.approx(R_PULMONARY_EMBOLISM, rel=1e-9)
    assert bleeding.at.estimate == pytest.approx([1 / 12] * 3, rel=1e-9)  # at month 0.03
    for result in (rdvt, pe, bleeding):
        assert result.patients == 12
        assert (result.at.ci_lower < result.at.estimate).all()
        assert (result.at.estimate < result.at.ci_upper).all()
    assert list(rdvt.events_by) == [2, 4, 6]
    assert list(pe.events_by) == [2, 2, 2]


def test_deaths_make_the_incidence_differ_from_the_crude_share(twelve):
    """Crude: 6 of 12 had a recurrent DVT (50%) over follow-up of 10 to 40 months; the
    36-month incidence with death competing is R's 56.7%, and 1 - Kaplan-Meier censoring
    at death would overstate it further."""
    crude = safety(twelve, CohortFilter()).table.set_index("event")
    assert crude.loc["recurrent_dvt", "proportion"] == pytest.approx(0.5)
    (rdvt, *_) = safety_incidence(twelve, CohortFilter(), months=(36,))
    assert rdvt.at.estimate[0] == pytest.approx(R_RECURRENT_DVT[2], rel=1e-9)
    assert not np.isclose(rdvt.at.estimate[0], crude.loc["recurrent_dvt", "proportion"])


def test_death_is_not_an_event_with_itself_competing(twelve):
    with pytest.raises(ValueError, match="death"):
        safety_incidence(twelve, CohortFilter(), events=("death",))


def test_report_json_has_the_incidence_beside_the_crude_percent_and_hides_few_events(demo):
    """The demo: recurrent DVT 2, 5 and 7 of 34 patients by 12, 24 and 36 months (no deaths,
    no one censored before 36: the share is the estimate). With k = 5 the 12-month one, of
    2 events, is null and listed as suppressed, as is every PE one (1, 2, 3 events), and
    the 24-month one: 5 by 24 and 7 by 36 months gave the 2 whose first fell between."""
    view = report_view(demo, CohortFilter())
    rdvt = report_json(view)["safety"]["recurrent_dvt"]
    assert [r["month"] for r in rdvt["cumulative_incidence"]] == [12, 24, 36]
    assert [r["percent"] for r in rdvt["cumulative_incidence"]] == pytest.approx(
        [100 * 2 / 34, 100 * 5 / 34, 100 * 7 / 34]
    )
    assert rdvt["percent"] == pytest.approx(100 * 7 / 34)  # the crude share stays
    private = report_json(view, 5)
    rows = private["safety"]["recurrent_dvt"]["cumulative_incidence"]
    assert rows[0] == {"month": 12, "percent": None, "ci_lower": None, "ci_upper": None}
    assert rows[2]["percent"] == pytest.approx(100 * 7 / 34)
    pe = private["safety"]["pulmonary_embolism"]["cumulative_incidence"]
    assert all(r["percent"] is None for r in pe)
    suppressed = set(private["privacy"]["suppressed"])
    assert "safety.recurrent_dvt.cumulative_incidence[0].percent" in suppressed
    assert "safety.recurrent_dvt.cumulative_incidence[1].percent" in suppressed
    assert "safety.recurrent_dvt.cumulative_incidence[2].percent" not in suppressed


@pytest.mark.parametrize(
    "cohort_filter", [CohortFilter(), CohortFilter(lesion_side="left"), CohortFilter(sex="F")]
)
def test_the_incidence_counts_each_patient_once_as_sql_does_on_a_bilateral_registry(
    bilateral_path, cohort_filter
):
    """Tallied (each patient on their first limb in the filter, from the file's codes), the
    incidence equals the one DuckDB's own aggregate of the same patients gives."""
    with open_cohort(bilateral_path) as con:
        tallied = safety_incidence(con, cohort_filter)
        with counting_in_duckdb():
            grouped = safety_incidence(con, cohort_filter)
        where, params = cohort_where(cohort_filter)
        people, limbs = con.execute(
            f"SELECT count(DISTINCT patient_key), count(*) FROM limb_summary WHERE {where}",
            params,
        ).fetchall()[0]
    assert repr(tallied) == repr(grouped)
    assert all(found.patients == people for found in tallied)
    assert people < limbs or cohort_filter.lesion_side  # one side: a limb per patient
