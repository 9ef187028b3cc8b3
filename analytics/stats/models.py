"""Adjusted hazard ratios: a multivariable Cox model fitted on one row per patient.

Unlike every other survival result (analytics.stats.survival), a model of several
covariates cannot be fitted from per-time counts: DuckDB hands over one row per patient
of the filtered cohort with the endpoint's time and event and each covariate, and
lifelines fits it. Conventions:

- Cox proportional hazards with Efron's ties (lifelines' CoxPHFitter, as R's
  ``coxph(..., ties = "efron")``), Newton-Raphson run to a tight tolerance so the
  coefficients agree with R's to many digits; hazard ratio exp(coef) with the 95% Wald
  CI exp(coef ± 1.96 se) and the two-sided Wald p.
- Covariates are those a registry declares (analytics.variables), each treated by its
  kind. Terms: a number is one term named by its key, divided by its declared clinical
  unit (``per``, from rules.COVARIATE_UNITS for the built-ins: age per 10 years, BMI per
  5 kg/m², DVT duration per 12 months) before the fit, so its coefficient, HR, CI and PH
  test are per that unit (the Wald p and the PH test are the same per any unit); a yes/no
  or category covariate one term per level against its reference, the first level in
  display order (analytics.groups.order_levels), named ``key=level``
  (``thrombophilia=yes``, ``sex=M``, ``center=C02``).
- Complete cases: a patient missing any covariate is left out and counted in
  ``excluded``; the crude hazard ratios (one covariate at a time) are fitted on the same
  patients, so crude and adjusted differ by adjustment only.
- Each level's term carries its patients and events (``at_level``): a level of a few
  patients makes its hazard ratio a statistic of those few, which privacy mode hides
  (analytics.present.privacy.model_mask). A continuous covariate has none.
- Recurrent DVT is time-dependent: each patient's follow-up is split at the first
  recurrent DVT (from the events table) into counting-process rows (start, stop], with
  the covariate 0 before and 1 after; a recurrent DVT at or after the endpoint's time
  leaves one row at 0. That model is fitted by lifelines' CoxTimeVaryingFitter (Efron),
  as R's ``coxph(Surv(start, stop, event) ~ ...)``. Modelled as a baseline yes/no it
  would give immortal-time bias (glossary.IMMORTAL_TIME_BIAS): only this time-varying
  form is offered.
- The proportional-hazards check is lifelines' ``proportional_hazard_test`` with the
  Kaplan-Meier time transform, per term, plus the global Grambsch-Therneau statistic on
  the same residuals and times (R's cox.zph before survival 3.0; from 3.0 R uses an exact
  variance and its numbers differ). It is not computed for a time-varying model.
- Limbs clustered in patients (a file where a patient has two limbs,
  filters.has_bilateral): a limb endpoint's model is fitted on one row per limb and its
  standard errors, CIs and Wald p use the robust variance clustered by patient with
  Efron's ties, as R's ``coxph(..., cluster = patient_id, ties = "efron")``
  (analytics.stats.robust_cox; lifelines' own clustered variance treats ties as Breslow's
  do), the time-varying model's too (a patient's rows and limbs one cluster); the
  proportional-hazards test keeps the model variance (R's cox.zph has no clustered form)
  and the model's notes say so (glossary.MODEL_CLUSTERED). A patient endpoint (recurrent
  DVT) is modelled on one row per patient (filters.patient_sql), not clustered.

lifelines is imported where a model is fitted, so processes that fit none stay fast.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd

from analytics.cohort.summary import endpoint_columns
from analytics.filters import CohortFilter, FilterError, cohort_sql, has_bilateral, patient_sql
from analytics.glossary import (
    MODEL_CLUSTERED,
    NO_PH_TEST,
    PATENCY_ENDPOINTS,
    RECURRENT_DVT,
    TOO_FEW_EVENTS_REASON,
)
from analytics.groups import decode, grouping, order_levels, quoted
from analytics.rules import (
    MIN_EVENTS_FOR_HR,
    MIN_EVENTS_PER_VARIABLE,
    TIME_VARYING_MAX_PATIENTS,
)
from analytics.stats.engine.normal import Z_95, two_sided_p
from analytics.stats.robust_cox import robust_variance
from analytics.stats.schoenfeld import scaled_schoenfeld_frame
from analytics.variables import BUILTIN, Kind, Registry

TIME_VARYING_TOO_LARGE = (
    f"a model with the time-varying recurrent DVT is fitted for at most "
    f"{TIME_VARYING_MAX_PATIENTS} patients (lifelines' time-varying fit would take minutes "
    "here): filter to fewer patients, e.g. one centre, or leave recurrent_dvt out"
)
GLOBAL = "global"
# Newton-Raphson until the step or the Newton decrement is below 1e-14, never on a small
# relative change in log-likelihood (lifelines' default, 1e-9, as R's, or 1e-7 for the
# step, leaves the sixth digit of a coefficient: 0.0767472 for R's 0.0767470 on the demo).
TIGHT = {"precision": 1e-14, "r_precision": 0.0, "max_steps": 200}
STEP_SIZES = (0.95, 0.3, 0.1)  # lifelines' first step, then shorter ones (see _fit)
# Counting-process columns of a time-varying fit.
START, STOP, EVENT, PATIENT = "start", "stop", "event", "patient"
CLUSTER = "cluster"  # a row's patient, in a model clustered by patient


@dataclass(frozen=True)
class LevelCounts:
    """The patients at a level of a covariate and their endpoint events; for the
    time-varying recurrent DVT, the patients with follow-up after their first recurrent
    DVT and the events in that time. ``unfollowed``: the level's patients a time-varying
    fit left out for no follow-up time (AdjustedModel.unfollowed)."""

    patients: int
    events: int
    unfollowed: int = 0


@dataclass(frozen=True)
class Term:
    """One coefficient of a fitted model.

    ``term`` is its name in JSON: the column for a continuous or time-varying covariate,
    ``column=level`` for a level against ``reference``; ``hr`` = exp(coef) with its 95%
    Wald CI and two-sided Wald ``p``; ``at_level`` the level's patients and events (None
    for a continuous covariate). ``reason`` (TOO_FEW_EVENTS_REASON) marks a level, or its
    reference, of fewer than MIN_EVENTS_FOR_HR events: the fit keeps its coefficient, but
    its hazard ratio is a statistic of those few and no surface shows it as a number.
    """

    term: str
    covariate: str
    level: str | None
    reference: str | None
    coef: float
    se: float
    hr: float
    ci_lower: float
    ci_upper: float
    p: float
    at_level: LevelCounts | None = None
    reason: str = ""

    @property
    def estimable(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class PHTest:
    """The scaled Schoenfeld residual test of one term (1 df) or of all (``term`` global)."""

    term: str
    statistic: float
    df: int
    p: float


@dataclass(frozen=True)
class AdjustedModel:
    """A multivariable Cox model of one endpoint and its crude counterparts.

    ``terms`` are the adjusted hazard ratios and ``crude`` each covariate's alone, on the
    same ``patients`` (``excluded``: left out for a missing covariate); ``ph_test`` the
    proportional-hazards test per term and ``global`` (empty for a time-varying model).
    ``notes`` say why something is missing: a covariate left out, a model not estimable.
    ``unfollowed`` counts the complete cases a time-varying fit left out for no follow-up
    time (part of ``excluded``): without them its patients are those of the same covariates
    without recurrent DVT, the model the report fits for the recurrent-DVT endpoint.
    """

    endpoint: str
    covariates: tuple[str, ...]
    time_varying: bool
    patients: int
    events: int
    excluded: int
    terms: tuple[Term, ...] = ()
    crude: tuple[Term, ...] = ()
    ph_test: tuple[PHTest, ...] = ()
    notes: tuple[str, ...] = ()
    variables: Registry = BUILTIN  # the cohort's, whose words its terms show in
    unfollowed: int = 0
    clustered: bool = False  # limbs clustered by patient: robust variance (module docstring)

    @property
    def events_per_variable(self) -> float:
        """Events per estimated coefficient (NaN with none)."""
        return self.events / len(self.terms) if self.terms else math.nan

    @property
    def few_events_per_variable(self) -> bool:
        """Fewer than MIN_EVENTS_PER_VARIABLE events per coefficient: unreliable."""
        return bool(self.terms) and self.events_per_variable < MIN_EVENTS_PER_VARIABLE


class ModelError(FilterError):
    """A model asked for that cannot be fitted as asked (an unknown covariate)."""


class NotConverged(ArithmeticError):
    """lifelines' Newton-Raphson diverged at every step size (collinear covariates)."""


def check_covariates(covariates: Sequence[str], variables: Registry = BUILTIN) -> tuple[str, ...]:
    """The covariates, each one ``variables`` declares as a covariate, in the order given,
    without repeats."""
    allowed = variables.covariates()
    unknown = [c for c in covariates if c not in allowed]
    if unknown:
        raise ModelError(f"cannot adjust for {unknown[0]!r}; choose from {', '.join(allowed)}")
    return tuple(dict.fromkeys(covariates))


def adjusted_model(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    covariates: Sequence[str],
    variables: Registry | None = None,
) -> AdjustedModel:
    """Adjusted and crude Cox hazard ratios of ``endpoint`` on ``covariates`` (keys of
    ``variables``' covariates: the filter's own when None).

    ``recurrent_dvt`` is the time-varying covariate; for the recurrent-DVT endpoint
    itself it is left out with a note (an event cannot predict itself).
    """
    variables = cohort_filter.variables if variables is None else variables
    covariates = check_covariates(covariates, variables)
    notes = []
    if endpoint == RECURRENT_DVT and RECURRENT_DVT in covariates:
        covariates = tuple(c for c in covariates if c != RECURRENT_DVT)
        notes.append("recurrent_dvt left out: the recurrent-DVT endpoint cannot predict itself")
    time_varying = RECURRENT_DVT in covariates
    baseline = tuple(c for c in covariates if variables.get(c).kind is not Kind.TIME_VARYING)
    continuous = {c for c in baseline if variables.get(c).kind is Kind.NUMBER}
    bilateral = has_bilateral(con)
    clustered = bilateral and endpoint in PATENCY_ENDPOINTS
    rows = patient_rows(
        con, cohort_filter, endpoint, baseline, time_varying, variables,
        unit="limb" if clustered else "patient" if bilateral else None,
    )  # fmt: skip
    complete = rows.dropna(subset=list(baseline))
    excluded = len(rows) - len(complete)
    unfollowed = complete[complete["months"] <= 0] if time_varying else complete.iloc[:0]
    if len(unfollowed):
        # a counting-process row needs stop > start: no time at risk, nothing to add
        notes.append("patients with no follow-up time (month 0) left out of the time-varying fit")
        excluded += len(unfollowed)
        complete = complete[complete["months"] > 0]
    model = AdjustedModel(
        endpoint=endpoint,
        covariates=covariates,
        time_varying=time_varying,
        patients=len(complete),
        events=int(complete["event"].sum()),
        excluded=excluded,
        variables=variables,
        unfollowed=len(unfollowed),
        clustered=clustered,
    )
    if time_varying and len(complete) > TIME_VARYING_MAX_PATIENTS:
        return replace(model, notes=(*notes, TIME_VARYING_TOO_LARGE))
    design, columns, references, dropped = design_matrix(complete, baseline, variables)
    notes += dropped
    if time_varying:
        columns[RECURRENT_DVT] = [RECURRENT_DVT]
    data = _model_data(complete, design, time_varying)
    problem = _not_estimable(data, columns, continuous)
    if problem:
        return replace(model, notes=(*notes, problem))
    every = [term for terms in columns.values() for term in terms]
    counts = level_counts(data, columns, time_varying, continuous)
    counts = _with_unfollowed(counts, unfollowed, variables)
    if clustered:
        notes.append(MODEL_CLUSTERED)
    try:
        fitter = _fit(data, every, time_varying)
        crude = [
            term
            for terms in columns.values()
            for term in _terms(
                _fit(data, terms, time_varying), references, counts, _robust(data, clustered)
            )
        ]
    except NotConverged as exc:
        return replace(model, notes=(*notes, f"the model did not converge: {exc}"))
    short = too_few_events(columns, counts, model.events)
    terms = _marked(_terms(fitter, references, counts, _robust(data, clustered)), short)
    crude = _marked(crude, short)
    ph = () if time_varying else ph_test(fitter, data)
    if time_varying:
        notes.append(NO_PH_TEST)
    return replace(model, terms=terms, crude=tuple(crude), ph_test=ph, notes=tuple(notes))


def patient_rows(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    baseline: Sequence[str],
    time_varying: bool = False,
    variables: Registry = BUILTIN,
    unit: str | None = None,
) -> pd.DataFrame:
    """One row per filtered patient: ``months``, ``event``, each baseline covariate (a
    category as its code, see analytics.groups) and, when ``time_varying``,
    ``first_recurrent_dvt`` (the month of the first recurrent DVT in the events table,
    missing without one). Column expressions come from the declarations only.

    In a file where a patient has two limbs, ``unit`` says what a row is: ``limb`` (every
    filtered limb, with its patient as ``cluster``) or ``patient`` (each patient's first
    limb in the filter, filters.patient_sql); None, one limb per patient: every row."""
    months, event = endpoint_columns(endpoint)
    cohort, params = (patient_sql if unit == "patient" else cohort_sql)(cohort_filter)
    select = [f"{months} AS months", f"{event} AS event"]
    if unit == "limb":
        select.append(f"hash(patient_id) AS {CLUSTER}")
    select += [
        f"{covariate_sql(c, variables)} AS {quoted(c)}"
        for c in check_covariates(baseline, variables)
    ]
    source = f"({cohort}) AS cohort"
    if time_varying:
        select.append("first.month AS first_recurrent_dvt")
        source += (
            " LEFT JOIN (SELECT patient_id, min(month) AS month FROM events WHERE event = ? "
            "GROUP BY patient_id) AS first USING (patient_id)"
        )
        params = [*params, RECURRENT_DVT]
    return con.execute(f"SELECT {', '.join(select)} FROM {source}", params).df()


def covariate_sql(covariate: str, variables: Registry = BUILTIN) -> str:
    """The SQL of a baseline covariate: a number's column itself, else its grouping's
    (a yes/no or category split by its declared levels)."""
    variable = variables.get(covariate)
    if variable.kind is Kind.NUMBER:
        return quoted(variable.column)
    return grouping(variable.grouping_key, variables).sql


def design_matrix(
    rows: pd.DataFrame, baseline: Sequence[str], variables: Registry = BUILTIN
) -> tuple[pd.DataFrame, dict[str, list[str]], dict[str, str], list[str]]:
    """The model's columns: each number in its declared clinical unit (``per``), each other
    covariate one 0/1 column per non-reference level. Also each covariate's term names,
    each category's reference level, and a note for each covariate left out (one level,
    or one value)."""
    design = pd.DataFrame(index=rows.index)
    columns: dict[str, list[str]] = {}
    references: dict[str, str] = {}
    notes: list[str] = []
    for covariate in baseline:
        variable = variables.get(covariate)
        if variable.kind is Kind.NUMBER:
            values = rows[covariate].astype(float)
            if values.nunique() < 2:
                notes.append(f"{covariate} left out: the same value for every patient")
                continue
            design[covariate] = values / variable.per
            columns[covariate] = [covariate]
            continue
        key = variable.grouping_key
        values = decode(key, rows[covariate].to_numpy(), variables)
        levels = order_levels(key, sorted(set(values.tolist())), variables)
        if len(levels) < 2:
            notes.append(f"{covariate} left out: one level only in these patients")
            continue
        names = [f"{covariate}={level}" for level in levels[1:]]
        for name, level in zip(names, levels[1:], strict=True):
            design[name] = (values == level).astype(float)
        columns[covariate] = names
        references[covariate] = levels[0]
    return design, columns, references, notes


def _not_estimable(
    data: pd.DataFrame, columns: dict[str, list[str]], continuous: Collection[str]
) -> str | None:
    """Why no finite model exists, or None: no events, no terms, or a level (or its
    reference, or the time with or without recurrent DVT) without events: its hazard
    ratio would be 0 or infinite, the likelihood has no maximum."""
    event = data[EVENT].to_numpy(bool)
    if not event.any():
        return "not estimable: no events in these patients"
    if not columns:
        return "not estimable: no covariate left to adjust for"
    for covariate, names in columns.items():
        if covariate in continuous:
            continue
        levels = data[names].to_numpy() == 1
        for name, rows in (*zip(names, levels.T, strict=True), (None, ~levels.any(axis=1))):
            if not event[rows].any():
                which = name or f"the reference of {covariate}"
                if covariate == RECURRENT_DVT:
                    which = f"time {'with' if name else 'without'} recurrent DVT"
                return f"not estimable: no events in {which}; leave the covariate out"
    return None


def _model_data(rows: pd.DataFrame, design: pd.DataFrame, time_varying: bool) -> pd.DataFrame:
    """The rows a fitter takes: patient rows (months, event, terms), or counting-process
    rows (patient, start, stop, event, terms, recurrent_dvt) split at the first recurrent
    DVT."""
    months = rows["months"].to_numpy(float)
    event = rows["event"].to_numpy(bool)
    if not time_varying:
        columns = {"months": months, EVENT: event}
        if CLUSTER in rows:
            columns[CLUSTER] = rows[CLUSTER].to_numpy()
        return pd.concat([pd.DataFrame(columns, index=rows.index), design], axis=1).reset_index(
            drop=True
        )
    onset = rows["first_recurrent_dvt"].to_numpy(float)  # NaN without one: never split
    split = onset < months  # a recurrent DVT before the endpoint's time
    stop = np.where(split, onset, months)
    kept = stop > 0  # a recurrent DVT at month 0: the patient's one row is after it
    patient = np.arange(len(rows))
    covariates = design.reset_index(drop=True)
    before = pd.DataFrame({
        PATIENT: patient[kept], START: 0.0, STOP: stop[kept],
        EVENT: (event & ~split)[kept], RECURRENT_DVT: 0.0,
    })  # fmt: skip
    after = pd.DataFrame({
        PATIENT: patient[split], START: onset[split], STOP: months[split],
        EVENT: event[split], RECURRENT_DVT: 1.0,
    })  # fmt: skip
    if CLUSTER in rows:
        cluster = rows[CLUSTER].to_numpy()
        before[CLUSTER], after[CLUSTER] = cluster[before[PATIENT]], cluster[after[PATIENT]]
    return pd.concat(
        [pd.concat([part, covariates.iloc[part[PATIENT]].reset_index(drop=True)], axis=1)
         for part in (before, after)],
        ignore_index=True,
    )  # fmt: skip


def _fit(data: pd.DataFrame, terms: list[str], time_varying: bool):
    """lifelines' Efron fit of ``terms`` (CoxTimeVaryingFitter on counting-process rows).

    lifelines takes full Newton steps without halving them when the likelihood falls, so
    a fit that overshoots into a flat region diverges or stops far from the maximum (the
    demo's recurrent DVT does at 0.95); R's coxph halves such steps. Such a fit is run
    again with shorter steps, and so is one whose Hessian a step made singular (scipy's
    LinAlgError; seen on the demo's left-sided lesions under load).
    """
    from lifelines import CoxPHFitter, CoxTimeVaryingFitter
    from lifelines.exceptions import ConvergenceError

    for step_size in STEP_SIZES:
        options = {**TIGHT, "step_size": step_size}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # overflow and conditioning on the way
                if time_varying:
                    fitter = CoxTimeVaryingFitter()
                    fitter.fit(
                        data[[PATIENT, START, STOP, EVENT, *terms]], event_col=EVENT,
                        start_col=START, stop_col=STOP, id_col=PATIENT, fit_options=options,
                    )  # fmt: skip
                else:
                    fitter = CoxPHFitter()
                    columns = ["months", EVENT, *terms]
                    fitter.fit(data[columns], "months", EVENT, fit_options=options,
                               batch_mode=_batch(data["months"]))  # fmt: skip
        except (ConvergenceError, np.linalg.LinAlgError) as exc:  # scipy's is numpy's
            failure = str(exc).split("\n")[0]
            continue
        if _converged(fitter):
            return fitter
        failure = "Newton-Raphson ended away from the maximum of the likelihood"
    raise NotConverged(failure)


def _batch(times: pd.Series) -> bool:
    """lifelines' Efron sums per distinct time ("batch") when times repeat, else per row.

    lifelines' own choice extrapolates a regression fitted on small data sets and picks
    the per-row Python loop for a million month-rounded patients: 27 s a fit, 1.7 s in
    batch. Both are the exact Efron likelihood; only their speed differs.
    """
    return bool(times.nunique() <= len(times) / 2)


def _converged(fitter) -> bool:
    """The fit ended at a maximum: finite coefficients and standard errors, and a partial
    likelihood at least that of the null model (lifelines can report 'completed' after
    an overshoot, with a NaN standard error and a far lower likelihood)."""
    finite = np.isfinite(fitter.params_).all() and np.isfinite(fitter.standard_errors_).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gain = fitter.log_likelihood_ratio_test().test_statistic
    return bool(finite and gain >= -1e-9)


def level_counts(
    data: pd.DataFrame,
    columns: dict[str, list[str]],
    time_varying: bool,
    continuous: Collection[str],
) -> dict[str, LevelCounts]:
    """Each 0/1 term's patients (rows with the term at 1; in counting-process rows, the
    patients with any such row) and the events in those rows; a ``continuous`` covariate
    has none. A patient has at most one event row, so events are summed over rows."""
    counts = {}
    for covariate, names in columns.items():
        if covariate in continuous:
            continue
        for name in names:
            rows = data[data[name] == 1]
            patients = rows[PATIENT].nunique() if time_varying else len(rows)
            counts[name] = LevelCounts(int(patients), int(rows[EVENT].sum()))
    return counts


def _with_unfollowed(
    counts: dict[str, LevelCounts], unfollowed: pd.DataFrame, variables: Registry
) -> dict[str, LevelCounts]:
    """``counts`` with each level's patients among ``unfollowed`` (the rows a time-varying
    fit left out for no follow-up time), matched by the level of its term's name."""
    if unfollowed.empty:
        return counts
    found = dict(counts)
    for name, level_count in counts.items():
        covariate, _, level = name.partition("=")
        if not level:
            continue
        values = decode(variables.get(covariate).grouping_key, unfollowed[covariate].to_numpy(),
                        variables)  # fmt: skip
        found[name] = replace(level_count, unfollowed=int((values == level).sum()))
    return found


def _terms(
    fitter, references: dict[str, str], counts: dict[str, LevelCounts], data=None
) -> tuple[Term, ...]:
    """Each fitted coefficient as a Term (hazard ratio, 95% Wald CI, Wald p, its level's
    counts); with ``data`` (the fit's rows with their ``cluster``), the SE, CI and p from
    the robust variance clustered by patient (analytics.stats.robust_cox)."""
    summary = fitter.summary
    if data is not None:
        summary = _with_se(summary, _robust_se(fitter, data))
    terms = []
    for name, row in summary.iterrows():
        covariate, _, level = str(name).partition("=")
        terms.append(
            Term(
                term=str(name), covariate=covariate, level=level or None,
                reference=references.get(covariate) if level else None,
                coef=float(row["coef"]), se=float(row["se(coef)"]), hr=float(row["exp(coef)"]),
                ci_lower=float(row["exp(coef) lower 95%"]),
                ci_upper=float(row["exp(coef) upper 95%"]), p=float(row["p"]),
                at_level=counts.get(str(name)),
            )
        )  # fmt: skip
    return tuple(terms)


def _with_se(summary: pd.DataFrame, se: np.ndarray) -> pd.DataFrame:
    """lifelines' summary with another SE, its Wald CI exp(coef ± 1.96 se) and p."""
    coef = summary["coef"].to_numpy(float)
    return summary.assign(**{
        "se(coef)": se,
        "exp(coef) lower 95%": np.exp(coef - Z_95 * se),
        "exp(coef) upper 95%": np.exp(coef + Z_95 * se),
        "p": [two_sided_p(float(z)) for z in coef / se],
    })  # fmt: skip


def _robust(data: pd.DataFrame, clustered: bool) -> pd.DataFrame | None:
    """The rows whose robust variance a clustered model's terms take, else None."""
    return data if clustered else None


def _robust_se(fitter, data: pd.DataFrame) -> np.ndarray:
    """The fitted terms' SEs from the robust variance clustered by ``data``'s cluster."""
    terms = list(fitter.params_.index)
    time_varying = START in data
    variance = robust_variance(
        data[STOP if time_varying else "months"].to_numpy(float),
        data[EVENT].to_numpy(bool),
        data[terms].to_numpy(float),
        fitter.params_.to_numpy(float),
        fitter.variance_matrix_.to_numpy(float),
        data[CLUSTER].to_numpy(),
        data[START].to_numpy(float) if time_varying else None,
    )
    return np.sqrt(np.diag(variance))


def too_few_events(
    columns: dict[str, list[str]], counts: dict[str, LevelCounts], events: int
) -> set[str]:
    """The 0/1 terms whose level, or whose reference (the covariate's other patients; for
    recurrent DVT the time before it), has fewer than MIN_EVENTS_FOR_HR events."""
    short = set()
    for names in columns.values():
        if any(name not in counts for name in names):
            continue  # a continuous covariate: no levels
        reference = events - sum(counts[name].events for name in names)
        short |= {name for name in names if min(counts[name].events, reference) < MIN_EVENTS_FOR_HR}
    return short


def _marked(terms: Sequence[Term], short: set[str]) -> tuple[Term, ...]:
    """``terms`` with those in ``short`` marked TOO_FEW_EVENTS_REASON."""
    return tuple(replace(t, reason=TOO_FEW_EVENTS_REASON) if t.term in short else t for t in terms)


def ph_test(fitter, data: pd.DataFrame) -> tuple[PHTest, ...]:
    """lifelines' proportional-hazards test (Kaplan-Meier time transform) per term, on
    the scaled Schoenfeld residuals of analytics.stats.schoenfeld (lifelines' own, computed
    without its quadratic loop), and the global statistic on the same residuals s_k and
    times g_k:
    u' V^-1 u / (d sum (g_k - mean g)^2) with u = sum (g_k - mean g) s_k, V the
    coefficients' covariance and d the events, on as many df as terms (Grambsch and
    Therneau 1994; R's cox.zph global test before survival 3.0)."""
    from lifelines.statistics import TimeTransformers, proportional_hazard_test
    from scipy.stats import chi2

    residuals = scaled_schoenfeld_frame(fitter, data, "months", EVENT)
    result = proportional_hazard_test(
        fitter, data, time_transform="km", precomputed_residuals=residuals
    )
    events = fitter.event_observed
    times = TimeTransformers().get("km")(fitter.durations, events, fitter.weights)[events.values]
    centred = times.to_numpy() - times.to_numpy().mean()
    u = centred @ residuals.to_numpy()
    variance = fitter.variance_matrix_.to_numpy()
    statistic = float(u @ np.linalg.solve(variance, u) / (events.sum() * (centred**2).sum()))
    summary = result.summary  # sorted by name: put back in the model's order
    per_term = tuple(
        PHTest(
            str(name), float(summary.at[name, "test_statistic"]), 1, float(summary.at[name, "p"])
        )
        for name in fitter.params_.index
    )
    df = len(per_term)
    return (*per_term, PHTest(GLOBAL, statistic, df, float(chi2.sf(statistic, df))))
