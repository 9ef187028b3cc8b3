"""Safety: bleeding, recurrent DVT, pulmonary embolism and death, with exact CIs and timing."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import DEFINITIONS
from analytics.present.figures.safety import event_timeline, safety_bars
from analytics.present.privacy import count_text
from analytics.present.tables import safety_display
from ui import data
from ui.export import show_chart, show_table
from ui.page import require_patients, start_page

context = start_page("Safety")
require_patients(context)
table = data.safety_table(context.key, context.cohort_filter)

_, patient_years = data.cohort_size(context.key, context.cohort_filter)
st.caption(
    f"{count_text(context.n, context.privacy_k)} patients followed for {patient_years:,.1f} "
    "patient-years. Percent of patients with each event, exact (Clopper-Pearson) 95% "
    "confidence interval, and events per 100 patient-years."
)
show_table(safety_display(table), "safety events")
show_chart(safety_bars(table, context.privacy_k), "safety-events")
show_chart(
    event_timeline(data.event_timeline(context.key, context.cohort_filter), context.privacy_k),
    "safety-timeline",
)
with st.expander("Definitions"):
    for term in ("Clopper-Pearson interval", "Events per 100 patient-years"):
        st.markdown(f"**{term}.** {DEFINITIONS[term]}")
    st.markdown(
        "**Minor bleeding** is puncture-site ecchymosis or haematoma. Events within 30 days of "
        "the procedure are counted apart from later ones."
    )
