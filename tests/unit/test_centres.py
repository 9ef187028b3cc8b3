"""Centre comparison: Spiegelhalter's funnel limits against scipy, and centres placed by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from scipy import stats

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.present.figures.centres import funnel_plot
from analytics.present.masking import mask
from analytics.present.tables import centres_display
from analytics.stats.engine.counts import Counts
from analytics.stats.funnel import (
    ABOVE_95,
    ABOVE_998,
    BELOW_998,
    NOT_ESTIMABLE,
    WITHIN,
    centre_patency,
    classify,
    compare_centres,
    control_limit,
    funnel_limits,
)
from analytics.views import Header, centres_ledger, header_ledger


def masked(comparison, k=None):
    """The comparison's counts as privacy ``k`` lets them show with the sidebar's n, whose
    filters leave nobody out (the Centres page's view)."""
    everyone = Header(comparison.patients, comparison.patients, comparison.patients)
    return mask(header_ledger(everyone) | centres_ledger(comparison), k)


def counts(groups: dict[str, list[tuple[float, int, int]]]) -> Counts:
    """(months, events, censored) rows per group, as the engine takes them."""
    levels = tuple(groups)
    rows = [(i, *row) for i, level in enumerate(levels) for row in groups[level]]
    group, months, events, censored = (np.array(column) for column in zip(*rows, strict=True))
    return Counts(levels, group.astype(int), months.astype(float), events, censored)


def interpolated_limit(quantile: float, n: int, p0: float) -> float:
    """Spiegelhalter's limit computed the long way: scan the binomial CDF for the quantile."""
    cdf = stats.binom.cdf(np.arange(n + 1), n, p0)
    r = int(np.argmax(cdf >= quantile))
    below = cdf[r - 1] if r > 0 else 0.0
    alpha = (cdf[r] - quantile) / (cdf[r] - below)
    return min(max((r - alpha) / n, 0.0), 1.0)


@pytest.mark.parametrize("p0", [0.3, 0.73, 0.9])
def test_limits_agree_with_the_normal_approximation_at_large_n(p0):
    n = 10_000
    se = np.sqrt(p0 * (1 - p0) / n)
    limits = funnel_limits(p0, [n]).iloc[0]
    for column, quantile in [
        ("lower_998", 0.001), ("lower_95", 0.025), ("upper_95", 0.975), ("upper_998", 0.999),
    ]:  # fmt: skip
        normal = p0 + stats.norm.ppf(quantile) * se
        assert limits[column] == pytest.approx(normal, abs=0.1 * se), column


@pytest.mark.parametrize("n", [7, 20, 37, 150])
@pytest.mark.parametrize("quantile", [0.001, 0.025, 0.975, 0.999])
def test_exact_limits_at_small_n_follow_the_binomial_quantiles(n, quantile):
    p0 = 0.73
    limit = float(control_limit(quantile, n, p0))
    r = stats.binom.ppf(quantile, n, p0)
    assert limit == pytest.approx(interpolated_limit(quantile, n, p0), abs=1e-12)
    assert (r - 1) / n <= limit <= r / n  # between the quantile count and the one below


def test_limits_by_hand_for_four_patients_at_one_half():
    # CDF of Binomial(4, 1/2): 1/16, 5/16, 11/16, 15/16, 1
    limits = funnel_limits(0.5, [4]).iloc[0]
    assert limits["upper_95"] == pytest.approx((4 - 0.025 / (1 / 16)) / 4)  # 0.9
    assert limits["upper_998"] == pytest.approx((4 - 0.001 / (1 / 16)) / 4)  # 0.996
    assert limits["lower_95"] == 0.0  # (0 - 0.6) / 4, clipped
    assert limits["lower_998"] == 0.0


def test_limits_narrow_around_the_pooled_rate_as_centres_grow():
    limits = funnel_limits(0.73, [20, 200, 2000])
    width = limits["upper_95"] - limits["lower_95"]
    assert width.is_monotonic_decreasing
    assert (limits["lower_998"] < limits["lower_95"]).all()
    assert (limits["lower_95"] < 0.73).all() and (limits["upper_95"] > 0.73).all()
    assert (limits["upper_95"] < limits["upper_998"]).all()


def test_a_centre_clearly_outside_is_classified_an_outlier():
    limits = funnel_limits(0.7, [100] * 5)
    row = limits.iloc[0]
    estimates = pd.Series(
        [
            0.7,
            0.95,
            (row["upper_95"] + row["upper_998"]) / 2,
            0.4,
            np.nan,
        ]
    )
    assert classify(estimates, limits).tolist() == [
        WITHIN, ABOVE_998, ABOVE_95, BELOW_998, NOT_ESTIMABLE,
    ]  # fmt: skip


@pytest.fixture
def three_centres():
    """A: 20 patients, none loses patency; B: 20, all lose it at month 3; C: 5 followed 6 months.

    Two more patients have no centre. Pooled at 12 months: 27/47 (20 events among 47 at 3).
    """
    by_centre = counts({"A": [(36.0, 0, 20)], "B": [(3.0, 20, 0)], "C": [(6.0, 0, 5)]})
    overall = counts({"all": [(3.0, 20, 0), (6.0, 0, 5), (36.0, 0, 22)]})
    return compare_centres(by_centre, overall, 12.0)


def test_pooled_rate_and_patients_without_a_centre(three_centres):
    assert three_centres.pooled == pytest.approx(27 / 47)
    assert three_centres.patients == 47
    assert three_centres.patients_without_centre == 2
    assert three_centres.centres["patients"].tolist() == [20, 20, 5]


def test_centres_far_from_the_pooled_rate_are_outliers_farthest_first(three_centres):
    p0 = 27 / 47
    # 20 of 20 patent: P(R = 20) = p0^20 < 0.001, so even the 99.8% limit is under 100%
    assert p0**20 < 0.001 and (1 - p0) ** 20 < 0.001
    positions = three_centres.centres.set_index("centre")["position"]
    assert positions["A"] == ABOVE_998 and positions["B"] == BELOW_998
    # |z| of B = p0 / sd exceeds that of A = (1 - p0) / sd
    assert three_centres.outliers["centre"].tolist() == ["B", "A"]


def test_a_centre_followed_too_short_is_listed_with_its_reason_not_plotted(three_centres):
    row = three_centres.centres.set_index("centre").loc["C"]
    assert row["position"] == NOT_ESTIMABLE
    assert np.isnan(row["estimate"])
    assert row["last_follow_up"] == 6.0
    assert three_centres.plotted["centre"].tolist() == ["A", "B"]
    assert three_centres.funnel["patients"].between(10, 22).all()  # half the smallest to 1.1x
    display = centres_display(
        three_centres, three_centres.centres, masked(three_centres)
    ).set_index("Centre")
    assert display.loc["C", "Position"] == "not estimable: followed up to 6 months only, not to 12"


def test_limit_columns_are_hidden_with_a_small_centre_in_privacy_mode(three_centres):
    shown = centres_display(
        three_centres, three_centres.centres, masked(three_centres, 10)
    ).set_index("Centre")
    assert shown.loc["C", "Patients"] == "<10"
    assert shown.loc["C", "95% limits (%)"] == "hidden"
    assert shown.loc["C", "z-score"] == "hidden"
    assert shown.loc["A", "Patients"] == "20"


def test_funnel_plot_draws_each_centre_and_the_limits(three_centres):
    fig = funnel_plot(three_centres, masked(three_centres))
    points = [t for t in fig.data if t.customdata is not None]
    assert sorted(row[0] for t in points for row in t.customdata) == ["A", "B"]
    names = {t.name for t in fig.data}
    assert {"95% control limits", "99.8% control limits"} <= names
    pooled = next(t for t in fig.data if t.name.startswith("Pooled"))
    assert list(pooled.y) == pytest.approx([100 * 27 / 47] * len(pooled.y))


def test_funnel_plot_in_privacy_mode_leaves_out_small_centres_and_their_size():
    # a centre of 3 patients beside centres of 20: not plotted, nor read off the axis
    small = compare_centres(
        counts({"A": [(36.0, 0, 20)], "B": [(3.0, 20, 0)], "D": [(3.0, 3, 0)]}),
        counts({"all": [(3.0, 23, 0), (36.0, 0, 20)]}),
        12.0,
    )
    assert "D" in small.plotted["centre"].tolist()
    fig = funnel_plot(small, masked(small, 5))
    plotted = [row[0] for t in fig.data if t.customdata is not None for row in t.customdata]
    # A is withheld beside it: n (43) minus A's and B's 20 would give D's 3
    assert sorted(plotted) == ["B"]
    assert min(min(t.x) for t in fig.data) >= 10
    assert "2 centre(s) not plotted" in fig.layout.title.subtitle.text


@pytest.fixture
def registry(registry_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_cohort(registry_path)
    yield con
    con.close()


def test_centre_estimates_equal_a_patient_level_fit(registry):
    comparison = centre_patency(registry, CohortFilter(), 12.0)
    rows = registry.execute(
        """
        SELECT p.center, t.months, t.event::INTEGER AS event
        FROM time_to_event AS t JOIN limb_summary AS p USING (limb_id)
        WHERE t.endpoint = 'primary' AND p.technical_success
        """
    ).df()
    assert comparison.patients == len(rows)
    assert comparison.patients_without_centre == int(rows["center"].isna().sum()) == 0
    pooled = KaplanMeierFitter().fit(rows["months"], rows["event"]).predict(12.0)
    assert comparison.pooled == pytest.approx(pooled)
    table = comparison.centres.set_index("centre")
    assert sorted(table.index) == sorted(rows["center"].unique())
    for centre, group in rows.groupby("center"):
        estimate = KaplanMeierFitter().fit(group["months"], group["event"]).predict(12.0)
        assert table.loc[centre, "estimate"] == pytest.approx(estimate), centre
        assert table.loc[centre, "patients"] == len(group)


def test_registry_has_a_centre_beyond_the_998_limit(registry):
    comparison = centre_patency(registry, CohortFilter(), 12.0)
    first = comparison.outliers.iloc[0]
    se = np.sqrt(comparison.pooled * (1 - comparison.pooled) / first["patients"])
    assert (first["estimate"] - comparison.pooled) / se > stats.norm.ppf(0.999)
    assert first["position"] == ABOVE_998
    outside = (comparison.outliers["estimate"] > comparison.outliers["upper_95"]) | (
        comparison.outliers["estimate"] < comparison.outliers["lower_95"]
    )
    assert outside.all()
    within = comparison.centres[comparison.centres["position"] == WITHIN]
    assert within["estimate"].between(within["lower_95"], within["upper_95"]).all()


@pytest.mark.parametrize(
    "by_centre",
    [
        Counts((), *(np.array([], dtype=dtype) for dtype in (int, float, int, int))),  # none
        counts({"C": [(6.0, 0, 5)]}),  # one centre, followed too short for the month
    ],
    ids=["no centre", "no centre estimable"],
)
def test_a_funnel_plot_without_a_centre_to_plot_says_there_is_nothing_to_show(by_centre):
    comparison = compare_centres(by_centre, counts({"all": [(6.0, 0, 5)]}), 12.0)
    fig = funnel_plot(comparison, masked(comparison))
    assert fig.layout.title.text == "Primary patency at 12 months by centre"
    assert not fig.data
    assert any("Nothing to show" in a.text for a in fig.layout.annotations)
