"""Open a cohort file: read-only, hardened, and checked to be in the cohort format.

Every reader (dashboard, command line, tests) goes through :func:`open_cohort`, so
a missing, corrupt or foreign file fails in one place with one clear message.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import duckdb

from analytics.cohort.own_columns import OWN_TABLES, OwnColumn, extended, read_declarations
from analytics.cohort.summary import SUMMARY_TABLE, create_summary, summary_problem
from analytics.variables import BUILTIN, Registry

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "data" / "schema.sql"
DEMO_SOURCE = ROOT / "data" / "demo"
DEFAULT_DB = ROOT / "data" / "cohort.duckdb"
SCHEMA_VERSION = "7"  # 2: the derived summary; 3: its first event months; 4: people and limbs;
# 5: the limb's last contact as a date; 6: the summary's coded text columns as ENUMs;
# 7: the registry's own columns and their declarations (cohort_variables)
COHORT_TABLES = (
    "patients",
    "limbs",
    "stents",
    "events",
    "assessments",
    "antithrombotic",
    "cohort_metadata",
    "cohort_variables",
    "limb_summary",
)

# Read-only, no file system access beyond the cohort file itself, no extension
# loading, and the settings frozen, so no query can read other files or loosen this.
HARDENED_CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "lock_configuration": True,
}
# DuckDB's file header and its two database headers, before the first block.
FILE_HEADERS_BYTES = 3 * 4096
NUMBER_TYPES = ("DOUBLE", "FLOAT")  # the types that can hold NaN or infinity


class CohortError(Exception):
    """A cohort file that cannot be used, with a message naming the file and the problem."""


def default_db_path() -> Path:
    """The cohort the dashboard and CLI open when none is named: $COHORT_DB or the demo."""
    return Path(os.environ.get("COHORT_DB") or DEFAULT_DB)


def open_cohort(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open a cohort file read-only and hardened, after checking it is one."""
    path = Path(path)
    if not path.is_file():
        raise CohortError(f"cohort file {path} does not exist")
    if path.stat().st_size == 0:
        raise CohortError(f"cohort file {path} is empty")
    con = connect_hardened(path)
    try:
        check_cohort_format(con, path)
    except CohortError:
        con.close()
        raise
    return con


def cohort_variables(con: duckdb.DuckDBPyConnection) -> Registry:
    """The variables an open cohort can be filtered, grouped and adjusted by: the built-ins
    extended by the file's own columns (its ``cohort_variables`` table, format 7), which
    :func:`open_cohort` has checked. Every reader of a cohort takes its variables from here.
    """
    return extended(BUILTIN, read_declarations(con))


def connect_hardened(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that can reach nothing but ``path``: the one way the product
    opens a database file it did not write (the dashboard, the CLI, an upgrade's source),
    so no view or macro planted in the file can read, write or fetch anything else."""
    try:
        return duckdb.connect(str(path), read_only=True, config=HARDENED_CONFIG)
    except duckdb.Error as exc:
        raise CohortError(
            f"cohort file {path} is not a readable DuckDB file ({_first_line(exc)})"
        ) from None


def check_cohort_format(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a file that is not a whole cohort of this version, consistent with itself.

    The checks are cheap, so a million patients still open in well under a second: the
    cohort tables with this version's columns and types, the file as long as its blocks
    need, ``patient_summary`` holding the same patients as ``patients`` (row counts and
    an order-free checksum of the ids) and only finite numbers, and the registry's own
    columns exactly as ``cohort_variables`` declares them (:func:`_check_own_columns`).
    They catch corruption and careless edits, not a forger, who can rewrite the summary
    consistently.
    """
    try:
        _check_tables(con, path)
        _check_length(con, path)
        _check_columns(con, path)
        own = _check_own_columns(con, path)
        numbers = [c for c, kind in expected_columns()[SUMMARY_TABLE] if kind in NUMBER_TYPES]
        numbers += [c.key for c in own if c.sql_type in NUMBER_TYPES]
        problem = summary_problem(con, numbers)
    except duckdb.Error as exc:
        raise CohortError(f"cohort file {path} is damaged ({_first_line(exc)})") from None
    if problem:
        raise CohortError(
            f"cohort file {path} is damaged or was edited: {problem}; write it again from "
            "its source (import, build-demo or synth)"
        )


def _check_tables(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    present = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall()
    }
    if "cohort_metadata" in present:
        _check_version(con, path)
    missing = [t for t in COHORT_TABLES if t not in present]
    if missing:
        raise CohortError(f"cohort file {path} is not in the cohort format: missing {missing}")


def _check_length(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A file cut short (an interrupted copy) may still open: its blocks say how long it is."""
    block_size, blocks = con.execute(
        "SELECT block_size, total_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()"
    ).fetchall()[0]
    needed, size = FILE_HEADERS_BYTES + block_size * blocks, path.stat().st_size
    if size < needed:
        raise CohortError(
            f"cohort file {path} is truncated: {size:,} bytes of the {needed:,} its blocks need"
        )


def _check_columns(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    found = {
        (table, column): kind
        for table, column, kind in con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'main'"
        ).fetchall()
    }
    for table, columns in expected_columns().items():
        for column, kind in columns:
            if (table, column) not in found:
                raise CohortError(f"cohort file {path}: {table} lacks column {column} ({kind})")
            if found[table, column] != kind:
                raise CohortError(
                    f"cohort file {path}: {table}.{column} is {found[table, column]}, not {kind}"
                )


def _check_own_columns(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[OwnColumn, ...]:
    """The file's own columns, declared usably and held exactly where declared: in their
    table and in the summary, of their kind's type, and no column beyond the format's that
    is not declared (the declarations are what shows them)."""
    try:
        own = read_declarations(con)
        extended(BUILTIN, own)
    except ValueError as exc:  # a DeclarationError, or a kind no variable has
        raise CohortError(f"cohort file {path}: its own variables cannot be used ({exc})") from None
    expected = expected_columns()
    found = _table_columns(con)
    for table in (*OWN_TABLES, SUMMARY_TABLE):
        declared = {c.key: c.sql_type for c in own if table in (c.table, SUMMARY_TABLE)}
        known = {column for column, _ in expected[table]}
        extra = {column: kind for column, kind in found[table] if column not in known}
        for column, kind in declared.items():
            if column not in extra:
                raise CohortError(
                    f"cohort file {path}: {table} lacks column {column} ({kind}), which "
                    "cohort_variables declares"
                )
            if extra[column] != kind:
                raise CohortError(
                    f"cohort file {path}: {table}.{column} is {extra[column]}, not {kind}"
                )
        if undeclared := sorted(set(extra) - set(declared)):
            raise CohortError(
                f"cohort file {path}: {table} holds column(s) {', '.join(undeclared)} that "
                "cohort_variables does not declare"
            )
    return own


@functools.cache
def expected_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """Each cohort table's (column, type) pairs, as this version's schema and summary make
    them: read from an empty cohort built in memory, so they are never written twice."""
    with duckdb.connect() as con:
        con.execute(SCHEMA_PATH.read_text())
        create_summary(con)
        columns = _table_columns(con)
    return {table: pairs for table, pairs in columns.items() if table in COHORT_TABLES}


@functools.cache
def schema_tables(schema: Path) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each table's (column, type) pairs as the schema file ``schema`` defines them, read
    from it built in memory (this version's and the single-limb format's)."""
    with duckdb.connect() as con:
        con.execute(schema.read_text())
        return _table_columns(con)


def _table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each table's (column, type) pairs in ``con``, in column order."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = 'main' ORDER BY table_name, column_index"
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        columns.setdefault(table, []).append((column, kind))
    return {table: tuple(pairs) for table, pairs in columns.items()}


def schema_version(con: duckdb.DuckDBPyConnection) -> str:
    """The schema version the cohort file says it has ("none" when it says none)."""
    versions = con.execute(
        "SELECT value FROM cohort_metadata WHERE key = 'schema_version'"
    ).fetchall()  # fetchall: a pending fetchone result would block the caller's next query
    return versions[0][0] if versions else "none"


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    found = schema_version(con)
    if found != SCHEMA_VERSION:
        raise CohortError(
            f"cohort file {path} has schema version {found}; this version reads "
            f"{SCHEMA_VERSION}. Upgrade it in place with `python -m analytics upgrade {path}`"
        )


def metadata(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The cohort's provenance as a plain dict."""
    return dict(con.execute("SELECT key, value FROM cohort_metadata ORDER BY key").fetchall())


def is_reconstruction(meta: dict[str, str]) -> bool:
    """True for the demo: reconstructed from published aggregates, not patient data."""
    return meta.get("is_reconstruction", "false").lower() == "true"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
