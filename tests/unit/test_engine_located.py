"""Listed limbs placed once on a curve's times: the same clustered numbers as R, one search.

The R references and the bilateral set are those of tests/unit/test_engine_clustered.py,
with their calls written there.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.stats.engine import counts as engine_counts
from analytics.stats.engine.counts import UNCOUNTED_LIMB, locate
from analytics.stats.survival import group_survival
from tests.unit.test_engine_clustered import (
    BILATERAL,
    R_BILATERAL_INCIDENCE,
    R_BILATERAL_KM,
    R_RMST,
    with_deaths,
)


@pytest.mark.parametrize("level", ["A", "B", "C"])
def test_a_curve_locates_its_limbs_once_for_its_km_incidence_and_restricted_mean(
    level, monkeypatch
):
    searches = []

    def counted(times: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        searches.append(wanted.size)
        return locate(times, wanted)

    monkeypatch.setattr(engine_counts, "locate", counted)
    counts, clusters, _ = with_deaths(BILATERAL)
    group = group_survival(counts.of(level), (6,), horizon=10, limbs=clusters.of(level))
    assert searches == [clusters.of(level).time.size]
    km = np.array(R_BILATERAL_KM[level])
    at = np.searchsorted(group.curve.time, km[:, 0])
    assert group.curve.se[at] == pytest.approx(km[:, 3], rel=1e-9)
    incidence = np.array(R_BILATERAL_INCIDENCE[level])
    assert group.incidence.se == pytest.approx(incidence[:, 2], rel=1e-9, abs=1e-12)
    mean, se = R_RMST[("bilateral", "group", 10)][level]
    assert (group.rmst.estimate, group.rmst.se) == pytest.approx((mean, se), rel=1e-9)


def lookup(times: np.ndarray, wanted: np.ndarray) -> list[int]:
    """The index of each wanted time by a dictionary: the plain way."""
    position = {float(t): i for i, t in enumerate(times.tolist())}
    return [position[float(w)] for w in wanted.tolist()]


# Times a sort on the floats' leading bits cannot tell apart (equal but for the last
# mantissa bits), zero written both ways, negatives: the search must stay exact.
NEAR = [0.0, 1.0, np.nextafter(1.0, 2.0), 1.0 + 2**-40, 2.5, 12.0 + 1e-12, 12.0, -3.0, 60.0]


@given(st.lists(st.sampled_from([*NEAR, -0.0]), min_size=0, max_size=300))
def test_locate_is_exact_whatever_the_order_and_however_close_the_times(wanted):
    times = np.unique(np.array(NEAR))
    wanted = np.array(wanted, dtype=float)
    assert locate(times, wanted).tolist() == lookup(times, wanted)


def test_locate_finds_many_limbs_in_no_order_as_a_dictionary_does():
    rng = np.random.default_rng(7)
    times = np.unique(np.round(rng.uniform(0, 60, 5_000), 3))
    wanted = rng.choice(times, 40_000)
    assert locate(times, wanted).tolist() == lookup(times, wanted)


@pytest.mark.parametrize("missing", [30.05, 61.0, -1.0])
def test_locate_refuses_a_time_that_is_not_among_the_curves(missing):
    times = np.array([0.0, 6.0, 30.0, 60.0])
    with pytest.raises(ValueError, match=UNCOUNTED_LIMB):
        locate(times, np.array([6.0, missing, 30.0]))
