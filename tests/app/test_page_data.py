"""The Data page through AppTest: provenance, dictionary, definitions, no identifiers."""

from __future__ import annotations

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.views import follow_up_view
from tests.conftest import unescaped

PAGE = "pages/6_Data.py"


def test_provenance_dictionary_and_definitions(page_test):
    at = page_test(PAGE)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "reconstructed" in text.lower()
    dictionary_tables = [d.value for d in at.table]
    columns = {c for table in dictionary_tables for c in table["column"]}
    assert {"patient_id", "ceap_c", "villalta", "event", "follow_up_months"} <= columns
    assert "**Secondary patency.**" in text


def test_no_patient_identifier_on_the_page(page_test, demo_path):
    at = page_test(PAGE)
    with open_cohort(demo_path) as con:
        ids = [row[0] for row in con.execute("SELECT patient_id FROM patients").fetchall()]
    shown = " ".join(m.value for m in at.markdown) + " ".join(d.value.to_csv() for d in at.table)
    assert not [i for i in ids if i in shown]


def test_follow_up_section_states_the_median_and_completeness(page_test, demo):
    at = page_test(PAGE)
    result = follow_up_view(demo, CohortFilter())
    line = next(
        m.value for m in at.markdown if unescaped(m.value).startswith("Median follow-up (reverse")
    )
    # R (tests/unit/test_follow_up_and_competing.py): median follow-up 36 (36, 36)
    assert "36.0 (95% CI 36.0 to 36.0) months" in unescaped(line)
    assert f"completeness (Clark's C) {100 * result.completeness:.1f}%" in unescaped(line)
    assert unescaped(line).endswith("to the earlier of the latest contact and the protocol's "
                                    "planned 36 months.")  # fmt: skip
    assert any("latest last contact" in c.value for c in at.caption)


def test_follow_up_is_hidden_over_fewer_than_k(page_test):
    at = page_test(PAGE, privacy="yes", segments="IVC")  # 4 IVC lesions
    line = next(
        m.value for m in at.markdown if unescaped(m.value).startswith("Median follow-up (reverse")
    )
    assert unescaped(line).count("hidden") == 2 and "36.0" not in line


def test_an_imported_registry_s_patients_are_a_count_of_the_masked_view(page_test):
    """The import's patients pass through the page's mask (views.imported_ledger): 3 show
    "<5" with privacy on, as every count of fewer than k."""
    from ui.cohorts import IMPORTED_KEY, UploadOutcome

    at = page_test(PAGE, privacy="yes")
    at.session_state[IMPORTED_KEY] = UploadOutcome("tiny", name="Tiny", files="t.xlsx", patients=3)
    at.run()
    assert not at.exception
    (success,) = at.success
    assert "Imported Tiny from t.xlsx: <5 patients." in unescaped(success.value)
