"""A REDCap project in the cohort format: its data dictionary, repeating instruments and
guide (present.redcap_template writes them; cohort.redcap_import reads its exports).

The project is a classic (non-longitudinal) one: one record per patient, its record id
the patient's pseudonymous ``patient_id`` (instrument ``patient``), and a repeating
instrument per table below it (``limb``, ``stent``, ``event``, ``assessment``,
``therapy``). REDCap repeats do not nest, so each child of a limb carries the number of
its limb in the record (``limb_no`` of instrument ``limb``; ``stent_limb_no`` and the like,
since a field name is unique in a project). Every field derives from data/schema.sql
(:func:`project_fields`): its type, choices, range and meaning, so the format's columns
are never listed a second time. A column found in several tables (``month``) takes its
instrument's name as a prefix (``event_month``); the lesion's segments are one checkbox.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, replace

import pandas as pd

from analytics.cohort.dictionary import CodedColumn, coded_columns, schema_connection
from analytics.cohort.importer import (
    RANGE,
    REGISTRY,
)
from analytics.variables import AETIOLOGIES, BUILTIN, STENT_DESIGNS, THERAPIES

# REDCap's Data Dictionary CSV, its columns in its order.
DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)  # fmt: skip
# The same columns as the API's metadata export names them (content=metadata), in order.
API_DICTIONARY_COLUMNS = (
    "field_name", "form_name", "section_header", "field_type", "field_label",
    "select_choices_or_calculations", "field_note", "text_validation_type_or_show_slider_number",
    "text_validation_min", "text_validation_max", "identifier", "branching_logic",
    "required_field", "custom_alignment", "question_number", "matrix_group_name",
    "matrix_ranking", "field_annotation",
)  # fmt: skip
NAME, FORM, TYPE, LABEL, CHOICES = (DICTIONARY_COLUMNS[i] for i in (0, 1, 3, 4, 5))
NOTE, VALIDATION, MINIMUM, MAXIMUM = (DICTIONARY_COLUMNS[i] for i in (6, 7, 8, 9))
BRANCHING, REQUIRED = DICTIONARY_COLUMNS[11], DICTIONARY_COLUMNS[12]
# REDCap's repeating-instruments setup (Project Setup > Enable optional modules >
# Repeating instruments and events), which the dictionary cannot hold.
REPEATING_COLUMNS = ("form_name", "custom_form_label")
RECORD_ID = "record_id"
LIMB_NO = "limb_no"
# The format's tables as the project's instruments, and the label REDCap shows for each
# repeat (its [field]s piped in).
INSTRUMENTS = (
    ("patients", "patient", ""),
    ("limbs", "limb", "[side] ([limb_no])"),
    ("stents", "stent", "[brand], limb [stent_limb_no]"),
    ("events", "event", "[event]"),
    ("assessments", "assessment", "limb [assessment_limb_no]"),
    ("antithrombotic", "therapy", "[agent]"),
)
INSTRUMENT_OF = {table: instrument for table, instrument, _ in INSTRUMENTS}
# Yes/no columns of one table entered as one checkbox: (table, the columns' prefix, field).
CHECKBOXES = (("limbs", "seg_", "segments"),)
# A CHECK that leaves columns empty unless another holds a code, as DuckDB holds its text:
# (("event" = 'reintervention') OR ((indication IS NULL) AND ...)): their branching logic.
ONLY_WHEN = re.compile(r"""\(\("?(\w+)"? = '(\w+)'\) OR \(((?:\(\w+ IS NULL\)(?: AND )?)+)\)\)""")
EMPTY = re.compile(r"\((\w+) IS NULL\)")
RADIO_MAX_CHOICES = 4  # a coded field of more choices is a dropdown
# How a code shows as a choice: the dashboard's own labels where it has them.
_LEVELS = (
    AETIOLOGIES,
    STENT_DESIGNS,
    THERAPIES,
    *(d.items() for d in BUILTIN.level_labels().values()),
)
# A field's label: the dashboard's own for a column it shows under the same name.
FIELD_LABELS = {v.column: v.label for v in BUILTIN.variables if v.column}
CODE_LABELS = {code: label for levels in _LEVELS for code, label in levels}


@dataclass(frozen=True)
class Field:
    """One field of the project: where it sits, which format column(s) it fills, and how.

    ``columns`` is the one column a field fills, or a checkbox's yes/no columns (one per
    choice); ``codes`` the format's code of each choice (a checkbox: the choice's column).
    ``choices`` are REDCap's (code, label) pairs, numbered from 1 for a coded column.
    """

    name: str
    instrument: str
    table: str
    columns: tuple[str, ...]
    field_type: str
    label: str
    note: str
    validation: str = ""
    minimum: str = ""
    maximum: str = ""
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    codes: tuple[str, ...] = ()
    branching: str = ""  # REDCap's "show the field only if"

    def row(self) -> dict[str, str]:
        """The field as a row of REDCap's Data Dictionary CSV."""
        return {
            **dict.fromkeys(DICTIONARY_COLUMNS, ""),
            NAME: self.name,
            FORM: self.instrument,
            TYPE: self.field_type,
            LABEL: self.label,
            CHOICES: " | ".join(f"{code}, {label}" for code, label in self.choices),
            NOTE: self.note,
            VALIDATION: self.validation,
            MINIMUM: self.minimum,
            MAXIMUM: self.maximum,
            BRANCHING: self.branching,
            REQUIRED: "y" if self.required else "",
        }


@functools.cache
def project_fields() -> tuple[Field, ...]:
    """Every field of the project, in the dictionary's order, derived from data/schema.sql.

    The column that is the record (:func:`record_columns`) is the record id in ``patient``
    and no field elsewhere; a column referring to a limb is the child's limb number. A
    required column that a date may stand in for (REGISTRY's alternatives) is not required
    in REDCap.
    """
    by_table, ranges, references, shown_if = _schema_facts()
    coded = coded_columns()
    names = [c[0] for t in REGISTRY.tables for c in by_table[t] if (t, c[0]) not in references]
    shared = {name for name in names if names.count(name) > 1}

    def branching(table: str, instrument: str, column: str) -> str:
        if (table, column) not in shown_if:
            return ""
        other, code = shown_if[table, column]
        name = f"{instrument}_{other}" if other in shared else other
        return f"[{name}] = '{coded[table, other].codes.index(code) + 1}'"

    fields = []
    for table, instrument, _ in INSTRUMENTS:
        boxes = [(prefix, name) for t, prefix, name in CHECKBOXES if t == table]
        for column, data_type, required, comment in by_table[table]:
            if record_columns().get(table) == column:
                if table == "patients":
                    fields.append(Field(RECORD_ID, instrument, table, (column,), "text",
                                        "Record ID", comment, required=True))  # fmt: skip
                continue
            if references.get((table, column)) == "limbs":
                fields.append(_limb_number(instrument, table, column, required, comment))
                continue
            if (table, column) == ("limbs", "limb_id"):
                fields.append(_limb_number(instrument, table, "", True, ""))
            if box := next(((p, n) for p, n in boxes if column.startswith(p)), None):
                if box[1] not in {f.name for f in fields}:
                    fields.append(_checkbox(instrument, table, *box, by_table[table]))
                continue
            name = f"{instrument}_{column}" if column in shared else column
            alternative = REGISTRY.alternative(table, column)
            field = _field(name, instrument, table, column, data_type, comment,
                           required and not alternative, coded.get((table, column)),
                           ranges.get((table, column), ("", "")))  # fmt: skip
            fields.append(replace(field, branching=branching(table, instrument, column)))
    return tuple(fields)


def _schema_facts() -> tuple[dict[str, list[tuple]], dict, dict, dict]:
    """The schema's columns by table (name, type, required, comment), each column's range
    (from its CHECK BETWEEN), the table each foreign key refers to, and the columns a CHECK
    leaves empty unless another column holds a code: (table, column) -> (other, code)."""
    with schema_connection() as con:
        columns = con.execute(
            "SELECT table_name, column_name, data_type, NOT is_nullable, coalesce(comment, '') "
            "FROM duckdb_columns() WHERE schema_name = 'main' ORDER BY column_index"
        ).fetchall()
        checks = con.execute(
            "SELECT table_name, expression FROM duckdb_constraints() "
            "WHERE constraint_type = 'CHECK'"
        ).fetchall()
        keys = con.execute(
            "SELECT table_name, constraint_column_names[1], referenced_table "
            "FROM duckdb_constraints() WHERE constraint_type = 'FOREIGN KEY'"
        ).fetchall()
    by_table = defaultdict(list)
    for table, *column in columns:
        by_table[table].append(tuple(column))
    ranges = {
        (table, match[1]): (match[2], match[3])
        for table, expression in checks
        if (match := RANGE.fullmatch(expression))
    }
    shown_if = {
        (table, column): (match[1], match[2])
        for table, expression in checks
        if (match := ONLY_WHEN.fullmatch(expression))
        for column in EMPTY.findall(match[3])
    }
    references = {(table, column): target for table, column, target in keys}
    return by_table, ranges, references, shown_if


@functools.cache
def record_columns() -> dict[str, str]:
    """Each table's column that is the record itself: the patient's key, and every column
    referring to it (a limb's, an event's, a therapy period's patient)."""
    with schema_connection() as con:
        rows = con.execute(
            "SELECT table_name, constraint_column_names[1] FROM duckdb_constraints() "
            "WHERE (constraint_type = 'FOREIGN KEY' AND referenced_table = 'patients') "
            "OR (constraint_type = 'PRIMARY KEY' AND table_name = 'patients')"
        ).fetchall()
    return dict(rows)


def _limb_number(instrument: str, table: str, column: str, required: bool, comment: str) -> Field:
    """The limb's number in its record: the limb's own (``limb_no``, 1 or 2: one per side),
    or the number of the limb a child instrument's row is of (a column naming a limb)."""
    sides = len(coded_columns()["limbs", "side"].codes)
    if instrument == "limb":
        note = f"This limb's number in the record, 1 to {sides}: a patient has one limb a side."
        return Field(LIMB_NO, instrument, table, (), "text", "Limb number", note, "integer",
                     "1", str(sides), required=True)  # fmt: skip
    note = f"The number ({LIMB_NO}) of the limb in this record. {comment}"
    return Field(f"{instrument}_{LIMB_NO}", instrument, table, (column,), "text",
                 f"Limb number ({instrument})", note, "integer", "1", str(sides),
                 required=required)  # fmt: skip


def _checkbox(instrument: str, table: str, prefix: str, name: str, columns: list[tuple]) -> Field:
    """Yes/no columns sharing ``prefix`` as one checkbox field, a choice per column."""
    members = [(c, comment) for c, _, _, comment in columns if c.startswith(prefix)]
    choices = tuple((c.removeprefix(prefix), c.removeprefix(prefix).upper()) for c, _ in members)
    note = " ".join(comment for _, comment in members)
    return Field(name, instrument, table, tuple(c for c, _ in members), "checkbox",
                 name.replace("_", " ").capitalize(), note, choices=choices,
                 codes=tuple(c for c, _ in members))  # fmt: skip


def _field(
    name: str,
    instrument: str,
    table: str,
    column: str,
    data_type: str,
    comment: str,
    required: bool,
    coded: CodedColumn | None,
    bounds: tuple[str, str],
) -> Field:
    label = FIELD_LABELS.get(column) if name == column else None
    label = label or name.replace("_", " ").capitalize()
    common = dict(required=required)
    if coded:
        kind = "radio" if len(coded.codes) <= RADIO_MAX_CHOICES else "dropdown"
        choices = tuple(
            (str(i), CODE_LABELS.get(code, code.replace("_", " ").capitalize()))
            for i, code in enumerate(coded.codes, 1)
        )
        return Field(name, instrument, table, (column,), kind, label, comment,
                     choices=choices, codes=coded.codes, **common)  # fmt: skip
    if data_type == "BOOLEAN":  # REDCap shows Yes and No, not the format's true/false
        note = comment.replace(" (true/false)", "")
        return Field(name, instrument, table, (column,), "yesno", label, note, **common)
    validation = {"INTEGER": "integer", "DOUBLE": "number", "DATE": "date_ymd"}.get(data_type, "")
    return Field(name, instrument, table, (column,), "text", label, comment, validation,
                 *bounds, **common)  # fmt: skip


def dictionary_frame() -> pd.DataFrame:
    """The project's data dictionary, REDCap's columns in REDCap's order."""
    return pd.DataFrame([f.row() for f in project_fields()], columns=list(DICTIONARY_COLUMNS))


def repeating_frame() -> pd.DataFrame:
    """The repeating instruments and the label REDCap shows for each repeat."""
    rows = [(instrument, label) for _, instrument, label in INSTRUMENTS if instrument != "patient"]
    return pd.DataFrame(rows, columns=list(REPEATING_COLUMNS))


GUIDE = """# A REDCap project in the cohort format

Written by `python -m analytics redcap-template`; generated from the cohort format
(data/schema.sql), so it matches the version of the dashboard that wrote it.

- `redcap_dictionary.csv`: the project's data dictionary. One record per patient: the
  record id is the patient's pseudonymous identifier (never a name or hospital number;
  turn off auto-numbering in Project Setup); the instrument `patient` holds the person,
  the repeating instruments `limb`, `stent`, `event`, `assessment` and `therapy` the rest.
  REDCap repeats do not nest: a stent, event or assessment gives the number of its limb
  (`limb_no` of the limb: 1 or 2, one limb a side); a patient event (recurrent DVT,
  pulmonary embolism, bleeding, death) leaves it empty.
- `repeating_instruments.csv`: which instruments repeat, and the label of each repeat.

## Create the project
1. New project, classic (not longitudinal).
2. Project Setup > Design your data collection instruments > Data Dictionary: upload
   `redcap_dictionary.csv` (this replaces the project's instruments).
3. Project Setup > Enable optional modules and customizations > Repeating instruments
   and events: make `limb`, `stent`, `event`, `assessment` and `therapy` repeating, with
   the labels of `repeating_instruments.csv` (the dialog uploads that file).
4. Keep the fields as they are: a field the cohort format does not know is refused at
   import, and so is a choice whose code was changed (its label may be changed).

## Export and import
Data Exports > All data: "CSV / Microsoft Excel (raw data)" or "(labels)"; dates as
YYYY-MM-DD, or DD/MM/YYYY or MM/DD/YYYY (then say which with `--redcap-date-order` when no
day above 12 tells). Download the data dictionary too (Project Setup > Data Dictionary),
then:

    python -m analytics import --redcap-records records.csv \\
        --redcap-dictionary dictionary.csv --out cohort.duckdb

Every problem is listed with its record id, instrument, instance and field; nothing is
written until there are none. The import report is the one place a record id is shown.
"""
