"""The restricted mean time free of the endpoint up to a horizon, and its standard error.

Conventions (R's ``print(survfit(...), rmean = horizon)``, ``survmean``): the area under
the Kaplan-Meier step curve from 0 to the horizon; its variance is the sum over the
distinct times t <= horizon of A(t)^2 d / (n (n - d)), where A(t) is the area under the
curve from t to the horizon, d the events and n the patients at risk at t (a term is 0
where n = d, as R sets it). R extends the last step of the curve beyond the last
follow-up; here a horizon beyond a group's last follow-up gives NaN (the area there is
not observed) unless the curve has reached 0.

Limbs clustered in patients (:class:`~.counts.Clusters`): the variance is the
infinitesimal jackknife summed per patient, as R's ``residuals(survfit(..., id =
patient_id), times = horizon, type = "rmst", collapse = TRUE)`` (``print(fit, rmean =)``
ignores the clustering). A limb moves the mean by the area under S(t) f(t) up to the
horizon, f its influence on log S (:mod:`.kaplan_meier`); the limbs' own squares add up
to the variance above, and each two limbs of one patient add twice their product. Two
groups' means covary through the patients with limbs in both
(:func:`restricted_mean_covariance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.stats.engine.counts import Clusters, Located, located
from analytics.stats.engine.kaplan_meier import Curve, limb_influence
from analytics.stats.engine.normal import Z_95


@dataclass(frozen=True)
class RestrictedMean:
    """Mean months free of the endpoint up to ``horizon`` and its SE.

    ``estimate`` and ``se`` are NaN when ``beyond_follow_up``: the horizon lies after
    the group's last follow-up (or the group is empty).
    """

    horizon: float
    estimate: float
    se: float
    beyond_follow_up: bool


@dataclass(frozen=True)
class RestrictedMeanDifference:
    """``level`` minus ``reference`` with its 95% CI.

    ``difference`` +- 1.96 sqrt(se_level^2 + se_reference^2 - 2 covariance), the
    covariance 0 for independent groups; NaN when either mean is.
    """

    level: str
    reference: str
    difference: float
    ci_lower: float
    ci_upper: float


def restricted_mean(
    curve: Curve, horizon: float, clusters: Clusters | Located | None = None
) -> RestrictedMean:
    """The restricted mean of ``curve`` up to ``horizon`` months.

    ``clusters``, the curve's limbs whose patient has another limb in it (as for
    :func:`.kaplan_meier.kaplan_meier`, or located on ``curve.time``), gives the SE
    clustered by patient.

    Example: R's ``aml`` data, maintained arm, horizon 36 weeks: 27.425 (SE 3.0092).
    """
    if not _observed(curve, horizon):
        return RestrictedMean(horizon, float("nan"), float("nan"), beyond_follow_up=True)
    kept = curve.time <= horizon
    time = np.append(curve.time[kept], horizon)
    before = np.concatenate([[1.0], curve.estimate[kept]])  # S on each interval
    areas = np.diff(time, prepend=0.0) * before
    events, at_risk = curve.events[kept].astype(float), curve.at_risk[kept].astype(float)
    survivors = at_risk - events
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(survivors > 0, events / (at_risk * survivors), 0.0)
    after = np.cumsum(areas[::-1])[::-1][1:]  # area from each time to the horizon
    variance = (after**2 * hazard).sum()
    if clusters is not None:
        limbs = located(curve.time, clusters)
        moved = _limb_influence(curve, horizon, limbs)
        variance = max(variance + 2 * (moved[limbs.first] * moved[limbs.second]).sum(), 0.0)
    return RestrictedMean(
        horizon=float(horizon),
        estimate=float(areas.sum()),
        se=float(np.sqrt(variance)),
        beyond_follow_up=False,
    )


def restricted_mean_covariance(
    curve: Curve,
    clusters: Clusters | Located,
    other: Curve,
    other_clusters: Clusters | Located,
    horizon: float,
) -> float:
    """The covariance of two groups' restricted means through patients with limbs in both.

    ``clusters`` and ``other_clusters`` are each curve's listed limbs (:meth:`Clusters.of`
    of one Clusters, so that a patient's limbs share the ``cluster`` label): the sum over
    patients of their limbs' influence on one mean times their limbs' influence on the
    other (each may come :func:`~.counts.located` on its curve's times). NaN when either
    mean is.
    """
    if not (_observed(curve, horizon) and _observed(other, horizon)):
        return float("nan")
    mine, yours = located(curve.time, clusters), located(other.time, other_clusters)
    labels, patient = np.unique(
        np.concatenate([mine.clusters.cluster, yours.clusters.cluster]), return_inverse=True
    )
    own = patient[: mine.index.size]
    theirs = patient[mine.index.size :]
    one = np.bincount(own, _limb_influence(curve, horizon, mine), labels.size)
    two = np.bincount(theirs, _limb_influence(other, horizon, yours), labels.size)
    return float(one @ two)


def _observed(curve: Curve, horizon: float) -> bool:
    """Whether the curve is known up to the horizon: followed that long, or reached 0."""
    reached_zero = curve.time.size > 0 and curve.estimate[-1] <= 0
    return bool(horizon <= curve.last_time or reached_zero)


def _limb_influence(curve: Curve, horizon: float, limbs: Located) -> np.ndarray:
    """Each listed limb's move of the restricted mean: the sum over the curve's steps up to
    the horizon of the step's area times the limb's f there (A before its time, its
    constant from then on)."""
    index = limbs.index
    constant, running = limb_influence(
        curve.events.astype(float), curve.at_risk.astype(float), limbs
    )
    kept = int((curve.time <= horizon).sum())
    width = np.diff(np.append(curve.time[:kept], horizon))
    areas = width * curve.estimate[:kept]  # the step from each kept time on
    before = np.concatenate([[0.0], np.cumsum(areas * running[:kept])])
    from_then = np.append(np.cumsum(areas[::-1])[::-1], 0.0)
    step = np.minimum(index, kept)
    return before[step] + constant * from_then[step]


def restricted_mean_difference(
    level: str,
    mean: RestrictedMean,
    reference: str,
    reference_mean: RestrictedMean,
    covariance: float = 0.0,
) -> RestrictedMeanDifference:
    """``mean`` minus ``reference_mean``; ``covariance`` of the two means, 0 for independent
    groups (limbs of one patient in both: :func:`restricted_mean_covariance`)."""
    difference = mean.estimate - reference_mean.estimate
    se = float(np.hypot(mean.se, reference_mean.se))
    if covariance:
        se = float(np.sqrt(max(se**2 - 2 * covariance, 0.0)))
    spread = Z_95 * se
    return RestrictedMeanDifference(
        level, reference, difference, difference - spread, difference + spread
    )
