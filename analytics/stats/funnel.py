"""Centre comparison: each centre's primary patency at one month on a funnel plot.

Each centre's Kaplan-Meier estimate of primary patency at the month (the counts engine on
the centre's events and censorings per time) is set against the pooled estimate of the whole
filtered cohort at that month, patients without a recorded centre included. Control
limits follow Spiegelhalter's funnel plot for a proportion (Stat Med 2005;24:1185-1202):
exact binomial quantiles around the pooled proportion p0 for a centre of n patients,
made continuous by his interpolation, at 95% (quantiles 0.025 and 0.975, about 2 SD) and
99.8% (0.001 and 0.999, about 3 SD).

Conventions: the size axis, n, is the number of patients the centre contributes to the
analysis (technical successes by default), not the number still at risk at the month.
The limits treat the estimate as a proportion of n; a Kaplan-Meier estimate with
patients censored before the month varies more than that, so the limits are approximate
and somewhat too narrow where follow-up is short. How far out a centre lies is its
z-score, (estimate - p0) / sqrt(p0 (1 - p0) / n). A centre followed for less than the
month has no estimate there: it is listed as not estimable and not plotted. Patients with
no centre recorded have no group and are counted apart.

Limbs clustered in patients (a file where a patient has two limbs, filters.has_bilateral):
n counts a centre's limbs, and each centre's SE and CI are clustered by patient (R's
``survfit(..., cluster = patient_id)`` per centre). Two limbs of one patient carry less
information than two patients, so limits on n limbs as independent would be too narrow
and flag centres that treat many patients on both sides. The limits and the z-score use
the design effect of the pooled estimate at the month instead: the clustered variance
over Greenwood's, both of the whole filtered cohort's curve (``design_effect``, 1 without
a patient's two limbs in it). A centre of n limbs gets the limits of a binomial of n /
design effect (rounded, at least 1) and z = (estimate - p0) / sqrt(p0 (1 - p0) design
effect / n), Spiegelhalter's inflation of the binomial variance (his over-dispersion
factor) with the factor measured, not fitted to the centres. The size axis stays limbs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from scipy.special import bdtr, bdtrik

from analytics.filters import CohortFilter, has_bilateral
from analytics.glossary import ALL_PATIENTS
from analytics.partitions import patients_may_matter
from analytics.stats.engine.counts import Clusters, Counts, Layout, layout
from analytics.stats.engine.kaplan_meier import AtMonths, at_months, kaplan_meier, level_at_months
from analytics.stats.survival import endpoint_clusters, endpoint_counts

ENDPOINT = "primary"
# Control limits: name -> (lower, upper) quantile of the binomial distribution.
CONTROL_LIMITS = {"95": (0.025, 0.975), "998": (0.001, 0.999)}
LIMIT_COLUMNS = ["lower_998", "lower_95", "upper_95", "upper_998"]
ABOVE_998, ABOVE_95, WITHIN = "above 99.8%", "above 95%", "within"
BELOW_95, BELOW_998, NOT_ESTIMABLE = "below 95%", "below 99.8%", "not estimable"
POSITIONS = (ABOVE_998, ABOVE_95, WITHIN, BELOW_95, BELOW_998)
OUTSIDE_95 = (ABOVE_998, ABOVE_95, BELOW_95, BELOW_998)
OUTSIDE_998 = (ABOVE_998, BELOW_998)
CENTRE_COLUMNS = [
    "centre", "patients", "at_risk", "events", "estimate", "ci_lower", "ci_upper",
    "last_follow_up", *LIMIT_COLUMNS, "z", "position",
]  # fmt: skip
CURVE_POINTS = 200


@dataclass(frozen=True)
class CentreComparison:
    """Every centre's estimate at ``month`` with its control limits, and the pooled estimate.

    ``centres`` has one row per centre (CENTRE_COLUMNS), in centre order: patients,
    at risk at the month and events before it, the estimate with its 95% CI, the last
    follow-up, the control limits at its size, its z-score and its position; ``funnel``
    holds the limit curves over a grid of sizes spanning the estimable centres.
    ``design_effect`` is the pooled estimate's clustered variance over Greenwood's, which
    the limits and z-scores are widened by (1 where no patient has two limbs in the cohort;
    see the module's docstring). ``people``, where a patient may have two limbs, the
    distinct patients behind each centre's counts, by (centre, one of CENTRE_COUNTS), and
    behind ``patients`` ((None, "patients")), where they may matter to privacy; empty
    otherwise, each limb its patient's.
    """

    month: float
    pooled: float
    patients: int  # the filtered cohort, with or without a centre
    patients_without_centre: int
    centres: pd.DataFrame
    funnel: pd.DataFrame
    design_effect: float = 1.0
    people: Mapping[tuple[str | None, str], int] = field(default_factory=dict)

    @property
    def plotted(self) -> pd.DataFrame:
        """Centres with an estimate and limits at the month: the funnel plot's points."""
        return self.centres[self.centres["position"] != NOT_ESTIMABLE]

    @property
    def not_estimable(self) -> pd.DataFrame:
        """Centres without an estimate at the month (followed for less than the month)."""
        return self.centres[self.centres["position"] == NOT_ESTIMABLE]

    @property
    def outliers(self) -> pd.DataFrame:
        """Centres outside the 95% limits: beyond 99.8% first, then farthest from p0 first."""
        outside = self.centres[self.centres["position"].isin(OUTSIDE_95)]
        order = pd.DataFrame(
            {"beyond_998": outside["position"].isin(OUTSIDE_998), "distance": outside["z"].abs()}
        )
        return outside.loc[order.sort_values(["beyond_998", "distance"], ascending=False).index]


def control_limit(quantile: float, sizes: np.ndarray | int, pooled: float) -> np.ndarray:
    """The proportion at ``quantile`` of Binomial(n, p0) for each size n, interpolated.

    Spiegelhalter (2005), appendix: r is the smallest count with P(R <= r) >= quantile,
    alpha = (P(R <= r) - quantile) / P(R = r), limit = (r - alpha) / n; clipped to [0, 1]
    (it leaves that range only when p0 is 0 or 1). A NaN p0 gives NaN limits. The binomial
    quantile is scipy.stats.binom.ppf's own method (the continuous root bdtrik, rounded up
    and stepped back where the count below already reaches the quantile), on
    scipy.special so that the report's process need not import scipy.stats.
    """
    n = np.asarray(sizes, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        guess = np.nan_to_num(np.ceil(bdtrik(quantile, n, pooled)), nan=0.0).astype(np.int64)
        r = np.clip(np.where(bdtr(guess - 1, n, pooled) >= quantile, guess - 1, guess), 0, n)
        at_r = bdtr(r, n, pooled)
        below = np.where(r > 0, bdtr(r - 1, n, pooled), 0.0)
        alpha = (at_r - quantile) / (at_r - below)
        limit = np.clip((r - alpha) / n, 0.0, 1.0)
    return np.where(np.isnan(pooled) | (n == 0), np.nan, limit)


def funnel_limits(
    pooled: float, sizes: np.ndarray | list[int], design_effect: float = 1.0
) -> pd.DataFrame:
    """95% and 99.8% control limits around ``pooled`` at each size (patients, or limbs),
    each at its effective size, size / ``design_effect`` rounded (at least 1)."""
    sizes = np.asarray(sizes, dtype=int)
    limits = pd.DataFrame({"patients": sizes})
    effective = sizes if design_effect == 1.0 else effective_sizes(sizes, design_effect)
    for level, (lower, upper) in CONTROL_LIMITS.items():
        limits[f"lower_{level}"] = control_limit(lower, effective, pooled)
        limits[f"upper_{level}"] = control_limit(upper, effective, pooled)
    return limits[["patients", *LIMIT_COLUMNS]]


def effective_sizes(sizes: np.ndarray, design_effect: float) -> np.ndarray:
    """The independent patients ``sizes`` limbs are worth: size / design effect, rounded,
    at least 1 (a size of 0 stays 0: no limits)."""
    return np.where(sizes > 0, np.maximum(1, np.round(sizes / design_effect)), 0).astype(int)


def funnel_curves(
    pooled: float,
    smallest: int,
    largest: int,
    points: int = CURVE_POINTS,
    design_effect: float = 1.0,
) -> pd.DataFrame:
    """The limit curves for a plot, from half the smallest centre to a tenth past the largest.

    Sizes are spaced geometrically (dense where the funnel is wide) and kept whole.
    """
    low, high = max(1.0, smallest / 2), max(2.0, 1.1 * largest)
    sizes = np.unique(np.geomspace(low, high, points).round().astype(int))
    return funnel_limits(pooled, sizes, design_effect)


def classify(estimates: pd.Series, limits: pd.DataFrame) -> pd.Series:
    """Each estimate's place against its limits (POSITIONS); not estimable without both."""
    estimate = estimates.to_numpy(dtype=float)
    known = ~np.isnan(estimate) & limits[LIMIT_COLUMNS].notna().all(axis=1).to_numpy()
    position = np.select(
        [
            ~known,
            estimate > limits["upper_998"].to_numpy(),
            estimate > limits["upper_95"].to_numpy(),
            estimate < limits["lower_998"].to_numpy(),
            estimate < limits["lower_95"].to_numpy(),
        ],
        [NOT_ESTIMABLE, ABOVE_998, ABOVE_95, BELOW_998, BELOW_95],
        default=WITHIN,
    )
    return pd.Series(position, index=estimates.index)


def centre_patency(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, month: float = 12.0
) -> CentreComparison:
    """Primary patency at ``month`` per centre of the filtered cohort, against funnel limits.

    Example: a synthetic registry of 3,000 patients in 6 centres (seed 1) pools 72.7% at
    12 months; centre C05, 83.4% of 285 patients, lies above the 99.8% limit (z = 4.1).
    """
    counts = endpoint_counts(con, cohort_filter, [ENDPOINT], by="center")
    overall, by_centre = counts[ENDPOINT]
    if not has_bilateral(con):
        return compare_centres(by_centre, overall, month)
    limbs = endpoint_clusters(con, cohort_filter, counts, by="center")[ENDPOINT]
    return compare_centres(by_centre, overall, month, limbs)


def _centre_at(
    by_centre: Counts, laid: Layout | None, centre: str, month: float
) -> tuple[AtMonths, float]:
    """A centre's curve read at ``month``, and its last follow-up: clustered, read off the
    centres' layout up to the month (not each centre's whole curve)."""
    if laid is None:
        curve = kaplan_meier(by_centre.of(centre))
        return at_months(curve, [month]), curve.last_time
    at_risk = laid.grid.at_risk[laid.counts.levels.index(centre)]
    end = int(np.count_nonzero(at_risk))  # its times, then none at risk
    last = float(laid.grid.times[end - 1]) if end else float("nan")
    return level_at_months(laid, centre, [month]), last


def compare_centres(
    by_centre: Counts,
    overall: Counts,
    month: float,
    limbs: tuple[Clusters, Clusters | None] | None = None,
) -> CentreComparison:
    """The comparison from the counts per centre and of the whole filter (pooled).

    ``overall`` holds every patient of the filter, so the patients it has beyond the
    centres' are those without a centre. ``limbs``, in a cohort whose limb estimates are
    clustered, are the limbs of patients with two (overall, and per centre): each centre's
    CI is then clustered and the limits widened by the design effect (module docstring).
    """
    whole = overall.of(ALL_PATIENTS)
    pooled_at = at_months(kaplan_meier(whole), [month])
    pooled = float(pooled_at.estimate[0])
    design_effect, laid = 1.0, None
    if limbs is not None:
        clustered = at_months(kaplan_meier(whole, limbs[0].of(ALL_PATIENTS)), [month])
        design_effect = _design_effect(float(clustered.se[0]), float(pooled_at.se[0]))
        laid = None if limbs[1] is None else layout(by_centre, limbs[1])  # once for all centres
    rows = []
    sizes = dict(zip(by_centre.levels, by_centre.patients.tolist(), strict=True))
    for centre in sorted(by_centre.levels):
        estimate, last = _centre_at(by_centre, laid, centre, month)
        rows.append(
            {
                "centre": centre,
                "patients": sizes[centre],
                "at_risk": int(estimate.at_risk[0]),
                "events": int(estimate.events[0]),
                "estimate": float(estimate.estimate[0]),
                "ci_lower": float(estimate.ci_lower[0]),
                "ci_upper": float(estimate.ci_upper[0]),
                "last_follow_up": last,
            }
        )
    table = pd.DataFrame(rows, columns=CENTRE_COLUMNS[:8])
    limits = funnel_limits(pooled, table["patients"], design_effect)
    table[LIMIT_COLUMNS] = limits[LIMIT_COLUMNS].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["z"] = (table["estimate"] - pooled) / np.sqrt(
            pooled * (1 - pooled) * design_effect / table["patients"]
        )
    table["position"] = classify(table["estimate"], table)
    estimable = table[table["position"] != NOT_ESTIMABLE]
    funnel = (
        funnel_curves(
            pooled, int(estimable["patients"].min()), int(estimable["patients"].max()),
            design_effect=design_effect,
        )
        if len(estimable)
        else funnel_limits(pooled, [])
    )  # fmt: skip
    patients = int(overall.patients.sum())
    return CentreComparison(
        month=month,
        pooled=pooled,
        patients=patients,
        patients_without_centre=patients - int(table["patients"].sum()),
        centres=table[CENTRE_COLUMNS],
        funnel=funnel,
        design_effect=design_effect,
        people={} if limbs is None else _people(table, patients, month, limbs),
    )


def _people(
    table: pd.DataFrame, patients: int, month: float, limbs: tuple[Clusters, Clusters | None]
) -> dict[tuple[str | None, str], int]:
    """The distinct patients behind each centre's counts of limbs (patients, at risk at
    ``month``, events and censored before it, as at_months counts them), and behind all
    the limbs ((None, "patients")), where they may matter to privacy
    (partitions.patients_may_matter; a centre's four counts together): each count less
    the patients listed twice in it among the limbs of patients with two
    (:class:`Clusters`: one with one limb in the filter is listed once)."""
    people: dict[tuple[str | None, str], int] = {}
    if patients_may_matter(patients):
        people[(None, "patients")] = patients - int(_pairs(limbs[0], 1, month)[0, 0])
    rows = table.assign(censored=table["patients"] - table["at_risk"] - table["events"])
    counts = rows[["patients", "at_risk", "events", "censored"]].to_numpy()
    small = [i for i, row in enumerate(counts) if any(patients_may_matter(c) for c in row)]
    if not small:
        return people
    centres = tuple(table["centre"].iloc[small])
    twice = np.zeros((len(centres), 4), dtype=np.int64)
    if limbs[1] is not None:
        twice = _pairs(limbs[1].among(centres), len(centres), month)
    for centre, row, pairs in zip(centres, counts[small], twice, strict=True):
        for count, limb_count, both in zip(CENTRE_COUNTS, row, pairs, strict=True):
            people[(centre, count)] = int(limb_count) - int(both)
    return people


CENTRE_COUNTS = ("patients", "at risk", "events", "censored")  # CentreComparison.people's


def _pairs(limbs: Clusters, levels: int, month: float) -> np.ndarray:
    """Per level (rows), the patients listed twice in it (CENTRE_COUNTS' columns): in all,
    with both limbs at risk at ``month``, both with the event before it, both censored
    before it. A patient listed twice is in one level (a centre is the patient's)."""
    before = limbs.time < month
    kind = np.where(~before, 1, np.where(limbs.event > 0, 2, 3))
    patient = limbs.cluster.astype(np.int64) * levels + limbs.group
    table = np.zeros(levels * 4, dtype=np.int64)
    for key in (patient * 4, patient * 4 + kind):  # column 0: all; 1-3: by kind
        found, times = np.unique(key, return_counts=True)
        both = found[times > 1]
        np.add.at(table, (both // 4 % levels) * 4 + both % 4, 1)
    return table.reshape(levels, 4)


def _design_effect(clustered_se: float, greenwood_se: float) -> float:
    """The clustered variance over Greenwood's at the month; 1 where either is 0 or not
    defined (a curve at 1 or past its follow-up has no variance to inflate)."""
    if not (greenwood_se > 0 and np.isfinite(clustered_se)):
        return 1.0
    return (clustered_se / greenwood_se) ** 2
