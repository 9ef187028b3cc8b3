"""Privacy over a whole view: which of the counts it shows to withhold, decided once.

A view shows counts that add up: the sidebar's n is the sum of the centres' patients
(and those without a centre), a curve's patients are at risk, had the event or were
censored by each month, Table 1's rows of one variable add up to its patients. Hiding a
small count where it is printed is not enough when the others of its sum are shown
elsewhere in the same view: n minus the other centres gives the hidden one. So a view
declares its counts once, by name, with the sums they make (a :class:`Ledger`), and
:func:`mask` decides over all of them at once which to withhold: a count of 1 to k-1
patients is shown as "<k" (small), and so is a count of limbs of 1 to k-1 patients
whatever its limbs (six limbs of three patients, k = 5); then, while any small count
can still be worked out exactly from what is shown, the smallest other count of a sum it
is in is withheld too ("hidden").

"Worked out" is judged as an attacker would: from every sum in the ledger at once, and what
the statistics shown beside the counts say of them (a Kaplan-Meier estimate bounds its
events by its at risk: partitions.Bound, declared with the view's sums), with what
the marks themselves say (a "<k" count is 1 to k-1, or 1 to 2(k-1) limbs of fewer than k
patients where one has two; a withheld one is at least k, since a smaller one would show
"<k"; a count the view does not show is 0 or more; limbs are their patients and at most as
many second limbs), over whole numbers (an integer program, HiGHS through SciPy). Every
surface of the view (page, hover, figure data, CSV, deck, report) renders the one
:class:`Mask`, so a count shows the same everywhere in it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csc_array

from analytics.partitions import Bound, Key, Ledger, Sum
from analytics.present.privacy import is_small

Shown = Literal["exact", "small", "withheld"]
# Bounds creep a unit a pass round a loop of sums with no upper bound: stopping early only
# leaves them wider (what the integer program then settles), never wrong.
PROPAGATION_PASSES = 8
# A statistic's bound (partitions.Bound) has float coefficients, which the true counts meet
# to rounding: loosened by this much, so the truth is never ruled out by a last digit.
BOUND_SLACK = 1e-6
# The most withheld counts a thorough mask tries to show again (_released), most worth
# first: each is an integer program over what it touches (about 60 ms on a 559-limb
# registry's Patency view by centre), so a view of many groups stays within seconds.
RELEASE_TRIALS = 60


@dataclass(frozen=True)
class Cell:
    """A count as the view may show it: its value, and whether it shows exactly, as "<k"
    (small) or withheld. It carries k, so rendering it needs nothing else, and the
    ``patients`` behind it (its value, unless it counts limbs of which one may have two)."""

    value: int
    shown: Shown
    k: int | None = None
    patients: int | None = None

    @property
    def hidden(self) -> bool:
        return self.shown != "exact"

    @property
    def few(self) -> bool:
        """Whether it counts fewer than k patients and is not shown: "<k", or withheld."""
        behind = self.value if self.patients is None else self.patients
        return self.shown == "small" or (self.hidden and is_small(behind, self.k))


@dataclass(frozen=True)
class Mask:
    """What privacy lets a view show of each count it declared (:func:`mask`)."""

    k: int | None
    counts: Mapping[Key, int]
    small: frozenset[Key] = frozenset()
    withheld: frozenset[Key] = frozenset()
    omitted: frozenset[Key] = frozenset()  # withheld as parts of a small count (0 or more)
    everything: bool = False  # no count of the view can be shown (one of fewer than k)
    patients: Mapping[Key, int] = field(default_factory=dict)  # behind a count of limbs
    given_up: frozenset[Key] = frozenset()  # small, but the public counts give them away

    def cell(self, key: Key) -> Cell:
        shown: Shown = "exact"
        if key in self.small:
            shown = "small"
        elif key in self.withheld:
            shown = "withheld"
        return Cell(self.counts[key], shown, self.k, self.patients_of(key))

    def patients_of(self, key: Key) -> int:
        """The distinct patients behind ``key`` (Ledger.patients_of)."""
        return self.patients.get(key, self.counts[key])

    def few(self, key: Key) -> bool:
        """Whether ``key`` counts fewer than k patients (shown "<k", or left out as part of
        such a count): a statistic of so few (a curve, a hazard ratio, a median) is
        withheld."""
        hidden = key in self.omitted or self.everything
        return key in self.small or (hidden and is_small(self.patients_of(key), self.k))

    def hidden(self, *keys: Key) -> bool:
        """Whether any of ``keys`` is not shown exactly: a statistic computed over them (a
        percentage, an interval, a mean) is withheld with them, or it gives them away."""
        return any(key in self.small or key in self.withheld for key in keys)


def exact(view: Ledger) -> Mask:
    """Every count of ``view`` shown exactly: privacy off."""
    return Mask(None, view.counts)


def mask(
    view: Ledger,
    k: int | None,
    thorough: bool = False,
    withheld: Iterable[Key] = (),
    protect: frozenset[Key] | None = None,
    give_up: bool = False,
) -> Mask:
    """Which of ``view``'s counts to show as "<k" and which to withhold, with privacy ``k``
    (None: privacy off, everything exact).

    Small counts (of 1 to k-1 patients: Ledger.patients_of) show "<k", and the parts of a
    small count are left out (shown withheld: two "<3" making a "<3" would be 1 and 1). A
    small count the view does not print (unseen) is protected as well: its sums may give it
    (5 patients with a first event by month 6 and 7 by month 12 are 2 between). Then, while
    some small count could be worked out exactly from the view (:class:`_Attacker`), a shown
    non-zero count of a sum it is in is withheld (:func:`_complement`): complementary
    suppression, over every sum of the view at once. Should a count still follow with
    nothing left to withhold, the mask withholds ``everything``, the small counts too (their
    "<k" marks alone could pin one: three "<3" making a curve of 6), but the public ones
    (another view shows them: hiding one here hides nothing). ``thorough`` (what a deck
    or report shows, decided once per download): then each withheld count that can show
    again with nothing following from it does (:func:`_released`): on a 559-limb bilateral
    registry's deck by aetiology, 51 withheld where 83 were. Either way, a withheld
    count the view fixes anyway shows again (_unfixed): it protects nothing.

    Public counts, well defined when they are not: one below k is not public (no view
    shows a count of fewer than k patients exactly), so it is protected as the view's own
    (shown "<k", withheld with the rest should everything be). Two views naming one
    count with two values raise (Ledger.__or__). With ``give_up`` (an export beside the
    pages: export_mask), a count only public counts are left to withhold beside (two
    pages each withholding a different count beside it: the pages give it away
    together) is given up (``given_up``) where a page's mask withholds everything.
    ``withheld``: counts withheld from the start (those of the pages beside an export
    that no page shows exactly and it does not print: export_mask); ``protect``: only
    these small counts are kept from following (None: all).
    """
    if k is None:
        return Mask(None, view.counts)
    patients = {key: view.patients_of(key) for key in view.counts}
    shown = view.shown_keys()
    sensitive = frozenset(key for key in shown | view.unseen if is_small(patients[key], k))
    view = replace(view, public=view.public - sensitive)
    omitted = _parts_of(view, sensitive)
    small = (sensitive & shown) - omitted
    start = frozenset(withheld)
    withheld = set(omitted) | ((start & shown) - sensitive)
    index = _Index.of(view)
    guarded = sensitive if protect is None else sensitive & protect
    attacker = _Attacker(view, index, k, guarded, small, omitted)
    given_up: set[Key] = set()
    while exposing := attacker.exposed(frozenset(withheld)):
        hidden = frozenset(small | withheld)
        for key in exposing:
            pick = _complement(view, index, key, hidden)
            if pick is None and give_up:  # the public counts pin it (export_mask: the pages')
                given_up.add(key)  # nothing changes for the next: the round goes on
                attacker.sensitive = attacker.sensitive - {key}
                continue
            break
        else:  # every pinned count given up
            continue
        if attacker.by_statistic:  # the first statistic's count that frees it, if one does
            counts = _statistic_counts(view, index, key, hidden)
            pick = next((c for c in counts if attacker.frees(key, withheld | {c})),
                        counts[0] if counts else pick)  # fmt: skip
        if pick is None:  # "<k" marks alone could pin a count: none shows but the public
            everything = view.shown_keys() - view.public
            return Mask(k, view.counts, frozenset(), everything, omitted, True, patients)
        withheld.add(pick)
    if thorough:
        withheld = _released(view, index, k, attacker.sensitive, small, omitted, withheld)
    withheld = _unfixed(view, index, k, attacker.sensitive, small, omitted, withheld, start)
    return Mask(k, view.counts, small, frozenset(withheld), omitted, patients=patients,
                given_up=frozenset(given_up))  # fmt: skip


def _unfixed(view: Ledger, index: _Index, k: int, sensitive: frozenset[Key],
             small: frozenset[Key], omitted: frozenset[Key], withheld: set[Key],
             start: frozenset[Key]) -> set[Key]:  # fmt: skip
    """``withheld`` less the counts the view fixes anyway (_fixed): a reader works each out
    from the shown counts, the sums and the marks (a curve's at risk at month 0 beside its
    n, when nothing ended before it), so withholding it protects nothing. Those withheld
    from the start (another surface withholds them) stay. Then checked again: a count
    shown frees the statistics shown with it (partitions.Bound.given), which may say more;
    should they, only the counts no statistic shows with are shown, and should even that
    expose a count, none. Only what the shown counts reach is checked (_reach), as
    _released does."""
    fixed = _fixed(view, index, k, small, omitted, withheld, withheld - omitted - start)
    if not fixed:
        return withheld
    quiet = {c for c in fixed if not index.bounding.get(c)} if index.bounds else fixed
    for shown in (fixed, quiet) if quiet != fixed else (fixed,):
        trial = withheld - shown
        hidden = small | frozenset(trial) | view.unseen
        reach = frozenset().union(*(_reach(index, count, hidden) for count in shown))
        attacker = _Attacker(view, index, k, sensitive & reach, small, omitted, reach)
        if not attacker.exposed(frozenset(trial)):
            return trial
    return withheld


def _fixed(view: Ledger, index: _Index, k: int, small: frozenset[Key], omitted: frozenset[Key],
           withheld: set[Key], candidates: set[Key]) -> set[Key]:  # fmt: skip
    """Those of ``candidates`` (withheld counts) whose value the view fixes: the only
    whole number the sums leave them, within what the marks say and the statistics shown
    (as _Attacker reads them), by propagation first, then the integer program."""
    if not candidates:
        return set()
    attacker = _Attacker(view, index, k, frozenset(), small, omitted)
    hidden = small | frozenset(withheld) | attacker.unseen
    lower, upper = attacker.propagated(hidden)
    fixed = {c for c in candidates if lower[c] >= upper[c]}
    rest = sorted(candidates - fixed, key=str)
    if rest:
        system = attacker._system(hidden, hidden)
        free = system.moved(rest)
        for count in rest:
            if count in free:
                continue
            found = system.another(count)
            if found is None:
                fixed.add(count)
            else:  # one solution frees many
                free |= system.differing(found, rest)
    return fixed


def _released(view: Ledger, index: _Index, k: int, sensitive: frozenset[Key],
              small: frozenset[Key], omitted: frozenset[Key],
              withheld: set[Key]) -> set[Key]:  # fmt: skip
    """``withheld`` less the counts that show again with nothing following from them: the
    greedy choice withholds a count for each exposure it meets, and a later one may cover
    an earlier's too. Those a reader misses (Ledger.worth) are tried, most worth first,
    then the largest, at most RELEASE_TRIALS; each against the attacker over what it
    reaches (_reach)."""
    worth, unseen = view.worth, view.unseen & view.counts.keys()
    order = sorted(
        (c for c in withheld - omitted if worth.get(c, 0) > 0),
        key=lambda c: (-worth[c], -view.counts[c], str(c)),
    )
    kept = set(withheld)
    for count in order[:RELEASE_TRIALS]:
        trial = kept - {count}
        reach = _reach(index, count, small | frozenset(trial) | unseen)
        attacker = _Attacker(view, index, k, sensitive & reach, small, omitted, reach)
        if not attacker.exposed(frozenset(trial)):
            kept = trial
    return kept


def _reach(index: _Index, key: Key, hidden: frozenset[Key]) -> frozenset[Key]:
    """The ``hidden`` counts linked to ``key`` through the sums and the bounds an attacker
    reads (none of whose statistic's counts is hidden, ``key`` shown): only these can
    follow from ``key`` once it shows."""
    linked, frontier = {key}, {key}
    while frontier:
        groups = [index.members[i] for i in index.sums_with(frontier)]
        groups += [_bound_members(index.bounds[i]) for i in index.bounds_with(frontier, hidden)]
        frontier = {m for group in groups for m in group if m in hidden} - linked
        linked |= frontier
    return frozenset(linked)


def shown_elsewhere(view: Ledger, decided: Mask) -> Ledger:
    """The counts ``view`` shows exactly under ``decided``, as public counts of another
    view of the same patients: a comparison's overall curve is the view without it, which
    shows what its own mask leaves (withholding one of those beside the comparison would
    hide nothing)."""
    exact = view.shown_keys() - decided.small - decided.withheld - decided.omitted
    return Ledger(
        {key: view.counts[key] for key in exact}, public=exact, paired=view.paired,
        patients={key: p for key, p in view.patients.items() if key in exact},
        people=view.people & exact,
    )  # fmt: skip


@dataclass(frozen=True)
class Decision:
    """The dashboard's one decision at a filter (dashboard_mask): the sidebar's counts
    and every page's at its default controls, joined (``ledger``), and what privacy lets
    them show (``mask``). A page at its defaults renders ``mask`` as it stands; a page
    with its own controls is decided beside it (page_mask)."""

    ledger: Ledger
    mask: Mask

    def covers(self, view: Ledger) -> bool:
        """Whether ``view`` is a part of the decision: its counts (with their values), the
        counts it shows, its sums and its statistics' bounds are the decision's, so
        rendering the decision shows it as the other pages show it."""
        joined, counts = self.ledger, self.ledger.counts
        return (
            all(counts.get(key) == value for key, value in view.counts.items())
            and view.shown_keys() <= joined.shown_keys()
            and set(view.sums) <= set(joined.sums)
            and set(view.bounds) <= set(joined.bounds)
            and all(joined.patients.get(key) == p for key, p in view.patients.items())
        )


def dashboard_mask(header: Ledger, pages: Iterable[Ledger], k: int | None) -> Decision:
    """One decision for the sidebar's counts (``header``) and every page's at its default
    controls (``pages``: views.DashboardPages.defaults), so the pages agree with one
    another: deciding each page alone, the Safety page showed the 30 later pulmonary
    embolisms and withheld the 31 in all, Tables the reverse, and the two gave the 1
    within 30 days away. What the sidebar drew is public (shown_elsewhere): the browser
    has it, so withholding it now would only make the redrawn n a second reading beside
    the first (20 limbs, then 16 patients, are 4 patients with both legs)."""
    joined = header | shown_elsewhere(header, mask(header, k))
    for page in pages:
        joined |= page
    return Decision(joined, mask(joined, k))


def page_mask(decision: Decision, view: Ledger, k: int | None) -> Mask:
    """What a dashboard page shows of ``view``: the one decision (``decision``) where the
    view is part of it; else (a page with its own controls: the Patency page's
    comparison or months, another endpoint's subgroups, the Centres and Models pages)
    ``view`` decided beside it, so it cannot contradict it: what the decision shows
    exactly is public, what it withholds is withheld from the start, and the sums
    linking the two are the decision's (withholding a public count there would hide
    nothing: the comparison's overall curves are the Patency page's). The decision's
    counts outside ``view`` keep their marks."""
    if k is None:
        return Mask(None, {**decision.ledger.counts, **view.counts})
    if decision.covers(view):
        return decision.mask
    public = shown_elsewhere(decision.ledger, decision.mask)
    joined = _linked_to(decision.ledger | public | view, view.counts.keys())
    start = decision.mask.withheld & joined.shown_keys()
    own = mask(joined, k, withheld=start)
    outside = decision.ledger.counts.keys() - own.counts.keys()
    counts = {**decision.ledger.counts, **view.counts, **own.counts}
    return Mask(
        k, counts, own.small | (decision.mask.small & outside),
        own.withheld | (decision.mask.withheld & outside),
        own.omitted | (decision.mask.omitted & outside), own.everything,
        {**decision.mask.patients, **own.patients},
    )  # fmt: skip


def shown_by_pages(decision: Decision, controlled: Iterable[Ledger], k: int | None) -> Ledger:
    """The dashboard's counts at a filter (``decision``: the sidebar and every page at
    its defaults) and those of the pages with their own controls an export shares
    (``controlled``: the Patency page by the export's comparison, the deck's
    subgroups), each decided as the page decides it (page_mask), every count a page
    shows exactly public: joined to a deck's or a report's counts for the same filter
    and grouping, the thorough mask withholds around what the pages show, and may show
    what they withhold only where nothing follows from the two together (a reader may
    hold both). A page's count the export does not print is judged as shown, which only
    makes the reader stronger; a reader misses none of them (no worth), so the thorough
    mask tries only the export's own again."""
    joined = decision.ledger | shown_elsewhere(decision.ledger, decision.mask)
    for view in controlled:
        joined |= view | shown_elsewhere(view, page_mask(decision, view, k))
    return replace(joined, worth={})


def export_mask(view: Ledger, pages: Ledger, k: int | None) -> Mask:
    """``view`` (a deck's or a report's counts) masked thoroughly beside ``pages``
    (shown_by_pages), so that neither it alone nor it with the pages gives a count away.
    The pages' counts it does not print that no page shows exactly are withheld from
    the start, as the pages show them (k or more, or 0 or more as parts of a "<k"; those
    below k show "<k"): a reader of both knows that much of them, and no more. Should
    the pages' public counts give a count away by themselves (mask's ``given_up``: two
    pages each withholding a different count beside it, which no export can undo), the
    export read alone still keeps it: its own counts are masked alone for those counts,
    and what that withholds is withheld too (withholding more only tells a reader less,
    so the union is safe read either way)."""
    joined = _linked_to(pages | view, view.counts.keys())
    elsewhere = joined.shown_keys() - joined.public - view.counts.keys()
    beside = mask(joined, k, thorough=True, withheld=elsewhere, give_up=True)
    own = beside.given_up & view.counts.keys()
    if not own or beside.everything:
        return beside
    alone = mask(view, k, thorough=True, protect=own)
    everything = alone.everything
    return replace(
        beside, small=frozenset() if everything else beside.small,
        withheld=beside.withheld | alone.withheld | (beside.small if everything else set()),
        omitted=beside.omitted | alone.omitted, everything=everything,
    )  # fmt: skip


def _linked_to(view: Ledger, keys: Iterable[Key]) -> Ledger:
    """``view`` cut to ``keys`` and the sums and bounds that link to them through counts
    not public: what lies beyond says nothing of them (a public count is a constant), so
    deciding it again would only cost time."""
    groups = [(s, (s.total, *s.parts)) for s in view.sums]
    groups += [(b, _bound_members(b)) for b in view.bounds]
    holding: dict[Key, list[int]] = {}
    for i, (_, members) in enumerate(groups):
        for member in members:
            if member not in view.public:
                holding.setdefault(member, []).append(i)
    reached, frontier, kept = set(keys), set(keys), set()
    while frontier:
        found = {i for key in frontier for i in holding.get(key, ())} - kept
        kept |= found
        frontier = {m for i in found for m in groups[i][1] if m not in view.public} - reached
        reached |= frontier
    chosen = [groups[i][0] for i in sorted(kept)]
    members = reached | {m for i in kept for m in groups[i][1]}
    return Ledger(
        {key: view.counts[key] for key in members if key in view.counts},
        tuple(c for c in chosen if isinstance(c, Sum)), view.unseen & members,
        view.public & members, view.paired,
        {key: p for key, p in view.patients.items() if key in members}, view.people & members,
        tuple(c for c in chosen if isinstance(c, Bound)),
        {key: w for key, w in view.worth.items() if key in members},
    )  # fmt: skip


def _parts_of(view: Ledger, totals: frozenset[Key]) -> frozenset[Key]:
    """The parts of ``totals``, and theirs in turn. The one part of a sum equals its
    total (a death's patients, its events) and shows as the total does ("<k" beside
    "<k" says nothing more); its parts are parts of the total."""
    found: set[Key] = set()
    reached, frontier = set(totals), set(totals)
    while frontier:  # a part of 0 shows: it says nothing of the others
        held = [s for s in view.sums if s.total in frontier]
        parts = {p for s in held if len(s.parts) > 1 for p in s.parts if view.counts[p] > 0}
        found |= parts
        frontier = (parts | {s.parts[0] for s in held if len(s.parts) == 1}) - reached
        reached |= frontier
    return frozenset(found & view.shown_keys())


@dataclass(frozen=True)
class _Slots:
    """The sums by the position of each count among those they hold, for propagation:
    bounds in lists read by position, not in dicts read by key (a key is a tuple, hashed
    at each read: two thirds of a deck's masking time went in those reads)."""

    slot: Mapping[Key, int]  # each count of the sums, its position
    total: tuple[int, ...]  # each sum's total
    parts: tuple[tuple[int, ...], ...]  # each sum's parts, as the sum lists them
    within_patients: tuple[bool, ...]
    holding: tuple[tuple[int, ...], ...]  # by position: the sums a count is in, in order

    @classmethod
    def of(cls, sums: Iterable[Sum]) -> _Slots:
        sums = tuple(sums)
        slot: dict[Key, int] = {}
        for s in sums:
            for member in (s.total, *s.parts):
                slot.setdefault(member, len(slot))
        members = tuple(tuple(dict.fromkeys(slot[m] for m in (s.total, *s.parts))) for s in sums)
        holding: list[list[int]] = [[] for _ in slot]
        for i, held in enumerate(members):
            for member in held:
                holding[member].append(i)
        return cls(
            slot, tuple(slot[s.total] for s in sums),
            tuple(tuple(slot[p] for p in s.parts) for s in sums),
            tuple(s.within_patients for s in sums), tuple(tuple(at) for at in holding),
        )  # fmt: skip


@dataclass(frozen=True)
class _Index:
    """A view's sums by position and the sums each count is in, built once per mask: each
    round of complementary suppression looks a count's sums up instead of scanning them
    all."""

    sums: tuple[Sum, ...]
    members: tuple[tuple[Key, ...], ...]  # each sum's total and parts, each once
    holding: Mapping[Key, tuple[int, ...]]  # the sums a count is in, in the view's order
    equal_to: Mapping[Key, tuple[Key, ...]]  # the other count of each one-part sum it is in
    shown: frozenset[Key]
    bounds: tuple[Bound, ...]
    bounding: Mapping[Key, tuple[int, ...]]  # the bounds a count is in (or shows with)
    slots: _Slots

    @classmethod
    def of(cls, view: Ledger) -> _Index:
        members = tuple(tuple(dict.fromkeys((s.total, *s.parts))) for s in view.sums)
        holding: dict[Key, list[int]] = {}
        for i, held in enumerate(members):
            for member in held:
                holding.setdefault(member, []).append(i)
        equal_to: dict[Key, list[Key]] = {}
        for s in view.sums:
            if len(s.parts) == 1:
                equal_to.setdefault(s.total, []).append(s.parts[0])
                equal_to.setdefault(s.parts[0], []).append(s.total)
        bounding: dict[Key, list[int]] = {}
        for i, bound in enumerate(view.bounds):
            for member in _bound_members(bound):
                bounding.setdefault(member, []).append(i)
        return cls(
            view.sums, members, {key: tuple(at) for key, at in holding.items()},
            {key: tuple(others) for key, others in equal_to.items()}, view.shown_keys(),
            view.bounds, {key: tuple(at) for key, at in bounding.items()},
            _Slots.of(view.sums),
        )  # fmt: skip

    def sums_with(self, keys: frozenset[Key] | set[Key]) -> list[int]:
        """The sums holding any of ``keys``, in the view's order."""
        return sorted({i for key in keys for i in self.holding.get(key, ())})

    def bounds_with(self, keys: frozenset[Key] | set[Key], hidden: frozenset[Key]) -> list[int]:
        """The bounds over any of ``keys`` that an attacker reads: none of their
        statistic's counts (Bound.given) is ``hidden``."""
        found = {i for key in keys for i in self.bounding.get(key, ())}
        return sorted(i for i in found if not hidden.intersection(self.bounds[i].given))


def _bound_members(bound: Bound) -> tuple[Key, ...]:
    """The counts a bound is over and those its statistic shows with, each once."""
    return tuple(dict.fromkeys((*(key for key, _ in bound.terms), *bound.given)))


def _complement(
    view: Ledger, index: _Index, key: Key, hidden: frozenset[Key] | set[Key]
) -> Key | None:
    """The count to withhold beside ``key``: a shown non-zero count of the sums that pin
    it down (those holding it or a hidden or unseen count linked to it through them: a
    segment row is pinned through the lesion patterns no row shows), not one another
    view shows anyway (public: the population analysed, the unfiltered n): the one that
    costs least, the sums of the view it is in (each one more to protect: the file's total
    before n) and what a reader misses with it (Ledger.worth: a curve's n, events and at
    risk, a safety row's patients and events) added, then the smallest. Over the demo's
    views the sums alone withheld 735 counts where a part before a total withheld 837
    (tools/mask_quality.py); the worth keeps a safety row's patients beside its later
    events and a month's incidence (docs/benchmarks.md, stop 32)."""

    def shown(member: Key) -> bool:
        return member in index.shown and member not in hidden

    def equal(member: Key) -> bool:
        """Equal to another shown count (a sum of one part): hiding it hides nothing."""
        return any(shown(other) for other in index.equal_to.get(member, ()))

    linked = _linked(index, key, frozenset(hidden) | view.unseen | {key})
    members = {member for i in index.sums_with(linked) for member in index.members[i]}
    candidates = [
        member
        for member in members
        if shown(member) and member not in view.public and view.counts[member] > 0
    ]
    # one of two equal counts after all when nothing else is left (the deaths and the
    # patients who died): the next round withholds the other, no longer equal to one shown
    candidates = [member for member in candidates if not equal(member)] or candidates
    if not candidates:
        return None
    return min(candidates, key=lambda p: (
        len(index.holding[p]) + view.worth.get(p, 0), view.counts[p], str(p)
    ))  # fmt: skip


def _statistic_counts(view: Ledger, index: _Index, key: Key, hidden: frozenset[Key]) -> list[Key]:
    """The counts whose withholding hides a statistic that, read with the view's sums,
    pins ``key`` (partitions.Bound.given of the bounds read over ``key`` or unknowns
    linked to it): a month's events, its Kaplan-Meier estimate with them. Fewest sums
    first, then the smallest (the statistic's counts, whatever a reader misses of them).
    Not a public count: another view shows it, and its statistic with it (a comparison's
    overall curve is the view without it, whose 12-month estimate shows with its events),
    so withholding it here hides neither; judged hidden, its bounds went unread, and the
    overall 71.7% and 57.9% at 12 and 24 months, 3 events between, left at least 16 at
    risk at 12 months: the 4 censored before it, less the 3 of one side, gave the other's
    "<3" away."""
    linked, frontier = {key}, {key}
    unknown = hidden | view.unseen | {key}
    while frontier:
        groups = [index.members[i] for i in index.sums_with(frontier)]
        groups += [_bound_members(index.bounds[i]) for i in index.bounds_with(frontier, hidden)]
        frontier = {m for group in groups for m in group if m in unknown} - linked
        linked |= frontier
    givens = {given for i in index.bounds_with(linked, hidden) for given in index.bounds[i].given}
    counts = view.counts
    return sorted((g for g in givens if g in index.shown and g not in hidden | view.public
                   and counts[g] > 0),
                  key=lambda g: (len(index.holding.get(g, ())), counts[g], str(g)))  # fmt: skip


class _Attacker:
    """Works out what it can of a view's hidden counts from what it shows: the shown
    counts, the sums, and what the marks say: a "<k" is 1 to k-1 (a count of limbs in
    which a patient has two: 1 to 2(k-1), the limbs of fewer than k patients), a
    count withheld beside one is k or more (a smaller one would show "<k"; limbs are at
    least their patients), a part left out of a small count and a count the view does not
    show are 0 or more; a patient's second limbs are at most the patients
    (Sum.within_patients).

    First by propagating bounds through the sums (cheap, and a count it pins down is
    pinned down); then, for each small count it leaves open, by an integer program: is
    there a whole-number solution of the sums, within the marks' bounds and what the
    statistics shown say (partitions.Bound, read while their counts show), where the count
    takes another value? A count once shown to stay open stays open as more is withheld
    (withholding only loosens what is known, and hides statistics), so each is proved once.
    ``by_statistic``: the count last found pinned is pinned only through the statistics.
    """

    def __init__(self, view: Ledger, index: _Index, k: int, sensitive: frozenset[Key],
                 small: frozenset[Key], omitted: frozenset[Key],
                 within: frozenset[Key] | None = None) -> None:  # fmt: skip
        self.view, self.index, self.k = view, index, k
        self.sensitive, self.small, self.omitted = sensitive, small, omitted
        self.within = within  # only these unknowns and the sums and bounds over them
        self.unseen = view.unseen & view.counts.keys()
        self.loose = omitted | self.unseen  # 0 or more
        self.proved: set[Key] = set()
        self.most = {key: float(view.most_if_small(key, k)) for key in small}
        self.by_statistic = False

    def exposed(self, withheld: frozenset[Key]) -> list[Key]:
        """The sensitive counts the view pins down to one whole number: all those that
        propagation pins, else the first the integer program does; none when safe."""
        self.by_statistic = False
        hidden = self.small | withheld | self.unseen
        unknown = hidden if self.within is None else hidden & self.within
        lower, upper = self.propagated(unknown)
        open_ = sorted(self.sensitive - self.proved, key=str)
        pinned = [key for key in open_ if lower[key] >= upper[key]]
        if pinned or not open_:
            return pinned
        system = self._system(unknown, hidden)
        self.proved |= system.moved(open_)  # two solves settle most at once
        left = sorted(self.sensitive - self.proved, key=str)
        for key in left:
            if key in self.proved:
                continue
            found = system.another(key)
            if found is None:
                read = bool(self.index.bounds_with(unknown, hidden))
                self.by_statistic = read and self._system(unknown, hidden, False).other_value(key)
                return [key]
            self.proved |= system.differing(found, left)  # one solution answers for many
        return []

    def frees(self, key: Key, withheld: set[Key]) -> bool:
        """Whether ``key`` can take another value once ``withheld`` are withheld."""
        hidden = self.small | frozenset(withheld) | self.unseen
        return self._system(hidden, hidden).other_value(key)

    def _system(self, unknown: frozenset[Key], hidden: frozenset[Key],
                statistics: bool = True) -> _System:  # fmt: skip
        """The integer program over ``unknown``: the sums holding them and (with
        ``statistics``) the bounds read beside them (none of whose statistic's counts is
        ``hidden``)."""
        held = [self.index.sums[i] for i in self.index.sums_with(unknown)]
        read = self.index.bounds_with(unknown, hidden) if statistics else []
        low, high = self._bounds(unknown)
        return _System(self.view, held, sorted(unknown, key=str), low, high,
                       [self.index.bounds[i] for i in read])  # fmt: skip

    def propagated(self, unknown: frozenset[Key]) -> tuple[dict, dict]:
        """Every count's bounds, a shown one at its value, ``unknown``'s from the marks
        narrowed through the sums holding them (_propagate)."""
        low, high = self._bounds(unknown)
        lower, upper = {**self.view.counts, **low}, {**self.view.counts, **high}
        _propagate(self.index, self.index.sums_with(unknown), unknown, lower, upper)
        return lower, upper

    def _bounds(self, unknown: frozenset[Key]) -> tuple[dict, dict]:
        lower = {key: 1.0 if key in self.small else 0.0 if key in self.loose else float(self.k)
                 for key in unknown}  # fmt: skip
        upper = {key: self.most.get(key, math.inf) for key in unknown}  # "<k": most_if_small
        return lower, upper


class _System:
    """The sums over a view's unknown counts, and the bounds the statistics it shows set
    them, as an integer program (HiGHS via SciPy)."""

    def __init__(self, view: Ledger, sums: list[Sum], unknown: list[Key], lower: dict,
                 upper: dict, bounds: list[Bound] | None = None) -> None:  # fmt: skip
        self.view, self.unknown = view, unknown
        self.index = {key: i for i, key in enumerate(unknown)}
        rows, rhs = [], []
        for s in sums:
            row = np.zeros(len(unknown))
            known = 0.0
            for member, sign in [(s.total, -1.0), *((p, 1.0) for p in s.parts)]:
                if member in self.index:
                    row[self.index[member]] += sign
                else:
                    known += sign * view.counts[member]
            rows.append(row)
            rhs.append(-known)
        # Sparse once here, where milp would make each dense matrix sparse on every solve
        # (the same matrix: its zeros dropped, by compressed columns).
        self.constraints = [LinearConstraint(csc_array(np.array(rows)), rhs, rhs)] if rows else []
        at_most = [_at_most_patients(s, self.index, view.counts, len(unknown))
                   for s in sums if s.within_patients]  # fmt: skip
        at_most += [_bound_row(b, self.index, view.counts, len(unknown)) for b in bounds or ()]
        if at_most:
            self.constraints.append(LinearConstraint(
                csc_array(np.array([row for row, _ in at_most])), -np.inf,
                [bound for _, bound in at_most],
            ))  # fmt: skip
        self.lower = np.array([lower[key] for key in unknown])
        self.upper = np.array([upper[key] for key in unknown])

    def _solve(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
        result = milp(cost, constraints=self.constraints, integrality=np.ones(len(cost)),
                      bounds=Bounds(lower, upper))  # fmt: skip
        return result.x if result.status == 0 else None

    def moved(self, keys: list[Key]) -> set[Key]:
        """Those of ``keys`` that a whole-number solution with all of them as low, or all
        as high, as the sums allow sets to another value than their own."""
        cost = np.zeros(len(self.unknown))
        for key in keys:
            cost[self.index[key]] = 1.0
        moved: set[Key] = set()
        for sign in (1.0, -1.0):
            x = self._solve(sign * cost, self.lower, self.upper)
            if x is not None:
                moved |= self.differing(x, keys)
        return moved

    def differing(self, x: np.ndarray, keys: list[Key]) -> set[Key]:
        """Those of ``keys`` the whole-number solution ``x`` sets to another value than
        their own: each can take another value, whatever it was solved for."""
        return {k for k in keys if round(x[self.index[k]]) != self.view.counts[k]}

    def another(self, key: Key) -> np.ndarray | None:
        """A whole-number solution setting ``key`` to another value than its own, if one
        exists."""
        j, value = self.index[key], self.view.counts[key]
        for low, high in ((self.lower[j], value - 1.0), (value + 1.0, self.upper[j])):
            if low > high:
                continue
            lower, upper = self.lower.copy(), self.upper.copy()
            lower[j], upper[j] = low, high
            found = self._solve(np.zeros(len(self.unknown)), lower, upper)
            if found is not None:
                return found
        return None

    def other_value(self, key: Key) -> bool:
        """Whether a whole-number solution sets ``key`` to another value than its own."""
        return self.another(key) is not None


def _at_most_patients(
    s: Sum, index: Mapping[Key, int], counts: Mapping[Key, int], size: int
) -> tuple[np.ndarray, float]:
    """``second - patients <= 0`` of a Sum.within_patients, as a row over the unknowns
    (``index``) and its bound, the known counts moved to it."""
    row, bound = np.zeros(size), 0.0
    for member, sign in ((s.parts[1], 1.0), (s.parts[0], -1.0)):
        if member in index:
            row[index[member]] += sign
        else:
            bound -= sign * counts[member]
    return row, bound


def _bound_row(
    bound: Bound, index: Mapping[Key, int], counts: Mapping[Key, int], size: int
) -> tuple[np.ndarray, float]:
    """A Bound as a row over the unknowns (``index``) and its limit, the known counts
    moved to it and loosened by BOUND_SLACK."""
    row, limit = np.zeros(size), bound.limit + BOUND_SLACK
    for member, coefficient in bound.terms:
        if member in index:
            row[index[member]] += coefficient
        else:
            limit -= coefficient * counts[member]
    return row, limit


def _linked(index: _Index, key: Key, unknown: frozenset[Key]) -> set[Key]:
    """The unknowns reached from ``key`` through sums that hold unknowns."""
    linked, frontier = {key}, {key}
    while frontier:
        reached = {m for i in index.sums_with(frontier) for m in index.members[i] if m in unknown}
        frontier = reached - linked
        linked |= frontier
    return linked


def _propagate(index: _Index, sums: list[int], unknown: frozenset[Key], lower: dict,
               upper: dict) -> None:  # fmt: skip
    """Narrow the unknowns' bounds through ``sums`` (positions in the view) until nothing
    changes, at most PROPAGATION_PASSES passes: each member of ``total = sum(parts)`` lies
    between what the others leave it. ``lower`` and ``upper`` hold every count of the
    sums, a shown one at its value; those of the unknowns come back narrowed.

    A pass narrows the sums in the view's order, each through the bounds the sums before
    it left. It skips a sum that narrowed nothing when last narrowed and none of whose
    counts moved since: narrowing it again would start from the same bounds and narrow
    nothing again, so each pass ends where a pass over every sum ends. One that narrowed
    something is narrowed again the next pass, as a pass over all would (its parts'
    bounds are added up before any of them moves, so once need not be all the way).
    A sum holding a count that moves holds an unknown, so is among ``sums``: only their
    counts are read, into lists by position (_Slots)."""
    slots = index.slots
    low, high = [0.0] * len(slots.slot), [0.0] * len(slots.slot)
    keys: dict[int, Key] = {}
    for i in sums:
        for member in index.members[i]:
            position = slots.slot[member]
            if position not in keys:
                keys[position] = member
                low[position], high[position] = lower[member], upper[member]
    free = [False] * len(slots.slot)
    for position, member in keys.items():
        free[position] = member in unknown
    _narrow_all(slots, sums, free, low, high)
    for position, member in keys.items():
        if free[position]:
            lower[member], upper[member] = low[position], high[position]


def _narrow_all(slots: _Slots, sums: list[int], free: list[bool], low: list[float],
                high: list[float]) -> None:  # fmt: skip
    """_propagate's passes over the bounds by position (``free``: an unknown's, which
    narrow), each sum's total then its parts, then a patient's second limbs at most their
    patients (Sum.within_patients). A bound narrows as max and min would: NaN (inf - inf)
    narrows nothing."""
    totals, parts_of, holding = slots.total, slots.parts, slots.holding
    within = slots.within_patients

    def narrow(position: int, at_least: float, at_most: float) -> bool:
        """Tighten a bound to [at_least, at_most]; whether it changed."""
        changed = False
        if at_least > low[position]:
            low[position], changed = at_least, True
        if at_most < high[position]:
            high[position], changed = at_most, True
        return changed

    pending, passes = sums, 0
    while pending and passes < PROPAGATION_PASSES:
        passes += 1
        queue = sorted(pending)  # a sorted list is a heap
        queued, later = set(queue), set()
        while queue:
            i = heapq.heappop(queue)
            total, parts = totals[i], parts_of[i]
            parts_low = sum(map(low.__getitem__, parts))
            parts_high = sum(map(high.__getitem__, parts))
            moved = []
            if free[total] and narrow(total, parts_low, parts_high):
                moved.append(total)
            for p in parts:  # what the total and the other parts leave it
                if free[p] and narrow(
                    p, low[total] - (parts_high - high[p]), high[total] - (parts_low - low[p])
                ):
                    moved.append(p)
            if within[i]:  # second limbs at most their patients
                patients, second = parts
                if free[second] and high[patients] < high[second]:
                    high[second] = high[patients]
                    moved.append(second)
                if free[patients] and low[second] > low[patients]:
                    low[patients] = low[second]
                    moved.append(patients)
            for position in moved:
                for j in holding[position]:
                    if j <= i:
                        later.add(j)
                    elif j not in queued:
                        queued.add(j)
                        heapq.heappush(queue, j)
        pending = later
