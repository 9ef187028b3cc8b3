"""REDCap: the project the template creates, and the import of its exports.

The exports are written here as REDCap writes them (raw and label form, repeating
instruments, checkboxes, empty repeat rows, its date settings), from the dictionary the
template wrote, read back as REDCap reads it; the import must give the cohort that the
same tables give through the ordinary import (a folder of the format's CSVs).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.cli import main
from analytics.cohort.db import SCHEMA_PATH
from analytics.cohort.dictionary import coded_columns
from analytics.cohort.importer import REGISTRY, ValidationError, import_registry
from analytics.cohort.redcap_import import import_redcap, read_dictionary, records_tables
from analytics.cohort.redcap_project import DICTIONARY_COLUMNS
from analytics.present.redcap_template import write_template
from tests.conftest import HOSTILE_CENTRES

FORMS = {
    "patients": "patient", "limbs": "limb", "stents": "stent", "events": "event",
    "assessments": "assessment", "antithrombotic": "therapy",
}  # fmt: skip


def format_columns() -> dict[str, list[str]]:
    with duckdb.connect() as con:
        con.execute(SCHEMA_PATH.read_text())
        return {
            t: [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "ORDER BY column_index", [t]).fetchall()]
            for t in REGISTRY.tables
        }  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_template(tmp_path_factory.mktemp("redcap") / "project")[0].parent


@pytest.fixture(scope="module")
def dictionary(template) -> pd.DataFrame:
    """The template's dictionary, read as REDCap reads an uploaded CSV."""
    with (template / "redcap_dictionary.csv").open(newline="", encoding="utf-8") as text:
        rows = list(csv.reader(text))
    return pd.DataFrame(rows[1:], columns=rows[0])


@pytest.fixture(scope="module")
def source(bilateral_path) -> dict[str, pd.DataFrame]:
    """The bilateral fixture's tables, as its file holds them."""
    with duckdb.connect(str(bilateral_path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t}").df() for t in REGISTRY.tables}


@pytest.fixture(scope="module")
def tables(source) -> dict[str, pd.DataFrame]:
    """The first 30 patients of the bilateral fixture and all that is theirs: people with one
    limb and with two, stents, limb and patient events, visits, therapy periods."""
    patients = source["patients"].head(30)
    limbs = source["limbs"][source["limbs"]["patient_id"].isin(patients["patient_id"])]
    kept = {
        "patients": patients,
        "limbs": limbs,
        **{
            t: source[t][source[t][key].isin(frame[key])]
            for t, key, frame in (
                ("stents", "limb_id", limbs),
                ("events", "patient_id", patients),
                ("assessments", "limb_id", limbs),
                ("antithrombotic", "patient_id", patients),
            )
        },
    }
    assert (limbs.groupby("patient_id").size() == 2).any()
    assert kept["events"]["limb_id"].isna().any() and kept["events"]["limb_id"].notna().any()
    return kept


def cell(value: object) -> str:
    """A value as a CSV of the format holds it."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_format_csvs(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in tables.items():
        frame.map(cell).to_csv(folder / f"{t}.csv", index=False)
    return folder


def choices(text: str) -> list[tuple[str, str]]:
    return [tuple(c.strip() for c in choice.split(",", 1)) for choice in text.split("|") if choice]


def redcap_export(
    tables: dict[str, pd.DataFrame],
    dictionary: pd.DataFrame,
    labels: bool = False,
    dates: str = "ymd",
    empty_repeat: bool = True,
) -> str:
    """The records CSV REDCap exports from a project created with the template's dictionary:
    raw (variable names, codes) or labels (field labels, choice labels); the record's own row
    and one row per repeating instance; ``field___code`` checkbox columns; each instrument's
    ``_complete`` status; an instance left empty when ``empty_repeat``; dates per ``dates``."""
    fields = dictionary.to_dict("records")
    by_form: dict[str, list[dict]] = {}
    for f in fields:
        by_form.setdefault(f["Form Name"], []).append(f)
    record_id = fields[0]["Variable / Field Name"]
    header, names = [], []
    for form, members in by_form.items():
        for f in members:
            name, label = f["Variable / Field Name"], f["Field Label"]
            if f["Field Type"] == "checkbox":
                for code, choice in choices(f["Choices, Calculations, OR Slider Labels"]):
                    names.append(f"{name}___{code}")
                    header.append(f"{label} (choice={choice})")
            else:
                names.append(name)
                header.append(label)
            if name == record_id:
                names += ["redcap_repeat_instrument", "redcap_repeat_instance"]
                header += ["Repeat Instrument", "Repeat Instance"]
        names.append(f"{form}_complete")
        header.append("Complete?")
    field_of = {f["Variable / Field Name"]: f for f in fields}

    def value(field: dict, raw: object, table: str, column: str) -> str:
        text = cell(raw)
        if text == "":
            return ""
        kind = field["Field Type"]
        if kind == "yesno":
            return ("Yes" if raw else "No") if labels else ("1" if raw else "0")
        if kind in ("radio", "dropdown"):
            codes = dict(zip(coded_columns()[table, column].codes, choices(
                field["Choices, Calculations, OR Slider Labels"]), strict=True))  # fmt: skip
            code, label = codes[text]
            return label if labels else code
        if field["Text Validation Type OR Show Slider Number"] == "date_ymd" and dates != "ymd":
            y, m, d = text.split("-")
            return f"{d}/{m}/{y}" if dates == "dmy" else f"{m}/{d}/{y}"
        return text

    rows = []

    def add(record: str, form: str, instance: int | None, cells: dict[str, str]) -> None:
        row = dict.fromkeys(names, "")
        row[record_id] = record
        if instance is not None:
            row["redcap_repeat_instrument"] = form.capitalize() if labels else form
            row["redcap_repeat_instance"] = str(instance)
        row |= cells
        row[f"{form}_complete"] = ("Complete" if labels else "2") if cells else (
            "Incomplete" if labels else "0")  # fmt: skip
        rows.append(row)

    def cells_of(form: str, table: str, record: dict, numbers: dict[str, int]) -> dict[str, str]:
        out = {}
        for column, raw in record.items():
            if column == "patient_id":
                continue
            if column == "limb_id":
                if table == "limbs":
                    out["limb_no"] = str(numbers[raw])
                    out["limb_id"] = raw
                elif raw is not None and not pd.isna(raw):
                    out[f"{form}_limb_no"] = str(numbers[raw])
                continue
            if column.startswith("seg_"):
                code = column.removeprefix("seg_")
                checked = ("Checked" if raw else "Unchecked") if labels else ("1" if raw else "0")
                out[f"segments___{code}"] = checked
                continue
            name = column if column in field_of and field_of[column]["Form Name"] == form else (
                f"{form}_{column}")  # fmt: skip
            out[name] = value(field_of[name], raw, table, column)
        return out

    by_patient = {t: frame.groupby("patient_id") for t, frame in tables.items() if
                  "patient_id" in frame}  # fmt: skip
    for i, patient in enumerate(tables["patients"].to_dict("records")):
        record = patient["patient_id"]
        add(record, "patient", None, cells_of("patient", "patients", patient, {}))
        limbs = _group(by_patient["limbs"], record)
        numbers = {limb_id: n for n, limb_id in enumerate(limbs["limb_id"], 1)}
        for table in ("limbs", "stents", "events", "assessments", "antithrombotic"):
            form = FORMS[table]
            frame = (
                tables[table][tables[table]["limb_id"].isin(numbers)]
                if table in ("stents", "assessments")
                else _group(by_patient[table], record)
            )
            for n, row in enumerate(frame.to_dict("records"), 1):
                add(record, form, n, cells_of(form, table, row, numbers))
            if empty_repeat and i == 1 and table == "events":
                add(record, form, len(frame) + 1, {})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header if labels else names)
    writer.writerows([row[n] for n in names] for row in rows)
    return buffer.getvalue()


def _group(groups, key: str) -> pd.DataFrame:
    return groups.get_group(key) if key in groups.groups else groups.obj.iloc[:0]


def cohort_tables(path: Path) -> dict[str, pd.DataFrame]:
    """A cohort file's imported tables, rows in a fixed order."""
    with duckdb.connect(str(path), read_only=True) as con:
        frames = {t: con.execute(f"SELECT * FROM {t}").df() for t in REGISTRY.tables}
    return {
        t: f.sort_values(list(f.columns), na_position="first").reset_index(drop=True)
        for t, f in frames.items()
    }


@pytest.fixture(scope="module")
def template_import(tables, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The same tables through the ordinary import: the format's CSVs."""
    folder = write_format_csvs(tables, tmp_path_factory.mktemp("format") / "csvs")
    return cohort_tables(import_registry(folder, folder.parent / "cohort.duckdb"))


def exported(tmp_path: Path, text: str, template: Path) -> tuple[Path, Path]:
    (tmp_path / "records.csv").write_text(text, encoding="utf-8")
    return tmp_path / "records.csv", template / "redcap_dictionary.csv"


@pytest.mark.parametrize(
    ("labels", "dates"), [(False, "ymd"), (True, "dmy")], ids=["raw", "labels-dmy"]
)
def test_a_projects_export_imports_to_the_cohort_its_tables_give(
    tables, dictionary, template, template_import, tmp_path, labels, dates
):
    text = redcap_export(tables, dictionary, labels=labels, dates=dates)
    empty = [row for row in csv.reader(io.StringIO(text)) if row[1] in ("event", "Event")
             and [c for c in row[3:] if c] in (["0"], ["Incomplete"])]  # fmt: skip
    assert len(empty) == 1  # a repeat left empty, as REDCap exports one
    records, dictionary_file = exported(tmp_path, text, template)
    done = import_redcap(records, dictionary_file, tmp_path / "cohort.duckdb")
    assert (done.patients, done.limbs) == (30, len(tables["limbs"]))
    got = cohort_tables(done.path)
    for table in REGISTRY.tables:
        pd.testing.assert_frame_equal(got[table], template_import[table], obj=table)


def test_the_dictionary_has_redcaps_columns_and_every_format_column_once(dictionary, template):
    assert tuple(dictionary.columns) == DICTIONARY_COLUMNS
    assert dictionary["Variable / Field Name"].iloc[0] == "record_id"
    names = dictionary["Variable / Field Name"]
    assert names.is_unique and names.str.fullmatch(r"[a-z][a-z0-9_]{0,25}").all()
    assert dictionary["Field Label"].str.casefold().is_unique  # a label export's headers
    # every column of the format is one field (or one choice of a checkbox) of its form;
    # the keys are the record and the limb numbers
    filled = {}
    for row in dictionary.to_dict("records"):
        name, form = row["Variable / Field Name"], row["Form Name"]
        if row["Field Type"] == "checkbox":
            for code, _ in choices(row["Choices, Calculations, OR Slider Labels"]):
                filled.setdefault(form, []).append(f"seg_{code}")
        else:
            filled.setdefault(form, []).append(name)
    for table, columns in format_columns().items():
        form = FORMS[table]
        keys = ("patient_id", "limb_id") if table != "limbs" else ("patient_id",)
        expected = [c for c in columns if c not in keys]
        numbers = ("record_id", "limb_no", f"{form}_limb_no")
        given = [n if n in columns else n.removeprefix(f"{form}_") for n in filled[form]
                 if n not in numbers]  # fmt: skip
        assert sorted(given) == sorted(expected), table
    assert set(filled) == set(FORMS.values())


def test_choices_dates_and_ranges_are_in_redcaps_syntax(dictionary):
    rows = dictionary.set_index("Variable / Field Name")
    assert rows.loc["side", "Choices, Calculations, OR Slider Labels"] == "1, Left | 2, Right"
    coded = rows[rows["Field Type"].isin(["radio", "dropdown", "checkbox"])]
    for text in coded["Choices, Calculations, OR Slider Labels"]:
        for choice in text.split(" | "):
            assert re.fullmatch(r"[a-z0-9]+, [^|,]+", choice), choice
    assert rows.loc["segments", "Choices, Calculations, OR Slider Labels"] == (
        "ivc, IVC | civ, CIV | eiv, EIV | cfv, CFV"
    )
    dates = rows[rows.index.str.endswith("_date")]
    assert (dates["Field Type"] == "text").all()
    assert (dates["Text Validation Type OR Show Slider Number"] == "date_ymd").all()
    assert rows.loc["age_years", ["Text Validation Type OR Show Slider Number",
                                  "Text Validation Min", "Text Validation Max"]].tolist() == [
        "integer", "18", "110"]  # fmt: skip
    assert rows.loc["bmi", "Text Validation Type OR Show Slider Number"] == "number"
    assert rows.loc["malignancy", "Field Type"] == "yesno"
    yes_no = rows[rows["Field Type"] == "yesno"]  # REDCap shows Yes and No
    assert not yes_no["Field Note"].str.contains("true/false").any()
    # a month a date may stand in for is not required in REDCap; the limb numbers are
    assert rows.loc["event_month", "Required Field?"] == ""
    assert rows.loc["stent_limb_no", "Required Field?"] == "y"
    assert rows.loc["event_limb_no", "Required Field?"] == ""  # a patient event has none
    # only a reintervention has a type, an indication and a target lesion (the schema's CHECK)
    events = dict((label, code) for code, label in choices(
        rows.loc["event", "Choices, Calculations, OR Slider Labels"]))  # fmt: skip
    shown = rows[rows["Branching Logic (Show field only if...)"] != ""]
    assert sorted(shown.index) == ["indication", "reintervention_type", "target_lesion"]
    assert set(shown["Branching Logic (Show field only if...)"]) == {
        f"[event] = '{events['Reintervention']}'"
    }


def test_the_repeating_instruments_and_their_labels_name_their_own_fields(template, dictionary):
    repeating = pd.read_csv(template / "repeating_instruments.csv", dtype=str)
    assert list(repeating.columns) == ["form_name", "custom_form_label"]
    assert set(repeating["form_name"]) == set(FORMS.values()) - {"patient"}
    forms = dictionary.set_index("Variable / Field Name")["Form Name"]
    for form, label in repeating.itertuples(index=False):
        for name in re.findall(r"\[(\w+)\]", label):
            assert forms[name] == form
    guide = " ".join((template / "README.md").read_text().split())
    assert "Repeating instruments and events" in guide and "--redcap-records" in guide


@pytest.fixture(scope="module")
def few(tables) -> dict[str, pd.DataFrame]:
    """Three patients of the fixture, the second with both legs treated."""
    patients = tables["patients"][tables["patients"]["patient_id"].isin(["S0000001", "S0000002",
                                                                          "S0000003"])]  # fmt: skip
    return {
        t: f[f["patient_id" if "patient_id" in f else "limb_id"].isin(
            patients["patient_id"] if "patient_id" in f else
            tables["limbs"].loc[tables["limbs"]["patient_id"].isin(patients["patient_id"]),
                                "limb_id"])]
        for t, f in tables.items()
    }  # fmt: skip


def rows_of(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def refusals(tmp_path: Path, template: Path, frame: pd.DataFrame, **options) -> list:
    records = tmp_path / "records.csv"
    frame.to_csv(records, index=False)
    with pytest.raises(ValidationError) as refused:
        import_redcap(records, template / "redcap_dictionary.csv", tmp_path / "c.duckdb", **options)
    assert not (tmp_path / "c.duckdb").exists()
    return refused.value.problems


def at(rows: pd.DataFrame, record: str, instrument: str, instance: str = "") -> int:
    match = (
        (rows["record_id"] == record)
        & (rows["redcap_repeat_instrument"] == instrument)
        & (rows["redcap_repeat_instance"] == instance)
    )
    (index,) = rows.index[match]
    return index


def test_a_refusal_names_the_record_instrument_instance_and_field(
    few, dictionary, template, tmp_path
):
    rows = rows_of(redcap_export(few, dictionary))
    rows.loc[at(rows, "S0000002", "limb", "2"), "bmi"] = "99"
    rows.loc[at(rows, "S0000002", "limb", "1"), "side"] = "7"
    limb = at(rows, "S0000003", "limb", "1")
    rows.loc[limb, [c for c in rows if c.startswith("segments___")]] = "0"
    rows.loc[at(rows, "S0000001", "therapy", "2"), "agent"] = ""
    found = {(p.file, p.row, p.column, p.value): p.rule for p in refusals(tmp_path, template, rows)}
    records = "records.csv: record {}, instrument {}, instance {}"
    bmi = (
        records.format("S0000002", "limb", 2),
        at(rows, "S0000002", "limb", "2") + 2,
        "bmi",
        "99",
    )
    assert found[bmi] == "bmi must be from 12 to 70"
    side = (records.format("S0000002", "limb", 1), at(rows, "S0000002", "limb", "1") + 2, "side")
    assert found[(*side, "7")].startswith("side must be left or right")
    segments = ", ".join(f"segments___{code}" for code in ("ivc", "civ", "eiv", "cfv"))
    ((value, rule),) = [(v, r) for (f, _, c, v), r in found.items() if c == segments]
    assert "at least one segment" in rule
    assert value == ", ".join(f"{name}=false" for name in segments.split(", "))
    agent = (records.format("S0000001", "therapy", 2), at(rows, "S0000001", "therapy", "2") + 2,
             "agent", None)  # fmt: skip
    assert found[agent] == "required: must not be empty"
    assert len(found) == 4


def test_a_limb_number_its_record_lacks_and_a_repeat_of_the_patient_are_refused(
    few, dictionary, template, tmp_path
):
    rows = rows_of(redcap_export(few, dictionary))
    rows.loc[at(rows, "S0000001", "stent", "2"), "stent_limb_no"] = "2"  # S0000001 has one limb
    rows.loc[at(rows, "S0000003", "", ""), "redcap_repeat_instance"] = "1"
    problems = refusals(tmp_path, template, rows)
    assert [(p.file, p.column, p.value) for p in problems] == [
        (
            "records.csv: record S0000003, instrument patient, instance 1",
            "redcap_repeat_instrument",
            "patient",
        ),
        ("records.csv: record S0000001, instrument stent, instance 2", "stent_limb_no", "2"),
    ]
    assert "one per record" in problems[0].rule
    assert "no limb with this number" in problems[1].rule


def test_a_required_field_left_out_of_the_project_is_named_in_its_dictionary(
    few, dictionary, template, tmp_path
):
    cut = dictionary[dictionary["Variable / Field Name"] != "brand"]
    cut.to_csv(tmp_path / "dictionary.csv", index=False)
    rows = rows_of(redcap_export(few, dictionary)).drop(columns="brand")
    rows.to_csv(tmp_path / "records.csv", index=False)
    with pytest.raises(ValidationError) as refused:
        import_redcap(tmp_path / "records.csv", tmp_path / "dictionary.csv", tmp_path / "c.duckdb")
    assert [(p.file, p.column, p.rule) for p in refused.value.problems] == [
        ("dictionary.csv: instrument stent", "brand", "required column is missing")
    ]


def test_a_field_the_format_lacks_and_a_longitudinal_export_are_refused(
    few, dictionary, template, tmp_path
):
    extra = pd.concat([dictionary, dictionary.iloc[[28]].assign(**{
        "Variable / Field Name": "stent_lot"})])  # fmt: skip
    extra.to_csv(tmp_path / "dictionary.csv", index=False)
    with pytest.raises(ValidationError) as refused:
        import_redcap(tmp_path / "dictionary.csv", tmp_path / "dictionary.csv", tmp_path / "c")
    ((file, row, column),) = [(p.file, p.row, p.column) for p in refused.value.problems]
    assert (file, row, column) == ("dictionary.csv", len(dictionary) + 2, "stent_lot")
    rows = rows_of(redcap_export(few, dictionary))
    rows.insert(1, "redcap_event_name", "baseline_arm_1")
    (problem,) = refusals(tmp_path, template, rows)
    assert problem.column == "redcap_event_name" and "longitudinal" in problem.rule


def test_an_instrument_not_set_as_repeating_is_named(few, dictionary, template, tmp_path):
    """Without the repeating setup, REDCap keeps one limb on the record's own row."""
    rows = rows_of(redcap_export(few, dictionary))
    limb = at(rows, "S0000001", "limb", "1")
    base = at(rows, "S0000001", "", "")
    limb_fields = [c for c in rows if rows.at[limb, c] and c not in
                   ("record_id", "redcap_repeat_instrument", "redcap_repeat_instance")]  # fmt: skip
    rows.loc[base, limb_fields] = rows.loc[limb, limb_fields]
    rows = rows.drop(index=limb)
    first, *limb_numbers = refusals(tmp_path, template, rows)
    assert (first.file, first.column) == (
        "records.csv: record S0000001, instrument patient",
        "limb",
    )
    assert "Repeating instruments and events" in first.rule
    assert {p.column for p in limb_numbers} <= {
        "stent_limb_no",
        "assessment_limb_no",
        "event_limb_no",
    }


def test_slashed_dates_need_a_day_above_12_or_the_order(few, dictionary, template, tmp_path):
    rows = rows_of(redcap_export(few, dictionary, dates="mdy"))
    dated = rows["procedure_date"] != ""
    rows.loc[dated, "procedure_date"] = ["01/02/2015", "03/04/2016", "05/06/2017", "07/08/2018"][
        : dated.sum()]  # fmt: skip
    (problem,) = refusals(tmp_path, template, rows)
    assert "--redcap-date-order" in problem.rule
    rows.to_csv(tmp_path / "records.csv", index=False)
    project, _ = read_dictionary(template / "redcap_dictionary.csv")
    read, _, problems = records_tables(tmp_path / "records.csv", project, "dmy", None)
    (limbs,) = read["limbs"].chunks()
    assert not problems and sorted(limbs["procedure_date"])[0] == "2015-02-01"


def test_hostile_values_are_kept_as_text_or_refused_as_any_import(
    few, dictionary, template, tmp_path
):
    rows = rows_of(redcap_export(few, dictionary))
    base = at(rows, "S0000001", "", "")
    rows.loc[base, "center"] = HOSTILE_CENTRES[0]
    rows.loc[at(rows, "S0000001", "stent", "1"), "brand"] = HOSTILE_CENTRES[5]
    rows.loc[at(rows, "S0000001", "limb", "1"), "stents"] = "9"  # a warning, located too
    records = tmp_path / "records.csv"
    rows.to_csv(records, index=False)
    done = import_redcap(records, template / "redcap_dictionary.csv", tmp_path / "kept.duckdb")
    assert [(w.file, w.row, w.column, w.value[:1]) for w in done.warnings] == [
        ("records.csv: record S0000001, instrument limb, instance 1",
         at(rows, "S0000001", "limb", "1") + 2, "stents", "9")
    ]  # fmt: skip
    with duckdb.connect(str(done.path), read_only=True) as con:
        kept = con.execute(
            "SELECT center, brand FROM patients JOIN limbs USING (patient_id) "
            "JOIN stents USING (limb_id) WHERE patient_id = 'S0000001' AND brand <> 'Vici'"
        ).fetchone()
    assert kept == (HOSTILE_CENTRES[0], HOSTILE_CENTRES[5])
    rows.loc[base, "center"] = "Centre\x0b2"
    rows.loc[rows["record_id"] == "S0000001", "record_id"] = "S0000001\x1b[31m"
    problems = refusals(tmp_path, template, rows)
    assert all(p.file.startswith("records.csv: record S0000001\\x1b[31m, ") for p in problems)
    assert all("control character" in p.rule for p in problems)
    centre = [p for p in problems if p.column == "center"]
    assert [(p.file, p.value) for p in centre] == [
        ("records.csv: record S0000001\\x1b[31m, instrument patient", "Centre\\x0b2")
    ]
    assert {p.column for p in problems} == {"center", "record_id"}


def test_the_cli_writes_the_template_and_imports_the_exports(few, dictionary, tmp_path, capsys):
    assert main(["redcap-template", "--out", str(tmp_path / "project")]) == 0
    (tmp_path / "records.csv").write_text(redcap_export(few, dictionary, labels=True))
    args = [
        "import",
        "--redcap-records",
        str(tmp_path / "records.csv"),
        "--redcap-dictionary",
        str(tmp_path / "project" / "redcap_dictionary.csv"),
        "--out",
        str(tmp_path / "c"),
    ]
    assert main(args) == 0 and (tmp_path / "c").is_file()
    assert main([*args[:3], "--out", str(tmp_path / "d")]) == 1
    assert "--redcap-dictionary together" in capsys.readouterr().err


def test_a_records_file_that_is_no_csv_table_is_refused_in_words(template, tmp_path):
    records = tmp_path / "records.csv"
    records.write_text('record_id,sex\nS1,1,extra\n"S2,2\n')
    with pytest.raises(ValidationError) as refused:
        import_redcap(records, template / "redcap_dictionary.csv", tmp_path / "c.duckdb")
    ((file, rule),) = [(p.file, p.rule) for p in refused.value.problems]
    assert file == "records.csv" and rule.startswith("not a readable CSV: line 2 has 3 cells")
