"""The robust (sandwich) variance of a Cox fit on rows, clustered, with Efron's ties as R's.

lifelines' ``CoxPHFitter(cluster_col=...)`` gives the sandwich of R's ``coxph(...,
cluster = id)`` only without tied event times: its score residuals treat tied events as
Breslow's do (on retinopathy by eye, side + diabetes + urokinase: 0.15244 for R's 0.15250).
This computes R's ``residuals(fit, "score")`` with Efron's ties (R's ``coxscore``):

at an event time with d events, l = 0..d-1, the risk set's totals with the events taken
out by l/d, D_l = R0 - (l/d) T0 and mean m_l = (R1 - (l/d) T1) / D_l (R0, R1 the sums of
r = exp(x'b) and x r over the rows at risk, T0, T1 over the events); a row at risk there
adds -w_l r (x - m_l) / D_l summed over l, with weight w_l = 1, or 1 - l/d for an event
of that time, and an event adds x - (1/d) sum_l m_l. The variance is V B V with V the
model's variance (the inverse information) and B the sum over clusters of the outer
product of their rows' summed residuals. Rows are (start, stop]: a right-censored row
starts at -inf.
"""

from __future__ import annotations

import numpy as np


def robust_variance(
    stop: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    naive: np.ndarray,
    cluster: np.ndarray,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """V B V for rows (``start``, ``stop``] with ``event`` (bool), covariates ``x`` (rows,
    terms) at the fitted ``beta``, model variance ``naive`` and each row's ``cluster``."""
    residuals = score_residuals(stop, event, x, beta, start)
    _, which = np.unique(cluster, return_inverse=True)
    summed = np.zeros((which.max() + 1 if which.size else 0, x.shape[1]))
    np.add.at(summed, which, residuals)
    return naive @ (summed.T @ summed) @ naive


def score_residuals(
    stop: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Each row's Efron score residual (rows, terms), as R's ``residuals(fit, "score")``."""
    event = np.asarray(event, dtype=bool)
    x = np.asarray(x, dtype=float)
    risk = np.exp(x @ beta)
    times = np.unique(stop[event])  # the event times
    k = np.searchsorted(times, stop[event])  # each event's time
    deaths = np.bincount(k, minlength=times.size)
    t0 = np.bincount(k, risk[event], times.size)
    t1 = np.stack([np.bincount(k, risk[event] * x[event, j], times.size)
                   for j in range(x.shape[1])], axis=1)  # fmt: skip
    r0, r1 = _at_risk_sums(times, stop, start, risk, x)
    # one step per event: l = 0..d-1 at its time
    step_time = np.repeat(np.arange(times.size), deaths)
    l_over_d = (np.arange(step_time.size) - np.repeat(np.cumsum(deaths) - deaths, deaths)) / deaths[
        step_time
    ]
    d_l = r0[step_time] - l_over_d * t0[step_time]
    m_l = (r1[step_time] - l_over_d[:, None] * t1[step_time]) / d_l[:, None]
    # per time: sums over its steps of 1/D_l, m_l/D_l, and the same weighted by 1 - l/d
    inverse = np.bincount(step_time, 1 / d_l, times.size)
    mean_over = _sum_rows(step_time, m_l / d_l[:, None], times.size)
    inverse_w = np.bincount(step_time, (1 - l_over_d) / d_l, times.size)
    mean_over_w = _sum_rows(step_time, (1 - l_over_d)[:, None] * m_l / d_l[:, None], times.size)
    mean_event = _sum_rows(step_time, m_l, times.size) / deaths[:, None]
    # cumulative over event times: a row is at risk at times in (start, stop]
    c0 = np.concatenate([[0.0], np.cumsum(inverse)])
    c1 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(mean_over, axis=0)])
    upper = np.searchsorted(times, stop, side="right")
    lower = (
        np.zeros(stop.size, dtype=int)
        if start is None
        else np.searchsorted(times, start, side="right")
    )
    a0 = c0[upper] - c0[lower]
    a1 = c1[upper] - c1[lower]
    # an event row is weighted 1 - l/d at its own time, not 1
    own = np.flatnonzero(event)
    a0[own] += inverse_w[k] - inverse[k]
    a1[own] += mean_over_w[k] - mean_over[k]
    residuals = -risk[:, None] * (x * a0[:, None] - a1)
    residuals[own] += x[own] - mean_event[k]
    return residuals


def _at_risk_sums(
    times: np.ndarray, stop: np.ndarray, start: np.ndarray | None, risk: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """R0 and R1 at each event time: the rows with start < t <= stop."""
    weights = np.column_stack([risk, risk[:, None] * x])
    leaving = np.searchsorted(times, stop, side="right")  # at risk at times[:leaving]
    entering = (
        np.zeros(stop.size, dtype=int) if start is None else np.searchsorted(times, start, "right")
    )
    change = np.zeros((times.size + 1, weights.shape[1]))
    np.add.at(change, entering, weights)
    np.add.at(change, leaving, -weights)
    totals = np.cumsum(change, axis=0)[: times.size]
    return totals[:, 0], totals[:, 1:]


def _sum_rows(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``values`` rows per ``index`` (size rows)."""
    out = np.zeros((size, values.shape[1]))
    np.add.at(out, index, values)
    return out
