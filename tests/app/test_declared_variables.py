"""The dashboard takes its filters, groupings and covariates from the open cohort's variables.

A cohort's registry (analytics.cohort.db.cohort_variables, read once per file by ui.data)
is swapped here for the built-ins extended by one throwaway declaration over the schema's
unused ``access_vein`` column, or for the built-ins without smoking. The declared
variable must show wherever its roles put it (a sidebar filter, a link parameter with its
notices, a comparison, a subgroup factor, a Table 1 row, a model covariate); the missing
one nowhere.
The expected counts come from plain SQL on the demo cohort, not from the code under test.
"""

from __future__ import annotations

import pytest

from analytics.cohort.db import open_cohort
from analytics.filters import Part
from analytics.variables import BUILTIN, Kind, Registry, Role, Table1Row, Variable
from tests.conftest import unescaped
from ui import state

ACCESS_VEIN = Variable(
    "access_vein", "access_vein", Kind.CATEGORY, "Access vein",
    levels=(("popliteal", "Popliteal"), ("small_saphenous", "Small saphenous"),
            ("femoral", "Femoral"), ("jugular", "Jugular"), ("other", "Other")),
    table1=Table1Row("Access vein: popliteal", level="popliteal"),
    roles=(Role.FILTER, Role.GROUPING, Role.TABLE1, Role.COVARIATE, Role.FOREST),
)  # fmt: skip
WITH_ACCESS = BUILTIN.extended([ACCESS_VEIN])
WITHOUT_SMOKING = Registry(tuple(v for v in BUILTIN.variables if v.key != "smoking"))
WITHOUT_RECURRENT_DVT = Registry(tuple(v for v in BUILTIN.variables if v.key != "recurrent_dvt"))

# The sidebar of earlier releases, written out: (section, filter keys) in order.
BUILTIN_SIDEBAR = (
    ("", ("population", "lesion_side", "sex")),
    ("Venous segments", ("segments", "segment_match", "segment_pattern")),
    ("Risk factors", ("malignancy", "smoking", "immobilization", "thrombophilia",
                      "recent_surgery", "trauma", "diabetes")),
    ("Age, BMI, centre", ("age_min", "age_max", "bmi_min", "bmi_max", "center")),
    ("Lesion, stents and therapy", ("aetiology", "stent_design", "stent_brand", "inflow",
                                    "therapy_at_procedure", "below_inguinal_ligament", "ivus")),
)  # fmt: skip


@pytest.fixture
def declare(monkeypatch):
    """Open every cohort with ``registry`` as its variables."""

    def use(registry: Registry) -> None:
        monkeypatch.setattr("ui.data.cohort_variables", lambda con: registry)

    return use


@pytest.fixture(scope="module")
def analysed_by_access(demo_path) -> dict[str | None, int]:
    """Patients analysed (the technical successes) by access vein, and in all (None),
    counted by plain SQL before any page opens the file."""
    con = open_cohort(demo_path)  # as every other reader of the file opens it, or DuckDB refuses
    try:
        rows = con.execute(
            "SELECT access_vein, count(*) FROM limb_summary WHERE technical_success "
            "GROUP BY ROLLUP (access_vein)"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def analysed(at) -> str:
    return {m.label: m.value for m in at.metric}["Patients analysed"]


def sidebar_notices(at) -> list[str]:
    return [unescaped(w.value) for w in at.sidebar.warning]


def test_the_built_in_sidebar_keeps_its_sections_and_order():
    sections = state.filter_sections(BUILTIN)
    assert tuple((s, tuple(p.key for p in params)) for s, params in sections) == BUILTIN_SIDEBAR
    filters = [key for _, keys in BUILTIN_SIDEBAR for key in keys]
    assert list(state.params_of(BUILTIN)) == filters + [p.key for p in state.VIEW_PARAMS]


def test_the_link_parameters_follow_the_registry():
    assert "access_vein" in state.params_of(WITH_ACCESS)
    assert "access_vein" not in state.params_of(BUILTIN)
    assert "smoking" not in state.params_of(WITHOUT_SMOKING)
    top = dict(state.filter_sections(WITH_ACCESS))[""]
    assert [(p.key, p.part) for p in top][-1] == ("access_vein", Part.LEVEL)


def test_a_declared_variable_is_a_sidebar_filter_a_link_sets(
    analysed_by_access, page_test, declare
):
    declare(WITH_ACCESS)
    at = page_test("app.py", access_vein="small_saphenous")
    assert not at.exception
    widget = at.sidebar.selectbox(key="access_vein")
    assert widget.label == "Access vein"
    assert widget.options == ["Popliteal", "Small saphenous", "Femoral", "Jugular", "Other"]
    assert widget.value == "small_saphenous"
    expected = analysed_by_access["small_saphenous"]
    assert expected < analysed_by_access[None]  # the filter does narrow the cohort
    assert analysed(at) == str(expected)
    assert at.query_params["access_vein"] == "small_saphenous"
    assert not sidebar_notices(at)


def test_a_declared_variable_gives_the_usual_notice_on_a_bad_link_value(
    analysed_by_access, page_test, declare
):
    declare(WITH_ACCESS)
    at = page_test("app.py", access_vein="subclavian")
    assert not at.exception
    assert (
        "Ignored in the link: access_vein='subclavian': expected one of popliteal, "
        "small_saphenous, femoral, jugular, other; ignored"
    ) in sidebar_notices(at)
    assert analysed(at) == str(analysed_by_access[None])


def test_a_declared_grouping_is_a_comparison_and_a_subgroup_factor(
    analysed_by_access, page_test, declare
):
    declare(WITH_ACCESS)
    at = page_test("pages/1_Patency.py", by="access_vein")
    assert not at.exception
    assert at.selectbox(key="by").value == "access_vein"
    assert "Access vein" in at.selectbox(key="by").options
    assert not sidebar_notices(at)
    groups = [group for table in at.table for group in table.value.get("Group", [])]
    assert {"Access vein: Popliteal", "Access vein: Small saphenous"} <= set(groups)
    at = page_test("pages/4_Subgroups.py")
    assert not at.exception
    table = at.table[0].value.set_index(["Factor", "Group"])
    for level, shown in (("popliteal", "Popliteal"), ("small_saphenous", "Small saphenous")):
        assert table.loc[("Access vein", shown), "Patients"] == analysed_by_access[level]


def test_a_declared_covariate_is_a_models_choice_a_link_sets(page_test, declare):
    declare(WITH_ACCESS)
    at = page_test("pages/8_Models.py", adjust="access_vein")
    assert not at.exception
    covariates = at.multiselect(key="model_covariates")
    assert "Access vein" in covariates.options
    assert covariates.value == ["access_vein"]
    assert not sidebar_notices(at)


def test_a_declared_table1_row_is_on_the_tables_page_with_its_count(
    page_test, declare, analysed_by_access
):
    declare(WITH_ACCESS)
    at = page_test("pages/5_Tables.py")
    assert not at.exception
    table1 = at.table[0].value.set_index("Characteristic")["Value"]
    n, analysed = analysed_by_access["popliteal"], analysed_by_access[None]
    assert table1["Access vein: popliteal"].startswith(f"{n} (")
    assert table1.index[-1] == "Access vein: popliteal"  # after the built-ins' rows
    assert 0 < n < analysed


def test_a_variable_the_registry_lacks_is_in_no_widget_and_no_link(page_test, declare):
    declare(WITHOUT_SMOKING)
    at = page_test("app.py", smoking="yes", access_vein="popliteal")
    assert not at.exception
    labels = [w.label for w in at.sidebar.radio]
    assert "Smoking" not in labels and "Thrombophilia" in labels
    notices = sidebar_notices(at)
    assert "Ignored in the link: smoking='yes': not a setting a link can carry; ignored" in notices
    assert any(n.startswith("Ignored in the link: access_vein=") for n in notices)
    at = page_test("pages/8_Models.py", adjust="smoking")
    assert not at.exception
    assert "Smoking" not in at.multiselect(key="model_covariates").options
    assert any(n.startswith("Ignored in the link: adjust='smoking'") for n in sidebar_notices(at))
    at = page_test("pages/1_Patency.py", by="smoking")
    assert "Smoking" not in at.selectbox(key="by").options
    assert any(n.startswith("Ignored in the link: by='smoking'") for n in sidebar_notices(at))


def test_a_cohort_without_the_time_varying_covariate_fits_without_offering_it(page_test, declare):
    declare(WITHOUT_RECURRENT_DVT)
    at = page_test("pages/8_Models.py")
    assert not at.exception
    assert "Recurrent DVT" not in [radio.label for radio in at.radio]
    (model,) = [t.value for t in at.table if "Adjusted HR (95% CI)" in t.value.columns]
    assert model["Term"].tolist() == ["DVT duration (per 12 months)"]  # the paper's alone
    assert at.query_params["adjust"] == "symptom_duration_months"
