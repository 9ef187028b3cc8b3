"""Scaled Schoenfeld residuals of a Cox fit (Efron ties), vectorised over the event times.

They are lifelines' ``compute_residuals(df, kind="scaled_schoenfeld")``, which the
proportional-hazards test reads, computed from per-time sums instead of lifelines' loop
that grows its result one row at a time (``np.append`` per patient: quadratic, hours on
a million patients). The definitions are lifelines' (tests/unit/test_models.py checks the
two agree to 1e-9 on tied and untied data):

- at an event time t with d tied events, the Efron-weighted mean of the covariates is
  (1/d) sum_{l<d} (R1 - (l/d) T1) / (R0 - (l/d) T0), with R0, R1 the sums of
  exp(x'b) and x exp(x'b) over the risk set (time >= t) and T0, T1 the same over the
  events at t; an event's Schoenfeld residual is its x minus that mean;
- scaled: the number of events times the residuals times the coefficients' covariance
  (lifelines adds no coefficients, unlike R's ``residuals(fit, "scaledsch")``).

Rows come sorted by (time, event), the order lifelines keeps its durations in, so the
residuals line up with ``fitter.durations[fitter.event_observed]`` (within tied times
the order is immaterial to the test: every tied event has the same transformed time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def scaled_schoenfeld(
    times: np.ndarray,
    events: np.ndarray,
    covariates: np.ndarray,
    coefficients: np.ndarray,
    covariance: np.ndarray,
) -> np.ndarray:
    """One row per event (sorted by time), one column per coefficient."""
    order = np.lexsort((events, times))
    times, events, x = times[order], events[order].astype(bool), covariates[order]
    x = x - x.mean(axis=0)  # exp(x'b) up to a constant factor, which every ratio cancels
    risk = np.exp(x @ coefficients)
    starts = np.flatnonzero(np.r_[True, times[1:] != times[:-1]])
    per_time = np.add.reduceat(np.c_[risk, risk[:, None] * x], starts, axis=0)
    at_risk = np.cumsum(per_time[::-1], axis=0)[::-1]  # R0 | R1 over time >= t
    tied = np.add.reduceat(
        np.c_[events, np.where(events, risk, 0.0), np.where(events, risk, 0.0)[:, None] * x],
        starts, axis=0,
    )  # fmt: skip
    deaths, tied = tied[:, 0].astype(int), tied[:, 1:]
    with_events = np.flatnonzero(deaths)
    d = deaths[with_events]
    first = np.r_[0, np.cumsum(d)[:-1]]  # each event time's first row in the expansion
    which = np.repeat(np.arange(with_events.size), d)
    share = (np.arange(d.sum()) - first[which]) / d[which]  # l/d for the l-th tied event
    r, t = at_risk[with_events][which], tied[with_events][which]
    terms = (r[:, 1:] - share[:, None] * t[:, 1:]) / (r[:, :1] - share[:, None] * t[:, :1])
    means = np.add.reduceat(terms, first, axis=0) / d[:, None]
    time_of_event = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, times.size]))[events]
    position = np.searchsorted(with_events, time_of_event)
    residuals = x[events] - means[position]
    return events.sum() * residuals @ covariance


def scaled_schoenfeld_frame(fitter, data: pd.DataFrame, duration: str, event: str) -> pd.DataFrame:
    """The residuals of a fitted lifelines CoxPHFitter on its training rows, as lifelines
    returns them (columns named by the coefficients)."""
    names = fitter.params_.index
    values = scaled_schoenfeld(
        data[duration].to_numpy(dtype=float),
        data[event].to_numpy(dtype=bool),
        data[list(names)].to_numpy(dtype=float),
        fitter.params_.to_numpy(),
        fitter.variance_matrix_.to_numpy(),
    )
    return pd.DataFrame(values, columns=names)
