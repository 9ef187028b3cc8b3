"""The source paper's published numbers and its contradictions, transcribed once.

The demo cohort must reproduce these (tests check it), and the Tables view shows
them beside the recomputed values. Denominator: the 34 technical successes.
Table 2's patency rows are kept as printed, under the paper's own labels; the demo's
reading of them (the swap rule, glossary.PATENCY_ROWS_SWAPPED) is derived from them here.
"""

from __future__ import annotations

SOURCE = (
    "Retrospective single-centre series: endovascular angioplasty plus stenting for chronic "
    "obstructive iliofemoral DVT, 37 patients treated 2009-01 to 2014-10, 34 technical "
    "successes, 36 months of follow-up."
)

ENROLLED = 37
TECHNICAL_SUCCESS = 34

TABLE1 = {
    "age_mean": 66.2,
    "age_sd": 14.5,
    "age_min": 37,
    "age_max": 86,
    "female": 17,
    "bmi_mean": 24.8,
    "bmi_sd": 1.63,
    "left": 22,
    "malignancy": 7,
    "smoking": 7,
    "immobilization": 2,
    "thrombophilia": 9,
    "recent_surgery": 8,
    "trauma": 2,
    "diabetes": 9,
    "segments": {"CIV+EIV+CFV": 19, "IVC+CIV": 4, "CIV+EIV": 6, "EIV+CFV": 7},
    "follow_up_mean": 36.5,
    "follow_up_min": 36,
    "follow_up_max": 45.5,
}

# Table 2 as printed: patients still patent at 6, 12, 24, 36 months, keyed by the endpoint
# each printed row names, with the row's label as printed.
PATENCY_PRINTED = {
    "primary": {6: 29, 12: 27, 24: 24, 36: 21},
    "assisted_primary": {6: 28, 12: 25, 24: 22, 36: 20},
}
PATENCY_PRINTED_LABELS = {"primary": "Primary patency", "assisted_primary": "Assisted patency"}
# The swap rule: the printed assisted row lies below the primary one, impossible by
# definition (assisted primary >= primary at every time), so the demo reads each printed
# row as the other endpoint: the smallest change that keeps every published number.
PATENCY_READ_AS = {"primary": "assisted_primary", "assisted_primary": "primary"}
# The demo's reading, which the demo cohort reproduces: primary 28/25/22/20, assisted
# primary 29/27/24/21.
PATENCY = {PATENCY_READ_AS[row]: patent for row, patent in PATENCY_PRINTED.items()}

TABLE3 = {
    "ceap_before": {"C4": 11, "C5": 15, "C6": 8},
    "ceap_after": {"C3": 8, "C4": 17, "C5": 9, "C6": 0},
    "severity_before": (2.91, 0.75),
    "severity_after": (2.03, 0.72),
    "villalta_before": (11.9, 3.25),
    "villalta_after": (5.32, 2.03),
    "pts_before": 34,
    "pts_after": 24,
    "pts_p": 0.002,
    "reflux_before": 25,
    "reflux_after": 22,
    "reflux_p": 0.375,
}

SAFETY = {
    "minor_bleeding": 4,
    "recurrent_dvt": 7,
    "pulmonary_embolism": 3,
    "death": 0,
}
ULCERS_HEALED_BY_3_MONTHS = 3

CONTRADICTIONS = (
    (
        "Patency rows",
        "Assisted patency (28/25/22/20) is printed below primary (29/27/24/21), impossible by "
        "definition.",
        "Read as swapped: primary 28/25/22/20, assisted primary 29/27/24/21 (the smallest change "
        "that keeps every published number).",
    ),
    (
        "Segments",
        "The pattern rows add up to 19+4+6+7 = 36 for 34 patients.",
        "Two patients with IVC+CIV+EIV+CFV lesions are counted in two rows (IVC+CIV and "
        "CIV+EIV+CFV): each lesion counts in every widest published pattern it contains.",
    ),
    (
        "CEAP regression",
        "C5 falls from 15 to 9, so some healed-ulcer limbs are reported below C5, which CEAP "
        "does not allow (a healed ulcer stays C5).",
        "Reproduce the published marginals and say so where CEAP change is shown.",
    ),
    (
        "'All improved in CEAP'",
        "Only 8 limbs are C3 afterwards, so at least 3 of the 11 C4 limbs cannot have improved.",
        "Reproduce the table; 4 limbs keep their class in the reconstruction.",
    ),
    (
        "Counts in the text",
        "36 vs 37 enrolled; 32 vs 34 successes; 85.2% vs 85.3%; the discussion's one-year "
        "figures are the table's six-month ones.",
        "Tables win over text: 37 enrolled, 34 successes.",
    ),
)
