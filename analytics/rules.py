"""Every number with clinical or reporting meaning, written once.

The glossary (analytics.glossary) holds the words; labels that quote a threshold
build it from here, so "Reflux >= 0.5 s" and the SQL behind it cannot drift apart.
"""

from __future__ import annotations

# Post-thrombotic syndrome and its severity on the Villalta scale (0-33).
PTS_VILLALTA_THRESHOLD = 5  # Villalta >= 5 (or an active ulcer) is PTS
PTS_MODERATE_VILLALTA = 10
PTS_SEVERE_VILLALTA = 15  # or an active ulcer
VILLALTA_MAX = 33
ACTIVE_ULCER_CEAP = 6  # CEAP C6: active venous ulcer
SEVERITY_SCORE_OFFSET = 2  # the paper's clinical severity score is the CEAP class minus 2
REFLUX_SECONDS = 0.5  # valvular incompetence: reflux lasting this long or longer

# Reporting standards and conventions.
SE_UNRELIABLE = 0.10  # a Kaplan-Meier estimate with SE above 10% is unreliable
CONFIDENCE = 0.95
DAYS_PER_MONTH = 365.25 / 12
EARLY_EVENT_DAYS = 30
EARLY_EVENT_MONTHS = EARLY_EVENT_DAYS / DAYS_PER_MONTH
MONTHS_PER_YEAR = 12
PER_PATIENT_YEARS = 100  # event rates per 100 patient-years
ULCER_HEALING_MONTHS = 3  # the paper's "ulcers healed by 3 months"
# The Safety page's cumulative incidence (death competing) of these events, at these months.
SAFETY_INCIDENCE_EVENTS = ("recurrent_dvt", "pulmonary_embolism", "major_bleeding")
SAFETY_INCIDENCE_MONTHS = (12, 24, 36)

# Months shown by default: estimates, the KMunicate table, subgroups and centres.
DEFAULT_MONTHS = (6, 12, 24, 36)
RISK_TABLE_MONTHS = (0, 6, 12, 24, 36)
# What the Patency page's time axis offers: the KMunicate table's months, the axis's end
# (months), and where a curve stops (or turns dotted) for too few patients at risk.
RISK_TABLE_CHOICES = (0, 3, 6, 12, 18, 24, 30, 36, 48, 60, 72, 84, 96, 120)
MAX_AXIS_MONTHS = 240
MIN_AT_RISK_CHOICES = (5, 10, 20, 50)
SUBGROUP_MONTH = 12
CENTRE_MONTH = 12
RMST_HORIZON = 36  # restricted mean time free of the endpoint, up to this month
LANDMARK_MONTHS = (6, 12, 24)  # the Patency page's landmarks: curves from month L on

# A test of fewer pairs, or of groups of fewer patients, carries a caution.
SMALL_SAMPLE = 10

# An adjusted Cox model with fewer events per estimated coefficient is unreliable
# (Peduzzi et al., J Clin Epidemiol 1996); a proportional-hazards test below this p is a flag.
MIN_EVENTS_PER_VARIABLE = 10
PH_TEST_ALPHA = 0.05
# Above this many patients the Models page fits only when asked: a Cox fit on patient rows
# takes about a second per 3,000 patients with a time-varying covariate.
MODEL_ASK_PATIENTS = 50_000
# Above this many patients a model with the time-varying recurrent DVT is refused:
# lifelines' time-varying fit costs patients x distinct times (9 s on 46,000 patients of
# the million-patient registry, 8 minutes on all of them; docs/benchmarks.md).
TIME_VARYING_MAX_PATIENTS = 50_000

# A subgroup this small is flagged unstable (its estimate and hazard ratio vary widely).
UNSTABLE_MIN_PATIENTS = 10
UNSTABLE_MIN_EVENTS = 5
# A hazard ratio between two groups needs at least this many events in each of them: below
# it, it is "too few events", not a number (2 patients gave an HR of 51 (4.5-579)).
MIN_EVENTS_FOR_HR = 5

# The clinical unit each continuous covariate's hazard ratio is per (Models page, report,
# deck): the covariate is divided by it before the fit, so an HR of a year of age does not
# show as "1.00 (1.00-1.00)". Its unit's word is its declaration's (analytics.variables).
COVARIATE_UNITS = {"age_years": 10, "bmi": 5, "symptom_duration_months": 12}

# What the age and BMI filters accept, from and to (data/schema.sql checks the same bounds).
AGE_YEARS_RANGE = (18, 110)
BMI_RANGE = (12, 70)

# Grouping bands.
AGE_BAND_CUTS = (60, 75)  # years: < 60, 60-74, >= 75
DURATION_BAND_CUT = 12  # months of DVT symptoms: <= 12, > 12

# A registry import: dates a registry of venous stenting can plausibly hold.
EARLIEST_DATE_YEAR = 1950  # no date before 1 January of this year; none after today
# A date given where a month is (an event's, a visit's, a therapy period's) becomes months
# after the procedure: days / DAYS_PER_MONTH rounded to this many decimals (a day is 0.033
# month, so distinct days stay distinct and the date comes back from the month). A row
# giving both must agree within DATE_MONTH_TOLERANCE months.
MONTH_DECIMALS = 2
DATE_MONTH_TOLERANCE = 0.5

# What one import may cost the server: an upload, a sheet, a workbook once unpacked.
MAX_UPLOAD_MB = 50  # .streamlit/config.toml's server.maxUploadSize says the same (a test checks)
MAX_ROWS_PER_SHEET = 100_000  # rows per sheet of a workbook, per CSV of an upload
MAX_XLSX_INFLATED_MB = 100  # an .xlsx's members, uncompressed, before any is parsed
MAX_OWN_COLUMNS = 100  # columns a registry may add to patients and limbs (cohort format 7)
# A header wider is no table of the cohort format: its widest has 24 columns, and a
# registry may add its own (analytics.cohort.own_import).
MAX_HEADER_COLUMNS = 30 + MAX_OWN_COLUMNS
# Control characters (Unicode Cc: C0, DEL and C1) as a pattern both Python's re and
# DuckDB's regexp read: no cell of a cohort may hold one (the format has no free text), and
# none that a file already holds reaches an output (analytics.present.format.data_text).
CONTROL_CHARACTER = r"[\x00-\x1f\x7f-\x9f]"

# Heavy work at a time per dashboard server process, for all sessions together (ui.heavy):
# the others wait their turn, at most HEAVY_WAIT_S (then told to try again), so one
# user's decks or imports never take every processor.
DECK_BUILDS_AT_ONCE = 1  # a deck computes its views and draws pictures in chromium
IMPORTS_AT_ONCE = 1  # an upload parsed, checked and written as a cohort file
HEAVY_WAIT_S = 150
# Adjusted models waiting to be fitted, for all sessions together (ui.heavy.FITS), beside
# the one being fitted. A fit of every covariate takes 8 s on 3,000 patients and over a
# minute on 20,000 with the time-varying recurrent DVT, so eight in line is already
# longer than anyone waits (HEAVY_WAIT_S); a longer line would only hold more requests
# nobody is still there to read. A session has at most one model in line.
FIT_QUEUE_LENGTH = 8
# the largest privacy k a user may choose: a count of limbs of at least twice as many less
# one is of k patients or more whoever they are, so its distinct patients need no count
LARGEST_K = 20
