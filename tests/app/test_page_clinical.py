"""The Clinical outcomes page through AppTest, checked against the paper's Table 3."""

from __future__ import annotations

from scipy.stats import binomtest

from analytics.glossary import PTS
from tests.conftest import plotly_figures

PAGE = "pages/2_Clinical_outcomes.py"


def figure(at, title_start: str) -> dict:
    return next(
        f
        for f in plotly_figures(at)
        if str(f["layout"].get("title", {}).get("text", "")).startswith(title_start)
    )


def chart_text(fig: dict) -> str:
    """Annotations and subtitle: where a chart states its test."""
    subtitle = fig["layout"]["title"].get("subtitle", {}).get("text", "")
    return " ".join([subtitle, *(a.get("text", "") for a in fig["layout"].get("annotations", []))])


def test_every_chart_and_table_3(page_test):
    at = page_test(PAGE)
    assert not at.exception
    assert len(plotly_figures(at)) == 4  # Sankey, classes, Villalta, PTS
    table3 = at.dataframe[-1].value.set_index("Measure")
    pts = table3.loc[PTS]
    assert (pts["Before"], pts["After"]) == ("34 (100.0%)", "24 (70.6%)")  # published
    assert table3.loc["C6 active venous ulcer", "After"] == "0 (0.0%)"


def test_sankey_flows_are_the_published_ceap_counts(page_test):
    (sankey,) = [f for f in plotly_figures(page_test(PAGE)) if f["data"][0]["type"] == "sankey"]
    link, labels = sankey["data"][0]["link"], sankey["data"][0]["node"]["label"]
    before, after = {}, {}
    for source, target, value in zip(link["source"], link["target"], link["value"], strict=True):
        before[labels[source][:2]] = before.get(labels[source][:2], 0) + value
        after[labels[target][:2]] = after.get(labels[target][:2], 0) + value
    # Table 3: C4 11, C5 15, C6 8 before; C3 8, C4 17, C5 9 at the last visit
    assert before == {"C4": 11, "C5": 15, "C6": 8}
    assert after == {"C3": 8, "C4": 17, "C5": 9}


def test_tests_and_p_values_shown_on_the_charts(page_test):
    at = page_test(PAGE)
    # exact McNemar = two-sided binomial test on the discordant pairs (scipy, independent)
    pts_p = binomtest(0, 10, 0.5).pvalue  # 10 limbs lost PTS, none gained it
    reflux_p = binomtest(1, 5, 0.5).pvalue  # 4 resolved, 1 new
    assert f"p = {pts_p:.3f}" in chart_text(figure(at, "Post-thrombotic"))
    reflux = {m.label: m for m in at.metric}
    assert reflux["Exact McNemar"].value == f"p = {reflux_p:.3f}"
    assert reflux["Reflux ≥ 0.5 s, before"].value == "25 (73.5%)"  # published
    assert reflux["Reflux ≥ 0.5 s, last visit"].value == "22 (64.7%)"
    assert "Wilcoxon signed-rank" in chart_text(figure(at, "Villalta"))


def test_filter_reaches_the_charts(page_test):
    at = page_test(PAGE, lesion_side="left")
    assert not at.exception
    (sankey,) = [f for f in plotly_figures(at) if f["data"][0]["type"] == "sankey"]
    assert sum(sankey["data"][0]["link"]["value"]) == 22  # 22 left-sided limbs


def test_empty_filter_shows_a_message_not_an_error(page_test):
    at = page_test(PAGE, age_min="100")
    assert not at.exception
    assert any("No patients match" in w.value for w in at.warning)
