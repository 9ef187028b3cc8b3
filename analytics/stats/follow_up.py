"""Follow-up of a filtered cohort: median follow-up by reverse Kaplan-Meier, and completeness.

- **Median follow-up** (Schemper and Smith, 1996): the Kaplan-Meier median of
  ``follow_up_months`` with the roles reversed, being alive at the last contact the
  event and death the censoring, so that deaths do not shorten it; its 95% CI from the
  same log(-log) band (the counts engine's :mod:`median <analytics.stats.engine.median>`).
- **Completeness** (Clark's C, Lancet 2002): observed over potential person-time. A
  patient's potential time runs from the procedure to the end of potential follow-up
  or, for a patient who died, to death (complete up to death); the observed time is
  the follow-up, both cut at that end. The end is the data lock (days / 30.4375 after
  the procedure) or, when the cohort states a protocol's planned follow-up (metadata
  key ``planned_follow_up_months``), the earlier of the data lock and that many
  months: a protocol followed in full is complete, not lost after its last visit. The
  data lock is the metadata key ``data_lock_date`` (ISO) or else the latest last
  contact in the cohort file (procedure date plus follow-up). A fraction from 0 to 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np

from analytics.cohort.summary import DAY
from analytics.cohort.tallies import column_max, numbers, tally
from analytics.filters import CohortFilter, cohort_where
from analytics.glossary import ALL_PATIENTS
from analytics.rules import DAYS_PER_MONTH
from analytics.stats.engine.kaplan_meier import kaplan_meier
from analytics.stats.engine.median import Median, median_time
from analytics.stats.survival import counts_from_rows

DATA_LOCK_KEY = "data_lock_date"
PLANNED_KEY = "planned_follow_up_months"
EPOCH = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class PlannedFollowUp:
    """The protocol's planned follow-up as the cohort's metadata states it.

    ``months`` is None when the metadata has no such key, or its value is not a positive
    number of months (``unreadable``: said beside the completeness, and not used).
    """

    months: float | None = None
    unreadable: bool = False


@dataclass(frozen=True)
class FollowUp:
    """Median follow-up (months, reverse Kaplan-Meier) with its 95% CI, and Clark's C.

    ``completeness`` is NaN when the cohort has no potential follow-up (no patients).
    It is measured to the earlier of the data lock and ``planned.months`` (the
    protocol's planned follow-up), or to the data lock alone when that is None;
    ``data_lock_date`` says whether the data lock is the metadata's date (True) or the
    latest last contact in the cohort (False).
    """

    median: Median
    completeness: float
    planned: PlannedFollowUp
    data_lock_date: bool


def data_lock_date(meta: Mapping[str, str]) -> str | None:
    """The cohort's ``data_lock_date`` when it is an ISO date (YYYY-MM-DD), else None: a
    file edited by hand may hold anything there, and completeness then counts to the
    latest contact (format.data_lock says so)."""
    text = (meta.get(DATA_LOCK_KEY) or "").strip()
    try:
        return date.fromisoformat(text).isoformat() if text else None
    except ValueError:
        return None


def planned_follow_up(meta: Mapping[str, str]) -> PlannedFollowUp:
    """Read ``planned_follow_up_months`` from the cohort's metadata."""
    text = (meta.get(PLANNED_KEY) or "").strip()
    if not text:
        return PlannedFollowUp()
    try:
        months = float(text)
    except ValueError:
        return PlannedFollowUp(unreadable=True)
    if not (math.isfinite(months) and months > 0):
        return PlannedFollowUp(unreadable=True)
    return PlannedFollowUp(months)


def follow_up(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    data_lock: str | None = None,
    planned: PlannedFollowUp = PlannedFollowUp(),
) -> FollowUp:
    """Follow-up of the filtered cohort; ``data_lock`` (ISO date) overrides the default,
    ``planned`` (the protocol's planned follow-up) caps the potential follow-up.

    A tally per (months, alive): the reverse Kaplan-Meier counts; each limb's observed
    and potential person-time from its months, death and procedure day, added up.
    """
    where, params = cohort_where(cohort_filter)
    rows = tally(con, [("months", "follow_up_months"), ("alive", "n_death = 0")], where, params)
    counts = counts_from_rows(
        (ALL_PATIENTS,),
        np.zeros(rows["n"].size, dtype=int),
        np.asarray(rows["months"], dtype=float),
        np.asarray(rows["alive"], dtype=bool),
        np.asarray(rows["n"], dtype=np.int64),
    )
    limbs = numbers(
        con,
        [("months", "follow_up_months"), ("died", "n_death"), ("day", DAY)],
        where,
        params,
    )
    if data_lock is None:
        lock = column_max(con, "last_follow_up_day")
    else:
        lock = float(date.fromisoformat(data_lock).toordinal() - EPOCH)
    cap = math.inf if planned.months is None else planned.months
    to_end = np.clip((lock - limbs["day"]) / DAYS_PER_MONTH, 0.0, cap)
    months, alive = limbs["months"], limbs["died"] == 0
    observed = float(np.minimum(months, to_end).sum())
    potential = float(np.where(alive | (months > to_end), to_end, months).sum())
    return FollowUp(
        median=median_time(kaplan_meier(counts)),
        completeness=observed / potential if potential > 0 else float("nan"),
        planned=planned,
        data_lock_date=data_lock is not None,
    )
