"""A blank registry workbook: one sheet per table of the registry layout with its headers,
an empty ``dictionary`` sheet for the registry's own columns, and a guide to the columns
and to how the tables fit together.

Departments fill it in and import it; the importer ignores the guide sheet.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from analytics.cohort.dictionary import data_dictionary
from analytics.cohort.importer import FALSE_TEXT, REGISTRY, TRUE_TEXT
from analytics.cohort.own_columns import (
    DICTIONARY,
    DICTIONARY_COLUMNS,
    DICTIONARY_REQUIRED,
    KINDS,
    MAX_INFERRED_LEVELS,
)
from analytics.rules import DATE_MONTH_TOLERANCE, DAYS_PER_MONTH, MAX_OWN_COLUMNS, MONTH_DECIMALS

GUIDE_SHEET = "columns"
GUIDE_HEADER = ("sheet", "column", "type", "required", "meaning")
GUIDE_NOTES = (
    "How the sheets fit together",
    "patients: one row per person (sex, risk factors, centre). limbs: one row per treated "
    "limb, with its patient_id: a patient stented on both legs has two rows with one "
    "patient_id; a staged procedure on the second leg is its own limb with its own "
    "procedure_date. stents: one row per stent implanted, with its limb_id.",
    "events: one row per event; an event may repeat (two reinterventions in a month are two "
    "rows). A limb event (restenosis to ulcer_recurred) gives its limb_id; its patient_id "
    "may be left empty (it is the limb's). A patient event (recurrent_dvt, "
    "pulmonary_embolism, minor_bleeding, major_bleeding, death) gives its patient_id and "
    "leaves limb_id empty.",
    "A time as a month or a date: month counts months after the limb's procedure (a patient "
    "event, and antithrombotic periods: after the patient's first procedure). Instead of a "
    "month, give the date (event_date, assessment_date, start_date, end_date; instead of a "
    "limb's follow_up_months, its last_contact_date): it becomes "
    f"days / {DAYS_PER_MONTH:g} months after that procedure, rounded to {MONTH_DECIMALS} "
    "decimals; a visit dated on or before the procedure is the one before it (month 0). "
    f"Both given must agree within {DATE_MONTH_TOLERANCE:g} month. Dates are kept for "
    "audit and never shown.",
    "assessments: one row per limb and visit (month 0 before the procedure); a measure not "
    "taken is left empty. antithrombotic: one row per patient, agent and period; end left "
    "empty while ongoing.",
    "stents and antithrombotic may be left empty or deleted when the service does not "
    "record them; patients and limbs need rows; events and assessments may be empty.",
    f"Booleans: {'/'.join(TRUE_TEXT)} or {'/'.join(FALSE_TEXT)}, any case. Dates: "
    "YYYY-MM-DD (or a date cell). Coded columns: the codes listed (any case, a space for an "
    "underscore, and the spellings listed). Optional columns may be left out or left empty.",
    f"Columns of your own: patients and limbs may have up to {MAX_OWN_COLUMNS} columns the "
    "format does not name (a trial arm, a frailty score), named with lower-case letters, "
    f"digits and _. Declare each in the {DICTIONARY} sheet, one row per column: "
    f"{', '.join(DICTIONARY_COLUMNS)} ({' and '.join(DICTIONARY_REQUIRED)} required); type "
    f"is {', '.join(KINDS)}; levels as code=label|code=label (category, ordered); a number "
    "may have a unit and bands as cuts, 60|75. A column not declared is taken from its "
    f"values (yes/no words: yes_no; numbers: number; at most {MAX_INFERRED_LEVELS} different "
    "texts: category) and the import says what each was taken as.",
)


def template_workbook() -> bytes:
    """The .xlsx bytes: one sheet per table with its header row, the dictionary's header,
    and a 'columns' guide."""
    dictionary = data_dictionary()
    book = Workbook()
    book.remove(book.active)
    for table in REGISTRY.tables:
        sheet = book.create_sheet(table)
        sheet.append(dictionary.loc[dictionary["table"] == table, "column"].tolist())
        _bold_header(sheet)
    own = book.create_sheet(DICTIONARY)
    own.append(DICTIONARY_COLUMNS)
    _bold_header(own)
    guide = book.create_sheet(GUIDE_SHEET)
    guide.append(GUIDE_HEADER)
    for row in dictionary[dictionary["table"].isin(REGISTRY.tables)].itertuples(index=False):
        guide.append([row.table, row.column, row.type, _required(row), row.meaning])
    guide.append([])
    for note in GUIDE_NOTES:
        guide.append(["", "", "", "", note])
        guide.cell(guide.max_row, 5).alignment = Alignment(wrap_text=True)
    _bold_header(guide)
    guide.cell(guide.max_row - len(GUIDE_NOTES) + 1, 5).font = Font(bold=True)
    guide.column_dimensions["E"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _required(row) -> str:
    """yes, no, or the column that may stand in for it ("yes, or event_date")."""
    if not row.required:
        return "no"
    if alternative := REGISTRY.alternative(row.table, row.column):
        return f"yes, or {alternative[0]}"
    return "yes"


def _bold_header(sheet) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)
