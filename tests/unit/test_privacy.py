"""Small-count suppression on values as they are formatted: counts 1 to k-1 and what
reveals them become "<k"; zero stays; other numbers are untouched."""

from __future__ import annotations

import math
import re

import pytest

from analytics.filters import CohortFilter
from analytics.present import format as fmt
from analytics.present.tables import (
    ceap_shift_table,
    estimates_table,
    safety_display,
    table1,
    table2,
    table3,
)
from analytics.views import patency_view, safety_view, tables_view


@pytest.mark.parametrize(
    ("count", "k", "shown"),
    [(0, 5, "0"), (1, 5, "<5"), (4, 5, "<5"), (5, 5, "5"), (34, 5, "34"), (9, 10, "<10"),
     (3, None, "3"), (920455, 5, "920,455"), (1000, None, "1,000")],
)  # fmt: skip
def test_count(count, k, shown):
    assert fmt.count(count, k) == shown


@pytest.mark.parametrize(
    ("n", "total", "k", "shown"),
    [(3, 34, 5, "<5"), (0, 34, 5, "0 (0.0%)"), (24, 34, 5, "24 (70.6%)"),
     (1234, 24680, 5, "1,234 (5.0%)"), (3, 34, None, "3 (8.8%)")],
)  # fmt: skip
def test_a_count_and_its_share_are_hidden_together(n, total, k, shown):
    assert fmt.count_percent(n, total, k) == shown


def test_a_count_of_a_small_total_is_hidden():
    assert fmt.count_of(2, 3, 5) == "<5"
    assert fmt.count_of(34, 37, 5) == "34/37 (91.9%)"


def test_safety_table_hides_small_counts_and_the_rates_that_reveal_them(demo):
    view = safety_view(demo, CohortFilter())
    shown = safety_display(view.safety, 5).set_index("Event")
    minor = shown.loc["Minor bleeding (ecchymosis or haematoma)"]  # 4 patients, 4 events
    hidden = ["Patients", "Percent", "95% CI (%)", "Events", "Per 100 patient-years"]
    assert minor[hidden].tolist() == ["<5"] * 5
    dvt = shown.loc["Recurrent DVT"]  # 7 patients
    assert dvt["Patients"] == "7" and dvt["Percent"] == "20.6"
    assert shown.loc["Death", "Patients"] == "0"
    plain = safety_display(view.safety).set_index("Event")
    assert plain.loc["Recurrent DVT", "Percent"] == 20.6  # a number for the spreadsheet
    assert plain.loc["Minor bleeding (ecchymosis or haematoma)", "Patients"] == 4


def test_estimates_hide_the_numbers_at_risk_below_k(demo):
    view = patency_view(demo, CohortFilter(lesion_side="left"), "thrombophilia")
    shown = estimates_table(view, 5)
    yes = shown[shown["Curve"] == "Thrombophilia: Yes"]
    assert set(yes["At risk"]) == {"<5"}  # 4, 3, 2, 1 at risk
    no = shown[shown["Curve"] == "Thrombophilia: No"]
    assert no["At risk"].tolist() == ["14", "13", "11", "10"]
    plain = estimates_table(view)
    assert plain["At risk"].tolist()[:4] == [14, 13, 11, 10]
    assert not any(isinstance(v, float) and math.isnan(v) for v in plain["Estimate (%)"])


def test_a_curve_of_fewer_than_k_patients_shows_no_estimate(demo):
    view = patency_view(demo, CohortFilter(lesion_side="left"), "immobilization")
    shown = estimates_table(view, 5)
    few = shown[shown["Curve"] == "Immobilization: Yes"]
    assert set(few["Estimate (%)"]) == {"<5"} and set(few["95% CI (%)"]) == {"<5"}


def shown_counts(values) -> list[int]:
    """The counts a table shows at the start of its cells: "24 (70.6%)", "7", "34/37 (...)"."""
    counts = []
    for value in map(str, values):
        match = re.match(r"^(\d[\d,]*)(?:/(\d[\d,]*))?(?: \(|$)", value)
        if match:
            counts += [int(g.replace(",", "")) for g in match.groups() if g]
    return counts


def test_paper_tables_show_no_count_from_1_to_k_minus_1(demo):
    """Right-sided lesions (12 patients): many of their counts are under 5."""
    view = tables_view(demo, CohortFilter(lesion_side="right"))
    cells = [
        *table1(view.baseline, 5)["Value"],
        *table2(view, 5)["Value"],
        *table3(view.clinical, 5)[["Before", "After"]].to_numpy().ravel(),
        *ceap_shift_table(view.clinical.ceap_shift, 5).to_numpy().ravel(),
    ]
    assert "<5" in cells
    assert not [n for n in shown_counts(cells) if 0 < n < 5]
    unmasked = [*table1(view.baseline)["Value"], *table2(view)["Value"]]
    assert [n for n in shown_counts(unmasked) if 0 < n < 5]  # the same tables show them
