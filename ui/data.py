"""The cohort connection and every cached view the pages ask for.

One read-only connection per cohort file is held for the process; each script run
gets its own cursor from it (a DuckDB connection must not be shared across threads).
A file replaced under the same path (a re-import, a deletion and a new import of that
name) closes the connection to the old one before the new one opens: DuckDB hands a
path's open database to every new connection, so the old file would be read on.
Each view (analytics.views) is cached by plain, hashable arguments: the file's
identity (path and modification time, so a replaced file is recomputed) and the view's
own arguments, so a page computes its view once per filter and every other page or
session asking for the same view gets the same result. Adjusted models are the
exception: the fitting line (ui.heavy.FITS) fits and keeps them, outside this process's
page runs.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd
import streamlit as st

from analytics import groups, views
from analytics.cohort import tallies
from analytics.cohort.db import (
    DEFAULT_DB,
    CohortError,
    cohort_variables,
    metadata,
    open_cohort,
)
from analytics.cohort.demo import build_demo
from analytics.cohort.dictionary import data_dictionary, table_descriptions
from analytics.cohort.template import template_workbook
from analytics.filters import CohortFilter
from analytics.present.deck import DeckRequest, build_deck, notice_deck
from analytics.present.masking import Decision, dashboard_mask
from analytics.present.render import ExportUnavailable
from analytics.rules import SUBGROUP_MONTH
from analytics.stats.clinical import ClinicalChange
from analytics.stats.follow_up import FollowUp
from analytics.stats.funnel import CentreComparison
from analytics.stats.models import AdjustedModel
from analytics.stats.survival import UnknownReference
from analytics.variables import Registry
from ui import heavy

CACHE_ENTRIES = 256
T = TypeVar("T")
DECK_ENTRIES = 16  # a deck is a few MB
CohortKey = tuple[str, float]
cached = st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)


def cohort_key(path: Path) -> CohortKey:
    """The cohort file and its version: the first key of every cached result.

    The demo is built on first use when it is the file asked for and is missing, and
    rebuilt from its committed sources when an earlier version wrote it.
    """
    if path == DEFAULT_DB and not (path.exists() and _is_current(path, path.stat().st_mtime)):
        build_demo(DEFAULT_DB)
    if not path.exists():
        raise CohortError(f"cohort file {path} does not exist")
    return str(path), path.stat().st_mtime


@functools.lru_cache(maxsize=4)
def _is_current(path: Path, mtime: float) -> bool:
    """The file opens in this version's format (checked once per file version)."""
    try:
        open_cohort(path).close()
    except CohortError:
        return False
    return True


OPEN_FILES = 8  # cohort files held open at once; the oldest beyond them is let go
_OPEN: dict[str, tuple[float, duckdb.DuckDBPyConnection]] = {}
_OPENING = threading.Lock()


def _connection(path: str, mtime: float) -> duckdb.DuckDBPyConnection:
    """The process's connection to the cohort file at ``path`` as modified at ``mtime``.

    A connection to an earlier version of the file is closed first (with the cursors a
    page run still holds on it, whose run then stops: the file it read is gone), since
    DuckDB would otherwise open the new connection on the old file's database.
    """
    with _OPENING:
        held = _OPEN.pop(path, None)
        if held is not None and held[0] == mtime:
            _OPEN[path] = held  # most recently used last
            return held[1]
        if held is not None:
            held[1].close()
        con = open_cohort(Path(path))
        _OPEN[path] = (mtime, con)
        while len(_OPEN) > OPEN_FILES:
            del _OPEN[next(iter(_OPEN))]  # closed when its last cursor goes
        return con


def close_connections() -> None:
    """Close every cohort connection this process holds (tests: so no file stays open in
    the dashboard's configuration when a test opens it in another)."""
    with _OPENING:
        for _, con in _OPEN.values():
            con.close()
        _OPEN.clear()


def cursor(key: CohortKey) -> duckdb.DuckDBPyConnection:
    """A cursor on the cached read-only connection, for this script run only (reading the
    file as the connection does: tallies.cursor)."""
    return tallies.cursor(_connection(*key))


@cached
def cohort_metadata(key: CohortKey) -> dict[str, str]:
    return metadata(cursor(key))


@st.cache_resource(max_entries=4, show_spinner=False)
def variables(key: CohortKey) -> Registry:
    """The cohort's variables (built-in and its own), read once per file version. Kept as the
    one object, not a copy per read as cache_data would unpickle: a registry is immutable."""
    return cohort_variables(cursor(key))


@cached
def data_levels(key: CohortKey) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The levels the data holds of each category that declares none (the centres)."""
    return groups.data_levels(cursor(key), variables(key))


@cached
def header(key: CohortKey, cohort_filter: CohortFilter) -> views.Header:
    return views.header_view(cursor(key), cohort_filter)


@cached
def overview(key: CohortKey, cohort_filter: CohortFilter) -> views.OverviewView:
    return views.overview_view(cursor(key), cohort_filter)


@cached
def follow_up(key: CohortKey, cohort_filter: CohortFilter) -> FollowUp:
    return views.follow_up_view(cursor(key), cohort_filter)


@cached
def patency(
    key: CohortKey, cohort_filter: CohortFilter, request: views.PatencyRequest
) -> views.PatencyView:
    """The Patency page's view, cached by its request; compared against the request's
    reference, or the first group (_or_first)."""
    return _or_first(
        lambda chosen: views.patency_of(
            cursor(key), cohort_filter, replace(request, reference=chosen)
        ),
        request.reference,
    )


def _or_first(build: Callable[[str | None], T], reference: str | None) -> T:
    """``build(reference)``, or ``build(None)`` (the first group) when ``reference`` is not a
    group of the view: another split's, or one the filter left out. A link or the session
    can carry such a reference; the command line refuses it instead."""
    try:
        return build(reference)
    except UnknownReference:
        return build(None)


@cached
def clinical(key: CohortKey, cohort_filter: CohortFilter) -> ClinicalChange:
    return views.clinical_view(cursor(key), cohort_filter)


@cached
def safety(key: CohortKey, cohort_filter: CohortFilter) -> views.SafetyView:
    return views.safety_view(cursor(key), cohort_filter)


@cached
def subgroups(
    key: CohortKey, cohort_filter: CohortFilter, endpoint: str, month: float
) -> views.SubgroupsView:
    return views.subgroups_view(cursor(key), cohort_filter, endpoint, month)


@cached
def tables(key: CohortKey, cohort_filter: CohortFilter) -> views.TablesView:
    return views.tables_view(cursor(key), cohort_filter)


@cached
def decision(key: CohortKey, cohort_filter: CohortFilter, k: int) -> Decision:
    """Privacy's one decision at a filter (masking.dashboard_mask): the sidebar's counts
    and every page's at its default controls, from the pages' own cached views, so every
    page (and every session) at the filter renders the same decision. Asked for only in
    privacy mode: a page without it computes no other page's view."""
    n = header(key, cohort_filter).limbs
    pages = views.DashboardPages(
        n, cohort_filter.population == "all", patency(key, cohort_filter, views.PatencyRequest()),
        (), safety(key, cohort_filter), tables(key, cohort_filter),
        subgroups(key, cohort_filter, views.PRIMARY, float(SUBGROUP_MONTH)),
    )  # fmt: skip
    return dashboard_mask(views.header_ledger(header(key, cohort_filter)), pages.defaults(k), k)


@cached
def paper(key: CohortKey) -> views.PaperView:
    return views.paper_view(cursor(key))


@cached
def centre_comparison(
    key: CohortKey, cohort_filter: CohortFilter, month: float
) -> CentreComparison:
    return views.centres_view(cursor(key), cohort_filter, month)


def model(
    key: CohortKey, cohort_filter: CohortFilter, endpoint: str, covariates: tuple[str, ...]
) -> AdjustedModel | None:
    """The Models page's adjusted model, fitted in the fitting process in its turn (a fit
    takes seconds on a registry, and never runs in the server's process) and kept for
    everyone after that: ui.heavy.fitted shows its place in line while it waits. None
    when the line is full or the wait ran out (the page has said so); a failure in the
    fitting process is the model's note."""
    request = heavy.FitRequest(key, cohort_filter, endpoint, covariates)
    outcome = heavy.fitted(request)
    return None if outcome is None else _as_model(request, outcome)


def fitted_model(key: CohortKey, request: DeckRequest) -> AdjustedModel | None:
    """The deck's model: the Models page's, when it is fitted already (the same cohort
    version, filter, endpoint and covariates); None otherwise. Never asks for a fit: a
    deck must not start the work the page only does on its own run or on a click."""
    if not request.adjust:
        return None
    asked = heavy.FitRequest(key, request.cohort_filter, request.model_endpoint, request.adjust)
    outcome = heavy.FITS.result(asked)
    return None if outcome is None else _as_model(asked, outcome)


def _as_model(request: heavy.FitRequest, outcome: heavy.Fitted) -> AdjustedModel:
    """The fitted model, or one whose note says why it could not be fitted."""
    if isinstance(outcome, AdjustedModel):
        return outcome
    patients = header(request.key, request.cohort_filter).limbs
    return AdjustedModel(request.endpoint, request.covariates, False, patients, 0, 0,
                         notes=(f"the model could not be fitted: {outcome}",))  # fmt: skip


def deck_bytes(key: CohortKey, request: DeckRequest) -> bytes:
    """The view's deck; a failure becomes a one-slide deck saying why, downloaded like any
    deck, and is not cached."""
    try:
        fitted = fitted_model(key, request)
        return _deck(key, request, fitted is not None, fitted)
    except (ExportUnavailable, CohortError, duckdb.Error) as exc:
        return notice_deck(str(exc).strip().splitlines()[0])


@st.cache_data(max_entries=DECK_ENTRIES, show_spinner=False)
def _deck(
    key: CohortKey, request: DeckRequest, model_fitted: bool, _model: AdjustedModel | None
) -> bytes:
    """The view's deck, built once per file version, request and whether its model was
    fitted, shared by every session.

    The request holds everything the deck shows (filter, comparison, endpoint, privacy
    k, the Models page's model: ``_model``, its fit kept by the fitting line, never a fit
    of its own), so a privacy-mode deck is never served to a view without it, nor the
    reverse; a deck built before its model was fitted (the slide left out, with a note)
    is not served once it is.
    Run in the script run of a click on Make deck (ui.page), in a slot of
    ui.heavy.DECKS: two sessions asking for the same deck get one build, and different
    decks are built one after another; the sidebar's status line says so meanwhile.
    """
    with heavy.DECKS.turn():
        view = _or_first(
            lambda chosen: views.deck_view(
                cursor(key), request.cohort_filter, request.by, request.endpoint,
                request.risk_months, _model, chosen, bool(request.adjust) and not model_fitted,
                pages=request.k is not None,  # privacy weighs the deck beside the pages
            ),
            request.reference,
        )  # fmt: skip
        return build_deck(view, request.k)


@st.cache_data(show_spinner=False)
def template() -> bytes:
    """The blank registry workbook (the same bytes for every session)."""
    return template_workbook()


@st.cache_data(show_spinner=False)
def dictionary() -> tuple[pd.DataFrame, dict[str, str]]:
    """The data dictionary and each table's description, read from the schema once."""
    return data_dictionary(), table_descriptions()
