"""Presentation mode: a toggle, also the link parameter ``present=yes``.

Larger type and lines on every chart with the view stated under its title,
charts 16:9-friendly, the page's type enlarged, and the sidebar collapsed.
"""

from __future__ import annotations

import streamlit as st

from analytics.filters import parse_boolean
from ui.url import seed, url_value, write

KEY = "present"
PAGE_CSS = """
<style>
  .stMainBlockContainer { max-width: 100%; padding-left: 3rem; padding-right: 3rem; }
  .stMainBlockContainer p, .stMainBlockContainer li { font-size: 1.35rem; }
  [data-testid="stMetricValue"] { font-size: 3.2rem; }
</style>
"""


def _parse(text: str) -> bool:
    return parse_boolean(KEY, text)


def requested() -> bool:
    """Whether this run presents, readable before any element is drawn (page config)."""
    if KEY in st.session_state:
        return bool(st.session_state[KEY])
    try:
        return _parse(url_value(KEY) or "no")
    except ValueError:
        return False


def sidebar_toggle() -> bool:
    """Draw the toggle; keep the choice in the link and across pages; style the page."""
    st.session_state.setdefault(KEY, False)
    seed(KEY, _parse)
    st.session_state[KEY] = st.session_state[KEY]  # survives a page switch
    on = st.sidebar.toggle(
        "Presentation mode", key=KEY,
        help="For a projector: larger type and lines, each chart states the cohort and filter, "
        "the sidebar folds away. Also in a link as ?present=yes.",
    )  # fmt: skip
    write({KEY: "yes" if on else None})
    if on:
        st.markdown(PAGE_CSS, unsafe_allow_html=True)
    return on


def presentation_param() -> dict[str, str]:
    """The link parameter that keeps presentation mode on the next page."""
    return {KEY: "yes"} if st.session_state.get(KEY) else {}
