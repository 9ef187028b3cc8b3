"""The Safety page through AppTest: published counts, exact CIs from scipy."""

from __future__ import annotations

from scipy.stats import binomtest

from tests.conftest import plotly_array, plotly_figures

PAGE = "pages/3_Safety.py"
PUBLISHED = {  # patients with the event among the 34 technical successes
    "Minor bleeding (ecchymosis or haematoma)": 4,
    "Major bleeding": 0,
    "Recurrent DVT": 7,
    "Pulmonary embolism": 3,
    "Death": 0,
}


def test_table_counts_and_exact_intervals(page_test):
    at = page_test(PAGE)
    assert not at.exception
    table = at.table[0].value.set_index("Event")
    assert table["Patients"].to_dict() == PUBLISHED
    for event, patients in PUBLISHED.items():
        ci = binomtest(patients, 34).proportion_ci(method="exact")
        expected = f"{100 * ci.low:.1f}-{100 * ci.high:.1f}"
        assert table.loc[event, "95% CI (%)"] == expected, event


def test_bar_chart_and_timeline(page_test):
    at = page_test(PAGE)
    bars, timeline = plotly_figures(at)
    assert bars["data"][0]["type"] == "bar"
    events_on_timeline = sum(
        int(n) for t in timeline["data"] for n in plotly_array(t["customdata"])
    )
    assert events_on_timeline == sum(PUBLISHED.values())


def test_filter_reaches_the_table(page_test):
    at = page_test(PAGE, lesion_side="right")
    table = at.table[0].value.set_index("Event")
    assert table["Patients"].sum() <= sum(PUBLISHED.values())
    assert any("12 patients followed" in c.value for c in at.caption)
