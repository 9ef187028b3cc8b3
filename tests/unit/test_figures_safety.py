"""The safety timeline's bubbles keep their size whatever the cohort's size; in privacy mode
it draws only the times of k or more events."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analytics.filters import CohortFilter
from analytics.present.figures.safety import MAX_BUBBLE_PX, event_timeline, safety_bars
from analytics.present.masking import mask
from analytics.stats.engine.aalen_johansen import IncidenceAtMonths
from analytics.stats.safety import SafetyIncidence, safety
from analytics.stats.safety import event_timeline as timeline_of
from analytics.views import incidence_key, safety_key, safety_ledger
from tests.masks import safety_mask, safety_of_timeline, timeline_mask


def _diameters(fig) -> list[float]:
    """Marker diameters in pixels by plotly's documented area sizing."""
    return [
        math.sqrt(2 * size / trace.marker.sizeref)
        for trace in fig.data
        if trace.mode == "markers"
        for size in trace.marker.size
    ]


def _timeline(scale: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event": ["minor_bleeding", "minor_bleeding", "recurrent_dvt"],
            "month": [0.1, 6.0, 12.0],
            "events": [1 * scale, 4 * scale, 2 * scale],
        }
    )


@pytest.mark.parametrize("scale", [1, 1000, 100_000])
def test_busiest_time_is_the_largest_bubble_at_any_scale(scale):
    timeline = _timeline(scale)
    sizes = _diameters(event_timeline(timeline, timeline_mask(timeline, None)))
    assert max(sizes) == pytest.approx(MAX_BUBBLE_PX)
    # areas keep the events' proportions: 1, 4 and 2 events
    assert [round((s / max(sizes)) ** 2, 6) for s in sizes] == [0.25, 1.0, 0.5]


def test_privacy_mode_draws_equal_markers():
    fig = event_timeline(_timeline(10), timeline_mask(_timeline(10), 5))
    assert {trace.marker.size for trace in fig.data if trace.mode == "markers"} == {12}


def test_a_registrys_events_are_counted_per_month_after_the_first_30_days():
    months = [0.2, 0.5, *(m / 10 for m in range(11, 611))]
    timeline = pd.DataFrame(
        {"event": ["recurrent_dvt"] * len(months), "month": months, "events": 3}
    )
    drawn = event_timeline(timeline, timeline_mask(timeline, None))
    (bubbles,) = [t for t in drawn.data if t.mode == "markers"]
    assert len(bubbles.x) < 70  # from 602 times: the two early ones and ~61 months
    assert {0.2, 0.5} <= set(bubbles.x)
    assert sum(int(n.replace(",", "")) for n in bubbles.customdata) == 3 * len(months)


def test_counts_stand_clear_of_the_whisker_and_the_30_day_note_above_the_bubbles(demo):
    events = safety(demo, CohortFilter())
    bars = safety_bars(events, safety_mask(events, None))
    whisker, labels = bars.data
    ends = whisker.x + whisker.error_x.array
    gap = 0.01 * bars.layout.xaxis.range[1]
    assert all(x > end + gap for x, end in zip(labels.x, pd.Series(ends).fillna(0), strict=True))
    assert not any(text.startswith((" ", "\u2002")) for text in labels.text)
    timeline = timeline_of(demo, CohortFilter())
    (note,) = event_timeline(timeline, timeline_mask(timeline, None)).layout.annotations
    assert note.text == "first 30 days" and note.yanchor == "bottom" and note.y == 1


def test_privacy_draws_no_bar_whose_rest_of_patients_is_few():
    """Minor bleeding in 38 of 40 patients: 95.0% would give away the 2 without it, fewer
    than k = 5, so the bar is not drawn and its label says hidden, as the Safety table."""
    import json

    import numpy as np

    from analytics.stats.safety import Safety, safety_table

    patients = np.array([38, 0, 10, 6, 0])
    view = Safety(40, 80.0, safety_table(40, 80.0, patients, patients, np.zeros(5, int)))
    fig = safety_bars(view, safety_mask(view, 5))
    bars, labels = fig.data[0], list(fig.data[1].text)
    assert math.isnan(bars.x[0]) and labels[0] == "hidden"
    assert bars.x[2] == pytest.approx(25.0) and labels[2] == "10 (25.0%)"
    data = json.dumps([trace.to_plotly_json() for trace in fig.data], default=str)
    assert "38" not in data and "95.0" not in data


def test_every_count_beyond_its_whisker_stays_inside_the_narrowest_plot(demo):
    """Six patients: "4 (66.7%)" beyond a whisker ending at 95.7% ran out of the axis."""
    from analytics.present.figures.safety import LABEL_GAP
    from analytics.present.figures.theme import NARROWEST_PLOT_PX, text_px

    events = safety(demo, CohortFilter(lesion_side="left").with_risk("thrombophilia", True))
    fig = safety_bars(events, safety_mask(events, None))
    (counts,) = [trace for trace in fig.data if trace.type == "scatter"]
    top = fig.layout.xaxis.range[1]
    for x, label in zip(counts.x, counts.text, strict=True):
        assert x + text_px(label) * top / NARROWEST_PLOT_PX <= top, label
    assert min(counts.x) >= LABEL_GAP * top


def test_privacy_mode_draws_only_the_times_of_k_or_more_events():
    """A dot in privacy mode says "k or more at this time"; a time of fewer is not drawn
    (its events stay in the table's counts), and without privacy every time is."""
    timeline = pd.DataFrame(
        {"event": ["recurrent_dvt"] * 3, "month": [3.0, 12.0, 20.0], "events": [10, 2, 3]}
    )
    (drawn,) = [t for t in event_timeline(timeline, timeline_mask(timeline, 5)).data
                if t.mode == "markers"]  # fmt: skip
    assert list(drawn.x) == [3.0] and list(drawn.customdata) == ["10"]
    every = event_timeline(timeline, timeline_mask(timeline, None)).data
    assert [list(t.x) for t in every if t.mode == "markers"] == [[3.0, 12.0, 20.0]]


def test_the_deaths_show_beside_a_timeline_of_single_deaths():
    """Nine deaths at nine times, k = 5: the page shows the nine deaths, which it withheld
    while each time was drawn as a "<5" dot (nine dots beside nine deaths are one each)."""
    deaths = pd.DataFrame({"event": ["death"] * 9, "month": [2.0 + 3 * i for i in range(9)],
                           "events": [1] * 9})  # fmt: skip
    shown = timeline_mask(deaths, 5)
    assert not shown.hidden(safety_key("death", "patients"), safety_key("death", "events"))
    assert all(t.mode == "text" for t in event_timeline(deaths, shown).data)  # none drawn
    safety = safety_of_timeline(deaths)
    every_dot = mask(safety_ledger(safety, deaths), 5)  # each time drawn, as before
    assert every_dot.hidden(safety_key("death", "patients"))
    assert every_dot.hidden(safety_key("death", "events"))


def test_a_safety_events_patients_show_before_its_incidence_and_later_events():
    """Recurrent DVT in 36 of 205 patients at k = 5, one within 30 days, 34 by 36 months
    (the Safety page's table, timeline and cumulative incidence). The 36 and the 34 give
    the 2 after 36 months away, and the "<5" early event and the 36 events its 35 later
    ones: one of each two is withheld. A reader misses a row's patients and events more
    (views.SAFETY_WORTH): the 34 by 36 months and the 35 later events are withheld, where
    the fewest sums alone withheld the row's 36 patients."""
    months = [0.5] + [2.0 + i for i in range(33)] + [40.0, 45.0]
    timeline = pd.DataFrame({"event": "recurrent_dvt", "month": months, "events": 1})
    view = safety_of_timeline(timeline, 205)
    by = np.array([13, 25, 34])
    at = IncidenceAtMonths(np.array([12.0, 24.0, 36.0]), by / 205, by / 250, by / 170)
    view = replace(view, incidence=(SafetyIncidence("recurrent_dvt", 205, at, by),))
    ledger = safety_ledger(view, timeline, 5)
    patients, events, later = (safety_key("recurrent_dvt", c) for c in ("patients", "events",
                                                                        "later"))  # fmt: skip
    by_36 = incidence_key("recurrent_dvt", 36.0, "by")
    shown = mask(ledger, 5)
    assert not shown.hidden(patients, events)
    assert shown.hidden(by_36) and shown.hidden(later)
    by_sums_alone = mask(replace(ledger, worth={}), 5)
    assert by_sums_alone.hidden(patients) and not by_sums_alone.hidden(by_36)
