"""The import of a REDCap project's exports (a project made from redcap_project's
dictionary).

The exports come as REDCap writes them: the records CSV in raw or label form (headers
and values), ``redcap_repeat_instrument``/``redcap_repeat_instance``, checkbox columns
``field___code``, the ``*_complete`` status columns (ignored), empty repeat rows
(skipped), dates as YYYY-MM-DD or, with the export's date setting, DD/MM/YYYY or
MM/DD/YYYY; and the project's data dictionary export, which gives its fields' labels and
choices. They become the format's tables and pass through the one importer
(:func:`analytics.cohort.importer.import_tables`), so the same rules refuse the same
rows; each problem is then located as the data manager finds it in REDCap: record id,
instrument, instance, field (and the records file's row). The import report is the one
place a record id is shown.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from analytics.cohort.importer import (
    FIRST_DATA_ROW,
    REGISTRY,
    Imported,
    Problem,
    Table,
    ValidationError,
    import_tables,
    read_csv,
)
from analytics.cohort.own_columns import DICTIONARY
from analytics.cohort.own_columns import DICTIONARY_COLUMNS as OWN_DICTIONARY
from analytics.cohort.redcap_own import OWN_INSTRUMENTS, OwnField, own_field
from analytics.cohort.redcap_project import (
    API_DICTIONARY_COLUMNS,
    CHOICES,
    DICTIONARY_COLUMNS,
    FORM,
    INSTRUMENT_OF,
    INSTRUMENTS,
    LABEL,
    LIMB_NO,
    NAME,
    RECORD_ID,
    Field,
    project_fields,
    record_columns,
)

REPEAT_INSTRUMENT, REPEAT_INSTANCE = "redcap_repeat_instrument", "redcap_repeat_instance"
LONGITUDINAL = "redcap_event_name"
CHECKBOX_MARK = "___"  # a checkbox's export column: field___code
COMPLETE = "_complete"  # an instrument's status column: <instrument>_complete
DATE_ORDERS = {"dmy": "DD/MM/YYYY", "mdy": "MM/DD/YYYY"}
ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")
SLASHED_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
CHECKED = frozenset({"1", "checked"})
UNCHECKED = frozenset({"", "0", "unchecked"})
LABEL_HEADERS = {"repeat instrument": REPEAT_INSTRUMENT, "repeat instance": REPEAT_INSTANCE}
IGNORED_LABEL_HEADERS = frozenset({"complete?", "survey identifier", "data access group"})
NAMED_VALUE = re.compile(r"\b(\w+)=")  # the importer's values of a rule across columns
CHOICE_HEADER = re.compile(r"(.*) \(choice=(.*)\)")  # a checkbox's label header
RECORDS_EXPORT = "the REDCap project's records export (CSV)"
DICTIONARY_EXPORT = "the REDCap project's data dictionary export (CSV)"
CHILDREN_OF_LIMBS = ("stents", "events", "assessments")  # tables whose rows name a limb


@dataclass(frozen=True)
class Where:
    """Where a row of the format's tables came from in the records export."""

    record: str
    instrument: str
    instance: str
    row: int  # the records file's row, its header row 1
    event: str = ""  # a longitudinal project's redcap_event_name

    def label(self, records: str) -> str:
        event = f", event {self.event}" if self.event else ""
        instance = f", instance {self.instance}" if self.instance else ""
        return f"{records}: record {self.record}{event}, instrument {self.instrument}{instance}"


@dataclass(frozen=True)
class Project:
    """The project's dictionary export read against the template's fields: the fields it
    has, their labels and choices as the project holds them."""

    fields: dict[str, Field]
    labels: dict[str, str]  # folded field label -> field name
    choices: dict[str, dict[str, str]]  # field -> folded choice label -> REDCap code
    own: tuple[OwnField, ...] = ()  # the patient's and limb's fields of the project's own
    left_out: tuple[Problem, ...] = ()  # their other fields, each with why (a note)

    def columns(self, table: str) -> list[str]:
        """The format's columns of ``table`` that the project's fields fill."""
        record = record_columns().get(table)
        filled = [c for f in self.fields.values() if f.table == table for c in f.columns]
        return list(dict.fromkeys([record, *filled] if record else filled))


def import_redcap(
    records: Path,
    dictionary: Path,
    out: Path,
    metadata: dict[str, str] | None = None,
    date_order: str | None = None,
    max_rows: int | None = None,
    replace_out: bool = True,
) -> Imported:
    """Import a REDCap project's records export and data dictionary export into ``out``.

    ``date_order`` ("dmy" or "mdy") reads dates written with slashes; when it is None the
    file's days above 12 tell. Raises ValidationError listing every problem, each located
    by record id, instrument, instance and field; ``out`` is then left untouched.
    """
    records, dictionary = Path(records), Path(dictionary)
    require_files((records, RECORDS_EXPORT), (dictionary, DICTIONARY_EXPORT))
    project, problems = read_dictionary(dictionary)
    if problems:
        raise ValidationError(dictionary, problems)
    tables, origins, problems = records_tables(records, project, date_order, max_rows)
    if problems:
        raise ValidationError(records, problems)
    labels = {table: f"instrument {INSTRUMENT_OF[table]}" for table in REGISTRY.tables}
    meta = {"source": f"Imported from the REDCap exports {records.name} and {dictionary.name}",
            **(metadata or {})}  # fmt: skip
    locate = locator(records.name, dictionary.name, labels, origins, _field_names(project))
    if project.own:  # the registry's dictionary of them, from the project's (redcap_own)
        tables[DICTIONARY] = as_table(
            pd.DataFrame([o.declared for o in project.own], columns=OWN_DICTIONARY, dtype=str)
        )
        labels[DICTIONARY] = f"{dictionary.name} (own fields)"
    in_dictionary = _dictionary_rows(labels.get(DICTIONARY), dictionary.name, project.own)
    try:
        done = import_tables(records, REGISTRY, tables, labels, out, meta, max_rows, replace_out)
    except ValidationError as exc:
        problems = [locate(in_dictionary(p)) for p in exc.problems]
        raise ValidationError(records, problems) from None
    return replace(
        done,
        warnings=tuple(locate(w) for w in done.warnings),
        notes=(*project.left_out, *(in_dictionary(n) for n in done.notes)),
    )


def require_files(*given: tuple[Path, str]) -> None:
    """Refuse an import whose file is missing, saying which export it should be."""
    for path, what in given:
        if not path.is_file():
            rule = f"not found: give {what}"
            raise ValidationError(path, [Problem(str(path), None, None, None, rule)])


def _dictionary_rows(
    label: str | None, file: str, own: tuple[OwnField, ...]
) -> Callable[[Problem], Problem]:
    """A problem with the dictionary made of the project's own fields, located at the
    field's row of the project's data dictionary export."""

    def located(problem: Problem) -> Problem:
        if label is None or problem.file != label or problem.row is None:
            return problem
        index = problem.row - FIRST_DATA_ROW
        row = own[index].at if 0 <= index < len(own) else None
        return replace(problem, file=file, row=row)

    return located


def is_dictionary_export(head: bytes) -> bool:
    """Whether a CSV's first bytes are a REDCap data dictionary export's header: its first
    column named as the project page (``Variable / Field Name``) or the API (``field_name``)
    names it, so an upload can tell the dictionary from the records."""
    lines = head.decode("utf-8-sig", errors="replace").lstrip().splitlines()
    first = next(csv.reader(lines[:1]), [])
    return bool(first) and first[0].strip() in (NAME, API_DICTIONARY_COLUMNS[0])


def read_dictionary(path: Path) -> tuple[Project, list[Problem]]:
    """The project's fields from its dictionary export; each field the format does not know,
    or in another instrument than the template's, is a problem."""
    frame, problems = read_dictionary_export(path)
    if problems:
        return Project({}, {}, {}), problems
    if missing := [c for c in (NAME, FORM, LABEL, CHOICES) if c not in frame.columns]:
        rule = (
            f"not a REDCap data dictionary: no column {', '.join(missing)}; download it from "
            "Project Setup > Data Dictionary"
        )
        return Project({}, {}, {}), [Problem(path.name, 1, None, None, rule)]
    template = {f.name: f for f in project_fields()}
    fields, labels, choices = {}, {}, {}
    own, left_out = [], []
    for number, row in enumerate(frame.itertuples(index=False), FIRST_DATA_ROW):
        values = dict(zip(frame.columns, row, strict=True))
        name, form = values[NAME].strip(), values[FORM].strip()
        known = template.get(name)
        if known is None and form in OWN_INSTRUMENTS:
            pairs = choice_pairs(values[CHOICES])
            found = own_field(values, number, path.name, pairs)
            if isinstance(found, Problem):
                left_out.append(found)
                labels[_fold(values[LABEL])] = ""  # its column is read past
                continue
            own.append(found)
            fields[name] = found.field
            labels[_fold(values[LABEL])] = name
            choices[name] = {_fold(label): code for code, label in pairs}
            continue
        if known is None:
            rule = (
                f"a field the cohort format does not know, on instrument {form}: only the "
                "patient and limb instruments hold fields of the project's own; create the "
                "project from redcap-template, or import it with --mapping (a mapping file)"
            )
            problems.append(Problem(path.name, number, name, None, rule))
            continue
        if form != known.instrument:
            rule = f"belongs to instrument {known.instrument} in the cohort format, not {form}"
            problems.append(Problem(path.name, number, name, form, rule))
            continue
        fields[name] = known
        labels[_fold(values[LABEL])] = name
        choices[name] = {_fold(label): code for code, label in choice_pairs(values[CHOICES])}
    if RECORD_ID not in fields:
        problems.append(Problem(path.name, None, RECORD_ID, None, "the record id field is missing"))
    return Project(fields, labels, choices, tuple(own), tuple(left_out)), problems


def read_export(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """A CSV export whole, as text, read as the importer reads a CSV (its encoding, delimiter
    and quotes checked); or why it cannot be read."""
    table, problem = read_csv(path)
    if problem:
        return pd.DataFrame(), [problem]
    try:
        chunks = [*table.chunks(), pd.DataFrame(columns=table.header)]
    except csv.Error as exc:
        return pd.DataFrame(), [Problem(path.name, None, None, None, f"not a readable CSV: {exc}")]
    return pd.concat(chunks, ignore_index=True), []


def read_dictionary_export(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """A data dictionary export, its columns named as the project page's download names
    them, whether it came from there or from the API (content=metadata)."""
    frame, problems = read_export(path)
    api = dict(zip(API_DICTIONARY_COLUMNS, DICTIONARY_COLUMNS, strict=True))
    return frame.rename(columns=api), problems


def choice_pairs(text: str) -> list[tuple[str, str]]:
    """REDCap's "1, Left | 2, Right" as (code, label) pairs."""
    pairs = []
    for choice in text.split("|"):
        code, _, label = choice.partition(",")
        if code.strip():
            pairs.append((code.strip(), label.strip()))
    return pairs


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def records_tables(
    path: Path, project: Project, date_order: str | None, max_rows: int | None
) -> tuple[dict[str, Table], dict[str, list[Where]], list[Problem]]:
    """The records export as the format's tables, where each row came from, and what stops
    the reading (an unknown column or instrument, a limb number not in its record)."""
    frame, problems = read_export(path)
    if problems:
        return {}, {}, problems
    if max_rows is not None and len(frame) > max_rows:
        rule = f"more than {max_rows:,} rows: the limit for one file of an upload"
        return {}, {}, [Problem(path.name, None, None, None, rule)]
    names, problems = _header_names(path.name, list(frame.columns), project)
    if problems:
        return {}, {}, problems
    frame = frame.set_axis(names, axis=1).loc[:, [n for n in names if n]]
    dated = [n for n, f in project.fields.items() if f.validation.startswith("date") and n in frame]
    dates = (v for n in dated for v in frame[n])
    order, problems = slashed_date_order(path.name, dates, date_order)
    if problems:
        return {}, {}, problems
    return _tables(path.name, frame, project, order)


def _header_names(
    file: str, header: list[str], project: Project
) -> tuple[list[str], list[Problem]]:
    """Each column's raw name (a label header read through the dictionary), "" for a column
    kept out (an instrument's status, REDCap's survey and group columns)."""
    raw = {RECORD_ID, REPEAT_INSTRUMENT, REPEAT_INSTANCE} | set(project.fields)
    skipped = {note.column for note in project.left_out}  # read past, as their notes say
    boxes = {
        f"{name}{CHECKBOX_MARK}{code.casefold()}": name
        for name, field in project.fields.items()
        if field.field_type == "checkbox"
        for code in project.choices[name].values()
    }
    names, problems = [], []
    for number, text in enumerate(header, 1):
        folded = _fold(text)
        if text.strip() == LONGITUDINAL:
            rule = (
                "a longitudinal project's export (redcap_event_name): import it with --mapping "
                "(a mapping file), or a project created from redcap-template"
            )
            return [], [Problem(file, 1, text, None, rule)]
        if text.strip().split(CHECKBOX_MARK)[0] in skipped:
            names.append("")
        elif text.strip() in raw or folded in boxes:
            names.append(text.strip() if text.strip() in raw else folded)
        elif text.strip().endswith(COMPLETE) or text.startswith("redcap_"):
            names.append("")
        elif folded in LABEL_HEADERS:
            names.append(LABEL_HEADERS[folded])
        elif folded in IGNORED_LABEL_HEADERS:
            names.append("")
        elif folded in project.labels:
            names.append(project.labels[folded])
        elif (match := CHOICE_HEADER.fullmatch(text.strip())) and (
            box := project.labels.get(_fold(match[1]))
        ) in project.choices:
            code = project.choices[box].get(_fold(match[2]))
            names.append(f"{box}{CHECKBOX_MARK}{code}" if code else "?")
        else:
            names.append("?")
        if names[-1] == "?":
            rule = "a column that is no field of the project's data dictionary"
            problems.append(Problem(file, 1, f"column {number}: {text}", None, rule))
    if RECORD_ID not in names:
        problems.append(Problem(file, 1, RECORD_ID, None, "the record id column is missing"))
    return names, problems


def slashed_date_order(
    file: str, dates: Iterable[str], given: str | None
) -> tuple[str | None, list[Problem]]:
    """The order of the export's slashed dates: the one given, or the one its days tell."""
    parts = [m.groups() for v in dates if (m := SLASHED_DATE.fullmatch(v.strip()))]
    if given or not parts:
        return given, []
    day_first = any(int(a) > 12 for a, _, _ in parts)
    month_first = any(int(b) > 12 for _, b, _ in parts)
    if day_first != month_first:
        return ("dmy" if day_first else "mdy"), []
    rule = (
        "dates are written with slashes, and no day above 12 tells DD/MM/YYYY from MM/DD/YYYY"
        if not day_first
        else "dates are written both DD/MM/YYYY and MM/DD/YYYY"
    )
    orders = " or ".join(f"{order} ({text})" for order, text in DATE_ORDERS.items())
    rule += f": give the order, {orders} (--redcap-date-order; on the Data page, REDCap dates)"
    return None, [Problem(file, None, None, None, rule)]


def _tables(
    file: str, frame: pd.DataFrame, project: Project, date_order: str | None
) -> tuple[dict[str, Table], dict[str, list[Where]], list[Problem]]:
    rows = defaultdict(list)
    origins = defaultdict(list)
    problems = []
    instruments = {instrument: table for table, instrument, _ in INSTRUMENTS}
    fields_of = defaultdict(list)
    for field in project.fields.values():
        fields_of[field.instrument].append(field)
    unset: set[str] = set()
    for number, values in enumerate(frame.to_dict("records"), FIRST_DATA_ROW):
        record = values[RECORD_ID].strip()
        named = _fold(values.get(REPEAT_INSTRUMENT, "")).replace(" ", "_") or "patient"
        instance = values.get(REPEAT_INSTANCE, "").strip()
        where = Where(record, named, instance, number)
        if named not in instruments or (named == "patient") != (not instance):
            rule = "not a repeating instrument of the project" if named != "patient" else (
                "instrument patient does not repeat: one per record"
            )  # fmt: skip
            problems.append(Problem(where.label(file), number, REPEAT_INSTRUMENT, named, rule))
            continue
        if named == "patient":
            problems += _not_repeating(file, where, values, fields_of, unset)
        elif not any(_filled(values, f) for f in fields_of[named] if f.columns):
            continue  # an empty repeat row
        table = instruments[named]
        row = {column: record} if (column := record_columns().get(table)) else {}
        for field in fields_of[named]:
            row |= _cells(field, values, project, date_order)
        if table == "limbs":
            row[LIMB_NO] = values.get(LIMB_NO, "").strip()
        rows[table].append(row)
        origins[table].append(where)
    limb_fields = {t: f"{INSTRUMENT_OF[t]}_{LIMB_NO}" for t in CHILDREN_OF_LIMBS}
    problems += limbs_by_number(file, rows, origins, {"limbs": LIMB_NO, **limb_fields})
    tables = {
        table: as_table(pd.DataFrame(rows[table], columns=project.columns(table), dtype=str))
        for table in REGISTRY.tables
    }
    return tables, dict(origins), problems


def _not_repeating(
    file: str,
    where: Where,
    values: dict[str, str],
    fields_of: dict[str, list[Field]],
    unset: set[str],
) -> list[Problem]:
    """A repeating instrument filled on a record's own row: REDCap keeps an instrument that
    is not set as repeating there (once per instrument, added to ``unset``)."""
    problems = []
    for other, fields in fields_of.items():
        if other == "patient" or other in unset or not any(_filled(values, f) for f in fields):
            continue
        unset.add(other)
        rule = (
            f"instrument {other} is filled on the record's own row: it is not set as repeating "
            "(Project Setup > Enable optional modules and customizations > Repeating "
            "instruments and events)"
        )
        problems.append(Problem(where.label(file), where.row, other, None, rule))
    return problems


def _filled(values: dict[str, str], field: Field) -> bool:
    if field.field_type == "checkbox":
        return any(
            values.get(f"{field.name}{CHECKBOX_MARK}{code}", "").strip().casefold() not in UNCHECKED
            for code, _ in field.choices
        )
    return bool(values.get(field.name, "").strip())


def _cells(
    field: Field, values: dict[str, str], project: Project, date_order: str | None
) -> dict[str, str]:
    """The format's cells of one field of a row: a choice as its code, a checkbox as each
    choice's yes/no column, a date in ISO form; anything else as written (the importer
    refuses what breaks the format, in its words)."""
    if field.field_type == "checkbox":
        labels = {code: label for label, code in project.choices[field.name].items()}
        cells = {}
        for code, column in zip((c for c, _ in field.choices), field.codes, strict=True):
            text = values.get(f"{field.name}{CHECKBOX_MARK}{code}", "").strip()
            folded = text.casefold()
            checked = folded in CHECKED or folded == labels.get(code)
            cells[column] = "true" if checked else "false" if folded in UNCHECKED else text
        return cells
    if not field.columns or field.name not in values:
        return {}
    text = values[field.name].strip()
    if field.codes and text:
        codes = dict(zip((c for c, _ in field.choices), field.codes, strict=True))
        code = project.choices[field.name].get(_fold(text), text)
        text = codes.get(code, text)
    elif field.validation.startswith("date"):
        text = iso_date(text, date_order)
    return {field.columns[0]: text}


def iso_date(text: str, date_order: str | None) -> str:
    """A date as REDCap exports it (YYYY-MM-DD, perhaps with a time; DD/MM/YYYY or
    MM/DD/YYYY in ``date_order``) in ISO form; anything else as written, for the importer
    to refuse in its words."""
    if date_order and (match := SLASHED_DATE.fullmatch(text)):
        first, second, year = match.groups()
        day, month = (first, second) if date_order == "dmy" else (second, first)
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if match := ISO_DATE.fullmatch(text):
        return match[1]
    return text


def limbs_by_number(
    file: str,
    rows: dict[str, list[dict]],
    origins: dict[str, list[Where]],
    limb_fields: dict[str, str],
) -> list[Problem]:
    """Each child's limb number as its limb's ``limb_id``; a number used twice in a record,
    or one its record has no limb for, is a problem (named by ``limb_fields``: each table's
    field that gives the limb number)."""
    problems, limbs = [], {}
    for row, where in zip(rows["limbs"], origins["limbs"], strict=True):
        key = (where.record, row.pop(LIMB_NO))
        if key in limbs and key[1]:
            rule = f"limb number {key[1]} twice in this record: number its limbs 1 and 2"
            field = limb_fields["limbs"]
            problems.append(Problem(where.label(file), where.row, field, key[1], rule))
        limbs[key] = row.get("limb_id", "")
    for table in CHILDREN_OF_LIMBS:
        for row, where in zip(rows[table], origins[table], strict=True):
            number = row.get("limb_id", "")
            if not number:
                continue
            if (where.record, number) not in limbs:
                rule = f"no limb with this number ({limb_fields['limbs']}) in this record"
                field = limb_fields[table]
                problems.append(Problem(where.label(file), where.row, field, number, rule))
            row["limb_id"] = limbs.get((where.record, number), "")
    return problems


def as_table(frame: pd.DataFrame) -> Table:
    """A frame of text as a table the importer reads."""
    return Table(list(frame.columns), lambda: iter([frame]))


def _field_names(project: Project) -> dict[tuple[str, str], str]:
    """The export column each (table, column) of the format comes from."""
    fields = {(table, column): RECORD_ID for table, column in record_columns().items()}
    for f in project.fields.values():
        if f.field_type == "checkbox":
            fields |= {
                (f.table, column): f"{f.name}{CHECKBOX_MARK}{code}"
                for (code, _), column in zip(f.choices, f.codes, strict=True)
            }
        else:
            fields |= {(f.table, column): f.name for column in f.columns}
    return fields


def locator(
    records: str,
    described: str,
    labels: dict[str, str],
    origins: dict[str, list[Where]],
    fields: dict[tuple[str, str], str],
) -> Callable[[Problem], Problem]:
    """How the importer's problem with a table row becomes one with a REDCap record.

    ``labels`` names each table as the problems do ("instrument limb"); ``fields`` gives
    the export column each (table, column) comes from; a problem with a whole table (a
    required column missing) is located in ``described``, the file that says which fields
    the project has (its dictionary, or a mapping file)."""
    tables = {label: table for table, label in labels.items()}

    def locate(problem: Problem) -> Problem:
        table = tables.get(problem.file)
        if table is None:
            return problem
        column = problem.column and ", ".join(
            fields.get((table, c.strip()), c.strip()) for c in problem.column.split(",")
        )
        value = problem.value and NAMED_VALUE.sub(  # a rule across columns: "seg_ivc=false"
            lambda named: fields.get((table, named[1]), named[1]) + "=", problem.value
        )
        if problem.row is None or problem.row < FIRST_DATA_ROW:
            file = described if problem.row == 1 else records
            where = f"{file}: {labels[table]}"
            return Problem(where, None, column, value, problem.rule)
        origin = origins[table][problem.row - FIRST_DATA_ROW]
        return Problem(origin.label(records), origin.row, column, value, problem.rule)

    return locate
