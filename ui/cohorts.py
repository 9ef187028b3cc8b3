"""Which cohort file a session looks at: the default (COHORT_DB or the demo) or an import.

Published cohorts are the cohort files in one folder (``COHORT_IMPORT_DIR``, default
``data/imported/``), put there by whoever may write to it (``python -m analytics import
... --out``), and every user sees them. An import from the browser is private: to the
signed-in user who made it where there is login (a folder named by a hash of their
token's subject: theirs in every tab and on later days), else to the browser session
that made it (a folder named by a random token the session holds); unless the deployment
sets ``COHORT_IMPORTS_SHARED=yes``: then it is published, and a name already taken is
refused, never replaced. The default cohort is never replaced from the browser. A
session picks a cohort by name; the name is also in the URL (``?cohort=...``), and a
name is only ever looked up among the files this session may see, never used as a path.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from analytics.cohort.db import ROOT, CohortError, default_db_path
from analytics.cohort.dictionary import data_dictionary
from analytics.cohort.importer import (
    REGISTRY,
    SINGLE_LIMB,
    Imported,
    Problem,
    ValidationError,
    import_with_report,
    layout_of,
    problems_frame,
)
from analytics.cohort.own_columns import DICTIONARY
from analytics.cohort.private_imports import PRIVATE, USERS, cohort_files, owner_folder
from analytics.cohort.redcap_import import import_redcap, is_dictionary_export
from analytics.cohort.redcap_mapped import import_mapped
from analytics.cohort.write import DestinationExists
from analytics.glossary import FALSE_WORDS, TRUE_WORDS
from analytics.present.privacy import IDENTIFYING_COLUMNS
from analytics.present.tables import validation_report
from analytics.rules import MAX_ROWS_PER_SHEET
from ui.access import subject
from ui.state import COHORT, add_notice, url_text

DEFAULT = "default"
KEY = COHORT
SEEDED_KEY = "_cohort_seeded"
NEXT_KEY = "_cohort_next"  # a choice made after the selector was drawn, applied next run
IMPORTED_KEY = "_cohort_imported"  # a finished browser import, said beside the form once


SHARED_ENV = "COHORT_IMPORTS_SHARED"  # yes: browser imports are published to every user
OWNER_KEY = "_cohort_owner"  # the session's random token naming its private folder


def import_dir() -> Path:
    """The published cohorts' folder."""
    return Path(os.environ.get("COHORT_IMPORT_DIR") or ROOT / "data" / "imported")


class SharingError(ValueError):
    """``COHORT_IMPORTS_SHARED`` set to a word that is neither yes nor no."""


def shared() -> bool:
    """Whether this deployment publishes browser imports (``COHORT_IMPORTS_SHARED=yes``).

    Unset or empty is no. A word that is neither a yes nor a no raises SharingError naming
    the setting and the words allowed, so a mistyped setting stops the dashboard
    (ui.page) instead of being read as either."""
    text = os.environ.get(SHARED_ENV, "")
    word = text.strip().lower()
    if word and word not in TRUE_WORDS | FALSE_WORDS:
        raise SharingError(
            f"{SHARED_ENV}={text!r} is neither yes nor no: use {', '.join(sorted(TRUE_WORDS))} "
            f"to publish browser imports to every user, or {', '.join(sorted(FALSE_WORDS))} "
            "(or leave it unset) to keep each private to its browser session"
        )
    return word in TRUE_WORDS


def session_dir() -> Path:
    """This browser session's private imports; the token is never read from a link."""
    owner = st.session_state.setdefault(OWNER_KEY, secrets.token_hex(16))
    return import_dir() / PRIVATE / owner


def own_dir() -> Path:
    """This session's private imports: the signed-in user's folder where there is login,
    named by a hash of the token's subject (never the subject itself); else the browser
    session's."""
    user = subject()
    return import_dir() / USERS / owner_folder(user) if user else session_dir()


def available() -> dict[str, Path]:
    """Every cohort this session may open, by name: the default first, then the imports.

    A published cohort wins over a private one of the same name, and no import can stand
    in for the default (a file named ``default``, or the default's own file).
    """
    default = default_db_path()
    imports = {**cohort_files(own_dir()), **cohort_files(import_dir())}
    return {
        DEFAULT: default,
        **{
            key: path
            for key, path in imports.items()
            if key != DEFAULT and not _same(path, default)
        },
    }


def _same(path: Path, other: Path) -> bool:
    return path.resolve() == other.resolve()


def active_path() -> Path:
    """The session's cohort file; on a session's first run, the one the link names."""
    choices = available()
    if SEEDED_KEY not in st.session_state:
        st.session_state[SEEDED_KEY] = True
        named = url_text(KEY)
        if named in choices:
            st.session_state[KEY] = named
        elif named is not None:
            add_notice(
                f"{KEY}={named!r}: no such cohort here, or it is not shared with you; "
                "showing the default cohort"
            )
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


@dataclass(frozen=True)
class UploadOutcome:
    """What an upload came to: the new cohort, or None and the validation report.

    ``files`` names the files imported as the user chose them; ``warnings`` is an imported
    cohort's data-quality report (rows imported as written to check), None when clean;
    ``notes`` lists the registry's own columns taken from their values (no dictionary row),
    None when there are none.
    """

    key: str | None
    report: pd.DataFrame | None = None
    name: str = ""
    files: str = ""
    patients: int = 0
    warnings: pd.DataFrame | None = None
    notes: pd.DataFrame | None = None


def import_upload(files: list, name: str, date_order: str | None = None) -> UploadOutcome:
    """Import uploaded files (one .xlsx, the registry's CSVs, or a REDCap project's records
    and data dictionary exports with, for a project not built from the template, its
    mapping file) as cohort ``name``; ``date_order`` reads a REDCap export's slashed dates.

    A file chosen again (a corrected copy) replaces the earlier one (:func:`chosen`).
    Private to this session (or its signed-in user) unless the deployment shares
    imports; a name this session can already see (or the default cohort's file) is
    refused, never replaced.
    """
    key = slug(name)
    if not key or key == DEFAULT:
        return _refused("cohort name", "give a name with letters or digits, not 'default'")
    out = (import_dir() if shared() else own_dir()) / f"{key}.duckdb"
    if key in available() or _same(out, default_db_path()):
        return UploadOutcome(None, _taken(name, key))
    files = chosen(files)
    names = ", ".join(f.name for f in files)
    metadata = {"name": name, "source": f"Imported from {names}"}
    with tempfile.TemporaryDirectory() as folder:
        redcap = _redcap_upload(files)
        source = (
            _write_upload(files, Path(folder))
            if redcap is None
            else _write_redcap(redcap, Path(folder))
        )
        if isinstance(source, pd.DataFrame):
            return UploadOutcome(None, source)
        try:
            if isinstance(source, RedcapUpload):
                imported = _import_redcap(source, out, metadata, date_order)
            else:
                imported = import_with_report(
                    source, out, metadata=metadata, max_rows=MAX_ROWS_PER_SHEET, replace=False
                )
        except ValidationError as exc:
            return UploadOutcome(None, _screened(problems_frame(exc.problems)))
        except DestinationExists:  # another session took the name a moment ago
            return UploadOutcome(None, _taken(name, key))
        except (CohortError, OSError) as exc:  # disk full, folder not writable
            return _refused(name, f"not imported, nothing was replaced: {exc}")
    warnings = _screened(problems_frame(list(imported.warnings))) if imported.warnings else None
    notes = problems_frame(list(imported.notes)) if imported.notes else None
    return UploadOutcome(key, None, name, names, imported.patients, warnings, notes)


def remember(outcome: UploadOutcome) -> None:
    """Keep a finished import for the next run, which draws the page with its cohort."""
    st.session_state[IMPORTED_KEY] = outcome


def last_import() -> UploadOutcome | None:
    """The import finished in the run before this one, if any (said once, then forgotten)."""
    return st.session_state.pop(IMPORTED_KEY, None)


def chosen(files: list) -> list:
    """The files an upload stands for: one chosen after an earlier one of its kind replaces it.

    The uploader keeps every file chosen, in the order chosen, so a corrected copy follows
    the refused one: the last workbook if it was the last file chosen, else the last copy
    of each CSV (a workbook chosen before them is dropped), in the tables' order.
    """
    if not files:
        return []
    if _is_workbook(files[-1].name):
        return [files[-1]]
    latest = {upload.name: upload for upload in files if not _is_workbook(upload.name)}
    layout = layout_of(Path(name).stem for name in latest)
    order = [f"{table}.csv" for table in layout.tables]  # named in the tables' order
    return sorted(
        latest.values(), key=lambda f: order.index(f.name) if f.name in order else len(order)
    )


def _is_workbook(name: str) -> bool:
    return name.lower().endswith(".xlsx")


def _taken(name: str, key: str) -> pd.DataFrame:
    return _report(
        "cohort name",
        f"a cohort named {key!r} exists already ({name!r} gives the same file name): "
        "choose another name; nothing was replaced",
    )


def _write_upload(files: list, folder: Path) -> Path | pd.DataFrame:
    """Save the upload where the importer can read it; a report if the set of files is wrong."""
    names = [f.name for f in files]
    workbooks = [f for f in files if _is_workbook(f.name)]
    if len(files) == 1 and workbooks:
        own = Path(workbooks[0].name).name  # the user's file name, never a path
        path = folder / (own if Path(own).stem and _is_workbook(own) else "registry.xlsx")
        path.write_bytes(workbooks[0].getvalue())
        return path
    if not _one_layout(names):
        return _report(
            ", ".join(names) or "no file",
            "upload one .xlsx workbook, or the CSV files of one layout: patients.csv, "
            "limbs.csv, events.csv and assessments.csv (with stents.csv and antithrombotic.csv "
            "when recorded, and dictionary.csv declaring the registry's own columns); or, in "
            "the single-limb layout, exactly patients.csv, "
            "assessments.csv and events.csv",
        )
    for upload in files:
        (folder / upload.name).write_bytes(upload.getvalue())
    return folder


@dataclass(frozen=True)
class RedcapUpload:
    """A REDCap project's exports, as uploaded, or saved for the importer."""

    records: Any
    dictionary: Any
    mapping: Any = None


def _redcap_upload(files: list) -> RedcapUpload | pd.DataFrame | None:
    """The upload as a REDCap project's exports, where it holds a data dictionary export or
    a mapping file (told by content and extension, not by name: REDCap names its exports
    after the project); a report when the set is not one records export and one
    dictionary (and at most one mapping); None for a registry's own files."""
    dictionaries = [
        f for f in files if _is_csv(f.name) and is_dictionary_export(f.getvalue()[:4096])
    ]
    mappings = [f for f in files if f.name.lower().endswith(".toml")]
    if not dictionaries and not mappings:
        return None
    records = [f for f in files if f not in dictionaries and f not in mappings]
    if (
        len(dictionaries) != 1
        or len(mappings) > 1
        or len(records) != 1
        or not _is_csv(records[0].name)
    ):
        return _report(
            ", ".join(f.name for f in files),
            "upload a REDCap project's records export (CSV, raw or labels) and its data "
            "dictionary export (CSV), each once, with its mapping file (.toml) when the "
            "project was not built from redcap-template",
        )
    return RedcapUpload(records[0], dictionaries[0], mappings[0] if mappings else None)


def _write_redcap(upload: RedcapUpload | pd.DataFrame, folder: Path) -> RedcapUpload | pd.DataFrame:
    """Save the exports where the importer reads them, under the user's file names (never a
    path), so its report names the files as uploaded."""
    if isinstance(upload, pd.DataFrame):
        return upload
    saved = []
    for i, part in enumerate((upload.records, upload.dictionary, upload.mapping)):
        if part is None:
            saved.append(None)
            continue
        own = Path(part.name).name
        path = folder / str(i) / (own or "export.csv")
        path.parent.mkdir()
        path.write_bytes(part.getvalue())
        saved.append(path)
    return RedcapUpload(*saved)


def _import_redcap(
    saved: RedcapUpload, out: Path, metadata: dict[str, str], date_order: str | None
) -> Imported:
    common = {"metadata": metadata, "date_order": date_order, "max_rows": MAX_ROWS_PER_SHEET,
              "replace_out": False}  # fmt: skip
    if saved.mapping is None:
        return import_redcap(saved.records, saved.dictionary, out, **common)
    return import_mapped(saved.records, saved.dictionary, saved.mapping, out, **common)


def _is_csv(name: str) -> bool:
    return name.lower().endswith(".csv")


def _one_layout(names: list[str]) -> bool:
    """Whether CSV ``names`` are the files of one layout, each once."""
    given = set(names)
    if len(given) != len(names):
        return False
    needed = {f"{t}.csv" for t in REGISTRY.tables if t not in REGISTRY.may_be_absent}
    allowed = {f"{t}.csv" for t in (*REGISTRY.tables, DICTIONARY)}
    return given == {f"{t}.csv" for t in SINGLE_LIMB.tables} or needed <= given <= allowed


@functools.cache
def _screened_columns() -> tuple[str, ...]:
    """The columns whose cells the report on screen never shows: the identifying ones, the
    limb's pseudonym, and every date of the format (stored for audit, never shown)."""
    dictionary = data_dictionary()
    dates = dictionary.loc[dictionary["type"] == "DATE", "column"]
    return tuple(dict.fromkeys([*IDENTIFYING_COLUMNS, *dates]))


def _screened(report: pd.DataFrame) -> pd.DataFrame:
    """The report without identifiers or dates: the row and column locate the cell."""
    hidden = report["column"].str.contains("|".join(_screened_columns()), na=False)
    return validation_report(report.assign(value=report["value"].where(~hidden, "(not shown)")))


def _refused(file: str, rule: str) -> UploadOutcome:
    return UploadOutcome(None, _report(file, rule))


def _report(file: str, rule: str) -> pd.DataFrame:
    return validation_report(problems_frame([Problem(file, None, None, None, rule)]))
