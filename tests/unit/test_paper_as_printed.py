"""The source paper shown as it was printed, and the demo's reading of it said beside it.

Reference: the paper's Table 2 as printed (seeds/000_8ceb255e11c379cd.txt): "Primary
patency" six-month 29, one-year 27, two-year 24, three-year 21; "Assisted patency" 28, 25,
22, 20. By definition assisted primary >= primary at every time (domain.md), so the demo
reads the two rows as swapped; its Table 3 transitions per limb are invented, so the
results computed on them are not published.
"""

from __future__ import annotations

import pytest

from analytics.cohort import published
from analytics.filters import CohortFilter
from analytics.glossary import (
    CEAP_REGRESSION,
    MARGINAL_HOMOGENEITY,
    MEDIAN_CHANGE,
    NOT_PUBLISHED_COMPUTED,
    PATENCY_ROWS_SWAPPED,
    PTS,
    REFLUX,
    SEVERITY_SCORE,
    SYMMETRY,
    VILLALTA,
)
from analytics.present import format as fmt
from analytics.present.masking import Mask, mask
from analytics.present.report import report_json, report_text
from analytics.present.tables import paper_table, table3
from analytics.stats.clinical import ClinicalChange
from analytics.views import clinical_ledger, clinical_view, paper_view, report_view

PRINTED_PRIMARY = {6: 29, 12: 27, 24: 24, 36: 21}
PRINTED_ASSISTED = {6: 28, 12: 25, 24: 22, 36: 20}


def test_table2_patency_rows_kept_as_printed_with_their_labels():
    assert published.PATENCY_PRINTED == {
        "primary": PRINTED_PRIMARY,
        "assisted_primary": PRINTED_ASSISTED,
    }
    assert published.PATENCY_PRINTED_LABELS == {
        "primary": "Primary patency",
        "assisted_primary": "Assisted patency",
    }


def test_the_demos_reading_is_the_printed_rows_swapped_and_keeps_the_definition():
    assert published.PATENCY == {"primary": PRINTED_ASSISTED, "assisted_primary": PRINTED_PRIMARY}
    reading, printed = published.PATENCY, published.PATENCY_PRINTED
    assert all(reading["assisted_primary"][m] >= reading["primary"][m] for m in PRINTED_PRIMARY)
    assert all(printed["assisted_primary"][m] < printed["primary"][m] for m in PRINTED_PRIMARY)


@pytest.fixture
def reconciliation(demo):
    return paper_table(paper_view(demo)).set_index("Item")


@pytest.mark.parametrize(
    ("label", "printed", "read_as"),
    [
        *((f"Primary patency at {m} months, patients patent", n, "assisted primary patency")
          for m, n in PRINTED_PRIMARY.items()),
        *((f"Assisted patency at {m} months, patients patent", n, "primary patency")
          for m, n in PRINTED_ASSISTED.items()),
    ],
)  # fmt: skip
def test_reconciliation_shows_each_patency_row_as_printed_and_how_it_is_read(
    reconciliation, label, printed, read_as
):
    row = reconciliation.loc[label]
    assert row["Published"] == str(printed)
    assert row["Read as"] == f"as {read_as} (rows read as swapped)"
    # the demo reproduces the printed number under the endpoint the row is read as
    assert (row["Reconstructed"], row["Same"]) == (str(printed), "yes")


def test_reconciliation_published_primary_at_6_months_is_the_printed_29(reconciliation):
    assert reconciliation.loc["Primary patency at 6 months, patients patent", "Published"] == "29"


def test_reconciliation_reads_every_other_row_as_printed(reconciliation):
    others = reconciliation[~reconciliation.index.str.contains("patency at")]
    assert len(others) >= 30
    assert set(others["Read as"]) == {"as printed"}
    assert list(reconciliation.columns) == ["Published", "Read as", "Reconstructed", "Same"]


def exact(change: ClinicalChange) -> Mask:
    """The clinical view with privacy off."""
    return mask(clinical_ledger(change), None)


def test_table3_labels_the_results_computed_on_invented_transitions_on_the_demo(demo):
    change = clinical_view(demo, CohortFilter())
    table = table3(change, exact(change), reconstruction=True).set_index("Measure")
    for test in (MARGINAL_HOMOGENEITY, SYMMETRY):  # Stuart-Maxwell, Bowker
        assert table.loc[test, "Test"].endswith(f"; {NOT_PUBLISHED_COMPUTED}")
    for score in (f"{SEVERITY_SCORE}, mean ± SD", f"{VILLALTA}, mean ± SD"):  # Hodges-Lehmann
        assert table.loc[score, MEDIAN_CHANGE].endswith(f"; {NOT_PUBLISHED_COMPUTED}")
    # what the paper's Table 3 prints carries no such label
    published_cells = table.loc[[PTS, REFLUX], ["Before", "After", "P value", "Test"]]
    assert not published_cells.map(lambda cell: NOT_PUBLISHED_COMPUTED in cell).any().any()
    assert (
        not table[["Before", "After", "P value"]]
        .map(lambda cell: NOT_PUBLISHED_COMPUTED in cell)
        .any()
        .any()
    )


def test_table3_of_a_real_cohort_has_no_not_published_label(demo):
    change = clinical_view(demo, CohortFilter())
    table = table3(change, exact(change))
    assert not table.map(lambda cell: NOT_PUBLISHED_COMPUTED in str(cell)).any().any()


def test_table3_leaves_a_hidden_cell_hidden_without_a_label(demo):
    few = CohortFilter(segments=("IVC",))  # 4 limbs: every median change hidden at k = 5
    change = clinical_view(demo, few)
    table = table3(change, mask(clinical_ledger(change), 5), reconstruction=True)
    assert set(table[MEDIAN_CHANGE].loc[lambda cells: cells != ""]) == {fmt.SUPPRESSED}


def test_report_json_cohort_notes_say_how_the_demo_reads_the_paper(demo):
    report = report_json(report_view(demo, CohortFilter()))
    assert report["cohort"]["notes"] == [PATENCY_ROWS_SWAPPED, CEAP_REGRESSION]
    assert report["cohort"]["is_reconstruction"] is True


def test_report_text_carries_the_notes_on_the_demo(demo):
    text = report_text(report_view(demo, CohortFilter()), 5)
    assert f"Note: {PATENCY_ROWS_SWAPPED}\n" in text
    assert f"Note: {CEAP_REGRESSION}\n" in text


def test_report_of_a_registry_has_no_notes_on_the_paper(registry_path):
    from analytics.cohort.db import open_cohort

    with open_cohort(registry_path) as con:
        view = report_view(con, CohortFilter(center="C01"))
        report, text = report_json(view), report_text(view)
    assert report["cohort"]["notes"] == []
    assert PATENCY_ROWS_SWAPPED not in text and CEAP_REGRESSION not in text
