"""Every clinical definition and label, written once.

Pages, figures, tables, the report and the tests take their words from here, so a
term means the same on every screen and export. Numbers live in analytics.rules;
a label that quotes one is built from it.
"""

from __future__ import annotations

from analytics.rules import (
    MIN_EVENTS_FOR_HR,
    MIN_EVENTS_PER_VARIABLE,
    PTS_MODERATE_VILLALTA,
    PTS_SEVERE_VILLALTA,
    PTS_VILLALTA_THRESHOLD,
    REFLUX_SECONDS,
    SE_UNRELIABLE,
    SEVERITY_SCORE_OFFSET,
    SMALL_SAMPLE,
    UNSTABLE_MIN_EVENTS,
    UNSTABLE_MIN_PATIENTS,
    VILLALTA_MAX,
)
from analytics.variables import BUILTIN, RISK_SECTION, Kind, Role
from analytics.variables import FALSE_WORDS as FALSE_WORDS
from analytics.variables import NO as NO
from analytics.variables import TRUE_WORDS as TRUE_WORDS
from analytics.variables import YES as YES
from analytics.variables import YES_NO as YES_NO

ENDPOINTS = {
    "primary": "Primary patency",
    "assisted_primary": "Assisted primary patency",
    "secondary": "Secondary patency",
    "recurrent_dvt": "Freedom from recurrent DVT",
}
PATENCY_ENDPOINTS = ("primary", "assisted_primary", "secondary")

# The built-in variables' words under the names code and tests import. Their one source is
# the declarations (analytics.variables); a cohort's own variables reach a screen through
# its registry, never through these.
_SEGMENT_SET = BUILTIN.get("segment_pattern")
# The yes/no filters of the risk factors' section (IVUS is a yes/no filter too, a device's).
RISK_FACTORS = {
    v.key: v.label
    for v in BUILTIN.with_role(Role.FILTER)
    if v.is_flag and v.section == RISK_SECTION
}
SEGMENTS = {member: BUILTIN.get(member).label for member in _SEGMENT_SET.members}
SEGMENT_NAMES = {BUILTIN.get(m).label: BUILTIN.get(m).long_label for m in _SEGMENT_SET.members}
PAPER_SEGMENT_ROWS = _SEGMENT_SET.rows
POPULATIONS = dict(BUILTIN.get("technical_success").population)
SIDES = dict(BUILTIN.get("lesion_side").levels)
SEXES = dict(BUILTIN.get("sex").levels)
ALL_PATIENTS = "all"  # the one group of an unsplit cohort
# How a filter's parts (analytics.filters.Part) read in a caption, a measure's bounds after
# its label: "Segments: CIV,EIV · matching: all · Pattern: CIV+EIV · Age from: 60 · Age to: 80".
FILTER_PART_WORDS = {
    "segments": "Segments",
    "match": "matching",
    "pattern": "Pattern",
    "minimum": "from",
    "maximum": "to",
}

# The Safety table's crude share of patients (its caption: "crude, over unequal
# follow-up"; a longer header pushes the rates out of the table's width), and the
# cumulative incidence beside it.
CRUDE_PERCENT = "Crude %"
SAFETY_INCIDENCE_TITLE = "Cumulative incidence with death competing (Aalen-Johansen, 95% CI)"
# Wherever a crude share of patients with a safety event shows (table, chart, tile, deck).
CRUDE_OVER_FOLLOW_UP = "crude, over unequal follow-up"
CRUDE_NOT_A_RISK = f"{CRUDE_OVER_FOLLOW_UP}: not a risk by any time"
SAFETY_CRUDE_AXIS = "Patients with the event (crude %), exact 95% CI"
SAFETY_INCIDENCE_NOTE = (
    "The share of patients with a first such event by each month, death a competing event "
    "(not censored); '-' after the last follow-up."
)
SAFETY_EVENTS = {
    "minor_bleeding": "Minor bleeding (ecchymosis or haematoma)",
    "major_bleeding": "Major bleeding",
    "recurrent_dvt": "Recurrent DVT",
    "pulmonary_embolism": "Pulmonary embolism",
    "death": "Death",
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
    "none": f"None (Villalta 0-{PTS_VILLALTA_THRESHOLD - 1})",
    "mild": f"Mild ({PTS_VILLALTA_THRESHOLD}-{PTS_MODERATE_VILLALTA - 1})",
    "moderate": f"Moderate ({PTS_MODERATE_VILLALTA}-{PTS_SEVERE_VILLALTA - 1})",
    "severe": f"Severe (≥ {PTS_SEVERE_VILLALTA} or ulcer)",
}
REFLUX = f"Reflux ≥ {REFLUX_SECONDS} s"
PTS = f"PTS (Villalta ≥ {PTS_VILLALTA_THRESHOLD} or ulcer)"
SEVERITY_SCORE = f"Clinical severity score (CEAP C - {SEVERITY_SCORE_OFFSET})"
VILLALTA = "Villalta score"
CEAP = "CEAP clinical class"
UNRELIABLE = f"SE > {round(100 * SE_UNRELIABLE)}%"
RELIABLE = f"Reliable (SE ≤ {round(100 * SE_UNRELIABLE)}%)"


# A curve in privacy mode: a step at each table month whose estimate may show, not at
# each event (a step's height times the at risk would count the events below k)
PRIVACY_CURVE = (
    "Privacy mode: drawn at the table's months where its events may be shown,"
    " broken where they are withheld"
)
# What "<k" means wherever privacy mode says it: a count of fewer than k patients, or of
# their limbs (a patient may have two: six limbs of three patients are fewer than k = 5).
SMALL_COUNT_MARK = (
    "'<k': a count of fewer than k patients (1 to k-1), or of the limbs of fewer than k patients."
)


def small_counts(k: int) -> str:
    """Privacy mode's rule with its k, as a report or a slide states it."""
    return f"counts of fewer than {k} patients (or of their limbs) shown as <{k}"


def undrawn_times(k: int) -> str:
    """Privacy mode's rule for the safety timeline (stats.safety.drawn_on_timeline): a dot
    of fewer than k events would say how many fell at that time."""
    return f"Privacy mode: a time with fewer than {k} events is not drawn."


# Where a curve turns unreliable, in privacy mode: at a table month, as it is drawn (the
# time its SE first passes 10% is an event's, and with the counts would give them away)
UNRELIABLE_AT_TABLE_MONTHS = "Privacy mode: read at the table's months, as the curves are drawn."
# Why privacy mode hides a comparison (a log-rank test, a hazard ratio): it is a statistic
# of each group's events, and a group's events (or patients) are hidden
COMPARISON_WITHHELD = "a group's patients or events are hidden"

# The unit a result counts: limb outcomes (patency, clinical change) per treated limb, a
# patient's (safety, recurrent DVT) per person; the report's ``unit`` keys say which.
LIMB, PATIENT = "limb", "patient"
# The test a comparison of curves used, by the name its result gives it (LogRank.test, the
# engine's logrank.LOGRANK and robust_score.ROBUST_SCORE: the glossary imports no
# statistics): in a registry where a patient may have two treated limbs, the robust score
# test in place of the log-rank test. At a line's start, in a column's name.
COMPARISON_TESTS = {"logrank": "Log-rank", "robust_score": "Robust score test"}
PAIRWISE_TESTS = {
    "logrank": "Pairwise log-rank tests",
    "robust_score": "Pairwise robust score tests",
}
TREND_TESTS = {"logrank": "Log-rank test for trend", "robust_score": "Robust score test for trend"}
# The same inside a line, before its p: a forest plot's factor ("robust score p = 0.003").
COMPARISON_TESTS_INLINE = {"logrank": "log-rank", "robust_score": "robust score"}
# The count column of a table of curves or groups: what its rows count (LIMB, PATIENT).
COUNT_COLUMNS = {LIMB: "Limbs", PATIENT: "Patients"}
# Table 2's healing row: the paper's "three patients with active venous ulcers healed"
# counts them among the limbs with an active ulcer (CEAP C6) before, not among all
ULCERS_HEALED = "Ulcers healed by {months} months, of limbs with an active ulcer (C6) before"
ROBUST_SCORE_TEST = "Robust score test (clustered by patient)"  # its entry in DEFINITIONS
# A curve's axis: what it counts, limbs or patients (LIMB, PATIENT)
FREE_OF_ENDPOINT = {LIMB: "Limbs free of the endpoint", PATIENT: "Patients free of the endpoint"}
# What a result's heading says it counts in a registry where a patient may have two
# treated limbs: a limb result's "limbs, clustered by patient", a patient's "patients".
SECTION_UNITS = {LIMB: "limbs, clustered by patient", PATIENT: "patients"}
# Under a patient's outcome (recurrent DVT) split by a limb's variable (lesion side,
# aetiology...) in a registry where a patient may have two treated limbs
FIRST_LIMB_GROUP = (
    "A patient's outcome split by a limb's variable: a patient treated on both legs counts "
    "once, in the group of the first of their limbs in the filter."
)
# Under a limb-level result of a registry where a patient may have two treated limbs
CLUSTERED_BY_PATIENT = (
    "Limbs analysed: a patient treated on both legs counts two limbs, and because those two "
    "limbs are related, the confidence intervals and tests allow for it (variance clustered "
    "by patient)."
)


def privacy_curve_note(undrawn: list[str]) -> str:
    """PRIVACY_CURVE, and on a line of its own (figure text: a 1280-wide chart has no room
    for both on one) the curves with no such month past 0, so none is drawn."""
    return PRIVACY_CURVE + (f"<br>{undrawn_curves(undrawn)}" if undrawn else "")


def undrawn_curves(undrawn: list[str]) -> str:
    """The curves privacy mode draws nothing of: no month past 0 may show."""
    return f"Not drawn, no month to show: {', '.join(undrawn)}"


def few_at_risk(patients: int) -> str:
    """The at-risk rule of a curve, in words: "fewer than 10 at risk"."""
    return f"fewer than {patients} at risk"


# The Patency chart's time axis: its unit -> the word its labels use.
TIME_UNITS = {"months": "Months", "years": "Years"}
UNSTABLE = f"< {UNSTABLE_MIN_PATIENTS} patients or < {UNSTABLE_MIN_EVENTS} events"
SMALL_GROUPS = f"caution: a group of fewer than {SMALL_SAMPLE} patients"
FEW_PAIRS = f"caution: fewer than {SMALL_SAMPLE} pairs"
# How a Wilcoxon signed-rank p or Hodges-Lehmann interval was computed, by engine method.
WILCOXON_METHODS = {"exact": "exact", "normal": "normal approximation, tie-corrected"}
# ... and the Hodges-Lehmann interval's (R's wilcox.test also corrects for continuity).
MEDIAN_CHANGE_METHODS = {
    "exact": "exact",
    "normal": "normal approximation, tie- and continuity-corrected",
}
MEDIAN_CHANGE = "Median change (Hodges-Lehmann, 95% CI)"
MARGINAL_HOMOGENEITY = "CEAP marginal homogeneity (Stuart-Maxwell)"
SYMMETRY = "CEAP symmetry (Bowker)"
# The same under the page's CEAP heading, short enough for a metric's label.
SHORT_TEST_LABELS = {
    MARGINAL_HOMOGENEITY: "Homogeneity (Stuart-Maxwell)",
    SYMMETRY: "Symmetry (Bowker)",
}
NOT_COMPUTABLE = "not computable"
CEAP_NO_PAIRS = "no paired CEAP assessments"
CEAP_NO_SHIFT = "no limb changed CEAP class"
CEAP_SEPARATE_SHIFTS = (
    "the classes limbs moved between form separate groups with no limb moving from one "
    "group to another, so the margins' covariance is singular"
)
NO_SPREAD = "every non-zero change is the same"
LEVEL_NOT_REACHED = "too few pairs"

# Columns a subgroup split may use: key -> label. Booleans show as Yes/No. A view of
# BUILTIN, as the names below: a cohort's own groupings are its registry's.
GROUPINGS = BUILTIN.groupings()
# Splits whose levels have an order (analytics.groups gives it): the log-rank test for
# trend applies to them, with scores 1..k in that order.
ORDERED_GROUPINGS = BUILTIN.ordered_groupings()
# Every covariate an adjusted model may take (``--adjust``, the Models page): key -> label,
# a continuous one's per its clinical unit (rules.COVARIATE_UNITS, said in the label), and
# recurrent DVT, which changes over time.
MODEL_COVARIATES = BUILTIN.covariates()
_COVARIATES = BUILTIN.with_role(Role.COVARIATE)
CONTINUOUS_COVARIATES = {v.key: v.covariate_label for v in _COVARIATES if v.kind is Kind.NUMBER}
TIME_VARYING_COVARIATES = {
    v.key: v.covariate_label for v in _COVARIATES if v.kind is Kind.TIME_VARYING
}
RECURRENT_DVT = "recurrent_dvt"  # the endpoint, and the time-varying covariate
NO_PH_TEST = "no proportional-hazards test for a model with a time-varying covariate"
MODEL_CLUSTERED = (
    "limbs clustered by patient: standard errors, CIs and p from the robust variance "
    "(Efron ties, as R's coxph with cluster = patient_id); the proportional-hazards test "
    "uses the model variance, as R's cox.zph has no clustered form"
)
IMMORTAL_TIME_BIAS = (
    "Recurrent DVT cannot be a baseline yes/no covariate: a patient can only be counted as "
    "'recurrent DVT: yes' by staying in follow-up until it happens, so the time before it "
    "would be credited to the 'yes' group as event-free time that group could not have lost "
    "(immortal-time bias), and its hazard ratio would look protective. It enters the model as "
    "a time-varying covariate instead: 'no recurrent DVT' until the event, 'recurrent DVT' after."
)
FEW_EVENTS_PER_VARIABLE = (
    f"fewer than {MIN_EVENTS_PER_VARIABLE} events per estimated coefficient: the adjusted "
    "hazard ratios are unreliable (biased away from 1, too narrow intervals); use fewer "
    "covariates"
)
# A hazard ratio of two groups with fewer than MIN_EVENTS_FOR_HR events in either: no number.
TOO_FEW_EVENTS = "too few events"
TOO_FEW_EVENTS_REASON = (
    f"{TOO_FEW_EVENTS}: a hazard ratio needs at least {MIN_EVENTS_FOR_HR} events in each group "
    "compared"
)
TOO_FEW_EVENTS_NOTE = (
    f"A hazard ratio needs at least {MIN_EVENTS_FOR_HR} events in each group compared; below "
    f"that it shows '{TOO_FEW_EVENTS}', not a number."
)
# No counts in it: the model's own patients and events stand beside it, masked, under any filter.
MODEL_DEMO_CAVEAT = (
    "On the demo cohort this illustrates the analysis; a reconstruction cannot confirm the "
    "paper (its association of DVT duration with loss of patency is built into the "
    "reconstruction), and a cohort this small supports very few covariates: see the events "
    "per coefficient."
)
# The Models page while its model waits for the fitting process (ui.heavy.FITS), and the
# deck whose model is not fitted yet (the sidebar's deck never starts a fit).
FITTING = "Fitting the Cox model on patient rows"
FITS_ONE_AT_A_TIME = (
    "the server fits one model at a time for all its users, and yours starts when those "
    "before it are done"
)
FIT_QUEUE_FULL = (
    "The server already has as many models waiting to be fitted as it takes, for other "
    "users: nothing was fitted. Try again in a few minutes."
)
CHECK_AGAIN = "Check again"  # the Models page's button that runs it again
FIT_STILL_IN_LINE = (
    "It is not fitted yet: it keeps its place, and once fitted it is kept for everyone. "
    f"Press {CHECK_AGAIN}, or open this page again in a few minutes, to see it."
)
MODEL_NOT_IN_DECK = (
    "No model slide: the adjusted model chosen on the Models page is not fitted yet. Fit it "
    "there, then download the deck again."
)

# How a group's raw value shows, where it differs from the value itself (a view of BUILTIN).
LEVEL_LABELS = BUILTIN.level_labels()

DEFINITIONS = {
    "CEAP": (
        "CEAP clinical class of the worst limb: C0 no signs, C1 telangiectasia/reticular veins, "
        "C2 varicose veins, C3 oedema, C4 skin changes, C5 healed ulcer, C6 active ulcer. "
        "CEAP is descriptive: a healed ulcer keeps a limb at C5 or above, so regression below "
        "C5 is not expected by the definition; the source paper reports it and we reproduce it."
    ),
    "Clinical severity score": (
        f"The source paper's score: CEAP class minus {SEVERITY_SCORE_OFFSET} (C3 = 1, C4 = 2, "
        "C5 = 3, C6 = 4)."
    ),
    "Villalta": (
        "Villalta scale: 5 symptoms (pain, cramps, heaviness, paraesthesia, pruritus) and "
        "6 signs (pretibial oedema, induration, hyperpigmentation, redness, venous ectasia, "
        f"pain on calf compression), each 0-3; total 0-{VILLALTA_MAX}."
    ),
    "PTS": (
        f"Post-thrombotic syndrome: Villalta {PTS_VILLALTA_THRESHOLD} or more, or an active "
        f"venous ulcer. Severity: none 0-{PTS_VILLALTA_THRESHOLD - 1}, mild "
        f"{PTS_VILLALTA_THRESHOLD}-{PTS_MODERATE_VILLALTA - 1}, moderate "
        f"{PTS_MODERATE_VILLALTA}-{PTS_SEVERE_VILLALTA - 1}, severe {PTS_SEVERE_VILLALTA} or "
        "more or an ulcer."
    ),
    "Reflux": (
        f"Valvular incompetence: reflux lasting {REFLUX_SECONDS} s or longer on duplex ultrasound."
    ),
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
        "conf.type='log-log' and SAS) and Greenwood's standard error (in a registry where a "
        "patient may have two treated limbs, the standard error clustered by patient, as R's "
        "survfit(..., cluster = patient_id)); censored at the last "
        f"follow-up, and at death for patency. An estimate whose standard error exceeds "
        f"{round(100 * SE_UNRELIABLE)}% is unreliable (reporting standards) and is flagged."
    ),
    "Number at risk": (
        "KMunicate's table: at risk at a month are the patients still followed and free of the "
        "endpoint at that month (time ≥ month, R's n.risk); events and censored are the patients "
        "whose event or censoring came before that month, so the three add up to the curve's "
        "patients. A limb endpoint in a registry where a patient may have two treated limbs "
        "counts limbs."
    ),
    "Log-rank test": "Compares whole survival curves between groups (chi-square, k-1 df).",
    ROBUST_SCORE_TEST: (
        "Compares whole survival curves between groups, as the log-rank test does, when some "
        "patients have two treated limbs: a patient's two limbs are related, so their variance "
        "is clustered by patient (the robust score test of R's coxph(..., cluster = "
        "patient_id); chi-square, k-1 df). Pairs of groups and the test for trend are tested "
        "the same way."
    ),
    "Pairwise log-rank tests": (
        "With more than two groups, each pair of groups compared on its own by the log-rank "
        "test (the two groups' patients only, 1 df). The Holm p corrects for making many "
        "comparisons (Holm's step-down method): a pair is significant at 5% when its Holm p "
        "is below 0.05, whatever the number of pairs."
    ),
    "Log-rank test for trend": (
        f"For groups with an order ({', '.join(GROUPINGS[g] for g in ORDERED_GROUPINGS)}): "
        "asks whether the hazard rises or falls steadily from the first group to the last, "
        "with scores 1, 2, ..., k in that order (chi-square on 1 df: the squared sum of the "
        "scored observed minus expected events over its log-rank variance, as R's survdiff "
        "gives them). More powerful than the log-rank test when the change is monotone; with "
        "two groups it is the log-rank test."
    ),
    "Reference group": (
        "The group the hazard ratios and restricted-mean differences are against: the first "
        "group in display order unless another is chosen."
    ),
    "Landmark": (
        "Patency from month L on, among those still followed and free of the endpoint after "
        "month L (time greater than L), with time restarting at L: what a limb still patent "
        "at L can expect. It counts the patients of a registry of one treated limb per "
        "patient; where a patient may have two, the limbs (recurrent DVT, a patient's "
        "outcome, counts patients). Those who lost patency or left follow-up by L are not in "
        "it, so its curves do not start from the whole cohort."
    ),
    "Hazard ratio": (
        "Cox proportional-hazards model with Efron's correction for tied times, counted over "
        "patients (as SAS PROC PHREG with FREQ; equal to R's coxph on one row per patient): "
        "the hazard in a group relative to the reference group, with its 95% confidence "
        "interval and Wald p. Not estimable when a group has no events. A limb endpoint in a "
        "registry where a patient may have two treated limbs is fitted on limbs, its interval "
        "and p from the robust variance clustered by patient (R's coxph(..., cluster = "
        "patient_id))."
    ),
    "Adjusted hazard ratio": (
        "Multivariable Cox proportional-hazards model fitted on one row per patient, Efron's "
        "correction for tied times (as R's coxph, ties = 'efron'): each term's hazard ratio "
        "holding the other covariates fixed, with its 95% Wald confidence interval and Wald p. "
        "A yes/no or category covariate gives one term per level against its reference (the "
        "first level in display order: 'No', Left, Female); a continuous one, the hazard ratio "
        f"per the clinical unit its label says ({'; '.join(CONTINUOUS_COVARIATES.values())}). "
        "Patients missing a covariate are left out (complete cases), and the crude "
        "hazard ratios (one covariate at a time) are fitted on the same patients."
    ),
    "Time-varying covariate": (
        "Recurrent DVT enters the model from the month it happened: each patient's follow-up "
        "is split there (counting-process rows start, stop], so time before it counts as 'no "
        "recurrent DVT' and time after it as 'recurrent DVT' (as R's coxph(Surv(start, stop, "
        "event) ~ ...)). A recurrent DVT in the same month as the endpoint counts as after it."
    ),
    "Events per variable": (
        "Events of the endpoint divided by the coefficients the model estimates (one per "
        f"continuous covariate, one per non-reference level). Under {MIN_EVENTS_PER_VARIABLE} "
        "the estimates are unreliable (Peduzzi et al., J Clin Epidemiol 1996)."
    ),
    "Proportional-hazards test": (
        "Grambsch and Therneau's test on the scaled Schoenfeld residuals against the "
        "Kaplan-Meier transform of time (lifelines' proportional_hazard_test, time_transform "
        "= 'km', the approximation R's cox.zph used before survival 3.0): per term on 1 df, "
        "and globally on as many df as terms. A small p says the hazard ratio changes over "
        "follow-up, so one number misdescribes it. Not computed for a time-varying model."
    ),
    "Wilcoxon signed-rank test": (
        "Paired test of scores before vs after within patients, zero differences dropped (as "
        "SPSS, used by the source paper), tied changes sharing their mean rank: exact with "
        "fewer than 50 non-zero differences (every way the signs could fall, the tied ranks as "
        "observed: R's coin::wilcoxsign_test with its exact distribution), otherwise the normal "
        "approximation with tie correction and no continuity correction."
    ),
    "Hodges-Lehmann": (
        "The median paired change (after minus before): the median of the averages of every "
        "two non-zero differences (Walsh averages), with the 95% confidence interval of the "
        "Wilcoxon signed-rank test, as R's wilcox.test(after, before, paired = TRUE, conf.int "
        "= TRUE): exact with fewer than 50 non-zero differences, none tied and none zero; "
        "otherwise the normal approximation with tie and continuity corrections. Not "
        "computable when every non-zero change is the same."
    ),
    "Stuart-Maxwell test": (
        "Marginal homogeneity of the CEAP shift matrix: do the classes at the last visit have "
        "the same distribution as before? Chi-square on k - 1 degrees of freedom over the k "
        "classes some limb moved into or out of (statsmodels' SquareTable, as Stuart 1955). "
        "Not computable when those classes form separate groups no limb moved between."
    ),
    "Bowker test": (
        "Symmetry of the CEAP shift matrix: for every two classes, did as many limbs move one "
        "way as the other? Chi-square on k(k - 1)/2 degrees of freedom over the k classes some "
        "limb moved into or out of; McNemar's test for two classes (as R's mcnemar.test)."
    ),
    "McNemar test": (
        "Paired test of a yes/no outcome before vs after: exact binomial test on the discordant "
        "pairs (as SPSS for small counts)."
    ),
    "Clopper-Pearson interval": "Exact binomial 95% confidence interval for a proportion.",
    "Crude percentage": (
        "Patients with the event among all patients, whatever their follow-up: over unequal "
        "follow-up a patient seen for 6 months and one seen for 60 count alike, so it is not "
        "a risk by any time. The cumulative incidence at 12, 24 and 36 months is."
    ),
    "Events per 100 patient-years": (
        "All events of that type divided by the total follow-up time in years, times 100."
    ),
    "Median time": (
        "The first time the Kaplan-Meier curve is at or below 50% (the midpoint of the interval "
        "where it sits exactly at 50%, as R's survfit); its 95% confidence interval is where the "
        "log(-log) band reaches 50%. Not reached when the curve stays above 50%."
    ),
    "Restricted mean": (
        "Mean time free of the endpoint up to a horizon: the area under the Kaplan-Meier curve "
        "from 0 to the horizon, with its standard error as R's print(survfit, rmean = horizon). "
        "Not estimable for a group followed for less than the horizon. A difference between "
        "groups has the 95% CI difference ± 1.96 √(SE² + SE²)."
    ),
    "Cumulative incidence, death competing": (
        "Aalen-Johansen estimate of the share of patients who reached the endpoint, treating "
        "death as a competing event instead of censoring it (1 - Kaplan-Meier overstates the "
        "endpoint where deaths are common). An endpoint and a death in the same month count as "
        "the endpoint. The estimate equals R's multi-state survfit; its 95% confidence interval "
        "is on the log(-log) scale with the delta-method (Greenwood-type) variance of Collett "
        "and SAS PROC LIFETEST, so it stays within 0-100%."
    ),
    "Median follow-up": (
        "Reverse Kaplan-Meier on the follow-up time: being alive at the last contact is the "
        "event and death the censoring, so that early deaths do not shorten the follow-up."
    ),
    "Follow-up completeness": (
        "Clark's C: observed over potential person-time up to the data-lock date; a patient who "
        "died is complete up to death. The data lock is the cohort's data_lock_date, else the "
        "latest last contact in the cohort. When the cohort states its protocol's planned "
        "follow-up (planned_follow_up_months), potential follow-up ends at the earlier of the "
        "data lock and that many months after the procedure, so a protocol followed in full "
        "is complete."
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

NOT_REACHED = "not reached"
# Where follow-up completeness (Clark's C) is measured to: the data lock (the metadata's
# data-lock date, else the latest contact), or the earlier of it and the planned follow-up.
COMPLETENESS_ENDS = {True: "the data lock", False: "the latest contact"}
COMPLETENESS_TO_PLANNED = "to the earlier of {end} and the protocol's planned {months} months"
PLANNED_UNREADABLE = (
    "the cohort's planned_follow_up_months is not a positive number of months, so it is not used"
)
RMST_BEYOND = (
    "restricted mean to {horizon} months not estimable for {group}: followed to {last} months"
)

DEMO_NOTICE = (
    "Demo cohort reconstructed from the published aggregates of a 37-patient series; "
    "not patient data. Details the paper does not publish are invented."
)

# Where the demo shows a number beside (or instead of) the paper's, one line says how the
# paper was read (../shared/domain.md, "Where the paper contradicts itself").
PATENCY_ROWS_SWAPPED = (
    "The paper prints primary patency 29/27/24/21 and assisted primary 28/25/22/20 patients "
    "at 6/12/24/36 months; assisted below primary is impossible by definition, so the demo "
    "reads the two rows as swapped."
)
CEAP_REGRESSION = (
    "Healed-ulcer (C5) limbs falling below C5 are forced by the paper's own CEAP table "
    "(C5 15 -> 9); CEAP does not allow it, and the demo reproduces the table."
)
# Clinical change is paired within limbs; said where the filtered limbs hold a patient's two.
CLINICAL_TWO_LIMBS = (
    "Paired tests count limbs: patients with both limbs in this view contribute two pairs, "
    "and the p-values treat a patient's two limbs as independent."
)
# The published-vs-reconstructed table's "Read as" column: how the demo reads a printed row.
READ_AS_PRINTED = "as printed"
READ_AS_SWAPPED = "as {endpoint} (rows read as swapped)"
# On the demo, under Table 1: the one row the paper does not give (its Table 2 counts the
# 34 stented limbs, not their stents; cohort_metadata's not_published lists stents).
TABLE1_NOT_PUBLISHED = (
    "Stents per limb is not published: the paper counts the stented limbs, not their "
    "stents; the demo's counts are invented."
)
# Table 1 in a file with a patient of two limbs: its first row, and the column saying what
# each row counts (a person-level row its patients, a limb-level row its limbs).
TABLE1_BILATERAL_N = "Limbs and patients"
TABLE1_UNIT_COLUMN = "Counts"
TABLE1_UNITS = ("limbs", "patients")  # a limb-level row's unit, a person-level row's
# On the demo, Table 3's results the paper does not publish: computed on invented limbs.
NOT_PUBLISHED_COMPUTED = "not published †"
# ... the footnote under Table 3 that the cells' dagger points to.
TABLE3_NOT_PUBLISHED = (
    f"† Not published: the median changes (Hodges-Lehmann), {MARGINAL_HOMOGENEITY} and "
    f"{SYMMETRY} are computed on the reconstruction's per-limb changes, which the paper "
    "does not give."
)
