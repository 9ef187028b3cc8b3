"""The Patency page through AppTest on the demo cohort."""

from __future__ import annotations

import pytest

from analytics.filters import CohortFilter
from analytics.glossary import COMPARISON_WITHHELD, ENDPOINTS, TOO_FEW_EVENTS_REASON
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
    comparison = at.table[0].value.set_index("Group")
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
    return next(d.value for d in at.table if column in d.value.columns)


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
    # what the box shows then says it (Streamlit shows the placeholder for a None value);
    # "Choose an option" was cut in its box at 1280 wide, and said nothing
    assert at.selectbox(key="min_at_risk").proto.placeholder == "no limit"
    (fig,) = plotly_figures(at)
    # and 48, where the curves (followed to 45.5 months) end with nobody at risk
    assert plotly_array(fig["layout"]["xaxis"]["tickvals"]) == [0, 6, 12, 24, 36, 48]
    assert fig["layout"]["xaxis2"]["title"]["text"] == "Months since the procedure"
    assert at_risk_cells(fig)[0] == ["34", "28", "25", "22", "20", "0"]  # primary, Table 2
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


# ---- pairwise log-rank, trend, reference group, landmark (issue 14, part 5) ---------------


def test_more_than_two_ordered_groups_get_pairwise_tests_and_the_trend(page_test):
    """R 4.2.2, survival 3.5.3 on the demo's primary patency by age band (the references and
    calls are in tests/unit/test_report.py): pairs p 0.751, 0.701, 0.448, Holm 1; trend
    chi-square 0.195, p 0.659."""
    at = page_test(PAGE, by="age_band")
    assert not at.exception
    pairs = table_with(at, "Holm p")
    assert pairs.to_dict("records") == [
        {"Group": "Age band: < 60", "Other group": "Age band: 60-74", "Log-rank p": "0.751",
         "Holm p": "1.000"},
        {"Group": "Age band: < 60", "Other group": "Age band: ≥ 75", "Log-rank p": "0.701",
         "Holm p": "1.000"},
        {"Group": "Age band: 60-74", "Other group": "Age band: ≥ 75", "Log-rank p": "0.448",
         "Holm p": "1.000"},
    ]  # fmt: skip
    shown = " ".join(unescaped(m.value) for m in at.markdown)
    assert "Log-rank test for trend, scores 1 to 3 in the order < 60, 60-74, ≥ 75: " in shown
    assert "chi-square 0.20 on 1 df, p = 0.659" in shown
    assert "**Log-rank test for trend.**" in shown and "**Pairwise log-rank tests.**" in shown


def test_two_unordered_groups_get_neither(page_test):
    at = page_test(PAGE, by="lesion_side")
    assert not any("Holm p" in d.value.columns for d in at.table)
    assert not any("test for trend, scores" in unescaped(m.value) for m in at.markdown)


def test_reference_from_the_link_moves_the_ratios_and_differences(page_test, demo):
    at = page_test(PAGE, by="age_band", ref="60-74")
    assert not at.exception
    assert at.selectbox(key="ref").value == "60-74"
    comparison = table_with(at, "Cox HR (95% CI)").set_index("Group")
    assert comparison.loc["Age band: 60-74", "Cox HR (95% CI)"] == "reference"
    view = patency_view(demo, CohortFilter(), "age_band", reference="60-74")
    ratios = {r.level: r for r in view.compared.comparison.hazard_ratios}
    assert {r.reference for r in ratios.values()} == {"60-74"}
    # 3 events under 60 (7 in the reference): too few for a hazard ratio, and no p
    assert comparison.loc["Age band: < 60", "Cox HR (95% CI)"] == ratios["< 60"].reason
    assert ratios["< 60"].reason == TOO_FEW_EVENTS_REASON
    assert comparison.loc["Age band: < 60", "Wald p"] == "-"
    summary = table_with(at, "Median, months (95% CI)").set_index("Curve")
    column = "Difference from Age band: 60-74 (95% CI)"
    assert summary.loc["Age band: 60-74", column] == "reference"
    assert summary.loc["Age band: < 60", column].startswith("-1.50 (95% CI")
    assert any("against Age band: 60-74" in unescaped(m.value) for m in at.markdown)


def test_choosing_a_reference_group_and_a_link_carries_it(page_test):
    at = page_test(PAGE, by="sex")
    assert at.selectbox(key="ref").value is None  # the first group, Female
    at = at.selectbox(key="ref").select("M").run()
    comparison = table_with(at, "Cox HR (95% CI)").set_index("Group")
    assert comparison.loc["Sex: Male", "Cox HR (95% CI)"] == "reference"
    assert at.query_params["ref"] == "M"


def test_a_reference_not_of_the_split_is_named_in_a_notice(page_test):
    at = page_test(PAGE, by="sex", ref="60-74")
    assert not at.exception
    notices = " ".join(unescaped(w.value) for w in at.sidebar.warning)
    assert "ref='60-74': not a group of Sex" in notices
    comparison = table_with(at, "Cox HR (95% CI)").set_index("Group")
    assert comparison.loc["Sex: Female", "Cox HR (95% CI)"] == "reference"


def test_landmark_draws_the_curves_from_month_l_with_their_estimates(page_test):
    """R 4.2.2, survival 3.5.3: survfit(Surv(t - 12, e) ~ 1, subset = t > 12) on the demo's
    primary patency gives 96.0% at 6 months after the landmark, 88.0% at 12, 80.0% at 24
    (tests/unit/test_report.py)."""
    assert page_test(PAGE).radio(key="landmark").value == "off"
    at = page_test(PAGE, landmark="12")
    assert not at.exception
    _, landmark = plotly_figures(at)
    assert landmark["layout"]["title"]["text"].endswith(": landmark at month 12")
    assert landmark["layout"]["xaxis2"]["title"]["text"].startswith("Months since month 12")
    estimates = [d.value for d in at.table if "Estimate (%)" in d.value.columns]
    primary = estimates[1][estimates[1]["Curve"] == "Primary patency"]
    assert primary["Estimate (%)"].tolist()[:3] == [96.0, 88.0, 80.0]
    assert any(c.value.startswith("Landmark at month 12: Patency from month L on") for c in
               at.caption)  # fmt: skip


def test_privacy_hides_the_comparisons_of_a_group_below_k(page_test):
    """< 60 has 8 patients, 60-74 and ≥ 75 fewer than 10 events each: every pair, the
    trend and the log-rank test are statistics of hidden counts (comparison_withheld)."""
    at = page_test(PAGE, by="age_band", privacy="yes", privacy_k="10")
    compared = table_with(at, "Cox HR (95% CI)").set_index("Group")
    assert compared.loc["Age band: < 60", "Patients"] == "<10"
    assert compared.loc["Age band: 60-74", "Events"] == "<10"
    assert compared.loc["Age band: ≥ 75", "Events"] == "<10"
    pairs = table_with(at, "Holm p")
    assert set(pairs["Log-rank p"]) == set(pairs["Holm p"]) == {"hidden"}
    shown = [unescaped(m.value) for m in at.markdown]
    trend = next(text for text in shown if "test for trend, scores" in text)
    assert trend.endswith(f"hidden ({COMPARISON_WITHHELD})")


@pytest.fixture
def patency_requests(monkeypatch) -> list:
    """Every request the pages ask ui.data.patency for, in order (the view still built)."""
    from ui import data

    asked, patency = [], data.patency
    monkeypatch.setattr(
        data, "patency", lambda key, f, request: asked.append(request) or patency(key, f, request)
    )
    return asked


def test_the_view_is_asked_for_with_every_control_the_link_sets(page_test, patency_requests):
    from analytics.views import PatencyRequest

    at = page_test(PAGE, by="sex", endpoint="secondary", ref="M", landmark="12", months="0,12")
    assert not at.exception
    assert patency_requests[-1] == PatencyRequest(
        "sex", "secondary", risk_months=(0, 12), reference="M", landmark=12.0
    )
    assert at.selectbox(key="ref").value == "M" and at.radio(key="landmark").value == "12"


def test_presenting_asks_for_the_comparison_without_the_pages_time_controls(
    page_test, patency_requests
):
    """The presenting view draws no risk-table months or landmark control: its chart
    keeps the default months and no landmark, whatever the link holds."""
    from analytics.views import PatencyRequest

    at = page_test(PAGE, present="yes", screen="2", by="sex", ref="M", landmark="12",
                   months="0,12")  # fmt: skip
    assert not at.exception
    assert patency_requests[-1] == PatencyRequest("sex", reference="M")
