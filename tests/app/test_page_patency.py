"""The Patency page through AppTest on the demo cohort."""

from __future__ import annotations

from tests.conftest import plotly_figures

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
    table = at.dataframe[-1].value
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
