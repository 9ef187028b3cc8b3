"""The one sidebar of filters, shared by every page and kept in the URL.

Each widget's key is the filter's own key (analytics.filters). The filter is read
from the URL on a session's first run and written back on every run, so a copied
link reopens the same view on any page; values in the URL that are not valid are
dropped, with a notice. Widget values persist across pages within a session.
"""

from __future__ import annotations

import streamlit as st

from analytics.filters import (
    DEFAULT_FILTER,
    FILTER_KEYS,
    MATCH_MODES,
    SEGMENT_LABELS,
    SEGMENT_PATTERNS,
    CohortFilter,
    parse_filter_lenient,
    to_params,
)
from analytics.glossary import DEFINITIONS, POPULATIONS, RISK_FACTORS, SEXES, SIDES
from ui.data import CohortKey, centers
from ui.url import url_value, write

ANY = "any"
RISK_CHOICES = (ANY, "yes", "no")
NOTICES_KEY = "_url_notices"


def _risk_state(wanted: bool | None) -> str:
    return ANY if wanted is None else ("yes" if wanted else "no")


def widget_state(cohort_filter: CohortFilter) -> dict[str, object]:
    """The sidebar widgets' values that show ``cohort_filter``; inverse of current_filter."""
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
        **{column: _risk_state(cohort_filter.risk(column)) for column in RISK_FACTORS},
    }


DEFAULTS = widget_state(DEFAULT_FILTER)


def _seed_from_url(known_centers: list[str]) -> None:
    """On a session's first run, take the link's filter; note what had to be dropped."""
    if NOTICES_KEY in st.session_state:
        return
    texts = {key: url_value(key) for key in DEFAULTS}
    params = {key: text for key, text in texts.items() if text not in (None, "", ANY)}
    problems = []
    if "center" in params and params["center"] not in known_centers:
        problems.append(f"centre {params.pop('center')!r} is not in this cohort")
    url_filter, parse_problems = parse_filter_lenient(params)
    problems += parse_problems
    state = widget_state(url_filter)
    for key in params:
        st.session_state[key] = state[key]
    st.session_state[NOTICES_KEY] = problems


def _restore() -> None:
    """Carry the filter across a page switch.

    Each page's widgets are new widgets to Streamlit, which start from their
    defaults unless session state was set by code before they are drawn
    (``persist_state`` keeps only values a user picked, not ones seeded from
    the URL). So every run re-sets each key to the widget's current value.
    """
    for key in DEFAULTS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _reset() -> None:
    for key, value in DEFAULTS.items():
        st.session_state[key] = value
    st.session_state[NOTICES_KEY] = []


def _clear_notices() -> None:
    st.session_state[NOTICES_KEY] = []


def sidebar_filters(key: CohortKey) -> CohortFilter:
    """Draw the filter widgets and return the filter they describe."""
    _seed_from_url(centers(key))
    _restore()
    sidebar = st.sidebar
    for notice in st.session_state[NOTICES_KEY]:
        sidebar.warning(f"Ignored a filter in the link: {notice}", icon="⚠️")
    changed = {"on_change": _clear_notices}

    sidebar.radio(
        "Population",
        list(POPULATIONS),
        format_func=POPULATIONS.get,
        key="population",
        help=DEFINITIONS["Technical success"],
        **changed,
    )
    side, sex = sidebar.columns(2)
    side.selectbox(
        "Lesion side", list(SIDES), index=None, format_func=SIDES.get, placeholder="Any",
        key="lesion_side", **changed,
    )  # fmt: skip
    sex.selectbox(
        "Sex", list(SEXES), index=None, format_func=SEXES.get, placeholder="Any", key="sex",
        **changed,
    )  # fmt: skip
    with sidebar.expander("Venous segments", expanded=False):
        st.multiselect(
            "Segments involved", list(SEGMENT_LABELS), key="segments",
            placeholder="Any",
            help="IVC inferior vena cava, CIV common iliac, EIV external iliac, CFV common femoral",
            **changed,
        )  # fmt: skip
        st.radio(
            "Match", list(MATCH_MODES), horizontal=True, key="segment_match",
            format_func={"any": "any of them", "all": "all of them"}.get, **changed,
        )  # fmt: skip
        st.selectbox(
            "Exact pattern", list(SEGMENT_PATTERNS), index=None, placeholder="Any",
            key="segment_pattern", **changed,
        )  # fmt: skip
    with sidebar.expander("Risk factors", expanded=False):
        for column, label in RISK_FACTORS.items():
            st.radio(label, RISK_CHOICES, horizontal=True, key=column, **changed)
    with sidebar.expander("Age, BMI, centre", expanded=False):
        low, high = st.columns(2)
        low.number_input("Age from", 18, 110, value=None, step=1, key="age_min", **changed)
        high.number_input("Age to", 18, 110, value=None, step=1, key="age_max", **changed)
        low, high = st.columns(2)
        low.number_input("BMI from", 12.0, 70.0, value=None, step=0.5, key="bmi_min", **changed)
        high.number_input("BMI to", 12.0, 70.0, value=None, step=0.5, key="bmi_max", **changed)
        options = centers(key)
        st.selectbox(
            "Centre", options, index=None, placeholder="Any" if options else "No centres recorded",
            key="center", disabled=not options, **changed,
        )  # fmt: skip
    sidebar.button("Reset filters", on_click=_reset, width="stretch")
    cohort_filter = current_filter()
    params = to_params(cohort_filter)
    write({key: params.get(key) for key in FILTER_KEYS})
    return cohort_filter


def current_filter() -> CohortFilter:
    """The filter the widgets hold now."""
    state = st.session_state
    risks = tuple(sorted((c, state[c] == "yes") for c in RISK_FACTORS if state.get(c, ANY) != ANY))
    return CohortFilter(
        population=state.get("population") or "technical_success",
        lesion_side=state.get("lesion_side"),
        sex=state.get("sex"),
        segments=tuple(s for s in SEGMENT_LABELS if s in (state.get("segments") or [])),
        segment_match=state.get("segment_match") or "any",
        segment_pattern=state.get("segment_pattern"),
        risk_factors=risks,
        age_min=_maybe(int, state.get("age_min")),
        age_max=_maybe(int, state.get("age_max")),
        bmi_min=_maybe(float, state.get("bmi_min")),
        bmi_max=_maybe(float, state.get("bmi_max")),
        center=state.get("center"),
    )


def _maybe(kind: type, value: object) -> object:
    return None if value is None else kind(value)
