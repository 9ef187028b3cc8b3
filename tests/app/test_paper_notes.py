"""The one-line notes on how the demo reads the paper, where the demo's numbers are shown
beside the paper's, and never on a registry (AppTest).

Reference: the paper prints primary patency 29/27/24/21 and assisted 28/25/22/20 (Table 2)
and C5 15 -> 9 (Table 3); the demo reads the patency rows as swapped and reproduces the
CEAP regression (domain.md, "Where the paper contradicts itself").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.glossary import (
    CEAP_REGRESSION,
    MARGINAL_HOMOGENEITY,
    NOT_PUBLISHED_COMPUTED,
    PATENCY_ROWS_SWAPPED,
    SYMMETRY,
    TABLE1_NOT_PUBLISHED,
    TABLE3_NOT_PUBLISHED,
)
from tests.conftest import unescaped

NOTES_BY_PAGE = {
    "app.py": (PATENCY_ROWS_SWAPPED, CEAP_REGRESSION),  # patency tiles, CEAP classes
    "pages/1_Patency.py": (PATENCY_ROWS_SWAPPED,),
    "pages/2_Clinical_outcomes.py": (CEAP_REGRESSION, TABLE3_NOT_PUBLISHED),
    "pages/5_Tables.py": (
        PATENCY_ROWS_SWAPPED,
        CEAP_REGRESSION,
        TABLE3_NOT_PUBLISHED,
        TABLE1_NOT_PUBLISHED,
    ),
}


def captions(at) -> list[str]:
    return [unescaped(c.value) for c in at.caption]


@pytest.mark.parametrize(("page", "notes"), NOTES_BY_PAGE.items())
def test_each_page_showing_the_demo_beside_the_paper_carries_its_notes(page_test, page, notes):
    at = page_test(page)
    assert not at.exception
    for note in notes:
        assert note in captions(at), (page, note)


def test_the_overview_says_the_patency_reading_right_under_its_tiles(page_test):
    at = page_test("app.py")
    assert unescaped(at.main.caption[0].value) == PATENCY_ROWS_SWAPPED  # the first under them


def test_tables_page_labels_table3s_unpublished_rows_and_shows_the_printed_patency(page_test):
    at = page_test("pages/5_Tables.py")
    assert not at.exception
    table3 = at.table[2].value.set_index("Measure")
    for test in (MARGINAL_HOMOGENEITY, SYMMETRY):
        assert table3.loc[test, "Test"].endswith(NOT_PUBLISHED_COMPUTED)
    comparison = next(d.value for d in at.table if "Published" in d.value.columns)
    row = comparison.set_index("Item").loc["Primary patency at 6 months, patients patent"]
    assert (row["Published"], row["Reconstructed"]) == ("29", "29")  # printed; demo's assisted
    assert "swapped" in row["Read as"]
    # the reason stands under the reconciliation
    shown = captions(at)
    assert shown.count(PATENCY_ROWS_SWAPPED) == 2  # under Table 2 and the reconciliation


def test_clinical_page_table3_labels_its_unpublished_rows(page_test):
    at = page_test("pages/2_Clinical_outcomes.py")
    table3 = at.table[-1].value.set_index("Measure")
    assert table3.loc[SYMMETRY, "Test"].endswith(NOT_PUBLISHED_COMPUTED)


PRESENTING_NOTES = {  # screen: its title, and the note it carries on the demo
    "1": ("Headline figures", PATENCY_ROWS_SWAPPED),
    "2": ("Patency", PATENCY_ROWS_SWAPPED),
    "3": ("CEAP clinical class", CEAP_REGRESSION),
}


@pytest.mark.parametrize(
    ("screen", "title", "note"), [(s, *n) for s, n in PRESENTING_NOTES.items()]
)
def test_presenting_screens_say_how_the_demo_reads_the_paper(page_test, screen, title, note):
    at = page_test("app.py", present="yes", screen=screen)
    assert not at.exception
    assert [m.value for m in at.markdown if m.value.startswith("## ")] == [f"## {title}"]
    assert any(note in c for c in captions(at))


@pytest.fixture
def registry_page(page_test, registry_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run a page on the synthetic registry instead of the demo (its first centre)."""
    monkeypatch.setenv("COHORT_DB", str(registry_path))
    return lambda page, **params: page_test(page, center="C01", **params)


@pytest.mark.parametrize("page", NOTES_BY_PAGE)
def test_a_registry_carries_no_note_on_the_paper(registry_page, page):
    at = registry_page(page)
    assert not at.exception
    assert not any("No patients" in w.value for w in at.warning)
    assert len(at.metric) + len(at.table) > 0  # the page drew its results
    shown = " ".join(captions(at))
    for note in (PATENCY_ROWS_SWAPPED, CEAP_REGRESSION, TABLE3_NOT_PUBLISHED, TABLE1_NOT_PUBLISHED):
        assert note not in shown
    for table in at.table:
        cells = table.value.astype(str).to_numpy().ravel()
        assert not any(NOT_PUBLISHED_COMPUTED in cell for cell in cells)


@pytest.mark.parametrize("screen", PRESENTING_NOTES)
def test_a_registrys_presenting_screens_have_no_note(registry_page, screen):
    at = registry_page("app.py", present="yes", screen=screen)
    assert not at.exception
    shown = " ".join(captions(at))
    assert PATENCY_ROWS_SWAPPED not in shown and CEAP_REGRESSION not in shown
