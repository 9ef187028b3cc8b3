"""Everything a link can carry, specified once: key, parser, default and widget.

The view lives in session state under each parameter's key, which is also its
widget's key. On a session's first run every parameter is read from the URL through
its parser (an unusable value is dropped with a notice naming it); on every run each
value is set again, so it survives pages that do not draw its widget, and written
back to the URL, so a copied link reopens the same view. Filters use the one filter
parser (analytics.filters), so the URL holds exactly the text ``--where`` takes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from analytics.filters import (
    DEFAULT_FILTER,
    MATCH_MODES,
    SEGMENT_LABELS,
    SEGMENT_PATTERNS,
    CohortFilter,
    FilterError,
    parse_boolean,
    parse_filter_lenient,
    to_params,
)
from analytics.glossary import (
    DEFINITIONS,
    ENDPOINTS,
    GROUPINGS,
    POPULATIONS,
    RISK_FACTORS,
    SEGMENT_NAMES,
    TIME_UNITS,
    UNRELIABLE,
)
from analytics.groups import grouping
from analytics.present import format as fmt
from analytics.present.figures.patency import CUT, DOTTED, MONTHS, YEARS, TimeAxis
from analytics.present.privacy import MAX_K, MIN_K, checked_k, setting
from analytics.rules import (
    DEFAULT_MONTHS,
    LANDMARK_MONTHS,
    MAX_AXIS_MONTHS,
    MIN_AT_RISK_CHOICES,
    RISK_TABLE_CHOICES,
    RISK_TABLE_MONTHS,
    SUBGROUP_MONTH,
)
from analytics.stats.models import check_covariates
from analytics.views import PatencyRequest

ANY, YES, NO = "any", "yes", "no"
RISK_CHOICES = (ANY, YES, NO)
SEEDED = "_seeded_from_url"
NOTICES = "_url_notices"
Widget = Callable[..., Any]  # (param, container, **options) -> the widget's value


@dataclass(frozen=True)
class Known:
    """What a link's values are checked against beyond their form: this cohort's centres."""

    centres: tuple[str, ...] = ()


@dataclass(frozen=True)
class Param:
    """One piece of state a link can carry.

    ``parse`` turns the URL text into the state's value (raising ValueError with a
    reason); ``draw`` draws its widget (key = ``key``) in a container and returns its
    value; ``text`` turns a value back (None: leave it out of the URL), and a filter has
    none of its own: its text is the whole filter's (analytics.filters.to_params). A
    callable ``default`` is read each run (the deployment's privacy setting).
    """

    key: str
    default: Any
    parse: Callable[[str, Known], Any]
    draw: Widget | None
    text: Callable[[Any], str | None] | None = None

    def initial(self) -> Any:
        return self.default() if callable(self.default) else self.default


# ---- parsers and texts ---------------------------------------------------------------------


def _filter_value(key: str) -> Callable[[str, Known], Any]:
    """A filter key's widget value from URL text, through the one filter parser."""

    def parse(text: str, known: Known) -> Any:
        cohort_filter, problems = parse_filter_lenient({key: text})
        if problems:
            raise ValueError(problems[0])
        if key == "center" and text not in known.centres:
            raise ValueError(f"center={text!r}: no such centre in this cohort")
        return widget_values(cohort_filter)[key]

    return parse


def _choice(options: Sequence[str]) -> Callable[[str, Known], str]:
    def parse(text: str, known: Known) -> str:
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return text

    return parse


def _yes_no(key: str) -> Callable[[str, Known], bool]:
    def parse(text: str, known: Known) -> bool:
        try:
            return parse_boolean(key, text)
        except FilterError:
            raise ValueError("expected yes or no") from None

    return parse


def _k(text: str, known: Known) -> int:
    try:
        k = int(text)
    except ValueError:
        raise ValueError(f"expected a whole number from {MIN_K} to {MAX_K}") from None
    return checked_k(k, setting())


def _screen(text: str, known: Known) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_SCREENS:
        raise ValueError(f"expected a screen number from 1 to {MAX_SCREENS}")
    return int(text)


MAX_SCREENS = 30


def _whole(text: str) -> int | None:
    """A whole number written in digits only (no sign, point or exponent), else None."""
    return int(text) if re.fullmatch(r"[0-9]{1,6}", text) else None


def parse_risk_months(text: str) -> list[int]:
    """The risk-table months a link asks for, "0,12,24,36": each one of RISK_TABLE_CHOICES,
    given once or more in any order; returned once each, in order."""
    months = [_whole(part.strip()) for part in text.split(",")]
    if not all(m in RISK_TABLE_CHOICES for m in months):
        choices = ",".join(fmt.months(m) for m in RISK_TABLE_CHOICES)
        raise ValueError(f"expected months from {choices}, separated by commas")
    return sorted(set(months))


def parse_axis_months(text: str) -> int:
    """The time axis's end, a whole number of months from 1 to MAX_AXIS_MONTHS."""
    months = _whole(text)
    if months is None or not 1 <= months <= MAX_AXIS_MONTHS:
        raise ValueError(f"expected a whole number of months from 1 to {MAX_AXIS_MONTHS}")
    return months


def parse_min_at_risk(text: str) -> int:
    """Where curves turn unreliable for too few at risk: one of MIN_AT_RISK_CHOICES."""
    patients = _whole(text)
    if patients not in MIN_AT_RISK_CHOICES:
        choices = ", ".join(fmt.count(n) for n in MIN_AT_RISK_CHOICES)
        raise ValueError(f"expected one of {choices} (patients at risk)")
    return patients


def risk_months_text(months: Sequence[int]) -> str | None:
    """Risk-table months as a link writes them, None for the default or none chosen."""
    chosen = sorted(set(months))
    if not chosen or chosen == list(RISK_TABLE_MONTHS):
        return None
    return ",".join(fmt.months(m) for m in chosen)


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _flag(value: bool) -> str:
    return YES if value else NO


# ---- widgets ------------------------------------------------------------------------------


def _clear_notices() -> None:
    st.session_state[NOTICES] = []


CHANGED = {"on_change": _clear_notices}


def _population(param: Param, where: Any) -> Any:
    return where.radio(
        "Population", list(POPULATIONS), format_func=POPULATIONS.get, key=param.key,
        help=DEFINITIONS["Technical success"], **CHANGED,
    )  # fmt: skip


def _select(label: str, options: Sequence[str], by: str | None = None) -> Widget:
    def draw(param: Param, where: Any) -> Any:
        return where.selectbox(
            label, list(options), index=None, placeholder="Any", key=param.key,
            format_func=lambda value: fmt.level(by, value), **CHANGED,
        )  # fmt: skip

    return draw


def _segments(param: Param, where: Any) -> Any:
    return where.multiselect(
        "Segments involved", list(SEGMENT_LABELS), key=param.key, placeholder="Any",
        help=", ".join(f"{label} {name}" for label, name in SEGMENT_NAMES.items()),
        **CHANGED,
    )  # fmt: skip


def _segment_match(param: Param, where: Any) -> Any:
    return where.radio(
        "Match", list(MATCH_MODES), horizontal=True, key=param.key,
        format_func={"any": "any of them", "all": "all of them"}.get, **CHANGED,
    )  # fmt: skip


def _risk(label: str) -> Widget:
    def draw(param: Param, where: Any) -> Any:
        return where.radio(
            label, RISK_CHOICES, horizontal=True, key=param.key,
            format_func=lambda value: value.capitalize(), **CHANGED,
        )  # fmt: skip

    return draw


def _number(label: str, low: float, high: float, step: float) -> Widget:
    def draw(param: Param, where: Any) -> Any:
        return where.number_input(label, low, high, value=None, step=step, key=param.key, **CHANGED)

    return draw


def _centre(param: Param, where: Any) -> Any:
    options = list(st.session_state.get(CENTRES, ()))  # this cohort's, set by start()
    return where.selectbox(
        "Centre", options, index=None, placeholder="Any" if options else "No centres recorded",
        key=param.key, disabled=not options, **CHANGED,
    )  # fmt: skip


CENTRES = "_centres"


def _privacy(param: Param, where: Any) -> Any:
    enforced = setting().enforced
    return where.toggle(
        "Hide small counts", key=param.key, disabled=enforced,
        help="Counts from 1 to k-1 (and the percentages that would reveal them) show as "
        "'<k' in every table, chart label and export, so a small subgroup cannot be "
        "singled out." + (" Enforced by this deployment." if enforced else ""),
        **CHANGED,
    )  # fmt: skip


def _privacy_k(param: Param, where: Any) -> Any:
    deployment = setting()
    locked = deployment.enforced or not st.session_state.get("privacy")
    low = deployment.k if deployment.enforced else MIN_K
    return where.number_input("k", low, MAX_K, step=1, key=param.key, disabled=locked)


def _present(param: Param, where: Any) -> Any:
    return where.toggle(
        "Presentation mode", key=param.key,
        help="For a projector: one view per 16:9 screen in large type, each stating the "
        "cohort, filter and n; Previous and Next (or the Left and Right keys) step through. "
        "Also in a link as ?present=yes&screen=N.", **CHANGED,
    )  # fmt: skip


def _by(param: Param, where: Any) -> Any:
    return where.selectbox(
        "Compare by", list(GROUPINGS), index=None, format_func=GROUPINGS.get,
        placeholder="No comparison", key=param.key, **CHANGED,
        help="With no comparison the chart shows the three patencies; pick a factor to "
        "compare one endpoint across its groups.",
    )  # fmt: skip


def _endpoint(param: Param, where: Any, label: str = "Endpoint", **options: Any) -> Any:
    return where.selectbox(
        label, list(ENDPOINTS), format_func=ENDPOINTS.get, key=param.key, **CHANGED, **options
    )


def _ci(param: Param, where: Any) -> Any:
    return where.toggle("95% CI bands", key=param.key, **CHANGED)


def _cuminc(param: Param, where: Any) -> Any:
    return where.toggle(
        "Cumulative incidence, death competing", key=param.key, **CHANGED,
        help="A second chart: the endpoint's cumulative incidence as 1 - Kaplan-Meier (death "
        "censors) and by Aalen-Johansen (death competes), to see how much 1 - Kaplan-Meier "
        "overstates the endpoint where patients die.",
    )  # fmt: skip


def _unreliable(param: Param, where: Any) -> Any:
    return where.radio(
        f"Where {UNRELIABLE}", UNRELIABLE_CHOICES, horizontal=True, key=param.key,
        format_func={DOTTED: "dotted", CUT: "cut the curve"}.get, **CHANGED,
        help="Reporting standards treat an estimate whose standard error exceeds 10% as "
        "unreliable: draw the curve on, dotted, or stop it there.",
    )  # fmt: skip


UNRELIABLE_CHOICES = (DOTTED, CUT)


def _risk_months(param: Param, where: Any) -> Any:
    return where.multiselect(
        "Risk-table months", list(RISK_TABLE_CHOICES), key=param.key, format_func=fmt.months,
        placeholder=f"Default: {', '.join(fmt.months(m) for m in RISK_TABLE_MONTHS)}",
        help="The months of the KMunicate table under the curves, also the axis's ticks "
        "(and the deck's table). Also in a link as ?months=0,12,24,36.", **CHANGED,
    )  # fmt: skip


def _axis_months(param: Param, where: Any) -> Any:
    return where.number_input(
        "Axis to (months)", 1, MAX_AXIS_MONTHS, value=None, step=6, key=param.key,
        placeholder="last follow-up", help="Where the time axis ends; risk-table months "
        "beyond it are left out. Empty: the last follow-up. Also ?xmax=48.", **CHANGED,
    )  # fmt: skip


def _unit(param: Param, where: Any) -> Any:
    return where.radio(
        "Time in", TIME_UNIT_CHOICES, horizontal=True, key=param.key, format_func=_unit_word,
        help="Axis ticks, the axis's title and the hover in months or years; tables, the "
        "report and its JSON stay in months. Also ?unit=years.", **CHANGED,
    )  # fmt: skip


TIME_UNIT_CHOICES = (MONTHS, YEARS)


def _unit_word(unit: str) -> str:
    return TIME_UNITS[unit].lower()


NO_LIMIT = "no limit"


def _min_at_risk(param: Param, where: Any) -> Any:
    return where.selectbox(
        "Fewer at risk than", [None, *MIN_AT_RISK_CHOICES], key=param.key,
        format_func=lambda n: NO_LIMIT if n is None else fmt.count(n), **CHANGED,
        placeholder=NO_LIMIT,  # what the box shows while the state holds None: no limit
        help="A curve also turns dotted, or stops (as chosen for the SE rule), once fewer "
        "than this many patients remain at risk. Also ?min_at_risk=10.",
    )  # fmt: skip


def _month(param: Param, where: Any, label: str = "Month") -> Any:
    return where.selectbox(label, MONTH_CHOICES, key=param.key, **CHANGED)


MONTH_CHOICES = [fmt.months(m) for m in DEFAULT_MONTHS]


# ---- the Models page's model: its covariates (drawn by the page's own widgets) ------------


def _covariates(text: str, known: Known) -> tuple[str, ...]:
    """``adjust`` from URL text: the covariates `report --adjust` takes, in order."""
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    if not wanted:
        raise ValueError("expected covariates like symptom_duration_months,recurrent_dvt")
    return check_covariates(wanted)  # a ModelError is a ValueError naming the covariate


def _joined(values: Sequence[str]) -> str | None:
    return ",".join(values) or None


MODEL_PARAMS = (
    Param("adjust", (), _covariates, None, _joined),  # set by the Models page once fitted
    Param("model_endpoint", "primary", _choice(list(ENDPOINTS)), _endpoint, _as_text),
)


# ---- comparisons: the reference group, the landmark (issue 14) --------------------------------


def _reference_level(text: str, known: Known) -> str:
    """A reference group from a link: a level of the link's ``by``, which is parsed before
    it (seed_from_url reads PARAMS in order)."""
    by = st.session_state.get("by")
    if by is None:
        raise ValueError("a reference group needs a comparison (by=...)")
    levels = grouping(by).values or known.centres
    if text not in levels:
        raise ValueError(
            f"not a group of {GROUPINGS[by]}; expected one of {', '.join(levels) or 'none'}"
        )
    return text


def _reference(param: Param, where: Any, levels: Sequence[str] = (), by: str | None = None) -> Any:
    """The reference group among the view's ``levels``; none chosen means the first. A
    choice that is not among them (another split's group, or one the filter left out) is
    dropped."""
    if st.session_state.get(param.key) not in (None, *levels):
        st.session_state[param.key] = None
    return where.selectbox(
        "Reference group", list(levels), index=None, key=param.key,
        placeholder=f"{fmt.level(by, levels[0])} (the first)" if levels else "With 'Compare by'",
        format_func=lambda value: fmt.level(by, value), disabled=not levels,
        help=DEFINITIONS["Reference group"], **CHANGED,
    )  # fmt: skip


LANDMARK_OFF = "off"
LANDMARK_CHOICES = (LANDMARK_OFF, *(fmt.months(m) for m in LANDMARK_MONTHS))


def _landmark(param: Param, where: Any) -> float | None:
    """The landmark month, or None when off (the widget holds its text)."""
    choice = where.radio(
        "Landmark", LANDMARK_CHOICES, horizontal=True, key=param.key,
        format_func=lambda value: "Off" if value == LANDMARK_OFF else f"month {value}",
        help=DEFINITIONS["Landmark"], **CHANGED,
    )  # fmt: skip
    return None if choice == LANDMARK_OFF else float(choice)


# ---- the spec -----------------------------------------------------------------------------


def widget_values(cohort_filter: CohortFilter) -> dict[str, Any]:
    """The filter widgets' values that show ``cohort_filter``; inverse of current_filter."""
    return {
        "population": cohort_filter.population,
        "lesion_side": cohort_filter.lesion_side,
        "sex": cohort_filter.sex,
        "segments": list(cohort_filter.segments),
        "segment_match": cohort_filter.segment_match,
        "segment_pattern": cohort_filter.segment_pattern,
        "age_min": cohort_filter.age_min,
        "age_max": cohort_filter.age_max,
        "bmi_min": cohort_filter.bmi_min,
        "bmi_max": cohort_filter.bmi_max,
        "center": cohort_filter.center,
        **{c: _risk_value(cohort_filter.risk(c)) for c in RISK_FACTORS},
    }


def _risk_value(wanted: bool | None) -> str:
    return ANY if wanted is None else _flag(wanted)


FILTER_DEFAULTS = widget_values(DEFAULT_FILTER)
FILTER_WIDGETS: dict[str, Widget] = {
    "population": _population,
    "lesion_side": _select("Lesion side", ("left", "right"), "lesion_side"),
    "sex": _select("Sex", ("F", "M"), "sex"),
    "segments": _segments,
    "segment_match": _segment_match,
    "segment_pattern": _select("Exact pattern", SEGMENT_PATTERNS),
    **{column: _risk(label) for column, label in RISK_FACTORS.items()},
    "age_min": _number("Age from", 18, 110, 1),
    "age_max": _number("Age to", 18, 110, 1),
    "bmi_min": _number("BMI from", 12.0, 70.0, 0.5),
    "bmi_max": _number("BMI to", 12.0, 70.0, 0.5),
    "center": _centre,
}
FILTER_PARAMS = tuple(
    Param(key, FILTER_DEFAULTS[key], _filter_value(key), draw)
    for key, draw in FILTER_WIDGETS.items()
)
VIEW_PARAMS = (
    Param("privacy", lambda: setting().mode != "off", _yes_no("privacy"), _privacy, _flag),
    Param("privacy_k", lambda: setting().k, _k, _privacy_k, _as_text),
    Param("present", False, _yes_no("present"), _present, _flag),
    Param("screen", 1, _screen, None, _as_text),  # the presenting view's (ui.presenting)
    Param("by", None, _choice(list(GROUPINGS)), _by, _as_text),
    Param("endpoint", "primary", _choice(list(ENDPOINTS)), _endpoint, _as_text),
    Param("ci", True, _yes_no("ci"), _ci, _flag),
    Param("cuminc", False, _yes_no("cuminc"), _cuminc, _flag),
    Param("unreliable", DOTTED, _choice(UNRELIABLE_CHOICES), _unreliable, _as_text),
    Param("month", fmt.months(SUBGROUP_MONTH), _choice(MONTH_CHOICES), _month, _as_text),
    Param("months", lambda: list(RISK_TABLE_MONTHS), lambda text, known: parse_risk_months(text),
          _risk_months, risk_months_text),
    Param("xmax", None, lambda text, known: parse_axis_months(text), _axis_months, _as_text),
    Param("unit", MONTHS, _choice(TIME_UNIT_CHOICES), _unit, _as_text),
    Param("min_at_risk", None, lambda text, known: parse_min_at_risk(text), _min_at_risk,
          _as_text),
    Param("ref", None, _reference_level, _reference, _as_text),
    Param("landmark", LANDMARK_OFF, _choice(LANDMARK_CHOICES), _landmark, _as_text),
)  # fmt: skip
VIEW_PARAMS += MODEL_PARAMS
PARAMS = {param.key: param for param in (*FILTER_PARAMS, *VIEW_PARAMS)}
COHORT = "cohort"  # the cohort's name; ui.cohorts owns it (it is resolved before the rest)


def start(known: Known) -> None:
    """Every run's first step: the link read (first run only), every value set again."""
    st.session_state[CENTRES] = known.centres
    seed_from_url(known)
    keep()


def seed_from_url(known: Known) -> None:
    """On a session's first run, every parameter the link carries, or a notice for it."""
    if SEEDED in st.session_state:
        return
    st.session_state[SEEDED] = True
    notices = st.session_state.setdefault(NOTICES, [])
    for key in st.query_params:
        if key not in PARAMS and key != COHORT:
            notices.append(f"{key}={url_text(key)!r}: not a setting a link can carry; ignored")
    for param in PARAMS.values():
        text = url_text(param.key)
        if text is None or text == "":
            continue
        try:
            st.session_state[param.key] = param.parse(text, known)
        except ValueError as exc:
            reason = str(exc).removeprefix(f"{param.key}={text!r}: ")
            notices.append(f"{param.key}={text!r}: {reason}; ignored")


def keep() -> None:
    """Set every parameter again: Streamlit forgets the value of a widget a page did not draw.

    An enforced privacy mode is switched back on, and k raised to the enforced floor,
    whatever the link or the state say.
    """
    for param in PARAMS.values():
        st.session_state[param.key] = st.session_state.get(param.key, param.initial())
    deployment = setting()
    if deployment.enforced:
        st.session_state["privacy"] = True
        st.session_state["privacy_k"] = max(int(st.session_state["privacy_k"]), deployment.k)


def value(key: str) -> Any:
    """The current value of a parameter."""
    return st.session_state.get(key, PARAMS[key].initial())


def risk_months() -> tuple[int, ...]:
    """The risk-table months chosen, in order; the default ones when none is."""
    return tuple(sorted(set(value("months")))) or RISK_TABLE_MONTHS


def patency_request(time_controls: bool = True) -> PatencyRequest:
    """The Patency view the session asks for: the comparison, its endpoint and reference
    group and, with ``time_controls``, the risk-table months and the landmark the Patency
    page draws (the presenting view has neither control: it keeps the defaults)."""
    request = PatencyRequest(value("by"), value("endpoint"), reference=value("ref"))
    if not time_controls:
        return request
    landmark = value("landmark")
    return replace(
        request,
        risk_months=risk_months(),
        landmark=None if landmark == LANDMARK_OFF else float(landmark),
    )


def time_axis() -> TimeAxis:
    """The Patency chart's time axis as its controls hold it."""
    return TimeAxis(value("xmax"), value("unit"), value("min_at_risk"))


def draw(key: str, where: Any = st, **options: Any) -> Any:
    """Draw the parameter's widget in ``where`` and return its value.

    ``options`` (a page's own label, ``disabled``) go to widgets that take them.
    """
    param = PARAMS[key]
    assert param.draw is not None, f"{key} has no widget"
    return param.draw(param, where, **options)


def url_text(key: str) -> str | None:
    """The URL's value for ``key`` (repeated values joined by commas), or None."""
    values = st.query_params.get_all(key)
    return ",".join(values) if values else None


def link_params() -> dict[str, str]:
    """Every parameter that differs from its default, as URL text: the view as a link."""
    params = to_params(current_filter())
    for param in VIEW_PARAMS:
        current = value(param.key)
        text = param.text(current) if param.text else None
        if current != param.initial() and text is not None:
            params[param.key] = text
    return params


def write_url(extra: dict[str, str] | None = None) -> None:
    """Put the view in the URL: every parameter that differs from its default."""
    wanted = {**link_params(), **(extra or {})}
    for key in list(st.query_params):
        if key not in wanted:
            del st.query_params[key]
    for key, text in wanted.items():
        if st.query_params.get(key) != text:
            st.query_params[key] = text


def add_notice(text: str) -> None:
    """Tell the user a value of their link was dropped (shown until they change a setting)."""
    st.session_state.setdefault(NOTICES, []).append(text)


def notices() -> list[str]:
    """The link values this session had to drop, each naming the parameter and value."""
    return list(st.session_state.get(NOTICES, []))


def reset_filters() -> None:
    """Every filter back to its default (a button's callback)."""
    for param in FILTER_PARAMS:
        st.session_state[param.key] = param.default
    _clear_notices()


def current_filter(override: dict[str, Any] | None = None) -> CohortFilter:
    """The filter the widgets hold now (``override``: some widget values replaced)."""
    state = {param.key: value(param.key) for param in FILTER_PARAMS} | (override or {})
    risks = tuple(sorted((c, state[c] == YES) for c in RISK_FACTORS if state[c] != ANY))
    return CohortFilter(
        population=state["population"] or DEFAULT_FILTER.population,
        lesion_side=state["lesion_side"],
        sex=state["sex"],
        segments=tuple(s for s in SEGMENT_LABELS if s in (state["segments"] or [])),
        segment_match=state["segment_match"] or DEFAULT_FILTER.segment_match,
        segment_pattern=state["segment_pattern"],
        risk_factors=risks,
        age_min=None if state["age_min"] is None else int(state["age_min"]),
        age_max=None if state["age_max"] is None else int(state["age_max"]),
        bmi_min=None if state["bmi_min"] is None else float(state["bmi_min"]),
        bmi_max=None if state["bmi_max"] is None else float(state["bmi_max"]),
        center=state["center"],
    )
