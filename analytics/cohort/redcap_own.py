"""A REDCap project's own fields: those of the ``patient`` and ``limb`` instruments that the
cohort format does not name, imported as the registry's own columns (analytics.cohort.
own_import) and declared by the project's data dictionary, so nothing is typed twice.

REDCap's field type says the kind: yes/no and true/false a yes/no column; radio and
dropdown a category whose levels are the field's choices (``1, Arm A | 2, Arm B`` as
``1=Arm A|2=Arm B``: the codes stored, the labels shown); a number (text validated as an
integer or a number, a calculated field, a slider) a number. The field's label is the
column's label. Other fields of those instruments are left out, each named in the import's
notes: free text (a comment field says nothing a filter can use), dates (never shown), a
checkbox (several answers: no one column), files, signatures, descriptive text. A field the
format does not know on another instrument (a stent, an event, a visit, a therapy period)
is refused as before: those rows have no columns of a registry's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.cohort.own_columns import DICTIONARY_COLUMNS as OWN_DICTIONARY
from analytics.cohort.own_columns import LABEL_SEPARATOR, LEVEL_SEPARATOR, OWN_TABLES
from analytics.cohort.problems import Problem
from analytics.cohort.redcap_project import (
    INSTRUMENT_OF,
    LABEL,
    NAME,
    TYPE,
    VALIDATION,
    Field,
)

OWN_INSTRUMENTS = {INSTRUMENT_OF[table]: table for table in OWN_TABLES}  # patient, limb
YES_NO_TYPES = ("yesno", "truefalse")
CHOICE_TYPES = ("radio", "dropdown")
NUMBER_TYPES = ("calc", "slider")
NUMBER_VALIDATIONS = ("integer", "number")  # number, number_1dp, number_comma_decimal...
LEFT_OUT = {
    "text": "free text", "notes": "free text", "checkbox": "a checkbox (several answers)",
    "file": "a file", "descriptive": "descriptive text", "sql": "a database query",
    "signature": "a signature",
}  # fmt: skip


@dataclass(frozen=True)
class OwnField:
    """A field of the project's own: how its values fill its column (``field``), its row of
    the registry's dictionary, and its row in the project's data dictionary export."""

    field: Field
    declared: dict[str, str]
    at: int


def own_field(
    values: dict[str, str], number: int, file: str, choices: list[tuple[str, str]]
) -> OwnField | Problem:
    """The unknown field of a ``patient`` or ``limb`` instrument in dictionary row
    ``number`` as a column of the registry's own, or the note saying why it is left out."""
    name, form = values[NAME].strip(), values.get("Form Name", "").strip()
    kind = values.get(TYPE, "").strip()
    validation = values.get(VALIDATION, "").strip()
    label = " ".join(values.get(LABEL, "").split())
    declared = dict.fromkeys(OWN_DICTIONARY, "") | {"name": name, "label": label}
    if kind in YES_NO_TYPES:
        declared["type"] = "yes_no"
    elif kind in CHOICE_TYPES:
        declared["type"] = "category"
        declared["levels"] = LEVEL_SEPARATOR.join(f"{c}{LABEL_SEPARATOR}{t}" for c, t in choices)
    elif kind in NUMBER_TYPES or (kind == "text" and validation.startswith(NUMBER_VALIDATIONS)):
        declared["type"] = "number"
    else:
        what = "a date" if validation.startswith(("date", "time")) else LEFT_OUT.get(kind, kind)
        rule = (
            f"left out: a field of instrument {form} the cohort format does not name, and "
            f"{what}, which no filter or model can use"
        )
        return Problem(file, number, name, None, rule)
    codes = tuple(code for code, _ in choices) if kind in CHOICE_TYPES else ()
    column = Field(
        name, form, OWN_INSTRUMENTS[form], (name,), kind, label, "", validation,
        choices=tuple(choices) if codes else (), codes=codes,
    )  # fmt: skip
    return OwnField(column, declared, number)
