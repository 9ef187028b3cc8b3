"""The Patency view in privacy mode (issue 22): no count below k follows from what its
surfaces show, read as an attacker reads them, from the rendered numbers alone.

The attacker here knows nothing of the Mask or the ledger. It reads the estimates table,
the time summary table and the figure (the KMunicate table under it, and the curves'
points), and knows what any reader knows of a KMunicate table: at each month at risk +
events before + censored before = the curve's patients; events and censored before grow
month by month (a difference of two months is the patients whose event, or censoring,
fell between them: 0 or more), up to the curve's events and censored in all; the groups of
a comparison, with the patients whose group is not recorded (0 or more), add up to the
overall curve, which the same filter's view without the comparison shows. From the drawn
curve it reads the events between two months where nobody was censored between them:
at risk at the first times one minus the ratio of the curve's heights. Then it asks, for
each count of 1 to k-1 the truth holds, whether another whole-number value fits all that
(an integer program).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from analytics.glossary import PRIVACY_CURVE
from analytics.present.deck import GRID_PER_MONTH, patency_chart
from analytics.present.figures.patency import curve_specs, incidence_figure, patency_figure
from analytics.present.masking import mask, shown_elsewhere
from analytics.present.tables import estimates_table, time_summary_table
from analytics.rules import DEFAULT_MONTHS, RISK_TABLE_MONTHS
from analytics.stats.engine.counts import Counts
from analytics.stats.survival import SurvivalRequest, covering_months, endpoint_estimates
from analytics.views import PRIMARY, PatencyView, patency_ledger

BY = "lesion_side"
LEVELS = ("left", "right")
OVERALL = "overall"
REST = "not recorded"


def patency_view(times: list[float], events: list[bool], groups: list[int] | None) -> PatencyView:
    """The Patency view of one endpoint over these patients, split by ``groups`` (an index
    into LEVELS) or not, at the default months, its KMunicate table to the curves' end."""
    n = len(times)

    def counts(levels: tuple[str, ...], group: list[int]) -> Counts:
        rows = pd.DataFrame({"group": group, "time": times, "event": np.array(events, int)})
        rows["censored"] = 1 - rows["event"]
        rows = rows.groupby(["group", "time"], as_index=False)[["event", "censored"]].sum()
        arrays = [rows[c].to_numpy() for c in ("group", "time", "event", "censored")]
        return Counts(levels, *arrays, competing=np.zeros(len(rows), int))

    overall = counts(("all",), [0] * n)
    split = None if groups is None else counts(LEVELS, groups)
    risk = covering_months(RISK_TABLE_MONTHS, max(times))
    request = SurvivalRequest((PRIMARY,), DEFAULT_MONTHS, None if groups is None else BY,
                              risk_months=risk)  # fmt: skip
    fits = {PRIMARY: endpoint_estimates(PRIMARY, overall, split, request)}
    return PatencyView(None if groups is None else BY, PRIMARY, DEFAULT_MONTHS, fits,
                       risk_months=risk)  # fmt: skip


@dataclass
class Reading:
    """What the attacker read of one curve: each count's text by (count, month)."""

    cells: dict[tuple[str, float | None], str] = field(default_factory=dict)
    heights: dict[float, float] = field(default_factory=dict)  # the drawn curve at a month

    def put(self, count: str, month: float | None, text: object) -> None:
        self.cells.setdefault((count, month), str(text))


def _number(text: str) -> int | None:
    text = text.replace(",", "")
    return int(text) if re.fullmatch(r"\d+", text) else None


def read_view(
    view: PatencyView, k: int, plain: PatencyView | None = None, thorough: bool = False
) -> dict[str, Reading]:
    """Every number the view's surfaces print, per curve name (the table's); masked as the
    page masks it (``thorough``: as a deck or report does), beside ``plain`` (the view
    without its comparison) if it has one."""
    shown = patency_ledger(view)
    if plain is not None:
        beside = patency_ledger(plain)
        shown |= shown_elsewhere(beside, mask(beside, k, thorough))
    decided = mask(shown, k, thorough)
    readings: dict[str, Reading] = {}
    table = estimates_table(view, decided)
    for row in table.itertuples(index=False):
        reading = readings.setdefault(row[0], Reading())
        month = float(row[1])
        for count, column in (("at risk", 5), ("events", 6), ("censored", 7)):
            reading.put(count, month, row[column])
        estimate = str(row[2])
        if re.fullmatch(r"[\d.]+", estimate):
            reading.heights[month] = float(estimate) / 100
    for row in time_summary_table(view, decided).itertuples(index=False):
        readings.setdefault(row[0], Reading()).put("patients", None, row[1])
        readings[row[0]].put("events", None, row[2])
    figure = patency_figure(view, True, decided)
    names = dict(zip(figure.layout.yaxis2.tickvals, figure.layout.yaxis2.ticktext, strict=True))
    rows = {"At risk": "at risk", "Events": "events", "Censored": "censored"}
    for trace in figure.data:
        if trace.yaxis == "y2" and trace.text is not None:
            y = trace.y[0]
            header = re.sub(r"<[^>]+>|■", "", names[y + rows_above(names, y)]).strip()
            curve = next(name for name in readings if header.startswith(name))
            count = rows[names[y]]
            for x, text in zip(trace.x, trace.text, strict=True):
                readings[curve].put(count, float(x), text)
    for trace in figure.data:
        if trace.yaxis == "y" and trace.x is not None and trace.mode == "lines" and trace.name:
            curve = next((name for name in readings if trace.name.startswith(name)), None)
            if curve is None or trace.hoverinfo == "skip":
                continue
            reading = readings[curve]
            x, y = np.asarray(trace.x, float), np.asarray(trace.y, float)
            for month in {m for (_, m) in reading.cells if m is not None}:
                before = np.flatnonzero(x <= month)
                if before.size and month <= x[-1] and not np.isnan(y[before[-1]]):
                    reading.heights.setdefault(month, float(y[before[-1]]))
    return readings


def rows_above(names: dict, y: float) -> int:
    """How far above row ``y`` of the KMunicate table its curve's header stands."""
    return next(i for i in range(4) if names[y + i] not in ("At risk", "Events", "Censored"))


class Attack:
    """The attacker's unknowns and equations (sum of c * x + known = 0)."""

    def __init__(self, k: int, top: int) -> None:
        self.k, self.top = k, top
        self.bounds: dict[tuple, tuple[int, int]] = {}
        self.rows: list[tuple[list[tuple[tuple, int]], int]] = []

    def var(self, name: tuple, text: str | None = None) -> tuple:
        if name in self.bounds and text is None:
            return name
        value = None if text is None else _number(text)
        bound = ((value, value) if value is not None
                 else (1, self.k - 1) if text == f"<{self.k}" else (0, self.top))  # fmt: skip
        low, high = self.bounds.get(name, (0, self.top))
        self.bounds[name] = (max(low, bound[0]), min(high, bound[1]))
        return name

    def equal(self, total: tuple, parts: list[tuple], known: int = 0) -> None:
        self.rows.append(([(total, -1), *((p, 1) for p in parts)], known))

    def curve(self, name: str, reading: Reading | None, months: list[float]) -> None:
        cells = reading.cells if reading is not None else {}
        patients = self.var((name, "patients"), cells.get(("patients", None)))
        events = self.var((name, "events"), cells.get(("events", None)))
        censored = self.var((name, "censored"))
        self.equal(patients, [events, censored])
        previous = None
        for month in months:
            column = [self.var((name, c, month), cells.get((c, month)))
                      for c in ("at risk", "events", "censored")]  # fmt: skip
            self.equal(patients, column)
            if previous is not None:
                for c in ("events", "censored"):
                    between = self.var((name, f"{c} between", month))
                    self.equal((name, c, month), [(name, c, previous), between])
            previous = month
        for c, total in (("events", events), ("censored", censored)):
            self.equal(total, [(name, c, previous), self.var((name, f"{c} after", previous))])
        if reading is None:
            return
        heights = {0.0: 1.0, **reading.heights}
        for first, second in itertools.pairwise(months):
            none_censored = (
                all(
                    self.bounds[(name, "censored", m)][0] == self.bounds[(name, "censored", m)][1]
                    for m in (first, second)
                )
                and self.bounds[(name, "censored", first)]
                == self.bounds[(name, "censored", second)]
            )
            at_risk = self.bounds[(name, "at risk", first)]
            if (none_censored and at_risk[0] == at_risk[1] and first in heights
                    and second in heights and heights[first] > 0):  # fmt: skip
                fell = round(at_risk[0] * (1 - heights[second] / heights[first]))
                self.var((name, "events between", second), str(fell))

    def groups(self, names: list[str], months: list[float]) -> None:
        """The groups and those not recorded add up to the overall curve, count by count."""
        self.curve(REST, None, months)
        counts = [("patients",), ("events",), ("censored",)]
        counts += [(c, m) for m in months for c in ("at risk", "events", "censored")]
        counts += [(f"{c} between", m) for m in months[1:] for c in ("events", "censored")]
        counts += [(f"{c} after", months[-1]) for c in ("events", "censored")]
        for count in counts:
            self.equal((OVERALL, *count), [(g, *count) for g in [*names, REST]])

    def pinned(self, name: tuple, value: int) -> bool:
        """Whether ``name`` can take no other whole value than ``value``: no whole-number
        solution of the equations within the bounds sets it lower, nor higher."""
        names = sorted(self.bounds, key=str)
        index = {x: i for i, x in enumerate(names)}
        matrix = np.zeros((len(self.rows), len(names)))
        for r, (terms, _) in enumerate(self.rows):
            for x, c in terms:
                matrix[r, index[x]] += c
        rhs = -np.array([known for _, known in self.rows], float)
        low = np.array([self.bounds[x][0] for x in names], float)
        high = np.array([self.bounds[x][1] for x in names], float)
        j = index[name]
        for part in ((low[j], value - 1), (value + 1, high[j])):
            if part[0] > part[1]:
                continue
            lower, upper = low.copy(), high.copy()
            lower[j], upper[j] = part
            found = milp(np.zeros(len(names)), integrality=np.ones(len(names)),
                         bounds=Bounds(lower, upper),
                         constraints=[LinearConstraint(matrix, rhs, rhs)])  # fmt: skip
            if found.status == 0:
                return False
        return True


def truth(view: PatencyView, level: str) -> dict[tuple, int]:
    """Each count the attacker names, of the curve of ``level``, as it truly is."""
    result = view.survival[PRIMARY]
    curve = next(c for c in (result.overall, *result.groups) if c.level == level)
    months = sorted({*map(float, curve.risk.month), *map(float, curve.estimates.month)})
    c = curve.curve
    values = {("patients",): curve.patients, ("events",): curve.events,
              ("censored",): curve.patients - curve.events}  # fmt: skip
    for month in months:
        before = c.time < month
        values[("events", month)] = int(c.events[before].sum())
        values[("censored", month)] = int(c.censored[before].sum())
        values[("at risk", month)] = (
            curve.patients - values[("events", month)] - values[("censored", month)]
        )
    for first, second in itertools.pairwise(months):
        for count in ("events", "censored"):
            values[(f"{count} between", second)] = values[(count, second)] - values[(count, first)]
    for count in ("events", "censored"):
        values[(f"{count} after", months[-1])] = values[(count,)] - values[(count, months[-1])]
    return values


def reader_top(overall: Reading, n: int) -> int:
    """The most a reader knows any count of the view to be: no count of a curve exceeds
    its patients, where the overall curve shows them; withheld, they are unknown to him
    (the mask reads a withheld count as k or more, no more), so a bound he cannot tighten:
    ten times the truth. (Taking the hidden truth as the bound, a thorough mask's curve
    of 7 whose n was withheld gave its one early censoring away to this attacker alone.)"""
    shown = _number(overall.cells.get(("patients", None), ""))
    return shown if shown is not None else 10 * n


def assert_no_count_below_k_follows(times, events, groups, k) -> None:
    view = patency_view(times, events, groups)
    months = sorted({*map(float, view.risk_months), *map(float, view.months)})
    if groups is None:
        ((name, reading),) = read_view(view, k).items()
        attack = Attack(k, reader_top(reading, len(times)))
        attack.curve(name, reading, months)
        checked = {name: truth(view, "all")}
    else:
        plain = patency_view(times, events, None)
        overall = read_view(plain, k)
        readings = read_view(view, k, plain)
        names = list(readings)
        attack = Attack(k, reader_top(next(iter(overall.values())), len(times)))
        attack.curve(OVERALL, next(iter(overall.values())), months)
        for name in names:
            attack.curve(name, readings[name], months)
        attack.groups(names, months)
        levels = [c.level for c in view.survival[PRIMARY].groups]
        checked = {name: truth(view, level) for name, level in zip(names, levels, strict=True)}
    for name, values in checked.items():
        for count, value in values.items():
            if 0 < value < k:
                assert not attack.pinned((name, *count), value), (name, count, value)


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[list[float], list[bool], list[int] | None]:
    """4 to 40 patients, each an event or a censoring at a half month (never at a table's
    month, so the drawn curve's heights there are exact), one group of two or none."""
    n = draw(st.integers(4, 40))
    times = draw(st.lists(st.integers(0, 40).map(lambda m: m + 0.5), min_size=n, max_size=n))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    groups = draw(st.none() | st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return times, events, groups


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohort=cohorts(), k=st.sampled_from([3, 5]))
def test_no_count_below_k_follows_from_the_patency_surfaces(cohort, k):
    assert_no_count_below_k_follows(*cohort, k)


def test_a_comparison_withholds_nothing_the_view_without_it_shows():
    """29 patients by lesion side, k = 5: the comparison's mask withheld counts of the
    overall curve that it never prints, while the view without the comparison printed
    them; read together, the left side's 4 events before month 24 followed. The overall
    curve's counts that view shows are public beside the comparison."""
    times = [35.5, 0.5, 24.5, 27.5, 0.5, 27.5, 16.5, 0.5, 11.5, 0.5, 0.5, 34.5, 0.5, 16.5,
             24.5, 0.5, 27.5, 31.5, 24.5, 32.5, 0.5, 22.5, 0.5, 14.5, 9.5, 29.5, 11.5, 31.5,
             25.5]  # fmt: skip
    events = [bool(int(c)) for c in "01000010110101000010100011111"]
    groups = [int(c) for c in "00000010011000101000111011010"]
    assert_no_count_below_k_follows(times, events, groups, 5)


def test_the_events_between_two_shown_months_are_withheld_or_not_small():
    """Twelve patients: 7 events before month 12 and 9 before 24, both shown today; 9 - 7
    gives the 2 whose event fell between the two months."""
    times = [1.5] * 7 + [18.5] * 2 + [40.5] * 3
    assert_no_count_below_k_follows(times, [True] * 9 + [False] * 3, None, 3)


def test_a_drawn_curve_gives_no_events_the_table_hides():
    """Ten patients, two events before month 6 and none censored before month 12: a curve
    drawn from its event times steps down twice by 10%, and 10 at risk at month 0 times
    20% gives the 2 events the KMunicate table hides. In privacy mode it steps only at the
    table's months, where the mask lets the estimate show."""
    times = [2.5, 4.5] + [30.5] * 5 + [40.5] * 3
    events = [True, True] + [True] * 5 + [False] * 3
    assert_no_count_below_k_follows(times, events, None, 5)
    view = patency_view(times, events, None)
    figure = patency_figure(view, True, mask(patency_ledger(view), 5))
    drawn = [t for t in figure.data if t.yaxis == "y" and t.x is not None and len(t.x)]
    months = {0.0, *map(float, view.risk_months), *map(float, view.months)}
    assert drawn and all(set(map(float, t.x)) <= months for t in drawn)


# Forty patients: 10 events and 5 censored before month 12, 2 events and 3 censored between
# 12 and 24, 20 followed to 40.5 months: with k = 3 the 2 events between months 12 and 24
# withhold one of the two months' estimates (their ratio would count them)
FORTY = (
    [m + 0.5 for m in range(10)] + [7.5, 8.5, 9.5, 10.5, 11.5] + [13.5, 14.5, 15.5]
    + [15.5, 16.5] + [40.5] * 20,
    [True] * 10 + [False] * 5 + [True] * 2 + [False] * 3 + [False] * 20,
)  # fmt: skip


def test_privacy_draws_the_curve_at_the_tables_months_from_its_estimates():
    """In privacy mode the curve and its band step at the table's months, from the
    estimates the table shows; at a month it withholds the held step ends and the line
    breaks (no height there), going on from the next month it shows; a dot marks each
    estimate, the hover of a held step names the estimate's month; no censoring tick, and
    the figure says why in one line."""
    view = patency_view(*FORTY, None)
    decided = mask(patency_ledger(view), 3)
    figure = patency_figure(view, True, decided)
    table = estimates_table(view, decided)
    shown = {
        float(row.Month): float(row[2]) / 100
        for row in table.itertuples(index=False)
        if re.fullmatch(r"[\d.]+", str(row[2]))
    }
    (line,) = [t for t in figure.data if t.name == "Primary patency"]
    x, y = np.asarray(line.x, float), np.asarray(line.y, float)
    assert y[0] == 1.0 and set(x) <= {0.0, *map(float, view.risk_months)}

    def height(month: float) -> float:  # the drawn curve at a month, as a reader reads it
        return y[np.flatnonzero(x <= month)[-1]]

    # 12 withheld (its events, beside the 2 events between 12 and 24); 24 and 36 shown
    assert set(shown) == {6.0, 24.0, 36.0}
    for month, estimate in shown.items():
        assert abs(height(month) - estimate) < 0.0005, month
    assert np.isnan(height(12.0)) and height(11.9) == height(6.0)  # held to 12, then no height
    held = np.flatnonzero((x == 12.0) & ~np.isnan(y))
    assert list(np.asarray(line.customdata, float)[held]) == [6.0]  # the hover: 6 months
    dots = {float(m) for m, size in zip(x, line.marker.size, strict=True) if size}
    assert dots == set(shown)
    assert not [t for t in figure.data if t.mode == "markers"]  # no censoring ticks
    assert figure.layout.title.subtitle.text == PRIVACY_CURVE  # every curve has a month


def test_privacy_off_draws_every_step_and_tick():
    view = patency_view(*FORTY, None)
    figure = patency_figure(view, True, None)
    (line,) = [t for t in figure.data if t.name == "Primary patency"]
    assert 13.5 in line.x and [t for t in figure.data if t.mode == "markers"]  # an event time
    assert PRIVACY_CURVE not in (figure.layout.title.subtitle.text or "")


def test_the_cumulative_incidence_stands_at_the_drawn_months_in_privacy_mode():
    view = patency_view(*FORTY, None)
    figure = incidence_figure(view, mask(patency_ledger(view), 3))
    months = {0.0, *map(float, view.risk_months)}
    assert all(set(map(float, t.x)) <= months for t in figure.data
               if t.x is not None and len(t.x) and t.x[0] is not None)  # fmt: skip


def test_the_decks_chart_draws_no_step_between_the_tables_months_in_privacy_mode():
    view = patency_view(*FORTY, None)
    specs = curve_specs(view, mask(patency_ledger(view), 3))
    chart = patency_chart(specs, view.risk_months)
    (line,) = [s for s in chart.series if s.kind == "estimate"]
    values = [v for v in line.values if v is not None]
    steps = {round(v, 6) for v in values}
    assert len(steps) <= len(view.risk_months) + 1
    assert not [s for s in chart.series if s.kind == "censored"]
    # no height at the withheld month 12; the curve goes on at 24 and 36, each dotted
    at = {m: round(m * GRID_PER_MONTH) for m in (6.0, 11.875, 12.0, 24.0, 36.0)}
    assert line.values[at[12.0]] is None and line.values[at[11.875]] == line.values[at[6.0]]
    (dots,) = [s for s in chart.series if s.kind == "estimates"]
    marked = {i for i, v in enumerate(dots.values) if v is not None}
    assert marked == {at[6.0], at[24.0], at[36.0]}
    assert all(dots.values[i] == line.values[i] for i in marked)


def test_a_curve_with_no_month_to_draw_is_named_in_the_note():
    """Twelve patients, 2 events before month 6 and 4 before 36: with k = 5 no estimate of
    the curve shows, so nothing of it is drawn, and the note says which curve that is."""
    times = [2.5, 4.5] + [30.5] * 2 + [40.5] * 8
    view = patency_view(times, [True] * 4 + [False] * 8, None)
    figure = patency_figure(view, True, mask(patency_ledger(view), 5))
    assert (
        figure.layout.title.subtitle.text
        == f"{PRIVACY_CURVE}<br>Not drawn, no month to show: Primary patency"
    )
    assert not [t for t in figure.data if t.name == "Primary patency"]


def test_a_curves_median_and_restricted_mean_are_withheld_beside_its_hidden_events(demo):
    """Right-sided lesions, k = 5: 12 patients, primary patency lost by fewer than 5; the
    median's CI from 3.5 months and a restricted mean of 28.2 months are statistics of
    those few events, on the page and in the report alike."""
    from analytics.filters import CohortFilter
    from analytics.present.report import report_json
    from analytics.views import patency_view, report_view

    right = CohortFilter(lesion_side="right")
    view = patency_view(demo, right)
    table = time_summary_table(view, mask(patency_ledger(view), 5)).set_index("Curve")
    primary = table.loc["Primary patency"]
    assert primary["Events"] == "<5"
    assert set(primary.drop(["Patients", "Events"])) == {"hidden"}
    plain = time_summary_table(view).set_index("Curve").loc["Primary patency"]
    assert "3.5" in plain["Median, months (95% CI)"]  # what it gave away
    data = report_json(report_view(demo, right), 5)["patency"]["primary"]
    assert data["median"]["ci_lower"] is None and data["rmst"]["estimate"] is None


def test_the_decks_slide_names_a_curve_it_draws_nothing_of(demo):
    """The demo by lesion side at k = 5: the right side (12 patients) has no month to draw
    (the left, 22, shows its 24-month estimate: a deck decides thoroughly); the slide's
    key says so, as the Patency page's figure does, rather than leave a curve unsaid."""
    import io
    from unittest import mock

    from pptx import Presentation

    from analytics.filters import CohortFilter
    from analytics.present.deck import build_deck
    from analytics.views import deck_view
    from tests.unit.test_properties import blank_png

    view = deck_view(demo, CohortFilter(), "lesion_side")
    with mock.patch("analytics.present.deck.render", blank_png):
        deck = Presentation(io.BytesIO(build_deck(view, 5)))
    (slide,) = [s for s in deck.slides if s.shapes.title.text == "Primary patency by lesion side"]
    text = "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    assert "Not drawn, no month to show: Lesion side: Right (n = 12)." in text
