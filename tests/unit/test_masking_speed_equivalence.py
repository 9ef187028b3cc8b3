"""The mask's fast bookkeeping (analytics.present.masking: an index of each count's sums,
propagation passes that skip sums whose counts did not move) decides exactly as the
plain way it replaces: every pass over every sum, every sum scanned for each complement.

Each test runs the mask with the plain reference below beside the fast functions: at
every round the propagated bounds and the pick must be the same, so the small, withheld
and omitted sets are too (the integer program is the same in both).
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import views
from analytics.filters import CohortFilter
from analytics.partitions import Key, Ledger, Sum, ledger, limbs_within_patients
from analytics.present import masking
from analytics.present.report import report_mask


def plain_propagate(view: Ledger, sums: list[Sum], unknown: frozenset[Key], lower: dict,
                    upper: dict) -> None:  # fmt: skip
    """Up to PROPAGATION_PASSES passes over every sum, in the view's order."""

    def low(key: Key) -> float:
        return lower[key] if key in unknown else view.counts[key]

    def high(key: Key) -> float:
        return upper[key] if key in unknown else view.counts[key]

    def narrow(key: Key, new_low: float, new_high: float) -> bool:
        new_low, new_high = max(lower[key], new_low), min(upper[key], new_high)
        changed = (new_low, new_high) != (lower[key], upper[key])
        lower[key], upper[key] = new_low, new_high
        return changed

    changed, passes = True, 0
    while changed and passes < masking.PROPAGATION_PASSES:
        changed, passes = False, passes + 1
        for s in sums:
            parts_low = sum(low(p) for p in s.parts)
            parts_high = sum(high(p) for p in s.parts)
            if s.total in unknown:
                changed |= narrow(s.total, parts_low, parts_high)
            for p in s.parts:
                if p in unknown:
                    rest_low, rest_high = parts_low - low(p), parts_high - high(p)
                    changed |= narrow(p, low(s.total) - rest_high, high(s.total) - rest_low)
            if s.within_patients:
                patients, second = s.parts
                if second in unknown:
                    changed |= narrow(second, lower[second], high(patients))
                if patients in unknown:
                    changed |= narrow(patients, low(second), upper[patients])


def plain_complement(view: Ledger, key: Key, hidden: frozenset[Key]) -> Key | None:
    """The shown non-zero count, not public nor equal to a shown one (equal to one after
    all when nothing else is left), of the sums linked to ``key`` through hidden or unseen
    counts: fewest sums and least worth together, then smallest, then by name."""
    shown = view.shown_keys() - hidden
    unknown = hidden | view.unseen | {key}
    linked = {key}
    while True:
        reached = {m for s in view.sums if linked & {s.total, *s.parts}
                   for m in (s.total, *s.parts) if m in unknown}  # fmt: skip
        if reached <= linked:
            break
        linked |= reached
    sums = [s for s in view.sums if linked & {s.total, *s.parts}]
    equal = {a for s in view.sums if len(s.parts) == 1
             for a, b in ((s.total, s.parts[0]), (s.parts[0], s.total)) if b in shown}  # fmt: skip
    shown_here = {m for s in sums for m in (s.total, *s.parts)
                  if m in shown - view.public and view.counts[m] > 0}  # fmt: skip
    candidates = (shown_here - equal) or shown_here
    if not candidates:
        return None
    in_sums = {m: sum(m in {s.total, *s.parts} for s in view.sums) for m in candidates}
    cost = {m: in_sums[m] + view.worth.get(m, 0) for m in candidates}
    return min(candidates, key=lambda m: (cost[m], view.counts[m], str(m)))


def checked_against_plain(monkeypatch) -> list[int]:
    """Run the mask's fast propagation and complement beside the plain ones, asserting
    they agree at every round; the rounds counted."""
    fast_propagate, fast_complement = masking._propagate, masking._complement
    rounds = [0, 0]

    def propagate(index, sums, unknown, lower, upper):
        view = Ledger({key: v for key, v in lower.items() if key not in unknown})
        plain_lower = {key: lower[key] for key in unknown}
        plain_upper = {key: upper[key] for key in unknown}
        plain_propagate(view, [index.sums[i] for i in sums], unknown, plain_lower, plain_upper)
        fast_propagate(index, sums, unknown, lower, upper)
        assert {key: (lower[key], upper[key]) for key in unknown} == {
            key: (plain_lower[key], plain_upper[key]) for key in unknown
        }
        rounds[0] += 1

    def complement(view, index, key, hidden):
        pick = fast_complement(view, index, key, hidden)
        assert pick == plain_complement(view, key, frozenset(hidden))
        rounds[1] += 1
        return pick

    monkeypatch.setattr(masking, "_propagate", propagate)
    monkeypatch.setattr(masking, "_complement", complement)
    return rounds


@st.composite
def ledgers(draw) -> Ledger:
    """Small consistent ledgers: counts summed into new totals, some totals split a second
    way (loops of sums, where bounds creep), unseen and public counts, limbs within their
    patients."""
    counts: dict[Key, int] = {
        (f"c{i}",): draw(st.integers(0, 9)) for i in range(draw(st.integers(2, 6)))
    }
    sums: list[Sum] = []
    for j in range(draw(st.integers(1, 6))):
        keys = list(counts)
        kind = draw(st.sampled_from(["total", "split", "limbs"]))
        if kind == "split":  # another partition of a count already there
            whole = draw(st.sampled_from(keys))
            first = draw(st.integers(0, counts[whole]))
            a, b = (f"s{j}a",), (f"s{j}b",)
            counts |= {a: first, b: counts[whole] - first}
            sums.append(Sum(whole, (a, b)))
        elif kind == "limbs":
            patients = draw(st.sampled_from(keys))
            second = (f"second{j}",)
            counts[second] = draw(st.integers(0, counts[patients]))
            total = (f"limbs{j}",)
            counts[total] = counts[patients] + counts[second]
            sums.append(limbs_within_patients(total, patients, second))
        else:
            parts = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=4, unique=True))
            total = (f"t{j}",)
            counts[total] = sum(counts[p] for p in parts)
            sums.append(Sum(total, tuple(parts)))
    keys = sorted(counts, key=str)
    unseen = draw(st.lists(st.sampled_from(keys), max_size=2, unique=True))
    public = draw(st.lists(st.sampled_from(keys), max_size=2, unique=True))
    return ledger(counts, sums, unseen, public, paired=draw(st.booleans()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(view=ledgers(), k=st.sampled_from([3, 5]))
def test_fast_propagation_and_complement_decide_as_the_plain_way(view, k, monkeypatch):
    with monkeypatch.context() as patched:
        checked_against_plain(patched)
        decided = masking.mask(view, k)
    again = masking.mask(view, k)
    assert (decided.small, decided.withheld, decided.omitted, decided.everything) == (
        again.small, again.withheld, again.omitted, again.everything
    )  # fmt: skip


def test_the_demo_report_by_centre_is_masked_as_the_plain_way(demo, monkeypatch):
    view = views.report_view(demo, CohortFilter(), "center")
    rounds = checked_against_plain(monkeypatch)
    for k in (3, 5):
        decided = report_mask(view, k)
        assert decided.small and decided.withheld - decided.omitted
    assert rounds[0] > 20 and rounds[1] > 20  # many rounds of suppression, each compared


def one_key_a_round(monkeypatch) -> None:
    """The attacker answers one pinned count a round, as the mask read its answer before
    a round went on past the counts it gives up (analytics.present.masking.mask)."""
    exposed = masking._Attacker.exposed
    monkeypatch.setattr(masking._Attacker, "exposed", lambda self, w: exposed(self, w)[:1])


def _decided(mask: masking.Mask) -> tuple:
    return mask.small, mask.withheld, mask.omitted, mask.everything, mask.given_up


def pinned_by_public(view: Ledger) -> Ledger:
    """``view`` with every sum's total public: small counts the public ones pin, which an
    export gives up (masking.export_mask), come often (one ledger in nine)."""
    return replace(view, public=view.public | {s.total for s in view.sums})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(view=ledgers().map(pinned_by_public), k=st.sampled_from([3, 5]))
def test_a_round_gives_up_its_counts_as_a_round_each_did(view, k, monkeypatch):
    decided = masking.mask(view, k, give_up=True)
    with monkeypatch.context() as patched:
        one_key_a_round(patched)
        assert _decided(masking.mask(view, k, give_up=True)) == _decided(decided)


def test_two_counts_the_public_ones_pin_are_given_up_in_one_round(monkeypatch):
    """Two centres' 2 and 1 patients, each beside a public 8 and 9 of public totals 10:
    nothing can be withheld beside them, so both are given up, in the first round."""
    view = ledger({("n1",): 10, ("a",): 8, ("b",): 2, ("n2",): 10, ("c",): 9, ("d",): 1},
                  [Sum(("n1",), (("a",), ("b",))), Sum(("n2",), (("c",), ("d",)))],
                  public=[("n1",), ("a",), ("n2",), ("c",)])  # fmt: skip
    rounds = []
    exposed = masking._Attacker.exposed
    monkeypatch.setattr(masking._Attacker, "exposed",
                        lambda self, w: rounds.append(w) or exposed(self, w))  # fmt: skip
    decided = masking.mask(view, 3, give_up=True)
    assert decided.given_up == {("b",), ("d",)} and len(rounds) == 2  # the second finds none
    one_key_a_round(monkeypatch)
    assert _decided(masking.mask(view, 3, give_up=True)) == _decided(decided)
    assert len(rounds) == 2 + 3
