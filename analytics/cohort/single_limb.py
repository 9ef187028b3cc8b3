"""The single-limb format of earlier versions, read into this version's registry format.

Cohort files of schema versions 1-3, and registries imported in their three-sheet layout
(``patients``, ``assessments``, ``events``: data/schema_single_limb.sql), hold one row per
patient with one treated limb. This version keeps people (``patients``) and treated limbs
(``limbs``) apart; a single-limb patient becomes one person and one limb whose
``limb_id`` is the ``patient_id``. Limb events (patency, reinterventions, ulcers) go to that
limb; patient events (recurrent DVT, pulmonary embolism, bleeding, death) to the person.

The old format does not say what the lesions were: ``aetiology`` is ``not_recorded`` (a
level of its own, never guessed) unless the file says so in its provenance (the
``aetiology`` key of ``cohort_metadata``, e.g. ``post_thrombotic`` for a series of chronic
post-thrombotic obstruction such as the demo's paper; the demo itself is now given in the
registry layout, its limbs' aetiology written in them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import duckdb
import pyarrow as pa

from analytics.cohort.db import ROOT, SCHEMA_PATH, schema_tables
from analytics.cohort.summary import PATIENT_EVENTS

SINGLE_LIMB_SCHEMA_PATH = ROOT / "data" / "schema_single_limb.sql"
SINGLE_LIMB_TABLES = ("patients", "assessments", "events")
AETIOLOGY_KEY = "aetiology"  # the provenance key that says what every lesion was
AETIOLOGIES = ("post_thrombotic", "non_thrombotic", "acute_thrombotic")
NOT_RECORDED = "not_recorded"


def person_columns() -> tuple[str, ...]:
    """A patient's own columns: this version's ``patients`` table."""
    return tuple(column for column, _ in schema_tables(SCHEMA_PATH)["patients"])


def limb_columns() -> tuple[str, ...]:
    """The single-limb ``patients`` columns that are a limb's in this version, besides its
    ids, side and aetiology (which the single-limb format names or lacks)."""
    limbs = {column for column, _ in schema_tables(SCHEMA_PATH)["limbs"]} - {"patient_id"}
    old = schema_tables(SINGLE_LIMB_SCHEMA_PATH)["patients"]
    return tuple(column for column, _ in old if column in limbs)


_PATIENT_EVENTS = ", ".join(f"'{event}'" for event in PATIENT_EVENTS)


def aetiology_of(metadata: dict[str, str]) -> str:
    """What a single-limb file's lesions were: its provenance's word, else not recorded."""
    said = metadata.get(AETIOLOGY_KEY, "").strip().lower()
    return said if said in AETIOLOGIES else NOT_RECORDED


def from_single_limb(
    con: duckdb.DuckDBPyConnection,
    read: Callable[[str], pa.RecordBatchReader],
    aetiology: str,
) -> None:
    """Insert into ``con``'s empty registry tables the single-limb tables ``read`` gives,
    one batch and one commit at a time (committed index pages can leave memory: a million
    patients in one commit overflowed the synthetic registry's bounded memory); the
    registry's constraints check every row."""
    person, limb = ", ".join(person_columns()), ", ".join(limb_columns())
    for _ in _each_batch(con, read("patients")):
        con.execute(
            f"INSERT INTO patients ({person}) "
            f"SELECT {person} FROM single_limb_rows ORDER BY patient_id"
        )
        con.execute(
            f"INSERT INTO limbs (limb_id, patient_id, side, aetiology, {limb}) "
            f"SELECT patient_id, patient_id, lesion_side, ?, {limb} "
            "FROM single_limb_rows ORDER BY patient_id",
            [aetiology],
        )
    for _ in _each_batch(con, read("assessments")):
        con.execute(
            "INSERT INTO assessments (limb_id, month, ceap_c, villalta, reflux) "
            "SELECT patient_id, month, ceap_c, villalta, reflux FROM single_limb_rows"
        )
    for _ in _each_batch(con, read("events")):
        con.execute(
            "INSERT INTO events (patient_id, limb_id, month, event) "
            f"SELECT patient_id, CASE WHEN event IN ({_PATIENT_EVENTS}) THEN NULL "
            "ELSE patient_id END, month, event FROM single_limb_rows"
        )


def _each_batch(con: duckdb.DuckDBPyConnection, reader: pa.RecordBatchReader) -> Iterator[None]:
    """Each batch of ``reader`` registered in turn as ``single_limb_rows``."""
    for batch in reader:
        con.register("single_limb_rows", pa.Table.from_batches([batch]))
        try:
            yield
        finally:
            con.unregister("single_limb_rows")
