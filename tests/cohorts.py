"""Small random cohorts for property tests: a patient as the schema allows it, and the
cohort built in memory as a writer would store it (tests/unit/test_properties.py,
test_masked_views.py, test_clinical_privacy.py, test_subgroup_centre_privacy.py)."""

from __future__ import annotations

import duckdb
from hypothesis import strategies as st

from analytics.cohort.db import SCHEMA_PATH, SCHEMA_VERSION
from analytics.cohort.summary import PATIENT_EVENTS, create_summary
from analytics.filters import SEGMENT_PATTERNS, CohortFilter
from analytics.glossary import POPULATIONS, RISK_FACTORS, SEGMENTS
from tests.conftest import (
    PATIENT_DEFAULTS,
    add_patient,
    add_patients,
    insert_rows,
    schema_only,
)

EVENTS = (
    *("restenosis", "occlusion", "reintervention", "patency_restored", "recurrent_dvt"),
    *("pulmonary_embolism", "minor_bleeding", "major_bleeding", "death", "ulcer_healed"),
)
CENTRES = ("A", "B")
FOLLOW_UPS = (0.0, 0.5, 6.0, 12.0, 36.0)
SHARES = (0.0, 0.5, 1.0)  # an event's or visit's time, as a share of the follow-up


@st.composite
def patient(
    draw: st.DrawFn,
    index: int,
    centres: tuple[str, ...] = CENTRES,
    follow_ups: tuple[float, ...] = FOLLOW_UPS,
    shares: tuple[float, ...] = SHARES,
    unrecorded: bool = False,
) -> dict:
    """One patient as the schema allows it, with events within follow-up and visits: a
    centre of ``centres`` or none, a follow-up of ``follow_ups``, events and visits at
    ``shares`` of it; with ``unrecorded``, urokinase (a nullable grouping) drawn yes, no
    or not recorded (else never recorded)."""
    follow_up = draw(st.sampled_from(follow_ups))
    success = draw(st.booleans())
    pattern = set(draw(st.sampled_from(SEGMENT_PATTERNS)).split("+"))
    row = {
        **PATIENT_DEFAULTS,
        "patient_id": f"p{index}",
        "age_years": draw(st.integers(18, 110)),
        "sex": draw(st.sampled_from(["F", "M"])),
        "bmi": draw(st.sampled_from([12.0, 24.5, 70.0])),
        "lesion_side": draw(st.sampled_from(["left", "right"])),
        "technical_success": success,
        "follow_up_months": follow_up,
        "symptom_duration_months": draw(st.sampled_from([0.0, 6.0, 24.0])),
        **{column: draw(st.booleans()) for column in RISK_FACTORS},
        **{column: label in pattern for column, label in SEGMENTS.items()},
        "center": draw(st.sampled_from([None, *centres])),
        "stents": draw(st.sampled_from([None, 1, 2] if success else [None, 0])),
    }  # fmt: skip
    times = st.sampled_from(shares).map(lambda share: share * follow_up)
    events = draw(st.lists(st.tuples(times, st.sampled_from(EVENTS)), max_size=3, unique=True))
    visits = draw(st.lists(times, max_size=3, unique=True))
    assessments = [
        (
            month,
            draw(st.none() | st.integers(0, 6)),
            draw(st.none() | st.integers(0, 33)),
            draw(st.none() | st.booleans()),
        )
        for month in visits
    ]
    if unrecorded:
        row["urokinase"] = draw(st.sampled_from([None, True, False]))
    return {"row": row, "events": events, "assessments": assessments}


def build(cohort: list[dict]) -> duckdb.DuckDBPyConnection:
    """The cohort in memory, with its patient summary, as a writer would store it."""
    con = schema_only()
    add_patients(con, [each["row"] for each in cohort])
    events, visits = [], []
    for each in cohort:
        pid = each["row"]["patient_id"]
        events += [
            {"patient_id": pid, "limb_id": None if event in PATIENT_EVENTS else pid,
             "month": month, "event": event}
            for month, event in each["events"]
        ]  # fmt: skip
        visits += [
            dict(
                zip(
                    ("limb_id", "month", "ceap_c", "villalta", "reflux"), (pid, *visit), strict=True
                )
            )
            for visit in each["assessments"]
        ]
    insert_rows(con, "events", events)
    insert_rows(con, "assessments", visits)
    con.execute("INSERT INTO cohort_metadata VALUES ('name', 'Property cohort')")
    create_summary(con)
    return con


REGISTRY_FOLLOW_UPS = (0.5, 3.0, 6.0, 12.0, 24.0, 36.0)
REGISTRY_SHARES = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)


@st.composite
def registries(draw: st.DrawFn) -> list[dict]:
    """4 to 40 patients in 1 to 5 centres (and some in none), urokinase sometimes not
    recorded, events at any share of each one's follow-up: the privacy property tests'
    registries."""
    centres = tuple(f"C{i}" for i in range(1, draw(st.integers(1, 5)) + 1))
    size = draw(st.integers(4, 40))
    return [
        draw(patient(i, centres, REGISTRY_FOLLOW_UPS, REGISTRY_SHARES, unrecorded=True))
        for i in range(size)
    ]


# no filter, or a population and a side: the views the privacy property tests judge
VIEW_FILTERS = st.just(CohortFilter()) | st.builds(
    CohortFilter,
    population=st.sampled_from(list(POPULATIONS)),
    lesion_side=st.sampled_from([None, "left", "right"]),
)


def retinopathy_registry(path: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """R's ``retinopathy`` (197 diabetic patients, both eyes of each; survival 3.5.3) as a
    bilateral registry: each patient's treated eye a left limb, the untreated one a right
    limb, followed to ``futime`` months and occluded then where ``status`` is 1; adult-onset
    diabetes (``type``) as the patient's diabetes, an eye's ``risk >= 10`` as that limb's
    urokinase and ``paste0("C", id %% 3 + 1)`` as the patient's centre. So R's estimates by
    ``trt`` clustered by ``id`` are the registry's by lesion side."""
    from tests.unit.test_engine_clustered import RETINOPATHY

    con = duckdb.connect(path)
    con.execute(SCHEMA_PATH.read_text())
    fields = [RETINOPATHY.split()[i : i + 8] for i in range(0, len(RETINOPATHY.split()), 8)]
    people, eyes, occlusions = [], [], []
    for patient, kind, *eye in fields:
        pid = f"R{int(patient):03d}"
        people.append({
            "patient_id": pid, "diabetes": kind == "a", "follow_up_months": float(eye[1]),
            "urokinase": int(eye[0]) >= 10, "center": f"C{int(patient) % 3 + 1}",
        })  # fmt: skip
        for side, (risk, time, status) in (("left", eye[0:3]), ("right", eye[3:6])):
            eyes.append((pid, len(eyes), side, float(time), int(risk) >= 10))
            if status == "1":
                occlusions.append((pid, f"{pid}-{side}", float(time)))
    add_patients(con, people)
    # each patient's one limb as two, left then right, in the order the patients came
    con.execute(
        "CREATE TEMP TABLE eyes (patient_id TEXT, position INTEGER, side TEXT, "
        "follow_up_months DOUBLE, urokinase BOOLEAN)"
    )
    con.executemany("INSERT INTO eyes VALUES (?, ?, ?, ?, ?)", eyes)
    con.execute(
        "CREATE TEMP TABLE both_limbs AS SELECT l.* REPLACE ("
        "l.patient_id || '-' || e.side AS limb_id, e.side AS side, "
        "e.follow_up_months AS follow_up_months, e.urokinase AS urokinase) "
        "FROM limbs l JOIN eyes e USING (patient_id) ORDER BY e.position"
    )
    con.execute("DELETE FROM limbs")
    con.execute("INSERT INTO limbs SELECT * FROM both_limbs ORDER BY rowid")
    con.execute("DROP TABLE both_limbs")
    con.execute("DROP TABLE eyes")
    con.executemany(
        "INSERT INTO events (patient_id, limb_id, month, event) VALUES (?, ?, ?, 'occlusion')",
        occlusions,
    )
    con.execute(
        "INSERT INTO cohort_metadata VALUES ('name', 'Retinopathy as limbs'), "
        "('schema_version', ?), ('is_reconstruction', 'false')",
        [SCHEMA_VERSION],
    )
    create_summary(con)
    return con


# A small bilateral registry with the format's lesion, stent and therapy fields, its counts
# worked by hand in tests/unit/test_registry_variables.py. Per limb: (limb, patient, side,
# procedure date, age, aetiology, inflow, IVUS, stents the limb gives). A and B are
# treated on both legs, the right leg some months after the left; C and D on one.
DEVICE_PATIENTS = {"A": ("F", True), "B": ("F", False), "C": ("M", False), "D": ("M", False)}
DEVICE_LIMBS = (
    ("A-L", "A", "left", "2012-01-01", 50, "post_thrombotic", "good", True, None),
    ("A-R", "A", "right", "2012-07-02", 51, "non_thrombotic", "poor", False, None),
    ("B-L", "B", "left", "2013-01-01", 60, "acute_thrombotic", None, True, None),
    ("B-R", "B", "right", "2013-03-01", 61, "post_thrombotic", "good", None, 1),
    ("C", "C", "left", "2014-01-01", 70, "not_recorded", None, None, None),
    ("D", "D", "right", "2014-06-01", 80, "post_thrombotic", "good", False, None),
)
# (limb, brand, design, diameter, length, below the inguinal ligament)
DEVICE_STENTS = (
    ("A-L", "Wallstent", "braided", 14.0, 90.0, True),
    ("A-L", "Wallstent", "braided", 16.0, 60.0, False),
    ("A-R", "Venovo", "laser_cut", 14.0, 80.0, False),
    ("B-L", "Venovo", "laser_cut", 16.0, 120.0, True),
    ("B-L", "Wallstent", "braided", 14.0, 60.0, False),
    ("D", "Venovo", "laser_cut", 14.0, 100.0, False),
)
# (patient, start month, end month, agent): C has no therapy recorded.
DEVICE_THERAPY = (
    ("A", 0.0, None, "doac"),
    ("B", 0.0, None, "vka"),
    ("B", 0.0, 12.0, "antiplatelet"),
    ("D", 0.0, None, "none"),
)


def device_registry(path: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """DEVICE_PATIENTS, DEVICE_LIMBS, DEVICE_STENTS and DEVICE_THERAPY as a cohort: 6 limbs
    in 4 patients, written as a writer would (its version, its limb summary): a file the
    dashboard opens."""
    con = duckdb.connect(path)
    con.execute(SCHEMA_PATH.read_text())
    for limb, pid, side, date, age, aetiology, inflow, ivus, stents in DEVICE_LIMBS:
        if limb == pid or limb.endswith("-L"):
            sex, thrombophilia = DEVICE_PATIENTS[pid]
            add_patient(con, pid, sex=sex, thrombophilia=thrombophilia, stents=None)
            con.execute("DELETE FROM limbs WHERE limb_id = ?", [pid])
        con.execute(
            "INSERT INTO limbs (limb_id, patient_id, side, aetiology, procedure_date, age_years, "
            "bmi, technical_success, follow_up_months, seg_ivc, seg_civ, seg_eiv, seg_cfv, "
            "inflow, ivus, stents) "
            "VALUES (?, ?, ?, ?, ?, ?, 25, true, 24, false, true, true, false, ?, ?, ?)",
            [limb, pid, side, aetiology, date, age, inflow, ivus, stents],
        )
    con.executemany(
        "INSERT INTO stents (limb_id, brand, design, diameter_mm, length_mm, "
        "below_inguinal_ligament) VALUES (?, ?, ?, ?, ?, ?)",
        DEVICE_STENTS,
    )
    con.executemany(
        "INSERT INTO antithrombotic (patient_id, start_month, end_month, agent) "
        "VALUES (?, ?, ?, ?)",
        DEVICE_THERAPY,
    )
    con.execute(
        "INSERT INTO cohort_metadata VALUES ('name', 'Devices, both legs'), ('schema_version', ?)",
        [SCHEMA_VERSION],
    )
    create_summary(con)
    return con


def retinopathy_file(path: str) -> str:
    """retinopathy_registry written to the cohort file ``path`` (the CLI and the dashboard
    open it as any registry); ``path`` back."""
    retinopathy_registry(path).close()
    return path
