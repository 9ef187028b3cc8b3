"""The one filter specification: parsed from text, turned into parameterised SQL.

A :class:`CohortFilter` is built from ``key=value`` text (URL query parameters,
``--where`` on the command line) by :func:`parse_filter`, written back by
:func:`to_params`, and becomes SQL by :func:`cohort_sql`. Column names come only
from the allow-lists below; every user value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from analytics.cohort.summary import SUMMARY_TABLE
from analytics.glossary import (
    FALSE_WORDS,
    POPULATIONS,
    RISK_FACTORS,
    SEGMENTS,
    SEXES,
    SIDES,
    TRUE_WORDS,
)

SEGMENT_LABELS = tuple(SEGMENTS.values())  # IVC, CIV, EIV, CFV: central to peripheral
SEGMENT_COLUMNS = {label: column for column, label in SEGMENTS.items()}
# Every contiguous run of segments is a possible lesion pattern.
SEGMENT_PATTERNS = tuple(
    "+".join(SEGMENT_LABELS[start:stop])
    for start in range(len(SEGMENT_LABELS))
    for stop in range(start + 1, len(SEGMENT_LABELS) + 1)
)
# A lesion's segments as a bit mask (IVC 1, CIV 2, EIV 4, CFV 8), and each mask's pattern.
SEGMENT_MASK_SQL = " + ".join(f"{2**i} * {column}::INT" for i, column in enumerate(SEGMENTS))
SEGMENT_PATTERN_OF_MASK = tuple(
    "+".join(label for i, label in enumerate(SEGMENT_LABELS) if mask >> i & 1)
    for mask in range(2 ** len(SEGMENT_LABELS))
)
MATCH_MODES = ("any", "all")


def count_where(predicate: str) -> str:
    """SQL counting the rows where ``predicate`` holds: 0, not NULL, over no rows or where
    it is NULL throughout. count_if, not count(*) FILTER (WHERE ...), which takes four
    times as long in DuckDB 2.0."""
    return f"coalesce(count_if({predicate}), 0)"


class FilterError(ValueError):
    """A filter value that cannot be used; the message names the key and the value."""


@dataclass(frozen=True)
class CohortFilter:
    """Which patients to analyse. Hashable, so results can be cached by it."""

    population: str = "technical_success"
    lesion_side: str | None = None
    sex: str | None = None
    segments: tuple[str, ...] = ()
    segment_match: str = "any"
    segment_pattern: str | None = None
    risk_factors: tuple[tuple[str, bool], ...] = field(default=())
    age_min: int | None = None
    age_max: int | None = None
    bmi_min: float | None = None
    bmi_max: float | None = None
    center: str | None = None

    def risk(self, column: str) -> bool | None:
        """The required value of one risk factor, None when it is not filtered."""
        return dict(self.risk_factors).get(column)

    def with_risk(self, column: str, value: bool | None) -> CohortFilter:
        """A copy with one risk factor required to be ``value`` (None: any)."""
        kept = {k: v for k, v in self.risk_factors if k != column}
        if value is not None:
            kept[column] = value
        return replace(self, risk_factors=tuple(sorted(kept.items())))


DEFAULT_FILTER = CohortFilter()
FILTER_KEYS = (
    *(f.name for f in fields(CohortFilter) if f.name != "risk_factors"),
    *RISK_FACTORS,
)


def parse_boolean(key: str, text: str) -> bool:
    """true/false, yes/no, 1/0 in any case."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FilterError(f"{key}={text!r}: expected yes or no")


def _choice(key: str, text: str, allowed: Mapping[str, str] | tuple[str, ...]) -> str:
    if text not in allowed:
        raise FilterError(f"{key}={text!r}: expected one of {', '.join(allowed)}")
    return text


def _number(key: str, text: str, kind: type, low: float, high: float) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise FilterError(f"{key}={text!r}: expected a number") from None
    if not low <= value <= high:
        raise FilterError(f"{key}={text!r}: expected a number from {low:g} to {high:g}")
    return value


def _segments(key: str, text: str) -> tuple[str, ...]:
    chosen = [part.strip().upper() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in SEGMENT_COLUMNS]
    if unknown:
        raise FilterError(f"{key}={text!r}: unknown segment {unknown[0]}; use {SEGMENT_LABELS}")
    return tuple(label for label in SEGMENT_LABELS if label in chosen)


def _center(key: str, text: str) -> str:
    if not 1 <= len(text) <= 64:
        raise FilterError(f"{key}: a centre label has 1 to 64 characters")
    return text


PARSERS = {
    "population": lambda k, v: _choice(k, v, POPULATIONS),
    "lesion_side": lambda k, v: _choice(k, v, SIDES),
    "sex": lambda k, v: _choice(k, v, SEXES),
    "segments": _segments,
    "segment_match": lambda k, v: _choice(k, v, MATCH_MODES),
    "segment_pattern": lambda k, v: _choice(k, v.upper(), SEGMENT_PATTERNS),
    "age_min": lambda k, v: _number(k, v, int, 18, 110),
    "age_max": lambda k, v: _number(k, v, int, 18, 110),
    "bmi_min": lambda k, v: _number(k, v, float, 12, 70),
    "bmi_max": lambda k, v: _number(k, v, float, 12, 70),
    "center": _center,
}


def parse_filter_lenient(params: Mapping[str, str]) -> tuple[CohortFilter, list[str]]:
    """Build a filter from text, dropping each unusable item with a message saying why."""
    values: dict[str, Any] = {}
    risks: dict[str, bool] = {}
    problems: list[str] = []
    for key, text in params.items():
        try:
            if key in RISK_FACTORS:
                risks[key] = parse_boolean(key, text)
            elif key in PARSERS:
                values[key] = PARSERS[key](key, text)
            else:
                raise FilterError(
                    f"{key}: unknown filter; known filters are {', '.join(FILTER_KEYS)}"
                )
        except FilterError as exc:
            problems.append(str(exc))
    return CohortFilter(**values, risk_factors=tuple(sorted(risks.items()))), problems


def parse_filter(params: Mapping[str, str]) -> CohortFilter:
    """Build a filter from text; any unusable item is an error naming it."""
    cohort_filter, problems = parse_filter_lenient(params)
    if problems:
        raise FilterError("; ".join(problems))
    return cohort_filter


def parse_pairs(pairs: list[str]) -> CohortFilter:
    """``COL=VALUE`` strings (the CLI's --where) to a filter."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise FilterError(f"{pair!r}: expected COLUMN=VALUE")
        params[key.strip()] = value.strip()
    return parse_filter(params)


def to_params(cohort_filter: CohortFilter) -> dict[str, str]:
    """The filter as text, only where it differs from the default; inverse of parse_filter."""
    params: dict[str, str] = {}
    for item in fields(CohortFilter):
        value = getattr(cohort_filter, item.name)
        if item.name == "risk_factors" or value == getattr(DEFAULT_FILTER, item.name):
            continue
        params[item.name] = (
            ",".join(value)
            if isinstance(value, tuple)
            else f"{value:g}"
            if isinstance(value, float)
            else str(value)
        )
    for column, wanted in cohort_filter.risk_factors:
        params[column] = "yes" if wanted else "no"
    return params


def cohort_sql(cohort_filter: CohortFilter) -> tuple[str, list[Any]]:
    """``SELECT * FROM patient_summary WHERE ...`` for the filter, with its bound parameters.

    The summary has every patients column plus the derived outcomes (analytics.cohort.summary).
    """
    conditions: list[str] = []
    params: list[Any] = []

    def bind(condition: str, *values: Any) -> None:
        conditions.append(condition)
        params.extend(values)

    if cohort_filter.population == "technical_success":
        conditions.append("technical_success")
    if cohort_filter.lesion_side is not None:
        bind("lesion_side = ?", cohort_filter.lesion_side)
    if cohort_filter.sex is not None:
        bind("sex = ?", cohort_filter.sex)
    if cohort_filter.segments:
        joiner = " AND " if cohort_filter.segment_match == "all" else " OR "
        conditions.append(
            "(" + joiner.join(SEGMENT_COLUMNS[s] for s in cohort_filter.segments) + ")"
        )
    if cohort_filter.segment_pattern is not None:
        bind(
            f"({SEGMENT_MASK_SQL}) = ?",
            SEGMENT_PATTERN_OF_MASK.index(cohort_filter.segment_pattern),
        )
    for column, wanted in cohort_filter.risk_factors:
        if column not in RISK_FACTORS:
            raise FilterError(f"{column}: not a risk factor")
        bind(f"{column} = ?", wanted)
    for column, low, high in (
        ("age_years", cohort_filter.age_min, cohort_filter.age_max),
        ("bmi", cohort_filter.bmi_min, cohort_filter.bmi_max),
    ):
        if low is not None:
            bind(f"{column} >= ?", low)
        if high is not None:
            bind(f"{column} <= ?", high)
    if cohort_filter.center is not None:
        bind("center = ?", cohort_filter.center)
    where = " AND ".join(conditions) or "true"
    return f"SELECT * FROM {SUMMARY_TABLE} WHERE {where}", params
