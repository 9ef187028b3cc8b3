"""Events and censorings per (group, time): the one input of every survival estimator.

A :class:`Counts` holds one row per (group, time) with at least one patient, the way
DuckDB returns them (``GROUP BY group, months``). :func:`grid` spreads those rows over
the times of all groups at once, the arrays the log-rank test and Cox model read. Limbs
clustered in patients (:class:`Clusters`) are located on a curve's times and paired
(:class:`Located`), or on a split's grid once for all its estimates (:class:`Layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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
        rows = self.in_time_order(np.flatnonzero(self.group == self.levels.index(level)))
        return self.level(level, rows)

    def in_time_order(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` sorted by time (stable), not sorted again when they already are (counts
        from SQL usually come in order)."""
        time = np.take(self.time, rows)
        if bool((time[1:] >= time[:-1]).all()):
            return rows
        return rows[np.argsort(time, kind="stable")]

    def level(self, level: str, rows: np.ndarray) -> Counts:
        """The ``rows`` (all of ``level``'s, in time order) as a one-level Counts."""
        return Counts(
            levels=(level,),
            group=np.zeros(rows.size, dtype=int),
            time=np.take(self.time, rows),
            events=np.take(self.events, rows),
            censored=np.take(self.censored, rows),
            competing=None if self.competing is None else np.take(self.competing, rows),
        )

    @cached_property
    def patients(self) -> np.ndarray:
        """Patients per level: each is one event or one censoring (counted once: the
        hazard ratios, their events rule and a table each ask)."""
        return np.bincount(self.group, self.events + self.censored, len(self.levels)).astype(int)

    @cached_property
    def events_per_level(self) -> np.ndarray:
        """Events per level."""
        return np.bincount(self.group, self.events, len(self.levels)).astype(int)


@dataclass(frozen=True, eq=False)
class Grid:
    """Counts spread over the distinct times of all groups: arrays of shape (groups, times).

    ``at_risk[g, i]`` counts the patients of group g with time >= ``times[i]``
    (R's ``n.risk``); ``events[g, i]`` those with an event at ``times[i]``; ``column``
    each row of the counts' column among ``times``.
    """

    times: np.ndarray
    events: np.ndarray
    at_risk: np.ndarray
    column: np.ndarray


def grid(counts: Counts) -> Grid:
    """The (groups, times) event and at-risk arrays of ``counts``."""
    times, column = _distinct(counts.time)
    shape = (len(counts.levels), times.size)
    cell = counts.group * times.size + column
    events = np.bincount(cell, counts.events, shape[0] * shape[1]).reshape(shape)
    leaving = np.bincount(cell, counts.events + counts.censored, events.size).reshape(shape)
    at_risk = np.cumsum(leaving[:, ::-1], axis=1)[:, ::-1]
    return Grid(times=times, events=events, at_risk=at_risk, column=column)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct ``values`` and each value's index among them (``np.unique``'s
    with ``return_inverse``), by :func:`_nearly_sorted`'s one sort of integers where its
    order comes out sorted, and by ``np.unique`` where it does not."""
    values = np.asarray(values, dtype=float)
    order = _nearly_sorted(values)
    value = values[order]
    if not bool((value[1:] >= value[:-1]).all()):
        distinct, inverse = np.unique(values, return_inverse=True)
        return distinct, inverse.reshape(-1)
    new = np.ones(value.size, dtype=bool)
    new[1:] = value[1:] != value[:-1]
    inverse = np.empty(value.size, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return value[new], inverse


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
    must also be counted in the Counts it goes with. ``paired``, when given, is
    :meth:`pairs` of ``cluster`` found already (several endpoints list the same limbs).
    """

    levels: tuple[str, ...]
    cluster: np.ndarray
    group: np.ndarray
    time: np.ndarray
    event: np.ndarray
    competing: np.ndarray | None = None
    paired: tuple[np.ndarray, np.ndarray] | None = None

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
        """Row indices (first, second) of every two limbs of one patient, each pair once
        (``paired`` where given, else pairs_of ``cluster``)."""
        return pairs_of(self.cluster) if self.paired is None else self.paired


def pairs_of(cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (first, second) of every two rows of one ``cluster`` value, each once.

    A patient with m limbs gives m (m - 1) / 2 pairs; one pass per limb beyond the
    second, each over all rows at once. Limbs listed in patient order (SQL's ``ORDER BY
    patient_id``) need no sort.
    """
    in_order = bool((cluster[1:] >= cluster[:-1]).all())
    order = np.arange(cluster.size) if in_order else np.argsort(cluster)
    sorted_cluster = cluster[order]
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


@dataclass(frozen=True, eq=False)
class Layout:
    """The counts of several groups on their grid, with the listed limbs located on it and
    paired: found once for everything one comparison reads.

    ``limbs.index`` is each limb's column of ``grid.times``. The Cox model's robust
    variance and the robust score tests (:mod:`.cox`, :mod:`.robust_score`) read the grid
    and the limbs as they are; each group's clustered Kaplan-Meier reads :meth:`of`, its
    limbs taken from these, not searched for and paired again.
    """

    counts: Counts
    grid: Grid
    limbs: Located

    @cached_property
    def shared(self) -> dict[tuple, object]:
        """What the models on this layout share, by what it is (:mod:`.cox`: Efron's
        sums of a set of groups, which a fit, its robust variance and the robust score
        test all read)."""
        return {}

    def of(self, level: str) -> tuple[Counts, Located]:
        """One level's counts (:meth:`Counts.of`) and its limbs (:meth:`Clusters.of`)
        located on that level's times, with their pairs within the level."""
        group = self.counts.levels.index(level)
        counts_rows, limbs_rows, pairs_rows, rank = self._by_level
        rows, pairs = limbs_rows[group], pairs_rows[group]
        in_order = self.counts.in_time_order(counts_rows[group])
        counts = self.counts.level(level, in_order)
        clusters = self.limbs.clusters
        own = Clusters(
            levels=(level,),
            cluster=np.take(clusters.cluster, rows),
            group=np.zeros(rows.size, dtype=int),
            time=np.take(clusters.time, rows),
            event=np.take(clusters.event, rows),
            competing=None if clusters.competing is None else np.take(clusters.competing, rows),
        )
        position = np.full(self.grid.times.size, -1)  # each grid time's place among the level's
        position[np.take(self.grid.column, in_order)] = np.arange(in_order.size)
        index = np.take(position, np.take(self.limbs.index, rows))
        if rows.size and index.min() < 0:
            raise ValueError(UNCOUNTED_LIMB)
        limbs = self.limbs
        first, second = (np.take(rank, np.take(p, pairs)) for p in (limbs.first, limbs.second))
        return counts, Located(own, index, first, second)

    def pairs_within(self, level: str) -> tuple[np.ndarray, np.ndarray]:
        """The pairs of two limbs of one patient both in ``level``: their rows (first,
        second) among ``limbs``, as they are (not renumbered within the level as
        :meth:`of` gives them)."""
        rows = self._pair_rows[self.counts.levels.index(level)]
        return np.take(self.limbs.first, rows), np.take(self.limbs.second, rows)

    @cached_property
    def _pair_rows(self) -> list[np.ndarray]:
        """Per level, the rows of ``limbs.first`` and ``limbs.second`` pairing two of its
        limbs (a pair across two levels is in none)."""
        limbs = self.limbs.clusters.group
        first, second = np.take(limbs, self.limbs.first), np.take(limbs, self.limbs.second)
        shared = np.where(first == second, first, -1)
        return _rows_by_level(shared, len(self.counts.levels))

    @cached_property
    def _by_level(
        self,
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], np.ndarray]:
        """Per level: its counts' rows, its limbs' rows and the pairs of two of its limbs;
        and each limb's row among its level's. One stable sort of each, for every level."""
        levels = len(self.counts.levels)
        limbs = self.limbs.clusters.group
        counts_rows, limb_rows = (
            _rows_by_level(group, levels) for group in (self.counts.group, limbs)
        )
        pair_rows = self._pair_rows
        rank = np.zeros(limbs.size, dtype=np.intp)
        for rows in limb_rows:
            rank[rows] = np.arange(rows.size)
        return counts_rows, limb_rows, pair_rows, rank

    @cached_property
    def at_event_times(self) -> EventTimes:
        """The grid read at its event times (those with an event in any group)."""
        g = self.grid
        columns = np.flatnonzero(g.events.sum(axis=0) > 0)
        groups = g.at_risk.shape[0]
        leaving = g.at_risk - np.append(g.at_risk[:, 1:], np.zeros((groups, 1)), axis=1)
        before = np.append(np.zeros((groups, 1)), np.cumsum(leaving - g.events, axis=1), axis=1)
        bounds = np.concatenate([[0], columns, [g.times.size]])  # censored before each column
        return EventTimes(
            columns, g.events[:, columns], g.at_risk[:, columns], np.diff(before[:, bounds], axis=1)
        )

    @cached_property
    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """The cell of each pair's first and second limb among the event times (E of them,
        G groups): g (E + 1) + i for a limb of group g censored after i event times,
        G (E + 1) + g E + j for one with its event at the j-th. A Cox score residual
        depends on a limb's cell alone (:func:`.cox.score_and_variance`), whose several
        models read these."""
        has_event = np.zeros(self.grid.times.size, dtype=bool)
        has_event[self.at_event_times.columns] = True
        times, groups = int(has_event.sum()), len(self.counts.levels)
        upto = np.take(np.cumsum(has_event), self.limbs.index)
        group, event = self.limbs.clusters.group, self.limbs.clusters.event
        # censored: g (E + 1) + i; an event moves it by G (E + 1) - g - 1 (to g E + i - 1)
        cell = group * (times + 1) + upto + (event > 0) * (groups * (times + 1) - 1 - group)
        return np.take(cell, self.limbs.first), np.take(cell, self.limbs.second)


@dataclass(frozen=True, eq=False)
class EventTimes:
    """A grid at its event times (E columns): which ``columns`` of the grid they are, the
    ``events`` and ``at_risk`` there (groups, E), and the ``censored`` per group before the
    first, between each two and after the last (groups, E + 1), a censoring at an event
    time counted after it (at risk there, as R)."""

    columns: np.ndarray
    events: np.ndarray
    at_risk: np.ndarray
    censored: np.ndarray


# Up to this many levels one pass per level finds their rows faster than one sort (a
# pass over 180,000 limbs costs about a tenth of their radix sort)
LEVELS_BY_PASSES = 6


def _rows_by_level(group: np.ndarray, levels: int) -> list[np.ndarray]:
    """The rows of each of ``levels`` (0..levels-1; others left out), each in row order:
    runs of rows already in level order read where they start, few levels by one pass
    each, more by one stable sort."""
    if bool((group[1:] >= group[:-1]).all()):
        ends = np.searchsorted(group, np.arange(levels + 1), side="left")
        return [np.arange(ends[i], ends[i + 1]) for i in range(levels)]
    if levels <= LEVELS_BY_PASSES:
        return [np.flatnonzero(group == level) for level in range(levels)]
    small = np.int16 if levels < 2**15 else np.int64  # a stable sort of 16-bit ints: radix
    order = np.argsort(group.astype(small), kind="stable")
    ends = np.searchsorted(np.take(group, order), np.arange(levels + 1), side="left")
    return [order[ends[i] : ends[i + 1]] for i in range(levels)]


def layout(
    counts: Counts, limbs: Clusters | Located | Layout, times: np.ndarray | None = None
) -> Layout:
    """``counts`` and ``limbs`` (their groups indexing the same levels) laid out once (a
    Layout as it is).

    ``limbs`` may come located on ``times`` instead (sorted distinct times holding the
    counts' own: those of several counts at once, so that one search of the limbs serves
    them all); their columns among the counts' grid are then read off one search of
    those times. Raises ValueError (UNCOUNTED_LIMB) for a limb whose time is not among
    the counts'.
    """
    if isinstance(limbs, Layout):
        return limbs
    laid = grid(counts)
    if isinstance(limbs, Clusters):
        return Layout(counts, laid, located(laid.times, limbs))
    if times is None:
        raise TypeError("limbs located on times need those times")
    if laid.times.size == times.size:  # a subset of equal size: the same times, all counted
        return Layout(counts, laid, limbs)
    index = np.take(np.searchsorted(laid.times, times), limbs.index)
    inside = np.minimum(index, max(laid.times.size - 1, 0))
    if index.size and not np.array_equal(np.take(laid.times, inside), limbs.clusters.time):
        raise ValueError(UNCOUNTED_LIMB)
    return Layout(counts, laid, Located(limbs.clusters, index, limbs.first, limbs.second))


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
