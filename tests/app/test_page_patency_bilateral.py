"""The Patency page through AppTest on a registry where every patient has two treated
limbs: R's ``retinopathy`` as limbs (tests.cohorts.retinopathy_file; the R calls and
values are in tests/unit/test_bilateral_views.py). The page counts limbs in patients,
names the robust score test in place of the log-rank test, and says the limbs' variance
is clustered by patient."""

from __future__ import annotations

import html

import pytest

from analytics.glossary import CLUSTERED_BY_PATIENT, DEFINITIONS, ROBUST_SCORE_TEST
from tests.app.test_page_patency import PAGE, table_with
from tests.cohorts import retinopathy_file
from tests.conftest import plotly_figures, unescaped
from tests.unit.test_bilateral_views import R_BY_SIDE


@pytest.fixture(scope="module")
def retinopathy(tmp_path_factory) -> str:
    return retinopathy_file(str(tmp_path_factory.mktemp("retinopathy") / "cohort.duckdb"))


@pytest.fixture
def bilateral_page(page_test, monkeypatch, retinopathy):
    monkeypatch.setenv("COHORT_DB", retinopathy)
    return page_test


def test_the_sidebar_and_the_page_count_limbs_in_patients(bilateral_page):
    at = bilateral_page(PAGE)
    assert not at.exception
    assert any("n = 394 limbs in 197 patients" in m.value for m in at.sidebar.markdown)
    assert CLUSTERED_BY_PATIENT in [c.value for c in at.caption]
    assert any("the limbs at risk" in c.value for c in at.caption)


def test_the_comparison_is_the_robust_score_test_with_rs_clustered_interval(bilateral_page):
    """The subtitle names the robust score test (R: p = 2.86e-07); each side's 95% CI at 12
    months is R's clustered log(-log) interval, not Greenwood's."""
    at = bilateral_page(PAGE, by="lesion_side")
    assert not at.exception
    (fig,) = plotly_figures(at)
    subtitle = html.unescape(fig["layout"]["title"]["subtitle"]["text"])
    assert "Robust score test p < 0.001" in subtitle and "Log-rank" not in subtitle
    assert fig["layout"]["yaxis"]["title"]["text"] == "Limbs free of the endpoint"
    table = table_with(at, "95% CI (%)").set_index(["Curve", "Month"])
    for side in ("left", "right"):
        _, _, lower, upper = R_BY_SIDE[side][0]
        row = table.loc[(f"Lesion side: {side.capitalize()}", "12")]
        assert row["95% CI (%)"] == f"{100 * lower:.1f}-{100 * upper:.1f}"
    (expander,) = [e for e in at.expander if e.label == "Definitions"]
    definitions = [m.value for m in expander.markdown]
    assert f"**{ROBUST_SCORE_TEST}.** {DEFINITIONS[ROBUST_SCORE_TEST]}" in definitions


def test_the_presenting_patency_screen_counts_limbs_and_names_the_test(bilateral_page):
    at = bilateral_page("app.py", present="yes", screen="2", by="lesion_side")
    assert not at.exception
    assert any("n = 394 limbs in 197 patients" in unescaped(c.value) for c in at.caption)
    (fig,) = plotly_figures(at)
    assert "Robust score test p" in html.unescape(fig["layout"]["title"]["subtitle"]["text"])
