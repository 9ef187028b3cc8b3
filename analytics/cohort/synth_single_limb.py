"""The synthetic registry of earlier versions: one treated limb per patient, read into this format.

Earlier versions' ``synth`` drew a single-limb registry (data/schema_single_limb.sql). Its
rows are kept exactly, so that the references written into the tests (R's estimates on
``synth --single-limb --patients 3000 --centers 6 --seed 1``) keep their source, and a
registry without bilateral patients stays at hand. It is drawn as before and read into
this version's format by analytics.cohort.single_limb (aetiology not recorded).

The cohort looks like the demo (its published rates), with known associations built in:
thrombophilia, recent surgery, malignancy, common femoral vein involvement and the
treating centre change the hazard of losing primary patency; thrombophilia and
malignancy that of recurrent DVT. Every value is drawn in DuckDB SQL, set-based over
the patient indexes 0..patients-1, from a hash of (patient or centre index, seed, draw
name), never from ``random()``: the rows depend on (patients, centers, seed) only.
Nothing is written to ``out`` until the file is complete and opens as a cohort (built
beside it, moved into place: analytics.cohort.write).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from analytics.cohort.db import SCHEMA_PATH
from analytics.cohort.importer import write_metadata
from analytics.cohort.single_limb import NOT_RECORDED, SINGLE_LIMB_SCHEMA_PATH, from_single_limb
from analytics.cohort.summary import create_summary
from analytics.cohort.write import written_beside

# The building connection's settings: memory bounded whatever the cohort size. The
# primary-key indexes (about 400 MB for a million patients) outgrow it, so rows are
# written in batches of patients, one commit each, and committed index pages can be
# evicted; larger batches are a little faster and need more memory.
CONNECT_CONFIG: dict[str, str | int | bool] = {"memory_limit": "384MB"}
BATCH_PATIENTS = 250_000

# Draws: a uniform in (0, 1) from a hash, normals by Box-Muller from two of them.
# Patency and recurrent DVT are Weibull times S(t) = exp(-hr (t / scale)^shape); each
# hazard ratio is divided by its cohort mean (the product of 1 - p + p HR over the
# independent factors), so the cohort as a whole keeps the target curve: primary
# patency 73% at 12 and 59% at 36 months, recurrent DVT 20% by 36 months.
MACROS = """
CREATE TEMP MACRO synth_unit(h) AS ((h % 1000003)::DOUBLE + 0.5) / 1000003.0;
CREATE TEMP MACRO synth_u(i, s, draw) AS synth_unit(hash(i, s, draw));
CREATE TEMP MACRO synth_z(i, s, draw) AS
    sqrt(-2 * ln(synth_unit(hash(i, s, draw, 1))))
    * cos(2 * pi() * synth_unit(hash(i, s, draw, 2)));
CREATE TEMP MACRO synth_clamp(x, lo, hi) AS least(greatest(x, lo), hi);
CREATE TEMP MACRO synth_weibull(u, hr, scale, shape) AS scale * pow(-ln(u) / hr, 1 / shape);

CREATE TEMP MACRO synth_cohort(n, s, k, lo, hi) AS TABLE
WITH drawn AS (
    SELECT
        i,
        'S' || lpad((i + 1)::VARCHAR, greatest(7, length(n::VARCHAR))::INTEGER, '0') AS patient_id,
        -- unequal centre sizes: the first centres are the largest
        floor(k * pow(synth_u(i, s, 'centre'), 1.6))::BIGINT AS centre_index,
        synth_clamp(round(66 + 14.5 * synth_z(i, s, 'age')), 18, 95)::INTEGER AS age_years,
        CASE WHEN synth_u(i, s, 'sex') < 0.5 THEN 'F' ELSE 'M' END AS sex,
        round(synth_clamp(24.8 + 1.6 * synth_z(i, s, 'bmi'), 16, 45), 1) AS bmi,
        CASE WHEN synth_u(i, s, 'side') < 0.65 THEN 'left' ELSE 'right' END AS lesion_side,
        -- 4018 days: 2010-01-01 to 2020-12-31
        DATE '2010-01-01' + floor(4018 * synth_u(i, s, 'date'))::INTEGER AS procedure_date,
        synth_u(i, s, 'success') < 0.92 AS technical_success,
        round(12 + 48 * synth_u(i, s, 'follow_up'), 1) AS planned_follow_up,
        synth_u(i, s, 'dies') < 0.03 AS dies,
        (1 + floor(36 * synth_u(i, s, 'symptoms')))::DOUBLE AS symptom_duration_months,
        synth_u(i, s, 'malignancy') < 7 / 34 AS malignancy,
        synth_u(i, s, 'smoking') < 7 / 34 AS smoking,
        synth_u(i, s, 'immobilization') < 2 / 34 AS immobilization,
        synth_u(i, s, 'thrombophilia') < 9 / 34 AS thrombophilia,
        synth_u(i, s, 'recent_surgery') < 8 / 34 AS recent_surgery,
        synth_u(i, s, 'trauma') < 2 / 34 AS trauma,
        synth_u(i, s, 'diabetes') < 9 / 34 AS diabetes,
        -- segment patterns weighted 17, 2, 4, 6, 7 (of 36), all contiguous
        CASE
            WHEN 36 * synth_u(i, s, 'segments') < 17 THEN 'CIV EIV CFV'
            WHEN 36 * synth_u(i, s, 'segments') < 19 THEN 'IVC CIV EIV CFV'
            WHEN 36 * synth_u(i, s, 'segments') < 23 THEN 'IVC CIV'
            WHEN 36 * synth_u(i, s, 'segments') < 29 THEN 'CIV EIV'
            ELSE 'EIV CFV'
        END AS segments,
        synth_u(i, s, 'urokinase') < 0.25 AS urokinase,
        (1 + floor(3 * synth_u(i, s, 'stents')))::INTEGER AS stents_if_success,
        CASE
            WHEN synth_u(i, s, 'access') < 0.80 THEN 'popliteal'
            WHEN synth_u(i, s, 'access') < 0.95 THEN 'small_saphenous'
            ELSE 'femoral'
        END AS access_vein,
        CASE
            WHEN synth_u(i, s, 'ceap') < 0.32 THEN 4
            WHEN synth_u(i, s, 'ceap') < 0.76 THEN 5
            ELSE 6
        END AS ceap_before,
        synth_clamp(round(11.9 + 3.25 * synth_z(i, s, 'villalta')), 0, 33)::INTEGER
            AS villalta_before,
        synth_u(i, s, 'reflux') < 0.735 AS reflux_before,
        synth_u(i, s, 'restenosis') < 0.35 AS by_restenosis,
        synth_u(i, s, 'reopened') < 0.6 AS reopened,
        synth_u(i, s, 'embolism') < 0.4 AS embolism,
        synth_u(i, s, 'minor_bleeding') < 0.12 AS minor_bleeding,
        synth_u(i, s, 'major_bleeding') < 0.01 AS major_bleeding,
        CASE WHEN synth_u(i, s, 'ulcer_healed') < 0.4
            THEN round(1 + 2 * synth_u(i, s, 'ulcer_month'), 1) END AS ulcer_healed_draw
    FROM synth_index
    WHERE i >= lo AND i < hi
),
followed AS (
    SELECT
        *,
        'C' || lpad((centre_index + 1)::VARCHAR, greatest(2, length(k::VARCHAR))::INTEGER, '0')
            AS center,
        contains(segments, 'IVC') AS seg_ivc,
        contains(segments, 'CIV') AS seg_civ,
        contains(segments, 'EIV') AS seg_eiv,
        contains(segments, 'CFV') AS seg_cfv,
        -- death ends follow-up: no event after it
        CASE
            WHEN dies THEN round(0.1 + (planned_follow_up - 0.1) * synth_u(i, s, 'death_month'), 1)
            ELSE planned_follow_up
        END AS follow_up_months
    FROM drawn
),
hazards AS (
    SELECT
        *,
        exp(
            ln(2.0) * thrombophilia::INTEGER + ln(1.3) * recent_surgery::INTEGER
            + ln(1.2) * malignancy::INTEGER + ln(0.6) * (lesion_side = 'right')::INTEGER
            + ln(1.3) * seg_cfv::INTEGER + 0.3 * synth_z(centre_index, s, 'centre_effect')
        ) / (
            (1 + 9 / 34 * 1.0) * (1 + 8 / 34 * 0.3) * (1 + 7 / 34 * 0.2) * (0.65 + 0.35 * 0.6)
            * (1 + 26 / 36 * 0.3) * exp(0.3 * 0.3 / 2)
        ) AS patency_hr,
        exp(ln(2.0) * thrombophilia::INTEGER + ln(1.8) * malignancy::INTEGER)
            / ((1 + 9 / 34 * 1.0) * (1 + 7 / 34 * 0.8)) AS dvt_hr
    FROM followed
),
timed AS (
    SELECT
        *,
        CASE WHEN technical_success THEN greatest(0.1, round(
            synth_weibull(synth_u(i, s, 'patency'), patency_hr, 129, 0.5), 1
        )) END AS patency_draw,
        greatest(0.1, round(
            synth_weibull(synth_u(i, s, 'dvt'), dvt_hr, 36 / pow(-ln(0.80), 1 / 0.8), 0.8), 1
        )) AS dvt_draw
    FROM hazards
)
SELECT
    *,
    CASE WHEN patency_draw < follow_up_months THEN patency_draw END AS patency_loss,
    CASE WHEN dvt_draw < follow_up_months THEN dvt_draw END AS recurrent_dvt,
    CASE WHEN ceap_before = 6 AND ulcer_healed_draw <= follow_up_months
        THEN ulcer_healed_draw END AS ulcer_healed,
    round(least(follow_up_months, 36), 1) AS last_visit,
    -- after a stent a C4 limb may improve (8 of the demo's 11 reach C3) and an active
    -- ulcer heals (C6 to C5); a healed ulcer's scar keeps a limb at C5, as CEAP defines it
    -- (unlike the demo, whose paper's table forces C5 limbs below C5). After a technical
    -- failure (no stent, conservative care) the limb keeps its class, unless its ulcer healed
    CASE
        WHEN NOT technical_success THEN
            CASE WHEN ulcer_healed IS NOT NULL THEN 5 ELSE ceap_before END
        WHEN ceap_before = 4 THEN
            CASE WHEN synth_u(i, s, 'ceap_after') < 8 / 11 THEN 3 ELSE 4 END
        ELSE 5
    END AS ceap_after,
    synth_clamp(round(villalta_before - CASE
        WHEN technical_success THEN 6.6 + 2.0 * synth_z(i, s, 'villalta_change')
        ELSE 1.0 + 1.0 * synth_z(i, s, 'villalta_change')
    END), 0, 33)::INTEGER AS villalta_after,
    CASE
        WHEN NOT technical_success THEN reflux_before
        WHEN reflux_before THEN synth_u(i, s, 'reflux_change') >= 0.16
        ELSE synth_u(i, s, 'reflux_change') < 0.11
    END AS reflux_after
FROM timed;
"""

INSERT_PATIENTS = """
INSERT INTO patients BY NAME
SELECT
    patient_id, age_years, sex, bmi, lesion_side, procedure_date, technical_success,
    follow_up_months, symptom_duration_months, malignancy, smoking, immobilization,
    thrombophilia, recent_surgery, trauma, diabetes, seg_ivc, seg_civ, seg_eiv, seg_cfv,
    center, urokinase, CASE WHEN technical_success THEN stents_if_success ELSE 0 END AS stents,
    access_vein
FROM synth_cohort($patients::BIGINT, $seed::BIGINT, $centers::BIGINT, $lo, $hi)
"""

INSERT_ASSESSMENTS = """
INSERT INTO assessments BY NAME
SELECT patient_id, visit.month, visit.ceap_c, visit.villalta, visit.reflux
FROM (
    SELECT patient_id, unnest([
        {'month': 0.0, 'ceap_c': ceap_before, 'villalta': villalta_before,
         'reflux': reflux_before},
        {'month': last_visit, 'ceap_c': ceap_after, 'villalta': villalta_after,
         'reflux': reflux_after}
    ]) AS visit
    FROM synth_cohort($patients::BIGINT, $seed::BIGINT, $centers::BIGINT, $lo, $hi)
)
"""

# Patency: a restenosis is treated at once (assisted primary patency continues); an
# occlusion is reopened (secondary patency continues) or is not (secondary patency lost).
INSERT_EVENTS = """
INSERT INTO events BY NAME
SELECT patient_id, event.month, event.event
FROM (
    SELECT patient_id, follow_up_months, unnest([
        {'month': CASE WHEN by_restenosis THEN patency_loss END, 'event': 'restenosis'},
        {'month': CASE WHEN NOT by_restenosis THEN patency_loss END, 'event': 'occlusion'},
        {'month': CASE WHEN by_restenosis OR reopened THEN patency_loss END,
         'event': 'reintervention'},
        {'month': CASE WHEN NOT by_restenosis AND reopened THEN patency_loss END,
         'event': 'patency_restored'},
        {'month': recurrent_dvt, 'event': 'recurrent_dvt'},
        {'month': CASE WHEN embolism THEN recurrent_dvt END, 'event': 'pulmonary_embolism'},
        {'month': CASE WHEN minor_bleeding THEN 0.03 END, 'event': 'minor_bleeding'},
        {'month': CASE WHEN major_bleeding THEN 0.03 END, 'event': 'major_bleeding'},
        {'month': CASE WHEN dies THEN follow_up_months END, 'event': 'death'},
        {'month': ulcer_healed, 'event': 'ulcer_healed'}
    ]) AS event
    FROM synth_cohort($patients::BIGINT, $seed::BIGINT, $centers::BIGINT, $lo, $hi)
)
WHERE event.month IS NOT NULL AND event.month <= follow_up_months
"""


def synthesize(out: Path, patients: int, centers: int = 20, seed: int = 1) -> Path:
    """Write the single-limb synthetic registry of earlier versions at ``out``, in this format.

    The same (patients, centers, seed) always gives the same rows. Raises ValueError
    for a cohort that cannot exist; on any failure ``out`` is left as it was.
    """
    _check_arguments(patients, centers, seed)
    with (
        written_beside(Path(out)) as tmp,
        duckdb.connect(str(tmp), config=dict(CONNECT_CONFIG)) as con,
        duckdb.connect() as staging,  # in memory without the writer's limit: staged whole
    ):
        staging.execute(SINGLE_LIMB_SCHEMA_PATH.read_text())
        _write_rows(staging, patients, centers, seed)
        con.execute(SCHEMA_PATH.read_text())
        from_single_limb(
            con,
            lambda table: staging.sql(f"SELECT * FROM {table}").to_arrow_reader(BATCH_PATIENTS),
            NOT_RECORDED,
        )
        create_summary(con)
        write_metadata(con, _metadata(patients, centers, seed))
    return Path(out)


def _check_arguments(patients: int, centers: int, seed: int) -> None:
    """Refuse a cohort that cannot be drawn, before any file is touched."""
    if patients < 1:
        raise ValueError(f"patients must be at least 1, not {patients}")
    if centers < 1:
        raise ValueError(f"centers must be at least 1, not {centers}")
    if not -(2**63) <= seed < 2**63:
        raise ValueError(f"seed must fit in 64 bits, not {seed}")


def _write_rows(con: duckdb.DuckDBPyConnection, patients: int, centers: int, seed: int) -> None:
    """Each table in batches of patients (bounded memory); patients first, for the foreign keys.

    The patient indexes are a table, not ``range()``, so DuckDB scans them in parallel.
    """
    con.execute(
        "CREATE TEMP TABLE synth_index AS SELECT range AS i FROM range($patients::BIGINT)",
        {"patients": patients},
    )
    con.execute(MACROS)
    for insert in (INSERT_PATIENTS, INSERT_ASSESSMENTS, INSERT_EVENTS):
        for lo in range(0, patients, BATCH_PATIENTS):
            batch = {"lo": lo, "hi": lo + BATCH_PATIENTS}
            con.execute(insert, {"patients": patients, "centers": centers, "seed": seed, **batch})


def _metadata(patients: int, centers: int, seed: int) -> dict[str, str]:
    """Provenance that says plainly the rows are synthetic, and how to make them again."""
    return {
        "name": f"Synthetic registry (one limb per patient, {centers} centres, seed {seed})",
        "source": (
            "Synthetic: generated by analytics.cohort.synth_single_limb; no real patient is "
            "behind any row."
        ),
        "method": (
            "Drawn in DuckDB SQL from hashes of (patient, seed), like the demo cohort's "
            "published rates; Weibull primary patency (shape 0.5, 73% at 12 months) with "
            "hazard ratios thrombophilia 2.0, recent surgery 1.3, malignancy 1.2, right side "
            "0.6, CFV involved 1.3 and a log-normal centre effect (SD 0.3); recurrent DVT 20% "
            "by 36 months, hazard ratios thrombophilia 2.0 and malignancy 1.8."
        ),
        "created": date.today().isoformat(),
        "is_reconstruction": "false",
        "synthetic": "true",
        "seed": str(seed),
    }
