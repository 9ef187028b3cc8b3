"""The Data page through AppTest: provenance, dictionary, definitions, no identifiers."""

from __future__ import annotations

from analytics.cohort.db import open_cohort

PAGE = "pages/6_Data.py"


def test_provenance_dictionary_and_definitions(page_test):
    at = page_test(PAGE)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "reconstructed" in text.lower()
    dictionary_tables = [d.value for d in at.dataframe]
    columns = {c for table in dictionary_tables for c in table["column"]}
    assert {"patient_id", "ceap_c", "villalta", "event", "follow_up_months"} <= columns
    assert "**Secondary patency.**" in text


def test_no_patient_identifier_on_the_page(page_test, demo_path):
    at = page_test(PAGE)
    with open_cohort(demo_path) as con:
        ids = [row[0] for row in con.execute("SELECT patient_id FROM patients").fetchall()]
    shown = " ".join(m.value for m in at.markdown) + " ".join(
        d.value.to_csv() for d in at.dataframe
    )
    assert not [i for i in ids if i in shown]
