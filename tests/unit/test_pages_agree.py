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

A page never withholds a count the counts it shows fix (masking._unfixed): seen on the
bilateral registry's right side, the Patency page by aetiology withheld each curve's at
risk at month 0 while its legend printed the curve's n (the same number), and the
Safety page showed "9 patients died" and withheld their 9 deaths.
"""

from __future__ import annotations

import pytest

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.partitions import Ledger
from analytics.present.masking import Mask, dashboard_mask, page_mask
from analytics.views import (
    PatencyRequest,
    dashboard_pages,
    header_ledger,
    header_view,
    patency_of,
    patency_page_ledger,
    safety_key,
    safety_page_ledger,
    safety_view,
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
    decision = dashboard_mask(header, pages.defaults(K), K)
    return header, [(header | page, page_mask(decision, page, K)) for page in pages.defaults(K)]


@pytest.mark.parametrize(
    ("cohort", "cohort_filter"),
    [(cohort, f) for cohort, filters in FILTERS.items() for f in filters],
)
def test_the_pages_together_give_no_count_away(request, cohort, cohort_filter):
    path = request.getfixturevalue(f"{cohort}_path")
    header, surfaces = pages_as_shown(path, cohort_filter)
    assert given_away(surfaces, header) == []


def test_every_page_at_its_defaults_renders_the_one_decision(bilateral_path):
    with open_cohort(bilateral_path) as con:
        header = header_ledger(header_view(con, RIGHT))
        pages = dashboard_pages(con, RIGHT)
    decision = dashboard_mask(header, pages.defaults(K), K)
    assert all(page_mask(decision, page, K) is decision.mask for page in pages.defaults(K))


RIGHT = CohortFilter(lesion_side="right")


@pytest.fixture(scope="module")
def right_side(bilateral_path):
    """The bilateral registry's right side: the one decision, the Patency page by
    aetiology (its own control) and the Safety page, as the dashboard decides them."""
    with open_cohort(bilateral_path) as con:
        header = header_view(con, RIGHT)
        decision = dashboard_mask(header_ledger(header), dashboard_pages(con, RIGHT).defaults(K), K)
        compared = patency_page_ledger(patency_of(con, RIGHT, PatencyRequest("aetiology")),
                                       header.limbs)  # fmt: skip
        safety = safety_page_ledger(safety_view(con, RIGHT), K)
    return decision, compared, safety


def test_a_curve_whose_n_shows_shows_its_at_risk_at_month_0(right_side):
    decision, compared, _ = right_side
    decided = page_mask(decision, compared, K)
    curves = [key for key in compared.counts if key[0] == "curve" and key[-1] == "patients"]
    grouped = [key for key in curves if key[2] == "aetiology" and compared.counts[key] >= K]
    assert grouped, "the comparison's groups"
    for curve in curves:
        at_start = (*curve[:-1], "at risk", 0.0)
        if at_start in compared.counts and not decided.hidden(curve):
            assert compared.counts[at_start] == compared.counts[curve]  # nobody ended before 0
            assert not decided.hidden(at_start), curve


def test_the_safety_page_never_shows_who_died_and_withholds_their_deaths(right_side):
    decision, _, safety = right_side
    decided = page_mask(decision, safety, K)
    died, deaths = safety_key("death", "patients"), safety_key("death", "events")
    assert safety.counts[died] == safety.counts[deaths] == 9
    assert decided.hidden(died) == decided.hidden(deaths)
