"""The data dictionary, read from the comments in ``data/schema.sql``.

The schema is the one place a column's meaning is written; the README's
dictionary (docs/data-dictionary.md) and the dashboard's Data page both render it.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.cohort.db import SCHEMA_PATH

DICTIONARY_TABLES = ("patients", "assessments", "events", "cohort_metadata", "time_to_event")


def _schema_connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(SCHEMA_PATH.read_text())
    return con


def data_dictionary() -> pd.DataFrame:
    """One row per column: table, column, type, required, meaning."""
    with _schema_connection() as con:
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
    return frame


def table_descriptions() -> dict[str, str]:
    """Each table's (or view's) purpose, from its COMMENT ON TABLE."""
    with _schema_connection() as con:
        rows = con.execute(
            """
            SELECT table_name, coalesce(comment, '') FROM duckdb_tables() WHERE schema_name = 'main'
            UNION ALL
            SELECT view_name, coalesce(comment, '') FROM duckdb_views() WHERE schema_name = 'main'
            """
        ).fetchall()
    return dict(rows)


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
    ]
    for table in DICTIONARY_TABLES:
        lines += ["", f"## `{table}`", "", descriptions.get(table, ""), ""]
        lines += ["| column | type | required | meaning |", "|---|---|---|---|"]
        for row in frame[frame["table"] == table].itertuples():
            required = "yes" if row.required else "no"
            lines.append(f"| `{row.column}` | {row.type} | {required} | {row.meaning} |")
    return "\n".join(lines) + "\n"
