"""The variable declarations: what they derive equals what each place wrote by hand.

The expected values are literal copies of the hand-written lists of earlier releases
(glossary, groups, filters, ui/sidebar, present/tables), so they keep their meaning once
those lists derive from the declarations.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from analytics import filters, glossary
from analytics.cohort.db import open_cohort
from analytics.cohort.summary import create_summary
from analytics.filters import FilterError, parse_filter
from analytics.groups import decode, grouping, order_levels, quoted
from analytics.variables import (
    BUILTIN,
    DEVICE_SECTION,
    MEASURE_SECTION,
    RESERVED,
    RISK_SECTION,
    SEGMENT_SECTION,
    TOP,
    Bands,
    DeclarationError,
    Kind,
    Range,
    Registry,
    Role,
    Table1Row,
    Variable,
)
from tests.conftest import add_patient

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
PAPER_SEGMENT_ROWS = ("CIV+EIV+CFV", "IVC+CIV", "CIV+EIV", "EIV+CFV")
POPULATIONS = {
    "technical_success": "Technical successes",
    "all": "All enrolled (technical failures fail patency at month 0)",
}
SIDES = {"left": "Left", "right": "Right"}
SEXES = {"F": "Female", "M": "Male"}
# The registry's lesion, stent and therapy fields (cohort format 4), after the paper's.
REGISTRY_GROUPINGS = {
    "aetiology": "Aetiology",
    "stent_design": "Stent design",
    "stent_brand": "Stent brand",
    "below_inguinal_ligament": "Below the inguinal ligament",
    "inflow": "Inflow",
    "ivus": "IVUS",
    "therapy_at_procedure": "Antithrombotic at the procedure",
}
AETIOLOGIES = ("Post-thrombotic", "Non-thrombotic (NIVL)", "Acute thrombotic", "Not recorded")
DESIGNS = ("Braided", "Laser-cut", "Hybrid", "Mixed designs")
THERAPIES = (
    "VKA", "DOAC", "LMWH", "Antiplatelet", "Dual antiplatelet", "Combination", "None",
    "Not recorded",
)  # fmt: skip
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
    **REGISTRY_GROUPINGS,
}
ORDERED_GROUPINGS = ("age_band", "symptom_duration_band")
CONTINUOUS_COVARIATES = {
    "age_years": "Age (per 10 years)",
    "bmi": "BMI (per 5 kg/m²)",
    "symptom_duration_months": "DVT duration (per 12 months)",
}
TIME_VARYING_COVARIATES = {"recurrent_dvt": "Recurrent DVT (time-varying)"}
MODEL_COVARIATES = {
    **RISK_FACTORS,
    **SEGMENTS,
    "lesion_side": "Lesion side",
    "sex": "Sex",
    "center": "Centre",
    "urokinase": "Urokinase",
    **CONTINUOUS_COVARIATES,
    **TIME_VARYING_COVARIATES,
}
LEVEL_LABELS = {"lesion_side": SIDES, "sex": SEXES}
BUILTIN_LEVEL_LABELS = {
    **LEVEL_LABELS,
    "aetiology": dict(zip(("post_thrombotic", "non_thrombotic", "acute_thrombotic",
                           "not_recorded"), AETIOLOGIES, strict=True)),
    "stent_design": dict(zip(("braided", "laser_cut", "hybrid", "mixed"), DESIGNS, strict=True)),
    "inflow": {"good": "Good", "poor": "Poor"},
    "therapy_at_procedure": dict(zip(("vka", "doac", "lmwh", "antiplatelet",
                                      "dual_antiplatelet", "combination", "none",
                                      "not_recorded"), THERAPIES, strict=True)),
}  # fmt: skip
COVARIATE_UNITS = {"age_years": 10, "bmi": 5, "symptom_duration_months": 12}
AGE_BANDS = ("< 60", "60-74", ">= 75")
DURATION_BANDS = ("<= 12 months", "> 12 months")
FILTER_KEYS = (
    "population", "lesion_side", "sex", "segments", "segment_match", "segment_pattern",
    "age_min", "age_max", "bmi_min", "bmi_max", "center", "aetiology", "stent_design",
    "stent_brand", "inflow", "therapy_at_procedure", *RISK_FACTORS,
    "below_inguinal_ligament", "ivus",
)  # fmt: skip
# Table 1's rows after "Patients", as labelled under privacy (present/tables.table1).
TABLE1_ROWS = (
    "Age, years, mean ± SD",
    "Female",
    "Body mass index, mean ± SD",
    "Lesion side: left",
    *(f"Aetiology: {level}" for level in AETIOLOGIES),
    *RISK_FACTORS.values(),
    *(f"Segments (paper's rows): {row}" for row in PAPER_SEGMENT_ROWS),
    *(f"Segment involved: {label}" for label in SEGMENTS.values()),
    "Stents per limb, mean ± SD",
    *(f"Stent design: {level}" for level in DESIGNS),
    "Stented length, mm, mean ± SD",
    "Largest stent diameter, mm, mean ± SD",
    "Stented below the inguinal ligament",
    "Poor inflow",
    "IVUS used",
    *(f"Antithrombotic at the procedure: {level}" for level in THERAPIES),
    "Follow-up, months, mean",
)
# ui/sidebar.py: the top, then one expander per section.
SIDEBAR = {
    TOP: ("technical_success", "lesion_side", "sex"),
    SEGMENT_SECTION: ("segment_pattern",),
    RISK_SECTION: tuple(RISK_FACTORS),
    MEASURE_SECTION: ("age_years", "bmi", "center"),
    DEVICE_SECTION: (
        "aetiology", "stent_design", "stent_brand", "below_inguinal_ligament", "inflow",
        "ivus", "therapy_at_procedure",
    ),
}  # fmt: skip


G = Role.GROUPING


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("RISK_FACTORS", RISK_FACTORS),
        ("SEGMENTS", SEGMENTS),
        ("SEGMENT_NAMES", SEGMENT_NAMES),
        ("PAPER_SEGMENT_ROWS", PAPER_SEGMENT_ROWS),
        ("POPULATIONS", POPULATIONS),
        ("SIDES", SIDES),
        ("SEXES", SEXES),
        ("GROUPINGS", GROUPINGS),
        ("ORDERED_GROUPINGS", ORDERED_GROUPINGS),
        ("CONTINUOUS_COVARIATES", CONTINUOUS_COVARIATES),
        ("TIME_VARYING_COVARIATES", TIME_VARYING_COVARIATES),
        ("MODEL_COVARIATES", MODEL_COVARIATES),
        ("LEVEL_LABELS", BUILTIN_LEVEL_LABELS),
    ],
)
def test_glossary_names_keep_their_values_and_order(name, expected):
    value = getattr(glossary, name)
    assert value == expected
    assert list(value) == list(expected)  # the order too: it is the order things show in


def test_groupings_in_the_forests_order_with_their_labels():
    assert BUILTIN.groupings() == GROUPINGS
    assert list(BUILTIN.groupings()) == list(GROUPINGS)
    assert [v.grouping_key for v in BUILTIN.with_role(Role.FOREST)] == [
        key for key in GROUPINGS if key not in ("center", "technical_success", *REGISTRY_GROUPINGS)
    ]
    assert BUILTIN.ordered_groupings() == ORDERED_GROUPINGS
    assert BUILTIN.level_labels() == BUILTIN_LEVEL_LABELS


def test_bands_are_the_raw_group_values_of_earlier_releases():
    assert BUILTIN.grouped("age_band").bands.levels == AGE_BANDS
    assert BUILTIN.grouped("symptom_duration_band").bands.levels == DURATION_BANDS
    assert BUILTIN.grouped("age_band").level_order == AGE_BANDS
    assert BUILTIN.grouped("lesion_side").level_order == ("left", "right")
    assert BUILTIN.grouped("sex").level_order == ("F", "M")
    assert BUILTIN.grouped("thrombophilia").level_order == ("no", "yes")
    assert BUILTIN.grouped("center").level_order == ()


def test_covariates_in_the_models_pages_order_each_per_its_unit():
    assert BUILTIN.covariates() == MODEL_COVARIATES
    assert list(BUILTIN.covariates()) == list(MODEL_COVARIATES)
    numbers = [v for v in BUILTIN.with_role(Role.COVARIATE) if v.kind is Kind.NUMBER]
    assert {v.key: v.per for v in numbers} == COVARIATE_UNITS


def test_filter_keys_in_the_order_links_and_captions_write_them():
    assert BUILTIN.filter_keys() == FILTER_KEYS
    assert filters.FILTER_KEYS == FILTER_KEYS


def test_table1_rows_in_order():
    assert BUILTIN.table1_rows() == TABLE1_ROWS


def test_each_filter_sits_in_its_sidebar_section_in_order():
    sections = {
        section: tuple(v.key for v in BUILTIN.with_role(Role.FILTER) if v.section == section)
        for section in SIDEBAR
    }
    assert sections == SIDEBAR


@pytest.mark.parametrize("variable", [v for v in BUILTIN.variables if v.range], ids=str)
def test_a_declared_range_is_what_the_filter_accepts(variable):
    """From low to high inclusive, in the declared kind of number, nothing beyond."""
    declared = variable.range
    for key in declared.keys:
        assert getattr(parse_filter({key: f"{declared.low:g}"}), key) == declared.low
        assert getattr(parse_filter({key: f"{declared.high:g}"}), key) == declared.high
        for outside in (declared.low - declared.step, declared.high + declared.step):
            with pytest.raises(FilterError, match=key):
                parse_filter({key: f"{outside:g}"})
        kind = int if declared.integer else float
        assert type(getattr(parse_filter({key: f"{declared.low + 1:g}"}), key)) is kind


def test_reserved_keys_cover_every_link_parameter_and_widget_key():
    from ui import state

    pages_own = {"model_covariates", "model_recurrent_dvt"}  # pages/8_Models.py's widgets
    assert {p.key for p in state.VIEW_PARAMS} | {state.COHORT} | pages_own <= RESERVED


# ---- the registry refuses what it cannot use ------------------------------------------------

ACCESS_VEIN = Variable(
    "access_vein", "access_vein", Kind.CATEGORY, "Access vein",
    levels=(("popliteal", "Popliteal"), ("small_saphenous", "Small saphenous"),
            ("femoral", "Femoral"), ("jugular", "Jugular"), ("other", "Other")),
    table1=Table1Row("Access vein: femoral", level="femoral"),
    roles=tuple(Role),
)  # fmt: skip


def flag(key: str, column: str = "", label: str = "A flag") -> Variable:
    return Variable(key, column or key, Kind.YES_NO, label)


def stents(**changes) -> Variable:
    return Variable("stents", "stents", Kind.NUMBER, "Stents", **changes)


@pytest.mark.parametrize(
    ("variable", "reason"),
    [
        (flag("Access Vein"), "a key is lower-case"),
        (flag("access_vein; DROP TABLE patients"), "a key is lower-case"),
        (flag("access", column='access_vein"; DROP'), "not a plain lower-case identifier"),
        (flag("stented", column="patient_id"), "cannot be a variable"),
        (flag("access", label="[Re-login](https://evil.example)"), "not plain words"),
        (flag("access", label="<img src=x>"), "not plain words"),
        (
            Variable("access", "access_vein", Kind.CATEGORY, "Access", levels=(("x' OR '1", "X"),)),
            "has characters a level cannot have",
        ),
        (
            Variable("access", "access_vein", Kind.CATEGORY, "Access", roles=(G, Role.FOREST)),
            "a forest row is a grouping with declared levels",
        ),
        (
            stents(roles=(G,)),
            "needs bands",
        ),
        (
            stents(bands=Bands("stent_band", "Stents", (3, 1))),
            "increasing",
        ),
        (
            stents(range=Range("stents", 10, 0, 1, True)),
            "a range runs from low",
        ),
        (Variable("later", "", Kind.TIME_VARYING, "Later", roles=(Role.FILTER,)), "covariate only"),
    ],
    ids=lambda value: value.key if isinstance(value, Variable) else "",
)  # fmt: skip
def test_a_declaration_it_cannot_use_is_refused_naming_it(variable, reason):
    with pytest.raises(DeclarationError, match=reason) as refused:
        BUILTIN.extended([variable])
    assert repr(variable.key) in str(refused.value)


@pytest.mark.parametrize(
    ("variable", "clash"),
    [
        (flag("sex", column="sex_at_birth"), "'sex' is already 'sex''s"),  # a key twice
        (flag("sex_code", column="sex"), "column 'sex' is already 'sex''s"),
        (flag("age_min"), "'age_min' is already 'age_years''s"),  # the age filter's key
        (flag("age_band"), "'age_band' is already 'age_years''s"),  # the age grouping's
        (flag("segments"), "'segments' is already 'segment_pattern''s"),
        (flag("population"), "'population' is already 'technical_success''s"),
        (flag("by"), "reserved"),
        (flag("ref"), "reserved"),
        (flag("model_covariates"), "reserved"),
        (flag("cohort"), "reserved"),
    ],
    ids=lambda value: value.key if isinstance(value, Variable) else "",
)
def test_a_key_already_claimed_or_reserved_is_refused(variable, clash):
    with pytest.raises(DeclarationError, match=clash):
        BUILTIN.extended([variable])


def test_a_range_stem_that_claims_another_filters_keys_is_refused():
    weight = Variable(
        "weight", "weight", Kind.NUMBER, "Weight", range=Range("bmi", 30, 250, 1, True),
        roles=(Role.FILTER,),
    )  # fmt: skip
    with pytest.raises(DeclarationError, match=r"'bmi_m(in|ax)' is already 'bmi''s"):
        BUILTIN.extended([weight])


def test_extended_appends_after_the_builtins_without_changing_them():
    before = BUILTIN.variables
    mine = BUILTIN.extended([ACCESS_VEIN])
    assert BUILTIN.variables == before
    assert mine.variables == (*before, ACCESS_VEIN)
    assert mine.get("access_vein") is ACCESS_VEIN
    with pytest.raises(KeyError):
        BUILTIN.get("access_vein")
    for role in Role:
        assert mine.with_role(role)[-1] is ACCESS_VEIN, role
        assert mine.with_role(role)[:-1] == BUILTIN.with_role(role), role
    flags = (*RISK_FACTORS, "below_inguinal_ligament", "ivus")
    assert mine.filter_keys() == (*FILTER_KEYS[: -len(flags)], "access_vein", *flags)
    assert mine.table1_rows()[-1] == "Access vein: femoral"
    assert mine != BUILTIN


def test_an_ordered_category_of_a_cohort_is_an_ordered_grouping():
    ordered = BUILTIN.extended([replace(ACCESS_VEIN, kind=Kind.ORDERED)])
    assert ordered.ordered_groupings() == (*ORDERED_GROUPINGS, "access_vein")
    assert BUILTIN.extended([ACCESS_VEIN]).ordered_groupings() == ORDERED_GROUPINGS


def test_the_fingerprint_is_the_same_in_every_process():
    """Cache keys and the fit worker's pickled filter compare registries across processes,
    whose string hashing differs."""
    script = "from analytics.variables import BUILTIN; print(BUILTIN.fingerprint)"
    seen = {
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed}, cwd=Path(__file__).parents[2],
        ).stdout.strip()
        for seed in ("1", "2")
    }  # fmt: skip
    assert seen == {BUILTIN.fingerprint}


def test_registries_compare_and_hash_by_their_declarations_and_pickle():
    again = Registry(BUILTIN.variables)
    assert again == BUILTIN and hash(again) == hash(BUILTIN)
    assert pickle.loads(pickle.dumps(BUILTIN)) == BUILTIN
    assert hash(BUILTIN.extended([ACCESS_VEIN])) != hash(BUILTIN)


# ---- groupings built from the declarations (analytics.groups) -------------------------------

# Each grouping's SQL and values as analytics/groups.py wrote them by hand before they were
# built from the declarations.
MASK = "1 * seg_ivc::INT + 2 * seg_civ::INT + 4 * seg_eiv::INT + 8 * seg_cfv::INT"
EARLIER_GROUPS = {
    "lesion_side": ("lesion_side = 'right'", ("left", "right")),
    "sex": ("sex = 'M'", ("F", "M")),
    "age_band": (
        "CASE WHEN age_years < 60 THEN 0 WHEN age_years < 75 THEN 1 "
        "WHEN age_years IS NOT NULL THEN 2 END",
        AGE_BANDS,
    ),
    **{column: (column, ("no", "yes")) for column in (*SEGMENTS, *RISK_FACTORS)},
    "segment_pattern": (
        MASK,
        (
            "",
            "IVC",
            "CIV",
            "IVC+CIV",
            "EIV",
            "IVC+EIV",
            "CIV+EIV",
            "IVC+CIV+EIV",
            "CFV",
            "IVC+CFV",
            "CIV+CFV",
            "IVC+CIV+CFV",
            "EIV+CFV",
            "IVC+EIV+CFV",
            "CIV+EIV+CFV",
            "IVC+CIV+EIV+CFV",
        ),
    ),
    "urokinase": ("urokinase", ("no", "yes")),
    "symptom_duration_band": ("symptom_duration_months > 12", DURATION_BANDS),
    "center": ("center", None),
    "technical_success": ("technical_success", ("no", "yes")),
}


@pytest.fixture
def edges(blank):
    """Patients at every band's edges, with and without urokinase recorded, in 3 centres."""
    for i, (age, months, urokinase) in enumerate(
        [(18, 0.0, None), (59, 11.9, True), (60, 12.0, False), (74, 12.1, None),
         (75, 24.0, True), (110, 600.0, False)]
    ):  # fmt: skip
        add_patient(
            blank, f"p{i}", age_years=age, symptom_duration_months=months, urokinase=urokinase,
            center=f"C0{i % 3}", sex="MF"[i % 2], lesion_side=("left", "right")[i % 2],
            seg_ivc=i == 0, seg_cfv=i > 3, thrombophilia=i % 2 == 1,
        )  # fmt: skip
    return blank


@pytest.mark.parametrize("key", list(EARLIER_GROUPS))
def test_each_grouping_splits_as_the_hand_written_sql_did(key, edges, registry_path):
    earlier_sql, earlier_values = EARLIER_GROUPS[key]
    built = grouping(key)
    assert built.values == earlier_values
    synthetic = open_cohort(registry_path)
    try:
        create_summary(edges)
        for con, table in ((edges, "limb_summary"), (synthetic, "limb_summary")):
            rows = con.execute(
                f"SELECT ({earlier_sql}) AS earlier, ({built.sql}) AS built FROM {table}"
            ).fetchall()
            assert all(earlier == now for earlier, now in rows if earlier is not None), key
            assert [e is None for e, _ in rows] == [b is None for _, b in rows], key
    finally:
        synthetic.close()


def test_order_levels_follow_the_declared_order():
    assert order_levels("symptom_duration_band", ["> 12 months", "<= 12 months"]) == list(
        DURATION_BANDS
    )
    assert order_levels("sex", ["M", "F"]) == ["F", "M"]
    assert order_levels("center", ["C02", "C01"]) == ["C01", "C02"]
    assert order_levels(None, ["b", "a"]) == ["a", "b"]


def test_a_cohorts_own_category_groups_by_its_declared_levels(edges):
    mine = BUILTIN.extended([ACCESS_VEIN])
    for i, vein in enumerate(("jugular", "femoral", "other", None)):
        edges.execute("UPDATE limbs SET access_vein = ? WHERE limb_id = ?", [vein, f"p{i}"])
    split = grouping("access_vein", mine)
    query = f"SELECT {split.sql} FROM limbs WHERE limb_id = ?"
    codes = [edges.execute(query, [f"p{i}"]).fetchone()[0] for i in range(4)]
    assert decode("access_vein", codes[:3], mine).tolist() == ["jugular", "femoral", "other"]
    assert codes[3] is None  # not recorded: in no group
    assert order_levels("access_vein", ["other", "femoral", "popliteal"], mine) == [
        "popliteal", "femoral", "other",
    ]  # fmt: skip
    with pytest.raises(FilterError, match="cannot group by 'access_vein'"):
        grouping("access_vein")


def test_a_registry_without_a_variable_cannot_group_by_it():
    """The groupings come from the registry they are given, not from the built-ins."""
    without = Registry(tuple(v for v in BUILTIN.variables if v.key != "smoking"))
    with pytest.raises(FilterError, match="cannot group by 'smoking'") as refused:
        grouping("smoking", without)
    assert "thrombophilia" in str(refused.value)
    assert grouping("thrombophilia", without) == grouping("thrombophilia")


@pytest.mark.parametrize("column", ['age_years"; DROP TABLE patients; --', "Age", "1st", ""])
def test_only_a_plain_identifier_is_quoted_as_a_column(column):
    with pytest.raises(FilterError, match="not a column name"):
        quoted(column)
