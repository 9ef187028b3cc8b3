"""The Subgroups page through AppTest: forest plot, table, and the view in the URL."""

from __future__ import annotations

import re

import pytest

from analytics import views
from analytics.filters import parse_pairs
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


def _strings(value: object) -> list[str]:
    """Every text in a chart's JSON: titles, cells, hover, labels."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# where a count of patients or events is printed: "n = 22", "3 patients", "1 events",
# a forest cell "21 / 4" (not a rule's "< 10 patients")
COUNTS = re.compile(r"n = ([\d,]+)|(?<!< )\b([\d,]+) (?:patients|events)\b|^([\d,]+) / ([\d,]+)$")


def _small_counts(texts: list[str], k: int) -> list[str]:
    return [
        text
        for text in texts
        for match in COUNTS.finditer(text)
        for count in match.groups()
        if count and 0 < int(count.replace(",", "")) < k
    ]


@pytest.mark.parametrize("k", [3, 5])
def test_privacy_shows_no_small_level_count_anywhere_on_the_page(page_test, demo, k):
    """Left-sided lesions: 22 patients, 1 with trauma, and other levels of fewer than k
    patients or events. No element of the page (table, chart JSON, captions, sidebar)
    prints any of them exactly."""
    cohort_filter = parse_pairs(["lesion_side=left"])
    view = views.subgroups_view(demo, cohort_filter)
    levels = view.table
    small = levels[((levels["patients"] > 0) & (levels["patients"] < k))
                   | ((levels["events"] > 0) & (levels["events"] < k))]  # fmt: skip
    assert not small.empty
    at = page_test(PAGE, privacy="yes", privacy_k=str(k), lesion_side="left")
    assert not at.exception
    table = at.table[0].value
    assert table.set_index(["Factor", "Group"]).loc[("Trauma", "Yes"), "Patients"] == f"<{k}"
    for column in ("Patients", "Events"):
        cells = table[column].astype(str).str.replace(",", "")
        assert not [c for c in cells if c.isdigit() and 0 < int(c) < k], column
    texts = [s for figure in plotly_figures(at) for s in _strings(figure)]
    texts += [
        e.value for kind in ("markdown", "caption", "info", "text", "title") for e in at.get(kind)
    ]
    texts += [e.value for kind in ("markdown", "caption") for e in at.sidebar.get(kind)]
    assert texts and not _small_counts(texts, k)


def test_a_bilateral_registry_shows_subgroups_clustered_by_patient(
    page_test, tmp_path, monkeypatch
):
    """R on retinopathy as limbs (tests/unit/test_bilateral_stats.py): the diabetic limbs'
    12-month estimate 0.842325 (0.773336-0.891772) from survfit(..., cluster = id)
    (Greenwood's: 77.7-89.0), the right limbs' HR 2.174 (1.628435-2.902741) from
    coxph(..., cluster = id)'s robust variance (the model variance's: 1.56-3.03)."""
    from tests.cohorts import retinopathy_registry

    path = tmp_path / "bilateral.duckdb"
    retinopathy_registry(str(path)).close()
    monkeypatch.setenv("COHORT_DB", str(path))
    at = page_test(PAGE)
    assert not at.exception
    table = next(t.value for t in [*at.dataframe, *at.table] if "Group" in t.value.columns)
    right = table[(table["Factor"] == "Lesion side") & (table["Group"] == "Right")].iloc[0]
    assert (right["Limbs"], right["Events"]) == (197, 101)  # limbs, clustered by patient
    assert "Robust score test p" in table.columns
    assert any("the robust score p across groups" in c.value for c in at.caption)
    assert right["Hazard ratio (95% CI)"] == "2.17 (1.63-2.90)"
    diabetic = table[(table["Factor"] == "Diabetes") & (table["Group"] == "Yes")].iloc[0]
    assert diabetic["95% CI (%)"] == "77.3-89.2"
