"""The Patency page through AppTest on the demo cohort."""

from __future__ import annotations

import pytest

from analytics.filters import CohortFilter
from analytics.glossary import ENDPOINTS
from analytics.views import patency_view
from tests.conftest import plotly_array, plotly_figures, unescaped

PAGE = "pages/1_Patency.py"


def curve_names(at) -> set[str]:
    (fig,) = plotly_figures(at)
    return {t.get("name") for t in fig["data"] if t.get("mode") == "lines" and t.get("name")}


def test_three_patency_curves_with_risk_table(page_test):
    at = page_test(PAGE)
    assert not at.exception
    names = curve_names(at)
    assert {"Primary patency", "Assisted primary patency", "Secondary patency"} <= names
    (fig,) = plotly_figures(at)
    labels = dict(zip(fig["layout"]["yaxis2"]["tickvals"], fig["layout"]["yaxis2"]["ticktext"],
                      strict=True))  # fmt: skip
    at_risk = [t for t in fig["data"] if t.get("mode") == "text" and labels[t["y"][0]] == "At risk"]
    assert len(at_risk) == 3
    assert at_risk[0]["text"][0] == "34"  # 34 technical successes at risk at month 0


def test_estimates_table_matches_published_primary_patency(page_test):
    at = page_test(PAGE)
    table = table_with(at, "Estimate (%)")
    primary = table[table["Curve"] == "Primary patency"].set_index("Month")
    # Table 2 after the swap rule: 28, 25, 22, 20 of 34 patent at 6, 12, 24, 36 months
    assert primary["Estimate (%)"].tolist() == [82.4, 73.5, 64.7, 58.8]


def test_compare_by_from_the_url_draws_one_curve_per_group(page_test):
    at = page_test(PAGE, by="lesion_side")
    assert not at.exception
    assert {"Lesion side: Left (n = 22)", "Lesion side: Right (n = 12)"} <= curve_names(at)
    (fig,) = plotly_figures(at)
    assert "Log-rank p" in fig["layout"]["title"]["subtitle"]["text"]
    comparison = at.dataframe[0].value.set_index("Group")
    assert comparison.loc["Lesion side: Left", "Cox HR (95% CI)"] == "reference"
    assert comparison.loc["Lesion side: Right", "Patients"] == 12


def test_filter_changes_the_curves(page_test):
    everyone = page_test(PAGE)
    left = page_test(PAGE, lesion_side="left")
    at_risk = [
        next(t for t in plotly_figures(at)[0]["data"] if t.get("mode") == "text")["text"][0]
        for at in (everyone, left)
    ]
    assert at_risk == ["34", "22"]


def test_empty_filter_shows_a_message_not_an_error(page_test):
    at = page_test(PAGE, age_min="100")
    assert not at.exception
    assert any("No patients match" in w.value for w in at.warning)


def table_with(at, column: str):
    """The page's table that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_cumulative_incidence_toggle_draws_both_estimates_per_curve(page_test):
    at = page_test(PAGE, cuminc="yes")
    assert not at.exception
    _, incidence = plotly_figures(at)
    lines = [t for t in incidence["data"] if t.get("mode") == "lines"]
    aj = [t for t in lines if t["line"].get("dash") == "dash" and "legendgroup" in t]
    assert [t["name"] for t in aj] == [
        f"{e}: Aalen-Johansen (death competes)"
        for e in ("Primary patency", "Assisted primary patency", "Secondary patency")
    ]
    legend = {t["name"] for t in incidence["data"] if t.get("showlegend", True)}
    assert {"Primary patency", "1 - Kaplan-Meier (death censors)",
            "Aalen-Johansen (death competes)"} <= legend  # fmt: skip
    # the demo has no deaths: the two coincide, and the chart says so
    assert "coincide" in incidence["layout"]["title"]["subtitle"]["text"]
    assert all(t["showlegend"] is False for t in aj)  # the key names the style once
    assert plotly_array(aj[0]["y"])[-1] == pytest.approx(
        1 - 0.5882352941, abs=1e-6
    )  # 20 of 34 patent


def test_without_the_toggle_no_incidence_chart(page_test):
    at = page_test(PAGE)
    assert len(plotly_figures(at)) == 1
    assert page_test(PAGE, cuminc="no").toggle(key="cuminc").value is False


def test_median_and_restricted_mean_table_on_the_demo(page_test, demo):
    at = page_test(PAGE)
    table = table_with(at, "Median, months (95% CI)").set_index("Curve")
    # R (tests/unit/test_follow_up_and_competing.py): primary patency median not reached,
    # lower limit 20; restricted mean to 36 months 25.96 (SE 2.33)
    primary = table.loc["Primary patency"]
    assert primary["Median, months (95% CI)"] == "not reached (95% CI 20.0 to not reached)"
    assert primary["Restricted mean to 36 months (SE)"] == "25.96 (SE 2.33)"
    view = patency_view(demo, CohortFilter())
    for endpoint, label in ENDPOINTS.items():
        if endpoint in view.survival:
            rmst = view.survival[endpoint].overall.rmst
            shown = table.loc[label, "Restricted mean to 36 months (SE)"]
            assert shown == f"{rmst.estimate:.2f} (SE {rmst.se:.2f})"


def test_compared_groups_get_their_restricted_mean_difference(page_test, demo):
    at = page_test(PAGE, by="lesion_side")
    table = table_with(at, "Median, months (95% CI)").set_index("Curve")
    view = patency_view(demo, CohortFilter(), "lesion_side")
    (difference,) = view.compared.comparison.rmst_differences
    assert table.loc["Lesion side: Left", "Difference from the first group (95% CI)"] == (
        "reference"
    )
    assert table.loc["Lesion side: Right", "Difference from the first group (95% CI)"] == (
        f"{difference.difference:.2f} (95% CI {difference.ci_lower:.2f} to "
        f"{difference.ci_upper:.2f})"
    )
    assert table.loc["Lesion side: Right", "Patients"] == "12"


# ---- the time axis --------------------------------------------------------------------------


def at_risk_cells(fig: dict) -> list[list[str]]:
    """The KMunicate table's "At risk" rows of a figure's JSON, curve by curve."""
    labels = dict(zip(fig["layout"]["yaxis2"]["tickvals"], fig["layout"]["yaxis2"]["ticktext"],
                      strict=True))  # fmt: skip
    return [t["text"] for t in fig["data"]
            if t.get("mode") == "text" and labels[t["y"][0]] == "At risk"]  # fmt: skip


def test_time_axis_controls_default_to_the_usual_chart(page_test):
    at = page_test(PAGE)
    assert at.expander[0].label == "Time axis"
    assert at.multiselect(key="months").value == [0, 6, 12, 24, 36]
    assert at.number_input(key="xmax").value is None
    assert at.radio(key="unit").value == "months"
    assert at.selectbox(key="min_at_risk").value is None
    (fig,) = plotly_figures(at)
    assert plotly_array(fig["layout"]["xaxis"]["tickvals"]) == [0, 6, 12, 24, 36]
    assert fig["layout"]["xaxis2"]["title"]["text"] == "Months since the procedure"
    assert at_risk_cells(fig)[0] == ["34", "28", "25", "22", "20"]  # primary, Table 2
    assert not any("at risk" in (t.get("name") or "") for t in fig["data"])
    assert "months" not in at.query_params and "unit" not in at.query_params


def test_a_link_seeds_the_time_axis_and_the_chart_follows(page_test):
    at = page_test(PAGE, months="0,12,24,36,48", xmax="40", unit="years", min_at_risk="20")
    assert not at.exception and not at.sidebar.warning
    assert at.multiselect(key="months").value == [0, 12, 24, 36, 48]
    assert at.number_input(key="xmax").value == 40
    assert (at.radio(key="unit").value, at.selectbox(key="min_at_risk").value) == ("years", 20)
    (fig,) = plotly_figures(at)
    assert fig["layout"]["xaxis"]["ticktext"] == ["0", "1", "2", "3"]  # 48 months is beyond 40
    assert fig["layout"]["xaxis2"]["title"]["text"] == "Years since the procedure"
    assert at_risk_cells(fig)[0] == ["34", "25", "22", "20"]
    # 20 primary patent at 36 months, fewer after: dotted from 3 years, the rule named
    (dotted,) = [
        t for t in fig["data"] if t.get("name") == "Primary patency: fewer than 20 at risk"
    ]
    assert plotly_array(dotted["x"])[0] == 3
    caption = " ".join(unescaped(c.value) for c in at.caption)
    assert "Fewer than 20 at risk: Primary patency from 36 months" in caption


def test_changing_the_controls_redraws_the_chart_and_the_link(page_test):
    at = page_test(PAGE)
    at.multiselect(key="months").set_value([30, 0, 18]).run()
    at.radio(key="unit").set_value("years").run()
    at.selectbox(key="min_at_risk").set_value(10).run()
    at.number_input(key="xmax").set_value(24).run()
    assert not at.exception
    (fig,) = plotly_figures(at)
    assert fig["layout"]["xaxis"]["ticktext"] == ["0", "1.5"]  # 30 months is beyond 24
    assert at_risk_cells(fig)[0] == ["34", "24"]
    assert fig["layout"]["xaxis"]["range"][1] == pytest.approx(25 / 12)
    assert dict(at.query_params) == {
        "months": "0,18,30", "unit": "years", "min_at_risk": "10", "xmax": "24",
    }  # fmt: skip
    at.multiselect(key="months").set_value([]).run()  # none chosen: the default months
    assert at_risk_cells(plotly_figures(at)[0])[0] == ["34", "28", "25", "22"]  # up to 24
    assert any("default months" in c.value for c in at.caption)


def test_unusable_time_axis_values_in_a_link_are_named_and_ignored(page_test):
    at = page_test(PAGE, months="0,7", xmax="1e9", unit="weeks", min_at_risk="3")
    assert not at.exception
    notices = " ".join(unescaped(w.value) for w in at.sidebar.warning)
    for dropped in ("months='0,7'", "xmax='1e9'", "unit='weeks'", "min_at_risk='3'"):
        assert dropped in notices
    assert at.multiselect(key="months").value == [0, 6, 12, 24, 36]
    assert at.radio(key="unit").value == "months"


def test_the_cumulative_incidence_chart_draws_its_ci_band_and_names_it(page_test):
    at = page_test(PAGE, cuminc="yes")
    _, incidence = plotly_figures(at)
    bands = [t for t in incidence["data"] if t.get("fill") == "tonexty"]
    assert [t["name"] for t in bands] == [
        f"{e}: Aalen-Johansen 95% CI (log(-log))"
        for e in ("Primary patency", "Assisted primary patency", "Secondary patency")
    ]
    assert "Aalen-Johansen 95% CI" in " ".join(c.value for c in at.caption)
    _, without = plotly_figures(page_test(PAGE, cuminc="yes", ci="no"))
    assert not [t for t in without["data"] if t.get("fill")]
