"""The Subgroups page through AppTest: forest plot, table, and the view in the URL."""

from __future__ import annotations

from analytics.glossary import TOO_FEW_EVENTS_REASON
from tests.conftest import plotly_figures

PAGE = "pages/4_Subgroups.py"


def test_forest_plot_and_table_for_every_factor(page_test):
    at = page_test(PAGE)
    assert not at.exception
    (forest,) = plotly_figures(at)
    assert forest["layout"]["title"]["text"].startswith("Primary patency")
    table = at.table[0].value
    assert len(table) >= 2 * 10  # side, sex, age band, four segments, seven risk factors
    assert any("Multiple comparisons" in c.value for c in at.caption)


def test_endpoint_and_month_come_from_the_link(page_test):
    at = page_test(PAGE, endpoint="secondary", month="36")
    assert at.selectbox(key="endpoint").value == "secondary"
    assert at.selectbox(key="month").value == "36"
    (forest,) = plotly_figures(at)
    assert forest["layout"]["title"]["text"].startswith("Secondary patency")


def test_an_unknown_month_in_the_link_falls_back_to_12(page_test):
    at = page_test(PAGE, month="7")
    assert not at.exception
    assert at.selectbox(key="month").value == "12"


def test_a_filter_leaving_one_patient_groups_still_draws(page_test):
    # left-sided lesions: a single trauma patient, too few events for a hazard ratio
    at = page_test(PAGE, lesion_side="left")
    assert not at.exception
    table = at.table[0].value.set_index(["Factor", "Group"])
    assert table.loc[("Trauma", "Yes"), "Patients"] == 1
    assert table.loc[("Trauma", "Yes"), "Hazard ratio (95% CI)"] == TOO_FEW_EVENTS_REASON
    assert len(plotly_figures(at)) == 1
