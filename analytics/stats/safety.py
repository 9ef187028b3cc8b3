"""Safety events: patients affected with exact 95% CI, rates per 100 patient-years, timing,
and the cumulative incidence of recurrent DVT, PE and major bleeding with death competing.

Proportions use the filtered cohort as denominator with Clopper-Pearson (exact
binomial) limits: crude, over unequal follow-up (a patient followed 6 months and one
followed 60 count alike). Rates count every event over the cohort's total follow-up. The
cumulative incidence at fixed months is the Aalen-Johansen estimate (the counts engine's,
with its log(-log) 95% CI), each patient's time the first such event, else the earlier of
death (the competing event) and the last contact (censored), as R's multi-state
``survfit(Surv(time, factor(status)) ~ 1)`` ``pstate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaincinv

from analytics.cohort.summary import first_event_column
from analytics.cohort.tallies import count, tally, total
from analytics.filters import (
    CohortFilter,
    both_limbs,
    cohort_sql,
    cohort_where,
    has_bilateral,
    patient_sql,
)
from analytics.glossary import ALL_PATIENTS, SAFETY_EVENTS
from analytics.partitions import patients_may_matter
from analytics.rules import (
    CONFIDENCE,
    EARLY_EVENT_MONTHS,
    MONTHS_PER_YEAR,
    PER_PATIENT_YEARS,
    SAFETY_INCIDENCE_EVENTS,
    SAFETY_INCIDENCE_MONTHS,
)
from analytics.stats.engine.aalen_johansen import (
    IncidenceAtMonths,
    cumulative_incidence,
    incidence_at,
)
from analytics.stats.survival import counts_from_rows

ALPHA = 1 - CONFIDENCE
SAFETY_COLUMNS = [
    "event", "patients", "proportion", "ci_lower", "ci_upper", "events",
    "events_within_30_days", "events_later", "per_100_patient_years",
]  # fmt: skip
TIMELINE_COLUMNS = ["event", "month", "events"]
MAX_BUBBLES = 200  # distinct (event, time) points beyond which events are counted per month


@dataclass(frozen=True, eq=False)
class SafetyIncidence:
    """The cumulative incidence of one safety event with death competing, at ``at.month``.

    ``at`` holds the Aalen-Johansen estimate and its log(-log) 95% CI (proportions, 0-1;
    NaN after the last follow-up); ``events_by`` the patients whose first such event came
    by each month (what privacy mode reads: an estimate of few events gives their number),
    of ``patients``.
    """

    event: str
    patients: int
    at: IncidenceAtMonths
    events_by: np.ndarray


@dataclass(frozen=True, eq=False)
class Safety:
    """The safety events of a filtered cohort.

    ``table`` has one row per event type (SAFETY_COLUMNS), every type even without
    events: patients with the event, their proportion of ``patients`` with its exact
    95% limits (proportions, 0-1), all events, those within 30 days and later, and
    events per 100 patient-years. ``incidence`` is the cumulative incidence of each of
    SAFETY_INCIDENCE_EVENTS with death competing, at SAFETY_INCIDENCE_MONTHS.
    """

    patients: int
    patient_years: float
    table: pd.DataFrame
    incidence: tuple[SafetyIncidence, ...] = ()
    bilateral: bool = False  # the file has patients with two limbs: ``patients`` are people


def cohort_size(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> tuple[int, float]:
    """Patients in the filter and their total follow-up in years."""
    n, months = con.execute(
        *cohort_sql(cohort_filter, "count(*), coalesce(sum(follow_up_months), 0)")
    ).fetchall()[0]
    return int(n), float(months) / MONTHS_PER_YEAR


def limb_and_patient_counts(
    con: duckdb.DuckDBPyConnection, filters: Sequence[CohortFilter]
) -> tuple[tuple[int, int], ...]:
    """Limbs and patients in each filter: tallies of the rows each selects."""
    found = []
    for cohort_filter in filters:
        where, params = cohort_where(cohort_filter)
        found.append((count(con, where, params), count(con, where, params, people=True)))
    return tuple(found)


def outside_patients(
    con: duckdb.DuckDBPyConnection, inside: CohortFilter, around: CohortFilter, limbs: int
) -> int | None:
    """The distinct patients behind the ``limbs`` limbs that ``around`` selects and
    ``inside`` does not (the filters' complement: the limbs they leave out of the
    population analysed, or the population leaves out of the file), where they may
    matter to privacy (partitions.patients_may_matter; None otherwise): the limbs less the
    patients with both limbs among them (filters.both_limbs)."""
    if not limbs or not patients_may_matter(limbs):
        return None if limbs else 0
    inner, inner_params = cohort_where(inside)
    outer, outer_params = cohort_where(around)
    where = f"({outer}) AND NOT coalesce(({inner}), false)"
    (pairs,) = both_limbs(con, where, [*outer_params, *inner_params], ["true"])
    return limbs - pairs


def safety(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, incidence: bool = False
) -> Safety:
    """Every safety event type of the filtered cohort; with ``incidence``, the cumulative
    incidence too (the Safety page, the report and the deck show it; the Overview and
    Tables do not, and a million patients' incidence costs them about 100 ms)."""
    person = (*cohort_where(cohort_filter), True)
    counted = [(f"n_{e}{when}", f"n_{e}{when}") for e in SAFETY_EVENTS for when in ("", "_early")]
    rows = tally(con, counted, *person)
    people = np.asarray(rows["n"], dtype=np.int64)
    n = int(people.sum())
    patient_years = total(con, "follow_up_months", *person) / MONTHS_PER_YEAR
    counts = np.array(
        [
            [int(people[np.asarray(rows[f"n_{e}"]) > 0].sum()) for e in SAFETY_EVENTS],
            [int((np.asarray(rows[f"n_{e}"]) * people).sum()) for e in SAFETY_EVENTS],
            [int((np.asarray(rows[f"n_{e}_early"]) * people).sum()) for e in SAFETY_EVENTS],
        ]
    )
    table = safety_table(n, patient_years, *counts)
    found = safety_incidence(con, cohort_filter) if incidence else ()
    return Safety(n, patient_years, table, found, has_bilateral(con))


def safety_table(
    n: int, patient_years: float, patients: np.ndarray, events: np.ndarray, early: np.ndarray
) -> pd.DataFrame:
    """The safety table from the counts per event type (SAFETY_EVENTS order)."""
    low, high = clopper_pearson(patients, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = PER_PATIENT_YEARS * events / patient_years if patient_years else np.nan
        proportion = patients / n if n else np.full(len(patients), np.nan)
    return pd.DataFrame(
        {
            "event": list(SAFETY_EVENTS),
            "patients": patients,
            "proportion": proportion,
            "ci_lower": low,
            "ci_upper": high,
            "events": events,
            "events_within_30_days": early,
            "events_later": events - early,
            "per_100_patient_years": rate,
        },
        columns=SAFETY_COLUMNS,
    )


def event_timeline(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Safety events per (event, month): when they happened, for a timeline chart. Only the
    patients' rows with events are unnested (a patient without has no list, NULL: two
    thirds of a registry's), once each patient's row is chosen."""
    cohort, params = patient_sql(cohort_filter, "unnest(safety_events) AS e", "safety_events")
    return con.execute(
        f"""
        SELECT e.event AS event, e.month AS month, count(*) AS events
        FROM ({cohort} WHERE safety_events IS NOT NULL)
        GROUP BY ALL ORDER BY month, event
        """,
        params,
    ).df()[TIMELINE_COLUMNS]


def timeline_points(timeline: pd.DataFrame) -> pd.DataFrame:
    """The timeline's points as a chart draws them (TIMELINE_COLUMNS): each (event, time),
    or, past MAX_BUBBLES points (a registry's hundreds of times), later times rounded to
    the month and the first 30 days kept, so every point stays early or later."""
    if len(timeline) <= MAX_BUBBLES:
        return timeline
    early = timeline["month"] <= EARLY_EVENT_MONTHS
    month = timeline["month"].where(early, timeline["month"].round())
    return (
        timeline.assign(month=month)
        .groupby(["event", "month"], as_index=False, sort=True)["events"]
        .sum()
    )


def drawn_on_timeline(events: int, k: int | None) -> bool:
    """Whether the timeline draws a point of ``events`` events: always without privacy;
    in privacy mode (``k``) only a point of k or more, so that a point never says "fewer
    than k at this time" (a dot of one at each of nine times beside nine deaths in the
    table gave each death; views.safety_ledger)."""
    return k is None or events >= k


def clopper_pearson(k: ArrayLike, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial 95% limits for k of n, every k at once; NaN limits when n is 0.

    The Clopper-Pearson limits are beta quantiles, the closed form of the binomial tail
    inversion SciPy's binomtest solves by root finding one k at a time: the lower limit
    is the ALPHA/2 quantile of Beta(k, n - k + 1), the upper the 1 - ALPHA/2 quantile of
    Beta(k + 1, n - k) (the inverse regularised incomplete beta; tested against binomtest).
    """
    k = np.asarray(k, dtype=float)
    if n == 0:
        return np.full_like(k, np.nan), np.full_like(k, np.nan)
    low = np.where(k > 0, betaincinv(np.maximum(k, 1), n - k + 1, ALPHA / 2), 0.0)
    high = np.where(k < n, betaincinv(k + 1, np.maximum(n - k, 1), 1 - ALPHA / 2), 1.0)
    return low, high


def safety_incidence(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    events: Sequence[str] = SAFETY_INCIDENCE_EVENTS,
    months: Sequence[float] = SAFETY_INCIDENCE_MONTHS,
) -> tuple[SafetyIncidence, ...]:
    """Each of ``events``' cumulative incidence at ``months``, death competing: a tally
    per event of its patients (each once, on their first limb in the filter) by time,
    event and death.

    A patient's time is the month of the first such event; without one, the month of death
    (the competing event) or else the last contact (follow_up_months, censored).
    """
    unknown = [e for e in events if e not in SAFETY_EVENTS or e == "death"]
    if unknown:
        raise ValueError(f"no cumulative incidence of {unknown[0]!r} with death competing")
    ends = f"coalesce({first_event_column('death')}, follow_up_months)"
    where, params = cohort_where(cohort_filter)
    result = []
    for event in events:
        first = first_event_column(event)
        rows = tally(
            con,
            [("t", f"coalesce({first}, {ends})"), ("e", f"{first} IS NOT NULL"),
             ("died", "n_death > 0")],
            where, params, people=True,
        )  # fmt: skip
        timed = ~np.ma.getmaskarray(rows["t"])  # follow_up_months is never missing
        counts = counts_from_rows(
            (ALL_PATIENTS,),
            np.zeros(int(timed.sum()), dtype=int),
            np.asarray(rows["t"], dtype=float)[timed],
            np.asarray(rows["e"], dtype=bool)[timed],
            np.asarray(rows["n"], dtype=np.int64)[timed],
            np.asarray(rows["died"], dtype=bool)[timed],
        )
        result.append(_incidence(event, counts, months))
    return tuple(result)


def _incidence(event: str, counts, months: Sequence[float]) -> SafetyIncidence:
    """The incidence of one event's counts at ``months``, with the events by each month."""
    at = incidence_at(cumulative_incidence(counts), months)
    month = np.asarray(months, dtype=float)
    events_by = np.array([int(counts.events[counts.time <= m].sum()) for m in month], dtype=int)
    return SafetyIncidence(event, int(counts.patients.sum()), at, events_by)
