"""The report JSON, version 3: the unit of each section, limbs beside patients, and the
comparison's test by name; version 2's keys keep their values on a file of one limb per
patient (the demo) and name the log-rank test only.

References. The demo by lesion side, R 4.2.2, survival 3.5.3, on its technical successes:

    x <- survdiff(Surv(tte_primary_months, tte_primary_event) ~ lesion_side, data = d)
    x$chisq                                # 1.39438505214
    pchisq(x$chisq, 1, lower.tail = FALSE) # 0.237665962942

R's ``retinopathy`` as limbs (tests.cohorts.retinopathy_registry; its R calls are in
tests/unit/test_bilateral_views.py): the robust score test by side,
``summary(coxph(Surv(futime, status) ~ side, data = r, cluster = id))$robscore``, is
26.34135 on 1 df, p = 2.860967e-07.
"""

from __future__ import annotations

import json

import pytest

from analytics.glossary import (
    COMPARISON_TESTS,
    ENDPOINTS,
    PAIRWISE_TESTS,
    PATENCY_ENDPOINTS,
    SAFETY_EVENTS,
    TREND_TESTS,
)
from analytics.stats.engine.logrank import LOGRANK
from analytics.stats.engine.robust_score import ROBUST_SCORE
from tests.cohorts import retinopathy_file
from tests.unit.test_bilateral_views import R_ROBSCORE
from tests.unit.test_report import run_cli

R_DEMO_LOGRANK_BY_SIDE = (1.39438505214, 0.237665962942)


def _json(*args: str) -> dict:
    done = run_cli("report", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def retinopathy(tmp_path_factory) -> str:
    return retinopathy_file(str(tmp_path_factory.mktemp("retinopathy") / "cohort.duckdb"))


@pytest.fixture(scope="module")
def demo_by_side(demo_path) -> dict:
    return _json("--db", str(demo_path), "--by", "lesion_side")


@pytest.fixture(scope="module")
def bilateral_by_side(retinopathy) -> dict:
    return _json("--db", retinopathy, "--by", "lesion_side")


def test_version_3_states_each_sections_unit(demo_by_side):
    assert demo_by_side["report_version"] == 3
    units = {endpoint: entry["unit"] for endpoint, entry in demo_by_side["patency"].items()}
    assert units == {**dict.fromkeys(PATENCY_ENDPOINTS, "limb"), "recurrent_dvt": "patient"}
    assert demo_by_side["clinical"]["unit"] == "limb"
    assert demo_by_side["follow_up"]["unit"] == "limb"
    assert {entry["unit"] for entry in demo_by_side["safety"].values()} == {"patient"}
    assert set(demo_by_side["safety"]) == set(SAFETY_EVENTS)


def test_one_limb_per_patient_counts_as_many_limbs_as_patients(demo_by_side):
    """The demo's 34 technical successes are 34 patients (version 2's n_patients) and
    their 34 limbs."""
    assert (demo_by_side["n_patients"], demo_by_side["n_limbs"]) == (34, 34)


def test_the_demos_comparison_is_the_log_rank_test_under_both_names(demo_by_side):
    """logrank_* keep version 2's value (R's survdiff); comparison_* name and repeat it."""
    primary = demo_by_side["patency"]["primary"]
    assert primary["comparison_test"] == "logrank"
    for prefix in ("logrank", "comparison"):
        assert (primary[f"{prefix}_statistic"], primary[f"{prefix}_p"]) == pytest.approx(
            R_DEMO_LOGRANK_BY_SIDE, rel=1e-9
        )


def test_pairs_and_trend_name_their_test_on_the_demo(demo_path):
    primary = _json("--db", str(demo_path), "--by", "age_band")["patency"]["primary"]
    assert (primary["pairwise_test"], primary["trend_test"]) == ("logrank", "logrank")


def test_a_bilateral_registry_counts_limbs_and_patients(bilateral_by_side):
    assert (bilateral_by_side["n_limbs"], bilateral_by_side["n_patients"]) == (394, 197)
    patency = bilateral_by_side["patency"]
    for endpoint, entry in patency.items():
        first = entry["overall"][0]
        n = 394 if entry["unit"] == "limb" else 197  # recurrent DVT: once per patient
        assert first["at_risk"] + first["events"] + first["censored"] == n, endpoint
    assert patency["recurrent_dvt"]["unit"] == "patient"


def test_a_bilateral_registry_compares_by_the_robust_score_test_as_r(bilateral_by_side):
    """R's robust score test by side; the log-rank keys null (no log-rank test was done),
    not hidden (nothing is listed as suppressed without privacy)."""
    primary = bilateral_by_side["patency"]["primary"]
    assert primary["comparison_test"] == "robust_score"
    assert (primary["comparison_statistic"], primary["comparison_p"]) == pytest.approx(
        R_ROBSCORE, rel=1e-6
    )
    assert primary["logrank_statistic"] is None and primary["logrank_p"] is None
    assert "privacy" not in bilateral_by_side


def test_the_bilateral_text_report_names_its_unit_and_test(retinopathy):
    done = run_cli("report", "--db", retinopathy, "--by", "lesion_side")
    assert done.returncode == 0, done.stderr
    assert "n = 394 limbs in 197 patients\n" in done.stdout
    assert "clustered by patient" in done.stdout
    assert f"{ENDPOINTS['primary']} (Kaplan-Meier" in done.stdout
    assert "  robust score test chi2 = 26.34, p < 0.001\n" in done.stdout
    assert "log-rank" not in done.stdout


def test_the_demos_text_report_still_counts_patients_and_names_the_log_rank(demo_path):
    done = run_cli("report", "--db", str(demo_path), "--by", "lesion_side")
    assert "Patients: 34\n" in done.stdout and "limbs in" not in done.stdout
    assert "  log-rank chi2 = 1.39, p = 0.238\n" in done.stdout


def test_privacy_masks_the_limbs_and_the_patients(retinopathy):
    """k = 5 on the 197 patients' limbs: both counts shown; a filter of one side counts
    as many limbs as patients. (By side, the report's whole masking problem takes most of a
    minute: the comparison's privacy is tested on smaller cohorts.)"""
    data = _json("--db", retinopathy, "--privacy", "5")
    assert (data["n_limbs"], data["n_patients"]) == (394, 197)
    left = _json("--db", retinopathy, "--where", "lesion_side=left", "--privacy", "5")
    assert (left["n_limbs"], left["n_patients"]) == (197, 197)


def test_every_test_the_engine_names_has_its_words():
    assert set(COMPARISON_TESTS) == set(PAIRWISE_TESTS) == set(TREND_TESTS)
    assert set(COMPARISON_TESTS) == {LOGRANK, ROBUST_SCORE}
