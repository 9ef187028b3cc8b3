"""A problem found in a registry being imported, located as a data manager looks for it.

Shared by the import (analytics.cohort.importer) and the checks of a registry's own
columns (analytics.cohort.own_import): a problem names the file or sheet, the row, the
column, the value found and the rule, each text shown without control characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

SHOWN_PER_RULE = 200  # problems listed per rule; the rest are counted


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the source, located as a data manager would look for it.

    Text read from the source (a file or sheet, a header, a cell) shows each character
    that does not print as its escape (:func:`visible`): a reader sees where it is, and no
    report, screen or terminal receives a control character.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str

    def __post_init__(self) -> None:
        for name in ("file", "column", "value"):
            if (text := getattr(self, name)) is not None:
                object.__setattr__(self, name, visible(text))


def visible(text: str) -> str:
    """``text`` with each character that does not print (a control character, a no-break
    space, a direction mark) written as Python writes its escape: "Centre\\x0b2"."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def query_problems(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    label: str,
    column: str,
    rule: str,
    parameters: list[object] | None = None,
) -> list[Problem]:
    """Problems from a query of (row, value); beyond SHOWN_PER_RULE, one line counts the rest."""
    rows = con.execute(f"SELECT * FROM ({sql}) ORDER BY 1", parameters).fetchall()
    problems = [
        Problem(label, int(row), column, None if value is None else str(value), rule)
        for row, value in rows[:SHOWN_PER_RULE]
    ]
    if len(rows) > SHOWN_PER_RULE:
        more = len(rows) - SHOWN_PER_RULE
        problems.append(Problem(label, None, column, None, f"{rule}: {more} more row(s)"))
    return problems
