"""A cohort's own variable is named in its declared words wherever a view shows it.

The views carry the filter's registry (PatencyView, SubgroupsView, AdjustedModel), and the
tables, figures, report and deck label groups, factors and terms from it, not from the
built-ins' names (glossary.GROUPINGS). The variable is the access vein declared over the
schema's unused column (tests.unit.test_declared_roles); the demo cohort holds two of its
levels, popliteal and small saphenous. Declared as an ordered category, the comparison by
it also gets the log-rank test for trend, as the built-in bands do.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.present.deck import subgroup_lines
from analytics.present.figures.patency import patency_figure
from analytics.present.figures.subgroups import forest_plot
from analytics.present.masking import exact
from analytics.present.privacy import model_mask
from analytics.present.report import report_text
from analytics.present.tables import model_table, subgroup_display
from analytics.variables import BUILTIN, Kind
from analytics.views import model_ledger, models_view, patency_view, report_view, subgroups_view
from tests.unit.test_declared_roles import ACCESS_VEIN, WITH_ACCESS

GROUPS = {"Access vein: Popliteal", "Access vein: Small saphenous"}


@pytest.fixture(scope="module")
def con(demo_path):
    con = open_cohort(demo_path)
    yield con
    con.close()


@pytest.fixture(scope="module")
def declared() -> CohortFilter:
    return CohortFilter(variables=WITH_ACCESS)


def test_a_comparison_by_it_is_titled_and_its_groups_named(con, declared):
    view = patency_view(con, declared, "access_vein")
    title = patency_figure(view).layout.title.text
    assert title.startswith("Primary patency by access vein")
    assert all(group in report_text(report_view(con, declared, "access_vein")) for group in GROUPS)


def test_it_is_a_named_subgroup_factor_in_the_table_the_forest_and_the_deck(con, declared):
    view = subgroups_view(con, declared)
    table = subgroup_display(view)
    assert {f"{f}: {g}" for f, g in zip(table["Factor"], table["Group"], strict=True)} >= GROUPS
    labels = [str(text) for trace in forest_plot(view).data for text in trace.customdata or ()]
    assert "Access vein: Small saphenous" in labels  # the reference has no ratio to mark
    assert any(line.startswith("Access vein: Small saphenous: HR") for line in subgroup_lines(view))


def test_its_model_term_is_named_against_its_reference(con, declared):
    model = models_view(con, declared, "primary", ["access_vein"])
    off = model_mask(model, exact(model_ledger(model)))  # privacy off
    assert "Access vein: Small saphenous vs Popliteal" in model_table(model, off)["Term"].tolist()


def test_a_declared_ordered_category_gets_the_test_for_trend(con):
    """With two groups the test for trend is the log-rank test itself (scores 1 and 2 span
    the one contrast), the identity test_report checks for the duration bands."""
    ordered = BUILTIN.extended([replace(ACCESS_VEIN, kind=Kind.ORDERED)])
    view = report_view(con, CohortFilter(variables=ordered), "access_vein")
    comparison = view.survival["primary"].comparison
    assert comparison.levels == ("popliteal", "small_saphenous")
    assert comparison.ordered
    assert comparison.trend.statistic == pytest.approx(comparison.logrank.statistic, rel=1e-9)
    unordered = report_view(con, CohortFilter(variables=WITH_ACCESS), "access_vein")
    assert unordered.survival["primary"].comparison.trend is None


def test_the_models_help_names_each_covariates_reference_from_the_registry():
    """The reference levels the Models page names follow the cohort's covariates: its own
    covariate's first level is there, a built-in it lacks is not."""
    from analytics.present.format import reference_levels
    from analytics.variables import Registry

    first = ACCESS_VEIN.levels[0][1]
    assert f"Access vein: {first}" in reference_levels(WITH_ACCESS)
    assert reference_levels(BUILTIN) == "'No'; Lesion side: Left; Sex: Female; Centre: the first"
    without_sex = Registry(tuple(v for v in BUILTIN.variables if v.key != "sex"))
    assert "Sex" not in reference_levels(without_sex)
