"""A REDCap project's own fields on the patient and limb instruments import as the
registry's own columns, declared by the project's data dictionary (analytics.cohort.
redcap_own); its other fields there are left out with a note; an unknown field elsewhere is
refused as before."""

# test_redcap's fixtures are imported, then named as arguments:
# ruff: noqa: F811
from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.cohort.db import cohort_variables, open_cohort
from analytics.cohort.importer import ValidationError
from analytics.cohort.redcap_import import import_redcap
from analytics.cohort.redcap_project import DICTIONARY_COLUMNS
from analytics.variables import Kind
from tests.unit.test_redcap import (  # noqa: F401 (its fixtures, used by name)
    dictionary,
    redcap_export,
    source,
    tables,
    template,
)

NAME, FORM, TYPE, LABEL, CHOICES = (DICTIONARY_COLUMNS[i] for i in (0, 1, 3, 4, 5))
VALIDATION = DICTIONARY_COLUMNS[7]
OWN = [  # name, instrument, type, label, choices, validation
    ("trial_arm", "patient", "radio", "Trial arm", "1, Arm A | 2, Arm B", ""),
    ("frailty", "patient", "text", "Clinical frailty scale", "", "integer"),
    ("consent_ok", "patient", "yesno", "Consent for research", "", ""),
    ("comments", "patient", "notes", "Comments", "", ""),
    ("seen_on", "patient", "text", "Seen on", "", "date_ymd"),
    ("local_code", "limb", "dropdown", "Local stent code", "A, Code A | B, Code B", ""),
]


def with_own_fields(
    records_csv: str, project: pd.DataFrame, labels: bool = False
) -> tuple[str, pd.DataFrame]:
    """The export (raw, or with ``labels``: its headers and choices as labels) and the
    dictionary with OWN's fields: each patient's record row and each limb's row filled, by
    the record's and the limb's position."""
    for form in ("patient", "limb"):  # each after its instrument's fields, as REDCap keeps them
        rows = [
            dict.fromkeys(DICTIONARY_COLUMNS, "")
            | {NAME: n, FORM: f, TYPE: t, LABEL: lab, CHOICES: c, VALIDATION: v}
            for n, f, t, lab, c, v in OWN
            if f == form
        ]
        last = project[project[FORM] == form].index.max()
        project = pd.concat(
            [project.loc[:last], pd.DataFrame(rows), project.loc[last + 1 :]], ignore_index=True
        )
    header, *rows = list(csv.reader(io.StringIO(records_csv)))  # headers repeat: not pandas
    repeat = header.index("Repeat Instrument" if labels else "redcap_repeat_instrument")
    limb = "Limb" if labels else "limb"
    choice = {"trial_arm": {1: "Arm A", 2: "Arm B"}, "consent_ok": {1: "Yes", 0: "No"}}
    n = 0
    for row in rows:
        own = dict.fromkeys((name for name, *_ in OWN), "")
        if row[repeat] == "":
            n += 1
            own |= {"trial_arm": n % 2 + 1, "frailty": n % 7 + 2, "consent_ok": int(n % 3 > 0),
                    "comments": "seen, no change", "seen_on": "2020-01-02"}  # fmt: skip
            if labels:
                own |= {key: shown[own[key]] for key, shown in choice.items()}
        elif row[repeat] == limb:
            own["local_code"] = "AB"[n % 2]
        row += [str(value) for value in own.values()]
    header += [label if labels else name for name, _, _, label, *_ in OWN]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue(), project


@pytest.fixture
def exported(tables, dictionary, tmp_path) -> tuple[Path, Path]:
    records, project = with_own_fields(redcap_export(tables, dictionary), dictionary)
    (tmp_path / "records.csv").write_text(records, encoding="utf-8")
    project.to_csv(tmp_path / "dictionary.csv", index=False)
    return tmp_path / "records.csv", tmp_path / "dictionary.csv"


def test_the_patient_and_limb_fields_of_the_project_become_its_own_variables(exported, tmp_path):
    done = import_redcap(*exported, tmp_path / "own.duckdb")
    with open_cohort(done.path) as con:
        variables = cohort_variables(con)
        arm, frailty, consent, code = (
            variables.get(k) for k in ("trial_arm", "frailty", "consent_ok", "local_code")
        )
        counts = dict(con.execute("SELECT trial_arm, count(*) FROM patients GROUP BY 1").fetchall())
        limb_codes = {r[0] for r in con.execute("SELECT DISTINCT local_code FROM limbs").fetchall()}
    assert (arm.kind, arm.label, dict(arm.levels)) == (
        Kind.CATEGORY, "Trial arm", {"1": "Arm A", "2": "Arm B"},
    )  # fmt: skip
    assert frailty.kind is Kind.NUMBER and frailty.label == "Clinical frailty scale"
    assert consent.kind is Kind.YES_NO and consent.label == "Consent for research"
    assert code.label == "Local stent code" and limb_codes == {"A", "B"}
    assert sum(counts.values()) == done.patients and set(counts) == {"1", "2"}


def test_the_fields_no_filter_can_use_are_left_out_and_named(exported, tmp_path):
    done = import_redcap(*exported, tmp_path / "own.duckdb")
    notes = {note.column: note for note in done.notes}
    assert "free text" in notes["comments"].rule
    assert "a date" in notes["seen_on"].rule
    assert notes["comments"].file == "dictionary.csv"
    with duckdb.connect(str(done.path), read_only=True) as con:
        columns = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns()").fetchall()}
    assert not {"comments", "seen_on"} & columns


def test_a_label_export_reads_the_own_fields_by_their_labels(tables, dictionary, tmp_path):
    export = redcap_export(tables, dictionary, labels=True)
    records, project = with_own_fields(export, dictionary, labels=True)
    (tmp_path / "records.csv").write_text(records, encoding="utf-8")
    project.to_csv(tmp_path / "dictionary.csv", index=False)
    done = import_redcap(tmp_path / "records.csv", tmp_path / "dictionary.csv", tmp_path / "x")
    with duckdb.connect(str(done.path), read_only=True) as con:
        arms = con.execute("SELECT DISTINCT trial_arm FROM patients").fetchall()
        consent = con.execute("SELECT DISTINCT consent_ok FROM patients").fetchall()
    assert {a for (a,) in arms} == {"1", "2"}
    assert {c for (c,) in consent} == {True, False}


def test_a_choice_label_no_screen_may_show_is_refused_at_its_dictionary_row(
    tables, dictionary, tmp_path
):
    records, project = with_own_fields(redcap_export(tables, dictionary), dictionary)
    at = project.index[project[NAME] == "trial_arm"][0]
    project.loc[at, CHOICES] = "1, <b>Arm A</b> | 2, Arm B"
    (tmp_path / "records.csv").write_text(records, encoding="utf-8")
    project.to_csv(tmp_path / "dictionary.csv", index=False)
    with pytest.raises(ValidationError) as refused:
        import_redcap(tmp_path / "records.csv", tmp_path / "dictionary.csv", tmp_path / "x")
    (problem,) = refused.value.problems
    assert problem.file == "dictionary.csv"
    assert problem.row == at + 2  # the export's row: its header is row 1


def test_an_unknown_field_on_another_instrument_is_still_refused(tables, dictionary, tmp_path):
    extra = dict.fromkeys(DICTIONARY_COLUMNS, "") | {
        NAME: "event_severity",
        FORM: "event",
        TYPE: "text",
        LABEL: "Severity",
    }
    project = pd.concat([dictionary, pd.DataFrame([extra])], ignore_index=True)
    (tmp_path / "records.csv").write_text(redcap_export(tables, dictionary), encoding="utf-8")
    project.to_csv(tmp_path / "dictionary.csv", index=False)
    with pytest.raises(ValidationError) as refused:
        import_redcap(tmp_path / "records.csv", tmp_path / "dictionary.csv", tmp_path / "x")
    (problem,) = refused.value.problems
    assert problem.column == "event_severity"
    assert "only the patient and limb instruments hold fields of the project's own" in problem.rule
