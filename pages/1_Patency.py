"""Patency: Kaplan-Meier curves (KMunicate style), overall or compared by a factor."""

from __future__ import annotations

import streamlit as st

from analytics.filters import parse_boolean
from analytics.glossary import (
    DEFAULT_MONTHS,
    DEFINITIONS,
    ENDPOINTS,
    GROUPINGS,
    RISK_TABLE_MONTHS,
)
from analytics.present.figures.patency import CurveSpec, endpoint_specs, km_figure
from analytics.present.figures.theme import group_colour
from analytics.present.tables import comparison_note, estimates_table
from ui import data
from ui.export import show_chart, show_table
from ui.page import require_patients, start_page
from ui.url import choice, seed, write

context = start_page("Patency")
require_patients(context)
key, cohort_filter = context.key, context.cohort_filter

seed("by", choice(list(GROUPINGS)))
seed("endpoint", choice(list(ENDPOINTS)))
seed("ci", lambda text: parse_boolean("ci", text))
by_column, endpoint_column, ci_column = st.columns([3, 3, 2])
by = by_column.selectbox(
    "Compare by", list(GROUPINGS), index=None, format_func=GROUPINGS.get,
    placeholder="No comparison: the three patencies", key="by",
)  # fmt: skip
endpoint = endpoint_column.selectbox(
    "Endpoint compared", list(ENDPOINTS), format_func=ENDPOINTS.get, key="endpoint",
    disabled=by is None,
    help="With 'Compare by', one curve per group for this endpoint.",
)  # fmt: skip
show_ci = ci_column.toggle("95% CI bands", value=True, key="ci")
write({"by": by, "endpoint": endpoint if by else None, "ci": None if show_ci else "no"})

months = RISK_TABLE_MONTHS
if by is None:
    results = data.patency_overall(key, cohort_filter, months)
    specs = endpoint_specs(results)
    labels = {ENDPOINTS[e]: r for e, r in results.items()}
    title, note = "Primary, assisted primary and secondary patency", None
else:
    results = data.kaplan_meier(key, cohort_filter, endpoint, by, months)
    labels = {f"{GROUPINGS[by]}: {level}": r for level, r in results.items()}
    specs = [
        CurveSpec(label, group_colour(i), r.curve, r.risk)
        for i, (label, r) in enumerate(labels.items())
    ]
    comparison = data.compare_groups(key, cohort_filter, endpoint, by, DEFAULT_MONTHS)
    title = f"{ENDPOINTS[endpoint]} by {GROUPINGS[by].lower()}"
    note = comparison_note(comparison)

show_chart(km_figure(specs, months, show_ci, title, note, k=context.privacy_k), "patency")
st.caption(
    "Under the axis: patients at risk (still followed and free of the endpoint), and cumulative "
    "events and censored, at each month. A dotted line marks where the standard error exceeds "
    "10%: reporting standards treat the estimate as unreliable from there on. Ticks on the curves "
    "are censored patients."
)
estimates = estimates_table({label: r.estimates for label, r in labels.items()})
show_table(estimates[estimates["Month"].isin(DEFAULT_MONTHS)], "patency estimates")

with st.expander("Definitions"):
    for term in ("Primary patency", "Assisted primary patency", "Secondary patency", "Kaplan-Meier",
                 "Number at risk", "Log-rank test", "Hazard ratio"):  # fmt: skip
        st.markdown(f"**{term}.** {DEFINITIONS[term]}")
