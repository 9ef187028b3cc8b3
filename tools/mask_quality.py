"""How much privacy mode withholds, and how long deciding it takes, over a set of views.

For each filter and view of a cohort file (the page's ledger, as the dashboard masks it:
the one decision over the sidebar and every page at its defaults, masking.page_mask),
prints the counts the view shows, how many show "<k"
(small: those privacy must hide), how many more it withholds beside them (complements),
whether it withholds everything, and the time to decide. Fewer complements for the same
small counts is a better mask: every one is a number the meeting loses.

    python -m tools.mask_quality --db /tmp/demo.duckdb [--k 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from analytics.cohort.db import open_cohort
from analytics.filters import parse_pairs
from analytics.partitions import Ledger
from analytics.present.deck import deck_mask
from analytics.present.masking import dashboard_mask, page_mask
from analytics.views import (
    centres_ledger,
    centres_view,
    clinical_ledger,
    clinical_view,
    dashboard_pages,
    deck_view,
    header_ledger,
    header_view,
    patency_page_ledger,
    patency_view,
    subgroups_ledger,
    subgroups_view,
)

FILTERS = ("", "lesion_side=right", "lesion_side=left", "thrombophilia=yes", "sex=F")


def _views(con, cohort_filter) -> dict[str, Callable[[], Ledger]]:
    """Each page's counts, as it declares them."""
    n = header_view(con, cohort_filter).limbs

    def curves(by: str | None) -> Callable[[], Ledger]:
        return lambda: patency_page_ledger(patency_view(con, cohort_filter, by), n)

    return {
        "patency": curves(None),
        "patency by side": curves("lesion_side"),
        "patency by centre": curves("center"),
        "subgroups": lambda: subgroups_ledger(subgroups_view(con, cohort_filter), n),
        "centres": lambda: centres_ledger(centres_view(con, cohort_filter)),
        "clinical": lambda: clinical_ledger(clinical_view(con, cohort_filter)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'filter':<20} {'view':<18} {'shown':>6} {'small':>6} {'withheld':>9} {'all':>4} ms")
    totals = [0, 0, 0]
    with open_cohort(args.db) as con:
        for text in FILTERS:
            cohort_filter = parse_pairs([text] if text else [])
            header = header_ledger(header_view(con, cohort_filter))
            decision = dashboard_mask(header, dashboard_pages(con, cohort_filter).defaults(args.k),
                                      args.k)  # fmt: skip
            views = _views(con, cohort_filter)
            deck = deck_view(con, cohort_filter)
            views["deck"] = None
            for name, build in views.items():
                times = []
                for _ in range(args.runs):
                    start = time.perf_counter()
                    if build is None:
                        decided = deck_mask(deck, args.k)
                        keys = frozenset(decided.counts)
                    else:
                        page = build()
                        start = time.perf_counter()
                        decided = page_mask(decision, page, args.k)
                        keys = (header | page).shown_keys()  # the decision holds every page's
                    times.append(1000 * (time.perf_counter() - start))
                small = len(decided.small & keys)
                withheld = len((decided.withheld - decided.omitted) & keys)
                totals[0] += small
                totals[1] += withheld
                totals[2] += decided.everything
                print(
                    f"{text or '(none)':<20} {name:<18} {len(keys):>6} {small:>6} "
                    f"{withheld:>9} {'yes' if decided.everything else '':>4} "
                    f"{statistics.median(times):.0f}"
                )
    print(f"total: {totals[0]} small, {totals[1]} withheld beside them, {totals[2]} hidden whole")


if __name__ == "__main__":
    main()
