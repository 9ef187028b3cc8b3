"""Bring a cohort file written by an earlier version up to this schema version, in place.

Version 2 added only the derived ``patient_summary`` table (analytics.cohort.summary), and
version 3 only the first month of each safety event to it: what was imported does not change,
so an upgrade copies it and derives the summary anew. The file is one the product did not
write, so it is only read, through a hardened connection (analytics.cohort.db.connect_hardened),
and its imported tables are copied, column by column of this version's schema, into a new file
built from ``data/schema.sql``: the derivation runs on the product's own ``time_to_event`` view,
never the file's, and no view or macro planted in the old file comes along. The new file is
built beside the old one (analytics.cohort.write): a failed upgrade leaves it byte for byte as
it was.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from analytics.cohort.db import (
    SCHEMA_PATH,
    SCHEMA_VERSION,
    CohortError,
    connect_hardened,
    expected_columns,
    schema_version,
)
from analytics.cohort.summary import create_summary
from analytics.cohort.write import written_beside

UPGRADABLE = ("1", "2")
IMPORTED_TABLES = ("cohort_metadata", "patients", "assessments", "events")  # keys before references
ROWS_PER_BATCH = 100_000  # rows held in memory at a time while copying


def file_version(path: Path) -> str:
    """The schema version a cohort file says it has; an error if it is not a cohort file."""
    try:
        con = connect_hardened(path)
    except CohortError:
        raise CohortError(f"{path} is not a cohort file (not a readable DuckDB file)") from None
    with con:
        _require_tables(con, path)
        try:
            return schema_version(con)
        except duckdb.Error:
            raise CohortError(
                f"{path} is not a cohort file (no readable cohort_metadata)"
            ) from None


def upgrade(path: Path) -> bool:
    """Upgrade the cohort file at ``path``; False when it is already at this version."""
    path = Path(path)
    if not path.is_file():
        raise CohortError(f"cohort file {path} does not exist")
    version = file_version(path)
    if version == SCHEMA_VERSION:
        return False
    if version not in UPGRADABLE:
        raise CohortError(
            f"cohort file {path} has schema version {version}; only versions "
            f"{', '.join(UPGRADABLE)} can be upgraded to {SCHEMA_VERSION}"
        )
    with (
        written_beside(path) as tmp,
        connect_hardened(path) as old,
        duckdb.connect(str(tmp)) as new,
    ):
        new.execute(SCHEMA_PATH.read_text())
        for table in IMPORTED_TABLES:
            _copy(old, new, table, path)
        create_summary(new)
        new.execute(
            "UPDATE cohort_metadata SET value = ? WHERE key = 'schema_version'", [SCHEMA_VERSION]
        )
    return True


def _require_tables(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The imported tables must be tables: a view of the same name is the file's own SQL."""
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    missing = [t for t in IMPORTED_TABLES if t not in tables]
    if missing:
        raise CohortError(f"{path} is not a cohort file: no table {', '.join(missing)}")


def _copy(
    old: duckdb.DuckDBPyConnection, new: duckdb.DuckDBPyConnection, table: str, path: Path
) -> None:
    """This version's columns of ``table``, in batches so memory stays bounded; the new
    file's constraints check every row."""
    columns = ", ".join(f'"{name}"' for name, _ in expected_columns()[table])
    try:
        batches = old.sql(f"SELECT {columns} FROM {table}").to_arrow_reader(ROWS_PER_BATCH)
    except duckdb.BinderException as exc:
        raise CohortError(f"{path}: {table} lacks a column of the cohort format ({exc})") from None
    new.register("batches", batches)
    new.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM batches")
    new.unregister("batches")
