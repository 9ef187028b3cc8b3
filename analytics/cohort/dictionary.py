"""The data dictionary, read from the comments in ``data/schema.sql``.

The schema is the one place a column's meaning is written; the README's
dictionary (docs/data-dictionary.md) and the dashboard's Data page both render it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from analytics.cohort.db import SCHEMA_PATH
from analytics.cohort.own_columns import (
    DICTIONARY,
    DICTIONARY_COLUMNS,
    DICTIONARY_REQUIRED,
    KINDS,
    LABEL_SEPARATOR,
    LEVEL_SEPARATOR,
    MAX_INFERRED_LEVELS,
)
from analytics.rules import MAX_OWN_COLUMNS

DICTIONARY_TABLES = (
    "patients", "limbs", "stents", "events", "assessments", "antithrombotic", "cohort_metadata",
    "cohort_variables", "limb_clock", "time_to_event",
)  # fmt: skip

# What a clinician types for a code of data/schema.sql (or of the single-limb layout's
# schema, its ``patients``), beside the code itself. The codes come from the schema's
# CHECK (column IN (...)); these synonyms are declared here only.
# Any case and surrounding spaces are accepted for both, and a space for an underscore.
SYNONYMS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("patients", "sex"): {"F": ("female",), "M": ("male",)},
    ("patients", "lesion_side"): {"left": ("L",), "right": ("R",)},
    ("patients", "access_vein"): {"small_saphenous": ("SSV",)},
    ("events", "event"): {"recurrent_dvt": ("DVT",), "pulmonary_embolism": ("PE",)},
    ("limbs", "side"): {"left": ("L",), "right": ("R",)},
    ("limbs", "access_vein"): {"small_saphenous": ("SSV",)},
    ("limbs", "aetiology"): {
        "post_thrombotic": ("PTS", "chronic", "post-thrombotic"),
        "non_thrombotic": ("NIVL", "non-thrombotic", "compression"),
        "acute_thrombotic": ("acute", "acute DVT"),
        "not_recorded": ("unknown",),
    },
    ("stents", "design"): {"laser_cut": ("laser-cut", "nitinol")},
    ("antithrombotic", "agent"): {
        "vka": ("warfarin",),
        "dual_antiplatelet": ("DAPT",),
        "antiplatelet": ("SAPT", "aspirin"),
    },
}
# The schema's CHECKs across columns in words, by (table, expression as DuckDB holds it),
# of data/schema.sql and of the single-limb layout's data/schema_single_limb.sql (its
# ``patients`` rules, which the import of that layout words); a test checks every one has
# words. The data dictionary lists data/schema.sql's under their table and the import
# words a refusal with them.
CROSS_COLUMN_RULES: dict[tuple[str, str], str] = {
    ("patients", "(seg_ivc OR seg_civ OR seg_eiv OR seg_cfv)"):
        "a lesion involves at least one segment: seg_ivc, seg_civ, seg_eiv or seg_cfv is true",
    ("patients", "(NOT (seg_ivc AND (NOT seg_civ) AND (seg_eiv OR seg_cfv)))"):
        "involved segments are contiguous (IVC, CIV, EIV, CFV from central to peripheral): "
        "with seg_ivc and seg_eiv or seg_cfv, seg_civ is true",
    ("patients", "(NOT (seg_civ AND (NOT seg_eiv) AND seg_cfv))"):
        "involved segments are contiguous (IVC, CIV, EIV, CFV from central to peripheral): "
        "with seg_civ and seg_cfv, seg_eiv is true",
    ("patients", "((stents IS NULL) OR (NOT technical_success) OR (stents >= 1))"):
        "stents is at least 1 when technical_success is true (no success without a stent)",
    ("limbs", "(seg_ivc OR seg_civ OR seg_eiv OR seg_cfv)"):
        "a lesion involves at least one segment: seg_ivc, seg_civ, seg_eiv or seg_cfv is true",
    ("limbs", "(NOT (seg_ivc AND (NOT seg_civ) AND (seg_eiv OR seg_cfv)))"):
        "involved segments are contiguous (IVC, CIV, EIV, CFV from central to peripheral): "
        "with seg_ivc and seg_eiv or seg_cfv, seg_civ is true",
    ("limbs", "(NOT (seg_civ AND (NOT seg_eiv) AND seg_cfv))"):
        "involved segments are contiguous (IVC, CIV, EIV, CFV from central to peripheral): "
        "with seg_civ and seg_cfv, seg_eiv is true",
    ("limbs", "((stents IS NULL) OR (NOT technical_success) OR (stents >= 1))"):
        "stents is at least 1 when technical_success is true (no success without a stent)",
    ("limbs", "((last_contact_date IS NULL) OR (last_contact_date >= procedure_date))"):
        "last_contact_date is on or after procedure_date: the last contact is not before the "
        "procedure",
    ("events", "((limb_id IS NULL) = (\"event\" IN ('recurrent_dvt', 'pulmonary_embolism', "
     "'minor_bleeding', 'major_bleeding', 'death')))"):
        "a limb event (restenosis to ulcer_recurred) names its limb_id; a patient event "
        "(recurrent_dvt, pulmonary_embolism, minor_bleeding, major_bleeding, death) leaves "
        "limb_id empty",
    ("events", "((\"event\" = 'reintervention') OR ((reintervention_type IS NULL) AND "
     "(indication IS NULL) AND (target_lesion IS NULL)))"):
        "only a reintervention has a reintervention_type, an indication and a target_lesion",
    ("antithrombotic", "((end_month IS NULL) OR (end_month >= start_month))"):
        "a period ends (end_month) no earlier than it starts (start_month)",
}  # fmt: skip
CODES = re.compile(r"""^\("?(\w+)"? IN \((.*)\)\)$""")  # DuckDB's text of a CHECK (c IN (...))
QUOTED = re.compile(r"'((?:[^']|'')*)'")


@dataclass(frozen=True)
class CodedColumn:
    """A column whose values are codes: the schema's codes, and every spelling accepted.

    ``spellings`` maps each accepted spelling, folded (trimmed, lower case), to its code.
    """

    table: str
    column: str
    codes: tuple[str, ...]
    spellings: dict[str, str]

    def accepted(self) -> str:
        """The spellings accepted beside the codes, in words: "any case; female for F"."""
        synonyms = SYNONYMS.get((self.table, self.column), {})
        words = ["any case"]
        if any("_" in code for code in self.codes):
            words.append("a space for an underscore")
        words += [f"{', '.join(s)} for {code}" for code, s in synonyms.items()]
        return "; ".join(words)

    def rule(self) -> str:
        """The refusal of a value that is none of them: "lesion_side must be left or right"."""
        *first, last = self.codes
        codes = f"{', '.join(first)} or {last}" if first else last
        return f"{self.column} must be {codes} (also accepted: {self.accepted()})"


@functools.cache
def coded_columns(schema: Path = SCHEMA_PATH) -> dict[tuple[str, str], CodedColumn]:
    """Every coded column of ``schema`` by (table, column), its codes in the schema's order."""
    with schema_connection(schema) as con:
        checks = con.execute(
            "SELECT table_name, expression FROM duckdb_constraints() "
            "WHERE constraint_type = 'CHECK' ORDER BY table_name, constraint_index"
        ).fetchall()
    coded = {}
    for table, expression in checks:
        if match := CODES.fullmatch(expression):
            column = match[1]
            codes = tuple(code.replace("''", "'") for code in QUOTED.findall(match[2]))
            synonyms = SYNONYMS.get((table, column), {})
            spellings = {
                folded.lower(): code
                for code in codes
                for folded in (code, code.replace("_", " "), *synonyms.get(code, ()))
            }
            coded[table, column] = CodedColumn(table, column, codes, spellings)
    return coded


def schema_connection(schema: Path = SCHEMA_PATH) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(schema.read_text())
    return con


def data_dictionary() -> pd.DataFrame:
    """One row per column: table, column, type, required, meaning (a coded column's
    meaning ends with the spellings accepted beside its codes)."""
    with schema_connection() as con:
        frame = con.execute(
            """
            SELECT table_name AS "table", column_name AS "column", data_type AS type,
                   NOT is_nullable AS required, coalesce(comment, '') AS meaning
            FROM duckdb_columns()
            WHERE schema_name = 'main' AND list_contains(?, table_name)
            ORDER BY list_position(?, table_name), column_index
            """,
            [list(DICTIONARY_TABLES), list(DICTIONARY_TABLES)],
        ).df()
    for (table, column), coded in coded_columns().items():
        at = (frame["table"] == table) & (frame["column"] == column)
        frame.loc[at, "meaning"] += f" Also accepted: {coded.accepted()}."
    return frame


def table_descriptions() -> dict[str, str]:
    """Each table's (or view's) purpose, from its COMMENT ON TABLE, and its rules across
    columns (CROSS_COLUMN_RULES)."""
    with schema_connection() as con:
        rows = con.execute(
            """
            SELECT table_name, coalesce(comment, '') FROM duckdb_tables() WHERE schema_name = 'main'
            UNION ALL
            SELECT view_name, coalesce(comment, '') FROM duckdb_views() WHERE schema_name = 'main'
            """
        ).fetchall()
        checks = set(
            con.execute(
                "SELECT table_name, expression FROM duckdb_constraints() "
                "WHERE constraint_type = 'CHECK'"
            ).fetchall()
        )
    descriptions = dict(rows)
    for table in descriptions:
        rules = [
            words
            for (t, expression), words in CROSS_COLUMN_RULES.items()
            if t == table and (t, expression) in checks
        ]
        if rules:
            descriptions[table] += f" Rules across columns: {'; '.join(rules)}."
    return descriptions


def _own_columns_lines() -> list[str]:
    """How a registry declares its own columns (analytics.cohort.own_import), in words."""
    columns = ", ".join(f"`{c}`" for c in DICTIONARY_COLUMNS)
    return [
        "## The registry's own columns: the `dictionary` sheet",
        "",
        f"`patients` and `limbs` may hold up to {MAX_OWN_COLUMNS} columns the format does not "
        "name (a trial arm, a frailty score): named with lower-case letters, digits and `_` "
        "from a letter, not a column, setting or SQL word of the format, each in one of the "
        f"two tables. A `{DICTIONARY}` sheet (or `{DICTIONARY}.csv` beside the CSVs) declares "
        f"them, one row per column, with the columns {columns} "
        f"({' and '.join(f'`{c}`' for c in DICTIONARY_REQUIRED)} required): `type` is "
        f"{', '.join(f'`{k}`' for k in KINDS)}; `levels` a category's codes and labels in "
        f"order, `code{LABEL_SEPARATOR}label{LEVEL_SEPARATOR}code{LABEL_SEPARATOR}label` "
        "(a cell may give a code or its label, any case); `unit` and `bands` (cuts, "
        f"`60{LEVEL_SEPARATOR}75`) a number's. A column without a row is taken from its "
        "values: all yes/no words `yes_no`, all numbers `number`, at most "
        f"{MAX_INFERRED_LEVELS} different texts `category`, anything else refused; the import "
        "lists each column so taken. The file keeps the declarations in `cohort_variables`.",
    ]


def dictionary_markdown() -> str:
    """The dictionary as Markdown, the text of docs/data-dictionary.md."""
    descriptions = table_descriptions()
    frame = data_dictionary()
    lines = [
        "# Data dictionary: the cohort file format",
        "",
        "Generated from the comments in `data/schema.sql` by "
        "`python -m analytics dictionary`; do not edit by hand.",
        "A department's registry is imported in this format: one CSV per table, "
        "the column names below as headers, booleans as true/false, dates as YYYY-MM-DD.",
        "`patients` and `limbs` need rows; `events` and `assessments` may be empty; `stents` "
        "and `antithrombotic` may be left out. A time may be given as its month or as its "
        "date (`event_date`, `assessment_date`, `start_date`, `end_date`; a limb's follow-up as "
        "`follow_up_months` or `last_contact_date`), converted to months after the procedure; "
        "a limb event's `patient_id` may be left empty.",
        "",
        *_own_columns_lines(),
    ]
    for table in DICTIONARY_TABLES:
        lines += ["", f"## `{table}`", "", descriptions.get(table, ""), ""]
        lines += ["| column | type | required | meaning |", "|---|---|---|---|"]
        for row in frame[frame["table"] == table].itertuples():
            required = "yes" if row.required else "no"
            lines.append(f"| `{row.column}` | {row.type} | {required} | {row.meaning} |")
    return "\n".join(lines) + "\n"
