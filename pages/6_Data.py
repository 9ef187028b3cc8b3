"""Data: the cohort's provenance, the data dictionary, and every definition used."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analytics.cohort.dictionary import DICTIONARY_TABLES
from analytics.cohort.redcap_import import DATE_ORDERS
from analytics.glossary import DEFINITIONS
from analytics.present import format as fmt
from analytics.rules import MAX_ROWS_PER_SHEET, MAX_UPLOAD_MB
from analytics.views import IMPORTED, PEOPLE, N, imported_ledger
from ui import audit, cohorts, data, heavy, own_imports
from ui.access import session_allowed
from ui.page import masked, start_page
from ui.show import show_definitions, show_table
from ui.text import plain

PROVENANCE = {
    "name": "Name",
    "source": "Source",
    "method": "How it was made",
    "created": "Created",
    "built_at": "File built",
    "schema_version": "Schema version",
    "seed": "Generator seed",
}

# How a REDCap export's slashed dates are read: by its days, or in the order chosen.
REDCAP_DATES = {"as the file's days tell": None} | {text: o for o, text in DATE_ORDERS.items()}

context = start_page("Data")
imported = cohorts.last_import()  # said once, in this run
if imported is not None:  # its patients beside the sidebar's n, decided together
    context, _ = masked(context, imported_ledger(imported.patients))


def import_section() -> None:
    """Upload a registry, see every problem, or switch to the imported cohort and say so."""
    st.subheader("Import your registry")
    st.markdown(
        "Upload one **.xlsx workbook** (start from the template below) with the sheets "
        "`patients` (one row per person), `limbs` (one row per treated limb), `events` and "
        "`assessments`, plus `stents` and `antithrombotic` when your service records them; or "
        "those tables as **CSV files** (`patients.csv`, `limbs.csv`, ..., UTF-8), with the "
        "columns of the data dictionary below. A time may be a month or a date. Files of the "
        "earlier single-limb layout (`patients.csv` one row per treated limb, "
        "`assessments.csv`, `events.csv`) are still read. From **REDCap**: the records export "
        "(CSV, raw or labels) with the project's data dictionary export, and, for a project "
        "not built from `python -m analytics redcap-template`, its mapping file (`.toml`; "
        'README, "From a REDCap project"). Columns of your own (a trial arm, a frailty '
        "score) go beside the format's in `patients` or `limbs`, declared in a `dictionary` "
        "sheet (or `dictionary.csv`) or typed from their values. Every problem is listed at "
        "once; nothing is imported until the file is clean."
    )
    st.caption(
        f"Up to {fmt.count(MAX_UPLOAD_MB)} MB a file and {fmt.count(MAX_ROWS_PER_SHEET)} rows "
        f"a sheet or CSV. {own_imports.audience()}"
    )
    st.download_button(
        "Download the template workbook (.xlsx)", data.template(),
        file_name="registry-template.xlsx", on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )  # fmt: skip
    with st.form("import", clear_on_submit=False):
        files = st.file_uploader(
            "Registry files", type=["xlsx", "csv", "toml"], accept_multiple_files=True
        )
        name = st.text_input("Cohort name", placeholder="e.g. Department registry 2026")
        order = st.selectbox(
            "REDCap dates written with slashes", list(REDCAP_DATES), key="redcap_dates",
            help="Only for a REDCap export whose dates are DD/MM/YYYY or MM/DD/YYYY: a day "
            "above 12 tells which, otherwise choose.",
        )  # fmt: skip
        submitted = st.form_submit_button("Validate and import")
    if not submitted:
        show_imported(imported)
        return
    if not files:
        st.warning("Choose the workbook or the CSV files first.")
        return
    outcome = heavy.in_turn(
        heavy.IMPORTS, "Validating and importing",
        lambda: cohorts.import_upload(
            files, name or Path(files[-1].name).stem, REDCAP_DATES[order]
        ),
    )  # fmt: skip
    if outcome is None:
        return
    if outcome.report is not None:
        st.error(
            f"Not imported: {len(outcome.report)} problem(s). Fix them and choose the "
            "corrected file: it replaces the one of the same name."
        )
        show_table(outcome.report, "validation report")
        return
    audit.imported(outcome.name)
    cohorts.remember(outcome)
    cohorts.select(outcome.key)
    st.rerun()


def show_imported(outcome: cohorts.UploadOutcome | None) -> None:
    """The import finished in the run before: which file, how many patients, what to check."""
    if outcome is None:
        return
    st.success(
        f"Imported {plain(outcome.name)} from {plain(outcome.files)}: "
        f"{fmt.patients(context.mask.cell(IMPORTED))}. It is now the cohort shown on "
        "every page."
    )
    if outcome.warnings is not None:
        st.warning(
            f"{fmt.count(len(outcome.warnings))} data-quality warning(s): rows imported as "
            "written that you should check in your registry."
        )
        show_table(outcome.warnings, "data-quality warnings")
    if outcome.notes is not None:
        st.info(
            f"{fmt.count(len(outcome.notes))} column(s) of the registry's own taken from their "
            "values (no row in the dictionary): check what each was taken as."
        )
        show_table(outcome.notes, "columns taken from their values")


st.subheader("Provenance")
for key, label in PROVENANCE.items():
    if key in context.meta:
        st.markdown(f"**{label}:** {plain(context.meta[key])}")
if "not_published" in context.meta:
    st.markdown("**Invented, not published by the source paper:**")
    items = context.meta["not_published"].split(";")
    st.markdown("\n".join(f"- {plain(item.strip())}" for item in items))
st.caption(
    "No screen or export of this dashboard shows a patient identifier or a date of a patient."
)

st.subheader("Follow-up")
n = context.mask.cell(N)
st.markdown(plain(fmt.follow_up(data.follow_up(context.key, context.cohort_filter), n)) + ".")
followed = (  # each limb's follow-up, where a patient may have two
    fmt.limbs_of(n, context.mask.cell(PEOPLE)) if context.header.bilateral_file else fmt.patients(n)
)
st.caption(
    f"Of the {followed} in the filter; {plain(fmt.data_lock(context.meta))}. Definitions below."
)

if session_allowed().manage_data:
    import_section()
else:
    st.subheader("Import your registry")
    st.caption("Importing a registry is for this dashboard's data managers.")
own_imports.show()

st.subheader("Data dictionary")
st.caption("The cohort file format; a department's registry is imported in this format.")
dictionary, descriptions = data.dictionary()
for table in DICTIONARY_TABLES:
    st.markdown(f"**`{table}`**: {descriptions.get(table, '')}")
    rows = dictionary[dictionary["table"] == table].drop(columns="table")
    show_table(rows, f"dictionary {table}")

st.subheader("Definitions")
show_definitions(list(DEFINITIONS))
