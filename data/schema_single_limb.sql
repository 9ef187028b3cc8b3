-- The cohort file format (its version: SCHEMA_VERSION in analytics/cohort/db.py).
-- One DuckDB file per cohort: patients, their assessments, their events, and
-- provenance. The COMMENT lines are the data dictionary (docs/data-dictionary.md
-- is generated from them), so a column's meaning is written exactly once.
-- No direct identifiers: patient_id is a pseudonym; no names, no record numbers.

CREATE TABLE cohort_metadata (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
COMMENT ON TABLE cohort_metadata IS 'Provenance of the cohort: one row per key (name, source, method, created, built_at, schema_version, is_reconstruction, not_published).';
COMMENT ON COLUMN cohort_metadata.key IS 'Provenance item, e.g. source, method, schema_version.';
COMMENT ON COLUMN cohort_metadata.value IS 'Its value, as text.';

CREATE TABLE patients (
    patient_id              VARCHAR PRIMARY KEY CHECK (length(patient_id) BETWEEN 1 AND 64),
    age_years               INTEGER NOT NULL CHECK (age_years BETWEEN 18 AND 110),
    sex                     VARCHAR NOT NULL CHECK (sex IN ('F', 'M')),
    bmi                     DOUBLE  NOT NULL CHECK (bmi BETWEEN 12 AND 70),
    lesion_side             VARCHAR NOT NULL CHECK (lesion_side IN ('left', 'right')),
    procedure_date          DATE    NOT NULL,
    technical_success       BOOLEAN NOT NULL,
    follow_up_months        DOUBLE  NOT NULL CHECK (follow_up_months BETWEEN 0 AND 600),
    symptom_duration_months DOUBLE  NOT NULL CHECK (symptom_duration_months BETWEEN 0 AND 600),
    malignancy              BOOLEAN NOT NULL,
    smoking                 BOOLEAN NOT NULL,
    immobilization          BOOLEAN NOT NULL,
    thrombophilia           BOOLEAN NOT NULL,
    recent_surgery          BOOLEAN NOT NULL,
    trauma                  BOOLEAN NOT NULL,
    diabetes                BOOLEAN NOT NULL,
    seg_ivc                 BOOLEAN NOT NULL,
    seg_civ                 BOOLEAN NOT NULL,
    seg_eiv                 BOOLEAN NOT NULL,
    seg_cfv                 BOOLEAN NOT NULL,
    center                  VARCHAR CHECK (length(center) BETWEEN 1 AND 64),
    urokinase               BOOLEAN,
    stents                  INTEGER CHECK (stents BETWEEN 0 AND 10),
    access_vein             VARCHAR CHECK (access_vein IN ('popliteal', 'small_saphenous', 'femoral', 'jugular', 'other')),
    -- A lesion involves at least one segment, and contiguous ones only
    -- (IVC, CIV, EIV, CFV run central to peripheral: no gap in between).
    CHECK (seg_ivc OR seg_civ OR seg_eiv OR seg_cfv),
    CHECK (NOT (seg_ivc AND NOT seg_civ AND (seg_eiv OR seg_cfv))),
    CHECK (NOT (seg_civ AND NOT seg_eiv AND seg_cfv)),
    -- Without a stent in place there is no technical success.
    CHECK (stents IS NULL OR NOT technical_success OR stents >= 1)
);
COMMENT ON TABLE patients IS 'One row per treated limb (patient): baseline characteristics, lesion anatomy and follow-up.';
COMMENT ON COLUMN patients.patient_id IS 'Pseudonymous identifier, text, 1-64 characters. Never a name or hospital number.';
COMMENT ON COLUMN patients.age_years IS 'Age at the procedure, whole years (18-110).';
COMMENT ON COLUMN patients.sex IS 'Sex: F (female) or M (male).';
COMMENT ON COLUMN patients.bmi IS 'Body mass index at the procedure, kg/m2 (12-70).';
COMMENT ON COLUMN patients.lesion_side IS 'Side of the treated iliofemoral lesion: left or right.';
COMMENT ON COLUMN patients.procedure_date IS 'Date of the index procedure (ISO, YYYY-MM-DD). Stored for registry audit only; never shown.';
COMMENT ON COLUMN patients.technical_success IS 'Lesion crossed, dilated and stented with restored in-line flow at the end of the index procedure (true/false).';
COMMENT ON COLUMN patients.follow_up_months IS 'Time from the procedure to the last contact (or death), months (0-600). Time-to-event endpoints are censored here.';
COMMENT ON COLUMN patients.symptom_duration_months IS 'Duration of DVT symptoms before the procedure, months (chronic DVT: more than 3).';
COMMENT ON COLUMN patients.malignancy IS 'Risk factor: active malignancy (true/false).';
COMMENT ON COLUMN patients.smoking IS 'Risk factor: current smoker (true/false).';
COMMENT ON COLUMN patients.immobilization IS 'Risk factor: immobilization 4-30 days before DVT onset (true/false).';
COMMENT ON COLUMN patients.thrombophilia IS 'Risk factor: documented biochemical hypercoagulable disorder, e.g. protein C or S or antithrombin III deficiency, lupus anticoagulant (true/false).';
COMMENT ON COLUMN patients.recent_surgery IS 'Risk factor: surgery 30-90 days before DVT onset (true/false).';
COMMENT ON COLUMN patients.trauma IS 'Risk factor: trauma 14-30 days before DVT onset (true/false).';
COMMENT ON COLUMN patients.diabetes IS 'Risk factor: diabetes mellitus (true/false).';
COMMENT ON COLUMN patients.seg_ivc IS 'Lesion involves the inferior vena cava (true/false).';
COMMENT ON COLUMN patients.seg_civ IS 'Lesion involves the common iliac vein (true/false).';
COMMENT ON COLUMN patients.seg_eiv IS 'Lesion involves the external iliac vein (true/false).';
COMMENT ON COLUMN patients.seg_cfv IS 'Lesion involves the common femoral vein (true/false). Involved segments must be contiguous.';
COMMENT ON COLUMN patients.center IS 'Optional. Treating centre, pseudonymous label (1-64 characters).';
COMMENT ON COLUMN patients.urokinase IS 'Optional. Low-dose urokinase given to macerate a tough lesion during the procedure (true/false).';
COMMENT ON COLUMN patients.stents IS 'Optional. Number of stents implanted (0-10; at least 1 when technical_success).';
COMMENT ON COLUMN patients.access_vein IS 'Optional. Venous access: popliteal, small_saphenous, femoral, jugular or other.';

CREATE TABLE assessments (
    patient_id VARCHAR NOT NULL REFERENCES patients (patient_id),
    month      DOUBLE  NOT NULL CHECK (month BETWEEN 0 AND 600),
    ceap_c     INTEGER CHECK (ceap_c BETWEEN 0 AND 6),
    villalta   INTEGER CHECK (villalta BETWEEN 0 AND 33),
    reflux     BOOLEAN,
    PRIMARY KEY (patient_id, month)
);
COMMENT ON TABLE assessments IS 'Clinical assessments: one row per patient and visit; month 0 is the assessment before the procedure. A measure not taken at a visit is empty.';
COMMENT ON COLUMN assessments.patient_id IS 'The patient assessed (must exist in patients).';
COMMENT ON COLUMN assessments.month IS 'Visit time, months after the procedure (0 = before the procedure).';
COMMENT ON COLUMN assessments.ceap_c IS 'CEAP clinical class of the treated limb, 0-6 (C6 = active venous ulcer).';
COMMENT ON COLUMN assessments.villalta IS 'Villalta score, 0-33 (5 symptoms and 6 signs, each 0-3). PTS when 5 or more, or an active ulcer.';
COMMENT ON COLUMN assessments.reflux IS 'Valvular incompetence on duplex: reflux of 0.5 s or longer (true/false).';

CREATE TABLE events (
    patient_id VARCHAR NOT NULL REFERENCES patients (patient_id),
    month      DOUBLE  NOT NULL CHECK (month BETWEEN 0 AND 600),
    event      VARCHAR NOT NULL CHECK (event IN (
        'restenosis', 'occlusion', 'reintervention', 'patency_restored', 'recurrent_dvt',
        'pulmonary_embolism', 'minor_bleeding', 'major_bleeding', 'death', 'ulcer_healed'
    )),
    PRIMARY KEY (patient_id, month, event)
);
COMMENT ON TABLE events IS 'Dated clinical events after the procedure: one row per patient, time and event.';
COMMENT ON COLUMN events.patient_id IS 'The patient (must exist in patients).';
COMMENT ON COLUMN events.month IS 'When the event happened or was found, months after the procedure (not after follow_up_months).';
COMMENT ON COLUMN events.event IS 'restenosis (>= 50%), occlusion, reintervention (any procedure on the treated segment), patency_restored (an occlusion reopened), recurrent_dvt, pulmonary_embolism, minor_bleeding (puncture-site ecchymosis or haematoma), major_bleeding, death, ulcer_healed.';

-- Time-to-event per patient and endpoint, following the SVS/SIR definitions:
--   primary           lost at the first restenosis, occlusion or reintervention;
--   assisted_primary  lost at the first occlusion (procedures before it keep it);
--   secondary         lost at the first occlusion not reopened before the next one;
--   recurrent_dvt     the first recurrent DVT.
-- Censored at follow_up_months or death, whichever is first (death censors).
-- A technical failure never had patency: patency endpoints fail at month 0
-- (intention to treat); analyses of technical successes leave them out.
CREATE VIEW time_to_event AS
WITH first_event AS (
    SELECT
        patient_id,
        min(month) FILTER (WHERE event IN ('restenosis', 'occlusion', 'reintervention')) AS primary_loss,
        min(month) FILTER (WHERE event = 'occlusion') AS first_occlusion,
        min(month) FILTER (WHERE event = 'recurrent_dvt') AS first_recurrent_dvt,
        min(month) FILTER (WHERE event = 'death') AS death
    FROM events
    GROUP BY patient_id
),
occlusions AS (
    SELECT
        patient_id,
        month,
        lead(month) OVER (PARTITION BY patient_id ORDER BY month) AS next_occlusion
    FROM events
    WHERE event = 'occlusion'
),
lasting_occlusion AS (
    SELECT o.patient_id, min(o.month) AS month
    FROM occlusions AS o
    WHERE NOT EXISTS (
        SELECT 1
        FROM events AS r
        WHERE r.patient_id = o.patient_id
          AND r.event = 'patency_restored'
          AND r.month >= o.month
          AND (o.next_occlusion IS NULL OR r.month < o.next_occlusion)
    )
    GROUP BY o.patient_id
),
per_patient AS (
    SELECT
        p.patient_id,
        p.technical_success,
        least(p.follow_up_months, coalesce(f.death, p.follow_up_months)) AS censor_month,
        f.primary_loss,
        f.first_occlusion,
        l.month AS secondary_loss,
        f.first_recurrent_dvt
    FROM patients AS p
    LEFT JOIN first_event AS f USING (patient_id)
    LEFT JOIN lasting_occlusion AS l USING (patient_id)
),
long_form AS (
    SELECT patient_id, technical_success, censor_month, 'primary' AS endpoint, primary_loss AS loss, true AS is_patency FROM per_patient
    UNION ALL
    SELECT patient_id, technical_success, censor_month, 'assisted_primary', first_occlusion, true FROM per_patient
    UNION ALL
    SELECT patient_id, technical_success, censor_month, 'secondary', secondary_loss, true FROM per_patient
    UNION ALL
    SELECT patient_id, technical_success, censor_month, 'recurrent_dvt', first_recurrent_dvt, false FROM per_patient
)
SELECT
    patient_id,
    endpoint,
    CASE
        WHEN is_patency AND NOT technical_success THEN 0.0
        WHEN loss IS NOT NULL AND loss <= censor_month THEN loss
        ELSE censor_month
    END AS months,
    (is_patency AND NOT technical_success) OR (loss IS NOT NULL AND loss <= censor_month) AS event
FROM long_form;
COMMENT ON VIEW time_to_event IS 'Derived, not imported: one row per patient and endpoint (primary, assisted_primary, secondary, recurrent_dvt) with the time to the endpoint or to censoring.';
COMMENT ON COLUMN time_to_event.patient_id IS 'The patient.';
COMMENT ON COLUMN time_to_event.endpoint IS 'primary, assisted_primary, secondary (patency of the treated segment) or recurrent_dvt.';
COMMENT ON COLUMN time_to_event.months IS 'Months from the procedure to the endpoint (event) or to the last follow-up or death (censored); 0 for patency after a technical failure.';
COMMENT ON COLUMN time_to_event.event IS 'true: the endpoint happened at months; false: censored at months.';
