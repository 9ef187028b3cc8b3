"""Presentation mode: the ``present`` parameter (ui.state), and the page styling it brings.

Larger type and lines on every chart with the view stated under its title, charts
16:9-friendly, the page's type enlarged, and the sidebar collapsed.
"""

from __future__ import annotations

import streamlit as st

from ui import state

KEY = "present"
PAGE_CSS = """
<style>
  .stMainBlockContainer { max-width: 100%; padding-left: 3rem; padding-right: 3rem; }
  .stMainBlockContainer p, .stMainBlockContainer li { font-size: 1.35rem; }
  [data-testid="stMetricValue"] { font-size: 3.2rem; }
</style>
"""


def requested() -> bool:
    """Whether this run presents, readable before any element is drawn (page config)."""
    if KEY in st.session_state:
        return bool(st.session_state[KEY])
    try:
        return bool(state.PARAMS[KEY].parse(state.url_text(KEY) or "no", state.Known()))
    except ValueError:
        return False


def sidebar_toggle() -> bool:
    """Draw the toggle; style the page when it is on."""
    on = bool(state.draw(KEY, st.sidebar))
    if on:
        st.markdown(PAGE_CSS, unsafe_allow_html=True)
    return on
