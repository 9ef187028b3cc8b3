"""Overview: headline outcomes of the filtered cohort, with its provenance."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analytics.glossary import DEFINITIONS, RISK_TABLE_MONTHS
from analytics.present.figures.clinical import ceap_bars, pts_severity_bars
from analytics.present.figures.patency import endpoint_specs, km_figure
from analytics.present.privacy import count_text, mask_text
from ui import data
from ui.export import show_chart
from ui.page import require_patients, start_page

context = start_page("Overview")
require_patients(context)
key, cohort_filter, k = context.key, context.cohort_filter, context.privacy_k

patency = data.patency_overall(key, cohort_filter, RISK_TABLE_MONTHS)
primary = patency["primary"].estimates.set_index("month")
change = data.clinical_change(key, cohort_filter)
safety = data.safety_table(key, cohort_filter).set_index("event")
enrolled, _ = data.cohort_size(key, replace(cohort_filter, population="all"))
succeeded, _ = data.cohort_size(key, replace(cohort_filter, population="technical_success"))

first, second, third, fourth = st.columns(4)
first.metric("Patients analysed", count_text(context.n, k), help=DEFINITIONS["Technical success"])
second.metric(
    f"Technical success, of {count_text(enrolled, k)} enrolled",
    mask_text(f"{succeeded} ({100 * succeeded / enrolled:.1f}%)", k) if enrolled else "-",
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
pts_change = f"{count_text(change.pts.before, k)} → {count_text(change.pts.after, k)}"
first.metric("PTS before → after", pts_change, help=DEFINITIONS["PTS"])
for column, event in ((second, "recurrent_dvt"), (third, "pulmonary_embolism"), (fourth, "death")):
    row = safety.loc[event]
    column.metric(row["label"], mask_text(f"{row['patients']} ({row['percent']:.1f}%)", k))

figure = km_figure(endpoint_specs(patency), RISK_TABLE_MONTHS, False, "Patency", k=k)
show_chart(figure, "overview-patency")
ceap, pts = st.columns(2)
with ceap:
    show_chart(ceap_bars(change.ceap_shift, change.severity_score, k), "overview-ceap")
with pts:
    show_chart(pts_severity_bars(change.pts_severity, change.pts, k), "overview-pts")
st.caption(
    "Details, confidence intervals and comparisons on the Patency and Clinical outcomes pages."
)
