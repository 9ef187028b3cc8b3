"""The one sidebar of filters, shared by every page and bound to the URL.

Each widget's key is the filter's own key (analytics.filters), and the widget is
bound to the query parameter of that name, so a copied link reopens the same view
on any page. Values in the URL that are not valid are dropped, with a notice.
"""

from __future__ import annotations

import streamlit as st

from analytics.filters import (
    MATCH_MODES,
    SEGMENT_LABELS,
    SEGMENT_PATTERNS,
    CohortFilter,
    parse_filter_lenient,
)
from analytics.glossary import DEFINITIONS, POPULATIONS, RISK_FACTORS, SEXES, SIDES
from ui.data import CohortKey, centers

ANY = "any"
RISK_CHOICES = (ANY, "yes", "no")
BIND = "query-params"
NOTICES_KEY = "_url_notices"
DEFAULTS: dict[str, object] = {
    "population": "technical_success",
    "lesion_side": None,
    "sex": None,
    "segments": [],
    "segment_match": "any",
    "segment_pattern": None,
    "age_min": None,
    "age_max": None,
    "bmi_min": None,
    "bmi_max": None,
    "center": None,
    **dict.fromkeys(RISK_FACTORS, ANY),
}


def _url_problems() -> list[str]:
    """Filter values in the URL that the filter specification refuses."""
    params = {
        key: ",".join(st.query_params.get_all(key)) for key in st.query_params if key in DEFAULTS
    }
    params = {key: value for key, value in params.items() if value and value != ANY}
    return parse_filter_lenient(params)[1]


def _reset() -> None:
    for key, value in DEFAULTS.items():
        st.session_state[key] = value
    st.session_state[NOTICES_KEY] = []


def _clear_notices() -> None:
    st.session_state[NOTICES_KEY] = []


def sidebar_filters(key: CohortKey) -> CohortFilter:
    """Draw the filter widgets and return the filter they describe."""
    if NOTICES_KEY not in st.session_state:
        st.session_state[NOTICES_KEY] = _url_problems()
    sidebar = st.sidebar
    for notice in st.session_state[NOTICES_KEY]:
        sidebar.warning(f"Ignored a filter in the link: {notice}", icon="⚠️")
    changed = {"on_change": _clear_notices, "bind": BIND}

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
    sidebar.button("Reset filters", on_click=_reset, use_container_width=True)
    return current_filter()


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
