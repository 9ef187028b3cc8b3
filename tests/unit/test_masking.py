"""Privacy decided once over a whole view (analytics.present.masking), checked against an
attacker who tries every whole-number value of what is hidden (brute force), not the
integer program the masking itself uses."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analytics.partitions import Key, Ledger, Sum, ledger, limbs_within_patients
from analytics.present.masking import Mask, export_mask, mask, shown_elsewhere
from analytics.present.privacy import MIN_K

N, A, B, C = ("n",), ("A",), ("B",), ("C",)


def values_an_attacker_allows(view: Ledger, decided: Mask) -> dict:
    """Every value each hidden count can take, given the shown counts, the sums and what
    the marks say ("<k": 1 to k-1, or 1 to 2(k-1) of a count of limbs in which a patient
    has two; hidden: k or more; unseen: 0 or more; a patient's second limbs at most
    the patients)."""
    k, top = decided.k, 3 * max(view.counts.values()) + decided.k
    hidden = sorted(decided.small | decided.withheld | view.unseen, key=str)
    ranges = [
        range(1, 2 * k - 1 if view.patients_of(key) < view.counts[key] else k)
        if key in decided.small
        else range(0, top + 1) if key in decided.omitted | view.unseen
        else range(k, top + 1)
        for key in hidden
    ]  # fmt: skip
    allowed = {key: set() for key in hidden}
    for guess in itertools.product(*ranges):
        value = {**view.counts, **dict(zip(hidden, guess, strict=True))}
        if all(value[s.total] == sum(value[p] for p in s.parts) for s in view.sums) and all(
            value[s.parts[1]] <= value[s.parts[0]] for s in view.sums if s.within_patients
        ):
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


def test_two_equal_counts_are_withheld_together_when_nothing_else_is_left():
    # n = 6 (also shown as S) of three "<3": each must be 2. Withholding n alone hides
    # nothing (S is n), so neither went first and the view withheld everything; with
    # nothing else left both go, and the "<3" marks show (n is then 3 to 6)
    view = ledger({N: 6, ("S",): 6, A: 2, B: 2, C: 2}, [Sum(N, (("S",),)), Sum(N, (A, B, C))])
    decided = mask(view, 3)
    assert not decided.everything
    assert {decided.cell(key).shown for key in (N, ("S",))} == {"withheld"}
    assert {decided.cell(key).shown for key in (A, B, C)} == {"small"}


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
@given(view=two_level_views(), k=st.integers(MIN_K, 5), thorough=st.booleans())
def test_no_small_count_follows_from_a_masked_view(view, k, thorough):
    decided = mask(view, k, thorough)
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


# Privacy counts people (issue 23): in a file where a patient may have two limbs, a count
# of limbs is as small as the distinct patients behind it.
PEOPLE, SECOND, WOMEN, MEN = ("people",), ("second limbs",), ("women",), ("men",)


def test_eight_limbs_of_eight_patients_show_at_k_5():
    view = ledger({N: 30, A: 8, B: 22}, [Sum(N, (A, B))], paired=True,
                  patients={N: 24, A: 8, B: 16})  # fmt: skip
    assert not mask(view, 5).hidden(N, A, B)


def test_six_limbs_of_three_patients_are_fewer_than_k_5():
    view = ledger({N: 30, A: 6, B: 24}, [Sum(N, (A, B))], paired=True,
                  patients={N: 19, A: 3, B: 16})  # fmt: skip
    decided = mask(view, 5)
    assert decided.cell(A).shown == "small" and decided.cell(A).k == 5 and decided.few(A)
    assert decided.withheld == {B}
    assert len(values_an_attacker_allows(view, decided)[A]) > 1


def test_a_count_of_limbs_whose_patients_were_not_counted_is_judged_by_the_fewest():
    # 8 limbs may be 4 patients: "<5"; 9 limbs are at least 5 patients
    view = ledger({N: 30, A: 8, B: 22}, [Sum(N, (A, B))], paired=True, patients={N: 24})
    decided = mask(view, 5)
    assert decided.small == {A} and decided.withheld == {B}
    assert not mask(ledger({N: 9}, paired=True), 5).hidden(N)


def test_counts_of_people_in_a_view_of_limbs_are_judged_by_k():
    # the patients and their person rows: 6 women are not "<5" beside limbs
    view = ledger(
        {N: 30, PEOPLE: 20, SECOND: 10, WOMEN: 6, MEN: 14},
        [limbs_within_patients(N, PEOPLE, SECOND), Sum(PEOPLE, (WOMEN, MEN))],
        unseen=[SECOND], paired=True, patients={N: 20}, people=[PEOPLE, SECOND, WOMEN, MEN],
    )  # fmt: skip
    assert not mask(view, 5).hidden(N, PEOPLE, WOMEN, MEN)


def test_a_patients_two_limbs_are_not_a_way_to_recover_a_count():
    """20 limbs of 10 patients (each with both), the patients not shown: they are at least
    10 (limbs are at most twice their patients), so with 6 men shown the "<5" women would
    be 4. An attacker who did not know a patient has at most two limbs would find
    nothing to withhold."""
    counts = {N: 20, PEOPLE: 10, SECOND: 10, WOMEN: 4, MEN: 6}
    unseen, people = [PEOPLE, SECOND], [PEOPLE, SECOND, WOMEN, MEN]
    view = ledger(counts, [limbs_within_patients(N, PEOPLE, SECOND), Sum(PEOPLE, (WOMEN, MEN))],
                  unseen=unseen, paired=True, patients={N: 10}, people=people)  # fmt: skip
    decided = mask(view, 5)
    assert (decided.small, decided.withheld) == ({WOMEN}, {MEN})
    other = {N: 20, PEOPLE: 10, SECOND: 10, WOMEN: 3, MEN: 7}  # what the view now allows too
    assert all(other[s.total] == sum(other[p] for p in s.parts) for s in view.sums)
    assert other[SECOND] <= other[PEOPLE] and other[MEN] >= 5
    naive = ledger(counts, [Sum(N, (PEOPLE, SECOND)), Sum(PEOPLE, (WOMEN, MEN))],
                   unseen=unseen, paired=True, patients={N: 10}, people=people)  # fmt: skip
    assert not mask(naive, 5).withheld


def test_a_small_count_of_limbs_is_one_to_twice_k_less_one_to_the_attacker():
    """Two "<5" counts of limbs making 14: 7 and 7 limbs of 4 patients each could be 6
    and 8; were they counts of patients, "<5" and "<5" making 14 could not be (at most
    8), so the mark means 1 to 8 limbs, and the sum pins neither."""
    view = ledger({N: 14, A: 7, B: 7}, [Sum(N, (A, B))], paired=True,
                  patients={N: 8, A: 4, B: 4}, public=[N])  # fmt: skip
    decided = mask(view, 5)
    allowed = values_an_attacker_allows(view, decided)
    assert decided.small == {A, B} and allowed[A] == set(range(6, 9))


def test_a_sides_limbs_are_its_patients_to_the_attacker():
    """8 limbs of 5 patients, 4 on each side: a patient has one limb a side, so a reader
    knows each "<5" side is at most 4 limbs, and 8 pins both; n is withheld."""
    view = ledger({N: 8, A: 4, B: 4}, [Sum(N, (A, B))], paired=True,
                  patients={N: 5, A: 4, B: 4})  # fmt: skip
    decided = mask(view, 5)
    assert decided.small == {A, B} and decided.hidden(N)
    assert all(len(allowed) > 1 for allowed in values_an_attacker_allows(view, decided).values())


@st.composite
def views_of_limbs(draw) -> Ledger:
    """n limbs in 2-3 groups (a grouping by side: a patient's two limbs may be in two),
    each group's limbs of 0 to 5 patients with up to as many second limbs; the patients
    shown, in women and men (counts of people), their second limbs not shown."""
    counts, sums, patients = {}, [], {}
    groups, people = [], 0
    for g in range(draw(st.integers(2, 3))):
        group = (f"g{g}",)
        patients[group] = draw(st.integers(0, 5))
        counts[group] = patients[group] + draw(st.integers(0, patients[group]))
        groups.append(group)
        people += patients[group]
    counts[N] = sum(counts[g] for g in groups)
    sums.append(Sum(N, tuple(groups)))
    both = draw(st.integers(0, min(people, counts[N] - people) if counts[N] > people else 0))
    people -= both  # a patient with a limb in two groups is one patient
    people = max(people, -(-counts[N] // 2))
    patients[N] = people
    women = draw(st.integers(0, people))
    counts |= {PEOPLE: people, SECOND: counts[N] - people, WOMEN: women, MEN: people - women}
    sums += [limbs_within_patients(N, PEOPLE, SECOND), Sum(PEOPLE, (WOMEN, MEN))]
    patients = {key: p for key, p in patients.items() if p <= counts[key] <= 2 * p}
    return ledger(counts, sums, unseen=[SECOND], paired=True, patients=patients,
                  people=[PEOPLE, SECOND, WOMEN, MEN])  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(view=views_of_limbs(), k=st.integers(MIN_K, 5), thorough=st.booleans())
def test_no_count_of_fewer_than_k_patients_follows_from_a_view_of_limbs(view, k, thorough):
    decided = mask(view, k, thorough)
    assume(not decided.everything)
    top = 3 * max(view.counts.values()) + k
    space = 1
    for key in decided.small | decided.withheld | view.unseen:
        space *= 2 * k if key in decided.small else top
    assume(space <= 50_000)
    allowed = values_an_attacker_allows(view, decided)
    for key in sorted(decided.small | decided.omitted, key=str):
        if 0 < view.patients_of(key) < k:
            assert len(allowed[key]) > 1, (key, view.counts, decided)


def test_a_public_count_below_k_is_protected_as_the_views_own():
    """Three "<3" make n = 6 (each must be 2), and n is public, so no count can be
    withheld beside them: everything but the public is withheld. A public count below k
    is no count another view shows (none shows one): it is withheld too, never printed
    (it printed 2 when public meant shown whatever)."""
    view = ledger({N: 6, A: 2, B: 2, C: 2}, [Sum(N, (A, B, C))], public=[N, A])
    decided = mask(view, 3)
    assert decided.everything and decided.cell(A).shown == "withheld"
    assert decided.cell(N).shown == "exact"


def test_two_views_naming_one_count_with_two_values_raise():
    with pytest.raises(ValueError, match="one count, two values"):
        ledger({A: 1}, public=[A]) | ledger({A: 2})


EARLY, LATER, EVENTS = ("early",), ("later",), ("events",)


def test_public_counts_that_give_a_count_away_together_are_given_up_beside_the_pages():
    """One page shows the 30 later events (withholding all 31), another the 31 (withholding
    the 30): together they give the 1 early event away, which nothing a deck withholds
    can hide from a reader of both. A page's mask withholds everything but them, as
    before; a deck's beside the pages (give_up) gives the count up and says so."""
    view = ledger({EVENTS: 31, EARLY: 1, LATER: 30}, [Sum(EVENTS, (EARLY, LATER))],
                  public=[EVENTS, LATER])  # fmt: skip
    assert mask(view, 5).everything and mask(view, 5, thorough=True).everything
    thorough = mask(view, 5, thorough=True, give_up=True)
    assert thorough.given_up == {EARLY} and not thorough.everything
    assert thorough.cell(EARLY).shown == "small"


def test_an_export_read_alone_keeps_a_count_the_pages_give_away_together():
    """The deck prints the 31 and the 30 that two pages each print one of: read alone it
    would give the 1 away, so it withholds one of them (export_mask)."""
    deck = ledger({EVENTS: 31, EARLY: 1, LATER: 30}, [Sum(EVENTS, (EARLY, LATER))])
    pages = ledger(deck.counts, deck.sums, public=[EVENTS, LATER])
    decided = export_mask(deck, pages, 5)
    assert decided.given_up == {EARLY} and decided.hidden(EVENTS) != decided.hidden(LATER)
    assert len(values_an_attacker_allows(deck, decided)[EARLY]) > 1


def test_a_withheld_count_the_shown_counts_fix_shows_again():
    # a curve's at risk at month 0 is its public n when nothing ended before month 0: the
    # greedy choice withholds it beside the "<5" of 2 (at risk 0 = X + S), then X, and Z
    # and V around X; withholding it protects nothing (the legend prints n), so it shows
    from tests.reader import Reading, pinned

    names = ("patients", "at risk 0", "events 0", "censored 0", "X", "S", "Y", "Z", "W", "V")
    patients, at_start, events, censored, x, s, y, z, w, v = [(name,) for name in names]
    view = ledger(
        {patients: 27, at_start: 27, events: 0, censored: 0, x: 25, s: 2, y: 40, z: 15,
         w: 33, v: 8},
        [Sum(patients, (at_start, events, censored)), Sum(at_start, (x, s)), Sum(y, (x, z)),
         Sum(w, (x, v))],
        public=[patients],
    )  # fmt: skip
    decided = mask(view, 5)
    assert decided.cell(at_start).shown == "exact" and decided.cell(s).shown == "small"
    assert decided.hidden(x)
    reading = Reading(5, 100)
    for key in view.counts:
        cell = decided.cell(key)
        reading.read(
            key, cell.value if cell.shown == "exact" else "<5" if cell.shown == "small" else None
        )
    for total in view.sums:
        reading.add_sum(total.total, total.parts)
    assert pinned(reading, view.counts) == []
