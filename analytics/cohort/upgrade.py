"""Bring a cohort file written by an earlier version up to this schema version, in place.

Versions 1-3 are the single-limb format (analytics.cohort.single_limb): one row per patient
with one treated limb, and from version 2 a derived summary. An upgrade reads their
imported tables into this version's registry format (people, limbs, their events and
assessments; ``aetiology`` as the file's provenance says, else not recorded) and derives
the summary anew. The file is one the product did not write, so it is only read, through a
hardened connection (analytics.cohort.db.connect_hardened), and its imported tables are
copied, column by column of the single-limb schema, into a new file built from
``data/schema.sql``: the derivation runs on the product's own views, never the file's, and
no view or macro planted in the old file comes along. The new file is built beside the old
one (analytics.cohort.write): a failed upgrade leaves it byte for byte as it was.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from analytics.cohort.db import (
    SCHEMA_PATH,
    SCHEMA_VERSION,
    CohortError,
    connect_hardened,
    schema_tables,
    schema_version,
)
from analytics.cohort.single_limb import (
    SINGLE_LIMB_SCHEMA_PATH,
    SINGLE_LIMB_TABLES,
    aetiology_of,
    from_single_limb,
)
from analytics.cohort.summary import create_summary
from analytics.cohort.write import written_beside

UPGRADABLE = ("1", "2", "3")
IMPORTED_TABLES = ("cohort_metadata", *SINGLE_LIMB_TABLES)
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
        meta = dict(old.execute("SELECT key, value FROM cohort_metadata").fetchall())
        meta["schema_version"] = SCHEMA_VERSION
        new.executemany("INSERT INTO cohort_metadata VALUES (?, ?)", sorted(meta.items()))
        from_single_limb(new, lambda table: _batches(old, table, path), aetiology_of(meta))
        create_summary(new)
    return True


def _require_tables(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The imported tables must be tables: a view of the same name is the file's own SQL."""
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    missing = [t for t in IMPORTED_TABLES if t not in tables]
    if missing:
        raise CohortError(f"{path} is not a cohort file: no table {', '.join(missing)}")


def _batches(old: duckdb.DuckDBPyConnection, table: str, path: Path) -> pa.RecordBatchReader:
    """The single-limb columns of ``table``, in batches so memory stays bounded."""
    columns = ", ".join(f'"{name}"' for name, _ in schema_tables(SINGLE_LIMB_SCHEMA_PATH)[table])
    try:
        return old.sql(f"SELECT {columns} FROM {table}").to_arrow_reader(ROWS_PER_BATCH)
    except duckdb.BinderException as exc:
        raise CohortError(f"{path}: {table} lacks a column of the cohort format ({exc})") from None
