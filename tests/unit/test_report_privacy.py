"""`report --privacy K`: the JSON hides what the screens hide, and says where.

A small count is "<K", a count withheld beside it (complementary suppression) or a value
derived from hidden counts is null, and `privacy.suppressed` lists each path.
"""

from __future__ import annotations

import json
import re

import pytest

from analytics.filters import CohortFilter
from analytics.present.report import report_json, report_text
from analytics.views import report_view
from tests.unit.test_report import run_cli

COUNT_KEYS = {"at_risk", "events", "censored", "patients", "n_patients"}


def _leaves(value, path=""):
    """Every (path, value) of a JSON value, paths written as report.py writes them."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, value


def _resolve(data, path):
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        data = data[int(part[1:-1])] if part.startswith("[") else data[part]
    return data


@pytest.fixture(params=[CohortFilter(), CohortFilter(lesion_side="left")])
def masked(request, demo):
    view = report_view(demo, request.param, by="thrombophilia")
    return view, report_json(view, 5)


def test_no_count_below_k_is_shown_and_every_hidden_value_is_listed(masked):
    _, data = masked
    leaves = dict(_leaves({k: v for k, v in data.items() if k != "privacy"}))
    for path, value in leaves.items():
        if path.rsplit(".", 1)[-1] in COUNT_KEYS | {"pts_before", "pts_after", "reflux_before"}:
            assert not (isinstance(value, int) and 0 < value < 5), path
    suppressed = data["privacy"]["suppressed"]
    assert data["privacy"]["k"] == 5 and suppressed
    for path in suppressed:
        assert _resolve(data, path) in ("<5", None), path
    assert {path for path, value in leaves.items() if value == "<5"} <= set(suppressed)


def test_a_kmunicate_month_never_hides_one_count_alone(masked):
    _, data = masked
    for endpoint in data["patency"].values():
        for rows in (endpoint["overall"], *endpoint["groups"].values()):
            for row in rows:
                hidden = [row[key] in ("<5", None) for key in ("at_risk", "events", "censored")]
                assert sum(hidden) != 1, row
                if any(hidden):
                    assert row["estimate"] is None


def test_a_share_that_leaves_a_small_rest_is_withheld(demo):
    data = report_json(report_view(demo, CohortFilter()), 5)
    death = data["safety"]["death"]  # 0 of 34: nobody singled out
    assert death["patients"] == 0 and death["percent"] == 0.0
    embolism = data["safety"]["pulmonary_embolism"]  # 3 of 34
    assert embolism["patients"] == "<5" and embolism["percent"] is None
    assert embolism["ci_upper"] is None  # an exact CI gives n and the count away


def test_without_k_the_contract_is_unchanged(demo):
    data = report_json(report_view(demo, CohortFilter()))
    assert "privacy" not in data and data["safety"]["pulmonary_embolism"]["patients"] == 3


def test_the_text_report_hides_the_same_values(demo):
    text = report_text(report_view(demo, CohortFilter()), 5)
    assert "counts below 5 shown as <5" in text
    assert re.search(r"Pulmonary embolism\s+<5 patients\s+hidden", text)


@pytest.mark.parametrize("k", ["1", "21", "0"])
def test_a_k_outside_2_to_20_is_a_clear_error(demo_path, k):
    done = run_cli("report", "--db", str(demo_path), "--json", "--privacy", k)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"--privacy {k}: expected a whole number from 2 to 20" in done.stderr


def test_an_enforced_deployment_sets_the_default_and_the_floor(demo_path, monkeypatch):
    monkeypatch.setenv("COHORT_PRIVACY", "enforced")
    monkeypatch.setenv("COHORT_PRIVACY_K", "10")
    done = run_cli("report", "--db", str(demo_path), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["privacy"]["k"] == 10 and data["safety"]["recurrent_dvt"]["patients"] == "<10"
    lower = run_cli("report", "--db", str(demo_path), "--privacy", "5")
    assert lower.returncode != 0 and "below the k = 10 this deployment enforces" in lower.stderr
    deck = run_cli("deck", "--db", str(demo_path), "--privacy", "5", "--out", "/dev/null")
    assert deck.returncode != 0 and "below the k = 10" in deck.stderr


def test_follow_up_of_fewer_than_k_is_hidden_like_the_pages(demo):
    data = report_json(report_view(demo, CohortFilter(segments=("IVC",))), 5)  # 4 patients
    assert data["n_patients"] == "<5"
    assert data["follow_up"]["median_months"] is None
    assert data["follow_up"]["completeness"] is None
    assert "follow_up.completeness" in data["privacy"]["suppressed"]


def test_paired_changes_and_shift_tests_of_fewer_than_k_pairs_are_hidden(demo):
    data = report_json(report_view(demo, CohortFilter(segments=("IVC",))), 5)  # 4 limbs
    clinical, suppressed = data["clinical"], data["privacy"]["suppressed"]
    for key in ("villalta_change", "severity_score_change"):
        assert clinical[key]["hodges_lehmann"] is None
        assert f"clinical.{key}.hodges_lehmann" in suppressed
        assert f"clinical.{key}.ci_lower" in suppressed or clinical[key]["ci_lower"] is None
    for key in ("ceap_marginal_homogeneity", "ceap_symmetry"):
        assert set(clinical[key].values()) == {None}
        assert f"clinical.{key}.p" in suppressed
    text = report_text(report_view(demo, CohortFilter(segments=("IVC",))), 5)
    assert "median change" not in text and "χ²" not in text


def test_paired_changes_of_k_or_more_pairs_are_shown(demo):
    data = report_json(report_view(demo, CohortFilter()), 5)
    assert data["clinical"]["villalta_change"]["hodges_lehmann"] == -6.5
    assert data["clinical"]["ceap_symmetry"]["df"] == 6
