"""Synthesize a large multi-centre stenting registry, for trying the dashboard at registry scale.

The cohort is written in the cohort format of ``data/schema.sql`` (people, limbs,
stents, events, assessments, antithrombotic periods) and looks like a venous stenting
service, with known associations built in so analyses have something real to find:

- **People and limbs.** One patient in ten is treated on both legs (left and right,
  the second limb the same day or staged 0.5-6 months later, followed to the same last
  contact), so about 18% of limbs belong to a bilateral patient. Person-level values
  (sex, risk factors, centre, first procedure date, last contact, death, therapy,
  recurrent DVT, bleeding) are drawn once per patient; limb-level ones (side, lesion,
  procedure, devices, patency, ulcer, scores) once per limb.
- **Aetiology** per patient, post-thrombotic 55%, non-thrombotic 35%, acute
  thrombotic 10% (a bilateral patient's second limb differs in one of five); symptoms
  4-36 months before a post-thrombotic lesion, under half a month before an acute one,
  none recorded for a non-thrombotic one.
- **Devices.** 1-3 stents per technical success, one design per limb (braided
  Wallstent 35%; laser-cut Venovo, Vici, Abre or sinus-Venous 65%; a multi-stent
  limb's last stent is of the other design in one of seven), 12-20 mm, 40-150 mm, the
  last stent below the inguinal ligament in 80% of limbs with the CFV involved (2%
  otherwise); inflow poor in 15%, IVUS in 60%.
- **Primary patency** is a Weibull time S(t) = exp(-hr (t / 108)^0.5) per limb, with
  the hazard ratios of ``PATENCY_HR`` (thrombophilia, recent surgery, malignancy, right
  side, CFV, below the ligament, poor inflow) and a log-normal centre effect (SD 0.5),
  divided by their cohort mean; the scale is set so that post-thrombotic technical
  successes keep the demo's curve across that mix (73% at 12, 59% at 36 months; all
  technical successes about 84% and 75%). ``AETIOLOGY_HR`` scales the other aetiologies
  (the ratios of cumulative hazard of a 2023 meta-analysis's 99%, 69% and 84% primary
  patency: non-thrombotic 0.03, acute thrombotic 0.47).
- **Events.** Primary patency is lost (SVS definitions) by a restenosis (35%: edge
  restenosis treated by a stent extension off the target lesion, in-stent restenosis by
  angioplasty or restenting, compression or fracture by restenting) or an occlusion or
  stent thrombosis (65%), reopened by thrombolysis in 60% (``patency_restored``). Half of
  the limbs still patent after it have a second such loss 1-48 months later. Active
  ulcers heal (40% in 1-3 months, 40% in 3-24), a healed ulcer recurs in 15%.
- **Patient events** on the patient's clock (months after the first limb's procedure),
  once per patient: recurrent DVT (20% by 36 months; hazard ratios thrombophilia 2.0,
  malignancy 1.8), a pulmonary embolism with two in five of them, minor (12%) and major
  (1%) bleeding at the procedure, death (3%) at the last contact.
- **Antithrombotic periods** per patient: an anticoagulant (DOAC, VKA or LMWH) from the
  procedure for 6-12 months or ongoing, then an antiplatelet or none; 7% dual
  antiplatelet for 6 months then one; 5% none.
- **Assessments** per limb before the procedure (month 0), at 12 months when followed
  beyond it, and at the last visit (36 months or the last contact): CEAP (a limb at C5 or
  C6 never falls below C5: C6 while an ulcer is open or recurred, else C5), Villalta,
  reflux, VCSS, VEINES-QOL/Sym T-scores, CIVIQ-20, ulcer status and imaging.

Every value is drawn in DuckDB SQL, set-based over the patient indexes, from a hash of
(patient index, limb number, seed, draw name), never from ``random()``: the rows depend
on (size, centers, seed) only, not on DuckDB's threads or the batches. A size in limbs
takes the first patients whose limbs make that many (the last patient one limb when a
second would overshoot), so a cohort of N limbs is the start of a larger one. Rows are
written in batches of patients (memory bounded); nothing is written to ``out`` until the
file is complete and opens as a cohort (built beside it, moved into place:
analytics.cohort.write).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from analytics.cohort.db import SCHEMA_PATH
from analytics.cohort.importer import write_metadata
from analytics.cohort.summary import create_summary
from analytics.cohort.write import written_beside

# The building connection's settings: memory bounded whatever the cohort size. The
# primary-key indexes outgrow it, so rows are written in batches of patients, one commit
# each, and committed index pages can be evicted; larger batches are a little faster and
# need more memory. 384 MB ran out once in three builds of a million limbs (the summary's
# columns grew with format 7); 1 GB leaves room on the 24 GB machines this runs on.
CONNECT_CONFIG: dict[str, str | int | bool] = {"memory_limit": "1GB"}
BATCH_PATIENTS = 200_000

BILATERAL = 0.1  # share of patients treated on both legs
# Shares of the demo's paper (per patient, n of 34 or 36) and of the design above.
RISK_SHARES = {
    "malignancy": 7 / 34, "smoking": 7 / 34, "immobilization": 2 / 34,
    "thrombophilia": 9 / 34, "recent_surgery": 8 / 34, "trauma": 2 / 34, "diabetes": 9 / 34,
}  # fmt: skip
RIGHT_SIDE = 0.35  # of a one-limb patient's limb (the demo: 12 of 34)
CFV_SHARE = 26 / 36  # segment patterns with the CFV (17 + 2 + 7 of 36)
BELOW_LIGAMENT_IF_CFV, BELOW_LIGAMENT_OTHERWISE = 0.8, 0.02
POOR_INFLOW = 0.15
CENTRE_SD = 0.5
PATENCY_HR = {
    "thrombophilia": 2.0, "recent surgery": 1.3, "malignancy": 1.2, "right side": 0.6,
    "CFV involved": 1.3, "below the inguinal ligament": 1.3, "poor inflow": 1.8,
}  # fmt: skip
AETIOLOGY_HR = {"post_thrombotic": 1.0, "non_thrombotic": 0.03, "acute_thrombotic": 0.47}
DVT_HR = {"thrombophilia": 2.0, "malignancy": 1.8}
# Weibull scale (months) of primary patency: with shape 0.5 and the hazard ratios' spread,
# post-thrombotic technical successes keep 73% at 12 and 59% at 36 months.
PATENCY_SCALE = 108


def _mean_multiplier(share: float, ratio: float) -> float:
    """The cohort mean of a hazard ratio that applies to ``share`` of the limbs."""
    return 1 - share + share * ratio


def patency_normaliser() -> float:
    """The cohort mean of the non-aetiology patency hazard ratios among technical successes
    (independent factors multiply; CFV and the stent below the ligament go together)."""
    right = ((1 - BILATERAL) * RIGHT_SIDE + BILATERAL) / (1 + BILATERAL)
    cfv, below = PATENCY_HR["CFV involved"], PATENCY_HR["below the inguinal ligament"]
    cfv_and_below = CFV_SHARE * cfv * _mean_multiplier(BELOW_LIGAMENT_IF_CFV, below) + (
        1 - CFV_SHARE
    ) * _mean_multiplier(BELOW_LIGAMENT_OTHERWISE, below)
    return (
        _mean_multiplier(RISK_SHARES["thrombophilia"], PATENCY_HR["thrombophilia"])
        * _mean_multiplier(RISK_SHARES["recent_surgery"], PATENCY_HR["recent surgery"])
        * _mean_multiplier(RISK_SHARES["malignancy"], PATENCY_HR["malignancy"])
        * _mean_multiplier(right, PATENCY_HR["right side"])
        * cfv_and_below
        * _mean_multiplier(POOR_INFLOW, PATENCY_HR["poor inflow"])
        * math.exp(CENTRE_SD**2 / 2)
    )


def dvt_normaliser() -> float:
    """The cohort mean of the recurrent DVT hazard ratios (per patient)."""
    return math.prod(_mean_multiplier(RISK_SHARES[k], hr) for k, hr in DVT_HR.items())


# Draws: a uniform in (0, 1) from a hash, normals by Box-Muller from two of them; a
# patient's draws hash (patient index, seed, name), a limb's (patient index, limb
# number, seed, name), a stent's also its number.
MACROS = f"""
CREATE TEMP MACRO synth_unit(h) AS ((h % 1000003)::DOUBLE + 0.5) / 1000003.0;
CREATE TEMP MACRO synth_u(i, s, draw) AS synth_unit(hash(i, s, draw));
CREATE TEMP MACRO synth_z(i, s, draw) AS
    sqrt(-2 * ln(synth_unit(hash(i, s, draw, 1))))
    * cos(2 * pi() * synth_unit(hash(i, s, draw, 2)));
CREATE TEMP MACRO synth_v(i, n, s, draw) AS synth_unit(hash(i, n, s, draw));
CREATE TEMP MACRO synth_zv(i, n, s, draw) AS
    sqrt(-2 * ln(synth_unit(hash(i, n, s, draw, 1))))
    * cos(2 * pi() * synth_unit(hash(i, n, s, draw, 2)));
CREATE TEMP MACRO synth_clamp(x, lo, hi) AS least(greatest(x, lo), hi);
CREATE TEMP MACRO synth_weibull(u, hr, scale, shape) AS scale * pow(-ln(u) / hr, 1 / shape);
CREATE TEMP MACRO synth_bilateral(i, s) AS synth_u(i, s, 'bilateral') < {BILATERAL!r};
"""

# Patients [lo, hi) of a cohort of $patients (the last one limb only when $single_last).
PEOPLE_SQL = f"""
WITH drawn AS (
    SELECT
        i,
        s,
        'S' || lpad((i + 1)::VARCHAR, greatest(7, length($patients::VARCHAR))::INTEGER, '0')
            AS patient_id,
        -- unequal centre sizes: the first centres are the largest
        floor($centers * pow(synth_u(i, s, 'centre'), 1.6))::BIGINT AS centre_index,
        CASE WHEN synth_u(i, s, 'sex') < 0.5 THEN 'F' ELSE 'M' END AS sex,
        {",".join(f"synth_u(i, s, '{k}') < {v!r} AS {k}" for k, v in RISK_SHARES.items())},
        synth_bilateral(i, s) AND NOT ($single_last AND i = $patients - 1) AS bilateral,
        CASE
            WHEN synth_u(i, s, 'aetiology') < 0.55 THEN 'post_thrombotic'
            WHEN synth_u(i, s, 'aetiology') < 0.90 THEN 'non_thrombotic'
            ELSE 'acute_thrombotic'
        END AS patient_aetiology,
        synth_u(i, s, 'side') < 1 - {RIGHT_SIDE!r} AS first_left,
        synth_clamp(round(66 + 14.5 * synth_z(i, s, 'age')), 18, 95)::INTEGER AS age_years,
        round(synth_clamp(24.8 + 1.6 * synth_z(i, s, 'bmi'), 16, 45), 1) AS bmi,
        -- 4018 days: 2010-01-01 to 2020-12-31
        DATE '2010-01-01' + floor(4018 * synth_u(i, s, 'date'))::INTEGER AS first_procedure,
        round(12 + 48 * synth_u(i, s, 'follow_up'), 1) AS planned_follow_up,
        synth_u(i, s, 'dies') < 0.03 AS dies,
        synth_u(i, s, 'staged') < 0.5 AS staged,
        0.5 + 5.5 * synth_u(i, s, 'staged_months') AS staged_months,
        synth_u(i, s, 'embolism') < 0.4 AS embolism,
        synth_u(i, s, 'minor_bleeding') < 0.12 AS minor_bleeding,
        synth_u(i, s, 'major_bleeding') < 0.01 AS major_bleeding,
        synth_u(i, s, 'therapy') AS therapy_draw,
        CASE
            WHEN synth_u(i, s, 'anticoagulant') < 0.5 THEN 'doac'
            WHEN synth_u(i, s, 'anticoagulant') < 0.8 THEN 'vka'
            ELSE 'lmwh'
        END AS anticoagulant,
        CASE WHEN synth_u(i, s, 'ongoing') >= 0.3
            THEN 6 + floor(7 * synth_u(i, s, 'anticoagulant_months')) END AS planned_stop,
        CASE WHEN synth_u(i, s, 'after') < 0.65 THEN 'antiplatelet' ELSE 'none' END AS after,
        exp({" + ".join(f"ln({hr!r}) * {k}::INTEGER" for k, hr in DVT_HR.items())})
            / $dvt_norm AS dvt_hr
    FROM (SELECT i, $seed::BIGINT AS s FROM synth_index WHERE i >= $lo AND i < $hi)
),
followed AS (
    SELECT
        *,
        'C' || lpad((centre_index + 1)::VARCHAR, greatest(2, length($centers::VARCHAR))::INTEGER,
                    '0') AS center,
        -- death ends follow-up: no event after it
        CASE
            WHEN dies THEN round(0.1 + (planned_follow_up - 0.1) * synth_u(i, s, 'death_month'), 1)
            ELSE planned_follow_up
        END AS last_contact
    FROM drawn
)
SELECT
    *,
    -- a staged second limb is treated before the last contact
    CASE WHEN bilateral AND staged
        THEN floor(365.25 / 12 * least(staged_months, last_contact - 0.1))::INTEGER
        ELSE 0 END AS second_offset_days,
    CASE WHEN dvt_draw <= last_contact THEN dvt_draw END AS recurrent_dvt,
    CASE WHEN planned_stop < last_contact THEN planned_stop END AS anticoagulant_stop,
    CASE WHEN last_contact > 6 THEN 6.0 END AS dual_antiplatelet_stop
FROM (
    SELECT *, greatest(0.1, round(synth_weibull(
        synth_u(i, s, 'dvt'), dvt_hr, 36 / pow(-ln(0.80), 1 / 0.8), 0.8), 1)) AS dvt_draw
    FROM followed
)
"""


def _loss(k: int, after: str) -> str:
    """The columns of the ``k``-th loss of patency of a limb, at ``after`` (months)."""
    v = f"synth_v(i, n, s, 'loss{k}"
    return f"""
        {after} AS loss{k}_month,
        CASE
            WHEN {v}_kind') < 0.35 THEN CASE
                WHEN {v}_cause') < 0.30 THEN 'restenosis'
                WHEN {v}_cause') < 0.85 THEN 'in_stent_restenosis'
                WHEN {v}_cause') < 0.95 THEN 'stent_compression'
                ELSE 'stent_fracture' END
            WHEN {v}_cause') < 0.4 THEN 'occlusion'
            ELSE 'stent_thrombosis'
        END AS loss{k}_cause,
        {v}_reopened') < 0.6 AS loss{k}_reopened,
        {v}_type') AS loss{k}_type_draw"""


def _treatment(k: int) -> str:
    """What treated the ``k``-th loss: a reintervention's type, its target lesion and
    whether patency was restored (an occlusion reopened)."""
    cause, draw = f"loss{k}_cause", f"loss{k}_type_draw"
    return f"""
        CASE
            WHEN {cause} = 'restenosis' THEN
                CASE WHEN {draw} < 0.6 THEN 'extension' ELSE 'angioplasty' END
            WHEN {cause} = 'in_stent_restenosis' THEN
                CASE WHEN {draw} < 0.7 THEN 'angioplasty' ELSE 'restenting' END
            WHEN {cause} IN ('stent_compression', 'stent_fracture') THEN 'restenting'
            WHEN loss{k}_reopened THEN 'thrombolysis'
        END AS loss{k}_type,
        {cause} IN ('occlusion', 'stent_thrombosis') AND loss{k}_reopened AS loss{k}_restored"""


LIMBS_SQL = f"""
WITH drawn AS (
    SELECT
        p.*,
        n,
        p.patient_id || '-' || (n + 1)::VARCHAR AS limb_id,
        CASE WHEN (n = 0) = first_left THEN 'left' ELSE 'right' END AS side,
        CASE
            WHEN n = 1 AND synth_v(i, n, s, 'aetiology') < 0.2 THEN
                CASE patient_aetiology WHEN 'non_thrombotic' THEN 'post_thrombotic'
                    ELSE 'non_thrombotic' END
            ELSE patient_aetiology
        END AS aetiology,
        CASE WHEN n = 0 THEN 0 ELSE second_offset_days END AS offset_days,
        synth_v(i, n, s, 'success') < 0.92 AS technical_success,
        -- segment patterns weighted 17, 2, 4, 6, 7 (of 36), all contiguous
        CASE
            WHEN 36 * synth_v(i, n, s, 'segments') < 17 THEN 'CIV EIV CFV'
            WHEN 36 * synth_v(i, n, s, 'segments') < 19 THEN 'IVC CIV EIV CFV'
            WHEN 36 * synth_v(i, n, s, 'segments') < 23 THEN 'IVC CIV'
            WHEN 36 * synth_v(i, n, s, 'segments') < 29 THEN 'CIV EIV'
            ELSE 'EIV CFV'
        END AS segments,
        synth_v(i, n, s, 'symptoms') AS symptoms_draw,
        synth_v(i, n, s, 'urokinase') < 0.25 AS urokinase,
        CASE
            WHEN synth_v(i, n, s, 'access') < 0.80 THEN 'popliteal'
            WHEN synth_v(i, n, s, 'access') < 0.95 THEN 'small_saphenous'
            ELSE 'femoral'
        END AS access_vein,
        synth_v(i, n, s, 'ivus') < 0.6 AS ivus,
        synth_v(i, n, s, 'inflow') < {POOR_INFLOW!r} AS poor_inflow,
        synth_v(i, n, s, 'below') AS below_draw,
        (1 + floor(3 * synth_v(i, n, s, 'stents')))::INTEGER AS stents_if_success,
        synth_v(i, n, s, 'stent_count_given') < 0.8 AS stent_count_given,
        CASE
            WHEN synth_v(i, n, s, 'brand') < 0.35 THEN 'Wallstent'
            WHEN synth_v(i, n, s, 'brand') < 0.55 THEN 'Venovo'
            WHEN synth_v(i, n, s, 'brand') < 0.75 THEN 'Vici'
            WHEN synth_v(i, n, s, 'brand') < 0.90 THEN 'Abre'
            ELSE 'sinus-Venous'
        END AS brand,
        synth_v(i, n, s, 'mixed') < 1 / 7 AS mixed_design,
        synth_v(i, n, s, 'ceap') AS ceap_draw,
        synth_v(i, n, s, 'ceap_after') AS ceap_after_draw,
        synth_v(i, n, s, 'heal') AS heal_draw,
        synth_v(i, n, s, 'heal_month') AS heal_month_draw,
        synth_v(i, n, s, 'recur') < 0.15 AS recurs,
        round(3 + 27 * synth_v(i, n, s, 'recur_month'), 1) AS recur_gap,
        synth_zv(i, n, s, 'villalta') AS villalta_z,
        synth_zv(i, n, s, 'villalta_change') AS villalta_change_z,
        synth_zv(i, n, s, 'vcss') AS vcss_z,
        synth_zv(i, n, s, 'vcss_change') AS vcss_change_z,
        synth_zv(i, n, s, 'veines_qol') AS qol_z,
        synth_zv(i, n, s, 'veines_qol_change') AS qol_change_z,
        synth_zv(i, n, s, 'veines_sym') AS sym_z,
        synth_zv(i, n, s, 'veines_sym_change') AS sym_change_z,
        synth_zv(i, n, s, 'civiq') AS civiq_z,
        synth_zv(i, n, s, 'civiq_change') AS civiq_change_z,
        synth_v(i, n, s, 'reflux') < 0.735 AS reflux_before,
        synth_v(i, n, s, 'reflux_change') AS reflux_change_draw,
        CASE
            WHEN synth_v(i, n, s, 'imaging') < 0.85 THEN 'duplex'
            WHEN synth_v(i, n, s, 'imaging') < 0.95 THEN 'ct'
            ELSE 'venography'
        END AS follow_up_imaging
    FROM synth_people AS p JOIN (VALUES (0), (1)) AS limb(n) ON n = 0 OR p.bilateral
),
placed AS (
    SELECT
        *,
        first_procedure + offset_days AS procedure_date,
        -- the limb_clock view's offset, so a patient event lands on this limb's clock
        last_contact - offset_days / (365.25 / 12) AS follow_up_months,
        CASE aetiology
            WHEN 'non_thrombotic' THEN NULL
            WHEN 'acute_thrombotic' THEN round(0.1 + 0.4 * symptoms_draw, 1)
            ELSE 4 + floor(33 * symptoms_draw)
        END AS symptom_duration_months,
        contains(segments, 'IVC') AS seg_ivc,
        contains(segments, 'CIV') AS seg_civ,
        contains(segments, 'EIV') AS seg_eiv,
        contains(segments, 'CFV') AS seg_cfv,
        CASE WHEN technical_success THEN stents_if_success ELSE 0 END AS stent_rows,
        technical_success AND CASE WHEN contains(segments, 'CFV')
            THEN below_draw < {BELOW_LIGAMENT_IF_CFV!r}
            ELSE below_draw < {BELOW_LIGAMENT_OTHERWISE!r} END AS below_inguinal_ligament,
        CASE WHEN technical_success THEN CASE WHEN poor_inflow THEN 'poor' ELSE 'good' END END
            AS inflow,
        CASE aetiology
            WHEN 'non_thrombotic' THEN
                CASE WHEN ceap_draw < 0.40 THEN 3 WHEN ceap_draw < 0.75 THEN 4
                     WHEN ceap_draw < 0.90 THEN 5 ELSE 6 END
            WHEN 'acute_thrombotic' THEN
                CASE WHEN ceap_draw < 0.60 THEN 3 WHEN ceap_draw < 0.85 THEN 4
                     WHEN ceap_draw < 0.95 THEN 5 ELSE 6 END
            -- the demo's paper: C4 11, C5 15, C6 8 of 34
            ELSE CASE WHEN ceap_draw < 0.32 THEN 4 WHEN ceap_draw < 0.76 THEN 5 ELSE 6 END
        END AS ceap_before,
        CASE aetiology WHEN 'non_thrombotic' THEN 7.5 WHEN 'acute_thrombotic' THEN 12.5
            ELSE 11.9 END AS villalta_mean
    FROM drawn
),
hazards AS (
    SELECT
        *,
        exp(
            ln({PATENCY_HR["thrombophilia"]!r}) * thrombophilia::INTEGER
            + ln({PATENCY_HR["recent surgery"]!r}) * recent_surgery::INTEGER
            + ln({PATENCY_HR["malignancy"]!r}) * malignancy::INTEGER
            + ln({PATENCY_HR["right side"]!r}) * (side = 'right')::INTEGER
            + ln({PATENCY_HR["CFV involved"]!r}) * seg_cfv::INTEGER
            + ln({PATENCY_HR["below the inguinal ligament"]!r}) * below_inguinal_ligament::INTEGER
            + ln({PATENCY_HR["poor inflow"]!r}) * poor_inflow::INTEGER
            + {CENTRE_SD!r} * synth_z(centre_index, s, 'centre_effect')
        ) * CASE aetiology {" ".join(f"WHEN '{a}' THEN {hr!r}" for a, hr in AETIOLOGY_HR.items())}
        END / $patency_norm AS patency_hr
    FROM placed
),
timed AS (
    SELECT
        *,
        CASE WHEN technical_success THEN greatest(0.1, round(synth_weibull(
            synth_v(i, n, s, 'patency'), patency_hr, {PATENCY_SCALE!r}, 0.5), 1))
        END AS patency_draw,
        CASE
            WHEN ceap_before <> 6 THEN NULL
            WHEN heal_draw < 0.4 THEN round(1 + 2 * heal_month_draw, 1)
            WHEN heal_draw < 0.8 THEN round(3 + 21 * heal_month_draw, 1)
        END AS heal_draw_month
    FROM hazards
),
first_loss AS (
    SELECT
        *,
        {_loss(1, "CASE WHEN patency_draw <= follow_up_months THEN patency_draw END")},
        CASE WHEN ceap_before = 5 THEN 0.0 ELSE heal_draw_month END AS healed_from
    FROM timed
),
second_loss AS (
    SELECT
        *,
        {_treatment(1)},
        {
    _loss(
        2,
        '''CASE WHEN synth_v(i, n, s, 'second') < 0.5
            THEN loss1_month + round(1 + 47 * synth_v(i, n, s, 'second_gap'), 1) END''',
    )
}
    FROM first_loss
)
SELECT
    * REPLACE (CASE WHEN loss1_type IS NOT NULL THEN loss2_month END AS loss2_month),
    {_treatment(2)},
    CASE WHEN heal_draw_month <= follow_up_months THEN heal_draw_month END AS ulcer_healed,
    CASE WHEN recurs AND healed_from + recur_gap <= follow_up_months
        THEN healed_from + recur_gap END AS ulcer_recurred,
    -- the 12-month visit only for a limb followed beyond it (else the last visit is it)
    CASE WHEN follow_up_months > 12 THEN 12.0 END AS year_visit,
    least(follow_up_months, 36.0) AS last_visit
FROM second_loss
"""

INSERT_PATIENTS = """
INSERT INTO patients BY NAME
SELECT patient_id, sex, malignancy, smoking, immobilization, thrombophilia, recent_surgery,
       trauma, diabetes, center
FROM synth_people
"""

INSERT_LIMBS = """
INSERT INTO limbs BY NAME
SELECT limb_id, patient_id, side, aetiology, procedure_date, age_years, bmi, technical_success,
       follow_up_months, symptom_duration_months, seg_ivc, seg_civ, seg_eiv, seg_cfv, inflow,
       ivus, urokinase, CASE WHEN stent_count_given OR NOT technical_success THEN stent_rows END
           AS stents, access_vein
FROM synth_limbs
"""

# The limb's stents central to peripheral: the first 14-20 mm, the others 12-16 mm; the
# last the one below the inguinal ligament, and of the other design on a mixed limb.
INSERT_STENTS = """
INSERT INTO stents BY NAME
SELECT
    limb_id,
    CASE WHEN other_design THEN
        CASE WHEN brand = 'Wallstent' THEN 'Venovo' ELSE 'Wallstent' END
    ELSE brand END AS brand,
    CASE WHEN (brand = 'Wallstent') <> other_design THEN 'braided' ELSE 'laser_cut' END AS design,
    CASE WHEN k = 0 THEN 14 + 2 * floor(4 * synth_unit(hash(i, n, k, s, 'diameter')))
        ELSE 12 + 2 * floor(3 * synth_unit(hash(i, n, k, s, 'diameter'))) END AS diameter_mm,
    [40, 60, 80, 90, 100, 120, 150][1 + floor(7 * synth_unit(hash(i, n, k, s, 'length')))::INTEGER]
        AS length_mm,
    last AND below_inguinal_ligament AS below_inguinal_ligament
FROM (
    SELECT *, k = stent_rows - 1 AS last, mixed_design AND k = stent_rows - 1 AND k > 0
        AS other_design
    FROM synth_limbs JOIN (VALUES (0), (1), (2)) AS stent(k) ON k < stent_rows
)
"""


def _loss_events(k: int) -> str:
    """The ``k``-th loss of patency as events: the finding, its reintervention, its reopening."""
    month = f"loss{k}_month"
    return f"""
        {{'month': {month}, 'event': loss{k}_cause, 'reintervention_type': NULL::VARCHAR,
          'indication': NULL::VARCHAR, 'target_lesion': NULL::BOOLEAN}},
        {{'month': CASE WHEN loss{k}_type IS NOT NULL THEN {month} END, 'event': 'reintervention',
          'reintervention_type': loss{k}_type, 'indication': loss{k}_cause,
          'target_lesion': loss{k}_type <> 'extension'}},
        {{'month': CASE WHEN loss{k}_restored THEN {month} END, 'event': 'patency_restored',
          'reintervention_type': NULL, 'indication': NULL, 'target_lesion': NULL}}"""


INSERT_LIMB_EVENTS = f"""
INSERT INTO events BY NAME
SELECT patient_id, limb_id, e.month, e.event, e.reintervention_type, e.indication,
       e.target_lesion
FROM (
    SELECT patient_id, limb_id, follow_up_months, unnest([
        {_loss_events(1)},
        {_loss_events(2)},
        {{'month': ulcer_healed, 'event': 'ulcer_healed', 'reintervention_type': NULL,
          'indication': NULL, 'target_lesion': NULL}},
        {{'month': ulcer_recurred, 'event': 'ulcer_recurred', 'reintervention_type': NULL,
          'indication': NULL, 'target_lesion': NULL}}
    ]) AS e
    FROM synth_limbs
)
WHERE e.month IS NOT NULL AND e.month <= follow_up_months
"""

INSERT_PATIENT_EVENTS = """
INSERT INTO events BY NAME
SELECT patient_id, NULL AS limb_id, e.month, e.event
FROM (
    SELECT patient_id, last_contact, unnest([
        {'month': recurrent_dvt, 'event': 'recurrent_dvt'},
        {'month': CASE WHEN embolism THEN recurrent_dvt END, 'event': 'pulmonary_embolism'},
        {'month': CASE WHEN minor_bleeding THEN 0.03 END, 'event': 'minor_bleeding'},
        {'month': CASE WHEN major_bleeding THEN 0.03 END, 'event': 'major_bleeding'},
        {'month': CASE WHEN dies THEN last_contact END, 'event': 'death'}
    ]) AS e
    FROM synth_people
)
WHERE e.month IS NOT NULL AND e.month <= last_contact
"""

# Periods on the patient's clock; one stopped at or after the last contact is ongoing.
INSERT_ANTITHROMBOTIC = """
INSERT INTO antithrombotic BY NAME
SELECT patient_id, t.start_month, t.end_month, t.agent
FROM (
    SELECT patient_id, unnest(CASE
        WHEN therapy_draw < 0.05 THEN
            [{'start_month': 0.0, 'end_month': NULL::DOUBLE, 'agent': 'none'}]
        WHEN therapy_draw < 0.12 THEN [
            {'start_month': 0.0, 'end_month': dual_antiplatelet_stop,
             'agent': 'dual_antiplatelet'},
            {'start_month': dual_antiplatelet_stop, 'end_month': NULL, 'agent': 'antiplatelet'}]
        ELSE [
            {'start_month': 0.0, 'end_month': anticoagulant_stop, 'agent': anticoagulant},
            {'start_month': anticoagulant_stop, 'end_month': NULL, 'agent': after}]
    END) AS t
    FROM synth_people
)
WHERE t.start_month IS NOT NULL
"""


def _visit(month: str, share: float) -> str:
    """One follow-up visit at ``month``, ``share`` of the way to the last visit's change.

    CEAP: an open or recurred ulcer is C6, a healed one C5 (never below); a C3 or C4
    limb may improve one class after a stent (8 of the demo's 11 C4 limbs reach C3)."""
    open_ulcer = (
        f"(ceap_before = 6 AND (ulcer_healed IS NULL OR ulcer_healed > {month}) "
        f"OR coalesce(ulcer_recurred <= {month}, false))"
    )
    improves = (
        "technical_success AND (ceap_before = 4 AND ceap_after_draw < 8 / 11 "
        "OR ceap_before = 3 AND ceap_after_draw < 0.5)"
    )
    ceap = (
        f"CASE WHEN {open_ulcer} THEN 6 WHEN ceap_before = 5 OR ceap_before = 6 THEN 5 "
        f"WHEN {improves} THEN ceap_before - 1 ELSE ceap_before END"
    )
    return f"""{{
        'month': {month},
        'ceap_c': {ceap},
        'villalta': synth_clamp(round(villalta_before - {share!r} * CASE
            WHEN technical_success THEN 6.6 + 2.0 * villalta_change_z
            ELSE 1.0 + 1.0 * villalta_change_z END), 0, 33)::INTEGER,
        'vcss': synth_clamp(round(vcss_before - {share!r} * CASE
            WHEN technical_success THEN 3.5 + 1.5 * vcss_change_z ELSE 0.5 + vcss_change_z END
            + 4 * (({open_ulcer})::INTEGER - (ceap_before = 6)::INTEGER)), 0, 30)::INTEGER,
        'veines_qol': round(synth_clamp(veines_qol_before + {share!r} * CASE
            WHEN technical_success THEN 9 + 6 * qol_change_z ELSE 1 + 5 * qol_change_z END,
            0, 100), 1),
        'veines_sym': round(synth_clamp(veines_sym_before + {share!r} * CASE
            WHEN technical_success THEN 10 + 6 * sym_change_z ELSE 1 + 5 * sym_change_z END,
            0, 100), 1),
        'civiq20': synth_clamp(round(civiq20_before - {share!r} * CASE
            WHEN technical_success THEN 16 + 10 * civiq_change_z ELSE 2 + 8 * civiq_change_z END),
            20, 100)::INTEGER,
        'reflux': CASE
            WHEN NOT technical_success THEN reflux_before
            WHEN reflux_before THEN reflux_change_draw >= 0.16
            ELSE reflux_change_draw < 0.11 END,
        'ulcer': CASE
            WHEN coalesce(ulcer_recurred <= {month}, false) THEN 'recurrent'
            WHEN {open_ulcer} THEN 'active'
            WHEN ceap_before >= 5 THEN 'healed'
            ELSE 'none' END,
        'imaging': follow_up_imaging
    }}"""


INSERT_ASSESSMENTS = f"""
INSERT INTO assessments BY NAME
SELECT limb_id, unnest(v)
FROM (
    SELECT limb_id, follow_up_months, unnest([
        {{'month': 0.0, 'ceap_c': ceap_before, 'villalta': villalta_before,
          'vcss': vcss_before, 'veines_qol': veines_qol_before, 'veines_sym': veines_sym_before,
          'civiq20': civiq20_before, 'reflux': reflux_before,
          'ulcer': CASE ceap_before WHEN 6 THEN 'active' WHEN 5 THEN 'healed' ELSE 'none' END,
          'imaging': CASE WHEN ivus THEN 'ivus' ELSE 'venography' END}},
        {_visit("year_visit", 0.9)},
        {_visit("last_visit", 1.0)}
    ]) AS v
    FROM (
        SELECT
            *,
            synth_clamp(round(villalta_mean + 3.25 * villalta_z), 0, 33)::INTEGER
                AS villalta_before,
            synth_clamp(round(2 * ceap_before - 1 + 2 * vcss_z), 0, 30)::INTEGER AS vcss_before,
            round(synth_clamp(40 + 8 * qol_z, 0, 100), 1) AS veines_qol_before,
            round(synth_clamp(41 + 8 * sym_z, 0, 100), 1) AS veines_sym_before,
            synth_clamp(round(58 + 14 * civiq_z), 20, 100)::INTEGER AS civiq20_before
        FROM synth_limbs
    )
)
WHERE v.month IS NOT NULL
"""


@dataclass(frozen=True)
class Size:
    """The patients to draw, and whether the last one is cut to one limb (a size in limbs)."""

    patients: int
    single_last: bool  # the last patient is drawn bilateral but given one limb, to end on N limbs


def synthesize(
    out: Path,
    patients: int | None = None,
    centers: int = 20,
    seed: int = 1,
    *,
    limbs: int | None = None,
) -> Path:
    """Write a synthetic multi-centre registry file at ``out`` of ``patients`` patients or of
    ``limbs`` limbs (one of the two).

    The same (size, centers, seed) always gives the same rows. Raises ValueError for a
    cohort that cannot exist; on any failure ``out`` is left as it was.
    """
    _check_arguments(patients, limbs, centers, seed)
    with (
        written_beside(Path(out)) as tmp,
        duckdb.connect(str(tmp), config=dict(CONNECT_CONFIG)) as con,
    ):
        con.execute(SCHEMA_PATH.read_text())
        con.execute(MACROS)
        size = _size(con, patients, limbs, seed)
        _write_rows(con, size, centers, seed)
        create_summary(con)
        write_metadata(con, _metadata(centers, seed))
    return Path(out)


def _check_arguments(patients: int | None, limbs: int | None, centers: int, seed: int) -> None:
    """Refuse a cohort that cannot be drawn, before any file is touched."""
    if (patients is None) == (limbs is None):
        raise ValueError("give the size in patients or in limbs, not both or neither")
    if patients is not None and patients < 1:
        raise ValueError(f"patients must be at least 1, not {patients}")
    if limbs is not None and limbs < 1:
        raise ValueError(f"limbs must be at least 1, not {limbs}")
    if centers < 1:
        raise ValueError(f"centers must be at least 1, not {centers}")
    if not -(2**63) <= seed < 2**63:
        raise ValueError(f"seed must fit in 64 bits, not {seed}")


def _size(
    con: duckdb.DuckDBPyConnection, patients: int | None, limbs: int | None, seed: int
) -> Size:
    """The patients to draw: as asked, or the first ones whose limbs make ``limbs``."""
    if limbs is None:
        return Size(patients, single_last=False)
    count, overshoots = con.execute(
        """
        SELECT count(*), coalesce(bool_or(before + limbs > $limbs), false)
        FROM (
            SELECT limbs, sum(limbs) OVER (ORDER BY i ROWS UNBOUNDED PRECEDING) - limbs AS before
            FROM (SELECT range AS i, 1 + synth_bilateral(range, $seed::BIGINT)::INTEGER AS limbs
                  FROM range($limbs::BIGINT))
        )
        WHERE before < $limbs
        """,
        {"limbs": limbs, "seed": seed},
    ).fetchall()[0]
    return Size(count, single_last=overshoots)


def _write_rows(con: duckdb.DuckDBPyConnection, size: Size, centers: int, seed: int) -> None:
    """Every table in batches of patients (bounded memory), parents before children.

    Each batch's draws are made once into two temporary tables (its patients, its limbs)
    that every insert reads; the patient indexes are a table, not ``range()``, so DuckDB
    scans them in parallel.
    """
    con.execute(
        "CREATE TEMP TABLE synth_index AS SELECT range AS i FROM range($patients::BIGINT)",
        {"patients": size.patients},
    )
    for lo in range(0, size.patients, BATCH_PATIENTS):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE synth_people AS {PEOPLE_SQL}",
            {
                "patients": size.patients,
                "single_last": size.single_last,
                "centers": centers,
                "seed": seed,
                "lo": lo,
                "hi": lo + BATCH_PATIENTS,
                "dvt_norm": dvt_normaliser(),
            },
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE synth_limbs AS {LIMBS_SQL}",
            {"patency_norm": patency_normaliser()},
        )
        for insert in (
            INSERT_PATIENTS,
            INSERT_LIMBS,
            INSERT_STENTS,
            INSERT_LIMB_EVENTS,
            INSERT_PATIENT_EVENTS,
            INSERT_ASSESSMENTS,
            INSERT_ANTITHROMBOTIC,
        ):
            con.execute(insert)
    con.execute("DROP TABLE synth_people; DROP TABLE synth_limbs; DROP TABLE synth_index")


@dataclass(frozen=True)
class CohortSize:
    """What a registry holds: limbs, patients, and patients with two limbs (bilateral)."""

    limbs: int
    patients: int
    bilateral: int

    @property
    def bilateral_share(self) -> float:
        """The share of patients with two limbs."""
        return self.bilateral / self.patients


def cohort_size(con: duckdb.DuckDBPyConnection) -> CohortSize:
    """The limbs, patients and bilateral patients of an open cohort."""
    return CohortSize(
        *con.execute(
            "SELECT count(*), count(DISTINCT patient_id), "
            "count(DISTINCT patient_id) FILTER (WHERE patient_limbs = 2) FROM limb_clock"
        ).fetchall()[0]
    )


def _metadata(centers: int, seed: int) -> dict[str, str]:
    """Provenance that says plainly the rows are synthetic, and how to make them again. The
    name carries no count: it heads every chart and slide, where privacy mode and a
    centre's scope decide which of the file's counts show."""
    hazard_ratios = ", ".join(f"{name} {hr}" for name, hr in PATENCY_HR.items())
    return {
        "name": f"Synthetic registry ({centers} centres, seed {seed})",
        "source": (
            "Synthetic: generated by analytics.cohort.synth; no real patient is behind any row."
        ),
        "method": (
            "Drawn in DuckDB SQL from hashes of (patient, limb, seed). One patient in ten "
            "bilateral (the second limb the same day or staged up to 6 months later); "
            "aetiology post-thrombotic 55%, non-thrombotic 35%, acute thrombotic 10%. "
            "Weibull primary patency per limb (shape 0.5; post-thrombotic limbs 73% at 12 "
            "and 59% at 36 months, the demo's rates) with hazard ratios "
            f"{hazard_ratios}, a log-normal centre effect (SD {CENTRE_SD}), and by aetiology "
            f"non-thrombotic {AETIOLOGY_HR['non_thrombotic']} and acute thrombotic "
            f"{AETIOLOGY_HR['acute_thrombotic']} against post-thrombotic; repeated typed "
            "reinterventions; recurrent DVT per patient 20% by 36 months, hazard ratios "
            "thrombophilia 2.0 and malignancy 1.8; anticoagulant, antiplatelet and none "
            "periods; CEAP never below C5 once C5 or C6."
        ),
        "created": date.today().isoformat(),
        "is_reconstruction": "false",
        "synthetic": "true",
        "seed": str(seed),
    }
