"""The Clinical outcomes page through AppTest, checked against the paper's Table 3."""

from __future__ import annotations

from scipy.stats import binomtest
from streamlit.proto.Metric_pb2 import Metric

from analytics.glossary import (
    CEAP_SEPARATE_SHIFTS,
    MARGINAL_HOMOGENEITY,
    MEDIAN_CHANGE,
    NOT_COMPUTABLE,
    NOT_PUBLISHED_COMPUTED,
    PTS,
    SEVERITY_SCORE,
    SHORT_TEST_LABELS,
    SYMMETRY,
    VILLALTA,
)
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
    table3 = at.table[-1].value.set_index("Measure")
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


# R 4.2.2 on the demo (tests/unit/test_engine_hodges_lehmann.py, test_clinical.py):
# wilcox.test(after, before, paired = TRUE, conf.int = TRUE) gives Villalta -6.499985
# (-7.499963 to -5.499943) by the normal approximation (ties); the p is coin's exact test
# (34 pairs, below 50); Stuart-Maxwell 30 on 3 df and Bowker 30 on 6 df, both p < 0.001.
VILLALTA_CHANGE = "-6.50 (95% CI -7.50 to -5.50)"
METHODS = "exact; median change normal approximation, tie- and continuity-corrected"


def test_ceap_shift_tests_beside_the_matrix(page_test):
    at = page_test(PAGE)
    metrics = {m.label: m for m in at.metric}
    homogeneity, symmetry = (
        metrics[SHORT_TEST_LABELS[MARGINAL_HOMOGENEITY]],
        metrics[SHORT_TEST_LABELS[SYMMETRY]],
    )
    assert (homogeneity.value, symmetry.value) == ("p < 0.001", "p < 0.001")
    assert homogeneity.proto.delta == "χ² = 30.00 on 3 df"
    assert symmetry.proto.delta == "χ² = 30.00 on 6 df"
    # a statistic, not a change: no arrow beside it (nor beside the McNemar counts)
    none = Metric.MetricDirection.NONE
    assert {m.proto.direction for m in (homogeneity, symmetry, metrics["Exact McNemar"])} == {none}
    captions = " ".join(c.value for c in at.caption)
    assert f"{SEVERITY_SCORE}: median change -1.00 (no CI" in captions  # every change is -1


def test_median_changes_beside_the_wilcoxon_p_with_the_method(page_test):
    at = page_test(PAGE)
    captions = " ".join(c.value for c in at.caption)
    assert (
        f"{VILLALTA}: median change {VILLALTA_CHANGE}; Wilcoxon signed-rank ({METHODS}) p < 0.001"
        in captions
    )
    table3 = at.table[-1].value.set_index("Measure")
    villalta = table3.loc[f"{VILLALTA}, mean ± SD"]
    # the demo's per-limb changes are invented: Table 3 says the paper has no such number
    assert villalta[MEDIAN_CHANGE] == f"{VILLALTA_CHANGE}; {NOT_PUBLISHED_COMPUTED}"
    assert (villalta["P value"], villalta["Test"]) == (
        "< 0.001",
        f"Wilcoxon signed-rank ({METHODS})",
    )
    assert table3.loc[MARGINAL_HOMOGENEITY, "Test"] == (
        f"χ² = 30.00 on 3 df; {NOT_PUBLISHED_COMPUTED}"
    )
    assert table3.loc[SYMMETRY, "P value"] == "< 0.001"


def test_classes_in_separate_groups_say_why_marginal_homogeneity_is_not_computable(page_test):
    at = page_test(PAGE, lesion_side="right", sex="M")  # 7 limbs: C4 -> C3 and C6 -> C5 only
    assert not at.exception
    metrics = {m.label: m for m in at.metric}
    assert metrics[SHORT_TEST_LABELS[MARGINAL_HOMOGENEITY]].value == NOT_COMPUTABLE
    assert metrics[SHORT_TEST_LABELS[MARGINAL_HOMOGENEITY]].proto.delta == ""  # a caption says
    assert f"{CEAP_SEPARATE_SHIFTS.capitalize()}." in [c.value for c in at.caption]
    assert metrics[SHORT_TEST_LABELS[SYMMETRY]].proto.delta.endswith(
        "on 6 df"
    )  # Bowker is still defined


def test_the_page_says_its_pairs_are_limbs_when_a_patient_has_two(page_test, tmp_path, monkeypatch):
    from analytics.glossary import CLINICAL_TWO_LIMBS
    from tests.cohorts import retinopathy_registry

    path = tmp_path / "bilateral.duckdb"
    retinopathy_registry(str(path)).close()
    monkeypatch.setenv("COHORT_DB", str(path))
    at = page_test(PAGE)
    assert not at.exception
    assert CLINICAL_TWO_LIMBS in [caption.value for caption in at.caption]
