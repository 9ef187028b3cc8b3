"""Centres: each centre's primary patency at one month on a funnel plot, and the outliers."""

from __future__ import annotations

import math

import streamlit as st

from analytics.glossary import DEFAULT_MONTHS, DEFINITIONS
from analytics.present.figures.centres import funnel_plot
from analytics.present.privacy import count_text
from analytics.stats.funnel import centres_display
from ui import data
from ui.export import show_chart, show_table
from ui.page import require_patients, start_page
from ui.url import choice, seed, write

SYNTH_COMMAND = "python -m analytics synth --patients 100000 --out registry.duckdb"

context = start_page("Centres")
require_patients(context)
k = context.privacy_k

seed("month", choice([str(m) for m in DEFAULT_MONTHS]))
month_column, _ = st.columns([2, 6])
month = month_column.selectbox(
    "Primary patency at month", [str(m) for m in DEFAULT_MONTHS], index=1, key="month"
)
write({"month": None if month == "12" else month})

comparison = data.centre_patency(context.key, context.cohort_filter, float(month))
centres = comparison.centres
pooled = "not estimable" if math.isnan(comparison.pooled) else f"{100 * comparison.pooled:.1f}%"
st.caption(
    f"{count_text(comparison.patients, k)} patients in {len(centres)} centre(s); pooled primary "
    f"patency at {month} months {pooled} (Kaplan-Meier, every patient in the filter)."
    + (
        f" {count_text(comparison.patients_without_centre, k)} patients have no centre recorded: "
        "they count in the pooled estimate, not in any centre."
        if comparison.patients_without_centre
        else ""
    )
)

if len(centres) < 2:
    if context.cohort_filter.center is not None:
        message = "The Centre filter keeps one centre: clear it in the sidebar to compare centres."
    else:
        found = (
            f"This cohort has one centre ({centres['centre'].iloc[0]})"
            if len(centres) == 1
            else "No patient in this cohort has a centre recorded"
        )
        message = (
            f"{found}: a centre comparison needs two or more. Load a multi-centre registry, "
            f"e.g. `{SYNTH_COMMAND}`, then open it with `COHORT_DB=registry.duckdb bash "
            "scripts/start.sh`, or import one on the Data page."
        )
    st.info(message, icon=":material/info:")
else:
    show_chart(funnel_plot(comparison, k), "centres-funnel")
    st.caption(
        f"Each point is a centre: its Kaplan-Meier primary patency at {month} months against its "
        "number of patients. Dashed and dotted curves are the 95% and 99.8% control limits "
        "around the pooled estimate; about 1 centre in 20 falls outside the 95% limits by chance "
        "alone. Censoring makes these binomial limits approximate."
    )
    st.subheader("Outlying centres")
    if comparison.outliers.empty:
        st.caption("No centre lies outside the 95% control limits.")
    else:
        st.caption("Outside the 95% limits, the farthest out first (99.8% outliers lead).")
        show_table(centres_display(comparison.outliers), "outlying centres")

if not centres.empty:
    st.subheader("All centres")
    show_table(centres_display(centres), "centres")
if not comparison.not_estimable.empty:
    st.caption(
        f"Not plotted: {', '.join(comparison.not_estimable['centre'])} (no estimate at {month} "
        "months; the reason is in the Position column)."
    )
with st.expander("Definitions"):
    for term in ("Funnel plot", "Control limits", "Primary patency", "Kaplan-Meier"):
        st.markdown(f"**{term}.** {DEFINITIONS[term]}")
    st.markdown(
        "**Patients** are those each centre contributes to the analysis (the size axis); "
        "**Events** are losses of primary patency up to the month; **At risk** are patients "
        "still followed and patent at the month. The **z-score** is (estimate - pooled) / "
        "sqrt(pooled (1 - pooled) / patients)."
    )
