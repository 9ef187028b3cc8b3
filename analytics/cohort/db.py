"""Open a cohort file: read-only, hardened, and checked to be in the cohort format.

Every reader (dashboard, command line, tests) goes through :func:`open_cohort`, so
a missing, corrupt or foreign file fails in one place with one clear message.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "data" / "schema.sql"
DEMO_SOURCE = ROOT / "data" / "demo"
DEFAULT_DB = ROOT / "data" / "cohort.duckdb"
SCHEMA_VERSION = "2"  # 2: the derived patient_summary table
COHORT_TABLES = ("patients", "assessments", "events", "cohort_metadata", "patient_summary")

# Read-only, no file system access beyond the cohort file itself, no extension
# loading, and the settings frozen, so no query can read other files or loosen this.
HARDENED_CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "lock_configuration": True,
}


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
    try:
        con = duckdb.connect(str(path), read_only=True, config=HARDENED_CONFIG)
    except duckdb.Error as exc:
        raise CohortError(
            f"cohort file {path} is not a readable DuckDB file ({_first_line(exc)})"
        ) from None
    try:
        check_cohort_format(con, path)
    except CohortError:
        con.close()
        raise
    return con


def check_cohort_format(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a database that lacks the cohort tables or has another schema version."""
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
