"""Centre comparison: each centre's primary patency at one month on a funnel plot.

Each centre's Kaplan-Meier estimate of primary patency at the month (survival.estimates_at
on the centre's aggregated event counts) is set against the pooled estimate of the whole
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
month has no estimate there: it is listed with the reason and not plotted. Patients with
no centre recorded have no group (event_counts drops them) and are counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from analytics.filters import CohortFilter
from analytics.present.tables import estimate_columns, format_cis
from analytics.stats.survival import estimates_at, event_counts

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
    *LIMIT_COLUMNS, "z", "position", "reason",
]  # fmt: skip
CURVE_POINTS = 200


@dataclass(frozen=True)
class CentreComparison:
    """Every centre's estimate at ``month`` with its control limits, and the pooled estimate.

    ``centres`` has one row per centre (CENTRE_COLUMNS), in centre order; ``funnel``
    holds the limit curves over a grid of sizes spanning the estimable centres.
    """

    month: float
    pooled: float
    patients: int  # the filtered cohort, with or without a centre
    patients_without_centre: int
    centres: pd.DataFrame
    funnel: pd.DataFrame

    @property
    def plotted(self) -> pd.DataFrame:
        """Centres with an estimate and limits at the month: the funnel plot's points."""
        return self.centres[self.centres["position"] != NOT_ESTIMABLE]

    @property
    def not_estimable(self) -> pd.DataFrame:
        """Centres without an estimate at the month, with the reason."""
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
    (it leaves that range only when p0 is 0 or 1). A NaN p0 gives NaN limits.
    """
    n = np.asarray(sizes, dtype=float)
    r = stats.binom.ppf(quantile, n, pooled)
    at_r = stats.binom.cdf(r, n, pooled)
    alpha = (at_r - quantile) / (at_r - stats.binom.cdf(r - 1, n, pooled))
    return np.clip((r - alpha) / n, 0.0, 1.0)


def funnel_limits(pooled: float, sizes: np.ndarray | list[int]) -> pd.DataFrame:
    """95% and 99.8% control limits around ``pooled`` at each size (patients)."""
    sizes = np.asarray(sizes, dtype=int)
    limits = pd.DataFrame({"patients": sizes})
    for level, (lower, upper) in CONTROL_LIMITS.items():
        limits[f"lower_{level}"] = control_limit(lower, sizes, pooled)
        limits[f"upper_{level}"] = control_limit(upper, sizes, pooled)
    return limits[["patients", *LIMIT_COLUMNS]]


def funnel_curves(
    pooled: float, smallest: int, largest: int, points: int = CURVE_POINTS
) -> pd.DataFrame:
    """The limit curves for a plot, from half the smallest centre to a tenth past the largest.

    Sizes are spaced geometrically (dense where the funnel is wide) and kept whole.
    """
    low, high = max(1.0, smallest / 2), max(2.0, 1.1 * largest)
    sizes = np.unique(np.geomspace(low, high, points).round().astype(int))
    return funnel_limits(pooled, sizes)


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
    return compare_centres(
        event_counts(con, cohort_filter, ENDPOINT, by="center"),
        event_counts(con, cohort_filter, ENDPOINT),
        month,
    )


def compare_centres(
    by_centre: pd.DataFrame, overall: pd.DataFrame, month: float
) -> CentreComparison:
    """The comparison from aggregated counts (survival.event_counts): per centre and pooled.

    ``overall`` holds every patient of the filter, so the patients it has beyond the
    centres' are those without a centre.
    """
    pooled = float(estimates_at(overall, [month])["estimate"].iloc[0])
    patients = _patients(overall)
    rows = []
    for centre, group in by_centre.groupby("group", sort=True):
        estimate = estimates_at(group, [month]).iloc[0]
        rows.append(
            {
                "centre": centre,
                "patients": _patients(group),
                "at_risk": int(estimate["at_risk"]),
                "events": int(estimate["events"]),
                "estimate": estimate["estimate"],
                "ci_lower": estimate["ci_lower"],
                "ci_upper": estimate["ci_upper"],
                "last_follow_up": float(group["months"].max()),
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "centre", "patients", "at_risk", "events", "estimate", "ci_lower", "ci_upper",
            "last_follow_up",
        ],
    )  # fmt: skip
    table[LIMIT_COLUMNS] = funnel_limits(pooled, table["patients"])[LIMIT_COLUMNS].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["z"] = (table["estimate"] - pooled) / np.sqrt(
            pooled * (1 - pooled) / table["patients"]
        )
    table["position"] = classify(table["estimate"], table)
    table["reason"] = [
        _reason(last, month, pooled) if position == NOT_ESTIMABLE else ""
        for last, position in zip(table["last_follow_up"], table["position"], strict=True)
    ]
    estimable = table[table["position"] != NOT_ESTIMABLE]
    funnel = (
        funnel_curves(pooled, int(estimable["patients"].min()), int(estimable["patients"].max()))
        if len(estimable)
        else funnel_limits(pooled, [])
    )
    return CentreComparison(
        month=month,
        pooled=pooled,
        patients=patients,
        patients_without_centre=patients - int(table["patients"].sum()),
        centres=table[CENTRE_COLUMNS],
        funnel=funnel,
    )


def _patients(counts: pd.DataFrame) -> int:
    """Patients behind aggregated counts: each is one event or one censoring."""
    return int(counts[["events", "censored"]].to_numpy().sum())


def _reason(last_follow_up: float, month: float, pooled: float) -> str:
    """Why a centre has no place on the funnel at ``month``."""
    if np.isnan(pooled):
        return f"the cohort's follow-up ends before {month:g} months: no pooled estimate"
    return f"followed up to {last_follow_up:g} months only, not to {month:g}"


def centres_display(table: pd.DataFrame) -> pd.DataFrame:
    """A centre table with clinicians' column names, for showing and CSV export."""
    return pd.DataFrame(
        {
            "Centre": table["centre"],
            **estimate_columns(table),
            "At risk": table["at_risk"],
            "95% limits (%)": format_cis(table["lower_95"], table["upper_95"]),
            "99.8% limits (%)": format_cis(table["lower_998"], table["upper_998"]),
            "z-score": table["z"].round(2),
            "Position": [
                f"{position}: {reason}" if reason else position
                for position, reason in zip(table["position"], table["reason"], strict=True)
            ],
        }
    )
