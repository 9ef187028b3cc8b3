"""The one filter specification: parsed from text, turned into parameterised SQL.

A :class:`CohortFilter` is built from ``key=value`` text (URL query parameters,
``--where`` on the command line) by :func:`parse_filter`, written back by
:func:`to_params`, and becomes SQL by :func:`cohort_sql`. Which keys exist, how each is
read, written and turned into a condition all derive from the variables' declarations
(analytics.variables): each filtering variable adds the parameters of its kind
(:func:`filter_parameters`). Column names are the declarations' quoted, validated
identifiers; every user value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np

from analytics.cohort.summary import SUMMARY_TABLE
from analytics.cohort.tallies import column_max, first_in_filter
from analytics.groups import quoted, segment_mask
from analytics.variables import (
    BUILTIN,
    FALSE_WORDS,
    NO,
    TRUE_WORDS,
    YES,
    FilterError,
    Kind,
    Registry,
    Role,
    Variable,
)

MATCH_MODES = ("any", "all")  # a segment set's filter: any of the chosen members, or all
EVERYONE = "all"  # the population of a registry that declares none
LABEL_LENGTH = (1, 64)  # a level the data holds (a centre's label), in characters


class Part(StrEnum):
    """What one filter parameter holds; it fixes the parameter's parser, text, SQL and words."""

    POPULATION = "population"  # the population's raw value (a yes/no variable's)
    LEVEL = "level"  # one declared level of a category
    DATA_LEVEL = "data_level"  # one level of a category the data levels (a centre's label)
    FLAG = "flag"  # a yes/no variable required true or false
    MINIMUM = "minimum"  # a measure's lower bound, inclusive
    MAXIMUM = "maximum"  # its upper bound, inclusive
    SEGMENTS = "segments"  # a segment set's chosen members, by label, central first
    MATCH = "match"  # whether a lesion has any or all of them (MATCH_MODES)
    PATTERN = "pattern"  # exactly one contiguous run of members ("CIV+EIV")


@dataclass(frozen=True)
class FilterParam:
    """One filter parameter: its key (in links, ``--where`` and JSON), what it holds, and
    the variable it filters."""

    key: str
    part: Part
    variable: Variable

    @property
    def default(self) -> Any:
        """The value that filters nothing (the population: only where it holds)."""
        if self.part is Part.POPULATION:
            return self.variable.population[0][0]
        return {Part.SEGMENTS: (), Part.MATCH: MATCH_MODES[0]}.get(self.part)


def _parts(variable: Variable) -> tuple[Part, ...]:
    """The parts of a filtering variable's keys (Variable.filter_keys), by its kind."""
    if variable.population:
        return (Part.POPULATION,)
    if variable.kind is Kind.NUMBER:
        return (Part.MINIMUM, Part.MAXIMUM)
    if variable.kind is Kind.SEGMENT_SET:
        return (Part.SEGMENTS, Part.MATCH, Part.PATTERN)
    if variable.kind is Kind.YES_NO:
        return (Part.FLAG,)
    return (Part.LEVEL,) if variable.levels else (Part.DATA_LEVEL,)


@lru_cache(maxsize=64)  # per registry (hashed by its fingerprint): filters are built per run
def filter_parameters(variables: Registry = BUILTIN) -> tuple[FilterParam, ...]:
    """Every filter parameter of ``variables`` in the order of Registry.filter_keys: each
    variable's in filter order, then the yes/no flags."""
    params = {
        key: FilterParam(key, part, variable)
        for variable in variables.with_role(Role.FILTER)
        for key, part in zip(variable.filter_keys, _parts(variable), strict=True)
    }
    return tuple(params[key] for key in variables.filter_keys())


@lru_cache(maxsize=64)
def _parameters(variables: Registry) -> Mapping[str, FilterParam]:
    return {param.key: param for param in filter_parameters(variables)}


def _population(variables: Registry) -> FilterParam | None:
    return next((p for p in filter_parameters(variables) if p.part is Part.POPULATION), None)


# Every registry a filter was built with, by fingerprint: a filter keeps only the
# fingerprint among its fields, so that hashing it as a cache key (Streamlit hashes a
# dataclass field by field) never walks the declarations; registries are few and immutable.
_REGISTRIES: dict[str, Registry] = {BUILTIN.fingerprint: BUILTIN}


@dataclass(frozen=True, init=False, repr=False)
class CohortFilter:
    """Which patients to analyse: the population and the filter values set away from their
    defaults, for the variables of one registry. Hashable and compared by value (the
    registry by its fingerprint), so results can be cached by it.

    Built by keyword, one per filter key (``CohortFilter(lesion_side="left", age_min=60)``)
    or as ``values=`` pairs; the yes/no flags also as ``risk_factors=((key, wanted), ...)``.
    Each filter key reads as an attribute (``f.lesion_side``, ``f.segment_match``: its
    default when not set), and ``dataclasses.replace(f, sex="F")`` sets one.

    ``scope`` holds the server's conditions on who the session may see (analytics.scope),
    as ``(key, level, inside)``: the rows at ``level`` of a level filter's ``key``, or
    (``inside`` false) every other row, those without a level included. A scope is never
    written to a link or read from one (to_params, parse_filter), and the population the
    sidebar's totals count keeps it (views.header_view).
    """

    population: str
    values: tuple[tuple[str, Any], ...] = ()  # sorted by key; no None, no default
    fingerprint: str = field(default=BUILTIN.fingerprint)  # of its registry's declarations
    scope: tuple[tuple[str, str, bool], ...] = ()  # sorted; set by the server only

    def __init__(
        self,
        population: str | None = None,
        *,
        values: Iterable[tuple[str, Any]] = (),
        variables: Registry | None = None,
        fingerprint: str | None = None,
        risk_factors: Iterable[tuple[str, bool]] | None = None,
        scope: Iterable[tuple[str, str, bool]] = (),
        **named: Any,
    ) -> None:
        if variables is None:
            variables = _REGISTRIES[fingerprint or BUILTIN.fingerprint]
        _REGISTRIES.setdefault(variables.fingerprint, variables)
        params = _parameters(variables)
        chosen = dict(values) | named
        flags = dict(risk_factors) if risk_factors is not None else {}
        for key in (*chosen, *flags):
            if key not in params or params[key].part is Part.POPULATION:
                raise TypeError(f"CohortFilter has no filter {key!r}")
        for key in flags:
            if params[key].part is not Part.FLAG:
                raise TypeError(f"CohortFilter: {key!r} is not a yes/no filter")
        scope = tuple(sorted(set(scope)))
        for key, _, _ in scope:
            if key not in params or params[key].part not in (Part.LEVEL, Part.DATA_LEVEL):
                raise TypeError(f"CohortFilter: {key!r} is not a level filter to scope by")
        if risk_factors is not None:  # the flags are these, whatever values held
            chosen = {k: v for k, v in chosen.items() if params[k].part is not Part.FLAG}
            chosen |= flags
        kept = tuple(
            (key, tuple(value) if isinstance(value, list) else value)
            for key, value in sorted(chosen.items())
            if value is not None and value != params[key].default
        )
        default = _population(variables)
        if population is None:
            population = default.default if default else EVERYONE
        object.__setattr__(self, "population", population)
        object.__setattr__(self, "values", kept)
        object.__setattr__(self, "fingerprint", variables.fingerprint)
        object.__setattr__(self, "scope", scope)

    @property
    def variables(self) -> Registry:
        """The registry whose variables it filters."""
        return _REGISTRIES[self.fingerprint]

    def value(self, key: str) -> Any:
        """One filter parameter's value, its default when not set; KeyError if none is ``key``."""
        if key == "population":
            return self.population
        found = dict(self.values)
        return found[key] if key in found else _parameters(self.variables)[key].default

    def __getattr__(self, name: str) -> Any:
        """A filter key as an attribute (``f.lesion_side``), for the registry's every key."""
        if name.startswith("_") or "fingerprint" not in self.__dict__:
            raise AttributeError(name)
        try:
            return self.value(name)
        except KeyError:
            raise AttributeError(f"CohortFilter has no filter {name!r}") from None

    @property
    def risk_factors(self) -> tuple[tuple[str, bool], ...]:
        """The yes/no flags set (today the risk factors), as (key, wanted) sorted by key."""
        params = _parameters(self.variables)
        return tuple((k, v) for k, v in self.values if params[k].part is Part.FLAG)

    def risk(self, column: str) -> bool | None:
        """The required value of one yes/no flag, None when it is not filtered."""
        return dict(self.risk_factors).get(column)

    def with_risk(self, column: str, value: bool | None) -> CohortFilter:
        """A copy with one yes/no flag required to be ``value`` (None: any)."""
        kept = {k: v for k, v in self.risk_factors if k != column}
        if value is not None:
            kept[column] = value
        return CohortFilter(
            self.population, values=self.values, variables=self.variables,
            risk_factors=tuple(sorted(kept.items())), scope=self.scope,
        )  # fmt: skip

    @property
    def is_default(self) -> bool:
        """Whether it filters nothing but the default population."""
        return self == CohortFilter(variables=self.variables)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its declarations, which a process that has not seen them (the fit
        worker's) builds its registry from once; the built-ins' every process has. A cached
        result that holds a filter is unpickled on every read: it stays microseconds."""
        declared = () if self.fingerprint == BUILTIN.fingerprint else self.variables.variables
        return _restore, (self.population, self.values, self.fingerprint, declared, self.scope)

    def __repr__(self) -> str:
        shown = [f"population={self.population!r}"]
        shown += [f"{key}={value!r}" for key, value in self.values]
        if self.scope:
            shown.append(f"scope={self.scope!r}")
        if self.fingerprint != BUILTIN.fingerprint:
            shown.append(f"variables=<{self.fingerprint[:12]}>")
        return f"CohortFilter({', '.join(shown)})"


def _restore(
    population: str,
    values: tuple,
    fingerprint: str,
    declared: tuple[Variable, ...],
    scope: tuple[tuple[str, str, bool], ...],
) -> CohortFilter:
    known = _REGISTRIES.get(fingerprint)
    return CohortFilter(
        population, values=values, variables=known or Registry(declared), scope=scope
    )


DEFAULT_FILTER = CohortFilter()


def filter_keys(variables: Registry = BUILTIN) -> tuple[str, ...]:
    """Every key a filter of ``variables`` takes, in the order links write them."""
    return tuple(param.key for param in filter_parameters(variables))


def member_labels(variable: Variable, variables: Registry) -> tuple[str, ...]:
    """A segment set's members by label, central first: the choices of its ``segments``."""
    return tuple(variables.get(member).label for member in variable.members)


def contiguous_patterns(variable: Variable, variables: Registry) -> tuple[str, ...]:
    """Every contiguous run of a segment set's members: each a possible lesion pattern, the
    choices of its exact-pattern filter."""
    labels = member_labels(variable, variables)
    return tuple(
        "+".join(labels[start:stop])
        for start in range(len(labels))
        for stop in range(start + 1, len(labels) + 1)
    )


# ---- the built-in filter's names, as views of BUILTIN for the tests ------------------------
_BUILTIN_SEGMENTS = BUILTIN.get("segment_pattern")
FILTER_KEYS = filter_keys(BUILTIN)
SEGMENT_LABELS = member_labels(_BUILTIN_SEGMENTS, BUILTIN)  # IVC, CIV, EIV, CFV
SEGMENT_PATTERNS = contiguous_patterns(_BUILTIN_SEGMENTS, BUILTIN)


# ---- parsing ------------------------------------------------------------------------------


def parse_boolean(key: str, text: str) -> bool:
    """true/false, yes/no, 1/0 in any case."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FilterError(f"{key}={text!r}: expected yes or no")


def _choice(key: str, text: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if text not in allowed:
        raise FilterError(f"{key}={text!r}: expected one of {', '.join(allowed)}")
    return text


def _number(key: str, text: str, variable: Variable) -> Any:
    declared = variable.range
    assert declared is not None  # a filtering number declares its range (Variable checks)
    try:
        value = (int if declared.integer else float)(text)
    except ValueError:
        raise FilterError(f"{key}={text!r}: expected a number") from None
    if not declared.low <= value <= declared.high:
        raise FilterError(
            f"{key}={text!r}: expected a number from {declared.low:g} to {declared.high:g}"
        )
    return value


def _members(key: str, text: str, variable: Variable, variables: Registry) -> tuple[str, ...]:
    labels = member_labels(variable, variables)
    known = {label.upper(): label for label in labels}
    chosen = [part.strip().upper() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in known]
    if unknown:
        raise FilterError(f"{key}={text!r}: unknown segment {unknown[0]}; use {labels}")
    return tuple(label for label in labels if label.upper() in chosen)


def _pattern(key: str, text: str, variable: Variable, variables: Registry) -> str:
    known = {pattern.upper(): pattern for pattern in contiguous_patterns(variable, variables)}
    return known[_choice(key, text.upper(), known)]


def _data_level(key: str, text: str, variable: Variable) -> str:
    low, high = LABEL_LENGTH
    if not low <= len(text) <= high:
        raise FilterError(f"{key}: a {variable.label.lower()} label has {low} to {high} characters")
    return text


def parse_value(param: FilterParam, text: str, variables: Registry) -> Any:
    """One parameter's value from text, by what it holds; FilterError naming the key."""
    key, variable = param.key, param.variable
    match param.part:
        case Part.POPULATION:
            return _choice(key, text, (raw for raw, _ in variable.population))
        case Part.LEVEL:
            return _choice(key, text, variable.level_order)
        case Part.DATA_LEVEL:
            return _data_level(key, text, variable)
        case Part.FLAG:
            return parse_boolean(key, text)
        case Part.MINIMUM | Part.MAXIMUM:
            return _number(key, text, variable)
        case Part.SEGMENTS:
            return _members(key, text, variable, variables)
        case Part.MATCH:
            return _choice(key, text, MATCH_MODES)
        case Part.PATTERN:
            return _pattern(key, text, variable, variables)


def parse_filter_lenient(
    params: Mapping[str, str], variables: Registry = BUILTIN
) -> tuple[CohortFilter, list[str]]:
    """Build a filter from text, dropping each unusable item with a message saying why."""
    known = _parameters(variables)
    population: str | None = None
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, text in params.items():
        try:
            if key not in known:
                raise FilterError(f"{key}: unknown filter; known filters are {', '.join(known)}")
            value = parse_value(known[key], text, variables)
            if known[key].part is Part.POPULATION:
                population = value
            else:
                values[key] = value
        except FilterError as exc:
            problems.append(str(exc))
    return CohortFilter(population, values=values.items(), variables=variables), problems


def parse_filter(params: Mapping[str, str], variables: Registry = BUILTIN) -> CohortFilter:
    """Build a filter from text; any unusable item is an error naming it."""
    cohort_filter, problems = parse_filter_lenient(params, variables)
    if problems:
        raise FilterError("; ".join(problems))
    return cohort_filter


def parse_pairs(pairs: list[str], variables: Registry = BUILTIN) -> CohortFilter:
    """``COL=VALUE`` strings (the CLI's --where) to a filter."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise FilterError(f"{pair!r}: expected COLUMN=VALUE")
        params[key.strip()] = value.strip()
    return parse_filter(params, variables)


# ---- writing ------------------------------------------------------------------------------


def value_text(value: Any) -> str:
    """A parameter's value as a link writes it: members joined by commas, yes/no, a float
    without trailing zeros."""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def set_parameters(cohort_filter: CohortFilter) -> tuple[tuple[FilterParam, Any], ...]:
    """The parameters set away from their defaults, in the order links and captions write
    them: each variable's in filter order, then the yes/no flags sorted by key."""
    chosen = dict(cohort_filter.values)
    params = filter_parameters(cohort_filter.variables)
    population = [
        (p, cohort_filter.population)
        for p in params
        if p.part is Part.POPULATION and cohort_filter.population != p.default
    ]
    others = [(p, chosen[p.key]) for p in params if p.part is not Part.FLAG and p.key in chosen]
    flags = sorted(
        ((p, chosen[p.key]) for p in params if p.part is Part.FLAG and p.key in chosen),
        key=lambda item: item[0].key,
    )
    return (*population, *others, *flags)


def to_params(cohort_filter: CohortFilter) -> dict[str, str]:
    """The filter as text, only where it differs from the default; inverse of parse_filter."""
    return {param.key: value_text(value) for param, value in set_parameters(cohort_filter)}


# ---- SQL ----------------------------------------------------------------------------------


def _condition(
    param: FilterParam, value: Any, cohort_filter: CohortFilter
) -> tuple[str, list[Any]] | None:
    """The condition one set parameter adds and its bound values (None: it adds none)."""
    variable = param.variable
    match param.part:
        case Part.POPULATION:
            wanted = value == param.default
            return (quoted(variable.column), []) if wanted else None
        case Part.LEVEL | Part.DATA_LEVEL | Part.FLAG:
            return f"{quoted(variable.column)} = ?", [value]
        case Part.MINIMUM:
            return f"{quoted(variable.column)} >= ?", [value]
        case Part.MAXIMUM:
            return f"{quoted(variable.column)} <= ?", [value]
        case Part.SEGMENTS:
            registry = cohort_filter.variables
            columns = {registry.get(m).label: registry.get(m).column for m in variable.members}
            all_of = cohort_filter.value(variable.filter_keys[1]) == "all"
            joiner = " AND " if all_of else " OR "
            return "(" + joiner.join(quoted(columns[label]) for label in value) + ")", []
        case Part.PATTERN:
            mask = segment_mask(variable, cohort_filter.variables)
            return f"({mask.sql}) = ?", [mask.values.index(value)]
    return None  # Part.MATCH: read by its segments' condition


def cohort_sql(cohort_filter: CohortFilter, select: str = "*") -> tuple[str, list[Any]]:
    """``SELECT {select} FROM patient_summary WHERE ...`` for the filter, with its bound
    parameters.

    The summary has every patients column plus the derived outcomes (analytics.cohort.summary).
    A view's query names what it reads in ``select`` (its columns, or its aggregates, the
    query then whole): DuckDB takes about a millisecond to bind the summary's 60 columns of
    ``*``, a third of a query on the demo.
    """
    where, params = cohort_where(cohort_filter)
    return f"SELECT {select} FROM {SUMMARY_TABLE} WHERE {where}", params


def patient_sql(
    cohort_filter: CohortFilter, select: str = "*", reads: str = "*"
) -> tuple[str, list[Any]]:
    """:func:`cohort_sql` keeping one row per patient: what a person-level result counts
    (Table 1's person rows, safety events, death), each person once however many of their
    limbs the filter selects (the first of them, tallies.one_per_patient).

    Read as two branches of one scan: the rows of patients with one limb, each its
    patient's and kept as it is, and the rows of patients with two (stored last, so their
    branch reads their blocks only), where :func:`first_in_filter` looks the pairs up. A
    lookup of every limb's key took about half of a person-level query on a million limbs.
    ``select`` is taken over both (rows or aggregates); ``reads`` names the summary columns
    it reads, which the branches bind (``*``, every column, takes a millisecond). Its
    parameters are the filter's three times.
    """
    where, params = cohort_where(cohort_filter)
    rows = (
        f"SELECT {reads} FROM {SUMMARY_TABLE} WHERE ({where}) AND patient_limbs = 1 UNION ALL "
        f"SELECT {reads} FROM {SUMMARY_TABLE} WHERE ({where}) AND patient_limbs > 1 "
        f"AND {first_in_filter(where)}"
    )
    return f"SELECT {select} FROM ({rows})", [*params, *params, *params]


def has_bilateral(con: Any) -> bool:
    """Whether any patient of the cohort has two treated limbs: then every limb-level
    estimate is clustered by patient, whatever the filter, so that numbers do not jump
    when a bilateral patient enters it. Read once per file (analytics.cohort.tallies)."""
    return column_max(con, "patient_limbs") > 1


def both_limbs(con: Any, where: str, params: list[Any], predicates: list[str]) -> list[int]:
    """For each of ``predicates``, the patients ``where`` selects both limbs of that have
    both where it holds: what a count of the limbs where it holds has beyond its distinct
    patients (its limbs less these; a NULL predicate does not hold).

    Only the rows of patients with two limbs where a predicate holds can pair (stored
    last: their blocks only); they are paired in numpy by their patient_key, equal on a
    patient's two rows, in the order DuckDB keeps (insertion order: the summary's, by
    patient; sorted again only if not): a GROUP BY patient_key of the million's pairs
    took seven times as long. A view asks only for counts whose patients may matter
    (partitions.patients_may_matter), so the rows fetched are few. ``params`` are
    ``where``'s once."""
    if not predicates:
        return []
    columns = ", ".join(f"coalesce(({p}), false) AS p{i}" for i, p in enumerate(predicates))
    any_holds = " OR ".join(f"({p})" for p in predicates)
    found = con.execute(
        f"SELECT patient_key, {columns} FROM {SUMMARY_TABLE} "
        f"WHERE ({where}) AND patient_limbs > 1 AND ({any_holds})",
        params,
    ).fetchnumpy()
    keys = np.asarray(found["patient_key"])
    holds = [np.asarray(found[f"p{i}"], dtype=bool) for i in range(len(predicates))]
    if len(keys) > 1 and not np.all(keys[1:] >= keys[:-1]):
        order = np.argsort(keys, kind="stable")
        keys, holds = keys[order], [h[order] for h in holds]
    paired = keys[1:] == keys[:-1]  # a patient has two limbs at most
    return [int(np.count_nonzero(paired & h[1:] & h[:-1])) for h in holds]


def cohort_where(cohort_filter: CohortFilter) -> tuple[str, list[Any]]:
    """The condition on a patient summary row that the filter selects ("true" for none),
    with its bound parameters."""
    population = _population(cohort_filter.variables)
    chosen = [(population, cohort_filter.population)] if population else []
    chosen += [(p, v) for p, v in set_parameters(cohort_filter) if p.part is not Part.POPULATION]
    conditions: list[str] = []
    params: list[Any] = []
    for param, value in chosen:
        condition = _condition(param, value, cohort_filter)
        if condition is not None:
            conditions.append(condition[0])
            params.extend(condition[1])
    known = _parameters(cohort_filter.variables)
    for key, level, inside in cohort_filter.scope:
        column = quoted(known[key].variable.column)
        conditions.append(f"{column} = ?" if inside else f"{column} IS DISTINCT FROM ?")
        params.append(level)
    return " AND ".join(conditions) or "true", params
