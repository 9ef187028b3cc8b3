"""Follow-up (reverse Kaplan-Meier, Clark's C) and the counts behind the competing risk.

The engine's estimators are tested against R in test_engine_summaries.py; here the
question is whether the scans count the right patients: death competing with the
tie rule of data/schema.sql, the reverse Kaplan-Meier's roles, the completeness sums.
R references: R 4.2.2, survival 3.5.3, each with its call.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from lifelines.datasets import load_lung

from analytics.cohort.summary import create_summary
from analytics.filters import CohortFilter
from analytics.glossary import ALL_PATIENTS
from analytics.present import format as fmt
from analytics.present.masking import Cell, mask
from analytics.present.privacy import SUPPRESSED
from analytics.rules import DAYS_PER_MONTH
from analytics.stats.engine.kaplan_meier import kaplan_meier
from analytics.stats.engine.median import median_time
from analytics.stats.follow_up import PlannedFollowUp, follow_up, planned_follow_up
from analytics.stats.survival import counts_from_rows, survival
from analytics.views import N, follow_up_view, header_ledger, header_view
from tests.conftest import add_events, add_patient


def test_reverse_kaplan_meier_median_follow_up_matches_r_on_lung():
    """R: survfit(Surv(time, status == 1) ~ 1, lung, conf.type = "log-log"): median 588
    (511, 821): being alive at the last contact is the event."""
    lung = load_lung()
    alive = lung["status"].to_numpy() == 0
    ones = np.ones(len(lung), int)
    counts = counts_from_rows((ALL_PATIENTS,), 0 * ones, lung["time"].to_numpy(float), alive, ones)
    result = median_time(kaplan_meier(counts.of(ALL_PATIENTS)))
    assert (result.estimate, result.ci_lower, result.ci_upper) == (588, 511, 821)


def test_death_competes_only_before_the_endpoint(blank):
    """An endpoint and a death in the same month count as the endpoint; a death after the
    endpoint changes nothing; a death before it is the competing event."""
    add_patient(blank, "same-month", follow_up_months=6.0)
    add_events(blank, "same-month", (6.0, "occlusion"), (6.0, "death"))
    add_patient(blank, "died-first", follow_up_months=4.0)
    add_events(blank, "died-first", (4.0, "death"))
    add_patient(blank, "died-later", follow_up_months=10.0)
    add_events(blank, "died-later", (3.0, "restenosis"), (10.0, "death"))
    for i in range(3):
        add_patient(blank, f"alive-{i}", follow_up_months=36.0)
    create_summary(blank)
    primary = survival(blank, CohortFilter(), ["primary"], [3, 4, 6, 36])["primary"].overall
    curve = primary.curve
    assert curve.time.tolist() == [3, 4, 6, 36]
    assert curve.events.tolist() == [1, 0, 1, 0]
    assert curve.censored.tolist() == [0, 1, 0, 3]
    # by hand: F(3) = 1/6; the death at 4 leaves 4 at risk; F(6) = 1/6 + (5/6 * 4/5) / 4
    assert primary.incidence_at.estimate == pytest.approx([1 / 6, 1 / 6, 1 / 3, 1 / 3])
    assert 1 - primary.estimates.estimate[2] == pytest.approx(1 - 5 / 6 * 3 / 4)


def test_competing_counts_match_the_patient_rows_of_a_registry(registry_path):
    """Every endpoint of the synthetic registry, against time_to_event and the deaths read
    patient by patient (pandas) and fed to the same estimator."""
    import duckdb

    from analytics.stats.engine.aalen_johansen import cumulative_incidence

    con = duckdb.connect(str(registry_path), read_only=True)
    rows = con.execute(
        "SELECT endpoint, months, event, patient_id IN (SELECT patient_id FROM events "
        "WHERE event = 'death') AS died FROM time_to_event JOIN limb_summary USING (limb_id) "
        "WHERE technical_success"
    ).df()
    result = survival(con, CohortFilter(), ["primary", "recurrent_dvt"], [12])
    for endpoint, fitted in result.items():
        mine = rows[rows["endpoint"] == endpoint]
        competing = ~mine["event"] & mine["died"]
        assert competing.any()  # the registry has deaths
        grouped = (mine.assign(competing=competing).groupby("months")
                   .agg(events=("event", "sum"), n=("event", "size"),
                        competing=("competing", "sum")))  # fmt: skip
        assert fitted.overall.curve.time.tolist() == grouped.index.tolist()
        expected = cumulative_incidence(
            counts_from_rows(
                (ALL_PATIENTS,), np.zeros(len(mine), int), mine["months"].to_numpy(float),
                mine["event"].to_numpy(bool), np.ones(len(mine), int), mine["died"].to_numpy(bool),
            ).of(ALL_PATIENTS)
        )  # fmt: skip
        assert fitted.overall.incidence.estimate == pytest.approx(expected.estimate, rel=1e-12)
    con.close()


def test_demo_median_restricted_mean_and_follow_up_match_r(demo):
    """R on the demo's technical successes (tte_primary_months, tte_primary_event,
    follow_up_months exported from limb_summary): summary(survfit(Surv(t, e) ~ 1,
    conf.type = "log-log"), rmean = 36)$table: median NA, 0.95LCL 20, UCL NA, rmean
    25.96323529412, se 2.32980658866; survfit(Surv(f, 1 - died) ~ 1, conf.type =
    "log-log"): median follow-up 36 (36, 36). No deaths: the incidence is 1 - KM."""
    primary = survival(demo, CohortFilter(), ["primary"], [6, 12, 24, 36])["primary"].overall
    assert np.isnan(primary.median.estimate) and np.isnan(primary.median.ci_upper)
    assert primary.median.ci_lower == 20
    assert (primary.rmst.estimate, primary.rmst.se) == pytest.approx(
        (25.96323529412, 2.32980658866), rel=1e-9
    )
    assert primary.incidence_at.estimate == pytest.approx(1 - primary.estimates.estimate)
    median = follow_up(demo, CohortFilter()).median
    assert (median.estimate, median.ci_lower, median.ci_upper) == (36, 36, 36)


def test_completeness_is_observed_over_potential_person_time(blank):
    """Clark's C: the living are followed to the data lock, the dead to their death."""
    add_patient(blank, "short", procedure_date="2012-01-01", follow_up_months=12.0)
    add_patient(blank, "died", procedure_date="2012-01-01", follow_up_months=6.0)
    add_events(blank, "died", (6.0, "death"))
    add_patient(blank, "late", procedure_date="2013-01-01", follow_up_months=24.0)
    create_summary(blank)
    # the data lock is the latest last contact: 2013-01-01 plus 24 months of 30.4375 days
    to_lock = ((date(2013, 1, 1) - date(2012, 1, 1)).days + 24 * DAYS_PER_MONTH) / DAYS_PER_MONTH
    result = follow_up(blank, CohortFilter())
    assert result.completeness == pytest.approx((12 + 6 + 24) / (to_lock + 6 + 24), rel=1e-12)
    # a metadata lock a year later: everyone alive is a year less complete
    later = follow_up(blank, CohortFilter(), "2016-01-01")
    months = [(date(2016, 1, 1) - date(y, 1, 1)).days / DAYS_PER_MONTH for y in (2012, 2013)]
    assert later.completeness == pytest.approx((12 + 6 + 24) / (months[0] + 6 + months[1]))
    # a lock before some follow-up ends cuts the observed time there too
    early = follow_up(blank, CohortFilter(), "2013-01-01")
    assert early.completeness == pytest.approx((12 + 6) / (366 / DAYS_PER_MONTH + 6))


def test_no_patients_no_follow_up(blank):
    add_patient(blank, "a")
    create_summary(blank)
    result = follow_up(blank, CohortFilter(age_min=110, age_max=18))
    assert np.isnan([result.median.estimate, result.completeness]).all()


def test_follow_up_line_states_median_ci_and_completeness_or_hides_them(demo):
    """The demo's median follow-up by reverse KM is 36 (36, 36), R above; Clark's C shown as
    a percent; fewer than k patients hide both, no patients show the missing marker."""
    result = follow_up(demo, CohortFilter())
    line = fmt.follow_up(result, Cell(34, "exact"))
    assert line.startswith("Median follow-up (reverse Kaplan-Meier) 36.0 (95% CI 36.0")
    assert line.endswith(
        f"completeness (Clark's C) {fmt.percent(result.completeness)}, to the latest contact"
    )
    few = mask(header_ledger(header_view(demo, CohortFilter(lesion_side="left", trauma=True))), 5)
    assert f"{SUPPRESSED} · completeness (Clark's C) {SUPPRESSED}" in fmt.follow_up(
        result, few.cell(N)
    )
    assert "36.0" in fmt.follow_up(result, Cell(5, "exact", 5))
    assert "36.0" in fmt.follow_up(result, Cell(30, "withheld", 5))  # of k or more
    assert fmt.follow_up(result, Cell(0, "exact", 5)) == (
        f"Median follow-up (reverse Kaplan-Meier) {fmt.MISSING} · completeness (Clark's C) "
        f"{fmt.MISSING}"
    )


def test_data_lock_line_names_the_source_and_no_date():
    with_lock = fmt.data_lock({"data_lock_date": "2019-06-30"})
    assert "metadata" in with_lock and "2019" not in with_lock
    assert "latest last contact" in fmt.data_lock({})


# ---- completeness against the protocol's planned follow-up --------------------------------

# A hand-made cohort: (id, procedure date, follow-up months, died). Followed in full to a
# 36-month protocol and beyond; lost at 20 months; died at 10; operated so late that the
# lock comes before 36 months; and died at 40 months, after the protocol's end.
HAND_MADE = (
    ("full", date(2012, 1, 1), 44.0, False),
    ("lost", date(2012, 1, 1), 20.0, False),
    ("died", date(2012, 6, 1), 10.0, True),
    ("late", date(2015, 6, 1), 12.0, False),
    ("died_late", date(2012, 1, 1), 40.0, True),
)


def clark_c(lock: float, planned: float | None) -> float:
    """Clark et al. (Lancet 2002), written out per patient: observed over potential
    person-time, each ending at the lock (a day number, date.toordinal) or ``planned``
    months if earlier; a patient who died is complete up to death."""
    observed = potential = 0.0
    for _, procedure, months, died in HAND_MADE:
        end = max((lock - procedure.toordinal()) / DAYS_PER_MONTH, 0.0)
        if planned is not None:
            end = min(end, planned)
        observed += min(months, end)
        potential += min(months, end) if died else end
    return observed / potential


@pytest.fixture
def hand_made(blank):
    for patient, procedure, months, died in HAND_MADE:
        add_patient(blank, patient, procedure_date=procedure.isoformat(), follow_up_months=months)
        if died:
            add_events(blank, patient, (months, "death"))
    create_summary(blank)
    return blank


# the latest last contact: "late", 2015-06-01 plus 12 months of 30.4375 days
LATEST = date(2015, 6, 1).toordinal() + 12 * DAYS_PER_MONTH
LOCK_2016 = date(2016, 1, 1).toordinal()


@pytest.mark.parametrize("planned", [None, 36.0, 24.0, 60.0])
@pytest.mark.parametrize("data_lock", [None, "2016-01-01", "2014-01-01"])
def test_completeness_to_the_planned_follow_up_equals_clarks_c_by_hand(
    hand_made, data_lock, planned
):
    lock = date.fromisoformat(data_lock).toordinal() if data_lock else LATEST
    result = follow_up(hand_made, CohortFilter(), data_lock, PlannedFollowUp(planned))
    assert result.completeness == pytest.approx(clark_c(lock, planned), rel=1e-12)
    assert (result.planned.months, result.data_lock_date) == (planned, data_lock is not None)


def test_a_protocol_followed_in_full_is_complete(blank):
    """The issue's case: a patient followed the protocol's 36 months in full, beside one
    operated a year later and seen to 45.5 months, the latest contact. To that contact
    the first reads about 21 months lost; to the protocol's 36 months both are complete."""
    add_patient(blank, "protocol", procedure_date="2012-01-01", follow_up_months=36.0)
    add_patient(blank, "later", procedure_date="2013-01-01", follow_up_months=45.5)
    create_summary(blank)
    to_contact = (date(2013, 1, 1) - date(2012, 1, 1)).days / DAYS_PER_MONTH + 45.5
    assert follow_up(blank, CohortFilter()).completeness == pytest.approx(
        (36 + 45.5) / (to_contact + 45.5), rel=1e-12
    )
    assert follow_up(blank, CohortFilter(), None, PlannedFollowUp(36.0)).completeness == 1.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, PlannedFollowUp(None, False)),
        ("36", PlannedFollowUp(36.0, False)),
        (" 36.5 ", PlannedFollowUp(36.5, False)),
        ("", PlannedFollowUp(None, False)),
        ("three years", PlannedFollowUp(None, True)),
        ("0", PlannedFollowUp(None, True)),
        ("-12", PlannedFollowUp(None, True)),
        ("inf", PlannedFollowUp(None, True)),
        ("nan", PlannedFollowUp(None, True)),
    ],
)
def test_planned_follow_up_is_read_from_the_metadata(value, expected):
    meta = {} if value is None else {"planned_follow_up_months": value}
    assert planned_follow_up(meta) == expected


def test_the_view_reads_the_planned_follow_up_and_the_line_says_which(hand_made):
    """An older file without the key measures to the latest contact, as before; with it,
    to the earlier of the lock and the protocol; an unreadable value is said, not used."""
    before = follow_up_view(hand_made, CohortFilter())
    assert before.completeness == pytest.approx(clark_c(LATEST, None), rel=1e-12)
    assert fmt.follow_up(before, Cell(5, "exact")).endswith(", to the latest contact")
    hand_made.execute("INSERT INTO cohort_metadata VALUES ('planned_follow_up_months', '36')")
    planned = follow_up_view(hand_made, CohortFilter())
    assert planned.completeness == pytest.approx(clark_c(LATEST, 36.0), rel=1e-12)
    assert fmt.follow_up(planned, Cell(5, "exact")).endswith(
        ", to the earlier of the latest contact and the protocol's planned 36 months"
    )
    hand_made.execute("INSERT INTO cohort_metadata VALUES ('data_lock_date', '2016-01-01')")
    locked = follow_up_view(hand_made, CohortFilter())
    assert locked.completeness == pytest.approx(clark_c(LOCK_2016, 36.0), rel=1e-12)
    assert "to the earlier of the data lock and the protocol's planned 36 months" in (
        fmt.follow_up(locked, Cell(5, "exact"))
    )
    hand_made.execute(
        "UPDATE cohort_metadata SET value = 'three years' WHERE key = 'planned_follow_up_months'"
    )
    unreadable = follow_up_view(hand_made, CohortFilter())
    assert unreadable.completeness == pytest.approx(clark_c(LOCK_2016, None), rel=1e-12)
    line = fmt.follow_up(unreadable, Cell(5, "exact"))
    assert "to the data lock (" in line and "not a positive number of months" in line


def test_a_data_lock_that_is_not_a_date_is_said_and_not_used(hand_made):
    """A hand-edited file may hold anything as its data_lock_date: completeness then counts
    to the latest contact and the Data page's line says why, instead of a traceback."""
    hand_made.execute("INSERT INTO cohort_metadata VALUES ('data_lock_date', '30/06/2019')")
    result = follow_up_view(hand_made, CohortFilter())
    assert result.completeness == pytest.approx(clark_c(LATEST, None), rel=1e-12)
    assert fmt.follow_up(result, Cell(5, "exact")).endswith(", to the latest contact")
    line = fmt.data_lock({"data_lock_date": "30/06/2019"})
    assert "latest last contact" in line and "not a date" in line and "2019" not in line


def test_the_demo_followed_to_its_36_month_protocol_is_complete(demo):
    """Every technical success was followed 36 months or more and none died (the paper:
    36 months of follow-up, range 36-45.5), so Clark's C to the protocol's 36 months is
    1; measured to the latest contact it read 52.4%, half the cohort as if lost."""
    follow_ups = demo.execute(
        "SELECT follow_up_months, n_death FROM limb_summary WHERE technical_success"
    ).fetchall()
    assert len(follow_ups) == 34
    assert all(months >= 36 and deaths == 0 for months, deaths in follow_ups)
    result = follow_up_view(demo, CohortFilter())
    assert result.planned == PlannedFollowUp(36.0)
    assert result.completeness == 1.0
    assert fmt.follow_up(result, Cell(34, "exact")).endswith(
        "completeness (Clark's C) 100.0%, to the earlier of the latest contact and the "
        "protocol's planned 36 months"
    )
