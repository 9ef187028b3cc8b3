-- The cohort file format (its version: SCHEMA_VERSION in analytics/cohort/db.py): a
-- stenting service's registry. One DuckDB file per cohort: the people treated, each
-- treated limb, its stents, the events after the procedure, the clinical assessments,
-- the antithrombotic therapy, and provenance. The COMMENT lines are the data dictionary
-- (docs/data-dictionary.md is generated from them), so a column's meaning is written
-- exactly once. No direct identifiers: patient_id and limb_id are pseudonyms; no names,
-- no record numbers. Dates are stored for registry audit only and never shown.
-- The single-limb format of earlier versions (one row per patient, one treated limb
-- each) is data/schema_single_limb.sql; its files and imports are upgraded to this one.

CREATE TABLE cohort_metadata (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
COMMENT ON TABLE cohort_metadata IS 'Provenance of the cohort: one row per key (name, source, method, created, built_at, schema_version, is_reconstruction, not_published).';
COMMENT ON COLUMN cohort_metadata.key IS 'Provenance item, e.g. source, method, schema_version.';
COMMENT ON COLUMN cohort_metadata.value IS 'Its value, as text.';

CREATE TABLE cohort_variables (
    key          VARCHAR PRIMARY KEY,
    source_table VARCHAR NOT NULL CHECK (source_table IN ('patients', 'limbs')),
    position     INTEGER NOT NULL,
    label        VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL CHECK (kind IN ('yes_no', 'category', 'ordered', 'number')),
    levels       VARCHAR[],
    level_labels VARCHAR[],
    unit         VARCHAR,
    bands        INTEGER[],
    low          DOUBLE,
    high         DOUBLE,
    whole        BOOLEAN NOT NULL,
    inferred     BOOLEAN NOT NULL
);
COMMENT ON TABLE cohort_variables IS 'The registry''s own columns (format 7): one row per extra column of patients or limbs, as the import''s dictionary sheet declared it or as its values were taken. Written by the import; empty when the registry adds none.';
COMMENT ON COLUMN cohort_variables.key IS 'The column''s name, in patients or limbs: lower-case letters, digits and _, from a letter.';
COMMENT ON COLUMN cohort_variables.source_table IS 'The table holding it: patients (a person''s) or limbs (a treated limb''s).';
COMMENT ON COLUMN cohort_variables.position IS 'Its place among the own columns (the order shown).';
COMMENT ON COLUMN cohort_variables.label IS 'How it shows (plain words).';
COMMENT ON COLUMN cohort_variables.kind IS 'yes_no, category, ordered (a category whose levels have an order) or number.';
COMMENT ON COLUMN cohort_variables.levels IS 'A category''s codes, in display order.';
COMMENT ON COLUMN cohort_variables.level_labels IS 'How each code shows, in the same order.';
COMMENT ON COLUMN cohort_variables.unit IS 'A number''s unit, when declared.';
COMMENT ON COLUMN cohort_variables.bands IS 'A number''s band cuts (whole numbers, increasing), when declared: it is then a grouping.';
COMMENT ON COLUMN cohort_variables.low IS 'A number''s filter range: the whole number at or below its smallest value.';
COMMENT ON COLUMN cohort_variables.high IS 'A number''s filter range: the whole number at or above its largest value.';
COMMENT ON COLUMN cohort_variables.whole IS 'A number whose every value is a whole number.';
COMMENT ON COLUMN cohort_variables.inferred IS 'True when the import took its kind from its values (no dictionary row).';

CREATE TABLE patients (
    patient_id     VARCHAR PRIMARY KEY CHECK (length(patient_id) BETWEEN 1 AND 64),
    sex            VARCHAR NOT NULL CHECK (sex IN ('F', 'M')),
    malignancy     BOOLEAN NOT NULL,
    smoking        BOOLEAN NOT NULL,
    immobilization BOOLEAN NOT NULL,
    thrombophilia  BOOLEAN NOT NULL,
    recent_surgery BOOLEAN NOT NULL,
    trauma         BOOLEAN NOT NULL,
    diabetes       BOOLEAN NOT NULL,
    center         VARCHAR CHECK (length(center) BETWEEN 1 AND 64)
);
COMMENT ON TABLE patients IS 'One row per person treated: sex, risk factors and centre. Each treated limb is a row of limbs.';
COMMENT ON COLUMN patients.patient_id IS 'Pseudonymous identifier, text, 1-64 characters. Never a name or hospital number.';
COMMENT ON COLUMN patients.sex IS 'Sex: F (female) or M (male).';
COMMENT ON COLUMN patients.malignancy IS 'Risk factor: active malignancy (true/false).';
COMMENT ON COLUMN patients.smoking IS 'Risk factor: current smoker (true/false).';
COMMENT ON COLUMN patients.immobilization IS 'Risk factor: immobilization 4-30 days before DVT onset (true/false).';
COMMENT ON COLUMN patients.thrombophilia IS 'Risk factor: documented biochemical hypercoagulable disorder, e.g. protein C or S or antithrombin III deficiency, lupus anticoagulant (true/false).';
COMMENT ON COLUMN patients.recent_surgery IS 'Risk factor: surgery 30-90 days before DVT onset (true/false).';
COMMENT ON COLUMN patients.trauma IS 'Risk factor: trauma 14-30 days before DVT onset (true/false).';
COMMENT ON COLUMN patients.diabetes IS 'Risk factor: diabetes mellitus (true/false).';
COMMENT ON COLUMN patients.center IS 'Optional. Treating centre, pseudonymous label (1-64 characters).';

CREATE TABLE limbs (
    limb_id                 VARCHAR PRIMARY KEY CHECK (length(limb_id) BETWEEN 1 AND 64),
    patient_id              VARCHAR NOT NULL REFERENCES patients (patient_id),
    side                    VARCHAR NOT NULL CHECK (side IN ('left', 'right')),
    aetiology               VARCHAR NOT NULL CHECK (aetiology IN ('post_thrombotic', 'non_thrombotic', 'acute_thrombotic', 'not_recorded')),
    procedure_date          DATE    NOT NULL,
    age_years               INTEGER NOT NULL CHECK (age_years BETWEEN 18 AND 110),
    bmi                     DOUBLE  NOT NULL CHECK (bmi BETWEEN 12 AND 70),
    technical_success       BOOLEAN NOT NULL,
    follow_up_months        DOUBLE  NOT NULL CHECK (follow_up_months BETWEEN 0 AND 600),
    last_contact_date       DATE,
    symptom_duration_months DOUBLE  CHECK (symptom_duration_months BETWEEN 0 AND 600),
    seg_ivc                 BOOLEAN NOT NULL,
    seg_civ                 BOOLEAN NOT NULL,
    seg_eiv                 BOOLEAN NOT NULL,
    seg_cfv                 BOOLEAN NOT NULL,
    inflow                  VARCHAR CHECK (inflow IN ('good', 'poor')),
    ivus                    BOOLEAN,
    urokinase               BOOLEAN,
    stents                  INTEGER CHECK (stents BETWEEN 0 AND 10),
    access_vein             VARCHAR CHECK (access_vein IN ('popliteal', 'small_saphenous', 'femoral', 'jugular', 'other')),
    -- A patient has at most one treated limb per side (a later procedure on a treated
    -- limb is a reintervention), so at most two: the unit privacy reasons about.
    UNIQUE (patient_id, side),
    -- A lesion involves at least one segment, and contiguous ones only
    -- (IVC, CIV, EIV, CFV run central to peripheral: no gap in between).
    CHECK (seg_ivc OR seg_civ OR seg_eiv OR seg_cfv),
    CHECK (NOT (seg_ivc AND NOT seg_civ AND (seg_eiv OR seg_cfv))),
    CHECK (NOT (seg_civ AND NOT seg_eiv AND seg_cfv)),
    -- Without a stent in place there is no technical success.
    CHECK (stents IS NULL OR NOT technical_success OR stents >= 1),
    -- The last contact is on or after the procedure.
    CHECK (last_contact_date IS NULL OR last_contact_date >= procedure_date)
);
COMMENT ON TABLE limbs IS 'One row per treated limb: the index procedure, the lesion and follow-up. A patient stented on both legs has two rows with one patient_id (one per side); a staged procedure is its own limb with its own date; a later procedure on a treated limb is a reintervention (events).';
COMMENT ON COLUMN limbs.limb_id IS 'Pseudonymous identifier of the treated limb, text, 1-64 characters.';
COMMENT ON COLUMN limbs.patient_id IS 'The patient (must exist in patients).';
COMMENT ON COLUMN limbs.side IS 'Side of the treated limb: left or right.';
COMMENT ON COLUMN limbs.aetiology IS 'Aetiology of the lesion: post_thrombotic (chronic post-thrombotic obstruction), non_thrombotic (non-thrombotic iliac vein lesion, compression), acute_thrombotic, or not_recorded.';
COMMENT ON COLUMN limbs.procedure_date IS 'Date of the index procedure on this limb (ISO, YYYY-MM-DD). Stored for registry audit only; never shown.';
COMMENT ON COLUMN limbs.age_years IS 'Age at the procedure, whole years (18-110).';
COMMENT ON COLUMN limbs.bmi IS 'Body mass index at the procedure, kg/m2 (12-70).';
COMMENT ON COLUMN limbs.technical_success IS 'Lesion crossed, dilated and stented with restored in-line flow at the end of the index procedure (true/false).';
COMMENT ON COLUMN limbs.follow_up_months IS 'Time from this limb''s procedure to the last contact (or death), months (0-600). Its time-to-event endpoints are censored here. May be left empty when last_contact_date is given (computed from it).';
COMMENT ON COLUMN limbs.last_contact_date IS 'Optional. The date of the last follow-up contact of this limb (or of death), when the registry gave one (follow_up_months is computed from it). Stored for registry audit only; never shown.';
COMMENT ON COLUMN limbs.symptom_duration_months IS 'Optional. Duration of DVT symptoms before the procedure, months (chronic DVT: more than 3); empty for a non-thrombotic lesion.';
COMMENT ON COLUMN limbs.seg_ivc IS 'Lesion involves the inferior vena cava (true/false).';
COMMENT ON COLUMN limbs.seg_civ IS 'Lesion involves the common iliac vein (true/false).';
COMMENT ON COLUMN limbs.seg_eiv IS 'Lesion involves the external iliac vein (true/false).';
COMMENT ON COLUMN limbs.seg_cfv IS 'Lesion involves the common femoral vein (true/false). Involved segments must be contiguous.';
COMMENT ON COLUMN limbs.inflow IS 'Optional. Inflow from the femoral and profunda veins at the end of the procedure: good or poor.';
COMMENT ON COLUMN limbs.ivus IS 'Optional. Intravascular ultrasound used to size and place the stents (true/false).';
COMMENT ON COLUMN limbs.urokinase IS 'Optional. Thrombolysis during the procedure: low-dose urokinase given to macerate a tough lesion (true/false).';
COMMENT ON COLUMN limbs.stents IS 'Optional. Number of stents implanted (0-10; at least 1 when technical_success). When stents lists the limb''s stents, their number is used.';
COMMENT ON COLUMN limbs.access_vein IS 'Optional. Venous access: popliteal, small_saphenous, femoral, jugular or other.';

CREATE TABLE stents (
    limb_id                 VARCHAR NOT NULL REFERENCES limbs (limb_id),
    brand                   VARCHAR NOT NULL CHECK (length(brand) BETWEEN 1 AND 64),
    design                  VARCHAR NOT NULL CHECK (design IN ('braided', 'laser_cut', 'hybrid')),
    diameter_mm             DOUBLE  CHECK (diameter_mm BETWEEN 6 AND 36),
    length_mm               DOUBLE  CHECK (length_mm BETWEEN 10 AND 250),
    below_inguinal_ligament BOOLEAN
);
COMMENT ON TABLE stents IS 'One row per stent implanted at the index procedure.';
COMMENT ON COLUMN stents.limb_id IS 'The limb stented (must exist in limbs).';
COMMENT ON COLUMN stents.brand IS 'Stent brand or model as the service records it, e.g. Wallstent, Venovo, Vici, Abre, sinus-Venous (1-64 characters).';
COMMENT ON COLUMN stents.design IS 'Stent design: braided (e.g. stainless steel Wallstent), laser_cut (nitinol dedicated venous stents) or hybrid.';
COMMENT ON COLUMN stents.diameter_mm IS 'Optional. Nominal diameter, mm (6-36).';
COMMENT ON COLUMN stents.length_mm IS 'Optional. Nominal length, mm (10-250).';
COMMENT ON COLUMN stents.below_inguinal_ligament IS 'Optional. The stent extends below the inguinal ligament into the common femoral vein (true/false).';

CREATE TABLE events (
    patient_id          VARCHAR NOT NULL REFERENCES patients (patient_id),
    limb_id             VARCHAR REFERENCES limbs (limb_id),
    month               DOUBLE  NOT NULL CHECK (month BETWEEN 0 AND 600),
    event_date          DATE,
    event               VARCHAR NOT NULL CHECK (event IN (
        'restenosis', 'occlusion', 'stent_thrombosis', 'in_stent_restenosis', 'stent_fracture',
        'stent_compression', 'reintervention', 'patency_restored', 'ulcer_healed',
        'ulcer_recurred', 'recurrent_dvt', 'pulmonary_embolism', 'minor_bleeding',
        'major_bleeding', 'death'
    )),
    reintervention_type VARCHAR CHECK (reintervention_type IN ('thrombolysis', 'angioplasty', 'restenting', 'extension', 'other')),
    indication          VARCHAR CHECK (indication IN ('restenosis', 'occlusion', 'stent_thrombosis', 'in_stent_restenosis', 'stent_fracture', 'stent_compression', 'symptoms', 'other')),
    target_lesion       BOOLEAN,
    -- A limb event names its limb; a patient event (recurrent DVT, pulmonary embolism,
    -- bleeding, death) names only the patient.
    CHECK ((limb_id IS NULL) = (event IN ('recurrent_dvt', 'pulmonary_embolism', 'minor_bleeding', 'major_bleeding', 'death'))),
    -- Only a reintervention has a type, an indication and a target lesion.
    CHECK (event = 'reintervention' OR (reintervention_type IS NULL AND indication IS NULL AND target_lesion IS NULL))
);
COMMENT ON TABLE events IS 'Clinical events after the procedure, one row per event; an event may repeat (two reinterventions in one month are two rows).';
COMMENT ON COLUMN events.patient_id IS 'The patient (must exist in patients; a limb event''s patient is its limb''s).';
COMMENT ON COLUMN events.limb_id IS 'The limb, for a limb event (restenosis to ulcer_recurred); empty for a patient event (recurrent_dvt, pulmonary_embolism, minor_bleeding, major_bleeding, death).';
COMMENT ON COLUMN events.month IS 'When the event happened or was found, months after the limb''s procedure (a patient event: after the patient''s first index procedure); never after follow-up.';
COMMENT ON COLUMN events.event_date IS 'Optional. The event''s date, when the registry gave one (its month is computed from it). Stored for registry audit only; never shown.';
COMMENT ON COLUMN events.event IS 'restenosis (>= 50%), occlusion, stent_thrombosis, in_stent_restenosis (>= 50% within the stent), stent_fracture, stent_compression, reintervention (a procedure on the limb), patency_restored (an occlusion reopened), ulcer_healed, ulcer_recurred; recurrent_dvt, pulmonary_embolism, minor_bleeding (puncture-site ecchymosis or haematoma), major_bleeding, death.';
COMMENT ON COLUMN events.reintervention_type IS 'Optional, a reintervention only: thrombolysis, angioplasty, restenting, extension (a stent added beyond the treated segment) or other.';
COMMENT ON COLUMN events.indication IS 'Optional, a reintervention only: what it treated (restenosis, occlusion, stent_thrombosis, in_stent_restenosis, stent_fracture, stent_compression, symptoms, other).';
COMMENT ON COLUMN events.target_lesion IS 'Optional, a reintervention only: true when it was on the treated segment (the default when empty), false when elsewhere on the limb.';

CREATE TABLE assessments (
    limb_id         VARCHAR NOT NULL REFERENCES limbs (limb_id),
    month           DOUBLE  NOT NULL CHECK (month BETWEEN 0 AND 600),
    assessment_date DATE,
    ceap_c          INTEGER CHECK (ceap_c BETWEEN 0 AND 6),
    villalta        INTEGER CHECK (villalta BETWEEN 0 AND 33),
    vcss            INTEGER CHECK (vcss BETWEEN 0 AND 30),
    veines_qol      DOUBLE  CHECK (veines_qol BETWEEN 0 AND 100),
    veines_sym      DOUBLE  CHECK (veines_sym BETWEEN 0 AND 100),
    civiq20         INTEGER CHECK (civiq20 BETWEEN 20 AND 100),
    reflux          BOOLEAN,
    ulcer           VARCHAR CHECK (ulcer IN ('none', 'active', 'healed', 'recurrent')),
    imaging         VARCHAR CHECK (imaging IN ('duplex', 'venography', 'ct', 'mr', 'ivus')),
    PRIMARY KEY (limb_id, month)
);
COMMENT ON TABLE assessments IS 'Clinical assessments: one row per limb and visit; month 0 is the assessment before the procedure. A measure not taken at a visit is empty.';
COMMENT ON COLUMN assessments.limb_id IS 'The limb assessed (must exist in limbs).';
COMMENT ON COLUMN assessments.month IS 'Visit time, months after the limb''s procedure (0 = before the procedure).';
COMMENT ON COLUMN assessments.assessment_date IS 'Optional. The visit''s date, when the registry gave one (its month is computed from it). Stored for registry audit only; never shown.';
COMMENT ON COLUMN assessments.ceap_c IS 'CEAP clinical class of the limb, 0-6 (C6 = active venous ulcer).';
COMMENT ON COLUMN assessments.villalta IS 'Villalta score, 0-33 (5 symptoms and 6 signs, each 0-3). PTS when 5 or more, or an active ulcer.';
COMMENT ON COLUMN assessments.vcss IS 'Optional. Revised Venous Clinical Severity Score, 0-30 (10 items scored 0-3; higher is worse).';
COMMENT ON COLUMN assessments.veines_qol IS 'Optional. VEINES-QOL T-score (mean 50, SD 10 in its reference population; higher is better).';
COMMENT ON COLUMN assessments.veines_sym IS 'Optional. VEINES-Sym T-score (mean 50, SD 10; higher is better).';
COMMENT ON COLUMN assessments.civiq20 IS 'Optional. CIVIQ-20 raw score, 20-100 (20 items scored 1-5; higher is worse; the global index is (raw - 20) / 80 x 100).';
COMMENT ON COLUMN assessments.reflux IS 'Valvular incompetence on duplex: reflux of 0.5 s or longer (true/false).';
COMMENT ON COLUMN assessments.ulcer IS 'Optional. Venous ulcer status: none, active, healed, or recurrent (C6r).';
COMMENT ON COLUMN assessments.imaging IS 'Optional. How patency was imaged at the visit: duplex, venography, ct, mr or ivus.';

CREATE TABLE antithrombotic (
    patient_id  VARCHAR NOT NULL REFERENCES patients (patient_id),
    start_month DOUBLE  NOT NULL CHECK (start_month BETWEEN -600 AND 600),
    end_month   DOUBLE  CHECK (end_month BETWEEN -600 AND 600),
    start_date  DATE,
    end_date    DATE,
    agent       VARCHAR NOT NULL CHECK (agent IN ('vka', 'doac', 'lmwh', 'antiplatelet', 'dual_antiplatelet', 'none')),
    CHECK (end_month IS NULL OR end_month >= start_month)
);
COMMENT ON TABLE antithrombotic IS 'Antithrombotic therapy: one row per period and agent of a patient (two agents at once are two rows).';
COMMENT ON COLUMN antithrombotic.patient_id IS 'The patient (must exist in patients).';
COMMENT ON COLUMN antithrombotic.start_month IS 'Start of the period, months after the patient''s first index procedure (negative: before it).';
COMMENT ON COLUMN antithrombotic.end_month IS 'End of the period, months after the patient''s first index procedure; empty while ongoing.';
COMMENT ON COLUMN antithrombotic.start_date IS 'Optional. The start''s date, when the registry gave one. Stored for registry audit only; never shown.';
COMMENT ON COLUMN antithrombotic.end_date IS 'Optional. The end''s date, when the registry gave one. Stored for registry audit only; never shown.';
COMMENT ON COLUMN antithrombotic.agent IS 'vka (vitamin K antagonist), doac (direct oral anticoagulant), lmwh (low-molecular-weight heparin), antiplatelet (single), dual_antiplatelet, or none (therapy stopped).';

-- When each limb was treated, on its patient's clock: months from the patient's first
-- index procedure (a staged second limb starts later), so that a patient event, timed on
-- the patient's clock, can be read on the limb's.
CREATE VIEW limb_clock AS
SELECT
    limb_id,
    patient_id,
    (procedure_date - min(procedure_date) OVER (PARTITION BY patient_id)) / (365.25 / 12) AS offset_months,
    count(*) OVER (PARTITION BY patient_id) AS patient_limbs,
    row_number() OVER (PARTITION BY patient_id ORDER BY procedure_date, limb_id) AS limb_order
FROM limbs;
COMMENT ON VIEW limb_clock IS 'Derived, not imported: per limb, its procedure in months after its patient''s first (0 for the first), how many limbs its patient has, and its place among them.';
COMMENT ON COLUMN limb_clock.limb_id IS 'The limb.';
COMMENT ON COLUMN limb_clock.patient_id IS 'Its patient.';
COMMENT ON COLUMN limb_clock.offset_months IS 'Months from the patient''s first index procedure to this limb''s (days / 30.4375).';
COMMENT ON COLUMN limb_clock.patient_limbs IS 'Treated limbs of the patient (2: bilateral or staged).';
COMMENT ON COLUMN limb_clock.limb_order IS '1 for the patient''s first treated limb, 2 for the second (by procedure date, then limb_id).';

-- Time-to-event per limb and endpoint, following the SVS/SIR definitions:
--   primary           lost at the first restenosis, in-stent restenosis, occlusion, stent
--                     thrombosis or reintervention on the target lesion;
--   assisted_primary  lost at the first occlusion or stent thrombosis (procedures before it
--                     keep it);
--   secondary         lost at the first occlusion not reopened before the next one;
--   recurrent_dvt     the patient's first recurrent DVT, on the limb's clock.
-- Censored at follow_up_months or death, whichever is first (death censors).
-- A technical failure never had patency: patency endpoints fail at month 0
-- (intention to treat); analyses of technical successes leave them out.
CREATE VIEW time_to_event AS
WITH limb_events AS (
    SELECT limb_id, month, event, target_lesion FROM events WHERE limb_id IS NOT NULL
),
patient_events AS (
    -- A patient event on each of the patient's limbs' clocks.
    SELECT c.limb_id, e.month - c.offset_months AS month, e.event
    FROM events AS e JOIN limb_clock AS c USING (patient_id)
    WHERE e.limb_id IS NULL
),
first_event AS (
    SELECT
        l.limb_id,
        min(month) FILTER (WHERE event IN ('restenosis', 'in_stent_restenosis', 'occlusion', 'stent_thrombosis')
                           OR (event = 'reintervention' AND coalesce(target_lesion, true))) AS primary_loss,
        min(month) FILTER (WHERE event IN ('occlusion', 'stent_thrombosis')) AS first_occlusion
    FROM limbs AS l JOIN limb_events USING (limb_id)
    GROUP BY l.limb_id
),
first_patient_event AS (
    SELECT
        limb_id,
        min(month) FILTER (WHERE event = 'recurrent_dvt' AND month >= 0) AS first_recurrent_dvt,
        min(month) FILTER (WHERE event = 'death') AS death
    FROM patient_events
    GROUP BY limb_id
),
occlusions AS (
    SELECT
        limb_id,
        month,
        lead(month) OVER (PARTITION BY limb_id ORDER BY month) AS next_occlusion
    FROM limb_events
    WHERE event IN ('occlusion', 'stent_thrombosis')
),
lasting_occlusion AS (
    SELECT o.limb_id, min(o.month) AS month
    FROM occlusions AS o
    WHERE NOT EXISTS (
        SELECT 1
        FROM limb_events AS r
        WHERE r.limb_id = o.limb_id
          AND r.event = 'patency_restored'
          AND r.month >= o.month
          AND (o.next_occlusion IS NULL OR r.month < o.next_occlusion)
    )
    GROUP BY o.limb_id
),
per_limb AS (
    SELECT
        l.limb_id,
        l.technical_success,
        least(l.follow_up_months, coalesce(p.death, l.follow_up_months)) AS censor_month,
        f.primary_loss,
        f.first_occlusion,
        lo.month AS secondary_loss,
        p.first_recurrent_dvt
    FROM limbs AS l
    LEFT JOIN first_event AS f USING (limb_id)
    LEFT JOIN first_patient_event AS p USING (limb_id)
    LEFT JOIN lasting_occlusion AS lo USING (limb_id)
),
long_form AS (
    SELECT limb_id, technical_success, censor_month, 'primary' AS endpoint, primary_loss AS loss, true AS is_patency FROM per_limb
    UNION ALL
    SELECT limb_id, technical_success, censor_month, 'assisted_primary', first_occlusion, true FROM per_limb
    UNION ALL
    SELECT limb_id, technical_success, censor_month, 'secondary', secondary_loss, true FROM per_limb
    UNION ALL
    SELECT limb_id, technical_success, censor_month, 'recurrent_dvt', first_recurrent_dvt, false FROM per_limb
)
SELECT
    limb_id,
    endpoint,
    CASE
        WHEN is_patency AND NOT technical_success THEN 0.0
        WHEN loss IS NOT NULL AND loss <= censor_month THEN loss
        ELSE censor_month
    END AS months,
    (is_patency AND NOT technical_success) OR (loss IS NOT NULL AND loss <= censor_month) AS event
FROM long_form;
COMMENT ON VIEW time_to_event IS 'Derived, not imported: one row per limb and endpoint (primary, assisted_primary, secondary, recurrent_dvt) with the time to the endpoint or to censoring, months after the limb''s procedure.';
COMMENT ON COLUMN time_to_event.limb_id IS 'The limb.';
COMMENT ON COLUMN time_to_event.endpoint IS 'primary, assisted_primary, secondary (patency of the treated segment) or recurrent_dvt (of the patient).';
COMMENT ON COLUMN time_to_event.months IS 'Months from the limb''s procedure to the endpoint (event) or to the last follow-up or death (censored); 0 for patency after a technical failure.';
COMMENT ON COLUMN time_to_event.event IS 'true: the endpoint happened at months; false: censored at months.';
