"""Data: the cohort's provenance, the data dictionary, and every definition used."""

from __future__ import annotations

import streamlit as st

from analytics.dictionary import DICTIONARY_TABLES, data_dictionary, table_descriptions
from analytics.glossary import DEFINITIONS
from ui.export import show_table
from ui.page import start_page

PROVENANCE = {
    "name": "Name",
    "source": "Source",
    "method": "How it was made",
    "created": "Created",
    "built_at": "File built",
    "schema_version": "Schema version",
    "seed": "Generator seed",
}

context = start_page("Data")

st.subheader("Provenance")
for key, label in PROVENANCE.items():
    if key in context.meta:
        st.markdown(f"**{label}:** {context.meta[key]}")
if "not_published" in context.meta:
    st.markdown("**Invented, not published by the source paper:**")
    st.markdown("\n".join(f"- {item.strip()}" for item in context.meta["not_published"].split(";")))
st.caption(
    "No screen or export of this dashboard shows a patient identifier or a date of a patient."
)

st.subheader("Data dictionary")
st.caption("The cohort file format; a department's registry is imported in this format.")
dictionary, descriptions = data_dictionary(), table_descriptions()
for table in DICTIONARY_TABLES:
    st.markdown(f"**`{table}`**: {descriptions.get(table, '')}")
    rows = dictionary[dictionary["table"] == table].drop(columns="table")
    show_table(rows, f"dictionary {table}")

st.subheader("Definitions")
for term, text in DEFINITIONS.items():
    st.markdown(f"**{term}.** {text}")
