"""The KMunicate figure: curves, CI bands, censor marks, dotted unreliable stretch, risk table."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.present.figures.patency import CurveSpec, km_figure
from analytics.stats.engine.counts import Counts
from analytics.stats.engine.kaplan_meier import at_months, kaplan_meier


def one_group(months, events, censored) -> Counts:
    return Counts(("all",), np.zeros(len(months), int), np.array(months, float),
                  np.array(events), np.array(censored))  # fmt: skip


# Ten patients: events at 2 and 5 months, censored at 5, 8 and six at 12.
COUNTS = one_group([2.0, 5.0, 8.0, 12.0], [1, 1, 0, 0], [0, 1, 1, 6])
MONTHS = (0, 6, 12)


def figure(show_ci: bool = True, counts: Counts = COUNTS):
    curve = kaplan_meier(counts)
    spec = CurveSpec("Primary patency", "#0072B2", curve, at_months(curve, MONTHS))
    return km_figure([spec], MONTHS, show_ci=show_ci, title="t", note="Log-rank p = 0.5")


def traces(fig, name: str):
    return [t for t in fig.data if t.name == name]


def test_curve_starts_at_one_and_steps_down_to_the_km_estimate():
    (solid,) = traces(figure(), "Primary patency")
    (dotted,) = traces(figure(), "Primary patency: SE > 10%")
    assert solid.line.shape == "hv"
    assert solid.y[0] == 1.0
    # product limit: 9/10 after month 2, then 9/10 * 8/9 = 0.8 after month 5, whose
    # Greenwood SE 0.8 * sqrt(1/90 + 1/72) = 0.126 exceeds 10%: drawn dotted
    assert min(solid.y) == pytest.approx(0.9)
    assert min(dotted.y) == pytest.approx(0.8)


def test_ci_band_can_be_switched_off():
    assert traces(figure(show_ci=True), "Primary patency 95% CI")
    assert not traces(figure(show_ci=False), "Primary patency 95% CI")


def test_censor_marks_at_censored_times():
    (marks,) = traces(figure(), "Primary patency censored")
    assert list(marks.x) == [5.0, 8.0, 12.0]


def test_risk_table_under_the_axis_matches_the_counts():
    fig = figure()
    at_risk = next(t for t in fig.data if t.mode == "text" and t.y[0] == "At risk")
    # at risk = time >= month: 10 at 0; 7 at 6 (two events and one censored by then); 6 at 12
    assert list(at_risk.text) == ["10", "7", "6"]
    events = next(t for t in fig.data if t.mode == "text" and t.y[0] == "Events")
    censored = next(t for t in fig.data if t.mode == "text" and t.y[0] == "Censored")
    # KMunicate: events and censored before the month, so the three add up to 10
    assert list(events.text) == ["0", "2", "2"] and list(censored.text) == ["0", "1", "2"]
    assert at_risk.xaxis == "x2"  # the table's row shares the month axis


def test_stretch_with_se_over_ten_percent_is_dotted():
    small = one_group([1.0, 3.0, 6.0], [1, 1, 0], [0, 0, 2])
    dotted = traces(figure(counts=small), "Primary patency: SE > 10%")
    assert dotted and dotted[0].line.dash == "dot"


def test_note_is_shown_on_the_chart():
    assert any("Log-rank" in a.text for a in figure().layout.annotations)


def step_value(x: list[float], y: list[float], at: float) -> float:
    """The value an "hv" step line drawn through (x, y) shows at ``at``."""
    return y[int(np.searchsorted(np.asarray(x), at, side="right")) - 1]


def test_dotted_stretch_starts_at_the_first_time_whose_se_exceeds_ten_percent():
    fig = figure()
    (solid,) = traces(fig, "Primary patency")
    (dotted,) = traces(fig, "Primary patency: SE > 10%")
    # SE is 0.095 after month 2 (reliable) and 0.126 after month 5: dotted from month 5,
    # drawn from the level just before (0.9) down to 0.8; the run from 2 to 5 stays solid
    assert dotted.x[0] == 5.0 and dotted.y[0] == pytest.approx(0.9)
    assert solid.x[-1] == 5.0 and step_value(list(solid.x), list(solid.y), 4.9) == 0.9


def test_a_registrys_many_small_steps_are_merged_within_a_tenth_of_a_point():
    rng = np.random.default_rng(3)
    months = np.round(np.sort(rng.uniform(0.1, 60, 600)), 3)
    # 600 times, about 10 events among tens of thousands each: steps of 0.02-0.05 points
    counts = one_group(months, rng.integers(5, 15, 600), rng.integers(20, 120, 600))
    fig = figure(counts=counts)
    (solid,) = traces(fig, "Primary patency")
    curve = kaplan_meier(counts)
    assert len(solid.x) < 300  # from 601 steps
    drawn = [step_value(list(solid.x), list(solid.y), t) for t in curve.time]
    assert np.max(np.abs(np.array(drawn) - curve.estimate)) < 0.001
    assert not traces(fig, "Primary patency censored")  # 600 censoring times: no tick band
