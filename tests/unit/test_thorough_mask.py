"""A thorough mask (a deck's, a report's: analytics.present.masking.mask with
``thorough``) shows again each count the greedy choice withheld for nothing, most worth
to a reader first (Ledger.worth: a curve's n, its events, its at risk), and still lets no
small count follow: checked by a brute-force attacker here, and by the deck's and the
report's readers in test_deck_privacy, test_report_privacy and test_estimate_privacy."""

from __future__ import annotations

from analytics.filters import CohortFilter
from analytics.partitions import Sum, ledger
from analytics.present.deck import deck_mask
from analytics.present.masking import mask
from analytics.present.report import report_json
from analytics.views import (
    ALL_PATIENTS,
    PRIMARY,
    curve_key,
    deck_view,
    patency_ledger,
    patency_view,
    report_view,
)
from tests.unit.test_masking import A, B, N, values_an_attacker_allows

AETIOLOGIES = ("post_thrombotic", "non_thrombotic", "acute_thrombotic")


def test_a_count_a_later_withholding_covers_shows_again():
    """Centres of 3 and 1 patients, n = 4, k = 3, both worth showing: the greedy choice
    withholds the 3 (in as few sums as n, as much worth, and smaller), which leaves the 1
    pinned (the 3 is at least 3), so n too; with n withheld the 3 gives nothing away (n is
    4 or more). Only a count declared worth showing is tried (n, then the 3)."""
    view = ledger({N: 4, A: 3, B: 1}, [Sum(N, (A, B))], worth={A: 1, N: 1})
    assert mask(view, 3).withheld == {A, N}
    thorough = mask(view, 3, thorough=True)
    assert (thorough.small, thorough.withheld) == ({B}, {N})
    assert values_an_attacker_allows(view, thorough)[B] == {1, 2}
    assert mask(ledger(view.counts, view.sums), 3, thorough=True).withheld == {A, N}


def test_a_curves_n_then_its_events_then_its_at_risk_are_worth_showing(bilateral):
    worth = patency_ledger(patency_view(bilateral, CohortFilter())).worth
    n, events, at_risk, censored = (
        curve_key(PRIMARY, ALL_PATIENTS, count, month)
        for count, month in (("patients", None), ("events", 12.0), ("at risk", 12.0),
                             ("censored", 12.0))
    )  # fmt: skip
    assert worth[n] > worth[events] > worth[at_risk] and censored not in worth


def test_the_deck_by_aetiology_shows_each_curves_start_and_more_estimates(bilateral):
    """The bilateral registry (600 limbs, 4 centres), technical successes, k = 5: the
    greedy choice alone withheld every aetiology's at risk at month 0 (its n, printed in
    the legend) and every aetiology's 12-month events, so its estimate."""
    decided = deck_mask(deck_view(bilateral, CohortFilter(), by="aetiology"), 5)
    starts = [curve_key(PRIMARY, level, "at risk", 0.0, by="aetiology") for level in AETIOLOGIES]
    assert not decided.hidden(*starts)
    assert not decided.hidden(curve_key(PRIMARY, "post_thrombotic", "events", 12.0, by="aetiology"))


def test_the_report_by_aetiology_prints_the_post_thrombotic_12_month_estimate(bilateral):
    groups = report_json(report_view(bilateral, CohortFilter(), "aetiology"), 5)["patency"]
    twelve = next(r for r in groups[PRIMARY]["groups"]["post_thrombotic"] if r["month"] == 12)
    assert round(twelve["estimate"], 3) == 0.745 and twelve["events"] == 80
