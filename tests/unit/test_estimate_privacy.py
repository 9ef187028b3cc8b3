"""A Kaplan-Meier estimate in privacy mode shows with its month's events, not only where
its whole KMunicate column does: one limb censored before month 12 no longer hides the
12-month estimate of 205 limbs. What the estimates still say of the counts hidden beside
them (views.estimate_bounds: their ratio bounds the events between two months by the at
risk) is weighed by the mask, and checked here by an attacker that reads the rendered
estimates to every digit (as the report's JSON prints them) beside the rendered counts.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from analytics.filters import CohortFilter
from analytics.partitions import Bound, Ledger
from analytics.present.masking import Mask, mask
from analytics.present.report import report_json
from analytics.present.tables import curves, estimates_table, table2
from analytics.views import (
    ALL_PATIENTS,
    LARGEST_INVERTED,
    PRIMARY,
    PatencyView,
    curve_key,
    fewest_at_risk,
    header_ledger,
    header_view,
    incidence_ledger,
    patency_ledger,
    patency_view,
    report_view,
    tables_view,
)
from tests.masks import tables_mask
from tests.unit.test_patency_privacy import (
    FORTY,
    OVERALL,
    Attack,
    Reading,
    cohorts,
    read_view,
    reader_top,
    truth,
)
from tests.unit.test_patency_privacy import patency_view as cohort_view

RIGHT = CohortFilter(lesion_side="right")


def page_mask(con, cohort_filter):
    """The Patency page's mask: the sidebar's counts, the curves and their cumulative
    incidences as one view (ui.page.masked)."""
    view = patency_view(con, cohort_filter)
    header = header_view(con, cohort_filter)
    shown = patency_ledger(view, header.limbs) | incidence_ledger(view)
    return view, mask(header_ledger(header) | shown, 5)


def primary_row(table, month):
    rows = table[(table["Curve"] == "Primary patency") & (table["Month"] == month)]
    return rows.iloc[0]


def test_the_12_month_estimate_shows_beside_a_censored_count_below_k(bilateral):
    """The right-sided limbs of the bilateral registry (205 limbs, one each), k = 5: 2
    limbs were censored before month 12, so the column's censored shows "<5" and its at
    risk is withheld beside it; the estimate, a statistic of the 21 events shown, stands
    (it was hidden with the column). At 6 and 24 months it is withheld: 3 events fell
    between months 6 and 12, and 3 between 24 and 36, and two estimates' ratio counts
    those between them, so one of each two months goes."""
    view, decided = page_mask(bilateral, RIGHT)
    table = estimates_table(view, decided)
    twelve = primary_row(table, "12")
    assert twelve["Estimate (%)"] == "89.7" and twelve["95% CI (%)"] == "84.7-93.2"
    assert (twelve["At risk"], twelve["Events"], twelve["Censored"]) == ("hidden", "21", "<5")
    assert primary_row(table, "36")["Estimate (%)"] == "82.3"
    assert {primary_row(table, m)["Estimate (%)"] for m in ("6", "24")} == {"hidden"}
    curve = view.survival[PRIMARY].overall
    events = dict(zip(curve.estimates.month, curve.estimates.events, strict=True))
    assert events[12.0] - events[6.0] == 3 and events[36.0] - events[24.0] == 3


@pytest.fixture(scope="module")
def twenty_centres(tmp_path_factory: pytest.TempPathFactory):
    """``synth --limbs 600 --seed 1`` (20 centres, the command's default)."""
    from analytics.cohort.db import open_cohort
    from analytics.cohort.synth import synthesize

    path = synthesize(tmp_path_factory.mktemp("synth") / "b600.duckdb", None, 20, seed=1,
                      limbs=600)  # fmt: skip
    con = open_cohort(path)
    yield con
    con.close()


def test_a_curve_of_few_events_no_longer_hides_the_view(twenty_centres):
    """``synth --limbs 600 --seed 1``, right side (205 limbs), k = 5: secondary patency's
    9 events fell 4, 1, 1, 1, 1, 1 between the table's months. Each difference was judged
    as if printed "<5" (1 or more), so four of them under a "<5" across them were 1 each
    and the mask withheld every count of the page; they are printed nowhere, and judged as
    a reader knows them (0 or more). Primary patency's 6- and 12-month estimates show
    beside their censored (1 and 2 limbs); 24 months is withheld, 4 events having fallen
    between 12 and 24."""
    view, decided = page_mask(twenty_centres, RIGHT)
    assert not decided.everything
    table = estimates_table(view, decided)
    assert primary_row(table, "6")["Estimate (%)"] == "90.2"
    twelve = primary_row(table, "12")
    assert (twelve["Estimate (%)"], twelve["Events"], twelve["Censored"]) == ("87.3", "26", "<5")
    assert primary_row(table, "24")["Estimate (%)"] == "hidden"


def test_every_surface_shows_the_12_month_estimate(bilateral):
    """The Tables page's Table 2 and the report's JSON render the one decision."""
    tables = tables_view(bilateral, RIGHT)
    rows = table2(tables, tables_mask(tables, 5)).set_index("Outcome")["Value"]
    assert rows["Primary patency at 12 months"] == "89.7% (95% CI 84.7-93.2); at risk hidden"
    assert rows["Primary patency at 6 months"] == "hidden; at risk hidden"
    data = report_json(report_view(bilateral, RIGHT), 5)["patency"]["primary"]["overall"]
    twelve = next(row for row in data if row["month"] == 12.0)
    assert round(twelve["estimate"], 3) == 0.897
    assert (twelve["at_risk"], twelve["events"], twelve["censored"]) == (None, 21, "<5")


# Forty patients: 2 censored at 0.5 and 0.6 months, before any event; 5 events by month 6
# and none between 6 and 12; 3 events from 13.5 months with nobody censored before them;
# 6 censored between 16.5 and 21.5 months, 24 followed to 40.5 months
EARLY_CENSORED = (
    [0.5, 0.6] + [1.5, 2.5, 3.5, 4.5, 5.5] + [13.5, 14.5, 15.5] + [16.5 + i for i in range(6)]
    + [40.5] * 24,
    [False] * 2 + [True] * 8 + [False] * 30,
)  # fmt: skip


def test_estimates_that_bound_a_censored_count_from_both_sides_are_withheld():
    """EARLY_CENSORED, k = 3: the 2 censored before month 12 show "<3". The 6-month
    estimate, 1 - 5 / 38 where 1 - 5 / 40 had nobody been censored before the events,
    says at least 2 were; the ratio of the 24- and 12-month ones, 1 - 3 / 33 with nobody
    censored before the 3 events, says 33 at risk at 12 months, so at most 40 - 5 - 33 = 2:
    exactly 2. The mask weighs what the estimates say and withholds the events of 6 and 12
    months (so their estimates); weighing the sums alone it showed them, and an attacker
    reading the estimates to every digit pinned the 2."""
    view = cohort_view(*EARLY_CENSORED, None)
    ledger = patency_ledger(view)
    table = estimates_table(view, mask(ledger, 3)).set_index("Month")
    assert set(table.loc[["6", "12"], "Estimate (%)"]) == {"hidden"}
    assert table.loc["12", "Censored"] == "<3" and table.loc["24", "Estimate (%)"] == "78.9"
    blind = mask(Ledger(ledger.counts, ledger.sums, ledger.unseen, ledger.public), 3)
    assert estimates_table(view, blind).set_index("Month").loc["12", "Estimate (%)"] == "86.8"
    assert not blind.hidden(curve_key(PRIMARY, ALL_PATIENTS, "patients"))  # the page prints 40
    attack = km_attack(view, table_readings(view, blind), 3, 40)
    censored = ("Primary patency", "censored", 12.0)
    assert attack.pinned(censored, 2)
    attack.at_most = []  # the counts alone leave it 1 or 2
    assert not attack.pinned(censored, 2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohort=cohorts())
def test_every_declared_bound_holds_for_the_true_counts(cohort):
    """views.estimate_bounds is the telescoped envelope of the product-limit estimate, so
    the truth meets it, ties at a table month included (the cohorts' times moved onto
    whole months, where 6 and 12 fall)."""
    times, events, groups = cohort
    for shifted in (times, [float(int(t)) for t in times]):
        ledger = patency_ledger(cohort_view(shifted, events, groups))
        for bound in ledger.bounds:
            value = sum(c * ledger.counts[key] for key, c in bound.terms)
            assert value <= bound.limit + 1e-9, bound


def test_the_bounds_are_the_kaplan_meier_products_own_extremes():
    """Each end is reached: with both censorings after the two events the 6-month
    estimate is 1 - 2 / 6 (the bound E <= (1 - S) N is met), with both before them it is
    1 - 2 / 4 (the bound S E >= (1 - S) A is)."""
    for times, events, tight in (
        ([1.5, 2.5, 3.5, 7.5, 8.5, 9.5], [True, True, False, False, False, False], 0),
        ([0.5, 0.6, 2.5, 3.5, 8.5, 9.5], [False, False, True, True, False, False], 1),
    ):
        ledger = patency_ledger(cohort_view(times, events, None))
        events = curve_key(PRIMARY, ALL_PATIENTS, "events", 6.0)
        start = [b for b in ledger.bounds if b.given == (events,)]
        start = [b for b in start if len(b.terms) > 1]  # the upper, the lower (not fewest)
        slack = [b.limit - sum(c * ledger.counts[key] for key, c in b.terms) for b in start]
        assert len(slack) == 2 and abs(slack[tight]) < 1e-9 and slack[1 - tight] > 0.1


def test_an_estimate_says_its_curve_had_at_least_the_fewest_patients_that_reach_it():
    """54.7% is 7/8 x 5/6 x 3/4, which no curve of 7 reaches (test_deck_privacy's
    EIGHT_RIGHT); 2/7 needs 7; 1 - 2 / 6 at month 6 needs 3, declared beside its events."""
    assert fewest_at_risk(7 / 8 * 5 / 6 * 3 / 4) == 8 and fewest_at_risk(2 / 7) == 7
    assert fewest_at_risk(0.547) == LARGEST_INVERTED + 1  # no curve reaches it to every digit
    times, events = [1.5, 2.5, 3.5, 7.5, 8.5, 9.5], [True, True, False, False, False, False]
    ledger = patency_ledger(cohort_view(times, events, None))
    key = partial(curve_key, PRIMARY, ALL_PATIENTS)
    fewest = [b for b in ledger.bounds if b.given == (key("events", 6.0),) and len(b.terms) == 1]
    assert fewest == [Bound(((key("patients"), -1.0),), -3, (key("events", 6.0),))]


class KaplanMeierAttack(Attack):
    """The attacker of test_patency_privacy, who also reads each shown estimate to every
    digit (the report's JSON prints them so) and knows what a product-limit estimate is:
    for two shown months a < b (or the start, estimate 1 with everyone at risk), the ratio
    R = S(b) / S(a) lies between A(b) / (A(b) + D) and 1 - D / A(a), D the events between
    (the cohorts' times are at half months, so none falls on a month)."""

    def __init__(self, k: int, top: int) -> None:
        super().__init__(k, top)
        self.at_most: list[tuple[list[tuple[tuple, float]], float]] = []

    def estimates(self, name: str, shown: dict[float, float]) -> None:
        """The bounds two shown estimates of the curve ``name`` set its counts."""
        points = [(None, 1.0), *sorted(shown.items())]
        for (a, s_a), (b, s_b) in itertools.combinations(points, 2):
            if s_a <= 0:
                continue
            r = s_b / s_a
            risk_a = (name, "patients") if a is None else (name, "at risk", a)
            before = [] if a is None else [((name, "events", a), -1.0)]
            self.at_most.append(([((name, "events", b), 1.0), *before, (risk_a, r - 1)], 0.0))
            lower = [((name, "at risk", b), 1 - r), ((name, "events", b), -r)]
            self.at_most.append(([*lower, *((x, -r * c) for x, c in before)], 0.0))

    def pinned(self, name: tuple, value: int) -> bool:
        """Attack.pinned, with the estimates' bounds beside the sums."""
        names = sorted(self.bounds, key=str)
        index = {x: i for i, x in enumerate(names)}

        def matrix(rows: list[list[tuple[tuple, float]]]) -> np.ndarray:
            found = np.zeros((len(rows), len(names)))
            for r, terms in enumerate(rows):
                for x, c in terms:
                    found[r, index[x]] += c
            return found

        rhs = -np.array([known for _, known in self.rows], float)
        constraints = [LinearConstraint(matrix([terms for terms, _ in self.rows]), rhs, rhs)]
        if self.at_most:
            limits = np.array([limit for _, limit in self.at_most]) + 1e-9
            constraints.append(
                LinearConstraint(matrix([terms for terms, _ in self.at_most]), -np.inf, limits)
            )
        low = np.array([self.bounds[x][0] for x in names], float)
        high = np.array([self.bounds[x][1] for x in names], float)
        j = index[name]
        for part in ((low[j], value - 1), (value + 1, high[j])):
            if part[0] > part[1]:
                continue
            lower, upper = low.copy(), high.copy()
            lower[j], upper[j] = part
            found = milp(np.zeros(len(names)), integrality=np.ones(len(names)),
                         bounds=Bounds(lower, upper), constraints=constraints)  # fmt: skip
            if found.status == 0:
                return False
        return True


def table_readings(view: PatencyView, decided: Mask) -> dict[str, Reading]:
    """What the estimates table prints of each curve with the mask ``decided``: its
    counts and, where an estimate prints, the month (its height)."""
    readings: dict[str, Reading] = {}
    for row in estimates_table(view, decided).itertuples(index=False):
        reading = readings.setdefault(row[0], Reading())
        for count, column in (("at risk", 5), ("events", 6), ("censored", 7)):
            reading.put(count, float(row[1]), row[column])
        if str(row[2]) != "hidden":
            reading.heights[float(row[1])] = float(row[2]) / 100
    return readings


def km_attack(
    view: PatencyView, readings: dict[str, Reading], k: int, top: int
) -> KaplanMeierAttack:
    """The attacker's sums, marks and the bounds of the estimates ``readings`` show, each
    read to every digit (a curve's estimate at the month, as the JSON prints it); ``top``
    the most a count can be (reader_top)."""
    months = sorted({*map(float, view.risk_months), *map(float, view.months)})
    attack = KaplanMeierAttack(k, top)
    for name, curve in curves(view):
        attack.curve(name, readings[name], months)
        estimates = {float(m): float(s) for table in (curve.risk, curve.estimates)
                     for m, s in zip(table.month, table.estimate, strict=True)}  # fmt: skip
        attack.estimates(name, {m: estimates[m] for m in readings[name].heights})
    return attack


def assert_no_count_below_k_follows_from_the_estimates(
    times, events, groups, k, thorough: bool = False
) -> None:
    """As test_patency_privacy's attacker, reading every surface of the view (and of the
    view without its comparison), with the shown estimates' bounds beside; masked as the
    page masks it, or with ``thorough`` as a deck or report does."""
    view = cohort_view(times, events, groups)
    plain = None if groups is None else cohort_view(times, events, None)
    readings = read_view(view, k, plain, thorough)
    beside = None if plain is None else read_view(plain, k, thorough=thorough)
    overall = next(iter((readings if beside is None else beside).values()))
    top = reader_top(overall, len(times))
    attack = km_attack(view, readings, k, top)
    if plain is not None:
        ((name, reading),) = beside.items()
        months = sorted({*map(float, view.risk_months), *map(float, view.months)})
        whole = km_attack(plain, {name: reading}, k, top)
        attack.curve(OVERALL, reading, months)
        attack.at_most += [([((OVERALL, *x[1:]), c) for x, c in terms], limit)
                           for terms, limit in whole.at_most]  # fmt: skip
        attack.groups([name for name, _ in curves(view)], months)
    for name, curve in curves(view):
        for count, value in truth(view, curve.level).items():
            if 0 < value < k:
                assert not attack.pinned((name, *count), value), (name, count, value)


# Seven patients whose thorough mask withholds their n: an attacker taking the true n as
# every count's bound pinned the one censored before month 6 (test_patency_privacy's
# reader_top: a reader knows no more than the view shows).
WITHHELD_N = ([0.5, 0.5, 6.5, 0.5, 0.5, 6.5, 6.5], [False, True, False, True, True, False, False],
              None)  # fmt: skip

# Twenty-seven limbs by side, k = 3: the 3 right ones all censored (at 0.5, 22.5 and 25.5
# months). The comparison's mask withheld the overall curve's 7 events before month 12 to
# hide its 12-month estimate, but the view without the comparison prints both (public):
# 71.7% and 57.9% at 12 and 24 months with 3 events between need 16 at risk at 12, so at
# most 4 censored before it; the left side's 3 left the right side's "<3" at risk just 1
# censored (masking._statistic_counts: never a public count).
RIGHT_CENSORED = (
    [0.5, 27.5, 22.5, 0.5, 0.5, 10.5, 36.5, 10.5, 11.5, 18.5, 25.5, 28.5, 31.5, 31.5, 36.5, 10.5,
     12.5, 15.5, 37.5, 0.5, 26.5, 9.5, 22.5, 28.5, 0.5, 0.5, 32.5],
    [False, True, False, True, True, False, False, True, True, False, False, False, True, True,
     False, True, True, True, False, True, False, True, True, False, False, False, False],
    [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohort=cohorts(), k=st.sampled_from([3, 5]), thorough=st.booleans())
@example(cohort=WITHHELD_N, k=3, thorough=True)
@example(cohort=RIGHT_CENSORED, k=3, thorough=False)
def test_no_shown_estimate_with_the_shown_counts_gives_a_count_below_k(cohort, k, thorough):
    assert_no_count_below_k_follows_from_the_estimates(*cohort, k, thorough)


def test_the_examples_give_nothing_away_to_the_estimates_reader():
    for cohort, k, thorough in itertools.product((FORTY, EARLY_CENSORED), (3, 5), (False, True)):
        assert_no_count_below_k_follows_from_the_estimates(*cohort, None, k, thorough)
