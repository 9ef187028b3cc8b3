"""The cohort format refuses impossible rows and derives time-to-event exactly."""

from __future__ import annotations

import duckdb
import pytest

from analytics.cohort.db import SCHEMA_PATH
from tests.conftest import add_events, add_patient, schema_only


def endpoints(con: duckdb.DuckDBPyConnection, patient_id: str) -> dict[str, tuple[float, bool]]:
    rows = con.execute(
        "SELECT endpoint, months, event FROM time_to_event WHERE limb_id = ?", [patient_id]
    ).fetchall()
    return {endpoint: (months, event) for endpoint, months, event in rows}


ASSESSMENT = "INSERT INTO assessments (limb_id, month, ceap_c, villalta, reflux) VALUES"
EVENT = "INSERT INTO events (patient_id, limb_id, month, event) VALUES"


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        ("ceap 9", f"{ASSESSMENT} ('p1', 0, 9, 10, true)"),
        ("villalta 40", f"{ASSESSMENT} ('p1', 0, 4, 40, true)"),
        ("negative month", f"{ASSESSMENT} ('p1', -1, 4, 10, true)"),
        ("unknown event", f"{EVENT} ('p1', 'p1', 3, 'stroke')"),
        ("unknown patient", f"{EVENT} ('nobody', 'p1', 3, 'occlusion')"),
        ("unknown limb", f"{EVENT} ('p1', 'nobody', 3, 'occlusion')"),
        ("unknown limb", f"{ASSESSMENT} ('nobody', 0, 4, 10, true)"),
        ("limb event without its limb", f"{EVENT} ('p1', NULL, 3, 'occlusion')"),
        ("patient event on a limb", f"{EVENT} ('p1', 'p1', 3, 'death')"),
        (
            "a type on an occlusion",
            "INSERT INTO events (patient_id, limb_id, month, event, reintervention_type) "
            "VALUES ('p1', 'p1', 3, 'occlusion', 'angioplasty')",
        ),
        (
            "a period ending before it starts",
            "INSERT INTO antithrombotic (patient_id, start_month, end_month, agent) "
            "VALUES ('p1', 6, 3, 'doac')",
        ),
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
        {"last_contact_date": "2011-12-31"},  # the day before the procedure
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


def add_limb(con: duckdb.DuckDBPyConnection, patient_id: str, limb_id: str, **overrides) -> None:
    """A second treated limb of an existing patient (add_patient's first limb as defaults)."""
    row = con.execute("SELECT * FROM limbs WHERE limb_id = ?", [patient_id]).df().iloc[0]
    values = {**row.to_dict(), "limb_id": limb_id, "side": "right", **overrides}
    columns, marks = ", ".join(values), ", ".join("?" for _ in values)
    con.execute(f"INSERT INTO limbs ({columns}) VALUES ({marks})", list(values.values()))


def test_stent_thrombosis_and_in_stent_restenosis_lose_patency_as_occlusion_and_restenosis(blank):
    add_patient(blank, "p1")
    add_patient(blank, "p2")
    add_events(blank, "p1", (4, "in_stent_restenosis"), (9, "stent_thrombosis"))
    add_events(blank, "p2", (7, "stent_fracture"), (8, "stent_compression"))
    assert endpoints(blank, "p1")["primary"] == (4, True)
    assert endpoints(blank, "p1")["assisted_primary"] == (9, True)
    assert endpoints(blank, "p1")["secondary"] == (9, True)
    # A fracture or compression without a stenosis or occlusion keeps patency.
    assert endpoints(blank, "p2")["primary"] == (36, False)


def test_a_reintervention_off_the_target_lesion_keeps_primary_patency(blank):
    add_patient(blank, "p1")
    blank.execute(
        "INSERT INTO events (patient_id, limb_id, month, event, reintervention_type, "
        "target_lesion) VALUES ('p1', 'p1', 5, 'reintervention', 'extension', false), "
        "('p1', 'p1', 12, 'reintervention', 'angioplasty', NULL), "
        "('p1', 'p1', 12, 'reintervention', 'angioplasty', NULL)"  # repeatable
    )
    assert endpoints(blank, "p1")["primary"] == (12, True)


def test_a_staged_limb_reads_its_patients_events_on_its_own_clock(blank):
    """The second limb, treated 6 months after the first (182.6 days), sees the patient's
    recurrent DVT at patient month 3 as before its procedure and death at patient month 20
    as month 14 of its own."""
    add_patient(blank, "p1", procedure_date="2012-01-01", follow_up_months=20.0)
    add_limb(blank, "p1", "p1-right", procedure_date="2012-07-02", follow_up_months=14.0)
    add_events(blank, "p1", (3, "recurrent_dvt"), (20, "death"))
    (offset,) = blank.execute(
        "SELECT offset_months FROM limb_clock WHERE limb_id = 'p1-right'"
    ).fetchone()
    assert offset == pytest.approx(183 / 30.4375)
    assert endpoints(blank, "p1")["recurrent_dvt"] == (3, True)
    months, event = endpoints(blank, "p1-right")["recurrent_dvt"]
    assert (months, event) == (pytest.approx(20 - offset), False)  # censored at death
    assert endpoints(blank, "p1-right")["primary"] == (pytest.approx(20 - offset), False)


CATALOG = (
    "SELECT table_name, sql, comment FROM duckdb_tables()",
    "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal",
    "SELECT table_name, constraint_type, constraint_text FROM duckdb_constraints()",
    "SELECT table_name, column_name, column_default, is_nullable, data_type FROM duckdb_columns()",
    "SELECT index_name, sql FROM duckdb_indexes()",
    "SELECT sequence_name, start_value FROM duckdb_sequences()",
    "SELECT function_name, macro_definition FROM duckdb_functions() WHERE NOT internal",
    "SELECT type_name FROM duckdb_types() WHERE NOT internal",
)


def test_the_tests_schema_copy_is_the_schema():
    """tests.conftest.schema_only (the property tests' and the blank fixture's database,
    copied from a file) holds what running SCHEMA_PATH does, and no rows."""
    with duckdb.connect() as ran, schema_only() as copied:
        ran.execute(SCHEMA_PATH.read_text())
        for query in CATALOG:
            query += " ORDER BY ALL"
            assert copied.execute(query).fetchall() == ran.execute(query).fetchall(), query
        attached = "SELECT database_name FROM duckdb_databases() WHERE NOT internal"
        assert copied.execute(attached).fetchall() == [("memory",)]
        tables = [
            name for (name,) in ran.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        ]
        assert len(tables) >= 8
        for table in tables:
            assert copied.execute(f'SELECT count(*) FROM "{table}"').fetchone() == (0,)
