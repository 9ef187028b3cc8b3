"""Events and censorings per (group, time): the one input of every survival estimator.

A :class:`Counts` holds one row per (group, time) with at least one patient, the way
DuckDB returns them (``GROUP BY group, months``). :func:`grid` spreads those rows over
the times of all groups at once, the arrays the log-rank test and Cox model read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNCOUNTED_LIMB = "a clustered limb's group and time are not among those of the counts it goes with"


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


@dataclass(frozen=True, eq=False)
class Clusters:
    """The limbs of the patients who have two or more limbs in an estimate, one row a limb.

    Limb outcomes are counted per limb in :class:`Counts`; a patient's limbs are
    correlated, so the clustered variance (R's ``cluster = patient_id``) adds, for each
    patient, cross terms between that patient's limbs. Only those limbs need listing:
    a patient with one limb in the estimate adds nothing beyond the counts. ``cluster``
    names the patient (any integers), ``group`` indexes ``levels`` as in the Counts the
    limbs are counted in, ``time`` is that limb's time in the Counts (months) and
    ``event`` 1 for an event, 0 for a censoring. ``competing``, for the cumulative
    incidence, is 1 where a censored limb's follow-up ended with the competing event
    (death), as in the Counts. A patient may have any number of limbs; every limb listed
    must also be counted in the Counts it goes with.
    """

    levels: tuple[str, ...]
    cluster: np.ndarray
    group: np.ndarray
    time: np.ndarray
    event: np.ndarray
    competing: np.ndarray | None = None

    def of(self, level: str) -> Clusters:
        """The limbs of one level, as :meth:`Counts.of` gives that level's counts."""
        return self.among((level,))

    def among(self, levels: tuple[str, ...]) -> Clusters:
        """The limbs of ``levels`` only, their groups indexing ``levels``."""
        if levels == self.levels:
            return self
        index = np.array([levels.index(level) if level in levels else -1 for level in self.levels])
        new = index[self.group] if self.group.size else self.group
        rows = np.flatnonzero(new >= 0)  # indices, not a mask: taking them is several times faster
        return Clusters(
            levels=levels,
            cluster=self.cluster[rows],
            group=new[rows],
            time=self.time[rows],
            event=self.event[rows],
            competing=None if self.competing is None else self.competing[rows],
        )

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Row indices (first, second) of every two limbs of one patient, each pair once.

        A patient with m limbs gives m (m - 1) / 2 pairs; one pass per limb beyond the
        second, each over all rows at once. Limbs listed in patient order (SQL's ``ORDER
        BY patient_id``) need no sort.
        """
        in_order = bool((self.cluster[1:] >= self.cluster[:-1]).all())
        order = np.arange(self.cluster.size) if in_order else np.argsort(self.cluster)
        sorted_cluster = self.cluster[order]
        first, second = [], []
        for offset in range(1, order.size):
            same = np.flatnonzero(sorted_cluster[offset:] == sorted_cluster[:-offset])
            if not same.size:
                break
            first.append(order[same])
            second.append(order[same + offset])
        if not first:
            return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
        return np.concatenate(first), np.concatenate(second)


@dataclass(frozen=True, eq=False)
class Located:
    """The listed limbs of one curve placed on its distinct times, and their pairs.

    ``index`` is each limb's position among the curve's times (:func:`locate`), ``first``
    and ``second`` every two limbs of one patient (:meth:`Clusters.pairs`). Kaplan-Meier,
    the cumulative incidence and the restricted mean of one curve each read these: found
    once, they are shared.
    """

    clusters: Clusters
    index: np.ndarray
    first: np.ndarray
    second: np.ndarray


def located(times: np.ndarray, limbs: Clusters | Located) -> Located:
    """``limbs`` placed on their curve's sorted distinct ``times`` (a Located as it is).

    Raises ValueError (UNCOUNTED_LIMB) for a limb whose time is not among them.
    """
    if isinstance(limbs, Located):
        return limbs
    return Located(limbs, locate(times, limbs.time), *limbs.pairs())


def locate(times: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The index of each of ``wanted`` among the sorted distinct ``times`` (equal, not nearest).

    ``wanted`` is put in time order (:func:`_nearly_sorted`) and each run of one time
    searched once. Raises ValueError (UNCOUNTED_LIMB) for a time that is not among
    ``times``.
    """
    order = _nearly_sorted(wanted)
    value = wanted[order]
    new = np.ones(value.size, dtype=bool)
    new[1:] = value[1:] != value[:-1]
    distinct = value[new]
    found = np.searchsorted(times, distinct)
    if (found >= times.size).any() or (times[np.minimum(found, times.size - 1)] != distinct).any():
        raise ValueError(UNCOUNTED_LIMB)
    index = np.empty(wanted.size, dtype=np.intp)
    index[order] = found[np.cumsum(new) - 1]
    return index


def _nearly_sorted(values: np.ndarray) -> np.ndarray:
    """An order of ``values`` (floats) that sorts them up to their last few mantissa bits.

    A non-negative float's bits, read as an integer, sort as the float does; the low bits
    give way to the row number, so one sort of integers (several times faster than an
    argsort) returns the order. Times equal in all but those bits, or negative, may come
    out of order: :func:`locate` is exact for any order, only slower.
    """
    bits = max(int(values.size - 1).bit_length(), 1)
    key = np.right_shift(np.asarray(values, dtype=np.float64).view(np.int64), bits) << bits
    return np.sort(key | np.arange(values.size)) & ((1 << bits) - 1)
