"""Import a registry into the cohort format: read, validate against the schema, write atomically.

The rules are not written twice: column names, types, required columns, CHECK
expressions, keys and foreign keys are read from ``data/schema.sql`` as DuckDB
holds it (``duckdb_columns()``, ``duckdb_constraints()``), and each is run as one
set-based query over all rows, so every problem is reported at once, however
large the file. Only the rules the schema cannot state are written here: no
event after the patient's follow-up or death, no date before 1950 or after today,
no control character in a cell (a NUL byte, a tab, a line break, a terminal escape: the
format has no free text), and header names that differ only by spaces or case. A refusal
is worded as the data dictionary words the rule (analytics.cohort.dictionary), and a
coded value is read in any case or as a synonym the dictionary lists. A row that breaks
no rule but should be checked (a limb falling below C5 after an ulcer) is imported and
listed as a data-quality warning.

Nothing is written to the destination until the new file is complete and
checked: it is built beside the destination and moved into place
(analytics.cohort.write), so a failed import leaves an existing file byte for byte as it
was.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import chain, islice
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from analytics.cohort.db import SCHEMA_PATH, SCHEMA_VERSION, CohortError
from analytics.cohort.dictionary import CROSS_COLUMN_RULES, CodedColumn, coded_columns
from analytics.cohort.single_limb import SINGLE_LIMB_SCHEMA_PATH, aetiology_of, from_single_limb
from analytics.cohort.summary import create_summary
from analytics.cohort.write import written_beside
from analytics.glossary import FALSE_WORDS, TRUE_WORDS
from analytics.rules import (
    CONTROL_CHARACTER,
    EARLIEST_DATE_YEAR,
    MAX_HEADER_COLUMNS,
    MAX_ROWS_PER_SHEET,
    MAX_XLSX_INFLATED_MB,
)

DATA_TABLES = ("patients", "assessments", "events")
MAY_BE_EMPTY = ("assessments", "events")
MB = 1024 * 1024
ROW = "_row"  # spreadsheet row number: the header is row 1
FIRST_DATA_ROW = 2
SHOWN_PER_RULE = 200  # problems listed per rule; the rest are counted
CSV_CHUNK_ROWS = 5_000  # a CSV is read and staged this many rows at a time
SCAN_BYTES = MB  # and checked for its encoding this many bytes at a time
TRUE_TEXT, FALSE_TEXT = sorted(TRUE_WORDS), sorted(FALSE_WORDS)  # the filters' own words
OTHER_DELIMITERS = {";": "semicolons (;)", "\t": "tabs", "|": "vertical bars (|)"}
RANGE = re.compile(r'\("?(\w+)"? BETWEEN (-?[\d.]+) AND (-?[\d.]+)\)')  # DuckDB's CHECK text
LENGTH = re.compile(r'\(length\("?(\w+)"?\) BETWEEN (\d+) AND (\d+)\)')
CEAP_BELOW_ULCER = (
    "data-quality warning: below C5 after C5 or C6 at an earlier visit, but CEAP keeps a "
    "healed ulcer at C5 or above: check the record (imported as written)"
)
CONTROL_RULE = (
    "holds a control character, such as a NUL byte, tab, line break or terminal escape "
    "(shown as \\x00, \\t, \\n, \\x1b): remove it"
)
# How a workbook writes a control character, which XML cannot hold: OOXML's escape
# "_x000B_" (a vertical tab), which openpyxl leaves as written.
EXCEL_CONTROL_ESCAPE = re.compile(r"_x(00[01][0-9A-Fa-f]|007[Ff]|00[89][0-9A-Fa-f])_")
TYPE_RULES = {
    "BOOLEAN": "must be yes/no, true/false or 1/0",
    "INTEGER": "must be a whole number",
    "DOUBLE": "must be a number",
    "DATE": "must be an ISO date (YYYY-MM-DD)",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the source, located as a data manager would look for it.

    Text read from the source (a file or sheet, a header, a cell) shows each character
    that does not print as its escape (:func:`visible`): a reader sees where it is, and no
    report, screen or terminal receives a control character.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str

    def __post_init__(self) -> None:
        for name in ("file", "column", "value"):
            if (text := getattr(self, name)) is not None:
                object.__setattr__(self, name, visible(text))


def visible(text: str) -> str:
    """``text`` with each character that does not print (a control character, a no-break
    space, a direction mark) written as Python writes its escape: "Centre\\x0b2"."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class ValidationError(CohortError):
    """The source breaks the cohort format; ``problems`` lists every breach."""

    def __init__(self, source: Path, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s); nothing was written")


@dataclass(frozen=True)
class Table:
    """A table of the source as text: its header as written and its rows, read in chunks.

    ``chunks`` reads the rows afresh on each call (a CSV chunk by chunk, so memory is
    bounded however large the file; a sheet at once, as it is bounded by its rows).
    """

    header: list[str]
    chunks: Callable[[], Iterator[pd.DataFrame]]


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    required: bool


@dataclass(frozen=True)
class Imported:
    """A finished import: the cohort file, its patients, and its data-quality warnings.

    A warning is a row imported as written that breaks no rule of the format but that a
    reader should check (a limb falling below C5 after an ulcer): real series report them.
    """

    path: Path
    patients: int
    warnings: tuple[Problem, ...]


def import_registry(
    source: Path,
    out: Path,
    metadata: dict[str, str] | None = None,
    max_rows: int | None = None,
    replace: bool = True,
) -> Path:
    """Validate ``source`` into cohort file ``out`` (:func:`import_with_report`); its path."""
    return import_with_report(source, out, metadata, max_rows, replace).path


def import_with_report(
    source: Path,
    out: Path,
    metadata: dict[str, str] | None = None,
    max_rows: int | None = None,
    replace: bool = True,
) -> Imported:
    """Validate ``source`` (a folder of three CSVs or an .xlsx workbook) into cohort file ``out``.

    ``max_rows`` bounds every table (the dashboard's uploads); a workbook is always bounded.
    With ``replace=False`` an existing ``out`` is kept (DestinationExists).
    Raises ValidationError listing every problem; ``out`` is then left untouched.
    """
    source, out = Path(source), Path(out)
    tables, labels, problems = read_source(source, max_rows)
    if problems:
        for name, table in tables.items():  # the readable files' own reading problems, too
            problems += _each_chunk(table, labels[name], max_rows, lambda chunk, first: None)
        raise ValidationError(source, problems)
    meta = {**_default_metadata(source), **(metadata or {})}
    with (
        written_beside(out, replace) as tmp,
        duckdb.connect(str(tmp)) as con,
        duckdb.connect() as staging,
    ):
        staging.execute(SINGLE_LIMB_SCHEMA_PATH.read_text())
        problems = stage(staging, tables, labels, max_rows)
        if problems:
            raise ValidationError(source, problems)
        problems = validate(staging, tables, labels)
        if problems:
            raise ValidationError(source, problems)
        warnings = _ceap_warnings(staging, labels)
        (patients,) = staging.execute("SELECT count(*) FROM typed_patients").fetchone()
        for table in DATA_TABLES:
            staging.execute(
                f"INSERT INTO {table} BY NAME SELECT * EXCLUDE ({ROW}) FROM typed_{table}"
            )
        con.execute(SCHEMA_PATH.read_text())
        from_single_limb(con, lambda table: _rows_of(staging, table), aetiology_of(meta))
        create_summary(con)
        write_metadata(con, meta)
    return Imported(out, patients, tuple(warnings))


def _rows_of(con: duckdb.DuckDBPyConnection, table: str) -> pa.RecordBatchReader:
    return con.sql(f"SELECT * FROM {table}").to_arrow_reader(CSV_CHUNK_ROWS * 20)


def read_source(
    source: Path, max_rows: int | None = None
) -> tuple[dict[str, Table], dict[str, str], list[Problem]]:
    """The three tables as text, a label naming where each came from, and reading problems.

    A workbook never holds more than MAX_ROWS_PER_SHEET rows a sheet (or ``max_rows``);
    CSVs are limited only when ``max_rows`` is given (an upload), found as they are read
    (:func:`stage`), as is a row the CSV parser cannot read.
    """
    if source.is_dir():
        return _read_folder(source, max_rows)
    if source.suffix.lower() == ".xlsx" and source.is_file():
        return _read_workbook(source, max_rows or MAX_ROWS_PER_SHEET)
    problem = Problem(
        str(source), None, None, None,
        "not found: give a folder holding patients.csv, assessments.csv and events.csv, "
        "or an .xlsx workbook with those three sheets",
    )  # fmt: skip
    return {}, {}, [problem]


def _read_folder(
    folder: Path, max_rows: int | None
) -> tuple[dict[str, Table], dict[str, str], list[Problem]]:
    tables, labels, problems = {}, {}, []
    for name in DATA_TABLES:
        path = folder / f"{name}.csv"
        labels[name] = path.name
        if not path.is_file():
            problems.append(Problem(path.name, None, None, None, "file is missing"))
            continue
        table, problem = _read_csv(path)
        if problem:
            problems.append(problem)
        else:
            tables[name] = table
    return tables, labels, problems


def _read_csv(path: Path) -> tuple[Table | None, Problem | None]:
    """The CSV's header and a chunked reader of its rows, once its bytes are checked.

    The file is checked a block at a time, never held whole: blank, not UTF-8, another
    delimiter than commas. Its rows are read with the csv module (which keeps a NUL byte
    in its cell), a row with more cells than the header refused: pandas' chunked reader
    drops them unsaid.
    """
    blank, decoder, offset = True, codecs.getincrementaldecoder("utf-8")(), 0
    with path.open("rb") as stream:
        for block in chain(iter(lambda: stream.read(SCAN_BYTES), b""), [None]):  # None: the end
            data = block or b""
            blank = blank and not data.strip()
            pending = decoder.getstate()[0]
            try:
                decoder.decode(data, final=block is None)
            except UnicodeDecodeError as exc:
                at, byte = offset - len(pending) + exc.start, exc.object[exc.start]
                rule = f"not UTF-8 text (byte 0x{byte:02x} at offset {at}); save as CSV UTF-8"
                return None, Problem(path.name, None, None, None, rule)
            offset += len(data)
    if blank:
        return None, Problem(path.name, None, None, None, "file is empty: no header row")
    with path.open(encoding="utf-8-sig", newline="") as text:
        try:
            _, header = next(_records(text), (1, []))
        except csv.Error as exc:
            return None, Problem(path.name, 1, None, None, f"not a readable CSV table: {exc}")
    if len(header) == 1 and (other := _other_delimiter(header[0])):
        rule = (
            f"the header has no commas but {other}: the file seems separated by {other}; "
            "save it as CSV with commas (in Excel: CSV UTF-8 (Comma delimited))"
        )
        return None, Problem(path.name, 1, None, None, rule)
    if too_wide := _width_refusal(header):
        return None, Problem(path.name, 1, None, None, too_wide)

    def chunks() -> Iterator[pd.DataFrame]:
        with path.open(encoding="utf-8-sig", newline="") as text:
            records = _records(text)
            next(records, None)  # the header
            rows = (_cells(row, len(header), line) for line, row in records if row)
            while batch := list(islice(rows, CSV_CHUNK_ROWS)):  # a blank line is no row
                yield pd.DataFrame(batch, columns=header)

    return Table(header, chunks), None


def _records(text: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on; a broken quote named in a person's words.

    Strict: a quote left open is an error at the end of the file, not a cell swallowing
    the rest of it (or, past the csv module's field limit, its message about that limit).
    """
    reader = csv.reader(text, strict=True)
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise csv.Error(_quote_problem(str(exc), line)) from None
        yield line, record


def _quote_problem(message: str, line: int) -> str:
    """What the csv module's ``message`` means for the record starting on ``line``."""
    if message == "unexpected end of data" or message.startswith("field larger than field limit"):
        return (
            f'a quote (") opens a cell on line {line} and is never closed, so the rest of '
            "the file would be one cell: close the quote or remove it"
        )
    if "expected after" in message:
        return (
            f'a cell on line {line} goes on after its closing quote ("): write a quote '
            'inside a quoted cell twice ("")'
        )
    return f"line {line}: {message}"


def _cells(row: list[str], width: int, line: int) -> list[str]:
    """A row's cells under a header ``width`` wide: missing ones empty, extra ones refused."""
    if len(row) > width:
        raise csv.Error(f"line {line} has {len(row)} cells but the header has {width}")
    return row + [""] * (width - len(row))


def _width_refusal(header: list[str]) -> str | None:
    """Why a header is read no further: wider than any table of the cohort format can be.

    Rows are padded to the header, so a wide header with short rows would cost memory in
    proportion to its width times the rows; it is refused before any row is read.
    """
    if len(header) <= MAX_HEADER_COLUMNS:
        return None
    return (
        f"the header has {len(header):,} columns, more than the {MAX_HEADER_COLUMNS} any table "
        "of the cohort format could have: keep only the columns of the data dictionary"
    )


def _other_delimiter(header: str) -> str | None:
    """The delimiter a one-column header seems to use instead of commas, named for a person."""
    for delimiter, name in OTHER_DELIMITERS.items():
        if delimiter in header:
            return name
    return None


def _read_workbook(
    path: Path, max_rows: int
) -> tuple[dict[str, Table], dict[str, str], list[Problem]]:
    """The three sheets as text, refused before parsing when the file could cost minutes.

    An .xlsx is a zip of XML: 150 KiB can inflate to a million rows. The members' declared
    sizes bound what is read (zipfile reads no more than a member declares), so they are
    summed first; then each sheet is streamed and reading stops at ``max_rows``.
    """
    labels = {table: f"{path.name}, sheet {table}" for table in DATA_TABLES}
    refused = _workbook_refusal(path)
    if refused:
        return {}, labels, [Problem(path.name, None, None, None, refused)]
    import openpyxl  # 0.1 s: imported when a workbook is read, not by every CLI command

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        return {}, labels, [Problem(path.name, None, None, None, f"not a readable workbook: {exc}")]
    frames, problems = {}, []
    try:
        for table in DATA_TABLES:
            if table not in book.sheetnames:
                problems.append(Problem(labels[table], None, None, None, "sheet is missing"))
                continue
            frame, problem = _read_sheet(book[table], labels[table], max_rows)
            if problem:
                problems.append(problem)
            else:
                frames[table] = Table(list(frame.columns), lambda frame=frame: iter([frame]))
    except Exception as exc:  # a damaged sheet is found only while it is read
        return {}, labels, [Problem(path.name, None, None, None, f"not a readable workbook: {exc}")]
    finally:
        book.close()
    return frames, labels, problems


def _workbook_refusal(path: Path) -> str | None:
    """Why a file named .xlsx is not read at all: not a zip, or too large once unpacked."""
    if not zipfile.is_zipfile(path):
        return (
            "not an Excel workbook (.xlsx): its content is text or another format, perhaps a "
            "CSV renamed to .xlsx; save it from Excel as 'Excel Workbook (.xlsx)', or give the "
            "three CSV files"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as exc:
        return f"not a readable workbook: {exc}"
    if inflated > MAX_XLSX_INFLATED_MB * MB:
        return (
            f"the workbook unpacks to {inflated / MB:,.0f} MB, more than the "
            f"{MAX_XLSX_INFLATED_MB} MB a workbook may hold; import a registry this large "
            "as CSV files with python -m analytics import"
        )
    return None


def _read_sheet(sheet, label: str, max_rows: int) -> tuple[pd.DataFrame | None, Problem | None]:
    """One sheet as text cells, header first; None and a problem beyond ``max_rows`` rows.

    A row ends at its last filled cell (optional columns left empty at the end of every
    row are no cells at all in the file): it is padded with empty cells to the header.
    """
    sheet.reset_dimensions()  # a sheet's stated size may be wrong: read what is there
    rows = sheet.iter_rows(values_only=True)
    header = [_excel_text(value) for value in next(rows, ())]
    while header and not header[-1]:
        header.pop()
    if too_wide := _width_refusal(header):
        return None, Problem(label, 1, None, None, too_wide)
    cells = []
    for number, values in enumerate(rows, FIRST_DATA_ROW):
        if len(cells) == max_rows:
            rule = f"more than {max_rows:,} rows: the limit for one sheet of an import"
            return None, Problem(label, None, None, None, rule)
        if beyond := next((v for v in values[len(header) :] if v is not None), None):
            rule = "a value right of the last column with a header: name its column or delete it"
            return None, Problem(label, number, None, _excel_text(beyond), rule)
        row = [_excel_text(value) for value in values[: len(header)]]
        cells.append(row + [""] * (len(header) - len(row)))
    while cells and not any(cells[-1]):  # formatted but empty rows at the end
        cells.pop()
    return pd.DataFrame(cells, columns=header, dtype=str).fillna(""), None


def _excel_text(value: object) -> str:
    """A cell as the text a CSV of it would hold: dates ISO, booleans and numbers plain, a
    control character as itself (refused then as in a CSV), not as its escape "_x000B_"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return EXCEL_CONTROL_ESCAPE.sub(lambda escape: chr(int(escape.group(1), 16)), str(value))


def schema_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[Column]:
    rows = con.execute(
        "SELECT column_name, data_type, NOT is_nullable FROM duckdb_columns() "
        "WHERE table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [Column(*row) for row in rows]


def stage(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, Table],
    labels: dict[str, str],
    max_rows: int | None = None,
) -> list[Problem]:
    """Load each table's rows as text into ``raw_<t>``, a chunk at a time, each row numbered
    as a spreadsheet numbers it; return what stopped a file being read."""
    return [
        problem
        for name in DATA_TABLES
        for problem in _stage_table(con, name, tables[name], labels[name], max_rows)
    ]


def _stage_table(
    con: duckdb.DuckDBPyConnection, name: str, table: Table, label: str, max_rows: int | None
) -> list[Problem]:
    positions, names, _ = _named_columns(table.header, label)
    present = [c.name for c in schema_columns(con, name) if c.name in names]
    columns = ", ".join([f"{ROW} BIGINT", *(f"{c} VARCHAR" for c in present)])
    con.execute(f"CREATE TEMP TABLE raw_{name} ({columns})")

    def append(chunk: pd.DataFrame, first: int) -> None:
        staged = chunk.iloc[:, positions].set_axis(names, axis=1)[present]
        staged.insert(0, ROW, range(first, first + len(staged)))
        con.register("staged_frame", staged)
        con.execute(f"INSERT INTO raw_{name} SELECT * FROM staged_frame")
        con.unregister("staged_frame")

    return _each_chunk(table, label, max_rows, append)


def _each_chunk(
    table: Table,
    label: str,
    max_rows: int | None,
    use: Callable[[pd.DataFrame, int], None],
) -> list[Problem]:
    """Give each chunk of rows to ``use`` with its first row's number; or the problem that
    stops the reading: a row the CSV parser cannot read, or more than ``max_rows`` rows."""
    first = FIRST_DATA_ROW
    try:
        for chunk in table.chunks():
            if max_rows is not None and first - FIRST_DATA_ROW + len(chunk) > max_rows:
                rule = f"more than {max_rows:,} rows: the limit for one file of an upload"
                return [Problem(label, None, None, None, rule)]
            use(chunk, first)
            first += len(chunk)
    except csv.Error as exc:
        return [Problem(label, None, None, None, f"not a readable CSV table: {exc}")]
    return []


def validate(
    con: duckdb.DuckDBPyConnection, tables: dict[str, Table], labels: dict[str, str]
) -> list[Problem]:
    """Cast each ``raw_<t>`` (:func:`stage`) into ``typed_<t>``; return every problem."""
    problems, coded = [], coded_columns(SINGLE_LIMB_SCHEMA_PATH)
    for table in DATA_TABLES:
        columns = schema_columns(con, table)
        _, names, collisions = _named_columns(tables[table].header, labels[table])
        problems += collisions + _header_problems(names, columns, labels[table])
        (rows,) = con.execute(f"SELECT count(*) FROM raw_{table}").fetchone()
        if table not in MAY_BE_EMPTY and not (names and rows):
            problems.append(Problem(labels[table], None, None, None, "holds no rows"))
        present = [c for c in columns if c.name in names]
        casts = [
            f"{_cast(c, coded.get((table, c.name))) if c in present else 'NULL::' + c.data_type}"
            f" AS {c.name}"
            for c in columns
        ]
        con.execute(
            f"CREATE TEMP TABLE typed_{table} AS SELECT {ROW}, {', '.join(casts)} FROM raw_{table}"
        )
        problems += _cell_problems(con, table, present, labels[table])
        problems += _check_problems(con, table, present, labels[table], coded)
        problems += _key_problems(con, table, labels[table])
    problems += _reference_problems(con, labels)
    problems += _follow_up_problems(con, labels)
    return problems


def _named_columns(header: list[str], label: str) -> tuple[list[int], list[str], list[Problem]]:
    """Headers matched as a person reads them (spaces and case ignored); a second copy refused.

    The positions and names of the columns kept: the first of two headers that fold to one
    name is kept, so its cells are still checked.
    """
    headers = [str(c) for c in header]
    folded = pd.Index([h.strip().casefold() for h in headers])
    first = dict(zip(reversed(folded), reversed(headers), strict=True))
    problems = [
        Problem(label, 1, header, None,
                f"same column as {first[name]!r} once spaces and case are ignored: keep one")
        for header, name, repeated in zip(headers, folded, folded.duplicated(), strict=True)
        if repeated
    ]  # fmt: skip
    kept = ~folded.duplicated()
    return [i for i, keep in enumerate(kept) if keep], list(folded[kept]), problems


def _header_problems(names: list[str], columns: list[Column], label: str) -> list[Problem]:
    known = {c.name for c in columns}
    problems = [
        Problem(label, 1, name, None, "unknown column (not in the cohort format)")
        for name in names
        if name not in known
    ]
    problems += [
        Problem(label, 1, c.name, None, "required column is missing")
        for c in columns
        if c.required and c.name not in names
    ]
    return problems


def _text(column: str) -> str:
    return f"nullif(trim({column}), '')"


def _cast(column: Column, coded: CodedColumn | None = None) -> str:
    """The typed value of a text cell, NULL where the text is empty or does not parse; a
    coded column's accepted spellings (any case, synonyms) as its code, others as written."""
    text = _text(column.name)
    if coded:
        spellings = " ".join(
            f"WHEN {_literal(spelling)} THEN {_literal(code)}"
            for spelling, code in coded.spellings.items()
        )
        return f"CASE lower({text}) {spellings} ELSE {text} END"
    if column.data_type == "BOOLEAN":
        true, false = (", ".join(f"'{t}'" for t in texts) for texts in (TRUE_TEXT, FALSE_TEXT))
        return (
            f"CASE WHEN lower({text}) IN ({true}) THEN true "
            f"WHEN lower({text}) IN ({false}) THEN false END"
        )
    if column.data_type == "INTEGER":  # NaN, inf and 3e9 are whole to DuckDB but no INTEGER
        number = f"TRY_CAST({text} AS DOUBLE)"
        return f"CASE WHEN {number} = round({number}) THEN TRY_CAST({number} AS INTEGER) END"
    if column.data_type == "DOUBLE":
        number = f"TRY_CAST({text} AS DOUBLE)"
        return f"CASE WHEN isfinite({number}) THEN {number} END"
    if column.data_type == "DATE":
        iso = "'\\d{4}-\\d{2}-\\d{2}'"
        return f"CASE WHEN regexp_full_match({text}, {iso}) THEN TRY_CAST({text} AS DATE) END"
    return text


def _literal(text: str) -> str:
    """A SQL string literal of one of the schema's own codes or spellings (never user data)."""
    return "'" + text.replace("'", "''") + "'"


def _cell_problems(
    con: duckdb.DuckDBPyConnection, table: str, present: list[Column], label: str
) -> list[Problem]:
    """Empty required cells and cells whose text is not of the column's type."""
    problems = []
    for column in present:
        text = _text(column.name)
        if column.required:
            problems += _rows(
                con, f"SELECT {ROW}, NULL FROM raw_{table} WHERE {text} IS NULL",
                label, column.name, "required: must not be empty",
            )  # fmt: skip
        problems += _rows(
            con,
            f"SELECT {ROW}, {column.name} FROM raw_{table} "
            f"WHERE regexp_matches({column.name}, ?)",
            label, column.name, CONTROL_RULE, [CONTROL_CHARACTER],
        )  # fmt: skip
        if column.data_type == "DATE":
            problems += _date_problems(con, table, column.name, label)
        if column.data_type in TYPE_RULES:
            problems += _rows(
                con,
                f"SELECT r.{ROW}, r.{column.name} FROM raw_{table} AS r "
                f"JOIN typed_{table} AS t USING ({ROW}) "
                f"WHERE {_text('r.' + column.name)} IS NOT NULL AND t.{column.name} IS NULL",
                label, column.name, TYPE_RULES[column.data_type],
            )  # fmt: skip
    return problems


def _date_problems(
    con: duckdb.DuckDBPyConnection, table: str, column: str, label: str
) -> list[Problem]:
    """A valid date that no registry of this treatment can hold: a typing slip."""
    earliest, today = date(EARLIEST_DATE_YEAR, 1, 1), date.today()
    problems = []
    for condition, bound, rule in (
        ("<", earliest, f"implausible date: before {earliest.isoformat()}"),
        (">", today, "implausible date: after today"),
    ):
        problems += _rows(
            con,
            f"SELECT r.{ROW}, r.{column} FROM raw_{table} AS r JOIN typed_{table} AS t "
            f"USING ({ROW}) WHERE t.{column} {condition} ?",
            label, column, rule, [bound],
        )  # fmt: skip
    return problems


def _constraints(con: duckdb.DuckDBPyConnection, table: str, kind: str) -> list[tuple]:
    return con.execute(
        "SELECT DISTINCT constraint_column_names, expression FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type = ? ORDER BY 1",
        [table, kind],
    ).fetchall()


def _check_problems(
    con: duckdb.DuckDBPyConnection,
    table: str,
    present: list[Column],
    label: str,
    coded: dict[tuple[str, str], CodedColumn],
) -> list[Problem]:
    """Every CHECK constraint of the schema, run on all typed rows (NULLs reported already).

    A one-column rule shows the cell as written, and is worded as the data dictionary
    words it (:func:`_check_rule`); a rule across columns shows each value.
    """
    problems = []
    written = {c.name for c in present}
    for names, expression in _constraints(con, table, "CHECK"):
        names = list(dict.fromkeys(names))
        failing = f"SELECT {ROW} FROM typed_{table} WHERE NOT ({expression})"
        if len(names) == 1 and names[0] in written:
            sql = f"SELECT {ROW}, {names[0]} FROM raw_{table} WHERE {ROW} IN ({failing})"
        else:
            shown = " || ', ' || ".join(f"'{n}=' || coalesce({n}::VARCHAR, '')" for n in names)
            sql = f"SELECT {ROW}, {shown} FROM typed_{table} WHERE NOT ({expression})"
        rule = _check_rule(table, expression, coded.get((table, names[0])))
        problems += _rows(con, sql, label, ", ".join(names), rule)
    return problems


def _check_rule(table: str, expression: str, coded: CodedColumn | None) -> str:
    """A CHECK in the data dictionary's words: a coded column's codes and spellings, a
    range, a length, a rule across columns (the expression itself only for a CHECK the
    dictionary does not word, which a test rules out)."""
    if coded:
        return coded.rule()
    if words := CROSS_COLUMN_RULES.get((table, expression)):
        return words
    if match := RANGE.fullmatch(expression):
        return f"{match[1]} must be from {match[2]} to {match[3]}"
    if match := LENGTH.fullmatch(expression):
        return f"{match[1]} must be {match[2]} to {match[3]} characters long"
    return f"must satisfy {expression}"


def _key_problems(con: duckdb.DuckDBPyConnection, table: str, label: str) -> list[Problem]:
    """Rows sharing a primary key: each row of a duplicate set is listed."""
    problems = []
    for names, _ in _constraints(con, table, "PRIMARY KEY"):
        key = ", ".join(names)
        shown = " || ' / ' || ".join(f"coalesce({n}::VARCHAR, '')" for n in names)
        problems += _rows(
            con,
            f"SELECT {ROW}, {shown} FROM (SELECT *, count(*) OVER (PARTITION BY {key}) AS copies "
            f"FROM typed_{table}) WHERE copies > 1",
            label, key, f"duplicate: ({key}) must be unique",
        )  # fmt: skip
    return problems


def _reference_problems(con: duckdb.DuckDBPyConnection, labels: dict[str, str]) -> list[Problem]:
    problems = []
    for table in MAY_BE_EMPTY:
        problems += _rows(
            con,
            f"SELECT {ROW}, patient_id FROM typed_{table} WHERE patient_id IS NOT NULL "
            "AND patient_id NOT IN "
            "(SELECT patient_id FROM typed_patients WHERE patient_id IS NOT NULL)",
            labels[table], "patient_id", f"unknown patient: not in {labels['patients']}",
        )  # fmt: skip
    return problems


def _follow_up_problems(con: duckdb.DuckDBPyConnection, labels: dict[str, str]) -> list[Problem]:
    """An event after the patient's last contact, or strictly after their death.

    An event in the month of death (the same month value) is allowed: both are recorded
    to the month, and a fatal bleed or embolism is dated with the death.
    """
    after_death = _rows(
        con,
        f"SELECT e.{ROW}, e.month::VARCHAR || ' (death at ' || d.month::VARCHAR || ')' "
        "FROM typed_events AS e JOIN (SELECT patient_id, min(month) AS month FROM typed_events "
        "WHERE event = 'death' GROUP BY patient_id) AS d USING (patient_id) "
        "WHERE e.month > d.month",
        labels["events"], "month", "event after the patient's death",
    )  # fmt: skip
    return after_death + _rows(
        con,
        f"SELECT e.{ROW}, e.month::VARCHAR || ' (follow-up ends at ' || "
        "p.follow_up_months::VARCHAR || ')' FROM typed_events AS e "
        "JOIN typed_patients AS p USING (patient_id) WHERE e.month > p.follow_up_months",
        labels["events"], "month", "event after the patient's follow-up ends",
    )  # fmt: skip


def _ceap_warnings(con: duckdb.DuckDBPyConnection, labels: dict[str, str]) -> list[Problem]:
    """Each limb's first assessment below C5 after it was C5 or C6 (a healed or active
    ulcer) at an earlier visit. CEAP is descriptive: a healed ulcer's scar keeps the limb
    at C5 or above. A warning, not a refusal: real series report such rows (so does the
    demo's paper)."""
    return _rows(
        con,
        f"SELECT a.{ROW}, 'C' || a.ceap_c || ' at month ' || printf('%g', a.month) || "
        "' (C' || u.ceap_c || ' at month ' || printf('%g', u.month) || ')' "
        "FROM typed_assessments AS a JOIN (SELECT patient_id, min(month) AS month, "
        "arg_min(ceap_c, month) AS ceap_c FROM typed_assessments WHERE ceap_c >= 5 "
        "GROUP BY patient_id) AS u USING (patient_id) WHERE a.ceap_c < 5 AND a.month > u.month "
        "QUALIFY row_number() OVER (PARTITION BY patient_id ORDER BY a.month) = 1",
        labels["assessments"], "ceap_c", CEAP_BELOW_ULCER,
    )  # fmt: skip


def _rows(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    label: str,
    column: str,
    rule: str,
    parameters: list[object] | None = None,
) -> list[Problem]:
    """Problems from a query of (row, value); beyond SHOWN_PER_RULE, one line counts the rest."""
    rows = con.execute(f"SELECT * FROM ({sql}) ORDER BY 1", parameters).fetchall()
    problems = [
        Problem(label, int(row), column, None if value is None else str(value), rule)
        for row, value in rows[:SHOWN_PER_RULE]
    ]
    if len(rows) > SHOWN_PER_RULE:
        more = len(rows) - SHOWN_PER_RULE
        problems.append(Problem(label, None, column, None, f"{rule}: {more} more row(s)"))
    return problems


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The validation report as a table: file, row, column, value, rule."""
    return pd.DataFrame(
        [vars(p) for p in problems], columns=["file", "row", "column", "value", "rule"]
    ).astype({"row": "Int64"})


def _default_metadata(source: Path) -> dict[str, str]:
    return {
        "name": source.stem,
        "source": f"Imported from {source.name}",
        "method": "Validated and imported with python -m analytics import",
        "created": date.today().isoformat(),
        "is_reconstruction": "false",
    }


def write_metadata(con: duckdb.DuckDBPyConnection, meta: dict[str, str]) -> None:
    meta = {
        **meta,
        "schema_version": SCHEMA_VERSION,
        "built_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    con.executemany("INSERT INTO cohort_metadata VALUES (?, ?)", sorted(meta.items()))
