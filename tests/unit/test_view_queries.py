"""What the page views ask DuckDB for, read from the SQL they send (bench times them; these
tests keep the shape that makes them fast, without timing anything)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from analytics import views
from analytics.cohort.tallies import forget_selections
from analytics.filters import CohortFilter

PAGE_VIEWS: dict[str, Callable[[Any, CohortFilter], object]] = {
    "header": views.header_view,
    "Overview": views.overview_view,
    "Patency (by thrombophilia)": lambda con, f: views.patency_view(con, f, "thrombophilia"),
    "Clinical outcomes": views.clinical_view,
    "Safety": views.safety_view,
    "Subgroups": views.subgroups_view,
    "Tables": views.tables_view,
    "Centres": views.centres_view,
}
FILTERS = (CohortFilter(), CohortFilter(lesion_side="left", segments=("CIV",)))


class Recording:
    """A connection that keeps the text of every query sent through it or its cursors."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sent: list[str]) -> None:
        self.con, self.sent = con, sent

    def execute(self, sql: str, *params: Any) -> duckdb.DuckDBPyConnection:
        self.sent.append(sql)
        return self.con.execute(sql, *params)

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        self.sent.append(query)
        return self.con.sql(query)

    def cursor(self) -> Recording:
        return Recording(self.con.cursor(), self.sent)

    def close(self) -> None:
        self.con.close()


def sent_by(view: Callable[[Any, CohortFilter], object], con: duckdb.DuckDBPyConnection,
            cohort_filter: CohortFilter) -> list[str]:  # fmt: skip
    sent: list[str] = []
    view(Recording(con, sent), cohort_filter)
    return sent


@pytest.mark.parametrize("page", PAGE_VIEWS)
@pytest.mark.parametrize("cohort_filter", FILTERS, ids=("unfiltered", "left CIV"))
def test_page_views_name_the_columns_they_read(demo, page, cohort_filter):
    """No query of a page binds the patient summary's every column (``SELECT *``): DuckDB
    takes about a millisecond to bind its 60, a third of a query on the demo."""
    sent = sent_by(PAGE_VIEWS[page], demo, cohort_filter)
    assert sent
    starred = [sql for sql in sent if re.search(r"SELECT\s+\*", sql, re.IGNORECASE)]
    assert not starred, starred


@pytest.mark.parametrize("page", ("header", "Overview", "Tables"))
def test_a_tallied_page_reads_only_which_rows_a_new_filter_selects(demo, page):
    """Once a file's columns are coded (analytics.cohort.tallies), a page on a filter it
    has not read asks DuckDB which rows the filter selects and groups nothing itself."""
    PAGE_VIEWS[page](demo, CohortFilter())
    forget_selections()  # another test may have read the filter
    sent = sent_by(PAGE_VIEWS[page], demo, CohortFilter(lesion_side="left", segments=("CIV",)))
    assert any("AS keep FROM limb_summary" in sql for sql in sent)
    assert not [sql for sql in sent if "GROUP BY" in sql.upper()]


def test_the_header_counts_the_imported_tables_limbs_and_patients(demo):
    """The sidebar's n, the population analysed and the file's limbs, and their patients,
    are those of the imported tables."""
    left = CohortFilter(lesion_side="left")
    rows = demo.execute("SELECT side, technical_success, patient_id FROM limbs").df()
    analysed = rows[rows["technical_success"]]
    header = views.header_view(demo, left)
    left_limbs = int((analysed["side"] == "left").sum())
    assert (header.limbs, header.analysed, header.total) == (left_limbs, len(analysed), len(rows))
    # one limb per patient in the demo: as many patients
    assert (header.people, header.people_in_file) == (left_limbs, rows["patient_id"].nunique())
