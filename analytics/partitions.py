"""The counts a view shows, by name, and the sums they make: what privacy needs to know
of a view to decide, once for all its surfaces, which counts to withhold
(analytics.present.masking).

A view declares its ledger beside its numbers (analytics.views): the sidebar's n and the
filters' complement, a grouping's patients and the n they make up, a curve's patients at
risk, with the event and censored by each month. A count is named by a tuple, the same
name on every surface that shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Key = tuple[object, ...]  # a count's name in a view: ("centre", "Leeds", "patients")


@dataclass(frozen=True)
class Sum:
    """``total`` is the sum of ``parts``: a partition the view shows."""

    total: Key
    parts: tuple[Key, ...]


@dataclass(frozen=True)
class Ledger:
    """The counts a view shows, by name, and the sums they make.

    ``unseen``: counts that take part in a sum but that the view does not print (the
    patients whose group is not recorded, when nothing says how many): an attacker knows
    only that they are 0 or more, yet a small one is protected, as the sums may give it.
    ``public``: counts another view shows whatever this one does (the population analysed
    is the n of the unfiltered view): never withheld. ``paired``: the view counts limbs of
    a registry where a patient may have two, so a count of limbs may stand for half as
    many patients (privacy judges it so: analytics.present.masking.mask).
    """

    counts: Mapping[Key, int] = field(default_factory=dict)
    sums: tuple[Sum, ...] = ()
    unseen: frozenset[Key] = frozenset()
    public: frozenset[Key] = frozenset()
    paired: bool = False

    def __or__(self, other: Ledger) -> Ledger:
        """Both views' counts and sums: a count named in both is one count."""
        clash = [key for key in other.counts.keys() & self.counts.keys()
                 if other.counts[key] != self.counts[key]]  # fmt: skip
        if clash:
            raise ValueError(f"one count, two values: {clash[0]}")
        return Ledger(
            {**self.counts, **other.counts},
            tuple(dict.fromkeys(self.sums + other.sums)),
            (self.unseen | other.unseen) - (self.shown_keys() | other.shown_keys()),
            self.public | other.public,
            self.paired or other.paired,
        )

    def shown_keys(self) -> frozenset[Key]:
        return frozenset(self.counts) - self.unseen


def ledger(
    counts: Mapping[Key, int],
    sums: Iterable[Sum] = (),
    unseen: Iterable[Key] = (),
    public: Iterable[Key] = (),
    paired: bool = False,
) -> Ledger:
    """A Ledger of ``counts`` and ``sums``; every count a sum names must be in ``counts``."""
    sums = tuple(sums)
    missing = {key for s in sums for key in (s.total, *s.parts)} - counts.keys()
    if missing:
        raise ValueError(f"a sum names a count the ledger lacks: {sorted(map(str, missing))[0]}")
    return Ledger(dict(counts), sums, frozenset(unseen), frozenset(public), paired)
