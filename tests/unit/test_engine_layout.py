"""Counts and their clustered limbs laid out once: every comparison of one split (hazard
ratios, robust score tests, each group's curve) as R gives it, the limbs searched for and
paired once.

The R references and the bilateral set are those of tests/unit/test_engine_clustered.py,
with their calls written there.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter

from analytics.stats.engine import counts as engine_counts
from analytics.stats.engine.counts import UNCOUNTED_LIMB, Clusters, Counts, grid, layout, locate
from analytics.stats.engine.kaplan_meier import at_months, kaplan_meier, level_at_months
from analytics.stats.engine.robust_score import robust_score_pairwise
from analytics.stats.survival import compare
from tests.unit.test_engine_clustered import (
    BILATERAL,
    R_BILATERAL_COX,
    R_BILATERAL_KM,
    R_BILATERAL_PAIRS,
    R_BILATERAL_ROBSCORE,
    R_RETINOPATHY_COX,
    R_RETINOPATHY_KM,
    R_RETINOPATHY_ROBSCORE,
    assert_cox,
    on,
    prepared,
    retinopathy,  # noqa: F401 (a fixture)
)
from tests.unit.test_engine_located import NEAR


@pytest.fixture
def searches(monkeypatch) -> dict[str, list[int]]:
    """How many limbs each search for times and each pairing was given."""
    seen: dict[str, list[int]] = {"locate": [], "pairs": []}
    pairs = Clusters.pairs

    def counted_locate(times: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        seen["locate"].append(wanted.size)
        return locate(times, wanted)

    def counted_pairs(self: Clusters) -> tuple[np.ndarray, np.ndarray]:
        seen["pairs"].append(self.cluster.size)
        return pairs(self)

    monkeypatch.setattr(engine_counts, "locate", counted_locate)
    monkeypatch.setattr(Clusters, "pairs", counted_pairs)
    return seen


def test_one_layout_gives_rs_hazard_ratios_robust_score_and_curves_searching_once(searches):
    counts, clusters = prepared(BILATERAL)
    laid = layout(counts, clusters)
    comparison = compare(counts, "group", None, laid)
    assert_cox(comparison.hazard_ratios, R_BILATERAL_COX)
    test = comparison.logrank
    assert (test.statistic, test.df, test.p) == pytest.approx(R_BILATERAL_ROBSCORE, rel=1e-8)
    pairs = robust_score_pairwise(counts, laid)
    assert [(p.level, p.other, p.statistic, p.p) for p in pairs] == [
        (level, other, pytest.approx(statistic, rel=1e-8), pytest.approx(p, rel=1e-8))
        for level, other, statistic, p in R_BILATERAL_PAIRS
    ]
    level = "A"
    curve = kaplan_meier(*laid.of(level))
    km = np.array(R_BILATERAL_KM[level])
    at = np.searchsorted(curve.time, km[:, 0])
    assert curve.se[at] == pytest.approx(km[:, 3], rel=1e-9)
    assert searches == {"locate": [clusters.time.size], "pairs": [clusters.cluster.size]}


@pytest.mark.parametrize("term", ["trt", "risk3"])
def test_a_shared_layout_matches_r_on_retinopathy(retinopathy, term):  # noqa: F811
    counts, clusters = prepared(on(retinopathy, term))
    comparison = compare(counts, term, None, layout(counts, clusters))
    if term in R_RETINOPATHY_COX:
        assert_cox(comparison.hazard_ratios, R_RETINOPATHY_COX[term])
    statistic, df, p = R_RETINOPATHY_ROBSCORE[term]
    test = comparison.logrank
    assert (test.statistic, test.df, test.p) == pytest.approx((statistic, df, p), rel=1e-8)


@pytest.mark.parametrize("level", ["A", "B", "C"])
def test_a_level_of_a_layout_is_its_counts_and_its_limbs_located_and_paired(level):
    counts, clusters = prepared(BILATERAL)
    mine, limbs = layout(counts, clusters).of(level)
    expected = engine_counts.located(counts.of(level).time, clusters.of(level))
    for field in ("time", "events", "censored"):
        assert getattr(mine, field).tolist() == getattr(counts.of(level), field).tolist()
    assert limbs.index.tolist() == expected.index.tolist()
    assert limbs.clusters.cluster.tolist() == expected.clusters.cluster.tolist()
    assert sorted(zip(limbs.first.tolist(), limbs.second.tolist(), strict=True)) == sorted(
        zip(expected.first.tolist(), expected.second.tolist(), strict=True)
    )


def test_limbs_located_on_wider_times_are_placed_on_the_counts_own():
    counts, clusters = prepared(BILATERAL)
    wider = np.union1d(counts.time, [0.5, 3.5, 20.0])
    placed = engine_counts.Located(clusters, locate(wider, clusters.time), *clusters.pairs())
    laid = layout(counts, placed, wider)
    assert laid.limbs.index.tolist() == locate(grid(counts).times, clusters.time).tolist()
    assert_cox(compare(counts, "group", None, laid).hazard_ratios, R_BILATERAL_COX)
    stray = engine_counts.Located(
        clusters, np.full(clusters.time.size, 1), placed.first, placed.second
    )  # every limb at wider[1] = 0.5, a time the counts lack
    with pytest.raises(ValueError, match=UNCOUNTED_LIMB):
        layout(counts, stray, wider)


def test_limbs_located_on_the_counts_own_times_are_laid_out_as_they_are():
    """Located on the counts' own times (every factor of a split recorded for every limb):
    no search, and R's hazard ratios."""
    counts, clusters = prepared(BILATERAL)
    times = grid(counts).times
    placed = engine_counts.Located(clusters, locate(times, clusters.time), *clusters.pairs())
    laid = layout(counts, placed, times)
    assert laid.limbs is placed
    assert_cox(compare(counts, "group", None, laid).hazard_ratios, R_BILATERAL_COX)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([*NEAR, -0.0]), min_size=1, max_size=60))
def test_the_grid_places_each_row_exactly_however_close_the_times(times):
    """A sort on the floats' leading bits cannot tell these times apart: the grid's times
    and each row's column must stay np.unique's."""
    time = np.array(times, dtype=float)
    group = np.arange(time.size) % 2
    counts = Counts(("a", "b"), group, time, np.ones(time.size, int), np.zeros(time.size, int))
    g = grid(counts)
    expected, column = np.unique(time, return_inverse=True)
    assert g.times.tolist() == expected.tolist()
    assert g.column.tolist() == column.tolist()
    assert g.events.sum() == time.size


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(-1, 9), max_size=40),
    st.integers(1, 9),
    st.booleans(),
)
def test_each_levels_rows_are_found_alike_sorted_by_passes_or_by_one_sort(groups, levels, ordered):
    """Rows in level order, few levels (one pass each) and many (one sort): each level's
    rows in row order, -1 and levels beyond ``levels`` left out, as a plain search gives."""
    group = np.array(sorted(groups) if ordered else groups, dtype=int)
    rows = engine_counts._rows_by_level(group, levels)
    expected = [np.flatnonzero(group == level).tolist() for level in range(levels)]
    assert [r.tolist() for r in rows] == expected


@pytest.mark.parametrize("level", ["A", "B", "C"])
def test_a_level_read_off_its_layout_at_months_is_rs_clustered_curve(level):
    """R's survfit(..., cluster = id) at each of its times (R_BILATERAL_KM, with its call),
    read off the grid of every level without the level's own curve."""
    counts, clusters = prepared(BILATERAL)
    expected = np.array(R_BILATERAL_KM[level])
    read = level_at_months(layout(counts, clusters), level, expected[:, 0])
    assert read.at_risk.tolist() == expected[:, 1].astype(int).tolist()
    assert read.estimate == pytest.approx(expected[:, 2], rel=1e-9)
    assert read.se == pytest.approx(expected[:, 3], rel=1e-9)
    assert read.ci_lower == pytest.approx(expected[:, 4], rel=1e-9)
    assert read.ci_upper == pytest.approx(expected[:, 5], rel=1e-9)


@pytest.mark.parametrize("level", ["juvenile", "adult"])
def test_a_level_read_off_its_layout_matches_r_on_retinopathy(retinopathy, level):  # noqa: F811
    counts, clusters = prepared(on(retinopathy, "type"))
    expected = np.array(R_RETINOPATHY_KM[level])
    name = str(("juvenile", "adult").index(level))
    read = level_at_months(layout(counts, clusters), name, expected[:, 0])
    assert read.se == pytest.approx(expected[:, 1], rel=1e-9)
    assert read.ci_lower == pytest.approx(expected[:, 2], rel=1e-9)
    assert read.ci_upper == pytest.approx(expected[:, 3], rel=1e-9)


MONTHS = [-1.0, 0.0, 0.5, 1.0, 2.0, 6.5, 9.0, 11.0, 12.0, 12.5, 40.0]


@pytest.mark.parametrize("term", ["group", "reaching 0", "trt"])
def test_a_level_read_off_its_layout_is_its_curve_read_at_the_same_months(
    retinopathy,  # noqa: F811
    term,
):
    """Before the first time, at and between times, at the last and beyond it, where the
    curve reaches 0 (group A's limbs all with an event), with pairs within the level (the
    bilateral set) and only across levels (retinopathy by treated eye: Greenwood's): every
    number of at_months on the level's own curve."""
    rows = on(retinopathy, term) if term == "trt" else BILATERAL
    if term == "reaching 0":
        rows = rows.assign(event=np.where(rows["group"] == "A", 1, rows["event"]))
    counts, clusters = prepared(rows)
    laid = layout(counts, clusters)
    months = [m * 6 for m in MONTHS] if term == "trt" else MONTHS
    # each month alone too: a level read at one early month stops its sums there
    for level, read_at in itertools.product(counts.levels, [months, *([m] for m in months)]):
        read = level_at_months(laid, level, read_at)
        expected = at_months(kaplan_meier(*laid.of(level)), read_at)
        for field in ("estimate", "se", "ci_lower", "ci_upper"):
            got, want = getattr(read, field), getattr(expected, field)
            assert got == pytest.approx(want, rel=1e-12, nan_ok=True), (level, field, read_at)
        for field in ("at_risk", "events", "censored"):
            assert getattr(read, field).tolist() == getattr(expected, field).tolist()


def test_a_level_read_off_its_layout_without_pairs_in_it_is_lifelines_greenwood(
    retinopathy,  # noqa: F811
):
    """Retinopathy by treated eye: every patient has one eye in each group, so each
    level's curve is Greenwood's, as lifelines gives it on the eyes' rows (log(-log) CI)."""
    rows = on(retinopathy, "trt")
    counts, clusters = prepared(rows)
    laid = layout(counts, clusters)
    months = [6.0, 12.0, 24.0, 48.0]
    for level in counts.levels:
        eyes = rows[rows["group"].astype(str) == level]
        fit = KaplanMeierFitter().fit(eyes["time"], eyes["event"])
        read = level_at_months(laid, level, months)
        at = np.searchsorted(fit.timeline, months, side="right") - 1
        band = fit.confidence_interval_survival_function_.to_numpy()[at]
        assert read.estimate == pytest.approx(fit.survival_function_.to_numpy()[at, 0])
        assert read.ci_lower == pytest.approx(band[:, 0], rel=1e-9)
        assert read.ci_upper == pytest.approx(band[:, 1], rel=1e-9)
