"""A mapping file: how a REDCap project not built from the template fills the cohort format.

The file is TOML (read with the standard library's ``tomllib``), chosen over a CSV with
sections because a data manager writes it by hand in any text editor: one line per
field (``leg_side = "side"``), sections named for the format's tables, comments (``#``)
beside what they explain, numbers that stay numbers (``12_month_arm_1 = 12``), and no
spreadsheet to turn a code ``01`` into ``1``. Its sections:

- ``[patients]``, ``[limbs]``, ``[stents]``, ``[events]``, ``[assessments]``,
  ``[antithrombotic]``: ``instrument``, the REDCap instrument holding the table's rows;
  optionally ``events``, the REDCap events (``redcap_event_name``) it is filled at; for
  ``limbs`` optionally ``number``, the field giving the limb's number in its record (1 or
  2; without it, the repeat instance); for ``stents``, ``events`` and ``assessments``,
  ``limb``, the field giving the number of the limb a row belongs to (REDCap repeats do
  not nest). ``patients`` and ``limbs`` are required; a table left out has no rows. Two
  tables may share a non-repeating instrument (one leg per patient: limb number 1).
- ``[<table>.fields]``: REDCap field = cohort column (a checkbox's choice as
  ``field___code``, the export's column). The record id is the patient's ``patient_id``;
  a limb without a ``limb_id`` field is identified as ``<record id>-<limb number>``.
- ``[codes.<field>]``: REDCap choice code = cohort value, for every choice of a field
  whose code is not already the format's (``1 = "left"``; ``"" `` leaves it empty).
- ``[visit_months]``: REDCap event = month of the visit (``12_month_arm_1 = 12``): an
  assessment's month in a longitudinal project, when no field gives it.
- ``record_id``, optionally: the record id field (by default the dictionary's first).

Every problem names the mapping file's line, the field, the code or the event.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from analytics.cohort.dictionary import coded_columns, schema_connection
from analytics.cohort.importer import REGISTRY, Column, Problem, schema_columns
from analytics.cohort.redcap_import import CHECKBOX_MARK, CHILDREN_OF_LIMBS, choice_pairs
from analytics.cohort.redcap_project import CHOICES, FORM, NAME, TYPE, VALIDATION, record_columns
from analytics.glossary import FALSE_WORDS, TRUE_WORDS

TABLE_KEYS = frozenset({"instrument", "events", "fields", "number", "limb"})
TOP_KEYS = frozenset({"record_id", "codes", "visit_months"})
REQUIRED_TABLES = ("patients", "limbs")
# The choices REDCap gives a yes/no or true/false field without listing them.
IMPLIED_CHOICES = {
    "yesno": (("1", "Yes"), ("0", "No")),
    "truefalse": (("1", "True"), ("0", "False")),
}
HEADER = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?")
KEY = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")
DOTTED_PART = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'|[^.\s]+""")


@dataclass(frozen=True)
class ProjectField:
    """A field of the project's data dictionary export, as the mapping needs it."""

    name: str
    instrument: str
    field_type: str
    validation: str
    choices: tuple[tuple[str, str], ...]  # REDCap's (code, label) pairs

    @property
    def is_checkbox(self) -> bool:
        return self.field_type == "checkbox"


@dataclass(frozen=True)
class Source:
    """One column of the records export and the cohort column it fills."""

    column: str  # the export's column: the field, or a checkbox choice's field___code
    field: str  # the dictionary's field
    target: str  # the format's column
    line: int | None  # the mapping file's line


@dataclass(frozen=True)
class TableMapping:
    """Where one table of the format is in the project.

    ``number`` is the field giving a limb's number (limbs; "" for the repeat instance) or
    the number of the limb a row belongs to (stents, events, assessments)."""

    table: str
    instrument: str
    events: tuple[str, ...]
    number: str
    sources: tuple[Source, ...]
    month_from_event: bool  # assessments: the month of the row's event ([visit_months])


@dataclass(frozen=True)
class Mapping:
    """A mapping file read and checked against the project's data dictionary."""

    file: str
    record_id: str
    tables: dict[str, TableMapping]
    codes: dict[str, dict[str, str]]  # field -> REDCap code -> cohort value
    visit_months: dict[str, str]  # redcap_event_name -> month, as text
    lines: dict[tuple[str, ...], int]  # a key's path -> its line

    def where(self, *path: str) -> str:
        """The file, and the line of the key at ``path`` (or of the nearest section holding
        it, for a key left out)."""
        lines = (self.lines.get(path[:n]) for n in range(len(path), 0, -1))
        line = next((line for line in lines if line), None)
        return f"{self.file}, line {line}" if line else self.file


@functools.cache
def format_columns() -> dict[str, dict[str, Column]]:
    """The format's columns of each table (name, type, required), from data/schema.sql."""
    with schema_connection() as con:
        return {t: {c.name: c for c in schema_columns(con, t)} for t in REGISTRY.tables}


def dictionary_fields(frame_rows: list[dict[str, str]]) -> dict[str, ProjectField]:
    """The dictionary export's fields by name (rows as ``read_export`` reads them)."""
    fields = {}
    for row in frame_rows:
        kind = row[TYPE].strip()
        choices = IMPLIED_CHOICES.get(kind) or tuple(choice_pairs(row.get(CHOICES, "")))
        name = row[NAME].strip()
        fields[name] = ProjectField(
            name, row[FORM].strip(), kind, row.get(VALIDATION, "").strip(), choices
        )
    return fields


def key_lines(text: str) -> tuple[dict[tuple[str, ...], int], list[tuple[tuple[str, ...], int]]]:
    """The line of each section and key of a TOML text, and each key written twice with
    its second line (tomllib refuses one without saying where)."""
    lines, twice, section = {}, [], ()
    for number, line in enumerate(text.splitlines(), 1):
        if match := HEADER.fullmatch(line):
            section = tuple(_unquoted(p) for p in DOTTED_PART.findall(match[1]))
            lines.setdefault(section, number)
        elif match := KEY.match(line):
            path = (*section, _unquoted(match[1]))
            if path in lines:
                twice.append((path, number))
            lines.setdefault(path, number)
    return lines, twice


def _unquoted(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" and key[-1:] == key[:1] and len(key) > 1 else key


def read_mapping(
    path: Path, fields: dict[str, ProjectField]
) -> tuple[Mapping | None, list[Problem]]:
    """The mapping file checked against the project's ``fields``; every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        return None, [Problem(path.name, None, None, None, f"cannot read the mapping: {reason}")]
    lines, twice = key_lines(text)
    problems = [
        Problem(
            f"{path.name}, line {line}",
            None,
            ".".join(key),
            None,
            f"given twice (first at line {lines[key]}): give each key once",
        )
        for key, line in twice
    ]
    if problems:
        return None, problems
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        rule = f"not a readable TOML mapping file: {exc}"
        return None, [Problem(path.name, None, None, None, rule)]
    checker = _Checker(Mapping(path.name, "", {}, {}, {}, lines), fields)
    mapping = checker.mapping_of(data)
    return (mapping, []) if not checker.problems else (None, checker.problems)


class _Checker:
    """Reads a parsed mapping file section by section, collecting each problem."""

    def __init__(self, empty: Mapping, fields: dict[str, ProjectField]) -> None:
        self.empty, self.fields = empty, fields
        self.instruments = {f.instrument for f in fields.values()}
        self.problems: list[Problem] = []
        self.wrong_codes: set[tuple[str, str]] = set()  # (field, code) given a wrong value

    def problem(
        self, path: tuple[str, ...], column: str | None, value: str | None, rule: str
    ) -> None:
        self.problems.append(Problem(self.empty.where(*path), None, column, value, rule))

    def mapping_of(self, data: dict) -> Mapping:
        for key in data:
            if key not in TOP_KEYS and key not in REGISTRY.tables:
                tables = ", ".join(REGISTRY.tables)
                self.problem(
                    (key,),
                    key,
                    None,
                    f"not a section of a mapping file: a table "
                    f"of the cohort format ({tables}), codes or visit_months",
                )
        record_id = self.record_id(data.get("record_id"))
        months = self.visit_months(data.get("visit_months", {}))
        tables = {}
        for table in REGISTRY.tables:
            if table in data:
                tables[table] = self.table(table, data[table], bool(months))
            elif table in REQUIRED_TABLES:
                self.problem(
                    (),
                    table,
                    None,
                    f"the mapping has no [{table}]: say which "
                    "instrument holds it and map its fields",
                )
        codes = self.codes(data.get("codes", {}), tables)
        self.uncoded(tables, codes)
        return Mapping(self.empty.file, record_id, tables, codes, months, self.empty.lines)

    def record_id(self, given: object) -> str:
        first = next(iter(self.fields), "")
        if given is None:
            return first
        if not isinstance(given, str) or given not in self.fields:
            self.problem(
                ("record_id",),
                "record_id",
                str(given),
                "not a field of the project's data dictionary",
            )
            return first
        return given

    def visit_months(self, given: object) -> dict[str, str]:
        if not isinstance(given, dict):
            self.problem(
                ("visit_months",), "visit_months", None, "must be a section: event = month"
            )
            return {}
        months = {}
        for event, month in given.items():
            if isinstance(month, bool) or not isinstance(month, int | float):
                self.problem(
                    ("visit_months", event),
                    event,
                    str(month),
                    "an event's month must be a number of months, e.g. 12",
                )
                continue
            months[event] = str(month)
        return months

    def table(self, table: str, section: object, has_months: bool) -> TableMapping:
        if not isinstance(section, dict):
            self.problem((table,), table, None, "must be a section: [" + table + "]")
            section = {}
        for key in section:
            if key not in TABLE_KEYS:
                keys = ", ".join(sorted(TABLE_KEYS))
                self.problem((table, key), key, None, f"not a key of a table's section: {keys}")
        instrument = section.get("instrument")
        if instrument not in self.instruments:
            rule = (
                "not an instrument of the project's data dictionary"
                if instrument
                else f'say which instrument holds {table}: instrument = "..." under [{table}]'
            )
            self.problem((table, "instrument"), "instrument", instrument and str(instrument), rule)
        instrument = str(instrument or "")
        events = section.get("events", [])
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            self.problem(
                (table, "events"),
                "events",
                None,
                'must be a list of event names: events = ["baseline_arm_1"]',
            )
            events = []
        number = self.number(table, section, instrument)
        sources = self.sources(table, section.get("fields", {}), instrument)
        mapped = {s.target for s in sources}
        from_event = table == "assessments" and "month" not in mapped and has_months
        self.required(table, mapped, bool(number), from_event)
        return TableMapping(table, instrument, tuple(events), number, sources, from_event)

    def number(self, table: str, section: dict, instrument: str) -> str:
        key = "number" if table == "limbs" else "limb" if table in CHILDREN_OF_LIMBS else ""
        for other in {"number", "limb"} - {key}:
            if other in section:
                self.problem(
                    (table, other),
                    other,
                    None,
                    f"[{table}] has no {other}" + (f": use {key}" if key else ""),
                )
        name = section.get(key, "") if key else ""
        if name and self.field(table, (table, key), str(name), instrument):
            return str(name)
        return ""

    def field(self, table: str, path: tuple[str, ...], name: str, instrument: str) -> bool:
        """Whether ``name`` is a field of the dictionary in ``instrument``."""
        known = self.fields.get(name)
        if known is None:
            self.problem(path, name, None, "unknown field: not in the project's data dictionary")
            return False
        if known.instrument != instrument and instrument in self.instruments:
            self.problem(
                path,
                name,
                known.instrument,
                f"a field of instrument {known.instrument}, not of [{table}]'s "
                f"instrument {instrument}",
            )
            return False
        return True

    def sources(self, table: str, given: object, instrument: str) -> tuple[Source, ...]:
        if not isinstance(given, dict):
            self.problem(
                (table, "fields"), "fields", None, "must be a section: REDCap field = cohort column"
            )
            return ()
        columns = format_columns()[table]
        kept = set(_implied(table))
        sources, seen = [], {}
        for column, target in given.items():
            path = (table, "fields", column)
            line = self.empty.lines.get(path)
            name, mark, code = column.partition(CHECKBOX_MARK)
            if not self.field(table, path, name, instrument):
                continue
            if not self.checkbox_choice(path, self.fields[name], bool(mark), code):
                continue
            if not isinstance(target, str) or target not in columns or target in kept:
                self.problem(
                    path,
                    column,
                    str(target),
                    f"not a column of {table} the mapping can fill: "
                    f"{', '.join(c for c in columns if c not in kept)}",
                )
                continue
            if mark and columns[target].data_type != "BOOLEAN":
                rule = f"a checkbox choice fills a yes/no column; {target} is not one"
                self.problem(path, column, target, rule)
                continue
            if target in seen:
                self.problem(
                    path, column, target, f"column {target} mapped twice: also from {seen[target]}"
                )
                continue
            seen[target] = column if line is None else f"{column} (line {line})"
            sources.append(Source(column, name, target, line))
        return tuple(sources)

    def checkbox_choice(
        self, path: tuple[str, ...], field: ProjectField, marked: bool, code: str
    ) -> bool:
        """Whether a checkbox is mapped a choice at a time, each a choice it has."""
        column = path[-1]
        if field.is_checkbox and not marked:
            codes = ", ".join(f"{field.name}{CHECKBOX_MARK}{c}" for c, _ in field.choices)
            self.problem(path, column, None, f"a checkbox: map each choice ({codes})")
            return False
        if marked and not field.is_checkbox:
            self.problem(path, column, None, f"{field.name} is not a checkbox")
            return False
        if marked and code.casefold() not in {c.casefold() for c, _ in field.choices}:
            self.problem(path, column, code, f"no choice {code} in checkbox {field.name}")
            return False
        return True

    def required(self, table: str, mapped: set[str], numbered: bool, from_event: bool) -> None:
        given = mapped | {record_columns().get(table)} | ({"month"} if from_event else set())
        if numbered or table == "limbs":
            given.add("limb_id")
        for column in format_columns()[table].values():
            alternative = REGISTRY.alternative(table, column.name)
            if (
                not column.required
                or column.name in given
                or (alternative and alternative[0] in given)
            ):
                continue
            rule = (
                f'required: give the field with each row\'s limb number (limb = "...") under '
                f"[{table}]"
                if column.name == "limb_id"
                else "required: map a field to it"
                + (f" or to {alternative[0]}" if alternative else "")
                + f" under [{table}.fields]"
            )
            path = (table,) if column.name == "limb_id" else (table, "fields")
            self.problem(path, column.name, None, rule)

    def codes(self, given: object, tables: dict[str, TableMapping]) -> dict[str, dict[str, str]]:
        if not isinstance(given, dict):
            self.problem(("codes",), "codes", None, "must hold sections: [codes.<field>]")
            return {}
        targets = {s.field: (t.table, s.target) for t in tables.values() for s in t.sources}
        codes = {}
        for name, section in given.items():
            if name not in targets or not isinstance(section, dict):
                rule = (
                    "codes of a field the mapping does not map to a column"
                    if name not in targets
                    else "must be a section: [codes.<field>] with code = value lines"
                )
                self.problem(("codes", name), name, None, rule)
                continue
            field = self.fields[name]
            codes[name] = {}
            for code, value in section.items():
                text = _text(value)
                if field.choices and code not in {c for c, _ in field.choices}:
                    choices = ", ".join(c for c, _ in field.choices)
                    self.problem(
                        ("codes", name, code),
                        name,
                        code,
                        f"not a choice of {name}: its codes are {choices}",
                    )
                elif not _valid(*targets[name], text):
                    self.problem(
                        ("codes", name, code),
                        name,
                        text,
                        f"not a value of {targets[name][1]}: {_values(*targets[name])}",
                    )
                    self.wrong_codes.add((name, code))
                else:
                    codes[name][code] = text
        return codes

    def uncoded(self, tables: dict[str, TableMapping], codes: dict[str, dict[str, str]]) -> None:
        """Each choice of a mapped field that is not a value of its column and has no
        cohort value in ``[codes.<field>]``."""
        for mapping in tables.values():
            for source in mapping.sources:
                field = self.fields[source.field]
                if field.is_checkbox:
                    continue
                given = codes.get(source.field, {})
                for code, label in field.choices:
                    if (
                        code in given
                        or (source.field, code) in self.wrong_codes
                        or _valid(mapping.table, source.target, code)
                    ):
                        continue
                    path = (
                        ("codes", source.field)
                        if source.field in codes
                        else (mapping.table, "fields", source.column)
                    )
                    self.problem(
                        path,
                        source.field,
                        code,
                        f"code {code} ({label}) has no value of {source.target} "
                        f"({_values(mapping.table, source.target)}): give it under "
                        f"[codes.{source.field}]",
                    )


def _implied(table: str) -> tuple[str, ...]:
    """The columns the mapping never names: the record's, and a child's limb (its number
    field gives it)."""
    record = record_columns().get(table)
    limb = ("limb_id",) if table in CHILDREN_OF_LIMBS else ()
    return (record, *limb) if record else limb


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _valid(table: str, column: str, text: str) -> bool:
    """Whether ``text`` is a value the format takes for a coded or yes/no column (any
    value is taken as written for another: the importer checks it)."""
    if not text.strip():
        return True
    if coded := coded_columns().get((table, column)):
        return text.strip().casefold() in coded.spellings
    if format_columns()[table][column].data_type == "BOOLEAN":
        return text.strip().casefold() in TRUE_WORDS | FALSE_WORDS
    return True


def _values(table: str, column: str) -> str:
    if coded := coded_columns().get((table, column)):
        return ", ".join(coded.codes)
    return "true or false"
