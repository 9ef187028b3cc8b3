"""The Safety page through AppTest: published counts, exact CIs from scipy."""

from __future__ import annotations

from scipy.stats import binomtest

from analytics.glossary import CRUDE_PERCENT
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


def test_cumulative_incidence_sits_beside_the_crude_percentages(page_test, demo):
    """The demo has no deaths and follows everyone at least 36 months, so the cumulative
    incidence at m is the share of the 34 with a first event by m, counted here from the
    events table; the crude table says it is crude."""
    at = page_test(PAGE)
    assert not at.exception
    crude, incidence = (d.value for d in at.table[:2])
    assert CRUDE_PERCENT in crude.columns
    incidence = incidence.set_index("Event")
    assert list(incidence.columns) == ["12 months", "24 months", "36 months"]
    assert list(incidence.index) == ["Recurrent DVT", "Pulmonary embolism", "Major bleeding"]
    firsts = demo.execute(
        """SELECT e.patient_id, e.event, min(e.month) AS month FROM events AS e
        JOIN limbs AS p USING (patient_id) WHERE p.technical_success GROUP BY ALL"""
    ).df()
    for event, label in (
        ("recurrent_dvt", "Recurrent DVT"),
        ("pulmonary_embolism", "Pulmonary embolism"),
    ):
        months = firsts.loc[firsts["event"] == event, "month"]
        for m in (12, 24, 36):
            share = (months <= m).sum() / 34
            assert incidence.loc[label, f"{m} months"].startswith(f"{100 * share:.1f}% ("), m
    assert incidence.loc["Major bleeding"].tolist() == ["0.0%"] * 3
    assert any("crude" in c.value for c in at.caption)
