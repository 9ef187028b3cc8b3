"""The one sidebar of filters, shared by every page and kept in the URL (ui.state).

Each widget's key is the filter's own key (analytics.filters), so the state, the
widget and the link agree; a link's unusable values are dropped with a notice.
"""

from __future__ import annotations

import streamlit as st

from analytics.filters import CohortFilter
from analytics.glossary import RISK_FACTORS
from ui import state


def sidebar_filters() -> CohortFilter:
    """Draw the filter widgets and return the filter they describe."""
    sidebar = st.sidebar
    state.draw("population", sidebar)
    side, sex = sidebar.columns(2)
    state.draw("lesion_side", side)
    state.draw("sex", sex)
    with sidebar.expander("Venous segments", expanded=False):
        for key in ("segments", "segment_match", "segment_pattern"):
            state.draw(key)
    with sidebar.expander("Risk factors", expanded=False):
        for column in RISK_FACTORS:
            state.draw(column)
    with sidebar.expander("Age, BMI, centre", expanded=False):
        for low, high in (("age_min", "age_max"), ("bmi_min", "bmi_max")):
            left, right = st.columns(2)
            state.draw(low, left)
            state.draw(high, right)
        state.draw("center")
    sidebar.button("Reset filters", on_click=state.reset_filters, width="stretch")
    return state.current_filter()
