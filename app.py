"""Overview: headline outcomes of the filtered cohort, with its provenance."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analytics.figures.clinical import ceap_bars, pts_severity_bars
from analytics.figures.patency import endpoint_specs, km_figure
from analytics.glossary import DEFINITIONS, RISK_TABLE_MONTHS
from ui import data
from ui.export import show_chart
from ui.page import require_patients, start_page

context = start_page("Overview")
require_patients(context)
key, cohort_filter = context.key, context.cohort_filter

patency = data.patency_overall(key, cohort_filter, RISK_TABLE_MONTHS)
primary = patency["primary"].estimates.set_index("month")
change = data.clinical_change(key, cohort_filter)
safety = data.safety_table(key, cohort_filter).set_index("event")
enrolled, _ = data.cohort_size(key, replace(cohort_filter, population="all"))
succeeded, _ = data.cohort_size(key, replace(cohort_filter, population="technical_success"))

first, second, third, fourth = st.columns(4)
first.metric("Patients analysed", context.n, help=DEFINITIONS["Technical success"])
second.metric(
    f"Technical success, of {enrolled} enrolled",
    f"{succeeded} ({100 * succeeded / enrolled:.1f}%)" if enrolled else "-",
    help=DEFINITIONS["Technical success"],
)
for column, month in ((third, 12), (fourth, 36)):
    estimate = primary.at[month, "estimate"]
    column.metric(
        f"Primary patency, {month} months",
        "-" if estimate != estimate else f"{100 * estimate:.1f}%",
        help=DEFINITIONS["Primary patency"],
    )
first, second, third, fourth = st.columns(4)
first.metric("PTS before → after", f"{change.pts.before} → {change.pts.after}",
             help=DEFINITIONS["PTS"])  # fmt: skip
for column, event in ((second, "recurrent_dvt"), (third, "pulmonary_embolism"), (fourth, "death")):
    row = safety.loc[event]
    column.metric(row["label"], f"{row['patients']} ({row['percent']:.1f}%)")

figure = km_figure(endpoint_specs(patency), RISK_TABLE_MONTHS, show_ci=False, title="Patency")
show_chart(figure, "overview-patency")
ceap, pts = st.columns(2)
with ceap:
    show_chart(ceap_bars(change.ceap_shift, change.severity_score), "overview-ceap")
with pts:
    show_chart(pts_severity_bars(change.pts_severity, change.pts), "overview-pts")
st.caption(
    "Details, confidence intervals and comparisons on the Patency and Clinical outcomes pages."
)
