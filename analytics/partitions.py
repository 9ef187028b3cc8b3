"""The counts a view shows, by name, and the sums they make: what privacy needs to know
of a view to decide, once for all its surfaces, which counts to withhold
(analytics.present.masking).

A view declares its ledger beside its numbers (analytics.views): the sidebar's n and the
filters' complement, a grouping's patients and the n they make up, a curve's patients at
risk, with the event and censored by each month. A count is named by a tuple, the same
name on every surface that shows it.

In a file where a patient may have two treated limbs, privacy counts people: a count of
limbs is as small as the distinct patients behind it (six limbs of three patients are
fewer than k = 5), so the ledger carries them beside the count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from analytics.rules import LARGEST_K

Key = tuple[object, ...]  # a count's name in a view: ("centre", "Leeds", "patients")


@dataclass(frozen=True)
class Sum:
    """``total`` is the sum of ``parts``: a partition the view shows. ``within_patients``:
    the total counts limbs and its two parts their patients and the limbs beyond one per
    patient (at most one each: a patient has at most two), so the second part is at most
    the first (limbs_within_patients)."""

    total: Key
    parts: tuple[Key, ...]
    within_patients: bool = False


@dataclass(frozen=True)
class Bound:
    """``sum(c * count for count, c in terms) <= limit``: what a statistic the view shows
    says of its counts (a Kaplan-Meier estimate bounds its events by its at risk),
    known only while every count in ``given`` shows exactly, as the statistic shows with
    them (an estimate with its events: tables.estimate_shown)."""

    terms: tuple[tuple[Key, float], ...]
    limit: float
    given: tuple[Key, ...] = ()


def limbs_within_patients(limbs: Key, patients: Key, second: Key) -> Sum:
    """``limbs`` are ``patients``' first limbs and their ``second`` ones: limbs lie between
    their patients and twice their patients, which an attacker knows."""
    return Sum(limbs, (patients, second), within_patients=True)


def fewest_patients(limbs: int) -> int:
    """The fewest patients ``limbs`` limbs can be, a patient having at most two."""
    return -(-limbs // 2)


def patients_may_matter(limbs: int) -> bool:
    """Whether the distinct patients behind ``limbs`` limbs can change privacy's judgement
    of them: not once the fewest they can be reach the largest k (rules.LARGEST_K), so a
    view counts them only below that, where the count is cheap."""
    return fewest_patients(limbs) < LARGEST_K


@dataclass(frozen=True)
class Ledger:
    """The counts a view shows, by name, and the sums they make.

    ``unseen``: counts that take part in a sum but that the view does not print (the
    patients whose group is not recorded, when nothing says how many): an attacker knows
    only that they are 0 or more, yet a small one is protected, as the sums may give it.
    ``public``: counts another view shows whatever this one does (the population analysed
    is the n of the unfiltered view): never withheld. ``paired``: the view counts limbs of
    a file where a patient may have two, so its counts are of limbs but those in
    ``people`` (counts of patients: safety's, Table 1's person rows); ``patients``: the
    distinct patients behind a count of limbs, where the view counted them (any other is
    judged by the fewest it can be, half its limbs: :meth:`patients_of`). ``bounds``: what
    the statistics it shows beside its counts say of them (:class:`Bound`). ``worth``: how
    much a reader loses when a count is withheld (0 unless declared: a curve's n, then its
    events, which carry its estimate, then its at risk; a safety row's patients, then its
    events): a complement costs its worth beside the sums it is in, and a thorough mask
    shows again the most worth first.
    """

    counts: Mapping[Key, int] = field(default_factory=dict)
    sums: tuple[Sum, ...] = ()
    unseen: frozenset[Key] = frozenset()
    public: frozenset[Key] = frozenset()
    paired: bool = False
    patients: Mapping[Key, int] = field(default_factory=dict)
    people: frozenset[Key] = frozenset()
    bounds: tuple[Bound, ...] = ()
    worth: Mapping[Key, int] = field(default_factory=dict)

    def __or__(self, other: Ledger) -> Ledger:
        """Both views' counts and sums: a count named in both is one count."""
        clash = [key for key in other.counts.keys() & self.counts.keys()
                 if other.counts[key] != self.counts[key]]  # fmt: skip
        clash += [key for key in other.patients.keys() & self.patients.keys()
                  if other.patients[key] != self.patients[key]]  # fmt: skip
        if clash:
            raise ValueError(f"one count, two values: {clash[0]}")
        return Ledger(
            {**self.counts, **other.counts},
            tuple(dict.fromkeys(self.sums + other.sums)),
            (self.unseen | other.unseen) - (self.shown_keys() | other.shown_keys()),
            self.public | other.public,
            self.paired or other.paired,
            {**self.patients, **other.patients},
            self.people | other.people,
            tuple(dict.fromkeys(self.bounds + other.bounds)),
            {**self.worth, **other.worth},
        )

    def shown_keys(self) -> frozenset[Key]:
        return frozenset(self.counts) - self.unseen

    def counts_limbs(self, key: Key) -> bool:
        """Whether ``key`` counts limbs of which a patient may have two: a paired view's
        count that is not of people."""
        return self.paired and key not in self.people

    def most_if_small(self, key: Key, k: int) -> int:
        """The most a "<k" of ``key`` can be, as a reader who knows how it is counted
        reasons: k-1 patients, and as many limbs where no patient has two in it (a side's
        limbs), else twice as many."""
        if self.patients_of(key) == self.counts[key]:
            return k - 1
        return 2 * (k - 1)

    def patients_of(self, key: Key) -> int:
        """The distinct patients behind ``key``'s count: itself for a count of patients (or
        of limbs, one per patient), those the view counted for a count of limbs, else the
        fewest its limbs can be (fewest_patients: stricter, never looser)."""
        if not self.counts_limbs(key):
            return self.counts[key]
        if key in self.patients:
            return self.patients[key]
        return fewest_patients(self.counts[key])


def ledger(
    counts: Mapping[Key, int],
    sums: Iterable[Sum] = (),
    unseen: Iterable[Key] = (),
    public: Iterable[Key] = (),
    paired: bool = False,
    patients: Mapping[Key, int] | None = None,
    people: Iterable[Key] = (),
    bounds: Iterable[Bound] = (),
    worth: Mapping[Key, int] | None = None,
) -> Ledger:
    """A Ledger of ``counts`` and ``sums``; every count a sum or bound names must be in
    ``counts``, and a count of limbs lies between its ``patients`` and twice as many."""
    sums, bounds = tuple(sums), tuple(bounds)
    patients = dict(patients or {})
    missing = {key for s in sums for key in (s.total, *s.parts)} - counts.keys()
    missing |= {key for b in bounds for key in (*(t for t, _ in b.terms), *b.given)}
    missing -= counts.keys()
    missing |= patients.keys() - counts.keys()
    if missing:
        raise ValueError(f"a sum names a count the ledger lacks: {sorted(map(str, missing))[0]}")
    wrong = [key for key, p in patients.items() if not p <= counts[key] <= 2 * p]
    if wrong:
        raise ValueError(f"limbs of patients who have at most two: {wrong[0]}")
    return Ledger(
        dict(counts), sums, frozenset(unseen), frozenset(public), paired, patients,
        frozenset(people), bounds, dict(worth or {}),
    )  # fmt: skip
