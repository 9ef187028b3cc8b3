"""Import a registry into the cohort format: read, validate against the schema, write atomically.

A registry comes in one of two layouts (:class:`Layout`). The registry layout has the
tables of ``data/schema.sql``: ``patients`` (one row per person), ``limbs`` (one per
treated limb), ``stents``, ``events``, ``assessments`` and ``antithrombotic`` (all but
patients and limbs may be empty; stents and antithrombotic may be left out). The
single-limb layout of earlier versions (``patients`` one row per treated limb,
``assessments``, ``events``: ``data/schema_single_limb.sql``) is read into it
(analytics.cohort.single_limb). A ``limbs`` sheet or file means the registry layout.

The rules are not written twice: column names, types, required columns, CHECK
expressions, keys and foreign keys are read from ``data/schema.sql`` as DuckDB
holds it (``duckdb_columns()``, ``duckdb_constraints()``), and each is run as one
set-based query over all rows, so every problem is reported at once, however
large the file. Only the rules the schema cannot state are written here: no
event after the patient's follow-up or death (in the registry layout: no limb event after
its limb's follow-up, no patient event after the patient's last contact), no date before
1950 or after today, a month and a date given for one time agreeing,
no control character in a cell (a NUL byte, a tab, a line break, a terminal escape: the
format has no free text), and header names that differ only by spaces or case. A refusal
is worded as the data dictionary words the rule (analytics.cohort.dictionary), and a
coded value is read in any case or as a synonym the dictionary lists. A row that breaks
no rule but should be checked (a limb falling below C5 after an ulcer) is imported and
listed as a data-quality warning.

In the registry layout a time may be given as a month or as a date (``event_date``,
``assessment_date``, ``start_date``, ``end_date``; a limb's follow-up as
``follow_up_months`` or ``last_contact_date``), or both. A date becomes months after
the limb's procedure (a limb event, a visit, the limb's last contact) or after the
patient's first procedure (a patient event, a therapy period): days / DAYS_PER_MONTH,
rounded to MONTH_DECIMALS (a day is 0.033 month, so distinct days stay distinct, and the
day comes back from the month); a visit dated on or before the procedure is its month 0.
Both given must agree within DATE_MONTH_TOLERANCE. A limb event's ``patient_id`` may be
left empty: it is its limb's.

Nothing is written to the destination until the new file is complete and
checked: it is built beside the destination and moved into place
(analytics.cohort.write), so a failed import leaves an existing file byte for byte as it
was.
"""

from __future__ import annotations

import codecs
import csv
import functools
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
from analytics.cohort.own_columns import DICTIONARY, OwnColumn, write_declarations
from analytics.cohort.own_import import (
    Declared,
    declare,
    dictionary_rows,
    inferred_notes,
    level_problems,
    own_coded,
    own_names,
)
from analytics.cohort.problems import SHOWN_PER_RULE, Problem, query_problems
from analytics.cohort.single_limb import (
    SINGLE_LIMB_SCHEMA_PATH,
    SINGLE_LIMB_TABLES,
    aetiology_of,
    from_single_limb,
)
from analytics.cohort.summary import create_summary
from analytics.cohort.write import written_beside
from analytics.glossary import FALSE_WORDS, TRUE_WORDS
from analytics.rules import (
    CONTROL_CHARACTER,
    DATE_MONTH_TOLERANCE,
    DAYS_PER_MONTH,
    EARLIEST_DATE_YEAR,
    MAX_HEADER_COLUMNS,
    MAX_ROWS_PER_SHEET,
    MAX_XLSX_INFLATED_MB,
    MONTH_DECIMALS,
)
from analytics.variables import quoted


@dataclass(frozen=True)
class Layout:
    """A shape a registry is given in: its tables, which of them may be left out or hold no
    rows, the schema its rows are validated against, the column naming a limb, and the
    required columns another column may stand in for: (table, column, other, rule when
    both are empty)."""

    tables: tuple[str, ...]
    may_be_absent: tuple[str, ...]
    may_be_empty: tuple[str, ...]
    schema: Path
    limb_key: str
    alternatives: tuple[tuple[str, str, str, str], ...] = ()

    def alternative(self, table: str, column: str) -> tuple[str, str] | None:
        """The column that may stand in for a required one, and the rule when both are empty."""
        for t, c, other, rule in self.alternatives:
            if (t, c) == (table, column):
                return other, rule
        return None


REGISTRY = Layout(
    ("patients", "limbs", "stents", "events", "assessments", "antithrombotic"),
    may_be_absent=("stents", "antithrombotic"),
    may_be_empty=("stents", "events", "assessments", "antithrombotic"),
    schema=SCHEMA_PATH,
    limb_key="limb_id",
    alternatives=(
        ("events", "month", "event_date", "required: give the month or the event_date"),
        ("events", "patient_id", "limb_id",
         "required: a patient event (recurrent_dvt, pulmonary_embolism, minor_bleeding, "
         "major_bleeding, death) names its patient_id; a limb event may leave it empty"),
        ("assessments", "month", "assessment_date",
         "required: give the month or the assessment_date"),
        ("antithrombotic", "start_month", "start_date",
         "required: give the start_month or the start_date"),
        ("limbs", "follow_up_months", "last_contact_date",
         "required: give the follow_up_months or the last_contact_date"),
    ),
)  # fmt: skip
SINGLE_LIMB = Layout(
    SINGLE_LIMB_TABLES,
    may_be_absent=(),
    may_be_empty=("assessments", "events"),
    schema=SINGLE_LIMB_SCHEMA_PATH,
    limb_key="patient_id",
)
# A time given as a date: (table, month column, date column, whose clock it is on).
DATED_MONTHS = (
    ("limbs", "follow_up_months", "last_contact_date", "limb"),
    ("events", "month", "event_date", "limb"),
    ("assessments", "month", "assessment_date", "limb"),
    ("antithrombotic", "start_month", "start_date", "patient"),
    ("antithrombotic", "end_month", "end_date", "patient"),
)
MB = 1024 * 1024
ROW = "_row"  # spreadsheet row number: the header is row 1
FIRST_DATA_ROW = 2
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


ABSENT = Table([], lambda: iter(()))  # a table the source left out: no columns, no rows


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    required: bool


@dataclass(frozen=True)
class Imported:
    """A finished import: the cohort file, its patients and limbs, its data-quality warnings.

    A warning is a row imported as written that breaks no rule of the format but that a
    reader should check (a limb falling below C5 after an ulcer): real series report them.
    ``own`` are the registry's own columns imported, ``notes`` one line for each whose
    kind was taken from its values (analytics.cohort.own_import.inferred_notes).
    """

    path: Path
    patients: int
    warnings: tuple[Problem, ...]
    limbs: int
    own: tuple[OwnColumn, ...] = ()
    notes: tuple[Problem, ...] = ()


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
    """Validate ``source`` (a folder of CSVs or an .xlsx workbook) into cohort file ``out``.

    The source is in the registry layout when it has a ``limbs`` file or sheet, else in the
    single-limb layout (:class:`Layout`). ``max_rows`` bounds every table (the dashboard's
    uploads); a workbook is always bounded. With ``replace=False`` an existing ``out`` is
    kept (DestinationExists). Raises ValidationError listing every problem; ``out`` is then
    left untouched.
    """
    source, out = Path(source), Path(out)
    layout, tables, labels, problems = read_source(source, max_rows)
    if problems:
        for name, table in tables.items():  # the readable files' own reading problems, too
            problems += _each_chunk(table, labels[name], max_rows, lambda chunk, first: None)
        raise ValidationError(source, problems)
    return import_tables(source, layout, tables, labels, out, metadata, max_rows, replace)


def import_tables(
    source: Path,
    layout: Layout,
    tables: dict[str, Table],
    labels: dict[str, str],
    out: Path,
    metadata: dict[str, str] | None = None,
    max_rows: int | None = None,
    replace: bool = True,
) -> Imported:
    """Validate ``tables`` of ``layout`` read from ``source`` (each named in problems by its
    label) into cohort file ``out``: the one way into the format, whatever the source's form
    (a folder, a workbook, a REDCap project's exports: analytics.cohort.redcap_import)."""
    if mixed := _mixed_layout(layout, tables, labels):
        raise ValidationError(source, [mixed])
    meta = {**_default_metadata(source), **(metadata or {})}
    rows, names, problems = _own_names(layout, tables, labels, max_rows)
    if problems:
        raise ValidationError(source, problems)
    with (
        written_beside(out, replace) as tmp,
        duckdb.connect(str(tmp)) as con,
        duckdb.connect() as staging,
    ):
        staging.execute(layout.schema.read_text())
        problems = stage(staging, layout, tables, labels, max_rows, names)
        if problems:
            raise ValidationError(source, problems)
        own, problems = declare(staging, names, rows, labels, labels.get(DICTIONARY, DICTIONARY))
        if problems:
            raise ValidationError(source, problems)
        problems = validate(staging, layout, tables, labels, own)
        if problems:
            raise ValidationError(source, problems)
        warnings = _ceap_warnings(staging, layout, labels)
        if layout is REGISTRY:
            warnings += _stent_count_warnings(staging, labels)
        (patients,) = staging.execute("SELECT count(*) FROM typed_patients").fetchone()
        con.execute(SCHEMA_PATH.read_text())
        if layout is REGISTRY:
            write_declarations(con, own)
            _write_registry(staging, con)
        else:
            for table in layout.tables:
                staging.execute(
                    f"INSERT INTO {table} BY NAME SELECT * EXCLUDE ({ROW}) FROM typed_{table}"
                )
            from_single_limb(con, lambda table: _rows_of(staging, table), aetiology_of(meta))
        (limbs,) = con.execute("SELECT count(*) FROM limbs").fetchone()
        create_summary(con)
        write_metadata(con, meta)
    return Imported(out, patients, tuple(warnings), limbs, own, inferred_notes(own, labels))


def _own_names(
    layout: Layout, tables: dict[str, Table], labels: dict[str, str], max_rows: int | None
) -> tuple[dict[str, Declared], dict[str, tuple[str, ...]], list[Problem]]:
    """The dictionary's rows, the registry's own columns of patients and limbs, and what is
    wrong with either (analytics.cohort.own_import); none in the single-limb layout."""
    if layout is not REGISTRY:
        return {}, {}, []
    frames: list[pd.DataFrame] = []
    label = labels.get(DICTIONARY, DICTIONARY)
    problems = []
    if DICTIONARY in tables:
        problems += _each_chunk(tables[DICTIONARY], label, max_rows, lambda c, _: frames.append(c))
    rows, found = dictionary_rows(pd.concat(frames) if frames else None, label)
    headers = {
        t: _named_columns(tables[t].header, labels[t])[1]
        for t in ("patients", "limbs")
        if t in tables
    }
    names, refused = own_names(headers, rows, labels, label)
    return rows, names, problems + found + refused


def _rows_of(con: duckdb.DuckDBPyConnection, table: str) -> pa.RecordBatchReader:
    return con.sql(f"SELECT * FROM {table}").to_arrow_reader(CSV_CHUNK_ROWS * 20)


def _write_registry(staging: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> None:
    """Copy the validated rows into the registry's tables, grouped by patient (the summary
    is derived a range of patients at a time), in the order they were given."""
    for table in REGISTRY.tables:
        order = "patient_id" if "patient_id" in _names(staging, table) else "limb_id"
        con.register(
            "registry_rows",
            staging.sql(
                f"SELECT * EXCLUDE ({ROW}) FROM typed_{table} ORDER BY {order}, {ROW}"
            ).to_arrow_reader(CSV_CHUNK_ROWS * 20),
        )
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM registry_rows")
        con.unregister("registry_rows")


def _names(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {c.name for c in schema_columns(con, table)}


@functools.cache
def _columns_of(schema: Path, table: str) -> frozenset[str]:
    with duckdb.connect() as con:
        con.execute(schema.read_text())
        return frozenset(_names(con, table))


def _mixed_layout(
    layout: Layout, tables: dict[str, Table], labels: dict[str, str]
) -> Problem | None:
    """One problem for a source holding signs of both layouts: the limb's columns in
    ``patients`` beside a ``limbs`` table (a column-by-column list would bury the cause)."""
    if layout is not REGISTRY or "patients" not in tables:
        return None
    folded = {str(h).strip().casefold() for h in tables["patients"].header}
    limb_columns = _columns_of(SINGLE_LIMB_SCHEMA_PATH, "patients") - _columns_of(
        SCHEMA_PATH, "patients"
    )
    found = sorted(limb_columns & folded)
    if not found:
        return None
    rule = (
        f"these are columns of a treated limb, as in the single-limb layout (patients one row "
        f"per limb), but {labels['limbs']} is given too, which means the registry layout: "
        f"patients one row per person, limbs one row per treated limb. Move these columns to "
        f"{labels['limbs']}, or leave {labels['limbs']} out to import the single-limb layout"
    )
    return Problem(labels["patients"], 1, ", ".join(found), None, rule)


def read_source(
    source: Path, max_rows: int | None = None
) -> tuple[Layout, dict[str, Table], dict[str, str], list[Problem]]:
    """The source's layout, its tables as text, a label naming where each came from, and
    reading problems.

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
        "not found: give a folder holding patients.csv, limbs.csv, events.csv and "
        "assessments.csv (and stents.csv, antithrombotic.csv when recorded), or "
        "patients.csv, assessments.csv and events.csv of the single-limb layout, or an "
        ".xlsx workbook with those sheets",
    )  # fmt: skip
    return REGISTRY, {}, {}, [problem]


def layout_of(names: Iterable[str]) -> Layout:
    """The layout of a source holding these tables: the registry's when one is limbs."""
    return REGISTRY if "limbs" in set(names) else SINGLE_LIMB


def _layout_problems(
    layout: Layout, given: Iterable[str], labels: dict[str, str], kind: str
) -> list[Problem]:
    """Each table (a ``kind``: file or sheet) the layout needs that is missing, or one
    problem for tables of the registry layout given without limbs (ignored, they would
    lose their rows unsaid)."""
    given = set(given)
    stray = [t for t in REGISTRY.tables if t in given and t not in SINGLE_LIMB.tables]
    if layout is SINGLE_LIMB and stray:
        named = " and ".join(labels[t] for t in stray)
        rule = (
            f"{named} belong to the registry layout, which lists each treated limb in "
            f"{labels['limbs']} (patients then one row per person): add {labels['limbs']}, "
            f"or leave {named} out to import the single-limb layout"
        )
        return [Problem(labels["limbs"], None, None, None, rule)]
    return [
        Problem(labels[t], None, None, None, f"{kind} is missing")
        for t in layout.tables
        if t not in given and t not in layout.may_be_absent
    ]


def _read_folder(
    folder: Path, max_rows: int | None
) -> tuple[Layout, dict[str, Table], dict[str, str], list[Problem]]:
    labels = {name: f"{name}.csv" for name in (*REGISTRY.tables, DICTIONARY)}
    given = [name for name in REGISTRY.tables if (folder / labels[name]).is_file()]
    layout = layout_of(given)
    tables, problems = {}, _layout_problems(layout, given, labels, "file")
    for name in _read_tables(layout):
        path = folder / labels[name]
        if not path.is_file():
            continue
        table, problem = read_csv(path)
        if problem:
            problems.append(problem)
        else:
            tables[name] = table
    return layout, tables, {t: labels[t] for t in _read_tables(layout)}, problems


def _read_tables(layout: Layout) -> tuple[str, ...]:
    """The tables read of a source in ``layout``: the registry's with its dictionary (the
    registry's own columns, analytics.cohort.own_import)."""
    return (*layout.tables, DICTIONARY) if layout is REGISTRY else layout.tables


def read_csv(path: Path) -> tuple[Table | None, Problem | None]:
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
) -> tuple[Layout, dict[str, Table], dict[str, str], list[Problem]]:
    """The sheets as text, refused before parsing when the file could cost minutes.

    An .xlsx is a zip of XML: 150 KiB can inflate to a million rows. The members' declared
    sizes bound what is read (zipfile reads no more than a member declares), so they are
    summed first; then each sheet is streamed and reading stops at ``max_rows``.
    """
    labels = {table: f"{path.name}, sheet {table}" for table in (*REGISTRY.tables, DICTIONARY)}
    refused = _workbook_refusal(path)
    if refused:
        return SINGLE_LIMB, {}, labels, [Problem(path.name, None, None, None, refused)]
    import openpyxl  # 0.1 s: imported when a workbook is read, not by every CLI command

    unreadable = "not a readable workbook: {}"
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        problem = Problem(path.name, None, None, None, unreadable.format(exc))
        return SINGLE_LIMB, {}, labels, [problem]
    layout = layout_of(book.sheetnames)
    frames, problems = {}, _layout_problems(layout, book.sheetnames, labels, "sheet")
    try:
        for table in _read_tables(layout):
            if table not in book.sheetnames:
                continue
            frame, problem = _read_sheet(book[table], labels[table], max_rows)
            if problem:
                problems.append(problem)
            else:
                frames[table] = Table(list(frame.columns), lambda frame=frame: iter([frame]))
    except Exception as exc:  # a damaged sheet is found only while it is read
        problem = Problem(path.name, None, None, None, unreadable.format(exc))
        return layout, {}, labels, [problem]
    finally:
        book.close()
    return layout, frames, {t: labels[t] for t in _read_tables(layout)}, problems


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
    layout: Layout,
    tables: dict[str, Table],
    labels: dict[str, str],
    max_rows: int | None = None,
    own: dict[str, tuple[str, ...]] | None = None,
) -> list[Problem]:
    """Load each table's rows as text into ``raw_<t>``, a chunk at a time, each row numbered
    as a spreadsheet numbers it (a table left out: no rows), with the registry's ``own``
    columns of it (validated names); return what stopped a file being read."""
    own = own or {}
    return [
        problem
        for name in layout.tables
        for problem in _stage_table(
            con, name, tables.get(name, ABSENT), labels[name], max_rows, own.get(name, ())
        )
    ]


def _stage_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table: Table,
    label: str,
    max_rows: int | None,
    own: tuple[str, ...],
) -> list[Problem]:
    positions, names, _ = _named_columns(table.header, label)
    present = [c.name for c in schema_columns(con, name) if c.name in names] + list(own)
    columns = ", ".join([f"{ROW} BIGINT", *(f"{quoted(c)} VARCHAR" for c in present)])
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
    con: duckdb.DuckDBPyConnection,
    layout: Layout,
    tables: dict[str, Table],
    labels: dict[str, str],
    own: tuple[OwnColumn, ...] = (),
) -> list[Problem]:
    """Cast each ``raw_<t>`` (:func:`stage`) into ``typed_<t>``; return every problem.

    In the registry layout the times given as dates become months and a limb event's
    patient is taken from its limb (:func:`_fill_registry`) before the schema's rules run,
    so a CHECK, a key or a follow-up rule reads each row as it will be stored. The
    registry's ``own`` columns are cast to their kind's type, a category's cells to its
    levels (analytics.cohort.own_import).
    """
    coded = coded_columns(layout.schema) | own_coded(own)
    problems: dict[str, list[Problem]] = {}
    written: dict[str, list[Column]] = {}
    for table in layout.tables:
        columns = schema_columns(con, table)
        columns += [Column(c.key, c.sql_type, False) for c in own if c.table == table]
        _, names, collisions = _named_columns(tables.get(table, ABSENT).header, labels[table])
        problems[table] = collisions
        if table in tables:
            problems[table] += _header_problems(layout, table, names, columns, labels[table])
        (rows,) = con.execute(f"SELECT count(*) FROM raw_{table}").fetchone()
        if table not in layout.may_be_empty and not (names and rows):
            problems[table].append(Problem(labels[table], None, None, None, "holds no rows"))
        written[table] = present = [c for c in columns if c.name in names]
        casts = [
            f"{_cast(c, coded.get((table, c.name))) if c in present else 'NULL::' + c.data_type}"
            f" AS {c.name}"
            for c in columns
        ]
        con.execute(
            f"CREATE TEMP TABLE typed_{table} AS SELECT {ROW}, {', '.join(casts)} FROM raw_{table}"
        )
        problems[table] += _cell_problems(con, layout, table, written[table], labels[table])
    if layout is REGISTRY:
        for table, found in _fill_registry(con, written, labels).items():
            problems[table] += found
    for table in layout.tables:
        problems[table] += _check_problems(con, table, written[table], labels[table], coded)
        problems[table] += _key_problems(con, table, labels[table])
    found = [p for table in layout.tables for p in problems[table]]
    found += level_problems(con, own, labels) + _reference_problems(con, layout, labels)
    if layout is REGISTRY:
        return found + _limbless_problems(con, labels) + _registry_follow_up_problems(con, labels)
    return found + _follow_up_problems(con, labels)


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


def _header_problems(
    layout: Layout, table: str, names: list[str], columns: list[Column], label: str
) -> list[Problem]:
    known = {c.name for c in columns}
    problems = [
        Problem(label, 1, name, None, "unknown column (not in the cohort format)")
        for name in names
        if name not in known
    ]
    problems += [
        Problem(label, 1, c.name, None, "required column is missing")
        for c in columns
        if c.required
        and c.name not in names
        and (layout.alternative(table, c.name) or ("",))[0] not in names
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
    """A SQL string literal (its quotes doubled): a code or spelling of the schema, or words
    naming where a value came from (a file's name may hold a quote)."""
    return "'" + text.replace("'", "''") + "'"


def _cell_problems(
    con: duckdb.DuckDBPyConnection,
    layout: Layout,
    table: str,
    present: list[Column],
    label: str,
) -> list[Problem]:
    """Empty required cells (unless the cell that may stand in for it is filled) and cells
    whose text is not of the column's type."""
    problems = []
    given = {c.name for c in present}
    for column in present:
        text = _text(column.name)
        if column.required:
            empty, rule = f"{text} IS NULL", "required: must not be empty"
            if (alternative := layout.alternative(table, column.name)) and alternative[0] in given:
                empty, rule = f"{empty} AND {_text(alternative[0])} IS NULL", alternative[1]
            problems += query_problems(
                con, f"SELECT {ROW}, NULL FROM raw_{table} WHERE {empty}", label, column.name, rule
            )  # fmt: skip
        problems += query_problems(
            con,
            f"SELECT {ROW}, {column.name} FROM raw_{table} "
            f"WHERE regexp_matches({column.name}, ?)",
            label, column.name, CONTROL_RULE, [CONTROL_CHARACTER],
        )  # fmt: skip
        if column.data_type == "DATE":
            problems += _date_problems(con, table, column.name, label)
        if column.data_type in TYPE_RULES:
            problems += query_problems(
                con,
                f"SELECT r.{ROW}, r.{column.name} FROM raw_{table} AS r "
                f"JOIN typed_{table} AS t USING ({ROW}) "
                f"WHERE {_text('r.' + column.name)} IS NOT NULL AND t.{column.name} IS NULL",
                label, column.name, TYPE_RULES[column.data_type],
            )  # fmt: skip
    for t, name, other, rule in layout.alternatives:  # the required column left out
        if t == table and name not in given and other in given:
            problems += query_problems(
                con, f"SELECT {ROW}, NULL FROM raw_{table} WHERE {_text(other)} IS NULL",
                label, other, rule,
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
        problems += query_problems(
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
        problems += query_problems(con, sql, label, ", ".join(names), rule)
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
        problems += query_problems(
            con,
            f"SELECT {ROW}, {shown} FROM (SELECT *, count(*) OVER (PARTITION BY {key}) AS copies "
            f"FROM typed_{table}) WHERE copies > 1",
            label, key, f"duplicate: ({key}) must be unique",
        )  # fmt: skip
    return problems


def _reference_problems(
    con: duckdb.DuckDBPyConnection, layout: Layout, labels: dict[str, str]
) -> list[Problem]:
    """Every foreign key of the schema: a patient or limb that its table does not hold."""
    keys = con.execute(
        "SELECT table_name, constraint_column_names[1], referenced_table, "
        "referenced_column_names[1] FROM duckdb_constraints() "
        "WHERE constraint_type = 'FOREIGN KEY'"
    ).fetchall()
    problems = []
    for table, column, target, key in sorted(keys, key=lambda k: layout.tables.index(k[0])):
        problems += query_problems(
            con,
            f"SELECT {ROW}, {column} FROM typed_{table} WHERE {column} IS NOT NULL "
            f"AND {column} NOT IN (SELECT {key} FROM typed_{target} WHERE {key} IS NOT NULL)",
            labels[table], column,
            f"unknown {column.removesuffix('_id')}: not in {labels[target]}",
        )  # fmt: skip
    return problems


def _limbless_problems(con: duckdb.DuckDBPyConnection, labels: dict[str, str]) -> list[Problem]:
    """A person with no treated limb: no analysis could count them."""
    return query_problems(
        con,
        f"SELECT {ROW}, patient_id FROM typed_patients WHERE patient_id IS NOT NULL AND "
        "patient_id NOT IN (SELECT patient_id FROM typed_limbs WHERE patient_id IS NOT NULL)",
        labels["patients"], "patient_id",
        f"a patient with no treated limb: add the limb to {labels['limbs']}, or remove the patient",
    )  # fmt: skip


def _fill_registry(
    con: duckdb.DuckDBPyConnection, written: dict[str, list[Column]], labels: dict[str, str]
) -> dict[str, list[Problem]]:
    """Complete the registry's typed rows as they will be stored, and what is wrong on the way.

    A limb event's empty ``patient_id`` becomes its limb's (one given must be its limb's).
    A time given as a date becomes months on its clock (the module's docstring): a limb's
    procedure for its last contact, a limb event or visit, the patient's first procedure
    for a patient event or therapy period; an event dated before it is refused (a last
    contact before it breaks the schema's CHECK), a month and a date that disagree are
    refused naming both (and, for a limb's follow-up, the limb).
    """
    con.execute(
        "CREATE TEMP TABLE limb_clocks AS SELECT limb_id, any_value(patient_id) AS patient_id, "
        "any_value(procedure_date) AS day FROM typed_limbs WHERE limb_id IS NOT NULL "
        "GROUP BY limb_id"
    )
    con.execute(
        "CREATE TEMP TABLE patient_clocks AS SELECT patient_id, min(procedure_date) AS day "
        "FROM typed_limbs WHERE patient_id IS NOT NULL GROUP BY patient_id"
    )
    found = {table: [] for table in REGISTRY.tables}
    found["events"] += query_problems(
        con,
        f"SELECT e.{ROW}, e.patient_id || ' (limb ' || e.limb_id || ' is of patient ' || "
        "l.patient_id || ')' FROM typed_events AS e JOIN limb_clocks AS l USING (limb_id) "
        "WHERE e.patient_id <> l.patient_id",
        labels["events"], "patient_id",
        f"not the patient of this limb_id in {labels['limbs']}: a limb event's patient_id "
        "is its limb's (it may be left empty)",
    )  # fmt: skip
    con.execute(
        "UPDATE typed_events SET patient_id = l.patient_id FROM limb_clocks AS l "
        "WHERE typed_events.limb_id = l.limb_id AND typed_events.patient_id IS NULL"
    )
    for table, month, day, clock in DATED_MONTHS:
        if day in {c.name for c in written[table]}:
            found[table] += _months_from_dates(con, table, month, day, clock, labels)
    return found


def months_between(start: str, day: str) -> str:
    """SQL of the months from date ``start`` to date ``day`` (SQL expressions): days /
    DAYS_PER_MONTH rounded to MONTH_DECIMALS (the module's docstring says why)."""
    return f"round(({day} - {start}) / {DAYS_PER_MONTH!r}, {MONTH_DECIMALS})"


def _months_from_dates(
    con: duckdb.DuckDBPyConnection,
    table: str,
    month: str,
    day: str,
    clock: str,
    labels: dict[str, str],
) -> list[Problem]:
    """Set ``month`` from the date ``day`` where it is empty; the dates refused on the way."""
    if table == "limbs":  # the limb's own procedure, on its row
        start, joins = "t.procedure_date", ""
    elif table == "events":  # a patient event has no limb: its clock is the patient's
        start = "coalesce(l.day, p.day)"
        joins = (
            "LEFT JOIN limb_clocks AS l USING (limb_id) "
            "LEFT JOIN patient_clocks AS p ON p.patient_id = t.patient_id"
        )
    elif clock == "limb":
        start, joins = "l.day", "LEFT JOIN limb_clocks AS l USING (limb_id)"
    else:
        start, joins = "p.day", "LEFT JOIN patient_clocks AS p USING (patient_id)"
    months = months_between(start, f"t.{day}")
    if table == "assessments":  # a visit on or before the procedure is the one before it
        months = f"greatest({months}, 0)"
    named = "coalesce('limb ' || t.limb_id || ': ', '')" if table == "limbs" else "''"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE dated AS SELECT t.{ROW}, {named} AS named, "
        f"t.{month} AS given, t.{day}, {months} AS months FROM typed_{table} AS t {joins} "
        f"WHERE t.{day} IS NOT NULL"
    )
    whose = {
        "events": "the procedure (a limb event: the limb's; a patient event: the patient's first)",
        "assessments": "the limb's procedure",
        "limbs": "the limb's procedure",
    }.get(table, "the patient's first procedure")
    problems = []
    if table == "events":
        problems += query_problems(
            con,
            f"SELECT {ROW}, {day}::VARCHAR FROM dated WHERE months < 0",
            labels[table], day,
            f"before the procedure: an event's date is on or after {whose} "
            f"(procedure_date in {labels['limbs']})",
        )  # fmt: skip
    problems += query_problems(
        con,
        f"SELECT {ROW}, named || printf('%g', given) || ' and ' || {day}::VARCHAR || ' (' || "
        f"printf('%g', months) || {_literal(f' months after {whose})')} FROM dated "
        f"WHERE abs(given - months) > {DATE_MONTH_TOLERANCE!r}",
        labels[table], f"{month}, {day}",
        f"{month} and {day} disagree by more than {DATE_MONTH_TOLERANCE:g} month: correct one "
        "of them, or leave one empty",
    )  # fmt: skip
    no_earlier = "" if table == "antithrombotic" else "AND d.months >= 0"
    con.execute(
        f"UPDATE typed_{table} SET {month} = d.months FROM dated AS d "
        f"WHERE typed_{table}.{ROW} = d.{ROW} AND typed_{table}.{month} IS NULL {no_earlier}"
    )
    return problems


def _follow_up_problems(con: duckdb.DuckDBPyConnection, labels: dict[str, str]) -> list[Problem]:
    """An event after the patient's last contact, or strictly after their death.

    An event in the month of death (the same month value) is allowed: both are recorded
    to the month, and a fatal bleed or embolism is dated with the death.
    """
    after_death = query_problems(
        con,
        f"SELECT e.{ROW}, e.month::VARCHAR || ' (death at ' || d.month::VARCHAR || ')' "
        "FROM typed_events AS e JOIN (SELECT patient_id, min(month) AS month FROM typed_events "
        "WHERE event = 'death' GROUP BY patient_id) AS d USING (patient_id) "
        "WHERE e.month > d.month",
        labels["events"], "month", "event after the patient's death",
    )  # fmt: skip
    return after_death + query_problems(
        con,
        f"SELECT e.{ROW}, e.month::VARCHAR || ' (follow-up ends at ' || "
        "p.follow_up_months::VARCHAR || ')' FROM typed_events AS e "
        "JOIN typed_patients AS p USING (patient_id) WHERE e.month > p.follow_up_months",
        labels["events"], "month", "event after the patient's follow-up ends",
    )  # fmt: skip


def _registry_follow_up_problems(
    con: duckdb.DuckDBPyConnection, labels: dict[str, str]
) -> list[Problem]:
    """A limb event after its limb's follow-up ends or after the patient's death; a patient
    event after the patient's last contact (the latest end of follow-up over their limbs,
    on the patient's clock) or after their death. As in the single-limb layout, an event in
    the month of death is allowed.
    """
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE clocks AS SELECT limb_id, patient_id, follow_up_months, "
        f"(procedure_date - min(procedure_date) OVER (PARTITION BY patient_id)) / "
        f"{DAYS_PER_MONTH!r} AS offset_months FROM typed_limbs WHERE limb_id IS NOT NULL "
        f"QUALIFY row_number() OVER (PARTITION BY limb_id ORDER BY {ROW}) = 1"
    )
    raw = {c.name for c in schema_columns(con, "raw_events")}
    given_in = (
        f"CASE WHEN {_text('r.month')} IS NULL THEN 'event_date' ELSE 'month' END"
        if "month" in raw
        else "'event_date'"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE event_times AS SELECT {ROW}, {given_in} AS given_in "
        "FROM raw_events AS r"
    )
    deaths = (
        "(SELECT patient_id, min(month) AS death FROM typed_events WHERE event = 'death' "
        "GROUP BY patient_id)"
    )
    contact = (
        "(SELECT patient_id, max(offset_months + follow_up_months) AS last_contact FROM clocks "
        "GROUP BY patient_id)"
    )
    events = labels["events"]
    at = "printf('%g', e.month)"
    event_times = f"typed_events AS e JOIN event_times AS t ON t.{ROW} = e.{ROW}"
    return (
        _timed_rows(
            con,
            f"SELECT e.{ROW}, t.given_in, {at} || ' (this limb''s follow-up ends at ' || "
            f"printf('%g', c.follow_up_months) || ')' FROM {event_times} "
            "JOIN clocks AS c USING (limb_id) WHERE e.month > c.follow_up_months",
            events, "event after the limb's follow-up ends",
        )
        + _timed_rows(
            con,
            f"SELECT e.{ROW}, t.given_in, {at} || ' (death at ' || "
            "printf('%.2f', d.death - c.offset_months) || ' months after this limb''s "
            f"procedure)' FROM {event_times} JOIN clocks AS c USING (limb_id) "
            f"JOIN {deaths} AS d ON d.patient_id = c.patient_id "
            "WHERE e.month + c.offset_months > d.death",
            events, "event after the patient's death",
        )
        + _timed_rows(
            con,
            f"SELECT e.{ROW}, t.given_in, {at} || ' (last contact at ' || "
            f"printf('%.2f', k.last_contact) || ')' FROM {event_times} "
            f"JOIN {contact} AS k USING (patient_id) WHERE e.limb_id IS NULL "
            "AND e.month > k.last_contact",
            events,
            "event after the patient's last contact (the latest end of follow-up of their "
            "limbs, in months after their first procedure)",
        )
        + _timed_rows(
            con,
            f"SELECT e.{ROW}, t.given_in, {at} || ' (death at ' || printf('%g', d.death) || "
            f"')' FROM {event_times} JOIN {deaths} AS d USING (patient_id) "
            "WHERE e.limb_id IS NULL AND e.month > d.death",
            events, "event after the patient's death",
        )
    )  # fmt: skip


def _timed_rows(con: duckdb.DuckDBPyConnection, sql: str, label: str, rule: str) -> list[Problem]:
    """Problems from a query of (row, column, value): the column the row gave its time in."""
    rows = con.execute(f"SELECT * FROM ({sql}) ORDER BY 1").fetchall()
    problems = [
        Problem(label, int(row), column, value, rule)
        for row, column, value in rows[:SHOWN_PER_RULE]
    ]
    if len(rows) > SHOWN_PER_RULE:
        more = len(rows) - SHOWN_PER_RULE
        problems.append(Problem(label, None, "month", None, f"{rule}: {more} more row(s)"))
    return problems


def _stent_count_warnings(con: duckdb.DuckDBPyConnection, labels: dict[str, str]) -> list[Problem]:
    """A limb whose ``stents`` count differs from the stents listed for it: the list is
    what the summary counts (data/schema.sql), so the count given is checked, not used."""
    listed_in = _literal(f" listed in {labels['stents']})")  # a file name may hold a quote
    return query_problems(
        con,
        f"SELECT l.{ROW}, l.stents || ' (' || s.listed || {listed_in} "
        "FROM typed_limbs AS l JOIN (SELECT limb_id, count(*) AS listed FROM typed_stents "
        "GROUP BY limb_id) AS s USING (limb_id) WHERE l.stents <> s.listed",
        labels["limbs"], "stents",
        f"data-quality warning: the number of stents differs from the stents listed for "
        f"this limb in {labels['stents']}, whose number is used: check the record",
    )  # fmt: skip


def _ceap_warnings(
    con: duckdb.DuckDBPyConnection, layout: Layout, labels: dict[str, str]
) -> list[Problem]:
    """Each limb's first assessment below C5 after it was C5 or C6 (a healed or active
    ulcer) at an earlier visit. CEAP is descriptive: a healed ulcer's scar keeps the limb
    at C5 or above. A warning, not a refusal: real series report such rows (so does the
    demo's paper)."""
    key = layout.limb_key
    return query_problems(
        con,
        f"SELECT a.{ROW}, 'C' || a.ceap_c || ' at month ' || printf('%g', a.month) || "
        "' (C' || u.ceap_c || ' at month ' || printf('%g', u.month) || ')' "
        f"FROM typed_assessments AS a JOIN (SELECT {key}, min(month) AS month, "
        "arg_min(ceap_c, month) AS ceap_c FROM typed_assessments WHERE ceap_c >= 5 "
        f"GROUP BY {key}) AS u USING ({key}) WHERE a.ceap_c < 5 AND a.month > u.month "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY a.month) = 1",
        labels["assessments"], "ceap_c", CEAP_BELOW_ULCER,
    )  # fmt: skip


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
