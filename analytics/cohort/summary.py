"""The patient summary: one wide row per patient, derived once when a cohort file is written.

Every view filters patients and counts. Joining the filtered patients to their
events and assessments on every filter change costs time in proportion to the
registry (0.8 s per endpoint on a million patients). So the writer of a cohort
file (import, demo build, synth) stores, next to the imported tables, a table
``patient_summary``: every column of ``patients`` plus, derived from the other
tables by the definitions below,

- ``tte_<endpoint>_months`` / ``tte_<endpoint>_event``: the ``time_to_event`` view
  (data/schema.sql, the SVS/SIR definitions) pivoted to one row per patient;
- ``<measure>_before`` / ``<measure>_after``: each clinical measure at month 0 and
  at the last later visit that has it (CEAP class, Villalta, PTS, PTS severity,
  reflux);
- ``n_<event>`` / ``n_<event>_early``: how many of each safety event the patient
  had, and how many within 30 days of the procedure;
- ``first_<event>_months``: the month of the patient's first such event (NULL without
  one), the time of its cumulative incidence;
- ``safety_events``: the patient's safety events as a list of (event, month), for the
  timeline;
- ``ulcer_healed_months``: when an ulcer healed, if it did.

A filter then becomes one scan of one table, whatever the joins behind it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import duckdb

from analytics.glossary import ENDPOINTS, SAFETY_EVENTS
from analytics.rules import (
    ACTIVE_ULCER_CEAP,
    EARLY_EVENT_MONTHS,
    PTS_MODERATE_VILLALTA,
    PTS_SEVERE_VILLALTA,
    PTS_VILLALTA_THRESHOLD,
)

SUMMARY_TABLE = "patient_summary"
MEASURES = ("ceap", "villalta", "pts", "pts_severity", "reflux")

ULCER_SQL = f"coalesce(ceap_c = {ACTIVE_ULCER_CEAP}, false)"
PTS_SQL = f"(villalta >= {PTS_VILLALTA_THRESHOLD} OR {ULCER_SQL})"
PTS_SEVERITY_SQL = f"""CASE
    WHEN villalta IS NULL THEN NULL
    WHEN {ULCER_SQL} OR villalta >= {PTS_SEVERE_VILLALTA} THEN 'severe'
    WHEN villalta >= {PTS_MODERATE_VILLALTA} THEN 'moderate'
    WHEN villalta >= {PTS_VILLALTA_THRESHOLD} THEN 'mild'
    ELSE 'none' END"""


def endpoint_columns(endpoint: str) -> tuple[str, str]:
    """The (months, event) columns of one endpoint; only known endpoints have columns."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; choose one of {', '.join(ENDPOINTS)}")
    return f"tte_{endpoint}_months", f"tte_{endpoint}_event"


def measure_columns(measure: str) -> tuple[str, str]:
    """The (before, after) columns of one clinical measure."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    return f"{measure}_before", f"{measure}_after"


def _pair(value: str, measure: str) -> str:
    before, after = measure_columns(measure)
    return (
        f"any_value({value}) FILTER (WHERE month = 0) AS {before},\n"
        f"arg_max({value}, month) FILTER (WHERE month > 0 AND {value} IS NOT NULL) AS {after}"
    )


def _endpoint(endpoint: str) -> str:
    months, event = endpoint_columns(endpoint)
    return (
        f"any_value(months) FILTER (WHERE endpoint = '{endpoint}') AS {months},\n"
        f"any_value(event) FILTER (WHERE endpoint = '{endpoint}') AS {event}"
    )


def first_event_column(event: str) -> str:
    """The column of a patient's first month of one safety event; only known events have one."""
    if event not in SAFETY_EVENTS:
        raise ValueError(f"unknown safety event {event!r}")
    return f"first_{event}_months"


def _safety(event: str) -> str:
    return (
        f"count(*) FILTER (WHERE event = '{event}') AS n_{event},\n"
        f"count(*) FILTER (WHERE event = '{event}' AND month <= {EARLY_EVENT_MONTHS!r}) "
        f"AS n_{event}_early,\n"
        f"min(month) FILTER (WHERE event = '{event}') AS {first_event_column(event)}"
    )


# One range of patients at a time (parameters: low, high), so memory stays bounded;
# writers insert rows grouped by patient, so each range reads only its own blocks.
IN_SLICE = "patient_id BETWEEN $low AND $high"
SUMMARY_SQL = f"""
INSERT INTO {SUMMARY_TABLE}
WITH endpoints AS (
    SELECT patient_id, {", ".join(_endpoint(e) for e in ENDPOINTS)}
    FROM time_to_event WHERE {IN_SLICE} GROUP BY patient_id
),
scored AS (
    SELECT *, CASE WHEN villalta IS NULL THEN NULL ELSE {PTS_SQL} END AS pts,
           {PTS_SEVERITY_SQL} AS pts_severity
    FROM assessments WHERE {IN_SLICE}
),
pairs AS (
    SELECT patient_id,
           {_pair("ceap_c", "ceap")}, {", ".join(_pair(m, m) for m in MEASURES[1:])}
    FROM scored GROUP BY patient_id
),
safety AS (
    SELECT patient_id, {", ".join(_safety(e) for e in SAFETY_EVENTS)},
           min(month) FILTER (WHERE event = 'ulcer_healed') AS ulcer_healed_months,
           list({{'event': event, 'month': month}} ORDER BY month, event)
               FILTER (WHERE event IN ({", ".join(f"'{e}'" for e in SAFETY_EVENTS)}))
               AS safety_events
    FROM events WHERE {IN_SLICE} GROUP BY patient_id
)
SELECT p.*, endpoints.* EXCLUDE (patient_id), pairs.* EXCLUDE (patient_id),
       {
    ", ".join(
        f"coalesce(n_{e}, 0) AS n_{e}, coalesce(n_{e}_early, 0) AS n_{e}_early"
        for e in SAFETY_EVENTS
    )
},
       {", ".join(f"safety.{first_event_column(e)}" for e in SAFETY_EVENTS)},
       safety.ulcer_healed_months, safety.safety_events
FROM (SELECT * FROM patients WHERE {IN_SLICE}) AS p
JOIN endpoints USING (patient_id)
LEFT JOIN pairs USING (patient_id)
LEFT JOIN safety USING (patient_id)
"""


def create_summary(con: duckdb.DuckDBPyConnection, patients_per_slice: int = 200_000) -> None:
    """Derive ``patient_summary`` from the loaded tables (run once by each cohort writer)."""
    slices = con.execute(
        "SELECT min(patient_id), max(patient_id) FROM (SELECT patient_id, "
        "(row_number() OVER (ORDER BY patient_id) - 1) // ? AS slice FROM patients) "
        "GROUP BY slice ORDER BY slice",
        [patients_per_slice],
    ).fetchall()
    empty = SUMMARY_SQL.replace(f"INSERT INTO {SUMMARY_TABLE}", "", 1)
    con.execute(
        f"CREATE TABLE {SUMMARY_TABLE} AS SELECT * FROM ({empty}) LIMIT 0",
        {"low": "b", "high": "a"},  # an empty range: the columns only
    )
    for low, high in slices:
        con.execute(SUMMARY_SQL, {"low": low, "high": high})
    con.execute(
        f"COMMENT ON TABLE {SUMMARY_TABLE} IS 'Derived, not imported: one row per patient with "
        "the patients columns, endpoint times, clinical measures before and after, and safety "
        "event counts (see analytics/summary.py).'"
    )


def summary_problem(con: duckdb.DuckDBPyConnection, numbers: Sequence[str]) -> str | None:
    """Why ``patient_summary`` is not the derived table of this file's patients, or None.

    Its rows must be the patients' own: as many, with the same ids (compared by the
    exclusive or of the ids' hashes, which no order changes and which a lost, added or
    renamed patient leaves equal one time in 2^64), and the ``numbers`` columns finite
    (NULL where unknown; no writer stores NaN or infinity). DuckDB answers each column's
    minimum and maximum from its statistics, without a scan, and NaN sorts above every
    number, so the two bounds being finite means every value is.
    """
    key_sets = "SELECT count(*), bit_xor(hash(patient_id)) FROM {}"
    patients, patient_ids = con.execute(key_sets.format("patients")).fetchall()[0]
    rows, row_ids = con.execute(key_sets.format(SUMMARY_TABLE)).fetchall()[0]
    if rows != patients:
        return f"{SUMMARY_TABLE} holds {rows:,} patients but patients holds {patients:,}"
    if row_ids != patient_ids:
        return f"{SUMMARY_TABLE}'s patients are not those of patients"
    bounds = con.execute(
        f"SELECT {', '.join(f'min({c}), max({c})' for c in numbers)} FROM {SUMMARY_TABLE}"
    ).fetchall()[0]
    suspect = [
        c for i, c in enumerate(numbers)
        if any(v is not None and not math.isfinite(v) for v in bounds[2 * i : 2 * i + 2])
    ]  # fmt: skip
    if not suspect:
        return None
    bad = con.execute(
        f"SELECT {', '.join(f'count(*) FILTER (WHERE NOT isfinite({c}))' for c in suspect)} "
        f"FROM {SUMMARY_TABLE}"
    ).fetchall()[0]
    listed = ", ".join(
        f"{SUMMARY_TABLE}.{c} ({n:,} row{'s' * (n > 1)})" for c, n in zip(suspect, bad, strict=True)
    )
    return f"NaN or infinite values in {listed}"
