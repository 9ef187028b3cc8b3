"""Privacy mode as a deployment sets it: ``COHORT_PRIVACY`` and ``COHORT_PRIVACY_K``.

``COHORT_PRIVACY`` sets the default: ``off`` (default), ``on``, or ``enforced`` (on,
and the toggle locked). ``COHORT_PRIVACY_K`` sets k (default 5). The session's choice
is the ``privacy`` and ``privacy_k`` parameters of ui.state; the rule itself is
analytics.present.privacy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import streamlit as st

from analytics.present.privacy import DEFAULT_K, MAX_K, MIN_K

MODE_ENV, K_ENV = "COHORT_PRIVACY", "COHORT_PRIVACY_K"
MODES = ("off", "on", "enforced")
TOGGLE, K_KEY = "privacy", "privacy_k"


@dataclass(frozen=True)
class Setting:
    """The deployment's privacy mode and k."""

    mode: str
    k: int

    @property
    def enforced(self) -> bool:
        return self.mode == "enforced"


def setting() -> Setting:
    """The deployment's mode and k; an unusable value falls back to off and 5."""
    mode = os.environ.get(MODE_ENV, "off").strip().lower()
    try:
        k = int(os.environ.get(K_ENV, DEFAULT_K))
    except ValueError:
        k = DEFAULT_K
    return Setting(mode if mode in MODES else "off", min(max(k, MIN_K), MAX_K))


def current_k() -> int | None:
    """k while this session is in privacy mode, else None."""
    state = st.session_state
    return int(state[K_KEY]) if state.get(TOGGLE) and K_KEY in state else None
