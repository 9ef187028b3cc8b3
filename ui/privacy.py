"""Privacy mode as a deployment sets it: ``COHORT_PRIVACY`` and ``COHORT_PRIVACY_K``, and
as the signed-in user's role tightens it.

``COHORT_PRIVACY`` sets the default: ``off`` (default), ``on``, or ``enforced`` (on,
the toggle locked, and k a floor neither the widget nor a link can lower).
``COHORT_PRIVACY_K`` sets k (default 5). With login on, a role that may not see exact
counts (a viewer) runs enforced at the deployment's k whatever the mode
(analytics.access.privacy_setting), and a centre's user looking at the other centres
pooled runs enforced at that k, at least the default (analytics.scope). The session's
choice is the ``privacy`` and ``privacy_k`` parameters of ui.state; the rule itself is
analytics.present.privacy.
"""

from __future__ import annotations

import streamlit as st

from analytics.access import privacy_setting
from analytics.present.privacy import Setting, setting
from ui.access import session_allowed, session_scope

TOGGLE, K_KEY = "privacy", "privacy_k"


def session_setting() -> Setting:
    """The privacy setting this session runs under: the deployment's, tightened by role
    and by scope."""
    return session_scope().privacy(privacy_setting(setting(), session_allowed()))


def current_k() -> int | None:
    """k while this session is in privacy mode, else None; never below an enforced k."""
    state, deployment = st.session_state, session_setting()
    if deployment.enforced:
        return max(int(state.get(K_KEY, deployment.k)), deployment.k)
    return int(state[K_KEY]) if state.get(TOGGLE) and K_KEY in state else None
