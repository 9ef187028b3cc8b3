"""Subgroup splits: an SQL expression per grouping key, built from its declaration.

A user names a grouping by key (``--by thrombophilia``, a dashboard select box); the
expression is built from the variable's declaration (analytics.variables): its quoted,
validated column and the literals of its declared levels or cuts, never the user's text.
Most expressions give a small code (a boolean, a band number), which groups fastest;
:func:`decode` turns the codes DuckDB returns into the group's raw value (``yes``, ``F``,
``< 60``), which JSON and links keep and analytics.present.format shows in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from analytics.cohort.summary import SUMMARY_TABLE
from analytics.variables import (
    BUILTIN,
    NO,
    YES,
    FilterError,
    Kind,
    Registry,
    Variable,
    quoted,
)


@dataclass(frozen=True)
class Grouping:
    """How to split by one key: an SQL expression and, for a coded one, each code's value.

    ``values[code]`` is the raw value of a code (a boolean counts as 0 or 1); without
    ``values`` the expression gives the raw value itself (a centre's label). ``boolean``:
    the expression is a boolean (a yes/no column or one comparison), not an integer code.
    ``columns``: the columns it reads, where it is NULL exactly where one of them is (None
    where a value outside the declared levels is NULL too), so that a file's statistics of
    those columns tell whether every row has a code.
    """

    sql: str
    values: tuple[str, ...] | None = None
    boolean: bool = False
    columns: tuple[str, ...] | None = None

    def is_code(self, code: int) -> str:
        """SQL true where a row's code is ``code``; a boolean read as it is, without a
        cast and a comparison per row."""
        if self.boolean and code in (0, 1):
            return f"({self.sql})" if code else f"NOT ({self.sql})"
        return f"({self.sql})::INT = {code}"


def literal(text: str) -> str:
    """A declared level as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def grouping(key: str, variables: Registry = BUILTIN) -> Grouping:
    """The split for a grouping key; an unknown key is an error naming it."""
    try:
        variable = variables.grouped(key)
    except KeyError:
        known = ", ".join(variables.groupings())
        raise FilterError(f"cannot group by {key!r}; choose one of {known}") from None
    return _split(variable, variables)


def _split(variable: Variable, variables: Registry) -> Grouping:
    """By kind: a yes/no column as it is; two declared levels as a comparison (true: the
    second), more as a CASE (a value outside them: no group); a centre's raw value; bands
    as a CASE, or one right-closed cut as a comparison; a segment set as the bit mask of
    its members (the first 1, the next 2, ...), each mask's pattern its members' labels."""
    if variable.kind is Kind.SEGMENT_SET:
        return segment_mask(variable, variables)
    column, own = quoted(variable.column), (variable.column,)
    if variable.kind is Kind.YES_NO:
        return Grouping(column, (NO, YES), boolean=True, columns=own)
    if variable.bands:
        cuts = variable.bands.cuts
        if variable.bands.closed == "right":
            above = f"{column} > {cuts[0]}"
            return Grouping(above, variable.bands.levels, boolean=True, columns=own)
        band = _case(column, [f"< {cut}" for cut in cuts])  # NULL only where the value is
        return Grouping(band, variable.bands.levels, columns=own)
    levels = variable.level_order
    if not levels:
        return Grouping(column)
    if len(levels) == 2:
        second = f"{column} = {literal(levels[1])}"
        return Grouping(second, levels, boolean=True, columns=own)
    return Grouping(_case(column, [f"= {literal(level)}" for level in levels], last=False), levels)


def segment_mask(variable: Variable, variables: Registry = BUILTIN) -> Grouping:
    """A segment set as the bit mask of its yes/no members (the first 1, the next 2, ...),
    each mask's pattern (segment_patterns). The one mask the segment-pattern grouping, its
    filter (analytics.filters) and Table 1 read."""
    members = [variables.get(member) for member in variable.members]
    mask = " + ".join(f"{2**i} * {quoted(m.column)}::INT" for i, m in enumerate(members))
    columns = tuple(m.column for m in members)
    return Grouping(mask, segment_patterns(variable, variables), columns=columns)


def segment_patterns(variable: Variable, variables: Registry = BUILTIN) -> tuple[str, ...]:
    """A segment set's pattern of each bit mask of its members (the first 1, the next 2,
    ...): the labels of the members it holds, joined by "+" ("CIV+EIV")."""
    labels = [variables.get(member).label for member in variable.members]
    return tuple(
        "+".join(label for i, label in enumerate(labels) if code >> i & 1)
        for code in range(2 ** len(labels))
    )


def _case(column: str, tests: list[str], last: bool = True) -> str:
    """Code i where the i-th test first holds; with ``last``, code len(tests) for any other
    value that is not NULL (the band above the last cut)."""
    whens = [f"WHEN {column} {test} THEN {code}" for code, test in enumerate(tests)]
    if last:
        whens.append(f"WHEN {column} IS NOT NULL THEN {len(tests)}")
    return f"CASE {' '.join(whens)} END"


def decode(key: str, codes: np.ndarray, variables: Registry = BUILTIN) -> np.ndarray:
    """The raw group values (text) of the codes DuckDB returned for ``key``."""
    values = grouping(key, variables).values
    codes = np.asarray(codes)
    if values is None:
        return codes.astype(str)
    return np.asarray(values)[codes.astype(int)]


def order_levels(key: str | None, levels: list[str], variables: Registry = BUILTIN) -> list[str]:
    """Levels in display order; the first is the reference for hazard ratios.

    Booleans put 'no' first, so a hazard ratio reads as 'with the factor vs without';
    a declared order comes next (bands, a category's levels); the rest sort alphabetically.
    """
    if set(levels) <= {NO, YES}:
        wanted: tuple[str, ...] = (NO, YES)
    else:
        try:
            wanted = variables.grouped(key or "").level_order
        except KeyError:
            wanted = ()
    known = [level for level in wanted if level in levels]
    return known + sorted(level for level in levels if level not in known)


def data_levels(
    con: duckdb.DuckDBPyConnection, variables: Registry
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The levels the data holds of each category of ``variables`` that declares none (the
    centres, the stent brands), as ``(key, levels)`` pairs, each sorted: what the sidebar
    offers and a link may name. Read from the limb summary, which holds a patient's columns
    and a limb's."""
    found = []
    for variable in variables.variables:
        if variable.kind is Kind.CATEGORY and not variable.levels and variable.column:
            column = quoted(variable.column)
            rows = con.execute(
                f"SELECT DISTINCT {column} FROM {SUMMARY_TABLE} WHERE {column} IS NOT NULL "
                "ORDER BY 1"
            ).fetchall()
            found.append((variable.key, tuple(row[0] for row in rows)))
    return tuple(found)
