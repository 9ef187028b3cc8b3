"""The filter specification: parsing, round trips, allow-lists and bound parameters."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from analytics.cohort.summary import create_summary
from analytics.filters import (
    DEFAULT_FILTER,
    CohortFilter,
    FilterError,
    cohort_sql,
    filter_keys,
    parse_filter,
    parse_filter_lenient,
    parse_pairs,
    to_params,
)
from analytics.groups import grouping, order_levels
from analytics.present import format as fmt
from analytics.stats.models import Term
from analytics.variables import BUILTIN, Kind, Registry, Role, Variable
from tests.conftest import add_patient


def test_round_trip_through_text():
    original = (
        CohortFilter(
            population="all",
            lesion_side="right",
            sex="M",
            segments=("CIV", "EIV"),
            segment_match="all",
            age_min=40,
            bmi_max=27.5,
            center="Centre 1",
        )
        .with_risk("thrombophilia", True)
        .with_risk("smoking", False)
    )
    assert parse_filter(to_params(original)) == original


def test_default_filter_has_no_parameters():
    assert to_params(DEFAULT_FILTER) == {}


@pytest.mark.parametrize("word", ["yes", "YES", "true", "1", "Y"])
def test_booleans_accept_common_spellings(word):
    assert parse_filter({"malignancy": word}).risk("malignancy") is True


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"lesion_side": "center"}, "lesion_side"),
        ({"thrombophilia": "maybe"}, "thrombophilia"),
        ({"age_min": "old"}, "age_min"),
        ({"age_min": "300"}, "age_min"),
        ({"segments": "CIV,XYZ"}, "segments"),
        ({"patient_id": "P01"}, "patient_id"),
        ({"population": "everyone"}, "population"),
    ],
)
def test_unusable_values_are_errors_naming_the_key(params, named):
    with pytest.raises(FilterError, match=named):
        parse_filter(params)


def test_lenient_parse_keeps_good_values_and_reports_bad_ones():
    parsed, problems = parse_filter_lenient({"lesion_side": "left", "sex": "Q"})
    assert parsed.lesion_side == "left"
    assert parsed.sex is None
    assert len(problems) == 1 and "sex" in problems[0]


def test_pairs_need_an_equals_sign():
    with pytest.raises(FilterError, match="COLUMN=VALUE"):
        parse_pairs(["lesion_side"])


def test_user_values_are_bound_never_formatted():
    hostile = "left' OR '1'='1"
    sql, params = cohort_sql(CohortFilter(center=hostile))
    assert hostile not in sql
    assert hostile in params


def test_hostile_value_matches_nothing(blank):
    add_patient(blank, "p1", center="Centre 1")
    create_summary(blank)
    sql, params = cohort_sql(CohortFilter(center="Centre 1' OR '1'='1"))
    assert blank.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0] == 0
    assert blank.execute("SELECT count(*) FROM patients").fetchone()[0] == 1


def test_segment_any_and_all(blank):
    add_patient(blank, "civ_eiv", seg_civ=True, seg_eiv=True)
    add_patient(blank, "eiv_cfv", seg_civ=False, seg_eiv=True, seg_cfv=True)
    add_patient(blank, "ivc_civ", seg_ivc=True, seg_civ=True, seg_eiv=False)
    create_summary(blank)

    def ids(cohort_filter: CohortFilter) -> set[str]:
        sql, params = cohort_sql(cohort_filter)
        return {
            row[0] for row in blank.execute(f"SELECT patient_id FROM ({sql})", params).fetchall()
        }

    assert ids(CohortFilter(segments=("CIV", "CFV"))) == {"civ_eiv", "eiv_cfv", "ivc_civ"}
    assert ids(CohortFilter(segments=("CIV", "EIV"), segment_match="all")) == {"civ_eiv"}
    assert ids(CohortFilter(segment_pattern="EIV+CFV")) == {"eiv_cfv"}


def test_unknown_grouping_is_refused():
    with pytest.raises(FilterError, match="cannot group by"):
        grouping("patient_id; DROP TABLE patients")


def test_boolean_groups_put_no_first_as_reference():
    assert order_levels("thrombophilia", ["yes", "no"]) == ["no", "yes"]
    assert order_levels("age_band", [">= 75", "< 60", "60-74"]) == ["< 60", "60-74", ">= 75"]


def test_views_of_filters_that_keep_few_or_no_patients_give_numbers(demo):
    """DuckDB's aggregates give NULL over no rows (count_if even over all-NULL rows)."""
    from analytics import views

    for params in (
        {"lesion_side": "right", "sex": "F"},  # nobody's ulcer healed: NULL healing months
        {"segments": ("IVC",)},
        {"lesion_side": "right", "sex": "M", "risk_factors": (("smoking", True),)},
        {"age_min": 110},
    ):
        f = CohortFilter(**params)
        assert views.tables_view(demo, f).population.ulcers_healed >= 0
        assert views.overview_view(demo, f).safety.patients >= 0
        views.subgroups_view(demo, f)
        views.centres_view(demo, f)


# ---- a registry's own variable: one declaration, and the filter derives the rest ------------

ACCESS_VEIN = Variable(
    "access_vein", "access_vein", Kind.CATEGORY, "Access vein",
    levels=(("popliteal", "Popliteal"), ("small_saphenous", "Small saphenous"),
            ("femoral", "Femoral"), ("jugular", "Jugular"), ("other", "Other")),
    roles=(Role.FILTER, Role.GROUPING, Role.COVARIATE),
)  # fmt: skip
WITH_ACCESS = BUILTIN.extended([ACCESS_VEIN])


def test_a_declared_variable_is_a_filter_key_with_a_parser_naming_its_levels():
    assert "access_vein" in filter_keys(WITH_ACCESS)
    assert "access_vein" not in filter_keys()
    assert parse_filter({"access_vein": "femoral"}, WITH_ACCESS).access_vein == "femoral"
    with pytest.raises(FilterError) as refused:
        parse_filter({"access_vein": "radial"}, WITH_ACCESS)
    assert str(refused.value) == (
        "access_vein='radial': expected one of popliteal, small_saphenous, femoral, jugular, other"
    )
    with pytest.raises(FilterError, match="access_vein: unknown filter"):
        parse_filter({"access_vein": "femoral"})  # the built-in variables have no such filter


def test_a_declared_variables_filter_is_bound_sql_that_picks_its_patients(blank):
    for patient, vein in (("p1", "femoral"), ("p2", "jugular"), ("p3", None)):
        add_patient(blank, patient, access_vein=vein)
    create_summary(blank)
    hostile = "femoral' OR '1'='1"
    sql, params = cohort_sql(CohortFilter(access_vein=hostile, variables=WITH_ACCESS))
    assert hostile not in sql and hostile in params
    cohort_filter = parse_filter({"access_vein": "femoral", "sex": "F"}, WITH_ACCESS)
    sql, params = cohort_sql(cohort_filter)
    assert '"access_vein" = ?' in sql and "femoral" in params
    rows = blank.execute(f"SELECT patient_id FROM ({sql})", params).fetchall()
    assert rows == [("p1",)]


def test_a_declared_variables_filter_round_trips_through_its_link_and_pickle():
    original = CohortFilter(
        population="all", access_vein="jugular", age_min=60, variables=WITH_ACCESS
    ).with_risk("thrombophilia", True)
    params = to_params(original)
    # its own filters in filter order after the built-ins', the yes/no flags last
    assert params == {
        "population": "all", "age_min": "60", "access_vein": "jugular", "thrombophilia": "yes",
    }  # fmt: skip
    assert parse_filter(params, WITH_ACCESS) == original
    assert parse_filter(params, WITH_ACCESS).variables == WITH_ACCESS
    assert pickle.loads(pickle.dumps(original)) == original  # as the fit worker receives it
    assert replace(original, sex="F").variables == WITH_ACCESS
    assert replace(original, sex="F").access_vein == "jugular"


def test_the_same_values_under_other_declarations_are_another_filter():
    """A cached result of one cohort's declarations is never served for another's."""
    mine = CohortFilter(lesion_side="left", variables=WITH_ACCESS)
    builtin = CohortFilter(lesion_side="left")
    assert mine != builtin and hash(mine) != hash(builtin)
    assert to_params(mine) == to_params(builtin)


def test_a_cache_key_holds_no_declarations():
    """Streamlit hashes a dataclass field by field (dataclasses.asdict): a filter carries its
    registry's fingerprint, not the registry, so that hashing stays cheap."""
    fields_of = dataclasses.asdict(CohortFilter(access_vein="femoral", variables=WITH_ACCESS))
    assert fields_of == {
        "population": "technical_success",
        "values": (("access_vein", "femoral"),),
        "fingerprint": WITH_ACCESS.fingerprint,
        "scope": (),
    }


def test_a_registry_without_a_variable_has_no_filter_for_it():
    without = Registry(tuple(v for v in BUILTIN.variables if v.key != "smoking"))
    assert "smoking" not in filter_keys(without)
    with pytest.raises(FilterError, match="smoking: unknown filter"):
        parse_filter({"smoking": "yes"}, without)
    with pytest.raises(TypeError, match="smoking"):
        CohortFilter(smoking=True, variables=without)
    assert parse_filter({"thrombophilia": "no"}, without).risk("thrombophilia") is False


# ---- caption words (analytics.present.format.filter_words) ---------------------------------


def test_caption_words_keep_each_style_in_the_links_order():
    """As the hand-written caption words of earlier releases read this filter: the side and
    sex as their level alone, a flag's raw yes/no after its label, "Age from", "Centre: C01",
    the flags last by key, the population last of all."""
    every_kind = (
        CohortFilter(
            population="all", lesion_side="right", sex="M", segments=("CIV", "EIV"),
            segment_match="all", segment_pattern="CIV+EIV", age_min=40, age_max=80,
            bmi_min=20.5, bmi_max=27.5, center="C01",
        )
        .with_risk("thrombophilia", True)
        .with_risk("diabetes", False)
    )  # fmt: skip
    assert fmt.filter_words(every_kind) == (
        "Right · Male · Segments: CIV,EIV · matching: all · Pattern: CIV+EIV · Age from: 40 · "
        "Age to: 80 · BMI from: 20.5 · BMI to: 27.5 · Centre: C01 · Diabetes: no · "
        "Thrombophilia: yes · all enrolled"
    )
    assert fmt.filter_words(DEFAULT_FILTER) == "technical successes"


def test_a_declared_variables_caption_words_follow_its_kind():
    femoral = CohortFilter(access_vein="femoral", age_min=60, variables=WITH_ACCESS)
    assert fmt.filter_words(femoral) == "Age from: 60 · Femoral · technical successes"
    ordered = BUILTIN.extended([replace(ACCESS_VEIN, kind=Kind.ORDERED)])
    graded = CohortFilter(access_vein="small_saphenous", variables=ordered)
    assert fmt.filter_words(graded) == "Access vein: Small saphenous · technical successes"
    by_data = BUILTIN.extended([replace(ACCESS_VEIN, levels=())])
    assert fmt.filter_words(parse_filter({"access_vein": "radial"}, by_data)) == (
        "Access vein: radial · technical successes"
    )


def test_a_declared_variables_levels_groups_and_terms_in_words():
    assert fmt.level("access_vein", "small_saphenous", WITH_ACCESS) == "Small saphenous"
    assert fmt.level("access_vein", "small_saphenous") == "small_saphenous"  # not declared
    assert fmt.group("access_vein", "femoral", WITH_ACCESS) == "Access vein: Femoral"
    versus = Term("access_vein=jugular", "access_vein", "jugular", "femoral", *[0.0] * 6)
    assert fmt.term(versus, WITH_ACCESS) == "Access vein: Jugular vs Femoral"
    assert fmt.group("sex", "F") == "Sex: Female"  # the built-ins' by default


def test_a_filter_is_default_under_its_own_declarations():
    """The Tables page compares the whole demo cohort with the paper only when nothing is
    filtered; a cohort's own declarations do not make its unfiltered filter another."""
    assert CohortFilter(variables=WITH_ACCESS).is_default
    assert CohortFilter(variables=WITH_ACCESS) != DEFAULT_FILTER
    assert not CohortFilter(access_vein="femoral", variables=WITH_ACCESS).is_default
    assert not CohortFilter(population="all").is_default
    assert CohortFilter(segment_match="any", lesion_side=None).is_default


def test_keywords_that_are_no_filter_are_refused():
    with pytest.raises(TypeError, match="patient_id"):
        CohortFilter(patient_id="P01")
    with pytest.raises(TypeError, match="not a yes/no filter"):
        CohortFilter(risk_factors=(("lesion_side", True),))
    assert CohortFilter(risk_factors=(("smoking", True),)).with_risk("smoking", None) == (
        DEFAULT_FILTER
    )


def test_a_pickled_filter_brings_its_declarations_to_a_fresh_process():
    """The fit worker's process has never seen a cohort's own declarations."""
    mine = CohortFilter(access_vein="jugular", variables=WITH_ACCESS)
    script = (
        "import pickle, sys; f = pickle.loads(sys.stdin.buffer.read()); "
        "print(f.access_vein, f.variables.get('access_vein').label, f.variables.fingerprint)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], input=pickle.dumps(mine), capture_output=True,
        check=True, cwd=Path(__file__).parents[2],
    ).stdout.decode().split()  # fmt: skip
    assert shown == ["jugular", "Access", "vein", WITH_ACCESS.fingerprint]


def test_a_builtin_filter_pickles_without_the_declarations():
    """A cached view result holding a filter is unpickled on every read of the cache."""
    builtin = CohortFilter(lesion_side="left")
    assert b"Lesion side" not in pickle.dumps(builtin)
    assert pickle.loads(pickle.dumps(builtin)) == builtin
