"""The Centres page through AppTest: one centre on the demo, a funnel on a multi-centre registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.cohort.db import open_cohort
from tests.conftest import plotly_array, plotly_figures

PAGE = "pages/7_Centres.py"


@pytest.fixture
def registry_page(page_test, registry_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the page on the synthetic six-centre registry instead of the demo."""
    monkeypatch.setenv("COHORT_DB", str(registry_path))
    return lambda **params: page_test(PAGE, **params)


def centre_points(figure: dict) -> list[str]:
    """The centres a funnel figure plots, from its points' hover data."""
    return [
        row[0] for trace in figure["data"] if "customdata" in trace for row in trace["customdata"]
    ]


def test_the_one_centre_demo_says_a_comparison_needs_two(page_test):
    at = page_test(PAGE)
    assert not at.exception
    assert any("This cohort has one centre (Centre 1)" in info.value for info in at.info)
    assert any("python -m analytics synth" in info.value for info in at.info)
    assert plotly_figures(at) == []
    (table,) = [frame.value for frame in at.table]
    assert table["Centre"].tolist() == ["Centre 1"]
    assert table["Patients"].tolist() == [34]  # the 34 technical successes


def test_registry_funnel_plots_every_centre_and_lists_the_outliers(registry_page, registry_path):
    at = registry_page()
    assert not at.exception
    with open_cohort(registry_path) as con:
        centres, successes = con.execute(
            "SELECT count(DISTINCT center), count(*) FROM limb_summary WHERE technical_success"
        ).fetchone()
    (funnel,) = plotly_figures(at)
    assert sorted(centre_points(funnel)) == [f"C0{i}" for i in range(1, centres + 1)]
    assert "by centre" in funnel["layout"]["title"]["text"]
    outliers, every = (frame.value for frame in at.table)
    assert outliers["Position"].iloc[0] == "above 99.8%"
    assert set(outliers["Position"]) <= {"above 99.8%", "above 95%", "below 95%", "below 99.8%"}
    assert set(outliers["Centre"]) < set(every["Centre"])
    assert len(every) == centres and every["Patients"].sum() == successes
    assert not any("one centre" in info.value for info in at.info)


def test_month_comes_from_the_link(registry_page):
    at = registry_page(month="24")
    assert at.selectbox(key="month").value == "24"
    (funnel,) = plotly_figures(at)
    assert "at 24 months" in funnel["layout"]["title"]["text"]
    limits = [t for t in funnel["data"] if t.get("name") == "95% control limits"]
    assert len(plotly_array(limits[0]["x"])) > 10


def test_privacy_mode_keeps_small_centres_off_the_funnel_and_masks_them(registry_page):
    # immobilized patients: C05 has 14 and C06 17, the other centres 25 or more; events
    # before 12 months: C01 18, C02 10, C03 6, C04 4, C05 2, C06 4; C01's 54 patients
    # are 35 at risk, 18 with the event and 1 censored before 12 months
    at = registry_page(immobilization="yes", privacy="yes", privacy_k="10")
    assert not at.exception
    (funnel,) = plotly_figures(at)
    # a centre's estimate over fewer than k events is hidden in the table: so is its point;
    # C01's events are withheld beside its 1 censored (54 - 35 - 18)
    assert sorted(centre_points(funnel)) == ["C02"]
    assert "5 centre(s) not plotted" in funnel["layout"]["title"]["subtitle"]["text"]
    at = registry_page(immobilization="yes", privacy="yes", privacy_k="20")
    (funnel,) = plotly_figures(at)
    assert centre_points(funnel) == []
    assert "6 centre(s) not plotted" in funnel["layout"]["title"]["subtitle"]["text"]
    every = at.table[-1].value.set_index("Centre")
    for centre in ("C05", "C06"):
        assert every.loc[centre, ["Patients", "Estimate (%)", "95% limits (%)"]].tolist() == [
            "<20", "hidden", "hidden",
        ]  # fmt: skip
    assert every.loc["C01", "Patients"] == "54"


def test_a_bilateral_registry_shows_centres_clustered_by_patient(page_test, tmp_path, monkeypatch):
    """R on retinopathy as limbs, centre C1 (tests/unit/test_bilateral_stats.py): 0.820259
    (0.728989-0.883208) from survfit(..., cluster = id); the
    pooled 0.834320 with a design effect (0.0203188353272 / 0.0189302688063)^2, so the
    limits are Spiegelhalter's at 126 / 1.152 = 109 limbs and z = -0.40 (on limbs as
    independent: -0.42)."""
    import numpy as np

    from tests.cohorts import retinopathy_registry
    from tests.unit.test_centres import interpolated_limit

    path = tmp_path / "bilateral.duckdb"
    retinopathy_registry(str(path)).close()
    monkeypatch.setenv("COHORT_DB", str(path))
    at = page_test(PAGE)
    assert not at.exception
    table = next(t.value for t in [*at.dataframe, *at.table] if "Centre" in t.value.columns)
    first = table[table["Centre"] == "C1"].iloc[0]
    assert (first["Limbs"], first["95% CI (%)"]) == (126, "72.9-88.3")  # its limbs
    pooled, effect = 0.8343203669542, (0.0203188353272 / 0.0189302688063) ** 2
    effective = round(126 / effect)
    lower, upper = (100 * interpolated_limit(q, effective, pooled) for q in (0.025, 0.975))
    assert first["95% limits (%)"] == f"{lower:.1f}-{upper:.1f}"
    z = (0.820258970997 - pooled) / np.sqrt(pooled * (1 - pooled) * effect / 126)
    assert first["z-score"] == pytest.approx(z, abs=0.005)
