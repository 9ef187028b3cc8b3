"""Every subgroup at once: checked against lifelines and scipy run directly on patient rows."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test

from analytics import views
from analytics.cohort.db import open_cohort
from analytics.filters import DEFAULT_FILTER, CohortFilter, cohort_where
from analytics.glossary import TOO_FEW_EVENTS, TOO_FEW_EVENTS_REASON
from analytics.groups import grouping
from analytics.present.figures.subgroups import TESTS, forest_pages, forest_plot, layout_rows
from analytics.present.tables import subgroup_display
from analytics.rules import MIN_EVENTS_FOR_HR
from analytics.stats.subgroups import FACTORS, factor_counts, subgroup_table
from analytics.views import SubgroupsView

TIGHT = {"precision": 1e-12, "r_precision": 1e-15}


def patient_rows(con, endpoint: str) -> pd.DataFrame:
    """The technical successes' primary-patency times with their lesion side and sex, one
    per patient."""
    return con.execute(
        """
        SELECT t.months, t.event::INTEGER AS event, (p.lesion_side = 'right')::INTEGER AS right,
               (p.sex = 'M')::INTEGER AS male
        FROM time_to_event AS t JOIN limb_summary AS p USING (limb_id)
        WHERE t.endpoint = ? AND p.technical_success
        """,
        [endpoint],
    ).df()


@pytest.fixture
def table(demo) -> pd.DataFrame:
    return subgroup_table(demo, DEFAULT_FILTER, "primary", 12)


def test_side_and_sex_match_lifelines_on_the_raw_patient_rows(demo, table):
    rows = patient_rows(demo, "primary")
    side = table[table["factor"] == "lesion_side"].set_index("level")
    sex = table[table["factor"] == "sex"].set_index("level")
    assert sex["events"].min() >= MIN_EVENTS_FOR_HR  # (the right side has too few for an HR)
    cox = CoxPHFitter().fit(
        rows[["months", "event", "male"]], duration_col="months", event_col="event",
        fit_options=TIGHT,
    )  # fmt: skip
    summary = cox.summary.loc["male"]
    assert sex.loc["M", "hr"] == pytest.approx(summary["exp(coef)"], rel=1e-6)
    assert sex.loc["M", "hr_lower"] == pytest.approx(summary["exp(coef) lower 95%"], rel=1e-6)
    assert sex.loc["M", "hr_upper"] == pytest.approx(summary["exp(coef) upper 95%"], rel=1e-6)
    left, right = rows[rows["right"] == 0], rows[rows["right"] == 1]
    logrank = logrank_test(left["months"], right["months"], left["event"], right["event"])
    assert side.loc["left", "logrank_p"] == pytest.approx(logrank.p_value, rel=1e-6)
    km = KaplanMeierFitter().fit(left["months"], left["event"])
    assert side.loc["left", "estimate"] == pytest.approx(km.predict(12.0))
    # the published side split: 22 left, 12 right
    assert side["patients"].to_dict() == {"left": 22, "right": 12}
    assert side.loc["left", "is_reference"] and not side.loc["right", "is_reference"]


def test_small_groups_are_flagged_unstable(table):
    small = (table["patients"] < 10) | (table["events"] < 5)
    assert table["unstable"].equals(small)
    assert table["unstable"].any() and not table["unstable"].all()


def test_a_level_without_events_is_not_estimable_with_a_reason(demo):
    table = subgroup_table(demo, DEFAULT_FILTER, "secondary", 12)
    no_events = table[(table["events"] == 0) & ~table["is_reference"]]
    assert not no_events.empty
    assert not no_events["estimable"].any()
    assert no_events["reason"].str.len().gt(0).all()


def test_a_hazard_ratio_of_too_few_events_is_no_number_anywhere(table):
    """The right side's handful of events: no HR in the table, its CSV, the figure's
    cells or its drawn points (a ratio of 2 patients' events is not a finding)."""
    side = table[table["factor"] == "lesion_side"].set_index("level")
    assert 0 < side.loc["right", "events"] < MIN_EVENTS_FOR_HR
    right = side.loc["right"]
    assert not right["estimable"] and right["reason"] == TOO_FEW_EVENTS_REASON
    assert pd.isna(right[["hr", "hr_lower", "hr_upper"]]).all()
    view = SubgroupsView("primary", 12, table)
    shown = subgroup_display(view).set_index("Group")
    assert shown.loc["Right", "Hazard ratio (95% CI)"] == TOO_FEW_EVENTS_REASON
    fig = forest_plot(view)
    lines = layout_rows(table)
    at = table.index[(table["factor"] == "lesion_side") & (table["level"] == "right")].item()
    row = lines.loc[lines["table_row"] == at, "row"].item()
    ratio = [t for t in fig.data if t.mode == "text" and t.name != "headers"][2]
    assert ratio.text[list(lines["row"]).index(row)] == TOO_FEW_EVENTS
    points = [t for t in fig.data if t.mode == "markers"]
    assert all(row not in list(t.y) for t in points)


def test_forest_plot_has_a_header_per_factor_and_a_line_per_level(table):
    lines = layout_rows(table)
    factors = table["factor"].nunique()
    assert len(lines) == len(table) + factors
    assert lines["table_row"].isna().sum() == factors
    fig = forest_plot(SubgroupsView("primary", 12, table))
    patients, estimate, ratio = (
        t for t in fig.data if t.mode == "text" and t.name not in ("headers", TESTS)
    )
    assert sum(s == "reference" for s in ratio.text) == factors
    assert list(fig.layout.yaxis.ticktext) == list(lines["label"])
    # a table in aligned columns: each column one trace at one x, never one padded string
    assert len(set(patients.x)) == len(set(estimate.x)) == len(set(ratio.x)) == 1
    assert patients.x[0] < estimate.x[0] < ratio.x[0]
    assert patients.textposition == "middle left" and ratio.textposition == "middle right"


def test_forest_plot_has_a_visible_line_at_one_and_plain_log_ticks(table):
    fig = forest_plot(SubgroupsView("primary", 12, table))
    (line,) = [t for t in fig.data if t.name == "HR = 1"]
    assert list(line.x) == [1, 1] and line.line.width > 0 and line.mode == "lines"
    assert not fig.layout.shapes  # a shape would take the template's zero line width
    axis = fig.layout.xaxis
    assert axis.type == "log" and list(axis.ticktext) == [f"{v:g}" for v in axis.tickvals]
    assert {0.5, 1, 2} <= set(axis.tickvals)
    texts = [a.text for a in fig.layout.annotations]
    assert "← less loss of patency in the group" in texts
    assert "less loss of patency in the reference →" in texts


def test_a_long_forest_plot_is_split_for_slides_keeping_factors_whole(table):
    view = SubgroupsView("primary", 12, table)
    pages = forest_pages(view, rows=12)
    assert len(pages) > 1
    assert sum(len(page.table) for page in pages) == len(table)
    for page in pages:
        assert len(layout_rows(page.table)) <= 12
        for factor in page.table["factor"].unique():  # every level of a factor on one page
            assert (page.table["factor"] == factor).sum() == (table["factor"] == factor).sum()
    # as few pages as a greedy fill needs, but even: no last page of one small factor
    lines = [len(layout_rows(page.table)) for page in pages]
    total, largest = sum(lines), max(table.groupby("factor").size()) + 1
    assert len(pages) == -(-total // 12) or max(lines) + largest > 12
    assert max(lines) - min(lines) <= largest, lines


def test_centres_are_left_to_the_centres_page(registry_path):
    with open_cohort(registry_path) as con:
        table = subgroup_table(con, CohortFilter(), "primary", 12)
    assert "center" not in set(table["factor"])
    assert {"lesion_side", "thrombophilia"} <= set(table["factor"])


def test_one_scan_counts_every_factor_as_patient_rows_do(registry_path):
    """The grouping sets give each factor's (level, months) counts: compared with pandas."""
    with open_cohort(registry_path) as con:
        counts = factor_counts(con, CohortFilter(lesion_side="left"), "primary")
        rows = con.execute(
            """SELECT p.*, t.months, t.event FROM time_to_event AS t
            JOIN limb_summary AS p USING (limb_id)
            WHERE t.endpoint = 'primary' AND p.technical_success AND p.lesion_side = 'left'"""
        ).df()
    assert set(counts) == set(FACTORS)
    for factor, column, levels in (
        ("thrombophilia", "thrombophilia", {False: "no", True: "yes"}),
        ("sex", "sex", {"F": "F", "M": "M"}),
    ):
        expected = rows.groupby(column)["event"].agg(["sum", "count"])
        got = counts[factor]
        for raw, level in levels.items():
            i = got.levels.index(level)
            assert got.events_per_level[i] == expected.loc[raw, "sum"]
            assert got.patients[i] == expected.loc[raw, "count"]
    age = counts["age_band"]
    assert age.levels == ("< 60", "60-74", ">= 75")
    assert age.patients.tolist() == [
        (rows["age_years"] < 60).sum(),
        rows["age_years"].between(60, 74).sum(),
        (rows["age_years"] >= 75).sum(),
    ]
    assert counts["lesion_side"].levels == ("left",)  # one level: no comparison drawn


@pytest.fixture(scope="module")
def unrecorded(bilateral_path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The bilateral registry's summary in memory, with some limbs' segment (so their
    segment pattern, the factor grouped by), sex and side not recorded."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{bilateral_path}' AS registry (READ_ONLY)")
    con.execute("CREATE TABLE limb_summary AS SELECT * FROM registry.limb_summary")
    con.execute("UPDATE limb_summary SET seg_cfv = NULL WHERE limb_key % 7 = 0")
    con.execute("UPDATE limb_summary SET sex = NULL WHERE limb_key % 11 = 0")
    con.execute("UPDATE limb_summary SET lesion_side = NULL WHERE limb_key % 13 = 0")
    yield con
    con.close()


@pytest.mark.parametrize(
    "cohort, cohort_filter",
    [
        ("registry", CohortFilter()),
        ("bilateral", CohortFilter()),
        ("bilateral", CohortFilter(sex="F", age_min=50)),
        ("unrecorded", CohortFilter()),
        ("unrecorded", CohortFilter(lesion_side="left")),
    ],
)
def test_the_tallies_count_what_a_group_by_per_factor_counts(request, cohort, cohort_filter):
    """Every factor's (level, months) events and censorings, against a plain GROUP BY, on a
    registry of one limb per patient, a bilateral one and one with values missing."""
    if cohort == "unrecorded":
        con = request.getfixturevalue("unrecorded")
    else:
        con = open_cohort(request.getfixturevalue(f"{cohort}_path"))
        request.addfinalizer(con.close)
    where, params = cohort_where(cohort_filter)
    counts = factor_counts(con, cohort_filter, "primary")
    for factor in FACTORS:
        plain = con.execute(
            f"""SELECT ({grouping(factor).sql})::INT AS code, tte_primary_months AS months,
                   sum(tte_primary_event::INT) AS events,
                   sum((NOT tte_primary_event)::INT) AS censored
            FROM limb_summary WHERE ({where}) AND tte_primary_months IS NOT NULL
                AND code IS NOT NULL
            GROUP BY ALL ORDER BY code, months""",
            params,
        ).df()
        got = counts[factor]
        levels = [grouping(factor).values[code] for code in plain["code"]]
        assert set(got.levels) == set(levels), factor
        for level in got.levels:
            mine, theirs = got.of(level), plain[[v == level for v in levels]]
            assert mine.time.tolist() == theirs["months"].tolist(), factor
            assert mine.events.tolist() == theirs["events"].tolist(), factor
            assert mine.censored.tolist() == theirs["censored"].tolist(), factor
    total = con.execute(
        f"SELECT count(*), count_if(tte_primary_event) FROM limb_summary WHERE ({where}) "
        "AND tte_primary_months IS NOT NULL",
        params,
    ).fetchall()[0]
    assert (counts.patients, counts.events) == total


def test_a_forest_plot_without_subgroups_says_there_is_nothing_to_show(table):
    empty = SubgroupsView("primary", 12, table.iloc[0:0])
    for view in (empty, *forest_pages(empty)):
        fig = forest_plot(view)
        assert fig.layout.title.text == "Primary patency: subgroups"
        assert not fig.data
        assert any("Nothing to show" in a.text for a in fig.layout.annotations)


@pytest.mark.parametrize(
    "cohort_filter",
    [CohortFilter(lesion_side="left"), CohortFilter(segments=("EIV",), segment_match="all")],
)
@pytest.mark.parametrize("factor", ["thrombophilia", "seg_cfv", "age_band"])
def test_limbs_whose_other_limb_is_outside_the_filter_are_left_out_changing_no_number(
    bilateral, cohort_filter, factor
):
    """A filter that keeps one limb of some patients with two (of all of them: one side):
    the subgroups leave those limbs out of the clustering, the Patency view by the factor
    lists every limb of the filter's patients with two in the file; the same robust score
    test, hazard ratios and clustered estimates at 12 months."""
    table = subgroup_table(bilateral, cohort_filter, "primary", 12)
    rows = table[table["factor"] == factor].set_index("level")
    split = views.patency_view(bilateral, cohort_filter, factor).survival["primary"]
    assert split.comparison.logrank.test == "robust_score"
    assert rows["logrank_p"].iloc[0] == pytest.approx(split.comparison.logrank.p, rel=1e-9)
    for ratio in split.comparison.hazard_ratios:
        assert rows.loc[ratio.level, "hr_lower"] == pytest.approx(ratio.ci_lower, rel=1e-9)
    at = list(split.groups[0].estimates.month).index(12)
    for group in split.groups:
        row = rows.loc[group.level]
        estimates = group.estimates
        assert (row["estimate"], row["ci_lower"], row["ci_upper"]) == pytest.approx(
            (estimates.estimate[at], estimates.ci_lower[at], estimates.ci_upper[at]), rel=1e-9
        )
