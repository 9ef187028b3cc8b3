"""Privacy over a whole view: which of the counts it shows to withhold, decided once.

A view shows counts that add up: the sidebar's n is the sum of the centres' patients
(and those without a centre), a curve's patients are at risk, had the event or were
censored by each month, Table 1's rows of one variable add up to its patients. Hiding a
small count where it is printed is not enough when the others of its sum are shown
elsewhere in the same view: n minus the other centres gives the hidden one. So a view
declares its counts once, by name, with the sums they make (a :class:`Ledger`), and
:func:`mask` decides over all of them at once which to withhold: a count of 1 to k-1 is
shown as "<k" (small); then, while any small count can still be worked out exactly from
what is shown, the smallest other count of a sum it is in is withheld too ("hidden").

"Worked out" is judged as an attacker would: from every sum in the ledger at once, with
what the marks themselves say (a "<k" count is 1 to k-1; a withheld one is at least k,
since a smaller one would show "<k"; a count the view does not show is 0 or more), over
whole numbers (an integer program, HiGHS through SciPy). Every surface of the view
(page, hover, figure data, CSV, deck, report) renders the one :class:`Mask`, so a count
shows the same everywhere in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from analytics.partitions import Key, Ledger
from analytics.present.privacy import is_small

Shown = Literal["exact", "small", "withheld"]


@dataclass(frozen=True)
class Cell:
    """A count as the view may show it: its value, and whether it shows exactly, as "<k"
    (small) or withheld. It carries k, so rendering it needs nothing else."""

    value: int
    shown: Shown
    k: int | None = None

    @property
    def hidden(self) -> bool:
        return self.shown != "exact"


@dataclass(frozen=True)
class Mask:
    """What privacy lets a view show of each count it declared (:func:`mask`)."""

    k: int | None
    counts: Mapping[Key, int]
    small: frozenset[Key] = frozenset()
    withheld: frozenset[Key] = frozenset()
    omitted: frozenset[Key] = frozenset()  # withheld as parts of a small count (0 or more)
    everything: bool = False  # no count of the view can be shown (one of fewer than k)

    def cell(self, key: Key) -> Cell:
        if key in self.small:
            return Cell(self.counts[key], "small", self.k)
        if key in self.withheld:
            return Cell(self.counts[key], "withheld", self.k)
        return Cell(self.counts[key], "exact", self.k)

    def hidden(self, *keys: Key) -> bool:
        """Whether any of ``keys`` is not shown exactly: a statistic computed over them (a
        percentage, an interval, a mean) is withheld with them, or it gives them away."""
        return any(key in self.small or key in self.withheld for key in keys)


def mask(view: Ledger, k: int | None) -> Mask:
    """Which of ``view``'s counts to show as "<k" and which to withhold, with privacy ``k``
    (None: privacy off, everything exact).

    Small counts (1 to k-1) show "<k", and the parts of a small count are left out (shown
    withheld: two "<3" making a "<3" would be 1 and 1). Then, while some small count could
    be worked out exactly from the view (:func:`exposed`), the smallest shown non-zero
    count of a sum it is in is withheld (the sum's total only when no part is left):
    complementary suppression, over every sum of the view at once. Should a count still
    follow with nothing left to withhold (never in a view of k patients or more), the mask
    withholds ``everything``.
    """
    if k is None:
        return Mask(None, view.counts)
    sensitive = frozenset(key for key in view.shown_keys() if is_small(view.counts[key], k))
    omitted = _parts_of(view, sensitive)
    small = sensitive - omitted
    withheld: set[Key] = set(omitted)
    while exposing := exposed(view, k, sensitive, small, frozenset(withheld), omitted):
        pick = _complement(view, exposing, small | withheld)
        if pick is None:
            shown = view.shown_keys() - small
            return Mask(k, view.counts, small, frozenset(shown), omitted, everything=True)
        withheld.add(pick)
    return Mask(k, view.counts, small, frozenset(withheld), omitted)


def _parts_of(view: Ledger, totals: frozenset[Key]) -> frozenset[Key]:
    """The parts of ``totals``, and theirs in turn."""
    found: set[Key] = set()
    frontier = set(totals)
    while frontier:
        parts = {p for s in view.sums if s.total in frontier for p in s.parts} - found
        found |= parts
        frontier = parts
    return frozenset(found & view.shown_keys())


def _complement(view: Ledger, key: Key, hidden: frozenset[Key] | set[Key]) -> Key | None:
    """The count to withhold beside ``key``: the smallest shown non-zero part of a sum it
    is in, else such a sum's total; when its sums have none, those of the sums reached
    through their hidden counts (the chain that pins it down)."""
    shown = view.shown_keys() - hidden
    reached, frontier = set(), {key}
    while frontier:
        reached |= frontier
        sums = [s for s in view.sums if frontier & {s.total, *s.parts}]
        parts = [p for s in sums for p in s.parts if p in shown and view.counts[p] > 0]
        totals = [s.total for s in sums if s.total in shown and view.counts[s.total] > 0]
        if candidates := parts or totals:
            return min(candidates, key=lambda p: (view.counts[p], str(p)))
        frontier = {m for s in sums for m in (s.total, *s.parts) if m in hidden} - reached
    return None


def exposed(
    view: Ledger,
    k: int,
    sensitive: frozenset[Key],
    small: frozenset[Key],
    withheld: frozenset[Key],
    omitted: frozenset[Key] = frozenset(),
) -> Key | None:
    """A count of 1 to k-1 (``sensitive``) that the shown counts, the sums and what the
    marks say pin down to one whole number, or None: is there a whole-number solution of
    the sums, within the marks' bounds, where it takes another value? A "<k" is 1 to k-1, a
    count withheld beside one is k or more (a smaller one would show "<k"), a part left
    out of a small count and a count the view does not show are 0 or more."""
    if not sensitive:
        return None
    unknown = sorted(small | withheld | (view.unseen & view.counts.keys()), key=str)
    index = {key: i for i, key in enumerate(unknown)}
    rows, rhs = [], []
    for s in view.sums:
        members = [(s.total, -1.0), *((p, 1.0) for p in s.parts)]
        if not any(key in index for key, _ in members):
            continue
        row = np.zeros(len(unknown))
        known = 0.0
        for key, sign in members:
            if key in index:
                row[index[key]] += sign
            else:
                known += sign * view.counts[key]
        rows.append(row)
        rhs.append(-known)
    lower = np.array(
        [1.0 if key in small else 0.0 if key in omitted else k if key in withheld else 0.0
         for key in unknown]
    )  # fmt: skip
    upper = np.array([k - 1.0 if key in small else np.inf for key in unknown])
    constraints = [LinearConstraint(np.array(rows), rhs, rhs)] if rows else []
    for key in sorted(sensitive, key=str):
        if not _other_value(index[key], view.counts[key], lower, upper, constraints):
            return key
    return None


def _other_value(
    j: int, value: int, lower: np.ndarray, upper: np.ndarray, constraints: list
) -> bool:
    """Whether the unknowns have a whole-number solution with unknown ``j`` not ``value``."""
    integral = np.ones(len(lower))
    cost = np.zeros(len(lower))
    for low, high in ((lower[j], value - 1.0), (value + 1.0, upper[j])):
        if low > high:
            continue
        lo, hi = lower.copy(), upper.copy()
        lo[j], hi[j] = low, high
        result = milp(cost, constraints=constraints, integrality=integral, bounds=Bounds(lo, hi))
        if result.status == 0:
            return True
    return False
