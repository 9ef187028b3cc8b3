"""The audit trail as the dashboard writes it (analytics.audit): who viewed, exported,
imported, published or deleted what, when the deployment sets ``COHORT_AUDIT_FILE``.

Who is the signed-in user's token subject and name (``st.user``), or "no login" where the
dashboard has none. A page view is recorded once per change of cohort, page or filter,
not on every rerun. An export is recorded when the server builds it for someone, once
per view: a deck when it is made, a chart's files when its export menu opens, a table's
CSV when its download menu opens (with a trail the CSV is built on asking, as the
chart's files are; without one its button holds it on every run, as before). An export
whose record cannot be written is not offered: the message says why. (Not a deferred
download, recorded on the click: Streamlit can drop such a file before the browser
fetches it, tests/app/test_downloads.py.)
"""

from __future__ import annotations

import streamlit as st

from analytics.audit import Action, AuditError, Event, filter_text, now, record, trail_path
from analytics.filters import CohortFilter
from ui import access
from ui.text import plain

NO_LOGIN = "no login"
LAST_VIEW = "audit_last_view"  # the view last recorded
CURRENT_VIEW = "audit_view"  # (cohort, page, filter) of this run, for its exports
EXPORTED = "audit_exported"  # what -> the view it was last recorded for


def who() -> tuple[str, str]:
    """The signed-in user's token subject (the one that owns their imports) and name, or
    NO_LOGIN."""
    subject = access.subject()
    return (subject, access.user_name()) if subject else (NO_LOGIN, "")


def _event(action: Action, what: str) -> Event:
    """An event of the session's current view (the one :func:`viewed` noted)."""
    subject, name = who()
    cohort, page, shown = st.session_state.get(CURRENT_VIEW, ("", "", ""))
    return Event(now(), subject, name, action, cohort, page, shown, what)


def viewed(cohort: str, page: str, cohort_filter: CohortFilter) -> None:
    """Note the run's view for the exports it offers, and record it when its cohort, page or
    filter changed; a trail that cannot be written shows a warning (the page still shows;
    its exports are refused)."""
    view = (cohort, page, filter_text(cohort_filter))
    st.session_state[CURRENT_VIEW] = view
    if trail_path() is None or st.session_state.get(LAST_VIEW) == view:
        return
    try:
        record(_event(Action.VIEW, ""))
    except AuditError as exc:
        st.warning(plain(f"The audit trail cannot be written ({exc}): exports are refused."))
        return
    st.session_state[LAST_VIEW] = view


def exporting(what: str) -> bool:
    """Record that the server built ``what`` (a deck, a chart's files, a table's CSV) for
    the current view, once per view; whether it may be handed out: False, with a message,
    when its record could not be written. True where no trail is kept."""
    if trail_path() is None:
        return True
    view = st.session_state.get(CURRENT_VIEW)
    done = st.session_state.setdefault(EXPORTED, {})
    if done.get(what) == view:
        return True
    try:
        record(_event(Action.EXPORT, what))
    except AuditError as exc:
        st.error(plain(f"Not exported: the audit trail cannot be written ({exc})."))
        return False
    done[what] = view
    return True


def keeps_trail() -> bool:
    """Whether exports are recorded: a table's CSV is then built when asked for."""
    return trail_path() is not None


def imported(what: str) -> None:
    """Record an import from the browser (the file is written: a failure only warns)."""
    _done(Action.IMPORT, what, "The import is done")


def published(name: str) -> None:
    """Record that the user published their import ``name`` to every user."""
    _done(Action.PUBLISH, name, "The cohort is published")


def deleted(name: str) -> None:
    """Record that the user deleted their import ``name`` (its file is gone)."""
    _done(Action.DELETE, name, "The import is deleted")


def _done(action: Action, what: str, done: str) -> None:
    """Record a change to the data that has happened: a failure only warns, as the
    change cannot be taken back."""
    try:
        record(_event(action, what))
    except AuditError as exc:
        st.warning(plain(f"{done}, but the audit trail cannot be written ({exc})."))
