"""The normal and chi-square tails the engine's tests need, without importing scipy.stats."""

from __future__ import annotations

import math
from statistics import NormalDist

from scipy.special import chdtrc

Z_95 = NormalDist().inv_cdf(0.975)  # 1.959963984540054: two-sided 95% limits


def two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def chi_square_p(statistic: float, df: int) -> float:
    """P(X >= statistic) for a chi-square X with ``df`` degrees of freedom."""
    return float(chdtrc(df, statistic))
