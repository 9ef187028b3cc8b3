"""REDCap: a project not built from the template imports through a mapping file.

The projects here are the ones docs/redcap-mapping-example.toml (classic) and
docs/redcap-mapping-longitudinal.toml describe: other field, instrument and choice names,
a checkbox of numbered choices, and (longitudinal) an event per visit. Their data
dictionary and raw records export are written from the fixture's tables as REDCap writes
them (repeating instruments, ``redcap_event_name``, ``field___code``, status columns, an
empty repeat row), the writer reading the mapping file with tomllib alone; each must
import to the cohort the template's project with the same tables imports to.
"""

# test_redcap's fixtures are imported, then named as arguments:
# ruff: noqa: F811
from __future__ import annotations

import csv
import io
import tomllib
from collections import defaultdict
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.cli import main
from analytics.cohort.db import SCHEMA_PATH
from analytics.cohort.importer import REGISTRY, ValidationError
from analytics.cohort.redcap_import import import_redcap
from analytics.cohort.redcap_mapped import import_mapped
from analytics.cohort.redcap_project import DICTIONARY_COLUMNS
from tests.conftest import HOSTILE_CENTRES
from tests.unit.test_redcap import (  # noqa: F401 (its fixtures, used by name)
    cell,
    cohort_tables,
    dictionary,
    redcap_export,
    source,
    tables,
    template,
)

DOCS = Path(__file__).parents[2] / "docs"
CLASSIC = DOCS / "redcap-mapping-example.toml"
LONGITUDINAL = DOCS / "redcap-mapping-longitudinal.toml"
KEYS = {"patient_id"}  # the record


def column_types() -> dict[tuple[str, str], str]:
    with duckdb.connect() as con:
        con.execute(SCHEMA_PATH.read_text())
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'main'"
        ).fetchall()
    return {(t, c): kind for t, c, kind in rows}


def coded_values() -> dict[tuple[str, str], list[str]]:
    """Each coded column's codes, from the schema's CHECK (column IN (...))."""
    with duckdb.connect() as con:
        con.execute(SCHEMA_PATH.read_text())
        checks = con.execute(
            "SELECT table_name, expression FROM duckdb_constraints() WHERE constraint_type = "
            "'CHECK' AND expression LIKE '% IN (%' AND expression NOT LIKE '%OR%'"
        ).fetchall()
    coded = {}
    for table, expression in checks:
        column, _, rest = expression.strip("()").partition(" IN (")
        coded[table, column.strip('"')] = [v.strip(" '") for v in rest.rstrip(")").split(",")]
    return coded


class Project:
    """A project built as a mapping file describes it, written from the format's tables."""

    def __init__(self, mapping: dict) -> None:
        self.mapping, self.types, self.coded = mapping, column_types(), coded_values()
        self.record_id = mapping["record_id"]
        self.months = {month: event for event, month in mapping.get("visit_months", {}).items()}
        self.first_event = next(iter(mapping.get("visit_months", {})), "")
        # (table, column) -> the field, or the checkbox's (field, code)
        self.field_of = {}
        for table in REGISTRY.tables:
            for field, column in mapping[table]["fields"].items():
                name, _, code = field.partition("___")
                self.field_of[table, column] = (name, code) if code else name

    def dictionary(self) -> pd.DataFrame:
        rows = [self._row(self.record_id, "patients", "text", "Study ID")]
        for table in REGISTRY.tables:
            section = self.mapping[table]
            for key in ("number", "limb"):
                if key in section:
                    rows.append(self._row(section[key], table, "text", "Leg", "integer"))
            boxes = defaultdict(list)
            for field, column in section["fields"].items():
                name, _, code = field.partition("___")
                if code:
                    boxes[name].append(f"{code}, {column.upper()}")
                    if len(boxes[name]) == 1:
                        rows.append(self._row(name, table, "checkbox", name))
                    rows[-1]["Choices, Calculations, OR Slider Labels"] = " | ".join(boxes[name])
                else:
                    rows.append(self._field(field, table, column))
        return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))

    def _row(self, name, table, kind, label, validation="", choices=""):
        return {
            **dict.fromkeys(DICTIONARY_COLUMNS, ""),
            "Variable / Field Name": name,
            "Form Name": self.mapping[table]["instrument"],
            "Field Type": kind,
            "Field Label": label,
            "Choices, Calculations, OR Slider Labels": choices,
            "Text Validation Type OR Show Slider Number": validation,
        }

    def _field(self, field: str, table: str, column: str) -> dict:
        kind = self.types[table, column]
        if codes := self.mapping.get("codes", {}).get(field):
            choices = " | ".join(f"{code}, {value}" for code, value in codes.items())
            return self._row(field, table, "radio", field, choices=choices)
        if (table, column) in self.coded:
            choices = " | ".join(f"{c}, {c.title()}" for c in self.coded[table, column])
            return self._row(field, table, "dropdown", field, choices=choices)
        if kind == "BOOLEAN":
            return self._row(field, table, "yesno", field)
        validation = {"DATE": "date_ymd", "INTEGER": "integer", "DOUBLE": "number"}.get(kind, "")
        return self._row(field, table, "text", field, validation)

    def value(self, table: str, column: str, raw: object, dates: str) -> str:
        text = cell(raw)
        field = self.field_of[table, column]
        if text == "" or isinstance(field, tuple):
            return ("1" if raw else "0") if isinstance(field, tuple) else ""
        if codes := self.mapping.get("codes", {}).get(field):
            first = {}
            for code, value in codes.items():
                first.setdefault(cell(value), code)
            return first[text]
        if self.types[table, column] == "BOOLEAN":
            return "1" if raw else "0"
        if self.types[table, column] == "DATE" and dates == "dmy":
            y, m, d = text.split("-")
            return f"{d}/{m}/{y}"
        return text

    def records(self, tables: dict[str, pd.DataFrame], dates: str = "ymd") -> pd.DataFrame:
        """The raw records export: the record's row, a row per repeat (within its event)."""
        fields = self.dictionary().to_dict("records")
        names = [self.record_id]
        names += ["redcap_event_name"] if self.months else []
        names += ["redcap_repeat_instrument", "redcap_repeat_instance"]
        forms = {}
        for f in fields[1:]:
            name = f["Variable / Field Name"]
            if f["Field Type"] == "checkbox":
                choices = f["Choices, Calculations, OR Slider Labels"].split(" | ")
                names += [f"{name}___{choice.split(',')[0]}" for choice in choices]
            else:
                names.append(name)
            forms.setdefault(f["Form Name"], True)
        names += [f"{form}_complete" for form in forms]
        rows = []

        def add(record, event, table, instance, cells):
            form = self.mapping[table]["instrument"]
            row = dict.fromkeys(names, "") | {self.record_id: record} | cells
            if self.months:
                row["redcap_event_name"] = event
            if instance:
                row |= {"redcap_repeat_instrument": form, "redcap_repeat_instance": str(instance)}
            row[f"{form}_complete"] = "2" if cells else "0"
            rows.append(row)

        def cells(table, record, numbers):
            out = {}
            for column, raw in record.items():
                if column in KEYS or (column == "limb_id" and table == "limbs"):
                    continue
                if column == "limb_id":
                    out[self.mapping[table]["limb"]] = "" if pd.isna(raw) else str(numbers[raw])
                elif column == "month" and table == "assessments" and self.months:
                    continue
                else:
                    field = self.field_of[table, column]
                    name = "___".join(field) if isinstance(field, tuple) else field
                    out[name] = self.value(table, column, raw, dates)
            return out

        for i, patient in enumerate(tables["patients"].to_dict("records")):
            record = patient["patient_id"]
            add(record, self.first_event, "patients", None, cells("patients", patient, {}))
            limbs = tables["limbs"][tables["limbs"]["patient_id"] == record]
            numbers = {limb_id: n for n, limb_id in enumerate(limbs["limb_id"], 1)}
            for n, limb in enumerate(limbs.to_dict("records"), 1):
                number = {self.mapping["limbs"]["number"]: str(n)}
                add(record, self.first_event, "limbs", n, cells("limbs", limb, numbers) | number)
            for table in ("stents", "events", "antithrombotic"):
                frame = tables[table]
                mine = (
                    frame[frame["limb_id"].isin(numbers)]
                    if table == "stents"
                    else frame[frame["patient_id"] == record]
                )
                for n, row in enumerate(mine.to_dict("records"), 1):
                    add(record, self.first_event, table, n, cells(table, row, numbers))
                if table == "events" and i == 1:  # an empty repeat, as REDCap exports one
                    add(record, self.first_event, table, len(mine) + 1, {})
            visits = tables["assessments"][tables["assessments"]["limb_id"].isin(numbers)]
            for month, group in visits.groupby("month", sort=True):
                event = self.months.get(month, "")
                for n, row in enumerate(group.to_dict("records"), 1):
                    add(record, event, "assessments", n, cells("assessments", row, numbers))
            if self.months and i == 2:  # an event's own row with nothing filled
                add(record, list(self.months.values())[-1], "patients", None, {})
        return pd.DataFrame(rows, columns=names)


def write(folder: Path, mapping_text: str, project: Project, records: pd.DataFrame):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mapping.toml").write_text(mapping_text, encoding="utf-8")
    project.dictionary().to_csv(folder / "dictionary.csv", index=False)
    buffer = io.StringIO()
    records.to_csv(buffer, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    (folder / "records.csv").write_text(buffer.getvalue(), encoding="utf-8")
    return folder / "records.csv", folder / "dictionary.csv", folder / "mapping.toml"


def template_cohort(tables, dictionary, template, folder: Path) -> dict[str, pd.DataFrame]:
    """The cohort the template's project gives for the same tables."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.csv").write_text(redcap_export(tables, dictionary), encoding="utf-8")
    done = import_redcap(
        folder / "records.csv", template / "redcap_dictionary.csv", folder / "template.duckdb"
    )
    return cohort_tables(done.path)


@pytest.fixture(scope="module")
def classic() -> Project:
    return Project(tomllib.loads(CLASSIC.read_text()))


@pytest.fixture(scope="module")
def longitudinal() -> Project:
    return Project(tomllib.loads(LONGITUDINAL.read_text()))


@pytest.fixture(scope="module")
def visits(tables, longitudinal) -> dict[str, pd.DataFrame]:
    """The tables with the visits at the longitudinal project's events (0, 12, 24, 36)."""
    scheduled = tables["assessments"]["month"].isin(longitudinal.months)
    kept = tables | {"assessments": tables["assessments"][scheduled]}
    assert kept["assessments"]["month"].nunique() >= 3
    return kept


@pytest.mark.parametrize("dates", ["ymd", "dmy"])
def test_a_classic_project_imports_to_the_cohort_the_template_gives(
    tables, dictionary, template, classic, tmp_path, dates
):
    records = classic.records(tables, dates)
    assert (records["redcap_repeat_instrument"] == "adverse_event").any()
    assert {"extent___1", "extent___4"} <= set(records.columns)
    paths = write(tmp_path / "project", CLASSIC.read_text(), classic, records)
    done = import_mapped(*paths, tmp_path / "mapped.duckdb")
    expected = template_cohort(tables, dictionary, template, tmp_path / "template")
    got = cohort_tables(done.path)
    assert (done.patients, done.limbs) == (30, len(tables["limbs"]))
    for table in REGISTRY.tables:
        pd.testing.assert_frame_equal(got[table], expected[table], obj=table)


def test_a_longitudinal_project_imports_to_the_cohort_the_template_gives(
    visits, dictionary, template, longitudinal, tmp_path
):
    records = longitudinal.records(visits)
    at_12 = records[records["redcap_event_name"] == "12_month_arm_1"]
    assert (at_12["redcap_repeat_instrument"] == "follow_up").all() and len(at_12) > 5
    assert "fu_month" not in records  # the event gives the month
    paths = write(tmp_path / "project", LONGITUDINAL.read_text(), longitudinal, records)
    done = import_mapped(*paths, tmp_path / "mapped.duckdb")
    expected = template_cohort(visits, dictionary, template, tmp_path / "template")
    got = cohort_tables(done.path)
    for table in REGISTRY.tables:
        pd.testing.assert_frame_equal(got[table], expected[table], obj=table)


@pytest.fixture(scope="module")
def few(visits) -> dict[str, pd.DataFrame]:
    """Three patients of the fixture, the second with both legs treated, their visits at
    the longitudinal project's events."""
    ids = ["S0000001", "S0000002", "S0000003"]
    limbs = visits["limbs"][visits["limbs"]["patient_id"].isin(ids)]["limb_id"]
    return {
        t: f[f["patient_id"].isin(ids) if "patient_id" in f else f["limb_id"].isin(limbs)]
        for t, f in visits.items()
    }


def refused(paths, out: Path) -> list:
    with pytest.raises(ValidationError) as refusal:
        import_mapped(*paths, out)
    assert not out.exists()
    return refusal.value.problems


def line_of(text: str, start: str) -> int:
    (number,) = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start)]
    return number


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "at", "column", "value", "rule"),
    [
        (
            'site = "center"',
            'site_name = "center"',
            "site_name",
            "site_name",
            None,
            "unknown field: not in the project's data dictionary",
        ),
        (
            'ae_month = "month"',
            'ae_month = "month"\nfu_date = "event_date"',
            'fu_date = "event_date"',
            "fu_date",
            "follow_up",
            "a field of instrument follow_up, not of [events]'s",
        ),
        (
            '99 = "not_recorded"\n',
            "",
            "[codes.cause]",
            "cause",
            "99",
            "code 99 (not_recorded) has no value of aetiology",
        ),
        (
            '1 = "popliteal"',
            '1 = "knee"',
            '1 = "knee"',
            "access",
            "knee",
            "not a value of access_vein: popliteal, small_saphenous",
        ),
        (
            'ivus_used = "ivus"',
            'ivus_used = "urokinase"',
            "lysis",
            "lysis",
            "urokinase",
            "column urokinase mapped twice: also from ivus_used (line ",
        ),
        (
            'proc_date = "procedure_date"\n',
            "",
            "[limbs.fields]",
            "procedure_date",
            None,
            "required: map a field to it",
        ),
        (
            'limb = "implant_leg"',
            "",
            "[stents]",
            "limb_id",
            None,
            'required: give the field with each row\'s limb number (limb = "...")',
        ),
        (
            "extent___4",
            "extent___5",
            "extent___5",
            "extent___5",
            "5",
            "no choice 5 in checkbox extent",
        ),
        (
            'instrument = "anticoagulation"',
            'instrument = "therapy"',
            'instrument = "therapy"',
            "instrument",
            "therapy",
            "not an instrument of the project's data dictionary",
        ),
        (
            'trauma_30d = "trauma"',
            'trauma_30d = "trauma"\ngender  = "sex"',
            'gender  = "sex"',
            "patients.fields.gender",
            None,
            "given twice (first at line ",
        ),
    ],
    ids=[
        "unknown-field",
        "other-instrument",
        "code-unmapped",
        "value-unknown",
        "column-twice",
        "required-unmapped",
        "limb-unnamed",
        "checkbox-choice",
        "instrument-unknown",
        "key-twice",
    ],
)
def test_each_mapping_error_names_its_line_field_and_code(
    few, classic, tmp_path, old, new, at, column, value, rule
):
    text = CLASSIC.read_text()
    wrong = edited(text, old, new)
    paths = write(tmp_path / "project", wrong, classic, classic.records(few))
    problems = refused(paths, tmp_path / "c.duckdb")
    (problem,) = [p for p in problems if p.column == column]  # and what follows from it
    assert problem.file == f"mapping.toml, line {line_of(wrong, at)}"
    assert (problem.column, problem.value) == (column, value)
    assert rule in problem.rule


def test_an_event_without_a_month_and_an_event_a_table_does_not_list_are_named(
    few, longitudinal, tmp_path
):
    text = edited(LONGITUDINAL.read_text(), "36_month_arm_1 = 36\n", "")
    records = longitudinal.records(few)
    at_36 = records.index[records["redcap_event_name"] == "36_month_arm_1"][0]
    patient = records.index[records["redcap_repeat_instrument"] == ""][0]
    moved = records.loc[patient].copy()
    moved["redcap_event_name"] = "12_month_arm_1"  # demographics filled at a visit
    records = pd.concat([records, moved.to_frame().T], ignore_index=True)
    paths = write(tmp_path / "project", text, longitudinal, records)
    found = {(p.file, p.row, p.column, p.value): p.rule for p in refused(paths, tmp_path / "c")}
    record = records.at[at_36, "study_id"]
    month = (
        f"records.csv: record {record}, event 36_month_arm_1, instrument follow_up, instance 1",
        at_36 + 2,
        "redcap_event_name",
        "36_month_arm_1",
    )
    assert found.pop(month).startswith(
        f"event 36_month_arm_1 has no month in the mapping's [visit_months] (mapping.toml, "
        f"line {line_of(text, '[visit_months]')})"
    )
    listed = (
        f"records.csv: record {moved['study_id']}, event 12_month_arm_1, instrument demographics",
        len(records) + 1,
        "redcap_event_name",
        "12_month_arm_1",
    )
    assert "which [patients] does not list" in found.pop(listed)
    assert not found


def test_a_refusal_names_the_record_event_instrument_instance_and_field(
    few, longitudinal, tmp_path
):
    records = longitudinal.records(few)
    visit = records.index[
        (records["redcap_event_name"] == "12_month_arm_1") & (records["study_id"] == "S0000002")
    ][1]
    records.loc[visit, "villalta_score"] = "99"
    stent = records.index[
        (records["redcap_repeat_instrument"] == "stent_implant")
        & (records["study_id"] == "S0000001")
    ][0]
    records.loc[stent, "implant_leg"] = "2"  # S0000001 has one leg
    paths = write(tmp_path / "project", LONGITUDINAL.read_text(), longitudinal, records)
    problems = refused(paths, tmp_path / "c.duckdb")
    assert [(p.file, p.row, p.column, p.value) for p in problems] == [
        (
            "records.csv: record S0000001, event enrolment_arm_1, instrument stent_implant, "
            "instance 1",
            stent + 2,
            "implant_leg",
            "2",
        ),
    ]
    assert problems[0].rule == "no limb with this number (leg_number) in this record"
    records.loc[stent, "implant_leg"] = "1"
    paths = write(tmp_path / "project", LONGITUDINAL.read_text(), longitudinal, records)
    (problem,) = refused(paths, tmp_path / "c.duckdb")
    assert (problem.file, problem.row, problem.column, problem.value, problem.rule) == (
        "records.csv: record S0000002, event 12_month_arm_1, instrument follow_up, instance 2",
        visit + 2,
        "villalta_score",
        "99",
        "villalta must be from 0 to 33",
    )


def test_hostile_values_are_kept_as_text_or_refused_as_the_template_import_does(
    few, classic, tmp_path
):
    records = classic.records(few)
    base = records.index[
        (records["study_id"] == "S0000001") & (records["redcap_repeat_instrument"] == "")
    ][0]
    stent = records.index[
        (records["study_id"] == "S0000001")
        & (records["redcap_repeat_instrument"] == "stent_implant")
    ][0]
    records.loc[base, "site"] = HOSTILE_CENTRES[0]
    records.loc[stent, "device"] = HOSTILE_CENTRES[5]
    paths = write(tmp_path / "project", CLASSIC.read_text(), classic, records)
    done = import_mapped(*paths, tmp_path / "kept.duckdb")
    with duckdb.connect(str(done.path), read_only=True) as con:
        kept = con.execute(
            "SELECT center, brand FROM patients JOIN limbs USING (patient_id) "
            "JOIN stents USING (limb_id) WHERE patient_id = 'S0000001' AND brand <> 'Vici'"
        ).fetchall()
    assert (HOSTILE_CENTRES[0], HOSTILE_CENTRES[5]) in kept
    records.loc[base, "site"] = "Centre\x0b2"
    records.loc[records["study_id"] == "S0000001", "study_id"] = "S0000001\x1b[31m"
    paths = write(tmp_path / "project", CLASSIC.read_text(), classic, records)
    problems = refused(paths, tmp_path / "c.duckdb")
    assert all(p.file.startswith("records.csv: record S0000001\\x1b[31m, ") for p in problems)
    assert all("control character" in p.rule for p in problems)
    assert [(p.file, p.value) for p in problems if p.column == "site"] == [
        ("records.csv: record S0000001\\x1b[31m, instrument demographics", "Centre\\x0b2")
    ]
    assert {p.column for p in problems} == {"site", "study_id"}


def test_the_cli_imports_through_a_mapping_and_names_a_mapping_error(
    few, classic, tmp_path, capsys
):
    records, dictionary_file, _ = write(tmp_path, "", classic, classic.records(few))
    args = [
        "import",
        "--redcap-records",
        str(records),
        "--redcap-dictionary",
        str(dictionary_file),
        "--mapping",
        str(CLASSIC),
        "--out",
        str(tmp_path / "c"),
    ]
    assert main(args) == 0 and (tmp_path / "c").is_file()
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(edited(CLASSIC.read_text(), 'gender = "sex"', 'sex = "sex"'))
    assert main([*args[:6], str(wrong), "--out", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    line = line_of(wrong.read_text(), 'sex = "sex"')
    assert f"wrong.toml, line {line}, column sex: unknown field" in err
    assert "Traceback" not in err and not (tmp_path / "d").exists()


def test_an_export_without_a_mapped_field_or_without_events_is_named_before_any_row(
    few, classic, tmp_path
):
    records = classic.records(few).drop(columns="extent___2")
    paths = write(tmp_path / "project", CLASSIC.read_text(), classic, records)
    (problem,) = refused(paths, tmp_path / "c.duckdb")
    line = line_of(CLASSIC.read_text(), "extent___2")
    assert (problem.file, problem.row, problem.column) == ("records.csv", 1, "extent___2")
    assert f"which the mapping reads (mapping.toml, line {line})" in problem.rule
    paths = write(tmp_path / "project", LONGITUDINAL.read_text(), classic, classic.records(few))
    (problem,) = refused(paths, tmp_path / "c.duckdb")
    assert problem.column == "redcap_event_name" and "longitudinal project" in problem.rule


def test_a_mapping_that_is_no_toml_is_refused_with_its_line(few, classic, tmp_path):
    wrong = edited(CLASSIC.read_text(), 'gender = "sex"', "gender = sex")
    paths = write(tmp_path / "project", wrong, classic, classic.records(few))
    (problem,) = refused(paths, tmp_path / "c.duckdb")
    line = line_of(wrong, "gender = sex")
    assert problem.file == "mapping.toml"
    assert problem.rule.startswith("not a readable TOML mapping file") and f"line {line}" in (
        problem.rule
    )


def test_a_project_of_one_leg_per_patient_may_hold_both_on_one_instrument(
    tables, dictionary, template, tmp_path
):
    """The leg's fields on the patient's own instrument: its number is 1."""
    one_leg = tables["limbs"].groupby("patient_id").size().loc[lambda n: n == 1].index[:5]
    limb_ids = tables["limbs"][tables["limbs"]["patient_id"].isin(one_leg)]["limb_id"]
    mine = {
        t: f[f["patient_id"].isin(one_leg) if "patient_id" in f else f["limb_id"].isin(limb_ids)]
        for t, f in tables.items()
    }
    text = edited(CLASSIC.read_text(), 'instrument = "index_procedure"\nnumber = "leg_number"',
                  'instrument = "demographics"')  # fmt: skip
    mapping = tomllib.loads(text)
    # the writer numbers the leg on a row of its own, then it is moved to the record's row
    writer = Project(mapping | {"limbs": mapping["limbs"] | {"number": "leg_number"}})
    records = writer.records(mine)
    legs = records[records["redcap_repeat_instrument"] == "demographics"]
    fields = list(mapping["limbs"]["fields"])
    for _, leg in legs.iterrows():
        own = (records["study_id"] == leg["study_id"]) & (records["redcap_repeat_instrument"] == "")
        records.loc[own, fields] = leg[fields].to_numpy()
    records = records.drop(index=legs.index, columns="leg_number")
    paths = write(tmp_path / "project", text, writer, records)
    project = writer.dictionary()
    project[project["Variable / Field Name"] != "leg_number"].to_csv(paths[1], index=False)
    done = import_mapped(*paths, tmp_path / "mapped.duckdb")
    expected = template_cohort(mine, dictionary, template, tmp_path / "template")
    got = cohort_tables(done.path)
    for table in REGISTRY.tables:
        pd.testing.assert_frame_equal(got[table], expected[table], obj=table)
