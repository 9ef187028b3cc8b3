"""One row per patient in a registry where patients have two treated limbs: each patient's
first limb in the filter (filters.patient_sql, tallies.one_per_patient), checked
against pandas on the filter's limb rows, and looked up on the rows of patients with two
limbs only (what keeps a person-level page's query near a limb-level one's on a million
limbs)."""

from __future__ import annotations

import json

import duckdb
import pytest

from analytics import views
from analytics.cohort.summary import SUMMARY_TABLE
from analytics.cohort.tallies import forget_selections, one_per_patient
from analytics.filters import (
    CohortFilter,
    cohort_sql,
    cohort_where,
    patient_sql,
)
from analytics.stats.clinical import holds_two_limbs
from analytics.stats.safety import event_timeline

FILTERS = [
    CohortFilter(),
    CohortFilter(population="all"),
    CohortFilter(lesion_side="right"),  # many second limbs whose first is left out
    CohortFilter(lesion_side="left", sex="F"),
    CohortFilter(age_min=60),
]


def first_limbs(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> set[str]:
    """The reference: of the filter's limb rows, each patient's earliest (limb_order)."""
    rows = con.execute(*cohort_sql(cohort_filter, "limb_id, patient_id, limb_order")).df()
    kept = rows.sort_values("limb_order").groupby("patient_id", sort=False).head(1)
    return set(kept["limb_id"])


def join_rows(con: duckdb.DuckDBPyConnection, query: str, params: list) -> list[int]:
    """The rows each hash join of the query's plan took in."""
    (_, plan), *_ = con.execute(f"EXPLAIN (ANALYZE, FORMAT json) {query}", params).fetchall()
    found: list[int] = []

    def walk(node: dict) -> None:
        if node.get("type") == "HASH_JOIN":
            found.append(int(node["intermediate_rows"]))
        for child in node.get("children", ()):
            walk(child)

    for node in json.loads(plan)["operator"]:
        walk(node)
    return found


def two_limb_rows(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> int:
    return con.execute(
        *cohort_sql(cohort_filter, "count(*) FILTER (patient_limbs > 1)")
    ).fetchall()[0][0]


@pytest.mark.parametrize("cohort_filter", FILTERS, ids=repr)
def test_patient_sql_keeps_each_patients_first_limb_in_the_filter(bilateral, cohort_filter):
    kept = bilateral.execute(*patient_sql(cohort_filter, "limb_id")).df()["limb_id"]
    assert kept.is_unique
    assert set(kept) == first_limbs(bilateral, cohort_filter)


@pytest.mark.parametrize("cohort_filter", FILTERS, ids=repr)
def test_one_per_patient_keeps_each_patients_first_limb_in_the_filter(bilateral, cohort_filter):
    where, params = cohort_where(cohort_filter)
    kept = bilateral.execute(
        f"SELECT limb_id FROM {SUMMARY_TABLE} WHERE {where} AND {one_per_patient(where)}",
        [*params, *params],
    ).df()["limb_id"]
    assert set(kept) == first_limbs(bilateral, cohort_filter)


@pytest.mark.parametrize("cohort_filter", FILTERS[:3], ids=repr)
def test_a_person_level_query_looks_up_only_the_rows_of_patients_with_two_limbs(
    bilateral, cohort_filter
):
    """The rows of patients with one limb are each their patient's: no join reads them
    (a lookup of every limb took half of a person-level query on a million limbs)."""
    queries = [patient_sql(cohort_filter, "count(*)")]
    most = two_limb_rows(bilateral, cohort_filter)
    assert 0 < most < bilateral.execute(*cohort_sql(cohort_filter, "count(*)")).fetchall()[0][0]
    for query, bound in queries:
        joined = join_rows(bilateral, query, bound)
        assert joined, "the pairs are looked up by a join"
        assert max(joined) <= most


def plan_nodes(con: duckdb.DuckDBPyConnection, query: str, params: list) -> list[dict]:
    """Every operator of the query's analysed plan, parents before their children."""
    (_, plan), *_ = con.execute(f"EXPLAIN (ANALYZE, FORMAT json) {query}", params).fetchall()
    nodes, todo = [], list(json.loads(plan)["operator"])
    while todo:
        node = todo.pop(0)
        nodes.append(node)
        todo.extend(node.get("children", ()))
    return nodes


class Recording:
    """A connection keeping each query it runs, with its parameters."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.sent = con, []

    def execute(self, sql: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
        self.sent.append((sql, params or []))
        return self.con.execute(sql, params or [])

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        self.sent.append((query, []))
        return self.con.sql(query)


@pytest.mark.parametrize("cohort_filter", FILTERS, ids=repr)
def test_holds_two_limbs_says_whether_the_filter_keeps_both_limbs_of_a_patient(
    bilateral, cohort_filter
):
    rows = bilateral.execute(*cohort_sql(cohort_filter, "patient_id")).df()
    assert holds_two_limbs(bilateral, cohort_filter) == rows["patient_id"].duplicated().any()


class Reversing:
    """A connection whose fetched columns come in reverse row order."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, sql: str, params: list | None = None) -> Reversing:
        self.result = self.con.execute(sql, params or [])
        return self

    def fetchall(self) -> list:
        return self.result.fetchall()

    def fetchnumpy(self) -> dict:
        return {name: values[::-1] for name, values in self.result.fetchnumpy().items()}


@pytest.mark.parametrize("cohort_filter", FILTERS, ids=repr)
def test_holds_two_limbs_sorts_keys_that_do_not_come_in_patient_order(bilateral, cohort_filter):
    """The keys come in the summary's patient order and are then not sorted; in any
    other order they are, with the same answer."""
    rows = bilateral.execute(*cohort_sql(cohort_filter, "patient_id")).df()
    expected = rows["patient_id"].duplicated().any()
    assert holds_two_limbs(Reversing(bilateral), cohort_filter) == expected


def test_holds_two_limbs_neither_groups_nor_joins_rows(bilateral):
    """The integer keys of the rows of patients with two limbs, read from their blocks:
    neither a grouping of those rows by their text ids nor a join of second limbs to first."""
    recording = Recording(bilateral)
    assert holds_two_limbs(recording, CohortFilter())
    ((query, params),) = [(q, p) for q, p in recording.sent if "patient_limbs > 1" in q]
    kinds = {node["type"] for node in plan_nodes(bilateral, query, params)}
    assert not kinds & {"HASH_GROUP_BY", "PERFECT_HASH_GROUP_BY", "HASH_JOIN"}


@pytest.mark.parametrize("cohort_filter", FILTERS[:3], ids=repr)
def test_the_timeline_counts_each_patients_events_once_unnesting_only_lists(
    bilateral, cohort_filter
):
    recording = Recording(bilateral)
    timeline = event_timeline(recording, cohort_filter)
    kept = first_limbs(bilateral, cohort_filter)
    rows = bilateral.execute(
        f"SELECT limb_id, unnest(safety_events, recursive := true) FROM {SUMMARY_TABLE}"
    ).df()
    expected = (
        rows[rows["limb_id"].isin(kept)]
        .groupby(["event", "month"], as_index=False)
        .size()
        .rename(columns={"size": "events"})
    )
    merged = timeline.merge(expected, on=["event", "month"], how="outer", suffixes=("", "_ref"))
    assert (merged["events"] == merged["events_ref"]).all(), merged
    ((query, params),) = recording.sent
    unnest = next(n for n in plan_nodes(bilateral, query, params) if n["type"] == "UNNEST")
    listed = rows.loc[rows["limb_id"].isin(kept), "limb_id"].nunique()  # the kept with events
    assert listed < len(kept)
    (union,) = unnest["children"]  # the two branches, whose rows it passes on uncounted
    assert sum(branch["intermediate_rows"] for branch in union["children"]) <= listed


@pytest.mark.parametrize("cohort_filter", FILTERS[:3], ids=repr)
def test_the_header_counts_a_filter_equal_to_the_population_analysed_once(bilateral, cohort_filter):
    """The sidebar's filter is often the population analysed: its rows are read once, not
    twice, and the whole file's not at all (analytics.cohort.tallies); the counts are
    those of the imported tables."""
    forget_selections()  # another test may have read these filters
    recording = Recording(bilateral)
    header = views.header_view(recording, cohort_filter)
    analysed = CohortFilter(population=cohort_filter.population)
    conditions = {
        cohort_where(f)[0] for f in (cohort_filter, analysed, CohortFilter(population="all"))
    } - {"true"}
    read = [query for query, _ in recording.sent if "AS keep FROM" in query]
    assert len(read) == len(conditions)
    rows = bilateral.execute(
        "SELECT l.patient_id, l.side, l.technical_success FROM limbs AS l"
    ).df()
    chosen = bilateral.execute(*cohort_sql(cohort_filter, "patient_id")).df()["patient_id"]
    kept = rows[rows["technical_success"]] if cohort_filter.population != "all" else rows
    assert (header.limbs, header.people) == (len(chosen), chosen.nunique())
    assert header.analysed == len(kept)
    assert (header.total, header.people_in_file) == (len(rows), rows["patient_id"].nunique())
