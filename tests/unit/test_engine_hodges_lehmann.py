"""The Hodges-Lehmann median change and CI against R, and against SciPy on patient rows.

R values: R 4.2.2 (Debian's r-base-core), ``wilcox.test(..., conf.int = TRUE)`` with its
other arguments at their defaults (``exact = NULL``, ``correct = TRUE``, ``tol.root =
1e-4``); ``wilcox.test(d, conf.int = TRUE)`` on differences d is the paired test of
``wilcox.test(after, before, paired = TRUE, conf.int = TRUE)`` with d = after - before.
R's normal-approximation limits come from ``uniroot`` to 1e-4, so they are compared to
1e-3 (exact limits and estimates to 1e-9). The level is R's ``attr(conf.int,
"conf.level")``. SciPy has no Hodges-Lehmann interval but has the test it inverts: the
interval is the set of shifts the signed-rank test does not reject.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analytics.stats.engine.hodges_lehmann import hodges_lehmann
from analytics.stats.engine.signed_rank import EXACT, NORMAL, signed_rank

DEPRESSION_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]  # Hollander & Wolfe
DEPRESSION_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]  # R's datasets::sleep
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
# The demo cohort's Villalta pairs (before, after, patients), as its Table 3 reproduces
VILLALTA = [(6, 2, 1), (6, 5, 1), (9, 3, 1), (10, 3, 3), (10, 6, 4), (10, 7, 1), (10, 8, 1),
            (10, 9, 1), (11, 3, 3), (12, 3, 1), (12, 5, 1), (12, 6, 2), (12, 8, 1), (13, 0, 1),
            (13, 5, 1), (13, 6, 2), (13, 7, 3), (14, 6, 2), (15, 7, 1), (16, 6, 1), (16, 7, 1),
            (25, 7, 1)]  # fmt: skip
DISTINCT = ((37 * np.arange(1, 51)) % 101) - 40.3  # R: ((37 * (1:50)) %% 101) - 40.3


def table_of(differences) -> tuple[np.ndarray, np.ndarray]:
    """The engine's input: each distinct difference and how many patients have it."""
    return np.unique(np.asarray(differences, float), return_counts=True)


def from_pairs(pairs) -> tuple[np.ndarray, np.ndarray]:
    before, after, patients = (np.array(column, float) for column in zip(*pairs, strict=True))
    return after - before, patients.astype(int)


# name: (differences table, R's estimate, lower, upper, conf.level, method)
R_REFERENCE = {
    # wilcox.test(y, x, paired = TRUE, conf.int = TRUE): exact, 9 untied pairs
    "depression": (table_of(np.subtract(DEPRESSION_Y, DEPRESSION_X)),
                   -0.46, -0.786, -0.01, 0.95, EXACT),
    # with(sleep, wilcox.test(extra[group == 2], extra[group == 1], paired = TRUE,
    #      conf.int = TRUE)): a zero and ties, so the normal approximation
    "sleep": (table_of(np.subtract(SLEEP_2, SLEEP_1)),
              1.400020842, 1.050017991, 2.9499208, 0.95, NORMAL),
    # rep(before, n), rep(after, n); wilcox.test(after, before, paired = TRUE, conf.int = TRUE)
    "demo Villalta": (from_pairs(VILLALTA), -6.499985231, -7.499962792, -5.499942544, 0.95,
                      NORMAL),
    # wilcox.test(d[1:49], conf.int = TRUE): 49 untied differences, exact
    "49 distinct": (table_of(DISTINCT[:49]), 10.7, 2.2, 19.7, 0.95, EXACT),
    # wilcox.test(d, conf.int = TRUE): 50, so normal (R's rule: exact below 50)
    "50 distinct": (table_of(DISTINCT), 10.69991912, 1.2000112, 19.20002741, 0.95, NORMAL),
    # wilcox.test(rep(c(-3, -2, -1, 0, 1, 2), c(10, 15, 12, 8, 9, 6)), conf.int = TRUE)
    "tied integers with zeros": (
        (np.array([-3.0, -2, -1, 0, 1, 2]), np.array([10, 15, 12, 8, 9, 6])),
        -1.000020129, -1.500042803, -0.499951784, 0.95, NORMAL,
    ),
    # wilcox.test(c(1.5, -0.5, 2, 3), conf.int = TRUE): 95% not reachable, R's 0.88
    "four pairs": (table_of([1.5, -0.5, 2, 3]), 1.625, -0.5, 3.0, 0.88, EXACT),
    # wilcox.test(2.5, conf.int = TRUE): one pair, the interval is the point, level 0
    "one pair": (table_of([2.5]), 2.5, 2.5, 2.5, 0.0, EXACT),
}  # fmt: skip


@pytest.mark.parametrize("name", R_REFERENCE)
def test_hodges_lehmann_matches_r_wilcox_test(name):
    table, estimate, lower, upper, level, method = R_REFERENCE[name]
    result = hodges_lehmann(*table)
    assert result.method == method
    tolerance = 1e-9 if method == EXACT else 1e-3
    assert result.estimate == pytest.approx(estimate, abs=tolerance)
    assert (result.ci_lower, result.ci_upper) == pytest.approx((lower, upper), abs=tolerance)
    assert result.level == pytest.approx(level, abs=1e-12)


# name: (differences, R's estimate, lower, upper, conf.level): R 4.2.2,
# wilcox.test(d, conf.int = TRUE). Every shift between the two middle Walsh averages solves
# R's equation for the estimate; R returns the first its uniroot meets, the engine the
# midpoint (the median of the Walsh averages). The limits agree.
R_FLAT_ESTIMATE = {
    "nine pairs": ([2, 2, 0, 2, -1, 2, 3, -1, -1], 0.8652133708, -1, 2.499977394, 0.95),
    # R's loop widens alpha to 1 or more and gives median(d) twice at level 0
    "three tied": ([1, 1, 2], 1.414213562, 1, 1, 0.0),
    "two tied and one": ([-2, -2, 3], 0.07106781187, -2, -2, 0.0),
}


@pytest.mark.parametrize("name", R_FLAT_ESTIMATE)
def test_where_r_estimate_is_any_point_of_an_interval_it_is_the_walsh_median(name):
    differences, r_estimate, lower, upper, level = R_FLAT_ESTIMATE[name]
    result = hodges_lehmann(*table_of(differences))
    walsh = sorted(walsh_averages(np.array(differences, float)))
    middle = walsh[len(walsh) // 2 - 1], walsh[len(walsh) // 2]
    assert middle[0] < r_estimate < middle[1]
    assert result.estimate == pytest.approx(sum(middle) / 2, abs=1e-12)
    assert (result.ci_lower, result.ci_upper) == pytest.approx((lower, upper), abs=1e-3)
    assert result.level == pytest.approx(level, abs=1e-12)
    assert result.method == NORMAL


def test_every_non_zero_change_the_same_has_no_interval_as_r():
    # The demo's severity score: 30 of 34 limbs down one class, 4 unchanged. R:
    # wilcox.test(rep(c(1, 2, 2, 3, 3), c(8, 3, 14, 1, 8)), rep(c(2, 2, 3, 3, 4),
    # c(8, 3, 14, 1, 8)), paired = TRUE, conf.int = TRUE): "cannot compute confidence
    # interval when all observations are zero or tied", midrange -1, conf.int NaN NaN
    result = hodges_lehmann(np.array([-1.0, 0.0]), np.array([30, 4]))
    assert result.estimate == -1
    assert math.isnan(result.ci_lower) and math.isnan(result.ci_upper)
    assert (result.level, result.method) == (0.0, NORMAL)


def test_all_zero_differences_have_no_estimate():
    assert hodges_lehmann(np.array([0.0]), np.array([12])) is None
    assert hodges_lehmann(np.array([0.0, 3.0]), np.array([12, 0])) is None


def test_the_table_may_repeat_a_difference_and_zero_counts_drop_out():
    pooled = hodges_lehmann(*from_pairs(VILLALTA))
    split = hodges_lehmann(np.array([-4.0, -4.0, -6.0, 9.0]), np.array([3, 5, 2, 0]))
    assert split == hodges_lehmann(np.array([-4.0, -6.0]), np.array([8, 2]))
    assert pooled.estimate == -6.5


def test_exact_is_r_rule_not_the_signed_rank_p_rule():
    """Both are exact below 50 non-zero differences; R's interval only without ties and
    zeros, the p (coin's exact conditional test) with them too."""
    fifty = table_of(DISTINCT)
    assert (signed_rank(*fifty).method, hodges_lehmann(*fifty).method) == (NORMAL, NORMAL)
    forty_nine = table_of(DISTINCT[:49])
    assert (signed_rank(*forty_nine).method, hodges_lehmann(*forty_nine).method) == (EXACT, EXACT)
    with_zero = table_of([0.0, 1.5, -0.5, 2, 3, 4.25])
    assert (signed_rank(*with_zero).method, hodges_lehmann(*with_zero).method) == (EXACT, NORMAL)
    tied = table_of([1.5, -1.5, 2, 3, 4.25])
    assert (signed_rank(*tied).method, hodges_lehmann(*tied).method) == (EXACT, NORMAL)


# ---- against SciPy and numpy on one row per patient ---------------------------------------


def walsh_averages(rows: np.ndarray) -> np.ndarray:
    """(d_i + d_j) / 2 over i <= j of the non-zero differences, one row per patient."""
    nonzero = rows[rows != 0]
    i, j = np.triu_indices(nonzero.size)
    return (nonzero[i] + nonzero[j]) / 2


def nudge(walsh: np.ndarray) -> float:
    """A shift smaller than half the gap between any two distinct Walsh averages."""
    distinct = np.unique(walsh)
    return float(np.diff(distinct).min()) / 4 if distinct.size > 1 else 0.25


def p_at(rows: np.ndarray, shift: float, method: str) -> float:
    """SciPy's two-sided signed-rank p of the differences minus ``shift`` (R's defaults)."""
    kind = {EXACT: "exact", NORMAL: "approx"}[method]
    return stats.wilcoxon(rows - shift, zero_method="wilcox", correction=True, method=kind).pvalue


def check_against_scipy(rows: np.ndarray) -> None:
    result = hodges_lehmann(*table_of(rows))
    if not (rows != 0).any():
        assert result is None
        return
    walsh = walsh_averages(rows)
    assert result.estimate == pytest.approx(np.median(walsh), abs=1e-12)
    step = nudge(walsh)
    rows = rows[rows != 0]  # R drops the zero differences before estimating
    # the estimate balances the positive and negative ranks of the shifted differences
    for shift, sign in ((result.estimate - step, 1), (result.estimate + step, -1)):
        # only the statistic (R+) is read, the same whatever the method: the normal p spares
        # the permutation test SciPy's "auto" runs for tied differences (0.9 s a call)
        r_plus = stats.wilcoxon(
            rows - shift, zero_method="wilcox", alternative="greater", method="approx"
        )
        assert sign * (r_plus.statistic - walsh.size / 2) >= 0
    if math.isnan(result.ci_lower) or result.level == 0:
        return
    alpha = 1 - result.level
    for limit, into in ((result.ci_lower, 1), (result.ci_upper, -1)):
        inside, outside = (p_at(rows, limit + side * step, result.method) for side in (into, -into))
        assert inside >= alpha - 1e-9
        untied = result.method == EXACT and rows.size > 5  # else R's q is forced to 1
        if (result.method == NORMAL and rows.min() < limit < rows.max()) or untied:
            assert outside < alpha  # (at the smallest or largest difference R stops there)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-8, 8), min_size=1, max_size=70))
def test_interval_is_the_shifts_scipy_normal_test_does_not_reject(differences):
    check_against_scipy(np.array(differences, float))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5000, 5000), min_size=1, max_size=49, unique_by=abs))
def test_exact_interval_is_the_shifts_scipy_exact_test_does_not_reject(differences):
    # whole numbers: Walsh averages are exact halves, so a shift lands between them
    check_against_scipy(np.array(differences, float))
