"""The report reproduces the paper's Tables 2 and 3 from the demo cohort.

References: the published tables (domain.md), with the patency swap rule; the
exact McNemar p-values 2 * 0.5**10 = 0.00195 (PTS) and 0.375 (reflux).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from analytics.cohort.db import ROOT
from analytics.filters import CohortFilter
from analytics.glossary import TOO_FEW_EVENTS_REASON
from analytics.present.report import report_json
from analytics.views import report_view


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def report(demo_path) -> dict:
    done = run_cli("report", "--db", str(demo_path), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_patients(report):
    assert report["n_patients"] == 34


@pytest.mark.parametrize(
    ("endpoint", "published"),
    [
        ("primary", {6: (28, 82.4), 12: (25, 73.5), 24: (22, 64.7), 36: (20, 58.8)}),
        ("assisted_primary", {6: (29, 85.3), 12: (27, 79.4), 24: (24, 70.6), 36: (21, 61.8)}),
    ],
)
def test_patency_matches_table2(report, endpoint, published):
    rows = {row["month"]: row for row in report["patency"][endpoint]["overall"]}
    for month, (patent, percent) in published.items():
        assert rows[month]["at_risk"] == patent
        assert round(100 * rows[month]["estimate"], 1) == percent
        assert rows[month]["ci_lower"] < rows[month]["estimate"] < rows[month]["ci_upper"]


def test_secondary_patency_at_least_assisted(report):
    secondary = report["patency"]["secondary"]["overall"]
    assisted = report["patency"]["assisted_primary"]["overall"]
    assert all(s["estimate"] >= a["estimate"] for s, a in zip(secondary, assisted, strict=True))


def test_ceap_counts_match_table3(report):
    clinical = report["clinical"]
    assert {k: v for k, v in clinical["ceap_before"].items() if v} == {"C4": 11, "C5": 15, "C6": 8}
    assert {k: v for k, v in clinical["ceap_after"].items() if v} == {"C3": 8, "C4": 17, "C5": 9}


def test_scores_match_table3(report):
    c = report["clinical"]
    assert (
        round(c["severity_score_before"]["mean"], 2),
        round(c["severity_score_before"]["sd"], 2),
    ) == (2.91, 0.75)
    assert (
        round(c["severity_score_after"]["mean"], 2),
        round(c["severity_score_after"]["sd"], 2),
    ) == (2.03, 0.72)
    assert (round(c["villalta_before"]["mean"], 1), round(c["villalta_before"]["sd"], 2)) == (
        11.9,
        3.25,
    )
    assert (round(c["villalta_after"]["mean"], 2), round(c["villalta_after"]["sd"], 2)) == (
        5.32,
        2.03,
    )
    assert c["severity_score_p"] < 0.001
    assert c["villalta_p"] < 0.001


def test_json_median_changes_match_r_and_keep_their_names(report):
    c = report["clinical"]
    # R 4.2.2: wilcox.test(after, before, paired = TRUE, conf.int = TRUE) on the demo's
    # pairs: Villalta (pseudo)median -6.499985, 95% CI -7.499963 to -5.499943 (ties: normal);
    # the severity score's non-zero changes are all -1: midrange -1, no interval
    villalta = c["villalta_change"]
    assert list(villalta) == ["hodges_lehmann", "ci_lower", "ci_upper", "test"]
    assert [villalta[key] for key in ("hodges_lehmann", "ci_lower", "ci_upper")] == pytest.approx(
        [-6.5, -7.5, -5.5], abs=1e-3
    )
    assert villalta["test"] == "normal"
    assert c["severity_score_change"] == {
        "hodges_lehmann": -1.0, "ci_lower": None, "ci_upper": None, "test": "normal",
    }  # fmt: skip


def test_json_ceap_shift_tests_match_r(report):
    c = report["clinical"]
    # R 4.2.2 on the demo's C3..C6 matrix (rows before): Stuart-Maxwell by its formula
    # (tests/unit/test_clinical.py) 30 on 3 df, pchisq(30, 3, lower.tail = FALSE); Bowker
    # over the pairs with a move, pchisq(30, 6, lower.tail = FALSE)
    for key, expected in (("ceap_marginal_homogeneity", (30.0, 3, 1.38005703129e-06)),
                          ("ceap_symmetry", (30.0, 6, 3.93084481845e-05))):  # fmt: skip
        test = c[key]
        assert list(test) == ["statistic", "df", "p"]
        assert test["df"] == expected[1]
        assert (test["statistic"], test["p"]) == pytest.approx((expected[0], expected[2]))


def test_json_clinical_tests_are_null_without_pairs(demo):
    c = report_json(report_view(demo, CohortFilter(age_min=200)))["clinical"]
    for key in ("ceap_marginal_homogeneity", "ceap_symmetry"):
        assert set(c[key].values()) == {None}
    for key in ("villalta_change", "severity_score_change"):
        assert set(c[key].values()) == {None}


def test_pts_mcnemar_matches_published_p(report):
    c = report["clinical"]
    assert (c["pts_before"], c["pts_after"]) == (34, 24)
    assert c["pts_p"] == pytest.approx(2 * 0.5**10)  # 0.00195, published "0.002"


def test_reflux_mcnemar_matches_published_p(report):
    c = report["clinical"]
    assert (c["reflux_before"], c["reflux_after"]) == (25, 22)
    assert c["reflux_p"] == pytest.approx(0.375)


@pytest.mark.parametrize(
    ("event", "patients"),
    [
        ("minor_bleeding", 4),
        ("recurrent_dvt", 7),
        ("pulmonary_embolism", 3),
        ("death", 0),
        ("major_bleeding", 0),
    ],
)
def test_safety_counts_match_table2(report, event, patients):
    row = report["safety"][event]
    assert row["patients"] == patients
    assert row["percent"] == pytest.approx(100 * patients / 34)


def test_clopper_pearson_for_no_events():
    """Textbook closed form: the exact upper limit for 0/n is 1 - 0.025**(1/n)."""
    from analytics.stats.safety import clopper_pearson

    low, high = clopper_pearson(0, 34)
    assert low == 0
    assert high == pytest.approx(1 - 0.025 ** (1 / 34))


@pytest.mark.parametrize("n", [1, 34, 997, 1_000_000])
def test_clopper_pearson_agrees_with_scipy_binomtest(n):
    """The beta-quantile limits equal binomtest's root-found exact limits, k = 0 to n."""
    from scipy.stats import binomtest

    from analytics.stats.safety import clopper_pearson

    ks = sorted(k for k in {0, 1, 2, n // 3, n // 2, n - 1, n} if k <= n)
    low, high = clopper_pearson(ks, n)
    for k, lo, hi in zip(ks, low, high, strict=True):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        assert (lo, hi) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9))


def test_clopper_pearson_without_patients_is_undefined():
    from analytics.stats.safety import clopper_pearson

    low, high = clopper_pearson([0, 0], 0)
    assert np.isnan(low).all() and np.isnan(high).all()


def test_by_group_reports_logrank_and_hazard_ratio(demo_path):
    done = run_cli("report", "--db", str(demo_path), "--by", "lesion_side", "--json")
    assert done.returncode == 0, done.stderr
    primary = json.loads(done.stdout)["patency"]["primary"]
    assert set(primary["groups"]) == {"left", "right"}
    assert 0 <= primary["logrank_p"] <= 1
    assert primary["hazard_ratios"][0]["reference"] == "left"
    # two groups, no order: no pairwise tests, no test for trend, no landmark unless asked
    assert not {"pairwise", "trend", "landmark"} & set(primary)


def test_a_hazard_ratio_of_too_few_events_is_null_with_its_reason(demo_path):
    """The demo's right side has 3 primary-patency events: no number in the JSON or text."""
    done = run_cli("report", "--db", str(demo_path), "--by", "lesion_side", "--json")
    (ratio,) = json.loads(done.stdout)["patency"]["primary"]["hazard_ratios"]
    assert ratio == {"group": "right", "reference": "left", "hr": None, "ci_lower": None,
                     "ci_upper": None, "p": None, "estimable": False,
                     "reason": TOO_FEW_EVENTS_REASON}  # fmt: skip
    text = run_cli("report", "--db", str(demo_path), "--by", "lesion_side").stdout
    assert f"Cox HR Right vs Left: {TOO_FEW_EVENTS_REASON}" in text


def test_filter_changes_the_cohort(demo_path):
    done = run_cli("report", "--db", str(demo_path), "--where", "lesion_side=left", "--json")
    assert json.loads(done.stdout)["n_patients"] == 22


def test_text_report_is_readable(demo_path):
    done = run_cli("report", "--db", str(demo_path))
    assert done.returncode == 0, done.stderr
    assert "Primary patency" in done.stdout and "not patient data" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--db", "/nonexistent.duckdb"], "does not exist"),
        (["report", "--where", "lesion_side=center"], "lesion_side"),
        (["report", "--where", "colour=blue"], "unknown filter"),
        (["report", "--by", "age_band", "--reference", "old"], "choose one of < 60, 60-74, >= 75"),
        (["report", "--reference", "M"], "--reference needs --by"),
        (["report", "--landmark", "soon"], "--landmark"),
    ],
)
def test_errors_are_one_line_without_traceback(demo_path, args, message):
    if "--db" not in args:
        args = [*args, "--db", str(demo_path)]
    done = run_cli(*args)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_not_a_cohort_file_is_refused(tmp_path):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("this is not a database")
    done = run_cli("report", "--db", str(bogus))
    assert done.returncode == 1 and str(bogus) in done.stderr and "Traceback" not in done.stderr


def test_text_report_separates_thousands_on_a_registry(registry_path):
    from analytics.cohort.db import open_cohort
    from analytics.filters import CohortFilter
    from analytics.present.report import report_text
    from analytics.stats.safety import cohort_size
    from analytics.views import report_view

    with open_cohort(registry_path) as con:
        n = cohort_size(con, CohortFilter())[0]
        text = report_text(report_view(con, CohortFilter()))
    assert n >= 1000
    assert f"Patients: {n:,}\n" in text


def test_json_keeps_its_contract_and_says_its_version(report):
    """Version 3 adds n_limbs and each section's unit to version 2's keys (tests in
    test_report_units.py)."""
    assert report["report_version"] == 3
    assert set(report) == {
        "report_version", "cohort", "n_patients", "n_limbs", "patient_years", "patency",
        "clinical", "safety", "follow_up",
    }  # fmt: skip
    assert set(report["patency"]) == {"primary", "assisted_primary", "secondary", "recurrent_dvt"}
    row = report["patency"]["primary"]["overall"][0]
    assert list(row) == [
        "month", "estimate", "ci_lower", "ci_upper", "se", "at_risk", "events", "censored",
    ]  # fmt: skip
    assert set(report["safety"]["death"]) == {
        "unit", "patients", "percent", "ci_lower", "ci_upper", "events", "per_100_patient_years",
    }  # fmt: skip


def test_every_row_adds_up_to_the_curves_patients_kmunicate(demo_path):
    """at risk (time >= m) + events before m + censored before m = the curve's patients.

    The demo's 17 patients censored at exactly 36 months are at risk at 36, not censored
    before it: 20 + 14 + 0 = 34 (they were counted twice before, 20 + 14 + 17 = 51).
    """
    done = run_cli("report", "--db", str(demo_path), "--by", "thrombophilia", "--json")
    report = json.loads(done.stdout)
    sizes = {"no": 25, "yes": 9}
    for endpoint, result in report["patency"].items():
        for row in result["overall"]:
            assert row["at_risk"] + row["events"] + row["censored"] == 34, endpoint
        for level, rows in result["groups"].items():
            for row in rows:
                assert row["at_risk"] + row["events"] + row["censored"] == sizes[level]
    at_36 = report["patency"]["primary"]["overall"][-1]
    assert (at_36["at_risk"], at_36["events"], at_36["censored"]) == (20, 14, 0)


def test_json_medians_restricted_means_and_follow_up_match_r(report):
    """R 4.2.2, survival 3.5.3 on the demo's technical successes: summary(survfit(Surv(
    tte_primary_months, tte_primary_event) ~ 1, conf.type = "log-log"), rmean = 36)$table:
    median NA (20, NA), rmean 25.96323529412, se 2.32980658866; reverse Kaplan-Meier
    survfit(Surv(follow_up_months, 1 - died) ~ 1, conf.type = "log-log"): 36 (36, 36)."""
    primary = report["patency"]["primary"]
    assert primary["median"] == {"estimate": None, "ci_lower": 20.0, "ci_upper": None}
    assert primary["rmst"]["horizon"] == 36
    assert primary["rmst"]["estimate"] == pytest.approx(25.96323529412, rel=1e-9)
    assert primary["rmst"]["se"] == pytest.approx(2.32980658866, rel=1e-9)
    assert primary["notes"] == []
    # no deaths in the demo: the cumulative incidence is 1 - Kaplan-Meier at every month
    for incidence, row in zip(primary["cumulative_incidence"], primary["overall"], strict=True):
        assert list(incidence) == ["month", "estimate", "ci_lower", "ci_upper"]
        assert incidence["month"] == row["month"]
        assert incidence["estimate"] == pytest.approx(1 - row["estimate"])
    follow_up = report["follow_up"]
    assert list(follow_up) == [
        "median_months", "ci_lower", "ci_upper", "completeness", "planned_follow_up_months",
        "data_lock", "unit",
    ]  # fmt: skip
    assert [follow_up[key] for key in ("median_months", "ci_lower", "ci_upper")] == [36] * 3


def test_json_follow_up_is_complete_to_the_demos_36_month_protocol(report, demo_path):
    """Every technical success was followed 36 months or more and none died, so Clark's C
    to the earlier of the latest contact and the protocol's 36 months is 1 (it read 0.524
    to the latest contact); the text report says what it was measured to."""
    follow_up = report["follow_up"]
    assert follow_up["completeness"] == 1.0
    assert follow_up["planned_follow_up_months"] == 36
    assert follow_up["data_lock"] == "latest_contact"
    done = run_cli("report", "--db", str(demo_path))
    assert done.returncode == 0, done.stderr
    assert (
        "completeness (Clark's C) 100.0%, to the earlier of the latest contact and the "
        "protocol's planned 36 months" in done.stdout
    )


def test_json_group_summaries_and_restricted_mean_differences(demo_path):
    """R 4.2.2, survival 3.5.3: summary(survfit(Surv(t, e) ~ thrombophilia, conf.type =
    "log-log"), rmean = 24)$table on the demo's primary patency: no: rmean 19.91 (se
    1.53524460592), median NA (28, NA); yes: 14.6666666667 (se 3.04999494029), median 15
    (1.5, NA). The difference yes minus no has the CI 1.96 sqrt(se^2 + se^2)."""
    done = run_cli("report", "--db", str(demo_path), "--by", "thrombophilia", "--json",
                   "--rmst-horizon", "24")  # fmt: skip
    primary = json.loads(done.stdout)["patency"]["primary"]
    summary = primary["group_summary"]
    assert set(summary) == {"no", "yes"}
    assert set(summary["yes"]) == {"patients", "events", "median", "rmst", "cumulative_incidence"}
    assert (summary["no"]["patients"], summary["yes"]["patients"]) == (25, 9)
    assert summary["no"]["median"] == {"estimate": None, "ci_lower": 28.0, "ci_upper": None}
    assert summary["yes"]["median"] == {"estimate": 15.0, "ci_lower": 1.5, "ci_upper": None}
    assert summary["no"]["rmst"]["estimate"] == pytest.approx(19.91, rel=1e-9)
    assert summary["no"]["rmst"]["se"] == pytest.approx(1.53524460592, rel=1e-9)
    assert summary["yes"]["rmst"]["estimate"] == pytest.approx(14.6666666667, rel=1e-9)
    assert summary["yes"]["rmst"]["se"] == pytest.approx(3.04999494029, rel=1e-9)
    (difference,) = primary["rmst_differences"]
    assert (difference["group"], difference["reference"]) == ("yes", "no")
    yes, no = summary["yes"]["rmst"], summary["no"]["rmst"]
    assert difference["difference"] == pytest.approx(yes["estimate"] - no["estimate"])
    spread = 1.959963984540054 * (yes["se"] ** 2 + no["se"] ** 2) ** 0.5
    assert difference["ci_lower"] == pytest.approx(difference["difference"] - spread)


def test_a_horizon_beyond_follow_up_gives_null_with_a_note(demo_path):
    done = run_cli("report", "--db", str(demo_path), "--json", "--rmst-horizon", "60")
    primary = json.loads(done.stdout)["patency"]["primary"]
    assert primary["rmst"] == {"horizon": 60, "estimate": None, "se": None}
    assert primary["notes"] == [
        "restricted mean to 60 months not estimable for all: followed to 38.5 months"
    ]
    done = run_cli("report", "--db", str(demo_path), "--rmst-horizon", "-1")
    assert done.returncode != 0 and "--rmst-horizon" in done.stderr


# ---- pairwise log-rank, trend, reference group, landmark (issue 14, part 5) ---------------


@pytest.fixture(scope="module")
def by_age(demo_path) -> dict:
    done = run_cli("report", "--db", str(demo_path), "--by", "age_band", "--landmark", "12",
                   "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_json_pairwise_and_trend_match_r_on_the_demo(by_age):
    """R 4.2.2, survival 3.5.3 on the demo's technical successes, primary patency, age band
    < 60 (8), 60-74 (14), >= 75 (12): survdiff(Surv(t, e) ~ band) on each pair's subset,
    pchisq(chisq, 1, lower.tail = FALSE), p.adjust(p, "holm") (all 1); the trend statistic
    (sum(w * (obs - exp)))^2 / (t(w) %*% var %*% w) with w = 1:3 on the three groups."""
    primary = by_age["patency"]["primary"]
    pairs = [(0.750520135066, 1.0), (0.700842744995, 1.0), (0.447684737904, 1.0)]
    assert [(p["group"], p["other"]) for p in primary["pairwise"]] == [
        ("< 60", "60-74"), ("< 60", ">= 75"), ("60-74", ">= 75"),
    ]  # fmt: skip
    for pair, (p, holm) in zip(primary["pairwise"], pairs, strict=True):
        assert list(pair) == ["group", "other", "p", "p_holm"]
        assert pair["p"] == pytest.approx(p, rel=1e-9)
        assert pair["p_holm"] == pytest.approx(holm, rel=1e-9)
    assert list(primary["trend"]) == ["statistic", "p"]
    assert primary["trend"]["statistic"] == pytest.approx(0.195041155506, rel=1e-9)
    assert primary["trend"]["p"] == pytest.approx(0.658753612968, rel=1e-9)
    assert set(by_age["patency"]) == {"primary", "assisted_primary", "secondary", "recurrent_dvt"}
    assert all("pairwise" in entry and "trend" in entry for entry in by_age["patency"].values())


def test_json_landmark_matches_r_survfit_subset(by_age):
    """R 4.2.2, survival 3.5.3: summary(survfit(Surv(t - 12, e) ~ 1, subset = t > 12,
    conf.type = "log-log"), times = c(6, 12, 24)) on the demo's primary patency: n.risk 24,
    22, 20; surv 0.96, 0.88, 0.80; std.err 0.039191836, 0.064992307, 0.08; lower
    0.74838502, 0.67256145, 0.58444909; upper 0.99426695, 0.95963983, 0.91145806."""
    landmark = by_age["patency"]["primary"]["landmark"]
    assert list(landmark) == ["month", "overall"]
    assert landmark["month"] == 12
    rows = landmark["overall"]
    assert [row["month"] for row in rows] == [6, 12, 24, 36]  # the --at months, from month 12
    assert list(rows[0]) == list(by_age["patency"]["primary"]["overall"][0])
    expected = [
        (24, 0.96, 0.039191836, 0.74838502, 0.99426695),
        (22, 0.88, 0.064992307, 0.67256145, 0.95963983),
        (20, 0.80, 0.08, 0.58444909, 0.91145806),
    ]
    for row, (at_risk, estimate, se, lower, upper) in zip(rows, expected, strict=False):
        assert row["at_risk"] == at_risk
        assert (row["estimate"], row["se"], row["ci_lower"], row["ci_upper"]) == pytest.approx(
            (estimate, se, lower, upper), rel=1e-7
        )
    # KMunicate: the landmark's 25 patients (time > 12) at every month; none followed 36 more
    assert {row["at_risk"] + row["events"] + row["censored"] for row in rows} == {25}
    assert rows[-1]["estimate"] is None


def test_reference_choice_moves_the_ratios_and_differences_and_the_default_is_unchanged(
    demo_path, by_age
):
    done = run_cli("report", "--db", str(demo_path), "--by", "age_band", "--reference", "60-74",
                   "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    primary = json.loads(done.stdout)["patency"]["primary"]
    assert [(r["group"], r["reference"]) for r in primary["hazard_ratios"]] == [
        ("< 60", "60-74"), (">= 75", "60-74"),
    ]  # fmt: skip
    summary = primary["group_summary"]
    for d in primary["rmst_differences"]:
        assert d["reference"] == "60-74"
        expected = summary[d["group"]]["rmst"]["estimate"] - summary["60-74"]["rmst"]["estimate"]
        assert d["difference"] == pytest.approx(expected)
    assert primary["pairwise"] == by_age["patency"]["primary"]["pairwise"]  # pairs ignore it
    first = run_cli("report", "--db", str(demo_path), "--by", "age_band", "--reference", "< 60",
                    "--json")  # fmt: skip
    default = json.loads(first.stdout)["patency"]
    for endpoint, entry in by_age["patency"].items():
        assert default[endpoint] == {key: v for key, v in entry.items() if key != "landmark"}


def test_privacy_hides_comparisons_with_a_group_below_k(demo_path):
    """k = 10: the < 60 band has 8 patients (its events left out with them), the others
    fewer than 10 events each, so every pair, the trend and the log-rank test are hidden
    (tables.comparison_withheld)."""
    done = run_cli("report", "--db", str(demo_path), "--by", "age_band", "--privacy", "10",
                   "--json")  # fmt: skip
    data = json.loads(done.stdout)
    primary, suppressed = data["patency"]["primary"], data["privacy"]["suppressed"]
    events = {g: s["events"] for g, s in primary["group_summary"].items()}
    assert events == {"< 60": None, "60-74": "<10", ">= 75": "<10"}
    hidden = [(p["group"], p["other"]) for p in primary["pairwise"] if p["p"] is None]
    assert hidden == [("< 60", "60-74"), ("< 60", ">= 75"), ("60-74", ">= 75")]
    assert primary["trend"] == {"statistic": None, "p": None}
    assert primary["logrank_statistic"] is None and primary["logrank_p"] is None
    assert {"patency.primary.pairwise[0].p", "patency.primary.pairwise[1].p_holm",
            "patency.primary.trend.p"} <= set(suppressed)  # fmt: skip


def test_a_two_level_ordered_split_gets_the_trend_test_equal_to_its_logrank(demo_path):
    done = run_cli("report", "--db", str(demo_path), "--by", "symptom_duration_band", "--json")
    primary = json.loads(done.stdout)["patency"]["primary"]
    assert "pairwise" not in primary
    assert primary["trend"]["statistic"] == pytest.approx(primary["logrank_statistic"], rel=1e-9)


def test_text_report_states_the_comparisons_and_the_landmark(demo_path):
    done = run_cli("report", "--db", str(demo_path), "--by", "age_band", "--landmark", "12")
    assert done.returncode == 0, done.stderr
    assert "log-rank Age band: < 60 vs ≥ 75: p = 0.701, Holm-adjusted p = 1.000" in done.stdout
    assert "log-rank test for trend (scores 1..k in display order): chi2 = 0.20, p = 0.659" in (
        done.stdout
    )
    assert "landmark at 12 months (patients with time > 12; months since it)" in done.stdout
