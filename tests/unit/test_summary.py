"""The patient summary holds exactly what the joins it replaces would give."""

from __future__ import annotations

import pytest

from analytics.cohort.summary import create_summary, endpoint_columns, measure_columns
from analytics.glossary import ENDPOINTS, SAFETY_EVENTS
from tests.conftest import add_events, add_patient


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_endpoint_columns_equal_the_view(demo, endpoint):
    months, event = endpoint_columns(endpoint)
    differ = demo.execute(
        f"""SELECT count(*) FROM time_to_event AS t JOIN limb_summary AS s USING (limb_id)
        WHERE t.endpoint = ? AND (t.months <> s.{months} OR t.event <> s.{event})""",
        [endpoint],
    ).fetchall()[0][0]
    rows = demo.execute("SELECT count(*) FROM limb_summary").fetchall()[0][0]
    assert differ == 0
    assert rows == demo.execute("SELECT count(*) FROM patients").fetchall()[0][0] == 37


def test_ceap_pair_is_month_zero_and_last_visit(blank):
    add_patient(blank, "p1")
    blank.executemany(
        "INSERT INTO assessments (limb_id, month, ceap_c, villalta) VALUES (?, ?, ?, ?)",
        [("p1", 0, 4, 12), ("p1", 12, 3, 6), ("p1", 36, 2, None)],
    )
    create_summary(blank)
    ceap, villalta = measure_columns("ceap"), measure_columns("villalta")
    pts = measure_columns("pts")
    row = blank.execute(
        f"SELECT {', '.join([*ceap, *villalta, *pts])} FROM limb_summary"
    ).fetchall()[0]
    # CEAP from month 36; Villalta's last value is at month 12 (missing at 36); PTS = Villalta >= 5
    assert row == (4, 2, 12, 6, True, True)


def test_safety_counts_and_early_events(blank):
    add_patient(blank, "p1", follow_up_months=24)
    add_patient(blank, "p2")
    add_events(blank, "p1", (0.5, "minor_bleeding"), (2, "minor_bleeding"), (6, "recurrent_dvt"))
    create_summary(blank)
    counts = {
        e: blank.execute(
            f"SELECT n_{e}, n_{e}_early FROM limb_summary WHERE patient_id = 'p1'"
        ).fetchall()[0]
        for e in SAFETY_EVENTS
    }
    assert counts["minor_bleeding"] == (2, 1)  # 0.5 months is within 30 days, 2 months is not
    assert counts["recurrent_dvt"] == (1, 0)
    assert counts["death"] == (0, 0)
    assert blank.execute(
        "SELECT n_minor_bleeding FROM limb_summary WHERE patient_id = 'p2'"
    ).fetchall() == [(0,)]


def test_unknown_endpoint_or_measure_names_it():
    with pytest.raises(ValueError, match="unknown endpoint 'x'"):
        endpoint_columns("x")
    with pytest.raises(ValueError, match="unknown measure 'y'"):
        measure_columns("y")
