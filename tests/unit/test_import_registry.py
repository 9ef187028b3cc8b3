"""Importing the registry layout: people and limbs, stents, repeatable typed events,
assessments with the validated scores, antithrombotic periods, months or dates."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.cohort.db import open_cohort
from analytics.cohort.dictionary import CROSS_COLUMN_RULES
from analytics.cohort.importer import (
    REGISTRY,
    ValidationError,
    import_registry,
    import_with_report,
    months_between,
)
from analytics.cohort.own_columns import DICTIONARY
from analytics.rules import DAYS_PER_MONTH
from tests.conftest import write_single_limb

PERSON = dict.fromkeys(
    ("malignancy", "smoking", "immobilization", "thrombophilia", "recent_surgery", "trauma",
     "diabetes"), "no",
)  # fmt: skip
LIMB = {
    "age_years": "60", "bmi": "26.5", "technical_success": "yes", "follow_up_months": "24",
    "seg_ivc": "no", "seg_civ": "yes", "seg_eiv": "yes", "seg_cfv": "no",
}  # fmt: skip
A_DAY = date(2020, 1, 10)  # patient A's both limbs (bilateral, one procedure)
C_DAY, C_STAGED = date(2019, 6, 1), date(2019, 9, 1)  # patient C: a staged second limb


def registry_tables() -> dict[str, list[dict[str, str]]]:
    """A small registry: A bilateral, B one limb, C two limbs staged three months apart,
    D one limb and no therapy recorded; three aetiologies; stents; two reinterventions in
    one month; patient events; antithrombotic periods; scores; months and dates."""
    patients = [
        {"patient_id": "A", "sex": "F", **PERSON, "center": "North"},
        {"patient_id": "B", "sex": "male", **PERSON, "thrombophilia": "yes"},
        {"patient_id": "C", "sex": "M", **PERSON},
        {"patient_id": "D", "sex": "F", **PERSON},
    ]
    limbs = [
        {"limb_id": "A-L", "patient_id": "A", "side": "left", "aetiology": "post_thrombotic",
         "procedure_date": A_DAY.isoformat(), **LIMB, "stents": "2", "inflow": "good",
         "ivus": "yes"},
        {"limb_id": "A-R", "patient_id": "A", "side": "R", "aetiology": "NIVL",
         "procedure_date": A_DAY.isoformat(), **LIMB, "stents": "1", "inflow": "poor",
         "ivus": "yes"},
        {"limb_id": "B-L", "patient_id": "B", "side": "left", "aetiology": "acute",
         "procedure_date": "2021-03-01", **LIMB, "stents": "1", "inflow": "", "ivus": ""},
        {"limb_id": "C-R", "patient_id": "C", "side": "right", "aetiology": "post_thrombotic",
         "procedure_date": C_DAY.isoformat(), **LIMB, "stents": "", "inflow": "", "ivus": ""},
        {"limb_id": "C-L", "patient_id": "C", "side": "left", "aetiology": "non_thrombotic",
         "procedure_date": C_STAGED.isoformat(), **LIMB, "follow_up_months": "12",
         "stents": "", "inflow": "", "ivus": ""},
        {"limb_id": "D-L", "patient_id": "D", "side": "left", "aetiology": "post_thrombotic",
         "procedure_date": "2018-05-05", **LIMB, "stents": "", "inflow": "", "ivus": ""},
    ]  # fmt: skip
    stent = {"diameter_mm": "", "length_mm": "", "below_inguinal_ligament": ""}
    stents = [
        {"limb_id": "A-L", "brand": "Wallstent", "design": "braided", **stent,
         "diameter_mm": "16", "length_mm": "90"},
        {"limb_id": "A-L", "brand": "Venovo", "design": "laser-cut", **stent,
         "diameter_mm": "14", "length_mm": "60", "below_inguinal_ligament": "yes"},
        {"limb_id": "A-R", "brand": "Vici", "design": "laser_cut", **stent, "diameter_mm": "14"},
        {"limb_id": "B-L", "brand": "Abre", "design": "nitinol", **stent},
    ]  # fmt: skip
    event = {"patient_id": "", "event_date": "", "reintervention_type": "", "indication": "",
             "target_lesion": ""}  # fmt: skip
    reintervention = {"event": "reintervention", "reintervention_type": "angioplasty",
                      "indication": "restenosis", "target_lesion": "yes"}  # fmt: skip
    events = [
        {**event, "limb_id": "A-L", "month": "6", "event": "restenosis"},
        {**event, "limb_id": "A-L", "month": "7", **reintervention},
        {**event, "limb_id": "A-L", "month": "7", **reintervention},  # the same, again
        {**event, "limb_id": "A-R", "month": "", "event": "occlusion",
         "event_date": (A_DAY + timedelta(days=182)).isoformat()},
        {**event, "patient_id": "A", "limb_id": "", "month": "", "event": "major_bleeding",
         "event_date": (A_DAY + timedelta(days=40)).isoformat()},
        {**event, "patient_id": "B", "limb_id": "", "month": "3", "event": "DVT"},
        {**event, "patient_id": "B", "limb_id": "", "month": "3", "event": "PE"},
        {**event, "patient_id": "C", "limb_id": "C-L", "month": "2", "event": "occlusion"},
        {**event, "limb_id": "C-L", "month": "2.5", "event": "patency_restored"},
        {**event, "patient_id": "C", "limb_id": "", "month": "4", "event": "minor_bleeding"},
    ]  # fmt: skip
    visit = {"assessment_date": "", "vcss": "", "veines_qol": "", "veines_sym": "",
             "civiq20": "", "reflux": "", "ulcer": "", "imaging": ""}  # fmt: skip
    assessments = [
        {**visit, "limb_id": "A-L", "month": "0", "ceap_c": "6", "villalta": "14", "vcss": "12",
         "veines_qol": "38.5", "veines_sym": "40", "civiq20": "70", "ulcer": "active"},
        {**visit, "limb_id": "A-L", "month": "",
         "assessment_date": (A_DAY + timedelta(days=365)).isoformat(), "ceap_c": "5",
         "villalta": "6", "vcss": "5", "veines_qol": "52", "veines_sym": "55", "civiq20": "35",
         "ulcer": "healed", "imaging": "duplex"},
        {**visit, "limb_id": "A-R", "month": "0", "ceap_c": "3", "villalta": "7"},
        {**visit, "limb_id": "B-L", "month": "0", "ceap_c": "4", "villalta": "9"},
        {**visit, "limb_id": "C-R", "month": "0", "ceap_c": "4", "villalta": "8"},
    ]  # fmt: skip
    therapy = {"start_month": "", "end_month": "", "start_date": "", "end_date": ""}
    antithrombotic = [
        {**therapy, "patient_id": "A", "start_month": "-0.5", "end_month": "6", "agent": "doac"},
        {**therapy, "patient_id": "A", "start_month": "6", "agent": "aspirin"},
        {**therapy, "patient_id": "B", "start_date": "2021-03-01", "end_date": "2021-09-01",
         "agent": "warfarin"},
        {**therapy, "patient_id": "C", "start_month": "0", "end_month": "1", "agent": "lmwh"},
    ]  # fmt: skip
    return {
        "patients": patients, "limbs": limbs, "stents": stents, "events": events,
        "assessments": assessments, "antithrombotic": antithrombotic,
    }  # fmt: skip


def write_csvs(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def write_workbook(path: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    with pd.ExcelWriter(path) as writer:
        for table, rows in tables.items():
            pd.DataFrame(rows, dtype=str).to_excel(writer, sheet_name=table, index=False)
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_csvs(tmp_path_factory.mktemp("registry") / "csv", registry_tables())
    return import_registry(folder, folder.parent / "registry.duckdb")


def summary(path: Path) -> pd.DataFrame:
    with open_cohort(path) as con:
        return con.execute("SELECT * FROM limb_summary").df().set_index("limb_id")


def refused(tables: dict[str, list[dict[str, str]]], tmp_path: Path) -> list[tuple]:
    folder = write_csvs(tmp_path / "csv", tables)
    with pytest.raises(ValidationError) as caught:
        import_registry(folder, tmp_path / "out.duckdb")
    assert not (tmp_path / "out.duckdb").exists()
    return [(p.file, p.row, p.column, p.value, p.rule) for p in caught.value.problems]


def test_a_bilateral_registry_imports_limb_by_limb(imported):
    rows = summary(imported)
    assert sorted(rows.index) == ["A-L", "A-R", "B-L", "C-L", "C-R", "D-L"]
    a = rows.loc[["A-L", "A-R"]]
    assert set(a["patient_id"]) == {"A"} and set(a["patient_limbs"]) == {2}
    assert list(a["lesion_side"]) == ["left", "right"]
    assert list(a["aetiology"]) == ["post_thrombotic", "non_thrombotic"]
    assert rows.loc["B-L", "aetiology"] == "acute_thrombotic"
    assert list(a["center"]) == ["North", "North"]  # the person's columns on each limb
    assert rows.loc["B-L", "thrombophilia"] and not rows.loc["A-L", "thrombophilia"]
    with open_cohort(imported) as con:
        people = con.execute("SELECT count(*) FROM patients").fetchone()[0]
    assert people == 4


def test_stents_are_counted_and_described_per_limb(imported):
    rows = summary(imported)
    assert rows.loc["A-L", "stents"] == 2 and rows.loc["A-L", "stent_brand"] == "mixed"
    assert rows.loc["A-L", "stented_length_mm"] == 150 and rows.loc["A-L", "max_diameter_mm"] == 16
    assert bool(rows.loc["A-L", "below_inguinal_ligament"])
    assert (rows.loc["A-R", "stents"], rows.loc["A-R", "stent_brand"]) == (1, "Vici")
    assert rows.loc["B-L", "stent_design"] == "laser_cut"  # "nitinol", the synonym


def test_repeated_typed_reinterventions_are_kept_each(imported):
    with open_cohort(imported) as con:
        rows = con.execute(
            "SELECT patient_id, month, reintervention_type, indication, target_lesion "
            "FROM events WHERE limb_id = 'A-L' AND event = 'reintervention'"
        ).fetchall()
    assert rows == [("A", 7.0, "angioplasty", "restenosis", True)] * 2
    assert summary(imported).loc["A-L", "tte_primary_months"] == 6  # the restenosis


def test_patient_events_count_on_each_of_the_patients_limbs(imported):
    rows = summary(imported)
    assert list(rows.loc[["A-L", "A-R"], "n_major_bleeding"]) == [1, 1]
    assert rows.loc["B-L", "n_recurrent_dvt"] == 1 and rows.loc["B-L", "n_pulmonary_embolism"] == 1
    # C's bleeding at month 4 of C's clock is 4 - 3.02 months after the staged limb's
    # procedure (92 days later), and before neither limb's end of follow-up.
    offset = (C_STAGED - C_DAY).days / DAYS_PER_MONTH
    assert rows.loc["C-L", "offset_months"] == pytest.approx(offset)
    assert rows.loc["C-L", "first_minor_bleeding_months"] == pytest.approx(4 - offset)
    assert rows.loc["C-R", "first_minor_bleeding_months"] == 4


def test_a_limb_events_patient_is_taken_from_its_limb(imported):
    with open_cohort(imported) as con:
        patients = con.execute(
            "SELECT DISTINCT patient_id FROM events WHERE limb_id LIKE 'C-%'"
        ).fetchall()
    assert patients == [("C",)]


def test_therapy_at_the_procedure(imported):
    therapy = summary(imported)["therapy_at_procedure"]
    assert therapy["A-L"] == therapy["A-R"] == "doac"
    assert therapy["B-L"] == "vka"  # started on the day, by date ("warfarin")
    assert therapy["C-R"] == "lmwh" and therapy["C-L"] == "none"  # ended before the staged one
    assert therapy["D-L"] == "not_recorded"


def test_dates_become_months_after_the_procedure_and_are_kept(imported):
    """182 days after the procedure is 182 / 30.4375 = 5.98 months; 365 days 11.99."""
    with open_cohort(imported) as con:
        occlusion = con.execute(
            "SELECT month, event_date FROM events WHERE limb_id = 'A-R' AND event = 'occlusion'"
        ).fetchone()
        visit = con.execute(
            "SELECT month, assessment_date FROM assessments WHERE limb_id = 'A-L' AND month > 0"
        ).fetchone()
        bleeding = con.execute("SELECT month FROM events WHERE event = 'major_bleeding'").fetchone()
        period = con.execute(
            "SELECT start_month, end_month FROM antithrombotic WHERE agent = 'vka'"
        ).fetchone()
    assert occlusion == (5.98, A_DAY + timedelta(days=182))
    assert visit == (11.99, A_DAY + timedelta(days=365))
    assert bleeding == (1.31,)  # 40 days
    assert period == (0.0, 6.05)  # 2021-03-01 to 2021-09-01: 184 days
    rows = summary(imported)
    assert rows.loc["A-R", "tte_assisted_primary_months"] == 5.98
    assert (rows.loc["A-L", "vcss_before"], rows.loc["A-L", "vcss_after"]) == (12, 5)
    assert rows.loc["A-L", "civiq20_after"] == 35 and rows.loc["A-L", "veines_qol_after"] == 52


def test_the_workbook_imports_as_the_csvs(imported, tmp_path):
    book = write_workbook(tmp_path / "registry.xlsx", registry_tables())
    from_book = import_registry(book, tmp_path / "book.duckdb")
    with open_cohort(from_book) as a, open_cohort(imported) as b:
        for table in REGISTRY.tables:
            query = f"SELECT * FROM {table} ORDER BY ALL"
            assert a.execute(query).fetchall() == b.execute(query).fetchall(), table


def test_stents_and_antithrombotic_may_be_left_out(tmp_path):
    tables = registry_tables()
    del tables["stents"], tables["antithrombotic"]
    done = import_with_report(write_csvs(tmp_path / "csv", tables), tmp_path / "out.duckdb")
    assert (done.patients, done.limbs) == (4, 6)
    rows = summary(done.path)
    assert set(rows["therapy_at_procedure"]) == {"not_recorded"}
    assert rows.loc["A-L", "stents"] == 2  # the limb's own count


def edited(table: str, index: int, **cells: str) -> dict[str, list[dict[str, str]]]:
    tables = registry_tables()
    tables[table][index] = {**tables[table][index], **cells}
    return tables


def test_a_month_and_a_date_that_disagree_are_refused_naming_both(tmp_path):
    day = (A_DAY + timedelta(days=182)).isoformat()  # 5.98 months
    problems = refused(edited("events", 3, month="5", event_date=day), tmp_path)
    assert problems == [(
        "events.csv", 5, "month, event_date",
        f"5 and {day} (5.98 months after the procedure (a limb event: the limb's; a patient "
        "event: the patient's first))",
        "month and event_date disagree by more than 0.5 month: correct one of them, or leave "
        "one empty",
    )]  # fmt: skip


def test_a_month_and_a_date_within_half_a_month_are_one_time(tmp_path):
    day = (A_DAY + timedelta(days=182)).isoformat()
    tables = edited("events", 3, month="6", event_date=day)
    out = import_registry(write_csvs(tmp_path / "csv", tables), tmp_path / "out.duckdb")
    with open_cohort(out) as con:
        month = con.execute(
            "SELECT month FROM events WHERE event = 'occlusion' AND limb_id = 'A-R'"
        )
        assert month.fetchone() == (6.0,)  # the month as given


def test_a_limbs_follow_up_may_be_given_as_its_last_contact_date(tmp_path):
    """Without a follow_up_months column, each limb's last contact by date: 731 days after
    the procedure are 731 / 30.4375 = 24.016 months, 24.02; C-L's 366 days 12.02."""
    tables = registry_tables()
    for row in tables["limbs"]:
        day = date.fromisoformat(row["procedure_date"])
        row["last_contact_date"] = (
            day + timedelta(days=366 if row["limb_id"] == "C-L" else 731)
        ).isoformat()
        del row["follow_up_months"]
    out = import_registry(write_csvs(tmp_path / "csv", tables), tmp_path / "out.duckdb")
    with open_cohort(out) as con:
        limbs = con.execute(
            "SELECT limb_id, follow_up_months, last_contact_date - procedure_date FROM limbs"
        ).fetchall()
    assert sorted(limbs) == [
        ("A-L", 24.02, 731), ("A-R", 24.02, 731), ("B-L", 24.02, 731), ("C-L", 12.02, 366),
        ("C-R", 24.02, 731), ("D-L", 24.02, 731),
    ]  # fmt: skip
    rows = summary(out)
    assert (
        rows.loc["C-L", "tte_secondary_months"] == 12.02
    )  # reopened at 2.5, censored at its last contact
    assert "last_contact_date" not in rows.columns  # kept for audit, in no view's table


def test_a_follow_up_and_a_last_contact_date_that_disagree_are_refused_naming_the_limb(tmp_path):
    day = (A_DAY + timedelta(days=800)).isoformat()  # 26.28 months; follow-up 24
    problems = refused(edited("limbs", 0, last_contact_date=day), tmp_path)
    assert problems == [(
        "limbs.csv", 2, "follow_up_months, last_contact_date",
        f"limb A-L: 24 and {day} (26.28 months after the limb's procedure)",
        "follow_up_months and last_contact_date disagree by more than 0.5 month: correct one "
        "of them, or leave one empty",
    )]  # fmt: skip


def test_a_follow_up_and_a_last_contact_date_within_half_a_month_are_one_time(tmp_path):
    day = A_DAY + timedelta(days=740)  # 24.31 months
    tables = edited("limbs", 0, last_contact_date=day.isoformat())
    out = import_registry(write_csvs(tmp_path / "csv", tables), tmp_path / "out.duckdb")
    with open_cohort(out) as con:
        limb = con.execute(
            "SELECT follow_up_months, last_contact_date FROM limbs WHERE limb_id = 'A-L'"
        ).fetchone()
    assert limb == (24.0, day)  # the months as given, the date kept


def test_a_last_contact_before_the_procedure_is_refused(tmp_path):
    early = (A_DAY - timedelta(days=1)).isoformat()
    problems = refused(edited("limbs", 0, follow_up_months="", last_contact_date=early), tmp_path)
    (rule,) = [
        words for (table, expression), words in CROSS_COLUMN_RULES.items()
        if table == "limbs" and "last_contact_date" in expression
    ]  # fmt: skip
    assert problems == [(
        "limbs.csv", 2, "last_contact_date, procedure_date",
        f"last_contact_date={early}, procedure_date={A_DAY.isoformat()}", rule,
    )]  # fmt: skip


def test_a_limbs_follow_up_needs_its_months_or_its_last_contact_date(tmp_path):
    problems = refused(edited("limbs", 0, follow_up_months="", last_contact_date=""), tmp_path)
    rule = "required: give the follow_up_months or the last_contact_date"
    assert problems == [("limbs.csv", 2, "follow_up_months", None, rule)]


def test_a_limb_event_after_the_limbs_follow_up_is_refused(tmp_path):
    problems = refused(edited("events", 7, month="13"), tmp_path)  # C-L: 12 months
    assert problems == [("events.csv", 9, "month", "13 (this limb's follow-up ends at 12)",
                         "event after the limb's follow-up ends")]  # fmt: skip


def test_a_limb_event_dated_after_the_limbs_follow_up_names_the_date(tmp_path):
    late = (A_DAY + timedelta(days=800)).isoformat()  # 26.28 months; follow-up 24
    problems = refused(edited("events", 3, event_date=late), tmp_path)
    assert problems == [("events.csv", 5, "event_date", "26.28 (this limb's follow-up ends at 24)",
                         "event after the limb's follow-up ends")]  # fmt: skip


def test_a_patient_event_after_the_last_contact_is_refused(tmp_path):
    """C's last contact is the first limb's 24 months (the staged one's 3 + 12 is earlier)."""
    kept = write_csvs(tmp_path / "kept", edited("events", 9, month="23"))
    assert import_registry(kept, tmp_path / "kept.duckdb").is_file()
    problems = refused(edited("events", 9, month="24.5"), tmp_path)
    assert problems == [(
        "events.csv", 11, "month", "24.5 (last contact at 24.00)",
        "event after the patient's last contact (the latest end of follow-up of their limbs, "
        "in months after their first procedure)",
    )]  # fmt: skip


def test_an_event_after_the_death_is_refused(tmp_path):
    tables = registry_tables()
    tables["events"].append({**tables["events"][5], "event": "death", "month": "2"})
    problems = refused(tables, tmp_path)
    rules = {(p[1], p[4]) for p in problems}
    assert rules == {(7, "event after the patient's death"), (8, "event after the patient's death")}


def test_a_patient_event_with_a_limb_is_refused_in_the_dictionarys_words(tmp_path):
    problems = refused(edited("events", 4, limb_id="A-L"), tmp_path)
    (rule,) = [
        words for (table, expression), words in CROSS_COLUMN_RULES.items()
        if table == "events" and "limb_id IS NULL" in expression
    ]  # fmt: skip
    assert problems == [("events.csv", 6, "limb_id, event", "limb_id=A-L, event=major_bleeding",
                         rule)]  # fmt: skip
    assert "a patient event" in rule and "leaves limb_id empty" in rule


def test_a_limb_event_of_another_patient_is_refused(tmp_path):
    problems = refused(edited("events", 0, patient_id="B"), tmp_path)
    assert problems == [(
        "events.csv", 2, "patient_id", "B (limb A-L is of patient A)",
        "not the patient of this limb_id in limbs.csv: a limb event's patient_id is its "
        "limb's (it may be left empty)",
    )]  # fmt: skip


def test_a_patient_event_without_its_patient_is_refused(tmp_path):
    problems = refused(edited("events", 5, patient_id=""), tmp_path)
    assert [(p[1], p[2]) for p in problems] == [(7, "patient_id")]
    assert problems[0][4].startswith("required: a patient event")


def test_an_event_dated_before_its_procedure_is_refused(tmp_path):
    early = (A_DAY - timedelta(days=3)).isoformat()
    problems = refused(edited("events", 3, event_date=early), tmp_path)
    assert [(p[1], p[2], p[3]) for p in problems] == [(5, "event_date", early)]
    assert problems[0][4].startswith("before the procedure")


def test_a_time_needs_a_month_or_a_date(tmp_path):
    problems = refused(edited("events", 3, event_date=""), tmp_path)
    assert problems == [("events.csv", 5, "month", None,
                         "required: give the month or the event_date")]  # fmt: skip


def test_two_visits_dated_in_one_month_are_one_visit_twice(tmp_path):
    tables = registry_tables()
    tables["assessments"].append(
        {**tables["assessments"][1], "assessment_date": (A_DAY + timedelta(days=365)).isoformat()}
    )
    problems = refused(tables, tmp_path)
    assert [(p[1], p[2], p[4]) for p in problems] == [
        (3, "limb_id, month", "duplicate: (limb_id, month) must be unique"),
        (7, "limb_id, month", "duplicate: (limb_id, month) must be unique"),
    ]


def test_an_unknown_limb_and_a_patient_without_limbs_are_named(tmp_path):
    tables = registry_tables()
    tables["stents"][3]["limb_id"] = "X-L"
    tables["patients"].append({**tables["patients"][3], "patient_id": "E"})
    problems = refused(tables, tmp_path)
    assert ("stents.csv", 5, "limb_id", "X-L", "unknown limb: not in limbs.csv") in problems
    assert (
        "patients.csv", 6, "patient_id", "E",
        "a patient with no treated limb: add the limb to limbs.csv, or remove the patient",
    ) in problems  # fmt: skip


def test_a_registry_problem_in_a_workbook_names_its_sheet(tmp_path):
    tables = edited("limbs", 2, aetiology="thrombotic")
    book = write_workbook(tmp_path / "dept.xlsx", tables)
    with pytest.raises(ValidationError) as caught:
        import_registry(book, tmp_path / "out.duckdb")
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "dept.xlsx, sheet limbs", 4, "aetiology", "thrombotic",
    )  # fmt: skip
    assert problem.rule.startswith("aetiology must be post_thrombotic, non_thrombotic, ")


def test_the_limbs_columns_in_patients_beside_limbs_get_one_message(tmp_path):
    tables = registry_tables()
    for row in tables["patients"]:
        row.update(lesion_side="left", age_years="60")
    problems = refused(tables, tmp_path)
    assert len(problems) == 1
    file, row, column, _, rule = problems[0]
    assert (file, row, column) == ("patients.csv", 1, "age_years, lesion_side")
    assert "limbs.csv is given too, which means the registry layout" in rule


def test_a_registry_table_beside_the_single_limb_layout_gets_one_message(tmp_path):
    folder = write_single_limb(tmp_path / "single")
    write_csvs(folder, {"stents": registry_tables()["stents"]})
    with pytest.raises(ValidationError) as caught:
        import_registry(folder, tmp_path / "out.duckdb")
    (problem,) = caught.value.problems
    assert problem.file == "limbs.csv"
    assert problem.rule.startswith("stents.csv belong to the registry layout")


@pytest.fixture(scope="module")
def engine() -> Iterator[duckdb.DuckDBPyConnection]:
    """An empty in-memory database for the examples' queries: one for the module, as
    opening one took a tenth of a second, longer than each example's query."""
    with duckdb.connect() as con:
        yield con


@settings(max_examples=300, deadline=None)
@given(
    procedure=st.dates(min_value=date(1950, 1, 1), max_value=date(2026, 12, 31)),
    days=st.integers(min_value=0, max_value=18_262),  # 50 years
)
def test_a_dates_month_gives_back_its_day(
    engine: duckdb.DuckDBPyConnection, procedure: date, days: int
):
    """The month a date becomes (days / 30.4375, two decimals) is the day to within a
    sixth of a day: the day comes back from the month, and a later day has a later month."""
    day = procedure + timedelta(days=days)
    month, next_month = engine.execute(
        f"SELECT {months_between('$start', '$day')}, {months_between('$start', '$day + 1')}",
        {"start": procedure, "day": day},
    ).fetchone()
    assert round(month * DAYS_PER_MONTH) == days
    assert next_month > month


def test_the_template_explains_limbs_events_and_dates():
    import io

    from analytics.cohort.template import GUIDE_SHEET, template_workbook

    sheets = pd.read_excel(io.BytesIO(template_workbook()), sheet_name=None, dtype=str)
    assert list(sheets) == [*REGISTRY.tables, DICTIONARY, GUIDE_SHEET]
    guide = sheets[GUIDE_SHEET]
    keys = zip(guide["sheet"], guide["column"], strict=True)
    required = dict(zip(keys, guide["required"], strict=True))
    assert required["events", "month"] == "yes, or event_date"
    assert required["events", "patient_id"] == "yes, or limb_id"
    assert required["antithrombotic", "start_month"] == "yes, or start_date"
    assert required["limbs", "follow_up_months"] == "yes, or last_contact_date"
    assert required["limbs", "limb_id"] == "yes" and required["stents", "length_mm"] == "no"
    notes = " ".join(guide["meaning"].dropna().iloc[-7:])
    for said in (
        "patients: one row per person",
        "a patient stented on both legs has two rows with one patient_id",
        "A limb event (restenosis to ulcer_recurred) gives its limb_id",
        "A patient event (recurrent_dvt",
        "give the date (event_date, assessment_date, start_date, end_date; instead of a "
        "limb's follow_up_months, its last_contact_date)",
        "stents and antithrombotic may be left empty or deleted",
        "Booleans: ",
    ):
        assert said in notes, said


def test_the_filled_template_of_a_bilateral_registry_imports(tmp_path):
    import io

    import openpyxl

    from analytics.cohort.template import template_workbook

    book = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    for table, rows in registry_tables().items():
        sheet = book[table]
        header = [cell.value for cell in sheet[1]]
        for row in rows:
            sheet.append([row.get(column) or None for column in header])
    book.save(tmp_path / "filled.xlsx")
    done = import_with_report(tmp_path / "filled.xlsx", tmp_path / "out.duckdb")
    assert (done.patients, done.limbs) == (4, 6)


def test_events_given_by_date_alone_are_checked_by_their_date(tmp_path):
    """An events table with no month column: each event's time is its date."""
    tables = registry_tables()
    days = {"A-L": A_DAY, "A-R": A_DAY, "C-L": C_STAGED}
    for row in tables["events"]:
        month = row.pop("month")
        if row["event_date"] == "":
            month = float(month)
            start = days.get(row["limb_id"], A_DAY if row["patient_id"] == "A" else None)
            start = start or {"B": date(2021, 3, 1), "C": C_DAY}[row["patient_id"]]
            row["event_date"] = (start + timedelta(days=round(month * DAYS_PER_MONTH))).isoformat()
    late = (C_STAGED + timedelta(days=400)).isoformat()  # 13.14 months; follow-up 12
    tables["events"][7]["event_date"] = late
    problems = refused(tables, tmp_path)
    assert problems == [("events.csv", 9, "event_date", "13.14 (this limb's follow-up ends at 12)",
                         "event after the limb's follow-up ends")]  # fmt: skip


def test_a_limb_below_c5_after_an_ulcer_is_a_warning_of_that_limb(tmp_path):
    tables = registry_tables()
    visit = {**tables["assessments"][2], "month": "12", "ceap_c": "2"}  # A-R: C3 before
    tables["assessments"].append(visit)
    tables["assessments"].append(
        {
            **tables["assessments"][1],
            "month": "",
            "ceap_c": "4",
            "assessment_date": (A_DAY + timedelta(days=500)).isoformat(),
        }
    )
    done = import_with_report(write_csvs(tmp_path / "csv", tables), tmp_path / "out.duckdb")
    assert [(w.file, w.row, w.column, w.value) for w in done.warnings] == [
        ("assessments.csv", 8, "ceap_c", "C4 at month 16.43 (C6 at month 0)")
    ]  # fmt: skip


def test_a_stent_count_unlike_the_stents_listed_is_a_warning(tmp_path):
    tables = edited("limbs", 0, stents="3")  # A-L lists two
    done = import_with_report(write_csvs(tmp_path / "csv", tables), tmp_path / "out.duckdb")
    assert [(w.file, w.row, w.column, w.value) for w in done.warnings] == [
        ("limbs.csv", 2, "stents", "3 (2 listed in stents.csv)")
    ]
    assert done.warnings[0].rule.startswith("data-quality warning: the number of stents")
    assert summary(done.path).loc["A-L", "stents"] == 2


def test_a_workbooks_name_with_a_quote_is_words_not_sql(tmp_path):
    book = write_workbook(tmp_path / "O'Brien.xlsx", edited("limbs", 0, stents="3"))
    done = import_with_report(book, tmp_path / "out.duckdb")
    assert [(w.file, w.value) for w in done.warnings] == [
        ("O'Brien.xlsx, sheet limbs", "3 (2 listed in O'Brien.xlsx, sheet stents)")
    ]


def test_a_registry_workbook_needs_its_events_sheet_but_not_its_stents(tmp_path):
    tables = registry_tables()
    del tables["events"], tables["stents"]
    book = write_workbook(tmp_path / "dept.xlsx", tables)
    with pytest.raises(ValidationError) as caught:
        import_registry(book, tmp_path / "out.duckdb")
    assert [(p.file, p.rule) for p in caught.value.problems] == [
        ("dept.xlsx, sheet events", "sheet is missing")
    ]
