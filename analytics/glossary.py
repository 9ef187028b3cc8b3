"""Every clinical definition, label and threshold, written once.

Pages, figures, tables, the report and the tests all take their words and
constants from here, so a term means the same on every screen and export.
"""

from __future__ import annotations

# Thresholds with clinical meaning.
PTS_VILLALTA_THRESHOLD = 5  # Villalta >= 5 (or an active ulcer) is post-thrombotic syndrome
ACTIVE_ULCER_CEAP = 6  # CEAP C6: active venous ulcer
SEVERITY_SCORE_OFFSET = 2  # the paper's clinical severity score is the CEAP class minus 2
SE_UNRELIABLE = 0.10  # reporting standards: a KM estimate with SE above 10% is unreliable
EARLY_EVENT_MONTHS = 30 / 30.4375  # 30 days, in months of 365.25/12 days
MONTHS_PER_YEAR = 12
DEFAULT_MONTHS = (6, 12, 24, 36)
RISK_TABLE_MONTHS = (0, 6, 12, 24, 36)
UNSTABLE_MIN_PATIENTS = 10
UNSTABLE_MIN_EVENTS = 5

ENDPOINTS = {
    "primary": "Primary patency",
    "assisted_primary": "Assisted primary patency",
    "secondary": "Secondary patency",
    "recurrent_dvt": "Freedom from recurrent DVT",
}
PATENCY_ENDPOINTS = ("primary", "assisted_primary", "secondary")

RISK_FACTORS = {
    "malignancy": "Malignancy",
    "smoking": "Smoking",
    "immobilization": "Immobilization",
    "thrombophilia": "Thrombophilia",
    "recent_surgery": "Recent surgery",
    "trauma": "Trauma",
    "diabetes": "Diabetes",
}
SEGMENTS = {"seg_ivc": "IVC", "seg_civ": "CIV", "seg_eiv": "EIV", "seg_cfv": "CFV"}
SEGMENT_NAMES = {
    "IVC": "inferior vena cava",
    "CIV": "common iliac vein",
    "EIV": "external iliac vein",
    "CFV": "common femoral vein",
}
# Table 1's published rows; see tables.segment_rows for how a lesion is counted.
PAPER_SEGMENT_ROWS = ("CIV+EIV+CFV", "IVC+CIV", "CIV+EIV", "EIV+CFV")

POPULATIONS = {
    "technical_success": "Technical successes",
    "all": "All enrolled (technical failures fail patency at month 0)",
}
SIDES = {"left": "Left", "right": "Right"}
SEXES = {"F": "Female", "M": "Male"}

SAFETY_EVENTS = {
    "minor_bleeding": "Minor bleeding (ecchymosis or haematoma)",
    "major_bleeding": "Major bleeding",
    "recurrent_dvt": "Recurrent DVT",
    "pulmonary_embolism": "Pulmonary embolism",
    "death": "Death",
}
EVENT_LABELS = {
    **SAFETY_EVENTS,
    "restenosis": "Restenosis >= 50%",
    "occlusion": "Occlusion",
    "reintervention": "Reintervention",
    "patency_restored": "Patency restored",
    "ulcer_healed": "Ulcer healed",
}

CEAP_CLASSES = {
    0: "C0 no visible signs",
    1: "C1 telangiectasia or reticular veins",
    2: "C2 varicose veins",
    3: "C3 oedema",
    4: "C4 skin changes",
    5: "C5 healed venous ulcer",
    6: "C6 active venous ulcer",
}
PTS_SEVERITY = ("none", "mild", "moderate", "severe")
PTS_SEVERITY_LABELS = {
    "none": "None (Villalta 0-4)",
    "mild": "Mild (5-9)",
    "moderate": "Moderate (10-14)",
    "severe": "Severe (>= 15 or ulcer)",
}

# Columns a subgroup split may use: key -> label. Booleans show as yes/no.
GROUPINGS = {
    "lesion_side": "Lesion side",
    "sex": "Sex",
    "age_band": "Age band",
    **SEGMENTS,
    "segment_pattern": "Segment pattern",
    **RISK_FACTORS,
    "urokinase": "Urokinase",
    "symptom_duration_band": "DVT duration",
    "center": "Centre",
    "technical_success": "Technical success",
}

DEFINITIONS = {
    "CEAP": (
        "CEAP clinical class of the worst limb: C0 no signs, C1 telangiectasia/reticular veins, "
        "C2 varicose veins, C3 oedema, C4 skin changes, C5 healed ulcer, C6 active ulcer. "
        "CEAP is descriptive: a healed ulcer keeps a limb at C5 or above, so regression below "
        "C5 is not expected by the definition; the source paper reports it and we reproduce it."
    ),
    "Clinical severity score": (
        "The source paper's score: CEAP class minus 2 (C3 = 1, C4 = 2, C5 = 3, C6 = 4)."
    ),
    "Villalta": (
        "Villalta scale: 5 symptoms (pain, cramps, heaviness, paraesthesia, pruritus) and "
        "6 signs (pretibial oedema, induration, hyperpigmentation, redness, venous ectasia, "
        "pain on calf compression), each 0-3; total 0-33."
    ),
    "PTS": (
        "Post-thrombotic syndrome: Villalta 5 or more, or an active venous ulcer. Severity: "
        "none 0-4, mild 5-9, moderate 10-14, severe 15 or more or an ulcer."
    ),
    "Reflux": "Valvular incompetence: reflux lasting 0.5 s or longer on duplex ultrasound.",
    "Primary patency": (
        "Uninterrupted patency with no procedure on the treated segment; lost at the first "
        "restenosis of 50% or more, occlusion or reintervention."
    ),
    "Assisted primary patency": (
        "Patency kept by a procedure done before occlusion (to treat restenosis); lost at the "
        "first occlusion."
    ),
    "Secondary patency": (
        "Patency after an occlusion was reopened; lost at an occlusion that is never reopened."
    ),
    "Freedom from recurrent DVT": "Time to the first recurrent deep vein thrombosis.",
    "Technical success": (
        "Lesion crossed, dilated and stented with in-line flow restored at the end of the "
        "procedure. Patency is analysed in technical successes by default; with all enrolled, "
        "a technical failure counts as loss of patency at month 0."
    ),
    "Kaplan-Meier": (
        "Kaplan-Meier estimate with a 95% confidence interval on the log(-log) scale (as R "
        "conf.type='log-log' and SAS) and Greenwood's standard error; censored at the last "
        "follow-up, and at death for patency. An estimate whose standard error exceeds 10% "
        "is unreliable (reporting standards) and is flagged."
    ),
    "Number at risk": (
        "Patients still followed and free of the endpoint at that month (time >= month); "
        "cumulative events and censored are counted up to and including that month."
    ),
    "Log-rank test": "Compares whole survival curves between groups (chi-square, k-1 df).",
    "Hazard ratio": (
        "Cox proportional-hazards model (Efron ties): the hazard in a group relative to the "
        "reference group, with its 95% confidence interval. Not estimable when a group has no "
        "events."
    ),
    "Wilcoxon signed-rank test": (
        "Paired test of scores before vs after within patients: normal approximation with tie "
        "correction, zero differences dropped (as SPSS, used by the source paper)."
    ),
    "McNemar test": (
        "Paired test of a yes/no outcome before vs after: exact binomial test on the discordant "
        "pairs (as SPSS for small counts)."
    ),
    "Clopper-Pearson interval": "Exact binomial 95% confidence interval for a proportion.",
    "Events per 100 patient-years": (
        "All events of that type divided by the total follow-up time in years, times 100."
    ),
    "Funnel plot": (
        "Each centre's estimate against its number of patients, around the pooled estimate of "
        "the whole filtered cohort, with control limits that narrow as centres grow "
        "(Spiegelhalter, Stat Med 2005). A centre is compared with what chance alone would give "
        "a centre of its size, not ranked against the others."
    ),
    "Control limits": (
        "Exact binomial limits around the pooled proportion for a centre of n patients, with "
        "Spiegelhalter's interpolation: 95% (about 2 standard deviations) and 99.8% (about 3). "
        "With no real difference between centres, about 1 centre in 20 lies outside the 95% "
        "limits and 1 in 500 outside the 99.8% limits by chance. A Kaplan-Meier estimate is not "
        "a simple proportion: censoring before the month makes it vary more than the binomial "
        "limits assume, so the limits are approximate, somewhat too narrow when follow-up is "
        "short."
    ),
}

DEMO_NOTICE = (
    "Demo cohort reconstructed from the published aggregates of a 37-patient series; "
    "not patient data. Details the paper does not publish are invented."
)


def boolean_label(value: bool) -> str:
    """How a boolean group shows in tables, charts and JSON."""
    return "yes" if value else "no"
