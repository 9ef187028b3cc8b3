"""Overview: headline outcomes of the filtered cohort, with its provenance."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import DEFINITIONS
from analytics.survival import estimates_at
from ui import data
from ui.page import require_patients, start_page

context = start_page("Overview")
require_patients(context)

counts = {
    endpoint: data.event_counts(context.key, context.cohort_filter, endpoint)
    for endpoint in ("primary", "recurrent_dvt")
}
change = data.clinical_change(context.key, context.cohort_filter)
safety = data.safety_table(context.key, context.cohort_filter).set_index("event")
primary = estimates_at(counts["primary"], [12, 36]).set_index("month")

first, second, third, fourth = st.columns(4)
first.metric("Patients", context.n, help=DEFINITIONS["Technical success"])
for column, month in ((second, 12), (third, 36)):
    estimate = primary.at[month, "estimate"]
    column.metric(
        f"Primary patency, {month} months",
        "-" if estimate != estimate else f"{100 * estimate:.1f}%",
        help=DEFINITIONS["Primary patency"],
    )
fourth.metric(
    "PTS before → after",
    f"{change.pts.before} → {change.pts.after}",
    help=DEFINITIONS["PTS"],
)
first, second, third, _ = st.columns(4)
for column, event in ((first, "recurrent_dvt"), (second, "pulmonary_embolism"), (third, "death")):
    row = safety.loc[event]
    column.metric(row["label"], f"{row['patients']} ({row['percent']:.1f}%)")
