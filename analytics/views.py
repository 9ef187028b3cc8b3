"""One computation per page and export: a function each, returning a typed, frozen result.

A page lays its view out, the dashboard caches it (ui/data.py), ``bench`` times it, and
the report and the deck serialise it; nothing else computes what a view holds, so a
number shown twice is the same number. Each view reads the cohort in as few scans as
its content allows (one for all survival curves of a view).

A view with several options takes them as one frozen request (PatencyRequest,
ReportRequest); the dashboard caches the Patency view by its request.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache, partial
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics.cohort import tallies
from analytics.cohort.db import is_reconstruction, metadata, open_cohort
from analytics.filters import DEFAULT_FILTER, CohortFilter
from analytics.glossary import (
    ALL_PATIENTS,
    ENDPOINTS,
    PATENCY_ENDPOINTS,
    PTS_SEVERITY,
    RECURRENT_DVT,
    SAFETY_EVENTS,
)
from analytics.groups import segment_patterns
from analytics.partitions import (
    Bound,
    Key,
    Ledger,
    Sum,
    ledger,
    limbs_within_patients,
)
from analytics.rules import (
    CENTRE_MONTH,
    DEFAULT_MONTHS,
    EARLY_EVENT_MONTHS,
    LARGEST_K,
    RISK_TABLE_MONTHS,
    RMST_HORIZON,
    SUBGROUP_MONTH,
)
from analytics.stats.baseline import (
    Baseline,
    Population,
    baseline,
    population,
    rows_of_pattern,
)
from analytics.stats.clinical import BinaryChange, ClinicalChange, clinical_change
from analytics.stats.follow_up import FollowUp, data_lock_date, follow_up, planned_follow_up
from analytics.stats.funnel import CentreComparison, centre_patency
from analytics.stats.models import AdjustedModel, adjusted_model
from analytics.stats.safety import (
    Safety,
    drawn_on_timeline,
    event_timeline,
    limb_and_patient_counts,
    outside_patients,
    safety,
    safety_incidence,
    timeline_points,
)
from analytics.stats.subgroups import subgroups
from analytics.stats.survival import (
    EndpointSurvival,
    GroupSurvival,
    SurvivalRequest,
    survival_of,
    table_months,
)
from analytics.variables import BUILTIN, YES, Kind, Registry, Role, Variable

PRIMARY = "primary"

# A view made of several scans runs them two at a time, each on its own cursor: while one
# waits on DuckDB (which releases the GIL), the other turns its counts into estimates.
# Two, the cores of the machines this is measured on; shared by every session, so heavy
# use queues rather than multiplies threads. The Overview, Safety and Tables views use
# it, and no call it runs uses it again (a call waiting on the pool from inside it could
# wait for ever).
_SCANS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="view-scan")


def _scans(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    *reads: Callable[[Any, CohortFilter], Any],
) -> list[Any]:
    """Each ``read(cursor, cohort_filter)`` on a cursor of its own, two at a time; their
    results in order; each cursor reads the file as ``con`` does (tallies.cursor)."""

    def run(read: Callable[[Any, CohortFilter], Any], cursor: Any) -> Any:
        try:
            return read(cursor, cohort_filter)
        finally:
            cursor.close()

    futures = [_SCANS.submit(run, read, tallies.cursor(con)) for read in reads]
    return [future.result() for future in futures]


@dataclass(frozen=True)
class Header:
    """What every page's sidebar states: limbs in the filter, in the population it
    analyses without the other filters (privacy's complement rule), and in the file; and
    the patients they belong to, in the filter and in the file (as many as the limbs in a
    registry of one treated limb per patient); in a file with a patient of two limbs, the
    patients behind the limbs the filters and the population leave out, where they may
    matter to privacy (stats.safety.outside_patients; None where not counted)."""

    limbs: int
    analysed: int
    total: int
    people: int
    people_in_file: int
    left_out_people: int | None = None  # behind the limbs the filters leave out
    not_analysed_people: int | None = None  # behind those the population leaves out

    @property
    def bilateral_file(self) -> bool:
        """Whether any patient of the file has two treated limbs."""
        return self.people_in_file < self.total


def header_view(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> Header:
    """The sidebar's counts; its population and file are the filter's scope's (a centre's
    user's totals are their scope's, never the registry's)."""
    analysed = CohortFilter(population=cohort_filter.population, scope=cohort_filter.scope)
    everyone = CohortFilter(population="all", scope=cohort_filter.scope)
    (limbs, people), (limbs_analysed, _), (total, people_in_file) = limb_and_patient_counts(
        con, (cohort_filter, analysed, everyone)
    )
    header = Header(limbs, limbs_analysed, total, people, people_in_file)
    if not header.bilateral_file:
        return header
    return replace(
        header,
        left_out_people=outside_patients(con, cohort_filter, analysed, limbs_analysed - limbs),
        not_analysed_people=outside_patients(con, analysed, everyone, total - limbs_analysed),
    )


N: Key = ("n",)  # the sidebar's n of limbs, which every limb-level view states
ANALYSED: Key = ("analysed",)
LEFT_OUT: Key = ("left out by the filters",)
IN_FILE: Key = ("in the file",)
NOT_ANALYSED: Key = ("outside the population analysed",)
NO_CENTRE: Key = ("no centre recorded",)
PEOPLE: Key = ("people",)  # the patients of n's limbs, which every person-level view states
PEOPLE_IN_FILE: Key = ("people in the file",)
SECOND_LIMBS: Key = ("second limbs",)  # n's limbs beyond one per patient
SECOND_IN_FILE: Key = ("second limbs in the file",)


def unit_ledger(header: Header) -> Ledger:
    """n's limbs are its patients' first limbs and their second ones, in a file with
    bilateral patients, where a count is of limbs of which a patient may have two
    (Ledger.paired) unless it is of people (the patients, and the bilateral ones among
    them); in a file of one limb per patient the patients are n (people_key)."""
    if not header.bilateral_file:
        return ledger({N: header.limbs})
    counts = {N: header.limbs, PEOPLE: header.people, SECOND_LIMBS: header.limbs - header.people}
    return ledger(
        counts, [limbs_within_patients(N, PEOPLE, SECOND_LIMBS)], unseen=[SECOND_LIMBS],
        paired=True, patients={N: header.people}, people=[PEOPLE, SECOND_LIMBS],
    )  # fmt: skip


def people_key(bilateral: bool) -> Key:
    """What a person-level view's n is named in a ledger: the patients (PEOPLE) in a file
    with bilateral patients, else n itself (N: one limb per patient)."""
    return PEOPLE if bilateral else N


def header_ledger(header: Header) -> Ledger:
    """n, part of the population analysed (the unfiltered view's n), part of the file's
    limbs: the limbs the filters leave out, and those the population leaves out (the
    technical failures), are the differences, counts of limbs too. The population
    analysed is public: the unfiltered view shows it as its n. n's limbs and the file's
    are their patients' first limbs and second ones (unit_ledger)."""
    counts = {N: header.limbs, ANALYSED: header.analysed, IN_FILE: header.total}
    counts[LEFT_OUT] = header.analysed - header.limbs
    counts[NOT_ANALYSED] = header.total - header.analysed
    sums = [Sum(ANALYSED, (N, LEFT_OUT)), Sum(IN_FILE, (ANALYSED, NOT_ANALYSED))]
    if not header.bilateral_file:
        return unit_ledger(header) | ledger(counts, sums, public=[ANALYSED])
    counts |= {
        PEOPLE_IN_FILE: header.people_in_file,
        SECOND_IN_FILE: header.total - header.people_in_file,
    }  # fmt: skip
    sums.append(limbs_within_patients(IN_FILE, PEOPLE_IN_FILE, SECOND_IN_FILE))
    patients = {IN_FILE: header.people_in_file}
    for key, behind in ((LEFT_OUT, header.left_out_people),
                        (NOT_ANALYSED, header.not_analysed_people)):  # fmt: skip
        if behind is not None:
            patients[key] = behind
    return unit_ledger(header) | ledger(
        counts, sums, unseen=[SECOND_IN_FILE], public=[ANALYSED], paired=True,
        patients=patients, people=[PEOPLE_IN_FILE, SECOND_IN_FILE],
    )  # fmt: skip


def centre_key(centre: str, count: str) -> Key:
    """A centre's count: "patients", "at risk" at the month, "events" before it, or
    "censored" before it (not printed, but the rest of its patients: a count shown)."""
    return ("centre", centre, count)


def centres_ledger(comparison: CentreComparison) -> Ledger:
    """The centres' patients (and those without a centre) add up to n; each centre's
    patients are at risk at the month, had the event before it, or were censored. Where a
    patient may have two limbs these count limbs, each of a centre's with the distinct
    patients behind it (CentreComparison.people: a patient's limbs are in one centre)."""
    counts: dict[Key, int] = {N: comparison.patients, NO_CENTRE: comparison.patients_without_centre}
    sums = []
    rows = comparison.centres.itertuples(index=False)
    for name, patients, at_risk, events in (
        (r.centre, r.patients, r.at_risk, r.events) for r in rows
    ):
        keys = [centre_key(name, count) for count in ("patients", "at risk", "events", "censored")]
        counts.update(
            zip(keys, (patients, at_risk, events, patients - at_risk - events), strict=True)
        )
        sums.append(Sum(keys[0], tuple(keys[1:])))
    centres = tuple(centre_key(name, "patients") for name in comparison.centres["centre"])
    sums.append(Sum(N, (*centres, NO_CENTRE)))
    people = comparison.people
    patients = {centre_key(*name): p for name, p in people.items() if name[0] is not None}
    if (None, "patients") in people:
        patients[N] = people[(None, "patients")]
        named = [people.get((name, "patients")) for name in comparison.centres["centre"]]
        if None not in named:
            patients[NO_CENTRE] = patients[N] - sum(named)
    return ledger(counts, sums, paired=bool(people), patients=patients)


def clinical_key(measure: str, *count: object) -> Key:
    """A count of the clinical view: a ``measure`` ("ceap", "villalta", "pts",
    "pts severity", "reflux") and which of its counts ("pairs"; "before", "C4"; "shift",
    "C4", "C3"; "changed"; "resolved" ...)."""
    return ("clinical", measure, *count)


def ceap_class_key(when: str, c: int) -> Key:
    """Patients of CEAP class ``c`` ``when`` ("before", "after")."""
    return clinical_key("ceap", when, f"C{c}")


def severity_key(when: str, severity: str) -> Key:
    """Patients of a PTS severity class ``when`` ("before", "after")."""
    return clinical_key("pts severity", when, severity)


def pairs_key(measure: str) -> Key:
    """The patients with a pair of ``measure``: PTS and its severity are read from the
    Villalta of the same visits (and the CEAP class there), so theirs are Villalta's."""
    return clinical_key("villalta" if measure in ("pts", "pts severity") else measure, "pairs")


def change_keys(measure: str) -> tuple[Key, Key]:
    """The pairs of a score (``measure``: "ceap" for the severity score, "villalta") whose
    value changed, and those whose value stayed: not shown, but its signed-rank test and
    median change are statistics of the changed pairs alone (zero differences are
    dropped; an exact p of few changed pairs gives their number)."""
    return clinical_key(measure, "changed"), clinical_key(measure, "unchanged")


WHEN = ("before", "after")  # a paired measure's two assessments, as the clinical keys name them
NO_PTS = PTS_SEVERITY[0]  # the severity class of no PTS (Villalta below the threshold)


def binary_key(measure: str, count: str) -> Key:
    """A count of a paired yes/no outcome ("pts", "reflux"): "before", "after" (yes),
    "no before", "no after", or a cell of its 2x2: "both", "resolved", "new", "neither".
    No PTS is the PTS severity class none (severity_key): one count, one key."""
    if measure == "pts" and count.startswith("no "):
        return severity_key(count.removeprefix("no "), NO_PTS)
    return clinical_key(measure, count)


def clinical_ledger(change: ClinicalChange) -> Ledger:
    """The counts of the clinical view, of patients, and the sums they make.

    Each measure's pairs are part of n (with the patients without one, not shown). The
    CEAP classes before and after each add up to the CEAP pairs (ceap_ledger). A
    score's pairs are those whose value changed and those whose value stayed (not
    shown). PTS and reflux: yes and no before and after add up to the pairs, and are the
    margins of the 2x2 of both, resolved, new and neither (printed: reflux's resolved and
    new). PTS severity classes add up to the Villalta pairs, PTS yes
    being mild, moderate or severe and PTS no the class none.
    """
    parts = [
        ceap_ledger(change.ceap_shift),
        score_ledger("villalta", change.villalta_pairs),
        _binary_ledger("pts", change.pts, ()),
        _binary_ledger("reflux", change.reflux, ("resolved", "new")),
        _severity_ledger(change.pts_severity),
    ]
    whole = ledger({N: change.patients})
    for part in parts:
        whole = whole | part
    for measure in ("ceap", "villalta", "reflux"):
        pairs, rest = pairs_key(measure), clinical_key(measure, "no pair")
        counts = {N: change.patients, pairs: whole.counts[pairs]}
        counts[rest] = change.patients - counts[pairs]
        whole = whole | ledger(counts, [Sum(N, (pairs, rest))], [rest])
    return whole


def ceap_ledger(shift: pd.DataFrame) -> Ledger:
    """CEAP classes before and after, each adding up to the pairs; the shift matrix's
    cells, the pairs that changed class and those that stayed, none of them shown.

    The cells are the counts the shift tests are over (analytics.present.privacy
    .hidden_statistic). Their sums (rows and columns to the classes, the diagonal to the
    pairs that stayed) are left out: over counts none of which is shown they say nothing
    that the classes' own sums do not (any margins of one total have a table), and they
    made deciding the mask ten times slower.
    """
    classes = list(shift.index)
    cell = {
        (b, a): clinical_key("ceap", "shift", f"C{b}", f"C{a}") for b in classes for a in classes
    }
    counts: dict[Key, int] = {key: int(shift.loc[b, a]) for (b, a), key in cell.items()}
    pairs = pairs_key("ceap")
    counts[pairs] = int(shift.to_numpy().sum())
    sums = []
    for when, axis in zip(WHEN, (1, 0), strict=True):  # rows before, columns after
        margin = shift.sum(axis=axis)
        keys = tuple(ceap_class_key(when, c) for c in classes)
        counts.update((key, int(margin[c])) for key, c in zip(keys, classes, strict=True))
        sums.append(Sum(pairs, keys))
    changed, stayed = change_keys("ceap")
    counts[changed] = sum(counts[key] for (b, a), key in cell.items() if b != a)
    counts[stayed] = counts[pairs] - counts[changed]
    sums.append(Sum(pairs, (changed, stayed)))
    return ledger(counts, sums, [*cell.values(), changed, stayed])


def score_ledger(measure: str, pairs: pd.DataFrame) -> Ledger:
    """A score's pairs (before, after, patients), those whose value changed and those
    whose value stayed."""
    changed, stayed = change_keys(measure)
    moved = pairs["before"] != pairs["after"]
    counts = {
        pairs_key(measure): int(pairs["patients"].sum()),
        changed: int(pairs["patients"][moved].sum()),
        stayed: int(pairs["patients"][~moved].sum()),
    }
    return ledger(counts, [Sum(pairs_key(measure), (changed, stayed))], [changed, stayed])


def _binary_ledger(measure: str, change: BinaryChange, shown: tuple[str, ...]) -> Ledger:
    """A paired yes/no outcome: yes and no before and after (shown: the yes with their
    share of the pairs, which gives the no) and its 2x2, of which only the cells
    ``shown`` are printed (reflux's resolved and new)."""
    key = partial(binary_key, measure)
    both = change.before - change.resolved
    values = {
        "before": change.before, "after": change.after, "no before": change.n - change.before,
        "no after": change.n - change.after, "both": both, "resolved": change.resolved,
        "new": change.new, "neither": change.n - both - change.resolved - change.new,
    }  # fmt: skip
    counts = {pairs_key(measure): change.n} | {key(name): n for name, n in values.items()}
    sums = [
        Sum(pairs_key(measure), (key("before"), key("no before"))),
        Sum(pairs_key(measure), (key("after"), key("no after"))),
        Sum(key("before"), (key("both"), key("resolved"))),
        Sum(key("no before"), (key("new"), key("neither"))),
        Sum(key("after"), (key("both"), key("new"))),
        Sum(key("no after"), (key("resolved"), key("neither"))),
    ]
    unseen = [key(cell) for cell in ("both", "resolved", "new", "neither") if cell not in shown]
    return ledger(counts, sums, unseen)


def _severity_ledger(severity: pd.DataFrame) -> Ledger:
    """PTS severity classes before and after: they add up to the Villalta pairs, and PTS yes
    is mild, moderate or severe (none is PTS no: binary_key)."""
    counts: dict[Key, int] = {}
    sums = []
    for when in WHEN:
        keys = {s: severity_key(when, s) for s in severity["severity"]}
        counts.update(zip(keys.values(), map(int, severity[when]), strict=True))
        counts[pairs_key("pts severity")] = int(severity[when].sum())
        sums.append(Sum(pairs_key("pts severity"), tuple(keys.values())))
        yes = binary_key("pts", when)
        counts[yes] = sum(counts[k] for s, k in keys.items() if s != NO_PTS)
        sums.append(Sum(yes, tuple(k for s, k in keys.items() if s != NO_PTS)))
    return ledger(counts, sums)


def safety_key(event: str, count: str) -> Key:
    """A safety event's count: "patients" with it, "without" it (n minus those: a count
    the percentage gives away), "events", "early" (within 30 days) and "later"."""
    return ("safety", event, count)


def incidence_key(event: str, month: float, count: str) -> Key:
    """A safety event's cumulative incidence at ``month``: the patients whose first event
    came "by" then (an estimate gives them away), those "without" one by then, and, not
    shown, those whose first came "since" the month before (or "after" the last month)."""
    return ("incidence", event, float(month), count)


def timeline_key(event: str, month: float) -> Key:
    """The events of one point of the safety timeline (stats.safety.timeline_points)."""
    return ("timeline", event, float(month))


DEATH = "death"  # the safety event a patient has once: its events are its patients


def safety_ledger(
    safety: Safety, timeline: pd.DataFrame | None = None, k: int | None = None
) -> Ledger:
    """Each event's patients and those without it add up to n, its events are those within
    30 days and later; the incidence's patients with a first event by a month are n less
    those without, more by each later month, and at most the event's patients;
    ``timeline``'s points (the Safety page's) are its events within 30 days and later,
    where the chart puts them; a death's events are its patients (a reader knows a
    patient dies once: "9 patients died" gives their deaths). (That a patient with
    another event has one or more is not a sum: the ledger leaves it out.) Its counts are
    of patients (and their events), never of limbs: privacy judges them by k in a file
    with bilateral patients too. With privacy ``k``, a point of fewer than k events is not
    drawn (stats.safety.drawn_on_timeline): unseen, and read as at most k - 1, as a
    reader who knew the times could (on the 600-limb registry's right side, a dot at
    each of its 9 deaths' times had the table's 9 deaths withheld)."""
    people = people_key(safety.bilateral)
    counts: dict[Key, int] = {people: safety.patients}
    sums, unseen, bounds = [], [], []
    for row in safety.table.itertuples(index=False):
        patients, without, events, early, later = (
            safety_key(row.event, c) for c in ("patients", "without", "events", "early", "later")
        )
        counts |= {
            patients: int(row.patients), without: safety.patients - int(row.patients),
            events: int(row.events), early: int(row.events_within_30_days),
            later: int(row.events_later),
        }  # fmt: skip
        sums += [Sum(people, (patients, without)), Sum(events, (early, later))]
        if row.event == DEATH and counts[events] == counts[patients]:
            sums.append(Sum(events, (patients,)))  # a patient dies once: a reader knows it
    for result in safety.incidence:
        earlier: Key | None = None
        for month, by in zip(result.at.month.tolist(), result.events_by.tolist(), strict=True):
            first, without = (
                incidence_key(result.event, month, "by"),
                incidence_key(result.event, month, "without"),
            )
            counts |= {first: int(by), without: safety.patients - int(by)}
            sums.append(Sum(people, (first, without)))
            if earlier is not None:
                since = incidence_key(result.event, month, "since")
                counts[since] = int(by) - counts[earlier]
                sums.append(Sum(first, (earlier, since)))
                unseen.append(since)
            earlier = first
        if earlier is not None:
            after = incidence_key(result.event, earlier[2], "after")
            counts[after] = counts[safety_key(result.event, "patients")] - counts[earlier]
            sums.append(Sum(safety_key(result.event, "patients"), (earlier, after)))
            unseen.append(after)
    if timeline is not None:
        points = timeline_points(timeline)
        for event in SAFETY_EVENTS:
            rows = points[points["event"] == event]
            keys = {timeline_key(event, m): int(n) for m, n in zip(rows["month"], rows["events"],
                                                                    strict=True)}  # fmt: skip
            counts |= keys
            undrawn = [key for key, n in keys.items() if not drawn_on_timeline(n, k)]
            unseen += undrawn
            bounds += [Bound(((key, 1.0),), k - 1) for key in undrawn if k is not None]
            for when, part in (("early", lambda m: m <= EARLY_EVENT_MONTHS),
                               ("later", lambda m: m > EARLY_EVENT_MONTHS)):  # fmt: skip
                sums.append(Sum(safety_key(event, when), tuple(k for k in keys if part(k[2]))))
    worth = {key: SAFETY_WORTH[key[2]] for key in counts
             if key[0] == "safety" and key[2] in SAFETY_WORTH}  # fmt: skip
    return ledger(counts, sums, unseen, people=counts, bounds=bounds, worth=worth)


# What a reader loses with a safety event's count (Ledger.worth): the patients with it
# (the table's first column and its percentage), then its events; its later events, the
# incidence at a month and a timeline's dots least (none declared), so a complement is
# taken from those first (masking._complement).
SAFETY_WORTH = {"patients": 2, "events": 1}


POPULATION_KEYS = (
    "enrolled", "successes", "failures", "stented", "not stented", "ulcers healed",
    "active ulcers",
)  # fmt: skip


def population_key(count: str) -> Key:
    """A count of who was treated (POPULATION_KEYS; "ulcers not healed": the active ulcers
    less the healed; "no active ulcer": n less the active ulcers), as Table 2 and the
    Overview's tile show them."""
    return ("population", count)


def population_ledger(population: Population, analysed_all: bool) -> Ledger:
    """Enrolled are the technical successes and failures, the successes stented or not; n
    is the enrolled (``analysed_all``) or the successes; the limbs with an active ulcer
    before are part of n, and those whose ulcer healed part of them (Table 2 shows "3 of
    8"). In a file where a patient may have two limbs these count limbs, each with the
    distinct patients behind it (Population.patients), by which privacy judges it."""
    enrolled, successes, failures, stented, not_stented, healed, active = map(
        population_key, POPULATION_KEYS
    )
    not_healed, no_active = population_key("ulcers not healed"), population_key("no active ulcer")
    n = population.enrolled if analysed_all else population.successes
    counts = {
        N: n, enrolled: population.enrolled, successes: population.successes,
        failures: population.enrolled - population.successes,
        stented: population.stented, not_stented: population.successes - population.stented,
        active: population.active_ulcers, no_active: n - population.active_ulcers,
        healed: population.ulcers_healed,
        not_healed: population.active_ulcers - population.ulcers_healed,
    }  # fmt: skip
    sums = [
        Sum(enrolled, (successes, failures)), Sum(successes, (stented, not_stented)),
        Sum(N, (enrolled if analysed_all else successes,)), Sum(N, (active, no_active)),
        Sum(active, (healed, not_healed)),
    ]  # fmt: skip
    patients = {population_key(name): p for name, p in population.patients.items()}
    if (enrolled if analysed_all else successes) in patients:
        patients[N] = patients[enrolled if analysed_all else successes]
    return ledger(counts, sums, paired=bool(patients), patients=patients)


def table1_key(variable: str, *count: str) -> Key:
    """A Table 1 count: a share's patients or limbs (no ``count``), the "rest" of its
    total, a level of a row per level ("level", raw), a number's units with a "values"
    known (and "unknown", not shown), a segment set's published row ("row", name) or, not
    shown, its lesion patterns ("pattern", name)."""
    return ("table1", variable, *count)


def table1_total(baseline: Baseline, variable: Variable) -> Key:
    """The count a Table 1 row's counts add up to: PEOPLE for a person-level row in a file
    with a patient of two limbs, else N (limbs, each its patient's in such a file)."""
    return PEOPLE if baseline.counts_people(variable) else N


def baseline_ledger(baseline: Baseline) -> Ledger:
    """Table 1's counts, each row's adding up to its unit's total (table1_total): each share
    and its rest; a number's known values and the unknown (a mean of few is withheld with
    them); a row per level's levels and the units with no value (not shown); a segment
    set's lesion patterns, each published row the sum of its patterns, and a member's
    share (IVC, CIV...) the sum of the patterns that hold it. In a file with a patient of
    two limbs the limbs are the people and their second limbs (not shown), as the header
    declares them, and a person-level row's counts are of people (privacy judges them by
    k, a limb-level row's by the patients behind its limbs). A variable whose rows Table 1
    leaves out (nothing recorded) declares nothing."""
    n = baseline.limbs
    counts: dict[Key, int] = {N: n}
    sums, unseen = [], []
    people: list[Key] = []
    if baseline.bilateral:
        counts |= {PEOPLE: baseline.people, SECOND_LIMBS: n - baseline.people}
        sums.append(limbs_within_patients(N, PEOPLE, SECOND_LIMBS))
        unseen.append(SECOND_LIMBS)
        people += [PEOPLE, SECOND_LIMBS]
    variables = baseline.variables
    for variable in variables.with_role(Role.TABLE1):
        key, total = variable.key, table1_total(baseline, variable)
        if not baseline.shows(variable):
            continue
        of = counts[total]
        before = set(counts)
        if variable.kind is Kind.SEGMENT_SET:
            patterns = _every_pattern(baseline, variable)
            rows = {table1_key(key, "row", r): c for r, c in baseline.pattern_rows[key].items()}
            held = {table1_key(key, "pattern", p): c for p, c in patterns.items()}
            counts |= rows | held
            unseen += list(held)
            sums.append(Sum(total, tuple(held)))
            for row in baseline.pattern_rows[key]:
                parts = tuple(table1_key(key, "pattern", p) for p in patterns
                              if row in rows_of_pattern(p, variable.rows))  # fmt: skip
                sums.append(Sum(table1_key(key, "row", row), parts))
        elif variable.kind is Kind.NUMBER:
            known, unknown = table1_key(key, "values"), table1_key(key, "unknown")
            counts |= {known: baseline.spreads[key].n, unknown: of - baseline.spreads[key].n}
            sums.append(Sum(total, (known, unknown)))
            unseen.append(unknown)
        elif variable.table1.summary == "levels":
            found = baseline.levels[key]
            levels = {table1_key(key, "level", raw): c for raw, c in found.items()}
            unknown = table1_key(key, "unknown")
            counts |= levels | {unknown: of - sum(found.values())}
            sums.append(Sum(total, (*levels, unknown)))
            unseen.append(unknown)
        else:
            share, rest = table1_key(key), table1_key(key, "rest")
            counts |= {share: baseline.shares[key], rest: of - baseline.shares[key]}
            sums.append(Sum(total, (share, rest)))
        if total == PEOPLE:
            people += counts.keys() - before
    for variable in variables.with_role(Role.TABLE1):
        if variable.kind is not Kind.SEGMENT_SET:
            continue
        patterns = _every_pattern(baseline, variable)
        for member in variable.members:
            if table1_key(member) not in counts or variables.get(member).table1.level != YES:
                continue
            label = variables.get(member).label
            holding = [p for p in patterns if label in p.split("+")]
            sums.append(Sum(table1_key(member), tuple(table1_key(variable.key, "pattern", p)
                                                      for p in holding)))  # fmt: skip
            sums += _rows_beside_rest(baseline, variable, member, label, holding, counts, unseen)
    patients = {N: baseline.people} if baseline.bilateral else {}
    patients |= {table1_key(*name): p for name, p in baseline.patients.items() if
                 table1_key(*name) in counts}  # fmt: skip
    return ledger(counts, sums, unseen, paired=baseline.bilateral, patients=patients,
                  people=people)  # fmt: skip


def _every_pattern(baseline: Baseline, segment_set: Variable) -> dict[str, int]:
    """Patients per lesion pattern of a segment set, every pattern its members can make
    (0 where none): what the view does not print, an attacker cannot tell absent."""
    found = baseline.patterns_of[segment_set.key]
    return {p: found.get(p, 0) for p in segment_patterns(segment_set, baseline.variables)}


def _rows_beside_rest(
    baseline: Baseline,
    segment_set: Variable,
    member: str,
    label: str,
    holding: list[str],
    counts: dict[Key, int],
    unseen: list[Key],
) -> list[Sum]:
    """n as the patients without ``member`` plus the published rows that hold it (and,
    not shown, its lesions in no such row), and its share as those rows, when no lesion
    counts in two of them: the rows that give the share and its rest away, declared
    beside them, so that privacy withholds a row rather than n (EIV in 32 of 34 is 34
    minus three rows)."""
    rows = [r for r in baseline.pattern_rows[segment_set.key] if label in r.split("+")]
    if any(len(set(rows_of_pattern(p, segment_set.rows)) & set(rows)) > 1 for p in holding):
        return []
    elsewhere = table1_key(member, "in no row holding it")
    counts[elsewhere] = baseline.shares[member] - sum(
        baseline.pattern_rows[segment_set.key][r] for r in rows
    )
    unseen.append(elsewhere)
    row_keys = tuple(table1_key(segment_set.key, "row", r) for r in rows)
    return [
        Sum(N, (table1_key(member, "rest"), *row_keys, elsewhere)),
        Sum(table1_key(member), (*row_keys, elsewhere)),
    ]


@dataclass(frozen=True, eq=False)
class PatencyView:
    """Curves of one view: the three patencies, or one endpoint by the groups of ``by``.

    ``survival`` maps each endpoint drawn to its curves (with ``by``: one endpoint,
    with its groups and their comparison); estimates and cumulative incidences are at
    ``months``, restricted means up to ``horizon``, the KMunicate tables at ``risk_months``:
    the months asked for and, where the curves run past the last, a year apart up to their
    end (analytics.stats.survival.covering_months).
    """

    by: str | None
    endpoint: str
    months: tuple[float, ...]
    survival: Mapping[str, EndpointSurvival]
    horizon: float = RMST_HORIZON
    risk_months: tuple[float, ...] = RISK_TABLE_MONTHS
    variables: Registry = BUILTIN  # the cohort's, whose words its groups show in
    since: float | None = None  # a landmark view's month: its times count from it

    @property
    def compared(self) -> EndpointSurvival | None:
        """The endpoint compared across groups, when the view has a ``by``."""
        return self.survival[self.endpoint] if self.by else None

    @property
    def landmark(self) -> PatencyView | None:
        """The same curves from the landmark month on, when the view has one: months
        count from the landmark."""
        marks = {e: s.landmark for e, s in self.survival.items() if s.landmark is not None}
        if not marks:
            return None
        later = {e: mark.survival for e, mark in marks.items()}
        return replace(self, survival=later, since=self.landmark_month)

    def keys(self, endpoint: str, curve: GroupSurvival) -> Callable[..., Key]:
        """The names of a curve's counts in the view's ledger: ``keys(count, month)``
        (curve_key with the view's grouping and landmark)."""
        return partial(curve_key, endpoint, curve.level, since=self.since, by=self.by)

    @property
    def landmark_month(self) -> float | None:
        """The landmark month, when the view has one."""
        return next((s.landmark.month for s in self.survival.values() if s.landmark), None)


UNRECORDED = "not recorded"  # a grouping's patients with no recorded value: the rest of n
CURVE_COUNTS = ("at risk", "events", "censored")  # a KMunicate column: they add up to patients
# What grows month by month in a KMunicate column: a curve's events (censored) before a
# month are those before the table's month before it plus those "between" the two; its
# events in all, those before its last month plus those "after" it. Counts the view does
# not print, that subtraction gives (a "<k" before a month then leaves out, as its parts,
# the months before it: two "<3" before 6 and 12 months and "<3" between are 1s).
GROWING = {"events": ("events between", "events after"),
           "censored": ("censored between", "censored after")}  # fmt: skip


def curve_months(curve: GroupSurvival) -> tuple[float, ...]:
    """A curve's table months, sorted: its KMunicate table's and its estimates' (a month
    in both is one month, its counts the same)."""
    return tuple(sorted({*map(float, curve.risk.month), *map(float, curve.estimates.month)}))


def curve_key(
    endpoint: str,
    level: str,
    count: str,
    month: float | None = None,
    since: float | None = None,
    by: str | None = None,
) -> Key:
    """A curve's count: its "patients", "events" and "censored" in all, or at ``month``
    its "at risk", "events" and "censored" before it (KMunicate's), or those "between"
    the table's month before and ``month``, or "after" the last ``month`` (GROWING);
    ``level`` of the
    grouping ``by`` (the same count on the Patency page and in the Subgroups table), or
    ALL_PATIENTS; ``since`` names the curves of a landmark view (time counted from that
    month)."""
    group = (None, ALL_PATIENTS) if level == ALL_PATIENTS else (by, level)
    at = () if month is None else (float(month),)
    if since is not None:
        return ("landmark", float(since), endpoint, *group, count, *at)
    return ("curve", endpoint, *group, count, *at)


def patency_ledger(view: PatencyView, n: int | None = None) -> Ledger:
    """Every curve's patients, events and censored, and its KMunicate columns at the
    risk-table and estimate months: each adds up to the curve's patients, and its events
    and censored before a month are those before the month before plus those between
    (GROWING: a difference of two months is a count too). An endpoint's
    curve covers the n patients of the view (or part of them); a comparison's groups and
    the patients with no recorded value add up to it, count by count (its overall curve
    is the same filter's Patency view without the comparison: public). With a landmark,
    its curves too, whose patients are those at risk at the landmark month less those
    whose event or censoring fell exactly at it. ``n``: the view's (None: its largest
    curve's patients). A curve clustered by patient counts limbs, with the patients behind
    its counts (curve_patients); a patient endpoint's curve counts patients."""
    if n is None:
        n = max((s.overall.patients for s in view.survival.values()), default=0)
    counts: dict[Key, int] = {N: n}
    sums: list[Sum] = []
    unseen: set[Key] = set()
    patients: dict[Key, int] = {}
    bounds: list[Bound] = []
    for endpoint, result in view.survival.items():
        everyone = curve_key(endpoint, ALL_PATIENTS, "patients")
        for curve in (result.overall, *(result.groups if view.by is not None else ())):
            key = partial(curve_key, endpoint, curve.level, by=view.by)
            _curve_counts(counts, sums, endpoint, curve, None, view.by)
            patients |= curve_patients(curve, key, counts)
            bounds += estimate_bounds(curve, key)
        counts[("not in the curve", endpoint)] = n - result.overall.patients
        sums.append(Sum(N, (everyone, ("not in the curve", endpoint))))
        if view.by is not None:
            _groups_counts(counts, sums, endpoint, result.overall, result.groups, view.by)
    landmark = view.landmark
    if landmark is not None:
        since = landmark.since
        for endpoint, result in landmark.survival.items():
            main = view.survival[endpoint]
            pairs = [(main.overall, result.overall), *zip(main.groups, result.groups, strict=True)]
            for before, after in pairs:
                _curve_counts(counts, sums, endpoint, after, since, view.by)
                key = partial(curve_key, endpoint, after.level, since=since, by=view.by)
                patients |= curve_patients(after, key, counts)
                bounds += estimate_bounds(after, key)
                at = curve_key(endpoint, before.level, "at risk", since, by=view.by)
                if at not in counts:
                    counts[at] = _at_risk(before, since)
                    unseen.add(at)
                ended = curve_key(endpoint, before.level, "ended at", since, by=view.by)
                counts[ended] = counts[at] - after.patients
                if at in unseen:
                    unseen.add(ended)
                sums.append(
                    Sum(
                        at,
                        (
                            curve_key(endpoint, after.level, "patients", since=since, by=view.by),
                            ended,
                        ),
                    )
                )
            if landmark.by is not None:
                _groups_counts(
                    counts, sums, endpoint, result.overall, result.groups, view.by, since
                )
    unseen |= {key for key in counts if _grown(key)}
    people = []
    if set(view.survival) - set(PATENCY_ENDPOINTS):  # a patient endpoint counts patients
        people = [key for key in counts if _endpoint_of(key) not in (None, *PATENCY_ENDPOINTS)]
    return ledger(counts, sums, unseen, paired=bool(patients), patients=patients, people=people,
                  bounds=bounds, worth=curve_worth(counts))  # fmt: skip


# What a reader loses with a curve's count (Ledger.worth): its patients (the legend's n),
# then its events before a month (the Kaplan-Meier estimate shows with them), then its at
# risk (the row a risk table is read by); its censored least (none declared).
CURVE_WORTH = {"patients": 3, "events": 2, "at risk": 1}


def curve_worth(counts: Mapping[Key, int]) -> dict[Key, int]:
    """Ledger.worth of the curves' counts among ``counts`` (curve_key's names)."""
    return {key: CURVE_WORTH[key[4]] for key in counts
            if key[0] == "curve" and key[4] in CURVE_WORTH}  # fmt: skip


def estimate_bounds(curve: GroupSurvival, key: Callable[..., Key]) -> list[Bound]:
    """What a curve's Kaplan-Meier estimates say of its KMunicate counts (curve_key's
    ``key``), as an attacker reads them, for every two of its table months a and b (and
    from the start, where the estimate is 1 and everyone at risk): the estimate's ratio
    R = S(b) / S(a) is the product over the event times in (a, b] of (1 - d / r), d events
    of r at risk. Each r is at most those at risk after a less the events before it, and
    at least those at risk after b plus the events from it on, so the product lies
    between the telescoped products of those (no censoring before the events, or all of
    it): with D the events in (a, b] and B(m) those still at risk after month m,

        B(b) / (B(b) + D)  <=  R  <=  1 - D / B(a).

    In the view's counts (KMunicate's: events before a month, at risk at it or later),
    D = E(b) - E(a) + x(b) - x(a) and B(m) = A(m) - x(m) - y(m), x and y the events and
    censorings at exactly the month (an estimate at a month includes its events; known
    here, as if to the attacker, so the truth always meets them). The bounds are linear in
    the counts for a shown R, and read only while both months' estimates show, that is
    while their events do (Bound.given; tables.estimate_shown): what the estimates,
    printed to every digit in the report's JSON, tell of counts beyond their events.
    With a month's at risk and censored hidden beside its shown events, they bound the
    censored before it from below (S(b) >= 1 - E(b) / (N - C(b)), met when all censoring
    came first) and, with a later month, its at risk from below: masking weighs both.
    They are the envelope of the product, not all it says: its Greenwood variance is not
    modelled, and of its factors only the fewest patients it needs (fewest_at_risk): each
    estimate shown says its curve had at least them, read while its events show (54.7% at
    12 months is 7/8 x 5/6 x 3/4, reached by no curve of 7: beside 3 at risk and 3 events
    it gave the "<3" censored before month 12 away as 2, the curve's n hidden)."""
    estimates = {float(m): float(s) for table in (curve.risk, curve.estimates)
                 for m, s in zip(table.month, table.estimate, strict=True)}  # fmt: skip
    time, events, censored = curve.curve.time, curve.curve.events, curve.curve.censored

    def at(month: float) -> tuple[int, int]:
        exactly = time == month
        return int(events[exactly].sum()), int(censored[exactly].sum())

    start = (None, 1.0, (0, 0))
    points = [start] + [(m, s, at(m)) for m, s in sorted(estimates.items()) if np.isfinite(s)]
    bounds = []
    for (a, s_a, (x_a, y_a)), (b, s_b, (x_b, y_b)) in itertools.combinations(points, 2):
        if s_a <= 0:
            continue
        r = s_b / s_a
        at_risk_a = key("patients") if a is None else key("at risk", a)
        before_a = () if a is None else ((key("events", a), -1.0),)
        given = (key("events", b),) if a is None else (key("events", a), key("events", b))
        upper = ((key("events", b), 1.0), *before_a, (at_risk_a, -(1 - r)))
        bounds.append(Bound(upper, x_a - x_b - (1 - r) * (x_a + y_a), given))
        lower = ((key("at risk", b), 1 - r), (key("events", b), -r),
                 *((name, -r * c) for name, c in before_a))  # fmt: skip
        bounds.append(Bound(lower, (1 - r) * (x_b + y_b) + r * (x_b - x_a), given))
    for b, s_b, _ in points[1:]:
        fewest = fewest_at_risk(s_b)
        if fewest > 1:  # a curve with an estimate has a patient
            bounds.append(Bound(((key("patients"), -1.0),), -fewest, (key("events", b),)))
    return bounds


# Kaplan-Meier estimates are inverted (fewest_at_risk) for curves of up to this many: as
# far as a reader enumerates them (about 100,000 products for 20), and the largest k.
LARGEST_INVERTED = LARGEST_K


@cache
def _km_values(patients: int) -> np.ndarray:
    """Every Kaplan-Meier estimate ``patients`` can reach at some time, sorted (to 12
    digits, float duplicates kept): a product of (r - d) / r over its event times, r at
    risk and d events at each, the risk set shrinking by events and censorings between
    them (one censored before every event: those of one fewer)."""
    if patients == 0:
        return np.array([1.0])
    reached = [_km_values(patients - 1)]
    reached += [(patients - died) / patients * _km_values(patients - died)
                for died in range(1, patients + 1)]  # fmt: skip
    return np.unique(np.round(np.concatenate(reached), 12))


def fewest_at_risk(estimate: float, tolerance: float = 1e-9) -> int:
    """The fewest patients whose Kaplan-Meier estimate can be ``estimate`` (read to every
    digit, as the report's JSON prints it: within ``tolerance``), LARGEST_INVERTED + 1
    when no curve of up to that many can: a reader who knows it knows the curve had at
    least that many at risk from its start. Never more than the curve's own patients, who
    reached it."""
    for patients in range(LARGEST_INVERTED + 1):
        reached = _km_values(patients)
        at = int(np.searchsorted(reached, estimate))
        near = reached[max(at - 1, 0) : at + 1]
        if near.size and np.abs(near - estimate).min() <= tolerance:
            return patients
    return LARGEST_INVERTED + 1


def _grown(key: Key) -> bool:
    """Whether ``key`` names a curve's events or censored between two table months, or
    after the last (GROWING): no surface prints one (subtraction gives it), so an
    attacker knows it only as 0 or more, and withholding it would hide nothing."""
    names = tuple(name for pair in GROWING.values() for name in pair)
    at_month = isinstance(key[-1], float) and key[0] in ("curve", "landmark")
    return at_month and str(key[-2]).startswith(names)


def _endpoint_of(key: Key) -> str | None:
    """The endpoint a curve's count (curve_key) is of; None for any other count."""
    if key[0] == "curve":
        return str(key[1])
    return str(key[2]) if key[0] == "landmark" else None


def curve_patients(
    curve: GroupSurvival, key: Callable[..., Key], counts: Mapping[Key, int]
) -> dict[Key, int]:
    """The distinct patients behind a clustered curve's counts of limbs (its patients,
    events and censored, and at each table month its at risk, events and censored before
    it; curve_key's ``key``): each count's limbs less the patients with both their limbs
    in it (a patient has at most two), from the curve's limbs of patients with two, in
    at_months' convention (at risk at a month: a time at or after it). None for a curve
    not clustered."""
    if curve.limbs is None:
        return {}
    index, event = curve.limbs.index, curve.limbs.clusters.event.astype(bool)
    first, second = curve.limbs.first, curve.limbs.second
    events, censored = event[first] & event[second], ~event[first] & ~event[second]
    at = np.searchsorted(curve.curve.time, curve_months(curve), side="left")
    size = curve.curve.time.size + 1

    def before(positions: np.ndarray) -> np.ndarray:
        """How many of ``positions`` (among the curve's times) come before each month."""
        return np.concatenate([[0], np.cumsum(np.bincount(positions, minlength=size))])[at]

    earlier = np.minimum(index[first], index[second])  # both at risk up to the earlier
    later = np.maximum(index[first], index[second])  # both ended before a month after it
    both = {
        "at risk": first.size - before(earlier),
        "events": before(later[events]),
        "censored": before(later[censored]),
    }
    found = {
        key("patients"): counts[key("patients")] - first.size,
        key("events"): counts[key("events")] - int(events.sum()),
        key("censored"): counts[key("censored")] - int(censored.sum()),
    }
    for count, pairs in both.items():
        for month, n in zip(curve_months(curve), pairs.tolist(), strict=True):
            found[key(count, month)] = counts[key(count, month)] - n
    windows = {"events": (earlier[events], later[events]),
               "censored": (earlier[censored], later[censored])}  # fmt: skip
    for name, (lo, hi, count) in _growing_names(key, curve_months(curve), at.tolist(),
                                                  size).items():  # fmt: skip
        first_at, last_at = windows[count]
        within = int(((first_at >= lo) & (last_at < hi)).sum())
        found[name] = counts[name] - within
    return found


def _growing_names(
    key: Callable[..., Key], months: Sequence[float], at: Sequence[int], size: int
) -> dict[Key, tuple[int, int, str]]:
    """The counts _growing_counts adds between two table months and after the last, each
    with the window of the curve's time positions it counts ([lo, hi)) and what it counts
    ("events", "censored"): a patient with both limbs in the window is one patient."""
    names: dict[Key, tuple[int, int, str]] = {}
    for count, (between, after) in GROWING.items():
        for i, j in itertools.combinations(range(len(months)), 2):
            name = between if j == i + 1 else f"{between} since {months[i]}"
            names[key(name, months[j])] = (at[i], at[j], count)
        if months:
            names[key(after, months[-1])] = (at[-1], size, count)
    return names


def _curve_counts(
    counts: dict[Key, int], sums: list[Sum], endpoint: str, curve: GroupSurvival,
    since: float | None, by: str | None,
) -> None:  # fmt: skip
    """One curve's counts and sums, added to ``counts`` and ``sums``."""
    key = partial(curve_key, endpoint, curve.level, since=since, by=by)
    counts[key("patients")], counts[key("events")] = curve.patients, curve.events
    counts[key("censored")] = curve.patients - curve.events
    sums.append(Sum(key("patients"), (key("events"), key("censored"))))
    for table in (curve.risk, curve.estimates):
        for i, month in enumerate(table.month):
            column = tuple(key(count, month) for count in CURVE_COUNTS)
            values = (table.at_risk[i], table.events[i], table.censored[i])
            counts.update(zip(column, map(int, values), strict=True))
    months = curve_months(curve)
    sums.extend(Sum(key("patients"), tuple(key(c, m) for c in CURVE_COUNTS)) for m in months)
    _growing_counts(counts, sums, key, months)


def _growing_counts(
    counts: dict[Key, int], sums: list[Sum], key: Callable[..., Key], months: Sequence[float]
) -> None:
    """A curve's events and censored between any two of its table months, and after the
    last (GROWING): 9 events before month 24 and 7 before month 12 are 2 between, a count
    the view gives by subtraction, so privacy must see it. Between consecutive months it
    is named by the later month; across a month between (1 and 1 event either side of
    month 12, hidden, are still 2 between months 6 and 24) by both."""
    for count, (between, after) in GROWING.items():
        for before, month in itertools.pairwise(months):
            counts[key(between, month)] = counts[key(count, month)] - counts[key(count, before)]
            sums.append(Sum(key(count, month), (key(count, before), key(between, month))))
        for i, j in itertools.combinations(range(len(months)), 2):
            if j > i + 1:
                since, month = key(count, months[i]), key(count, months[j])
                across = key(f"{between} since {months[i]}", months[j])
                counts[across] = counts[month] - counts[since]
                sums.append(Sum(month, (since, across)))
        if months:
            last = months[-1]
            counts[key(after, last)] = counts[key(count)] - counts[key(count, last)]
            sums.append(Sum(key(count), (key(count, last), key(after, last))))


# What the cumulative incidence with death competing shows beside 1 - Kaplan-Meier at an
# estimate month: the gap between them is a statistic of the deaths before the month (the
# competing event), part of the censored before it with those censored alive. Each is a
# count of the view, and so is the difference of two months' (the deaths between them).
COMPETING = ("competing", "censored alive")


def incidence_ledger(view: PatencyView) -> Ledger:
    """The counts the cumulative incidence with death competing shows beside the curves
    (a view that draws or prints it joins this to patency_ledger): each curve's deaths
    before each estimate month and those censored alive (COMPETING), adding up to its
    censored before the month, and each between two such months; a comparison's groups,
    with those not recorded, add up to the endpoint's curve, count by count. None for an
    endpoint none of whose patients died before it: its incidence is 1 - Kaplan-Meier."""
    counts: dict[Key, int] = {}
    sums: list[Sum] = []
    for endpoint, result in view.survival.items():
        _competing_counts(counts, sums, endpoint, result, view.by)
    return ledger(counts, sums)


def _competing_counts(
    counts: dict[Key, int], sums: list[Sum], endpoint: str, result: EndpointSurvival,
    by: str | None,
) -> None:  # fmt: skip
    """incidence_ledger's counts and sums of one endpoint, added to ``counts``, ``sums``."""
    overall = result.overall
    if not overall.incidence.competing.any():
        return
    months = [float(m) for m in overall.incidence_at.month]
    between = [(c, months[i], months[j]) for c in COMPETING
               for i, j in itertools.combinations(range(len(months)), 2)]  # fmt: skip
    curves = [overall, *result.groups] if by is not None else [overall]
    for curve in curves:
        key = partial(curve_key, endpoint, curve.level, by=by)
        for month, censored in zip(curve.estimates.month, curve.estimates.censored, strict=True):
            died = int(curve.incidence.competing[curve.incidence.time < month].sum())
            month = float(month)
            counts[key("censored", month)] = int(censored)
            counts[key("competing", month)] = died
            counts[key("censored alive", month)] = int(censored) - died
            sums.append(Sum(key("censored", month), tuple(key(c, month) for c in COMPETING)))
        for count, first, last in between:
            since, month, gap = (
                key(count, first),
                key(count, last),
                key(f"{count} since {first}", last),
            )
            counts[gap] = counts[month] - counts[since]
            sums.append(Sum(month, (since, gap)))
    if by is None:
        return
    names = [(c, m) for m in months for c in COMPETING]
    names += [(f"{c} since {first}", last) for c, first, last in between]
    for count, month in names:
        key = partial(curve_key, endpoint, count=count, month=month, by=by)
        parts = [key(group.level) for group in result.groups]
        counts[key(UNRECORDED)] = counts[key(overall.level)] - sum(counts[p] for p in parts)
        sums.append(Sum(key(overall.level), (*parts, key(UNRECORDED))))


def _groups_counts(
    counts: dict[Key, int], sums: list[Sum], endpoint: str, overall: GroupSurvival,
    groups: Sequence[GroupSurvival], by: str | None, since: float | None = None,
) -> None:  # fmt: skip
    """A comparison's groups and the patients with no recorded value (the rest) add up
    to the endpoint's curve, count by count: patients, events, censored, and each
    KMunicate count at each month, and between months (GROWING)."""
    names = [(count, None) for count in ("patients", "events", "censored")]
    months = curve_months(overall)
    names += [(count, month) for month in months for count in CURVE_COUNTS]
    names += [(between, month) for between, _ in GROWING.values() for month in months[1:]]
    names += [(after, months[-1]) for _, after in GROWING.values() if months]
    for count, month in dict.fromkeys(names):
        key = partial(curve_key, endpoint, count=count, month=month, since=since, by=by)
        parts = [key(group.level) for group in groups]
        counts[key(UNRECORDED)] = counts[key(overall.level)] - sum(counts[p] for p in parts)
        sums.append(Sum(key(overall.level), (*parts, key(UNRECORDED))))


def subgroups_ledger(view: SubgroupsView, n: int | None = None) -> Ledger:
    """Each factor's groups: their patients add up to the endpoint's curve's (with those
    whose value is not recorded), and so do their events and the censored rest; the curve
    covers the view's n (or part of it), its events public on the Patency page. Named as
    the Patency page names the same counts (curve_key). ``n``: the view's (None: the
    endpoint's patients). A level's limbs carry their distinct patients; a patient
    endpoint's counts are of patients."""
    n = view.patients if n is None else n
    endpoint = view.endpoint
    whole = partial(curve_key, endpoint, ALL_PATIENTS)
    table, patients, events = view.table, view.patients, view.events
    counts: dict[Key, int] = {
        N: n, ("not in the curve", endpoint): n - patients,
        whole("patients"): patients, whole("events"): events,
        whole("censored"): patients - events,
    }  # fmt: skip
    sums = [
        Sum(N, (whole("patients"), ("not in the curve", endpoint))),
        Sum(whole("patients"), (whole("events"), whole("censored"))),
    ]
    behind: dict[Key, int] = {}  # the distinct patients behind each level's limbs
    for factor, rows in table.groupby("factor", sort=False):
        key = partial(curve_key, endpoint, by=factor)
        for row in rows.itertuples():
            level = partial(key, row.level)
            counts[level("patients")], counts[level("events")] = row.patients, row.events
            counts[level("censored")] = row.patients - row.events
            sums.append(Sum(level("patients"), (level("events"), level("censored"))))
            behind |= {level("patients"): row.people, level("events"): row.people_events,
                       level("censored"): row.people_censored}  # fmt: skip
        for count in ("patients", "events", "censored"):
            parts = [key(level, count) for level in rows["level"]]
            rest = key(UNRECORDED, count)
            counts[rest] = counts[whole(count)] - sum(counts[p] for p in parts)
            sums.append(Sum(whole(count), (*parts, rest)))
    if endpoint not in PATENCY_ENDPOINTS:  # a patient endpoint counts patients
        return ledger(counts, sums, people=[k for k in counts if _endpoint_of(k) == endpoint])
    return ledger(counts, sums, patients=behind)


def _at_risk(curve: GroupSurvival, month: float) -> int:
    """Patients with time >= ``month`` (KMunicate's at risk)."""
    ended = curve.curve.time < month
    return int(curve.patients - curve.curve.events[ended].sum() - curve.curve.censored[ended].sum())


@dataclass(frozen=True)
class PatencyRequest:
    """What the Patency page asks for, hashable (ui.data caches the view by it).

    With no ``by``, the three patencies; with ``by``, ``endpoint`` compared across its
    groups against ``reference`` (None: the first). Estimates at ``months``, restricted
    means up to ``horizon``, KMunicate tables at ``risk_months``; ``landmark`` adds the
    curves from that month on.
    """

    by: str | None = None
    endpoint: str = PRIMARY
    months: tuple[float, ...] = DEFAULT_MONTHS
    horizon: float = RMST_HORIZON
    risk_months: tuple[float, ...] = RISK_TABLE_MONTHS
    reference: str | None = None
    landmark: float | None = None

    def survival(self) -> SurvivalRequest:
        """The survival computation: one scan for every endpoint drawn."""
        endpoints = PATENCY_ENDPOINTS if self.by is None else (self.endpoint,)
        return SurvivalRequest(
            endpoints, self.months, self.by, self.horizon, self.risk_months, self.reference,
            self.landmark,
        )  # fmt: skip


def patency_of(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, request: PatencyRequest
) -> PatencyView:
    """The Patency page: the three patencies, or the endpoint compared by the groups of
    ``request.by``; with a landmark, also their curves from that month on."""
    fits = survival_of(con, cohort_filter, request.survival())
    return PatencyView(
        request.by, request.endpoint, request.months, fits, request.horizon, table_months(fits),
        cohort_filter.variables,
    )  # fmt: skip


def patency_view(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    by: str | None = None,
    endpoint: str = PRIMARY,
    *,
    risk_months: Sequence[float] = RISK_TABLE_MONTHS,
    reference: str | None = None,
) -> PatencyView:
    """patency_of with the options tests and tools/bench pass."""
    request = PatencyRequest(by, endpoint, risk_months=tuple(risk_months), reference=reference)
    return patency_of(con, cohort_filter, request)


def _three_patencies(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> PatencyView:
    """The Patency view's default: the three patencies, as the Overview and Tables show them."""
    return patency_of(con, cohort_filter, PatencyRequest())


def follow_up_view(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> FollowUp:
    """Median follow-up and completeness, to the cohort's data-lock date if it has one,
    and no further than its protocol's planned follow-up if it states one."""
    meta = metadata(con)
    return follow_up(con, cohort_filter, data_lock_date(meta), planned_follow_up(meta))


@dataclass(frozen=True, eq=False)
class OverviewView:
    """The Overview page: who was treated, the three patencies, clinical change, safety,
    follow-up."""

    population: Population
    patency: PatencyView
    clinical: ClinicalChange
    safety: Safety
    follow_up: FollowUp


def overview_view(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> OverviewView:
    patency, clinical, follow, events, counts = _scans(
        con, cohort_filter, _three_patencies, clinical_change, follow_up_view, safety, population
    )
    return OverviewView(counts, patency, clinical, events, follow)


def clinical_view(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> ClinicalChange:
    """The Clinical outcomes page: every paired measure before and at the last visit."""
    return clinical_change(con, cohort_filter)


@dataclass(frozen=True, eq=False)
class SafetyView:
    """The Safety page: the event table, and when events happened (TIMELINE_COLUMNS)."""

    safety: Safety
    timeline: pd.DataFrame


def safety_view(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> SafetyView:
    """The event table, the incidence and the timeline: three scans, two at a time."""
    events, incidence, timeline = _scans(
        con, cohort_filter, safety, safety_incidence, event_timeline
    )
    return SafetyView(replace(events, incidence=incidence), timeline)


@dataclass(frozen=True, eq=False)
class SubgroupsView:
    """The Subgroups page: every factor's levels at ``month`` (subgroups.COLUMNS)."""

    endpoint: str
    month: float
    table: pd.DataFrame
    variables: Registry = BUILTIN  # the cohort's, whose words its factors show in
    patients: int = 0  # the endpoint's patients and events in all (the factors' levels
    events: int = 0  # add up to them with those whose value is not recorded)


def subgroups_view(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str = PRIMARY,
    month: float = SUBGROUP_MONTH,
) -> SubgroupsView:
    counted = subgroups(con, cohort_filter, endpoint, month)
    return SubgroupsView(
        endpoint, month, counted.table, cohort_filter.variables, counted.patients, counted.events
    )


@dataclass(frozen=True, eq=False)
class TablesView:
    """The paper's Tables 1-3 for the filter: their numbers, formatted by present.tables."""

    baseline: Baseline
    population: Population
    patency: PatencyView
    clinical: ClinicalChange
    safety: Safety
    analysed_all: bool  # all enrolled analysed, not the technical successes only


def tables_view(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> TablesView:
    patency, clinical, table1, events, counts = _scans(
        con, cohort_filter, _three_patencies, clinical_change, baseline, safety, population
    )
    all_enrolled = cohort_filter.population == "all"
    return TablesView(table1, counts, patency, clinical, events, all_enrolled)


def patency_page_ledger(view: PatencyView, n: int) -> Ledger:
    """The Patency page's counts: the curves and the deaths their cumulative incidence
    stands on."""
    return patency_ledger(view, n) | incidence_ledger(view)


def safety_page_ledger(view: SafetyView, k: int | None) -> Ledger:
    """The Safety page's counts with privacy ``k``: the event table and the timeline's
    points (those it draws: safety_ledger)."""
    return safety_ledger(view.safety, view.timeline, k)


def tables_ledger(view: TablesView, n: int) -> Ledger:
    """The Tables page's counts: Table 1 and the population, Table 2's curves and safety
    events, Table 3's clinical outcomes."""
    return baseline_ledger(view.baseline) | overview_ledger(view, n, view.analysed_all)


def overview_ledger(view: OverviewView | TablesView, n: int, analysed_all: bool) -> Ledger:
    """The Overview's counts: the three patencies, clinical change, the population and
    the safety events (the Tables view holds the same)."""
    shown = patency_ledger(view.patency, n) | clinical_ledger(view.clinical)
    return shown | population_ledger(view.population, analysed_all) | safety_ledger(view.safety)


@dataclass(frozen=True, eq=False)
class DashboardPages:
    """What the dashboard's pages show for a filter: every page at its default controls
    (the Patency page without a comparison, Clinical outcomes, Safety with its timeline,
    Tables, the Overview, the Subgroups page of its default endpoint), which privacy
    decides once (masking.dashboard_mask), and the pages whose controls an export shares
    (the comparison, its reference and risk-table months, the deck's endpoint), decided
    beside that decision (masking.page_mask): a reader may hold both.

    ``compared``: the Patency page by the comparison, for each endpoint it offers (none
    without one), and without it at the export's risk-table months when they are not the
    default; ``uncompared``: the Patency page at its defaults; ``subgroups``: the
    Subgroups page at its defaults; ``chosen``: the Subgroups page of another endpoint
    (the deck's), if one was asked for."""

    n: int
    analysed_all: bool
    uncompared: PatencyView
    compared: tuple[PatencyView, ...]
    safety: SafetyView
    tables: TablesView
    subgroups: SubgroupsView
    chosen: SubgroupsView | None = None

    def defaults(self, k: int | None) -> tuple[Ledger, ...]:
        """Each page's ledger at its default controls, as the page declares it with
        privacy ``k``."""
        tables, n = self.tables, self.n
        pages = [
            patency_page_ledger(self.uncompared, n),
            clinical_ledger(tables.clinical),
            safety_page_ledger(self.safety, k),
            tables_ledger(tables, n),
            overview_ledger(tables, n, self.analysed_all),
        ]
        if not self.subgroups.table.empty:  # the page shows nothing else
            pages.append(subgroups_ledger(self.subgroups, n))
        return tuple(pages)

    def controlled(self) -> tuple[Ledger, ...]:
        """The ledgers of the pages at the controls an export shares (the comparison by
        each endpoint, the Patency page at the export's months, the deck's endpoint's
        subgroups)."""
        pages = [patency_page_ledger(view, self.n) for view in self.compared]
        if self.chosen is not None and not self.chosen.table.empty:
            pages.append(subgroups_ledger(self.chosen, self.n))
        return tuple(pages)


def dashboard_pages(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    request: PatencyRequest = PatencyRequest(),
    subgroups: SubgroupsView | None = None,
) -> DashboardPages:
    """The pages' views at their defaults and for ``request`` (the Patency page's
    comparison, reference and risk-table months) and ``subgroups`` (the Subgroups page
    of the deck's endpoint, when given: the page at its defaults when that is its
    default endpoint)."""
    n = header_view(con, cohort_filter).limbs
    uncompared = patency_of(con, cohort_filter, PatencyRequest())
    compared = ()
    if request.by is not None:
        compared = tuple(
            patency_of(con, cohort_filter, replace(request, endpoint=endpoint))
            for endpoint in ENDPOINTS
        )  # fmt: skip
    if request.risk_months != PatencyRequest().risk_months:  # the page at other months
        compared += (patency_of(con, cohort_filter, replace(request, by=None)),)
    chosen = None if subgroups is None or subgroups.endpoint == PRIMARY else subgroups
    default = subgroups_view(con, cohort_filter) if subgroups is None or chosen else subgroups
    return DashboardPages(
        n, cohort_filter.population == "all", uncompared, compared,
        safety_view(con, cohort_filter), tables_view(con, cohort_filter), default, chosen,
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class PaperView:
    """The demo beside the source paper: its Tables' numbers, unfiltered, and everyone's."""

    tables: TablesView
    everyone: Baseline


def paper_view(con: duckdb.DuckDBPyConnection) -> PaperView:
    return PaperView(
        tables_view(con, DEFAULT_FILTER), baseline(con, replace(DEFAULT_FILTER, population="all"))
    )


def centres_view(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, month: float = CENTRE_MONTH
) -> CentreComparison:
    """The Centres page: each centre's primary patency at ``month`` on a funnel plot."""
    return centre_patency(con, cohort_filter, month)


IMPORTED: Key = ("imported",)  # the patients of the registry this session just imported


def imported_ledger(patients: int) -> Ledger:
    """The Data page's count beside the sidebar's: the patients of a registry just
    imported (cohorts.UploadOutcome), the whole of the cohort it becomes."""
    return ledger({IMPORTED: patients})


def model_key(model: AdjustedModel, *count: str) -> Key:
    """A count of an adjusted model: its "patients", those "excluded" (a missing
    covariate), its "events" and those "without event"; a level term's (``term``,
    "patients" | "events" | "without event"); a covariate's reference level, the rest of
    the model's patients (``covariate``, "reference", ...); of a time-varying model that
    left patients out for no follow-up time, those patients ("no follow-up time"), at a
    level (``term``, ...) and at the rest of a covariate's (``covariate``, "reference", ...).

    A count of patients is named by the model's baseline covariates alone (those other
    than the time-varying recurrent DVT): the report fits one model per endpoint on the
    same patients, the recurrent-DVT endpoint's without recurrent DVT, and each count of
    the same patients is one count under every endpoint. A count of events, the
    time-varying recurrent DVT's counts (its time splits at each endpoint's) and every
    count of a time-varying model that left patients out for no follow-up time (at the
    endpoint's month 0: others than another endpoint's), also by its endpoint.
    """
    by_endpoint = (
        count[-1] in ("events", "without event")
        or count[0] == RECURRENT_DVT
        or (model.time_varying and model.unfollowed > 0)
    )
    scope = (model.covariates, model.endpoint) if by_endpoint else (_baseline(model),)
    return ("model", *scope, *count)


def _baseline(model: AdjustedModel) -> tuple[str, ...]:
    """The model's covariates other than the time-varying recurrent DVT, in its order."""
    return tuple(c for c in model.covariates if c != RECURRENT_DVT)


def model_ledger(model: AdjustedModel) -> Ledger:
    """The model's patients and those it leaves out add up to n; its events are part of
    its patients. Each categorical covariate's levels and its reference (the rest) add up
    to the model's patients, their events to its events; a level's events are part of its
    patients. The reference's and the without-event counts are not printed, but they are
    the difference of counts shown: counts of the view. A time-varying model that left
    patients out for no follow-up time declares them beside the patients of its baseline
    covariates (_unfollowed_counts)."""
    key = partial(model_key, model)
    counts: dict[Key, int] = {N: model.patients + model.excluded}
    sums = [Sum(N, (key("patients"), key("excluded")))]

    def split(name: tuple[str, ...], patients: int, events: int) -> None:
        keys = [key(*name, count) for count in ("patients", "events", "without event")]
        counts.update(zip(keys, (patients, events, patients - events), strict=True))
        sums.append(Sum(keys[0], tuple(keys[1:])))

    split((), model.patients, model.events)
    counts[key("excluded")] = model.excluded
    levels = [t for t in model.terms if t.at_level is not None]
    for covariate in dict.fromkeys(t.covariate for t in levels):
        terms = [t for t in levels if t.covariate == covariate]
        for t in terms:
            split((t.term,), t.at_level.patients, t.at_level.events)
        patients = model.patients - sum(t.at_level.patients for t in terms)
        split(
            (covariate, "reference"), patients, model.events - sum(t.at_level.events for t in terms)
        )
        for count in ("patients", "events"):
            parts = (key(covariate, "reference", count), *(key(t.term, count) for t in terms))
            sums.append(Sum(key(count), parts))
    unseen: list[Key] = []
    if model.time_varying and model.unfollowed:
        _unfollowed_counts(model, counts, sums, unseen)
    return ledger(counts, sums, unseen)


def _unfollowed_counts(
    model: AdjustedModel, counts: dict[Key, int], sums: list[Sum], unseen: list[Key]
) -> None:
    """A time-varying model's patients with no follow-up time, left out of it, and the
    patients of its baseline covariates they leave (named as the model of those covariates
    names them, model_key): its patients and those, its left out less those, and each
    level's patients and its own. The report prints both models: the difference of a
    level's patients in the two is a count of the view. The baseline covariates' counts
    the view does not print unless it shows that model (unseen)."""
    key = partial(model_key, model)
    whole = partial(model_key, replace(model, time_varying=False, unfollowed=0))
    lost = key("no follow-up time")
    counts[lost] = model.unfollowed
    counts[whole("patients")] = model.patients + model.unfollowed
    counts[whole("excluded")] = model.excluded - model.unfollowed
    unseen += [whole("patients"), whole("excluded")]
    sums += [Sum(whole("patients"), (key("patients"), lost)),
             Sum(key("excluded"), (whole("excluded"), lost))]  # fmt: skip
    levels = [t for t in model.terms if t.at_level is not None and t.covariate != RECURRENT_DVT]
    for covariate in dict.fromkeys(t.covariate for t in levels):
        terms = [t for t in levels if t.covariate == covariate]
        rest = key(covariate, "reference", "no follow-up time")
        counts[rest] = model.unfollowed - sum(t.at_level.unfollowed for t in terms)
        sums.append(Sum(lost, (rest, *(key(t.term, "no follow-up time") for t in terms))))
        for t in terms:
            at, level = key(t.term, "no follow-up time"), whole(t.term, "patients")
            counts[at] = t.at_level.unfollowed
            counts[level] = t.at_level.patients + t.at_level.unfollowed
            unseen.append(level)
            sums.append(Sum(level, (key(t.term, "patients"), at)))


def model_curve_ledger(model: AdjustedModel, curve: GroupSurvival) -> Ledger:
    """A model's events and patients without one beside its endpoint's curve of the same
    view (``curve``, all patients): the curve's events are the model's and those of the
    patients it left out, its censored likewise, and the left out are those two and the
    patients not in the curve. With none left out the curve's events are the model's: one
    count. The curve's counts are the view's only if it shows the curve (unseen)."""
    key = partial(model_key, model)
    endpoint = model.endpoint
    whole = partial(curve_key, endpoint, ALL_PATIENTS)
    outside = ("not in the curve", endpoint)
    events, censored = whole("events"), whole("censored")
    left_events, left_censored = key("left out", "events"), key("left out", "without event")
    counts: dict[Key, int] = {
        events: curve.events, censored: curve.patients - curve.events,
        key("events"): model.events, key("without event"): model.patients - model.events,
        key("excluded"): model.excluded, outside: model.patients + model.excluded - curve.patients,
        left_events: curve.events - model.events,
        left_censored: curve.patients - curve.events - (model.patients - model.events),
    }  # fmt: skip
    sums = [
        Sum(events, (key("events"), left_events)),
        Sum(censored, (key("without event"), left_censored)),
        Sum(key("excluded"), (left_events, left_censored, outside)),
    ]
    return ledger(counts, sums, [events, censored, outside])


def model_table1_ledger(model: AdjustedModel, baseline: Baseline) -> Ledger:
    """Table 1's rows beside a model's level counts, in one view (the deck): a covariate's
    Table 1 count (a share's level, or a number's patients with a value) is the model's
    patients at it (all of them, for a number) plus those the model left out at it
    (_left_out_at)."""
    key = partial(model_key, model)
    variables = baseline.variables
    found = ledger({})
    for covariate in model.covariates:
        variable = variables.get(covariate)
        if not variable.has(Role.TABLE1) or variable.kind is Kind.SEGMENT_SET:
            continue
        if variable.kind is Kind.NUMBER:
            table1 = table1_key(covariate, "values")
            found |= _left_out_at(
                model, table1, baseline.spreads[covariate].n, (key("patients"), model.patients)
            )
        else:
            level = variable.table1.level
            at = _model_level(model, covariate, level)
            if at is not None:
                found |= _left_out_at(model, table1_key(covariate), baseline.shares[covariate], at)
    return found


def model_groups_ledger(model: AdjustedModel, subgroups: SubgroupsView) -> Ledger:
    """The Subgroups table's groups beside a model's level counts, in one view (the deck):
    a group of a covariate's level on the endpoint's curve is the model's patients at the
    level plus those the model left out there (_left_out_at). Its keys are the Patency
    page's groups' too (curve_key): a comparison by the covariate is covered with it."""
    found = ledger({})
    for row in subgroups.table.itertuples():
        if row.factor not in model.covariates:
            continue
        at = _model_level(model, row.factor, str(row.level))
        if at is not None:
            group = curve_key(subgroups.endpoint, row.level, "patients", by=row.factor)
            found |= _left_out_at(model, group, int(row.patients), at)
    return found


def _model_level(model: AdjustedModel, covariate: str, level: str) -> tuple[Key, int] | None:
    """The model's count of patients at ``level`` of ``covariate`` (a term's, or its
    reference's), with its key; None when the fit has no such level."""
    terms = [t for t in model.terms if t.covariate == covariate and t.at_level is not None]
    for t in terms:
        if t.level == level:
            return model_key(model, t.term, "patients"), t.at_level.patients
    if terms and terms[0].reference == level:
        rest = model.patients - sum(t.at_level.patients for t in terms)
        return model_key(model, covariate, "reference", "patients"), rest
    return None


def _left_out_at(model: AdjustedModel, shown: Key, count: int, at: tuple[Key, int]) -> Ledger:
    """``shown`` (``count`` patients) as the model's patients there (``at``: key, count)
    plus those the model left out there; those and the rest of those it left out add up to
    them. The left out there are the difference of two counts shown: a count of the view."""
    modelled, patients = at
    left = model_key(model, *shown[1:], "left out")
    rest = model_key(model, *shown[1:], "others left out")
    excluded = model_key(model, "excluded")
    counts = {shown: count, modelled: patients, excluded: model.excluded,
              left: count - patients, rest: model.excluded - (count - patients)}  # fmt: skip
    return ledger(counts, [Sum(shown, (modelled, left)), Sum(excluded, (left, rest))])


def models_view_of_file(
    path: str, cohort_filter: CohortFilter, endpoint: str, covariates: Sequence[str]
) -> AdjustedModel:
    """models_view on the cohort file ``path``, opened (read-only, checked) for this fit
    alone: what the fitting process runs (analytics.fit_worker)."""
    with open_cohort(path) as con:
        return models_view(con, cohort_filter, endpoint, covariates)


def models_view(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    endpoint: str,
    covariates: Sequence[str],
) -> AdjustedModel:
    """The Models page: adjusted and crude Cox hazard ratios of ``endpoint`` on patient rows."""
    return adjusted_model(con, cohort_filter, endpoint, covariates)


@dataclass(frozen=True, eq=False)
class ReportView:
    """Everything ``report`` prints for a filter: every endpoint, clinical change, safety,
    follow-up; restricted means up to ``horizon`` months.

    With ``adjust``, ``adjusted`` holds each endpoint's Cox model on those covariates; the
    KMunicate tables (the deck's) are at ``risk_months``, extended to the curves' end as
    PatencyView's; ``reference`` is the group
    compared against, ``landmark`` the landmark month (the survival results carry their
    landmark estimates).
    """

    name: str
    is_reconstruction: bool
    cohort_filter: CohortFilter
    header: Header  # the filter's limbs and patients, and whether the file is bilateral
    by: str | None
    months: tuple[float, ...]
    survival: Mapping[str, EndpointSurvival]
    clinical: ClinicalChange
    safety: Safety
    follow_up: FollowUp
    horizon: float = RMST_HORIZON
    adjust: tuple[str, ...] = ()
    adjusted: Mapping[str, AdjustedModel] = field(default_factory=dict)
    risk_months: tuple[float, ...] = RISK_TABLE_MONTHS
    reference: str | None = None
    landmark: float | None = None
    pages: DashboardPages | None = None  # the dashboard's, that privacy weighs beside it


@dataclass(frozen=True)
class ReportRequest:
    """What ``report`` (and the deck's report) asks for: every endpoint at ``months``,
    compared by the groups of ``by`` against ``reference`` (None: the first), restricted
    means up to ``horizon``, the Cox model on ``adjust`` when any is given, KMunicate
    tables at ``risk_months``, landmark estimates from ``landmark`` on; with ``pages``,
    the dashboard's pages for the same filter and grouping (DashboardPages), which a
    privacy-mode report is masked beside."""

    by: str | None = None
    months: tuple[float, ...] = DEFAULT_MONTHS
    horizon: float = RMST_HORIZON
    adjust: tuple[str, ...] = ()
    risk_months: tuple[float, ...] = RISK_TABLE_MONTHS
    reference: str | None = None
    landmark: float | None = None
    pages: bool = True

    def survival(self) -> SurvivalRequest:
        """The survival computation: every endpoint in one scan."""
        return SurvivalRequest(
            tuple(ENDPOINTS), self.months, self.by, self.horizon, self.risk_months,
            self.reference, self.landmark,
        )  # fmt: skip


def report_of(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, request: ReportRequest
) -> ReportView:
    """The report (``python -m analytics report``) and the deck's numbers: ReportView."""
    meta = metadata(con)
    fits = survival_of(con, cohort_filter, request.survival())
    adjust = request.adjust
    return ReportView(
        name=meta.get("name", ""),
        is_reconstruction=is_reconstruction(meta),
        cohort_filter=cohort_filter,
        header=header_view(con, cohort_filter),
        by=request.by,
        months=request.months,
        survival=fits,
        clinical=clinical_change(con, cohort_filter),
        safety=safety(con, cohort_filter, incidence=True),
        follow_up=follow_up_view(con, cohort_filter),
        horizon=request.horizon,
        adjust=adjust,
        adjusted={e: models_view(con, cohort_filter, e, adjust) for e in ENDPOINTS if adjust},
        risk_months=table_months(fits),
        reference=request.reference,
        landmark=request.landmark,
        pages=_pages_of(con, cohort_filter, request) if request.pages else None,
    )


def _pages_of(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, request: ReportRequest
) -> DashboardPages:
    """The dashboard's pages beside a report of ``request``: the Patency page by its
    comparison and reference, at its risk-table months."""
    patency = PatencyRequest(request.by, risk_months=request.risk_months,
                             reference=request.reference)  # fmt: skip
    return dashboard_pages(con, cohort_filter, patency)


def report_view(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    by: str | None = None,
    *,
    adjust: Sequence[str] = (),
    landmark: float | None = None,
) -> ReportView:
    """report_of with the options tests and tools/bench pass."""
    request = ReportRequest(by, adjust=tuple(adjust), landmark=landmark)
    return report_of(con, cohort_filter, request)


@dataclass(frozen=True, eq=False)
class DeckView:
    """A meeting deck of a view: the report's numbers, the subgroups and Tables 1-3.

    ``endpoint`` is the endpoint compared across the groups of ``report.by``; ``model``
    the Models page's adjusted model (models_view), when one was chosen and fitted;
    ``model_left_out`` when one was chosen but not fitted yet (the dashboard's deck fits
    none): the deck has no model slide and says where to fit it.
    """

    meta: Mapping[str, str]
    report: ReportView
    endpoint: str
    subgroups: SubgroupsView
    baseline: Baseline
    population: Population
    model: AdjustedModel | None = None
    model_left_out: bool = False

    @property
    def pages(self) -> DashboardPages | None:
        """The dashboard's pages beside the deck (the report's), the Subgroups page of
        the deck's endpoint among them."""
        pages = self.report.pages
        if pages is None or self.subgroups.endpoint == pages.subgroups.endpoint:
            return pages
        return replace(pages, chosen=self.subgroups)

    @property
    def tables(self) -> TablesView:
        """The paper's Tables 1-3 of the view, from the report's own results."""
        report = self.report
        return TablesView(
            self.baseline, self.population, self.patency, report.clinical, report.safety,
            report.cohort_filter.population == "all",
        )  # fmt: skip

    @property
    def patency(self) -> PatencyView:
        """The three patencies, overall: the report's own curves."""
        return PatencyView(
            None, self.endpoint, self.report.months,
            {e: self.report.survival[e] for e in PATENCY_ENDPOINTS}, self.report.horizon,
            self.report.risk_months, self.report.cohort_filter.variables,
        )  # fmt: skip

    @property
    def compared(self) -> PatencyView | None:
        """The compared endpoint by the groups of the view's ``by``, if it has one."""
        by = self.report.by
        if by is None:
            return None
        compared = {self.endpoint: self.report.survival[self.endpoint]}
        report = self.report
        return PatencyView(
            by, self.endpoint, report.months, compared, report.horizon, report.risk_months,
            report.cohort_filter.variables,
        )  # fmt: skip


def deck_view(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    by: str | None = None,
    endpoint: str = PRIMARY,
    risk_months: Sequence[float] = RISK_TABLE_MONTHS,
    model: AdjustedModel | None = None,
    reference: str | None = None,
    model_left_out: bool = False,
    pages: bool = True,
) -> DeckView:
    """The deck of a view; its KMunicate tables at ``risk_months`` (the Patency page's);
    ``model`` is models_view's result for the same filter, passed in as the page (or the
    CLI) has it, so the deck never fits it again; ``model_left_out`` when a model was
    chosen but is not fitted (the dashboard's deck starts no fit): the deck says so;
    ``pages``: with the dashboard's pages, which a privacy-mode deck is masked beside."""
    request = ReportRequest(by, risk_months=tuple(risk_months), reference=reference,
                            pages=pages)  # fmt: skip
    return DeckView(
        meta=metadata(con),
        report=report_of(con, cohort_filter, request),
        endpoint=endpoint,
        subgroups=subgroups_view(con, cohort_filter, endpoint),
        baseline=baseline(con, cohort_filter),
        population=population(con, cohort_filter),
        model=model,
        model_left_out=model_left_out and model is None,
    )
