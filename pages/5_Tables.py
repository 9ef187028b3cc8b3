"""Tables: the source paper's Tables 1-3 recomputed for the current filter."""

from __future__ import annotations

import streamlit as st

from analytics.cohort.published import SOURCE
from analytics.glossary import PATENCY_ROWS_SWAPPED, TABLE1_NOT_PUBLISHED
from analytics.present.tables import (
    contradictions_table,
    paper_table,
    table1,
    table2,
    table3,
    table3_notes,
)
from analytics.views import tables_ledger
from ui import data
from ui.page import masked, require_patients, start_page
from ui.show import show_table

context = start_page("Tables")
require_patients(context)
view, k = data.tables(context.key, context.cohort_filter), context.privacy_k
context, mask = masked(context, tables_ledger(view, context.n))
# on the demo, under a table: how the demo reads the paper there, and what it does not publish;
# under Table 3, that its paired tests count limbs where a patient has two in the filter
notes = {"Table 3": table3_notes(view.clinical, context.is_demo)}
if context.is_demo:
    notes |= {"Table 1": (TABLE1_NOT_PUBLISHED,), "Table 2": (PATENCY_ROWS_SWAPPED,)}

st.caption("The source paper's three tables, recomputed for the current filter.")
for name, table in (
    ("Table 1", table1(view.baseline, mask)),
    ("Table 2", table2(view, mask)),
    ("Table 3", table3(view.clinical, mask, context.is_demo)),
):
    st.subheader(name)
    show_table(table, name.lower())
    for note in notes.get(name, ()):
        st.caption(note)

if context.is_demo:
    st.subheader("Published vs reconstructed")
    if context.cohort_filter.is_default:
        st.caption(
            f"Source: {SOURCE} Denominator: the 34 technical successes. Published: the paper's "
            "numbers and row labels as printed; Read as: how the demo reads the row."
        )
        show_table(paper_table(data.paper(context.key)), "published vs reconstructed")
        st.caption(PATENCY_ROWS_SWAPPED)
    else:
        st.caption("Reset the filters to compare the whole demo cohort with the paper.")
    st.subheader("Where the paper contradicts itself")
    show_table(contradictions_table(), "contradictions")
