"""Who was treated: the paper's Table 1 numbers, and how many were enrolled and stented.

Counts and summaries only; analytics.present.tables turns them into the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
import numpy as np

from analytics.cohort.tallies import DIRECT_KEYS, distinct, tally
from analytics.filters import (
    CohortFilter,
    both_limbs,
    cohort_where,
    has_bilateral,
)
from analytics.glossary import PAPER_SEGMENT_ROWS, RISK_FACTORS, SEGMENTS
from analytics.groups import literal, quoted, segment_patterns
from analytics.partitions import patients_may_matter
from analytics.rules import ACTIVE_ULCER_CEAP, ULCER_HEALING_MONTHS
from analytics.variables import BUILTIN, YES, Kind, Level, Registry, Role, Variable

OTHER_PATTERN = "other"
SEGMENT_SET = "segment_pattern"  # the built-in segment set, which the compat names read
STATES_PER_TALLY = 8  # share rows per tally: 4**8 combinations at most


@dataclass(frozen=True)
class Spread:
    """Mean, sample SD, minimum and maximum of a number (NaN where undefined), over the
    ``n`` patients or limbs whose value is known (privacy withholds a summary of few)."""

    mean: float
    sd: float
    minimum: float
    maximum: float
    n: int


@dataclass(frozen=True)
class Baseline:
    """Table 1: demographic and clinical characteristics of the filtered limbs and their
    patients, one entry per Table 1 row that ``variables`` declares.

    Each row counts its variable's unit (Variable.level): a person-level row (sex, risk
    factors, age and BMI at the patient's first procedure in the filter) counts the
    ``people``, each once, from their first limb in the filter (tallies.one_per_patient);
    a limb-level row (side, segments, aetiology, devices) counts the ``limbs``. With no
    patient of two limbs in the file (``bilateral`` false) the two are the same rows.

    ``spreads`` summarise each number by its key; ``shares`` count the units at each
    share row's level (Table1Row.level) by its key; ``levels`` count each declared level
    of a row per level; ``recorded`` the units whose value of a share or per-level row is
    recorded (not NULL, not its "not recorded" level); ``patterns_of`` count limbs per
    lesion pattern ("CIV+EIV") and ``pattern_rows`` per published row (see
    :func:`segment_rows`), each keyed by its segment set. ``age``, ``female``,
    ``risk_factors``, ``segments``, ``patterns`` and ``segment_rows`` read the built-ins'
    entries, for the paper's table and the tests.

    ``patients``, in a file with a patient of two limbs, the distinct patients behind a
    limb-level row's counts of limbs that may matter to privacy
    (partitions.patients_may_matter), named as views.table1_key names them without its
    "table1": (key,) a share, (key, "rest"), (key, "level", raw), (key, "unknown"), (key,
    "values"); a segment set's patterns and rows are judged by the fewest patients.
    """

    limbs: int
    people: int
    spreads: Mapping[str, Spread]
    shares: Mapping[str, int]
    patterns_of: Mapping[str, Mapping[str, int]]
    pattern_rows: Mapping[str, Mapping[str, int]]
    levels: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    recorded: Mapping[str, int] = field(default_factory=dict)
    bilateral: bool = False
    variables: Registry = BUILTIN
    patients: Mapping[tuple[str, ...], int] = field(default_factory=dict)

    def counts_people(self, variable: Variable) -> bool:
        """Whether the variable's row counts people apart from limbs: a person's row in a
        file with a patient of two limbs."""
        return self.bilateral and variable.level is Level.PATIENT

    def total(self, variable: Variable) -> int:
        """The denominator of a variable's row: its unit's count."""
        return self.people if self.counts_people(variable) else self.limbs

    def shows(self, variable: Variable) -> bool:
        """Whether Table 1 has the variable's rows: left out where the view has limbs but
        none of its units has the value recorded (a registry that does not record stents,
        say), kept in an empty view (its cells say there is nothing)."""
        if not self.limbs or variable.kind is Kind.SEGMENT_SET:
            return True
        if variable.kind is Kind.NUMBER:
            return self.spreads[variable.key].n > 0
        return self.recorded.get(variable.key, self.limbs) > 0

    @property
    def age(self) -> Spread:
        return self.spreads["age_years"]

    @property
    def bmi(self) -> Spread:
        return self.spreads["bmi"]

    @property
    def follow_up(self) -> Spread:
        return self.spreads["follow_up_months"]

    @property
    def female(self) -> int:
        return self.shares["sex"]

    @property
    def left(self) -> int:
        return self.shares["lesion_side"]

    @property
    def risk_factors(self) -> dict[str, int]:
        """The built-in risk factors' counts (RISK_FACTORS) that this registry declares."""
        return {c: self.shares[c] for c in RISK_FACTORS if c in self.shares}

    @property
    def segments(self) -> dict[str, int]:
        """The built-in segments' counts (SEGMENTS) that this registry declares."""
        return {c: self.shares[c] for c in SEGMENTS if c in self.shares}

    @property
    def patterns(self) -> Mapping[str, int]:
        return self.patterns_of[SEGMENT_SET]

    @property
    def segment_rows(self) -> Mapping[str, int]:
        return self.pattern_rows[SEGMENT_SET]


@dataclass(frozen=True)
class Population:
    """Enrolled patients of the filter (either population), technical successes, stents.

    ``active_ulcers`` counts the analysed limbs with an active ulcer (CEAP C6) before the
    procedure, the paper's denominator for healing ("three patients with active venous
    ulcers healed"); ``ulcers_healed`` those of them whose ulcer healed within the paper's
    3 months.

    ``patients``: the distinct patients behind each of these counts of limbs and their
    differences that may matter to privacy (partitions.patients_may_matter), by their
    names in views.population_key ("enrolled" to "no active ulcer"), in a file with a
    patient of two limbs (empty otherwise: each limb its patient's).
    """

    enrolled: int
    successes: int
    stented: int
    ulcers_healed: int
    active_ulcers: int
    patients: Mapping[str, int] = field(default_factory=dict)


def baseline(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    variables: Registry | None = None,
) -> Baseline:
    """Table 1's numbers: limbs and people, then each Table 1 row's spread, share, levels
    or lesion patterns, of ``variables`` (the filter's own when None).

    Tallies (analytics.cohort.tallies): one by the segment sets' member flags and the
    columns of the rows per level (a lesion pattern and a level per combination), whose
    counts a member's share, a level's count and a pattern's add up; one by a few share
    rows' states at a time (:func:`_shares`); one by each number's values
    (:func:`_spread`). A limb-level row counts the filter's limbs; in a file with a
    patient of two limbs, a person-level row counts people, each patient's first limb in
    the filter (tallies.one_per_patient); otherwise each limb is its patient's.
    """
    variables = cohort_filter.variables if variables is None else variables
    bilateral = has_bilateral(con)
    rows = variables.with_role(Role.TABLE1)
    sets = [v for v in rows if v.kind is Kind.SEGMENT_SET]
    flags = list(dict.fromkeys(member for s in sets for member in s.members))
    grouped = {
        v.key: flags.index(v.key)
        for v in rows
        if v.key in flags and v.table1 and v.table1.summary == "share" and v.table1.level == YES
    }
    numbers = [v for v in rows if v.kind is Kind.NUMBER]
    counted = [
        v
        for v in rows
        if v.kind not in (Kind.SEGMENT_SET, Kind.NUMBER)
        and v.key not in grouped
        and v.table1.summary == "share"
    ]
    per_level = [v for v in rows if v.table1 and v.table1.summary == "levels"]

    keys = [quoted(variables.get(flag).column) for flag in flags]
    keys += [quoted(v.column) for v in per_level]
    where, params = cohort_where(cohort_filter)
    named = [(f"k{i}", key) for i, key in enumerate(keys)]
    every = _groups(tally(con, named, where, params), len(keys))
    people = (
        _groups(tally(con, named, where, params, people=True), len(keys)) if bilateral else every
    )
    limbs = [n for *_, n in every]
    persons = [n for *_, n in people]

    def unit(variable: Variable) -> bool:
        """Whether a variable's row counts people (their first limbs in the filter)."""
        return bilateral and variable.level is Level.PATIENT

    spreads = _spreads(con, numbers, where, params, unit)
    shares, recorded = _shares(con, counted, where, params, unit)
    for key, i in grouped.items():
        shares[key] = sum(n for *row, n in every if row[i])
    recorded |= dict.fromkeys(grouped, sum(limbs))  # a member's flag is never NULL
    levels = {}
    for i, v in enumerate(per_level, start=len(flags)):
        groups = people if unit(v) else every
        levels[v.key] = {raw: sum(n for *row, n in groups if row[i] == raw) for raw, _ in v.levels}
        kept = v.table1.unrecorded
        recorded[v.key] = sum(n for raw, n in levels[v.key].items() if raw != kept)
    patterns = {s.key: _patterns(s, flags, every, variables) for s in sets}
    found = Baseline(
        limbs=sum(limbs),
        people=sum(persons),
        spreads=spreads,
        shares=shares,
        patterns_of=patterns,
        pattern_rows={s.key: segment_rows(patterns[s.key], s.rows) for s in sets},
        levels=levels,
        recorded=recorded,
        bilateral=bilateral,
        variables=variables,
    )
    if not bilateral:
        return found
    counts = _limb_row_counts(found, rows)
    return replace(found, patients=_patients_behind(con, where, params, counts))


def _patients_behind(
    con: duckdb.DuckDBPyConnection, where: str, params: list, counts: Mapping[Any, tuple[int, str]]
) -> dict[Any, int]:
    """The distinct patients behind each of ``counts`` (limbs, and the predicate selecting
    them among those ``where`` selects) whose patients may matter to privacy
    (partitions.patients_may_matter): its limbs less the patients with both limbs in it
    (filters.both_limbs); none behind none, without a read."""
    small = {name: c for name, c in counts.items() if c[0] and patients_may_matter(c[0])}
    both = both_limbs(con, where, params, [predicate for _, predicate in small.values()])
    patients = {name: 0 for name, (count, _) in counts.items() if not count}
    for (name, (count, _)), pairs in zip(small.items(), both, strict=True):
        patients[name] = count - pairs
    return patients


def _limb_row_counts(
    found: Baseline, rows: list[Variable]
) -> dict[tuple[str, ...], tuple[int, str]]:
    """Each limb-level Table 1 row's counts of limbs (Baseline.patients' names), with the
    predicate that selects its limbs: a share and its rest, a level and the unknown, a
    number's known values and the unknown."""
    n = found.limbs
    counts: dict[tuple[str, ...], tuple[int, str]] = {}
    for v in rows:
        if v.level is not Level.LIMB or v.kind is Kind.SEGMENT_SET or not found.shows(v):
            continue
        column = quoted(v.column)
        if v.kind is Kind.NUMBER:
            known = found.spreads[v.key].n
            counts[(v.key, "values")] = (known, f"{column} IS NOT NULL")
            counts[(v.key, "unknown")] = (n - known, f"{column} IS NULL")
        elif v.table1.summary == "levels":
            declared = ", ".join(literal(raw) for raw, _ in v.levels)
            for raw, count in found.levels[v.key].items():
                counts[(v.key, "level", raw)] = (count, f"{column} = {literal(raw)}")
            unknown = n - sum(found.levels[v.key].values())
            counts[(v.key, "unknown")] = (unknown, f"NOT coalesce({column} IN ({declared}), false)")
        else:
            share = found.shares[v.key]
            counts[(v.key,)] = (share, _holds(v))
            counts[(v.key, "rest")] = (n - share, f"NOT coalesce({_holds(v)}, false)")
    return counts


def _shares(
    con: duckdb.DuckDBPyConnection,
    counted: Sequence[Variable],
    where: str,
    params: Sequence[Any],
    unit: Callable[[Variable], bool],
) -> tuple[dict[str, int], dict[str, int]]:
    """Each share row's units at its level, and those whose value is recorded: a tally of
    a few rows' states at a time (at the level, recorded: two bits each, a few thousand
    combinations at most), people or limbs as each row counts (``unit``)."""
    shares, recorded = {}, {}
    for people in sorted({unit(v) for v in counted}):
        chosen = [v for v in counted if unit(v) == people]
        for start in range(0, len(chosen), STATES_PER_TALLY):
            chunk = chosen[start : start + STATES_PER_TALLY]
            rows = tally(con, [(f"s{i}", _state(v)) for i, v in enumerate(chunk)], where,
                         params, people)  # fmt: skip
            n = np.asarray(rows["n"], dtype=np.int64)
            for i, v in enumerate(chunk):
                state = np.asarray(rows[f"s{i}"], dtype=np.int64)
                shares[v.key] = int(n[state >= 2].sum())
                recorded[v.key] = int(n[state % 2 == 1].sum())
    return shares, recorded


def _state(variable: Variable) -> str:
    """SQL of a unit's state on a share row: 2 where it is at the row's level, plus 1 where
    its value is recorded (not NULL, not at the level the row names as not recorded)."""
    column, unrecorded = quoted(variable.column), variable.table1.unrecorded
    known = f"coalesce({column} <> {literal(unrecorded)}, false)" if unrecorded else (
        f"{column} IS NOT NULL")  # fmt: skip
    return f"2 * coalesce({_holds(variable)}, false)::INT + ({known})::INT"


def _holds(variable: Variable) -> str:
    """Where a patient is at the level its Table 1 row counts: a yes/no column true (or
    false, for a row counting 'no'), a category column equal to it."""
    column, level = quoted(variable.column), variable.table1.level
    if variable.kind is Kind.YES_NO:
        return column if level == YES else f"NOT {column}"
    return f"{column} = {literal(level)}"


def _groups(rows: dict[str, np.ma.MaskedArray], size: int) -> list[tuple[Any, ...]]:
    """A tally's combinations as tuples of its ``size`` keys (None where missing), then
    the count."""
    keys = [rows[f"k{i}"].tolist() for i in range(size)]
    return list(zip(*keys, rows["n"].tolist(), strict=True))


def _patterns(
    segment_set: Variable,
    flags: list[str],
    groups: Sequence[Sequence[object]],
    variables: Registry,
) -> dict[str, int]:
    """Limbs per lesion pattern of a segment set, in the order of its members' masks
    (the flags are NOT NULL, schema.sql: each group has one mask)."""
    names = segment_patterns(segment_set, variables)
    index = [flags.index(member) for member in segment_set.members]
    masks: dict[int, int] = {}
    for *row, n in groups:
        mask = sum(2**bit for bit, i in enumerate(index) if row[i])
        masks[mask] = masks.get(mask, 0) + n
    return {names[mask]: masks[mask] for mask in sorted(masks)}


def _spreads(
    con: duckdb.DuckDBPyConnection,
    numbers: Sequence[Variable],
    where: str,
    params: Sequence[Any],
    unit: Callable[[Variable], bool],
) -> dict[str, Spread]:
    """Each number's spread over the filter's units (``unit``: people or limbs), from
    tallies of their values: several numbers of one unit in one tally while their values'
    combinations are few (DIRECT_KEYS: a tally costs what its rows cost, not its columns),
    each number's count, sum, sum of squares, minimum and maximum added up from it.

    Sums, not a two-pass variance: the SD from the sums loses about n·eps·mean²/variance
    of its relative precision (below 1e-8 for ages, BMIs and months of a million
    patients), far below the one decimal shown.
    """
    spreads = {}
    for people in sorted({unit(v) for v in numbers}):
        batch: list[Variable] = []
        size = 1
        for v in [v for v in numbers if unit(v) == people]:
            width = distinct(con, quoted(v.column))
            if batch and size * width > DIRECT_KEYS:
                spreads |= _spread_batch(con, batch, where, params, people)
                batch, size = [], 1
            batch.append(v)
            size *= width
        spreads |= _spread_batch(con, batch, where, params, people)
    return {v.key: spreads[v.key] for v in numbers}


def _spread_batch(
    con: duckdb.DuckDBPyConnection,
    batch: Sequence[Variable],
    where: str,
    params: Sequence[Any],
    people: bool,
) -> dict[str, Spread]:
    """The spreads of the numbers of one tally (_spreads)."""
    if not batch:
        return {}
    rows = tally(con, [(v.key, quoted(v.column)) for v in batch], where, params, people)
    n_all = np.asarray(rows["n"], dtype=np.int64)
    found = {}
    for v in batch:
        known = ~np.ma.getmaskarray(rows[v.key])
        value = np.asarray(rows[v.key], dtype=float)[known]
        n = n_all[known]
        count = int(n.sum())
        if count == 0:
            found[v.key] = Spread(np.nan, np.nan, np.nan, np.nan, 0)
            continue
        mean = float(value @ n) / count
        squares = float((value * value) @ n)
        variance = (squares - count * mean * mean) / (count - 1) if count > 1 else np.nan
        sd = math.sqrt(max(variance, 0.0)) if count > 1 else np.nan
        found[v.key] = Spread(mean, sd, float(value.min()), float(value.max()), count)
    return found


def segment_rows(
    patterns: Mapping[str, int], published: Sequence[str] = PAPER_SEGMENT_ROWS
) -> dict[str, int]:
    """Count each lesion in every widest published pattern it contains (the paper's rows).

    A lesion's published rows are the rows contained in it that no other contained
    row extends: IVC+CIV+EIV+CFV counts as IVC+CIV and as CIV+EIV+CFV, which is how
    the paper's rows add up to 36 for 34 patients. Lesions matching no row are 'other'.
    """
    rows = {row: 0 for row in published} | {OTHER_PATTERN: 0}
    for pattern, count in patterns.items():
        for row in rows_of_pattern(pattern, published):
            rows[row] += count
    return rows


def rows_of_pattern(pattern: str, published: Sequence[str] = PAPER_SEGMENT_ROWS) -> list[str]:
    """The published rows a lesion pattern counts in (segment_rows): the widest rows it
    contains, else 'other'. Privacy reads it too: each row is the sum of its patterns."""
    lesion = set(pattern.split("+"))
    inside = [row for row in published if set(row.split("+")) <= lesion]
    widest = [r for r in inside if not any(set(r.split("+")) < set(o.split("+")) for o in inside)]
    return widest or [OTHER_PATTERN]


def population(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> Population:
    """Enrolled and technically successful patients of the filter's other criteria, and
    in a file with a patient of two limbs the distinct patients behind each count whose
    patients may matter to privacy (partitions.patients_may_matter): its limbs less the
    patients with both limbs in it (filters.both_limbs)."""
    analysed = "technical_success" if cohort_filter.population == "technical_success" else "true"
    active = f"{analysed} AND ceap_before = {ACTIVE_ULCER_CEAP}"
    healed = f"{active} AND ulcer_healed_months <= {ULCER_HEALING_MONTHS}"
    stented = "technical_success AND coalesce(stents, 1) >= 1"
    everyone = replace(cohort_filter, population="all")
    where, params = cohort_where(everyone)
    states = [("technical_success", "technical_success"), ("stented", stented),
              ("healed", healed), ("active", active)]  # fmt: skip
    rows = tally(con, [(name, f"coalesce({sql}, false)") for name, sql in states], where, params)
    n = np.asarray(rows["n"], dtype=np.int64)
    found = Population(
        int(n.sum()), *(int(n[np.asarray(rows[name], dtype=bool)].sum()) for name, _ in states)
    )
    if not has_bilateral(con):
        return found
    n = found.enrolled if analysed == "true" else found.successes
    limbs = {
        "enrolled": (found.enrolled, "true"),
        "successes": (found.successes, "technical_success"),
        "failures": (found.enrolled - found.successes, "NOT coalesce(technical_success, false)"),
        "stented": (found.stented, stented),
        "not stented": (found.successes - found.stented, f"technical_success AND NOT ({stented})"),
        "ulcers healed": (found.ulcers_healed, healed),
        "active ulcers": (found.active_ulcers, active),
        "ulcers not healed": (found.active_ulcers - found.ulcers_healed,
                              f"{active} AND NOT coalesce({healed}, false)"),
        "no active ulcer": (n - found.active_ulcers,
                            f"{analysed} AND NOT coalesce({active}, false)"),
    }  # fmt: skip
    return replace(found, patients=_patients_behind(con, where, params, limbs))
