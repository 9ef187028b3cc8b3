"""An attacker that reads a view's surfaces as printed (tests of issue 22's privacy).

It knows nothing of the mask: only the texts a page, its figures, CSV or the report JSON
print ("12", "<5", "hidden", null), the sums the data dictionary makes public (a factor's
levels and those not recorded add up to the curve's patients; centres and those without
a centre to n; a centre's at risk, events and censored to its patients), and what a
printed statistic says of the counts under it (a Kaplan-Meier estimate needs so many
patients; control limits or a z-score are those of one size). From these it tries to
pin down a count of 1 to k-1: a count it names is safe when another whole-number
solution of its sums, within what the marks say, gives it another value.

What a mark says, by privacy mode's published rules: "<k" is 1 to k-1; a hidden count is
k or more (a smaller one would show "<k"), unless it is a part of a count shown "<k" (or
of such a hidden part): then 0 or more. Should the truth break one of these (a hidden 0)
the attacker drops that assumption: a misused mark only makes it weaker.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from analytics.partitions import Key

LARGEST_KM = 20  # Kaplan-Meier estimates are inverted for groups of up to this many


@cache
def _km_values(patients: int) -> frozenset[Fraction]:
    """Every Kaplan-Meier estimate a group of ``patients`` can reach at some time: a
    product of (r - d) / r over its event times, r at risk and d events at each, the
    risk set shrinking by events and censorings between them."""
    if patients == 0:
        return frozenset({Fraction(1)})
    values = set(_km_values(patients - 1))  # one censored before every event
    for died in range(1, patients + 1):
        step = Fraction(patients - died, patients)
        values |= {step * rest for rest in _km_values(patients - died)}
    return frozenset(values)


def fewest_patients(estimate: float, tolerance: float) -> int:
    """The fewest patients whose Kaplan-Meier estimate can print as ``estimate`` (a
    proportion, to within ``tolerance``: half a unit of its last printed digit): a lower
    bound on the group's patients (LARGEST_KM + 1 when no group of up to LARGEST_KM can)."""
    for patients in range(LARGEST_KM + 1):
        if any(abs(float(v) - estimate) <= tolerance + 1e-9 for v in _km_values(patients)):
            return patients
    return LARGEST_KM + 1


RANK = {"hidden": 0, "small": 1, "exact": 2}


@dataclass
class Reading:
    """What the attacker read off one view: each count it names, as printed there, the
    public sums over them, and bounds a printed statistic sets."""

    k: int
    top: int  # every count is at most the file's patients (the sidebar's "of total")
    printed: dict[Key, tuple[str, int | None]] = field(default_factory=dict)
    known: dict[Key, int] = field(default_factory=dict)  # public, printed elsewhere
    sums: list[tuple[Key, tuple[Key, ...]]] = field(default_factory=list)
    bounds: dict[Key, tuple[int, int]] = field(default_factory=dict)
    # A "<k" of limbs in which a patient may have two: at most 2(k-1) (the limbs of fewer
    # than k patients), and judged as a count below k whatever its limbs.
    limbs: set[Key] = field(default_factory=set)

    def read(self, key: Key, text: object) -> None:
        """A count as a surface prints it (a number, "<k", "hidden", None in the JSON);
        the most telling print of the count wins, and two numbers must agree."""
        shown = parse(text, self.k)
        if shown is None:
            return
        before = self.printed.get(key)
        if before is not None and before[0] == shown[0] == "exact":
            assert before[1] == shown[1], (key, before, shown)
        if before is None or RANK[shown[0]] > RANK[before[0]]:
            self.printed[key] = shown

    def add_sum(self, total: Key, parts: Iterable[Key]) -> None:
        self.sums.append((total, tuple(parts)))

    def bound(self, key: Key, low: int, high: int | None = None) -> None:
        """A printed statistic says ``key`` lies in [low, high]."""
        old_low, old_high = self.bounds.get(key, (0, self.top))
        self.bounds[key] = (max(old_low, low), min(old_high, self.top if high is None else high))

    def exact(self) -> dict[Key, int]:
        shown = {key: value for key, (how, value) in self.printed.items() if how == "exact"}
        return {**self.known, **shown}


def parse(text: object, k: int) -> tuple[str, int | None] | None:
    """A printed count: ("exact", n), ("small", None) or ("hidden", None); None for a
    text that is not a count's (a "-" where there is nothing)."""
    if text is None or text == "hidden":
        return ("hidden", None)
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return ("exact", text)
    if isinstance(text, float) and not math.isnan(text) and text == int(text):
        return ("exact", int(text))
    text = str(text).strip()
    if text == f"<{k}":
        return ("small", None)
    if re.fullmatch(r"\d[\d,]*", text):
        return ("exact", int(text.replace(",", "")))
    return None


def pinned(reading: Reading, truth: Mapping[Key, int]) -> list[tuple[Key, int, str]]:
    """The counts of 1 to k-1 the reading gives away: printed, or the only value the sums
    leave them; each with its value and how. ``truth``: every named count's value."""
    k = reading.k
    exact = reading.exact()
    names = set(reading.printed) | set(reading.known) | set(reading.bounds)
    names |= {key for total, parts in reading.sums for key in (total, *parts)}
    missing = names - truth.keys()
    assert not missing, sorted(map(str, missing))[:3]
    given_away = [
        (key, value, "printed")
        for key, value in exact.items()
        if 0 < value < k and reading.printed.get(key, ("",))[0] == "exact"
    ]
    for key, value in exact.items():
        assert truth[key] == value, ("printed or public, but not so", key, value, truth[key])
    bounds = _mark_bounds(reading, exact, names, truth)
    system = _System(reading.sums, exact, bounds)
    for key in sorted(bounds, key=str):
        value = truth[key]
        few = 0 < value < k or (key in reading.limbs and value > 0)
        if few and not system.other_value(key, value):
            given_away.append((key, value, "pinned"))
    return given_away


def _mark_bounds(
    reading: Reading, exact: Mapping[Key, int], names: set[Key], truth: Mapping[Key, int]
) -> dict[Key, tuple[int, int]]:
    """Each count not known exactly, between what its mark and the printed statistics say
    (a hidden count's "k or more" dropped where the truth breaks it)."""
    k, top = reading.k, reading.top
    how = {key: reading.printed.get(key, ("unprinted", None))[0] for key in names}
    under_small: set[Key] = set()
    changed = True
    while changed:  # the parts (and theirs) of a count shown "<k": 0 or more
        changed = False
        for total, parts in reading.sums:
            if how.get(total) == "small" or total in under_small:
                new = {p for p in parts if how[p] == "hidden"} - under_small
                if new:
                    under_small |= new
                    changed = True
    bounds = {}
    for key in names - exact.keys():
        most = 2 * (k - 1) if key in reading.limbs else k - 1
        low, high = {"small": (1, most), "hidden": (k, top)}.get(how[key], (0, top))
        if how[key] == "hidden" and (key in under_small or truth[key] < k):
            low = 0
        extra_low, extra_high = reading.bounds.get(key, (0, top))
        bounds[key] = (max(low, extra_low), min(high, extra_high))
        assert bounds[key][0] <= truth[key] <= bounds[key][1], ("misread", key, truth[key])
    return bounds


class _System:
    """The public sums over the counts not known exactly, as whole-number constraints
    (solved by HiGHS through SciPy: only the question asked is shared with masking)."""

    def __init__(self, sums: list[tuple[Key, tuple[Key, ...]]], exact: Mapping[Key, int],
                 bounds: Mapping[Key, tuple[int, int]]) -> None:  # fmt: skip
        self.names = sorted(bounds, key=str)
        self.index = {key: i for i, key in enumerate(self.names)}
        rows, rhs = [], []
        for total, parts in sums:
            row, known = np.zeros(len(self.names)), 0
            for key, sign in [(total, -1), *((p, 1) for p in parts)]:
                if key in exact:
                    known += sign * exact[key]
                else:
                    row[self.index[key]] += sign
            if row.any():
                rows.append(row)
                rhs.append(-known)
            else:
                assert known == 0, ("a public sum does not hold", total, parts)
        self.constraints = [LinearConstraint(np.array(rows), rhs, rhs)] if rows else []
        self.lower = np.array([bounds[key][0] for key in self.names], dtype=float)
        self.upper = np.array([bounds[key][1] for key in self.names], dtype=float)
        self.solutions: list[np.ndarray] = []  # whole-number solutions found so far

    def other_value(self, key: Key, value: int) -> bool:
        """Whether a whole-number solution gives ``key`` another value than ``value``: one
        found for an earlier question that does answers it without solving again."""
        j = self.index[key]
        if any(abs(solution[j] - value) > 0.5 for solution in self.solutions):
            return True
        for low, high in ((self.lower[j], value - 1), (value + 1, self.upper[j])):
            if low > high:
                continue
            lower, upper = self.lower.copy(), self.upper.copy()
            lower[j], upper[j] = low, high
            size = len(self.names)
            result = milp(np.zeros(size), constraints=self.constraints,
                          integrality=np.ones(size), bounds=Bounds(lower, upper))  # fmt: skip
            if result.status == 0:
                self.solutions.append(result.x)
                return True
        return False
