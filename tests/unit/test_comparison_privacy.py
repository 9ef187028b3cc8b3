"""Statistics shown beside hidden counts in privacy mode (issue 22): a comparison of
curves, the cumulative incidence with death competing, and where a curve turns
unreliable. Each test reads what a surface prints, as an attacker would, and asks
whether it pins a count of 1 to k-1 that the same surface hides.
"""

from __future__ import annotations

import math
import re

import duckdb
import pytest

from analytics.filters import CohortFilter
from analytics.glossary import UNRELIABLE_AT_TABLE_MONTHS
from analytics.present.deck import subgroup_lines
from analytics.present.figures.patency import drawn_unreliable_note, patency_figure
from analytics.present.figures.subgroups import forest_plot
from analytics.present.format import SUPPRESSED
from analytics.present.masking import mask
from analytics.present.report import report_json, report_text
from analytics.present.tables import (
    comparison_lines,
    comparison_table,
    estimates_table,
    subgroup_display,
    time_summary_table,
)
from analytics.stats.engine.normal import Z_95
from analytics.views import (
    incidence_ledger,
    patency_ledger,
    report_view,
    subgroups_ledger,
    subgroups_view,
)
from tests.cohorts import build
from tests.conftest import PATIENT_DEFAULTS
from tests.unit.test_patency_privacy import patency_view

RATIO = re.compile(r"(\d+\.\d+) \((\d+\.\d+)-(\d+\.\d+)\)")


def events_floor(lower: float, upper: float, digits: int | None = None) -> int:
    """The fewest events either group of a Cox hazard ratio can have, read off its 95% CI
    (printed to ``digits`` decimals; None: exact).

    With one indicator, each event adds p(1 - p) to the information, p the group's share
    of the risk set (Efron's tied events each their own p); at the fit the p add up to the
    group's events (the score is 0), and to the other group's as 1 - p. So the information,
    1 / SE^2, is at most either group's events. SE is taken as wide as the rounding allows.
    """
    half = 0.0 if digits is None else 0.5 * 10.0**-digits
    se = (math.log(upper + half) - math.log(lower - half)) / (2 * Z_95)
    return math.ceil(1 / se**2 - 1e-9)


def floors_in(text: str) -> list[int]:
    """events_floor of every hazard ratio with a CI printed in ``text``."""
    return [
        events_floor(float(lo), float(hi), len(lo.split(".")[1]))
        for _, lo, hi in RATIO.findall(text)
    ]


K = 6
# Left: 10 patients, 5 events ("<6") spread over 3 years; right: 60 patients, 30 events
LEFT = ([m * 7.2 + 0.5 for m in range(5)] + [35.5] * 5, [True] * 5 + [False] * 5)
RIGHT = ([m * 1.2 + 0.25 for m in range(30)] + [35.5] * 30, [True] * 30 + [False] * 30)


def split_view():
    times, events = LEFT[0] + RIGHT[0], LEFT[1] + RIGHT[1]
    return patency_view(times, events, [0] * 10 + [1] * 60)


def assert_not_pinned(events_text: str, floors: list[int], truth: int) -> None:
    """A group's events printed ``events_text``: "<k" says 1 to k-1; a hazard ratio's CI
    says ``floors``; between them the group's ``truth`` must not be the only value."""
    assert events_text == f"<{K}"
    low = max([1, *floors])
    assert low < K - 1 or low > truth, f"the CI pins {truth} events under '<{K}'"


def test_a_hazard_ratio_beside_a_groups_hidden_events_gives_them_away_on_the_patency_page():
    """Left has 5 events, shown "<6"; a Cox HR with a 95% CI of 0.37-2.40 has an
    information of 4.3, so each group had 5 events or more: the CI pins them. The page's
    table, the figure's subtitle and the deck's notes (comparison_lines) withhold it, and
    the log-rank test beside it."""
    view = split_view()
    decided = mask(patency_ledger(view), K)
    plain = comparison_table(view).iloc[1]["Cox HR (95% CI)"]
    assert floors_in(plain) == [5]  # what it gave away with privacy off
    table = comparison_table(view, decided)
    events = dict(zip(table["Group"], table["Events"], strict=True))["Lesion side: Left"]
    lines = "\n".join(comparison_lines(view, decided))
    subtitle = patency_figure(view, True, decided).layout.title.subtitle.text
    for surface in ("\n".join(table["Cox HR (95% CI)"]), lines, subtitle):
        assert_not_pinned(events, floors_in(surface), 5)
    assert "Log-rank p hidden" in lines and "Log-rank p hidden" in subtitle


@pytest.fixture(scope="module")
def split_cohort() -> duckdb.DuckDBPyConnection:
    """LEFT and RIGHT as a cohort file: primary patency lost by an occlusion."""
    patients = []
    for side, (times, events) in (("left", LEFT), ("right", RIGHT)):
        for time, event in zip(times, events, strict=True):
            row = {**PATIENT_DEFAULTS, "patient_id": f"p{len(patients)}", "lesion_side": side,
                   "follow_up_months": time}  # fmt: skip
            patients.append(
                {"row": row, "events": [(time, "occlusion")] if event else [], "assessments": []}
            )
    return build(patients)


def test_the_report_withholds_a_hazard_ratio_and_log_rank_beside_hidden_events(split_cohort):
    view = report_view(split_cohort, CohortFilter(), by="lesion_side")
    primary = report_json(view, K)["patency"]["primary"]
    events = primary["group_summary"]["left"]["events"]
    for ratio in primary["hazard_ratios"]:
        floors = [] if ratio["ci_lower"] is None else [
            events_floor(ratio["ci_lower"], ratio["ci_upper"])
        ]  # fmt: skip
        assert_not_pinned(events, floors, 5)
    assert primary["logrank_statistic"] is None and primary["logrank_p"] is None
    text = report_text(view, K)
    primary_text = text[text.index("Primary patency") : text.index("Assisted primary")]
    assert_not_pinned(events, floors_in(primary_text), 5)
    assert "log-rank chi2 = hidden, p hidden" in primary_text


def test_the_subgroups_withhold_a_hazard_ratio_and_log_rank_beside_hidden_events(split_cohort):
    """The same two groups in the Subgroups table, its forest plot and the deck's notes."""
    view = subgroups_view(split_cohort, CohortFilter())
    decided = mask(subgroups_ledger(view), K)
    table = subgroup_display(view, decided).set_index("Group")
    side = table[table["Factor"] == "Lesion side"]
    events = side.loc["Left", "Events"]
    figure = forest_plot(view, decided)
    texts = [
        "\n".join(side["Hazard ratio (95% CI)"]),
        "\n".join(subgroup_lines(view, decided)),
        "\n".join(str(t) for trace in figure.data for t in (trace.text or ())),
    ]
    for surface in texts:
        assert_not_pinned(events, floors_in(surface), 5)
    assert set(side["Log-rank p"]) == {"hidden"}
    assert all("log-rank p hidden" in line for line in subgroup_lines(view, decided)
               if line.startswith("Lesion side"))  # fmt: skip


def binomial_crossing(patients: int) -> int:
    """The events by the step where the SE first passes 10% on a curve of ``patients``
    with nobody censored before it: Greenwood's variance is then S(1 - S) / n, S = 1 - e/n
    (it telescopes), so the step is the first e with e (n - e) / n^3 above 0.01."""
    return next(e for e in range(1, patients + 1) if e * (patients - e) > 0.01 * patients**3)


def test_the_unreliable_note_gives_no_event_time_that_pins_a_hidden_count():
    """Sixteen patients, 4 events by 4.5 months, nobody censored before 36: the SE first
    passes 10% at the 4th event, so "from 4.5 months" said 4 events before 12 months,
    where the table says "<5". In privacy mode the note reads the curve at the table's
    months, as it is drawn."""
    times = [1.5, 2.5, 3.5, 4.5, 20.5, 22.5, 26.5] + [40.5] * 9
    view = patency_view(times, [True] * 7 + [False] * 9, None)
    decided = mask(patency_ledger(view), 5)
    table = estimates_table(view, decided).set_index("Month")
    patients = int(time_summary_table(view, decided)["Patients"].iloc[0])
    note = drawn_unreliable_note(view, decided)
    assert drawn_unreliable_note(view) == "SE > 10%: Primary patency from 4.5 months."
    for time in map(float, re.findall(r"from ([\d.]+) months", note)):
        after = [m for m in table.index if float(m) > time]
        if not after or table.loc[after[0], "Censored"] != "0":
            continue  # censored before the next month: the crossing says less
        floor = binomial_crossing(patients)
        for month in after:
            if table.loc[month, "Events"] == "<5":
                assert floor < 4, f"'from {time} months' pins {floor} events before {month}"
    assert note.endswith(UNRELIABLE_AT_TABLE_MONTHS)


def test_a_median_gives_no_event_time_beside_a_hidden_count_of_its_table():
    """The same sixteen patients: the median's CI from 4.5 months is the 4th event (the
    first time the CI's upper limit passes below 50%: none censored, each event takes
    1/16), where the table says "<5" events before month 12. Privacy withholds the
    median, its CI and the restricted mean beside any hidden count of the curve's table."""
    times = [1.5, 2.5, 3.5, 4.5, 20.5, 22.5, 26.5] + [40.5] * 9
    view = patency_view(times, [True] * 7 + [False] * 9, None)
    decided = mask(patency_ledger(view), 5)
    assert "<5" in estimates_table(view, decided)["Events"].tolist()
    assert "4.5" in time_summary_table(view)["Median, months (95% CI)"].iloc[0]
    row = time_summary_table(view, decided).iloc[0]
    assert row["Median, months (95% CI)"] == SUPPRESSED
    assert {v for c, v in row.items() if c.startswith("Restricted mean")} == {SUPPRESSED}


def deaths_floor(km: float, incidence: float, at_risk: int) -> int:
    """The fewest deaths before a month that 1 - Kaplan-Meier and the cumulative incidence
    with death competing at it allow, with ``at_risk`` patients at risk at the month.

    At each event time t, 1 - Kaplan-Meier steps by S(t-) d / r and the incidence by
    S_free(t-) d / r, S_free also counting deaths as leaving; S(t-) - S_free(t-) is at
    most S(t-) times the deaths before t over those then left (each at least ``at_risk``).
    So the gap is at most the deaths over ``at_risk`` times 1 - Kaplan-Meier."""
    gap = (1 - km) - incidence
    return math.ceil(gap * at_risk / (1 - km) - 1e-9)


@pytest.fixture(scope="module")
def deaths_cohort() -> duckdb.DuckDBPyConnection:
    """Fifty patients: 10 followed a month, 4 dead at 2 months, 5 occlusions at 3 months,
    31 followed 40.5 months free of both."""
    patients = []

    def add(count: int, months: float, events: list[tuple[float, str]]) -> None:
        for _ in range(count):
            row = {**PATIENT_DEFAULTS, "patient_id": f"p{len(patients)}",
                   "follow_up_months": months}  # fmt: skip
            patients.append({"row": row, "events": events, "assessments": []})

    add(10, 1.0, [])
    add(4, 2.0, [(2.0, "death")])
    add(5, 40.0, [(3.0, "occlusion")])
    add(31, 40.5, [])
    return build(patients)


def test_the_cumulative_incidence_beside_1_minus_km_gives_no_hidden_deaths_away(deaths_cohort):
    """4 deaths, shown "<5" in the report's safety table; at 6 months 1 - Kaplan-Meier is
    5/36 and the incidence with death competing 5/36 x 36/40, so the gap, times 31 at
    risk over 1 - Kaplan-Meier, says 3.1 deaths or more: 4. The report (JSON and text)
    and the Patency page's figure withhold the incidence beside them."""
    from analytics.present.figures.patency import incidence_figure
    from analytics.views import patency_view as patency_of_filter

    view = report_view(deaths_cohort, CohortFilter())
    data = report_json(view, 5)
    deaths = data["safety"]["death"]["patients"]
    assert deaths == "<5"
    primary = data["patency"]["primary"]
    for row, incidence in zip(primary["overall"], primary["cumulative_incidence"], strict=True):
        if row["estimate"] is None or incidence["estimate"] is None:
            continue
        assert row["month"] == incidence["month"] and isinstance(row["at_risk"], int)
        floor = deaths_floor(row["estimate"], incidence["estimate"], row["at_risk"])
        assert floor < 4, f"at {row['month']} months the incidence pins {floor} deaths"
    text = report_text(view, 5)
    assert "cumulative incidence: 6 months hidden" in text
    page = patency_of_filter(deaths_cohort, CohortFilter())
    figure = incidence_figure(page, mask(patency_ledger(page) | incidence_ledger(page), 5))
    dashed = [
        t for t in figure.data if t.name == "Primary patency: Aalen-Johansen (death competes)"
    ]
    assert dashed and all(list(t.x) == [0.0] for t in dashed)
