"""The import of a registry's own columns: its dictionary, their names, their kinds.

An extra column of ``patients`` or ``limbs`` is imported as a column of the registry's
own (analytics.cohort.own_columns) when its name can be one: lower-case letters, digits
and _ from a letter (a header is read in lower case), no column or setting of the cohort
format, no SQL word, in one of the two tables only, at most MAX_OWN_COLUMNS in all. The
``dictionary`` sheet (or ``dictionary.csv``) declares it: DICTIONARY_COLUMNS, one row per
column. A column without a row is taken as its values read: all yes/no words, yes/no; all
numbers, a number; at most MAX_INFERRED_LEVELS different texts, a category of them;
anything else is refused. The import lists each column so taken (:func:`inferred_notes`),
so nothing is guessed unsaid.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.cohort.db import SCHEMA_PATH, expected_columns, schema_tables
from analytics.cohort.dictionary import CodedColumn
from analytics.cohort.own_columns import (
    DICTIONARY_COLUMNS,
    DICTIONARY_REQUIRED,
    KINDS,
    LABEL_SEPARATOR,
    LEVEL_SEPARATOR,
    MAX_INFERRED_LEVELS,
    MAX_OWN_COLUMNS,
    OWN_TABLES,
    OwnColumn,
    data_range,
    extended,
    own_variable,
)
from analytics.cohort.problems import Problem, query_problems
from analytics.glossary import FALSE_WORDS, TRUE_WORDS
from analytics.variables import (
    BUILTIN,
    IDENTIFIER,
    RESERVED,
    DeclarationError,
    Kind,
    Registry,
    quoted,
)

ROW = "_row"  # the staged tables' spreadsheet row (analytics.cohort.importer)


@dataclass(frozen=True)
class Declared:
    """One row of the dictionary as written (trimmed), and the row it is on."""

    row: int
    name: str
    label: str
    type: str
    levels: str
    unit: str
    bands: str


def dictionary_rows(
    frame: pd.DataFrame | None, label: str
) -> tuple[dict[str, Declared], list[Problem]]:
    """The dictionary's rows by the column each declares, and what is wrong with it."""
    if frame is None:
        return {}, []
    header = [str(h).strip().casefold() for h in frame.columns]
    known = _listed(DICTIONARY_COLUMNS)
    problems = [
        Problem(label, 1, name, None, f"unknown column: a dictionary has {known}")
        for name in header
        if name not in DICTIONARY_COLUMNS
    ]
    problems += [
        Problem(label, 1, name, None, "required column is missing")
        for name in DICTIONARY_REQUIRED
        if name not in header
    ]
    if problems:
        return {}, problems
    cells = frame.set_axis(header, axis=1).reindex(columns=DICTIONARY_COLUMNS).fillna("")
    rows: dict[str, Declared] = {}
    for number, values in enumerate(cells.itertuples(index=False), 2):
        text = {k: str(v).strip() for k, v in zip(DICTIONARY_COLUMNS, values, strict=True)}
        if not any(text.values()):
            continue
        declared = Declared(number, text["name"].casefold(), text["label"], text["type"].casefold(),
                            text["levels"], text["unit"], text["bands"])  # fmt: skip
        if not declared.name:
            problems.append(Problem(label, number, "name", None, "required: must not be empty"))
        elif declared.name in rows:
            rule = f"declared twice (first on row {rows[declared.name].row}): keep one row"
            problems.append(Problem(label, number, "name", declared.name, rule))
        else:
            rows[declared.name] = declared
    return rows, problems


@functools.cache
def taken_names() -> frozenset[str]:
    """The names an own column cannot have: every column of the cohort format (its tables
    and the summary derived from them), every key a built-in variable or a link claims,
    and DuckDB's SQL words."""
    with duckdb.connect() as con:
        words = con.execute(
            "SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'"
        ).fetchall()
    columns = {c for pairs in expected_columns().values() for c, _ in pairs}
    columns |= {c for pairs in schema_tables(SCHEMA_PATH).values() for c, _ in pairs}
    keys = {name for v in BUILTIN.variables for name in v.names}
    return frozenset(columns | keys | RESERVED | {w for (w,) in words})


def own_names(
    names: dict[str, list[str]],
    rows: dict[str, Declared],
    labels: dict[str, str],
    dictionary_label: str,
) -> tuple[dict[str, tuple[str, ...]], list[Problem]]:
    """The own columns of ``patients`` and ``limbs`` (``names``: each table's headers, read
    in lower case), and each name refused, with why; each dictionary row naming neither."""
    schema = schema_tables(SCHEMA_PATH)
    own = {
        table: tuple(n for n in names.get(table, []) if n not in {c for c, _ in schema[table]})
        for table in OWN_TABLES
    }
    problems = []
    for table, other in (OWN_TABLES, OWN_TABLES[::-1]):
        for name in own[table]:
            if rule := _name_rule(name, own[other], labels[other]):
                problems.append(Problem(labels[table], 1, name, None, rule))
    count = sum(len(found) for found in own.values())
    if count > MAX_OWN_COLUMNS:
        rule = (
            f"{count} columns beyond the cohort format's, more than the {MAX_OWN_COLUMNS} a "
            "registry may add: keep the ones to analyse"
        )
        problems.append(Problem(labels["patients"], 1, None, None, rule))
    held = {name for found in own.values() for name in found}
    problems += [
        Problem(dictionary_label, row.row, "name", name,
                f"declares a column that neither {labels['patients']} nor {labels['limbs']} "
                "holds as a column of its own (the cohort format's columns are not declared)")
        for name, row in rows.items()
        if name not in held
    ]  # fmt: skip
    return own, problems


def _name_rule(name: str, other: tuple[str, ...], other_label: str) -> str | None:
    """Why ``name`` cannot be an own column's, or None."""
    if not IDENTIFIER.fullmatch(name):
        return (
            "unknown column, and not a name a column of the registry's own can have: "
            "lower-case letters, digits and _, starting with a letter, at most 63 characters"
        )
    if name in taken_names():
        return (
            "the name of a column, setting or SQL word of the cohort format, so it cannot "
            "name a column of the registry's own: rename it"
        )
    if name in other:
        return f"also a column of {other_label}: a column of the registry's own is in one table"
    return None


def declare(
    con: duckdb.DuckDBPyConnection,
    own: dict[str, tuple[str, ...]],
    rows: dict[str, Declared],
    labels: dict[str, str],
    dictionary_label: str,
) -> tuple[tuple[OwnColumn, ...], list[Problem]]:
    """Each own column declared (its dictionary row) or taken from its staged text
    (``raw_<table>``, analytics.cohort.importer.stage), and what cannot be declared."""
    columns, problems = [], []
    for table in OWN_TABLES:
        for name in own.get(table, ()):
            seen = _values(con, table, name)
            row = rows.get(name)
            column, rule = (
                _declared(table, name, row, seen) if row else _inferred(table, name, seen)
            )
            where = (dictionary_label, row.row) if row else (labels[table], 1)
            if column is not None:
                try:
                    Registry((own_variable(column),))  # its words and levels, on its own
                except DeclarationError as exc:
                    column, rule = None, f"cannot be shown: {exc}"
            if column is None:
                problems.append(Problem(where[0], where[1], name, None, rule))
            else:
                columns.append(column)
    if not problems:
        try:
            extended(BUILTIN, tuple(columns))
        except DeclarationError as exc:
            problems.append(Problem(dictionary_label, None, None, None, str(exc)))
    return tuple(columns), problems


@dataclass(frozen=True)
class _Seen:
    """What a staged text column holds: its values, how many differ, whether all are
    yes/no words or finite numbers, the numbers' range, and its texts when few."""

    values: int
    distinct: int
    yes_no: bool
    numbers: bool
    whole: bool
    low: float | None
    high: float | None
    texts: tuple[str, ...]


def _values(con: duckdb.DuckDBPyConnection, table: str, name: str) -> _Seen:
    words = sorted(TRUE_WORDS | FALSE_WORDS)
    number = "TRY_CAST(v AS DOUBLE)"
    finite = f"coalesce(isfinite({number}), false)"
    values, distinct, yes_no, numbers, whole, low, high, texts = con.execute(
        f"SELECT count(v), count(DISTINCT v), coalesce(bool_and(list_contains(?, lower(v))), "
        f"false), coalesce(bool_and({finite}), false), "
        f"coalesce(bool_and({number} = round({number})) FILTER (WHERE {finite}), true), "
        f"min({number}) FILTER (WHERE {finite}), max({number}) FILTER (WHERE {finite}), "
        f"CASE WHEN count(DISTINCT v) <= ? THEN list(DISTINCT v ORDER BY v) END "
        f"FROM (SELECT nullif(trim({quoted(name)}), '') AS v FROM raw_{table})",
        [words, MAX_INFERRED_LEVELS],
    ).fetchall()[0]
    return _Seen(values, distinct, yes_no, numbers, whole, low, high, tuple(texts or ()))


def _inferred(table: str, name: str, seen: _Seen) -> tuple[OwnColumn | None, str]:
    """The column as its values read; None and why where they say nothing."""
    label = name.replace("_", " ").capitalize()
    if not seen.values:
        return None, (
            "not in the dictionary and empty, so its kind cannot be read from its values: "
            "declare it in the dictionary, or remove the column"
        )
    if seen.yes_no:
        return OwnColumn(name, table, label, Kind.YES_NO, inferred=True), ""
    if seen.numbers:
        low, high = data_range(seen.low, seen.high)
        return OwnColumn(name, table, label, Kind.NUMBER, low=low, high=high, whole=seen.whole,
                         inferred=True), ""  # fmt: skip
    if seen.texts:
        levels = tuple((text, text) for text in seen.texts)
        return OwnColumn(name, table, label, Kind.CATEGORY, levels, inferred=True), ""
    return None, (
        f"not in the dictionary, and its {seen.distinct:,} different texts are neither yes/no, "
        f"numbers nor at most {MAX_INFERRED_LEVELS} categories: declare it in the dictionary "
        "(type category with its levels), or remove the column"
    )


def _declared(table: str, name: str, row: Declared, seen: _Seen) -> tuple[OwnColumn | None, str]:
    """The column as its dictionary row declares it; None and why the row cannot."""
    kind = KINDS.get(row.type)
    if kind is None:
        return None, f"type must be {_listed(tuple(KINDS))} (found '{row.type}')"
    label = row.label or name.replace("_", " ").capitalize()
    coded = kind in (Kind.CATEGORY, Kind.ORDERED)
    if coded != bool(row.levels):
        return None, (
            "a category or ordered one lists its levels (code=label|code=label)"
            if coded else f"a {kind} has no levels"
        )  # fmt: skip
    if kind is not Kind.NUMBER and (row.unit or row.bands):
        return None, "only a number has a unit or bands"
    if coded:
        levels = tuple(_level(item) for item in row.levels.split(LEVEL_SEPARATOR))
        return OwnColumn(name, table, label, kind, levels), ""
    if kind is Kind.YES_NO:
        return OwnColumn(name, table, label, kind), ""
    try:
        cuts = tuple(int(cut) for cut in row.bands.split(LEVEL_SEPARATOR)) if row.bands else ()
    except ValueError:
        return None, f"bands are whole numbers separated by {LEVEL_SEPARATOR} (found '{row.bands}')"
    low, high = data_range(seen.low, seen.high)
    return OwnColumn(name, table, label, kind, (), row.unit, cuts, low, high, seen.whole), ""


def _level(item: str) -> tuple[str, str]:
    """``code=label`` (or a bare code, shown as written) as (code, label)."""
    code, _, shown = item.partition(LABEL_SEPARATOR)
    return code.strip(), shown.strip() or code.strip()


def own_coded(columns: tuple[OwnColumn, ...]) -> dict[tuple[str, str], CodedColumn]:
    """The own categories as coded columns: a cell may give a code or its label, any case."""
    return {
        (c.table, c.key): CodedColumn(
            c.table, c.key, tuple(raw for raw, _ in c.levels),
            {spelling.lower(): raw for raw, shown in c.levels for spelling in (raw, shown)},
        )
        for c in columns
        if c.levels
    }  # fmt: skip


def level_problems(
    con: duckdb.DuckDBPyConnection, columns: tuple[OwnColumn, ...], labels: dict[str, str]
) -> list[Problem]:
    """Each cell of an own category that is none of its levels (``typed_<table>`` as the
    import cast it: a label or another case read as its code)."""
    problems = []
    for coded in own_coded(columns).values():
        name = quoted(coded.column)
        problems += query_problems(
            con,
            f"SELECT r.{ROW}, r.{name} FROM raw_{coded.table} AS r JOIN typed_{coded.table} "
            f"AS t USING ({ROW}) WHERE t.{name} IS NOT NULL AND NOT list_contains(?, t.{name})",
            labels[coded.table], coded.column, coded.rule(), [list(coded.codes)],
        )  # fmt: skip
    return problems


def inferred_notes(columns: tuple[OwnColumn, ...], labels: dict[str, str]) -> tuple[Problem, ...]:
    """A line of the import report for each column taken from its values: what it was taken
    as, and that a dictionary row would say otherwise."""
    return tuple(
        Problem(labels[c.table], None, c.key, None,
                f"not in the dictionary: taken as {_kind_words(c)}; declare it in the "
                "dictionary to name its label, type and levels")
        for c in columns
        if c.inferred
    )  # fmt: skip


def _kind_words(column: OwnColumn) -> str:
    if column.kind is Kind.YES_NO:
        return "yes/no"
    if column.kind is Kind.NUMBER:
        return f"a number ({column.low:g} to {column.high:g})"
    return f"a category of {_listed(tuple(raw for raw, _ in column.levels))}"


def _listed(words: tuple[str, ...]) -> str:
    *first, last = words
    return f"{', '.join(first)} or {last}" if first else last
