"""A registry's own columns: the extra columns of ``patients`` and ``limbs`` it declares.

A registry may add columns the cohort format does not name (a trial arm, a frailty score).
Each is declared once, by the import's ``dictionary`` sheet or by inference from its
values (analytics.cohort.own_import), as an :class:`OwnColumn`; the cohort file keeps the
declarations in its ``cohort_variables`` table (format 7), so the same file opened later
shows the same labels. :func:`own_variable` makes each one a variable with the roles the
built-in variables of its kind have, in the sidebar section "This registry's variables".

Identifiers come only from validated declarations and reach SQL quoted
(analytics.variables.quoted); values and words are bound parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb

from analytics.rules import MAX_OWN_COLUMNS
from analytics.variables import (
    EVERY_ROLE,
    OWN_SECTION,
    Bands,
    DeclarationError,
    Kind,
    Level,
    Range,
    Registry,
    Role,
    Table1Row,
    Variable,
    quoted,
)

OWN_TABLES = ("patients", "limbs")  # the tables a registry may add columns to
DECLARATIONS_TABLE = "cohort_variables"
# How each kind of own column is stored: the type its cells are validated and kept as.
SQL_TYPES = {
    Kind.YES_NO: "BOOLEAN",
    Kind.CATEGORY: "VARCHAR",
    Kind.ORDERED: "VARCHAR",
    Kind.NUMBER: "DOUBLE",
}
NUMBER_UNIT = "unit"  # a number declared without a unit: its hazard ratio is per 1 unit
# The import's declarations of them (analytics.cohort.own_import): one row per column.
DICTIONARY = "dictionary"  # the sheet, or dictionary.csv beside the tables' CSVs
DICTIONARY_COLUMNS = ("name", "label", "type", "levels", "unit", "bands")
DICTIONARY_REQUIRED = ("name", "type")
KINDS = {str(kind): kind for kind in (Kind.YES_NO, Kind.CATEGORY, Kind.ORDERED, Kind.NUMBER)}
MAX_INFERRED_LEVELS = 12  # a column of more different texts is no category unless declared
LEVEL_SEPARATOR, LABEL_SEPARATOR = "|", "="  # levels "a=Arm A|b=Arm B"; bands "60|75"


@dataclass(frozen=True)
class OwnColumn:
    """One extra column, declared: where it is, how it shows, what its values are.

    ``levels`` are ``(raw, shown)`` pairs in display order (a category, an ordered one);
    ``cuts`` a number's bands (whole numbers, a cut in the band above it); ``low`` and
    ``high`` the whole numbers its values lie within (the filter's range), ``whole``
    whether every value is a whole number; ``inferred`` that the import took its kind
    from its values, with no dictionary row.
    """

    key: str
    table: str
    label: str
    kind: Kind
    levels: tuple[tuple[str, str], ...] = ()
    unit: str = ""
    cuts: tuple[int, ...] = ()
    low: float = 0.0
    high: float = 1.0
    whole: bool = False
    inferred: bool = False

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


def own_variable(column: OwnColumn) -> Variable:
    """The variable of an own column, with the roles its kind has among the built-ins: a
    yes/no or declared category every role (a risk factor, the sex); a number a filter, a
    Table 1 row and a per-unit covariate (BMI), and a grouping and forest row with bands
    (age). Raises DeclarationError for words or levels a variable cannot have."""
    level = Level.PATIENT if column.table == "patients" else Level.LIMB
    common = {"level": level, "section": OWN_SECTION}
    if column.kind is Kind.YES_NO:
        return Variable(
            column.key, column.key, Kind.YES_NO, column.label,
            table1=Table1Row(column.label), roles=EVERY_ROLE, **common,
        )  # fmt: skip
    if column.kind in (Kind.CATEGORY, Kind.ORDERED):
        return Variable(
            column.key, column.key, column.kind, column.label, levels=column.levels,
            table1=Table1Row(column.label, "levels"), roles=EVERY_ROLE, **common,
        )  # fmt: skip
    unit = column.unit or NUMBER_UNIT
    row = ", ".join(filter(None, (column.label, column.unit, "mean ± SD")))
    bands = Bands(f"{column.key}_band", column.label, column.cuts) if column.cuts else None
    roles = (Role.FILTER, Role.TABLE1, Role.COVARIATE)
    return Variable(
        column.key, column.key, Kind.NUMBER, column.label, unit=unit, per=1, bands=bands,
        range=Range(column.key, column.low, column.high, 1 if column.whole else 0.1, column.whole),
        table1=Table1Row(row, "mean_sd_range"),
        roles=(*roles, Role.GROUPING, Role.FOREST) if bands else roles, **common,
    )  # fmt: skip


def data_range(low: float | None, high: float | None) -> tuple[float, float]:
    """The whole numbers a filter's range runs between, around the values ``low`` to
    ``high`` (0 to 1 without values; one wide at least)."""
    if low is None or high is None:
        return 0.0, 1.0
    bottom, top = float(math.floor(low)), float(math.ceil(high))
    return bottom, max(top, bottom + 1)


def write_declarations(con: duckdb.DuckDBPyConnection, columns: tuple[OwnColumn, ...]) -> None:
    """Add the own columns to the file's (still empty) ``patients`` and ``limbs`` and keep
    their declarations in ``cohort_variables``."""
    for column in columns:
        con.execute(f"ALTER TABLE {column.table} ADD COLUMN {quoted(column.key)} {column.sql_type}")
    if not columns:
        return
    con.executemany(
        f"INSERT INTO {DECLARATIONS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                c.key, c.table, position, c.label, str(c.kind),
                [raw for raw, _ in c.levels], [shown for _, shown in c.levels],
                c.unit, list(c.cuts), c.low, c.high, c.whole, c.inferred,
            ]
            for position, c in enumerate(columns, 1)
        ],
    )  # fmt: skip


def read_declarations(con: duckdb.DuckDBPyConnection) -> tuple[OwnColumn, ...]:
    """The file's own columns, in the order declared."""
    rows = con.execute(
        f"SELECT key, source_table, label, kind, levels, level_labels, unit, bands, low, high, "
        f"whole, inferred FROM {DECLARATIONS_TABLE} ORDER BY position"
    ).fetchall()
    return tuple(
        OwnColumn(
            key, table, label, Kind(kind), tuple(zip(levels or (), shown or (), strict=True)),
            unit or "", tuple(cuts or ()), low, high, whole, inferred,
        )
        for key, table, label, kind, levels, shown, unit, cuts, low, high, whole, inferred in rows
    )  # fmt: skip


def extended(base: Registry, columns: tuple[OwnColumn, ...]) -> Registry:
    """``base`` with the own columns' variables after its own; DeclarationError naming the
    variable when one cannot be declared (its words, or a key another claims)."""
    if len(columns) > MAX_OWN_COLUMNS:
        raise DeclarationError(
            f"{len(columns)} own columns, more than the {MAX_OWN_COLUMNS} a registry may add"
        )
    return base.extended(own_variable(column) for column in columns)
