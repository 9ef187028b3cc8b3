"""The median time of a Kaplan-Meier curve and its 95% CI, by R's ``survfit`` rule.

Conventions (R's ``print.survfit`` / ``survmean``): the median is the first time at
which the curve is at or below one half; where the curve sits exactly at one half over
an interval (to R's tolerance, the square root of the machine epsilon), it is the
midpoint of that interval, from the time the curve reaches 0.5 to the time it next
drops. The 95% limits apply the same rule to the curve's log(-log) confidence band: the
lower limit is where the lower band reaches one half, the upper limit where the upper
band does. A median or limit the curve never reaches is NaN (R's NA).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.stats.engine.kaplan_meier import Curve

HALF = 0.5
TOLERANCE = np.finfo(float).eps ** 0.5  # R's all.equal tolerance, as survmean uses


@dataclass(frozen=True)
class Median:
    """The median time (months) and its 95% CI; NaN where not reached."""

    estimate: float
    ci_lower: float
    ci_upper: float


def median_time(curve: Curve) -> Median:
    """The median of ``curve`` with its CI from the curve's own band.

    Example: R's ``aml`` data, maintained arm: median 31 weeks, 95% CI 13 to not
    reached (``survfit(Surv(time, status) ~ x, aml, conf.type = "log-log")``).
    """
    return Median(
        estimate=_first_at_half(curve.estimate, curve.time),
        ci_lower=_first_at_half(curve.ci_lower, curve.time),
        ci_upper=_first_at_half(curve.ci_upper, curve.time),
    )


def _first_at_half(values: np.ndarray, time: np.ndarray) -> float:
    """R's ``minmin``: the first time ``values`` (non-increasing, NaN ignored) is <= 0.5."""
    keep = ~np.isnan(values) & (values < HALF + TOLERANCE)
    if not keep.any():
        return float("nan")
    kept, at = values[keep], time[keep]
    if abs(kept[0] - HALF) < TOLERANCE:
        below = np.flatnonzero(kept < kept[0])
        if below.size:
            return float((at[0] + at[below[0]]) / 2)
    return float(at[0])
