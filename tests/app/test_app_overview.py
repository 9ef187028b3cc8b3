"""The Overview page (app.py) through Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import unescaped
from ui.data import close_connections

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    close_connections()


def test_missing_cohort_file_shows_a_clear_message(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere.duckdb"
    monkeypatch.setenv("COHORT_DB", str(missing))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    errors = [unescaped(e.value) for e in at.error]
    assert any(str(missing) in e and "does not exist" in e for e in errors)


def test_corrupt_cohort_file_shows_a_clear_message(monkeypatch, tmp_path):
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"not a database at all" * 100)
    monkeypatch.setenv("COHORT_DB", str(corrupt))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any(str(corrupt) in unescaped(e.value) for e in at.error)


def test_overview_on_the_demo(monkeypatch, demo_path):
    monkeypatch.setenv("COHORT_DB", str(demo_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients analysed"] == "34"
    assert metrics["Technical success"] == "34 (91.9%)"
    notes = {m.label: m.proto.delta for m in at.metric}
    assert notes["Technical success"] == "of 37 enrolled"  # a short label: no ellipsis
    assert metrics["Primary patency, 12 months"] == "73.5%"
    assert metrics["PTS before → after"] == "34 → 24"
    assert any("not patient data" in i.value for i in at.info)
    # R (tests/unit/test_follow_up_and_competing.py): median follow-up 36 (36, 36); every
    # patient followed the protocol's 36 months, so Clark's C to them is complete
    assert any(
        "Median follow-up (reverse Kaplan-Meier) 36.0 (95% CI 36.0 to 36.0) months" in c.value
        and "completeness (Clark's C) 100.0%, to the earlier of the latest contact and the "
        "protocol's planned 36 months"
        in c.value
        for c in at.caption
    )


def test_filter_in_the_url_changes_n(monkeypatch, demo_path):
    monkeypatch.setenv("COHORT_DB", str(demo_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lesion_side"] = "left"
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Patients analysed"] == "22"


def test_invalid_url_value_is_dropped_with_a_notice(monkeypatch, demo_path):
    monkeypatch.setenv("COHORT_DB", str(demo_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lesion_side"] = "center"
    at.run()
    assert not at.exception
    assert any("lesion_side='center'" in unescaped(w.value) for w in at.sidebar.warning)
    assert {m.label: m.value for m in at.metric}["Patients analysed"] == "34"


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("foo", "bar"),  # not a parameter at all
        ("present", "maybe"),
        ("by", "patient_id"),
        ("month", "7"),
        ("cohort", "no-such-cohort"),
    ],
)
def test_every_dropped_link_value_is_named_with_its_parameter(monkeypatch, demo_path, key, text):
    monkeypatch.setenv("COHORT_DB", str(demo_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[key] = text
    at.run()
    assert not at.exception
    notices = [unescaped(w.value) for w in at.sidebar.warning]
    assert any(f"{key}={text!r}" in notice for notice in notices), notices
    assert {m.label: m.value for m in at.metric}["Patients analysed"] == "34"


def test_the_safety_tiles_say_their_percentages_are_crude(monkeypatch, demo_path):
    """7 of 34 patients had a recurrent DVT over follow-up of unequal length: a crude share,
    not a risk by any time, and the tile says so under it."""
    from analytics.glossary import CRUDE_OVER_FOLLOW_UP, DEFINITIONS

    monkeypatch.setenv("COHORT_DB", str(demo_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    tiles = {m.label: m for m in at.metric}
    for label in ("Recurrent DVT", "Pulmonary embolism", "Death"):
        assert tiles[label].proto.delta == CRUDE_OVER_FOLLOW_UP, label
        assert tiles[label].proto.help == DEFINITIONS["Crude percentage"], label
    assert tiles["Recurrent DVT"].value == "7 (20.6%)"
