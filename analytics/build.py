"""Build a cohort file from the three CSV tables of the cohort format.

The demo cohort is built this way from ``data/demo/``; a department's registry
in the same format goes through the same path. The file is written beside its
destination and moved into place only once it is complete and verified, so a
failed build leaves any existing file untouched.
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics.db import DEMO_SOURCE, SCHEMA_PATH, SCHEMA_VERSION, CohortError

DATA_TABLES = ("patients", "assessments", "events")


def build_cohort(source: Path, out: Path) -> Path:
    """Load ``source``/{patients,assessments,events,metadata}.csv into a new cohort file."""
    source, out = Path(source), Path(out)
    for name in (*DATA_TABLES, "metadata"):
        if not (source / f"{name}.csv").is_file():
            raise CohortError(f"{source / (name + '.csv')} is missing")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    _remove(tmp)
    try:
        with duckdb.connect(str(tmp)) as con:
            con.execute(SCHEMA_PATH.read_text())
            for table in DATA_TABLES:
                _load_table(con, table, source / f"{table}.csv")
            _write_metadata(con, _read_metadata(source / "metadata.csv"))
            verify_cohort(con, source)
        os.replace(tmp, out)
    finally:
        _remove(tmp)
    return out


def build_demo(out: Path) -> Path:
    """Build the demo cohort (reconstructed from published aggregates) at ``out``."""
    return build_cohort(DEMO_SOURCE, out)


def verify_cohort(con: duckdb.DuckDBPyConnection, source: Path) -> None:
    """Checks the schema cannot express: rows exist, no event after its patient's follow-up."""
    if con.execute("SELECT count(*) FROM patients").fetchall()[0][0] == 0:
        raise CohortError(f"{source / 'patients.csv'} holds no patients")
    late = con.execute(
        """
        SELECT e.patient_id, e.month, e.event, p.follow_up_months
        FROM events AS e JOIN patients AS p USING (patient_id)
        WHERE e.month > p.follow_up_months
        ORDER BY e.patient_id, e.month
        LIMIT 1
        """
    ).fetchall()
    if late:
        patient, month, event, follow_up = late[0]
        raise CohortError(
            f"{source / 'events.csv'}: patient {patient} has {event} at month {month:g}, "
            f"after follow-up ends at {follow_up:g}"
        )


def _load_table(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """Insert a CSV by column name; DuckDB casts the text and enforces every constraint."""
    try:
        con.execute(
            f"INSERT INTO {table} BY NAME "  # table comes from DATA_TABLES, never from a user
            "SELECT * FROM read_csv(?, header = true, all_varchar = true)",
            [str(path)],
        )
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise CohortError(f"{path}: {message}") from None


def _read_metadata(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["key"]: row["value"] for row in csv.DictReader(handle)}


def _write_metadata(con: duckdb.DuckDBPyConnection, meta: dict[str, str]) -> None:
    meta = {
        **meta,
        "schema_version": SCHEMA_VERSION,
        "built_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    con.executemany("INSERT INTO cohort_metadata VALUES (?, ?)", sorted(meta.items()))


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
