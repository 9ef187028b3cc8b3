"""Safety: bleeding, recurrent DVT, pulmonary embolism and death, with exact CIs and timing."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import (
    CRUDE_NOT_A_RISK,
    SAFETY_INCIDENCE_NOTE,
    SAFETY_INCIDENCE_TITLE,
    undrawn_times,
)
from analytics.present import format as fmt
from analytics.present.figures.safety import event_timeline, safety_bars
from analytics.present.tables import safety_display, safety_incidence_display
from analytics.views import people_key, safety_page_ledger
from ui import data
from ui.page import masked, require_patients, start_page
from ui.show import show_chart, show_definitions, show_table

context = start_page("Safety")
require_patients(context)
view = data.safety(context.key, context.cohort_filter)
context, mask = masked(context, safety_page_ledger(view, context.privacy_k))
people = people_key(view.safety.bilateral)
years = fmt.SUPPRESSED if mask.hidden(people) else fmt.number(view.safety.patient_years)

st.caption(
    f"{fmt.cell(mask.cell(people))} patients followed for {years} patient-years. Percent of "
    f"patients with each event ({CRUDE_NOT_A_RISK}), exact "
    "(Clopper-Pearson) 95% confidence interval, and events per 100 patient-years."
)
show_table(safety_display(view.safety, mask), "safety events")
st.markdown(f"**{SAFETY_INCIDENCE_TITLE}**")
st.caption(SAFETY_INCIDENCE_NOTE)
show_table(safety_incidence_display(view.safety, mask), "safety cumulative incidence")
show_chart(safety_bars(view.safety, mask), "safety-events", context.chart)
show_chart(event_timeline(view.timeline, mask), "safety-timeline", context.chart)
if mask.k:
    st.caption(undrawn_times(mask.k))
with st.expander("Definitions"):
    show_definitions(
        (
            "Crude percentage",
            "Clopper-Pearson interval",
            "Cumulative incidence, death competing",
            "Events per 100 patient-years",
        ),
        "**Minor bleeding** is puncture-site ecchymosis or haematoma. Events within 30 days of "
        "the procedure are counted apart from later ones.",
    )
