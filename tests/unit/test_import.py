"""Registry import: every bad input refused with file, row, column and rule; nothing lost."""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analytics.cli import main
from analytics.cohort.db import DEMO_SOURCE, metadata, open_cohort
from analytics.cohort.importer import (
    CONTROL_RULE,
    REGISTRY,
    SINGLE_LIMB,
    ValidationError,
    import_registry,
    problems_frame,
)
from analytics.cohort.own_columns import DICTIONARY
from analytics.cohort.template import GUIDE_SHEET, template_workbook
from analytics.present.format import MISSING
from analytics.present.tables import validation_report
from analytics.rules import MAX_HEADER_COLUMNS
from tests.conftest import single_limb_csv, write_single_limb


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """The demo in the single-limb layout's three CSVs, a valid registry to break one way
    per test."""
    return write_single_limb(tmp_path / "registry")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The valid registry imported once for the module: each test gets its own copy."""
    folder = tmp_path_factory.mktemp("imported")
    return import_registry(write_single_limb(folder / "registry"), folder / "cohort.duckdb")


@pytest.fixture
def existing(tmp_path: Path, imported: Path) -> Path:
    """A cohort file already in place, which a failed import must leave untouched: a copy
    of the registry's import, byte for byte (importing it again per test took a second)."""
    return Path(shutil.copyfile(imported, tmp_path / "cohort.duckdb"))


def edit(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` counts as a spreadsheet does (header = row 1)."""
    path = folder / f"{table}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[row - 2][column] = value
    write_rows(path, rows)


def write_rows(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def refused(folder: Path, out: Path) -> list[tuple]:
    """Import that must fail, leaving ``out`` byte for byte unchanged; its problems as tuples."""
    before = out.read_bytes()
    with pytest.raises(ValidationError) as caught:
        import_registry(folder, out)
    assert out.read_bytes() == before
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    return [(p.file, p.row, p.column, p.value, p.rule) for p in caught.value.problems]


def test_valid_registry_imports_with_provenance(registry, tmp_path):
    out = import_registry(registry, tmp_path / "new.duckdb", metadata={"name": "Registry A"})
    with open_cohort(out) as con:
        assert con.execute("SELECT count(*) FROM patients").fetchall()[0][0] == 37
        meta = metadata(con)
    assert meta["name"] == "Registry A"
    assert meta["is_reconstruction"] == "false"
    assert "registry" in meta["source"]


@pytest.mark.parametrize(
    ("table", "column", "value", "rule"),
    [
        ("patients", "age_years", "abc", "must be a whole number"),
        ("patients", "age_years", "12", "age_years must be from 18 to 110"),
        ("patients", "bmi", "90", "bmi must be from 12 to 70"),
        ("patients", "bmi", "heavy", "must be a number"),
        ("patients", "sex", "X", "sex must be F or M"),
        ("patients", "lesion_side", "center", "lesion_side must be left or right"),
        ("patients", "smoking", "sometimes", "must be yes/no, true/false or 1/0"),
        ("patients", "procedure_date", "01/02/2012", "must be an ISO date"),
        ("patients", "follow_up_months", "-1", "follow_up_months must be from 0 to 600"),
        ("patients", "sex", "", "required: must not be empty"),
        ("assessments", "ceap_c", "9", "ceap_c must be from 0 to 6"),
        ("assessments", "villalta", "40", "villalta must be from 0 to 33"),
        ("assessments", "month", "-3", "month"),
        ("events", "event", "stroke", "event"),
    ],
)
def test_each_bad_cell_is_named_by_file_row_column_value_and_rule(
    registry, existing, table, column, value, rule
):
    edit(registry, table, 3, column, value)
    problems = refused(registry, existing)
    assert any(
        p[:3] == (f"{table}.csv", 3, column) and (p[3] == value or value == "") and rule in p[4]
        for p in problems
    ), problems


def test_every_problem_is_reported_at_once(registry, existing):
    edit(registry, "patients", 2, "sex", "X")
    edit(registry, "patients", 5, "age_years", "200")
    edit(registry, "assessments", 7, "villalta", "99")
    problems = refused(registry, existing)
    assert {(p[0], p[1], p[2]) for p in problems} == {
        ("patients.csv", 2, "sex"),
        ("patients.csv", 5, "age_years"),
        ("assessments.csv", 7, "villalta"),
    }


def test_duplicate_patient_ids(registry, existing):
    edit(registry, "patients", 4, "patient_id", "P01")
    problems = refused(registry, existing)
    rows = sorted(p[1] for p in problems if p[4].startswith("duplicate"))
    assert rows == [2, 4]


@pytest.mark.parametrize("table", ["assessments", "events"])
def test_rows_for_an_unknown_patient(registry, existing, table):
    edit(registry, table, 2, "patient_id", "P99")
    problems = refused(registry, existing)
    assert (f"{table}.csv", 2, "patient_id", "P99") in [p[:4] for p in problems]
    assert any("unknown patient" in p[4] for p in problems)


def test_event_after_follow_up(registry, existing):
    edit(registry, "events", 2, "month", "500")
    problems = refused(registry, existing)
    assert any(p[:3] == ("events.csv", 2, "month") and "after" in p[4] for p in problems)


def test_missing_and_unknown_columns(registry, existing):
    frame = pd.read_csv(registry / "patients.csv", dtype=str, keep_default_na=False)
    frame.drop(columns="sex").rename(columns={"bmi": "weight"}).to_csv(
        registry / "patients.csv", index=False
    )
    problems = refused(registry, existing)
    assert ("patients.csv", 1, "sex", None, "required column is missing") in problems
    assert ("patients.csv", 1, "bmi", None, "required column is missing") in problems
    assert ("patients.csv", 1, "weight", None, "unknown column (not in the cohort format)") in (
        problems
    )


def test_optional_columns_may_be_absent_and_booleans_take_any_spelling(registry, tmp_path):
    frame = pd.read_csv(registry / "patients.csv", dtype=str, keep_default_na=False)
    frame = frame.drop(columns=["center", "urokinase", "stents", "access_vein"])
    frame["smoking"] = frame["smoking"].map({"true": "YES", "false": "No"})
    frame["diabetes"] = frame["diabetes"].map({"true": "1", "false": "0"})
    frame.to_csv(registry / "patients.csv", index=False)
    out = import_registry(registry, tmp_path / "new.duckdb")
    with open_cohort(out) as con:
        smokers = con.execute("SELECT count_if(smoking) FROM patients").fetchall()[0][0]
    assert smokers == 7  # published


def test_assessments_and_events_may_hold_no_rows(registry, tmp_path):
    for table in ("assessments", "events"):
        header = (registry / f"{table}.csv").read_text().splitlines()[0]
        (registry / f"{table}.csv").write_text(header + "\n")
    out = import_registry(registry, tmp_path / "new.duckdb")
    with open_cohort(out) as con:
        assert con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 0


def test_patients_with_a_header_only_is_refused(registry, existing):
    header = (registry / "patients.csv").read_text().splitlines()[0]
    (registry / "patients.csv").write_text(header + "\n")
    problems = refused(registry, existing)
    assert ("patients.csv", None, None, None, "holds no rows") in problems


def test_empty_file(registry, existing):
    (registry / "events.csv").write_bytes(b"")
    assert refused(registry, existing) == [
        ("events.csv", None, None, None, "file is empty: no header row")
    ]


def test_file_that_is_not_utf8(registry, existing):
    text = (registry / "patients.csv").read_text().replace("P01", "Pé01")
    (registry / "patients.csv").write_bytes(text.encode("latin-1"))
    (problem,) = refused(registry, existing)
    assert problem[0] == "patients.csv" and "not UTF-8" in problem[4]


def test_missing_file(registry, existing):
    (registry / "assessments.csv").unlink()
    assert refused(registry, existing) == [("assessments.csv", None, None, None, "file is missing")]


def workbook_from(folder: Path, path: Path, skip: str | None = None) -> Path:
    with pd.ExcelWriter(path) as writer:
        for table in SINGLE_LIMB.tables:
            if table != skip:
                frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
                frame.to_excel(writer, sheet_name=table, index=False)
    return path


def test_workbook_imports_like_the_csvs(registry, tmp_path):
    book = workbook_from(registry, tmp_path / "registry.xlsx")
    out = import_registry(book, tmp_path / "from-book.duckdb")
    with open_cohort(out) as con:
        assert con.execute("SELECT count(*) FROM patients").fetchall()[0][0] == 37
        assert con.execute("SELECT count(*) FROM assessments").fetchall()[0][0] > 0


def test_workbook_without_a_sheet(registry, existing, tmp_path):
    book = workbook_from(registry, tmp_path / "registry.xlsx", skip="events")
    before = existing.read_bytes()
    with pytest.raises(ValidationError) as caught:
        import_registry(book, existing)
    assert existing.read_bytes() == before
    (problem,) = caught.value.problems
    assert (problem.file, problem.rule) == ("registry.xlsx, sheet events", "sheet is missing")


def test_template_has_a_sheet_per_table_and_a_column_guide():
    sheets = pd.read_excel(io.BytesIO(template_workbook()), sheet_name=None, dtype=str)
    assert list(sheets) == [*REGISTRY.tables, DICTIONARY, GUIDE_SHEET]
    assert "patient_id" in sheets["patients"].columns and sheets["patients"].empty
    assert "ceap_c" in set(sheets[GUIDE_SHEET]["column"])


def test_cli_lists_every_problem_and_exits_non_zero(registry, existing, capsys):
    edit(registry, "patients", 2, "sex", "X")
    before = existing.read_bytes()
    assert main(["import", str(registry), "--out", str(existing)]) == 1
    err = capsys.readouterr().err
    assert "nothing was written" in err
    assert (
        "patients.csv, row 2, column sex: sex must be F or M "
        "(also accepted: any case; female for F; male for M) (found 'X')\n"
    ) in err
    assert "Traceback" not in err
    assert existing.read_bytes() == before


def test_the_validation_report_shows_no_raw_none(registry, existing):
    """A problem with a whole file has no row, column or value: the report says "-"."""
    edit(registry, "patients", 2, "sex", "X")
    with pytest.raises(ValidationError) as bad_cell:
        import_registry(registry, existing)
    (registry / "events.csv").unlink()
    with pytest.raises(ValidationError) as no_file:
        import_registry(registry, existing)
    problems = [*bad_cell.value.problems, *no_file.value.problems]
    report = validation_report(problems_frame(problems))
    cells = report.to_numpy().ravel().tolist()
    assert all(isinstance(cell, str) for cell in cells)
    assert not {"None", "nan", "<NA>", ""} & set(cells)
    assert report["row"].tolist() == ["2", MISSING]
    assert "None" not in report.to_csv(index=False)


@pytest.mark.parametrize("value", ["nan", "1e309", "3000000000", "-3000000000", "inf"])
@pytest.mark.parametrize(("table", "column"), [("patients", "age_years"), ("patients", "stents")])
def test_a_whole_number_out_of_range_is_named_like_any_bad_cell(
    registry, existing, table, column, value
):
    """DuckDB's INTEGER cast raised a bare 'Conversion Error ... INT32' with no cell."""
    edit(registry, table, 3, column, value)
    problems = refused(registry, existing)
    assert (f"{table}.csv", 3, column, value, "must be a whole number") in problems, problems


@pytest.mark.parametrize("value", ["nan", "1e309", "-inf"])
def test_a_number_that_is_not_finite_is_named(registry, existing, value):
    edit(registry, "patients", 4, "bmi", value)
    assert ("patients.csv", 4, "bmi", value, "must be a number") in refused(registry, existing)


@pytest.mark.parametrize("second", [" sex", "sex", "SEX ", "Sex"])
def test_headers_that_collide_after_trimming_or_case_are_refused(registry, existing, second):
    path = registry / "patients.csv"
    lines = path.read_text().splitlines()
    lines = [f"{line},{second if i == 0 else 'F'}" for i, line in enumerate(lines)]
    path.write_text("\n".join(lines) + "\n")
    problems = refused(registry, existing)
    assert any(p[:3] == ("patients.csv", 1, second) and "same column" in p[4] for p in problems), (
        problems
    )


def test_headers_match_whatever_their_case_and_spaces(registry, tmp_path):
    path = registry / "patients.csv"
    lines = path.read_text().splitlines()
    lines[0] = ",".join(f" {name.upper()}" for name in lines[0].split(","))
    path.write_text("\n".join(lines) + "\n")
    with open_cohort(import_registry(registry, tmp_path / "new.duckdb")) as con:
        assert con.execute("SELECT count(*) FROM patients").fetchall()[0][0] == 37


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_file_with_another_delimiter_gets_a_hint(registry, existing, delimiter):
    path = registry / "patients.csv"
    path.write_text(path.read_text().replace(",", delimiter))
    (problem,) = refused(registry, existing)
    assert problem[:3] == ("patients.csv", 1, None)
    assert "separated by" in problem[4] and "commas" in problem[4]


def test_a_csv_renamed_to_xlsx_gets_a_plain_message(registry, tmp_path):
    book = tmp_path / "registry.xlsx"
    book.write_bytes((registry / "patients.csv").read_bytes())
    with pytest.raises(ValidationError) as caught:
        import_registry(book, tmp_path / "new.duckdb")
    (problem,) = caught.value.problems
    assert problem.file == "registry.xlsx"
    assert "not an Excel workbook" in problem.rule and "CSV" in problem.rule
    assert "zip" not in problem.rule.lower()


@pytest.mark.parametrize("value", ["1949-12-31", "1066-10-14", "2999-01-01"])
def test_implausible_dates_are_refused(registry, existing, value):
    edit(registry, "patients", 3, "procedure_date", value)
    problems = refused(registry, existing)
    assert any(p[:4] == ("patients.csv", 3, "procedure_date", value) for p in problems), problems


def test_a_date_after_today_is_refused_and_today_is_not(registry, existing, tmp_path):
    from datetime import date, timedelta

    edit(registry, "patients", 2, "procedure_date", date.today().isoformat())
    edit(registry, "patients", 3, "procedure_date", (date.today() + timedelta(1)).isoformat())
    problems = refused(registry, existing)
    assert [p[1] for p in problems] == [3], problems
    assert "after today" in problems[0][4]


def controls(text: str, allowed: str = "") -> list[str]:
    """The control characters (Unicode Cc) in ``text`` beside those ``allowed``."""
    return [c for c in re.findall("[\x00-\x1f\x7f-\x9f]", text) if c not in allowed]


@pytest.mark.parametrize(
    ("value", "shown"),
    [("Centre\x0b2", "Centre\\x0b2"), ("\x1b[31mRed", "\\x1b[31mRed"),
     ("Centre\t2", "Centre\\t2"), ("Centre\n2", "Centre\\n2"), ("C\x85", "C\\x85"),
     ("Centre\x001", "Centre\\x001")],
)  # fmt: skip
def test_a_csv_cell_with_a_control_character_is_refused_naming_the_cell(
    registry, existing, value, shown
):
    edit(registry, "patients", 3, "center", value)
    problems = refused(registry, existing)
    assert ("patients.csv", 3, "center", shown, CONTROL_RULE) in problems, problems


def test_a_workbook_cell_with_a_control_character_is_refused_naming_sheet_row_and_column(
    registry, existing, tmp_path, capsys
):
    """Excel writes an escape in a cell as "_x001B_" (XML cannot hold the character)."""
    edit(registry, "patients", 4, "center", "\x1b[31mRed")
    book = tmp_path / "registry.xlsx"
    with pd.ExcelWriter(book, engine="xlsxwriter") as writer:
        for table in SINGLE_LIMB.tables:
            frame = pd.read_csv(registry / f"{table}.csv", dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=table, index=False)
    assert b"_x001B_[31mRed" in zipfile.ZipFile(book).read("xl/sharedStrings.xml")
    before = existing.read_bytes()
    assert main(["import", str(book), "--out", str(existing)]) == 1
    err = capsys.readouterr().err
    assert (
        "registry.xlsx, sheet patients, row 4, column center: " + CONTROL_RULE
        + " (found '\\x1b[31mRed')\n"
    ) in err  # fmt: skip
    assert controls(err, "\n") == []
    assert existing.read_bytes() == before


def test_a_plain_workbook_still_imports(registry, tmp_path):
    """Text that only looks like an escape of a printable character is kept as written."""
    edit(registry, "patients", 3, "center", "C_x0041_1")
    book = workbook_from(registry, tmp_path / "registry.xlsx")
    assert main(["import", str(book), "--out", str(tmp_path / "new.duckdb")]) == 0
    with open_cohort(tmp_path / "new.duckdb") as con:
        centres = {c for (c,) in con.execute("SELECT DISTINCT center FROM patients").fetchall()}
    assert "C_x0041_1" in centres


def test_a_header_with_an_escape_reaches_no_terminal_raw(registry, capsys, tmp_path):
    path = registry / "patients.csv"
    path.write_text(path.read_text().replace("center", "cen\x1b[0mter", 1))
    assert main(["import", str(registry), "--out", str(tmp_path / "new.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "column cen\\x1b[0mter: unknown column" in err
    assert controls(err, "\n") == []


def quiet_patient(folder: Path) -> str:
    """A patient with no events and a long follow-up, to give a death and events."""
    patients = pd.read_csv(folder / "patients.csv", dtype=str)
    events = pd.read_csv(folder / "events.csv", dtype=str)
    quiet = patients[~patients["patient_id"].isin(events["patient_id"])]
    return quiet[quiet["follow_up_months"].astype(float) >= 24]["patient_id"].iloc[0]


def test_an_event_after_death_is_refused_and_one_in_the_month_of_death_is_not(registry, existing):
    patient = quiet_patient(registry)
    with (registry / "events.csv").open("a") as handle:
        handle.write(f"{patient},12,death\n{patient},12,major_bleeding\n{patient},13,occlusion\n")
    rows = len(pd.read_csv(registry / "events.csv"))
    problems = refused(registry, existing)
    assert [(p[0], p[1], p[2]) for p in problems] == [("events.csv", rows + 1, "month")], problems
    assert "after the patient's death" in problems[0][4]


def test_the_upload_limit_is_the_servers(tmp_path):
    """Streamlit refuses a larger upload itself; the README and rules state the same number."""
    import tomllib

    from analytics.cohort.db import ROOT
    from analytics.rules import MAX_UPLOAD_MB

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB


def test_a_workbook_that_unpacks_beyond_the_limit_is_refused_before_parsing(
    registry, tmp_path, monkeypatch
):
    import zipfile

    from analytics.cohort import importer

    book = workbook_from(registry, tmp_path / "registry.xlsx")
    with zipfile.ZipFile(book, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.xml", b" " * (importer.MAX_XLSX_INFLATED_MB * importer.MB))
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", pytest.fail)  # never parsed
    with pytest.raises(ValidationError) as caught:
        import_registry(book, tmp_path / "new.duckdb")
    (problem,) = caught.value.problems
    assert problem.file == "registry.xlsx"
    assert f"more than the {importer.MAX_XLSX_INFLATED_MB} MB" in problem.rule


def test_a_sheet_beyond_the_row_limit_is_refused(registry, tmp_path, monkeypatch):
    from analytics.cohort import importer

    monkeypatch.setattr(importer, "MAX_ROWS_PER_SHEET", 36)  # the demo has 37 patients
    book = workbook_from(registry, tmp_path / "registry.xlsx")
    with pytest.raises(ValidationError) as caught:
        import_registry(book, tmp_path / "new.duckdb")
    assert (
        "registry.xlsx, sheet patients",
        "more than 36 rows: the limit for one sheet of an import",
    ) in [(p.file, p.rule) for p in caught.value.problems]


def test_a_value_right_of_the_headers_is_refused(registry, tmp_path):
    import openpyxl

    book = workbook_from(registry, tmp_path / "registry.xlsx")
    workbook = openpyxl.load_workbook(book)
    workbook["patients"].cell(row=5, column=40, value="stray")
    workbook.save(book)
    with pytest.raises(ValidationError) as caught:
        import_registry(book, tmp_path / "new.duckdb")
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.value) == (
        "registry.xlsx, sheet patients",
        5,
        "stray",
    )


def test_a_workbook_that_inflates_to_a_million_rows_is_read_no_further_than_the_limit(
    registry, tmp_path, monkeypatch
):
    """A few MB that unpack to a million rows: reading stops at the row limit, so the
    cost is that of the limit's rows, not the million (counted, not timed)."""
    import zipfile

    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    book = workbook_from(registry, tmp_path / "registry.xlsx")
    with zipfile.ZipFile(book) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    sheet = next(n for n in members if n.startswith("xl/worksheets/"))  # patients, the first
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>P</t></is></c></row>'
                   for i in range(1, 1_000_001))  # fmt: skip
    head, _, rest = members[sheet].decode().partition("<sheetData>")
    members[sheet] = (head + "<sheetData>" + rows + rest.partition("</sheetData>")[2]).encode()
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    parsed = {"rows": 0}
    cells_by_row = ReadOnlyWorksheet._cells_by_row

    def counted(self, *args, **kwargs):
        for row in cells_by_row(self, *args, **kwargs):
            parsed["rows"] += self.title == "patients"
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counted)
    with pytest.raises(ValidationError) as caught:
        import_registry(bomb, tmp_path / "new.duckdb")
    assert any("more than 100,000 rows" in p.rule for p in caught.value.problems)
    assert parsed["rows"] <= 100_002  # the header, the limit's rows and the one beyond it


def test_rows_read_in_chunks_keep_their_spreadsheet_numbers(
    registry: Path, existing: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("analytics.cohort.importer.CSV_CHUNK_ROWS", 7)
    edit(registry, "patients", 30, "age_years", "old")
    edit(registry, "events", 9, "month", "soon")
    problems = refused(registry, existing)
    assert ("patients.csv", 30, "age_years", "old", "must be a whole number") in problems
    assert ("events.csv", 9, "month", "soon", "must be a number") in problems


def test_a_large_csv_is_imported_without_holding_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """40,000 patients read 1,000 rows at a time (a fifth of the rows and of the chunk of
    an import: tracemalloc makes each allocation slow): the import's peak Python memory is
    well under one whole read's (0.19 of it; read whole, in one chunk, 4.6 times)."""
    import tracemalloc

    monkeypatch.setattr("analytics.cohort.importer.CSV_CHUNK_ROWS", 1_000)
    folder = tmp_path / "large"
    folder.mkdir()
    header, *demo = list(csv.reader(io.StringIO(single_limb_csv("patients"))))
    with (folder / "patients.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(40_000):
            writer.writerow([f"P{i:06d}", *demo[i % len(demo)][1:]])
    for table in ("assessments", "events"):  # headers only: these may be empty
        header_line = single_limb_csv(table).splitlines()[0]
        (folder / f"{table}.csv").write_text(header_line + "\n")
    tracemalloc.start()
    try:
        pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
        whole = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        out = import_registry(folder, tmp_path / "large.duckdb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    with open_cohort(out) as con:
        assert con.execute("SELECT count(*) FROM patients").fetchone()[0] == 40_000
    assert peak < whole / 2, (peak, whole)  # the import that read it whole peaked at 3x one read


@pytest.mark.parametrize("block", [3, 4, 1024])  # the bad byte inside a block or across two
def test_a_byte_not_utf8_is_found_at_its_offset_a_block_at_a_time(
    registry: Path, existing: Path, monkeypatch: pytest.MonkeyPatch, block: int
):
    monkeypatch.setattr("analytics.cohort.importer.SCAN_BYTES", block)
    raw = (registry / "patients.csv").read_bytes()
    at = raw.index(b"P02")
    (registry / "patients.csv").write_bytes(raw[:at] + "é".encode() + b"\xe9" + raw[at:])
    (problem,) = refused(registry, existing)
    expected = f"not UTF-8 text (byte 0xe9 at offset {at + 2}); save as CSV UTF-8"
    assert problem == ("patients.csv", None, None, None, expected)


def test_a_row_the_parser_cannot_read_after_the_first_chunk_is_refused(
    registry: Path, existing: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("analytics.cohort.importer.CSV_CHUNK_ROWS", 7)
    lines = (registry / "assessments.csv").read_text().splitlines(keepends=True)
    lines[29] = lines[29].rstrip("\n") + ",1,2,3\n"
    (registry / "assessments.csv").write_text("".join(lines))
    (problem,) = refused(registry, existing)
    rule = "not a readable CSV table: line 30 has 8 cells but the header has 5"
    assert problem == ("assessments.csv", None, None, None, rule)


def filled_template(path: Path, left_empty: dict[str, set[str]]) -> Path:
    """The product's template filled in with the demo's rows, ``left_empty`` columns untouched
    (Excel saves no cell for them: each row ends at its last filled cell)."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    for table in REGISTRY.tables:
        sheet = book[table]
        header = [cell.value for cell in sheet[1]]
        empty = left_empty.get(table, set())
        if not (DEMO_SOURCE / f"{table}.csv").exists():  # the demo records no stents
            continue
        with (DEMO_SOURCE / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                sheet.append([None if c in empty else row.get(c) for c in header])
    book.save(path)
    return path


def test_the_template_with_its_optional_end_columns_left_empty_imports(tmp_path):
    empty = {"limbs": {"stents", "access_vein"}, "assessments": {"reflux"}}
    book = filled_template(tmp_path / "registry.xlsx", empty)
    with open_cohort(import_registry(book, tmp_path / "new.duckdb")) as con:
        patients, stents, access = con.execute(
            "SELECT count(*), count(stents), count(access_vein) FROM limbs"
        ).fetchone()
        assessments, reflux = con.execute(
            "SELECT count(*), count(reflux) FROM assessments"
        ).fetchone()
    demo = pd.read_csv(DEMO_SOURCE / "assessments.csv", dtype=str)
    assert (patients, stents, access) == (37, 0, 0)
    assert (assessments, reflux) == (len(demo), 0)


WIDE_HEADER_COLUMNS = 20_000


def test_a_csv_with_a_header_of_thousands_of_columns_is_refused_before_its_rows(
    registry: Path, existing: Path
):
    """232 KiB: a 20,000-column header over 40,000 one-cell rows. Padding each row to the
    header would hold 800 million cells; refused at the header, in a few MB."""
    import tracemalloc

    header = ",".join(["patient_id", *(f"c{i}" for i in range(WIDE_HEADER_COLUMNS - 1))])
    (registry / "patients.csv").write_text(header + "\n" + "P\n" * 40_000)
    assert (registry / "patients.csv").stat().st_size < 300 * 1024
    tracemalloc.start()
    try:
        (problem,) = refused(registry, existing)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    rule = (
        f"the header has 20,000 columns, more than the {MAX_HEADER_COLUMNS} any table of the "
        "cohort format "
        "could have: keep only the columns of the data dictionary"
    )
    assert problem == ("patients.csv", 1, None, None, rule)
    assert peak < 32 * 1024 * 1024, peak


def test_a_sheet_with_a_header_of_thousands_of_columns_is_refused_before_its_rows(
    registry: Path, tmp_path: Path
):
    import openpyxl

    book = openpyxl.load_workbook(workbook_from(registry, tmp_path / "registry.xlsx"))
    book["events"].cell(row=1, column=16_000, value="late")  # Excel's limit is 16,384
    book.save(tmp_path / "wide.xlsx")
    with pytest.raises(ValidationError) as caught:
        import_registry(tmp_path / "wide.xlsx", tmp_path / "new.duckdb")
    (problem,) = caught.value.problems
    assert (problem.file, problem.row) == ("wide.xlsx, sheet events", 1)
    assert problem.rule.startswith(
        f"the header has 16,000 columns, more than the {MAX_HEADER_COLUMNS}"
    )


UNCLOSED_QUOTE = (
    'not a readable CSV table: a quote (") opens a cell on line {} and is never closed, '
    "so the rest of the file would be one cell: close the quote or remove it"
)


@pytest.mark.parametrize("rows_after", [0, 20_000])  # within the csv module's cell limit, beyond
def test_a_header_that_opens_a_quote_and_never_closes_it_gets_one_message(
    registry: Path, existing: Path, rows_after: int
):
    path = registry / "patients.csv"
    path.write_text(path.read_text().replace("bmi,", '"bmi,', 1) + "P99,70,F\n" * rows_after)
    (problem,) = refused(registry, existing)
    assert problem == ("patients.csv", 1, None, None, UNCLOSED_QUOTE.format(1))


def test_a_row_that_opens_a_quote_and_never_closes_it_names_its_line(registry, existing):
    path = registry / "patients.csv"
    path.write_text(path.read_text().replace("P05,", '"P05,', 1))
    (problem,) = refused(registry, existing)
    assert problem == ("patients.csv", None, None, None, UNCLOSED_QUOTE.format(6))


def test_the_cli_reports_an_unclosed_quote_in_one_line_and_exits_1(registry, existing, capsys):
    path = registry / "events.csv"
    path.write_text(path.read_text().replace("patient_id", '"patient_id', 1) + "x," * 70_000)
    assert main(["import", str(registry), "--out", str(existing)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "field limit" not in err
    assert f"  events.csv, row 1: {UNCLOSED_QUOTE.format(1)}\n" in err
    assert len(err.splitlines()) == 2  # the summary, and the one problem


CLINICIANS_SPELLINGS = [
    ("patients", "lesion_side", "left", "Left"),
    ("patients", "lesion_side", "left", "L"),
    ("patients", "lesion_side", "right", " r "),
    ("patients", "sex", "F", "female"),
    ("patients", "sex", "F", "F "),
    ("patients", "sex", "M", "MALE"),
    ("patients", "access_vein", "small_saphenous", "Small Saphenous"),
    ("patients", "access_vein", "small_saphenous", "SSV"),
    ("events", "event", "pulmonary_embolism", "PE"),
    ("events", "event", "pulmonary_embolism", "Pulmonary embolism"),
    ("events", "event", "recurrent_dvt", "DVT"),
    ("events", "event", "ulcer_healed", " ULCER_HEALED"),
]


def rows_of(out: Path) -> dict[str, list[tuple]]:
    with open_cohort(out) as con:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in SINGLE_LIMB.tables
        }


def test_a_file_spelled_as_clinicians_type_imports_to_the_canonical_cohort(registry, tmp_path):
    canonical = rows_of(import_registry(registry, tmp_path / "canonical.duckdb"))
    for table, column, code, typed in CLINICIANS_SPELLINGS:
        path = registry / f"{table}.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            if row[column] == code:
                row[column] = typed
        write_rows(path, rows)
    typed = rows_of(import_registry(registry, tmp_path / "typed.duckdb"))
    assert typed == canonical
    spelled = pd.read_csv(registry / "events.csv", dtype=str)["event"]
    assert {"PE", "DVT", " ULCER_HEALED"} <= set(spelled)  # the edits were made


@pytest.mark.parametrize(("table", "column", "code", "typed"), CLINICIANS_SPELLINGS)
def test_each_accepted_spelling_is_stored_as_its_code(
    registry, tmp_path, table, column, code, typed
):
    from collections import Counter

    expected = pd.read_csv(registry / f"{table}.csv", dtype=str)[column].tolist()
    expected[0] = code  # row 2 of the sheet
    edit(registry, table, 2, column, typed)
    stored_in = "limb_summary" if table == "patients" else table  # a limb's columns, too
    with open_cohort(import_registry(registry, tmp_path / "new.duckdb")) as con:
        stored = [v for (v,) in con.execute(f"SELECT {column} FROM {stored_in}").fetchall()]
    assert Counter(stored) == Counter(expected)


@pytest.mark.parametrize(
    ("table", "column", "typed", "rule"),
    [
        ("patients", "lesion_side", "middle",
         "lesion_side must be left or right (also accepted: any case; L for left; R for right)"),
        ("patients", "sex", "W",
         "sex must be F or M (also accepted: any case; female for F; male for M)"),
        ("patients", "access_vein", "radial",
         "access_vein must be popliteal, small_saphenous, femoral, jugular or other (also "
         "accepted: any case; a space for an underscore; SSV for small_saphenous)"),
        ("events", "event", "stroke",
         "event must be restenosis, occlusion, reintervention, patency_restored, recurrent_dvt, "
         "pulmonary_embolism, minor_bleeding, major_bleeding, death or ulcer_healed (also "
         "accepted: any case; a space for an underscore; DVT for recurrent_dvt; PE for "
         "pulmonary_embolism)"),
    ],
)  # fmt: skip
def test_a_code_refused_is_named_in_the_data_dictionarys_words(
    registry, existing, table, column, typed, rule
):
    edit(registry, table, 4, column, typed)
    assert refused(registry, existing) == [(f"{table}.csv", 4, column, typed, rule)]


def ceap_regressions(folder: Path) -> set[tuple[int, str]]:
    """Each limb's first visit below C5 after C5 or C6 earlier, read from the CSV with
    pandas: (sheet row, 'C<later> at month <m> (C<ulcer> at month <m0>)')."""
    frame = pd.read_csv(folder / "assessments.csv")
    frame["row"] = frame.index + 2
    found = set()
    for _, visits in frame.dropna(subset=["ceap_c"]).groupby("patient_id"):
        visits = visits.sort_values("month")
        ulcer = visits[visits["ceap_c"] >= 5].head(1)
        if ulcer.empty:
            continue
        after = visits[(visits["month"] > ulcer["month"].iloc[0]) & (visits["ceap_c"] < 5)]
        if not after.empty:
            first, u = after.iloc[0], ulcer.iloc[0]
            later = f"C{first['ceap_c']:.0f} at month {first['month']:g}"
            found.add((int(first["row"]), f"{later} (C{u['ceap_c']:.0f} at month {u['month']:g})"))
    return found


def test_limbs_falling_below_c5_after_an_ulcer_are_imported_with_a_warning(registry, tmp_path):
    from analytics.cohort.importer import import_with_report

    imported = import_with_report(registry, tmp_path / "new.duckdb")
    with open_cohort(imported.path) as con:
        assert con.execute("SELECT count(*) FROM patients").fetchone()[0] == imported.patients == 37
    expected = ceap_regressions(registry)
    assert len(expected) >= 6  # the paper's C5 15 -> 9 forces at least six
    assert {(w.row, w.value) for w in imported.warnings} == expected
    assert {(w.file, w.column) for w in imported.warnings} == {("assessments.csv", "ceap_c")}
    assert all(w.rule.startswith("data-quality warning: below C5 after C5 or C6")
               for w in imported.warnings)  # fmt: skip


def test_the_cli_imports_and_lists_the_warnings(registry, tmp_path, capsys):
    out = tmp_path / "new.duckdb"
    assert main(["import", str(registry), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"imported {registry} into {out}\n"
    lines = captured.err.splitlines()
    assert lines[0] == f"warning: {len(ceap_regressions(registry))} row(s) to check"
    assert lines[1].startswith("  assessments.csv, row ") and "below C5 after C5" in lines[1]


@pytest.mark.parametrize(
    ("cells", "columns", "rule"),
    [
        ({"seg_ivc": "true", "seg_civ": "false", "seg_eiv": "true", "seg_cfv": "false"},
         "seg_ivc, seg_civ, seg_eiv, seg_cfv",
         "involved segments are contiguous (IVC, CIV, EIV, CFV from central to peripheral): "
         "with seg_ivc and seg_eiv or seg_cfv, seg_civ is true"),
        ({"seg_ivc": "no", "seg_civ": "no", "seg_eiv": "no", "seg_cfv": "no"},
         "seg_ivc, seg_civ, seg_eiv, seg_cfv",
         "a lesion involves at least one segment: seg_ivc, seg_civ, seg_eiv or seg_cfv is true"),
        ({"technical_success": "yes", "stents": "0"}, "stents, technical_success",
         "stents is at least 1 when technical_success is true (no success without a stent)"),
    ],
)  # fmt: skip
def test_a_rule_across_columns_is_refused_in_the_dictionarys_words(
    registry, existing, cells, columns, rule
):
    for column, value in cells.items():
        edit(registry, "patients", 5, column, value)
    (problem,) = refused(registry, existing)
    assert (problem[0], problem[1], problem[2], problem[4]) == ("patients.csv", 5, columns, rule)
