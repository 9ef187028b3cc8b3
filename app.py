"""Overview: headline outcomes of the filtered cohort, with its provenance."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import DEFINITIONS, SAFETY_EVENTS, UNRELIABLE
from analytics.present import format as fmt
from analytics.present.figures.clinical import ceap_bars, pts_severity_bars
from analytics.present.figures.patency import patency_figure
from analytics.present.privacy import is_small, masked
from analytics.rules import SE_UNRELIABLE
from ui import data
from ui.page import require_patients, start_page
from ui.show import show_chart

context = start_page("Overview")
require_patients(context)
k = context.privacy_k
view = data.overview(context.key, context.cohort_filter)
population, change = view.population, view.clinical
safety = view.safety.table.set_index("event")
primary = view.patency.survival["primary"].overall

first, second, third, fourth = st.columns(4)
first.metric("Patients analysed", fmt.count(context.n, k), help=DEFINITIONS["Technical success"])
second.metric(
    f"Technical success, of {fmt.count(population.enrolled, k)} enrolled",
    fmt.count_percent(population.successes, population.enrolled, k),
    help=DEFINITIONS["Technical success"],
)
for column, month in ((third, 12), (fourth, 36)):
    e = primary.estimates
    at = list(e.month).index(month)
    hidden = is_small(primary.patients, k)
    unreliable = f" · {UNRELIABLE}" if e.se[at] > SE_UNRELIABLE else ""
    column.metric(
        f"Primary patency, {month} months",
        masked(k) if hidden else fmt.percent(e.estimate[at]),
        delta=None if hidden else f"95% CI {fmt.ci(e.ci_lower[at], e.ci_upper[at])}{unreliable}",
        delta_color="off", delta_arrow="off", help=DEFINITIONS["Primary patency"],
    )  # fmt: skip
first, second, third, fourth = st.columns(4)
pts = f"{fmt.count(change.pts.before, k)} → {fmt.count(change.pts.after, k)}"
first.metric("PTS before → after", pts, help=DEFINITIONS["PTS"])
for column, event in ((second, "recurrent_dvt"), (third, "pulmonary_embolism"), (fourth, "death")):
    row = safety.loc[event]
    column.metric(SAFETY_EVENTS[event], fmt.count_percent(int(row["patients"]), context.n, k))

show_chart(patency_figure(view.patency, False, k, "Patency"), "overview-patency", context.chart)
ceap, pts_column = st.columns(2)
with ceap:
    show_chart(
        ceap_bars(change.ceap_shift, change.severity_score, k), "overview-ceap", context.chart
    )
with pts_column:
    show_chart(pts_severity_bars(change.pts_severity, change.pts, k), "overview-pts", context.chart)
st.caption(
    "Details, confidence intervals and comparisons on the Patency and Clinical outcomes pages."
)
