"""Paired change from pair counts against scipy and numpy on one row per patient."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.cohort.db import open_cohort
from analytics.cohort.summary import MEASURES, measure_columns
from analytics.filters import CohortFilter, cohort_sql
from analytics.stats.clinical import binary_change, pair_counts, score_change


def _patients(pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.repeat(pairs["before"].to_numpy(float), pairs["patients"]),
        np.repeat(pairs["after"].to_numpy(float), pairs["patients"]),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_score_change_equals_scipy_on_patient_rows(seed):
    rng = np.random.default_rng(seed)
    pairs = pd.DataFrame(
        {"before": rng.integers(0, 20, 40), "after": rng.integers(0, 15, 40)}
    ).drop_duplicates(ignore_index=True)
    pairs["patients"] = rng.integers(1, 50, len(pairs))
    before, after = _patients(pairs)
    change = score_change(pairs)
    reference = stats.wilcoxon(after, before, zero_method="wilcox", correction=False)
    assert change.n == len(before)
    assert change.mean_before == pytest.approx(before.mean())
    assert change.sd_before == pytest.approx(before.std(ddof=1))
    assert change.mean_after == pytest.approx(after.mean())
    assert change.sd_after == pytest.approx(after.std(ddof=1))
    assert change.p == pytest.approx(reference.pvalue, rel=1e-9)


def test_no_change_has_no_p_and_one_patient_no_sd():
    assert score_change(pd.DataFrame({"before": [3], "after": [3], "patients": [4]})).p is None
    single = score_change(pd.DataFrame({"before": [3], "after": [1], "patients": [1]}))
    assert single.n == 1 and np.isnan(single.sd_before)


def test_exact_mcnemar_is_the_binomial_test_on_discordant_pairs():
    pairs = pd.DataFrame(
        {"before": [True, True, False, False], "after": [True, False, True, False],
         "patients": [5, 9, 2, 20]}
    )  # fmt: skip
    change = binary_change(pairs)
    assert (change.before, change.after, change.resolved, change.new) == (14, 7, 9, 2)
    assert change.p == pytest.approx(stats.binomtest(2, 11, 0.5).pvalue)


@pytest.mark.parametrize(
    "cohort_filter",
    [CohortFilter(), CohortFilter(lesion_side="left", sex="F"), CohortFilter(age_min=200)],
    ids=["all", "left-women", "empty"],
)
def test_pair_counts_equal_counting_patient_rows(registry_path, cohort_filter):
    """The one grouping-sets scan gives each measure's complete pairs, as pandas counts them."""
    with open_cohort(registry_path) as con:
        pairs = pair_counts(con, cohort_filter)
        cohort, params = cohort_sql(cohort_filter)
        rows = con.execute(f"SELECT * EXCLUDE (safety_events) FROM ({cohort})", params).df()
    for measure in MEASURES:
        before, after = measure_columns(measure)
        expected = (
            rows[[before, after]].dropna().value_counts().rename("patients").reset_index()
            .set_axis(["before", "after", "patients"], axis=1)
            .sort_values(["before", "after"], ignore_index=True)
        )  # fmt: skip
        got = pairs[measure]
        assert (
            got[["before", "after"]]
            .astype(object)
            .equals(expected[["before", "after"]].astype(object))
        )
        assert got["patients"].tolist() == expected["patients"].tolist()
