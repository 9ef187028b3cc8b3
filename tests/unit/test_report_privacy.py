"""`report --privacy K`: the JSON hides what the screens hide, and says where.

A small count is "<K", a count withheld beside it (complementary suppression) or a value
derived from hidden counts is null, and `privacy.suppressed` lists each path.
"""

from __future__ import annotations

import json
import re

import pytest

from analytics.filters import CohortFilter
from analytics.glossary import TOO_FEW_EVENTS_REASON
from analytics.present.report import report_json, report_text
from analytics.views import report_view
from tests.unit.test_report import run_cli

COUNT_KEYS = {"at_risk", "events", "censored", "patients", "n_patients", "n_limbs"}


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
    """Beside the curve's shown patients, one hidden count of a month is the rest: it may
    be withheld beside another small count (in vain), but is never small itself. A
    month's estimate is withheld with its events (tables.estimate_shown), and may show
    beside a hidden at risk or censored."""
    _, data = masked
    for endpoint in data["patency"].values():
        n = data["n_limbs"] if endpoint["unit"] == "limb" else data["n_patients"]
        curves = [(n, endpoint["overall"])]
        curves += [(endpoint["group_summary"][g]["patients"], rows)
                   for g, rows in endpoint["groups"].items()]  # fmt: skip
        for patients, rows in curves:
            for row in rows:
                hidden = [row[key] in ("<5", None) for key in ("at_risk", "events", "censored")]
                if sum(hidden) == 1 and patients not in ("<5", None):
                    shown = [row[key] for key in ("at_risk", "events", "censored")
                             if row[key] not in ("<5", None)]  # fmt: skip
                    assert patients - sum(shown) >= 5, row
                if hidden[1]:
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
    assert "counts of fewer than 5 patients (or of their limbs) shown as <5" in text
    assert re.search(r"Pulmonary embolism\s+<5 patients\s+hidden", text)


@pytest.mark.parametrize("k", ["1", "21", "0"])
def test_a_k_outside_2_to_20_is_a_clear_error(demo_path, k):
    done = run_cli("report", "--db", str(demo_path), "--json", "--privacy", k)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"--privacy {k}: expected a whole number from 3 to 20" in done.stderr


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


# ---- adjusted models (`report --adjust`): a level's ratios are a statistic of its patients --


def _level(data, endpoint: str, key: str, term: str):
    """The row of ``term`` in ``patency.<endpoint>.<key>``, and its index."""
    rows = data["patency"][endpoint][key]
    (i,) = [i for i, row in enumerate(rows) if row["term"] == term]
    return i, rows[i]


def test_a_centre_of_fewer_than_k_patients_has_its_hazard_ratios_hidden(small_centre_path):
    """center=C07 holds 3 patients (2 lose primary patency): its crude and adjusted HR,
    CI and p are one small group's statistics, null and listed; its counts are "<5"."""
    args = ("--db", str(small_centre_path), "--json", "--adjust", "center,symptom_duration_months")
    shown = json.loads(run_cli("report", *args).stdout)
    done = run_cli("report", *args, "--privacy", "5")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    suppressed = set(data["privacy"]["suppressed"])
    for key in ("adjusted", "crude"):
        i, row = _level(data, "primary", key, "center=C07")
        # without privacy its 2 events are too few for a hazard ratio anyway
        assert _level(shown, "primary", key, "center=C07")[1]["reason"] == TOO_FEW_EVENTS_REASON
        assert [row[k] for k in ("hr", "ci_lower", "ci_upper", "p")] == [None] * 4
        assert {f"patency.primary.{key}[{i}].{k}" for k in ("hr", "p")} <= suppressed
        _, duration = _level(data, "primary", key, "symptom_duration_months")
        assert duration == _level(shown, "primary", key, "symptom_duration_months")[1]
    i, level = _level(data, "primary", "adjusted_levels", "center=C07")
    # its 2 events are part of its "<5" patients: left out with them
    assert level == {"term": "center=C07", "patients": "<5", "events": None}
    assert {f"patency.primary.adjusted_levels[{i}].{k}" for k in ("patients", "events")} <= (
        suppressed
    )
    assert _level(shown, "primary", "adjusted_levels", "center=C07")[1] == {
        "term": "center=C07", "patients": 3, "events": 2,
    }  # fmt: skip
    assert [row["term"] for row in shown["patency"]["primary"]["adjusted_levels"]] == [
        "center=C07"
    ]  # a continuous covariate has no level counts
    leaves = dict(_leaves({k: v for k, v in data.items() if k != "privacy"}))
    assert {path for path, value in leaves.items() if value == "<5"} <= suppressed


def test_a_level_whose_reference_is_fewer_than_k_is_hidden_with_its_count(demo):
    """27 of 34 have a common iliac lesion: with k = 8 its 7 without are few, so the
    hazard ratio of 27 against 7 is hidden, and so is 27 (34 - 27 would give the 7)."""
    view = report_view(demo, CohortFilter(), adjust=["seg_civ", "age_years"])
    data = report_json(view, 8)
    _, ratio = _level(data, "primary", "adjusted", "seg_civ=yes")
    assert ratio["hr"] is None and ratio["p"] is None
    i, level = _level(data, "primary", "adjusted_levels", "seg_civ=yes")
    assert level["patients"] is None
    assert f"patency.primary.adjusted_levels[{i}].patients" in data["privacy"]["suppressed"]
    assert _level(data, "primary", "adjusted", "age_years")[1]["hr"] is not None


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


def test_shift_tests_that_would_give_a_small_cell_away_are_hidden(demo):
    """The demo's 34 limbs: 30 moved down a class, all one way, so Bowker's chi-square is
    30 and, with the 34 shown, gives away the 4 limbs (3 in C4, 1 in C5) that stayed."""
    view = report_view(demo, CohortFilter())
    assert report_json(view)["clinical"]["ceap_symmetry"]["statistic"] == pytest.approx(30)
    data = report_json(view, 5)
    for key in ("ceap_marginal_homogeneity", "ceap_symmetry"):
        assert set(data["clinical"][key].values()) == {None}
        assert f"clinical.{key}.statistic" in data["privacy"]["suppressed"]
    assert "χ²" not in report_text(view, 5)


def test_a_landmark_whose_month_holds_fewer_than_k_exits_is_withheld(blank):
    """12 patients: 2 occluded at exactly month 12, the rest followed to 24 or 30 without
    an event. At risk at 12 (time >= 12) is 12 and the landmark's patients (time > 12) 10:
    their difference is the 2 at month 12, so in privacy mode (k = 5) the landmark's
    patients are withheld (the whole view's mask: views.patency_ledger) and listed; without
    privacy they show."""
    from analytics.cohort.summary import create_summary
    from tests.conftest import add_events, add_patient

    for i in range(12):
        add_patient(blank, f"P{i:02}", follow_up_months=24.0 if i % 2 else 30.0)
    for i in range(2):
        add_events(blank, f"P{i:02}", (12.0, "occlusion"))
    create_summary(blank)
    view = report_view(blank, CohortFilter(), landmark=12)
    shown = report_json(view)["patency"]["primary"]["landmark"]
    assert shown["month"] == 12 and shown["overall"]
    assert shown["overall"][0]["at_risk"] == 10
    data = report_json(view, 5)
    landmark = data["patency"]["primary"]["landmark"]["overall"]
    at_12 = next(r for r in data["patency"]["primary"]["overall"] if r["month"] == 12)
    assert not (at_12["at_risk"] == 12 and landmark[0]["at_risk"] == 10)  # 12 - 10 = the 2
    assert "patency.primary.landmark.overall[0].at_risk" in data["privacy"]["suppressed"]


def test_a_withheld_median_reads_hidden_not_not_reached(demo):
    """The demo, k = 5: primary patency's median is not reached, its CI from 20.0 months
    withheld beside the hidden 6- and 24-month counts; both are null in the JSON, and the
    text said "not reached (95% CI not reached to not reached)", a lower limit it is not."""
    text = report_text(report_view(demo, CohortFilter()), 5)
    primary = text.split("  Primary patency\n", 1)[1].splitlines()[0]
    assert primary == "    all: median hidden; restricted mean hidden"
    plain = report_text(report_view(demo, CohortFilter()))
    assert "median not reached (95% CI 20.0 to not reached) months" in plain
