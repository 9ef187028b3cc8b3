"""What the page views ask DuckDB for, read from the SQL they send (bench times them; these
tests keep the shape that makes them fast, without timing anything)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from analytics import views
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


def test_follow_up_clamps_person_time_without_least_or_greatest(demo):
    """The completeness sums run once per patient in one grouping: CASEs, not least and
    greatest (four times the cost per row in DuckDB 2.0), and no grouping set () that
    adds every patient's person-time a second time."""
    (sql,) = [s for s in sent_by(views.follow_up_view, demo, CohortFilter()) if "lock" in s]
    assert not re.search(r"\b(least|greatest)\s*\(", sql, re.IGNORECASE)
    assert "GROUPING SETS" not in sql.upper()


def test_the_header_counts_its_three_numbers_in_one_scan(demo):
    """The sidebar's n, the population analysed and the file's limbs: one pass over the
    summary counting where each condition holds, not a scan per number, and the patients
    with two limbs grouped once for all three by a subquery of their rows alone (a
    grouping per condition took twice as long); the counts are those of the imported
    tables."""
    left = CohortFilter(lesion_side="left")
    (sql,) = sent_by(views.header_view, demo, left)
    assert len(re.findall(r"\bFROM limb_summary\b", sql)) == 1 + 1, sql
    assert sql.count("patient_limbs > 1 GROUP BY patient_key") == 1, sql
    rows = demo.execute("SELECT side, technical_success, patient_id FROM limbs").df()
    analysed = rows[rows["technical_success"]]
    header = views.header_view(demo, left)
    left_limbs = int((analysed["side"] == "left").sum())
    assert (header.limbs, header.analysed, header.total) == (left_limbs, len(analysed), len(rows))
    # one limb per patient in the demo: as many patients
    assert (header.people, header.people_in_file) == (left_limbs, rows["patient_id"].nunique())
