"""The synthetic registry: a valid cohort file, reproducible, like the demo, with real effects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter

from analytics.cohort import synth, write
from analytics.cohort.db import CohortError, metadata, open_cohort
from analytics.cohort.synth import synthesize

PATIENTS = 5_000
CENTERS = 8
SEED = 1
DATA_TABLES = ("patients", "assessments", "events")


@pytest.fixture(scope="module")
def synth_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small synthetic registry, built once for the module."""
    return synthesize(tmp_path_factory.mktemp("synth") / "registry.duckdb", PATIENTS, CENTERS, SEED)


@pytest.fixture
def cohort(synth_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, hardened connection to it, as the dashboard opens it."""
    con = open_cohort(synth_path)
    yield con
    con.close()


def digest(path: Path) -> list[tuple[int, str]]:
    """Row count and an order-independent checksum of every data table."""
    con = open_cohort(path)
    try:
        return [
            con.execute(
                f"SELECT count(*), md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) "
                f"FROM {table} AS t"
            ).fetchone()
            for table in DATA_TABLES
        ]
    finally:
        con.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    return con.execute(sql).fetchall()[0][0]


def technical_successes(con: duckdb.DuckDBPyConnection, endpoint: str) -> pd.DataFrame:
    """Time to ``endpoint`` of technical successes, with the covariates of the patency model."""
    return con.execute(
        """
        SELECT t.months, t.event::INTEGER AS event, p.center,
               p.thrombophilia::INTEGER AS thrombophilia, p.malignancy::INTEGER AS malignancy,
               p.recent_surgery::INTEGER AS recent_surgery,
               (p.lesion_side = 'right')::INTEGER AS right_side, p.seg_cfv::INTEGER AS cfv
        FROM time_to_event AS t JOIN patients AS p USING (patient_id)
        WHERE p.technical_success AND t.endpoint = ?
        """,
        [endpoint],
    ).df()


def survival_at(frame: pd.DataFrame, month: float) -> float:
    return float(KaplanMeierFitter().fit(frame["months"], frame["event"]).predict(month))


def test_file_opens_as_a_synthetic_cohort(cohort: duckdb.DuckDBPyConnection) -> None:
    meta = metadata(cohort)
    assert meta["synthetic"] == "true"
    assert meta["is_reconstruction"] == "false"
    assert meta["seed"] == str(SEED)
    assert meta["name"] == f"Synthetic registry: {PATIENTS} patients, {CENTERS} centres, seed 1"
    assert {"source", "method", "created", "built_at", "schema_version"} <= meta.keys()
    assert scalar(cohort, "SELECT count(*) FROM patients") == PATIENTS


def test_patient_ids_are_pseudonyms_and_centres_are_labels(
    cohort: duckdb.DuckDBPyConnection,
) -> None:
    assert scalar(cohort, r"SELECT bool_and(regexp_full_match(patient_id, 'S\d{7}')) FROM patients")
    centres = [row[0] for row in cohort.execute("SELECT DISTINCT center FROM patients").fetchall()]
    assert sorted(centres) == [f"C{k:02d}" for k in range(1, CENTERS + 1)]


def test_same_seed_same_rows_whatever_the_threads_and_batches(
    synth_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(synth, "CONNECT_CONFIG", {**synth.CONNECT_CONFIG, "threads": 1})
    monkeypatch.setattr(synth, "BATCH_PATIENTS", 777)
    again = synthesize(tmp_path / "again.duckdb", PATIENTS, CENTERS, SEED)
    assert digest(again) == digest(synth_path)


def test_another_seed_other_rows(synth_path: Path, tmp_path: Path) -> None:
    other = synthesize(tmp_path / "other.duckdb", PATIENTS, CENTERS, SEED + 1)
    assert all(a != b for a, b in zip(digest(other), digest(synth_path), strict=True))


@pytest.mark.parametrize(
    ("share", "expected", "tolerance"),
    [
        ("avg(technical_success::INTEGER)", 34 / 37, 0.02),
        ("avg((sex = 'F')::INTEGER)", 0.5, 0.03),
        ("avg((lesion_side = 'left')::INTEGER)", 22 / 34, 0.03),
        ("avg(malignancy::INTEGER)", 7 / 34, 0.03),
        ("avg(smoking::INTEGER)", 7 / 34, 0.03),
        ("avg(immobilization::INTEGER)", 2 / 34, 0.02),
        ("avg(thrombophilia::INTEGER)", 9 / 34, 0.03),
        ("avg(recent_surgery::INTEGER)", 8 / 34, 0.03),
        ("avg(trauma::INTEGER)", 2 / 34, 0.02),
        ("avg(diabetes::INTEGER)", 9 / 34, 0.03),
        ("avg((seg_civ AND seg_eiv AND seg_cfv AND NOT seg_ivc)::INTEGER)", 17 / 36, 0.03),
        ("avg((seg_ivc AND NOT seg_eiv)::INTEGER)", 4 / 36, 0.02),
        ("avg((NOT seg_civ)::INTEGER)", 7 / 36, 0.02),
        ("avg(urokinase::INTEGER)", 0.25, 0.03),
        ("avg(age_years)", 66.2, 1.0),
        ("stddev(age_years)", 14.5, 1.0),
        ("avg(bmi)", 24.8, 0.2),
        ("avg(follow_up_months)", 36, 1.5),
    ],
)
def test_patients_look_like_the_published_series(
    cohort: duckdb.DuckDBPyConnection, share: str, expected: float, tolerance: float
) -> None:
    assert scalar(cohort, f"SELECT {share} FROM patients") == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize(
    ("share", "expected", "tolerance"),
    [
        ("avg((ceap_c = 4)::INTEGER) FILTER (WHERE month = 0)", 11 / 34, 0.03),
        ("avg((ceap_c = 6)::INTEGER) FILTER (WHERE month = 0)", 8 / 34, 0.03),
        ("avg(villalta) FILTER (WHERE month = 0)", 11.9, 0.3),
        ("avg(villalta) FILTER (WHERE month > 0 AND technical_success)", 5.32, 0.4),
        ("avg(reflux::INTEGER) FILTER (WHERE month = 0)", 25 / 34, 0.03),
        ("avg((ceap_c = 3)::INTEGER) FILTER (WHERE month > 0 AND technical_success)", 8 / 34, 0.03),
        ("count(*) FILTER (WHERE ceap_c = 6 AND month > 0 AND technical_success)", 0, 0),
    ],
)
def test_assessments_look_like_the_published_series(
    cohort: duckdb.DuckDBPyConnection, share: str, expected: float, tolerance: float
) -> None:
    sql = f"SELECT {share} FROM assessments JOIN patients USING (patient_id)"
    assert scalar(cohort, sql) == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize(
    ("event", "expected", "tolerance"),
    [("minor_bleeding", 0.12, 0.02), ("major_bleeding", 0.01, 0.006), ("death", 0.03, 0.01)],
)
def test_safety_event_rates(
    cohort: duckdb.DuckDBPyConnection, event: str, expected: float, tolerance: float
) -> None:
    count = cohort.execute("SELECT count(*) FROM events WHERE event = ?", [event]).fetchall()[0][0]
    assert count / PATIENTS == pytest.approx(expected, abs=tolerance)


def test_a_pulmonary_embolism_comes_with_two_in_five_recurrent_dvts(
    cohort: duckdb.DuckDBPyConnection,
) -> None:
    share = scalar(
        cohort,
        "SELECT avg((pe.month IS NOT NULL)::INTEGER) FROM events AS dvt "
        "LEFT JOIN events AS pe ON pe.patient_id = dvt.patient_id AND pe.month = dvt.month "
        "AND pe.event = 'pulmonary_embolism' WHERE dvt.event = 'recurrent_dvt'",
    )
    assert share == pytest.approx(0.4, abs=0.05)


def test_ulcers_heal_in_the_first_three_months_in_two_of_five(
    cohort: duckdb.DuckDBPyConnection,
) -> None:
    share = scalar(
        cohort,
        "SELECT avg(coalesce(e.month BETWEEN 1 AND 3, false)::INTEGER) FROM assessments AS a "
        "LEFT JOIN events AS e ON e.patient_id = a.patient_id AND e.event = 'ulcer_healed' "
        "WHERE a.month = 0 AND a.ceap_c = 6",
    )
    assert share == pytest.approx(0.4, abs=0.05)


def test_primary_patency_at_12_months_of_technical_successes(
    cohort: duckdb.DuckDBPyConnection,
) -> None:
    primary = technical_successes(cohort, "primary")
    assert survival_at(primary, 12) == pytest.approx(0.73, abs=0.05)


def test_recurrent_dvt_by_36_months(cohort: duckdb.DuckDBPyConnection) -> None:
    dvt = technical_successes(cohort, "recurrent_dvt")
    assert 1 - survival_at(dvt, 36) == pytest.approx(0.20, abs=0.04)


def test_thrombophilia_raises_the_hazard_of_losing_primary_patency(
    cohort: duckdb.DuckDBPyConnection,
) -> None:
    primary = technical_successes(cohort, "primary").drop(columns="center")
    ratios = CoxPHFitter().fit(primary, "months", "event").hazard_ratios_
    assert 1.5 < ratios["thrombophilia"] < 2.7
    assert ratios["right_side"] < 1 < ratios["cfv"]


def test_thrombophilia_and_malignancy_raise_the_hazard_of_recurrent_dvt(
    cohort: duckdb.DuckDBPyConnection,
) -> None:
    columns = ["months", "event", "thrombophilia", "malignancy"]
    dvt = technical_successes(cohort, "recurrent_dvt")[columns]
    ratios = CoxPHFitter().fit(dvt, "months", "event").hazard_ratios_
    assert 1.5 < ratios["thrombophilia"] < 2.7
    assert 1.3 < ratios["malignancy"] < 2.5


def test_centres_differ_in_primary_patency(cohort: duckdb.DuckDBPyConnection) -> None:
    primary = technical_successes(cohort, "primary")
    by_centre = [survival_at(group, 12) for _, group in primary.groupby("center")]
    assert max(by_centre) - min(by_centre) > 0.1


def test_patency_endpoints_are_ordered_for_every_patient(
    cohort: duckdb.DuckDBPyConnection,
) -> None:
    disorder = scalar(
        cohort,
        """
        SELECT count(*) FROM (
            PIVOT (SELECT patient_id, endpoint, months FROM time_to_event)
            ON endpoint IN ('primary', 'assisted_primary', 'secondary') USING first(months)
        )
        WHERE NOT ("primary" <= assisted_primary AND assisted_primary <= secondary)
        """,
    )
    assert disorder == 0
    kinds = scalar(
        cohort,
        "SELECT count(DISTINCT (endpoint, event)) FROM time_to_event "
        "WHERE endpoint IN ('assisted_primary', 'secondary')",
    )
    assert kinds == 4  # each endpoint has both losses and censorings


def test_technical_failures_have_no_stent_and_no_patency_events(
    cohort: duckdb.DuckDBPyConnection,
) -> None:
    assert scalar(cohort, "SELECT max(stents) FROM patients WHERE NOT technical_success") == 0
    assert scalar(cohort, "SELECT min(stents) FROM patients WHERE technical_success") == 1
    patency_events = scalar(
        cohort,
        "SELECT count(*) FROM events JOIN patients USING (patient_id) WHERE NOT "
        "technical_success AND event IN ('restenosis', 'occlusion', 'reintervention')",
    )
    assert patency_events == 0


def test_no_event_after_follow_up_and_death_ends_it(cohort: duckdb.DuckDBPyConnection) -> None:
    late = scalar(
        cohort,
        "SELECT count(*) FROM events JOIN patients USING (patient_id) "
        "WHERE month > follow_up_months",
    )
    assert late == 0
    deaths_not_last = scalar(
        cohort,
        "SELECT count(*) FROM events JOIN patients USING (patient_id) "
        "WHERE event = 'death' AND month <> follow_up_months",
    )
    assert deaths_not_last == 0


def test_every_assessment_and_event_belongs_to_a_patient(
    cohort: duckdb.DuckDBPyConnection,
) -> None:
    for table in ("assessments", "events"):
        orphans = f"SELECT count(*) FROM {table} ANTI JOIN patients USING (patient_id)"
        assert scalar(cohort, orphans) == 0
    visits = scalar(cohort, "SELECT count(*) FROM assessments WHERE month > 0")
    assert visits == PATIENTS


def test_a_failed_build_leaves_the_destination_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "registry.duckdb"
    out.write_bytes(b"the previous cohort")

    def refuse(path: Path) -> None:
        raise CohortError(f"cohort file {path} refused")

    monkeypatch.setattr(write, "open_cohort", refuse)
    with pytest.raises(CohortError):
        synthesize(out, 100, 2, SEED)
    assert out.read_bytes() == b"the previous cohort"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


@pytest.mark.parametrize(("patients", "centers", "seed"), [(0, 2, 1), (10, 0, 1), (10, 2, 2**63)])
def test_refuses_a_cohort_that_cannot_be_drawn(
    tmp_path: Path, patients: int, centers: int, seed: int
) -> None:
    with pytest.raises(ValueError):
        synthesize(tmp_path / "registry.duckdb", patients, centers, seed)
    assert list(tmp_path.iterdir()) == []


def test_synth_from_the_command_line(tmp_path, capsys):
    from analytics.cli import main

    out = tmp_path / "registry.duckdb"
    assert main(["synth", "--patients", "300", "--centers", "3", "--out", str(out)]) == 0
    with open_cohort(out) as con:
        assert con.execute("SELECT count(*) FROM patients").fetchall()[0][0] == 300
    assert main(["synth", "--patients", "0", "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith("error: patients must be at least 1")


def test_no_limb_falls_below_c5_after_an_ulcer(cohort: duckdb.DuckDBPyConnection) -> None:
    """CEAP keeps a healed ulcer's limb at C5 or above: synth invents no such move (the demo's
    forced regression is the paper's, not synth's)."""
    moves = scalar(
        cohort,
        "SELECT count(*) FROM assessments AS later JOIN assessments AS earlier "
        "USING (patient_id) WHERE earlier.month < later.month AND earlier.ceap_c >= 5 "
        "AND later.ceap_c < 5",
    )
    ulcer_limbs = scalar(cohort, "SELECT count(*) FROM assessments WHERE month = 0 AND ceap_c >= 5")
    assert ulcer_limbs > PATIENTS / 2 and moves == 0


def test_an_exported_synthetic_registry_imports_without_a_ceap_warning(
    synth_path: Path, tmp_path: Path
) -> None:
    from analytics.cohort.importer import import_with_report

    source = tmp_path / "csv"
    source.mkdir()
    kept = "SELECT patient_id FROM patients ORDER BY patient_id LIMIT 1000"
    with open_cohort(synth_path) as con:
        for table in DATA_TABLES:
            rows = con.execute(f"SELECT * FROM {table} WHERE patient_id IN ({kept})").df()
            rows.to_csv(source / f"{table}.csv", index=False)
    imported = import_with_report(source, tmp_path / "again.duckdb")
    assert imported.patients == 1000 and imported.warnings == ()
