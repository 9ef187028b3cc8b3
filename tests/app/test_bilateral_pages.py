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

import pytest

from analytics.present.export import csv_text
from tests.conftest import page_runner

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


@pytest.fixture
def service_page(bilateral_path, monkeypatch):
    yield from page_runner(bilateral_path, monkeypatch)


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
