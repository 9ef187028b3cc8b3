"""Paired change from pair counts against scipy and numpy on one row per patient, and the
CEAP shift tests against statsmodels and R.

R values: R 4.2.2 (Debian's r-base-core). Bowker's statistic is R's ``mcnemar.test(x)``
on the k x k table; R has no Stuart-Maxwell test, so it is computed in R by its formula,
d' S^-1 d over the first k - 1 classes with d the row minus column margins and S their
covariance (S_ii = n_i. + n_.i - 2 n_ii, S_ij = -(n_ij + n_ji)):

    sm <- function(x) { k <- nrow(x); d <- (rowSums(x) - colSums(x))[-k]
      S <- -(x + t(x)); diag(S) <- rowSums(x) + colSums(x) - 2 * diag(x)
      stat <- drop(t(d) %*% solve(S[-k, -k]) %*% d)
      c(stat, k - 1, pchisq(stat, k - 1, lower.tail = FALSE)) }
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import SquareTable

from analytics.cohort.db import open_cohort
from analytics.cohort.summary import MEASURES, create_summary, measure_columns
from analytics.filters import CohortFilter, cohort_sql
from analytics.glossary import (
    CEAP_NO_PAIRS,
    CEAP_NO_SHIFT,
    CEAP_SEPARATE_SHIFTS,
    LEVEL_NOT_REACHED,
    NO_SPREAD,
)
from analytics.present import format as fmt
from analytics.stats.clinical import (
    binary_change,
    clinical_change,
    marginal_homogeneity,
    pair_counts,
    score_change,
    symmetry,
)
from analytics.stats.engine.hodges_lehmann import hodges_lehmann
from tests.conftest import add_patient


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


def _expected_pairs(rows: pd.DataFrame, measure: str) -> pd.DataFrame:
    """One measure's complete pairs counted by pandas on the limb rows."""
    before, after = measure_columns(measure)
    return (
        rows[[before, after]].dropna().value_counts().rename("patients").reset_index()
        .set_axis(["before", "after", "patients"], axis=1)
        .sort_values(["before", "after"], ignore_index=True)
    )  # fmt: skip


def test_pts_pairs_equal_the_summary_pts_columns_on_a_bilateral_registry(bilateral_path):
    """PTS is counted from its severity (its columns are not read): the pairs are those
    of the summary's own PTS columns, limb by limb, in a file with bilateral patients."""
    with open_cohort(bilateral_path) as con:
        got = pair_counts(con, CohortFilter())["pts"]
        cohort, params = cohort_sql(CohortFilter(), "pts_before, pts_after")
        expected = _expected_pairs(con.execute(cohort, params).df(), "pts")
    assert got.astype(object).equals(expected.astype(object))


def test_pts_from_an_ulcer_alone_and_without_villalta_counts_as_the_summary_says(blank):
    """An active ulcer (C6) is PTS whatever the Villalta (severe); a visit without
    Villalta has no PTS, whatever its CEAP (b and c have no pair); Villalta 4 without
    ulcer is none (domain.md)."""
    for limb in "abcd":
        add_patient(blank, limb)
    blank.executemany(
        "INSERT INTO assessments (limb_id, month, ceap_c, villalta) VALUES (?, ?, ?, ?)",
        [("a", 0, 6, 3), ("a", 12, 5, 4), ("b", 0, 4, None), ("b", 12, 6, 2),
         ("c", 0, 3, 4), ("c", 12, 6, None), ("d", 0, 6, 2), ("d", 6, 6, 3), ("d", 12, 4, None)],
    )  # fmt: skip
    create_summary(blank)
    got = pair_counts(blank, CohortFilter())["pts"]
    summary = blank.execute("SELECT pts_before, pts_after FROM limb_summary").df()
    assert got.astype(object).equals(_expected_pairs(summary, "pts").astype(object))
    # a: C6 before, Villalta 4 without ulcer after; d: C6 both (its last Villalta at 6)
    assert got.to_dict("list") == {
        "before": [True, True], "after": [False, True], "patients": [1, 1]
    }  # fmt: skip


def test_median_change_is_after_minus_before_from_the_patient_rows():
    pairs = pd.DataFrame(
        {"before": [10, 12, 9, 14], "after": [4, 7, 9, 6], "patients": [3, 2, 5, 4]}
    )
    before, after = _patients(pairs)
    change = score_change(pairs).median_change
    assert change == hodges_lehmann(*np.unique(after - before, return_counts=True))
    assert change.estimate < 0  # scores fell


def test_demo_median_changes_and_the_published_p(demo):
    change = clinical_change(demo, CohortFilter())
    villalta, score = change.villalta, change.severity_score
    assert villalta.p < 0.001 and score.p < 0.001  # Table 3: p < 0.001 for both
    # R 4.2.2, coin 1.4.2: wilcoxsign_test(after ~ before, distribution = "exact",
    # zero.method = "Wilcoxon") on the demo's pairs: Villalta (34 pairs, all fell, tied)
    # 1.16415321826935e-10 (the demo's Villalta before and after vectors); severity score,
    # before <- rep(c(2, 2, 3, 3, 4), c(8, 3, 14, 1, 8)), after <- rep(c(1, 2, 2, 3, 3),
    # c(8, 3, 14, 1, 8)) (CEAP class minus 2; 30 fell by one, 4 unchanged): 1.86264514923096e-09
    assert (villalta.test.method, score.test.method) == ("exact", "exact")
    assert villalta.p == pytest.approx(1.16415321826935e-10, rel=1e-12)
    assert score.p == pytest.approx(1.86264514923096e-09, rel=1e-12)
    # R 4.2.2: wilcox.test(after, before, paired = TRUE, conf.int = TRUE) on the demo's
    # Villalta pairs: (pseudo)median -6.499985, 95% CI -7.499963 to -5.499943
    hl = villalta.median_change
    assert (hl.estimate, hl.ci_lower, hl.ci_upper) == pytest.approx((-6.5, -7.5, -5.5), abs=1e-3)
    # every limb that changed fell one class: R gives the midrange -1 and no interval
    assert score.median_change.estimate == -1 and np.isnan(score.median_change.ci_lower)


def _shift(cells: dict[tuple[int, int], int]) -> pd.DataFrame:
    """A C0..C6 shift matrix (rows before, columns after) with the given cells."""
    matrix = np.zeros((7, 7), dtype=np.int64)
    for (before, after), limbs in cells.items():
        matrix[before, after] = limbs
    return pd.DataFrame(matrix)


VISION = [
    [1520, 266, 124, 66],
    [234, 1512, 432, 78],
    [117, 362, 1772, 205],
    [36, 82, 179, 492],
]  # Stuart (1955): unaided distance vision, right by left eye
COFFEE = [
    [93, 17, 44, 7, 10],
    [9, 46, 11, 0, 9],
    [17, 11, 155, 9, 12],
    [6, 4, 9, 15, 2],
    [10, 4, 12, 2, 27],
]  # Agresti, Categorical Data Analysis: first by second purchase
CEAP_3_TO_6 = [[4, 1, 1, 1], [6, 3, 2, 1], [3, 9, 2, 1], [1, 2, 7, 1]]  # C3..C6, every pair moved
DEMO = {(4, 3): 8, (4, 4): 3, (5, 4): 14, (5, 5): 1, (6, 5): 8}  # the demo's CEAP shift

# name: (shift matrix, Stuart-Maxwell (statistic, df, p), Bowker (statistic, df, p)), R 4.2.2
R_SQUARE_TABLES = {
    # sm(x) and mcnemar.test(x); Stuart's published statistic is 11.96 on 3 df
    "vision": (pd.DataFrame(VISION), (11.956569623, 3, 0.0075334250548),
               (19.1065502153, 6, 0.00398741984043)),
    "coffee": (pd.DataFrame(COFFEE), (12.2913495655, 4, 0.0153112483474),
               (20.4123581337, 10, 0.0255850657928)),
    # the 4 x 4 of C3..C6 in the C0..C6 frame: classes no limb was in drop out
    "C3 to C6": (_shift({(3 + i, 3 + j): n for i, row in enumerate(CEAP_3_TO_6)
                         for j, n in enumerate(row)}),
                 (8.02093642939, 3, 0.0455809886839), (13.8593073593, 6, 0.0312478778959)),
    # mcnemar.test gives NaN where a pair of classes has no limb moving (0/0); Bowker by
    # the formula over the pairs with a move, pchisq(30, 6, lower.tail = FALSE)
    "demo": (_shift(DEMO), (30.0, 3, 1.38005703129e-06), (30.0, 6, 3.93084481845e-05)),
    # two classes: both are McNemar's test, mcnemar.test(x, correct = FALSE)
    "two classes": (_shift({(4, 4): 20, (4, 5): 9, (5, 4): 2, (5, 5): 5}),
                    (4.45454545455, 1, 0.0348084788119), (4.45454545455, 1, 0.0348084788119)),
}  # fmt: skip


@pytest.mark.parametrize("name", R_SQUARE_TABLES)
def test_ceap_shift_tests_match_r(name):
    shift, homogeneity, bowker = R_SQUARE_TABLES[name]
    for result, expected in ((marginal_homogeneity(shift), homogeneity), (symmetry(shift), bowker)):
        assert not result.reason
        assert result.df == expected[1]
        assert (result.statistic, result.p) == pytest.approx((expected[0], expected[2]), rel=1e-9)


@pytest.mark.parametrize("name", R_SQUARE_TABLES)
def test_ceap_shift_tests_match_statsmodels_on_the_same_matrix(name):
    shift = R_SQUARE_TABLES[name][0].to_numpy()
    used = [c for c in range(len(shift)) if shift[c].sum() + shift[:, c].sum() > 0]
    table = SquareTable(shift[np.ix_(used, used)], shift_zeros=False)
    for result, expected in ((marginal_homogeneity(pd.DataFrame(shift)), table.homogeneity()),
                             (symmetry(pd.DataFrame(shift)), table.symmetry())):  # fmt: skip
        assert (result.statistic, result.df, result.p) == pytest.approx(
            (expected.statistic, expected.df, expected.pvalue), rel=1e-12
        )


def test_a_class_no_limb_left_or_entered_changes_nothing():
    with_stayers = _shift(DEMO | {(2, 2): 5})
    assert marginal_homogeneity(with_stayers) == marginal_homogeneity(_shift(DEMO))
    assert symmetry(with_stayers) == symmetry(_shift(DEMO))


@pytest.mark.parametrize(
    ("cells", "reason"),
    [({}, CEAP_NO_PAIRS), ({(4, 4): 6}, CEAP_NO_SHIFT), ({(4, 4): 3, (5, 5): 4}, CEAP_NO_SHIFT)],
    ids=["empty", "one class", "all on the diagonal"],
)
def test_degenerate_shift_matrices_are_not_computable_with_the_reason(cells, reason):
    for result in (marginal_homogeneity(_shift(cells)), symmetry(_shift(cells))):
        assert (result.statistic, result.df, result.p, result.reason) == (None, None, None, reason)


def test_separate_groups_of_classes_make_marginal_homogeneity_not_computable():
    shift = _shift({(4, 3): 3, (6, 5): 2, (4, 4): 1})  # C4 -> C3 and C6 -> C5 only
    assert marginal_homogeneity(shift).reason == CEAP_SEPARATE_SHIFTS
    bowker = symmetry(shift)  # still defined: 3 + 2 over the 6 pairs of C3..C6
    assert (bowker.statistic, bowker.df) == (5.0, 6)
    assert bowker.p == pytest.approx(stats.chi2.sf(5, 6), rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=49, max_size=49).map(lambda v: np.reshape(v, (7, 7))))
def test_any_shift_matrix_gives_a_test_or_a_reason_never_an_error(matrix):
    shift = pd.DataFrame(np.where(matrix > 3, 0, matrix))  # many empty cells
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = marginal_homogeneity(shift), symmetry(shift)
    for result in results:
        if result.reason:
            assert result.statistic is None and result.p is None
        else:
            assert np.isfinite(result.statistic) and 0 <= result.p <= 1 and result.df >= 1


def test_a_median_change_reads_as_its_estimate_and_interval_or_says_why():
    # R 4.2.2, wilcox.test(d, conf.int = TRUE): d = c(1.5, -0.5, 2, 3): 1.625, an 88%
    # interval only; d = rep(c(-3, -2, -1, 0, 1, 2), c(10, 15, 12, 8, 9, 6)): -1.00002
    # (-1.50004 to -0.49995); the demo's severity score: -1 and no interval
    four = hodges_lehmann(np.array([1.5, -0.5, 2, 3]), np.ones(4, int))
    assert fmt.median_change(four) == f"1.62 (no 95% CI: {LEVEL_NOT_REACHED})"
    same = hodges_lehmann(np.array([-1.0, 0.0]), np.array([30, 4]))
    assert fmt.median_change(same) == f"-1.00 (no CI: {NO_SPREAD})"
    tied = hodges_lehmann(np.array([-3.0, -2, -1, 0, 1, 2]), np.array([10, 15, 12, 8, 9, 6]))
    assert fmt.median_change(tied) == "-1.00 (95% CI -1.50 to -0.50)"
    assert fmt.median_change(tied, hidden=True) == fmt.SUPPRESSED


def test_a_median_change_by_the_normal_approximation_names_its_continuity_correction():
    """6 untied non-zero changes and 4 zero ones: the Wilcoxon p is exact (zeros dropped),
    R's interval the normal approximation with tie and continuity corrections."""
    import pandas as pd

    from analytics.present.masking import Cell
    from analytics.present.tables import wilcoxon_name
    from analytics.stats.clinical import score_change

    pairs = pd.DataFrame({"before": [9] * 7, "after": [9, 8, 6, 5, 3, 2, 1],
                          "patients": [4, 1, 1, 1, 1, 1, 1]})  # fmt: skip
    score = score_change(pairs)
    assert (score.test.method, score.median_change.method) == ("exact", "normal")
    assert "exact; median change normal approximation, tie- and continuity-corrected" in (
        wilcoxon_name(score, Cell(score.n, "exact"))
    )


def test_a_pts_severity_missing_on_one_side_leaves_its_limb_out_of_the_severity_table(blank):
    """PTS severity is stored as an ENUM (format 6); a limb whose last visit has no
    Villalta has no severity after, and counts in neither column (the pairs are
    complete ones). Villalta 12 is moderate, 16 severe (domain.md)."""
    for limb in ("a", "b"):
        add_patient(blank, limb)
    blank.executemany(
        "INSERT INTO assessments (limb_id, month, ceap_c, villalta) VALUES (?, ?, ?, ?)",
        [("a", 0, 4, 12), ("a", 12, 3, 16), ("b", 0, 4, 12), ("b", 12, 3, None)],
    )
    create_summary(blank)
    severity = clinical_change(blank, CohortFilter()).pts_severity.set_index("severity")
    assert severity["before"].to_dict() == {"none": 0, "mild": 0, "moderate": 1, "severe": 0}
    assert severity["after"].to_dict() == {"none": 0, "mild": 0, "moderate": 0, "severe": 1}
