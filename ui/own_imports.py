"""The Data page's "Your imports": a signed-in user's private imports, each with Delete
and, for a data manager, Publish (each after a confirmation), both in the audit trail.

What the browser sends decides nothing: the name acted on is looked up among the user's
own files (never used as a path), and Publish is checked against the session's role on
the server when it is done, whatever button or session value came with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from analytics.audit import Action
from analytics.cohort.db import default_db_path
from analytics.cohort.private_imports import (
    OwnImport,
    cohort_files,
    delete_import,
    own_imports,
    publish_import,
)
from analytics.cohort.retention import DAY, retention_days
from analytics.cohort.write import DestinationExists
from analytics.present import format as fmt
from ui import audit, cohorts
from ui.access import session_allowed, subject
from ui.text import plain

PENDING = "_own_import_pending"  # the action awaiting its confirmation
SAID = "_own_import_said"  # what the last action came to, said once
TAB_CLOSED = (
    "An imported cohort is visible only in this browser session and lasts only until the "
    "tab is closed (or left unused for a day): a reload or a new tab starts without it."
)


@dataclass(frozen=True)
class Pending:
    """A Delete or Publish clicked, awaiting its confirmation."""

    action: Action
    name: str


@dataclass(frozen=True)
class Said:
    """What an action came to: done (``ok``), or refused and why."""

    text: str
    ok: bool


def audience() -> str:
    """Who sees an import made here, and how long it lasts (the import form's caption)."""
    if cohorts.shared():
        return (
            "An imported cohort is shared with every user of this dashboard; a name already "
            "taken is refused."
        )
    if subject() is None:
        return TAB_CLOSED
    return (
        "An imported cohort is yours: only you see it, in every tab and on later days, until "
        f"you delete it or it is removed {fmt.count(retention_days())} days after its import."
    )


def show() -> None:
    """The signed-in user's imports, with Delete and (for a data manager) Publish; nothing
    without login, where an import lives as long as its tab."""
    if subject() is None:
        return
    st.subheader("Your imports")
    said = st.session_state.pop(SAID, None)
    if said is not None:
        (st.success if said.ok else st.error)(plain(said.text))
    items = own_imports(cohorts.own_dir())
    if not items:
        st.caption("You have no private imports on this server.")
        return
    may_publish = session_allowed().manage_data
    publishing = " Publish makes one a cohort of every user." if may_publish else ""
    st.caption(f"Only you see these.{publishing}")
    pending = st.session_state.get(PENDING)
    now = time.time()
    for item in items:
        _row(item, now, may_publish)
        if pending is not None and pending.name == item.name:
            _confirm(pending, may_publish)


def _row(item: OwnImport, now: float, may_publish: bool) -> None:
    """One import: its name, when it was imported and when it goes, and its buttons."""
    age = int((now - item.written) // DAY)
    name, when, delete, publish = st.columns([3, 4, 1, 1], vertical_alignment="center")
    name.markdown(f"**{plain(item.name)}**")
    when.caption(f"Imported {fmt.days_ago(age)}; removed {fmt.days_until(retention_days() - age)}.")
    delete.button("Delete", key=f"delete-import-{item.name}", on_click=_ask,
                  args=(Pending(Action.DELETE, item.name),))  # fmt: skip
    if may_publish:
        publish.button("Publish", key=f"publish-import-{item.name}", on_click=_ask,
                       args=(Pending(Action.PUBLISH, item.name),))  # fmt: skip


def _ask(pending: Pending) -> None:
    st.session_state[PENDING] = pending


def _confirm(pending: Pending, may_publish: bool) -> None:
    """The confirmation of a Delete or a Publish; a Publish only for a data manager."""
    name = plain(pending.name)
    if pending.action is Action.PUBLISH:
        if not may_publish:
            return
        question = f"Publish **{name}** to every user of this dashboard? It stops being private."
    else:
        question = f"Delete **{name}**? Its file is removed from the server; this cannot be undone."
    st.warning(question)
    yes, no = st.columns([1, 5])
    yes.button(
        f"{pending.action.value.capitalize()} it", key="confirm-own-import", type="primary",
        on_click=_act, args=(pending,),
    )  # fmt: skip
    no.button("Cancel", key="cancel-own-import", on_click=_cancel)


def _cancel() -> None:
    st.session_state.pop(PENDING, None)


def _act(pending: Pending) -> None:
    """Do the confirmed action, say what it came to, and record it."""
    st.session_state.pop(PENDING, None)
    act = publish if pending.action is Action.PUBLISH else delete
    st.session_state[SAID] = act(pending.name)


def delete(name: str) -> Said:
    """Remove the user's import ``name`` from the server at once, and record it."""
    try:
        found = delete_import(cohorts.own_dir(), name)
    except OSError as exc:
        return Said(f"{name} was not deleted: {exc.strerror or exc}.", ok=False)
    if not found:
        return Said(f"You have no import named {name}.", ok=False)
    audit.deleted(name)
    return Said(f"Deleted {name}: its file is removed from the server.", ok=True)


def publish(name: str) -> Said:
    """Make the user's import ``name`` a published cohort, if their role allows, and
    record it; a name a published cohort (or the default) holds is refused."""
    if not session_allowed().manage_data:
        return Said("Publishing a cohort is for this dashboard's data managers.", ok=False)
    if name not in cohort_files(cohorts.own_dir()):
        return Said(f"You have no import named {name}.", ok=False)
    target = cohorts.import_dir() / f"{name}.duckdb"
    if name == cohorts.DEFAULT or target.resolve() == default_db_path().resolve():
        return Said(f"{name} is the name of the default cohort: not published.", ok=False)
    try:
        publish_import(cohorts.own_dir(), cohorts.import_dir(), name)
    except DestinationExists:
        return Said(
            f"A published cohort is named {name} already: nothing was replaced, and your "
            "import stays private. Import it again under another name to publish it.",
            ok=False,
        )
    except OSError as exc:
        return Said(f"{name} was not published: {exc.strerror or exc}.", ok=False)
    audit.published(name)
    return Said(f"Published {name}: every user of this dashboard can now open it.", ok=True)
