"""Everything a link can carry, specified once: key, parser, default and widget.

The view lives in session state under each parameter's key, which is also its
widget's key. On a session's first run every parameter is read from the URL through
its parser (an unusable value is dropped with a notice naming it); on every run each
value is set again, so it survives pages that do not draw its widget, and written
back to the URL, so a copied link reopens the same view. Filters use the one filter
parser (analytics.filters), so the URL holds exactly the text ``--where`` takes.

The filter parameters derive from the open cohort's variables (analytics.variables), which
:func:`start` keeps in the session: each filter key gets the widget of what it holds (a
yes/no, a level, a level from the data, a measure's bound, a segment set's parts, the
population), labelled from its declaration. ``PARAMS`` is the built-ins' set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import streamlit as st

from analytics.filters import (
    MATCH_MODES,
    CohortFilter,
    FilterError,
    FilterParam,
    Part,
    contiguous_patterns,
    filter_parameters,
    member_labels,
    parse_boolean,
    parse_filter_lenient,
    to_params,
)
from analytics.glossary import (
    DEFINITIONS,
    ENDPOINTS,
    FILTER_PART_WORDS,
    TIME_UNITS,
    UNRELIABLE,
)
from analytics.groups import grouping
from analytics.present import format as fmt
from analytics.present.figures.patency import CUT, DOTTED, MONTHS, YEARS, TimeAxis
from analytics.present.privacy import MAX_K, MIN_K, checked_k
from analytics.rules import (
    DEFAULT_MONTHS,
    LANDMARK_MONTHS,
    MAX_AXIS_MONTHS,
    MIN_AT_RISK_CHOICES,
    RISK_TABLE_CHOICES,
    RISK_TABLE_MONTHS,
    SUBGROUP_MONTH,
)
from analytics.scope import CENTRE, Choice
from analytics.stats.models import check_covariates
from analytics.variables import BUILTIN, SECTIONS, Registry, Variable
from analytics.views import PatencyRequest
from ui.access import SCOPE, session_centre, session_scope
from ui.privacy import session_setting

ANY, YES, NO = "any", "yes", "no"
FLAG_CHOICES = (ANY, YES, NO)  # a yes/no filter's radio: any, or required yes or no
SEEDED = "_seeded_from_url"
NOTICES = "_url_notices"
VARIABLES, LEVELS = "_variables", "_data_levels"  # the session's cohort, as start() keeps it
Widget = Callable[..., Any]  # (param, container, **options) -> the widget's value


@dataclass(frozen=True)
class Known:
    """What a link's values are checked against beyond their form: this cohort's variables,
    and the levels its data holds of each variable that takes them from the data (the
    centres), as ``(key, levels)`` pairs."""

    levels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    variables: Registry = BUILTIN

    def levels_of(self, key: str) -> tuple[str, ...]:
        """The levels the data holds of variable ``key``; () when it has none from the data."""
        return dict(self.levels).get(key, ())


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


def _filter_value(param: FilterParam) -> Callable[[str, Known], Any]:
    """A filter key's widget value from URL text, through the one filter parser; a level
    from the data must be one this cohort holds."""
    key = param.key

    def parse(text: str, known: Known) -> Any:
        cohort_filter, problems = parse_filter_lenient({key: text}, known.variables)
        if problems:
            raise ValueError(problems[0])
        if param.part is Part.DATA_LEVEL and text not in known.levels_of(param.variable.key):
            label = param.variable.label.lower()
            raise ValueError(f"{key}={text!r}: no such {label} in this cohort")
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
    return checked_k(k, session_setting())


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


# A filter's widget by what its parameter holds (analytics.filters.Part), labelled from its
# variable's declaration.


def _population(variable: Variable) -> Widget:
    shown = dict(variable.population)  # only where it holds, everyone

    def draw(param: Param, where: Any) -> Any:
        return where.radio(
            "Population", list(shown), format_func=shown.get, key=param.key,
            help=DEFINITIONS.get(variable.label), **CHANGED,
        )  # fmt: skip

    return draw


def _select(label: str, options: Sequence[str], words: Mapping[str, str]) -> Widget:
    def draw(param: Param, where: Any) -> Any:
        return where.selectbox(
            label, list(options), index=None, placeholder="Any", key=param.key,
            format_func=lambda value: words.get(value, value), **CHANGED,
        )  # fmt: skip

    return draw


def _segments(variable: Variable, variables: Registry) -> Widget:
    members = [variables.get(member) for member in variable.members]
    names = ", ".join(f"{member.label} {member.long_label}" for member in members)

    def draw(param: Param, where: Any) -> Any:
        return where.multiselect(
            "Segments involved", list(member_labels(variable, variables)), key=param.key,
            placeholder="Any", help=names, **CHANGED,
        )  # fmt: skip

    return draw


def _segment_match(param: Param, where: Any) -> Any:
    return where.radio(
        "Match", list(MATCH_MODES), horizontal=True, key=param.key,
        format_func={"any": "any of them", "all": "all of them"}.get, **CHANGED,
    )  # fmt: skip


def _flag_radio(label: str) -> Widget:
    def draw(param: Param, where: Any) -> Any:
        return where.radio(
            label, FLAG_CHOICES, horizontal=True, key=param.key,
            format_func=lambda value: value.capitalize(), **CHANGED,
        )  # fmt: skip

    return draw


def _bound(variable: Variable, part: Part) -> Widget:
    """A measure's lower or upper bound: "Age from", whole numbers where it has them."""
    declared = variable.range
    assert declared is not None  # a filtering number declares its range (Variable checks)
    number = int if declared.integer else float
    low, high, step = number(declared.low), number(declared.high), number(declared.step)
    label = f"{variable.label} {FILTER_PART_WORDS[part]}"

    def draw(param: Param, where: Any) -> Any:
        return where.number_input(label, low, high, value=None, step=step, key=param.key, **CHANGED)

    return draw


def _data_level(variable: Variable) -> Widget:
    """A level the data holds (a centre): this cohort's, as start() keeps them."""

    def draw(param: Param, where: Any) -> Any:
        options = list(dict(st.session_state.get(LEVELS, ())).get(variable.key, ()))
        return where.selectbox(
            variable.label, options, index=None, key=param.key, disabled=not options,
            placeholder="Any" if options else f"No {variable.label.lower()}s recorded",
            format_func=fmt.data_text,
            **CHANGED,
        )  # fmt: skip

    return draw


def _filter_widget(param: FilterParam, variables: Registry) -> Widget:
    variable = param.variable
    match param.part:
        case Part.POPULATION:
            return _population(variable)
        case Part.LEVEL:
            return _select(variable.label, variable.level_order, dict(variable.levels))
        case Part.DATA_LEVEL:
            return _data_level(variable)
        case Part.FLAG:
            return _flag_radio(variable.label)
        case Part.MINIMUM | Part.MAXIMUM:
            return _bound(variable, param.part)
        case Part.SEGMENTS:
            return _segments(variable, variables)
        case Part.MATCH:
            return _segment_match
    return _select("Exact pattern", contiguous_patterns(variable, variables), {})


def _privacy(param: Param, where: Any) -> Any:
    enforced = session_setting().enforced
    return where.toggle(
        "Hide small counts", key=param.key, disabled=enforced,
        help="Counts from 1 to k-1 (and the percentages that would reveal them) show as "
        "'<k' in every table, chart label and export, so a small subgroup cannot be "
        "singled out." + (" Enforced by this deployment." if enforced else ""),
        **CHANGED,
    )  # fmt: skip


def _privacy_k(param: Param, where: Any) -> Any:
    deployment = session_setting()
    locked = deployment.enforced or not st.session_state.get("privacy")
    low = deployment.k if deployment.enforced else MIN_K
    return where.number_input("k", low, MAX_K, step=1, key=param.key, disabled=locked)


def _scope(param: Param, where: Any) -> Any:
    """A centre's user's two scopes: their centre, or the others pooled (never the registry)."""
    centre = fmt.data_text(session_centre() or "")
    words = {Choice.MINE: f"My centre ({centre})", Choice.OTHERS: "Other centres (pooled)"}
    return where.radio(
        "Patients", list(Choice), key=param.key, format_func=words.get, **CHANGED,
        help="Your account sees your centre's patients, or the other centres' together as "
        "one pool with small counts hidden; never the whole registry.",
    )  # fmt: skip


def _present(param: Param, where: Any) -> Any:
    return where.toggle(
        "Presentation mode", key=param.key,
        help="For a projector: one view per 16:9 screen in large type, each stating the "
        "cohort, filter and n; Previous and Next (or the Left and Right keys) step through. "
        "Also in a link as ?present=yes&screen=N.", **CHANGED,
    )  # fmt: skip


def allowed_groupings(variables: Registry) -> dict[str, str]:
    """The cohort's groupings this session may compare by (analytics.scope: not by centre
    for a centre's user)."""
    scope = session_scope()
    return {key: label for key, label in variables.groupings().items() if scope.allows(key)}


def _grouping(text: str, known: Known) -> str:
    """``by`` from URL text: one of the cohort's groupings this session may compare by."""
    return _choice(list(allowed_groupings(known.variables)))(text, known)


def _by(param: Param, where: Any) -> Any:
    groupings = allowed_groupings(session_variables())
    return where.selectbox(
        "Compare by", list(groupings), index=None, format_func=groupings.get,
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
    """``adjust`` from URL text: the covariates `report --adjust` takes, in order (checked
    against the session's scope after: keep_in_scope)."""
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    if not wanted:
        raise ValueError("expected covariates like symptom_duration_months,recurrent_dvt")
    return check_covariates(wanted, known.variables)  # a ModelError is a ValueError naming it


def _joined(values: Sequence[str]) -> str | None:
    return ",".join(values) or None


MODEL_PARAMS = (
    Param("adjust", (), _covariates, None, _joined),  # set by the Models page once fitted
    Param("model_endpoint", "primary", _choice(list(ENDPOINTS)), _endpoint, _as_text),
)


# ---- comparisons: the reference group, the landmark (issue 14) --------------------------------


def _reference_level(text: str, known: Known) -> str:
    """A reference group from a link: a level of the link's ``by``, which is parsed before
    it (seed_from_url reads the parameters in order)."""
    by = st.session_state.get("by")
    if by is None:
        raise ValueError("a reference group needs a comparison (by=...)")
    levels = grouping(by, known.variables).values or known.levels_of(by)
    if text not in levels:
        label = known.variables.groupings()[by]
        raise ValueError(f"not a group of {label}; expected one of {', '.join(levels) or 'none'}")
    return text


def _reference(param: Param, where: Any, levels: Sequence[str] = (), by: str | None = None) -> Any:
    """The reference group among the view's ``levels``; none chosen means the first. A
    choice that is not among them (another split's group, or one the filter left out) is
    dropped."""
    if st.session_state.get(param.key) not in (None, *levels):
        st.session_state[param.key] = None
    variables = session_variables()
    first = f"{fmt.level(by, levels[0], variables)} (the first)" if levels else None
    return where.selectbox(
        "Reference group", list(levels), index=None, key=param.key,
        placeholder=first or "With 'Compare by'", disabled=not levels,
        format_func=lambda value: fmt.level(by, value, variables),
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
    values: dict[str, Any] = {}
    for param in filter_parameters(cohort_filter.variables):
        chosen = cohort_filter.value(param.key)
        if param.part is Part.SEGMENTS:
            chosen = list(chosen)
        elif param.part is Part.FLAG:
            chosen = ANY if chosen is None else _flag(chosen)
        values[param.key] = chosen
    return values


@lru_cache(maxsize=16)  # per registry, hashed by its fingerprint: read on every run
def filter_sections(variables: Registry) -> tuple[tuple[str, tuple[FilterParam, ...]], ...]:
    """The filter parameters of ``variables`` by the sidebar section their variable names,
    the sections in the sidebar's order (analytics.variables.SECTIONS, then any other in
    the order declared), each in filter order; empty sections left out."""
    sections: dict[str, list[FilterParam]] = {section: [] for section in SECTIONS}
    for param in filter_parameters(variables):
        sections.setdefault(param.variable.section, []).append(param)
    return tuple((section, tuple(found)) for section, found in sections.items() if found)


@lru_cache(maxsize=16)
def filter_params(variables: Registry) -> tuple[Param, ...]:
    """The link's filter parameters for ``variables``, in the sidebar's order (so a link's
    notices follow it): each with the widget of what it holds and the filter parser."""
    defaults = widget_values(CohortFilter(variables=variables))
    return tuple(
        Param(
            param.key, defaults[param.key], _filter_value(param), _filter_widget(param, variables)
        )
        for _, section in filter_sections(variables)
        for param in section
    )


VIEW_PARAMS = (
    Param("privacy", lambda: session_setting().mode != "off", _yes_no("privacy"), _privacy, _flag),
    Param("privacy_k", lambda: session_setting().k, _k, _privacy_k, _as_text),
    Param("present", False, _yes_no("present"), _present, _flag),
    Param(SCOPE, Choice.MINE, lambda text, known: Choice(_choice(list(Choice))(text, known)),
          _scope, _as_text),
    Param("screen", 1, _screen, None, _as_text),  # the presenting view's (ui.presenting)
    Param("by", None, _grouping, _by, _as_text),
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
COHORT = "cohort"  # the cohort's name; ui.cohorts owns it (it is resolved before the rest)


@lru_cache(maxsize=16)
def params_of(variables: Registry) -> Mapping[str, Param]:
    """Every parameter a link can carry for a cohort of ``variables``: its filters, then the
    view's."""
    return {param.key: param for param in (*filter_params(variables), *VIEW_PARAMS)}


# The built-ins' parameters, a view of BUILTIN: the link tests' keys, and ui.presentation's
# `present`, read before a session has its cohort (a view parameter, the same in every one).
PARAMS = params_of(BUILTIN)


def session_variables() -> Registry:
    """The variables of the session's cohort, as start() keeps them (the built-ins before)."""
    return st.session_state.get(VARIABLES, BUILTIN)


def params() -> Mapping[str, Param]:
    """Every parameter a link can carry in this session: its cohort's filters and the view's."""
    return params_of(session_variables())


def start(known: Known) -> None:
    """Every run's first step: the cohort's variables and data levels kept, the link read
    (first run only), every value set again."""
    st.session_state[VARIABLES] = known.variables
    st.session_state[LEVELS] = known.levels
    seed_from_url(known)
    keep()
    keep_in_scope()


def seed_from_url(known: Known) -> None:
    """On a session's first run, every parameter the link carries, or a notice for it."""
    if SEEDED in st.session_state:
        return
    st.session_state[SEEDED] = True
    notices = st.session_state.setdefault(NOTICES, [])
    known_params = params_of(known.variables)
    for key in st.query_params:
        if key not in known_params and key != COHORT:
            notices.append(f"{key}={url_text(key)!r}: not a setting a link can carry; ignored")
    for param in known_params.values():
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
    for param in params().values():
        st.session_state[param.key] = st.session_state.get(param.key, param.initial())
    deployment = session_setting()
    if deployment.enforced:
        st.session_state["privacy"] = True
        st.session_state["privacy_k"] = max(int(st.session_state["privacy_k"]), deployment.k)


def keep_in_scope() -> None:
    """A centre's user's view kept within their scope, whatever a link or a forged widget
    value holds: no centre filter (the scope conditions the centre, analytics.scope), no
    comparison by centre nor adjustment for it; each dropped with a notice."""
    scope, state = session_scope(), st.session_state
    if not scope.scoped:
        return
    if state.get(CENTRE) is not None:
        add_notice(f"{CENTRE}={state[CENTRE]!r}: this account sees its own centre or the "
                   "other centres pooled; ignored")  # fmt: skip
        state[CENTRE] = None
    if state.get("by") is not None and not scope.allows(state["by"]):
        add_notice(f"by={state['by']!r}: the other centres are seen pooled; ignored")
        state["by"], state["ref"] = None, None
    adjust = tuple(state.get("adjust", ()))
    if any(not scope.allows(c) for c in adjust):
        add_notice(f"adjust={','.join(adjust)!r}: not adjusted for centre; ignored")
        state["adjust"] = tuple(c for c in adjust if scope.allows(c))


def value(key: str) -> Any:
    """The current value of a parameter."""
    return st.session_state.get(key, params()[key].initial())


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
    param = params()[key]
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
    for param in filter_params(session_variables()):
        st.session_state[param.key] = param.default
    _clear_notices()


def current_filter() -> CohortFilter:
    """The filter the widgets hold now, over the session's cohort's variables: each widget's
    value as its parameter holds it (a measure's bound a whole number where it is one, the
    segments in their members' order, a yes/no none when "any"), within the session's
    scope (analytics.scope), which no widget or link sets."""
    variables = session_variables()
    population: str | None = None
    values: dict[str, Any] = {}
    for param in filter_parameters(variables):
        chosen = value(param.key)
        match param.part:
            case Part.POPULATION:
                population = chosen or param.default
                continue
            case Part.SEGMENTS:
                labels = member_labels(param.variable, variables)
                chosen = tuple(label for label in labels if label in (chosen or []))
            case Part.MATCH:
                chosen = chosen or param.default
            case Part.FLAG:
                chosen = None if chosen == ANY else chosen == YES
            case Part.MINIMUM | Part.MAXIMUM if chosen is not None:
                assert param.variable.range is not None  # a filtering number declares it
                chosen = int(chosen) if param.variable.range.integer else float(chosen)
        values[param.key] = chosen
    return session_scope().filter(
        CohortFilter(population, values=values.items(), variables=variables)
    )
