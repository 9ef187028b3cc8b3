"""In privacy mode the dashboard's pages agree with one another: a user who opens every
page at one filter (the sidebar, the Overview, Patency without a comparison, Clinical
outcomes, Safety with its timeline, Subgroups and Tables, at their default controls)
recovers no count below k from all they show together.

Before one decision per filter, each page masked its own view beside the sidebar's: on
the tests' bilateral registry the Safety page showed the 30 later pulmonary embolisms
and withheld the 31 in all, Tables and the Overview the reverse, so the two gave the 1
within 30 days away (21 counts in all on the whole registry, with the timeline's deaths
and a curve's deaths beside Table 2's censored); on the demo, 7 (the timeline's
recurrent DVTs). The judge is tests/reader.py's attacker, given what each page shows of
each count it declares and every sum of the pages' ledgers; it knows nothing of how the
pages decided.
"""

from __future__ import annotations

import pytest

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.partitions import Ledger
from analytics.present.masking import Mask, page_mask
from analytics.views import (
    PatencyRequest,
    dashboard_pages,
    header_ledger,
    header_view,
    subgroups_view,
)
from tests.unit.test_exports_beside_pages import given_away

K = 5
FILTERS = {
    "bilateral": (CohortFilter(), CohortFilter(lesion_side="right"), CohortFilter(sex="F")),
    "demo": (CohortFilter(), CohortFilter(sex="F")),
}


def pages_as_shown(path, cohort_filter: CohortFilter) -> tuple[Ledger, list[tuple[Ledger, Mask]]]:
    """The sidebar's counts, and each page at its default controls with the mask the
    dashboard renders it by (ui.page.masked)."""
    with open_cohort(path) as con:
        header = header_ledger(header_view(con, cohort_filter))
        pages = dashboard_pages(con, cohort_filter, PatencyRequest(),
                                subgroups_view(con, cohort_filter))  # fmt: skip
    return header, [(header | page.view, page_mask(header, page.view, K, page.beside))
                    for page in pages.ledgers()]  # fmt: skip


@pytest.mark.parametrize(
    ("cohort", "cohort_filter"),
    [(cohort, f) for cohort, filters in FILTERS.items() for f in filters],
)
def test_the_pages_together_give_no_count_away(request, cohort, cohort_filter):
    path = request.getfixturevalue(f"{cohort}_path")
    header, surfaces = pages_as_shown(path, cohort_filter)
    assert given_away(surfaces, header) == []
