"""Which cohort file a session looks at: the default (COHORT_DB or the demo) or an import.

Imported registries live as cohort files in one folder (``COHORT_IMPORT_DIR``,
default ``data/imported/``). A session picks one by name; the name is also in
the URL (``?cohort=...``) so a shared link opens the same cohort. A name is only
ever looked up among the files in that folder, never used as a path.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics.cohort.db import ROOT, default_db_path
from analytics.cohort.importer import (
    DATA_TABLES,
    Problem,
    ValidationError,
    import_registry,
    problems_frame,
)
from analytics.present.privacy import IDENTIFYING_COLUMNS
from analytics.present.tables import validation_report
from ui.state import COHORT, add_notice, url_text

DEFAULT = "default"
KEY = COHORT
SEEDED_KEY = "_cohort_seeded"
NEXT_KEY = "_cohort_next"  # a choice made after the selector was drawn, applied next run


def import_dir() -> Path:
    return Path(os.environ.get("COHORT_IMPORT_DIR") or ROOT / "data" / "imported")


def available() -> dict[str, Path]:
    """Every cohort a session may open, by name: the default first, then the imports."""
    imported = sorted(import_dir().glob("*.duckdb")) if import_dir().is_dir() else []
    return {DEFAULT: default_db_path(), **{path.stem: path for path in imported}}


def active_path() -> Path:
    """The session's cohort file; on a session's first run, the one the link names."""
    choices = available()
    if SEEDED_KEY not in st.session_state:
        st.session_state[SEEDED_KEY] = True
        named = url_text(KEY)
        if named in choices:
            st.session_state[KEY] = named
        elif named is not None:
            add_notice(f"{KEY}={named!r}: no such cohort here; showing the default cohort")
    name = st.session_state.pop(NEXT_KEY, None) or st.session_state.get(KEY, DEFAULT)
    if name not in choices:
        name = DEFAULT
    st.session_state[KEY] = name  # re-set each run, so the choice survives a page switch
    return choices[name]


def cohort_param() -> dict[str, str]:
    """The URL parameter that keeps the session's cohort in a link."""
    name = st.session_state.get(KEY, DEFAULT)
    return {} if name == DEFAULT else {KEY: name}


def select(name: str) -> None:
    """Make ``name`` the session's cohort from the next run on (a key of ``available()``)."""
    st.session_state[NEXT_KEY] = name


def slug(name: str) -> str:
    """A file name from a cohort name: lower case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]


def import_upload(files: list, name: str) -> tuple[str | None, pd.DataFrame | None]:
    """Import uploaded files (one .xlsx, or the three CSVs) as cohort ``name``.

    Returns the new cohort's key, or None and the validation report.
    """
    key = slug(name)
    if not key or key == DEFAULT:
        return None, _report("cohort name", "give a name with letters or digits, not 'default'")
    with tempfile.TemporaryDirectory() as folder:
        source = _write_upload(files, Path(folder))
        if isinstance(source, pd.DataFrame):
            return None, source
        try:
            import_registry(source, import_dir() / f"{key}.duckdb", metadata={"name": name})
        except ValidationError as exc:
            return None, _screened(problems_frame(exc.problems))
    return key, None


def _write_upload(files: list, folder: Path) -> Path | pd.DataFrame:
    """Save the upload where the importer can read it; a report if the set of files is wrong."""
    names = [f.name for f in files]
    workbooks = [f for f in files if f.name.lower().endswith(".xlsx")]
    if len(files) == 1 and workbooks:
        path = folder / "registry.xlsx"
        path.write_bytes(workbooks[0].getvalue())
        return path
    wanted = {f"{table}.csv" for table in DATA_TABLES}
    if set(names) != wanted or len(names) != len(wanted):
        return _report(
            ", ".join(names) or "no file",
            "upload one .xlsx workbook, or exactly patients.csv, assessments.csv and events.csv",
        )
    for upload in files:
        (folder / upload.name).write_bytes(upload.getvalue())
    return folder


def _screened(report: pd.DataFrame) -> pd.DataFrame:
    """The report without identifiers or dates: the row and column locate the cell."""
    hidden = report["column"].str.contains("|".join(IDENTIFYING_COLUMNS), na=False)
    return validation_report(report.assign(value=report["value"].where(~hidden, "(not shown)")))


def _report(file: str, rule: str) -> pd.DataFrame:
    return validation_report(problems_frame([Problem(file, None, None, None, rule)]))
