"""The built demo cohort reproduces every published figure (domain.md), checked by SQL."""

from __future__ import annotations

import subprocess
import sys

import pytest

from analytics.cohort.db import ROOT, SCHEMA_VERSION, open_cohort

SUCCESSES = "FROM limb_summary WHERE technical_success"  # one limb a patient


def one(con, sql: str):
    return con.execute(sql).fetchone()


def test_enrolled_and_technical_success(demo):
    assert one(demo, "SELECT count(*), count_if(technical_success) FROM limbs") == (37, 34)


def test_one_post_thrombotic_limb_per_patient(demo):
    """The paper's patients had chronic post-thrombotic obstruction of one limb each."""
    limbs = "SELECT count(*), count(DISTINCT patient_id), count_if(aetiology = 'post_thrombotic')"
    assert one(demo, f"{limbs} FROM limbs") == (37, 37, 37)
    assert one(demo, "SELECT count(*) FROM patients") == (37,)


def test_stent_implanted_in_every_success(demo):
    assert one(demo, f"SELECT count_if(stents >= 1) {SUCCESSES}") == (34,)


def test_age_mean_sd_range(demo):
    mean, sd, low, high = one(
        demo,
        f"SELECT avg(age_years), stddev_samp(age_years), min(age_years), max(age_years) "
        f"{SUCCESSES}",
    )
    assert (round(mean, 1), round(sd, 1), low, high) == (66.2, 14.5, 37, 86)


def test_bmi_mean_sd(demo):
    mean, sd = one(demo, f"SELECT avg(bmi), stddev_samp(bmi) {SUCCESSES}")
    assert (round(mean, 1), round(sd, 2)) == (24.8, 1.63)


@pytest.mark.parametrize(
    ("condition", "published"),
    [
        ("sex = 'F'", 17),
        ("lesion_side = 'left'", 22),
        ("malignancy", 7),
        ("smoking", 7),
        ("immobilization", 2),
        ("thrombophilia", 9),
        ("recent_surgery", 8),
        ("trauma", 2),
        ("diabetes", 9),
    ],
)
def test_table1_counts(demo, condition, published):
    assert one(demo, f"SELECT count_if({condition}) {SUCCESSES}") == (published,)


@pytest.mark.parametrize(
    ("row", "condition", "published"),
    [
        # Each lesion counts in every widest published pattern it contains.
        ("CIV+EIV+CFV", "seg_civ AND seg_eiv AND seg_cfv", 19),
        ("IVC+CIV", "seg_ivc AND seg_civ", 4),
        ("CIV+EIV", "seg_civ AND seg_eiv AND NOT seg_cfv AND NOT seg_ivc", 6),
        ("EIV+CFV", "seg_eiv AND seg_cfv AND NOT seg_civ", 7),
    ],
)
def test_table1_segment_rows(demo, row, condition, published):
    assert one(demo, f"SELECT count_if({condition}) {SUCCESSES}") == (published,)


def test_follow_up_mean_and_range(demo):
    mean, low, high = one(
        demo,
        f"SELECT avg(follow_up_months), min(follow_up_months), max(follow_up_months) {SUCCESSES}",
    )
    assert (round(mean, 1), low, high) == (36.5, 36, 45.5)


@pytest.mark.parametrize(
    ("endpoint", "patent"),
    [
        # Table 2 after the swap rule (assisted can never be below primary)
        ("primary", {6: 28, 12: 25, 24: 22, 36: 20}),
        ("assisted_primary", {6: 29, 12: 27, 24: 24, 36: 21}),
    ],
)
def test_published_patency_from_the_view(demo, endpoint, patent):
    for month, published in patent.items():
        lost = one(
            demo,
            f"""SELECT count(*) FROM time_to_event JOIN limbs USING (limb_id)
            WHERE technical_success AND endpoint = '{endpoint}' AND event AND months <= {month}""",
        )[0]
        assert 34 - lost == published, (endpoint, month)


def test_secondary_never_below_assisted_never_below_primary(demo):
    rows = demo.execute(
        """SELECT limb_id, endpoint, months, event FROM time_to_event
        WHERE endpoint IN ('primary', 'assisted_primary', 'secondary')"""
    ).fetchall()
    loss = {}
    for patient, endpoint, months, event in rows:
        loss[(patient, endpoint)] = months if event else float("inf")
    for patient in {p for p, _ in loss}:
        assert (
            loss[(patient, "primary")]
            <= loss[(patient, "assisted_primary")]
            <= loss[(patient, "secondary")]
        )


def test_no_event_after_follow_up_and_no_deaths(demo):
    late = one(
        demo,
        "SELECT count(*) FROM events JOIN limbs USING (patient_id) WHERE month > follow_up_months",
    )
    assert late == (0,)
    assert one(demo, "SELECT count(*) FROM events WHERE event = 'death'") == (0,)


def test_provenance_says_reconstruction(demo):
    meta = dict(demo.execute("SELECT key, value FROM cohort_metadata").fetchall())
    assert meta["is_reconstruction"] == "true"
    assert meta["schema_version"] == SCHEMA_VERSION
    assert "secondary patency" in meta["not_published"]


def test_build_demo_cli_writes_a_file_that_reproduces_table1(tmp_path, demo_path):
    out = tmp_path / "x.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "build-demo", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with open_cohort(out) as con:
        assert one(con, f"SELECT count(*), count_if(lesion_side = 'left') {SUCCESSES}") == (34, 22)


def test_demo_is_deterministic(tmp_path, demo):
    """Two builds hold the same rows (only the build timestamp differs)."""
    from analytics.cohort.demo import build_demo

    with open_cohort(build_demo(tmp_path / "again.duckdb")) as again:
        for table in ("patients", "limbs", "assessments", "events"):
            query = f"SELECT * FROM {table} ORDER BY ALL"
            assert again.execute(query).fetchall() == demo.execute(query).fetchall()


def test_generator_reproduces_the_committed_csvs(tmp_path, demo_path):
    """The committed CSVs are exactly what the committed generator writes."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "data" / "demo" / "reconstruct.py"), "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in ("patients", "limbs", "assessments", "events", "metadata"):
        committed = (ROOT / "data" / "demo" / f"{name}.csv").read_bytes()
        assert (tmp_path / f"{name}.csv").read_bytes() == committed, name
