"""Events and censorings per (group, time): the one input of every survival estimator.

A :class:`Counts` holds one row per (group, time) with at least one patient, the way
DuckDB returns them (``GROUP BY group, months``). :func:`grid` spreads those rows over
the times of all groups at once, the arrays the log-rank test and Cox model read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Counts:
    """Events and censorings per (group, time).

    ``group`` indexes ``levels`` (display order: the first level is the reference);
    ``time`` is in months; ``events`` and ``censored`` count patients. Rows may come
    in any order; a (group, time) pair appears at most once. ``competing``, where it was
    counted, is the part of ``censored`` whose follow-up ended with a competing event
    (death) rather than at the last contact: Kaplan-Meier censors them, the cumulative
    incidence (:mod:`.aalen_johansen`) does not.
    """

    levels: tuple[str, ...]
    group: np.ndarray
    time: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    competing: np.ndarray | None = None

    def of(self, level: str) -> Counts:
        """The rows of one level, as a one-level Counts sorted by time."""
        rows = self.group == self.levels.index(level)
        order = np.argsort(self.time[rows], kind="stable")
        return Counts(
            levels=(level,),
            group=np.zeros(order.size, dtype=int),
            time=self.time[rows][order],
            events=self.events[rows][order],
            censored=self.censored[rows][order],
            competing=None if self.competing is None else self.competing[rows][order],
        )

    @property
    def patients(self) -> np.ndarray:
        """Patients per level: each is one event or one censoring."""
        return np.bincount(self.group, self.events + self.censored, len(self.levels)).astype(int)

    @property
    def events_per_level(self) -> np.ndarray:
        """Events per level."""
        return np.bincount(self.group, self.events, len(self.levels)).astype(int)


@dataclass(frozen=True, eq=False)
class Grid:
    """Counts spread over the distinct times of all groups: arrays of shape (groups, times).

    ``at_risk[g, i]`` counts the patients of group g with time >= ``times[i]``
    (R's ``n.risk``); ``events[g, i]`` those with an event at ``times[i]``.
    """

    times: np.ndarray
    events: np.ndarray
    at_risk: np.ndarray


def grid(counts: Counts) -> Grid:
    """The (groups, times) event and at-risk arrays of ``counts``."""
    times, column = np.unique(counts.time, return_inverse=True)
    shape = (len(counts.levels), times.size)
    events = np.zeros(shape)
    leaving = np.zeros(shape)
    np.add.at(events, (counts.group, column), counts.events)
    np.add.at(leaving, (counts.group, column), counts.events + counts.censored)
    at_risk = np.cumsum(leaving[:, ::-1], axis=1)[:, ::-1]
    return Grid(times=times, events=events, at_risk=at_risk)
