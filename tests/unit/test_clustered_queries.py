"""What the clustered patency reads from the registry: only the columns it uses.

The references are R's on ``retinopathy`` as limbs, with their call in
tests/unit/test_bilateral_views.py.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.glossary import PATENCY_ENDPOINTS
from analytics.stats.engine.counts import pairs_of
from analytics.stats.survival import _both_in, endpoint_clusters, endpoint_counts, survival
from tests.cohorts import retinopathy_registry
from tests.unit.test_bilateral_views import R_BY_SIDE, R_OVERALL


class Recorder:
    """A connection that keeps the SQL of each query it runs."""

    def __init__(self, con: Any) -> None:
        self.con, self.queries, self.results = con, [], []

    def execute(self, sql: str, params: Any = None) -> Any:
        self.queries.append(sql)
        result = self.con.execute(sql, params)
        self.results.append([column[0] for column in result.description])
        return result

    def sql(self, query: str) -> Any:
        self.queries.append(query)
        relation = self.con.sql(query)
        self.results.append(relation.columns)
        return relation


def test_the_unsplit_clustered_curve_fetches_its_limbs_without_a_group_column():
    """Without a split the listed limbs have no group to read: a column of NULLs, one per
    limb, cost a third of fetching those limbs on a million."""
    con = Recorder(retinopathy_registry())
    fit = survival(con, CohortFilter(), ["primary"], [12, 24])["primary"]
    (limbs,) = [sql for sql in con.queries if "patient_limbs > 1" in sql and "cluster" in sql]
    assert " AS g" not in limbs
    estimates = fit.overall.estimates
    assert list(zip(estimates.estimate, estimates.se, strict=True)) == [
        pytest.approx(row, rel=1e-6) for row in R_OVERALL
    ]


def test_the_patencies_times_are_read_once_a_filter_then_reads_only_its_rows(retinopathy_path):
    """A file's patency times are coded on the first read (analytics.cohort.tallies); a
    later filter's curves read which rows it selects and nothing else of the summary, and
    each curve is still R's (retinopathy's occlusions end all three patencies at once)."""
    survival(open_cohort(str(retinopathy_path)), CohortFilter(), list(PATENCY_ENDPOINTS), [12])
    con = Recorder(open_cohort(str(retinopathy_path)))
    fits = survival(con, CohortFilter(lesion_side="left"), list(PATENCY_ENDPOINTS), [12, 24])
    scans = [  # beside one row of the file's statistics (its rows, whether any is bilateral)
        sql for sql in con.queries
        if "FROM limb_summary" in sql and "duckdb_databases()" not in sql
    ]  # fmt: skip
    assert all("AS keep FROM" in sql or "patient_limbs > 1" in sql for sql in scans), scans
    assert not [sql for sql in con.queries if "GROUP BY" in sql]
    for fit in fits.values():
        estimates = fit.overall.estimates
        assert list(zip(estimates.estimate, estimates.se, strict=True)) == [
            pytest.approx(row[:2], rel=1e-6) for row in R_BY_SIDE["left"]
        ]


def test_a_filter_holding_one_limb_of_each_patient_lists_no_limbs_and_equals_r(retinopathy_path):
    """The clustered variance pairs only a patient's limbs in the filter: with one limb of
    each patient (the left ones) none is listed, and the curve is R's clustered curve of
    the left limbs (R_BY_SIDE, its call in test_bilateral_views)."""
    con = open_cohort(str(retinopathy_path))
    left = CohortFilter(lesion_side="left")
    counts = endpoint_counts(con, left, ["primary"])
    whole, _ = endpoint_clusters(con, left, counts)["primary"]
    assert whole.cluster.size == 0
    estimates = survival(con, left, ["primary"], [12, 24])["primary"].overall.estimates
    assert list(zip(estimates.estimate, estimates.se, strict=True)) == [
        pytest.approx(row[:2], rel=1e-6) for row in R_BY_SIDE["left"]
    ]


def test_the_listed_limbs_are_those_of_patients_with_both_limbs_in_the_filter(bilateral_path):
    """Of the patients with two limbs, those with one limb in the filter add nothing to a
    clustered variance and are not listed (on a million limbs, locating them cost a
    tenth of the three patencies); each listed patient has both limbs there."""
    con = open_cohort(str(bilateral_path))
    chosen = CohortFilter(age_min=60)
    rows = con.execute(
        "SELECT patient_key FROM limb_summary WHERE technical_success AND age_years >= 60 "
        "AND patient_limbs > 1"
    ).df()
    limbs_in_filter = rows["patient_key"].value_counts()
    assert (limbs_in_filter == 1).any() and (limbs_in_filter == 2).any()
    counts = endpoint_counts(con, chosen, ["primary", "secondary"], by="aetiology")
    for whole, split in endpoint_clusters(con, chosen, counts, by="aetiology").values():
        both = sorted(limbs_in_filter.index[limbs_in_filter == 2].repeat(2))
        assert sorted(whole.cluster.tolist()) == both
        assert set(split.cluster.tolist()) <= set(both)


@pytest.mark.parametrize("keys", [[3, 1, 3, 2, 1, 5], [1, 1, 2, 3, 3, 5], [7], []])
def test_the_limbs_kept_are_the_rows_of_keys_listed_twice_in_any_order(keys):
    cluster = np.array(keys, dtype=np.int32)
    twice = pd.Series(keys).value_counts()
    expected = [i for i, key in enumerate(keys) if twice[key] > 1]
    assert _both_in(cluster).tolist() == expected


def _plain_pairs(cluster: np.ndarray) -> list[tuple[int, int]]:
    """Every two rows of one cluster value, (earlier, later) row, sorted."""
    return sorted(
        (i, j) for i, j in combinations(range(cluster.size), 2) if cluster[i] == cluster[j]
    )


@pytest.mark.parametrize("keys", [[3, 1, 3, 2, 1, 5], [1, 1, 2, 3, 3, 5], [4, 4, 4, 2], [7], []])
def test_the_pairs_of_a_cluster_column_are_every_two_rows_of_one_patient(keys):
    cluster = np.array(keys, dtype=np.int64)
    first, second = pairs_of(cluster)
    found = sorted((min(a, b), max(a, b)) for a, b in zip(first, second, strict=True))
    assert found == _plain_pairs(cluster)


def test_the_three_patencies_overall_limbs_share_one_pairing_of_their_rows(bilateral_path):
    """Every endpoint lists the same limbs overall (the rows of patients with both limbs
    in the filter), so their pairs are found once for the three, and are every two limbs
    of one patient."""
    con = open_cohort(str(bilateral_path))
    chosen = CohortFilter(age_min=60)
    counts = endpoint_counts(con, chosen, list(PATENCY_ENDPOINTS))
    wholes = [whole for whole, _ in endpoint_clusters(con, chosen, counts).values()]
    assert len(wholes) == len(PATENCY_ENDPOINTS)
    assert all(whole.paired is wholes[0].paired for whole in wholes)
    first, second = wholes[0].pairs()
    assert first.size > 0
    found = sorted((min(a, b), max(a, b)) for a, b in zip(first, second, strict=True))
    assert found == _plain_pairs(wholes[0].cluster)
