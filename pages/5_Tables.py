"""Tables: the source paper's Tables 1-3 recomputed for the current filter."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.cohort.published import CONTRADICTIONS, SOURCE
from analytics.filters import DEFAULT_FILTER
from ui import data
from ui.export import show_table
from ui.page import require_patients, start_page

context = start_page("Tables")
require_patients(context)

st.caption("The source paper's three tables, recomputed for the patients in the current filter.")
for name, table in data.paper_tables(context.key, context.cohort_filter).items():
    st.subheader(name)
    show_table(table, name.lower())

if context.is_demo:
    st.subheader("Published vs reconstructed")
    if context.cohort_filter == DEFAULT_FILTER:
        st.caption(f"Source: {SOURCE} Denominator: the 34 technical successes.")
        show_table(data.published_vs_reconstructed(context.key), "published vs reconstructed")
    else:
        st.caption("Reset the filters to compare the whole demo cohort with the paper.")
    st.subheader("Where the paper contradicts itself")
    contradictions = pd.DataFrame(CONTRADICTIONS, columns=["What", "Contradiction", "Rule applied"])
    show_table(contradictions, "contradictions")
