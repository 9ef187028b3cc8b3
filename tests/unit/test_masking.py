"""Privacy decided once over a whole view (analytics.present.masking), checked against an
attacker who tries every whole-number value of what is hidden (brute force), not the
integer program the masking itself uses."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analytics.partitions import Key, Ledger, Sum, ledger
from analytics.present.masking import Mask, mask, shown_elsewhere
from analytics.present.privacy import MIN_K

N, A, B, C = ("n",), ("A",), ("B",), ("C",)


def values_an_attacker_allows(view: Ledger, decided: Mask) -> dict:
    """Every value each hidden count can take, given the shown counts, the sums and what
    the marks say ("<k": 1 to k-1; hidden: k or more; unseen: 0 or more)."""
    k, top = decided.k, 3 * max(view.counts.values()) + decided.k
    hidden = sorted(decided.small | decided.withheld | view.unseen, key=str)
    ranges = [
        range(1, k) if key in decided.small
        else range(0, top + 1) if key in decided.omitted | view.unseen
        else range(k, top + 1)
        for key in hidden
    ]  # fmt: skip
    allowed = {key: set() for key in hidden}
    for guess in itertools.product(*ranges):
        value = {**view.counts, **dict(zip(hidden, guess, strict=True))}
        if all(value[s.total] == sum(value[p] for p in s.parts) for s in view.sums):
            for key, v in zip(hidden, guess, strict=True):
                allowed[key].add(v)
    return allowed


def test_a_small_centre_beside_n_withholds_the_other_centre():
    view = ledger({N: 33, A: 3, B: 10, C: 20}, [Sum(N, (A, B, C))])
    decided = mask(view, 5)
    assert decided.small == {A} and decided.withheld == {B}
    assert len(values_an_attacker_allows(view, decided)[A]) > 1


def test_when_the_complement_pins_the_count_by_its_bound_n_is_withheld_too():
    # n = 6 of 1 + 5: "hidden" means 5 or more, so with n shown the 1 would follow
    view = ledger({N: 6, A: 1, B: 5}, [Sum(N, (A, B))])
    decided = mask(view, 5)
    assert decided.withheld == {B, N}
    assert decided.cell(N).shown == "withheld" and decided.cell(A).shown == "small"


def test_a_count_the_view_does_not_show_is_left_to_the_attacker():
    # patients without a recorded group, not printed: n - B no longer gives A
    view = ledger({N: 40, A: 3, B: 30, C: 7}, [Sum(N, (A, B, C))], unseen=[C])
    decided = mask(view, 5)
    assert decided.small == {A} and not decided.withheld


def test_a_small_count_the_view_does_not_print_but_gives_by_subtraction_is_protected():
    # the Safety page's incidence: 5 patients with a first event by month 6 and 7 by month
    # 12 print 2 whose first event fell between, a count no cell shows
    by6, by12, between = ("by", 6), ("by", 12), ("between", 6, 12)
    view = ledger({N: 30, by6: 5, by12: 7, between: 2}, [Sum(by12, (by6, between))],
                  unseen=[between])  # fmt: skip
    decided = mask(view, 5)
    assert decided.withheld & {by6, by12}
    assert len(values_an_attacker_allows(view, decided)[between]) > 1


def test_a_count_pinned_through_counts_the_view_does_not_show_withholds_one_it_does():
    # Table 1's segment rows: each the sum of lesion patterns no row shows (P1-P3), with
    # the rest of n beside it; n is also the technical successes (S), so withholding n
    # would hide nothing. CIV's rest (P3 = 2) is small; withholding CIV's row leaves it
    # pinned by the other rows through the patterns: one of those is withheld, not all.
    p1, p2, p3, civ, eiv, ivc, s = (("P1",), ("P2",), ("P3",), ("CIV",), ("EIV",), ("IVC",),
                                     ("S",))  # fmt: skip
    rest = {row: (*row, "rest") for row in (civ, eiv, ivc)}
    counts = {N: 10, s: 10, p1: 4, p2: 4, p3: 2, civ: 8, eiv: 6, ivc: 4}
    counts |= {rest[civ]: 2, rest[eiv]: 4, rest[ivc]: 6}
    sums = [Sum(N, (s,)), Sum(N, (p1, p2, p3)), Sum(civ, (p1, p2)), Sum(eiv, (p2, p3)),
            Sum(ivc, (p2,)), *(Sum(N, (row, rest[row])) for row in (civ, eiv, ivc))]  # fmt: skip
    view = ledger(counts, sums, unseen=[p1, p2, p3])
    decided = mask(view, 3)
    assert not decided.everything
    assert decided.cell(N).shown == "exact"
    marks = {key: decided.cell(key).shown for key in counts}

    def fits(key: Key, value: int) -> bool:
        shown = {"exact": value == counts[key], "small": 0 < value < 3, "withheld": value >= 3}
        return key in view.unseen or shown[marks[key]]

    rests = set()  # every pattern split of n the shown rows and marks allow (brute force)
    for a, b in itertools.product(range(11), repeat=2):
        value = {p1: a, p2: b, p3: 10 - a - b, N: 10, s: 10}
        value |= {civ: a + b, eiv: b + value[p3], ivc: b}
        value |= {rest[row]: 10 - value[row] for row in (civ, eiv, ivc)}
        if value[p3] >= 0 and all(fits(key, v) for key, v in value.items()):
            rests.add(value[rest[civ]])
    assert len(rests) > 1


def test_a_count_another_view_shows_is_never_the_complement():
    # the population analysed (A) is the unfiltered view's n: withholding it beside the
    # 4 the filters leave out (B) would hide nothing, so n is withheld
    # (and then a centre, C, since n is its centres' sum)
    counts = {A: 34, N: 30, B: 4, C: 10, ("D",): 20}
    view = ledger(counts, [Sum(A, (N, B)), Sum(N, (C, ("D",)))], public=[A])
    decided = mask(view, 5)
    assert decided.small == {B} and decided.withheld == {N, C}
    assert mask(ledger(counts, view.sums), 5).withheld == {A}  # not public: in fewer sums


def test_a_view_with_no_complement_left_shows_no_small_count_either():
    # n = 6 (also shown as S) of three "<3": each must be 2, and withholding n hides
    # nothing; with nothing left to withhold, the "<3" marks must not show either
    view = ledger({N: 6, ("S",): 6, A: 2, B: 2, C: 2}, [Sum(N, (("S",),)), Sum(N, (A, B, C))])
    decided = mask(view, 3)
    assert decided.everything and not decided.small
    assert {decided.cell(key).shown for key in (N, A, B, C)} == {"withheld"}
    assert decided.few(A) and decided.few(C) and not decided.few(N)


def test_a_view_with_no_complement_left_still_shows_what_another_view_shows():
    # the same three "<3" beside a public n (the view without the comparison prints it):
    # withholding n would hide nothing, and the other view's readers know it anyway
    view = ledger({N: 6, A: 2, B: 2, C: 2}, [Sum(N, (A, B, C))], public=[N])
    decided = mask(view, 3)
    assert decided.everything and decided.cell(N).shown == "exact"
    assert {decided.cell(key).shown for key in (A, B, C)} == {"withheld"}


def test_a_comparison_treats_what_the_view_without_it_shows_as_public():
    # the view without the comparison shows n, "<5" for 4 and withholds the 26 beside it
    plain = ledger({N: 30, A: 4, B: 26}, [Sum(N, (A, B))])
    decided = mask(plain, 5)
    elsewhere = shown_elsewhere(plain, decided)
    assert elsewhere.public == {N} and dict(elsewhere.counts) == {N: 30}


def test_the_parts_of_a_small_count_are_left_out():
    # two "<3" making a "<3" would be 1 and 1
    view = ledger({N: 2, A: 1, B: 1}, [Sum(N, (A, B))])
    decided = mask(view, 3)
    assert decided.small == {N} and decided.omitted == {A, B}
    assert [decided.cell(key).shown for key in (N, A, B)] == ["small", "withheld", "withheld"]


def test_privacy_off_shows_every_count():
    decided = mask(ledger({N: 3, A: 1, B: 2}, [Sum(N, (A, B))]), None)
    assert not decided.hidden(N, A, B)
    assert decided.cell(A).value == 1


def test_sums_of_two_views_are_decided_as_one():
    # the page's centres and the sidebar's n: neither alone gives A away
    sidebar = ledger({N: 33, ("left out",): 4, ("analysed",): 37},
                     [Sum(("analysed",), (N, ("left out",)))])  # fmt: skip
    centres = ledger({N: 33, A: 3, B: 30}, [Sum(N, (A, B))])
    decided = mask(sidebar | centres, 5)
    both = sidebar | centres
    allowed = values_an_attacker_allows(both, decided)
    assert all(len(allowed[key]) > 1 for key in decided.small)


@st.composite
def two_level_views(draw) -> Ledger:
    """n split into 2-3 groups, each split again into 0 or 2-3 parts (a curve's patients
    into at risk, events, censored), counts 0 to 9."""
    counts, sums = {}, []
    groups = []
    for g in range(draw(st.integers(2, 3))):
        parts = [(f"g{g}", f"p{p}") for p in range(draw(st.sampled_from([0, 2, 3])))]
        for part in parts:
            counts[part] = draw(st.integers(0, 9))
        group = (f"g{g}",)
        counts[group] = sum(counts[p] for p in parts) if parts else draw(st.integers(0, 9))
        if parts:
            sums.append(Sum(group, tuple(parts)))
        groups.append(group)
    counts[N] = sum(counts[g] for g in groups)
    sums.append(Sum(N, tuple(groups)))
    return ledger(counts, sums)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(view=two_level_views(), k=st.integers(MIN_K, 5))
def test_no_small_count_follows_from_a_masked_view(view, k):
    decided = mask(view, k)
    assert not decided.everything
    hidden = decided.small | decided.withheld
    sizes = [k - 1 if key in decided.small else 3 * max(view.counts.values()) for key in hidden]
    space = 1
    for size in sizes:
        space *= max(size, 1)
    assume(space <= 200_000)
    allowed = values_an_attacker_allows(view, decided)
    for key in decided.small | {key for key in decided.omitted if 0 < view.counts[key] < k}:
        assert len(allowed[key]) > 1, (key, view.counts, decided)
