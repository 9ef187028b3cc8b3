"""Overview: headline outcomes of the filtered cohort, with its provenance."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import CEAP_REGRESSION, PATENCY_ROWS_SWAPPED
from analytics.present import format as fmt
from analytics.present.figures.clinical import ceap_bars, pts_severity_bars
from analytics.present.figures.patency import patency_figure
from analytics.present.tiles import headline_tiles
from analytics.views import N, overview_ledger
from ui import data
from ui.page import masked, require_patients, start_page
from ui.show import show_chart, show_tiles

context = start_page("Overview")
require_patients(context)
view = data.overview(context.key, context.cohort_filter)
change = view.clinical
analysed_all = context.cohort_filter.population == "all"
context, mask = masked(context, overview_ledger(view, context.n, analysed_all))
show_tiles(headline_tiles(view, mask))
if context.is_demo:
    st.caption(PATENCY_ROWS_SWAPPED)
st.caption(fmt.follow_up(view.follow_up, mask.cell(N)) + ". Definitions on the Data page.")

show_chart(patency_figure(view.patency, False, mask, "Patency"), "overview-patency", context.chart)
ceap, pts_column = st.columns(2)
with ceap:
    show_chart(
        ceap_bars(change.ceap_shift, change.severity_score, mask), "overview-ceap", context.chart
    )
    if context.is_demo:
        st.caption(CEAP_REGRESSION)
with pts_column:
    figure = pts_severity_bars(change.pts_severity, change.pts, mask)
    show_chart(figure, "overview-pts", context.chart)
st.caption(
    "Details, confidence intervals and comparisons on the Patency and Clinical outcomes pages."
)
