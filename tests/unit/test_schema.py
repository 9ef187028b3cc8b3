"""The cohort format refuses impossible rows and derives time-to-event exactly."""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import add_events, add_patient


def endpoints(con: duckdb.DuckDBPyConnection, patient_id: str) -> dict[str, tuple[float, bool]]:
    rows = con.execute(
        "SELECT endpoint, months, event FROM time_to_event WHERE patient_id = ?", [patient_id]
    ).fetchall()
    return {endpoint: (months, event) for endpoint, months, event in rows}


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        ("ceap 9", "INSERT INTO assessments VALUES ('p1', 0, 9, 10, true)"),
        ("villalta 40", "INSERT INTO assessments VALUES ('p1', 0, 4, 40, true)"),
        ("negative month", "INSERT INTO assessments VALUES ('p1', -1, 4, 10, true)"),
        ("unknown event", "INSERT INTO events VALUES ('p1', 3, 'stroke')"),
        ("unknown patient", "INSERT INTO events VALUES ('nobody', 3, 'occlusion')"),
        ("unknown patient", "INSERT INTO assessments VALUES ('nobody', 0, 4, 10, true)"),
    ],
)
def test_schema_refuses_impossible_rows(blank, table, statement):
    add_patient(blank, "p1")
    with pytest.raises(duckdb.ConstraintException):
        blank.execute(statement)


@pytest.mark.parametrize(
    "overrides",
    [
        {"lesion_side": "center"},
        {"sex": "X"},
        {"age_years": 7},
        {"seg_civ": False, "seg_eiv": False},  # no segment at all
        {"seg_ivc": True, "seg_civ": False, "seg_eiv": True},  # a gap: IVC and EIV without CIV
        {"seg_civ": True, "seg_eiv": False, "seg_cfv": True},  # a gap: CIV and CFV without EIV
        {"technical_success": True, "stents": 0},
    ],
)
def test_schema_refuses_impossible_patients(blank, overrides):
    with pytest.raises(duckdb.ConstraintException):
        add_patient(blank, "p1", **overrides)


def test_duplicate_patient_is_refused(blank):
    add_patient(blank, "p1")
    with pytest.raises(duckdb.ConstraintException):
        add_patient(blank, "p1")


def test_restenosis_treated_then_occlusion(blank):
    add_patient(blank, "p1")
    add_events(blank, "p1", (5, "restenosis"), (5, "reintervention"), (20, "occlusion"))
    assert endpoints(blank, "p1") == {
        "primary": (5, True),  # lost at the restenosis
        "assisted_primary": (20, True),  # kept by the reintervention, lost at occlusion
        "secondary": (20, True),  # the occlusion was never reopened
        "recurrent_dvt": (36, False),
    }


def test_occlusion_reopened_keeps_secondary_patency(blank):
    add_patient(blank, "p1", follow_up_months=40)
    add_events(blank, "p1", (9, "occlusion"), (9.5, "reintervention"), (9.5, "patency_restored"))
    assert endpoints(blank, "p1") == {
        "primary": (9, True),
        "assisted_primary": (9, True),
        "secondary": (40, False),
        "recurrent_dvt": (40, False),
    }


def test_second_occlusion_not_reopened_ends_secondary_patency(blank):
    add_patient(blank, "p1")
    add_events(blank, "p1", (4, "occlusion"), (4.5, "patency_restored"), (30, "occlusion"))
    assert endpoints(blank, "p1")["secondary"] == (30, True)


def test_death_with_patent_stent_censors_patency(blank):
    add_patient(blank, "p1", follow_up_months=18)
    add_events(blank, "p1", (18, "death"))
    assert endpoints(blank, "p1") == {
        "primary": (18, False),
        "assisted_primary": (18, False),
        "secondary": (18, False),
        "recurrent_dvt": (18, False),
    }


def test_death_before_recorded_follow_up_end_censors_at_death(blank):
    add_patient(blank, "p1", follow_up_months=36)
    add_events(blank, "p1", (12, "death"))
    assert endpoints(blank, "p1")["primary"] == (12, False)


def test_technical_failure_loses_patency_at_month_zero(blank):
    add_patient(blank, "p1", technical_success=False, stents=0)
    add_events(blank, "p1", (10, "recurrent_dvt"))
    assert endpoints(blank, "p1") == {
        "primary": (0, True),
        "assisted_primary": (0, True),
        "secondary": (0, True),
        "recurrent_dvt": (10, True),
    }
