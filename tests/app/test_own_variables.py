"""A registry's own columns in the dashboard: every page renders with them in the sidebar
section "This registry's variables", a link sets them, and they are comparisons, subgroup
factors, Table 1 rows and model covariates, under privacy as any other variable.

The registry is the demo's with one own column of each kind (tests.own_registry); the
expected counts are plain SQL on the imported file.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from analytics.cohort.db import open_cohort
from analytics.variables import OWN_SECTION
from tests.conftest import page_runner, unescaped
from tests.own_registry import INFERRED, LABELS, RARE, write_own_registry

PAGES = (
    "app.py", "pages/1_Patency.py", "pages/2_Clinical_outcomes.py", "pages/3_Safety.py",
    "pages/4_Subgroups.py", "pages/5_Tables.py", "pages/6_Data.py", "pages/7_Centres.py",
    "pages/8_Models.py",
)  # fmt: skip
# The own filters' widgets: a number's two bounds, a choice's one.
OWN_WIDGETS = (
    "trial_arm", "frailty_min", "frailty_max", "site_group", "anticoagulant_days_min",
    "anticoagulant_days_max", "grade", "compression", "completed_protocol",
)  # fmt: skip


@dataclass
class Upload:
    """What st.file_uploader hands the Data page: a name and the bytes."""

    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


@pytest.fixture
def own_page(own_path, monkeypatch):
    yield from page_runner(own_path, monkeypatch)


def analysed(own_path, where: str = "true") -> int:
    with open_cohort(own_path) as con:
        ((n,),) = con.execute(
            f"SELECT count(*) FROM limb_summary WHERE technical_success AND {where}"
        ).fetchall()
    return n


def notices(at) -> list[str]:
    return [unescaped(w.value) for w in at.sidebar.warning]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_them_in_their_sidebar_section(own_page, page):
    at = own_page(page)
    assert not at.exception
    (section,) = [e for e in at.sidebar.expander if e.label == OWN_SECTION]
    keys = {
        w.key for kind in ("selectbox", "radio", "number_input") for w in getattr(section, kind)
    }
    assert set(OWN_WIDGETS) <= keys
    assert not notices(at)


def test_a_link_sets_an_own_filter(own_path, own_page):
    at = own_page("app.py", trial_arm="a", compression="yes")
    assert not at.exception
    assert at.sidebar.selectbox(key="trial_arm").value == "a"
    assert at.sidebar.selectbox(key="trial_arm").options == ["Arm A", "Arm B"]
    expected = analysed(own_path, "trial_arm = 'a' AND compression")
    assert 0 < expected < analysed(own_path)
    assert {m.label: m.value for m in at.metric}["Patients analysed"] == str(expected)
    assert not notices(at)


def test_an_own_grouping_is_a_comparison_and_a_subgroup_factor(own_path, own_page):
    at = own_page("pages/1_Patency.py", by="grade")
    assert not at.exception
    assert at.selectbox(key="by").value == "grade"
    groups = {group for table in at.table for group in table.value.get("Group", [])}
    assert {"Grade: Low", "Grade: Middle", "Grade: High"} <= groups
    at = own_page("pages/4_Subgroups.py")
    assert not at.exception
    table = at.table[0].value.set_index(["Factor", "Group"])
    for label, shown, where in (
        ("Trial arm", "Arm A", "trial_arm = 'a'"),
        ("Frailty score", "3-5", "frailty BETWEEN 3 AND 5"),
        ("Completed protocol", "Yes", "completed_protocol"),
    ):
        assert table.loc[(label, shown), "Patients"] == analysed(own_path, where)


def test_their_table1_rows_count_as_sql_does(own_path, own_page):
    at = own_page("pages/5_Tables.py")
    assert not at.exception
    table1 = at.table[0].value.set_index("Characteristic")["Value"]
    for row, where in (
        ("Trial arm: Arm A", "trial_arm = 'a'"),
        ("Compression", "compression"),
        ("Grade: Middle", "grade = 'mid'"),
    ):
        assert table1[row].startswith(f"{analysed(own_path, where)} ("), row
    assert "Frailty score, points, mean ± SD (range)" in table1.index
    assert table1.index[-1] == "Grade: High"  # after the built-ins' rows, in the file's order


def test_an_own_covariate_is_a_models_choice_a_link_sets(own_page):
    at = own_page("pages/8_Models.py", adjust="frailty,trial_arm")
    assert not at.exception
    covariates = at.multiselect(key="model_covariates")
    assert {"Frailty score (per 1 points)", LABELS["trial_arm"]} <= set(covariates.options)
    assert covariates.value == ["frailty", "trial_arm"]
    terms = [t.value for t in at.table if "Adjusted HR (95% CI)" in t.value.columns]
    assert any("Trial arm" in " ".join(model["Term"]) for model in terms)
    assert not notices(at)


def test_a_level_of_fewer_than_k_patients_is_withheld_under_enforced_privacy(
    own_path, own_page, monkeypatch
):
    assert analysed(own_path, f"site_group = '{RARE}'") == 2
    at = own_page("pages/5_Tables.py")
    table1 = at.table[0].value.set_index("Characteristic")["Value"]
    assert table1[f"Site group: {RARE}"].startswith("2 (")
    monkeypatch.setenv("COHORT_PRIVACY", "enforced")
    at = own_page("pages/5_Tables.py")
    assert not at.exception
    table1 = at.table[0].value.set_index("Characteristic")["Value"]
    assert not table1[f"Site group: {RARE}"].startswith("2")
    at = own_page("pages/4_Subgroups.py")
    table = at.table[0].value.set_index(["Factor", "Group"])
    assert str(table.loc[("Site group", RARE), "Patients"]) != "2"


def test_an_upload_with_its_dictionary_lists_the_columns_taken_from_their_values(
    tmp_path, monkeypatch
):
    from ui import cohorts

    monkeypatch.setenv("COHORT_IMPORT_DIR", str(tmp_path / "imported"))
    monkeypatch.delenv(cohorts.SHARED_ENV, raising=False)
    source = write_own_registry(tmp_path / "source")
    files = [Upload(path.name, path.read_bytes()) for path in sorted(source.glob("*.csv"))]
    outcome = cohorts.import_upload(files, "Own columns")
    assert outcome.report is None and outcome.key == "own-columns"
    assert outcome.notes["column"].tolist() == [name for _, name, _ in INFERRED]
    assert outcome.notes["rule"].str.startswith("not in the dictionary: taken as").all()
