"""The cohort connection and every cached computation the pages ask for.

One read-only connection per cohort file is cached for the process; each script
run gets its own cursor from it (a DuckDB connection must not be shared across
threads). Results are cached by plain, hashable arguments: the file's identity
(path and modification time, so a replaced file is recomputed) and the filter.
"""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from analytics.cohort.db import DEFAULT_DB, CohortError, metadata, open_cohort
from analytics.cohort.demo import build_demo
from analytics.filters import CohortFilter
from analytics.glossary import PATENCY_ENDPOINTS, RISK_TABLE_MONTHS
from analytics.present import comparison, deck, tables
from analytics.stats import clinical, safety, survival
from analytics.stats import funnel as centres

CACHE_ENTRIES = 256
CohortKey = tuple[str, float]


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


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str, mtime: float) -> duckdb.DuckDBPyConnection:
    return open_cohort(Path(path))


def cursor(key: CohortKey) -> duckdb.DuckDBPyConnection:
    """A cursor on the cached read-only connection, for this script run only."""
    return _connection(*key).cursor()


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def cohort_metadata(key: CohortKey) -> dict[str, str]:
    return metadata(cursor(key))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def cohort_size(key: CohortKey, cohort_filter: CohortFilter) -> tuple[int, float]:
    return safety.cohort_size(cursor(key), cohort_filter)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def centers(key: CohortKey) -> list[str]:
    rows = (
        cursor(key)
        .execute("SELECT DISTINCT center FROM patients WHERE center IS NOT NULL ORDER BY 1")
        .fetchall()
    )
    return [row[0] for row in rows]


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def event_counts(
    key: CohortKey, cohort_filter: CohortFilter, endpoint: str, by: str | None = None
) -> pd.DataFrame:
    return survival.event_counts(cursor(key), cohort_filter, endpoint, by)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def kaplan_meier(
    key: CohortKey,
    cohort_filter: CohortFilter,
    endpoint: str,
    by: str | None,
    months: tuple[int, ...],
) -> dict[str, survival.KaplanMeier]:
    counts = survival.event_counts(cursor(key), cohort_filter, endpoint, by)
    return survival.kaplan_meier_by_group(counts, months, by)


def patency_overall(
    key: CohortKey, cohort_filter: CohortFilter, months: tuple[int, ...]
) -> dict[str, survival.KaplanMeier]:
    """The three patencies of the whole filtered cohort, keyed by endpoint."""
    return {
        endpoint: kaplan_meier(key, cohort_filter, endpoint, None, months)[survival.ALL_PATIENTS]
        for endpoint in PATENCY_ENDPOINTS
    }


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def compare_groups(
    key: CohortKey, cohort_filter: CohortFilter, endpoint: str, by: str, months: tuple[int, ...]
) -> survival.GroupComparison:
    return survival.compare_groups(cursor(key), cohort_filter, endpoint, by, months)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def clinical_change(key: CohortKey, cohort_filter: CohortFilter) -> clinical.ClinicalChange:
    return clinical.clinical_change(cursor(key), cohort_filter)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def safety_table(key: CohortKey, cohort_filter: CohortFilter) -> pd.DataFrame:
    return safety.safety_table(cursor(key), cohort_filter)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def event_timeline(key: CohortKey, cohort_filter: CohortFilter) -> pd.DataFrame:
    return safety.event_timeline(cursor(key), cohort_filter)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def paper_tables(key: CohortKey, cohort_filter: CohortFilter) -> dict[str, pd.DataFrame]:
    con = cursor(key)
    # the cached results the other pages share
    change = clinical_change(key, cohort_filter)
    patency = {
        endpoint: result.estimates
        for endpoint, result in patency_overall(key, cohort_filter, RISK_TABLE_MONTHS).items()
    }
    return {
        "Table 1": tables.table1(con, cohort_filter),
        "Table 2": tables.table2(
            con, cohort_filter, change, patency, safety_table(key, cohort_filter)
        ),
        "Table 3": tables.table3(change),
    }


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def baseline_stats(key: CohortKey, cohort_filter: CohortFilter) -> dict:
    return tables.baseline_stats(cursor(key), cohort_filter)


def deck_bytes(key: CohortKey, view: deck.View) -> bytes:
    """The view's deck; run on the download's own thread, so it takes its own cursor."""
    return deck.build_deck(cursor(key), view)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def published_vs_reconstructed(key: CohortKey) -> pd.DataFrame:
    return comparison.published_vs_reconstructed(cursor(key))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def centre_patency(
    key: CohortKey, cohort_filter: CohortFilter, month: float
) -> centres.CentreComparison:
    return centres.centre_patency(cursor(key), cohort_filter, month)
