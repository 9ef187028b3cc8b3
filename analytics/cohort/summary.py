"""The limb summary: one wide row per treated limb, derived once when a cohort file is written.

Every view filters limbs and counts. Joining the filtered limbs to their patients,
stents, events and assessments on every filter change costs time in proportion to the
registry (0.8 s per endpoint on a million limbs). So the writer of a cohort file
(import, demo build, synth, upgrade) stores, next to the imported tables, a table
``limb_summary``: every column of ``limbs`` (``side`` as ``lesion_side``, the name links
and groupings have always used; not ``last_contact_date``, kept for audit in ``limbs``
only, as ``follow_up_months`` says it) and of its patient in ``patients``, plus, derived from
the other tables by the definitions below,

- ``offset_months`` / ``patient_limbs`` / ``limb_order``: the limb's procedure on its
  patient's clock, its patient's number of treated limbs, and its place among them;
  ``patient_key`` (the patient's rank by ``patient_id``) and ``limb_key`` (``2 *
  patient_key + limb_order - 1``), integer keys that group and join many times faster
  than the text ids. The rows of patients with two limbs are stored last, so that their
  queries read only their blocks
  (the ``limb_clock`` view, data/schema.sql);
- ``stents`` (the stents listed, else the count the limb gives), ``stent_brand`` and
  ``stent_design`` (``mixed`` when its stents differ), ``stented_length_mm`` (NULL when a
  length is missing), ``max_diameter_mm``, ``below_inguinal_ligament`` (any stent);
- ``therapy_at_procedure``: the antithrombotic agent in force on the day of the limb's
  procedure (``combination`` for two or more, ``none`` without one, ``not_recorded`` when
  the patient has no therapy recorded at all);
- ``tte_<endpoint>_months`` / ``tte_<endpoint>_event``: the ``time_to_event`` view
  (the SVS/SIR definitions) pivoted to one row per limb;
- ``<measure>_before`` / ``<measure>_after``: each clinical measure and score at month 0
  and at the last later visit that has it (CEAP class, Villalta, PTS, PTS severity,
  reflux, VCSS, VEINES-QOL, VEINES-Sym, CIVIQ-20);
- ``n_<event>`` / ``n_<event>_early``: how many of each of its patient's safety events
  came after this limb's procedure, and how many within 30 days of it;
- ``first_<event>_months``: the first such event on the limb's clock (NULL without one),
  the time of its cumulative incidence;
- ``safety_events``: those events as a list of (event, month), for the timeline;
- ``ulcer_healed_months``: when the limb's ulcer healed, if it did.

The text columns with a fixed set of values (CODED_COLUMNS: side, sex, aetiology, inflow,
stent design, therapy at the procedure, PTS severity) are DuckDB ENUMs and the small
counts 32-bit integers (INTEGER_COLUMNS), and ``last_follow_up_day`` holds the day each
limb's follow-up ends (format 6).

Every month is on the limb's clock, so each row is whole on its own: a person-level
analysis reads one row per patient (the first of the patient's limbs in the filter),
a limb-level one every row. A filter then becomes one scan of one table, whatever the
joins behind it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import duckdb

from analytics.glossary import ENDPOINTS, PTS_SEVERITY, SAFETY_EVENTS
from analytics.rules import (
    ACTIVE_ULCER_CEAP,
    DAYS_PER_MONTH,
    EARLY_EVENT_MONTHS,
    PTS_MODERATE_VILLALTA,
    PTS_SEVERE_VILLALTA,
    PTS_VILLALTA_THRESHOLD,
)
from analytics.variables import BUILTIN

SUMMARY_TABLE = "limb_summary"
MEASURES = ("ceap", "villalta", "pts", "pts_severity", "reflux")
# The validated scores (domain.md): summarised before and after like the measures; the
# pages read them from a later release on.
SCORES = ("vcss", "veines_qol", "veines_sym", "civiq20")
PATIENT_EVENTS = (
    "recurrent_dvt", "pulmonary_embolism", "minor_bleeding", "major_bleeding", "death",
)  # fmt: skip

ULCER_SQL = f"coalesce(ceap_c = {ACTIVE_ULCER_CEAP}, false)"
PTS_SQL = f"(villalta >= {PTS_VILLALTA_THRESHOLD} OR {ULCER_SQL})"
PTS_SEVERITY_SQL = f"""CASE
    WHEN villalta IS NULL THEN NULL
    WHEN {ULCER_SQL} OR villalta >= {PTS_SEVERE_VILLALTA} THEN 'severe'
    WHEN villalta >= {PTS_MODERATE_VILLALTA} THEN 'moderate'
    WHEN villalta >= {PTS_VILLALTA_THRESHOLD} THEN 'mild'
    ELSE 'none' END"""


# The summary's text columns with a fixed set of values (the schema's checks, and the
# summary's own levels: 'mixed', 'combination', the PTS classes), stored as DuckDB ENUMs
# (format 6): one byte a row, grouped and compared as an integer, where a text column is
# decompressed and hashed row by row (Table 1 took 12 ms per text column on a million
# limbs). Every reader still gets the text: a value compares with text and bound
# parameters as before, and fetches as a string (pandas' .df() as a Categorical of these
# levels). The levels are listed in the text's own sort order, so ORDER BY, min and max
# order them as they ordered the text.
CODED_COLUMNS = {
    **{
        key: tuple(sorted(raw for raw, _ in BUILTIN.get(key).levels))
        for key in (
            "lesion_side", "sex", "aetiology", "inflow", "stent_design", "therapy_at_procedure",
        )
    },
    "pts_severity_before": tuple(sorted(PTS_SEVERITY)),
    "pts_severity_after": tuple(sorted(PTS_SEVERITY)),
}  # fmt: skip


def coded_type(column: str) -> str:
    """The ENUM type of a coded summary column (CODED_COLUMNS)."""
    return f"ENUM({', '.join(repr(level) for level in CODED_COLUMNS[column])})"


# The summary's small counts, 32-bit integers (format 6) where their derivation gives 64:
# a sum over a million limbs adds them in 64 bits, not 128 (Safety's sums took 13 ms
# as BIGINT, 8 as INTEGER). numpy reads them as int32.
INTEGER_COLUMNS = (
    "patient_limbs", "limb_order", "stents",
    *(f"n_{e}{early}" for e in SAFETY_EVENTS for early in ("", "_early")),
)  # fmt: skip
# The procedure date in days since 1970-01-01; with the follow-up, the day a limb's
# follow-up ends (``last_follow_up_day``), whose maximum over the file (the latest
# contact, the data lock when the metadata gives none) DuckDB reads from the column's
# statistics where the expression's took a scan (5 ms on a million limbs).
DAY = "epoch(procedure_date) / 86400"
LAST_FOLLOW_UP_DAY = f"{DAY} + follow_up_months * {DAYS_PER_MONTH!r}"


def endpoint_columns(endpoint: str) -> tuple[str, str]:
    """The (months, event) columns of one endpoint; only known endpoints have columns."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; choose one of {', '.join(ENDPOINTS)}")
    return f"tte_{endpoint}_months", f"tte_{endpoint}_event"


def measure_columns(measure: str) -> tuple[str, str]:
    """The (before, after) columns of one clinical measure."""
    if measure not in (*MEASURES, *SCORES):
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


# A period in force on the day of the limb's procedure (its patient's clock).
_IN_FORCE = (
    "t.start_month <= c.offset_months AND (t.end_month IS NULL OR t.end_month > c.offset_months)"
)

# One range of patients at a time (parameters: low, high), so memory stays bounded;
# writers insert rows grouped by patient, so each range reads only its own blocks.
IN_SLICE = "patient_id BETWEEN $low AND $high"
LIMBS_IN_SLICE = f"limb_id IN (SELECT limb_id FROM limbs WHERE {IN_SLICE})"
ANTICOAGULANTS = "('vka', 'doac', 'lmwh')"
SUMMARY_SQL = f"""
INSERT INTO {SUMMARY_TABLE}
WITH clock AS (
    SELECT * FROM summary_clock WHERE {IN_SLICE}
),
endpoints AS (
    SELECT limb_id, {", ".join(_endpoint(e) for e in ENDPOINTS)}
    FROM summary_times WHERE {IN_SLICE} GROUP BY limb_id
),
scored AS (
    SELECT *, CASE WHEN villalta IS NULL THEN NULL ELSE {PTS_SQL} END AS pts,
           {PTS_SEVERITY_SQL} AS pts_severity
    FROM assessments WHERE {LIMBS_IN_SLICE}
),
pairs AS (
    SELECT limb_id,
           {_pair("ceap_c", "ceap")}, {", ".join(_pair(m, m) for m in (*MEASURES[1:], *SCORES))}
    FROM scored GROUP BY limb_id
),
devices AS (
    SELECT limb_id,
           count(*) AS listed_stents,
           CASE count(DISTINCT brand) WHEN 1 THEN any_value(brand) ELSE 'mixed' END AS stent_brand,
           CASE count(DISTINCT design) WHEN 1 THEN any_value(design) ELSE 'mixed' END
               AS stent_design,
           CASE WHEN count(length_mm) = count(*) THEN sum(length_mm) END AS stented_length_mm,
           max(diameter_mm) AS max_diameter_mm,
           bool_or(below_inguinal_ligament) AS below_inguinal_ligament
    FROM stents WHERE {LIMBS_IN_SLICE} GROUP BY limb_id
),
therapy AS (
    SELECT c.limb_id,
           CASE
               WHEN count(t.patient_id) = 0 THEN 'not_recorded'
               WHEN count(DISTINCT t.agent) FILTER (WHERE t.agent <> 'none' AND {_IN_FORCE}) = 0
                   THEN 'none'
               WHEN count(DISTINCT t.agent) FILTER (WHERE t.agent <> 'none' AND {_IN_FORCE}) = 1
                   THEN any_value(t.agent) FILTER (WHERE t.agent <> 'none' AND {_IN_FORCE})
               ELSE 'combination'
           END AS therapy_at_procedure
    FROM clock AS c LEFT JOIN antithrombotic AS t USING (patient_id)
    GROUP BY c.limb_id
),
patient_events AS (
    -- Each of the patient's events on this limb's clock, from its procedure on.
    SELECT c.limb_id, e.month - c.offset_months AS month, e.event
    FROM clock AS c JOIN events AS e USING (patient_id)
    WHERE e.limb_id IS NULL AND e.month >= c.offset_months
),
safety AS (
    SELECT limb_id, {", ".join(_safety(e) for e in SAFETY_EVENTS)},
           list({{'event': event, 'month': month}} ORDER BY month, event)
               FILTER (WHERE event IN ({", ".join(f"'{e}'" for e in SAFETY_EVENTS)}))
               AS safety_events
    FROM patient_events GROUP BY limb_id
),
ulcers AS (
    SELECT limb_id, min(month) AS ulcer_healed_months
    FROM events WHERE {IN_SLICE} AND event = 'ulcer_healed' GROUP BY limb_id
)
SELECT l.limb_id, l.patient_id, l.side AS lesion_side,
       l.* EXCLUDE (limb_id, patient_id, side, stents, last_contact_date),
       p.* EXCLUDE (patient_id),
       c.offset_months, c.patient_limbs, c.limb_order, c.patient_key,
       c.patient_key::BIGINT * 2 + c.limb_order - 1 AS limb_key,
       coalesce(devices.listed_stents, l.stents) AS stents,
       devices.* EXCLUDE (limb_id, listed_stents),
       therapy.therapy_at_procedure,
       endpoints.* EXCLUDE (limb_id), pairs.* EXCLUDE (limb_id),
       {
    ", ".join(
        f"coalesce(n_{e}, 0) AS n_{e}, coalesce(n_{e}_early, 0) AS n_{e}_early"
        for e in SAFETY_EVENTS
    )
},
       {", ".join(f"safety.{first_event_column(e)}" for e in SAFETY_EVENTS)},
       ulcers.ulcer_healed_months, safety.safety_events
FROM (SELECT *, {LAST_FOLLOW_UP_DAY} AS last_follow_up_day FROM limbs WHERE {IN_SLICE}) AS l
JOIN patients AS p USING (patient_id)
JOIN clock AS c USING (limb_id)
JOIN endpoints USING (limb_id)
JOIN therapy USING (limb_id)
LEFT JOIN devices USING (limb_id)
LEFT JOIN pairs USING (limb_id)
LEFT JOIN safety USING (limb_id)
LEFT JOIN ulcers USING (limb_id)
WHERE (c.patient_limbs > 1) = $bilateral
ORDER BY c.patient_key, c.limb_order
"""


def create_summary(con: duckdb.DuckDBPyConnection, patients_per_slice: int = 200_000) -> None:
    """Derive ``limb_summary`` from the loaded tables (run once by each cohort writer)."""
    # The derived views, each computed once over every limb (per slice they would be
    # computed again over all of them: their windows and joins cannot be cut by patient).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE summary_clock AS SELECT *, "
        "(dense_rank() OVER (ORDER BY patient_id))::INTEGER AS patient_key FROM limb_clock"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE summary_times AS SELECT c.patient_id, t.* "
        "FROM time_to_event AS t JOIN summary_clock AS c USING (limb_id)"
    )
    slices = con.execute(
        "SELECT min(patient_id), max(patient_id) FROM (SELECT patient_id, "
        "(row_number() OVER (ORDER BY patient_id) - 1) // ? AS slice FROM patients) "
        "GROUP BY slice ORDER BY slice",
        [patients_per_slice],
    ).fetchall()
    empty = SUMMARY_SQL.replace(f"INSERT INTO {SUMMARY_TABLE}", "", 1)
    con.execute(
        f"CREATE TABLE {SUMMARY_TABLE} AS SELECT * FROM ({empty}) LIMIT 0",
        {"low": "b", "high": "a", "bilateral": False},  # an empty range: the columns only
    )
    narrow = {column: coded_type(column) for column in CODED_COLUMNS}
    narrow |= dict.fromkeys(INTEGER_COLUMNS, "INTEGER")
    for column, kind in narrow.items():  # each row's value converted as it is inserted
        con.execute(f"ALTER TABLE {SUMMARY_TABLE} ALTER {column} TYPE {kind}")
    for bilateral in (False, True):  # bilateral patients' limbs last: a query of theirs
        for low, high in slices:  # skips the blocks of everyone else (DuckDB's zone maps)
            con.execute(SUMMARY_SQL, {"low": low, "high": high, "bilateral": bilateral})
    con.execute("DROP TABLE summary_times")
    con.execute("DROP TABLE summary_clock")
    con.execute(
        f"COMMENT ON TABLE {SUMMARY_TABLE} IS 'Derived, not imported: one row per limb with "
        "the limbs and patients columns, devices, therapy, endpoint times, clinical measures "
        "before and after, and safety event counts (see analytics/cohort/summary.py).'"
    )


def summary_problem(con: duckdb.DuckDBPyConnection, numbers: Sequence[str]) -> str | None:
    """Why ``limb_summary`` is not the derived table of this file's limbs, or None.

    Its rows must be the limbs' own: as many, with the same ids (compared by the
    exclusive or of the ids' hashes, which no order changes and which a lost, added or
    renamed limb leaves equal one time in 2^64), and the ``numbers`` columns finite
    (NULL where unknown; no writer stores NaN or infinity). DuckDB answers each column's
    minimum and maximum from its statistics, without a scan, and NaN sorts above every
    number, so the two bounds being finite means every value is.
    """
    key_sets = "SELECT count(*), bit_xor(hash(limb_id)) FROM {}"
    limbs, limb_ids = con.execute(key_sets.format("limbs")).fetchall()[0]
    rows, row_ids = con.execute(key_sets.format(SUMMARY_TABLE)).fetchall()[0]
    if rows != limbs:
        return f"{SUMMARY_TABLE} holds {rows:,} limbs but limbs holds {limbs:,}"
    if row_ids != limb_ids:
        return f"{SUMMARY_TABLE}'s limbs are not those of limbs"
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
