"""Every page on a registry where patients have two treated limbs: R's retinopathy as
limbs (tests.cohorts.retinopathy_registry; 394 limbs in 197 patients). Each page runs,
its sidebar counts limbs and the patients they belong to, and the Patency page's overall
curve has the CI clustered by patient that R gives:

    summary(survfit(Surv(futime, status) ~ 1, data = retinopathy, cluster = id,
                    conf.type = "log-log"), times = 12)
    # 0.83432037, std.err 0.020318835, 95% CI 0.78997796-0.87007439
    # (Greenwood's, without cluster = id: 0.79330877-0.86787672)

R 4.2.2, survival 3.5.3.
"""

from __future__ import annotations

import re

import pytest

from analytics.glossary import (
    CEAP_SEPARATE_SHIFTS,
    CLINICAL_TWO_LIMBS,
    CLUSTERED_BY_PATIENT,
    FIRST_LIMB_GROUP,
    NOT_COMPUTABLE,
)
from analytics.present.export import csv_text
from tests.conftest import page_runner, plotly_figures

PAGES = (
    "pages/1_Patency.py", "pages/2_Clinical_outcomes.py", "pages/3_Safety.py",
    "pages/4_Subgroups.py", "pages/5_Tables.py", "pages/6_Data.py", "pages/7_Centres.py",
    "pages/8_Models.py",
)  # fmt: skip


@pytest.fixture
def bilateral_page(retinopathy_path, monkeypatch):
    yield from page_runner(retinopathy_path, monkeypatch)


def sidebar_text(at) -> str:
    return " ".join(m.value for m in at.sidebar.markdown) + " ".join(
        c.value for c in at.sidebar.caption
    )


@pytest.mark.parametrize("page", PAGES)
def test_every_page_counts_limbs_in_patients(bilateral_page, page):
    at = bilateral_page(page)
    assert not at.exception, at.exception
    text = sidebar_text(at)
    assert "n = 394 limbs in 197 patients" in text
    assert "The file: 394 limbs in 197 patients." in text


def test_the_patency_curve_has_rs_clustered_confidence_interval(bilateral_page):
    at = bilateral_page("pages/1_Patency.py")
    cells = [str(v) for table in at.table for v in table.value.to_numpy().ravel()]
    cells += [str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel()]
    assert "79.0-87.0" in cells, cells[:40]  # 12 months: 83.4%, SE 2.0
    assert "79.3-86.8" not in cells  # not Greenwood's


def test_the_safety_page_counts_patients(bilateral_page):
    at = bilateral_page("pages/3_Safety.py")
    assert any("197 patients followed" in c.value for c in at.caption)


# Privacy counts people: the synthetic service's acute thrombotic lesions of men at C02
# are 6 limbs (technical successes) of 5 patients, one of them treated on both legs.
FEW_LIMBS = {"center": "C02", "aetiology": "acute_thrombotic", "sex": "M"}


def test_a_count_of_limbs_of_fewer_than_k_patients_is_hidden_on_every_surface(
    service_page, bilateral_path, monkeypatch
):
    """At k = 6 the 6 limbs are 5 patients, fewer than k: the sidebar, Table 1 and its
    CSV show "<6" where a count of limbs alone would show 6 (and the rule said "<11"),
    the privacy note says the mark counts patients, and the report JSON's n_limbs is
    "<6"."""
    from analytics import views
    from analytics.cohort.db import open_cohort
    from analytics.filters import parse_pairs
    from analytics.glossary import SMALL_COUNT_MARK
    from analytics.present.report import report_json
    from ui import show

    written: list[str] = []
    monkeypatch.setattr(show, "csv_text", lambda *a, **kw: written.append(csv_text(*a, **kw))
                        or written[-1])  # fmt: skip
    at = service_page("pages/5_Tables.py", privacy="yes", privacy_k="6", **FEW_LIMBS)
    assert not at.exception, at.exception
    assert "n = <6 limbs" in sidebar_text(at) and SMALL_COUNT_MARK in sidebar_text(at)
    table1 = at.table[0].value
    assert table1["Value"].iloc[0].startswith("<6 limbs")
    cells = {str(v) for table in at.table for v in table.value.to_numpy().ravel()}
    assert not {"5", "6"} & cells
    (csv,) = [text for text in written if text.startswith("Characteristic,")]
    assert csv.splitlines()[1].startswith("Limbs and patients,<6 limbs")
    con = open_cohort(str(bilateral_path))
    try:
        report = report_json(views.report_view(con, parse_pairs(
            [f"{key}={value}" for key, value in FEW_LIMBS.items()])), 6)  # fmt: skip
    finally:
        con.close()
    assert (report["n_limbs"], report["n_patients"]) == ("<6", None)


@pytest.fixture
def service_page(bilateral_path, monkeypatch):
    """A stenting service's registry (``synth --limbs 600 --centers 4 --seed 1``): a tenth of
    its patients with both legs treated, and the scores the Clinical and Tables pages pair."""
    yield from page_runner(bilateral_path, monkeypatch)


def _analysed(bilateral_path) -> tuple[int, int]:
    """The technical-success limbs and their patients, from the file's rows."""
    from analytics.cohort.db import open_cohort

    with open_cohort(bilateral_path) as con:
        return con.execute(
            "select count(*), count(distinct patient_id) from limbs where technical_success"
        ).fetchone()


def test_the_overview_counts_limbs_in_patients(service_page, bilateral_path):
    """The first tile read "Patients analysed" over the limbs."""
    limbs, patients = _analysed(bilateral_path)
    at = service_page("app.py")
    assert not at.exception, at.exception
    first = at.metric[0]
    assert (first.label, first.value) == ("Limbs analysed", str(limbs))
    assert first.proto.delta == f"in {patients} patients"


def test_table3_says_its_paired_tests_count_a_patients_two_limbs(service_page):
    at = service_page("pages/5_Tables.py")
    assert not at.exception, at.exception
    assert CLINICAL_TWO_LIMBS in [c.value for c in at.caption]
    table2 = next(t.value for t in [*at.dataframe, *at.table] if "Outcome" in t.value.columns)
    assert set(table2["Counts"]) == {"limbs", "patients"}


def test_the_centres_page_sizes_centres_by_their_limbs(service_page, bilateral_path):
    """The funnel's size axis, its hover and the centre table said "patients" over limbs."""
    from analytics.cohort.db import open_cohort

    with open_cohort(bilateral_path) as con:
        sizes = dict(
            con.execute(
                "select p.center, count(*) from limbs l join patients p using (patient_id) "
                "where l.technical_success group by 1"
            ).fetchall()
        )
    at = service_page("pages/7_Centres.py")
    assert not at.exception, at.exception
    (funnel,) = plotly_figures(at)
    assert funnel["layout"]["xaxis"]["title"]["text"] == "Limbs in the centre"
    hovers = [h for trace in funnel["data"] for row in trace.get("customdata", []) for h in row]
    assert any(f"{sizes['C01']} limbs, " in h for h in hovers)
    table = next(t.value for t in [*at.dataframe, *at.table] if "Centre" in t.value.columns)
    assert dict(zip(table["Centre"], table["Limbs"], strict=True)) == sizes
    assert any("against its number of limbs" in c.value for c in at.caption)


def test_the_models_and_data_pages_count_limbs_in_patients(service_page, bilateral_path):
    """The model's caption read "on 369 patients ...; 190 patients left out" over limbs, the
    Data page's follow-up "Of the 559 patients in the filter"."""
    limbs, patients = _analysed(bilateral_path)
    at = service_page("pages/8_Models.py", adjust="sex")  # no time-varying covariate: quick
    assert not at.exception, at.exception
    counts = next(c.value for c in at.caption if c.value.startswith("Cox model (Efron ties)"))
    assert re.fullmatch(
        r"Cox model \(Efron ties\) on \d+ limbs with \d+ events; \d+ limbs left out for a "
        r"missing covariate \(complete cases\)\.",
        counts,
    ), counts
    table = next(t.value for t in [*at.dataframe, *at.table] if "Term" in t.value.columns)
    assert "Limbs" in table.columns and "Patients" not in table.columns
    at = service_page("pages/6_Data.py")
    assert not at.exception, at.exception
    assert any(
        c.value.startswith(f"Of the {limbs} limbs in {patients} patients in the filter")
        for c in at.caption
    )


def test_why_the_ceap_homogeneity_test_is_not_computable_is_a_caption(service_page):
    """The reason (a sentence) stood in the metric's one-line chip, cut at "...form separate
    groups wi" at 1280 px; the metric says "not computable" and a caption under it why."""
    at = service_page("pages/2_Clinical_outcomes.py")
    assert not at.exception, at.exception
    metric = next(m for m in at.metric if m.label == "Homogeneity (Stuart-Maxwell)")
    assert (metric.value, metric.proto.delta) == (NOT_COMPUTABLE, "")
    assert f"{CEAP_SEPARATE_SHIFTS.capitalize()}." in [c.value for c in at.caption]


def test_recurrent_dvt_compared_counts_patients_on_the_patency_page(service_page):
    """A patient's endpoint: its curves count patients and compare them by the log-rank
    test, so the page neither says limbs nor that their variance is clustered."""
    at = service_page("pages/1_Patency.py", by="lesion_side", endpoint="recurrent_dvt")
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert CLUSTERED_BY_PATIENT not in captions
    assert FIRST_LIMB_GROUP in captions  # split by a limb's side: where a bilateral one went
    under = "Under the axis, for each curve: the {} at risk"
    assert any(c.startswith(under.format("patients")) for c in captions)
    at = service_page("pages/1_Patency.py", by="lesion_side")  # primary patency: limbs
    captions = [c.value for c in at.caption]
    assert CLUSTERED_BY_PATIENT in captions
    assert FIRST_LIMB_GROUP not in captions
    assert any(c.startswith(under.format("limbs")) for c in captions)
