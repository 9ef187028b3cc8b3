"""A deck or a report beside the dashboard's pages for the same filter and grouping: a
reader holding both (the meeting's deck and the dashboard) recovers no count below k
from the two together that the pages do not already give away between themselves, and
the export shows exactly what the pages show exactly (masking.shown_by_pages,
export_mask). The judge is tests/reader.py's attacker, given what each surface shows of
each count it declares (its mask's cells, the most telling mark winning) and every sum of
their ledgers; it knows nothing of how either decided.

The registry is the tests' bilateral one (``synth --limbs 600 --centers 4 --seed 1``),
compared by aetiology at k = 5. Before export_mask the Patency page and the deck together
gave four counts away that the pages do not (the post-thrombotic curve's 3 events between
36 and 48 months among them), each safe alone. The pages themselves disagreed on this
registry before they were decided once per filter (the Safety page showed the 30 later
pulmonary embolisms, Tables and the Overview the 31 in all: 1 within 30 days); what
they give away together (``together``, now nothing) no export could hide from a reader
of both, so it is measured apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.partitions import Key, Ledger
from analytics.present.deck import deck_ledger, deck_mask
from analytics.present.masking import Mask, dashboard_mask, page_mask
from analytics.present.report import report_ledger, report_mask
from analytics.views import (
    PatencyRequest,
    clinical_ledger,
    deck_view,
    header_ledger,
    patency_of,
    patency_page_ledger,
    safety_page_ledger,
    subgroups_ledger,
)
from tests.reader import Reading, pinned

K = 5
BY = "aetiology"


def _text(cell_mask: Mask, key: Key) -> object:
    """A count as a surface prints it under ``cell_mask``."""
    cell = cell_mask.cell(key)
    return cell.value if cell.shown == "exact" else f"<{K}" if cell.shown == "small" else None


def given_away(surfaces: list[tuple[Ledger, Mask]], public: Ledger) -> list:
    """The counts below k a reader of every surface pins down: each surface prints its
    ledger's counts as its mask shows them; the reader knows every sum of the ledgers and
    the ``public`` counts (the population analysed)."""
    joined = public
    for view, _ in surfaces:
        joined |= view
    reading = Reading(K, 2 * max(joined.counts.values()))
    reading.limbs = {key for key in joined.counts
                     if joined.counts_limbs(key) and joined.patients_of(key) < K}  # fmt: skip
    for view, decided in surfaces:
        for key in view.shown_keys():
            reading.read(key, _text(decided, key))
    for s in joined.sums:
        reading.add_sum(s.total, s.parts)
    reading.known |= {key: public.counts[key] for key in public.public}
    return pinned(reading, joined.counts)


def exact(view: Ledger, decided: Mask) -> set[Key]:
    return {key for key in view.shown_keys() if not decided.hidden(key)} - decided.omitted


@dataclass(frozen=True)
class Beside:
    """The deck and the report by aetiology, masked, and the pages (with the sidebar's
    counts) as each page masks them."""

    header: Ledger
    deck: tuple[Ledger, Mask]
    report: tuple[Ledger, Mask]
    pages: dict[str, tuple[Ledger, Mask]]
    together: frozenset[Key]  # what every page of the view gives away read together


@pytest.fixture(scope="module")
def beside(bilateral_path) -> Beside:
    """The deck by aetiology, the Patency page by aetiology and without it, the
    Subgroups, Clinical outcomes and Safety pages, each masked as the dashboard masks it
    (the one decision at the filter, dashboard_mask; page_mask beside it), with the
    sidebar."""
    with open_cohort(bilateral_path) as con:
        view = deck_view(con, CohortFilter(), by=BY)
        request = PatencyRequest(BY, view.endpoint)
        compared, plain = (patency_of(con, CohortFilter(), r)
                           for r in (request, replace(request, by=None)))  # fmt: skip
    header = header_ledger(view.report.header)
    n = view.report.header.limbs
    compared, plain = patency_page_ledger(compared, n), patency_page_ledger(plain, n)
    pages = {
        "patency": compared,
        "overall": plain,
        "subgroups": subgroups_ledger(view.subgroups, n),
        "clinical": clinical_ledger(view.report.clinical),
        "safety": safety_page_ledger(view.pages.safety, K),
    }
    decision = dashboard_mask(header, view.pages.defaults(K), K)
    every = [(header | page, page_mask(decision, page, K))
             for page in (*view.pages.defaults(K), *view.pages.controlled())]  # fmt: skip
    return Beside(
        header,
        (deck_ledger(view), deck_mask(view, K)),
        (report_ledger(view.report), report_mask(view.report, K)),
        {name: (header | page, page_mask(decision, page, K)) for name, page in pages.items()},
        frozenset(key for key, _, _ in given_away(every, header)),
    )  # fmt: skip


def beyond_the_pages(beside: Beside, surfaces: list[tuple[Ledger, Mask]]) -> list:
    """What ``surfaces`` give away that the pages do not already give away together
    (the Safety page beside Table 2's safety rows, a Patency page's deaths beside Table
    2's censored: theirs, not an export's)."""
    return [found for found in given_away(surfaces, beside.header)
            if found[0] not in beside.together]  # fmt: skip


def test_the_pages_read_together_give_no_count_away(beside):
    assert beside.together == frozenset()


def test_the_patency_page_and_the_deck_together_give_no_count_away(beside):
    assert beyond_the_pages(beside, [beside.pages["patency"], beside.deck]) == []


def test_the_deck_and_the_report_alone_give_no_count_away(beside):
    assert given_away([beside.deck], beside.header) == []
    assert given_away([beside.report], beside.header) == []


@pytest.mark.parametrize("page", ["patency", "subgroups", "clinical", "safety"])
def test_the_deck_and_a_page_together_give_no_count_away(beside, page):
    assert beyond_the_pages(beside, [beside.pages[page], beside.deck]) == []


@pytest.mark.parametrize("page", ["patency", "subgroups", "clinical"])
def test_what_a_page_shows_exactly_the_deck_shows_exactly(beside, page):
    both = exact(*beside.pages[page]) & beside.deck[0].shown_keys()
    assert both and both <= exact(*beside.deck)


@pytest.mark.parametrize("page", ["patency", "safety", "clinical"])
def test_the_report_and_a_page_together_give_no_count_away(beside, page):
    assert beyond_the_pages(beside, [beside.pages[page], beside.report]) == []


@pytest.mark.parametrize("page", ["clinical"])  # the Patency page's: see the module's note
def test_what_a_page_shows_exactly_the_report_shows_exactly(beside, page):
    both = exact(*beside.pages[page]) & beside.report[0].shown_keys()
    assert both and both <= exact(*beside.report)
