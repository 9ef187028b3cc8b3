"""Kaplan-Meier estimates, KMunicate risk tables, log-rank tests and Cox hazard ratios.

DuckDB aggregates the endpoint times of the patient summary (analytics.cohort.summary) to
one row per (group, months) with the number of events and of censored patients;
lifelines then fits on those rows with frequency weights. The work grows with
distinct times, not with patients, and the results equal a fit on patient-level rows (tested).

Cox is the exception on cohorts of up to 5,000 patients, where it is fitted on rows
expanded back to one per patient (see ``_cox_fit``). Conventions: 95% CI on the
log(-log) scale (lifelines' default; R's ``conf.type="log-log"``; SAS), Greenwood's
standard error, Efron ties in Cox, number at risk at month m = patients with
time >= m.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import multivariate_logrank_test

from analytics.cohort.summary import endpoint_columns
from analytics.filters import CohortFilter, FilterError, cohort_sql
from analytics.glossary import SE_UNRELIABLE
from analytics.groups import group_sql, order_levels

ALL_PATIENTS = "all"
COUNT_COLUMNS = ["group", "months", "events", "censored"]
ESTIMATE_COLUMNS = [
    "month", "estimate", "ci_lower", "ci_upper", "se", "at_risk", "events", "censored",
    "unreliable",
]  # fmt: skip
HR_COLUMNS = ["group", "reference", "hr", "ci_lower", "ci_upper", "p", "estimable", "reason"]


def event_counts(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    by: str | None = None,
) -> pd.DataFrame:
    """Events and censorings per (group, months) for one endpoint: the input to every fit."""
    try:
        months, event = endpoint_columns(endpoint)
    except ValueError as exc:
        raise FilterError(str(exc)) from None
    cohort, params = cohort_sql(cohort_filter)
    group = group_sql(by) if by else f"'{ALL_PATIENTS}'"
    frame = con.execute(
        f"""
        SELECT {group} AS "group", {months} AS months,
               count(*) FILTER (WHERE {event}) AS events,
               count(*) FILTER (WHERE NOT {event}) AS censored
        FROM ({cohort})
        WHERE "group" IS NOT NULL
        GROUP BY ALL
        ORDER BY "group", months
        """,
        params,
    ).df()
    return frame.astype({"group": str, "months": float, "events": int, "censored": int})


def _weighted_rows(counts: pd.DataFrame) -> pd.DataFrame:
    """One row per (group, months, event) with a frequency weight: what lifelines fits on."""
    events, censored = counts["events"].to_numpy(), counts["censored"].to_numpy()
    has_events, has_censored = events > 0, censored > 0

    def stack(column: str) -> np.ndarray:
        values = counts[column].to_numpy()
        return np.concatenate([values[has_events], values[has_censored]])

    return pd.DataFrame(
        {
            "group": stack("group"),
            "months": stack("months"),
            "observed": np.repeat([1, 0], [has_events.sum(), has_censored.sum()]),
            "weight": np.concatenate([events[has_events], censored[has_censored]]),
        }
    )


def fit_kaplan_meier(counts: pd.DataFrame) -> KaplanMeierFitter:
    """Weighted Kaplan-Meier fit of one group's counts."""
    rows = _weighted_rows(counts)
    return KaplanMeierFitter().fit(rows["months"], rows["observed"], weights=rows["weight"])


def km_curve(counts: pd.DataFrame) -> pd.DataFrame:
    """The step curve at every distinct time: estimate, CI, Greenwood SE, risk set, flags.

    Columns: months, estimate, ci_lower, ci_upper, se, at_risk, events, censored, unreliable.
    """
    kmf = fit_kaplan_meier(counts)
    table = kmf.event_table
    ci = kmf.confidence_interval_survival_function_
    estimate = kmf.survival_function_.iloc[:, 0]
    at_risk, deaths = table["at_risk"], table["observed"]
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = (deaths / (at_risk * (at_risk - deaths))).cumsum()
        se = estimate * np.sqrt(greenwood)
    curve = pd.DataFrame(
        {
            "months": table.index.astype(float),
            "estimate": estimate.to_numpy(),
            "ci_lower": ci.iloc[:, 0].to_numpy(),
            "ci_upper": ci.iloc[:, 1].to_numpy(),
            "se": se.to_numpy(),
            "at_risk": at_risk.to_numpy().astype(int),
            "events": deaths.to_numpy().astype(int),
            "censored": table["censored"].to_numpy().astype(int),
        }
    )
    # the log-log interval is undefined at an estimate of 0 or 1 (R's survfit gives NA)
    curve.loc[~curve["estimate"].between(0, 1, inclusive="neither"), ["ci_lower", "ci_upper"]] = (
        np.nan
    )
    curve["unreliable"] = curve["se"] > SE_UNRELIABLE
    return curve


def risk_table(counts: pd.DataFrame, months: Sequence[float]) -> pd.DataFrame:
    """KMunicate numbers at each month: at risk (time >= m), cumulative events and censored."""
    times = counts["months"].to_numpy()
    wanted = np.asarray(months, dtype=float)[:, None]
    later, upto = times >= wanted, times <= wanted
    events, censored = counts["events"].to_numpy(), counts["censored"].to_numpy()
    return pd.DataFrame(
        {
            "month": list(months),
            "at_risk": later @ (events + censored),
            "events": upto @ events,
            "censored": upto @ censored,
        }
    )


def estimates_at(counts: pd.DataFrame, months: Sequence[float]) -> pd.DataFrame:
    """Estimate, 95% CI and SE at each month with the risk-table numbers.

    Beyond the last follow-up time the curve is not estimable: the estimate is NaN.
    """
    curve = km_curve(counts) if not counts.empty else None
    return _estimates(curve, risk_table(counts, months), counts["months"].max())


def _estimates(curve: pd.DataFrame | None, risk: pd.DataFrame, last_time: float) -> pd.DataFrame:
    """The curve's step at each month of the risk table, beside the table's numbers."""
    table = risk.copy()
    columns = ["estimate", "ci_lower", "ci_upper", "se"]
    if curve is None:
        table[columns] = np.nan
        table["unreliable"] = False
        return table[ESTIMATE_COLUMNS]
    months = table["month"].to_numpy(dtype=float)
    step = np.searchsorted(curve["months"].to_numpy(), months, side="right") - 1
    values = curve[columns].to_numpy()[step]
    beyond = (months > last_time) & (values[:, 0] > 0)
    values[beyond] = np.nan
    table[columns] = values
    table["unreliable"] = table["se"] > SE_UNRELIABLE
    return table[ESTIMATE_COLUMNS]


@dataclass(frozen=True)
class GroupComparison:
    """Per-group estimates and the tests comparing the groups of one split."""

    by: str
    endpoint: str
    levels: list[str]
    estimates: dict[str, pd.DataFrame]
    logrank_statistic: float | None
    logrank_p: float | None
    logrank_df: int | None
    hazard_ratios: pd.DataFrame
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # level: (patients, events)
    notes: list[str] = field(default_factory=list)


def logrank(counts: pd.DataFrame) -> tuple[float, float, int] | None:
    """Log-rank chi-square, p and degrees of freedom across the groups; None for one group."""
    rows = _weighted_rows(counts)
    if rows["group"].nunique() < 2:
        return None
    result = multivariate_logrank_test(
        rows["months"], rows["group"], rows["observed"], weights=rows["weight"]
    )
    return float(result.test_statistic), float(result.p_value), int(result.degrees_of_freedom)


def hazard_ratios(counts: pd.DataFrame, levels: list[str]) -> pd.DataFrame:
    """Cox hazard ratio of each level against the first (the reference), with 95% CI.

    A level without events, or a reference without events, is not estimable (the
    partial likelihood has no finite maximum); the reason is given instead.
    """
    if len(levels) < 2:
        return pd.DataFrame(columns=HR_COLUMNS)
    reference = levels[0]
    events_by_level = counts.groupby("group")["events"].sum()
    results = {
        level: _not_estimable(level, f"no events in group {level}")
        for level in levels[1:]
        if events_by_level.get(level, 0) == 0
    }
    fit_levels = [level for level in levels[1:] if level not in results]
    if events_by_level.get(reference, 0) == 0:
        reason = f"no events in the reference group {reference}"
        results |= {level: _not_estimable(level, reason) for level in fit_levels}
    elif fit_levels:
        results |= _cox_fit(counts, reference, fit_levels)
    frame = pd.DataFrame([results[level] for level in levels[1:]])
    frame["reference"] = reference
    return frame[HR_COLUMNS]


def _not_estimable(level: str, reason: str) -> dict:
    return {
        "group": level, "hr": np.nan, "ci_lower": np.nan, "ci_upper": np.nan, "p": np.nan,
        "estimable": False, "reason": reason,
    }  # fmt: skip


EXACT_COX_PATIENTS = 5_000
DIVERGED = "no finite confidence interval: too few patients or events for a Cox model"


def _cox_fit(counts: pd.DataFrame, reference: str, levels: list[str]) -> dict[str, dict]:
    """Cox fit with one indicator per level, on the reference and those levels.

    Up to EXACT_COX_PATIENTS patients the rows are expanded to one per patient: only
    that fit reproduces R's coxph on patient data (tested on the 6-MP data), because
    lifelines' Efron correction for tied events treats one row of weight w differently
    from w rows. Above it the aggregated rows go to lifelines with frequency weights,
    so the cost follows distinct times, not patients; on a 142,000-patient synthetic
    centre the two ways differ by 0.12% of the hazard ratio, well inside its 95% CI
    (a test checks the agreement on a 3,000-patient registry).
    """
    rows = _weighted_rows(counts[counts["group"].isin([reference, *levels])])
    if rows["weight"].sum() <= EXACT_COX_PATIENTS:
        rows = rows.loc[rows.index.repeat(rows["weight"])].assign(weight=1)
    design = pd.DataFrame(
        {f"g{i}": (rows["group"] == level).astype(float) for i, level in enumerate(levels)}
    )
    design[["months", "observed", "weight"]] = rows[["months", "observed", "weight"]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph = CoxPHFitter().fit(
                design, "months", "observed", weights_col="weight", batch_mode=True
            )
    except (ConvergenceError, np.linalg.LinAlgError):
        reason = "Cox model did not converge: too few patients or events to separate the groups"
        return {level: _not_estimable(level, reason) for level in levels}
    summary = cph.summary
    results = {}
    for i, level in enumerate(levels):
        row = summary.loc[f"g{i}"]
        bounds = np.array([row["exp(coef) lower 95%"], row["exp(coef) upper 95%"]])
        if not (np.isfinite(bounds).all() and bounds[0] > 0):
            results[level] = _not_estimable(level, DIVERGED)
            continue
        results[level] = {
            "group": level,
            "hr": float(row["exp(coef)"]),
            "ci_lower": float(row["exp(coef) lower 95%"]),
            "ci_upper": float(row["exp(coef) upper 95%"]),
            "p": float(row["p"]),
            "estimable": True,
            "reason": "",
        }
    return results


def compare_groups(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    by: str,
    months: Sequence[float],
) -> GroupComparison:
    """Kaplan-Meier per group, log-rank across groups, Cox HR of each group vs the reference."""
    counts = event_counts(con, cohort_filter, endpoint, by)
    levels = order_levels(by, counts["group"].unique().tolist())
    estimates = {level: estimates_at(counts[counts["group"] == level], months) for level in levels}
    test = logrank(counts)
    notes = [] if test else ["fewer than two groups in this cohort: nothing to compare"]
    return GroupComparison(
        by=by,
        endpoint=endpoint,
        levels=levels,
        estimates=estimates,
        logrank_statistic=test[0] if test else None,
        logrank_p=test[1] if test else None,
        logrank_df=test[2] if test else None,
        hazard_ratios=hazard_ratios(counts, levels),
        sizes={
            level: (int(g[["events", "censored"]].to_numpy().sum()), int(g["events"].sum()))
            for level, g in counts.groupby("group")
        },
        notes=notes,
    )


@dataclass(frozen=True)
class KaplanMeier:
    """One group's Kaplan-Meier result: the step curve, the risk table, estimates at months."""

    curve: pd.DataFrame
    risk: pd.DataFrame
    estimates: pd.DataFrame


def kaplan_meier_by_group(
    counts: pd.DataFrame, months: Sequence[float], by: str | None = None
) -> dict[str, KaplanMeier]:
    """Curve, KMunicate risk table and estimates for each group of ``counts``, in display order."""
    levels = order_levels(by, counts["group"].unique().tolist()) if by else [ALL_PATIENTS]
    results = {}
    for level in levels:
        group = counts[counts["group"] == level]
        if group.empty:
            continue
        curve, risk = km_curve(group), risk_table(group, months)
        results[level] = KaplanMeier(
            curve=curve, risk=risk, estimates=_estimates(curve, risk, group["months"].max())
        )
    return results
