"""Patency: Kaplan-Meier curves (KMunicate style), overall or compared by a factor."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import DEFINITIONS
from analytics.present.figures.patency import patency_figure
from analytics.present.tables import estimates_table
from ui import data, state
from ui.page import require_patients, start_page
from ui.show import show_chart, show_table

context = start_page("Patency")
require_patients(context)

by_column, endpoint_column, ci_column = st.columns([3, 3, 2])
by = state.draw("by", by_column)
endpoint = state.draw(
    "endpoint", endpoint_column, label="Endpoint compared", disabled=by is None,
    help="With 'Compare by', one curve per group for this endpoint.",
)  # fmt: skip
show_ci = state.draw("ci", ci_column)

view = data.patency(context.key, context.cohort_filter, by, endpoint)
figure = patency_figure(view, show_ci, context.privacy_k)
show_chart(figure, "patency", context.chart)
st.caption(
    "Under the axis: patients at risk (still followed and free of the endpoint) at each month, "
    "and the patients whose event or censoring came before it; the three add up to the "
    "curve's patients. A dotted line marks where the standard error exceeds 10%: reporting "
    "standards treat the estimate as unreliable from there on. Ticks on the curves are "
    "censored patients."
)
show_table(estimates_table(view, context.privacy_k), "patency estimates")

with st.expander("Definitions"):
    for term in ("Primary patency", "Assisted primary patency", "Secondary patency", "Kaplan-Meier",
                 "Number at risk", "Log-rank test", "Hazard ratio"):  # fmt: skip
        st.markdown(f"**{term}.** {DEFINITIONS[term]}")
