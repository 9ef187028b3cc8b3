"""Cox regression on one categorical factor, Efron's ties counted over patients.

The model has one indicator per level against the first (the reference). Its partial
likelihood depends on the data only through, at each event time, the events and the
number at risk per level, so it is fitted on those counts: Newton-Raphson on the
per-time sums, with Efron's correction for tied events taken over the tied *patients*
(what SAS ``PROC PHREG`` does with ``FREQ``). That equals R's ``coxph(ties = "efron")``
and lifelines fitted on one row per patient, at every cohort size; R's and lifelines'
*weighted* Efron counts rows instead, so it cannot be fitted on aggregated rows.

At an event time with D tied events, Efron's term sums over l = 0..D-1 the log of
R - (l/D) A (R: risk-set total of exp(beta), A: the same over the D events). With
c = R D / A those sums are sums of 1 / (c - l)^k: written out for up to EXPLICIT_TIES
ties, and beyond that in closed form (log-gamma and digamma, scipy.special; the squares
by the Euler-Maclaurin formula), so a registry's thousands of ties at one month cost no
more than one.

Limbs clustered in patients (:class:`~.counts.Clusters`): the robust (sandwich) variance
of R's ``coxph(..., cluster = patient_id)``, V B V with V the model variance and B the
sum over patients of the squared sum of their limbs' score residuals (Efron's, as R's
``residuals(fit, "score")``). A limb's score residual depends only on its group, time and
event, so the limbs' own squares come from the counts and only patients with two or more
limbs add cross terms. With clusters given, the sandwich is used even when no patient
has two limbs (R: every cluster a single row still gives the sandwich, not the model
variance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, psi

from analytics.stats.engine.counts import Clusters, Counts, Layout, grid, layout
from analytics.stats.engine.normal import Z_95, two_sided_p

EXPLICIT_TIES = 32
MAX_ITERATIONS = 60
TOLERANCE = 1e-12  # largest change of a coefficient at convergence
DIVERGENCE = 30.0  # |coefficient| beyond which the likelihood has no finite maximum
NO_EVENTS = "no events in group {level}"
NO_REFERENCE_EVENTS = "no events in the reference group {level}"
DIVERGED = "no finite confidence interval: too few patients or events for a Cox model"
NOT_CONVERGED = "Cox model did not converge: too few patients or events to separate the groups"


@dataclass(frozen=True)
class HazardRatio:
    """The hazard ratio of ``level`` against ``reference`` with its 95% CI and Wald p.

    Not estimable (``hr`` and the rest NaN) when the likelihood has no finite maximum;
    ``reason`` then says why.
    """

    level: str
    reference: str
    hr: float
    ci_lower: float
    ci_upper: float
    p: float
    coefficient: float
    se: float
    reason: str = ""

    @property
    def estimable(self) -> bool:
        return not self.reason


def hazard_ratios(
    counts: Counts, clusters: Clusters | Layout | None = None
) -> tuple[HazardRatio, ...]:
    """The hazard ratio of each level of ``counts`` against its first level.

    With ``clusters`` (the limbs of patients with two or more limbs in ``counts``, their
    groups indexing the same levels, or those limbs already laid out with ``counts``:
    :func:`~.counts.layout`) the SE, CI and Wald p are robust (module docstring).

    Levels without events are left out of the model (their coefficient would go to
    minus infinity, which is the same as leaving their patients out) and reported as
    not estimable, as is every level when the reference has no events.

    Example: 6-MP against placebo (Freireich), placebo the reference: HR 0.2076
    (0.0925-0.4659), as R's coxph with Efron ties.
    """
    reference, others = counts.levels[0], counts.levels[1:]
    events = counts.events_per_level
    if events[0] == 0:
        reason = NO_REFERENCE_EVENTS.format(level=reference)
        return tuple(_not_estimable(level, reference, reason) for level in others)
    fitted = [i for i in range(1, len(counts.levels)) if events[i] > 0]
    results = {
        i: _not_estimable(counts.levels[i], reference, NO_EVENTS.format(level=counts.levels[i]))
        for i in range(1, len(counts.levels))
        if events[i] == 0
    }
    if fitted:
        results |= _fit(counts, fitted, clusters)
    return tuple(results[i] for i in range(1, len(counts.levels)))


def _fit(
    counts: Counts, fitted: list[int], clusters: Clusters | Layout | None
) -> dict[int, HazardRatio]:
    """Newton-Raphson for the coefficients of the levels ``fitted`` (reference: level 0)."""
    laid = None if clusters is None else layout(counts, clusters)
    keep = [0, *fitted]
    if laid is None:
        g = grid(counts)
        sums = _EventSums(g.events[keep], g.at_risk[keep])
    else:  # only the event times count: read there once for the layout's several models
        sums = _event_sums(laid, keep)
    beta = np.zeros(len(fitted))
    loglik, gradient, information = sums.evaluate(beta)
    converged = False
    for _ in range(MAX_ITERATIONS):
        try:
            step = np.linalg.solve(information, gradient)
        except np.linalg.LinAlgError:
            break
        if np.abs(step).max() < TOLERANCE:
            # converged: the last step is taken without evaluating the sums there (a sixth
            # of a fit's time); over so small a step the information the variance reads
            # moves by about a part in 1e12
            beta = beta + step
            converged = np.abs(beta).max() <= DIVERGENCE
            break
        candidate = beta + step
        new = sums.evaluate(candidate)
        while new[0] < loglik - 1e-12 * abs(loglik) and np.abs(step).max() > TOLERANCE:
            step = step / 2  # step halving, as R's coxph, when a full step overshoots
            candidate = beta + step
            new = sums.evaluate(candidate)
        beta, (loglik, gradient, information) = candidate, new
        if np.abs(step).max() < TOLERANCE or np.abs(beta).max() > DIVERGENCE:
            converged = np.abs(beta).max() <= DIVERGENCE
            break
    reference = counts.levels[0]
    levels = [counts.levels[i] for i in fitted]
    if not converged:
        reason = DIVERGED if np.abs(beta).max() > DIVERGENCE else NOT_CONVERGED
        return {i: _not_estimable(counts.levels[i], reference, reason) for i in fitted}
    try:
        variance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return {i: _not_estimable(counts.levels[i], reference, DIVERGED) for i in fitted}
    if laid is not None:
        design = np.vstack([np.zeros(len(fitted)), np.eye(len(fitted))])
        meat = score_and_variance(laid, keep, design, beta).variance
        variance = variance @ meat @ variance
    se = np.sqrt(np.diag(variance))
    results = {}
    for i, level, b, s in zip(fitted, levels, beta, se, strict=True):
        lower, upper = np.exp(b - Z_95 * s), np.exp(b + Z_95 * s)
        if not (np.isfinite(s) and np.isfinite(upper) and lower > 0):
            results[i] = _not_estimable(level, reference, DIVERGED)
            continue
        results[i] = HazardRatio(
            level=level, reference=reference, hr=float(np.exp(b)), ci_lower=float(lower),
            ci_upper=float(upper), p=two_sided_p(b / s), coefficient=float(b), se=float(s),
        )  # fmt: skip
    return results


def _not_estimable(level: str, reference: str, reason: str) -> HazardRatio:
    nan = float("nan")
    return HazardRatio(level, reference, nan, nan, nan, nan, nan, nan, reason)


# The sum of 1/y^2 over y = low, low + 1, ..., high beyond EXPLICIT_TIES terms: its first
# INVERSE_SQUARE_HEAD terms written out, the rest by the Euler-Maclaurin formula, whose
# terms in Bernoulli numbers (B2 to B10 here) leave an error below 1e-15 of the sum once
# y >= INVERSE_SQUARE_HEAD. The difference of two trigammas (Hurwitz zeta at 2) gives the
# same sum, but costs ten times as long and loses digits where c is far above D.
INVERSE_SQUARE_HEAD = 20
BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66)


def _inverse_squares(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The sum of 1/y^2 for y from ``low`` to ``high`` in steps of 1 (``high`` - ``low`` a
    whole number of at least INVERSE_SQUARE_HEAD); the head written out only where ``low``
    is below INVERSE_SQUARE_HEAD (the tail's formula is as exact from there)."""
    small = low < INVERSE_SQUARE_HEAD
    if not small.any():
        return _euler_maclaurin(low, high)
    total = _euler_maclaurin(np.where(small, low + INVERSE_SQUARE_HEAD, low), high)
    for k in range(INVERSE_SQUARE_HEAD):
        total[small] += 1 / (low[small] + k) ** 2
    return total


def _euler_maclaurin(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sum of 1/y^2 for y from ``a`` to ``b`` in steps of 1 by the Euler-Maclaurin
    formula: the integral, half of each end, and the Bernoulli terms (a >= 20)."""
    total = (b - a) / (a * b) + (1 / a**2 + 1 / b**2) / 2
    for k, bernoulli in enumerate(BERNOULLI, start=1):
        total += bernoulli * (a ** -(2 * k + 1) - b ** -(2 * k + 1))
    return total


class _EventSums:
    """Efron's partial log-likelihood, its gradient and information, from per-time counts.

    Only times with events matter. For each, ``events[g]`` and ``at_risk[g]`` count the
    patients of group g (row 0 the reference) dying at and at risk at that time. What does
    not depend on the coefficients is worked out once here: a fit evaluates its sums six or
    seven times, and on a demo's few times each numpy call costs more than its arithmetic.
    """

    def __init__(self, events: np.ndarray, at_risk: np.ndarray) -> None:
        has_events = events.sum(axis=0) > 0
        self.events, self.at_risk = events[:, has_events], at_risk[:, has_events]
        self.deaths = self.events.sum(axis=0)
        self.share = self.events / self.deaths  # u_g: the group's part of the ties
        self.observed = self.events[1:].sum(axis=1)  # each compared group's events
        self.explicit = self.deaths <= EXPLICIT_TIES
        self.closed = ~self.explicit
        self.every_explicit = bool(self.explicit.all())
        # l = 0..D-1 on a (times, EXPLICIT_TIES) grid, masked beyond each time's D (where
        # the gap is 1: its log is 0, and ``kept`` (0.0) drops its other terms)
        ties = np.arange(EXPLICIT_TIES)
        self.tie = ties
        self.mask = ties[None, :] < self.deaths[self.explicit, None]
        self.kept = self.mask.astype(float)

    def _tie_sums(self, c: np.ndarray) -> tuple[np.ndarray, ...]:
        """Sums over l = 0..D-1 of log(c - l), 1/(c - l) and 1/(c - l)^2, per time."""
        e = self.explicit
        explicit = c if self.every_explicit else c[e]
        gap = np.where(self.mask, explicit[:, None] - self.tie[None, :], 1.0)
        sums = (
            np.log(gap).sum(axis=1),  # log(1) = 0 beyond D
            (self.kept / gap).sum(axis=1),
            (self.kept / gap**2).sum(axis=1),
        )
        if self.every_explicit:
            return sums
        log_sum, h0, q0 = np.empty_like(c), np.empty_like(c), np.empty_like(c)
        log_sum[e], h0[e], q0[e] = sums
        m, d = self.closed, self.deaths
        top, bottom = c[m] + 1, c[m] - d[m] + 1
        log_sum[m] = gammaln(top) - gammaln(bottom)
        h0[m] = psi(top) - psi(bottom)
        q0[m] = _inverse_squares(bottom, c[m])
        return log_sum, h0, q0

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log-likelihood, gradient and information (minus the Hessian) at ``beta``."""
        r = np.exp(np.concatenate([[0.0], beta]))[:, None]
        d = self.deaths
        risk = (self.at_risk * r).sum(axis=0)  # R
        dying = (self.events * r).sum(axis=0)  # A
        c = risk * d / dying
        log_sum, h0, q0 = self._tie_sums(c)
        h1 = c * h0 - d  # sum of l / (c - l)
        q1 = c * q0 - h0  # sum of l / (c - l)^2
        q2 = c * c * q0 - 2 * c * h0 + d  # sum of l^2 / (c - l)^2
        scale = d / dying  # phi_l = (c - l) / scale
        loglik = float((self.events * np.log(r)).sum() - (d * np.log(1 / scale) + log_sum).sum())
        n, u = self.at_risk[1:] * r[1:], self.share[1:] * r[1:]  # r_g N_g and r_g D_g / D
        first = scale * (n * h0 - u * h1)  # sum over l of a_gl / phi_l
        gradient = self.observed - first.sum(axis=1)
        n_scaled, u_scaled = n * scale, u * scale
        cross = n_scaled @ (n_scaled * q0).T
        cross -= n_scaled @ (u_scaled * q1).T + u_scaled @ (n_scaled * q1).T
        cross += u_scaled @ (u_scaled * q2).T
        information = np.diag(first.sum(axis=1)) - cross
        return loglik, gradient, information


def _event_sums(laid: Layout, keep: list[int]) -> _EventSums:
    """Efron's sums of the groups ``keep`` at the layout's event times, made once per
    layout: a fit, its robust variance and the robust score test read the same."""
    key = ("event sums", tuple(keep))
    if key not in laid.shared:
        at = laid.at_event_times
        laid.shared[key] = _EventSums(at.events[keep], at.at_risk[keep])
    return laid.shared[key]


@dataclass(frozen=True, eq=False)
class ClusteredScore:
    """The Cox score at some coefficients and its variance clustered by patient.

    ``score`` is the sum of every limb's score residual (the gradient of the partial
    log-likelihood); ``variance`` the sum over patients of the outer product of the sum
    of their limbs' residuals (R's ``t(r) %*% r`` on ``residuals(fit, "score", collapse =
    patient_id)``).
    """

    score: np.ndarray
    variance: np.ndarray


def score_and_variance(
    laid: Layout, keep: list[int], design: np.ndarray, beta: np.ndarray
) -> ClusteredScore:
    """The score and its clustered variance of a Cox model on the groups ``keep`` of the
    laid-out counts and limbs.

    Group ``keep[i]`` has covariates ``design[i]`` (its rows, one column per coefficient)
    and relative risk exp(design[i] @ beta); limbs of other groups are left out, as their
    patients' other limbs then stand alone. A residual depends on a limb's group, event
    and where its time falls among the event times (:class:`_Residuals`), so the counts'
    rows are summed per such cell first and only the pairs of limbs are read one by one.
    """
    at = laid.at_event_times
    events, censored = at.events[keep], at.censored[keep]
    residuals = _Residuals(events, design, beta, _event_sums(laid, keep))
    died, stayed = residuals.died, residuals.stayed
    weighted_died = events[:, :, None] * died
    weighted_stayed = censored[:, :, None] * stayed
    score = weighted_died.sum(axis=(0, 1)) + weighted_stayed.sum(axis=(0, 1))
    k = design.shape[1]
    # products summed over a long axis by einsum, not BLAS: a threaded matrix product of
    # so few columns costs more in its threads than in its arithmetic
    variance = np.einsum("ci,cj->ij", weighted_died.reshape(-1, k), died.reshape(-1, k))
    variance += np.einsum("ci,cj->ij", weighted_stayed.reshape(-1, k), stayed.reshape(-1, k))
    if laid.limbs.first.size:
        table = np.concatenate([stayed.reshape(-1, k), died.reshape(-1, k), np.zeros((1, k))])
        first, second = laid.cells
        groups, times = len(laid.counts.levels), at.columns.size
        if len(keep) < groups:  # the cells of the groups kept; the others' the zero row
            position = np.full((groups, 1), -1)
            position[keep, 0] = np.arange(len(keep))
            censored_cell = position * (times + 1) + np.arange(times + 1)
            event_cell = len(keep) * (times + 1) + position * times + np.arange(times)
            lookup = np.concatenate(
                [
                    np.where(position >= 0, cell, table.shape[0] - 1).ravel()
                    for cell in (censored_cell, event_cell)
                ]
            )
            first, second = np.take(lookup, first), np.take(lookup, second)
        # each pair's second residual summed per cell of its first, then one sum over cells
        summed = np.stack(
            [np.bincount(first, np.take(column, second), table.shape[0]) for column in table.T],
            axis=1,
        )
        cross = np.einsum("ci,cj->ij", table, summed)
        variance = variance + cross + cross.T
    return ClusteredScore(score=score, variance=variance)


class _Residuals:
    """Efron's score residual of a limb from its group, event and time, at fixed coefficients.

    At an event time with D tied events, R the risk-set total of r = exp(x beta), A the same
    over the D events, S1 and A1 the same totals of r x, the l-th of Efron's D risk sets
    (l = 0..D-1) has total R - (l/D) A and mean m_l = (S1 - (l/D) A1) / (R - (l/D) A). A limb
    at risk and not dying there takes -r sum_l (x - m_l) / (R - (l/D) A); a limb dying there
    takes x - mean_l m_l - r sum_l (1 - l/D) (x - m_l) / (R - (l/D) A) (R's ``coxscore``).
    The sums over l are those of :class:`_EventSums`, closed form beyond EXPLICIT_TIES.

    ``events`` are given at the event times of every group of the counts (some of which
    may have no event among these groups), ``sums`` are :class:`_EventSums` of them and
    their numbers at risk (those of the layout: :func:`_event_sums`). The residuals are tabled per
    group: ``died`` (groups, event times, coefficients) for a limb with its event at that
    time, ``stayed`` (groups, event times + 1, coefficients) for a limb censored after
    that many event times; a residual is a lookup.
    """

    def __init__(
        self, events: np.ndarray, design: np.ndarray, beta: np.ndarray, sums: _EventSums
    ) -> None:
        groups, times = events.shape
        has_events = events.sum(axis=0) > 0
        self.died = np.zeros((groups, times, design.shape[1]))
        self.stayed = np.zeros((groups, times + 1, design.shape[1]))
        if not has_events.any():
            return
        r = np.exp(design @ beta)
        d = sums.deaths
        risk_sets = sums.at_risk * r[:, None]
        dying_sets = sums.events * r[:, None]
        dying = dying_sets.sum(axis=0)
        c = risk_sets.sum(axis=0) * d / dying
        _, h0, q0 = sums._tie_sums(c)
        h1, q1, q2 = c * h0 - d, c * q0 - h0, c * c * q0 - 2 * c * h0 + d
        scale = d / dying
        # sums over l of 1/(R - (l/D) A) times 1, l/D; of its square times 1, l/D, (l/D)^2
        h0, h1 = scale * h0, scale * h1 / d
        q0, q1, q2 = scale**2 * q0, scale**2 * q1 / d, scale**2 * q2 / d**2
        s1, a1 = risk_sets.T @ design, dying_sets.T @ design  # (times, coefficients)
        x, r = design[:, None, :], r[:, None, None]
        staying = -r * (x * h0[None, :, None] - (s1 * q0[:, None] - a1 * q1[:, None])[None])
        mean = (s1 * h0[:, None] - a1 * h1[:, None]) / d[:, None]
        weighted = s1 * (q0 - q1)[:, None] - a1 * (q1 - q2)[:, None]
        died = x - mean[None] - r * (x * (h0 - h1)[None, :, None] - weighted[None])
        zero = np.zeros((design.shape[0], 1, design.shape[1]))
        stayed = np.concatenate([zero, np.cumsum(staying, axis=1)], axis=1)
        # per time: this model's event times up to it (censored after it) and at it
        upto = np.cumsum(has_events)
        at = np.maximum(upto - 1, 0)
        self.stayed = stayed[:, np.concatenate([[0], upto])]
        self.died = stayed[:, at] + died[:, at]
