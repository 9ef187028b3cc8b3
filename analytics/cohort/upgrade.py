"""Bring a cohort file written by an earlier version up to this schema version, in place.

Versions 1-3 are the single-limb format (analytics.cohort.single_limb): one row per patient
with one treated limb, and from version 2 a derived summary. An upgrade reads their
imported tables into this version's registry format (people, limbs, their events and
assessments; ``aetiology`` as the file's provenance says, else not recorded) and derives
the summary anew. Versions 4 to 6 are the registry format, 4 without the columns a later
version added (ADDED_COLUMNS: the limb's ``last_contact_date`` in 5): their tables are
copied as they are, those columns left empty (a file of version 4 never held them), and
the summary derived anew (version 6 changed only the summary: its coded text columns
stored as ENUMs, analytics.cohort.summary.CODED_COLUMNS; version 7 added the registry's
own columns, which an earlier file never held: it upgrades with none). The file is one
the product did not write, so it is only read, through a hardened connection
(analytics.cohort.db.connect_hardened), and its imported tables are copied, column by
column of the schema of its version, into a new file built from ``data/schema.sql``: the
derivation runs on the product's own views, never the file's, and no view or macro
planted in the old file comes along. The new file is built beside the old one
(analytics.cohort.write): a failed upgrade leaves it byte for byte as it was.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from analytics.cohort.db import (
    COHORT_TABLES,
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
from analytics.cohort.summary import SUMMARY_TABLE, create_summary
from analytics.cohort.write import written_beside

SINGLE_LIMB_VERSIONS = ("1", "2", "3")
UPGRADABLE = (*SINGLE_LIMB_VERSIONS, "4", "5", "6")
IMPORTED_TABLES = ("cohort_metadata", *SINGLE_LIMB_TABLES)
# The registry format's tables (patients before what names them), and the columns each
# version after 4 added to them: (version, table, column). An earlier file lacks them.
# The file's own columns (format 7) come only with an import: an earlier file has none.
REGISTRY_TABLES = tuple(
    t for t in COHORT_TABLES if t not in ("cohort_metadata", "cohort_variables", SUMMARY_TABLE)
)
ADDED_COLUMNS = (("5", "limbs", "last_contact_date"),)
ROWS_PER_BATCH = 100_000  # rows held in memory at a time while copying


def file_version(path: Path) -> str:
    """The schema version a cohort file says it has; an error if it is not a cohort file."""
    try:
        con = connect_hardened(path)
    except CohortError:
        raise CohortError(f"{path} is not a cohort file (not a readable DuckDB file)") from None
    with con:
        _require(con, path, IMPORTED_TABLES)
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
        if version in SINGLE_LIMB_VERSIONS:
            from_single_limb(
                new,
                lambda table: _batches(old, table, _single_limb_columns(table), path),
                aetiology_of(meta),
            )
        else:
            _copy_registry(old, new, version, path)
        create_summary(new)
    return True


def _registry_columns(version: str, table: str) -> tuple[str, ...]:
    """The columns of registry ``table`` in a file of ``version`` (4 or later): this
    version's, less those a later version added."""
    added = {c for since, t, c in ADDED_COLUMNS if t == table and int(since) > int(version)}
    return tuple(c for c, _ in schema_tables(SCHEMA_PATH)[table] if c not in added)


def _copy_registry(
    old: duckdb.DuckDBPyConnection, new: duckdb.DuckDBPyConnection, version: str, path: Path
) -> None:
    """Copy a registry-format file's imported tables, a batch at a time, into ``new``'s; the
    columns it cannot hold stay empty, and the schema's constraints check every row."""
    _require(old, path, REGISTRY_TABLES)
    for table in REGISTRY_TABLES:
        columns = _registry_columns(version, table)
        new.register("registry_rows", _batches(old, table, columns, path))
        names = ", ".join(f'"{name}"' for name in columns)
        new.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM registry_rows")
        new.unregister("registry_rows")


def _require(con: duckdb.DuckDBPyConnection, path: Path, names: tuple[str, ...]) -> None:
    """The imported tables must be tables: a view of the same name is the file's own SQL."""
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    missing = [t for t in names if t not in tables]
    if missing:
        raise CohortError(f"{path} is not a cohort file: no table {', '.join(missing)}")


def _single_limb_columns(table: str) -> tuple[str, ...]:
    return tuple(name for name, _ in schema_tables(SINGLE_LIMB_SCHEMA_PATH)[table])


def _batches(
    old: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], path: Path
) -> pa.RecordBatchReader:
    """``columns`` of ``table``, in batches so memory stays bounded."""
    names = ", ".join(f'"{name}"' for name in columns)
    try:
        return old.sql(f"SELECT {names} FROM {table}").to_arrow_reader(ROWS_PER_BATCH)
    except duckdb.BinderException as exc:
        raise CohortError(f"{path}: {table} lacks a column of the cohort format ({exc})") from None
