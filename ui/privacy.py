"""Privacy mode for a session: a setting, a sidebar toggle, and part of the link.

``COHORT_PRIVACY`` sets the default: ``off`` (default), ``on``, or ``enforced``
(on, and the toggle locked). ``COHORT_PRIVACY_K`` sets k (default 5). The rule
itself is analytics.present.privacy.
"""

from __future__ import annotations

import os

import streamlit as st

from analytics.filters import parse_boolean
from analytics.present.privacy import DEFAULT_K, MAX_K, MIN_K
from ui.url import seed, write

MODE_ENV, K_ENV = "COHORT_PRIVACY", "COHORT_PRIVACY_K"
TOGGLE, K_KEY = "privacy", "privacy_k"
MODES = ("off", "on", "enforced")


def setting() -> tuple[str, int]:
    """The deployment's mode and k; an unusable value falls back to off and 5."""
    mode = os.environ.get(MODE_ENV, "off").strip().lower()
    try:
        k = int(os.environ.get(K_ENV, DEFAULT_K))
    except ValueError:
        k = DEFAULT_K
    return (mode if mode in MODES else "off"), min(max(k, MIN_K), MAX_K)


def _parse_k(text: str) -> int:
    k = int(text)
    if not MIN_K <= k <= MAX_K:
        raise ValueError(text)
    return k


def current_k() -> int | None:
    """k while this session is in privacy mode, else None (set by sidebar_privacy)."""
    state = st.session_state
    return int(state[K_KEY]) if state.get(TOGGLE) and K_KEY in state else None


def privacy_param() -> dict[str, str]:
    """The link parameters that keep this session's privacy choice on the next page."""
    return {key: st.query_params[key] for key in (TOGGLE, K_KEY) if key in st.query_params}


def sidebar_privacy() -> int | None:
    """Draw the privacy controls; return k when privacy mode is on, else None."""
    mode, default_k = setting()
    enforced = mode == "enforced"
    st.session_state.setdefault(TOGGLE, mode != "off")
    st.session_state.setdefault(K_KEY, default_k)
    seed(TOGGLE, lambda text: parse_boolean(TOGGLE, text))
    seed(K_KEY, _parse_k)
    if enforced:
        st.session_state[TOGGLE] = True
    for key in (TOGGLE, K_KEY):  # re-set each run, so the choice survives a page switch
        st.session_state[key] = st.session_state[key]
    with st.sidebar.expander("Privacy", expanded=bool(st.session_state[TOGGLE])):
        on = st.toggle(
            "Hide small counts", key=TOGGLE, disabled=enforced,
            help="Counts from 1 to k-1 (and the percentages that would reveal them) show as "
            "'<k' in every table, chart label and export, so a small subgroup cannot be "
            "singled out." + (" Enforced by this deployment." if enforced else ""),
        )  # fmt: skip
        k = st.number_input("k", MIN_K, MAX_K, step=1, key=K_KEY, disabled=not on or enforced)
    write({TOGGLE: ("yes" if on else "no") if on != (mode != "off") else None,
           K_KEY: str(k) if on and k != default_k else None})  # fmt: skip
    return int(k) if on else None
